-- Per-call staff: a manager acts on one call (screen, assign, rank, decide), an observer reads it. Granted by
-- an invitation (role `manager` or `observer` with a call), removed by an administrator.
CREATE TABLE call_staff (
    call_id uuid NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role text NOT NULL CHECK (role IN ('manager', 'observer')),
    added_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (call_id, user_id)
);
CREATE INDEX call_staff_user ON call_staff (user_id, call_id);

-- Invitations may now offer these roles.
ALTER TABLE invitations DROP CONSTRAINT invitations_role_check;
ALTER TABLE invitations ADD CONSTRAINT invitations_role_check
    CHECK (role IN ('admin', 'juror', 'manager', 'observer'));

-- Per-call staff: a manager acts on one call (screen, assign, rank, decide), an observer reads it. Granted by
-- an invitation (role `manager` or `observer` with a call), removed by an administrator.
CREATE TABLE call_staff (
    call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('manager', 'observer')),
    added_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (call_id, user_id)
);
CREATE INDEX call_staff_user ON call_staff (user_id, call_id);

-- Invitations may now offer these roles. SQLite cannot change a CHECK: the table is rebuilt (nothing refers to it).
CREATE TABLE invitations_new (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'juror', 'manager', 'observer')),
    call_id TEXT,
    invited_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TEXT NOT NULL,
    accepted_at TEXT,
    accepted_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    declined_at TEXT
);
INSERT INTO invitations_new (id, email, role, call_id, invited_by, token_hash, expires_at, accepted_at, accepted_by,
                             created_at, declined_at)
SELECT id, email, role, call_id, invited_by, token_hash, expires_at, accepted_at, accepted_by, created_at, declined_at
FROM invitations;
DROP TABLE invitations;
ALTER TABLE invitations_new RENAME TO invitations;

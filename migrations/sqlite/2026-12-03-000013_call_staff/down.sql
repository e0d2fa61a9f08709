DROP TABLE call_staff;
DELETE FROM invitations WHERE role IN ('manager', 'observer');
CREATE TABLE invitations_old (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'juror')),
    call_id TEXT,
    invited_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TEXT NOT NULL,
    accepted_at TEXT,
    accepted_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    declined_at TEXT
);
INSERT INTO invitations_old SELECT id, email, role, call_id, invited_by, token_hash, expires_at, accepted_at,
                                   accepted_by, created_at, declined_at FROM invitations;
DROP TABLE invitations;
ALTER TABLE invitations_old RENAME TO invitations;

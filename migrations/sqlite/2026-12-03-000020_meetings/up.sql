-- A call's quorum: how many of its jurors must be present to close a jury meeting (NULL: a majority of them).
ALTER TABLE calls ADD COLUMN quorum INTEGER CHECK (quorum IS NULL OR quorum >= 1);

-- The record of a jury meeting: opened on a stage with a snapshot of its ranking, then closed and frozen (the
-- frozen record's canonical JSON kept as TEXT, with its SHA-256 digest).
CREATE TABLE meetings (
    id TEXT PRIMARY KEY,
    call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    stage TEXT NOT NULL,
    held_at TEXT NOT NULL,
    place TEXT NOT NULL,
    agenda TEXT NOT NULL,
    minutes TEXT,
    ranking TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    version INTEGER NOT NULL,
    opened_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    closed_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    closed_at TEXT,
    record TEXT,
    digest TEXT
);
CREATE INDEX meetings_call ON meetings (call_id, id);

-- Who of the call's jury was present or sent apologies (the others were absent).
CREATE TABLE meeting_attendance (
    meeting_id TEXT NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    presence TEXT NOT NULL CHECK (presence IN ('present', 'apologies')),
    PRIMARY KEY (meeting_id, user_id)
);

-- What the meeting decided on each application: by consensus or by a vote (the votes as JSON), with dissent.
CREATE TABLE meeting_items (
    meeting_id TEXT NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('consensus', 'vote')),
    outcome TEXT NOT NULL,
    votes TEXT NOT NULL,
    dissent TEXT,
    note TEXT,
    recorded_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (meeting_id, application_id)
);

-- The decisions a closed meeting produced: the decision of each application it recorded, as it stood at closing.
CREATE TABLE meeting_decisions (
    meeting_id TEXT NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    outcome TEXT NOT NULL,
    published BOOLEAN NOT NULL,
    PRIMARY KEY (meeting_id, application_id)
);
CREATE INDEX meeting_decisions_application ON meeting_decisions (application_id);

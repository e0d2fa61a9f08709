-- A call's quorum: how many of its jurors must be present to close a jury meeting (NULL: a majority of them).
ALTER TABLE calls ADD COLUMN quorum integer CHECK (quorum IS NULL OR quorum >= 1);

-- The record of a jury meeting: opened on a stage with a snapshot of its ranking, then closed and frozen (the
-- frozen record's canonical JSON kept as text, with its SHA-256 digest).
CREATE TABLE meetings (
    id uuid PRIMARY KEY,
    call_id uuid NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    stage text NOT NULL,
    held_at timestamptz NOT NULL,
    place text NOT NULL,
    agenda text NOT NULL,
    minutes text,
    ranking jsonb NOT NULL,
    status text NOT NULL CHECK (status IN ('open', 'closed')),
    version integer NOT NULL,
    opened_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    closed_by uuid REFERENCES users (id) ON DELETE SET NULL,
    closed_at timestamptz,
    record text,
    digest text
);
CREATE INDEX meetings_call ON meetings (call_id, id);

-- Who of the call's jury was present or sent apologies (the others were absent).
CREATE TABLE meeting_attendance (
    meeting_id uuid NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    presence text NOT NULL CHECK (presence IN ('present', 'apologies')),
    PRIMARY KEY (meeting_id, user_id)
);

-- What the meeting decided on each application: by consensus or by a vote (the votes as JSON), with dissent.
CREATE TABLE meeting_items (
    meeting_id uuid NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    application_id uuid NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('consensus', 'vote')),
    outcome text NOT NULL,
    votes jsonb NOT NULL,
    dissent text,
    note text,
    recorded_by uuid REFERENCES users (id) ON DELETE SET NULL,
    recorded_at timestamptz NOT NULL,
    PRIMARY KEY (meeting_id, application_id)
);

-- The decisions a closed meeting produced: the decision of each application it recorded, as it stood at closing.
CREATE TABLE meeting_decisions (
    meeting_id uuid NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    application_id uuid NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    outcome text NOT NULL,
    published boolean NOT NULL,
    PRIMARY KEY (meeting_id, application_id)
);
CREATE INDEX meeting_decisions_application ON meeting_decisions (application_id);

-- Finalists convened: how long an applicant has, by default, to make the changes screening asks for; the
-- stage an application was last shortlisted to; and the pitch slots of shortlisted applications.
ALTER TABLE calls ADD COLUMN changes_due_days INTEGER NOT NULL DEFAULT 14
    CHECK (changes_due_days BETWEEN 1 AND 90);

-- The key of the stage the application was last shortlisted to (NULL: never shortlisted). Applications
-- shortlisted before this column existed were shortlisted to their call's second stage (the only shortlist
-- a call could hold until now without leaving a trace of the stage on the application).
ALTER TABLE applications ADD COLUMN shortlisted_for TEXT;
UPDATE applications
SET shortlisted_for = (SELECT json_extract(c.stages, '$[1].key') FROM calls c WHERE c.id = applications.call_id)
WHERE status = 'shortlisted';

-- A shortlisted application's time to pitch at a stage: one per application and stage.
CREATE TABLE pitch_slots (
    id TEXT PRIMARY KEY,
    call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    stage TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    place TEXT,
    video_url TEXT,
    confirmed_at TEXT,
    confirmed_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    CHECK (ends_at > starts_at),
    CHECK (place IS NOT NULL OR video_url IS NOT NULL),
    UNIQUE (application_id, stage)
);
CREATE INDEX pitch_slots_call_stage ON pitch_slots (call_id, stage, starts_at);

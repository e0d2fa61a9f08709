-- Appeals: how many days after a decision is told its applicant may appeal it (NULL: the call takes none).
ALTER TABLE calls ADD COLUMN appeal_window_days INTEGER CHECK (appeal_window_days IS NULL OR appeal_window_days BETWEEN 1 AND 365);

-- Every version of a published decision, as its applicant was told it: the first publication, each revision
-- by staff (with the reason), and a withdrawal after the decision (no outcome, the applicant's reason).
CREATE TABLE decision_versions (
    application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    version INTEGER NOT NULL CHECK (version >= 1),
    call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('published', 'revised', 'withdrawn')),
    outcome TEXT CHECK (outcome IS NULL OR outcome IN ('selected', 'waitlisted', 'rejected', 'retained', 'not_retained')),
    motivation TEXT,
    reason TEXT,
    appeal_id TEXT,
    decided_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    decided_at TEXT NOT NULL,
    PRIMARY KEY (application_id, version)
);
CREATE INDEX decision_versions_call ON decision_versions (call_id, decided_at);

-- The decisions published before this migration are their first version.
INSERT INTO decision_versions (application_id, version, call_id, kind, outcome, motivation, reason, appeal_id, decided_by, decided_at)
SELECT application_id, 1, call_id, 'published', outcome, motivation, NULL, NULL, decided_by, published_at
FROM decisions WHERE published_at IS NOT NULL;

-- An applicant's appeal against one version of its decision, and staff's resolution.
CREATE TABLE appeals (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    decision_version INTEGER NOT NULL,
    grounds TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'upheld', 'dismissed')),
    filed_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    filed_at TEXT NOT NULL,
    resolution TEXT,
    resolved_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    resolved_at TEXT
);
CREATE UNIQUE INDEX appeals_one_per_version ON appeals (application_id, decision_version);
CREATE INDEX appeals_open ON appeals (status, application_id);

-- Appeals: how many days after a decision is told its applicant may appeal it (NULL: the call takes none).
ALTER TABLE calls ADD COLUMN appeal_window_days integer CHECK (appeal_window_days IS NULL OR appeal_window_days BETWEEN 1 AND 365);

-- Every version of a published decision, as its applicant was told it: the first publication, each revision
-- by staff (with the reason), and a withdrawal after the decision (no outcome, the applicant's reason).
CREATE TABLE decision_versions (
    application_id uuid NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    version integer NOT NULL CHECK (version >= 1),
    call_id uuid NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('published', 'revised', 'withdrawn')),
    outcome text CHECK (outcome IS NULL OR outcome IN ('selected', 'waitlisted', 'rejected', 'retained', 'not_retained')),
    motivation text,
    reason text,
    appeal_id uuid,
    decided_by uuid REFERENCES users (id) ON DELETE SET NULL,
    decided_at timestamptz NOT NULL,
    PRIMARY KEY (application_id, version)
);
CREATE INDEX decision_versions_call ON decision_versions (call_id, decided_at);

-- The decisions published before this migration are their first version.
INSERT INTO decision_versions (application_id, version, call_id, kind, outcome, motivation, reason, appeal_id, decided_by, decided_at)
SELECT application_id, 1, call_id, 'published', outcome, motivation, NULL, NULL, decided_by, published_at
FROM decisions WHERE published_at IS NOT NULL;

-- An applicant's appeal against one version of its decision, and staff's resolution.
CREATE TABLE appeals (
    id uuid PRIMARY KEY,
    application_id uuid NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    call_id uuid NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    decision_version integer NOT NULL,
    grounds text NOT NULL,
    status text NOT NULL CHECK (status IN ('open', 'upheld', 'dismissed')),
    filed_by uuid REFERENCES users (id) ON DELETE SET NULL,
    filed_at timestamptz NOT NULL,
    resolution text,
    resolved_by uuid REFERENCES users (id) ON DELETE SET NULL,
    resolved_at timestamptz
);
CREATE UNIQUE INDEX appeals_one_per_version ON appeals (application_id, decision_version);
CREATE INDEX appeals_open ON appeals (status, application_id);

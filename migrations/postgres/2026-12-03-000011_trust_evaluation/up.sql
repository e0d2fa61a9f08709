-- Conflicts detected from facts (memberships, SIRENs, email domains) are records, written when a juror is
-- assigned or when staff ask, and read as they are: an applicant's later edit neither creates nor removes
-- one. A conflict found for a pair already assigned is `flagged` until staff confirm it (`active`) or
-- dismiss it (`dismissed`); only `active` ones keep a juror away from an application and out of its ranking.
CREATE TABLE detected_conflicts (
    id uuid PRIMARY KEY,
    call_id uuid NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    juror_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    application_id uuid NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    reason text NOT NULL CHECK (reason IN ('member', 'same_siren', 'same_email_domain')),
    source_fact text NOT NULL,
    status text NOT NULL CHECK (status IN ('active', 'flagged', 'dismissed')),
    detected_at timestamptz NOT NULL,
    decided_by uuid REFERENCES users (id) ON DELETE SET NULL,
    decided_at timestamptz,
    UNIQUE (call_id, juror_id, application_id, reason)
);
CREATE INDEX detected_conflicts_juror ON detected_conflicts (juror_id, status, call_id, application_id);

-- When staff last reopened a review: a reopened review may be saved and submitted after its stage's deadline.
ALTER TABLE reviews ADD COLUMN reopened_at timestamptz;

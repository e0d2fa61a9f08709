-- Calls without jury scoring (expressions of interest): a third kind of call, whose eligible applications
-- staff triage into `retained` / `not_retained` through the decisions.
ALTER TABLE calls DROP CONSTRAINT calls_kind_check;
ALTER TABLE calls ADD CONSTRAINT calls_kind_check
    CHECK (kind IN ('startup_lab', 'territory_experiment', 'expression_of_interest'));
ALTER TABLE applications DROP CONSTRAINT applications_status_check;
ALTER TABLE applications ADD CONSTRAINT applications_status_check
    CHECK (status IN ('draft', 'submitted', 'changes_requested', 'eligible', 'ineligible', 'shortlisted',
        'not_shortlisted', 'selected', 'waitlisted', 'rejected', 'withdrawn', 'retained', 'not_retained'));
ALTER TABLE decisions DROP CONSTRAINT decisions_outcome_check;
ALTER TABLE decisions ADD CONSTRAINT decisions_outcome_check
    CHECK (outcome IN ('selected', 'waitlisted', 'rejected', 'retained', 'not_retained'));

-- What a call may publish in its catalogue (`{"fields": [...]}`), NULL for a call without one.
ALTER TABLE calls ADD COLUMN catalogue jsonb;

-- An applicant's consent to show these fields of its application in the call's public catalogue. Withdrawing
-- deletes the row (the audit log keeps who gave and withdrew it, and when).
CREATE TABLE catalogue_consents (
    application_id uuid PRIMARY KEY REFERENCES applications (id) ON DELETE CASCADE,
    fields jsonb NOT NULL,
    given_by uuid REFERENCES users (id) ON DELETE SET NULL,
    given_at timestamptz NOT NULL
);

-- Staff's publication of a retained application in its call's catalogue.
CREATE TABLE catalogue_publications (
    application_id uuid PRIMARY KEY REFERENCES applications (id) ON DELETE CASCADE,
    call_id uuid NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    published_by uuid REFERENCES users (id) ON DELETE SET NULL,
    published_at timestamptz NOT NULL
);
CREATE INDEX catalogue_publications_call ON catalogue_publications (call_id, application_id);

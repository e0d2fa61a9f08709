DROP TABLE catalogue_publications;
DROP TABLE catalogue_consents;
ALTER TABLE calls DROP COLUMN catalogue;
ALTER TABLE decisions DROP CONSTRAINT decisions_outcome_check;
ALTER TABLE decisions ADD CONSTRAINT decisions_outcome_check
    CHECK (outcome IN ('selected', 'waitlisted', 'rejected'));
ALTER TABLE applications DROP CONSTRAINT applications_status_check;
ALTER TABLE applications ADD CONSTRAINT applications_status_check
    CHECK (status IN ('draft', 'submitted', 'changes_requested', 'eligible', 'ineligible', 'shortlisted',
        'not_shortlisted', 'selected', 'waitlisted', 'rejected', 'withdrawn'));
ALTER TABLE calls DROP CONSTRAINT calls_kind_check;
ALTER TABLE calls ADD CONSTRAINT calls_kind_check CHECK (kind IN ('startup_lab', 'territory_experiment'));

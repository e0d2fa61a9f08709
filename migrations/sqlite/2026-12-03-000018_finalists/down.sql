DROP TABLE pitch_slots;
ALTER TABLE applications DROP COLUMN shortlisted_for;
ALTER TABLE calls DROP COLUMN changes_due_days;

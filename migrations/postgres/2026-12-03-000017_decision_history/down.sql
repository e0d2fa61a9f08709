DROP TABLE appeals;
DROP TABLE decision_versions;
ALTER TABLE calls DROP COLUMN appeal_window_days;

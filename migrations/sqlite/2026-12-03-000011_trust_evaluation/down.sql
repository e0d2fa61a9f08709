ALTER TABLE reviews DROP COLUMN reopened_at;
DROP TABLE detected_conflicts;

DROP TABLE meeting_decisions;
DROP TABLE meeting_items;
DROP TABLE meeting_attendance;
DROP TABLE meetings;
ALTER TABLE calls DROP COLUMN quorum;

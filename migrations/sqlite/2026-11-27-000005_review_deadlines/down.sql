DROP TABLE review_reminders_sent;
DROP TABLE review_deadlines;

DROP TABLE idempotency_keys;
DROP TABLE reminders_sent;
DROP TABLE application_messages;
DROP TABLE attachments;
DROP TABLE applications;
DROP TABLE calls;

CREATE TABLE review_deadlines (
    call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    stage TEXT NOT NULL,
    due_at TEXT NOT NULL,
    PRIMARY KEY (call_id, stage)
);

CREATE TABLE review_reminders_sent (
    call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    stage TEXT NOT NULL,
    juror_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sent_at TEXT NOT NULL,
    PRIMARY KEY (call_id, stage, juror_id)
);

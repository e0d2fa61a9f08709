CREATE TABLE review_deadlines (
    call_id uuid NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    stage text NOT NULL,
    due_at timestamptz NOT NULL,
    PRIMARY KEY (call_id, stage)
);

CREATE TABLE review_reminders_sent (
    call_id uuid NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    stage text NOT NULL,
    juror_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sent_at timestamptz NOT NULL,
    PRIMARY KEY (call_id, stage, juror_id)
);

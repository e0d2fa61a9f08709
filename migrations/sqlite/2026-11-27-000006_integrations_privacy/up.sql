-- Domain events: the ordered, append-only feed. `seq` gives the order (SQLite has a single writer, so sequence
-- order is commit order); `id` is the public identifier.
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    call_id TEXT,
    application_id TEXT,
    actor_id TEXT,
    data TEXT NOT NULL CHECK (json_valid(data)),
    occurred_at TEXT NOT NULL
);
CREATE INDEX events_call ON events (call_id, seq);

CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    event_types TEXT NOT NULL CHECK (json_valid(event_types)),
    secret TEXT NOT NULL,
    description TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    disabled_at TEXT,
    disabled_reason TEXT,
    created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- One row per (webhook, event): the webhook outbox and its delivery log.
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    locked_until TEXT,
    last_status_code INTEGER,
    last_error TEXT,
    created_at TEXT NOT NULL,
    delivered_at TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);

-- Staff overrides of the built-in email templates, per call, event and locale.
CREATE TABLE email_templates (
    call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    locale TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    updated_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (call_id, event, locale)
);

ALTER TABLE users ADD COLUMN deleted_at TEXT;
ALTER TABLE applications ADD COLUMN retention_consent BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE applications ADD COLUMN anonymised_at TEXT;

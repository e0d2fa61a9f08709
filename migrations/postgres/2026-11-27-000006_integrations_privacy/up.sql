-- Domain events: the ordered, append-only feed. `seq` gives the order (events are written under a transaction-level
-- advisory lock, so sequence order is commit order); `id` is the public identifier.
CREATE TABLE events (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id uuid NOT NULL UNIQUE,
    event_type text NOT NULL,
    call_id uuid,
    application_id uuid,
    actor_id uuid,
    data jsonb NOT NULL,
    occurred_at timestamptz NOT NULL
);
CREATE INDEX events_call ON events (call_id, seq);

CREATE TABLE webhooks (
    id uuid PRIMARY KEY,
    url text NOT NULL,
    event_types jsonb NOT NULL,
    secret text NOT NULL,
    description text,
    consecutive_failures integer NOT NULL DEFAULT 0,
    disabled_at timestamptz,
    disabled_reason text,
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

-- One row per (webhook, event): the webhook outbox and its delivery log.
CREATE TABLE webhook_deliveries (
    id uuid PRIMARY KEY,
    webhook_id uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id uuid NOT NULL,
    event_type text NOT NULL,
    payload text NOT NULL,
    status text NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    locked_until timestamptz,
    last_status_code integer,
    last_error text,
    created_at timestamptz NOT NULL,
    delivered_at timestamptz
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);

-- Staff overrides of the built-in email templates, per call, event and locale.
CREATE TABLE email_templates (
    call_id uuid NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    event text NOT NULL,
    locale text NOT NULL,
    subject text NOT NULL,
    body_text text NOT NULL,
    body_html text NOT NULL,
    updated_by uuid REFERENCES users (id) ON DELETE SET NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (call_id, event, locale)
);

ALTER TABLE users ADD COLUMN deleted_at timestamptz;
ALTER TABLE applications ADD COLUMN retention_consent boolean NOT NULL DEFAULT false;
ALTER TABLE applications ADD COLUMN anonymised_at timestamptz;

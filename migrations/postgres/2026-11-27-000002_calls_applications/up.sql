CREATE TABLE calls (
    id uuid PRIMARY KEY,
    slug text NOT NULL UNIQUE,
    template text,
    kind text NOT NULL CHECK (kind IN ('startup_lab', 'territory_experiment')),
    reference_prefix text NOT NULL,
    title jsonb NOT NULL,
    summary jsonb,
    opens_at timestamptz NOT NULL,
    closes_at timestamptz NOT NULL,
    timezone text NOT NULL,
    eligible_kinds jsonb NOT NULL,
    form jsonb NOT NULL,
    stages jsonb NOT NULL,
    status text NOT NULL CHECK (status IN ('draft', 'published', 'evaluation', 'decided', 'archived')),
    form_frozen_at timestamptz,
    next_reference integer NOT NULL,
    version integer NOT NULL,
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX calls_status ON calls (status, opens_at);

CREATE TABLE applications (
    id uuid PRIMARY KEY,
    call_id uuid NOT NULL REFERENCES calls (id),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    status text NOT NULL CHECK (status IN ('draft', 'submitted', 'changes_requested', 'eligible', 'ineligible',
        'shortlisted', 'not_shortlisted', 'selected', 'waitlisted', 'rejected', 'withdrawn')),
    reference text,
    answers jsonb NOT NULL,
    version integer NOT NULL,
    submitted_at timestamptz,
    screening_reason text,
    changes_due_at timestamptz,
    withdrawn_reason text,
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    UNIQUE (call_id, organization_id),
    UNIQUE (call_id, reference)
);
CREATE INDEX applications_call_status ON applications (call_id, status, id);
CREATE INDEX applications_organization ON applications (organization_id, id);

CREATE TABLE attachments (
    id uuid PRIMARY KEY,
    application_id uuid NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    field text NOT NULL,
    filename text NOT NULL,
    content_type text NOT NULL,
    size bigint NOT NULL,
    sha256 text NOT NULL,
    storage_name text NOT NULL UNIQUE,
    uploaded_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX attachments_application ON attachments (application_id, id);

CREATE TABLE application_messages (
    id uuid PRIMARY KEY,
    application_id uuid NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    author_id uuid REFERENCES users (id) ON DELETE SET NULL,
    author_side text NOT NULL CHECK (author_side IN ('applicant', 'staff')),
    body text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX application_messages_application ON application_messages (application_id, id);

CREATE TABLE reminders_sent (
    application_id uuid NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    kind text NOT NULL,
    sent_at timestamptz NOT NULL,
    PRIMARY KEY (application_id, kind)
);

CREATE TABLE idempotency_keys (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key text NOT NULL,
    route text NOT NULL,
    request_hash text NOT NULL,
    response_status integer,
    response_body text,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, key)
);

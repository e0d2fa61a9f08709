CREATE TABLE calls (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    template TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('startup_lab', 'territory_experiment')),
    reference_prefix TEXT NOT NULL,
    title TEXT NOT NULL CHECK (title IS NULL OR json_valid(title)),
    summary TEXT CHECK (summary IS NULL OR json_valid(summary)),
    opens_at TEXT NOT NULL,
    closes_at TEXT NOT NULL,
    timezone TEXT NOT NULL,
    eligible_kinds TEXT NOT NULL CHECK (eligible_kinds IS NULL OR json_valid(eligible_kinds)),
    form TEXT NOT NULL CHECK (form IS NULL OR json_valid(form)),
    stages TEXT NOT NULL CHECK (stages IS NULL OR json_valid(stages)),
    status TEXT NOT NULL CHECK (status IN ('draft', 'published', 'evaluation', 'decided', 'archived')),
    form_frozen_at TEXT,
    next_reference INTEGER NOT NULL,
    version INTEGER NOT NULL,
    created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX calls_status ON calls (status, opens_at);

CREATE TABLE applications (
    id TEXT PRIMARY KEY,
    call_id TEXT NOT NULL REFERENCES calls (id),
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    status TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'changes_requested', 'eligible', 'ineligible',
        'shortlisted', 'not_shortlisted', 'selected', 'waitlisted', 'rejected', 'withdrawn')),
    reference TEXT,
    answers TEXT NOT NULL CHECK (answers IS NULL OR json_valid(answers)),
    version INTEGER NOT NULL,
    submitted_at TEXT,
    screening_reason TEXT,
    changes_due_at TEXT,
    withdrawn_reason TEXT,
    created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (call_id, organization_id),
    UNIQUE (call_id, reference)
);
CREATE INDEX applications_call_status ON applications (call_id, status, id);
CREATE INDEX applications_organization ON applications (organization_id, id);

CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    field TEXT NOT NULL,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    storage_name TEXT NOT NULL UNIQUE,
    uploaded_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX attachments_application ON attachments (application_id, id);

CREATE TABLE application_messages (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    author_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    author_side TEXT NOT NULL CHECK (author_side IN ('applicant', 'staff')),
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX application_messages_application ON application_messages (application_id, id);

CREATE TABLE reminders_sent (
    application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    PRIMARY KEY (application_id, kind)
);

CREATE TABLE idempotency_keys (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    route TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response_status INTEGER,
    response_body TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, key)
);

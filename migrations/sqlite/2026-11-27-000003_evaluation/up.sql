CREATE TABLE call_jurors (
    call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    affiliations TEXT NOT NULL CHECK (affiliations IS NULL OR json_valid(affiliations)),
    added_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (call_id, user_id)
);
CREATE INDEX call_jurors_user ON call_jurors (user_id, call_id);

CREATE TABLE conflicts (
    id TEXT PRIMARY KEY,
    call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    juror_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    reason TEXT NOT NULL,
    declared_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    UNIQUE (juror_id, application_id)
);
CREATE INDEX conflicts_call ON conflicts (call_id, juror_id);

CREATE TABLE assignments (
    id TEXT PRIMARY KEY,
    call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    juror_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    stage TEXT NOT NULL,
    created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    UNIQUE (application_id, juror_id, stage)
);
CREATE INDEX assignments_juror ON assignments (juror_id, call_id, stage);
CREATE INDEX assignments_call ON assignments (call_id, stage, application_id);

CREATE TABLE reviews (
    id TEXT PRIMARY KEY,
    call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    juror_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    stage TEXT NOT NULL,
    comment TEXT,
    status TEXT NOT NULL CHECK (status IN ('draft', 'submitted')),
    submitted_at TEXT,
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (application_id, juror_id, stage)
);
CREATE INDEX reviews_call_stage ON reviews (call_id, stage, status, application_id, juror_id);

CREATE TABLE review_scores (
    review_id TEXT NOT NULL REFERENCES reviews (id) ON DELETE CASCADE,
    criterion TEXT NOT NULL,
    score REAL NOT NULL,
    PRIMARY KEY (review_id, criterion)
);

CREATE TABLE decisions (
    application_id TEXT PRIMARY KEY REFERENCES applications (id) ON DELETE CASCADE,
    call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    outcome TEXT NOT NULL CHECK (outcome IN ('selected', 'waitlisted', 'rejected')),
    motivation TEXT NOT NULL,
    decided_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    decided_at TEXT NOT NULL,
    published_at TEXT
);
CREATE INDEX decisions_call ON decisions (call_id, published_at);

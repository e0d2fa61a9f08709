CREATE TABLE call_jurors (
    call_id uuid NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    affiliations jsonb NOT NULL,
    added_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (call_id, user_id)
);
CREATE INDEX call_jurors_user ON call_jurors (user_id, call_id);

CREATE TABLE conflicts (
    id uuid PRIMARY KEY,
    call_id uuid NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    juror_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    application_id uuid NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    reason text NOT NULL,
    declared_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL,
    UNIQUE (juror_id, application_id)
);
CREATE INDEX conflicts_call ON conflicts (call_id, juror_id);

CREATE TABLE assignments (
    id uuid PRIMARY KEY,
    call_id uuid NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    application_id uuid NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    juror_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    stage text NOT NULL,
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL,
    UNIQUE (application_id, juror_id, stage)
);
CREATE INDEX assignments_juror ON assignments (juror_id, call_id, stage);
CREATE INDEX assignments_call ON assignments (call_id, stage, application_id);

CREATE TABLE reviews (
    id uuid PRIMARY KEY,
    call_id uuid NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    application_id uuid NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    juror_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    stage text NOT NULL,
    comment text,
    status text NOT NULL CHECK (status IN ('draft', 'submitted')),
    submitted_at timestamptz,
    version integer NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    UNIQUE (application_id, juror_id, stage)
);
CREATE INDEX reviews_call_stage ON reviews (call_id, stage, status, application_id, juror_id);

CREATE TABLE review_scores (
    review_id uuid NOT NULL REFERENCES reviews (id) ON DELETE CASCADE,
    criterion text NOT NULL,
    score double precision NOT NULL,
    PRIMARY KEY (review_id, criterion)
);

CREATE TABLE decisions (
    application_id uuid PRIMARY KEY REFERENCES applications (id) ON DELETE CASCADE,
    call_id uuid NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    outcome text NOT NULL CHECK (outcome IN ('selected', 'waitlisted', 'rejected')),
    motivation text NOT NULL,
    decided_by uuid REFERENCES users (id) ON DELETE SET NULL,
    decided_at timestamptz NOT NULL,
    published_at timestamptz
);
CREATE INDEX decisions_call ON decisions (call_id, published_at);

-- The ranking kept current: one row per (call, stage, application) with at least one review that counts
-- (submitted, scoring every criterion of the stage, its juror not conflicted, the application not withdrawn),
-- recomputed from the application's reviews in the transaction of every change that can alter it. Reading a
-- stage's ranking is one range read of the primary key. Sums are in juror-id order; `criteria` holds
-- `key:sum:sumsq` per criterion and `jurors` `juror_id:weighted` per review (sorted by juror id), `;`-separated.
CREATE TABLE ranking_tallies (
    call_id uuid NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    stage text NOT NULL,
    application_id uuid NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    reference text,
    reviews integer NOT NULL CHECK (reviews >= 1),
    weighted_sum double precision NOT NULL,
    weighted_sumsq double precision NOT NULL,
    criteria text NOT NULL,
    jurors text NOT NULL,
    PRIMARY KEY (call_id, stage, application_id)
);
CREATE INDEX ranking_tallies_application ON ranking_tallies (application_id);

-- Calls whose tallies are still to be built from their reviews (weighted scores are not computed in SQL): the
-- step after the migrations builds them, then empties this table.
CREATE TABLE ranking_tallies_pending (
    call_id uuid PRIMARY KEY REFERENCES calls (id) ON DELETE CASCADE
);
INSERT INTO ranking_tallies_pending (call_id)
    SELECT DISTINCT call_id FROM reviews WHERE status = 'submitted';

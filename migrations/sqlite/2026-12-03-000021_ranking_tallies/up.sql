-- The ranking kept current: one row per (call, stage, application) with at least one review that counts
-- (submitted, scoring every criterion of the stage, its juror not conflicted, the application not withdrawn),
-- recomputed from the application's reviews in the transaction of every change that can alter it. Reading a
-- stage's ranking is one range read of the primary key. Sums are in juror-id order; `criteria` holds the sum
-- and the sum of squares of each criterion of the stage, in the stage's order, as little-endian IEEE 754 doubles
-- (16 bytes a criterion); `jurors` each counted review's juror id (16 bytes) and weighted score (8 bytes,
-- little-endian), sorted by juror id. Binary, so that reading 100,000 of them costs no parsing.
CREATE TABLE ranking_tallies (
    call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    stage TEXT NOT NULL,
    application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    reference TEXT,
    reviews INTEGER NOT NULL CHECK (reviews >= 1),
    weighted_sum REAL NOT NULL,
    weighted_sumsq REAL NOT NULL,
    criteria BLOB NOT NULL,
    jurors BLOB NOT NULL,
    PRIMARY KEY (call_id, stage, application_id)
);
CREATE INDEX ranking_tallies_application ON ranking_tallies (application_id);

-- Calls whose tallies are still to be built from their reviews (weighted scores are not computed in SQL): the
-- step after the migrations builds them, then empties this table.
CREATE TABLE ranking_tallies_pending (
    call_id TEXT PRIMARY KEY REFERENCES calls (id) ON DELETE CASCADE
);
INSERT INTO ranking_tallies_pending (call_id)
    SELECT DISTINCT call_id FROM reviews WHERE status = 'submitted';

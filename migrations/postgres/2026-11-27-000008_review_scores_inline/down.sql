CREATE TABLE review_scores (
    review_id uuid NOT NULL REFERENCES reviews (id) ON DELETE CASCADE,
    criterion text NOT NULL,
    score double precision NOT NULL,
    PRIMARY KEY (review_id, criterion)
);
INSERT INTO review_scores (review_id, criterion, score)
SELECT reviews.id, e.key, (e.value #>> '{}')::double precision FROM reviews, jsonb_each(reviews.scores) e;
ALTER TABLE reviews DROP COLUMN scores;

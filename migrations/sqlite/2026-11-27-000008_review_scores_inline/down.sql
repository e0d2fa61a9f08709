CREATE TABLE review_scores (
    review_id TEXT NOT NULL REFERENCES reviews (id) ON DELETE CASCADE,
    criterion TEXT NOT NULL,
    score REAL NOT NULL,
    PRIMARY KEY (review_id, criterion)
);
INSERT INTO review_scores (review_id, criterion, score)
SELECT reviews.id, e.key, e.value FROM reviews, json_each(reviews.scores) e;
ALTER TABLE reviews DROP COLUMN scores;

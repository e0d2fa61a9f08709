-- A review's scores live on the review itself, as one JSON object {criterion: score}: saving a review is one
-- statement instead of a delete and one insert per criterion, and a ranking reads one narrow row per review
-- instead of joining every score.
ALTER TABLE reviews ADD COLUMN scores jsonb NOT NULL DEFAULT '{}';
UPDATE reviews SET scores = s.scores
FROM (SELECT review_id, jsonb_object_agg(criterion, score) AS scores FROM review_scores GROUP BY review_id) s
WHERE s.review_id = reviews.id;
DROP TABLE review_scores;

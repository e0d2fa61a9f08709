-- A review's scores live on the review itself, as one JSON object {criterion: score}: saving a review is one
-- statement instead of a delete and one insert per criterion, and a ranking reads one narrow row per review
-- instead of joining every score.
ALTER TABLE reviews ADD COLUMN scores TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(scores));
UPDATE reviews SET scores = (
    SELECT json_group_object(criterion, score) FROM review_scores WHERE review_id = reviews.id
) WHERE EXISTS (SELECT 1 FROM review_scores WHERE review_id = reviews.id);
DROP TABLE review_scores;

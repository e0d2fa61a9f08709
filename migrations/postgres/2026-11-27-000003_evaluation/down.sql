DROP TABLE decisions;
DROP TABLE review_scores;
DROP TABLE reviews;
DROP TABLE assignments;
DROP TABLE conflicts;
DROP TABLE call_jurors;

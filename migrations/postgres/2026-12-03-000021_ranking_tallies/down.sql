DROP TABLE ranking_tallies_pending;
DROP TABLE ranking_tallies;

DROP INDEX calls_previous_edition;
DROP INDEX applications_one_per_reference;
DROP INDEX calls_one_per_prefix_and_edition;
ALTER TABLE calls DROP COLUMN previous_edition_id;
ALTER TABLE calls DROP COLUMN edition;

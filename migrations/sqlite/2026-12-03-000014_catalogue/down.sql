DROP TABLE catalogue_publications;
DROP TABLE catalogue_consents;
ALTER TABLE calls DROP COLUMN catalogue;
-- Narrowing the rules back is only safe once no row uses the new names.
DELETE FROM decisions WHERE outcome IN ('retained', 'not_retained');
PRAGMA writable_schema = ON;
UPDATE sqlite_master
SET sql = replace(sql, ', ''expression_of_interest'')', ')')
WHERE type = 'table' AND name = 'calls';
UPDATE sqlite_master
SET sql = replace(sql, ', ''retained'', ''not_retained'')', ')')
WHERE type = 'table' AND name IN ('applications', 'decisions');
PRAGMA writable_schema = RESET;
CREATE TABLE schema_version_bump (x INTEGER);
DROP TABLE schema_version_bump;

-- Calls without jury scoring (expressions of interest): a third kind of call, whose eligible applications
-- staff triage into `retained` / `not_retained` through the decisions.
--
-- SQLite cannot alter a CHECK constraint. Rebuilding `calls`, `applications` and `decisions` would need
-- foreign keys off (impossible inside the migration's transaction: dropping the old table would cascade to
-- every row that references it) and would restate every column, including those other migrations add.
-- These constraints only widen, which SQLite documents as safe to do by editing the schema text
-- (https://www.sqlite.org/lang_altertable.html#otheralter): no stored row can break the wider rule.
PRAGMA writable_schema = ON;
UPDATE sqlite_master
SET sql = replace(sql, 'kind IN (''startup_lab'', ''territory_experiment'')',
                       'kind IN (''startup_lab'', ''territory_experiment'', ''expression_of_interest'')')
WHERE type = 'table' AND name = 'calls';
UPDATE sqlite_master
SET sql = replace(sql, '''waitlisted'', ''rejected'', ''withdrawn'')',
                       '''waitlisted'', ''rejected'', ''withdrawn'', ''retained'', ''not_retained'')')
WHERE type = 'table' AND name = 'applications';
UPDATE sqlite_master
SET sql = replace(sql, 'outcome IN (''selected'', ''waitlisted'', ''rejected'')',
                       'outcome IN (''selected'', ''waitlisted'', ''rejected'', ''retained'', ''not_retained'')')
WHERE type = 'table' AND name = 'decisions';
-- Reloads this connection's schema; the table created and dropped next moves the schema version on, so
-- that every other connection reloads it too.
PRAGMA writable_schema = RESET;
CREATE TABLE schema_version_bump (x INTEGER);
DROP TABLE schema_version_bump;
-- Fails the migration (and rolls it back) unless all three rules were widened.
CREATE TEMP TABLE widened (ok INTEGER NOT NULL CHECK (ok = 3));
INSERT INTO widened
SELECT count(*) FROM sqlite_master
WHERE type = 'table' AND (
    (name = 'calls' AND sql LIKE '%''expression_of_interest''%')
    OR (name = 'applications' AND sql LIKE '%''not_retained''%')
    OR (name = 'decisions' AND sql LIKE '%''not_retained''%'));
DROP TABLE widened;

-- What a call may publish in its catalogue (`{"fields": [...]}`), NULL for a call without one.
ALTER TABLE calls ADD COLUMN catalogue TEXT CHECK (catalogue IS NULL OR json_valid(catalogue));

-- An applicant's consent to show these fields of its application in the call's public catalogue. Withdrawing
-- deletes the row (the audit log keeps who gave and withdrew it, and when).
CREATE TABLE catalogue_consents (
    application_id TEXT PRIMARY KEY REFERENCES applications (id) ON DELETE CASCADE,
    fields TEXT NOT NULL CHECK (json_valid(fields)),
    given_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    given_at TEXT NOT NULL
);

-- Staff's publication of a retained application in its call's catalogue.
CREATE TABLE catalogue_publications (
    application_id TEXT PRIMARY KEY REFERENCES applications (id) ON DELETE CASCADE,
    call_id TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    published_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    published_at TEXT NOT NULL
);
CREATE INDEX catalogue_publications_call ON catalogue_publications (call_id, application_id);

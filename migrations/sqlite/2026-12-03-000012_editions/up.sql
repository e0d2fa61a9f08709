-- Editions: each call carries its edition year (in its references: ATL-2027-0001 for the 2027 edition, even
-- when it opens in December 2026) and the call it follows. A call that already gave references keeps the
-- year they carry; any other takes the year it opens (in UTC here: SQLite knows no time zones).
ALTER TABLE calls ADD COLUMN edition INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN previous_edition_id TEXT REFERENCES calls (id) ON DELETE SET NULL;
UPDATE calls SET edition = COALESCE(
    (SELECT CAST(substr(a.reference, length(calls.reference_prefix) + 2, 4) AS INTEGER)
       FROM applications a
      WHERE a.call_id = calls.id AND a.reference IS NOT NULL
      ORDER BY a.reference
      LIMIT 1),
    CAST(substr(opens_at, 1, 4) AS INTEGER));
-- One call per prefix and edition, so that references are unique across calls (drafts have none: NULL).
CREATE UNIQUE INDEX calls_one_per_prefix_and_edition ON calls (reference_prefix, edition);
CREATE UNIQUE INDEX applications_one_per_reference ON applications (reference);
CREATE INDEX calls_previous_edition ON calls (previous_edition_id);

-- Editions: each call carries its edition year (in its references: ATL-2027-0001 for the 2027 edition, even
-- when it opens in December 2026) and the call it follows. A call that already gave references keeps the
-- year they carry; any other takes the year it opens in its time zone.
ALTER TABLE calls ADD COLUMN edition integer NOT NULL DEFAULT 0;
ALTER TABLE calls ADD COLUMN previous_edition_id uuid REFERENCES calls (id) ON DELETE SET NULL;
UPDATE calls SET edition = COALESCE(
    (SELECT CAST(substring(a.reference FROM length(calls.reference_prefix) + 2 FOR 4) AS integer)
       FROM applications a
      WHERE a.call_id = calls.id AND a.reference IS NOT NULL
      ORDER BY a.reference
      LIMIT 1),
    CAST(EXTRACT(YEAR FROM opens_at AT TIME ZONE timezone) AS integer));
ALTER TABLE calls ALTER COLUMN edition DROP DEFAULT;
-- One call per prefix and edition, so that references are unique across calls (drafts have none: NULL).
CREATE UNIQUE INDEX calls_one_per_prefix_and_edition ON calls (reference_prefix, edition);
CREATE UNIQUE INDEX applications_one_per_reference ON applications (reference);
CREATE INDEX calls_previous_edition ON calls (previous_edition_id);

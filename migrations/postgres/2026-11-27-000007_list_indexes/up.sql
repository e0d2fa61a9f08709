-- A call's applications in id order (the paginated list filtered by call): without it the database reads and
-- sorts every application of the call for each page.
CREATE INDEX applications_call_id ON applications (call_id, id);

-- A call's figures count its submissions per minute: the call's submitted applications, by date, from the index.
CREATE INDEX applications_call_submitted ON applications (call_id, submitted_at);

DROP INDEX applications_call_id;

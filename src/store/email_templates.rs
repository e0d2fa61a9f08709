//! Staff overrides of the built-in email templates (issue 5; being written).

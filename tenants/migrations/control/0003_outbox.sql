-- The email outbox. Filled in by the email work.
SELECT 1;

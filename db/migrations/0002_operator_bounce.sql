-- An operator's "bounce this message" from the web UI: the UI only records the request (it never calls
-- the delivery engine); the next delivery worker to claim the recipient sends the DSN and bounces it.
alter table recipients add column bounce_requested_at timestamptz;

-- Retention (Relay:Delivery:Retention): finished messages are deleted once they are older than the retention, oldest
-- first, so the delivery role's sweep reads messages by age.
create index messages_received on messages (received_at);

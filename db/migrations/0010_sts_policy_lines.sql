-- The fetched MTA-STS policy's own lines (RFC 8460 §4.4 policy-string for sts is the policy's lines), extension fields
-- included, so a TLS report repeats the policy as published. Null: cached before this migration (the lines are then
-- rebuilt from the parsed fields until the next fetch replaces the row).
alter table sts_policies add column policy_lines text[];

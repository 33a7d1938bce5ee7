-- MTA-STS policies (RFC 8461 §5.1), cached per policy domain until fetched_at + max_age, with the _mta-sts TXT id
-- they were fetched under (a new id means a new fetch). A `none` policy is kept too: it withdraws the one before.
create table sts_policies (
    domain          text        primary key check (domain = lower(domain) and length(domain) between 1 and 253),
    policy_id       text        not null check (policy_id ~ '^[A-Za-z0-9]{1,32}$'),
    mode            text        not null check (mode in ('none', 'testing', 'enforce')),
    mx              text[]      not null,
    max_age_seconds bigint      not null check (max_age_seconds between 0 and 31557600),
    fetched_at      timestamptz not null
);

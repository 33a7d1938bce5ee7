-- TLS reporting (RFC 8460): what each attempt contributes to the daily report of its recipient domain, and which reports
-- were sent. Every column here is TLS-RPT's own (tlsrpt_*), so other work on delivery_attempts does not meet it.

-- The policy the attempt was made under (RFC 8460 §4.4 policy-type, policy-string, mx-host), our source address and
-- the MX's EHLO name (failure-details sending-mta-ip, receiving-mx-helo). Null policy type: recorded before this migration.
alter table delivery_attempts add column tlsrpt_policy_type text check (tlsrpt_policy_type in ('tlsa', 'sts', 'no-policy-found'));
alter table delivery_attempts add column tlsrpt_policy_strings text[] not null default '{}';
alter table delivery_attempts add column tlsrpt_mx_hosts text[] not null default '{}';
alter table delivery_attempts add column tlsrpt_sending_ip text;
alter table delivery_attempts add column tlsrpt_receiving_helo text;
-- The attempt carried one of our own TLS reports: never reported (a report about a report's delivery would loop).
alter table delivery_attempts add column tlsrpt_report boolean not null default false;

create index delivery_attempts_tlsrpt_day on delivery_attempts (next_hop, started_at) where not tlsrpt_report;

-- A TLS report Relay composed. Set when it is enqueued, so the mark travels with the message whatever delivers it.
alter table messages add column tlsrpt_report boolean not null default false;

-- The mark reaches the attempt rows when they are linked to the report's recipients: the delivery code needs to know
-- nothing about reports, and the mark stays on the attempt after the message itself is deleted.
create function tlsrpt_mark_report_attempt() returns trigger language plpgsql as $$
begin
    update delivery_attempts set tlsrpt_report = true
     where id = new.attempt_id and not tlsrpt_report
       and exists (select 1 from recipients r join messages m on m.id = r.message_id
                    where r.id = new.recipient_id and m.tlsrpt_report);
    return new;
end $$;

create trigger attempt_recipients_tlsrpt_report after insert on attempt_recipients
    for each row execute function tlsrpt_mark_report_attempt();

-- One row per (policy domain, UTC day): the claim that makes one process, of any number on one database, send each report
-- once. A claim without sent_at older than the claim timeout is taken over (its process died); sent_at set means done.
create table tlsrpt_reports (
    domain          text        not null check (domain = lower(domain) and length(domain) between 1 and 253),
    day             date        not null,
    report_id       text        not null,
    claimed_by      text        not null,
    claimed_at      timestamptz not null default now(),
    sent_at         timestamptz,
    destinations    text[]      not null default '{}',   -- the rua URIs the report went to
    outcome         text,                                -- per destination: queued as <id>, HTTP status, or why not
    primary key (domain, day)
);

-- The first schema: everything the mission needs, so later work adds columns rather than concepts.
-- Vocabulary (DESIGN.md § Security vocabulary) is enforced here with CHECK constraints so no code
-- path can store a transport outcome outside it, and cleartext can never be stored without a reason.

create table messages (
    id                  bigint generated always as identity primary key,
    queue_id            text        not null unique,
    sender              text        not null,            -- '' is the null reverse-path <>
    size                bigint      not null check (size >= 0),
    body                bytea       not null,            -- the message as received, CRLF lines, Received: prepended
    received_at         timestamptz not null default now(),
    body_type           text        not null default '7BIT' check (body_type in ('7BIT', '8BITMIME', 'BINARYMIME')),
    smtputf8            boolean     not null default false,
    requiretls          boolean     not null default false,   -- RFC 8689: delivery must never be cleartext
    dsn_envid           text,
    dsn_ret             text        check (dsn_ret in ('FULL', 'HDRS')),
    -- how the message reached us (the inbound session's security)
    client_address      text        not null,
    client_helo         text,
    client_auth         text,                                  -- authenticated user, when any
    inbound_transport   text        not null check (inbound_transport in ('cleartext', 'encrypted', 'trusted', 'verified')),
    inbound_tls_version text,
    inbound_tls_cipher  text,
    inbound_client_spki text,                                  -- SHA-256 SPKI of the client certificate, hex
    check (inbound_transport = 'cleartext' or inbound_tls_version is not null)
);

create table recipients (
    id                  bigint generated always as identity primary key,
    message_id          bigint      not null references messages (id) on delete cascade,
    address             text        not null,
    next_hop            text        not null,                  -- lower-case recipient domain: the grouping key
    dsn_notify          text,                                  -- e.g. 'SUCCESS,FAILURE' or 'NEVER'
    dsn_orcpt           text,
    state               text        not null default 'queued'
                        check (state in ('queued', 'deferred', 'delivered', 'bounced', 'held')),
    attempts            integer     not null default 0,
    next_attempt_at     timestamptz not null default now(),
    lease_owner         text,
    lease_expires_at    timestamptz,
    last_attempt_at     timestamptz,
    last_result         text,                                  -- last reply or reason, for the operator
    updated_at          timestamptz not null default now()
);

-- Claim scans only the live queue; delivered and bounced rows drop out of this index.
create index recipients_due on recipients (next_attempt_at) where state in ('queued', 'deferred');
create index recipients_message on recipients (message_id);

create table delivery_attempts (
    id                  bigint generated always as identity primary key,
    next_hop            text        not null,
    peer_name           text,                                  -- MX host name; null when the attempt never picked a peer
    peer_address        text,
    peer_port           integer,
    started_at          timestamptz not null default now(),
    duration_ms         integer     not null default 0,
    stage               text        not null,                  -- dns, connect, greeting, ehlo, starttls, tls, mail, rcpt, data, dot, quit
    reply               text,                                  -- the peer's words (never trusted, shown literally)
    policy_level        text        not null check (policy_level in
                        ('none', 'may', 'encrypt', 'dane', 'dane-only', 'verify', 'secure', 'fingerprint')),
    transport           text        not null check (transport in ('cleartext', 'encrypted', 'trusted', 'verified')),
    how                 text        not null check (how in ('dane-ee', 'dane-ta', 'pkix', 'mta-sts', 'fingerprint', 'none')),
    reason              text,                                  -- why not stronger; required for cleartext
    tls_version         text,
    tls_cipher          text,
    peer_spki_sha256    text,
    peer_cert_subject   text,
    peer_cert_chain     text,                                  -- summary of the presented chain, one subject per line
    tlsa_records        text[]      not null default '{}',
    tlsa_status         text        check (tlsa_status in ('secure', 'secure-empty', 'insecure', 'bogus', 'error', 'not-queried')),
    mx_dnssec           text        check (mx_dnssec in ('secure', 'insecure', 'bogus', 'error', 'route')),
    address_dnssec      text        check (address_dnssec in ('secure', 'insecure', 'bogus', 'error', 'literal')),
    network             text        not null default 'none'
                        check (network in ('none', 'ipsec-anonymous', 'ipsec-authenticated', 'blocked')),
    network_reason      text,
    check (transport <> 'cleartext' or reason is not null),
    check (transport = 'cleartext' or tls_version is not null),
    check (transport not in ('trusted', 'verified') or how <> 'none')
);

create index delivery_attempts_started on delivery_attempts (started_at);
create index delivery_attempts_peer on delivery_attempts (peer_name, peer_address, started_at);

create table attempt_recipients (
    attempt_id          bigint      not null references delivery_attempts (id) on delete cascade,
    recipient_id        bigint      not null references recipients (id) on delete cascade,
    result              text        not null check (result in ('delivered', 'deferred', 'bounced')),
    reply               text,
    primary key (attempt_id, recipient_id)
);

create index attempt_recipients_recipient on attempt_recipients (recipient_id);

-- One row per peer (MX host + address): the latest outcome and what downgrade detection needs.
create table peers (
    id                  bigint generated always as identity primary key,
    next_hop            text        not null,
    name                text        not null,
    address             text        not null,
    first_seen          timestamptz not null default now(),
    last_seen           timestamptz not null default now(),
    last_transport      text        not null check (last_transport in ('cleartext', 'encrypted', 'trusted', 'verified')),
    last_how            text        not null,
    last_reason         text,
    last_tls_version    text,
    last_tls_cipher     text,
    last_spki_sha256    text,
    previous_spki_sha256 text,
    spki_changed_at     timestamptz,
    best_transport      text        not null check (best_transport in ('cleartext', 'encrypted', 'trusted', 'verified')),
    best_seen_at        timestamptz not null default now(),
    last_tlsa_status    text,
    last_tlsa_records   text[]      not null default '{}',
    attempts_cleartext  integer     not null default 0,
    attempts_encrypted  integer     not null default 0,
    attempts_trusted    integer     not null default 0,
    attempts_verified   integer     not null default 0,
    unique (name, address)
);

create index peers_next_hop on peers (next_hop);

-- Explicit per-destination policy: 'example.com', '.example.com' (subdomains) or a route.
create table destination_policies (
    destination         text        primary key,
    level               text        not null check (level in
                        ('none', 'may', 'encrypt', 'dane', 'dane-only', 'verify', 'secure', 'fingerprint')),
    fingerprints        text[]      not null default '{}',   -- for 'fingerprint': SHA-256 SPKI/cert digests
    match_names         text[]      not null default '{}',   -- for 'secure'/'verify': extra acceptable names
    note                text,
    updated_at          timestamptz not null default now(),
    check (level <> 'fingerprint' or cardinality(fingerprints) > 0)
);

-- IPsec opportunistic encryption class per destination prefix (RFC 4322 § 3.2, libreswan names).
create table ipsec_policies (
    prefix              cidr        primary key,
    class               text        not null check (class in ('clear', 'clear-or-private', 'private-or-clear', 'private', 'block')),
    updated_at          timestamptz not null default now()
);

-- Inbound sessions, including those that sent nothing, so the UI can show who reaches us in cleartext.
create table inbound_sessions (
    id                  bigint generated always as identity primary key,
    started_at          timestamptz not null default now(),
    ended_at            timestamptz,
    listener            text        not null,                  -- 'smtp', 'submission', 'smtps'
    client_address      text        not null,
    client_helo         text,
    transport           text        not null check (transport in ('cleartext', 'encrypted', 'trusted', 'verified')),
    tls_version         text,
    tls_cipher          text,
    client_spki         text,
    auth_user           text,
    messages            integer     not null default 0,
    end_reason          text
);

create index inbound_sessions_started on inbound_sessions (started_at);

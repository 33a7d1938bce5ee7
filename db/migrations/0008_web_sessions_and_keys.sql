-- The admin UI's state that must outlive one web process and be shared by several (issue 14):
-- sessions, the Data Protection key ring that encrypts their cookies and the anti-forgery tokens, and the last
-- result of the smtp role's check of our own TLSA record, which the overview page shows.

-- One row per logged-in browser. The cookie carries a random session id; only its SHA-256 is stored, so someone who
-- can read this table still cannot present a live session. Logout and idle expiry delete the row.
create table web_sessions (
    id_hash    bytea       primary key check (length(id_hash) = 32),
    user_name  text        not null,
    created_at timestamptz not null,
    last_seen  timestamptz not null
);
create index web_sessions_last_seen on web_sessions (last_seen);

-- ASP.NET Core Data Protection keys as the key manager writes them (one XML element per key, never edited:
-- revocations are new elements). Stored unencrypted: whoever can read this table can read the cookies' contents
-- (not the session ids behind them, see above), so it gets the database's access controls like the queue.
create table data_protection_keys (
    id            bigserial   primary key,
    friendly_name text        not null unique,
    xml           text        not null,
    created_at    timestamptz not null default now()
);

-- The latest check of our own TLSA record per owner name (_25._tcp.HOST), written by the smtp role at start-up and
-- every hour. The web role reads it; it never runs the check itself.
create table own_tlsa_checks (
    owner      text        primary key,
    verdict    text        not null check (verdict in ('matches', 'mismatch', 'not-published', 'insecure', 'bogus', 'error')),
    problem    boolean     not null,
    detail     text        not null,
    checked_at timestamptz not null
);

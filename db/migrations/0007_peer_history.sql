-- Peer history for downgrade detection (trust on first use, RFC 7435 §3), per peer (MX host name + address): what the
-- last EHLO offered, when STARTTLS was last offered and TLS last completed, every certificate key seen, and the last
-- attempt flagged as a possible downgrade. `relay peers forget` deletes the peer row, and with it all of this.
alter table peers add column starttls_offered    boolean;        -- the last EHLO seen offered STARTTLS (null: no EHLO seen yet)
alter table peers add column starttls_seen_at    timestamptz;    -- when that EHLO was seen
alter table peers add column starttls_offered_at timestamptz;    -- the last EHLO that offered STARTTLS
alter table peers add column tls_established_at  timestamptz;    -- the last completed TLS handshake
alter table peers add column downgrade_at        timestamptz;    -- the last attempt flagged as a possible downgrade
alter table peers add column downgrade_reason    text;
alter table peers add constraint peers_downgrade_has_reason check (downgrade_at is null or downgrade_reason is not null);

-- Every SPKI (SHA-256, hex) a peer presented in a completed handshake, with first/last seen: a new one is a key change.
create table peer_keys (
    peer_id     bigint      not null references peers (id) on delete cascade,
    spki_sha256 text        not null check (spki_sha256 ~ '^[0-9a-f]{64}$'),
    first_seen  timestamptz not null default now(),
    last_seen   timestamptz not null default now(),
    attempts    integer     not null default 1,
    primary key (peer_id, spki_sha256)
);

-- The attempt's verdict against that history (the classifier's): a possible downgrade with its reason, and a key change.
alter table delivery_attempts add column downgrade        boolean not null default false;
alter table delivery_attempts add column downgrade_reason text;
alter table delivery_attempts add column key_changed      boolean not null default false;
alter table delivery_attempts add constraint delivery_attempts_downgrade_has_reason check (not downgrade or downgrade_reason is not null);
create index delivery_attempts_downgrades on delivery_attempts (started_at) where downgrade;

-- What attempts recorded before this migration already show: a completed handshake means STARTTLS was offered.
insert into peer_keys (peer_id, spki_sha256, first_seen, last_seen, attempts)
select p.id, lower(d.peer_spki_sha256), min(d.started_at), max(d.started_at), count(*)::int
  from delivery_attempts d join peers p on p.name = d.peer_name and p.address = d.peer_address
 where d.peer_spki_sha256 ~* '^[0-9a-f]{64}$' and d.tls_version is not null
 group by p.id, lower(d.peer_spki_sha256);
update peers p set tls_established_at = t.at, starttls_offered_at = t.at
  from (select peer_name, peer_address, max(started_at) as at from delivery_attempts
         where tls_version is not null and peer_name is not null group by peer_name, peer_address) t
 where t.peer_name = p.name and t.peer_address = p.address;

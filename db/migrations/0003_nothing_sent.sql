-- An attempt that carried no message (no peer reached, or the session ended before MAIL FROM was accepted)
-- has no transport: null, never 'cleartext' (DESIGN.md § Security vocabulary). It must say why.
alter table delivery_attempts alter column transport drop not null;
alter table delivery_attempts add constraint delivery_attempts_nothing_sent_has_reason
    check (transport is not null or reason is not null);

-- RFC 8460 §4.3 result type of a failed attempt, so TLS reports aggregate what was recorded.
alter table delivery_attempts add column result_type text check (result_type in
    ('starttls-not-supported', 'certificate-host-mismatch', 'certificate-expired', 'certificate-not-trusted',
     'validation-failure', 'tlsa-invalid', 'dnssec-invalid', 'dane-required',
     'sts-policy-fetch-error', 'sts-policy-invalid', 'sts-webpki-invalid'));

-- Attempts recorded before this migration that ended before MAIL (every stage up to the EHLO after STARTTLS)
-- sent nothing, whatever word they were stored with.
update delivery_attempts set transport = null, how = 'none', reason = coalesce(reason, 'nothing sent')
 where stage in ('dns', 'connect', 'greeting', 'ehlo', 'starttls', 'tls');

-- A peer that has only ever refused or failed before MAIL has no transport yet.
alter table peers alter column last_transport drop not null;
alter table peers alter column best_transport drop not null;

-- The strength order of the transport words, weakest first, for SQL that compares them (best seen, downgrades,
-- weakest-first sorting). It mirrors Relay.Policy's TransportSecurity, which a test checks; nothing sent (null) has no rank.
create function transport_rank(transport text) returns integer
    language sql immutable strict parallel safe
    as $$ select array_position(array['cleartext', 'encrypted', 'trusted', 'verified'], transport) $$;

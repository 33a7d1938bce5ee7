-- The admin login throttles (issue 14), shared by every web process of the database: a password guesser who spreads
-- attempts over several `relay serve --roles web` processes meets one budget, not one per process.
-- One row per client address ('address') and per account name ('account'). A row counts failures since the last
-- success or lockout; a quiet day (no failure, no lock in force) forgets it, and the next attempt anywhere deletes it.
-- No password, and no user name other than the configured admin account's, is ever written here.
create table web_login_throttle (
    kind         text        not null check (kind in ('address', 'account')),
    subject      text        not null,
    failures     integer     not null check (failures >= 0),
    window_start timestamptz not null,   -- first failure of the current count
    last_failure timestamptz not null,
    locked_until timestamptz,
    primary key (kind, subject)
);
create index web_login_throttle_last_failure on web_login_throttle (last_failure);

-- One login attempt, after the password was checked: one round trip that refuses it while the address or the account
-- is locked (counting nothing and whatever the password), else records it. Returns what happened and how long a lock
-- lasts from now:
--   address-locked / account-locked  refused, the lock already in force;
--   failed                           counted (an address lockout it starts shows on the next attempt, as before);
--   account-lockout                  counted, and this failure locked the account (the wait is its new delay);
--   succeeded                        both rows reset.
-- Address: `threshold` consecutive failures lock it for `address_lockout`, and its count starts again. Account (only
-- guesses with the right user name spend it): `threshold` failures are free, each further one locks it for
-- first_delay × 2^(n-1), at most max_delay. Times are the caller's clock (the web role's TimeProvider).
create function web_login_attempt(
    p_address text, p_account text, p_account_guessed boolean, p_succeeded boolean, p_now timestamptz,
    p_threshold integer, p_address_lockout interval, p_first_delay interval, p_max_delay interval, p_forget interval)
returns table (outcome text, wait interval) language plpgsql as $$
declare
    address_row web_login_throttle;
    account_row web_login_throttle;
    delay interval;
begin
    -- Rows age out: a quiet day and no lock in force. Rows another attempt holds are left for a later sweep, so two
    -- attempts never wait on each other here.
    delete from web_login_throttle where (kind, subject) in (
        select kind, subject from web_login_throttle
        where last_failure < p_now - p_forget and (locked_until is null or locked_until <= p_now)
        for update skip locked);

    -- Serialise attempts on the same address and account across processes (a row is made to lock, if need be; one
    -- that counts nothing is removed again below). Always address first, then account: no deadlock between attempts.
    insert into web_login_throttle (kind, subject, failures, window_start, last_failure)
    values ('address', p_address, 0, p_now, p_now), ('account', p_account, 0, p_now, p_now)
    on conflict (kind, subject) do nothing;
    select * into address_row from web_login_throttle where kind = 'address' and subject = p_address for update;
    select * into account_row from web_login_throttle where kind = 'account' and subject = p_account for update;

    if address_row.locked_until > p_now then
        outcome := 'address-locked';
        wait := address_row.locked_until - p_now;
    elsif account_row.locked_until > p_now then
        outcome := 'account-locked';
        wait := account_row.locked_until - p_now;
    elsif p_succeeded then
        delete from web_login_throttle where (kind, subject) in (('address', p_address), ('account', p_account));
        outcome := 'succeeded';
    else
        if address_row.failures + 1 >= p_threshold then
            update web_login_throttle set failures = 0, last_failure = p_now, locked_until = p_now + p_address_lockout
            where kind = 'address' and subject = p_address;
        else
            update web_login_throttle
            set failures = failures + 1, window_start = case when failures = 0 then p_now else window_start end, last_failure = p_now
            where kind = 'address' and subject = p_address;
        end if;
        outcome := 'failed';
        -- Only guesses at the real account spend its budget: a wrong user name cannot lock the admin out.
        if p_account_guessed then
            if account_row.failures + 1 <= p_threshold then
                update web_login_throttle
                set failures = failures + 1, window_start = case when failures = 0 then p_now else window_start end, last_failure = p_now
                where kind = 'account' and subject = p_account;
            else
                delay := least(p_max_delay, p_first_delay * (2 ^ least(account_row.failures - p_threshold, 20)));
                update web_login_throttle set failures = failures + 1, last_failure = p_now, locked_until = p_now + delay
                where kind = 'account' and subject = p_account;
                outcome := 'account-lockout';
                wait := delay;
            end if;
        end if;
    end if;

    delete from web_login_throttle
    where (kind, subject) in (('address', p_address), ('account', p_account)) and failures = 0 and (locked_until is null or locked_until <= p_now);
    return next;
end $$;

-- Users of the API and the dashboard (api/users.py): roles, password hashes, API tokens and log-in sessions
-- (only hashes of the secrets are stored), which accounts and strategies each user owns, the failed and
-- successful log-ins the rate limit counts, and every change of users and permissions with who and when.

create table if not exists users (
    user_id       bigint      generated always as identity primary key,
    name          text        not null unique check (name ~ '^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$'),
    role          text        not null check (role in ('viewer', 'trader', 'admin')),
    -- argon2id, in the PHC string format argon2-cffi writes ($argon2id$v=19$m=...,t=...,p=...$salt$hash)
    password_hash text        not null check (password_hash like '$argon2id$%'),
    created_at    timestamptz not null default now(),
    disabled_at   timestamptz
);

-- API tokens for scripts (Authorization: Bearer ...): 256 random bits shown once, kept as their SHA-256.
create table if not exists api_tokens (
    token_hash   text        primary key check (length(token_hash) = 64),
    user_id      bigint      not null references users (user_id) on delete cascade,
    created_at   timestamptz not null default now(),
    revoked_at   timestamptz
);
create index if not exists api_tokens_user on api_tokens (user_id);

-- Log-in sessions of the dashboard: the cookie's random value and the CSRF token, each kept as its SHA-256.
create table if not exists sessions (
    session_hash text        primary key check (length(session_hash) = 64),
    user_id      bigint      not null references users (user_id) on delete cascade,
    csrf_hash    text        not null check (length(csrf_hash) = 64),
    created_at   timestamptz not null default now(),
    expires_at   timestamptz not null
);
create index if not exists sessions_expiry on sessions (expires_at);

-- Who owns what: one owner per account (account_id of the account files, e.g. paper-1) and per strategy
-- (the scanner's name, which its signals and trades carry). A user reads and changes only what they own.
create table if not exists ownerships (
    kind        text        not null check (kind in ('account', 'strategy')),
    resource_id text        not null check (length(resource_id) between 1 and 200),
    user_id     bigint      not null references users (user_id) on delete cascade,
    granted_at  timestamptz not null default now(),
    primary key (kind, resource_id)
);
create index if not exists ownerships_user on ownerships (user_id, kind);

-- Log-in attempts of the last minutes, counted by the rate limit per user name and per client address.
create table if not exists login_attempts (
    ts         timestamptz not null default now(),
    user_name  text        not null,
    client     text        not null,
    succeeded  boolean     not null
);
create index if not exists login_attempts_user on login_attempts (user_name, ts);
create index if not exists login_attempts_client on login_attempts (client, ts);

-- Every change of users, tokens, ownership and the strategies changed through the API: who, when, what.
create table if not exists user_changes (
    change_id bigint      generated always as identity primary key,
    ts        timestamptz not null default now(),
    actor     text        not null,
    action    text        not null,
    subject   text        not null,
    detail    jsonb       not null default '{}'
);
create index if not exists user_changes_ts on user_changes (ts);

-- Operators' changes of accounts (topic accounts, AccountChanged): settings replaced, kill switch reset, each
-- with its reason and operator, kept for the audit; natural key (account_id, ts_event_ns, kind).
create table if not exists account_changes (
    account_id   text   not null,
    ts_event_ns  bigint not null,
    kind         text   not null check (kind in ('SETTINGS_CHANGED', 'KILL_SWITCH_RESET')),
    ts_init_ns   bigint not null,
    reason       text   not null,
    operator     text   not null default '',
    settings     jsonb,
    primary key (account_id, ts_event_ns, kind)
);

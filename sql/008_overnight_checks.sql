-- Before each close, whether each account's positions would be covered overnight (topic risk.overnight,
-- OvernightCoverageChecked); uncovered positions flagged by symbol. Natural key check_id (<account>:<ET date>).
create table if not exists overnight_checks (
    check_id     text           primary key,
    account_id   text           not null,
    ts_event_ns  bigint         not null,
    ts_init_ns   bigint         not null,
    regime       text           not null,
    equity       numeric(24, 8) not null,
    requirement  numeric(24, 8) not null,
    excess       numeric(24, 8) not null,
    positions    bigint         not null check (positions >= 0),
    uncovered    text[]         not null default '{}',
    detail       text           not null
);
create index if not exists overnight_checks_account on overnight_checks (account_id, ts_event_ns);

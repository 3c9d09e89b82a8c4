-- Trading: risk decisions, order events, fills and trades (topics risk.decisions, orders.events, fills,
-- trades), each keyed on its event's natural key so the sink stores it idempotently.
-- Times are the events' integer nanoseconds UTC (*_ns); money and prices are numeric on the events'
-- 8-decimal grid. Every check below is also made by the sink's row builder (streams/sinks/rows.py), which
-- dead-letters a record that fails it, so no stored batch is refused by the database.
-- The same on TimescaleDB and plain PostgreSQL: none of these is a hypertable (their keys hold no time
-- column, and they are audit records of modest volume), so there are no .timescale/.plain variants.

create table if not exists risk_decisions (
    intent_id                text           primary key,
    account_id               text           not null,
    strategy                 text           not null,
    symbol                   text           not null,
    side                     text           not null,
    action                   text           not null,
    ts_event_ns              bigint         not null,
    ts_init_ns               bigint         not null,
    regime                   text,
    outcome                  text           not null check (outcome in ('ACCEPT', 'RESIZE', 'REJECT')),
    quantity                 bigint         not null check (quantity >= 0),
    requested_quantity       bigint,
    reasons                  text[]         not null default '{}',
    -- The checks in the order they were made, as parallel arrays (element i of each is check i).
    check_names              text[]         not null default '{}',
    check_values             numeric(24, 8)[] not null default '{}',
    check_limits             numeric(24, 8)[] not null default '{}',
    check_outcomes           text[]         not null default '{}',
    check_details            text[]         not null default '{}',
    check_allowed_quantities bigint[]       not null default '{}',
    equity                   numeric(24, 8),
    signal_price             numeric(24, 8) not null,
    stop_price               numeric(24, 8),
    unit_risk                numeric(24, 8),
    risk_budget              numeric(24, 8),
    risk_quantity            bigint,
    trade_risk               numeric(24, 8),
    open_risk_after          numeric(24, 8),
    total_risk_pct           numeric(24, 8),
    kill_switch_tripped      boolean        not null default false,
    tripped_kill_switch      boolean        not null default false,
    kill_switch_reason       text           not null default '',
    check (cardinality(check_values) = cardinality(check_names)
           and cardinality(check_limits) = cardinality(check_names)
           and cardinality(check_outcomes) = cardinality(check_names)
           and cardinality(check_details) = cardinality(check_names)
           and cardinality(check_allowed_quantities) = cardinality(check_names))
);
create index if not exists risk_decisions_account_ts on risk_decisions (account_id, ts_event_ns);
create index if not exists risk_decisions_strategy_ts on risk_decisions (strategy, ts_event_ns);

create table if not exists order_events (
    client_order_id text           not null,
    sequence        bigint         not null check (sequence >= 0),
    account_id      text           not null,
    strategy        text           not null,
    trade_id        text           not null,
    event           text           not null
                    check (event in ('ACCEPTED', 'REJECTED', 'MODIFIED', 'TRIGGERED', 'CANCELLED')),
    status          text,
    broker_status   text           not null default '',
    ts_event_ns     bigint         not null,
    ts_init_ns      bigint         not null,
    symbol          text           not null,
    side            text           not null,
    order_type      text           not null,
    quantity        bigint         not null,
    filled_quantity bigint         not null default 0,
    limit_price     numeric(24, 8),
    stop_price      numeric(24, 8),
    trigger_price   numeric(24, 8),
    parent_order_id text,
    oca_group       text,
    operation       text,
    reason          text           not null default '',
    broker          text           not null,
    broker_order_id bigint,
    broker_perm_id  bigint,
    broker_ref      text,
    primary key (client_order_id, sequence)
);
create index if not exists order_events_account_ts on order_events (account_id, ts_event_ns);
create index if not exists order_events_trade on order_events (trade_id);

create table if not exists fills (
    exec_id         text           primary key,
    client_order_id text           not null,
    account_id      text           not null,
    strategy        text           not null,
    trade_id        text           not null,
    ts_event_ns     bigint         not null,
    ts_init_ns      bigint         not null,
    symbol          text           not null,
    side            text           not null,
    quantity        bigint         not null check (quantity > 0),
    price           numeric(24, 8) not null check (price > 0),
    filled_quantity bigint         not null,
    leaves_quantity bigint         not null,
    multiplier      bigint         not null default 1,
    commission      numeric(24, 8) not null,
    regulatory_fees numeric(24, 8) not null,
    broker          text           not null,
    broker_perm_id  bigint
);
create index if not exists fills_account_ts on fills (account_id, ts_event_ns);
create index if not exists fills_trade on fills (trade_id);

-- One row per trade: its newest version. The sink replaces a row only with a higher version
-- (`insert ... on conflict (trade_id) do update ... where trades.version < excluded.version`), so a replay
-- or a redelivery of an older version never overwrites a newer one.
create table if not exists trades (
    trade_id     text           primary key,
    version      bigint         not null check (version >= 0),
    change       text           not null
                 check (change in ('SUBMITTED', 'OPENED', 'ADDED', 'REDUCED', 'STOP_MOVED', 'CLOSED')),
    account_id   text           not null,
    strategy     text           not null,
    ss_type      text           not null,
    signal_type  text           not null,
    symbol       text           not null,
    direction    text           not null,
    status       text           not null check (status in ('Waiting', 'Running', 'Closed')),
    ts_event_ns  bigint         not null,
    ts_init_ns   bigint         not null,
    entry_qty    bigint         not null check (entry_qty >= 0),
    exit_qty     bigint         not null check (exit_qty >= 0 and exit_qty <= entry_qty),
    entry_price  numeric(24, 8),
    exit_price   numeric(24, 8),
    initial_stop numeric(24, 8) not null,
    stop_price   numeric(24, 8) not null,
    target_price numeric(24, 8),
    pnl          numeric(24, 8) not null,
    charges      numeric(24, 8) not null,
    net_pnl      numeric(24, 8) not null,
    net_pnl_pct  numeric(24, 8) not null,
    opened_ns    bigint,
    closed_ns    bigint,
    -- The time of the trade's last exit fill among the versions stored: the ts_event of its newest REDUCED
    -- or CLOSED version (the deals report's exit_time while a trade is still Running). Not in the event.
    last_exit_ns bigint,
    comment      text           not null default '',
    check (status = 'Waiting' or (entry_price is not null and opened_ns is not null)),
    check (status <> 'Closed' or closed_ns is not null)
);
-- The deals report: trades of a range of entry times, of one account or one strategy, by entry time.
create index if not exists trades_opened on trades (opened_ns, trade_id);
create index if not exists trades_account_opened on trades (account_id, opened_ns);
create index if not exists trades_strategy_opened on trades (strategy, opened_ns);

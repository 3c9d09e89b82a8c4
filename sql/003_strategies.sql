-- Strategies: scanner configurations (validated by processors.scanner before they are stored),
-- the action of a signal, signals withheld with their reason, and order intents.

create table if not exists scanners (
    name        text        primary key,
    config      jsonb       not null,
    version     integer     not null default 1,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now()
);

alter table signals add column if not exists action text not null default 'ENTRY'
    check (action in ('ENTRY', 'EXIT'));

create table if not exists signal_suppressions (
    signal_id   text        primary key,
    strategy    text        not null,
    symbol      text        not null,
    side        text        not null check (side in ('BUY', 'SELL')),
    action      text        not null check (action in ('ENTRY', 'EXIT')),
    ts          timestamptz not null,
    ts_event_ns bigint      not null,
    ts_init_ns  bigint      not null,
    price       numeric(24, 8),
    rule        text        not null,
    suppression text        not null,
    rule_values jsonb       not null default '{}'
);
create index if not exists signal_suppressions_strategy_ts on signal_suppressions (strategy, ts);

create table if not exists order_intents (
    client_order_id text        primary key,
    signal_id       text        not null,
    strategy        text        not null,
    mode            text        not null check (mode in ('LIVE', 'VIRTUAL')),
    symbol          text        not null,
    instrument      text        not null check (instrument in ('EQUITY', 'ETF', 'OPTION', 'FUTURES')),
    contract        text        not null,
    side            text        not null check (side in ('BUY', 'SELL')),
    ts              timestamptz not null,
    ts_event_ns     bigint      not null,
    ts_init_ns      bigint      not null,
    exchange        text        not null,
    order_type      text        not null check (order_type in ('MARKET', 'LIMIT', 'STOP', 'STOP_LIMIT')),
    limit_price     numeric(24, 8),
    stop_price      numeric(24, 8),
    tick_size       numeric(24, 8) not null,
    reference_price numeric(24, 8) not null,
    product         text        not null check (product in ('MARGIN', 'CASH')),
    quantity        bigint      not null check (quantity > 0),
    multiplier      integer     not null check (multiplier > 0),
    detail          text        not null default ''
);
create index if not exists order_intents_strategy_ts on order_intents (strategy, ts);

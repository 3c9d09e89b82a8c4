-- Core tables of every event type, keyed on their natural keys so sinks can upsert idempotently.
-- Times: *_ns columns keep the events' integer nanoseconds (the identity); the timestamptz columns
-- (UTC, microseconds) serve time-range queries, hypertables and the bar views.

create table if not exists trade_ticks (
    symbol      text        not null,
    ts          timestamptz not null,
    ts_event_ns bigint      not null,
    ts_init_ns  bigint      not null,
    trade_id    text        not null,
    price       numeric(24, 8) not null check (price > 0),
    size        bigint      not null check (size > 0),
    exchange    text,
    conditions  text[]      not null default '{}',
    feed        text        not null,
    primary key (symbol, ts, trade_id)
);

create table if not exists quote_ticks (
    symbol       text        not null,
    ts           timestamptz not null,
    ts_event_ns  bigint      not null,
    ts_init_ns   bigint      not null,
    bid_price    numeric(24, 8) not null,
    bid_size     bigint      not null,
    ask_price    numeric(24, 8) not null,
    ask_size     bigint      not null,
    bid_exchange text,
    ask_exchange text,
    feed         text        not null,
    primary key (symbol, ts, ts_event_ns, feed)
);

create table if not exists bars (
    symbol    text        not null,
    timeframe text        not null,
    start     timestamptz not null,
    "end"     timestamptz not null,
    start_ns  bigint      not null,
    end_ns    bigint      not null,
    session   text        not null,
    open      numeric(24, 8) not null,
    high      numeric(24, 8) not null,
    low       numeric(24, 8) not null,
    close     numeric(24, 8) not null,
    volume    bigint      not null,
    vwap      numeric(24, 8) not null,
    trades    bigint      not null,
    ts_init_ns bigint     not null,
    primary key (symbol, timeframe, start),
    check (low <= open and low <= close and high >= open and high >= close)
);

create table if not exists indicator_snapshots (
    symbol          text        not null,
    timeframe       text        not null,
    start           timestamptz not null,
    "end"           timestamptz not null,
    start_ns        bigint      not null,
    close           double precision not null,
    atr_period      integer     not null,
    atr             double precision,
    donchian_period integer     not null,
    dc_upper        double precision,
    dc_lower        double precision,
    dc_mid          double precision,
    pivot           double precision,
    r1              double precision,
    r2              double precision,
    r3              double precision,
    s1              double precision,
    s2              double precision,
    s3              double precision,
    fractal_k       integer     not null,
    fractal_high    double precision,
    fractal_low     double precision,
    swing_left      integer     not null,
    swing_right     integer     not null,
    swing_high      double precision,
    swing_low       double precision,
    ts_init_ns      bigint      not null,
    primary key (symbol, timeframe, start)
);

create table if not exists signals (
    signal_id   text        primary key,
    strategy    text        not null,
    symbol      text        not null,
    side        text        not null check (side in ('BUY', 'SELL')),
    ts          timestamptz not null,
    ts_event_ns bigint      not null,
    ts_init_ns  bigint      not null,
    price       numeric(24, 8) not null,
    reason      text        not null,
    rule_values jsonb       not null default '{}'
);
create index if not exists signals_strategy_ts on signals (strategy, ts);

create table if not exists feed_status (
    feed                text        not null,
    ts                  timestamptz not null,
    ts_init_ns          bigint      not null,
    connected           boolean     not null,
    active              boolean     not null,
    subscribed_symbols  text[]      not null default '{}',
    messages_per_second double precision not null,
    last_latency_ns     bigint,
    event               text        not null,
    detail              text,
    primary key (feed, ts_init_ns)
);

create table if not exists dead_letters (
    source_topic     text        not null,
    source_partition integer     not null,
    source_offset    bigint      not null,
    stage            text        not null,
    ts               timestamptz not null,
    error_class      text        not null,
    reason           text        not null,
    key              bytea,
    value            bytea,
    primary key (source_topic, source_partition, source_offset, stage)
);

create table if not exists latency_metrics (
    feed            text        not null,
    symbol          text        not null,
    hop             text        not null,
    window_start    timestamptz not null,
    window_end      timestamptz not null,
    sample_count    bigint      not null,
    p50_ns          bigint      not null,
    p95_ns          bigint      not null,
    p99_ns          bigint      not null,
    max_ns          bigint      not null,
    primary key (feed, symbol, hop, window_end)
);

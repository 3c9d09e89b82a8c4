-- Recomputing bars from stored ticks, to verify the streamed bars (`tradestream verify bars`).
-- The trading calendar and the trade-condition rules are data written by `tradestream stack up`
-- from processors/ (the single source of both), so the database applies the same rules.

create table if not exists trading_sessions (
    day         date        primary key,
    pre_open    timestamptz not null,
    open        timestamptz not null,
    close       timestamptz not null,
    post_close  timestamptz not null,
    early_close boolean     not null
);

create table if not exists trade_condition_rules (
    code           text    primary key,
    updates_ohlc   boolean not null,
    updates_volume boolean not null
);

-- Regular-session bars of length `timeframe` from trade_ticks in [from_ts, to_ts): aligned to each
-- day's open, the last bar clipped at the close (13:00 ET on early-close days), a bar only where
-- trades exist. OHLC from prints whose conditions all update OHLC; volume from those that update
-- volume; open/close by event time then arrival time.
create or replace function bars_from_ticks(timeframe interval, from_ts timestamptz, to_ts timestamptz)
returns table (symbol text, start timestamptz, "end" timestamptz, open numeric, high numeric, low numeric,
               close numeric, volume numeric, vwap numeric, trades bigint)
language sql stable as $$
    with eligible as (
        select t.symbol, t.ts, t.ts_event_ns, t.ts_init_ns, t.trade_id, t.price, t.size, s.open as day_open,
               s.close as day_close,
               not exists (select 1 from unnest(t.conditions) c join trade_condition_rules r on r.code = c
                           where not r.updates_ohlc) as ohlc,
               not exists (select 1 from unnest(t.conditions) c join trade_condition_rules r on r.code = c
                           where not r.updates_volume) as vol
        from trade_ticks t
        join trading_sessions s on t.ts >= s.open and t.ts < s.close
        where t.ts >= from_ts and t.ts < to_ts
    )
    select symbol,
           date_bin(timeframe, ts, day_open) as start,
           least(date_bin(timeframe, ts, day_open) + timeframe, day_close) as "end",
           (array_agg(price order by ts_event_ns, ts_init_ns, trade_id) filter (where ohlc))[1] as open,
           max(price) filter (where ohlc) as high,
           min(price) filter (where ohlc) as low,
           (array_agg(price order by ts_event_ns desc, ts_init_ns desc, trade_id desc) filter (where ohlc))[1],
           coalesce(sum(size) filter (where vol), 0) as volume,
           sum(price * size) filter (where vol) / nullif(sum(size) filter (where vol), 0) as vwap,
           count(*) filter (where ohlc or vol) as trades
    from eligible
    group by symbol, day_open, day_close, date_bin(timeframe, ts, day_open)
    having bool_or(ohlc)
$$;

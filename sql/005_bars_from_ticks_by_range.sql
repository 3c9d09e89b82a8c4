-- bars_from_ticks() (sql/002) again, with the same rows, at a cost that follows the ticks in the range
-- rather than the ticks times the calendar.
--
-- sql/002 joined every tick in [from_ts, to_ts) to the whole calendar (`t.ts >= s.open and t.ts <
-- s.close` over all 7,276 sessions from 2000 to 2028): a nested loop testing each tick against every
-- session, 33 s for one day of 1.48 M stored ticks and minutes per timeframe for a few days. Here:
--   * only the sessions overlapping [from_ts, to_ts) are read. A session's open and close fall on its
--     own date in UTC too (09:30-16:00 New York is 13:30-21:00 UTC), so the bound on `day` (a day of
--     margin each side) never drops an overlapping session; it lets the planner find them through
--     the primary key and know they are one or two, where two inequalities on open and close alone
--     are estimated at hundreds of rows (which inflated the plan's cost past the JIT threshold:
--     half a second of compiling per call);
--   * each session's ticks are read as a range on `ts` (an index on ts: the hypertable's own on
--     TimescaleDB, 005_*.plain.sql on plain PostgreSQL);
--   * a print's bar start and its eligibility for OHLC and for volume are computed once, in a
--     subquery that `offset 0` keeps from being merged into the aggregates (merged, the eligibility
--     test ran inside each aggregate's filter: ten correlated subqueries per print in sql/002), as an
--     overlap with the codes that exclude a print (one array each, read once per call); the sort
--     for the grouping then carries ten narrow columns, bar start first, a third less CPU than
--     sorting sql/002's rows by symbol first.
-- A bar start lies in its session ([open, close)), so grouping by (start, symbol, close) makes the
-- groups of sql/002's (symbol, open, close, start); the aggregates are sql/002's, unchanged.
-- tests/integration/test_verify_bars.py compares the two functions' rows on simulated days.
create or replace function bars_from_ticks(timeframe interval, from_ts timestamptz, to_ts timestamptz)
returns table (symbol text, start timestamptz, "end" timestamptz, open numeric, high numeric, low numeric,
               close numeric, volume numeric, vwap numeric, trades bigint)
language sql stable as $$
    with excluding as (
        select coalesce(array_agg(code) filter (where not updates_ohlc), '{}') as from_ohlc,
               coalesce(array_agg(code) filter (where not updates_volume), '{}') as from_volume
        from trade_condition_rules
    ), eligible as (
        select date_bin(timeframe, t.ts, s.open) as start, t.symbol, s.close as day_close, t.ts_event_ns,
               t.ts_init_ns, t.trade_id, t.price, t.size,
               not (t.conditions && x.from_ohlc) as ohlc,
               not (t.conditions && x.from_volume) as vol
        from trading_sessions s
        join trade_ticks t on t.ts >= s.open and t.ts < s.close
        cross join excluding x
        where s.day between (from_ts at time zone 'UTC')::date - 1 and (to_ts at time zone 'UTC')::date + 1
          and s.close > from_ts and s.open < to_ts
          and t.ts >= from_ts and t.ts < to_ts
        offset 0
    )
    select symbol,
           start,
           least(start + timeframe, day_close) as "end",
           (array_agg(price order by ts_event_ns, ts_init_ns, trade_id) filter (where ohlc))[1] as open,
           max(price) filter (where ohlc) as high,
           min(price) filter (where ohlc) as low,
           (array_agg(price order by ts_event_ns desc, ts_init_ns desc, trade_id desc) filter (where ohlc))[1],
           coalesce(sum(size) filter (where vol), 0) as volume,
           sum(price * size) filter (where vol) / nullif(sum(size) filter (where vol), 0) as vwap,
           count(*) filter (where ohlc or vol) as trades
    from eligible
    group by start, symbol, day_close
    having bool_or(ohlc)
$$;

-- Plain PostgreSQL path: a function and plain views, computed when read (date_bin in place of time_bucket,
-- with the same origins). Instead of each TimescaleDB policy of 013_bars_from_1m.timescale.sql:
--   * continuous aggregates and their refresh policy: none; the function and the views read the 1-minute
--     bars as they are, so they are never stale. bars_from_1m(from_ts, to_ts) reads only the range's
--     1-minute bars (through the BRIN index on start); a view read whole aggregates every 1-minute bar;
--   * compression of indicator_snapshots: none; the rows stay as they are;
--   * retention of indicator_snapshots (365 days): `tradestream db prune` deletes the snapshots whose bar
--     started more than 365 days ago (PLAIN_RETENTION in tradestream/db.py), as it does for quote_ticks and
--     latency_metrics. Snapshots are derived data: the bars remain, and the compliance archive keeps the
--     recorded ones.

-- A coarse bar starting in [from_ts, to_ts) holds 1-minute bars starting in [from_ts, to_ts + 60 minutes) only;
-- those are read, every width is cut from them, and the buckets starting outside the range are left out.
create or replace function bars_from_1m(from_ts timestamptz, to_ts timestamptz)
returns table (symbol text, timeframe text, session text, start timestamptz, open numeric, high numeric,
               low numeric, close numeric, volume numeric, price_volume numeric, vwap numeric, trades numeric,
               minutes bigint)
language sql stable as $$
    select symbol, timeframe, session, start, open, high, low, close, volume, price_volume,
           coalesce(round(price_volume / nullif(volume, 0), 8), close) as vwap, trades, minutes
    from (
        select m.symbol, w.timeframe, m.session,
               date_bin(w.width, m.start, case when m.session = 'regular' then timestamptz '2000-01-03 00:30:00+00'
                                               else timestamptz '2000-01-03 00:00:00+00' end) as start,
               (array_agg(m.open order by m.start))[1] as open, max(m.high) as high, min(m.low) as low,
               (array_agg(m.close order by m.start desc))[1] as close, sum(m.volume) as volume,
               sum(m.vwap * m.volume) as price_volume, sum(m.trades) as trades, count(*) as minutes
        from bars m
        cross join (values ('5m', interval '5 minutes'), ('15m', interval '15 minutes'),
                           ('30m', interval '30 minutes'), ('60m', interval '60 minutes')) as w(timeframe, width)
        where m.timeframe = '1m' and m.start >= from_ts and m.start < to_ts + interval '60 minutes'
        group by 1, 2, 3, 4
    ) aggregated
    where start >= from_ts and start < to_ts
$$;

create or replace view bars_5m_from_1m as
    select symbol, session, start, open, high, low, close, volume, price_volume, trades, minutes
    from bars_from_1m('-infinity', 'infinity') where timeframe = '5m';
create or replace view bars_15m_from_1m as
    select symbol, session, start, open, high, low, close, volume, price_volume, trades, minutes
    from bars_from_1m('-infinity', 'infinity') where timeframe = '15m';
create or replace view bars_30m_from_1m as
    select symbol, session, start, open, high, low, close, volume, price_volume, trades, minutes
    from bars_from_1m('-infinity', 'infinity') where timeframe = '30m';
create or replace view bars_60m_from_1m as
    select symbol, session, start, open, high, low, close, volume, price_volume, trades, minutes
    from bars_from_1m('-infinity', 'infinity') where timeframe = '60m';

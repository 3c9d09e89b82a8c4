-- TimescaleDB path: continuous aggregates of the 1-minute bars (time_bucket from the origins of
-- 013_bars_from_1m.sql), each with a refresh policy, and compression and retention for indicator_snapshots.
-- Written to run in the migration's transaction and over a database switched from the plain variant
-- (`tradestream db switch-to-timescale`): the plain views and function go first; the aggregates are created
-- WITH NO DATA (creating one with data cannot run in a transaction) and filled by their policies, and read
-- in real time (materialized_only = false: the minutes not yet materialised are aggregated when read, so a
-- check never reads a stale bar).
drop view if exists bars_5m_from_1m;
drop view if exists bars_15m_from_1m;
drop view if exists bars_30m_from_1m;
drop view if exists bars_60m_from_1m;
drop function if exists bars_from_1m(timestamptz, timestamptz);

create materialized view bars_5m_from_1m with (timescaledb.continuous, timescaledb.materialized_only = false) as
    select symbol, session, time_bucket(interval '5 minutes', start, origin => timestamptz '2000-01-03 00:00:00+00') as start,
           first(open, start) as open, max(high) as high, min(low) as low, last(close, start) as close,
           sum(volume) as volume, sum(vwap * volume) as price_volume, sum(trades) as trades, count(*) as minutes
    from bars where timeframe = '1m'
    group by symbol, session, time_bucket(interval '5 minutes', start, origin => timestamptz '2000-01-03 00:00:00+00')
    with no data;

create materialized view bars_15m_from_1m with (timescaledb.continuous, timescaledb.materialized_only = false) as
    select symbol, session, time_bucket(interval '15 minutes', start, origin => timestamptz '2000-01-03 00:00:00+00') as start,
           first(open, start) as open, max(high) as high, min(low) as low, last(close, start) as close,
           sum(volume) as volume, sum(vwap * volume) as price_volume, sum(trades) as trades, count(*) as minutes
    from bars where timeframe = '1m'
    group by symbol, session, time_bucket(interval '15 minutes', start, origin => timestamptz '2000-01-03 00:00:00+00')
    with no data;

create materialized view bars_30m_from_1m with (timescaledb.continuous, timescaledb.materialized_only = false) as
    select symbol, session, time_bucket(interval '30 minutes', start, origin => timestamptz '2000-01-03 00:00:00+00') as start,
           first(open, start) as open, max(high) as high, min(low) as low, last(close, start) as close,
           sum(volume) as volume, sum(vwap * volume) as price_volume, sum(trades) as trades, count(*) as minutes
    from bars where timeframe = '1m'
    group by symbol, session, time_bucket(interval '30 minutes', start, origin => timestamptz '2000-01-03 00:00:00+00')
    with no data;

-- 60 minutes: a bucket's origin is a constant of the aggregate, so the regular session (from the half hour)
-- and the others (from the hour) are two aggregates, and bars_60m_from_1m the view of both.
create materialized view bars_60m_regular_from_1m with (timescaledb.continuous, timescaledb.materialized_only = false) as
    select symbol, session, time_bucket(interval '60 minutes', start, origin => timestamptz '2000-01-03 00:30:00+00') as start,
           first(open, start) as open, max(high) as high, min(low) as low, last(close, start) as close,
           sum(volume) as volume, sum(vwap * volume) as price_volume, sum(trades) as trades, count(*) as minutes
    from bars where timeframe = '1m' and session = 'regular'
    group by symbol, session, time_bucket(interval '60 minutes', start, origin => timestamptz '2000-01-03 00:30:00+00')
    with no data;

create materialized view bars_60m_extended_from_1m with (timescaledb.continuous, timescaledb.materialized_only = false) as
    select symbol, session, time_bucket(interval '60 minutes', start, origin => timestamptz '2000-01-03 00:00:00+00') as start,
           first(open, start) as open, max(high) as high, min(low) as low, last(close, start) as close,
           sum(volume) as volume, sum(vwap * volume) as price_volume, sum(trades) as trades, count(*) as minutes
    from bars where timeframe = '1m' and session <> 'regular'
    group by symbol, session, time_bucket(interval '60 minutes', start, origin => timestamptz '2000-01-03 00:00:00+00')
    with no data;

create view bars_60m_from_1m as
    select * from bars_60m_regular_from_1m
    union all
    select * from bars_60m_extended_from_1m;

-- Refreshed every few minutes over the last three days (a late or replayed day older than that is
-- aggregated in real time when read, or by `call refresh_continuous_aggregate(...)`). The window ends a
-- bucket before now: a bucket still filling is read in real time, not materialised half full.
select add_continuous_aggregate_policy('bars_5m_from_1m', start_offset => interval '3 days',
                                       end_offset => interval '5 minutes', schedule_interval => interval '5 minutes',
                                       if_not_exists => true);
select add_continuous_aggregate_policy('bars_15m_from_1m', start_offset => interval '3 days',
                                       end_offset => interval '15 minutes', schedule_interval => interval '15 minutes',
                                       if_not_exists => true);
select add_continuous_aggregate_policy('bars_30m_from_1m', start_offset => interval '3 days',
                                       end_offset => interval '30 minutes', schedule_interval => interval '30 minutes',
                                       if_not_exists => true);
select add_continuous_aggregate_policy('bars_60m_regular_from_1m', start_offset => interval '3 days',
                                       end_offset => interval '60 minutes', schedule_interval => interval '60 minutes',
                                       if_not_exists => true);
select add_continuous_aggregate_policy('bars_60m_extended_from_1m', start_offset => interval '3 days',
                                       end_offset => interval '60 minutes', schedule_interval => interval '60 minutes',
                                       if_not_exists => true);

-- What `tradestream verify aggregates` reads: the bars of every width starting in [from_ts, to_ts).
create or replace function bars_from_1m(from_ts timestamptz, to_ts timestamptz)
returns table (symbol text, timeframe text, session text, start timestamptz, open numeric, high numeric,
               low numeric, close numeric, volume numeric, price_volume numeric, vwap numeric, trades numeric,
               minutes bigint)
language sql stable as $$
    select symbol, timeframe, session, start, open, high, low, close, volume, price_volume,
           coalesce(round(price_volume / nullif(volume, 0), 8), close) as vwap, trades, minutes
    from (
        select '5m'::text as timeframe, * from bars_5m_from_1m where start >= from_ts and start < to_ts
        union all select '15m', * from bars_15m_from_1m where start >= from_ts and start < to_ts
        union all select '30m', * from bars_30m_from_1m where start >= from_ts and start < to_ts
        union all select '60m', * from bars_60m_from_1m where start >= from_ts and start < to_ts
    ) aggregated
$$;

-- indicator_snapshots: compressed after 30 days as the bars are (the charts read the recent ones), by
-- symbol and timeframe; dropped after 365 days (derived data: the bars remain, and the compliance archive
-- keeps the recorded snapshots).
alter table indicator_snapshots set (timescaledb.compress, timescaledb.compress_segmentby = 'symbol, timeframe',
                                     timescaledb.compress_orderby = 'start');
select add_compression_policy('indicator_snapshots', interval '30 days', if_not_exists => true);
select add_retention_policy('indicator_snapshots', interval '365 days', if_not_exists => true);

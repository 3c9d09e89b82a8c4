-- TimescaleDB path: hypertables on the time columns, compression and retention policies.
create extension if not exists timescaledb;
select create_hypertable('trade_ticks', by_range('ts', interval '1 day'), if_not_exists => true, migrate_data => true);
select create_hypertable('quote_ticks', by_range('ts', interval '1 day'), if_not_exists => true, migrate_data => true);
select create_hypertable('bars', by_range('start', interval '7 days'), if_not_exists => true, migrate_data => true);
select create_hypertable('indicator_snapshots', by_range('start', interval '7 days'), if_not_exists => true, migrate_data => true);
select create_hypertable('latency_metrics', by_range('window_end', interval '1 day'), if_not_exists => true, migrate_data => true);

alter table trade_ticks set (timescaledb.compress, timescaledb.compress_segmentby = 'symbol',
                             timescaledb.compress_orderby = 'ts, trade_id');
alter table quote_ticks set (timescaledb.compress, timescaledb.compress_segmentby = 'symbol');
alter table bars set (timescaledb.compress, timescaledb.compress_segmentby = 'symbol, timeframe');
select add_compression_policy('trade_ticks', interval '7 days', if_not_exists => true);
select add_compression_policy('quote_ticks', interval '2 days', if_not_exists => true);
select add_compression_policy('bars', interval '30 days', if_not_exists => true);
select add_retention_policy('quote_ticks', interval '90 days', if_not_exists => true);
select add_retention_policy('latency_metrics', interval '30 days', if_not_exists => true);

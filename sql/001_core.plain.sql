-- Plain PostgreSQL path (no TimescaleDB): plain tables with BRIN indexes on the time columns, which
-- stay small for append-mostly time series. Retention is applied by `tradestream db prune`.
create index if not exists trade_ticks_ts_brin on trade_ticks using brin (ts);
create index if not exists quote_ticks_ts_brin on quote_ticks using brin (ts);
create index if not exists bars_start_brin on bars using brin (start);
create index if not exists latency_metrics_window_brin on latency_metrics using brin (window_end);

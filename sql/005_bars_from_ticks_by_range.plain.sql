-- Plain PostgreSQL path: a B-tree on trade_ticks.ts, so bars_from_ticks() reads a session's ticks as a
-- range on time. The primary key leads with the symbol, so without it a time range is a scan of the
-- whole key (sql/002's plans); the BRIN index of 001 serves it only while rows lie in time order on
-- disk, which a replay or a back-fill of older days undoes. TimescaleDB's hypertable has this index
-- already (create_hypertable's default index on the time column). Built inside the migration's
-- transaction, so writes to trade_ticks wait for it (about a second per million ticks).
create index if not exists trade_ticks_ts on trade_ticks (ts);

-- A multi-record batch (TradeTickBatch) can hold several rejected prints: each is its own dead
-- letter, told apart by its index in the batch (-1 when a whole record is rejected).
alter table dead_letters add column if not exists source_index integer not null default -1;
alter table dead_letters drop constraint if exists dead_letters_pkey;
alter table dead_letters add primary key (source_topic, source_partition, source_offset, source_index, stage);

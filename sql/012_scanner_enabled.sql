-- A scanner (strategy) may be disabled from the dashboard without deleting it: `tradestream strategy run` refuses
-- to start a disabled one. Every scanner stored before this migration stays enabled.
alter table scanners add column if not exists enabled boolean not null default true;

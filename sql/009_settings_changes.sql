-- Versions of the universal settings (topic settings, SettingsChanged): each version's settings, the instant it
-- takes effect, its reason and operator, kept for the audit; natural key version. The settings in force at an
-- instant T are the row with the greatest ts_event_ns <= T.
create table if not exists settings_changes (
    version      bigint primary key check (version >= 1),
    ts_event_ns  bigint not null,
    ts_init_ns   bigint not null,
    reason       text   not null,
    operator     text   not null default '',
    settings     jsonb  not null
);

create index if not exists settings_changes_effective on settings_changes (ts_event_ns);

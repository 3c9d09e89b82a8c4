-- An operator may trip an account's kill switch by hand (AccountChanged kind KILL_SWITCH_TRIPPED): the
-- account_changes table keeps those too.
alter table account_changes drop constraint if exists account_changes_kind_check;
alter table account_changes add constraint account_changes_kind_check
    check (kind in ('SETTINGS_CHANGED', 'KILL_SWITCH_TRIPPED', 'KILL_SWITCH_RESET'));

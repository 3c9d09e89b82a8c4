-- An operator may move a running trade's profit target by hand (TradeActionRequested MOVE_TARGET): the trade's
-- version that records it is a TARGET_MOVED change.
alter table trades drop constraint if exists trades_change_check;
alter table trades add constraint trades_change_check
    check (change in ('SUBMITTED', 'OPENED', 'ADDED', 'REDUCED', 'STOP_MOVED', 'TARGET_MOVED', 'CLOSED'));

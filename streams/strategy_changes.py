"""The strategy runner's operators' changes (`StrategyRunner` mixes it in): each read from its topic into the
runner's event-time merge, then applied at its instant (`_take_change`, `_apply_*`).

Manual trade actions: with an account, the runner also reads the trades.actions topic from the start time (an
operator's close, stop, target or quantity of a running trade, `TradeActionRequested`) and gives each to the desk
at its event time in order with the prints (`TradingSession.on_trade_action`): its decision, exit order and trade
change are published as a strategy's are, and a replay decides them again.

Settings: every run reads the settings topic from its beginning; a new version of the universal settings
(SettingsChanged) enters the event-time merge at the instant it was made (`ts_init`) and amends the calendar
the bars, strategies and desk share for the days it governs (`processors.settings.CalendarInForce`), so a
replay builds each day's sessions with the hours, closed dates and half-days the live run had.

Strategy changes: every run also reads the strategies topic from its beginning; an operator's change of one of the
runner's strategies (StrategyChanged: created, replaced, enabled, disabled, deleted, through the API) enters the
event-time merge at the instant it was made and the strategy follows it from there
(`processors.strategies.in_force.StrategyInForce` over a `processors.strategies.history.StrategyHistory` that
starts from the configurations given): disabled or deleted, it makes no decision from the change on (its open
trades stay with the desk's trade manager: stops, targets and time exits still act); enabled, it decides again from
the first instant after the change; a created or replaced configuration starts warmed on the prints this run
evaluated so far (`RecentPrints`), as a start would warm it. A change the history refuses is dead-lettered with the
reason; another strategy's change is not this runner's. The desk's trading settings (risk:, trade:, charges) are
those of the configurations given at start: a replacement changes what the strategy decides, and its trading
settings from the runner's next start; a replacement moving the strategy to another account (or out of this one)
stops it here. A replay reads the same changes, so it decides with the configuration in force at each instant.
"""

from __future__ import annotations

import logging

from confluent_kafka import KafkaError

from processors.model import AccountChanged, SettingsChanged, StrategyChanged, TradeActionRequested
from schemas.errors import DecodeError, TradestreamError
from streams.merge import PartitionMerge

log = logging.getLogger("streams.strategy_runner")

ACCOUNT_PARTITIONS = 200_000  # merge ids of the accounts topic's partitions (operators' changes) start here
SETTINGS_PARTITIONS = 300_000  # ... and those of the settings topic here
ACTION_PARTITIONS = 400_000  # ... and those of the trades.actions topic (operators' manual trade actions) here
STRATEGY_PARTITIONS = 500_000  # ... and those of the strategies topic (operators' strategy changes) here


class OperatorChangesMixin:
    """`_take_change` and the `_apply_*` of `StrategyRunner` (the attributes they read are the runner's)."""

    def _take_change(self, message, merge: PartitionMerge) -> None:  # noqa: ANN001
        """An operator's change: of this runner's account, or of one of its strategies, into the merge at its event
        time; of the universal settings at the instant it was made (it governs days ahead, `CalendarInForce`)."""
        settings = message.topic() == self.settings_topic
        actions = message.topic() == self.actions_topic
        strategies = message.topic() == self.strategies_topic
        merge_id = (SETTINGS_PARTITIONS if settings else ACTION_PARTITIONS if actions else
                    STRATEGY_PARTITIONS if strategies else ACCOUNT_PARTITIONS) + message.partition()
        error = message.error()
        if error is not None:
            if error.code() == KafkaError._PARTITION_EOF:
                merge.end_of_partition(merge_id)
            return
        try:
            change = self.codec.decode(message.value(), "SettingsChanged" if settings else
                                       "TradeActionRequested" if actions else
                                       "StrategyChanged" if strategies else "AccountChanged")
        except DecodeError as exc:
            self._dead_letter(message, str(exc), type(exc).__name__)
            return
        if settings:
            merge.push(merge_id, message.offset(), change.ts_init, (change, message))
        elif strategies:
            if change.strategy in self.strategies:
                merge.push(merge_id, message.offset(), change.ts_event, (change, message))
        elif self.account is not None and change.account_id == self.account.account_id:
            merge.push(merge_id, message.offset(), change.ts_event, (change, message))

    def _apply_settings_change(self, change: SettingsChanged, message) -> None:  # noqa: ANN001
        """A new version of the universal settings applied to the calendar; one that cannot follow the versions
        so far is dead-lettered with the reason (the settings in force stay as they were)."""
        try:
            self.session.on_settings_change(change)
        except TradestreamError as exc:
            log.warning("strategy=%s settings version %d refused: %s", self.name, change.version, exc)
            self._dead_letter(message, str(exc), type(exc).__name__)
            return
        self.report.settings_changes += 1
        log.info("strategy=%s settings version %d in force from %d: %s", self.name, change.version, change.ts_event,
                 change.reason)

    def _apply_strategy_change(self, change: StrategyChanged, message) -> None:  # noqa: ANN001
        """An operator's change of one of the runner's strategies, followed from its instant; one the strategy's
        history refuses is dead-lettered with the reason (the version in force stays)."""
        try:
            version = self.history.apply(change)
        except TradestreamError as exc:
            log.warning("strategy=%s change %s at %d refused: %s", change.strategy, change.kind, change.ts_event,
                        str(exc).replace("\n", "; "))
            self._dead_letter(message, str(exc), type(exc).__name__)
            return
        self.report.strategy_changes += 1
        outcome = self.strategies[change.strategy].on_change(version)
        log.info("strategy=%s %s by %s at %d: %s", change.strategy, change.kind, change.operator, change.ts_event,
                 outcome)

    def _apply_account_change(self, change: AccountChanged, message) -> None:  # noqa: ANN001
        """The change applied to the desk at its instant; one it cannot apply is dead-lettered with the reason.
        A kill-switch reset older than the start of the rebuild may reset a switch this run never latched (a
        loss before the start): then it is counted, not dead-lettered; one tripped by hand before is reset."""
        desk = self.session.desk
        if change.kind == "KILL_SWITCH_RESET" and change.ts_event < self.start_ns and (
                desk is None or change.account_id not in desk.config.accounts
                or not desk.book(change.account_id).kill_switch.tripped):
            self.report.resets_before_start += 1
            return
        try:
            step = self.session.on_account_change(change, self.wall_ns() if self.publisher is not None
                                                  else change.ts_event)
        except TradestreamError as exc:
            log.warning("account=%s change %s at %d refused: %s", change.account_id, change.kind, change.ts_event, exc)
            self._dead_letter(message, str(exc), type(exc).__name__)
            return
        self.report.account_changes += 1
        log.info("account=%s %s at %d: %s", change.account_id, change.kind, change.ts_event, change.reason)
        if step.trading:
            self._emit_trading(step.trading)

    def _apply_trade_action(self, action: TradeActionRequested, message) -> None:  # noqa: ANN001
        """An operator's manual action on a trade, decided by the desk at its instant (a refusal is a decision
        too); one the desk cannot take at all (an action of another kind) is dead-lettered with the reason."""
        try:
            step = self.session.on_trade_action(action, self.wall_ns() if self.publisher is not None
                                                else action.ts_event)
        except TradestreamError as exc:
            log.warning("account=%s trade action %s refused: %s", action.account_id, action.action_id, exc)
            self._dead_letter(message, str(exc), type(exc).__name__)
            return
        self.report.trade_actions += 1
        log.info("account=%s trade %s %s by %s at %d", action.account_id, action.trade_id, action.action,
                 action.operator, action.ts_event)
        if step.trading:
            self._emit_trading(step.trading)

"""Runs one strategy on the trades topic: live (`tradestream strategy run`) and for audits
(`tradestream strategy replay`), with the same `StrategyPipeline` as the backtest.

Why not a Faust agent: a multi-symbol strategy needs every partition of the trades topic merged in
one event-time order, deterministically (`streams.merge.PartitionMerge`); a Faust agent sees one
partition at a time. The runner is a plain confluent-kafka consumer that assigns itself every
partition from the offsets of its start time (`offsets_for_times`) and never commits: its state
is rebuilt from the trades on every start, which is what makes a restart and an audit replay
reproduce the same decisions.

Delivery: signals, suppressed signals and order intents are published keyed by strategy, with ids
derived from the strategy, symbol, side and evaluation instant (`processors.strategies.engine`), so
the sink's upserts store each once. On a restart the runner first reads back, per output topic, the
newest decision it already published there (`streams.strategy_resume`) and publishes only later ones, so Kafka
does not carry a second copy either. A replay publishes nothing: it returns the decisions for comparison.

Trading: given an `Account`, the runner runs every strategy of that account (each with a `risk:` section
naming it) and the account's trading desk in one `processors.trading.TradingSession`, the path the backtest
takes: each print goes to the strategies, their entry intents and exit signals to the desk, then the print
to the desk (fills of the paper broker, the trade manager's sweeps). Risk decisions, order events, fills and
trade updates are published keyed by the account, on their topics, with the same resume rule (by event
time and natural id: intent id, order id and sequence, exec id, trade id and version). The desk's state is
rebuilt from the prints like the strategies', so `--from` must reach back to before the oldest trade still
open (the default, the oldest retained print, does).

Live accounts: an account whose broker is IBKR has its orders sent by `streams.live_broker.LiveBroker` once
the runner has caught up, and its broker events taken back from the broker live and from the record while
rebuilding after a restart or replaying (`streams.live_account`): a restart sends no order twice, a replay
opens no connection to any broker.

Operators' changes: the account's changes (AccountChanged), its manual trade actions (TradeActionRequested), the
universal settings (SettingsChanged) and the strategies' changes (StrategyChanged) enter the same event-time
merge and are applied at their instants (`streams.strategy_changes`), so a replay applies them as the live run did.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaError

from connectors.kafka.codec import AvroCodec
from connectors.kafka.consumer import consumer_config
from connectors.kafka.deadletter import dead_letter
from connectors.kafka.publisher import EventPublisher
from connectors.kafka.settings import KafkaSettings
from processors.calendar import build_nyse_calendar
from processors.event_time import EventTimeBounds
from processors.model import SettingsChanged, StrategyChanged, TradeActionRequested, TradeTickBatch
from processors.risk import Account
from processors.scanner import ScannerConfig, SignalLimiter, in_schedule
from processors.settings import CalendarInForce
from processors.strategies.history import StrategyHistory
from processors.strategies.in_force import WARMUP_PRINTS, RecentPrints, StrategyInForce
from processors.strategies.pipeline import Decisions, StrategyPipeline
from processors.trading.desk import TradingDesk
from processors.trading.orders import BrokerEvent
from processors.trading.session import TradingEvent, TradingSession
from processors.trading.setup import desk_config
from schemas.errors import DecodeError
from streams.live_account import RECORDS, LiveAccount
from streams.live_broker import LiveBroker
from streams.merge import PartitionMerge
from streams.strategy_changes import (ACCOUNT_PARTITIONS, ACTION_PARTITIONS, SETTINGS_PARTITIONS, STRATEGY_PARTITIONS,
                                     OperatorChangesMixin)
from streams.strategy_inputs import RunnerInputs, assign_inputs
from streams.strategy_resume import OUTPUT_TOPICS, TRADING_TOPICS, decision_id

log = logging.getLogger(__name__)

MS = 1_000_000
BATCH_PARTITIONS = 100_000  # merge ids of the batches topic's partitions start here (strategy_changes.py: the others)
BATCH_INDEX = 1_000_000     # a batch's prints are ordered by offset * BATCH_INDEX + index
REPORT_EVERY_S = 30         # seconds between two progress lines in the log


@dataclass(slots=True)
class RunReport:
    trades: int = 0
    decisions: int = 0
    published: int = 0
    skipped_already_published: int = 0
    dead_letters: int = 0
    late: int = 0
    account_changes: int = 0
    trade_actions: int = 0
    settings_changes: int = 0
    strategy_changes: int = 0
    orders_not_sent: int = 0  # a live account's orders in a replay (never sent)
    refused_prints: int = 0  # impossible prints the desk did not take (the bars stage dead-letters them)
    resets_before_start: int = 0  # kill-switch resets older than the rebuild: the switch they reset is not rebuilt


class StrategyRunner(OperatorChangesMixin):
    """One strategy, or (with `account`) every strategy of an account and its trading desk, on the prints."""

    def __init__(self, kafka: KafkaSettings, codec: AvroCodec, config: ScannerConfig | list[ScannerConfig],
                 start_ns: int, end_ns: int | None = None, publisher: EventPublisher | None = None,
                 lateness_ms: int = 0, resume_after: dict | None = None, wall_ns: Callable[[], int] = time.time_ns,
                 reorder_ms: int = 100, event_time: EventTimeBounds = EventTimeBounds(),
                 account: Account | None = None, live_broker: LiveBroker | None = None,
                 inputs: RunnerInputs | None = None, warmup_prints: int = WARMUP_PRINTS) -> None:
        configs = [config] if isinstance(config, ScannerConfig) else sorted(config, key=lambda c: c.name)
        self.kafka = kafka
        self.codec = codec
        self.configs = configs
        self.config = configs[0]
        self.account = account
        self.name = account.account_id if account is not None else self.config.name
        """The runner's unit: its account, or its one strategy; it names its consumer group and dead letters."""
        self.start_ns = start_ns
        self.end_ns = end_ns
        self.publisher = publisher
        self.resume_after = _keyed(resume_after or {}, self.config.name)
        self.reorder_ns = reorder_ms * MS
        self.event_time = event_time  # covers the interleaving of batched symbols within a partition
        self.wall_ns = wall_ns
        # The calendar covers the replayed range, or (live, from the oldest retained trade) the last year.
        today = dt.datetime.fromtimestamp(wall_ns() / 1e9, dt.timezone.utc).date()
        first = dt.datetime.fromtimestamp(start_ns / 1e9, dt.timezone.utc).date() if start_ns else today - dt.timedelta(
            days=366)
        last = dt.datetime.fromtimestamp(end_ns / 1e9, dt.timezone.utc).date() if end_ns else today
        in_force = CalendarInForce(build_nyse_calendar(first - dt.timedelta(days=10), last + dt.timedelta(days=30)))
        calendar = in_force.calendar

        def build(c: ScannerConfig, gate: Callable[[int], bool]) -> StrategyPipeline:
            return StrategyPipeline(c, calendar, SignalLimiter.from_config(c),
                                    lambda ts: gate(ts) and in_schedule(c, ts), lateness_ns=lateness_ms * MS)

        def accepts(c: ScannerConfig) -> bool:  # an account's runner runs the strategies trading in it
            return account is None or (c.risk is not None and c.risk.account == account.account_id)

        self.history = StrategyHistory({c.name: c for c in configs})
        """The runner's strategies' versions: the configurations given, then the strategies topic's changes."""
        self.recent = RecentPrints(warmup_prints)
        pipelines = {c.name: StrategyInForce(c.name, self.history, build, self.recent, accepts) for c in configs}
        self.strategies = pipelines
        self.pipeline = pipelines[self.config.name]
        desk = TradingDesk(desk_config(configs, account, calendar)) if account is not None else None
        self.session = TradingSession(pipelines, desk, settings=in_force)
        self.trades_topic = kafka.topic("ticks.trades")
        self.batches_topic = kafka.topic("ticks.batches")
        self.topics = {name: kafka.topic(name) for name in (*OUTPUT_TOPICS, *TRADING_TOPICS.values())}
        self.deadletter_topic = kafka.topic("deadletter")
        self.accounts_topic = kafka.topic("accounts")
        self.actions_topic = kafka.topic("trades.actions")
        self.live_account = None if account is None or account.broker == "paper" else LiveAccount(
            account, {name: kafka.topic(name) for name in RECORDS}, self.resume_after, live_broker,
            replay=publisher is None)
        """A live broker's account: its broker events from the broker live, from the record rebuilding or replaying
        (streams/live_account.py)."""
        self.settings_topic = kafka.topic("settings")
        self.strategies_topic = kafka.topic("strategies")
        self.inputs = inputs
        """A replay's record read elsewhere than on the topics (the archive: `streams.audit_archive`); None: the
        topics, through a consumer of its own."""
        self.report = RunReport()
        self.decisions = Decisions()
        self.trading: list[TradingEvent] = []
        """A replay's trading events (nothing is published in a replay; live, they are not kept)."""

    def _consumer(self) -> tuple[Consumer, list[int]]:
        """Every partition of the trades topic and of the batches topic, from the start time, and with an account
        the accounts topic from its beginning (the settings in force at the start time are the last changes
        before it), and the settings topic from its beginning. Merge ids: the partition number for trades,
        BATCH_PARTITIONS + the number for batches, ACCOUNT_PARTITIONS + the number for accounts,
        SETTINGS_PARTITIONS + the number for settings, STRATEGY_PARTITIONS + the number for the strategies topic
        (read from its beginning too: the configuration in force at the start time is its last change before
        it). With `inputs`, the same partitions from the same records,
        read through its stand-in for the consumer."""
        from_start = [(self.trades_topic, 0), (self.batches_topic, BATCH_PARTITIONS)]
        if self.account is not None:    # an operator's manual trade actions, from the start time as the prints
            from_start.append((self.actions_topic, ACTION_PARTITIONS))
        if self.live_account is not None:
            from_start += self.live_account.bases()
        control = [(self.accounts_topic, ACCOUNT_PARTITIONS)] if self.account is not None else []
        from_beginning = [*control, (self.settings_topic, SETTINGS_PARTITIONS),
                          (self.strategies_topic, STRATEGY_PARTITIONS)]
        if self.inputs is not None:
            return self.inputs(from_start, from_beginning, self.start_ns)
        consumer = Consumer(consumer_config(self.kafka, f"tradestream-strategy-{self.name}", **{
            "enable.partition.eof": True, "auto.offset.reset": "earliest"}))
        return consumer, assign_inputs(consumer, from_start, from_beginning, self.start_ns)

    def _dead_letter(self, message, reason: str, error_class: str, index: int = -1) -> None:  # noqa: ANN001
        self.report.dead_letters += 1
        letter, headers = dead_letter(stage=f"strategy:{self.name}", topic=message.topic(),
                                      partition=message.partition(), offset=message.offset(), key=message.key(),
                                      value=message.value(), error_class=error_class, reason=reason,
                                      source_index=index, ts_init=self.wall_ns())
        if self.publisher is not None:
            self.publisher.publish(self.deadletter_topic, message.key(), letter, headers)

    def _plausible(self, message, tick, record_ns: int | None, index: int = -1) -> bool:  # noqa: ANN001
        """False (and the print dead-lettered) when its event time is too far from its arrival."""
        reason = self.event_time.refusal(tick.ts_event, tick.ts_init, record_ns)
        if reason is None:
            return True
        self._dead_letter(message, reason if index < 0 else f"print {index}: {reason}", "ImplausibleEventTime", index)
        return False

    def _emit(self, decisions: Decisions) -> None:
        self.decisions.extend(decisions)
        self.report.decisions += len(decisions)
        if self.publisher is None:
            return
        for name, events in (("signals", decisions.signals), ("signals.suppressed", decisions.suppressed),
                             ("orders.intents", decisions.intents)):
            for event in events:
                if self._publish(name, event.strategy, event) and name == "signals":
                    log.info("strategy=%s signal %s %s %s at %s: %s", event.strategy, event.action, event.side,
                             event.symbol, event.price, event.reason)

    def _emit_trading(self, events: list[TradingEvent]) -> None:
        if self.publisher is None:
            self.trading += events
            return
        for event in events:
            name = TRADING_TOPICS[type(event).__name__]
            if self._publish(name, event.account_id, event) and name == "trades":
                log.info("account=%s trade %s %s %s %s: %s/%s at %s, net %s", event.account_id, event.trade_id,
                         event.change, event.direction, event.symbol, event.exit_qty, event.entry_qty,
                         event.exit_price or event.entry_price, event.net_pnl)

    def _publish(self, name: str, key: str, event: object) -> bool:
        """Publish `event` keyed `key` unless it is at or before the topic's resume point; True if published."""
        point = self.resume_after.get((name, key))
        if point is not None and (event.ts_event < point[0] or (  # type: ignore[attr-defined]
                event.ts_event == point[0] and decision_id(event) in point[1])):  # type: ignore[attr-defined]
            self.report.skipped_already_published += 1
            return False
        assert self.publisher is not None
        self.publisher.publish(self.topics[name], key, event)
        self.report.published += 1
        return True

    def run(self, stop: threading.Event, until_caught_up: bool = False) -> RunReport:
        """Consume until `stop` (live), or until every partition reached its end or `end_ns` (replay)."""
        consumer, partitions = self._consumer()
        merge = PartitionMerge(partitions, self.reorder_ns)
        done = False
        next_report = time.monotonic() + REPORT_EVERY_S
        live = self.live_account.live if self.live_account is not None else None
        if live is not None:
            live.start()
        try:
            while not stop.is_set() and not done:
                for message in consumer.consume(2_000, 0.2):
                    self._take(message, merge)
                reached_end = self._evaluate_ready(merge)
                if self.live_account is not None:
                    self._emit_trading(self.live_account.route(self.session, merge, self.wall_ns()))
                caught_up = until_caught_up and all(merge.at_end.values()) and merge.pending() == 0
                done = reached_end or caught_up
                if self.publisher is not None:
                    self.publisher.producer.poll(0)
                if time.monotonic() >= next_report:
                    next_report = time.monotonic() + REPORT_EVERY_S
                    self._log_progress(merge)
        finally:
            consumer.close()
            if live is not None:
                live.close()
            if self.publisher is not None:
                self.publisher.flush()
        self.report.late = merge.late
        if self.live_account is not None:
            self.report.orders_not_sent = self.live_account.not_sent
        return self.report

    def _take(self, message, merge: PartitionMerge) -> None:  # noqa: ANN001
        """One consumed record: its plausible prints into the merge; an end of partition marked there;
        a record that does not decode, and an implausible print, dead-lettered."""
        if message.topic() in (self.accounts_topic, self.settings_topic, self.actions_topic, self.strategies_topic):
            self._take_change(message, merge)
            return
        if self.live_account is not None and message.topic() in self.live_account.topics:
            self.live_account.take(message, self.codec, merge, self._dead_letter)
            return
        batches = message.topic() == self.batches_topic
        merge_id = message.partition() + (BATCH_PARTITIONS if batches else 0)
        error = message.error()
        if error is not None:
            if error.code() == KafkaError._PARTITION_EOF:
                merge.end_of_partition(merge_id)
            else:
                log.error("strategy=%s consumer error: %s", self.name, error.str())
            return
        try:
            event = self.codec.decode(message.value(), "TradeTickBatch" if batches else "TradeTick")
        except DecodeError as exc:
            self._dead_letter(message, str(exc), type(exc).__name__)
            return
        record_ns = message.timestamp()[1] * MS if message.timestamp()[1] > 0 else None
        if batches:
            self._take_batch(message, event, merge_id, record_ns, merge)
        elif self._plausible(message, event, record_ns):
            merge.push(merge_id, message.offset(), event.ts_event, event)

    def _take_batch(self, message, batch: TradeTickBatch, merge_id: int, record_ns: int | None,  # noqa: ANN001
                    merge: PartitionMerge) -> None:
        """A batch's plausible prints into the merge, ordered after one another within its offset."""
        try:
            trades = batch.trades()
        except ValueError as exc:
            self._dead_letter(message, str(exc), "MalformedBatch")
            return
        for index, tick in enumerate(trades):
            if self._plausible(message, tick, record_ns, index):
                merge.push(merge_id, message.offset() * BATCH_INDEX + index, tick.ts_event, tick)

    def _evaluate_ready(self, merge: PartitionMerge) -> bool:
        """The strategy on every trade the merge releases, in event-time order; True once a trade at or
        after `end_ns` is reached (that trade and the rest released with it are not evaluated)."""
        for tick in merge.pop_ready():
            if isinstance(tick, tuple):  # an operator's change or a recorded broker event, and its record
                if isinstance(tick[0], BrokerEvent):
                    assert self.live_account is not None
                    ts_init = self.wall_ns() if self.publisher is not None else tick[0].event.ts_event
                    self._emit_trading(self.live_account.apply_recorded(self.session, tick[0], ts_init))
                elif isinstance(tick[0], SettingsChanged):
                    self._apply_settings_change(*tick)
                elif isinstance(tick[0], StrategyChanged):
                    self._apply_strategy_change(*tick)
                elif self.end_ns is not None and tick[0].ts_event >= self.end_ns:
                    pass
                elif isinstance(tick[0], TradeActionRequested):
                    self._apply_trade_action(*tick)
                else:
                    self._apply_account_change(*tick)
                continue
            if self.end_ns is not None and tick.ts_event >= self.end_ns:
                return True
            self.report.trades += 1
            step = self.session.on_trade(tick, self.wall_ns() if self.publisher is not None else tick.ts_event)
            self.recent.add(tick)
            if step.refused is not None:
                self.report.refused_prints += 1
                log.warning("account=%s the desk refused a print (dead-lettered by the bars stage): %s", self.name,
                            step.refused)
            self._emit(step.decisions)
            if step.trading:
                self._emit_trading(step.trading)
        return False

    def _log_progress(self, merge: PartitionMerge) -> None:
        as_of = merge.released_ns and dt.datetime.fromtimestamp(merge.released_ns / 1e9, dt.timezone.utc)
        log.info("strategy=%s trades=%d decisions=%d published=%d event time=%s pending=%d",
                 self.name, self.report.trades, self.report.decisions, self.report.published,
                 as_of.isoformat() if as_of else "-", merge.pending())


def _keyed(points: dict, strategy: str) -> dict[tuple[str, str], tuple[int, frozenset[str]]]:
    """Resume points by (topic, key); points by topic alone (one strategy's, as `resume_after_ns` gives them)
    are that strategy's."""
    return {(key if isinstance(key, tuple) else (key, strategy)): point for key, point in points.items()}

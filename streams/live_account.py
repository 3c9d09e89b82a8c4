"""What the strategy runner adds for an account whose broker is live (IBKR): the broker's events come from
the broker while the runner is live, and from the record while it rebuilds or replays.

Why: the desk's state (trades, books) is rebuilt from the prints on every start, like the strategies'. For a
paper account the paper broker fills again exactly as it did; a live broker does not report again what it
reported before the restart. So the runner also reads the account's own published `orders.events` and
`fills` (those a live broker's reports made: accepted, rejected and cancelled orders, executions) and gives
them to the desk at their event times, in the same merge as the prints:

- rebuilding after a restart: the records up to the resume point of each topic (what the previous run
  published); later records are this run's own outputs and are not taken back;
- a replay (nothing published, no broker): every record in the range, so an audit reproduces the live run's
  trades without any connection to the broker.

Live, once the merge has reached the end of every partition (caught up), the desk's orders are sent to the
broker (`streams.live_broker.LiveBroker`), except those the record shows the broker already had (a restart
never sends one twice; the broker's own journal refuses a client order id it sent before), and the broker's
reports go to the desk, each at its own time but never before the last event time the desk took.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from confluent_kafka import KafkaError

from connectors.broker import PositionsReported
from connectors.desk_broker import recorded_broker_event
from connectors.kafka.codec import AvroCodec
from processors.risk import Account
from processors.trading.orders import BrokerEvent, DeskOrder
from processors.trading.session import TradingEvent, TradingSession
from schemas.errors import DecodeError, TradestreamError
from streams.live_broker import LiveBroker
from streams.merge import PartitionMerge
from streams.strategy_resume import decision_id

log = logging.getLogger(__name__)

RECORDS = {"orders.events": ("OrderStatusChanged", 400_000), "fills": ("FillExecuted", 500_000)}
"""The topics a live account's broker events are read back from: record type and merge-id base."""


class LiveAccount:
    def __init__(self, account: Account, topics: dict[str, str], resume_after: dict, live: LiveBroker | None,
                 replay: bool) -> None:
        self.account = account
        self.topics = {topics[name]: (name, *RECORDS[name]) for name in RECORDS}  # full name -> (name, type, base)
        self.resume_after = resume_after
        self.live = live
        self.replay = replay
        self.caught_up = False
        self.noted: set[str] = set()       # client order ids the record shows at the broker
        self.not_sent = 0                  # orders of a replay (never sent)
        self.position_differences: list[str] = []   # the broker's positions that are not the desk's
        self.last_event_ns = 0

    def bases(self) -> list[tuple[str, int]]:
        """(topic, merge-id base) of the topics to read from the start time, beside the prints."""
        return [(topic, base) for topic, (_, _, base) in self.topics.items()]

    def take(self, message: Any, codec: AvroCodec, merge: PartitionMerge, dead_letter: Any) -> None:
        """A record of the account's orders.events or fills topic into the merge, if the desk should take it."""
        name, record_type, base = self.topics[message.topic()]
        merge_id = base + message.partition()
        error = message.error()
        if error is not None:
            if error.code() == KafkaError._PARTITION_EOF:
                merge.end_of_partition(merge_id)
            return
        try:
            record = codec.decode(message.value(), record_type)
        except DecodeError as exc:
            dead_letter(message, str(exc), type(exc).__name__)
            return
        if record.account_id != self.account.account_id or record.broker != self.account.broker:
            return
        if not self.replay and not self._before_resume(name, record):
            return                          # this run's own output, read back
        event = recorded_broker_event(record)
        if event is not None:
            merge.push(merge_id, message.offset(), record.ts_event, (event, message))

    def _before_resume(self, name: str, record: Any) -> bool:
        point = self.resume_after.get((name, self.account.account_id))
        return point is not None and (record.ts_event < point[0] or (
            record.ts_event == point[0] and decision_id(record) in point[1]))

    def apply_recorded(self, session: TradingSession, event: BrokerEvent, ts_init: int) -> list[TradingEvent]:
        """A recorded broker event to the desk (a rebuild's or a replay's); the bridge continues from it."""
        self.noted.add(event.event.client_order_id)
        if self.live is not None:
            self.live.bridge.note(event)
        self.last_event_ns = max(self.last_event_ns, event.event.ts_event)
        return self._to_desk(session, [event], ts_init)

    def route(self, session: TradingSession, merge: PartitionMerge, wall_ns: int) -> list[TradingEvent]:
        """After a batch of the merge: the desk's new orders to the broker and the broker's reports to the desk
        (live, once caught up); a replay's orders are counted, never sent."""
        if merge.released_ns is not None:
            self.last_event_ns = max(self.last_event_ns, merge.released_ns)
        if self.live is None:
            self.not_sent += len(session.desk.take_outbox()) if session.desk is not None else 0
            return []
        if not self.caught_up:
            self.caught_up = all(merge.at_end.values()) and merge.pending() == 0
            if not self.caught_up:
                return []
            log.info("account=%s caught up: orders go to %s from here", self.account.account_id, self.live.name)
        assert session.desk is not None
        orders = [o for o in session.desk.take_outbox() if o.client_order_id not in self.noted]
        margin_of = self._reg_t_margin if self.account.what_if_margin else None
        events = self.live.send(orders, self.last_event_ns, margin_of) + self.live.events(self.last_event_ns)
        if events:
            self.last_event_ns = max(self.last_event_ns, *(e.event.ts_event for e in events))
        out = self._to_desk(session, events, wall_ns)
        if self.live.positions is not None:
            self._compare_positions(session, self.live.positions)
            self.live.positions = None
        return out

    def _reg_t_margin(self, order: DeskOrder) -> Decimal:
        """An order's initial margin as the risk stage figures it: its value at the signal price (an exit: its
        fill reference is not known, so the last decision's price) times the account's initial margin %."""
        price = order.signal_price or order.limit_price or order.stop_price or Decimal(0)
        value = price * order.quantity * order.multiplier
        return (value * self.account.margin.initial_pct / 100).quantize(Decimal("0.01"))

    def _compare_positions(self, session: TradingSession, reported: PositionsReported) -> None:
        """The broker's positions (at a reconciliation) against the desk's book: each difference is reported
        (a position opened or closed by hand in TWS, or a fill the desk never heard of); none is adopted."""
        assert session.desk is not None
        ours = {p.symbol: p.quantity for p in session.desk.book(self.account.account_id).positions()}
        theirs = {p.symbol: p.quantity for p in reported.positions}
        for symbol in sorted(ours.keys() | theirs.keys()):
            if ours.get(symbol, 0) != theirs.get(symbol, 0):
                difference = (f"{symbol}: {self.account.broker} holds {theirs.get(symbol, 0)}, the desk "
                              f"{ours.get(symbol, 0)}")
                self.position_differences.append(difference)
                log.warning("account=%s position differs from the broker's: %s (not adopted: close it in TWS or "
                            "let it be)", self.account.account_id, difference)

    def _to_desk(self, session: TradingSession, events: list[BrokerEvent], ts_init: int) -> list[TradingEvent]:
        out: list[TradingEvent] = []
        for event in events:
            try:
                out += session.on_broker_events([event], ts_init).trading
            except TradestreamError as exc:
                log.warning("account=%s broker event refused by the desk: %s", self.account.account_id, exc)
        return out

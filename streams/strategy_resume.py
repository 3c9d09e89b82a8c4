"""Where a restarted runner resumes publishing: per output topic and key, the newest event time it already
published and the natural ids of the events at that instant (`streams.strategy_runner`'s delivery rule).

    points = resume_points(kafka, codec, ["breakout"], "paper")   # {(topic, key): (ts_event, ids)}
    decision_id(event)                                             # an event's natural id
"""

from __future__ import annotations

from collections.abc import Callable

from connectors.kafka.codec import AvroCodec
from connectors.kafka.consumer import read_tail
from connectors.kafka.settings import KafkaSettings

OUTPUT_TOPICS = ("signals", "signals.suppressed", "orders.intents")
TRADING_TOPICS = {"RiskDecisionMade": "risk.decisions", "OrderStatusChanged": "orders.events",
                  "FillExecuted": "fills", "TradeUpdated": "trades", "OvernightCoverageChecked": "risk.overnight"}


def resume_after_ns(kafka: KafkaSettings, codec: AvroCodec, key: str, topics: tuple[str, ...] = OUTPUT_TOPICS,
                    tail: int = 5_000) -> dict[str, tuple[int, frozenset[str]]]:
    """Per output topic (catalogue name), the newest ts_event among the records keyed `key` (a strategy, or an
    account for the trading topics) at its tail and the ids of the records at that instant. Per topic, because
    a crash can lose the producer's queue of one topic and not of another; with the ids, because two events of
    one instant (an exit and the opposite entry) can be split by a crash: the first on Kafka, the second lost."""
    points: dict[str, tuple[int, frozenset[str]]] = {}
    for name in topics:
        newest, ids = -1, set()
        for _, _, value in read_tail(kafka, codec, kafka.topic(name), tail, f"tradestream-resume-{key}", key.encode()):
            ts_event = int(value.get("ts_event", -1))
            if ts_event > newest:
                newest, ids = ts_event, set()
            if ts_event == newest:
                ids.add(record_id(value))
        if newest >= 0:
            points[name] = (newest, frozenset(ids))
    return points


def record_id(value: dict) -> str:
    """A published record's natural id, from its decoded fields (see `decision_id`)."""
    return _natural_id(value.get)


def resume_points(kafka: KafkaSettings, codec: AvroCodec, strategies: list[str],
                  account: str | None) -> dict[tuple[str, str], tuple[int, frozenset[str]]]:
    """The resume points of a runner: per (topic, key), for each strategy's decisions and the account's trading."""
    points = {(topic, name): point for name in strategies
              for topic, point in resume_after_ns(kafka, codec, name).items()}
    if account is not None:
        points.update({(topic, account): point for topic, point in
                       resume_after_ns(kafka, codec, account, tuple(TRADING_TOPICS.values())).items()})
    return points


def decision_id(event: object) -> str:
    """An event's deterministic id: an intent's client order id, a signal's (or suppressed signal's) id, a risk
    decision's intent id, an order event's order id and sequence, a fill's exec id, a trade's id and version,
    an overnight check's id."""
    return _natural_id(lambda name: getattr(event, name, None))


def _natural_id(field: Callable[[str], object]) -> str:
    """The natural id of an event or of its decoded record, given how to read one of its fields (None: absent)."""
    for name in ("exec_id", "check_id"):
        if field(name) is not None:
            return str(field(name))
    if field("sequence") is not None:
        return f"{field('client_order_id')}#{field('sequence')}"
    if field("version") is not None:
        return f"{field('trade_id')}#{field('version')}"
    if field("intent_id") is not None:
        return str(field("intent_id"))
    return str(field("client_order_id") or field("signal_id"))

"""BatchingKafkaFeedSink: when a symbol's batch goes out (size, age, poll, flush), in order per symbol."""

from __future__ import annotations

from decimal import Decimal

from connectors.base import BatchingKafkaFeedSink
from connectors.kafka.settings import KafkaSettings
from processors.model import TradeTick, TradeTickBatch

MS = 1_000_000


class Recorder:
    """Stands in for EventPublisher (our own Kafka wrapper, not an external venue): keeps what is published."""

    kafka = KafkaSettings(bootstrap="127.0.0.1:9", registry_url="http://127.0.0.1:9", topic_prefix="ts.")

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, object]] = []

    def publish(self, topic: str, key: str, event: object) -> None:
        self.sent.append((topic, key, event))


def trade(symbol: str, n: int) -> TradeTick:
    return TradeTick(symbol, n, n + 1, Decimal("10.01"), 100, "sim", f"{symbol}{n}")


def test_batches_go_out_when_full_or_old_enough_and_keep_each_symbols_order() -> None:
    now = [0]
    publisher = Recorder()
    sink = BatchingKafkaFeedSink(publisher, max_ticks=3, max_wait_ns=20 * MS, wall_ns=lambda: now[0])  # type: ignore[arg-type]

    def batches() -> list[tuple[str, list[int], int]]:
        return [(key, event.prints().ts_events, event.ts_init) for _, key, event in publisher.sent
                if isinstance(event, TradeTickBatch)]

    for n in range(4):  # SPY's fourth print starts its second batch
        sink.on_trade(trade("SPY", n))
    now[0] = 5 * MS
    sink.on_trade(trade("QQQ", 0))
    assert batches() == [("SPY", [0, 1, 2], 0)]
    now[0] = 19 * MS
    sink.poll()
    assert len(batches()) == 1  # SPY's open batch is 19 ms old: not yet
    now[0] = 20 * MS
    sink.on_trade(trade("QQQ", 1))  # a trade also checks the ages: SPY's batch (20 ms) goes, QQQ's (15 ms) waits
    assert batches()[1:] == [("SPY", [3], 20 * MS)]
    now[0] = 25 * MS
    sink.poll()
    assert batches()[2:] == [("QQQ", [0, 1], 25 * MS)]
    now[0] = 26 * MS
    sink.on_trade(trade("QQQ", 2))
    sink.flush()
    assert batches()[3:] == [("QQQ", [2], 26 * MS)]
    sink.poll()
    assert len(batches()) == 4  # nothing pending, nothing sent

"""The topic catalogue: every Kafka topic of tradestream, its event schema, key, partitions and retention.

This module is plain data (no Faust import) so the stack set-up, the feeds, the sink and the API can
read it. A prefix (TOPIC_PREFIX, default `ts.`, given by the Kafka settings section) namespaces all names, which also lets tests run on topics of
their own. Keys are chosen for ordering: everything about one symbol lands on one partition, in order.
"""

from __future__ import annotations

from dataclasses import dataclass

DAY_MS = 24 * 60 * 60 * 1000


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    """Name without the prefix."""
    schema: str
    """Avro record name of the values (file in schemas/)."""
    key: str
    """What the record key is, and so what is ordered."""
    partitions: int | None
    """Partition count; None means KAFKA_PARTITIONS."""
    retention_ms: int
    """Retention; -1 keeps forever."""
    cleanup_policy: str = "delete"
    doc: str = ""

    def full_name(self, prefix: str) -> str:
        """The name on the broker: `prefix` (TOPIC_PREFIX, default `ts.`) and the catalogue name."""
        return f"{prefix}{self.name}"


CATALOGUE: tuple[TopicSpec, ...] = (
    TopicSpec("ticks.trades", "TradeTick", "symbol", None, 7 * DAY_MS,
              doc="Trade prints from the active feed."),
    TopicSpec("ticks.batches", "TradeTickBatch", "symbol", None, 7 * DAY_MS,
              doc="Trade prints in per-symbol batches (multi-record Avro, FEED_BATCH_TICKS > 0)."),
    TopicSpec("ticks.quotes", "QuoteTick", "symbol", None, 2 * DAY_MS,
              doc="Top-of-book quotes from the active feed."),
    TopicSpec("bars", "Bar", "symbol", None, 90 * DAY_MS,
              doc="Closed OHLCV bars of every configured timeframe."),
    TopicSpec("indicators", "IndicatorSnapshot", "symbol", None, 90 * DAY_MS,
              doc="Indicator set on each closed bar."),
    TopicSpec("signals", "SignalGenerated", "strategy", None, -1,
              doc="Strategy signals (kept forever for audit)."),
    TopicSpec("signals.suppressed", "SignalSuppressed", "strategy", None, -1,
              doc="Signals withheld by the sanity check, staleness or limits, with the reason (audit)."),
    TopicSpec("orders.intents", "OrderIntentCreated", "strategy", None, -1,
              doc="Order intents generated from signals; nothing is sent to a broker (audit)."),
    TopicSpec("risk.decisions", "RiskDecisionMade", "account", None, -1,
              doc="The risk stage's decision on each order intent (accept, resize, reject) with every check's "
                  "figures; keyed by account so that one account's decisions are ordered (audit, kept)."),
    TopicSpec("orders.events", "OrderStatusChanged", "account", None, -1,
              doc="Every change of every order at the broker, paper or live (accepted, rejected, modified, "
                  "triggered, cancelled), keyed by account (audit, kept)."),
    TopicSpec("fills", "FillExecuted", "account", None, -1,
              doc="Every execution with its commission and regulatory fees, keyed by account (audit, kept)."),
    TopicSpec("risk.overnight", "OvernightCoverageChecked", "account", None, -1,
              doc="Before each close, whether each account's positions would be covered overnight; uncovered "
                  "positions flagged by symbol (audit, kept)."),
    TopicSpec("accounts", "AccountChanged", "account", None, -1,
              doc="Operators' changes of accounts (settings replaced, kill switch reset), keyed by account, applied "
                  "by the account's runner in event-time order with the prints (audit, kept)."),
    TopicSpec("trades.actions", "TradeActionRequested", "account", None, -1,
              doc="Operators' manual actions on running trades (close, move the stop or the target, change the "
                  "quantity), keyed by account, decided by the account's runner in event-time order with the prints "
                  "as a strategy's intents are (audit, kept)."),
    TopicSpec("settings", "SettingsChanged", "universal", 1, -1,
              doc="Versions of the universal settings (capital, session hours, extra closed dates and half-days, "
                  "the default option category split), each in force from its event time; every record has the "
                  "key \"universal\" and the topic one partition, so the versions are read in order (audit, kept)."),
    TopicSpec("strategies", "StrategyChanged", "strategy", None, -1,
              doc="Operators' changes of strategies through the API (created, replaced with the new configuration, "
                  "enabled, disabled, deleted) with who and when, keyed by strategy (audit, kept)."),
    TopicSpec("trades", "TradeUpdated", "account", None, -1,
              doc="Every change of every trade (opened, added, reduced, stop moved, closed), keyed by account; "
                  "the newest version of a trade is its deals row (audit, kept)."),
    TopicSpec("feed.status", "FeedStatusChanged", "feed", 1, 30 * DAY_MS,
              doc="Feed connection state, subscriptions, rates and fail-overs."),
    TopicSpec("metrics.latency", "LatencyMeasured", "feed/symbol", None, 7 * DAY_MS,
              doc="Latency percentiles per hop over sliding windows."),
    TopicSpec("deadletter", "DeadLetter", "original key", None, 30 * DAY_MS,
              doc="Rejected events with the reason and original bytes."),
)

BY_NAME = {spec.name: spec for spec in CATALOGUE}


def entry_of(topic: str) -> TopicSpec | None:
    """The catalogue entry of a full topic name, whatever its prefix (the longest catalogue name it ends
    with); None for a topic outside the catalogue."""
    matches = [s for s in CATALOGUE if topic.endswith(s.name) and (topic == s.name or topic[-len(s.name) - 1] == ".")]
    return max(matches, key=lambda s: len(s.name), default=None)


def spec(name: str) -> TopicSpec:
    return BY_NAME[name]

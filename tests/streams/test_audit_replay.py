"""The audit replay's runners: no publisher and no broker, even for an account whose broker is live (IBKR),
and no Kafka producer made while they are built."""

from __future__ import annotations

import confluent_kafka
import pytest

import connectors.kafka.publisher
from connectors.kafka.codec import AvroCodec
from connectors.kafka.settings import KafkaSettings
from processors.event_time import EventTimeBounds
from streams.audit_replay import STAGES, AuditReplay
from streams.settings import BarsStageSettings
from tests.processors.trading.test_live_desk import LIVE, PRINTS, strategy

NOWHERE = KafkaSettings(bootstrap="127.0.0.1:1", registry_url="http://127.0.0.1:1")


class NoProducer:
    def __init__(self, *args: object, **kwargs: object) -> None:
        raise AssertionError("a Kafka producer was made")


def test_a_live_accounts_replay_has_no_publisher_no_broker_and_makes_no_producer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(confluent_kafka, "Producer", NoProducer)
    monkeypatch.setattr(connectors.kafka.publisher, "Producer", NoProducer)
    replay = AuditReplay(NOWHERE, AvroCodec(NOWHERE.registry_url), PRINTS[0].ts_event, PRINTS[-1].ts_event + 1,
                         [strategy()], [LIVE], bars=BarsStageSettings(), event_time=EventTimeBounds())
    assert LIVE.broker == "ibkr" and len(replay.runners) == 1
    runner = replay.runners[0]
    assert runner.publisher is None and runner.account == LIVE
    # The account's broker events come from its record: the replay's live part has no broker connection.
    assert runner.live_account is not None and runner.live_account.replay and runner.live_account.live is None


def test_the_stages_follow_the_chain_and_name_their_topics() -> None:
    assert STAGES == ("bars", "indicators", "signals", "signals.suppressed", "orders.intents", "risk.decisions",
                      "orders.events", "fills", "trades", "risk.overnight")


def test_an_empty_range_is_refused() -> None:
    from schemas.errors import ConfigError

    with pytest.raises(ConfigError, match="range is empty"):
        AuditReplay(NOWHERE, AvroCodec(NOWHERE.registry_url), 10, 10, [], [], bars=BarsStageSettings(),
                    event_time=EventTimeBounds())

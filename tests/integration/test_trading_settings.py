"""A new version of the universal settings published on the settings topic reaches the runner trading an
account at the instant it was made and governs the days ahead: a date it closes refuses every entry with the
`trading_day` check, the day it was made in keeps trading — the same trading events as the in-process session
given the same change; a version that cannot follow the ones before is dead-lettered with the reason."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.base import KafkaFeedSink
from connectors.kafka.codec import AvroCodec, register_all
from connectors.kafka.publisher import EventPublisher
from processors.calendar import ET, NS, build_nyse_calendar
from processors.model import RiskDecisionMade
from processors.scanner import SignalLimiter, in_schedule
from processors.settings import CalendarInForce, SettingsHistory, UniversalSettings
from processors.strategies.pipeline import StrategyPipeline
from processors.trading.desk import TradingDesk
from processors.trading.session import TradingSession
from processors.trading.setup import desk_config
from tradestream.config import Settings
from tradestream.topics import ensure_topics

from .test_strategy import TRADING_TOPICS, topic_events, without_ts_init
from .trading_runs import correlation_on_paper, of_topic, run_until_published, simulated_prints

pytestmark = pytest.mark.integration

MADE = int(dt.datetime(2026, 11, 23, 12, 0, tzinfo=ET).timestamp()) * NS
CLOSED = dt.date(2026, 11, 24)


def test_a_settings_change_on_the_topic_closes_a_day_ahead_for_the_live_runner(
        settings: Settings, unique: str, tmp_path: Path) -> None:
    prefix = f"u{unique}."
    env = {**os.environ, "TOPIC_PREFIX": prefix, "TRADESTREAM_HOME": str(settings.home)}
    ensure_topics(settings, prefix=prefix)
    register_all(settings.schema_registry_url, prefix=prefix)

    config, config_file, account, account_file = correlation_on_paper(
        unique, tmp_path, f"st-{unique}", "price({primary}) < donchian_lower({primary}, 5m, 10)")
    nyse = build_nyse_calendar(dt.date(2026, 11, 16), dt.date(2026, 11, 30))
    ticks = simulated_prints(config, nyse, (dt.date(2026, 11, 23), CLOSED))
    history = SettingsHistory()
    change = history.next_change(UniversalSettings(capital=Decimal("100000"), extra_closed_dates=(CLOSED,)),
                                 ts_event=MADE, ts_init=MADE, reason="desk closed on the 24th", operator="ops")
    again = change  # the same version twice: out of sequence, dead-lettered

    in_force = CalendarInForce(nyse)
    pipeline = StrategyPipeline(config, in_force.calendar, SignalLimiter.from_config(config),
                                lambda ts: in_schedule(config, ts))
    run = TradingSession({config.name: pipeline}, TradingDesk(desk_config([config], account, in_force.calendar)),
                         settings=in_force)
    expected, applied = [], False
    for tick in ticks:
        if not applied and tick.ts_event > MADE:
            run.on_settings_change(change)
            applied = True
        expected += run.on_trade(tick, tick.ts_event).trading
    entries = [e for e in expected if isinstance(e, RiskDecisionMade) and e.action == "entry"]
    on_closed = [e for e in entries if dt.datetime.fromtimestamp(e.ts_event / 1e9, ET).date() == CLOSED]
    assert on_closed and all(e.outcome == "REJECT" and e.reasons[0].startswith("trading_day") for e in on_closed)
    assert any(e.outcome != "REJECT" for e in entries if e not in on_closed), "the 23rd trades as usual"

    publisher = EventPublisher(settings.kafka(prefix), AvroCodec(settings.schema_registry_url), client_id=f"u-{unique}")
    for settings_change in (change, again):
        publisher.publish(f"{prefix}settings", "universal", settings_change)
    feed = KafkaFeedSink(publisher)
    for tick in ticks:
        feed.on_trade(tick)
    assert publisher.flush() == 0 and publisher.failed == 0

    published = run_until_published(settings, prefix, env, config_file, account_file, tmp_path / "runner.log",
                                    len(expected), "the repeated version dead-lettered")
    for topic in TRADING_TOPICS:
        wanted = of_topic(expected, topic)
        assert sorted(map(without_ts_init, published[topic]), key=repr) == sorted(map(without_ts_init, wanted),
                                                                                  key=repr), topic
    [letter] = topic_events(settings, f"{prefix}deadletter", f"letters-{unique}")
    assert "must be 2" in letter.reason and letter.stage == f"strategy:{account.account_id}"

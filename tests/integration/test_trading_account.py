"""An operator's account changes reach the runner trading the account through Kafka, at their event time:
a kill switch latched by a loss refuses entries until a settings change (the limit raised) and a reset
published on the accounts topic, after which entries are accepted again — the same risk decisions, orders, fills and trades as the in-process session
given the same reset at the same instant; a change it cannot apply is dead-lettered with the reason."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from connectors.base import KafkaFeedSink
from connectors.kafka.codec import AvroCodec, register_all
from connectors.kafka.publisher import EventPublisher
from processors.calendar import build_nyse_calendar
from processors.model import AccountChanged, RiskDecisionMade, TradeUpdated
from processors.risk.account_file import read_account, write_account
from processors.scanner import SignalLimiter, in_schedule
from processors.strategies.pipeline import StrategyPipeline
from processors.trading.desk import TradingDesk
from processors.trading.session import TradingSession
from processors.trading.setup import desk_config
from tradestream.config import Settings
from tradestream.topics import ensure_topics

from .test_strategy import TRADING_TOPICS, topic_events, without_ts_init
from .trading_runs import correlation_on_paper, of_topic, run_until_published, simulated_prints

pytestmark = pytest.mark.integration


def test_a_kill_switch_reset_published_on_the_accounts_topic_is_applied_at_its_instant(
        settings: Settings, unique: str, tmp_path: Path) -> None:
    prefix = f"k{unique}."
    env = {**os.environ, "TOPIC_PREFIX": prefix, "TRADESTREAM_HOME": str(settings.home)}
    ensure_topics(settings, prefix=prefix)
    register_all(settings.schema_registry_url, prefix=prefix)

    config, config_file, account, account_file = correlation_on_paper(
        unique, tmp_path, f"ks-{unique}", "price({primary}) < donchian_lower({primary}, 5m, 10)",
        max_drawdown_pct="0.01")                            # $10 of $100,000: the first loss latches it
    account_data = write_account(account)
    calendar = build_nyse_calendar(dt.date(2026, 11, 16), dt.date(2026, 11, 25))
    ticks = simulated_prints(config, calendar, (dt.date(2026, 11, 23),))

    def session() -> TradingSession:
        pipeline = StrategyPipeline(config, calendar, SignalLimiter.from_config(config),
                                    lambda ts: in_schedule(config, ts))
        return TradingSession({config.name: pipeline}, TradingDesk(desk_config([config], account, calendar)))

    # Without a reset the switch latches at the first loss and refuses the later entries; the reset comes
    # just after the first refused entry, so that the next ones are accepted.
    probe = session()
    refused_at = [t.ts_event for t in ticks for e in probe.on_trade(t, t.ts_event).trading
                  if isinstance(e, RiskDecisionMade) and e.action == "entry" and e.kill_switch_tripped]
    assert len(refused_at) >= 2, "the data must make at least two entries after the latch"
    refused_ns = [refused_at[0] + 1]  # just after the print whose step refused the first entry
    # The operator raises the limit back to 3 %, then resets the switch (a reset alone would latch again at the
    # next decision: the day's loss is still past 0.01 %).
    raised = dict(account_data, limits={**account_data["limits"], "max_drawdown_pct": "3"})
    change = AccountChanged(account_id=account.account_id, kind="SETTINGS_CHANGED", ts_event=refused_ns[0] + 1,
                            ts_init=0, reason="limit back to the house level", operator="it",
                            settings=json.dumps(write_account(read_account(raised))))
    reset = AccountChanged(account_id=account.account_id, kind="KILL_SWITCH_RESET", ts_event=refused_ns[0] + 2,
                           ts_init=0, reason="loss reviewed", operator="it")
    refused = AccountChanged(account_id=account.account_id, kind="KILL_SWITCH_RESET", ts_event=reset.ts_event + 1,
                             ts_init=0, reason="pressed twice")      # nothing latched: refused, dead-lettered
    expected, run = [], session()
    applied = False
    for tick in ticks:
        if not applied and tick.ts_event > reset.ts_event:
            for operator_change in (change, reset):
                expected += run.on_account_change(operator_change, operator_change.ts_event).trading
            applied = True
        expected += run.on_trade(tick, tick.ts_event).trading
    decisions = [e for e in expected if isinstance(e, RiskDecisionMade) and e.action == "entry"]
    assert any(d.outcome == "REJECT" and d.kill_switch_tripped and d.ts_event < reset.ts_event for d in decisions)
    assert any(d.outcome != "REJECT" and d.ts_event > reset.ts_event for d in decisions), \
        "entries must be accepted again after the reset"

    publisher = EventPublisher(settings.kafka(prefix), AvroCodec(settings.schema_registry_url), client_id=f"k-{unique}")
    feed = KafkaFeedSink(publisher)
    for operator_change in (change, reset, refused):
        publisher.publish(f"{prefix}accounts", operator_change.account_id, operator_change)
    for tick in ticks:
        feed.on_trade(tick)
    assert publisher.flush() == 0 and publisher.failed == 0

    published = run_until_published(settings, prefix, env, config_file, account_file, tmp_path / "runner.log",
                                    len(expected), "the refused reset dead-lettered")
    for topic in TRADING_TOPICS:
        record = {"risk.decisions": RiskDecisionMade, "trades": TradeUpdated}.get(topic)
        wanted = of_topic(expected, topic)
        if record is not None:
            assert wanted, topic
        assert sorted(map(without_ts_init, published[topic]), key=repr) == sorted(map(without_ts_init, wanted),
                                                                                  key=repr), topic
    [letter] = topic_events(settings, f"{prefix}deadletter", f"letters-{unique}")
    assert "not tripped" in letter.reason and letter.stage == f"strategy:{account.account_id}"

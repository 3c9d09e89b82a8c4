"""A strategy disabled mid-day through the strategies topic stops deciding at the instant the change was made and,
enabled again, decides again from that instant: the live runner trading the example paper account publishes the
same signals and trading events as the in-process session given the same changes, a change its history refuses
(a replacement that is not JSON) is dead-lettered with the reason, and the audit replay of the day, which reads
the same changes, differs from nothing."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt

import pytest
import yaml

from connectors.kafka.codec import AvroCodec, register_all
from connectors.kafka.publisher import EventPublisher
from processors.calendar import ET, NS, build_nyse_calendar
from processors.model import StrategyChanged
from processors.scanner import ScannerConfig, SignalLimiter, in_schedule
from processors.strategies.history import StrategyChangeError, StrategyHistory
from processors.strategies.in_force import RecentPrints, StrategyInForce
from processors.strategies.pipeline import StrategyPipeline
from processors.trading.desk import TradingDesk
from processors.trading.session import TradingSession
from processors.trading.setup import desk_config
from streams.strategy_resume import TRADING_TOPICS, decision_id
from tradestream import cli
from tradestream.commands.inputs import load_account
from tradestream.config import Settings
from tradestream.topics import ensure_topics

from .test_audit_replay import (ACCOUNT_FILE, DAY, EXIT_RULE, closed_bars, counts, run_live, simulated_days,
                                strategy)
from .test_strategy import topic_events

pytestmark = pytest.mark.integration


def at(hour: int, minute: int) -> int:
    return int(dt.datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=ET).timestamp()) * NS + 7


def change(name: str, kind: str, ts: int, config: str = "", version: int = 0) -> StrategyChanged:
    return StrategyChanged(strategy=name, kind=kind, ts_event=ts, ts_init=ts, operator="ana", version=version,
                           config=config)


def session_outputs(config: ScannerConfig, ticks: list, calendar, changes: list[StrategyChanged]  # noqa: ANN001
                    ) -> dict[str, dict[str, tuple]]:
    """The in-process session's outputs with the strategy following `changes` (each before the first print after
    its instant, as the runner's merge orders them; a refused one skipped): per topic, id -> fields but ts_init."""
    history, recent = StrategyHistory({config.name: config}), RecentPrints()

    def build(c: ScannerConfig, gate) -> StrategyPipeline:  # noqa: ANN001
        return StrategyPipeline(c, calendar, SignalLimiter.from_config(c), lambda ts: gate(ts) and in_schedule(c, ts))
    strategy = StrategyInForce(config.name, history, build, recent)
    session = TradingSession({config.name: strategy}, TradingDesk(desk_config(
        [config], load_account(str(ACCOUNT_FILE)), calendar)))
    out: dict[str, dict[str, tuple]] = {name: {} for name in ("signals", "signals.suppressed", "orders.intents",
                                                              *TRADING_TOPICS.values())}
    pending = list(changes)
    for tick in ticks:
        while pending and pending[0].ts_event < tick.ts_event:
            made = pending.pop(0)
            if made.strategy == config.name:
                with contextlib.suppress(StrategyChangeError):
                    strategy.on_change(history.apply(made))
        step = session.on_trade(tick, tick.ts_event)
        recent.add(tick)
        for name, events in (("signals", step.decisions.signals), ("signals.suppressed", step.decisions.suppressed),
                             ("orders.intents", step.decisions.intents),
                             *((TRADING_TOPICS[type(e).__name__], [e]) for e in step.trading)):
            for event in events:
                out[name][decision_id(event)] = fields(event)
    return out


def fields(event: object) -> tuple:
    return tuple((f.name, getattr(event, f.name)) for f in dataclasses.fields(event) if f.name != "ts_init")


def test_a_strategy_disabled_mid_day_stops_and_enabled_again_starts_live_and_in_the_replay(
        settings: Settings, unique: str, tmp_path, monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001
        capsys: pytest.CaptureFixture[str]) -> None:
    prefix = f"a{unique}."
    ensure_topics(settings, prefix=prefix)
    register_all(settings.schema_registry_url, prefix=prefix)
    calendar = build_nyse_calendar(DAY - dt.timedelta(days=7), DAY + dt.timedelta(days=2))
    primary, correlated, ticks = simulated_days(unique, (DAY,), calendar)
    config = strategy(f"changes-{unique}", primary, correlated, EXIT_RULE)
    config_file = tmp_path / "strategy.yaml"
    config_file.write_text(yaml.safe_dump(config.to_mapping()))
    off, refused, on = at(12, 0), at(14, 0), at(15, 9)
    changes = [change(config.name, "DISABLED", off), change(config.name, "REPLACED", refused, "{not json", 2),
               change(config.name, "ENABLED", on), change(f"other-{unique}", "DISABLED", off)]

    expected = session_outputs(config, ticks, calendar, changes)
    signals = [dict(f) for f in expected["signals"].values()]
    assert any(s["ts_event"] < off for s in signals) and any(s["ts_event"] >= on for s in signals)
    assert not [s for s in signals if off <= s["ts_event"] < on], "disabled, it signals nothing"
    always = session_outputs(config, ticks, calendar, [])
    assert any(off <= dict(f)["ts_event"] < on for f in always["signals"].values()), "the change must matter"
    assert len(expected["fills"]) >= 2, "the day must trade"

    kafka = settings.kafka(prefix)
    publisher = EventPublisher(kafka, AvroCodec(settings.schema_registry_url), client_id=f"changes-{unique}")
    for made in changes:
        publisher.publish(kafka.topic("strategies"), made.strategy, made)
    assert publisher.flush() == 0 and publisher.failed == 0
    closed = closed_bars(settings, ticks, calendar)
    run_live(settings, unique, tmp_path, config_file, ticks, expected, len(closed))

    for name, wanted in expected.items():
        published = {decision_id(e): fields(e) for e in topic_events(settings, kafka.topic(name), f"r-{unique}-{name}")}
        assert published == wanted, name
    [letter] = topic_events(settings, kafka.topic("deadletter"), f"letters-{unique}")
    assert letter.stage == "strategy:paper-1" and letter.reason.startswith("config: is not JSON"), letter

    monkeypatch.setenv("TOPIC_PREFIX", prefix)
    capsys.readouterr()
    status = cli.main(["audit", "replay", "--from", DAY.isoformat(), "--to", DAY.isoformat(), "--config",
                       str(config_file), "--account", str(ACCOUNT_FILE), "--out", str(tmp_path / "replay")])
    printed = capsys.readouterr().out
    assert status == 0, printed
    for name, outputs in expected.items():
        assert counts(printed, name) == (len(outputs), len(outputs), len(outputs), 0), name

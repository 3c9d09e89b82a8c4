"""The history of strategy changes: which configuration is in force at an instant, and the changes refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from processors.model import StrategyChanged
from processors.scanner import ScannerConfig
from processors.strategies.history import GIVEN, StrategyChangeError, StrategyHistory

ROOT = Path(__file__).resolve().parents[3]


def config(name: str = "corr", **changes: object) -> ScannerConfig:
    data = yaml.safe_load((ROOT / "examples/strategies/correlation.yaml").read_text())
    return ScannerConfig.from_mapping(data | {"name": name} | changes)


def change(kind: str, ts: int, name: str = "corr", version: int = 0, body: ScannerConfig | str | None = None
           ) -> StrategyChanged:
    text = body if isinstance(body, str) else "" if body is None else json.dumps(body.to_mapping(), sort_keys=True)
    return StrategyChanged(strategy=name, kind=kind, ts_event=ts, ts_init=ts, operator="ana", version=version,
                           config=text)


def test_a_given_configuration_runs_from_the_beginning_until_its_first_change() -> None:
    given = config()
    history = StrategyHistory({"corr": given})
    assert history.version_at("corr", -10**18).kind == GIVEN and history.enabled_at("corr", 0)
    history.apply(change("DISABLED", 100))
    history.apply(change("ENABLED", 200))
    assert [history.enabled_at("corr", t) for t in (99, 100, 199, 200, 10**18)] == [True, False, False, True, True]
    assert history.config_at("corr", 150) is given and history.version_at("corr", 150).operator == "ana"
    assert history.version_at("other", 0) is None and not history.enabled_at("other", 0)


def test_a_replacement_is_in_force_from_its_instant_and_versions_follow_one_another() -> None:
    history = StrategyHistory()
    first, second = config(max_signals_per_day=17), config(max_signals_per_day=19)
    history.apply(change("CREATED", 10, version=1, body=first))
    history.apply(change("REPLACED", 20, version=2, body=second))
    assert history.config_at("corr", 19).max_signals_per_day == 17
    assert history.config_at("corr", 20).max_signals_per_day == 19
    assert history.config_at("corr", 9) is None
    with pytest.raises(StrategyChangeError) as refused:
        history.apply(change("REPLACED", 30, version=4, body=second))
    assert refused.value.errors[0].field == "version" and "must be 3" in str(refused.value)
    history.apply(change("DISABLED", 40))
    assert history.latest("corr").config_version == 2 and not history.enabled_at("corr", 40)
    history.apply(change("REPLACED", 50, version=3, body=first))
    assert history.enabled_at("corr", 50), "a replacement runs"


def test_a_deleted_strategy_runs_no_more_and_only_a_creation_brings_it_back() -> None:
    history = StrategyHistory({"corr": config()})
    history.apply(change("CREATED", 5, version=1, body=config()))   # the creation the topic recorded
    history.apply(change("DELETED", 10))
    assert history.config_at("corr", 10) is None and not history.enabled_at("corr", 11)
    for kind in ("ENABLED", "DISABLED", "REPLACED", "DELETED"):
        with pytest.raises(StrategyChangeError, match="deleted"):
            history.apply(change(kind, 20, version=2, body=config()))
    history.apply(change("CREATED", 30, version=1, body=config()))
    assert history.enabled_at("corr", 30)
    with pytest.raises(StrategyChangeError, match="exists already"):
        history.apply(change("CREATED", 40, version=1, body=config()))


def test_changes_that_cannot_follow_are_refused_and_change_nothing() -> None:
    history = StrategyHistory({"corr": config()})
    history.apply(change("DISABLED", 100))
    cases = {
        "ts_event": change("ENABLED", 99),
        "kind": change("PAUSED", 200),
        "strategy": change("ENABLED", 200, name="unknown"),
        "config": change("REPLACED", 200, version=1, body="{not json"),
        "config.name": change("REPLACED", 200, version=1, body=config("another")),
    }
    for field, refused_change in cases.items():
        with pytest.raises(StrategyChangeError) as refused:
            history.apply(refused_change)
        assert field in [e.field for e in refused.value.errors], (field, str(refused.value))
    invalid = json.dumps(config().to_mapping() | {"max_signals_per_day": -1})
    with pytest.raises(StrategyChangeError) as refused:
        history.apply(change("REPLACED", 200, version=1, body=invalid))
    assert refused.value.errors[0].field.startswith("config.")
    assert [v.kind for v in history.versions("corr")] == [GIVEN, "DISABLED"]
    assert history.strategies == ("corr",)

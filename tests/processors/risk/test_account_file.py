"""An account file read into an Account, every problem named at once, floats refused."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from processors.risk import Regime
from processors.risk.account_file import AccountFileError, read_account, write_account

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "accounts" / "paper.yaml"


def example() -> dict:
    return yaml.safe_load(EXAMPLE.read_text())


def test_the_example_account_reads_with_its_regimes_limits_and_margin() -> None:
    account = read_account(example())
    assert (account.account_id, account.broker, account.currency) == ("paper-1", "paper", "USD")
    assert account.starting_capital == Decimal(100_000)
    assert account.regime_on(dt.date(2026, 6, 3)) is Regime.LEGACY_PDT
    assert account.regime_on(dt.date(2026, 6, 4)) is Regime.INTRADAY_MARGIN
    assert (account.limits.max_loss_per_trade, account.limits.max_drawdown_pct) == (Decimal(500), Decimal(3))
    assert (account.margin.initial_pct, account.margin.maintenance_pct) == (Decimal(50), Decimal(25))


def test_written_and_read_again_it_is_the_same_account() -> None:
    account = read_account(example())
    assert read_account(yaml.safe_load(yaml.safe_dump(write_account(account)))) == account


def test_every_problem_is_named_at_once() -> None:
    data = example()
    data["starting_capital"] = 100000.5
    data["limits"]["max_open_risk"] = "lots"
    del data["limits"]["max_active_trades"]
    data["limits"]["max_los_per_trade"] = "1"
    data["regimes"][1]["regime"] = "intraday"
    data["colour"] = "blue"
    with pytest.raises(AccountFileError) as caught:
        read_account(data)
    fields = [field for field, _ in caught.value.problems]
    assert fields == ["colour", "starting_capital", "regimes.regime", "limits.max_los_per_trade",
                      "limits.max_open_risk", "limits.max_active_trades"]
    assert "binary float" in caught.value.problems[1][1]


def test_a_regime_that_did_not_exist_yet_is_refused() -> None:
    data = example()
    data["regimes"] = [{"from": "2026-01-01", "regime": "intraday_margin"}]
    with pytest.raises(AccountFileError, match="Regulatory Notice 26-10"):
        read_account(data)


@pytest.mark.parametrize("data, words", [
    ([], "must be a mapping"),
    ({"account_id": "a"}, "broker: is required"),
])
def test_what_is_not_an_account_is_refused_with_the_reason(data, words) -> None:
    with pytest.raises(AccountFileError, match=words):
        read_account(data)

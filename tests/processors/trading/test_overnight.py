"""Before the close, each account holding positions is checked for overnight coverage, once per trading day,
on the books as they stood at the check instant; a position that would not be covered is flagged."""

from __future__ import annotations

from processors.model import OvernightCoverageChecked
from processors.risk import StopPercent
from processors.trading import StrategyTrading

from .conftest import D, account, desk, et, intent, tick

TUE = (2026, 11, 24)            # a full day: close 16:00, check at 15:45
FRI = (2026, 11, 27)            # the day after Thanksgiving: close 13:00, check at 12:45


def positional(**limits):
    return desk(accounts=[account(**limits)],
                strategies={"breakout": StrategyTrading(account_id="acct-1", stop=StopPercent(D("0.1")),
                                                        intraday=False)})


def checks(events) -> list[OvernightCoverageChecked]:
    return [e for e in events if isinstance(e, OvernightCoverageChecked)]


def test_a_position_worth_more_than_twice_the_equity_is_flagged_at_the_check_instant() -> None:
    d = positional(max_position_pct=D(300), max_capital_utilized_pct=D(300), max_loss_per_trade=D(5000),
                   max_loss_per_trade_pct=D(10), max_open_risk=D(10000))
    d.on_intent(intent(et(*TUE, 15, 0)), ts_init=0)
    d.on_trade(tick("100.00", et(*TUE, 15, 0, 1)))          # the entry fills
    assert checks(d.on_trade(tick("100.00", et(*TUE, 15, 44)))) == []
    (check,) = checks(d.on_trade(tick("100.00", et(*TUE, 15, 46))))
    position = d.book("acct-1").positions()[0]
    assert position.quantity * position.last_price > 2 * check.equity      # Reg-T 50 % initial on a day's purchase
    assert (check.check_id, check.ts_event, check.uncovered) == ("acct-1:2026-11-24", et(*TUE, 15, 45), ("XYZ",))
    assert check.excess < 0 and check.requirement == position.quantity * position.last_price / 2
    assert "XYZ would not be covered overnight" in check.detail
    assert checks(d.on_trade(tick("100.00", et(*TUE, 15, 50)))) == []      # once a day


def test_a_covered_position_is_checked_and_not_flagged_and_the_early_close_moves_the_check() -> None:
    d = positional()
    d.on_intent(intent(et(*FRI, 11, 0)), ts_init=0)
    d.on_trade(tick("100.00", et(*FRI, 11, 0, 1)))
    (check,) = checks(d.advance_to(et(*FRI, 12, 45)))
    assert (check.ts_event, check.uncovered, check.positions) == (et(*FRI, 12, 45), (), 1) and check.excess > 0


def test_an_account_without_positions_is_not_checked() -> None:
    assert checks(desk().advance_to(et(*TUE, 15, 50))) == []

"""The deals report's row per trade: the issue's header, quantities that add up across partial exits, exact
decimals, ISO-8601 UTC times, status and the comment saying how the trade closed."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest

from processors.deals import DEALS_COLUMNS, DealStatus, ExitReason, Trade, TradeExit, deal_row
from processors.pnl import Direction, Fill, PnlError

D = Decimal
ISSUE_HEADER = ("strategy,ss_type,signal_type,symbol,entry_qty,exit_qty,entry_price,exit_price,entry_time,exit_time,"
                "pnl,charges,net_pnl,net_pnl_pct,status,comment")


def ns(iso: str) -> int:
    return int(dt.datetime.fromisoformat(iso).timestamp()) * 1_000_000_000


ENTRY = Fill(ns("2026-05-01T13:35:00+00:00"), 100, D("10.00"), D("1.00"))
TARGET = TradeExit(Fill(ns("2026-05-01T15:00:00+00:00"), 60, D("10.50"), D("1.04")), ExitReason.PROFIT_TARGET)
STOP = TradeExit(Fill(ns("2026-05-01T16:00:00+00:00"), 40, D("9.75"), D("1.02")), ExitReason.STOP_LOSS)


def trade(*exits: TradeExit, direction: Direction = Direction.LONG, entries: tuple[Fill, ...] = (ENTRY,)) -> Trade:
    return Trade(strategy="breakout", ss_type="intraday", signal_type="long", symbol="SPY", direction=direction,
                 entries=entries, exits=exits)


def test_columns_are_the_issue_header() -> None:
    assert ",".join(DEALS_COLUMNS) == ISSUE_HEADER


def test_completed_trade_with_two_exits() -> None:
    row = deal_row(trade(TARGET, STOP))
    assert row.cells() == ["breakout", "intraday", "long", "SPY", "100", "100", "10.00", "10.20",
                           "2026-05-01T13:35:00Z", "2026-05-01T16:00:00Z", "20.00", "3.06", "16.94", "1.6940",
                           "Completed", "profit target; stop-loss"]
    assert row.status is DealStatus.COMPLETED


def test_running_trade_after_a_risk_reduction() -> None:
    reduced = TradeExit(Fill(ns("2026-05-01T14:00:00+00:00") + 250_000_250, 30, D("10.40"), D("1.03")),
                        ExitReason.RISK_REDUCTION)
    row = deal_row(trade(reduced))
    # 30 of 100 sold at 10.40: 30 x 0.40 = 12.00 realised; charges 1.00 + 1.03; 9.97 / 1,000.00 x 100
    assert (row.entry_qty, row.exit_qty, row.status, row.comment) == (100, 30, DealStatus.RUNNING, "risk reduction")
    assert (row.pnl, row.charges, row.net_pnl, row.net_pnl_pct) == (D("12.00"), D("2.03"), D("9.97"), D("0.9970"))
    assert row.exit_time == "2026-05-01T14:00:00.250000250Z"   # nanoseconds kept


def test_running_trade_without_exits() -> None:
    row = deal_row(trade())
    cells = dict(zip(DEALS_COLUMNS, row.cells()))
    assert (cells["exit_qty"], cells["exit_price"], cells["exit_time"], cells["comment"]) == ("0", "", "", "")
    assert (cells["pnl"], cells["charges"], cells["net_pnl"], cells["status"]) == ("0.00", "1.00", "-1.00", "Running")


def test_short_trade_row() -> None:
    entries = (Fill(ns("2026-05-01T14:00:00+00:00"), 200, D("50.00"), D("1.25")),)
    cover = TradeExit(Fill(ns("2026-05-01T19:50:00+00:00"), 200, D("48.50"), D("1.00")), ExitReason.TIME_CLOSE)
    row = deal_row(trade(cover, direction=Direction.SHORT, entries=entries))
    assert (row.pnl, row.net_pnl, row.net_pnl_pct, row.comment) == (D("300.00"), D("297.75"), D("2.9775"),
                                                                     "time close")


def test_reasons_are_listed_once_in_the_order_the_exits_happened() -> None:
    first = TradeExit(Fill(1, 20, D("10.40")), "risk reduction")  # a plain string is read as its ExitReason
    second = TradeExit(Fill(2, 30, D("10.30")), ExitReason.RISK_REDUCTION)
    last = TradeExit(Fill(3, 50, D("9.90")), ExitReason.KILL_SWITCH)
    row = deal_row(trade(last, second, first))
    assert row.comment == "risk reduction; kill switch"
    assert row.exit_qty == row.entry_qty == 100                  # quantities add up across the partial exits


def test_every_exit_reason_is_a_phrase_of_the_issue() -> None:
    assert [reason.value for reason in ExitReason] == ["stop-loss", "profit target", "exit rule", "time close",
                                                      "risk reduction", "kill switch", "manual"]


def test_decimals_are_written_without_exponents() -> None:
    tiny = Trade(strategy="s", ss_type="intraday", signal_type="long", symbol="PENNY", direction=Direction.LONG,
                 entries=(Fill(0, 1, D("0.0001")),), exits=(TradeExit(Fill(1, 1, D("0.0002")), ExitReason.MANUAL),))
    cells = dict(zip(DEALS_COLUMNS, deal_row(tiny).cells()))
    assert (cells["entry_price"], cells["exit_price"], cells["pnl"]) == ("0.0001", "0.0002", "0.0001")
    numbers = [cells[column] for column in ("entry_price", "exit_price", "pnl", "charges", "net_pnl", "net_pnl_pct")]
    assert not any("E" in number.upper() for number in numbers)


def test_rows_write_as_csv() -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(DEALS_COLUMNS)
    writer.writerow(deal_row(trade(TARGET, STOP)).cells())
    assert buffer.getvalue().splitlines()[0] == ISSUE_HEADER
    assert list(csv.reader(io.StringIO(buffer.getvalue())))[1][-1] == "profit target; stop-loss"


@pytest.mark.parametrize(("change", "message"), [
    ({"entries": ()}, "no entry fill"),
    ({"strategy": ""}, "strategy must not be empty"),
    ({"direction": "flat"}, "direction 'flat' is not long or short"),
])
def test_a_bad_trade_is_refused(change: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {"strategy": "s", "ss_type": "intraday", "signal_type": "long", "symbol": "SPY",
                                 "direction": Direction.LONG, "entries": (ENTRY,)}
    with pytest.raises(PnlError, match=message):
        Trade(**{**fields, **change})  # type: ignore[arg-type]


def test_an_unknown_exit_reason_is_refused() -> None:
    with pytest.raises(PnlError, match="reason 'margin call' is not one of"):
        TradeExit(Fill(1, 1, D("1")), "margin call")  # type: ignore[arg-type]

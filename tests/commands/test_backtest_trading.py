"""`tradestream backtest --account`: trade management in a backtest.

- over a few prints, by hand: the entry filled at the print after the signal, stopped out at a sweep, the
  trading files and the deals row to the cent, the summary's figures;
- over bars only, on the real one-minute data (a Donchian breakout with a stop, a target and a time close): the
  deals add up to the summary, and the desk's events from the vectorised decisions merged with the bars are
  those of stepping the strategy's session bar by bar (the incremental path);
- the account's errors: one line naming what to do, exit status 2, never a traceback.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from processors.calendar import ET
from processors.deals import DEALS_COLUMNS
from tradestream.cli import main

D = Decimal
MINUTES = Path("/work/shared/data/market/2006-01-02-volume-min-001.txt")
needs_minutes = pytest.mark.skipif(not MINUTES.exists(), reason="the shared one-minute file is absent")

LIMITS = {"max_loss_per_trade": "500", "max_loss_per_trade_pct": "0.8", "max_open_risk": "2000",
          "max_drawdown_pct": "3", "max_active_trades": 5, "max_trades_per_day": 10}


def write_yaml(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def account_file(tmp_path: Path, account_id: str = "paper-1", regime: dict | None = None, **changes) -> Path:
    data = {"account_id": account_id, "broker": "paper", "currency": "USD", "starting_capital": "50000",
            "regimes": [regime or {"from": "2026-06-04", "regime": "intraday_margin"}], "limits": LIMITS}
    return write_yaml(tmp_path / f"{account_id}.yaml", data | changes)


def above_100(tmp_path: Path, **changes) -> Path:
    """Long XYZ at the first minute whose price is above 100; a 2 % stop, a 4 % target, $1 minimum commission."""
    data = {"name": "above-100", "type": "intraday", "instrument": "equity", "days": "all", "interval": "1m",
            "max_signals_per_day": 1, "max_signals_per_symbol": 1, "direction": "long", "mode": "virtual",
            "symbols": ["XYZ"], "timeframe": "1m", "entry_rules": ["price(XYZ) > 100"],
            "order": {"exchange": "SMART", "order_type": "market", "product": "margin", "quantity": 1000},
            "risk": {"account": "paper-1", "stop_pct": 2}, "trade": {"target_pct": 4}}
    return write_yaml(tmp_path / "above-100.yaml", data | changes)


def ticks_file(tmp_path: Path, day: str = "2026-06-10") -> Path:
    path = tmp_path / "ticks.csv"
    path.write_text("ts,symbol,price,size\n" + "".join(
        f"{day}T{time}Z,XYZ,{price},10000\n" for time, price in [
            ("13:31:10", "101.00"),   # 09:32 ET evaluates price 101.00 > 100: an entry signal
            ("13:32:01", "101.50"),   # the first print after 09:32: the market entry fills here
            ("13:40:02", "99.00"),
            ("13:40:03", "98.50"),    # through the stop 98.98 (2 % under the signal price 101.00)
            ("13:40:06", "98.40"),    # the first print after the 09:40:05 sweep: the exit fills here
            ("13:40:07", "98.30")]))
    return path


def no_bars(tmp_path: Path) -> Path:
    path = tmp_path / "bars.csv"
    path.write_text("symbol,start,open,high,low,close,volume\n")
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


# == over prints, by hand ==========================================================================

def test_a_tick_backtest_enters_at_the_next_print_stops_out_and_reports_the_deal_to_the_cent(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["backtest", "--config", str(above_100(tmp_path)), "--bars", str(no_bars(tmp_path)),
                 "--ticks", str(ticks_file(tmp_path)), "--account", str(account_file(tmp_path)),
                 "--out", str(out), "--quiet"]) == 0
    printed = json.loads(capsys.readouterr().out)

    # Budget min($500, 0.8 % of $50,000) = $400; unit risk 101.00 - 98.98 = 2.02; floor(400 / 2.02) = 198.
    [entry, exit_] = read_csv(out / "decisions.csv")
    assert (entry["ts"], entry["action"], entry["outcome"], entry["quantity"], D(entry["stop_price"])) == \
        ("2026-06-10T13:32:00Z", "entry", "ACCEPT", "198", D("98.98"))
    assert (exit_["ts"], exit_["action"], exit_["outcome"], exit_["quantity"]) == \
        ("2026-06-10T13:40:05Z", "exit", "ACCEPT", "198")
    orders = read_csv(out / "orders.csv")
    assert [(o["ts"], o["event"], o["side"], o["order_type"], o["quantity"]) for o in orders] == [
        ("2026-06-10T13:32:00Z", "ACCEPTED", "BUY", "MARKET", "198"),
        ("2026-06-10T13:40:05Z", "ACCEPTED", "SELL", "MARKET", "198")]
    # Charges: $1.00 minimum commission on each order; on the sale SEC 31 at $20.60 per million of
    # $19,483.20 = $0.40135 -> $0.41 and FINRA TAF 198 x $0.000195 = $0.03861 -> $0.04.
    fills = read_csv(out / "fills.csv")
    assert [(f["ts"], f["side"], f["quantity"], D(f["price"]), D(f["commission"]), D(f["regulatory_fees"]))
            for f in fills] == [("2026-06-10T13:32:01Z", "BUY", "198", D("101.50"), D("1.00"), D(0)),
                                ("2026-06-10T13:40:06Z", "SELL", "198", D("98.40"), D("1.00"), D("0.45"))]
    assert all(f["trade_id"] == orders[0]["trade_id"] == orders[0]["client_order_id"] for f in fills)
    [trade] = read_csv(out / "trades.csv")
    assert (trade["version"], trade["change"], trade["status"], D(trade["net_pnl"]), trade["comment"]) == \
        ("1", "CLOSED", "Closed", D("-616.25"), "stop-loss")
    assert (trade["opened"], trade["closed"], D(trade["target_price"])) == \
        ("2026-06-10T13:32:01Z", "2026-06-10T13:40:06Z", D("105.56"))  # 4 % above the 101.50 fill
    # P&L 198 x (98.40 - 101.50) = -613.80; net -616.25, -3.0664 % of the $20,097.00 entry value.
    assert (out / "deals.csv").read_text().splitlines()[0] == ",".join(DEALS_COLUMNS)
    [deal] = read_csv(out / "deals.csv")
    numbers = ("entry_price", "exit_price", "pnl", "charges", "net_pnl", "net_pnl_pct")
    assert {k: D(v) if k in numbers else v for k, v in deal.items()} == {
        "strategy": "above-100", "ss_type": "intraday", "signal_type": "long", "symbol": "XYZ", "entry_qty": "198",
        "exit_qty": "198", "entry_price": D("101.50"), "exit_price": D("98.40"), "entry_time": "2026-06-10T13:32:01Z",
        "exit_time": "2026-06-10T13:40:06Z", "pnl": D("-613.80"), "charges": D("2.45"), "net_pnl": D("-616.25"),
        "net_pnl_pct": D("-3.0664"), "status": "Completed", "comment": "stop-loss"}
    assert all(len(deal[k].split(".")[1]) >= 2 for k in ("pnl", "charges", "net_pnl"))  # money to the cent

    summary = json.loads((out / "summary.json").read_text())
    assert summary == printed
    # Equity 50,000 -> 49,999.00 (entry commission) -> 49,383.75: a drawdown of 616.25, 1.2325 % of 50,000.
    assert {k: summary[k] for k in ("account", "risk_decisions", "rejected", "trades", "wins", "losses",
                                    "win_rate_pct", "gross_pnl", "charges", "net_pnl", "max_drawdown",
                                    "max_drawdown_pct", "ending_equity")} == {
        "account": "paper-1", "risk_decisions": 2, "rejected": 0, "trades": 1, "wins": 0, "losses": 1,
        "win_rate_pct": "0.00", "gross_pnl": "-613.80", "charges": "2.45", "net_pnl": "-616.25",
        "max_drawdown": "616.25", "max_drawdown_pct": "1.2325", "ending_equity": "49383.75"}


def test_two_tick_backtests_write_identical_files(tmp_path: Path) -> None:
    config, ticks, bars, account = (above_100(tmp_path), ticks_file(tmp_path), no_bars(tmp_path),
                                    account_file(tmp_path))
    for out in ("one", "two"):
        assert main(["backtest", "--config", str(config), "--bars", str(bars), "--ticks", str(ticks),
                     "--account", str(account), "--out", str(tmp_path / out), "--quiet"]) == 0
    for name in ("decisions.csv", "orders.csv", "fills.csv", "trades.csv", "deals.csv"):
        assert (tmp_path / "one" / name).read_text() == (tmp_path / "two" / name).read_text(), name


def test_without_a_risk_section_the_account_is_not_read_and_no_trading_file_is_written(tmp_path: Path) -> None:
    config = yaml.safe_load(above_100(tmp_path).read_text())
    del config["risk"], config["trade"]
    bad_account = tmp_path / "bad.yaml"
    bad_account.write_text("account_id: [not, an, account]\n")
    out = tmp_path / "out"
    assert main(["backtest", "--config", str(write_yaml(tmp_path / "signals-only.yaml", config)),
                 "--bars", str(no_bars(tmp_path)), "--ticks", str(ticks_file(tmp_path)),
                 "--account", str(bad_account), "--out", str(out), "--quiet"]) == 0
    assert (out / "signals.csv").exists() and not (out / "deals.csv").exists()
    assert "trades" not in json.loads((out / "summary.json").read_text())


# == the account's errors ==========================================================================

def _fails(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and captured.out == ""
    return captured.err.splitlines()[0]


def test_a_strategy_with_a_risk_section_needs_an_account(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = _fails(["backtest", "--config", str(above_100(tmp_path)), "--bars", str(no_bars(tmp_path)),
                   "--ticks", str(ticks_file(tmp_path)), "--out", str(tmp_path / "out")], capsys)
    assert line == ("tradestream backtest: ConfigError: strategy 'above-100' trades in account 'paper-1' "
                    "(its risk: section): give that account's file with --account FILE")


def test_an_account_file_of_another_account_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = account_file(tmp_path, "live-7")
    line = _fails(["backtest", "--config", str(above_100(tmp_path)), "--bars", str(no_bars(tmp_path)),
                   "--ticks", str(ticks_file(tmp_path)), "--account", str(other), "--out", str(tmp_path / "o")],
                  capsys)
    assert line == (f"tradestream backtest: ConfigError: --account {other} is account 'live-7', but strategy "
                    "'above-100' trades in 'paper-1' (risk.account): give that account's file")


def test_a_bad_account_file_names_its_problems_and_the_file(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    bad = account_file(tmp_path, starting_capital=50000.5)
    assert main(["backtest", "--config", str(above_100(tmp_path)), "--bars", str(no_bars(tmp_path)),
                 "--ticks", str(ticks_file(tmp_path)), "--account", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tradestream backtest: AccountFileError: starting_capital: ")
    assert "float" in err and f"in {bad}" in err and "Traceback" not in err


def test_a_sale_before_the_fee_schedule_says_how_to_backtest_old_dates(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    account = account_file(tmp_path, regime={"from": "2000-01-03", "regime": "legacy_pdt"})
    assert main(["backtest", "--config", str(above_100(tmp_path)), "--bars", str(no_bars(tmp_path)),
                 "--ticks", str(ticks_file(tmp_path, "2006-06-13")), "--account", str(account),
                 "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("tradestream backtest: FeeScheduleError: the fee schedule has no sec_section_31 row "
                             "for trade date 2006-06-13")
    assert "charges: {regulatory_fees: false}" in err[1] and not any("Traceback" in line for line in err)
    # ... and with the fees off, the same prints trade (the rest as on the 2026 date, less the $0.45 of fees)
    config = above_100(tmp_path, charges={"commission": "ibkr_fixed", "regulatory_fees": False})
    assert main(["backtest", "--config", str(config), "--bars", str(no_bars(tmp_path)),
                 "--ticks", str(ticks_file(tmp_path, "2006-06-13")), "--account", str(account),
                 "--out", str(tmp_path / "old"), "--quiet"]) == 0
    [deal] = read_csv(tmp_path / "old" / "deals.csv")
    assert (deal["entry_qty"], D(deal["pnl"]), D(deal["charges"]), D(deal["net_pnl"])) == \
        ("198", D("-613.80"), D("2.00"), D("-615.80"))


# == over bars only, on the real one-minute data ===================================================

def minute_bars_csv(path: Path, symbol: str = "IDX") -> Path:
    """The one-minute file (Date,Time,...: the time, New York, is the bar's end) as a bars CSV."""
    with MINUTES.open() as source, path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["symbol", "start", "end", "open", "high", "low", "close", "volume"])
        for date, time, open_, high, low, close, volume, _ in csv.reader(source.readlines()[1:]):
            end = dt.datetime.fromisoformat(f"{date}T{time}").replace(tzinfo=ET)
            writer.writerow([symbol, (end - dt.timedelta(minutes=1)).isoformat(), end.isoformat(), open_, high, low,
                             close, volume])
    return path


def breakout(tmp_path: Path) -> Path:
    """Long on a 5-minute Donchian(20) breakout, evaluated every minute, out below the lower band (the exit
    rule); a 0.2 % stop, a 0.3 % target, closed 5 minutes before the close; sized from risk; no regulatory fees
    (the schedule starts in 2025)."""
    return write_yaml(tmp_path / "breakout.yaml", {
        "name": "idx-breakout", "type": "intraday", "instrument": "equity", "symbols": ["IDX"], "timeframe": "5m",
        "interval": "1m", "days": "all", "start_time": "09:30", "end_time": "16:00", "direction": "long",
        "mode": "virtual", "max_signals_per_day": 10_000, "max_signals_per_symbol": 10_000,
        "entry_rules": ["crosses_above(price(IDX), donchian_upper(IDX, 5m, 20))"],
        "exit_rules": ["price(IDX) < donchian_lower(IDX, 5m, 20)"],
        "sanity": {"max_deviation_pct": 1000, "max_staleness_seconds": 7 * 86400},
        "order": {"exchange": "SMART", "order_type": "market", "product": "margin", "quantity": 1},
        "risk": {"account": "paper-1", "stop_pct": "0.2"},
        "trade": {"target_pct": "0.3", "monitor_interval_s": 60, "close_before_close_minutes": 5},
        "charges": {"commission": "ibkr_fixed", "regulatory_fees": False}})


def old_account(tmp_path: Path) -> Path:
    return account_file(tmp_path, regime={"from": "2000-01-03", "regime": "legacy_pdt"}, starting_capital="100000",
                        limits=LIMITS | {"max_trades_per_day": 50})


@needs_minutes
def test_a_bars_backtest_on_real_minutes_trades_and_its_deals_add_up_to_the_summary(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["backtest", "--config", str(breakout(tmp_path)), "--bars", str(minute_bars_csv(tmp_path / "b.csv")),
                 "--account", str(old_account(tmp_path)), "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    deals = read_csv(out / "deals.csv")
    assert summary["trades"] == len(deals) >= 25
    assert summary["wins"] > 0 and summary["losses"] > 0
    assert sum(D(d["net_pnl"]) for d in deals) == D(summary["net_pnl"])
    assert sum(D(d["pnl"]) for d in deals) == D(summary["gross_pnl"])
    assert sum(D(d["charges"]) for d in deals) == D(summary["charges"])
    assert D(summary["ending_equity"]) == D(100_000) + D(summary["net_pnl"])
    completed = [d for d in deals if d["status"] == "Completed"]
    assert len(completed) >= len(deals) - 1 and all(d["exit_qty"] == d["entry_qty"] for d in completed)
    comments = {d["comment"] for d in completed}
    assert {"stop-loss", "profit target"} <= comments
    # every deal's quantities are its fills', and each fill's charges are in its deal's
    fills = read_csv(out / "fills.csv")
    assert sum(int(f["quantity"]) for f in fills if f["side"] == "BUY") == sum(int(d["entry_qty"]) for d in deals)
    assert sum(int(f["quantity"]) for f in fills if f["side"] == "SELL") == sum(int(d["exit_qty"]) for d in deals)
    assert sum(D(f["commission"]) + D(f["regulatory_fees"]) for f in fills) == D(summary["charges"])
    # a market entry decided at a minute's end fills at the open of the bar that starts then, known at its end
    bars = {row["start"]: row for row in read_csv(tmp_path / "b.csv")}
    placed = {o["client_order_id"]: o["ts"] for o in read_csv(out / "orders.csv")
              if o["event"] == "ACCEPTED" and o["side"] == "BUY"}
    for fill in (f for f in fills if f["side"] == "BUY"):
        bar = bars[utc(placed[fill["client_order_id"]]).astimezone(ET).isoformat()]
        assert (utc(fill["ts"]), D(fill["price"])) == (dt.datetime.fromisoformat(bar["end"]), D(bar["open"]))


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def incremental_and_merged(config_path: Path, bars_path: Path, account_path: Path) -> tuple[list, list]:
    """The desk's events stepping the session bar by bar (`session.on_bar(bar, bar.end)`), and those of the
    backtest's bars path (the vectorised decisions, then `trade_over_bars`), on the bars as the command reads them."""
    import argparse

    from processors.scanner import SignalLimiter, in_schedule
    from processors.strategies.engine import event_order_key
    from processors.strategies.pipeline import StrategyPipeline
    from processors.strategies.vectorized import backtest_bars
    from tradestream.commands.backtest import _load_inputs
    from tradestream.commands.backtest_trading import trade_over_bars, trading_session

    inputs = _load_inputs(argparse.Namespace(config=str(config_path), bars=str(bars_path), bars_timeframe=None,
                                             ticks=None, account=str(account_path)))
    config, calendar = inputs.config, inputs.calendar

    def session():  # noqa: ANN202
        pipeline = StrategyPipeline(config, calendar, SignalLimiter.from_config(config),
                                    lambda ts: in_schedule(config, ts))
        return trading_session(config, pipeline, inputs.account, calendar)

    stepped, incremental = session(), []
    for bar in sorted(inputs.bars, key=event_order_key):
        incremental += stepped.on_bar(bar, bar.end).trading
    assert not stepped.finish().decisions
    merged_session = session()
    decisions = backtest_bars(config, inputs.bars, calendar)
    merged = trade_over_bars(merged_session, inputs.bars, decisions, daily=config.timeframe == "1d")
    assert merged_session.desk.deal_rows() == stepped.desk.deal_rows()
    assert merged_session.desk.snapshot() == stepped.desk.snapshot()  # the same state at the end
    return incremental, merged


@needs_minutes
def test_over_bars_the_desk_makes_the_events_of_stepping_the_session_bar_by_bar(tmp_path: Path) -> None:
    incremental, merged = incremental_and_merged(breakout(tmp_path), minute_bars_csv(tmp_path / "b.csv"),
                                                 old_account(tmp_path))
    kinds = {type(event).__name__ for event in incremental}
    assert kinds == {"RiskDecisionMade", "OrderStatusChanged", "FillExecuted", "TradeUpdated",
                     "OvernightCoverageChecked"}
    assert len(incremental) > 200
    assert merged == incremental


DAILY = Path("/work/shared/data/market/nvda-1999-2014.txt")


@pytest.mark.skipif(not DAILY.exists(), reason="the shared daily file is absent")
def test_over_daily_bars_the_desk_makes_the_events_of_stepping_the_session_bar_by_bar(tmp_path: Path) -> None:
    """On 1d the instant (a session's close) is evaluated by the next day's bar: its decisions follow the bar."""
    bars = tmp_path / "daily.csv"
    with DAILY.open() as source, bars.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["symbol", "start", "open", "high", "low", "close", "volume"])
        for row in csv.DictReader(source):
            if "2004-01-01" <= row["Date"] < "2008-01-01":
                start = dt.datetime.combine(dt.date.fromisoformat(row["Date"]), dt.time(9, 30), tzinfo=ET)
                writer.writerow(["NVDA", start.isoformat(), row["Open"], row["High"], row["Low"], row["Close"],
                                 row["Volume"]])
    config = write_yaml(tmp_path / "daily.yaml", {
        "name": "nvda-daily-breakout", "type": "positional", "instrument": "equity", "symbols": ["NVDA"],
        "timeframe": "1d", "interval": "1m", "days": "all", "start_time": "09:30", "end_time": "16:00",
        "direction": "long", "mode": "virtual",
        "max_signals_per_day": 10, "max_signals_per_symbol": 10,
        "entry_rules": ["crosses_above(price(NVDA), donchian_upper(NVDA, 1d, 20) * 0.97)"],
        "exit_rules": ["price(NVDA) < donchian_lower(NVDA, 1d, 10) * 1.03"],
        "sanity": {"max_deviation_pct": 1000, "max_staleness_seconds": 7 * 86400},
        "order": {"exchange": "SMART", "order_type": "market", "product": "margin", "quantity": 100},
        "risk": {"account": "paper-1", "stop_pct": 5}, "trade": {"target_pct": 10},
        "charges": {"commission": "ibkr_fixed", "regulatory_fees": False}})
    incremental, merged = incremental_and_merged(config, bars, old_account(tmp_path))
    assert sum(type(event).__name__ == "FillExecuted" for event in incremental) >= 20
    assert merged == incremental


def test_the_readme_lists_the_trading_files_columns() -> None:
    from tradestream.commands.backtest_trading import TRADING_FILES

    tables = {}
    for line in (Path(__file__).resolve().parents[2] / "README.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0] in (*TRADING_FILES, "deals.csv"):
            tables[cells[0]] = tuple(c.strip() for c in cells[1].split(","))
    assert tables == {**TRADING_FILES, "deals.csv": DEALS_COLUMNS}

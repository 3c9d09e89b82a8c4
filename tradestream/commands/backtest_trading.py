"""Trade management in `tradestream backtest`: the account, the desk over the run, and the trading files.

A strategy with a `risk:` section trades in the account of `--account` (an account file,
processors.risk.account_file): its decisions go to a `TradingDesk` built from the strategy's risk:,
trade: and charges: sections (processors.trading.setup), through the `TradingSession` the live runner
uses, so the backtest makes the risk decisions, orders, fills and trades the live desk would.

    account = account_for(config, args.account)               # None: the strategy has no risk: section
    session = trading_session(config, pipeline, account, calendar)
    events = trade_over_bars(session, bars, decisions, ...)   # bars only, after the vectorised decisions
    write_trading_files(out, events, session.desk)
    summary |= trading_summary(events, session.desk, account)

Over bars only, the decisions come from the vectorised backtest for the whole run, then the desk takes the
bars and the decisions merged in the order the incremental pipeline (`session.on_bar`, bar by bar) gives
them to it: the decisions of an evaluation instant E go to the desk just before the bar whose arrival
evaluates E. On intraday timeframes that is the first bar ending at or after E (the engine evaluates E on
the state before E), so at one time the decisions come before the bars; on 1d it is the first bar ending
after the session close E (the daily bar ending at E is part of the state). `ts_init` of the desk's events
is that bar's end, as when stepping bar by bar with the bar's end as ts_init. An entry decided at a bar's
end is thus filled by the next bar, at its open (processors.trading.desk).

The files, beside signals.csv (times ISO-8601 UTC, money as exact decimals, empty cells for absent values):

    decisions.csv   one row per risk decision (entries and the exits the trade manager asked for)
    orders.csv      one row per order event (OrderStatusChanged: accepted, rejected, cancelled, ...)
    fills.csv       one row per fill (FillExecuted) with its commission and regulatory fees
    trades.csv      one row per trade: its newest TradeUpdated, every field
    deals.csv       the deals report (processors.deals.DEALS_COLUMNS), one row per trade
"""

from __future__ import annotations

import bisect
import csv
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from schemas.errors import ConfigError

if TYPE_CHECKING:
    from processors.calendar import MarketCalendar
    from processors.csvio import BarColumns
    from processors.model import Bar
    from processors.risk import Account
    from processors.scanner import ScannerConfig
    from processors.strategies.pipeline import Decisions, StrategyPipeline
    from processors.trading.desk import TradingDesk
    from processors.trading.session import TradingEvent, TradingSession

PROGRESS_EVERY = 10_000
CENT = Decimal("0.01")

DECISION_COLUMNS = ("ts", "intent_id", "account_id", "strategy", "symbol", "side", "action", "outcome", "quantity",
                    "requested_quantity", "signal_price", "stop_price", "unit_risk", "risk_budget", "equity",
                    "regime", "kill_switch_tripped", "reasons")
ORDER_COLUMNS = ("ts", "client_order_id", "sequence", "trade_id", "account_id", "strategy", "symbol", "event",
                 "status", "side", "order_type", "quantity", "filled_quantity", "limit_price", "stop_price",
                 "trigger_price", "reason")
FILL_COLUMNS = ("ts", "exec_id", "client_order_id", "trade_id", "account_id", "strategy", "symbol", "side",
                "quantity", "price", "filled_quantity", "leaves_quantity", "commission", "regulatory_fees")
TRADE_COLUMNS = ("ts", "trade_id", "version", "change", "account_id", "strategy", "ss_type", "signal_type", "symbol",
                 "direction", "status", "entry_qty", "exit_qty", "entry_price", "exit_price", "initial_stop",
                 "stop_price", "target_price", "pnl", "charges", "net_pnl", "net_pnl_pct", "opened", "closed",
                 "comment")
TRADING_FILES = {"decisions.csv": DECISION_COLUMNS, "orders.csv": ORDER_COLUMNS, "fills.csv": FILL_COLUMNS,
                 "trades.csv": TRADE_COLUMNS}
_TIMES = {"ts": "ts_event", "opened": "opened_ns", "closed": "closed_ns"}


def account_for(config: ScannerConfig, path: str | None) -> Account | None:
    """The account the strategy trades in, from the file at `path`; None when the strategy has no risk: section
    (then `path` is not read). ConfigError when the file is missing or holds another account."""
    from tradestream.commands.inputs import load_account

    if config.risk is None:
        return None
    if path is None:
        raise ConfigError(f"strategy {config.name!r} trades in account {config.risk.account!r} (its risk: section): "
                          "give that account's file with --account FILE")
    account = load_account(path)
    if account.account_id != config.risk.account:
        raise ConfigError(f"--account {path} is account {account.account_id!r}, but strategy {config.name!r} "
                          f"trades in {config.risk.account!r} (risk.account): give that account's file")
    return account


def trading_session(config: ScannerConfig, pipeline: StrategyPipeline, account: Account | None,
                    calendar: MarketCalendar) -> TradingSession:
    """The strategy's session: with a desk for `account`, or (None) the strategy alone."""
    from processors.trading.desk import TradingDesk
    from processors.trading.session import TradingSession
    from processors.trading.setup import desk_config

    desk = None if account is None else TradingDesk(desk_config([config], account, calendar))
    return TradingSession({config.name: pipeline}, desk)


def instants_of(decisions: Decisions) -> list[tuple[int, Decisions]]:
    """The decisions grouped by evaluation instant, in time order (signals and intents; the desk needs no
    suppressed signal)."""
    from processors.strategies.pipeline import Decisions

    groups: dict[int, Decisions] = {}
    for signal in decisions.signals:
        groups.setdefault(signal.ts_event, Decisions()).signals.append(signal)
    for intent in decisions.intents:
        groups.setdefault(intent.ts_event, Decisions()).intents.append(intent)
    return sorted(groups.items(), key=lambda item: item[0])


def trade_over_bars(session: TradingSession, bars: Sequence[Bar], decisions: Decisions, *, daily: bool,
                    progress: object = None) -> list[TradingEvent]:
    """The desk's events over `bars` (in any order; of a `BarColumns`, only the bars the desk is given are built)
    and the strategy's `decisions` over them (module docstring): the same as stepping `session.on_bar(bar,
    bar.end)` through the strategy bar by bar, and the same final state.

    A bar that reaches an idle desk is held back instead (`_IdleDesk`): with no working order and no running
    trade, a bar only marks its symbol's price (the last one counts) and runs sweeps that find nothing, so
    only the latest held bar of each symbol is given, just before the desk's next input. Bars that may do
    more are always given at once: the first of each New York date (the day roll), those within two sweep
    intervals of the desk's last event (the sweep after a fill may latch the kill switch) and a bar the
    broker would refuse (so its error is raised where it would be). The bars held in a row are found by
    searching the bars' ends, not bar by bar."""
    import pandas as pd

    from processors.csvio import BarColumns

    columns = BarColumns.of_bars(bars)
    codes = pd.factorize(columns.symbol, sort=True)[0]
    order = np.lexsort((np.arange(len(columns)), codes, columns.end))  # event_order_key, stable
    idle = _IdleDesk(session, _canonical_prices(columns.rows(order)), codes[order])
    ends = idle.bars.end.tolist()
    instants = instants_of(decisions)
    # the bar whose arrival evaluates each instant: the first ending after it on 1d, at or after it intraday
    evaluated_by = np.searchsorted(idle.bars.end, np.array([ts for ts, _ in instants], dtype=np.int64),
                                   side="right" if daily else "left").tolist()
    events: list[TradingEvent] = []
    next_instant, count, total, row = 0, len(instants), len(ends), 0
    while row < total:
        end = ends[row]
        while next_instant < count and evaluated_by[next_instant] <= row:
            events += idle.release()
            step = session.on_decisions(instants[next_instant][1], end).trading
            events += step
            idle.after(step, end)
            next_instant += 1
        stop = idle.hold(row, evaluated_by[next_instant] if next_instant < count else total)
        if stop == row:
            events += idle.release()
            step = session.on_market_bar(idle.bars[row], end).trading
            events += step
            idle.after(step, end)
            stop = row + 1
        if progress is not None and stop // PROGRESS_EVERY > row // PROGRESS_EVERY:
            progress.update(stop, f"{stop:,}/{total:,} bars")  # type: ignore[attr-defined]
        row = stop
    # instants after the last bar were never evaluated by a bar (the pipeline's finish evaluates none)
    return events + idle.release()


class _IdleDesk:
    """Which bars an idle desk can be given late (trade_over_bars), and the bars held back."""

    def __init__(self, session: TradingSession, bars: BarColumns, codes: np.ndarray) -> None:
        from processors.calendar import ET

        self.session = session
        self.desk = session.desk
        self.bars = bars              # in event order
        self.ends = bars.end.tolist()
        self.codes = codes            # each bar's symbol, as a number
        self.refused = np.flatnonzero(~_in_range(bars))  # the bars the broker would refuse
        self.zone = ET
        self.held: dict[int, int] = {}  # symbol code -> the row of its latest held bar
        self.idle = False
        self.quiet_from = 0           # bars ending at or after this may be held (two sweeps after the last event)
        self.next_day_ns = 0          # the next New York midnight: the first bar at or after it rolls the day
        if self.desk is not None:
            self.margin_ns = 2 * self.desk.config.trade_manager.sweep_interval_s * 1_000_000_000

    def hold(self, row: int, limit: int) -> int:
        """Hold back the bars from `row` that the idle desk may take later, up to `limit` at most (exclusive);
        returns the row after the last one held, `row` itself when that bar must be given now."""
        end = self.ends[row]
        if end >= self.next_day_ns:
            self._next_day(end)
            return row
        if not self.idle or end < self.quiet_from:
            return row
        # the ends increase: every bar up to the next day roll, the next refused bar or `limit` is held
        refused = self.refused[np.searchsorted(self.refused, row):][:1]
        stop = min(limit, int(refused[0]) if refused.size else len(self.ends),
                   bisect.bisect_left(self.ends, self.next_day_ns))
        if stop > row:
            codes, last = np.unique(self.codes[row:stop][::-1], return_index=True)
            self.held.update(zip(codes.tolist(), (stop - 1 - last).tolist()))
        return stop

    def release(self) -> list[TradingEvent]:
        """The held bars (the latest of each symbol), in event order, before the desk's next input; each with its
        end as ts_init, as it would have been given."""
        if not self.held:
            return []
        out: list[TradingEvent] = []
        for row in sorted(self.held.values()):
            bar = self.bars[row]
            out += self.session.on_market_bar(bar, bar.end).trading
        self.held.clear()
        return out

    def after(self, events: list, ts: int) -> None:
        """The desk took an input at `ts` that gave `events`: is it idle now?"""
        if events or not self.idle:
            desk = self.desk
            self.quiet_from = ts + self.margin_ns
            self.idle = (desk is not None and not any(desk.trade_manager.has_open_trades(a) for a in desk.config.accounts)
                         and not desk.broker.has_working_orders())

    def _next_day(self, ts: int) -> None:
        import datetime as dt

        local = dt.datetime.fromtimestamp(ts / 1e9, self.zone).date() + dt.timedelta(days=1)
        midnight = dt.datetime.combine(local, dt.time(0), tzinfo=self.zone)
        self.next_day_ns = int(midnight.timestamp()) * 1_000_000_000


def _canonical_prices(bars: BarColumns) -> BarColumns:
    """The bars with their open, high, low and close as the desk takes them (`canonical`: without trailing
    fractional zeros), made once per price object (the reader shares one per distinct price text), so that
    the desk need not replace a bar."""
    from dataclasses import replace

    import pandas as pd

    from processors.trading.desk import canonical

    def plain(prices: np.ndarray) -> np.ndarray:
        codes, _ = pd.factorize(np.fromiter(map(id, prices), dtype=np.uint64, count=len(prices)))
        first = np.empty(codes.max(initial=-1) + 1, dtype=np.int64)
        first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)  # the first row of each price object
        values = np.empty(len(first), dtype=object)
        values[:] = [canonical(price) for price in prices[first]]
        return values[codes]

    return replace(bars, **{name: plain(getattr(bars, name)) for name in ("open", "high", "low", "close")})


def _in_range(bars: BarColumns) -> np.ndarray:
    """Which bars the broker takes as far as their prices go: 0 < low <= open <= high and low <= close <= high,
    compared exactly (on the floats where they differ, on the prices themselves where the floats are equal)."""
    low, open_, high, close = (bars.floats(name) for name in ("low", "open", "high", "close"))

    def at_most(name: str, value: np.ndarray, other_name: str, other: np.ndarray) -> np.ndarray:
        result = value < other
        tie = np.flatnonzero(value == other)
        result[tie] = getattr(bars, name)[tie] <= getattr(bars, other_name)[tie]
        return result

    return ((low > 0) & at_most("low", low, "open", open_) & at_most("open", open_, "high", high)
            & at_most("low", low, "close", close) & at_most("close", close, "high", high))


# -- the files ---------------------------------------------------------------------------------------

def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, tuple):
        return "; ".join(str(v) for v in value)
    return str(value)


def _row(event: object, columns: Sequence[str]) -> list[str]:
    from processors.csvio import format_time

    cells = []
    for column in columns:
        if column in _TIMES:
            ns = getattr(event, _TIMES[column])
            cells.append("" if ns is None else format_time(ns))
        else:
            cells.append(_cell(getattr(event, column)))
    return cells


def newest_trades(events: Iterable[object]) -> list[object]:
    """The newest TradeUpdated of each trade, in the order the trades first appeared."""
    from processors.model import TradeUpdated

    newest: dict[str, TradeUpdated] = {}
    for event in events:
        if isinstance(event, TradeUpdated):
            newest[event.trade_id] = event
    return list(newest.values())


def write_trading_files(out: Path, events: Sequence[object], desk: TradingDesk) -> None:
    """decisions.csv, orders.csv, fills.csv, trades.csv and deals.csv in `out` (module docstring)."""
    from processors.deals import DEALS_COLUMNS
    from processors.model import FillExecuted, OrderStatusChanged, RiskDecisionMade

    out.mkdir(parents=True, exist_ok=True)
    kinds = {"decisions.csv": RiskDecisionMade, "orders.csv": OrderStatusChanged, "fills.csv": FillExecuted}
    rows: dict[str, list[list[str]]] = {name: [_row(e, TRADING_FILES[name]) for e in events if isinstance(e, kind)]
                                        for name, kind in kinds.items()}
    rows["trades.csv"] = [_row(trade, TRADE_COLUMNS) for trade in newest_trades(events)]
    for name, columns in TRADING_FILES.items():
        _write(out / name, columns, rows[name])
    _write(out / "deals.csv", DEALS_COLUMNS, [row.cells() for row in desk.deal_rows()])


def _write(path: Path, columns: Sequence[str], rows: Iterable[list[str]]) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)


# -- the summary -------------------------------------------------------------------------------------

def trading_summary(events: Sequence[object], desk: TradingDesk, account: Account) -> dict[str, object]:
    """The risk decisions (and how many were rejected), the trades' figures: counts, win rate (% of completed trades), gross P&L, charges, net P&L, the maximum
    drawdown of the realised net equity curve ($ and % of starting capital) and the ending (realised) equity.
    Money as exact decimal strings.

    The curve is the starting capital plus every trade's net P&L as its TradeUpdated events give it: a trade's
    net P&L (realised P&L less every charge so far) changes at each of its fills, and each fill changes the trade,
    so the curve has a point at every fill."""
    from processors.deals import DealStatus
    from processors.model import RiskDecisionMade, TradeUpdated

    rows = desk.deal_rows()
    completed = [row for row in rows if row.status == DealStatus.COMPLETED]
    wins = sum(row.net_pnl > 0 for row in completed)
    losses = sum(row.net_pnl < 0 for row in completed)
    capital = account.starting_capital
    trade_net: dict[str, Decimal] = {}
    equity = peak = capital
    drawdown = Decimal(0)
    for event in events:
        if isinstance(event, TradeUpdated):
            equity += event.net_pnl - trade_net.get(event.trade_id, Decimal(0))
            trade_net[event.trade_id] = event.net_pnl
            peak = max(peak, equity)
            drawdown = max(drawdown, peak - equity)
    gross = sum((row.pnl for row in rows), Decimal(0))
    charges = sum((row.charges for row in rows), Decimal(0))
    net = sum((row.net_pnl for row in rows), Decimal(0))
    decisions = [event for event in events if isinstance(event, RiskDecisionMade)]
    return {
        "risk_decisions": len(decisions), "rejected": sum(d.outcome == "REJECT" for d in decisions),
        "trades": len(rows), "completed_trades": len(completed), "running_trades": len(rows) - len(completed),
        "wins": wins, "losses": losses,
        "win_rate_pct": _money(Decimal(100) * wins / len(completed), "0.01") if completed else None,
        "gross_pnl": _money(gross), "charges": _money(charges), "net_pnl": _money(net),
        "max_drawdown": _money(drawdown),
        "max_drawdown_pct": _money(Decimal(100) * drawdown / capital, "0.0001") if capital else None,
        "starting_capital": _money(capital), "ending_equity": _money(capital + net),
    }


def _money(value: Decimal, places: str | None = None) -> str:
    """Exact digits, at least to the cent (the events' 8-decimal grid without its trailing zeros); `places`
    rounds (a ratio)."""
    if places is not None:
        return format(value.quantize(Decimal(places)), "f")
    cents = value.quantize(CENT)
    return format(cents if cents == value else value.normalize(), "f")

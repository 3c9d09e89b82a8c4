"""The trade manager's sweep (`processors.trades.manager`, "Scale" in its docstring): the stop, target and
risk-reduction checks on the prices since the previous sweep, the kill switches and the time closes, run at
each multiple of the sweep interval that event time passed. `SweepMixin` is mixed into `TradeManager`, whose
state (trades by symbol, prices, accounts, the calendar) it reads and whose exit requests it makes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta
from decimal import Decimal

from processors.calendar import TradingDay, to_ns
from processors.model import price_of_e8
from processors.risk.account import et_date
from processors.risk.intent import ExitReason
from processors.risk.sizing import percent
from processors.trades.events import ExitRequested
from processors.trades.fields import price_units_field
from processors.trades.settings import TimeClose
from processors.trades.timeclose import close_moment_ns, next_moment_ns
from processors.trades.trade import NEVER_ABOVE, NEVER_BELOW, PendingExit, TradeState

ZERO = Decimal(0)
CENT = Decimal("0.01")
UNITS_REMEMBERED = 4096  # distinct prices whose check and 1e-8 count the manager keeps (`_price_units`)


@dataclass(slots=True)
class Price:
    last: Decimal
    last_e8: int
    low_e8: int
    high_e8: int


class SweepMixin:
    """The sweep of `TradeManager` (see the module docstring); it holds no state of its own."""

    def _catch_up(self, ts_event: int, *, inclusive: bool) -> list[ExitRequested]:
        """Run the sweeps due before `ts_event` (at or before it if `inclusive`)."""
        interval = self._interval_ns
        last_due = ts_event // interval * interval
        if not inclusive and last_due == ts_event:
            last_due -= interval
        if self._swept_ns is None:
            self._swept_ns = last_due       # nothing existed before the first event: no sweep to run
            return []
        requests: list[ExitRequested] = []
        while self._swept_ns < last_due:
            if self._dirty:
                at = self._swept_ns + interval
            else:
                at = self._next_time_close_sweep(self._swept_ns, last_due)
                if at is None:
                    self._swept_ns = last_due
                    break
            requests += self._sweep(at)
        return requests

    def _next_time_close_sweep(self, after_ns: int, until_ns: int) -> int | None:
        """The first sweep instant at or after a time-close instant in (after_ns, until_ns], if any trade runs."""
        if not self._by_symbol:
            return None
        moments = [m for rule in self._time_close_rules
                   if (m := next_moment_ns(rule, self.config.calendar, after_ns, until_ns)) is not None]
        if not moments:
            return None
        interval = self._interval_ns
        return -(-min(moments) // interval) * interval

    def _sweep(self, at: int) -> list[ExitRequested]:
        self._swept_ns = at
        made: list[tuple[int, int, ExitRequested]] = []
        for symbol in sorted(self._touched):
            price = self._prices.get(symbol)
            trades = self._by_symbol.get(symbol)
            if price is None:
                continue
            if trades:
                low, high = price.low_e8, price.high_e8
                for trade in list(trades.values()):
                    if trade.fresh:
                        own_low, own_high = trade.fresh_low_e8, trade.fresh_high_e8
                        trade.fresh, trade.fresh_low_e8, trade.fresh_high_e8 = False, None, None
                        if own_low is not None and own_high is not None and (
                                own_low <= trade.lower_e8 or own_high >= trade.upper_e8):
                            self._crossed(trade, own_low, own_high, price, at, made)
                    elif low <= trade.lower_e8 or high >= trade.upper_e8:
                        self._crossed(trade, low, high, price, at, made)
            self._fresh.pop(symbol, None)
            price.low_e8 = price.high_e8 = price.last_e8
        self._touched.clear()
        self._memo.clear()
        self._kill_switches(at, made)
        self._time_closes(at, made)
        self._dirty = False
        return in_order(made)

    def _crossed(self, trade: TradeState, low_e8: int, high_e8: int, price: Price, at: int,
                 made: list[tuple[int, int, ExitRequested]]) -> None:
        """The exits of a trade whose interval range [low, high] reached one of its thresholds."""
        long = trade.long
        adverse = _price_of(low_e8 if long else high_e8, self._memo)
        if (adverse <= trade.stop) if long else (adverse >= trade.stop):   # the common case of a crash: first
            self._request(trade, trade.available, ExitReason.STOP_LOSS, adverse, at,
                          f"the {'low' if long else 'high'} {adverse} since the last sweep reached the stop "
                          f"{trade.stop}", made, closes_all=True)
            return
        favour = _price_of(high_e8 if long else low_e8, self._memo)
        best = "high" if long else "low"
        if trade.target is not None and ((favour >= trade.target) if long else (favour <= trade.target)):
            self._request(trade, trade.available, ExitReason.PROFIT_TARGET, favour, at,
                          f"the {best} {favour} since the last sweep reached the target {trade.target}", made,
                          closes_all=True)
            return
        levels = self._levels(trade)
        moved = False
        while trade.levels_done < len(levels) and trade.available > 0:
            level = levels[trade.levels_done]
            level_price = trade.level_price(level)
            if not ((favour >= level_price) if long else (favour <= level_price)):
                break
            trade.levels_done += 1
            quantity = 0 if level.sell is None else level.sell.quantity(trade.available, trade.lot_size)
            new_stop = trade.moved_stop(level)
            stop_words = f"; stop {trade.stop} -> {new_stop}" if new_stop != trade.stop else ""
            if quantity > 0:
                self._request(trade, quantity, ExitReason.RISK_REDUCTION, favour, at,
                              f"the {best} {favour} reached {level.trigger_r} R at {level_price}{stop_words}", made)
            moved = moved or new_stop != trade.stop
            trade.stop = new_stop
        if moved and trade.available > 0 and ((price.last <= trade.stop) if long else (price.last >= trade.stop)):
            self._request(trade, trade.available, ExitReason.STOP_LOSS, price.last, at,
                          f"the stop moved to {trade.stop}, at or through the latest price {price.last}", made)
        trade.refresh_thresholds(levels)
        if moved:
            self._changed(trade)

    def _kill_switches(self, at: int, made: list[tuple[int, int, ExitRequested]]) -> None:
        for account_id in sorted(self._accounts):
            account = self._accounts[account_id]
            settings = self.config.accounts.get(account_id)
            if settings is not None and not account.kill_switch.tripped and account.start_of_day_equity is not None:
                loss = max(ZERO, account.baseline - self._total_pnl(account))
                limit_pct = settings.limits.max_drawdown_pct
                if loss > 0 and loss >= account.start_of_day_equity * limit_pct / 100:
                    reason = (f"max_drawdown_pct {limit_pct} % reached: the day's loss {loss} is "
                              f"{percent(loss, account.start_of_day_equity)} % of start-of-day equity "
                              f"{account.start_of_day_equity}")
                    account.kill_switch = account.kill_switch.trip(reason, at)
            if account.kill_switch.tripped:
                for trade in list(self._by_account.get(account_id, {}).values()):
                    if trade.available > 0:
                        self._request(trade, trade.available, ExitReason.KILL_SWITCH, self._latest(trade.symbol), at,
                                      f"the kill switch is latched: {account.kill_switch.reason}", made)

    def _time_closes(self, at: int, made: list[tuple[int, int, ExitRequested]]) -> None:
        scopes = [(rule, self._by_strategy.get(name, {})) for name, settings in sorted(self.config.strategies.items())
                  if (rule := settings.time_close) is not None]
        scopes += [(rule, self._by_account.get(name, {})) for name, settings in sorted(self.config.accounts.items())
                   if (rule := settings.time_close) is not None]
        for rule, trades in scopes:
            if not trades:
                continue
            day = self._trading_day(at)
            moment = None if day is None else close_moment_ns(rule, day)
            if moment is None or at < moment:
                continue
            for trade in list(trades.values()):
                if trade.available > 0 and (trade.intraday or rule.positional):
                    self._request(trade, trade.available, ExitReason.TIME_CLOSE, self._latest(trade.symbol), at,
                                  f"time close at {_describe(rule)}", made)

    def _price_units(self, price: object) -> tuple[Decimal, int]:
        """`price_units_field` of a print's price, remembered for the latest distinct finite Decimal prices (a
        symbol's prices repeat: a bar's four, the next bar's)."""
        if type(price) is not Decimal or not price.is_finite():
            return price_units_field(price, "price.price")
        units = self._units.get(price)
        if units is None:
            if len(self._units) >= UNITS_REMEMBERED:
                self._units.clear()
            units = self._units[price] = price_units_field(price, "price.price")[1]
        return price, units

    def on_calendar_amended(self) -> None:
        """The calendar was amended in place: the trading day looked up last is looked up again."""
        self._looked_up_day = None

    def _trading_day(self, ts: int) -> TradingDay | None:
        """The calendar's trading day of the ET date of `ts` (`moment_on_day_of`'s day), looked up once a date."""
        calendar = self.config.calendar
        looked_up = self._looked_up_day
        if looked_up is None or looked_up[0] is not calendar or not looked_up[1] <= ts < looked_up[2]:
            date = et_date(ts)
            looked_up = (calendar, to_ns(date, time(0)), to_ns(date + timedelta(days=1), time(0)), calendar.day(date))
            self._looked_up_day = looked_up
        return looked_up[3]

    def _request(self, trade: TradeState, quantity: int, reason: ExitReason, trigger: Decimal | None, at: int,
                 detail: str, made: list[tuple[int, int, ExitRequested]], closes_all: bool = False) -> None:
        """An exit request of `quantity` (`closes_all`: every share not yet requested, so the trade's thresholds
        go out of reach without being recomputed)."""
        sequence = trade.next_sequence
        trade.next_sequence += 1
        request_id = f"{trade.trade_id}:exit:{sequence}"
        trade.pending[request_id] = PendingExit(quantity, reason)
        if not closes_all and trade.available > 0:
            trade.refresh_thresholds(self._levels(trade))
        else:  # every open share is being closed: nothing left for a sweep to check
            trade.lower_e8, trade.upper_e8 = NEVER_BELOW, NEVER_ABOVE
        made.append((trade.ordinal, sequence, ExitRequested(
            request_id=request_id, trade_id=trade.trade_id, account_id=trade.account_id, strategy=trade.strategy,
            symbol=trade.symbol, side=trade.exit_side, quantity=quantity, reason=reason, trigger_price=trigger,
            ts_event=at, detail=detail)))


def _price_of(units: int, memo: dict[int, Decimal]) -> Decimal:
    """The price of a count of 1e-8 without its trailing zeros, to the cent at least (102.10, 97.905)."""
    price = memo.get(units)
    if price is None:
        price = price_of_e8(units).normalize()
        price = memo[units] = price.quantize(CENT) if int(price.as_tuple().exponent) > -2 else price
    return price


def in_order(made: list[tuple[int, int, ExitRequested]]) -> list[ExitRequested]:
    return [request for _, _, request in sorted(made, key=lambda item: (item[0], item[1]))]


def _describe(rule: TimeClose) -> str:
    if rule.before_close_s is not None:
        return f"{rule.before_close_s} s before the close"
    return f"{rule.at_et:%H:%M} ET (relative to the close on early-close days)"

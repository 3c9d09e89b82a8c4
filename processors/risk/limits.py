"""The account's entry limits that are counts or latches: the kill switch, the drawdown, active trades,
trades per day. Each returns a `Check`; none of them ever applies to an exit.

    kill_switch       entries are refused while it is tripped (killswitch.py)
    max_drawdown_pct  the day's loss, −(realised + unrealised P&L of the day) / start-of-day equity × 100,
                      reaching the limit trips the kill switch at the decision's event time (`evaluate_drawdown`,
                      which the trade manager also calls on every P&L update so that it closes the open
                      trades); a gain is a loss of 0 %
    active_trades     open trades + this one <= max_active_trades (an add-on's trade is open already: + 0)
    trades_per_day    trades opened today + this one <= max_trades_per_day (an add-on opens none: + 0)
    netting           no position held and no trade open or working on the other side of the symbol: an account
                      holds one net position per symbol (as a broker's account nets them), so a short entry
                      while long would close part of the long position rather than open a trade, and the trades
                      on both sides could then not all be closed by their exits (a buy to close the short trade
                      finds the account net long): refused, saying what is held
"""

from __future__ import annotations

from decimal import Decimal

from processors.risk.account import RiskLimits
from processors.risk.checks import Check, CheckOutcome, passed_or_failed
from processors.risk.killswitch import KillSwitch
from processors.risk.sizing import percent
from processors.risk.state import AccountSnapshot
from processors.risk.stops import BUY, SELL

ZERO = Decimal(0)


def kill_switch_check(switch: KillSwitch) -> Check:
    if switch.tripped:
        return Check("kill_switch", Decimal(1), ZERO, CheckOutcome.FAILED,
                     f"the kill switch is tripped ({switch.reason}); entries are refused until an operator "
                     "resets it with a reason")
    return Check("kill_switch", ZERO, ZERO, CheckOutcome.PASSED, "the kill switch is not tripped")


def drawdown_pct(snapshot: AccountSnapshot) -> Decimal:
    """The day's loss as % of start-of-day equity (0 for a gain)."""
    return percent(max(ZERO, -snapshot.day_pnl), snapshot.start_of_day_equity)


def evaluate_drawdown(limits: RiskLimits, snapshot: AccountSnapshot, ts_ns: int) -> tuple[Check, KillSwitch]:
    """The drawdown check and the kill switch after it: tripped at `ts_ns` when the loss reaches the limit."""
    loss = max(ZERO, -snapshot.day_pnl)
    limit_amount = snapshot.start_of_day_equity * limits.max_drawdown_pct / 100
    shown = drawdown_pct(snapshot)
    detail = (f"the day's loss {loss} (realised {snapshot.realised_pnl_today}, unrealised "
              f"{snapshot.unrealised_pnl_today}) is {shown} % of start-of-day equity {snapshot.start_of_day_equity}")
    if loss >= limit_amount:
        reason = f"max_drawdown_pct {limits.max_drawdown_pct} % reached: {detail}"
        return (Check("max_drawdown_pct", shown, limits.max_drawdown_pct, CheckOutcome.FAILED, reason),
                snapshot.kill_switch.trip(reason, ts_ns))
    return (Check("max_drawdown_pct", shown, limits.max_drawdown_pct, CheckOutcome.PASSED, detail),
            snapshot.kill_switch)


def active_trades_check(limits: RiskLimits, snapshot: AccountSnapshot, add_on: bool = False) -> Check:
    count = len(snapshot.open_trades)
    after = count if add_on else count + 1
    words = f"{count} open trades, the add-on's trade among them" if add_on else f"{count} open trades + this one"
    return passed_or_failed("active_trades", after, limits.max_active_trades, after <= limits.max_active_trades,
                            words)


def trades_per_day_check(limits: RiskLimits, snapshot: AccountSnapshot, add_on: bool = False) -> Check:
    count = snapshot.trades_today
    after = count if add_on else count + 1
    words = (f"{count} trades opened today; an add-on opens none" if add_on
             else f"{count} trades opened today + this one")
    return passed_or_failed("trades_per_day", after, limits.max_trades_per_day, after <= limits.max_trades_per_day,
                            words)


def netting_check(snapshot: AccountSnapshot, symbol: str, side: str) -> Check:
    """The netting gate (module docstring) for an entry of `side` in `symbol`."""
    other = SELL if side == BUY else BUY
    position = snapshot.position(symbol)
    held = 0 if position is None else position.quantity
    against = held < 0 if side == BUY else held > 0
    trades = snapshot.open_trades.on_side(symbol, other)
    if against or trades:
        return Check("netting", Decimal(held), None, CheckOutcome.FAILED,
                     f"the account holds {held} {symbol} and {trades} {'long' if other == BUY else 'short'} trades "
                     f"open or working in it: positions are netted per symbol, so a {side} entry would close them "
                     "rather than open a trade of its own; close them first")
    return Check("netting", Decimal(held), None, CheckOutcome.PASSED,
                 f"the account holds {held} {symbol} and no trade on the other side")

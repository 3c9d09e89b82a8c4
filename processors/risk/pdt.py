"""The legacy pattern-day-trader rule (FINRA Rule 4210(f)(8)(B) before the 2026 amendment).

A day trade is a round trip opened and closed on the same New York date. Under the legacy regime a margin
account whose equity at the start of the day (the previous close, as brokers measured it) is under the
pattern-day-trader minimum ($25,000, or the house's higher figure) may make at most 3 day trades within 5
business days; the 4th is refused. The window is the decision's business day and the 4 before it, from
the NYSE calendar.

Exits are never blocked, so the count is enforced on entries, conservatively: every open trade opened
today may still close today, so it counts as a day trade to come, and an entry is refused when the day
trades done in the window plus those to come already reach 3 (the new one, closed today, would be the
4th). This holds for positional entries too: their same-day stop would be a day trade that nobody may
block. An add-on to a trade opened today makes no new day trade (buy, buy, sell is one), so it is refused
only when the count is past 3 already; an add-on to a trade opened earlier counts as a new entry (addon.py).
(The rule's other condition, day trades above 6 % of the account's trades in the window, only makes fewer
accounts pattern day traders; it is not modelled, which errs on the side of refusing.)
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from processors.risk.account import et_date
from processors.risk.checks import Check, CheckOutcome
from processors.risk.days import TradingDays
from processors.risk.state import AccountSnapshot

WINDOW_BUSINESS_DAYS = 5
DAY_TRADES_ALLOWED = 3


def day_trades_in_window(snapshot: AccountSnapshot, day: dt.date, days: TradingDays) -> int | None:
    """Round trips opened and closed on one date within the 5 business days ending on `day`; None when
    the calendar does not cover the window."""
    window = days.last_n(day, WINDOW_BUSINESS_DAYS)
    if window is None:
        return None
    inside = set(window)
    count = 0
    for trip in snapshot.round_trips:
        opened = et_date(trip.opened_ns)
        if opened == et_date(trip.closed_ns) and opened in inside:
            count += 1
    return count


def day_trade_check(snapshot: AccountSnapshot, day: dt.date, days: TradingDays, minimum_equity: Decimal,
                    new_day_trade: bool = True) -> Check:
    """The legacy rule's check for an entry on `day` (the caller applies it under the legacy regime only);
    `new_day_trade` False: an add-on joining the day trade of a trade opened today (counted in the open trades)."""
    equity = snapshot.start_of_day_equity
    if equity >= minimum_equity:
        return Check("day_trades", None, minimum_equity, CheckOutcome.PASSED,
                     f"start-of-day equity {equity} is at least the pattern-day-trader minimum {minimum_equity}: "
                     "day trades are not counted")
    done = day_trades_in_window(snapshot, day, days)
    if done is None:
        return Check("day_trades", None, DAY_TRADES_ALLOWED, CheckOutcome.FAILED,
                     f"the calendar does not cover the {WINDOW_BUSINESS_DAYS} business days ending {day}")
    to_come = snapshot.open_trades.opened_on(day)
    value = done + to_come
    detail = (f"start-of-day equity {equity} is under {minimum_equity}; {done} day trades in the "
              f"{WINDOW_BUSINESS_DAYS} business days ending {day}, {to_come} open trades opened today")
    if not new_day_trade:
        return Check("day_trades", value, DAY_TRADES_ALLOWED,
                     CheckOutcome.PASSED if value <= DAY_TRADES_ALLOWED else CheckOutcome.FAILED,
                     f"{detail}: this add-on joins the day trade of its trade, opened today, and makes no new one")
    if value >= DAY_TRADES_ALLOWED:
        return Check("day_trades", value, DAY_TRADES_ALLOWED, CheckOutcome.FAILED,
                     f"{detail}: this entry would make day trade {value + 1}, the legacy rule allows "
                     f"{DAY_TRADES_ALLOWED} within {WINDOW_BUSINESS_DAYS} business days")
    return Check("day_trades", value, DAY_TRADES_ALLOWED, CheckOutcome.PASSED,
                 f"{detail}: this entry would make day trade {value + 1} at most")

"""An add-on: an entry that adds units to a running trade (an operator's change of a trade's quantity to more
units), decided by `decide` as a strategy's entry is (`RiskIntent.adds_to` names the trade's record as the
snapshot counts it), with what differs because the trade exists already:

    add_on              the first check: which trade, its open units, average entry, stop and risk
    stop                the trade's current stop (the caller gives it as a StopPrice). A trade has one stop, so it
                        is never adjusted: when one lot does not fit the room, the add-on is refused whatever the
                        account's stop_breach_policy says
    active_trades       the trade is open already: n open trades (the add-on's among them), not n + 1
    trades_per_day      no trade is opened: the trades opened today, not + 1
    day_trades          (legacy PDT) an add-on to a trade opened today joins the day trade that trade may make
                        (FINRA counts buy, buy, sell as one), so it makes no new one; to a trade opened on an
                        earlier day, units bought today and sold today are a day trade to come, counted as a new
                        entry's is (the account book counts the round trip the same way)
    max_loss_per_trade  the per-trade budget is the grown trade's: the add-on's units get what the trade's risk at
                        its stop (open units x |average entry - stop| x multiplier) leaves of it
    max_open_risk       the open risk counts the trade's risk already; the add-on's units add theirs from the
                        signal price to the stop (together the grown trade's risk at its new average entry, or more
                        once the stop is past the entry, where the trade's own risk counts as zero)
    buying power, max_position_pct, max_capital_utilized_pct, the kill switch, the drawdown: as an entry's (the
                        position held includes the trade's units)
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from processors.risk.account import et_date
from processors.risk.checks import Check, CheckOutcome
from processors.risk.state import BUY, OpenTrade

ZERO = Decimal(0)


def add_on_check(trade: OpenTrade) -> Check:
    """What the add-on adds to, recorded first (passed: the figures the other checks start from)."""
    direction = "long" if trade.side == BUY else "short"
    return Check("add_on", Decimal(trade.quantity), None, CheckOutcome.PASSED,
                 f"adds to trade {trade.trade_id} ({direction} {trade.quantity} {trade.symbol} at average entry "
                 f"{trade.entry_price}, stop {trade.stop_price}, risk {trade.risk})")


def budget_left(budget: Decimal, trade: OpenTrade) -> Decimal:
    """The per-trade budget the add-on's units may use: what the trade's risk leaves of it (never below zero)."""
    return max(ZERO, budget - trade.risk)


def makes_day_trade(trade: OpenTrade | None, day: dt.date) -> bool:
    """Whether the entry may make a new day trade on `day`: a new trade may, and an add-on to a trade opened on an
    earlier day; an add-on to a trade opened on `day` joins that trade's."""
    return trade is None or et_date(trade.opened_ns) != day

"""What each regime adds to an entry's checks, and the buying power it gives the entry.

    regime            checks                                        buying power (margin.py, settlement.py)
    legacy_pdt        day_trades (pdt.py)                           intraday entry with start-of-day equity
                                                                    >= the PDT minimum: intraday (4×);
                                                                    otherwise overnight (2×)
    intraday_margin   intraday_margin: no deficit now               intraday entry: intraday (4×);
                      (equity >= maintenance requirement);          positional entry: overnight (2×)
                      day_trades not applicable
    cash              cash_short: a cash account cannot sell        settled cash only
                      short; day_trades not applicable

Every buying power is returned as a `sizing.Cap`, so it is recorded with the others.
"""

from __future__ import annotations

import datetime as dt

from processors.risk.account import Account, Regime
from processors.risk.addon import makes_day_trade
from processors.risk.checks import Check, CheckOutcome, not_applicable
from processors.risk.days import TradingDays
from processors.risk.intent import RiskIntent
from processors.risk.margin import buying_power, margin_units, requirement, units_within
from processors.risk.pdt import day_trade_check
from processors.risk.settlement import CashPosition
from processors.risk.sizing import Cap, in_lots
from processors.risk.state import AccountSnapshot
from processors.risk.stops import SELL


def regime_checks(regime: Regime, account: Account, snapshot: AccountSnapshot, intent: RiskIntent, day: dt.date,
                  days: TradingDays) -> list[Check]:
    if regime is Regime.LEGACY_PDT:
        return [day_trade_check(snapshot, day, days, account.pattern_day_trader_minimum_equity,
                                makes_day_trade(intent.adds_to, day))]
    checks = [not_applicable("day_trades", f"the {regime.value} regime has no day-trade count")]
    if regime is Regime.INTRADAY_MARGIN:
        equity = snapshot.equity
        needed = requirement(snapshot.positions, account.margin.maintenance_pct)
        outcome = CheckOutcome.PASSED if equity >= needed else CheckOutcome.FAILED
        checks.append(Check("intraday_margin", needed, equity, outcome,
                            f"maintenance requirement {needed} at {account.margin.maintenance_pct} % of the "
                            f"positions held, against equity {equity}"
                            + ("" if outcome is CheckOutcome.PASSED else ": an intraday margin deficit")))
    else:
        short = intent.side == SELL
        checks.append(Check("cash_short", None, None, CheckOutcome.FAILED if short else CheckOutcome.PASSED,
                            "a cash account cannot sell short" if short else "a long entry"))
    return checks


def cash_buying_power_cap(cash: CashPosition, intent: RiskIntent) -> Cap:
    """A cash account buys with its settled cash only."""
    unit_value = intent.signal_price * intent.multiplier
    settled = cash.settled_cash
    return Cap("buying_power", in_lots(units_within(settled, unit_value), intent.lot_size), settled,
               lambda q: q * unit_value,
               f"cash account: settled cash {settled} (unsettled {cash.unsettled_cash} is not spent), "
               f"entry value quantity × {unit_value}")


def margin_buying_power_cap(regime: Regime, account: Account, snapshot: AccountSnapshot, intent: RiskIntent) -> Cap:
    """Intraday (maintenance) or overnight (initial) buying power, as the table above says."""
    price, multiplier = intent.signal_price, intent.multiplier
    unit_value = price * multiplier
    equity, positions = snapshot.equity, snapshot.positions
    pattern_day_trader = snapshot.start_of_day_equity >= account.pattern_day_trader_minimum_equity
    intraday = intent.intraday and (regime is Regime.INTRADAY_MARGIN or pattern_day_trader)
    rate = account.margin.maintenance_pct if intraday else account.margin.initial_pct
    kind = "intraday (maintenance" if intraday else "overnight (initial"
    why = "" if intraday or not intent.intraday else (
        f"; legacy regime under the {account.pattern_day_trader_minimum_equity} pattern-day-trader minimum")
    allowed = in_lots(margin_units(equity, positions, rate, price, multiplier), intent.lot_size)
    return Cap("buying_power", allowed, buying_power(equity, positions, rate), lambda q: q * unit_value,
               f"{kind} {rate} %): (equity {equity} − requirement {requirement(positions, rate)}) × 100 / {rate}"
               f"{why}; entry value quantity × {unit_value}")

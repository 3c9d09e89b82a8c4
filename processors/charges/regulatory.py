"""The regulatory fees on one sale: the SEC's Section 31 fee and FINRA's Trading Activity Fee.

Both apply to sales only (long sales and short sales alike), at the rate in force on the fill's ET trade date
(`processors.charges.schedule`), and are computed per fill (each execution is one trade):

- Section 31: sale value x rate per million / 1,000,000, rounded UP to the cent. The SEC assesses the
  exchanges and FINRA on their aggregate covered sales; brokers recover it from customers per trade,
  rounded up to the nearest cent (see `processors.charges.money`). Example: a USD 1,234,567.89 sale on
  2026-05-01 at USD 20.60 per million is 25.4320985... -> USD 25.44.
- TAF: shares sold x rate per share, capped at the row's maximum per trade, rounded UP to the cent.
  Example: 2,000 shares on 2026-06-01 at USD 0.000195 is USD 0.39; 60,000 shares would be 11.70, capped at
  USD 9.79; any sale from 2026-10-01 through 2026-12-31 pays USD 0.00 (the TAF holiday).

Rounding up per fill makes an order split into several fills pay up to a cent more per fee than the same
order in one fill; that is how brokers pass the fees through (per execution), so it is modelled as such.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from processors.charges.money import ZERO_MONEY, require_price, require_quantity, round_up_to_cent
from processors.charges.schedule import Fee, FeeSchedule

ONE_MILLION = Decimal(1_000_000)


@dataclass(frozen=True, slots=True)
class RegulatoryFees:
    """The regulatory fees of one sale, each rounded up to the cent."""

    section_31: Decimal = ZERO_MONEY
    trading_activity_fee: Decimal = ZERO_MONEY

    @property
    def total(self) -> Decimal:
        return self.section_31 + self.trading_activity_fee


NO_REGULATORY_FEES = RegulatoryFees()
"""What a purchase pays."""


def section_31_fee(schedule: FeeSchedule, day: dt.date, sale_value: Decimal) -> Decimal:
    """The SEC Section 31 fee on a sale worth `sale_value` dollars on ET trade date `day`."""
    require_price(sale_value, "sale_value")
    row = schedule.rate(Fee.SEC_SECTION_31, day)
    fee = sale_value * row.rate / ONE_MILLION
    if row.maximum_per_trade is not None:
        fee = min(fee, row.maximum_per_trade)
    return round_up_to_cent(fee)


def trading_activity_fee(schedule: FeeSchedule, day: dt.date, quantity: int) -> Decimal:
    """FINRA's TAF on a sale of `quantity` shares on ET trade date `day`."""
    require_quantity(quantity)
    row = schedule.rate(Fee.FINRA_TAF, day)
    fee = quantity * row.rate
    if row.maximum_per_trade is not None:
        fee = min(fee, row.maximum_per_trade)
    return round_up_to_cent(fee)


def sale_fees(schedule: FeeSchedule, day: dt.date, quantity: int, price: Decimal) -> RegulatoryFees:
    """Both fees on a sale of `quantity` shares at `price` on ET trade date `day`."""
    require_price(price)
    return RegulatoryFees(section_31_fee(schedule, day, quantity * price),
                          trading_activity_fee(schedule, day, quantity))

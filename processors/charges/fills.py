"""Everything one fill is charged: the broker's commission (its share of the order's) plus, on a sale, the
regulatory fees. `ChargesModel` is the configuration (a commission model and a fee schedule); `charge_fill`
is the one call the execution and backtest paths make per fill, carrying the order's `OrderCommission`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from processors.charges.commission import IBKR_FIXED, CommissionModel, OrderCommission, add_fill
from processors.charges.errors import ChargesError
from processors.charges.regulatory import NO_REGULATORY_FEES, RegulatoryFees, sale_fees
from processors.charges.schedule import FeeSchedule, packaged_fee_schedule_text, parse_fee_schedule, trade_date


class Side(StrEnum):
    """The side of a fill, spelt as order intents spell it."""

    BUY = "BUY"
    SELL = "SELL"


@dataclass(frozen=True, slots=True)
class ChargesModel:
    """How fills are charged: the broker's commission model and the regulatory fee schedule."""

    commission: CommissionModel
    regulatory_fees: FeeSchedule


def default_charges_model() -> ChargesModel:
    """IBKR fixed pricing and the packaged regulatory fee schedule."""
    return ChargesModel(IBKR_FIXED, parse_fee_schedule(packaged_fee_schedule_text()))


@dataclass(frozen=True, slots=True)
class FillCharges:
    """One fill's charges, each in dollars to the cent."""

    commission: Decimal
    regulatory: RegulatoryFees

    @property
    def total(self) -> Decimal:
        return self.commission + self.regulatory.total


def charge_fill(model: ChargesModel, order: OrderCommission, side: Side | str, quantity: int, price: Decimal,
                ts_event: int) -> tuple[FillCharges, OrderCommission]:
    """The charges of one fill of `order` (`quantity` at `price`, at `ts_event` ns UTC), and the order after it.
    Regulatory fees apply if `side` is SELL, at the rates of the fill's ET trade date."""
    try:
        side = Side(side)
    except ValueError:
        raise ChargesError(f"side must be BUY or SELL, not {side!r}") from None
    commission, order = add_fill(model.commission, order, quantity, price)
    regulatory = (sale_fees(model.regulatory_fees, trade_date(ts_event), quantity, price) if side is Side.SELL
                  else NO_REGULATORY_FEES)
    return FillCharges(commission, regulatory), order

"""The broker's commission: per share with a minimum and a maximum per ORDER, charged fill by fill.

The default, `IBKR_FIXED`, is Interactive Brokers' fixed pricing for U.S. stocks and ETFs (IBKR Pro, as
published on interactivebrokers.com/en/pricing/commissions-stocks.php): USD 0.005 per share, minimum USD 1.00
per order, maximum 1% of trade value per order. IBKR's examples on that page: 100 shares at USD 25 = USD 1.00
(the minimum), 1,000 shares at USD 25 = USD 5.00, 1,000 shares at USD 0.25 = USD 2.50 (the 1% maximum).

How the minimum and maximum interact: the page gives both limits without saying which wins when 1% of the
trade value is below the minimum (an order worth less than USD 100 and under 200 shares). We apply the
maximum last, so the cap wins:

    commission = round_half_up_to_cent( min( max(shares x per_share, minimum), trade_value x maximum_rate ) )

so 100 shares at USD 0.50 (trade value USD 50) pays USD 0.50, not USD 1.00. This is the reading of "maximum
per order" as a ceiling on everything IBKR charges as commission; QuantConnect's Lean IB fee model reads it the
other way (the minimum wins). The fixed price includes exchange and most regulatory fees; the SEC fee and the
FINRA TAF on sales are passed through on top (`processors.charges.regulatory`).

Per order, fill by fill: the minimum and the maximum apply to an order's cumulative fills, so an order filled in
several fills pays the minimum once. Each fill is charged the increase of the order's commission:

    fill k pays  C(Q_k, V_k) - C(Q_{k-1}, V_{k-1})

where Q_k and V_k are the order's shares and trade value after fill k and C is the formula above (rounded).
The increments are whole cents, never negative (C grows with Q and V), and sum exactly to the order's
commission. IBKR treats an order that persists overnight, or is modified, as a new order for the minimum: the
caller starts a new `OrderCommission` for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from processors.charges.errors import ChargesError
from processors.charges.money import ZERO_MONEY, require_price, require_quantity, round_charge


@dataclass(frozen=True, slots=True)
class CommissionModel:
    """Commission per share, with a minimum (dollars) and a maximum (a fraction of trade value) per order."""

    per_share: Decimal
    minimum_per_order: Decimal
    maximum_rate_of_trade_value: Decimal | None

    def __post_init__(self) -> None:
        for name in ("per_share", "minimum_per_order"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
                raise ChargesError(f"{name} must be a non-negative Decimal, not {value!r}")
        maximum = self.maximum_rate_of_trade_value
        if maximum is not None and (not isinstance(maximum, Decimal) or not maximum.is_finite() or maximum <= 0):
            raise ChargesError(f"maximum_rate_of_trade_value must be a positive Decimal or None, not {maximum!r}")

    def order_commission(self, quantity: int, trade_value: Decimal) -> Decimal:
        """The commission of an order that filled `quantity` shares worth `trade_value` in all."""
        require_quantity(quantity)
        require_price(trade_value, "trade_value")
        commission = max(self.per_share * quantity, self.minimum_per_order)
        if self.maximum_rate_of_trade_value is not None:
            commission = min(commission, self.maximum_rate_of_trade_value * trade_value)
        return round_charge(commission)


IBKR_FIXED = CommissionModel(per_share=Decimal("0.005"), minimum_per_order=Decimal("1.00"),
                             maximum_rate_of_trade_value=Decimal("0.01"))
"""IBKR Pro fixed pricing, U.S. stocks and ETFs (whole shares)."""

ZERO_COMMISSION = CommissionModel(per_share=Decimal(0), minimum_per_order=Decimal(0), maximum_rate_of_trade_value=None)
"""A commission-free broker (regulatory fees still apply)."""


@dataclass(frozen=True, slots=True)
class OrderCommission:
    """One order's fills so far and the commission they have paid: the state to keep per open order (a
    Faust table value), replaced by each `add_fill`."""

    filled_quantity: int = 0
    filled_value: Decimal = Decimal(0)
    commission: Decimal = ZERO_MONEY


def add_fill(model: CommissionModel, order: OrderCommission, quantity: int,
             price: Decimal) -> tuple[Decimal, OrderCommission]:
    """The commission of one fill of `order` (the increase of the order's commission), and the order after it."""
    require_quantity(quantity)
    require_price(price)
    filled_quantity = order.filled_quantity + quantity
    filled_value = order.filled_value + quantity * price
    commission = model.order_commission(filled_quantity, filled_value)
    return commission - order.commission, OrderCommission(filled_quantity, filled_value, commission)


def fill_commissions(model: CommissionModel, fills: Iterable[tuple[int, Decimal]]) -> list[Decimal]:
    """The commission of each fill `(quantity, price)` of one order, in fill order; they sum to the order's."""
    order = OrderCommission()
    charged = []
    for quantity, price in fills:
        commission, order = add_fill(model, order, quantity, price)
        charged.append(commission)
    return charged

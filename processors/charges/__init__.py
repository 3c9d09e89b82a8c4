"""What a fill costs: the broker's commission and the regulatory fees on sales, exact to the cent.

    model = default_charges_model()            # IBKR fixed pricing + the packaged fee schedule
    order = OrderCommission()                  # one per order, kept while it fills
    charges, order = charge_fill(model, order, "SELL", 300, Decimal("25.10"), ts_event)
    charges.commission, charges.regulatory.section_31, charges.regulatory.trading_activity_fee, charges.total

Money is `Decimal` throughout (a float is refused). Commissions are rounded half up to the cent; regulatory
fees are rounded up to the cent (see `money`). The regulatory rates are data: `regulatory_fees.csv`, one
row per fee and period citing its notice, parsed by a pure function; a trade date with no row is an error.

The modules:

    money               the cent, the two rounding rules, and the checks on prices and quantities
    commission          CommissionModel (IBKR_FIXED by default): per share, minimum and maximum per order,
                        charged fill by fill so the fills of an order sum to the order's commission
    schedule            the effective-dated fee schedule: parsing the CSV text, lookup by ET trade date
    regulatory          the SEC Section 31 fee and the FINRA TAF on one sale
    fills               ChargesModel and charge_fill: all the charges of one fill
    errors              ChargesError and FeeScheduleError
    regulatory_fees.csv the rates, with their sources
"""

from processors.charges.commission import (IBKR_FIXED, ZERO_COMMISSION, CommissionModel, OrderCommission, add_fill,
                                           fill_commissions)
from processors.charges.errors import ChargesError, FeeScheduleError
from processors.charges.fills import ChargesModel, FillCharges, Side, charge_fill, default_charges_model
from processors.charges.money import CENT, round_charge, round_up_to_cent
from processors.charges.regulatory import (NO_REGULATORY_FEES, RegulatoryFees, sale_fees, section_31_fee,
                                           trading_activity_fee)
from processors.charges.schedule import (Fee, FeeRate, FeeSchedule, packaged_fee_schedule_text, parse_fee_schedule,
                                         trade_date)

__all__ = [
    "CENT", "IBKR_FIXED", "NO_REGULATORY_FEES", "ZERO_COMMISSION", "ChargesError", "ChargesModel", "CommissionModel",
    "Fee", "FeeRate", "FeeSchedule", "FeeScheduleError", "FillCharges", "OrderCommission", "RegulatoryFees", "Side",
    "add_fill", "charge_fill", "default_charges_model", "fill_commissions", "packaged_fee_schedule_text",
    "parse_fee_schedule", "round_charge", "round_up_to_cent", "sale_fees", "section_31_fee", "trade_date",
    "trading_activity_fee",
]

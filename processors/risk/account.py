"""An account as the risk decision sees it: who it is, its regime over time, its margin levels, its limits.

Glossary: the plan's names for the risk settings and their names in code (percentages are numbers of
percent: `Decimal("1")` is 1 %; money is in the account's currency).

    plan name                 code                                  meaning
    RM-Max-sp-per-trade ($)   RiskLimits.max_loss_per_trade         the most one trade may lose at its stop
    RM-Max-sp-per-trade%      RiskLimits.max_loss_per_trade_pct     the same, as % of current equity; the
                                                                    risk budget of a trade is the smaller
    RM-Max-sp                 RiskLimits.max_open_risk              the total risk of the open trades ($),
                                                                    this one included
    RM-Max-sp%                RiskLimits.max_drawdown_pct           the day's loss (realised + unrealised) as %
                                                                    of the day's starting equity at which the
                                                                    kill switch latches
    Position%                 RiskLimits.max_position_pct           one symbol's market value, % of equity
    Capital Utilized%         RiskLimits.max_capital_utilized_pct   all positions' gross market value, % of
                                                                    equity (above 100 only with margin)
    active trades             RiskLimits.max_active_trades          open trades, this one included
    trades per day            RiskLimits.max_trades_per_day         trades opened today, this one included
    TM-Isp                    stops.StopPercent / StopAmount /      the initial stop of an entry (see stops.py)
                              StopPrice

Regimes (`Regime`), each in force from its `RegimePeriod.effective_from` date (00:00 New York time) until
the next period's, so a replay applies the regime that was in force at each instant:

    legacy_pdt       FINRA Rule 4210(f)(8)(B) as it stood until 2026: a margin account with equity under
                     $25,000 may not make a 4th day trade within 5 business days (see pdt.py)
    intraday_margin  FINRA's intraday margin standard (SR-FINRA-2025-017, SEC Release 34-105226,
                     Regulatory Notice 26-10) in force from 2026-06-04, firms phasing it in until
                     2027-10-20: no day-trade count; intraday exposure limited by maintenance margin
                     (see margin.py for the definition used here). A period of it may not start before
                     2026-06-04: a replay of earlier days must not trade under a rule that did not exist.
    cash             a cash account: settled funds only, T+1 settlement, good-faith violations refused
                     (see settlement.py)

House margin levels (`MarginLevels`) default to Regulation T's 50 % initial and FINRA's 25 % maintenance;
a house may set stricter levels, validated maintenance <= initial <= 100 %.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum

from processors.calendar import ET, NS, UTC
from processors.risk.errors import RiskConfigError
from processors.risk.fields import bool_field, date_field, int_field, set_decimal, text_field

INTRADAY_MARGIN_EFFECTIVE = dt.date(2026, 6, 4)     # Regulatory Notice 26-10: the standard takes effect
INTRADAY_MARGIN_PHASE_IN_END = dt.date(2027, 10, 20)  # ... and every firm applies it by this date
PATTERN_DAY_TRADER_MINIMUM_EQUITY = Decimal(25_000)   # Rule 4210(f)(8)(B)(iv), legacy regime


class Regime(str, Enum):
    LEGACY_PDT = "legacy_pdt"
    INTRADAY_MARGIN = "intraday_margin"
    CASH = "cash"


class StopBreachPolicy(str, Enum):
    """What to do with an entry whose stop is so far that one lot's risk exceeds the room left."""

    REJECT = "reject"   # refuse the entry, saying which limit the stop breaches
    ADJUST = "adjust"   # move the stop towards the price until one lot fits (refused if under one tick)


def et_date(ts_ns: int) -> dt.date:
    """The New York calendar date of an instant (UTC nanoseconds)."""
    return dt.datetime.fromtimestamp(ts_ns // NS, UTC).astimezone(ET).date()


BROKERS = ("paper", "ibkr")  # where an account's orders go

@dataclass(frozen=True, slots=True, kw_only=True)
class MarginLevels:
    """House margin levels, % of market value: `initial_pct` for new positions carried overnight (Reg-T
    50 %), `maintenance_pct` for positions held (FINRA 25 %)."""

    initial_pct: Decimal = Decimal(50)
    maintenance_pct: Decimal = Decimal(25)

    def __post_init__(self) -> None:
        set_decimal(self, "initial_pct", "margin.", above=0, maximum=100)
        set_decimal(self, "maintenance_pct", "margin.", above=0, maximum=100)
        if self.maintenance_pct > self.initial_pct:
            raise RiskConfigError("margin.maintenance_pct", f"must not exceed initial_pct ({self.initial_pct}), "
                                                            f"got {self.maintenance_pct}")


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskLimits:
    """The account's limits on entries (see the glossary above). Exits are never limited by them."""

    max_loss_per_trade: Decimal
    max_loss_per_trade_pct: Decimal
    max_open_risk: Decimal
    max_drawdown_pct: Decimal
    max_active_trades: int
    max_trades_per_day: int
    max_position_pct: Decimal = Decimal(100)
    max_capital_utilized_pct: Decimal = Decimal(100)
    stop_breach_policy: StopBreachPolicy = StopBreachPolicy.REJECT

    def __post_init__(self) -> None:
        set_decimal(self, "max_loss_per_trade", "limits.", above=0)
        set_decimal(self, "max_loss_per_trade_pct", "limits.", above=0, maximum=100)
        set_decimal(self, "max_open_risk", "limits.", above=0)
        set_decimal(self, "max_drawdown_pct", "limits.", above=0, maximum=100)
        set_decimal(self, "max_position_pct", "limits.", above=0)
        set_decimal(self, "max_capital_utilized_pct", "limits.", above=0)
        int_field(self.max_active_trades, "limits.max_active_trades", minimum=1)
        int_field(self.max_trades_per_day, "limits.max_trades_per_day", minimum=1)
        if not isinstance(self.stop_breach_policy, StopBreachPolicy):
            try:
                object.__setattr__(self, "stop_breach_policy", StopBreachPolicy(self.stop_breach_policy))
            except ValueError:
                raise RiskConfigError("limits.stop_breach_policy", "must be 'reject' or 'adjust', "
                                                                   f"got {self.stop_breach_policy!r}") from None


@dataclass(frozen=True, slots=True)
class RegimePeriod:
    """`regime` is in force from 00:00 New York time on `effective_from` until the next period starts."""

    effective_from: dt.date
    regime: Regime

    def __post_init__(self) -> None:
        date_field(self.effective_from, "regimes.effective_from")
        try:
            object.__setattr__(self, "regime", Regime(self.regime))
        except ValueError:
            raise RiskConfigError("regimes.regime", f"must be one of {', '.join(r.value for r in Regime)}, "
                                                    f"got {self.regime!r}") from None
        if self.regime is Regime.INTRADAY_MARGIN and self.effective_from < INTRADAY_MARGIN_EFFECTIVE:
            raise RiskConfigError("regimes.effective_from",
                                  f"intraday_margin cannot be in force before {INTRADAY_MARGIN_EFFECTIVE} "
                                  f"(FINRA Regulatory Notice 26-10), got {self.effective_from}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Account:
    """A trading account. `regimes` is a sequence of `RegimePeriod` (or `(effective_from, regime)` pairs)
    in strictly increasing date order; `regime_at` answers which was in force at an instant."""

    account_id: str
    broker: str
    starting_capital: Decimal
    regimes: Sequence[RegimePeriod]
    limits: RiskLimits
    margin: MarginLevels = field(default_factory=MarginLevels)
    currency: str = "USD"
    pattern_day_trader_minimum_equity: Decimal = PATTERN_DAY_TRADER_MINIMUM_EQUITY
    good_faith_violations_refused: bool = True
    what_if_margin: bool = False
    """A live account: ask the broker for each order's margin impact (IBKR whatIf) before sending it, beside the
    risk stage's Reg-T figure; a large difference is reported."""

    def __post_init__(self) -> None:
        text_field(self.account_id, "account_id")
        text_field(self.broker, "broker")
        if self.broker not in BROKERS:
            raise RiskConfigError("broker", f"must be one of {', '.join(BROKERS)} (paper: the paper broker, SS-Mode "
                                            f"Virtual; ibkr: Interactive Brokers, SS-Mode Live), got {self.broker!r}")
        if not isinstance(self.currency, str) or len(self.currency) != 3 or not self.currency.isalpha() \
                or not self.currency.isupper():
            raise RiskConfigError("currency", f"must be a three-letter ISO 4217 code (USD), got {self.currency!r}")
        set_decimal(self, "starting_capital", "", above=0)
        set_decimal(self, "pattern_day_trader_minimum_equity", "", minimum=PATTERN_DAY_TRADER_MINIMUM_EQUITY)
        bool_field(self.good_faith_violations_refused, "good_faith_violations_refused")
        bool_field(self.what_if_margin, "what_if_margin")
        if not isinstance(self.limits, RiskLimits):
            raise RiskConfigError("limits", f"must be a RiskLimits, got {type(self.limits).__name__}")
        if not isinstance(self.margin, MarginLevels):
            raise RiskConfigError("margin", f"must be a MarginLevels, got {type(self.margin).__name__}")
        if isinstance(self.regimes, (str, bytes)) or not isinstance(self.regimes, Sequence) or not self.regimes:
            raise RiskConfigError("regimes", "must be a non-empty sequence of (effective_from, regime) periods")
        periods = tuple(p if isinstance(p, RegimePeriod) else _period(p) for p in self.regimes)
        for earlier, later in zip(periods, periods[1:]):
            if later.effective_from <= earlier.effective_from:
                raise RiskConfigError("regimes", "effective_from dates must be strictly increasing, got "
                                                 f"{earlier.effective_from} then {later.effective_from}")
        object.__setattr__(self, "regimes", periods)

    def regime_at(self, ts_ns: int) -> Regime | None:
        """The regime in force at the instant, or None before the first period."""
        return self.regime_on(et_date(ts_ns))

    def regime_on(self, day: dt.date) -> Regime | None:
        current = None
        for period in self.regimes:
            if period.effective_from > day:
                break
            current = period.regime
        return current


def _period(pair: object) -> RegimePeriod:
    if not isinstance(pair, tuple) or len(pair) != 2:
        raise RiskConfigError("regimes", f"each period must be a RegimePeriod or an (effective_from, regime) "
                                         f"pair, got {pair!r}")
    return RegimePeriod(pair[0], pair[1])

"""The risk decision: each order intent accepted, resized or rejected, with every check's figures.

    decision = decide(intent, account, snapshot, TradingDays.of(calendar), ts_event)
    decision.outcome, decision.quantity          # accept / resize / reject, whole lots
    decision.checks                              # name, value, limit, outcome, detail of every check

Pure: no clock, no I/O; the same inputs give the same decision. Money is Decimal throughout. The
modules, in the order a decision uses them:

    account      Account, RiskLimits (with the glossary of the plan's names), MarginLevels, the
                 effective-dated regimes (legacy PDT, intraday margin, cash)
    intent       RiskIntent: an entry with its initial stop, or an exit with its reason
    state        AccountSnapshot: cash, positions, open trades, round trips, kill switch, cash ledger
    decide       decide() and reject_unknown_account()
    entry        an entry's gates, stop, sizing and caps;   exits   an exit (never blocked by entry limits)
    decision     RiskDecision and Outcome;                  checks  Check and CheckOutcome
    stops        the initial stop on the tick grid (percentage, amount or a computed price)
    sizing       risk budget, risk quantity, the caps (open risk, position %, capital utilised %)
    limits       kill switch, drawdown latch, active trades, trades per day
    killswitch   the kill switch as data: trip, latch, reset with a reason
    regimes      what each regime checks and the buying power it gives
    margin       Reg-T buying power intraday and overnight, overnight coverage of positions
    pdt          the legacy day-trade count;                settlement  cash accounts, T+1, good faith
    days         business days from the NYSE calendar;      fields, errors  validation, RiskConfigError
"""

from processors.risk.account import (
    INTRADAY_MARGIN_EFFECTIVE,
    INTRADAY_MARGIN_PHASE_IN_END,
    Account,
    MarginLevels,
    Regime,
    RegimePeriod,
    RiskLimits,
    StopBreachPolicy,
)
from processors.risk.checks import Check, CheckOutcome
from processors.risk.days import TradingDays
from processors.risk.decide import decide, reject_unknown_account
from processors.risk.decision import Outcome, RiskDecision
from processors.risk.errors import RiskConfigError
from processors.risk.intent import Action, ExitReason, RiskIntent
from processors.risk.killswitch import KillSwitch
from processors.risk.limits import evaluate_drawdown
from processors.risk.margin import OvernightCoverage, intraday_buying_power, overnight_buying_power, overnight_coverage
from processors.risk.settlement import CashFill, CashLedger, Lot, PendingSettlement
from processors.risk.state import AccountSnapshot, OpenTrade, Position, RoundTrip
from processors.risk.stops import StopAmount, StopPercent, StopPrice

__all__ = [
    "INTRADAY_MARGIN_EFFECTIVE", "INTRADAY_MARGIN_PHASE_IN_END", "Account", "AccountSnapshot", "Action", "CashFill",
    "CashLedger", "Check", "CheckOutcome", "ExitReason", "KillSwitch", "Lot", "MarginLevels", "OpenTrade", "Outcome",
    "OvernightCoverage", "PendingSettlement", "Position", "Regime", "RegimePeriod", "RiskConfigError", "RiskDecision",
    "RiskIntent", "RiskLimits", "RoundTrip", "StopAmount", "StopBreachPolicy", "StopPercent", "StopPrice",
    "TradingDays", "decide", "evaluate_drawdown", "intraday_buying_power", "overnight_buying_power",
    "overnight_coverage", "reject_unknown_account",
]

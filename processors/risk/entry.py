"""Deciding an entry: the gates, the initial stop, the risk sizing and the caps, in that order.

1. Gates, each recorded even when an earlier one failed (the audit shows every reason at once): equity
   above zero, the kill switch, the drawdown (which trips the switch), active trades, trades per day, netting
   (no position or trade on the other side of the symbol), the regime's own checks, and for a cash account its ledger (settled cash).
2. The initial stop on the grid (stops.py); one lot's risk must fit the smaller of the risk budget and
   the open-risk room left. If it does not, `stop_breach_policy` says: `reject`, or `adjust` the stop
   towards the price until one lot fits (`stop_within_limits`, adjusted).
3. The risk quantity and the caps (sizing.py): the entry gets the smallest allowance. Sizing is computed
   even when a gate failed, so a rejected decision still shows what would have been sized.

An add-on to a running trade (`intent.adds_to`) is decided the same way with the differences addon.py lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from processors.risk.account import Account, Regime, StopBreachPolicy, et_date
from processors.risk.addon import add_on_check, budget_left
from processors.risk.checks import Check, CheckOutcome
from processors.risk.days import TradingDays
from processors.risk.decision import Outcome, RiskDecision, outcome_of, reasons_of
from processors.risk.intent import RiskIntent
from processors.risk.limits import (active_trades_check, evaluate_drawdown, kill_switch_check, netting_check,
                                   trades_per_day_check)
from processors.risk.regimes import cash_buying_power_cap, margin_buying_power_cap, regime_checks
from processors.risk.settlement import CashPosition, SettlementCalendarError, fold_ledger
from processors.risk.sizing import (
    Cap,
    apply_caps,
    capital_cap,
    in_lots,
    open_risk_cap,
    percent,
    position_cap,
    requested_cap,
    risk_budget,
    risk_quantity,
)
from processors.risk.state import AccountSnapshot
from processors.risk.stops import initial_stop, tighten_stop, unit_risk

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class _Sized:
    quantity: int          # after the caps
    asked: int             # the strategy's quantity in lots, or the risk quantity when it gave none
    stop: Decimal          # after any adjustment
    unit_risk: Decimal
    budget: Decimal
    risk_quantity: int


def decide_entry(intent: RiskIntent, account: Account, snapshot: AccountSnapshot, regime: Regime,
                 days: TradingDays, ts_event: int) -> RiskDecision:
    limits = account.limits
    equity = snapshot.equity
    day = et_date(ts_event)
    add_on = intent.adds_to is not None
    checks: list[Check] = [add_on_check(intent.adds_to)] if intent.adds_to is not None else []
    checks.append(Check("equity", equity, ZERO, CheckOutcome.PASSED if equity > 0 else CheckOutcome.FAILED,
                        f"cash {snapshot.cash} + positions at their last prices"))
    checks.append(kill_switch_check(snapshot.kill_switch))
    drawdown, switch = evaluate_drawdown(limits, snapshot, ts_event)
    checks += [drawdown, active_trades_check(limits, snapshot, add_on), trades_per_day_check(limits, snapshot, add_on),
               netting_check(snapshot, intent.symbol, intent.side)]
    checks += regime_checks(regime, account, snapshot, intent, day, days)
    cash, cash_check = _cash_position(regime, snapshot, days, ts_event)
    if cash_check is not None:
        checks.append(cash_check)

    stop, stop_check = initial_stop(intent.side, intent.signal_price, intent.stop, intent.tick_size)
    checks.append(stop_check)
    sized = None
    if stop is not None and equity > 0:
        sized = _size(intent, account, snapshot, regime, cash, stop, equity, checks)
    final = tuple(checks)
    outcome = outcome_of(sized.quantity if sized else 0, sized.asked if sized else 0, final)
    quantity = sized.quantity if sized and outcome is not Outcome.REJECT else 0
    trade_risk = quantity * sized.unit_risk if sized else None
    open_after = snapshot.open_risk + (trade_risk or ZERO)
    return RiskDecision(
        intent_id=intent.intent_id, account_id=account.account_id, strategy=intent.strategy, symbol=intent.symbol,
        side=intent.side, action=intent.action, ts_event=ts_event, regime=regime, outcome=outcome,
        quantity=quantity, requested_quantity=intent.quantity, checks=final, reasons=reasons_of(final),
        equity=equity, signal_price=intent.signal_price, stop_price=sized.stop if sized else None,
        unit_risk=sized.unit_risk if sized else None, risk_budget=sized.budget if sized else None,
        risk_quantity=sized.risk_quantity if sized else None, trade_risk=trade_risk,
        open_risk_after=open_after, total_risk_pct=percent(open_after, equity) if equity > 0 else None,
        kill_switch=switch, tripped_kill_switch=switch.tripped and not snapshot.kill_switch.tripped)


def _cash_position(regime: Regime, snapshot: AccountSnapshot, days: TradingDays, ts_event: int
                   ) -> tuple[CashPosition | None, Check | None]:
    if regime is not Regime.CASH:
        return None, None
    if snapshot.cash_ledger is None:
        return None, Check("cash_ledger", None, None, CheckOutcome.FAILED,
                           "a cash account's entry needs its cash ledger (settled cash, pending sales, fills)")
    try:
        cash = fold_ledger(snapshot.cash_ledger, days, ts_event)
    except SettlementCalendarError as error:
        return None, Check("cash_ledger", None, None, CheckOutcome.FAILED, str(error))
    return cash, Check("cash_ledger", cash.settled_cash, None, CheckOutcome.PASSED,
                       f"settled cash {cash.settled_cash}, unsettled {cash.unsettled_cash} on {cash.day}")


def _size(intent: RiskIntent, account: Account, snapshot: AccountSnapshot, regime: Regime,
          cash: CashPosition | None, stop: Decimal, equity: Decimal, checks: list[Check]) -> _Sized:
    limits, lot, multiplier = account.limits, intent.lot_size, intent.multiplier
    budget, budget_detail = risk_budget(limits, equity)
    trade = intent.adds_to
    left = budget if trade is None else budget_left(budget, trade)     # an add-on: what its trade leaves
    room = limits.max_open_risk - snapshot.open_risk
    policy = limits.stop_breach_policy if trade is None else None         # an add-on keeps its trade's stop
    stop, stop_check = _stop_within_limits(intent, policy, stop, min(left, room), left, room)
    checks.append(stop_check)
    unit = unit_risk(intent.signal_price, stop, multiplier)
    sized = risk_quantity(left, unit, lot)
    if trade is None:
        per_trade = Cap("max_loss_per_trade", sized, budget, lambda q: q * unit,
                        f"floor(budget / unit risk {unit}) in lots of {lot}, budget = {budget_detail.detail}")
    else:
        used = trade.risk
        per_trade = Cap("max_loss_per_trade", sized, budget, lambda q: used + q * unit,
                        f"the trade's risk {used} + quantity × unit risk {unit}: floor((budget - {used}) / {unit}) "
                        f"in lots of {lot}, budget = {budget_detail.detail}")
    caps = [per_trade, open_risk_cap(limits, snapshot, unit, lot)]
    if intent.quantity is not None:
        caps.append(requested_cap(intent.quantity, lot))
    if regime is not Regime.CASH:
        caps.append(margin_buying_power_cap(regime, account, snapshot, intent))
    elif cash is not None:   # without a ledger the cash_ledger gate has failed already
        caps.append(cash_buying_power_cap(cash, intent))
    caps += [position_cap(limits, snapshot, equity, intent.symbol, intent.side, intent.signal_price, multiplier, lot),
             capital_cap(limits, snapshot, equity, intent.signal_price, multiplier, lot)]
    asked = in_lots(intent.quantity, lot) if intent.quantity is not None else sized
    quantity, cap_checks = apply_caps(asked, caps, lot)
    checks += cap_checks
    return _Sized(quantity, asked, stop, unit, budget, sized)


def _stop_within_limits(intent: RiskIntent, policy: StopBreachPolicy | None, stop: Decimal, room: Decimal,
                        budget: Decimal, open_room: Decimal) -> tuple[Decimal, Check]:
    """The stop one lot can afford: unchanged, moved towards the price (adjust), or failed (reject; None: an
    add-on, whose stop is its trade's)."""
    per_lot = unit_risk(intent.signal_price, stop, intent.multiplier) * intent.lot_size
    kind = "risk budget" if policy is not None else "risk budget left by the trade"
    detail = (f"one lot of {intent.lot_size} at stop {stop} risks {per_lot}; room {room} = min({kind} "
              f"{budget}, open-risk room {open_room})")
    if per_lot <= room:
        return stop, Check("stop_within_limits", per_lot, room, CheckOutcome.PASSED, detail)
    if room <= 0:
        return stop, Check("stop_within_limits", per_lot, room, CheckOutcome.FAILED,
                           f"{detail}: no risk room is left for any stop")
    if policy is StopBreachPolicy.ADJUST:
        tightened = tighten_stop(intent.side, intent.signal_price, room / (intent.lot_size * intent.multiplier),
                                 intent.tick_size)
        if tightened is not None:
            after = unit_risk(intent.signal_price, tightened, intent.multiplier) * intent.lot_size
            return tightened, Check("stop_within_limits", after, room, CheckOutcome.ADJUSTED,
                                    f"{detail}: stop moved to {tightened} (one lot risks {after})")
        detail += ": the stop would come within one tick of the price"
    if policy is None:
        return stop, Check("stop_within_limits", per_lot, room, CheckOutcome.FAILED,
                           f"{detail}; an add-on keeps its trade's stop, which is not moved for it")
    return stop, Check("stop_within_limits", per_lot, room, CheckOutcome.FAILED,
                       f"{detail}; the stop breaches the limit and the account says {policy.value}")

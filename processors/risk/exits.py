"""Deciding an exit: never blocked by an entry limit.

An exit closes some or all of a held position; it is accepted whatever the kill switch, the drawdown, the
trade counts, the day-trade count, the risk limits or the buying power say (one `entry_limits` check,
not applicable, records that they were not applied). What can stop an exit:

- there is nothing to close: no position in the symbol, or one on the same side as the exit (a sell
  exit needs a long position, a buy exit a short one) -> rejected;
- it asks for more than is held -> resized to the position;
- in a cash account with `good_faith_violations_refused`, it would sell shares bought with funds that
  have not settled (settlement.py) -> rejected, with the date they settle. This is the sale itself being
  the violation, not an entry limit; the platform's own entries never buy with unsettled funds, so only
  shares bought outside it can meet it. Without a cash ledger the check cannot be made and the exit goes
  through, saying so.
"""

from __future__ import annotations

from decimal import Decimal

from processors.risk.account import Account, Regime
from processors.risk.checks import Check, CheckOutcome, not_applicable
from processors.risk.days import TradingDays
from processors.risk.decision import Outcome, RiskDecision, outcome_of, reasons_of
from processors.risk.intent import RiskIntent
from processors.risk.settlement import SettlementCalendarError, fold_ledger, good_faith_violation
from processors.risk.state import AccountSnapshot
from processors.risk.stops import BUY

ENTRY_LIMITS = ("kill switch, drawdown, active trades, trades per day, day trades, risk budget, open risk, "
                "buying power, position and capital utilisation")


def decide_exit(intent: RiskIntent, account: Account, snapshot: AccountSnapshot, regime: Regime,
                days: TradingDays, ts_event: int) -> RiskDecision:
    asked = intent.quantity or 0   # at least 1: RiskIntent.problems refuses an exit without one
    checks = [not_applicable("entry_limits", f"an exit ({intent.exit_reason.value}): the entry limits "
                                             f"({ENTRY_LIMITS}) do not apply")]
    position = snapshot.position(intent.symbol)
    held = 0 if position is None else position.quantity
    closes = held > 0 if intent.side != BUY else held < 0
    quantity = min(asked, abs(held)) if closes else 0
    if not closes:
        want = "long" if intent.side != BUY else "short"
        checks.append(Check("position", Decimal(asked), Decimal(held), CheckOutcome.FAILED,
                            f"a {intent.side} exit closes a {want} position; {held} of {intent.symbol} held"))
    else:
        outcome = CheckOutcome.PASSED if quantity == asked else CheckOutcome.CAPPED
        checks.append(Check("position", Decimal(asked), Decimal(abs(held)), outcome,
                            f"exit {asked} of {abs(held)} held", quantity))
    if regime is Regime.CASH and closes and intent.side != BUY:
        checks.append(_good_faith(intent, account, snapshot, days, ts_event, quantity))
    final = tuple(checks)
    outcome = outcome_of(quantity, asked, final)
    return RiskDecision(
        intent_id=intent.intent_id, account_id=account.account_id, strategy=intent.strategy, symbol=intent.symbol,
        side=intent.side, action=intent.action, ts_event=ts_event, regime=regime, outcome=outcome,
        quantity=0 if outcome is Outcome.REJECT else quantity, requested_quantity=intent.quantity, checks=final,
        reasons=reasons_of(final), equity=snapshot.equity, signal_price=intent.signal_price,
        kill_switch=snapshot.kill_switch)


def _good_faith(intent: RiskIntent, account: Account, snapshot: AccountSnapshot, days: TradingDays, ts_event: int,
                quantity: int) -> Check:
    if not account.good_faith_violations_refused:
        return not_applicable("good_faith", "the account does not refuse good-faith violations")
    if snapshot.cash_ledger is None:
        return not_applicable("good_faith", "no cash ledger was given: the good-faith check could not be made")
    try:
        cash = fold_ledger(snapshot.cash_ledger, days, ts_event)
    except SettlementCalendarError as error:
        return not_applicable("good_faith", f"the good-faith check could not be made: {error}")
    lot = good_faith_violation(cash, intent.symbol, quantity)
    if lot is None:
        return Check("good_faith", None, None, CheckOutcome.PASSED,
                     f"the {quantity} {intent.symbol} sold on {cash.day} were paid with settled funds")
    return Check("good_faith", None, None, CheckOutcome.FAILED,
                 f"selling {quantity} {intent.symbol} on {cash.day} would sell shares bought with funds that settle "
                 f"on {lot.funds_settle_on}: a good-faith violation; sell on or after {lot.funds_settle_on}")

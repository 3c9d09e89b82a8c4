"""`decide`: one risk intent in, one `RiskDecision` out, from explicit inputs only.

    decide(intent, account, snapshot, days, ts_event) -> RiskDecision

`ts_event` is the event time of the decision (the intent's own, in a replay as live); it picks the regime
in force (`Account.regime_at`), the business day and the time a kill switch trips. Nothing here reads a
clock, a calendar service or a topic. Before the entry or exit logic, the intent is checked against the
account and for values that cannot be decided (rejected with every problem named); an intent for an
account the caller does not know is answered by `reject_unknown_account`.
"""

from __future__ import annotations

from processors.risk.account import Account, et_date
from processors.risk.checks import Check, CheckOutcome
from processors.risk.days import TradingDays
from processors.risk.decision import Outcome, RiskDecision, reasons_of
from processors.risk.entry import decide_entry
from processors.risk.exits import decide_exit
from processors.risk.intent import Action, RiskIntent
from processors.risk.state import AccountSnapshot


def decide(intent: RiskIntent, account: Account, snapshot: AccountSnapshot, days: TradingDays,
           ts_event: int) -> RiskDecision:
    if intent.account_id != account.account_id:
        return _rejected(intent, ts_event, Check("account", None, None, CheckOutcome.FAILED,
                                                 f"the intent is for account {intent.account_id!r}, "
                                                 f"not {account.account_id!r}"))
    problems = intent.problems()
    if problems:
        return _rejected(intent, ts_event, Check("intent", None, None, CheckOutcome.FAILED, "; ".join(problems)))
    regime = account.regime_at(ts_event)
    if regime is None:
        return _rejected(intent, ts_event, Check("regime", None, None, CheckOutcome.FAILED,
                                                 f"no regime is in force before {account.regimes[0].effective_from}"))
    if intent.action is Action.EXIT:
        return decide_exit(intent, account, snapshot, regime, days, ts_event)
    day = et_date(ts_event)
    if days.covers(day) and not days.is_business_day(day):
        return _rejected(intent, ts_event, Check("trading_day", None, None, CheckOutcome.FAILED,
                                                 f"{day} is not a trading day of the calendar in force: no entry"))
    return decide_entry(intent, account, snapshot, regime, days, ts_event)


def reject_unknown_account(intent: RiskIntent, ts_event: int) -> RiskDecision:
    """The decision for an intent whose account is not known: rejected, saying so."""
    return _rejected(intent, ts_event, Check("account", None, None, CheckOutcome.FAILED,
                                             f"account {intent.account_id!r} is not known"))


def _rejected(intent: RiskIntent, ts_event: int, check: Check) -> RiskDecision:
    checks = (check,)
    return RiskDecision(
        intent_id=intent.intent_id, account_id=intent.account_id, strategy=intent.strategy, symbol=intent.symbol,
        side=intent.side, action=intent.action, ts_event=ts_event, regime=None, outcome=Outcome.REJECT, quantity=0,
        requested_quantity=intent.quantity, checks=checks, reasons=reasons_of(checks), equity=None,
        signal_price=intent.signal_price)

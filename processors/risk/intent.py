"""What the risk decision is asked: enter (open a trade) or exit (close some or all of a position).

`RiskIntent` checks its types when built (a RiskConfigError naming the field: such a record cannot be
decoded into an intent at all); its values (a negative quantity, a price at zero, a missing stop) are
judged by the decision, which rejects the intent with the reason, so a bad intent is answered and
recorded, never dropped.

For an entry, `quantity` is an upper bound the strategy asks for (None: size from risk alone) and `stop`
is its initial stop (TM-Isp). For an exit, `quantity` is how much to close and `exit_reason` why.
`intraday` says whether an entry is meant to close the same day (SS-Type intraday) or to be held
overnight (positional), which decides the buying power it may use. `adds_to` makes an entry an add-on: more
units of that running trade (its record as the snapshot counts it), decided as addon.py says.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from processors.model import OrderIntentCreated
from processors.risk.errors import RiskConfigError
from processors.risk.fields import bool_field, decimal_field, int_field, text_field
from processors.risk.state import OpenTrade
from processors.risk.stops import BUY, SELL, StopAmount, StopPercent, StopPrice, StopSpec


class Action(str, Enum):
    ENTRY = "entry"
    EXIT = "exit"


class ExitReason(str, Enum):
    STOP_LOSS = "stop_loss"
    PROFIT_TARGET = "profit_target"
    EXIT_RULE = "exit_rule"
    TIME_CLOSE = "time_close"
    RISK_REDUCTION = "risk_reduction"
    KILL_SWITCH = "kill_switch"
    MANUAL = "manual"


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskIntent:
    intent_id: str                  # the order intent's client order id
    account_id: str
    strategy: str
    symbol: str
    side: str                       # BUY or SELL
    action: Action
    signal_price: Decimal
    tick_size: Decimal
    ts_event: int
    stop: StopSpec | None = None
    quantity: int | None = None
    lot_size: int = 1
    multiplier: int = 1
    intraday: bool = True
    exit_reason: ExitReason | None = None
    adds_to: OpenTrade | None = None   # an add-on: the running trade it adds units to (addon.py)

    def __post_init__(self) -> None:
        for name in ("intent_id", "account_id", "strategy", "symbol"):
            text_field(getattr(self, name), f"intent.{name}")
        if self.side not in (BUY, SELL):
            raise RiskConfigError("intent.side", f"must be BUY or SELL, got {self.side!r}")
        object.__setattr__(self, "action", _enum(Action, self.action, "intent.action"))
        object.__setattr__(self, "signal_price", decimal_field(self.signal_price, "intent.signal_price"))
        object.__setattr__(self, "tick_size", decimal_field(self.tick_size, "intent.tick_size"))
        int_field(self.ts_event, "intent.ts_event")
        if self.stop is not None and not isinstance(self.stop, (StopPercent, StopAmount, StopPrice)):
            raise RiskConfigError("intent.stop", "must be a StopPercent, StopAmount, StopPrice or None, "
                                                 f"got {type(self.stop).__name__}")
        if self.quantity is not None:
            int_field(self.quantity, "intent.quantity")
        int_field(self.lot_size, "intent.lot_size")
        int_field(self.multiplier, "intent.multiplier")
        bool_field(self.intraday, "intent.intraday")
        if self.exit_reason is not None:
            object.__setattr__(self, "exit_reason", _enum(ExitReason, self.exit_reason, "intent.exit_reason"))
        if self.adds_to is not None and not isinstance(self.adds_to, OpenTrade):
            raise RiskConfigError("intent.adds_to", f"must be an OpenTrade or None, got {type(self.adds_to).__name__}")

    @classmethod
    def of_order_intent(cls, order: OrderIntentCreated, *, account_id: str, action: Action | str,
                        stop: StopSpec | None = None, quantity: int | None = None, lot_size: int = 1,
                        intraday: bool = True, exit_reason: ExitReason | str | None = None) -> RiskIntent:
        """The risk question of an order intent: its id, strategy, symbol, side, reference price, tick,
        multiplier and event time, with what the intent does not carry given here."""
        return cls(intent_id=order.client_order_id, account_id=account_id, strategy=order.strategy,
                   symbol=order.symbol, side=order.side, action=action, signal_price=order.reference_price,
                   tick_size=order.tick_size, ts_event=order.ts_event, stop=stop, quantity=quantity,
                   lot_size=lot_size, multiplier=order.multiplier, intraday=intraday, exit_reason=exit_reason)

    def problems(self) -> list[str]:
        """What is wrong with the intent's values, in words (empty when it can be decided)."""
        found = []
        if self.signal_price <= 0:
            found.append(f"signal_price must be above zero, got {self.signal_price}")
        if self.tick_size <= 0:
            found.append(f"tick_size must be above zero, got {self.tick_size}")
        if self.lot_size < 1:
            found.append(f"lot_size must be at least 1, got {self.lot_size}")
        if self.multiplier < 1:
            found.append(f"multiplier must be at least 1, got {self.multiplier}")
        if self.action is Action.ENTRY:
            if self.stop is None:
                found.append("an entry needs its initial stop (TM-Isp)")
            if self.quantity is not None and self.quantity < 1:
                found.append(f"quantity must be at least 1 or None (size from risk), got {self.quantity}")
            trade = self.adds_to
            if trade is not None and (trade.symbol, trade.side) != (self.symbol, self.side):
                found.append(f"an add-on must be of its trade's symbol and side: trade {trade.trade_id!r} is "
                             f"{trade.side} {trade.symbol}, the add-on {self.side} {self.symbol}")
        else:
            if self.quantity is None or self.quantity < 1:
                found.append(f"an exit needs a quantity of at least 1, got {self.quantity}")
            if self.exit_reason is None:
                found.append("an exit needs its exit_reason")
            if self.adds_to is not None:
                found.append("only an entry adds to a trade")
        return found


def _enum(kind: type[Enum], value: object, name: str) -> Enum:
    try:
        return kind(value)
    except ValueError:
        raise RiskConfigError(name, f"must be one of {', '.join(str(m.value) for m in kind)}, got {value!r}") from None

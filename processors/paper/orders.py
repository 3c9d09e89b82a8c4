"""Orders as the paper broker is given them (`PaperOrder`, `BracketOrder`) and as it holds them (`OrderState`).

The status of an order, broker-neutral (the same names the live broker adapter reports):

    Initiated   known but not working yet: a bracket's stop and target before the entry's first fill
    Placed      accepted and working, nothing filled (a stop, triggered or not, is Placed until it fills)
    Pending     partly filled, the rest still working (a bracket child: fills of the entry may still come)
    Success     filled in full (a bracket child: it closed the position and the entry will not fill more)
    Failed      rejected when placed; only in the `OrderRejected` event, the broker keeps no state for it,
                so the same client order id may be placed again with corrected values
    Cancelled   cancelled by request, or a bracket child cancelled because its sibling closed the position
                or its entry was cancelled before any fill; `filled_quantity` says what filled before

`PaperOrder` checks the types of its fields (TypeError, a programming error); its values (a quantity of 0,
a price off the tick grid) are judged by the broker, which answers with an `OrderRejected` event.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP = "STOP"
    STOP_LIMIT = "STOP_LIMIT"


class OrderStatus(StrEnum):
    INITIATED = "Initiated"
    PLACED = "Placed"
    PENDING = "Pending"
    SUCCESS = "Success"
    FAILED = "Failed"
    CANCELLED = "Cancelled"


TERMINAL = frozenset({OrderStatus.SUCCESS, OrderStatus.FAILED, OrderStatus.CANCELLED})
WORKING = frozenset({OrderStatus.PLACED, OrderStatus.PENDING})


class BracketRole(StrEnum):
    ENTRY = "entry"
    STOP = "stop"
    TARGET = "target"


def check_type(value: object, kinds: type | tuple[type, ...], name: str, *, optional: bool = False) -> None:
    """TypeError naming `name` unless `value` is one of `kinds` (never a bool for int; None if `optional`)."""
    if value is None and optional:
        return
    if isinstance(value, bool) and bool not in (kinds if isinstance(kinds, tuple) else (kinds,)):
        raise TypeError(f"{name} must be {_names(kinds)}, got bool {value!r}")
    if not isinstance(value, kinds):
        hint = "; convert floats with Decimal(str(x))" if isinstance(value, float) else ""
        raise TypeError(f"{name} must be {_names(kinds)}, got {type(value).__name__} {value!r}{hint}")


def _names(kinds: type | tuple[type, ...]) -> str:
    return " or ".join(kind.__name__ for kind in (kinds if isinstance(kinds, tuple) else (kinds,)))


def _enum(kind: type[StrEnum], value: object, name: str) -> StrEnum:
    if isinstance(value, kind):
        return value
    check_type(value, str, name)
    try:
        return kind(value)
    except ValueError:
        raise TypeError(f"{name} must be one of {', '.join(m.value for m in kind)}, got {value!r}") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class PaperOrder:
    """An order to place: `limit_price` for LIMIT and STOP_LIMIT, `stop_price` for STOP and STOP_LIMIT,
    both on the grid of `tick_size`. `client_order_id` is ours and deterministic (see processors.orders)."""

    client_order_id: str
    symbol: str
    side: Side
    order_type: OrderType
    quantity: int
    tick_size: Decimal
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None

    def __post_init__(self) -> None:
        check_type(self.client_order_id, str, "order.client_order_id")
        check_type(self.symbol, str, "order.symbol")
        object.__setattr__(self, "side", _enum(Side, self.side, "order.side"))
        object.__setattr__(self, "order_type", _enum(OrderType, self.order_type, "order.order_type"))
        check_type(self.quantity, int, "order.quantity")
        check_type(self.tick_size, Decimal, "order.tick_size")
        check_type(self.limit_price, Decimal, "order.limit_price", optional=True)
        check_type(self.stop_price, Decimal, "order.stop_price", optional=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class BracketOrder:
    """An entry with its protective stop and its profit target, one OCA group named by the entry's id.

    The children are the opposite side of the entry: a STOP at `stop_price` and a LIMIT at `target_price`,
    with the ids `<entry id>-stop` and `<entry id>-target`. They work only once the entry has filled, each
    for the open position (the entry's filled quantity less what either child has filled)."""

    entry: PaperOrder
    stop_price: Decimal
    target_price: Decimal

    def __post_init__(self) -> None:
        check_type(self.entry, PaperOrder, "bracket.entry")
        check_type(self.stop_price, Decimal, "bracket.stop_price")
        check_type(self.target_price, Decimal, "bracket.target_price")

    @property
    def stop_order_id(self) -> str:
        return f"{self.entry.client_order_id}-stop"

    @property
    def target_order_id(self) -> str:
        return f"{self.entry.client_order_id}-target"


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderState:
    """An order as the broker holds it. `sequence` is its time priority (given when it starts working: when
    placed, or for a bracket child at the entry's first fill); `active_since_ns` is the event time from
    which prints reach it. `triggered`: a stop has been triggered. `resting`: a limit (or a triggered
    stop-limit) has already seen a print, so it fills at its limit price from now on."""

    client_order_id: str
    symbol: str
    side: Side
    order_type: OrderType
    quantity: int
    tick_size: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None
    status: OrderStatus
    filled_quantity: int = 0
    fill_count: int = 0
    filled_notional: Decimal = Decimal(0)
    triggered: bool = False
    resting: bool = False
    sequence: int = 0
    active_since_ns: int | None = None
    role: BracketRole | None = None
    parent_id: str | None = None
    sibling_id: str | None = None
    children: tuple[str, ...] = ()

    @property
    def leaves_quantity(self) -> int:
        return self.quantity - self.filled_quantity

    @property
    def is_working(self) -> bool:
        return self.status in WORKING

    @property
    def is_open(self) -> bool:
        return self.status not in TERMINAL

    @property
    def average_price(self) -> Decimal | None:
        return self.filled_notional / self.filled_quantity if self.filled_quantity else None

    @property
    def limit_like(self) -> bool:
        """It fills as a limit now: a LIMIT, or a STOP_LIMIT once triggered."""
        return self.order_type is OrderType.LIMIT or (self.order_type is OrderType.STOP_LIMIT and self.triggered)

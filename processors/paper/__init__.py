"""The paper broker (SS-Mode Virtual): deterministic fills of our orders from the market data stream.

    broker = PaperBroker(FillModel(slippage_ticks=1, partial_fills=True))
    broker.place(PaperOrder(client_order_id="ts-1", symbol="AAPL", side="BUY", order_type="LIMIT",
                            quantity=100, tick_size=Decimal("0.01"), limit_price=Decimal("187.50")), ts_event)
    broker.on_trade("AAPL", Decimal("187.49"), 300, ts_event)   # -> [OrderFilled(..., price=187.49)]
    broker.on_bar(bar)                                          # bars-only mode
    PaperBroker.restore(broker.snapshot(), fill_model)          # a changelog's state, and back

Pure: no clock, no I/O, no randomness; the same commands and market data give the same events, exec ids
included. Prices are Decimal on each order's tick grid, quantities whole shares, times int ns UTC.
Bad order values are answered with `OrderRejected` (the reason in words); wrong types raise TypeError.

The modules:

    orders      PaperOrder, BracketOrder (the commands' records), OrderState, Side, OrderType,
                OrderStatus (Initiated, Placed, Pending, Success, Failed, Cancelled: what each means)
    events      OrderAccepted, OrderRejected, OrderModified, OrderTriggered, OrderFilled, OrderCancelled
    matching    the fill rules for market, limit, stop and stop-limit orders over a print or a bar, and slippage
    broker      PaperBroker: place, place_bracket, modify, cancel, on_trade, on_bar; priority, partial
                fills and the bars-only rules
    brackets    a bracket's children: built, settled against the entry (OCA), reachable within a bar
    validation  why an order, a bracket or a modification is refused
    snapshot    the state as a plain dict and back
    config      FillModel (slippage_ticks, partial_fills);   errors  PaperBrokerError
"""

from processors.paper.broker import PaperBroker
from processors.paper.config import FillModel
from processors.paper.errors import PaperBrokerError
from processors.paper.events import (Operation, OrderAccepted, OrderCancelled, OrderFilled, OrderModified,
                                     OrderRejected, OrderTriggered, PaperEvent)
from processors.paper.matching import Match, PriceRange, fill_price, match
from processors.paper.orders import (BracketOrder, BracketRole, OrderState, OrderStatus, OrderType, PaperOrder,
                                     Side)

__all__ = [
    "BracketOrder", "BracketRole", "FillModel", "Match", "Operation", "OrderAccepted", "OrderCancelled", "OrderFilled",
    "OrderModified", "OrderRejected", "OrderState", "OrderStatus", "OrderTriggered", "OrderType", "PaperBroker",
    "PaperBrokerError", "PaperEvent", "PaperOrder", "PriceRange", "Side", "fill_price", "match",
]

"""The figures a risk decision reads are kept as the account changes (processors/risk/running.py,
processors/trading/book_positions.py): after any sequence of prints, intents (market and limit, long and short,
partial fills), manual stop moves, manual add-ons, risk-reduction stop moves, sweeps and day rolls, the snapshot the
desk gives a decision holds exactly what a fresh reading of the account gives — the same open trades (the trade
manager's running trades with the rest of a partly filled entry or of a working add-on, and the entries not filled
yet), the same positions, and sums equal digit for digit to sums taken again."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from processors.model import TradeActionRequested, trade_action_id
from processors.paper import FillModel
from processors.pnl import Direction
from processors.risk import OpenTrade, StopPercent
from processors.risk.account import et_date
from processors.risk.running import ExactSum, OpenTradeIndex
from processors.risk.state import OpenTrades, Positions
from processors.trades import StrategySettings, TradeStatus
from processors.trades.settings import BreakEven, RiskReductionLevel, SellFraction
from processors.trading import AccountBook, StrategyTrading

from .conftest import D, account, config, et, intent, tick
from processors.trading import TradingDesk

SYMBOLS = ("AAA", "BBB", "CCC")
ZERO = Decimal(0)


def _desk() -> TradingDesk:
    # entries of 100 shares (about $200 of risk at a 2 % stop) leave room in the $500 budget for add-ons
    strategies = {"breakout": StrategyTrading(account_id="acct-1", stop=StopPercent(D(2)),
                                              cap_at_intent_quantity=True)}
    levels = (RiskReductionLevel(trigger_r=D(1), sell=SellFraction(D("0.5")), move_stop=BreakEven()),)
    return TradingDesk(config(
        accounts=[account(capital=1_000_000, max_active_trades=40, max_trades_per_day=200, max_open_risk=D(50_000))],
        strategies=strategies, tm_strategies={"breakout": StrategySettings(risk_reduction=levels)},
        fill_model=FillModel(partial_fills=True)))


step = st.one_of(
    st.tuples(st.just("print"), st.integers(0, 2), st.integers(9_000, 11_000), st.integers(1, 400)),
    st.tuples(st.just("intent"), st.integers(0, 2), st.sampled_from(["BUY", "SELL"]), st.booleans()),
    st.tuples(st.just("stop"), st.integers(0, 30), st.integers(-300, 300)),
    st.tuples(st.just("add"), st.integers(0, 30), st.integers(1, 60)),
    st.tuples(st.just("add"), st.integers(0, 30), st.integers(1, 20)),
    st.tuples(st.just("wait"), st.integers(1, 20)),
    st.tuples(st.just("day")),
)


def _fresh_open_trades(desk: TradingDesk, account_id: str) -> dict[str, OpenTrade]:
    """The open trades as the desk read them before they were kept: every running trade of the manager (with
    the rest of its entry order if that still works), then every working entry with nothing filled."""
    working = {o: desk.order(o) for o in desk._working if desk.order(o).account_id == account_id}
    add_ons = {order.trade_id: working.pop(o) for o, order in list(working.items()) if o != order.trade_id}
    out: dict[str, OpenTrade] = {}
    for view in desk.trade_manager.trades():
        if view.account_id != account_id or view.status is not TradeStatus.RUNNING:
            continue
        entry = working.pop(view.trade_id, None)
        rest = 0 if entry is None else entry.quantity - entry.filled
        quantity, price = view.open_quantity + rest, view.average_entry_price
        add_on = add_ons.get(view.trade_id)
        if add_on is not None and add_on.quantity > add_on.filled:    # its rest at its signal price
            more = add_on.quantity - add_on.filled
            price = (quantity * price + more * add_on.signal_price) / (quantity + more)
            if price.as_tuple().exponent < -8:
                price = price.quantize(D("1e-8"), "ROUND_CEILING" if view.direction is Direction.LONG
                                       else "ROUND_FLOOR")
            quantity += more
        out[view.trade_id] = OpenTrade(trade_id=view.trade_id, symbol=view.symbol,
                                       side="BUY" if view.direction is Direction.LONG else "SELL",
                                       quantity=quantity, entry_price=price,
                                       stop_price=view.stop_price, opened_ns=view.opened_ns)
    for order in working.values():
        if order.filled == 0:
            out[order.trade_id] = OpenTrade(trade_id=order.trade_id, symbol=order.symbol, side=order.side,
                                            quantity=order.quantity, entry_price=order.signal_price,
                                            stop_price=order.decision_stop, opened_ns=order.placed_ns)
    return out


def _check(desk: TradingDesk, ts: int) -> None:
    book = desk._prepare("acct-1", ts)
    snapshot = book.snapshot_at(ts)
    fresh = _fresh_open_trades(desk, "acct-1")
    assert {t.trade_id: t for t in snapshot.open_trades} == fresh
    assert len(snapshot.open_trades) == len(fresh)
    assert str(snapshot.open_risk) == str(sum((t.risk for t in fresh.values()), ZERO))
    for t in fresh.values():
        day = et_date(t.opened_ns)
        assert snapshot.open_trades.opened_on(day) == sum(et_date(u.opened_ns) == day for u in fresh.values())
    again = AccountBook.restore(book.account, book.days, book.snapshot())   # every position built anew
    assert tuple(snapshot.positions) == tuple(again.positions())
    recount = Positions(tuple(snapshot.positions))
    assert str(snapshot.positions.market_value) == str(recount.market_value)
    assert str(snapshot.positions.gross_market_value) == str(recount.gross_market_value)
    assert str(snapshot.equity) == str(book.equity)
    assert str(snapshot.unrealised_pnl_today) == str(book.unrealised_pnl_today)
    for p in snapshot.positions:
        assert snapshot.position(p.symbol) is p


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, min_size=1, max_size=60))
def test_the_kept_figures_equal_a_fresh_reading_after_any_sequence(steps) -> None:
    desk = _desk()
    ts = et(2026, 6, 10, 10)
    prices = {s: 10_000 for s in SYMBOLS}
    n = 0
    for kind, *args in steps:
        ts += 1_000_000_000
        if kind == "print":
            symbol, cents, size = SYMBOLS[args[0]], args[1], args[2]
            prices[symbol] = cents
            desk.on_trade(tick(str(D(cents) / 100), ts, symbol=symbol, size=size))
        elif kind == "intent":
            n += 1
            symbol, side, limit = SYMBOLS[args[0]], args[1], args[2]
            price = D(prices[symbol]) / 100
            desk.on_intent(intent(ts, f"ts-{n}", symbol=symbol, side=side, price=str(price),
                                  order_type="LIMIT" if limit else "MARKET",
                                  limit_price=str(price) if limit else None, quantity=100), ts_init=ts)
        elif kind == "stop":
            running = [v for v in desk.trade_manager.trades() if v.status is TradeStatus.RUNNING]
            if running:
                view = running[args[0] % len(running)]
                price = view.stop_price + D(args[1]) / 100
                if price > 0:
                    desk.on_trade_action(TradeActionRequested(
                        action_id=trade_action_id(view.trade_id, "MOVE_STOP", ts), account_id="acct-1",
                        trade_id=view.trade_id, action="MOVE_STOP", ts_event=ts, ts_init=ts, operator="test",
                        price=price), ts_init=ts)
        elif kind == "add":
            running = [v for v in desk.trade_manager.trades() if v.status is TradeStatus.RUNNING]
            if running:
                view = running[args[0] % len(running)]
                made = desk.on_trade_action(TradeActionRequested(
                    action_id=trade_action_id(view.trade_id, "CHANGE_QUANTITY", ts), account_id="acct-1",
                    trade_id=view.trade_id, action="CHANGE_QUANTITY", ts_event=ts, ts_init=ts, operator="test",
                    quantity=view.open_quantity + args[1]), ts_init=ts)
                if any(type(e).__name__ == "RiskDecisionMade" and e.action == "entry" and e.quantity > 0
                       for e in made):
                    event("an add-on was placed")
        elif kind == "wait":
            ts += args[0] * 1_000_000_000
            desk.advance_to(ts)
        else:
            ts += 86_400_000_000_000
            desk.advance_to(ts)
        _check(desk, ts)


def test_an_exact_sum_writes_its_total_as_a_fresh_sum_does() -> None:
    total = ExactSum()
    for value in ("1.00", "0.005", "2", "-0.5"):
        total.add(D(value))
    total.remove(D("0.005"))
    assert str(total.value) == str(sum((D("1.00"), D("2"), D("-0.5")), ZERO)) == "2.50"
    total.remove(D("1.00"))
    total.remove(D("-0.5"))
    assert str(total.value) == "2"
    total.remove(D("2"))
    assert str(total.value) == "0"


def test_an_index_keeps_a_replaced_record_in_its_place_and_its_sums() -> None:
    index = OpenTradeIndex()
    first = OpenTrade(trade_id="a", symbol="X", side="BUY", quantity=10, entry_price=D("10.00"),
                      stop_price=D("9.50"), opened_ns=et(2026, 6, 10))
    second = OpenTrade(trade_id="b", symbol="Y", side="SELL", quantity=5, entry_price=D("20.00"),
                       stop_price=D("20.25"), opened_ns=et(2026, 6, 11))
    index.put(first)
    index.put(second)
    frozen = index.frozen()
    assert index.frozen() is frozen and frozen.risk == D("6.25")      # 10 x 0.50 + 5 x 0.25
    moved = OpenTrade(trade_id="a", symbol="X", side="BUY", quantity=10, entry_price=D("10.00"),
                      stop_price=D("10.00"), opened_ns=et(2026, 6, 10))
    index.put(moved)
    assert tuple(index.frozen()) == (moved, second) and str(index.frozen().risk) == "1.25"
    assert (index.frozen().opened_on(dt.date(2026, 6, 11)), index.frozen().opened_on(dt.date(2026, 6, 12))) == (1, 0)
    index.discard("b")
    index.discard("b")
    assert tuple(index.frozen()) == (moved,) and str(index.frozen().risk) == "0.00"
    assert OpenTrades.joined(index.frozen(), OpenTrades()) is index.frozen()

"""The account book: cash, positions, the day's P&L, round trips, the day roll and the cash ledger, by hand."""

from __future__ import annotations

import datetime as dt
import json
import random

from .conftest import DAYS, D, account, cash_account, et
from processors.risk import KillSwitch, OpenTrade
from processors.risk.pdt import day_trades_in_window
from processors.risk.settlement import fold_ledger
from processors.trading.book import AccountBook

WED = (2026, 6, 10)
THU = (2026, 6, 11)


def test_a_round_trip_moves_cash_and_equity_to_the_cent() -> None:
    book = AccountBook(account(), DAYS)
    book.on_fill(symbol="XYZ", side="BUY", quantity=50, price=D("100.00"), ts_event=et(*WED, 10), charges=D("1.00"),
                 opens_trade=True)
    assert book.cash == D("44999.00")                       # 50,000 - 50 x 100.00 - 1.00
    book.on_price("XYZ", D("101.50"), et(*WED, 10, 1))
    snap = book.snapshot_at(et(*WED, 10, 2))
    assert snap.equity == D("50074.00")                     # 44,999.00 + 50 x 101.50
    assert snap.realised_pnl_today == D("-1.00") and snap.unrealised_pnl_today == D("75.00")
    assert snap.day_pnl == snap.equity - snap.start_of_day_equity == D("74.00")
    assert snap.trades_today == 1
    assert [(p.symbol, p.quantity, p.reference_price, p.last_price) for p in snap.positions] == [
        ("XYZ", 50, D("100.00"), D("101.50"))]

    book.on_fill(symbol="XYZ", side="SELL", quantity=50, price=D("102.00"), ts_event=et(*WED, 11), charges=D("1.12"))
    snap = book.snapshot_at(et(*WED, 11, 1))
    assert book.cash == snap.equity == D("50097.88")        # 44,999.00 + 5,100.00 - 1.12
    assert snap.realised_pnl_today == D("97.88")            # 50 x 2.00 - 1.00 - 1.12
    assert snap.positions == ()
    assert [(t.symbol, t.opened_ns, t.closed_ns) for t in snap.round_trips] == [("XYZ", et(*WED, 10), et(*WED, 11))]


def test_the_day_roll_starts_from_the_previous_close() -> None:
    book = AccountBook(account(), DAYS)
    book.on_fill(symbol="XYZ", side="BUY", quantity=10, price=D("100.00"), ts_event=et(*WED, 10), charges=D("1.00"),
                 opens_trade=True)
    book.on_price("XYZ", D("105.00"), et(*WED, 15, 59))     # the close: equity 48,999.00 + 1,050.00
    assert book.roll_to(et(*THU, 9, 30)) == D("50049.00")
    snap = book.snapshot_at(et(*THU, 9, 30))
    assert (snap.start_of_day_equity, snap.realised_pnl_today, snap.trades_today) == (D("50049.00"), 0, 0)
    assert snap.positions[0].reference_price == D("105.00")
    book.on_price("XYZ", D("104.00"), et(*THU, 9, 31))
    assert book.snapshot_at(et(*THU, 9, 31)).day_pnl == D("-10.00")
    book.on_fill(symbol="XYZ", side="SELL", quantity=10, price=D("106.00"), ts_event=et(*THU, 10), charges=D("1.02"))
    snap = book.snapshot_at(et(*THU, 10))
    assert snap.realised_pnl_today == D("8.98")             # 10 x (106.00 - 105.00) - 1.02
    assert snap.equity - snap.start_of_day_equity == D("8.98")
    trip = snap.round_trips[0]                              # opened Wednesday: not a day trade
    assert (trip.opened_ns, trip.closed_ns) == (et(*WED, 10), et(*THU, 10))
    assert book.roll_to(et(*THU, 11)) is None               # the same date does not roll again


def test_adding_to_a_carried_position_and_closing_it_is_a_day_trade() -> None:
    book = AccountBook(account(), DAYS)
    book.on_fill(symbol="XYZ", side="BUY", quantity=10, price=D("100.00"), ts_event=et(*WED, 10))
    book.on_fill(symbol="XYZ", side="BUY", quantity=5, price=D("101.00"), ts_event=et(*THU, 10))
    book.on_fill(symbol="XYZ", side="SELL", quantity=15, price=D("102.00"), ts_event=et(*THU, 11))
    assert [(t.opened_ns, t.closed_ns) for t in book.round_trips] == [(et(*THU, 10), et(*THU, 11))]


def test_a_short_and_a_flip_through_flat() -> None:
    book = AccountBook(account(), DAYS)
    book.on_fill(symbol="XYZ", side="SELL", quantity=10, price=D("50.00"), ts_event=et(*WED, 10))
    assert book.cash == D("50500.00")
    book.on_fill(symbol="XYZ", side="BUY", quantity=15, price=D("49.00"), ts_event=et(*WED, 11))
    snap = book.snapshot_at(et(*WED, 11))
    assert snap.realised_pnl_today == D("10.00")            # the short's 10 x 1.00
    assert [(p.quantity, p.reference_price, p.opened_ns) for p in snap.positions] == [(5, D("49.00"), et(*WED, 11))]
    assert snap.equity == D("50010.00")                     # 50,500 - 735 + 5 x 49.00
    assert len(snap.round_trips) == 1


def test_round_trips_older_than_the_five_day_window_are_dropped_at_the_roll() -> None:
    book = AccountBook(account(), DAYS)
    book.on_fill(symbol="XYZ", side="BUY", quantity=1, price=D("10.00"), ts_event=et(2026, 6, 3, 10))
    book.on_fill(symbol="XYZ", side="SELL", quantity=1, price=D("10.00"), ts_event=et(2026, 6, 3, 11))
    book.roll_to(et(2026, 6, 9, 10))      # window Jun 3, 4, 5, 8, 9: kept
    assert len(book.round_trips) == 1
    book.roll_to(et(2026, 6, 10, 10))     # window Jun 4 .. 10: dropped
    assert book.round_trips == ()


def test_the_cash_ledger_settles_a_sale_on_the_next_business_day() -> None:
    book = AccountBook(cash_account(), DAYS)
    book.on_fill(symbol="XYZ", side="BUY", quantity=10, price=D("100.00"), ts_event=et(*WED, 10), charges=D("1.00"))
    book.on_fill(symbol="XYZ", side="SELL", quantity=10, price=D("101.00"), ts_event=et(*WED, 11), charges=D("1.02"))
    ledger = book.snapshot_at(et(*WED, 12)).cash_ledger
    wednesday = fold_ledger(ledger, DAYS, et(*WED, 12))
    assert wednesday.settled_cash == D("48997.98")          # 50,000 - 1.00 - 1,000.00 - 1.02
    assert [(p.amount, p.settles_on.isoformat()) for p in wednesday.pending] == [(D("1010.00"), "2026-06-11")]
    ledger = book.snapshot_at(et(*THU, 9, 30)).cash_ledger  # compacted at the roll
    assert ledger.fills == () and ledger.pending == () and ledger.settled_cash == D("50007.98")
    assert book.cash == D("50007.98")


def test_open_trades_working_entries_and_the_kill_switch_reach_the_snapshot() -> None:
    book = AccountBook(account(), DAYS)
    running = OpenTrade(trade_id="t1", symbol="XYZ", side="BUY", quantity=10, entry_price=D(100), stop_price=D(98),
                        opened_ns=et(*WED, 10))
    working = OpenTrade(trade_id="t2", symbol="ABC", side="BUY", quantity=5, entry_price=D(50), stop_price=D(49),
                        opened_ns=et(*WED, 10, 5))
    book.set_trades([running], [working])
    book.set_kill_switch(KillSwitch().trip("test", et(*WED, 10, 6)))
    snap = book.snapshot_at(et(*WED, 10, 7))
    assert [t.trade_id for t in snap.open_trades] == ["t1", "t2"]
    assert snap.trades_today == 1 and snap.open_risk == D(25)      # 10 x 2 + 5 x 1
    assert snap.kill_switch.tripped


def test_day_pnl_is_equity_less_start_of_day_equity_whatever_the_fills() -> None:
    rng = random.Random(7)
    book = AccountBook(account(), DAYS)
    for step in range(300):
        ts = et(2026, 6, 8 + step // 100, 10) + step * 10**9
        symbol = rng.choice(["A", "B"])
        if rng.random() < 0.5:
            book.on_price(symbol, D(rng.randint(9000, 11000)) / 100, ts)
        else:
            book.on_fill(symbol=symbol, side=rng.choice(["BUY", "SELL"]), quantity=rng.randint(1, 7),
                         price=D(rng.randint(9000, 11000)) / 100, ts_event=ts, charges=D(rng.randint(0, 300)) / 100)
        snap = book.snapshot_at(ts)
        assert book.realised_pnl_today + book.unrealised_pnl_today == snap.equity - snap.start_of_day_equity


def test_a_restored_book_is_the_book() -> None:
    book = AccountBook(cash_account(), DAYS)
    book.on_fill(symbol="XYZ", side="BUY", quantity=3, price=D("10.00"), ts_event=et(*WED, 10), opens_trade=True)
    book.on_price("XYZ", D("10.50"), et(*WED, 10, 1))
    data = json.loads(json.dumps(book.snapshot()))
    again = AccountBook.restore(cash_account(), DAYS, data)
    assert again.snapshot() == book.snapshot()
    assert again.snapshot_at(et(*THU, 10)) == book.snapshot_at(et(*THU, 10))


def test_partial_sales_make_day_trades_counted_by_sequence() -> None:
    book = AccountBook(account(), DAYS)
    # Buy 100, sell 50, sell 50: one day trade (the second sale continues the same closing sequence).
    book.on_fill(symbol="XYZ", side="BUY", quantity=100, price=D("100.00"), ts_event=et(*WED, 10))
    book.on_fill(symbol="XYZ", side="SELL", quantity=50, price=D("101.00"), ts_event=et(*WED, 10, 5))
    assert [(t.opened_ns, t.closed_ns) for t in book.round_trips] == [(et(*WED, 10), et(*WED, 10, 5))]
    book.on_fill(symbol="XYZ", side="SELL", quantity=50, price=D("101.00"), ts_event=et(*WED, 10, 6))
    assert len(book.round_trips) == 1
    # Buy, sell part, buy, sell: two more (each purchase followed by a sale opens and closes a sequence), and
    # the position is still open: a partial sale is a day trade without the position going flat.
    book.on_fill(symbol="ABC", side="BUY", quantity=30, price=D("10.00"), ts_event=et(*WED, 11))
    book.on_fill(symbol="ABC", side="SELL", quantity=10, price=D("10.10"), ts_event=et(*WED, 11, 1))
    book.on_fill(symbol="ABC", side="BUY", quantity=10, price=D("10.00"), ts_event=et(*WED, 11, 2))
    book.on_fill(symbol="ABC", side="SELL", quantity=10, price=D("10.20"), ts_event=et(*WED, 11, 3))
    snap = book.snapshot_at(et(*WED, 11, 3))
    assert [p.quantity for p in snap.positions] == [20]
    assert day_trades_in_window(snap, dt.date(*WED), DAYS) == 3
    # A partial sale of a position carried over night is no day trade; the snapshot keeps the open sequence.
    book.on_fill(symbol="ABC", side="BUY", quantity=5, price=D("10.00"), ts_event=et(*WED, 15))
    restored = AccountBook.restore(account(), DAYS, json.loads(json.dumps(book.snapshot())))
    restored.on_fill(symbol="ABC", side="SELL", quantity=5, price=D("10.00"), ts_event=et(*WED, 15, 1))
    assert len(restored.round_trips) == 4
    restored.on_fill(symbol="ABC", side="SELL", quantity=5, price=D("10.00"), ts_event=et(*THU, 10))
    assert day_trades_in_window(restored.snapshot_at(et(*THU, 10)), dt.date(*THU), DAYS) == 4

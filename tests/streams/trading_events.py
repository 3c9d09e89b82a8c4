"""Trading events for the sink's and the deals report's tests: a risk decision, order events, fills and trade
versions, with the figures the tests expect written out by hand."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from processors.model import FillExecuted, OrderStatusChanged, RiskDecisionMade, TradeUpdated

GRID = Decimal("0.00000001")  # the events' decimal scale


def D(text: str) -> Decimal:
    """A figure on the events' 8-decimal grid, as the codec decodes it."""
    return Decimal(text).quantize(GRID)


def ns(iso: str) -> int:
    """Integer nanoseconds UTC of an ISO-8601 time with an offset (fractions to the microsecond)."""
    when = dt.datetime.fromisoformat(iso)
    return int(when.timestamp()) * 10**9 + when.microsecond * 1000


def risk_decision(intent_id: str, account: str) -> RiskDecisionMade:
    return RiskDecisionMade(
        intent_id=intent_id, account_id=account, strategy="breakout", symbol="SPY", side="BUY", action="entry",
        ts_event=ns("2026-03-10T13:44:59.5+00:00"), ts_init=ns("2026-03-10T13:44:59.6+00:00"),
        regime="intraday_margin", outcome="RESIZE", quantity=100, requested_quantity=150,
        reasons=(), check_names=("risk_per_trade", "buying_power", "kill_switch"),
        check_values=(D("250"), D("75037.5"), None), check_limits=(D("500"), D("50025"), None),
        check_outcomes=("passed", "capped", "passed"),
        check_details=("risk 250.00 USD <= 500.00 USD", "150 x 500.25 USD > buying power", "not tripped"),
        check_allowed_quantities=(None, 100, None), equity=D("100000"), signal_price=D("500.25"),
        stop_price=D("497.75"), unit_risk=D("2.5"), risk_budget=D("500"), risk_quantity=200, trade_risk=D("250"),
        open_risk_after=D("250"), total_risk_pct=D("0.25"))


def order_event(client_order_id: str, sequence: int, account: str, trade_id: str, event: str = "ACCEPTED",
                status: str | None = "Placed") -> OrderStatusChanged:
    return OrderStatusChanged(
        client_order_id=client_order_id, sequence=sequence, account_id=account, strategy="breakout",
        trade_id=trade_id, event=event, status=status, ts_event=ns("2026-03-10T13:45:00+00:00") + sequence,
        ts_init=ns("2026-03-10T13:45:00.001+00:00") + sequence, symbol="SPY", side="BUY", order_type="STOP",
        quantity=100, broker="paper", stop_price=D("497.75"), parent_order_id=trade_id, oca_group=f"{trade_id}-oca",
        reason="" if event == "ACCEPTED" else "stop moved to break-even")


def fill(exec_id: str, account: str, trade_id: str, side: str, quantity: int, price: str, commission: str,
         fees: str = "0") -> FillExecuted:
    return FillExecuted(
        exec_id=exec_id, client_order_id=trade_id, account_id=account, strategy="breakout", trade_id=trade_id,
        ts_event=ns("2026-03-10T13:45:00+00:00"), ts_init=ns("2026-03-10T13:45:00.002+00:00"), symbol="SPY",
        side=side, quantity=quantity, price=D(price), filled_quantity=quantity, leaves_quantity=0,
        commission=D(commission), regulatory_fees=D(fees), broker="paper", broker_perm_id=None)


def trade(trade_id: str, account: str, strategy: str, version: int, change: str, status: str, ts_event: str, *,
          symbol: str = "SPY", direction: str = "long", ss_type: str = "intraday", entry_qty: int = 0,
          exit_qty: int = 0, entry_price: str | None = None, exit_price: str | None = None, pnl: str = "0",
          charges: str = "0", net_pnl: str = "0", net_pnl_pct: str = "0", opened: str | None = None,
          closed: str | None = None, comment: str = "") -> TradeUpdated:
    return TradeUpdated(
        trade_id=trade_id, version=version, change=change, account_id=account, strategy=strategy, ss_type=ss_type,
        signal_type=direction, symbol=symbol, direction=direction, status=status, ts_event=ns(ts_event),
        ts_init=ns(ts_event) + 1000, entry_qty=entry_qty, exit_qty=exit_qty,
        entry_price=None if entry_price is None else D(entry_price),
        exit_price=None if exit_price is None else D(exit_price), initial_stop=D("1"), stop_price=D("1"),
        target_price=None, pnl=D(pnl), charges=D(charges), net_pnl=D(net_pnl), net_pnl_pct=D(net_pnl_pct),
        opened_ns=None if opened is None else ns(opened), closed_ns=None if closed is None else ns(closed),
        comment=comment)


def deals_trades(unique: str, account: str, other_account: str) -> list[TradeUpdated]:
    """Every version of the trades of the deals report's tests, in the order they happened. The report of
    2026-03-10 (ET) for `account` is `DEALS_CSV`; of strategy S1 alone, `DEALS_CSV_S1`."""
    s1, s2 = f"S1-{unique}", f"S2-{unique}"
    t1, t2, t3, t4, t5, t6, t7 = (f"{unique}-{name}" for name in "bcdefga")
    morning = "2026-03-10T13:45:00+00:00"  # 09:45 ET (EDT)
    return [
        # Closed long: 100 @ 500.25 -> 502.10; pnl 185.00, charges 1 + 1 + 0.03, net 182.97 = 0.3658 % of 50,025.
        trade(t1, account, s1, 0, "SUBMITTED", "Waiting", "2026-03-10T13:44:59+00:00"),
        trade(t1, account, s1, 1, "OPENED", "Running", morning, entry_qty=100, entry_price="500.25", charges="1",
              net_pnl="-1", net_pnl_pct="-0.002", opened=morning),
        trade(t1, account, s1, 2, "CLOSED", "Closed", "2026-03-10T15:30:00.5+00:00", entry_qty=100, exit_qty=100,
              entry_price="500.25", exit_price="502.1", pnl="185", charges="2.03", net_pnl="182.97",
              net_pnl_pct="0.3658", opened=morning, closed="2026-03-10T15:30:00.5+00:00", comment="profit target"),
        # Closed long with the same entry time (ordered before t1 by its id): 10 @ 200 -> 199.50.
        trade(t7, account, s2, 0, "OPENED", "Running", morning, ss_type="positional", symbol="IWM", entry_qty=10,
              entry_price="200", charges="1", net_pnl="-1", net_pnl_pct="-0.05", opened=morning),
        trade(t7, account, s2, 1, "CLOSED", "Closed", "2026-03-10T14:00:00+00:00", ss_type="positional",
              symbol="IWM", entry_qty=10, exit_qty=10, entry_price="200", exit_price="199.5", pnl="-5",
              charges="2", net_pnl="-7", net_pnl_pct="-0.35", opened=morning, closed="2026-03-10T14:00:00+00:00",
              comment="stop-loss"),
        # Running short, reduced by 20 @ 399.00 at 18:30 (its last exit), then its stop moved at 18:31:
        # pnl (400.10 - 399.00) x 20 = 22.00, charges 2.00, net 20.00 = 0.1000 % of 20,005.
        trade(t2, account, s2, 0, "OPENED", "Running", "2026-03-10T18:00:00+00:00", ss_type="positional",
              symbol="QQQ", direction="short", entry_qty=50, entry_price="400.1", charges="1", net_pnl="-1",
              net_pnl_pct="-0.005", opened="2026-03-10T18:00:00+00:00"),
        trade(t2, account, s2, 1, "REDUCED", "Running", "2026-03-10T18:30:00+00:00", ss_type="positional",
              symbol="QQQ", direction="short", entry_qty=50, exit_qty=20, entry_price="400.1", exit_price="399",
              pnl="22", charges="2", net_pnl="20", net_pnl_pct="0.1", opened="2026-03-10T18:00:00+00:00",
              comment="risk reduction"),
        trade(t2, account, s2, 2, "STOP_MOVED", "Running", "2026-03-10T18:31:00+00:00", ss_type="positional",
              symbol="QQQ", direction="short", entry_qty=50, exit_qty=20, entry_price="400.1", exit_price="399",
              pnl="22", charges="2", net_pnl="20", net_pnl_pct="0.1", opened="2026-03-10T18:00:00+00:00",
              comment="risk reduction"),
        # Waiting (no fill): not a deal.
        trade(t3, account, s1, 0, "SUBMITTED", "Waiting", "2026-03-10T16:00:00+00:00"),
        # Opened at 22:00 ET on the 10th (02:00 UTC on the 11th): in the range. 5 @ 501.123, charges 1.00,
        # net -1.00 = -0.0399 % of 2,505.615.
        trade(t4, account, s1, 0, "OPENED", "Running", "2026-03-11T02:00:00+00:00", entry_qty=5,
              entry_price="501.123", charges="1", net_pnl="-1", net_pnl_pct="-0.0399",
              opened="2026-03-11T02:00:00+00:00"),
        # Opened at 23:00 ET on the 9th (03:00 UTC on the 10th): not in the range.
        trade(t5, account, s1, 0, "OPENED", "Running", "2026-03-10T03:00:00+00:00", entry_qty=1,
              entry_price="10", opened="2026-03-10T03:00:00+00:00"),
        # Another account's trade.
        trade(t6, other_account, s1, 0, "OPENED", "Running", morning, entry_qty=1, entry_price="10", opened=morning),
    ]


HEADER = ("strategy,ss_type,signal_type,symbol,entry_qty,exit_qty,entry_price,exit_price,entry_time,exit_time,pnl,"
          "charges,net_pnl,net_pnl_pct,status,comment\n")


def deals_csv(unique: str, strategy: str | None = None) -> str:
    """The deals report of 2026-03-10 (ET) for the account of `deals_trades`, computed by hand."""
    rows = [
        f"S2-{unique},positional,long,IWM,10,10,200.00,199.50,2026-03-10T13:45:00Z,2026-03-10T14:00:00Z,-5.00,2.00,"
        "-7.00,-0.3500,Completed,stop-loss",
        f"S1-{unique},intraday,long,SPY,100,100,500.25,502.10,2026-03-10T13:45:00Z,2026-03-10T15:30:00.500000000Z,"
        "185.00,2.03,182.97,0.3658,Completed,profit target",
        f"S2-{unique},positional,short,QQQ,50,20,400.10,399.00,2026-03-10T18:00:00Z,2026-03-10T18:30:00Z,22.00,"
        "2.00,20.00,0.1000,Running,risk reduction",
        f"S1-{unique},intraday,long,SPY,5,0,501.123,,2026-03-11T02:00:00Z,,0.00,1.00,-1.00,-0.0399,Running,",
    ]
    if strategy is not None:
        rows = [row for row in rows if row.startswith(f"{strategy},")]
    return HEADER + "".join(row + "\n" for row in rows)


def with_version(event: TradeUpdated, **changes: object) -> TradeUpdated:
    return dataclasses.replace(event, **changes)

"""The deals report read back from the database's rows: the same DealRow as `processors.deals.deal_row` makes
from the trade's fills, dates taken in New York time; and `GET /api/deals` refusing bad parameters with a 400
naming each, before it needs the database (these run with every dependency down)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from litestar.testing import TestClient

from api.deals import MAX_RANGE_DAYS
from api.deals_report import DealsFilter, deal_json, deal_of, deals_query, write_csv
from processors.deals import DEALS_COLUMNS, ExitReason, Trade, TradeExit, deal_row
from processors.pnl import Fill
from tests.streams.trading_events import GRID, ns


def stored(trade: Trade, trade_id: str, status: str) -> tuple:
    """The row `deals_query` reads for `trade` as the trade manager publishes it: its deal row's figures on
    the events' 8-decimal grid (what PostgreSQL's numeric(24, 8) gives back)."""
    deal = deal_row(trade)
    grid = lambda value: None if value is None else Decimal(value).quantize(GRID)  # noqa: E731
    exits = [e.fill.ts_event for e in trade.exits]
    return (deal.strategy, deal.ss_type, deal.signal_type, deal.symbol, deal.entry_qty, deal.exit_qty,
            grid(deal.entry_price), grid(deal.exit_price), min(f.ts_event for f in trade.entries),
            max(exits) if exits else None, grid(deal.pnl), grid(deal.charges), grid(deal.net_pnl),
            grid(deal.net_pnl_pct), status, deal.comment, trade_id)


T0 = ns("2026-03-10T13:45:00+00:00")
TRADES = [
    (Trade("s", "intraday", "long", "SPY", "long", (Fill(T0, 100, Decimal("500.25"), Decimal("1.00")),),
           (TradeExit(Fill(T0 + 10**9, 100, Decimal("502.10"), Decimal("1.03")), ExitReason.PROFIT_TARGET),)),
     "Closed"),
    # Two entries at different prices, a partial exit: figures that terminate beyond the cent (entry value
    # 3 x 400.10 + 5 x 400.125 = 3,200.925; the 2 shares exited cost 800.23125, bought back for 798.00).
    (Trade("s", "positional", "short", "QQQ", "short",
           (Fill(T0, 3, Decimal("400.10"), Decimal("1")), Fill(T0 + 5, 5, Decimal("400.125"), Decimal("1"))),
           (TradeExit(Fill(T0 + 9, 2, Decimal("399"), Decimal("0.5")), ExitReason.RISK_REDUCTION),)), "Running"),
    # Nothing exited yet, an average that does not terminate (rounded to 8 places), a loss.
    (Trade("s", "intraday", "long", "IWM", "long",
           (Fill(T0, 1, Decimal("200"), Decimal("0")), Fill(T0 + 1, 2, Decimal("200.01"), Decimal("1")))),
     "Running"),
    # Zero P&L, zero charges.
    (Trade("s", "intraday", "long", "DIA", "long", (Fill(T0, 10, Decimal("40"), Decimal("0")),),
           (TradeExit(Fill(T0 + 1, 10, Decimal("40"), Decimal("0")), ExitReason.TIME_CLOSE),)), "Closed"),
]


@pytest.mark.parametrize(("trade", "status"), TRADES)
def test_a_stored_trade_reads_back_as_the_processors_deal_row(trade: Trade, status: str) -> None:
    expected = deal_row(trade)
    read = deal_of(stored(trade, "t-1", status))
    assert read.cells() == expected.cells()
    assert read == expected


def test_the_cells_as_written_by_hand() -> None:
    assert [deal_of(stored(trade, "t", status)).cells() for trade, status in TRADES] == [
        ["s", "intraday", "long", "SPY", "100", "100", "500.25", "502.10", "2026-03-10T13:45:00Z",
         "2026-03-10T13:45:01Z", "185.00", "2.03", "182.97", "0.3658", "Completed", "profit target"],
        ["s", "positional", "short", "QQQ", "8", "2", "400.115625", "399.00", "2026-03-10T13:45:00Z",
         "2026-03-10T13:45:00.000000009Z", "2.23125", "2.50", "-0.26875", "-0.0084", "Running", "risk reduction"],
        ["s", "intraday", "long", "IWM", "3", "0", "200.00666667", "", "2026-03-10T13:45:00Z", "", "0.00", "1.00",
         "-1.00", "-0.1667", "Running", ""],
        ["s", "intraday", "long", "DIA", "10", "10", "40.00", "40.00", "2026-03-10T13:45:00Z",
         "2026-03-10T13:45:00.000000001Z", "0.00", "0.00", "0.00", "0.0000", "Completed", "time close"],
    ]


def test_csv_and_json_of_a_deal() -> None:
    deals = [deal_of(stored(trade, "t", status)) for trade, status in TRADES[1:3]]
    text = io.StringIO()
    write_csv(text, deals)
    lines = text.getvalue().split("\n")
    assert lines[0] == ",".join(DEALS_COLUMNS) and lines[3] == "" and len(lines) == 4
    assert lines[2] == "s,intraday,long,IWM,3,0,200.00666667,,2026-03-10T13:45:00Z,,0.00,1.00,-1.00,-0.1667,Running,"
    assert deal_json(deals[1]) == {
        "strategy": "s", "ss_type": "intraday", "signal_type": "long", "symbol": "IWM", "entry_qty": 3, "exit_qty": 0,
        "entry_price": "200.00666667", "exit_price": None, "entry_time": "2026-03-10T13:45:00Z", "exit_time": None,
        "pnl": "0.00", "charges": "1.00", "net_pnl": "-1.00", "net_pnl_pct": "-0.1667", "status": "Running",
        "comment": ""}


def test_dates_are_new_york_days_in_winter_and_summer() -> None:
    # EST (UTC-5) before 2026-03-08, EDT (UTC-4) from it: the day of the change has 23 hours.
    assert DealsFilter(dt.date(2026, 3, 6), dt.date(2026, 3, 6)).bounds_ns == (
        ns("2026-03-06T05:00:00+00:00"), ns("2026-03-07T05:00:00+00:00"))
    assert DealsFilter(dt.date(2026, 3, 8), dt.date(2026, 3, 8)).bounds_ns == (
        ns("2026-03-08T05:00:00+00:00"), ns("2026-03-09T04:00:00+00:00"))
    assert DealsFilter(dt.date(2026, 7, 1), dt.date(2026, 7, 31)).bounds_ns == (
        ns("2026-07-01T04:00:00+00:00"), ns("2026-08-01T04:00:00+00:00"))
    with pytest.raises(ValueError, match="the range is empty: 2026-03-09 is before 2026-03-10"):
        DealsFilter(dt.date(2026, 3, 10), dt.date(2026, 3, 9))


def test_the_query_filters_by_what_is_given() -> None:
    where = DealsFilter(dt.date(2026, 3, 10), dt.date(2026, 3, 10))
    query, params = deals_query(where, 5)
    assert "account_id" not in query and "strategy =" not in query and params == (*where.bounds_ns, 5)
    query, params = deals_query(DealsFilter(where.first, where.last, "acct", "breakout"), None)
    assert "and account_id = %s and strategy = %s" in query and params == (*where.bounds_ns, "acct", "breakout", None)
    assert "status <> 'Waiting'" in query and "order by opened_ns, trade_id" in query


@pytest.mark.parametrize(("query", "field", "message"), [
    ("from=2026-3-10&to=2026-03-10", "from", "from must be a date as YYYY-MM-DD, not '2026-3-10'"),
    ("from=2026-03-10&to=2026-02-30", "to", "to must be a date as YYYY-MM-DD, not '2026-02-30'"),
    ("from=20260310&to=2026-03-10", "from", "from must be a date as YYYY-MM-DD, not '20260310'"),
    ("from=2026-03-10&to=2026-03-09", "to", "to (2026-03-09) is before from (2026-03-10)"),
    ("from=2025-03-10&to=2026-03-10", "to", f"the range from 2025-03-10 to 2026-03-10 is 366 days; ask for at most "
                                            f"{MAX_RANGE_DAYS} days at a time"),
    ("from=2026-03-10&to=2026-03-10&format=xml", "format", "format must be json or csv, not 'xml'"),
])
def test_bad_parameters_are_400s_naming_the_parameter(offline_client: TestClient, query: str, field: str,
                                                      message: str) -> None:
    if "366 days" in message:  # 2025-03-10 to 2026-03-10 is 366 days: the longest range allowed
        assert offline_client.get(f"/api/deals?{query}").status_code == 503  # valid: it needs the database
        query, message = query.replace("2025-03-10", "2025-03-09"), message.replace("2025-03-10", "2025-03-09")
        message = message.replace("366 days;", "367 days;")
    response = offline_client.get(f"/api/deals?{query}")
    assert response.status_code == 400
    assert response.json()["detail"] == message and response.json()["errors"] == [{"field": field,
                                                                                   "message": message}]


def test_missing_dates_are_400s_and_the_route_is_documented(offline_client: TestClient) -> None:
    response = offline_client.get("/api/deals?to=2026-03-10")
    assert response.status_code == 400 and "'from'" in response.json()["detail"]
    operation = offline_client.get("/schema/openapi.json").json()["paths"]["/api/deals"]["get"]
    parameters = {p["name"]: p["required"] for p in operation["parameters"]}
    assert parameters == {"from": True, "to": True, "account": False, "strategy": False, "format": False}
    assert "deals report" in operation["description"]

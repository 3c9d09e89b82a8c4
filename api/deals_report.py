"""The deals report from the database: the newest version of each trade (table `trades`, written by the sink
from the trades topic) as `processors.deals.DealRow`s, for `GET /api/deals` and `tradestream deals`.

    query, params = deals_query(DealsFilter(first, last, account, strategy), limit)
    rows = [deal_of(row) for row in cursor.execute(query, params)]
    write_csv(handle, rows)                 # deals.csv, as processors.deals formats every cell

A trade belongs to a range of dates by its entry time (its first entry fill, `opened_ns`), the dates taken in
New York time (America/New_York, EST or EDT as on that date): from 00:00 ET on the first date to 00:00 ET
after the last. Waiting trades (no fill yet) are not deals. Rows come by entry time, then trade id.

Each trade's row is built from its stored version, not recomputed from fills: the trade manager published
the figures (`processors.deals.deal_row`'s) in its `TradeUpdated`, on the events' 8-decimal grid. The grid's
trailing zeros are taken off again here, keeping at least two decimal places for money and prices and four
for `net_pnl_pct`, as `processors.pnl` writes them, so a figure reads as the processor made it. A status
Closed is Completed in the report; `exit_time` is the last exit fill's: `closed_ns` once the trade is
closed, else the newest REDUCED version's time the sink kept (`last_exit_ns`).

No web framework here: the CLI imports this module without starting the API's.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from processors.csvio import format_time
from processors.deals import DEALS_COLUMNS, DealRow, DealStatus

ET = ZoneInfo("America/New_York")
MONEY_PLACES = 2  # money and prices: at least to the cent (processors.pnl)
PERCENT_PLACES = 4  # net_pnl_pct (processors.pnl)


@dataclass(frozen=True, slots=True)
class DealsFilter:
    """Trades entered from `first` to `last` (dates in ET, both included), of one account and/or strategy."""

    first: dt.date
    last: dt.date
    account: str | None = None
    strategy: str | None = None
    owner_id: int | None = None
    """Only the trades of the accounts this user owns (`api.users`); None: every account (the CLI's report)."""

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"the range is empty: {self.last.isoformat()} is before {self.first.isoformat()}")

    @property
    def bounds_ns(self) -> tuple[int, int]:
        """[start, end) in nanoseconds UTC: 00:00 ET on `first`, 00:00 ET on the day after `last`."""
        return _midnight_et_ns(self.first), _midnight_et_ns(self.last + dt.timedelta(days=1))


def _midnight_et_ns(day: dt.date) -> int:
    return int(dt.datetime.combine(day, dt.time(0), ET).timestamp()) * 10**9


# opened_ns first and trade_id last serve the order; the columns between are the report's, in its order.
_SELECT = """
    select strategy, ss_type, signal_type, symbol, entry_qty, exit_qty, entry_price, exit_price, opened_ns,
           coalesce(closed_ns, last_exit_ns), pnl, charges, net_pnl, net_pnl_pct, status, comment, trade_id
    from trades
    where status <> 'Waiting' and opened_ns >= %s and opened_ns < %s{filters}
    order by opened_ns, trade_id
    limit %s
"""


def deals_query(where: DealsFilter, limit: int | None) -> tuple[str, tuple[Any, ...]]:
    """The statement and its parameters for the deals of `where`, at most `limit` rows (None: all)."""
    filters, params = [], list(where.bounds_ns)
    if where.account is not None:
        filters.append(" and account_id = %s")
        params.append(where.account)
    if where.strategy is not None:
        filters.append(" and strategy = %s")
        params.append(where.strategy)
    if where.owner_id is not None:
        filters.append(" and account_id in (select resource_id from ownerships where kind = 'account' and user_id = %s)")
        params.append(where.owner_id)
    return _SELECT.format(filters="".join(filters)), (*params, limit)


def _figure(value: Decimal, places: int) -> Decimal:
    """`value` without the zeros the 8-decimal grid added, with at least `places` decimal places."""
    value = value.normalize()
    if value == 0:
        value = abs(value)
    return value.quantize(Decimal(1).scaleb(-places)) if int(value.as_tuple().exponent) > -places else value


def deal_of(row: tuple[Any, ...]) -> DealRow:
    """The report's row of one row of `deals_query`."""
    (strategy, ss_type, signal_type, symbol, entry_qty, exit_qty, entry_price, exit_price, opened_ns, exit_ns,
     pnl, charges, net_pnl, net_pnl_pct, status, comment, _trade_id) = row
    return DealRow(
        strategy=strategy, ss_type=ss_type, signal_type=signal_type, symbol=symbol, entry_qty=entry_qty,
        exit_qty=exit_qty, entry_price=_figure(entry_price, MONEY_PLACES),
        exit_price=None if exit_price is None else _figure(exit_price, MONEY_PLACES),
        entry_time=format_time(opened_ns), exit_time="" if exit_ns is None else format_time(exit_ns),
        pnl=_figure(pnl, MONEY_PLACES), charges=_figure(charges, MONEY_PLACES), net_pnl=_figure(net_pnl, MONEY_PLACES),
        net_pnl_pct=_figure(net_pnl_pct, PERCENT_PLACES),
        status=DealStatus.COMPLETED if status == "Closed" else DealStatus.RUNNING, comment=comment)


def write_csv(handle: TextIO, deals: Iterable[DealRow]) -> None:
    """deals.csv: the header `DEALS_COLUMNS`, then each row's cells as `DealRow.cells` writes them."""
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(DEALS_COLUMNS)
    writer.writerows(deal.cells() for deal in deals)


def deal_json(deal: DealRow) -> dict[str, object]:
    """One deal as the API's JSON object: the report's columns, quantities as numbers, money and times as the
    CSV's cells (strings), null for an exit price or time the trade does not have yet."""
    cells = dict(zip(DEALS_COLUMNS, deal.cells(), strict=True))
    return {**cells, "entry_qty": deal.entry_qty, "exit_qty": deal.exit_qty,
            "exit_price": cells["exit_price"] or None, "exit_time": cells["exit_time"] or None}

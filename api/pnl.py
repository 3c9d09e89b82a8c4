"""`GET /api/pnl`: the realised P&L of the caller's closed trades, by day and by strategy, with the charges, for the
P&L page (its equity curve is the running sum of the days' net P&L).

    GET /api/pnl?from=2026-03-02&to=2026-03-06&account=A&strategy=S

A trade counts on the New York day it closed (`closed_ns`), with its final gross P&L, charges and net P&L as the
sink stored its newest version; a running trade's partial exits count once it closes. The dates and filters are
checked as the deals report's (`api.deals.deals_filter`), each mistake a 400 naming the parameter; only the
trades of the caller's accounts count (`api.users`). Money is answered as decimal strings.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from litestar import Controller, Response, get
from litestar.params import Parameter
from litestar.status_codes import HTTP_400_BAD_REQUEST
from psycopg import AsyncConnection
from psycopg.rows import dict_row

from api.auth import SECURITY, Caller
from api.deals import MAX_RANGE_DAYS, BadParameter, deals_filter
from api.users import OWNED
from processors.scanner.config.choices import MAX_NAME_LENGTH

AGGREGATES = """count(*) as trades, coalesce(sum(pnl), 0) as pnl, coalesce(sum(charges), 0) as charges,
    coalesce(sum(net_pnl), 0) as net_pnl, count(*) filter (where net_pnl > 0) as wins,
    count(*) filter (where net_pnl < 0) as losses"""
CLOSED = f"""
    from (select *, to_char((to_timestamp(closed_ns / 1e9) at time zone 'America/New_York')::date, 'YYYY-MM-DD')
                    as day
          from trades
          where status = 'Closed' and closed_ns >= %s and closed_ns < %s and account_id in ({OWNED}) {{filters}}) closed
"""
QUERIES = {
    "by_day": f"select day, {AGGREGATES} {CLOSED} group by day order by day",
    "by_strategy": f"select strategy, {AGGREGATES} {CLOSED} group by strategy order by strategy",
    "total": f"select {AGGREGATES} {CLOSED}",
}


def _json(row: dict[str, object]) -> dict[str, object]:
    return {key: str(value) if isinstance(value, Decimal) else value for key, value in row.items()}


class PnlController(Controller):
    path = "/api"
    security = SECURITY

    @get("/pnl")
    async def pnl(self, conn: AsyncConnection, caller: Caller,
                  start: str = Parameter(query="from", description="first New York day, YYYY-MM-DD"),
                  end: str = Parameter(query="to", description=f"last day, inclusive (at most {MAX_RANGE_DAYS} "
                                                               "days after from)"),
                  account: str | None = Parameter(default=None, max_length=MAX_NAME_LENGTH,
                                                  description="only this account's trades"),
                  strategy: str | None = Parameter(default=None, max_length=MAX_NAME_LENGTH,
                                                   description="only this strategy's trades")) -> Response[Any]:
        """The caller's realised P&L of the trades closed from `from` to `to` (New York days): by day with the
        running net P&L (the equity curve), by strategy, and in total, each with gross P&L, charges, net P&L,
        wins and losses."""
        try:
            where = deals_filter(start, end, account, strategy, "json", caller.user.user_id)
        except BadParameter as exc:
            return Response({"status_code": 400, "detail": str(exc),
                             "errors": [{"field": exc.field, "message": str(exc)}]}, status_code=HTTP_400_BAD_REQUEST)
        filters, extra = "", []
        for column, value in (("account_id", where.account), ("strategy", where.strategy)):
            if value is not None:
                filters += f" and {column} = %s"
                extra.append(value)
        params = (*where.bounds_ns, "account", caller.user.user_id, *extra)
        answer: dict[str, object] = {"from": where.first.isoformat(), "to": where.last.isoformat()}
        async with conn.cursor(row_factory=dict_row) as cursor:
            for name, query in QUERIES.items():
                await cursor.execute(query.format(filters=filters), params)
                answer[name] = [_json(row) for row in await cursor.fetchall()]
        (answer["total"],) = answer["total"]  # type: ignore[misc]
        running = Decimal(0)
        for day in answer["by_day"]:  # type: ignore[union-attr]
            running += Decimal(day["net_pnl"])
            day["cumulative_net_pnl"] = str(running)
        return Response(answer)

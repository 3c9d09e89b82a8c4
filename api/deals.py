"""`GET /api/deals`: the deals report (one row per trade) of a range of entry dates, as JSON or as the CSV file
`tradestream deals` writes; the rows are `api.deals_report`'s, read from the `trades` table.

The query parameters are checked before a pooled connection is taken, each mistake a 400 naming the parameter:
a date that is not YYYY-MM-DD, `to` before `from`, a range longer than MAX_RANGE_DAYS, an unknown format.
At most MAX_DEALS rows are answered: a range holding more is a 400 asking for a narrower one, never a
truncated report. The query runs on the async pool (the event loop waits on the socket, not on PostgreSQL);
the rows become DealRows and text in a thread, since a full report is thousands of rows.
Only the trades of the caller's accounts are answered (`api.users`): another user's account, asked for by name,
gives an empty report, as an account without trades does.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import re
from collections.abc import Sequence
from typing import Any

from litestar import Controller, MediaType, Response, get
from litestar.params import Parameter
from litestar.status_codes import HTTP_400_BAD_REQUEST
from psycopg_pool import AsyncConnectionPool

from api.auth import SECURITY, Caller
from api.database import POOL
from api.deals_report import DealsFilter, deal_json, deal_of, deals_query, write_csv
from processors.scanner.config.choices import MAX_NAME_LENGTH

MAX_RANGE_DAYS = 366
"""The longest range of entry dates one request may ask for (both ends included)."""
MAX_DEALS = 10_000
"""The most rows one answer holds."""
FIRST_DATE, LAST_DATE = dt.date(1970, 1, 1), dt.date(2262, 4, 10)
"""The dates a range may name: the days whose times the events' nanoseconds since 1970 (a signed 64-bit integer)
hold. Past them, 9999-12-31's next midnight overflowed Python's dates (a 500)."""
FORMATS = ("json", "csv")
CSV_MEDIA_TYPE = "text/csv"  # Litestar adds "; charset=utf-8"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class BadParameter(ValueError):
    """A query parameter's mistake, answered 400 with the parameter's name."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _date(field: str, text: str) -> dt.date:
    shown = text if len(text) <= 20 else text[:20] + "…"
    if _DATE.fullmatch(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    raise BadParameter(field, f"{field} must be a date as YYYY-MM-DD, not {shown!r}")


def deals_filter(start: str, end: str, account: str | None, strategy: str | None, output: str,
                 owner_id: int | None = None) -> DealsFilter:
    """The request's filter (of the accounts `owner_id` owns); BadParameter naming the first parameter that is
    wrong."""
    first, last = _date("from", start), _date("to", end)
    for field, day in (("from", first), ("to", last)):
        if not FIRST_DATE <= day <= LAST_DATE:
            raise BadParameter(field, f"{field} must be from {FIRST_DATE.isoformat()} to {LAST_DATE.isoformat()}")
    if last < first:
        raise BadParameter("to", f"to ({last.isoformat()}) is before from ({first.isoformat()})")
    days = (last - first).days + 1
    if days > MAX_RANGE_DAYS:
        raise BadParameter("to", f"the range from {first.isoformat()} to {last.isoformat()} is {days} days; ask "
                                 f"for at most {MAX_RANGE_DAYS} days at a time")
    if output not in FORMATS:
        shown = output if len(output) <= 20 else output[:20] + "…"
        raise BadParameter("format", f"format must be json or csv, not {shown!r}")
    return DealsFilter(first, last, account or None, strategy or None, owner_id)


def _bad(field: str, message: str) -> Response[dict[str, object]]:
    return Response({"status_code": 400, "detail": message, "errors": [{"field": field, "message": message}]},
                    status_code=HTTP_400_BAD_REQUEST)


def render(rows: Sequence[tuple[Any, ...]], output: str) -> bytes:
    """The answer's body: the rows as a JSON array of deals, or as deals.csv."""
    deals = [deal_of(row) for row in rows]
    if output == "csv":
        text = io.StringIO()
        write_csv(text, deals)
        return text.getvalue().encode()
    return json.dumps([deal_json(deal) for deal in deals], ensure_ascii=False).encode()


class DealsController(Controller):
    path = "/api"
    security = SECURITY

    @get("/deals")
    async def deals(
            self,
            start: str = Parameter(query="from", description="first date of the trades' entry, YYYY-MM-DD in New "
                                                             "York time"),
            end: str = Parameter(query="to", description=f"last date, inclusive (at most {MAX_RANGE_DAYS} days "
                                                         "after from)"),
            account: str | None = Parameter(default=None, max_length=MAX_NAME_LENGTH,
                                            description="only this account's trades"),
            strategy: str | None = Parameter(default=None, max_length=MAX_NAME_LENGTH,
                                             description="only this strategy's trades"),
            output: str = Parameter(query="format", default="json", description="json (default) or csv"),
            *, caller: Caller, pool: AsyncConnectionPool = POOL) -> Response[Any]:
        """The deals report of the caller's accounts: one row per trade entered (first entry fill) from `from` to `to` (dates in New York
        time), by entry time then trade id, with the columns of deals.csv. JSON: a list of objects, quantities as
        numbers, money, percentages and times (ISO-8601 UTC) as strings, null for an exit not made yet; CSV: the
        file `tradestream deals` writes. 400 names the parameter that is wrong, or asks for a narrower range
        when it holds more than 10,000 deals."""
        try:
            where = deals_filter(start, end, account, strategy, output, caller.user.user_id)
        except BadParameter as exc:
            return _bad(exc.field, str(exc))
        query, params = deals_query(where, MAX_DEALS + 1)
        async with pool.connection() as conn:
            rows = await (await conn.execute(query, params)).fetchall()
        if len(rows) > MAX_DEALS:
            return _bad("to", f"more than {MAX_DEALS:,} deals were entered from {where.first.isoformat()} to "
                              f"{where.last.isoformat()}; ask for a shorter range, or one account or strategy")
        body = await asyncio.to_thread(render, rows, output)
        if output == "csv":
            return Response(body, media_type=CSV_MEDIA_TYPE,
                            headers={"Content-Disposition": 'attachment; filename="deals.csv"'})
        return Response(body, media_type=MediaType.JSON)

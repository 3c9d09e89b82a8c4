"""`GET /api/calendar?from=2026-01-01&to=2026-12-31`: the NYSE trading calendar the platform runs on, for the
calendar page: each trading day with its session hours in New York time (pre-market, regular, post-market; a half
day's early close marked), and the weekdays the exchange is closed (holidays). Built by
`processors.calendar.build_nyse_calendar` with the default session hours, off the event loop. The dates are checked
as the deals report's (`api.deals.deals_filter`: YYYY-MM-DD, `to` not before `from`, at most a year), each mistake
a 400 naming the parameter. The calendar is the same for every user.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

from litestar import Controller, Response, get
from litestar.params import Parameter
from litestar.status_codes import HTTP_400_BAD_REQUEST

from api.auth import SECURITY
from api.deals import MAX_RANGE_DAYS, BadParameter, deals_filter
from processors.calendar import build_nyse_calendar

ET = ZoneInfo("America/New_York")
FIRST_DAY, LAST_DAY = dt.date(1990, 1, 1), dt.date(2099, 12, 31)
"""The calendar answered: the exchange calendar library's holiday rules are not meant for the distant past or
future (it gives a trading day on every weekday of year 1, and fails past 9999)."""


def _et(ns: int) -> str:
    return dt.datetime.fromtimestamp(ns // 10**9, ET).strftime("%H:%M")


def calendar(first: dt.date, last: dt.date) -> dict[str, object]:
    """The trading days of [first, last] with their hours in ET, and the weekdays without trading."""
    days = build_nyse_calendar(first, last).days
    trading = {day.date for day in days}
    weekdays = (first + dt.timedelta(days=n) for n in range((last - first).days + 1))
    return {"from": first.isoformat(), "to": last.isoformat(),
            "days": [{"date": d.date.isoformat(), "pre_open": _et(d.pre_open), "open": _et(d.open),
                      "close": _et(d.close), "post_close": _et(d.post_close), "early_close": d.early_close}
                     for d in days],
            "closed": [day.isoformat() for day in weekdays if day.weekday() < 5 and day not in trading]}


class CalendarController(Controller):
    path = "/api"
    security = SECURITY

    @get("/calendar")
    async def trading_calendar(
            self, start: str = Parameter(query="from", description="first date, YYYY-MM-DD"),
            end: str = Parameter(query="to", description=f"last date, inclusive (at most {MAX_RANGE_DAYS} days "
                                                         "after from)")) -> Response[dict[str, object]]:
        """NYSE trading days from `from` to `to` with their session hours in New York time (half days marked),
        and the weekdays the exchange is closed."""
        try:
            where = deals_filter(start, end, None, None, "json")
            for name, day in (("from", where.first), ("to", where.last)):
                if not FIRST_DAY <= day <= LAST_DAY:
                    raise BadParameter(name, f"{name} must be from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}, "
                                             f"the years the calendar covers")
        except BadParameter as exc:
            return Response({"status_code": 400, "detail": str(exc),
                             "errors": [{"field": exc.field, "message": str(exc)}]}, status_code=HTTP_400_BAD_REQUEST)
        return Response(await asyncio.to_thread(calendar, where.first, where.last))

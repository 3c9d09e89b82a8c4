"""The calendar page's data: NYSE trading days with their hours in New York time, the day after Thanksgiving a half
day (early close 13:00, post-market to 17:00), Thanksgiving itself closed; bad dates are 400s naming them."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from api.app import create_app
from tests.users import make_user
from tradestream.commands.api import api_settings
from tradestream.config import Settings

pytestmark = pytest.mark.integration


def test_trading_calendar(settings: Settings, unique: str) -> None:
    user = make_user(settings.database_url, f"cal-{unique}")
    with TestClient(app=create_app(api_settings(settings))) as client:
        client.headers.update(user.headers)
        body = client.get("/api/calendar", params={"from": "2026-11-25", "to": "2026-11-30"}).json()
        assert body["days"] == [
            {"date": "2026-11-25", "pre_open": "04:00", "open": "09:30", "close": "16:00", "post_close": "20:00",
             "early_close": False},
            {"date": "2026-11-27", "pre_open": "04:00", "open": "09:30", "close": "13:00", "post_close": "17:00",
             "early_close": True},
            {"date": "2026-11-30", "pre_open": "04:00", "open": "09:30", "close": "16:00", "post_close": "20:00",
             "early_close": False}]
        assert body["closed"] == ["2026-11-26"]  # Thanksgiving; the weekend is not listed
        for query, field in (({"from": "2026-11-25", "to": "2026-11-24"}, "to"),
                             ({"from": "25/11/2026", "to": "2026-11-30"}, "from"),
                             ({"from": "2026-01-01", "to": "2027-06-01"}, "to"),
                             ({"from": "0001-01-01", "to": "0001-12-31"}, "from"),
                             ({"from": "2099-12-01", "to": "2100-01-02"}, "to"),
                             ({"from": "9999-01-01", "to": "9999-12-31"}, "from")):
            refused = client.get("/api/calendar", params=query)
            assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == field
        assert client.get("/api/calendar", params={"from": "2026-11-25", "to": "2026-11-30"},
                          headers={"Authorization": ""}).status_code == 401

"""The why routes' pure parts: the symbols a rule reads, and the days and command of the replay."""

from __future__ import annotations

import datetime as dt

from litestar.testing import TestClient

from api.why import rule_symbols, replay


def ns(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).timestamp()) * 10**9


def test_the_symbols_of_a_rule_are_the_signals_then_those_its_terms_name() -> None:
    values = {"price(SPY)": 1.0, "swing_high(SPY,15m)": 2.0, "correlation(SPY, QQQ, 15m, 20)": 0.5,
              "atr(BRK.B,5m)": 3.0, "rsi(14)": 40.0}
    assert rule_symbols("SPY", values) == ["SPY", "QQQ", "BRK.B"]
    assert rule_symbols("IWM", {}) == ["IWM"]


def test_the_replay_starts_on_the_new_york_day_and_ends_on_the_utc_day() -> None:
    regular = replay(ns("2026-03-12T10:45:00-04:00"), "breakout", "acct-1", "abc")
    assert regular == {"from": "2026-03-12", "to": "2026-03-12", "strategy": "breakout", "account": "acct-1",
                       "command": "tradestream audit replay --from 2026-03-12 --to 2026-03-12 --config breakout.yaml "
                                  "--account acct-1.yaml --out replay-abc"}
    post_market = replay(ns("2026-01-15T19:30:00-05:00"), "late", None, "x")  # 00:30 UTC the next day
    assert (post_market["from"], post_market["to"]) == ("2026-01-15", "2026-01-16")
    assert post_market["command"] == ("tradestream audit replay --from 2026-01-15 --to 2026-01-16 "
                                      "--config late.yaml --out replay-x")


def test_no_caller_no_answer(offline_client: TestClient) -> None:
    del offline_client.headers["Authorization"]
    for path in ("/api/trades/t1/why", "/api/signals/s1/why"):
        assert offline_client.get(path).status_code == 401

"""Order intents from signals: prices on the tick grid, deterministic ids, option and futures contracts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest

from processors.instruments.options import CategorySplit, chain_from_csv
from processors.model import SignalGenerated
from processors.orders.intents import IntentError, build_intent, client_order_id, front_futures_contract, order_prices

D = Decimal


def signal(side: str = "BUY", price: str = "600.123") -> SignalGenerated:
    return SignalGenerated(signal_id="sig-1", strategy="corr", symbol="SPY", side=side, ts_event=5, ts_init=6,
                           price=D(price), reason="r")


def order(**overrides: object) -> SimpleNamespace:
    values = dict(exchange="smart", order_type="limit", limit_offset_ticks=2, stop_offset_ticks=3, product="margin",
                  quantity=10, multiplier=1)
    values.update(overrides)
    return SimpleNamespace(**values)


def config(instrument: str = "equity", **overrides: object) -> SimpleNamespace:
    values = dict(instrument=instrument, order=order(), mode="virtual", expiry=None, option=None, futures=None)
    values.update(overrides)
    return SimpleNamespace(**values)


@pytest.mark.parametrize(("kind", "side", "limit", "stop"), [
    ("market", "BUY", None, None),
    ("limit", "BUY", D("600.14"), None),          # 600.123 rounds down to 600.12, plus 2 ticks
    ("limit", "SELL", D("600.11"), None),         # rounds up to 600.13, minus 2 ticks
    ("stop", "BUY", None, D("600.15")),
    ("stop", "SELL", None, D("600.10")),
    ("stop_limit", "BUY", D("600.17"), D("600.15")),
    ("stop_limit", "SELL", D("600.08"), D("600.10")),
])
def test_order_prices_are_on_the_tick_grid(kind: str, side: str, limit: Decimal | None, stop: Decimal | None) -> None:
    priced = order_prices(kind, side, D("600.123"), D("0.01"), 2, 3)
    assert (priced.limit_price, priced.stop_price) == (limit, stop)


def test_equity_intent_and_deterministic_client_order_id() -> None:
    intent = build_intent(signal(), config(), dt.date(2026, 11, 24))
    assert (intent.contract, intent.exchange, intent.order_type, intent.limit_price, intent.tick_size) == (
        "SPY", "SMART", "LIMIT", D("600.14"), D("0.01"))
    assert (intent.product, intent.quantity, intent.multiplier, intent.mode) == ("MARGIN", 10, 1, "VIRTUAL")
    assert intent.client_order_id == client_order_id("sig-1") == build_intent(
        signal(), config(), dt.date(2026, 11, 24)).client_order_id
    assert client_order_id("sig-2") != intent.client_order_id and len(intent.client_order_id) == 27


def test_sub_dollar_stocks_use_the_sub_penny_tick() -> None:
    intent = build_intent(signal(price="0.51237"), config(), dt.date(2026, 11, 24))
    assert (intent.tick_size, intent.limit_price) == (D("0.0001"), D("0.5125"))


def test_option_intent_picks_the_contract_from_the_chain() -> None:
    rows = ["underlying,expiry,strike,right"] + [f"SPY,2026-12-18,{k},{r}" for k in range(590, 611, 5)
                                                 for r in ("call", "put")]
    chain = chain_from_csv("\n".join(rows))
    option = SimpleNamespace(right="call", category="ITM", category_split=CategorySplit(), min_days_to_expiry=0)
    cfg = config("option", expiry="monthly", option=option, order=order(exchange="cboe", multiplier=100))
    intent = build_intent(signal(price="601.00"), cfg, dt.date(2026, 11, 24), option_chain=lambda s: chain)
    assert intent.contract == "SPY   261218C00595000"  # ATM 600, one strike in the money for a call
    assert intent.instrument == "OPTION" and intent.multiplier == 100 and intent.limit_price is None
    with pytest.raises(IntentError, match="no option chain for SPY"):
        build_intent(signal(), cfg, dt.date(2026, 11, 24))


def test_futures_front_contract_rolls_before_expiry() -> None:
    # ESZ6 expires Friday 2026-12-18; with a 5-business-day roll, trading moves to ESH7 on 2026-12-11.
    assert front_futures_contract("ES", dt.date(2026, 12, 10), 5) == "ESZ6"
    assert front_futures_contract("ES", dt.date(2026, 12, 11), 5) == "ESH7"
    futures = SimpleNamespace(root="ES", roll_days=5)
    intent = build_intent(signal(price="6000.37"), config("futures", futures=futures, order=order(multiplier=50)),
                          dt.date(2026, 11, 24))
    assert (intent.contract, intent.tick_size, intent.limit_price, intent.multiplier) == (
        "ESZ6", D("0.25"), D("6000.75"), 50)


def test_an_option_section_without_a_split_uses_the_universal_settings_default() -> None:
    from processors.settings import UniversalSettings

    rows = ["underlying,expiry,strike,right"] + [f"SPY,2026-12-18,{k},{r}" for k in range(580, 621, 5)
                                                 for r in ("call", "put")]
    chain = chain_from_csv("\n".join(rows))
    option = SimpleNamespace(right="call", category="ITM", category_split=None, min_days_to_expiry=0)
    cfg = config("option", expiry="monthly", option=option, order=order(exchange="cboe", multiplier=100))
    settings = UniversalSettings(capital=D("100000"), option_category_split=CategorySplit(itm_strikes=2))
    day = dt.date(2026, 11, 24)
    # ATM 600; the settings' split reaches two strikes in the money (590), the module's default one (595).
    with_settings = build_intent(signal(price="601.00"), cfg, day, option_chain=lambda s: chain, settings=settings)
    assert with_settings.contract == "SPY   261218C00590000"
    assert build_intent(signal(price="601.00"), cfg, day, option_chain=lambda s: chain).contract == \
        "SPY   261218C00595000"
    option.category_split = CategorySplit(itm_strikes=3)  # the section's own split wins over the settings'
    assert build_intent(signal(price="601.00"), cfg, day, option_chain=lambda s: chain,
                        settings=settings).contract == "SPY   261218C00585000"

"""Shared input of the strategy tests: three simulated sessions of negatively correlated SPY and QQQ."""

from __future__ import annotations

import datetime as dt

import pytest

from processors.calendar import session_windows
from processors.simulation import MarketSimulator, SimulationConfig


@pytest.fixture(scope="module")
def ticks() -> list:
    windows = session_windows(dt.date(2026, 11, 16), dt.date(2026, 11, 18), "regular")
    simulation = SimulationConfig(symbols=("SPY", "QQQ"), seed=11, start_prices=(600.0, 500.0),
                                  annual_volatility=(0.6, 0.6), correlation=((1.0, -0.5), (-0.5, 1.0)),
                                  trades_per_minute=30, bad_print_probability=0.0)
    return list(MarketSimulator(simulation, windows).ticks())

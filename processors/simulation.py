"""A seeded, deterministic simulated U.S. equity market: correlated prices, trades in session hours.

Given session windows (the calendar supplies real NYSE days) the simulator produces `TradeTick`s in
event-time order across all symbols. The same seed and windows always give the same ticks, so the
simulated feed can resume where it stopped and tests can rely on it.

Model, per symbol i and one-second step of event time:
- log-price follows correlated Brownian motion: the vector of returns is `L @ z * sigma * sqrt(dt)`
  with `L` the Cholesky factor of the configured correlation matrix;
- the number of trades is Poisson with intensity `trades_per_minute / 60 * smile(t)`, where the
  intraday volume smile is U-shaped over the regular session (heavier at the open and the close)
  and a tenth of the midday rate in pre- and post-market;
- each trade's price is the current price plus half a tick of noise, rounded to the tick size;
  sizes are round lots of 100 mostly, odd lots sometimes;
- with probability `bad_print_probability` a trade is a bad print (zero price or zero size), which a
  correct pipeline must reject with a reason.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np

from processors.calendar import SessionWindow
from processors.model import TradeTick

NS_PER_S = 1_000_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulationConfig:
    symbols: tuple[str, ...]
    seed: int = 7
    start_prices: tuple[float, ...] = ()
    annual_volatility: tuple[float, ...] = ()
    correlation: tuple[tuple[float, ...], ...] = ()
    default_correlation: float = 0.6
    tick_size: Decimal = Decimal("0.01")
    trades_per_minute: float = 120.0
    bad_print_probability: float = 0.0005
    odd_lot_probability: float = 0.15
    feed: str = "simulated"
    latency_ns: tuple[int, int] = field(default=(200_000, 3_000_000))

    def __post_init__(self) -> None:
        n = len(self.symbols)
        if n == 0:
            raise ValueError("symbols must not be empty")
        if len(set(self.symbols)) != n:
            raise ValueError("symbols must be distinct")
        if self.start_prices and len(self.start_prices) != n:
            raise ValueError("start_prices must have one price per symbol")
        if any(p <= 0 for p in self.start_prices):
            raise ValueError("start_prices must be positive")
        if self.annual_volatility and len(self.annual_volatility) != n:
            raise ValueError("annual_volatility must have one value per symbol")
        if self.correlation:
            matrix = np.asarray(self.correlation, dtype=float)
            if matrix.shape != (n, n):
                raise ValueError(f"correlation must be a {n}x{n} matrix")
            if not np.allclose(matrix, matrix.T) or not np.allclose(np.diag(matrix), 1.0):
                raise ValueError("correlation must be symmetric with ones on the diagonal")
            if np.min(np.linalg.eigvalsh(matrix)) <= 0:
                raise ValueError("correlation must be positive definite")
        if not -1 / max(n - 1, 1) < self.default_correlation < 1:
            raise ValueError("default_correlation must make a positive definite matrix")
        if self.tick_size <= 0:
            raise ValueError("tick_size must be positive")
        if self.trades_per_minute <= 0:
            raise ValueError("trades_per_minute must be positive")
        if not 0 <= self.bad_print_probability < 1:
            raise ValueError("bad_print_probability must be in [0, 1)")

    def correlation_matrix(self) -> np.ndarray:
        if self.correlation:
            return np.asarray(self.correlation, dtype=float)
        n = len(self.symbols)
        matrix = np.full((n, n), self.default_correlation)
        np.fill_diagonal(matrix, 1.0)
        return matrix


def volume_smile(session: str, fraction: float) -> float:
    """Relative trading intensity at `fraction` (0..1) of the way through `session`."""
    if session != "regular":
        return 0.1
    return 0.6 + 2.4 * (2 * fraction - 1) ** 2


class MarketSimulator:
    """Deterministic tick generator over a sequence of session windows."""

    def __init__(self, config: SimulationConfig, windows: Sequence[SessionWindow]) -> None:
        self.config = config
        self.windows = sorted(windows, key=lambda w: w.start_ns)
        self._chol = np.linalg.cholesky(config.correlation_matrix())
        n = len(config.symbols)
        self._start_prices = np.asarray(config.start_prices or [100.0 + 50.0 * i for i in range(n)], dtype=float)
        self._sigma = np.asarray(config.annual_volatility or [0.25] * n, dtype=float)
        self._tick = float(config.tick_size)
        self._quantum = config.tick_size

    def _day_rng(self, day_index: int) -> np.random.Generator:
        return np.random.default_rng([self.config.seed, day_index])

    def ticks(self, after_ns: int | None = None) -> Iterator[TradeTick]:
        """All ticks in event-time order; with `after_ns`, only those with ts_event > after_ns."""
        cfg = self.config
        dt = 1.0
        step_sigma = self._sigma * math.sqrt(dt / (252 * 6.5 * 3600))
        log_price = np.log(self._start_prices)
        for day_index, window in enumerate(self.windows):
            rng = self._day_rng(day_index)
            duration_s = max(1, (window.end_ns - window.start_ns) // NS_PER_S)
            if after_ns is not None and window.end_ns <= after_ns:
                # Advance the price path as if the window had been played, without building ticks.
                shocks = rng.standard_normal((duration_s, len(cfg.symbols)))
                log_price = log_price + (shocks @ self._chol.T * step_sigma).sum(axis=0)
                continue
            shocks = rng.standard_normal((duration_s, len(cfg.symbols)))
            returns = shocks @ self._chol.T * step_sigma
            path = log_price + np.cumsum(returns, axis=0)
            log_price = path[-1]
            fractions = np.arange(duration_s) / duration_s
            intensity = np.array([volume_smile(window.session, f) for f in fractions]) * cfg.trades_per_minute / 60
            counts = rng.poisson(np.outer(intensity, np.ones(len(cfg.symbols))))
            for second in range(duration_s):
                base_ns = window.start_ns + second * NS_PER_S
                row = counts[second]
                total = int(row.sum())
                if total == 0:
                    continue
                offsets = np.sort(rng.integers(0, NS_PER_S, size=total))
                symbol_order = rng.permutation(np.repeat(np.arange(len(cfg.symbols)), row))
                noise = rng.uniform(-0.5, 0.5, size=total)
                lots = rng.random(total)
                lot_sizes = rng.integers(1, 10, size=total)
                odd = rng.integers(1, 100, size=total)
                bad = rng.random(total) < cfg.bad_print_probability
                latency = rng.integers(cfg.latency_ns[0], cfg.latency_ns[1], size=total)
                for j in range(total):
                    i = int(symbol_order[j])
                    ts_event = base_ns + int(offsets[j])
                    if after_ns is not None and ts_event <= after_ns:
                        continue
                    mid = math.exp(path[second, i])
                    ticks_away = round(mid / self._tick + noise[j])
                    price = (Decimal(ticks_away) * self._quantum).quantize(self._quantum, ROUND_HALF_EVEN)
                    size = int(odd[j]) if lots[j] < cfg.odd_lot_probability else int(lot_sizes[j]) * 100
                    if bad[j]:
                        price, size = (Decimal(0), size) if j % 2 == 0 else (price, 0)
                    yield TradeTick(
                        symbol=cfg.symbols[i],
                        ts_event=ts_event,
                        ts_init=ts_event + int(latency[j]),
                        price=price,
                        size=size,
                        feed=cfg.feed,
                        trade_id=f"{cfg.symbols[i]}-{window.start_ns // NS_PER_S}-{second}-{j}",
                        exchange="SIM",
                        conditions=("@",) if size >= 100 else ("@", "I"),
                    )

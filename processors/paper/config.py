"""The fill model's settings: one frozen record, checked when built."""

from __future__ import annotations

from dataclasses import dataclass

from processors.paper.errors import PaperBrokerError


@dataclass(frozen=True, slots=True, kw_only=True)
class FillModel:
    """How the paper broker fills.

    slippage_ticks   every fill price moves this many ticks against the order (a buy pays more, a sell
                     gets less), on the order's tick grid; a limit fill never goes beyond its limit price
    partial_fills    True: a print of size N (a bar of volume N) fills at most N shares across all the
                     orders it reaches, in time priority; False: a print fills every order it reaches in full
    """

    slippage_ticks: int = 0
    partial_fills: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.slippage_ticks, bool) or not isinstance(self.slippage_ticks, int):
            raise PaperBrokerError("fill_model.slippage_ticks", f"must be an int, got {self.slippage_ticks!r}")
        if self.slippage_ticks < 0:
            raise PaperBrokerError("fill_model.slippage_ticks", f"must be 0 or more, got {self.slippage_ticks}")
        if not isinstance(self.partial_fills, bool):
            raise PaperBrokerError("fill_model.partial_fills", f"must be True or False, got {self.partial_fills!r}")

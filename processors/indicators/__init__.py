"""Indicators on closed bars, each as an incremental calculator and a vectorised batch twin.

The value on bar t uses bars up to and including t only. `IndicatorSet` combines them per symbol and
timeframe into `IndicatorSnapshot`s (mirroring schemas/indicator_snapshot.avsc);
`compute_indicators` is the batch form over a DataFrame of bars of any number of symbols.
"""

from processors.indicators.indicator_set import (
    IndicatorParams,
    IndicatorSet,
    IndicatorSnapshot,
    compute_indicators,
)

__all__ = ["IndicatorParams", "IndicatorSet", "IndicatorSnapshot", "compute_indicators"]

"""OHLCV bars from trade ticks, closed on event time, in an incremental and a batch form.

Alignment: bars are cut inside each session window of the calendar (pre 04:00-09:30, regular
09:30-16:00 or 13:00 on early closes, post to 20:00 or 17:00, optional overnight), starting at the
window's open: bar k of a window is [open + k*tf, min(open + (k+1)*tf, window end)). So 60-minute
regular bars start at 09:30 ET and the last one is 15:30-16:00; no bar spans two sessions or days;
`1d` is one bar per session window. DST is in the calendar's UTC boundaries.

Event time: each symbol has a watermark, the largest ts_event of its valid ticks so far. A bar closes
when the watermark reaches its end plus the allowed lateness (or on `advance`/`flush`). A tick whose
bar has closed by that rule is *late*: it is returned as a rejection (the stage dead-letters it),
never merged. Out-of-order ticks within the lateness are merged: open is the price with the earliest
(ts_event, arrival order), close the latest.

Each tick is checked in this order, the first failing check giving its rejection:
    invalid     price or size not a positive finite number           (error, dead-letter)
    session     outside the selected sessions / the calendar          (expected, counted)
    late        its bar already closed                                 (error, dead-letter)
    condition   sale conditions exclude it from OHLC and volume       (expected, counted)
    duplicate   same trade_id already in the bar                      (expected, counted once)
Only valid ticks move the watermark (a bad print's timestamp cannot close bars).

OHLC use prints eligible for OHLC, volume and VWAP prints eligible for volume (processors.conditions);
a bar exists only if it has at least one OHLC-eligible print. `trades` counts the distinct prints in
the bar. VWAP is computed exactly in units of 1e-8 and rounded half-even to 8 decimals; open, high,
low and close are exactly the input prices.

The batch form (`aggregate_batch`) gives the same bars (fields and `ts_init`) for the same input
order, vectorised with numpy; tests prove the identity.

The modules:
    timeframe     Timeframe: `5m`, `1h`, `1d` parsed and normalised
    rejections    the rejection codes, in checking order, and Rejection
    prices        exact decimals: input prices, VWAP from sums in units of 1e-8
    open_bar      the incremental aggregator's per-symbol state (open bars, watermark, session window)
    incremental   BarAggregator: print by print (`update_raw`) or a symbol's batch (`update_many`)
    in_order      update_many's fast path: a batch that is accepted whole, applied bar by bar
    batch         aggregate_batch, the vectorised twin, in named phases
    resample      resample_bars: coarser bars from finer ones
    id_chunks     how the bars stage stores open bars' trade ids: chunks merged by level, size-capped
    state         BarsProcessor: the bars stage without Faust (table values in and out, records in,
                  bars, dead letters and latencies out)
"""

from processors.bars.batch import BatchResult, TickArrays, aggregate_batch
from processors.bars.incremental import BarAggregator
from processors.bars.prices import PRICE_SCALE, price_units, to_decimal, vwap_decimal
from processors.bars.rejections import (
    ACCEPTED,
    DUPLICATE,
    ERROR_REJECTIONS,
    EXCLUDED_CONDITION,
    INVALID,
    LATE,
    OUTSIDE_SESSION,
    REJECTION_CLASSES,
    VOLUME_ONLY_BAR,
    Rejection,
)
from processors.bars.resample import resample_bars
from processors.bars.timeframe import NS, Timeframe

__all__ = [
    "ACCEPTED", "DUPLICATE", "ERROR_REJECTIONS", "EXCLUDED_CONDITION", "INVALID", "LATE", "NS", "OUTSIDE_SESSION",
    "PRICE_SCALE", "REJECTION_CLASSES", "VOLUME_ONLY_BAR", "BarAggregator", "BatchResult", "Rejection",
    "TickArrays", "Timeframe", "aggregate_batch", "price_units", "resample_bars", "to_decimal", "vwap_decimal",
]

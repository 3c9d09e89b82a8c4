"""A backtest over bars computed with numpy: the batch twin of driving `StrategyPipeline.on_bar`.

    decisions = backtest_bars(config, bars, calendar)

gives the same `Decisions` (signals, suppressed signals and order intents, field for field, in the
same order) as

    pipeline = StrategyPipeline(config, calendar, SignalLimiter.from_config(config),
                                lambda ts: in_schedule(config, ts))
    decisions = Decisions()
    for bar in sorted(bars, key=event_order_key):
        decisions.extend(pipeline.on_bar(bar))
    decisions.extend(pipeline.finish())

`bars` is a sequence of `Bar`s or a DataFrame of bars (see `backtest_bars`). The tests prove the
identity on simulated and real data; the incremental pipeline stays the definition.

How. The incremental run is a sequence of engine events: each bar (finer bars set the price at their
end), each strategy bar the resampler closes (when a bar ends at its bucket's end, or late, when the
next bar of the symbol starts another bucket, or at `finish`) and each indicator snapshot. Here:
1. the strategy bars are found with vectorised grouping, and every event gets its place in the
   processing order (the input bar that causes it, then its position within that bar's step);
2. the instants evaluated follow from the events' times alone: an event evaluates an instant when
   its slot of the strategy's clock (`processors.strategies.clock`: interval multiples, or session
   closes for 1d) is later than that of every event before it (the engine's `_next_slot` is one
   after the running maximum) and it is not one of `finish`'s; the instant is the earliest one due
   if it is in the schedule, else the latest one due, and it is evaluated only inside the schedule;
3. each rule requirement becomes a column with one value per evaluated instant: the value the
   `MarketState` would answer after the events before the instant's triggering event (an as-of join
   on the processing order, never on time, since a late strategy bar is processed after a later
   finer bar); indicators come from `compute_indicators`, Donchian channels of another period from
   rolling windows of the bar history, correlations from `rolling_correlation` over the bars the
   two symbols share;
4. the rules are evaluated over the whole series with `evaluate_series`;
5. only the instants where a rule that matters in the current position fired are visited in a
   Python loop: positions, staleness, deviation from the reference price, `SignalLimiter`, and
   order intents through `build_intent`.

Semantics of the incremental pipeline reproduced here on purpose:
- A strategy bar closed late (its bucket's last finer bar missing) is merged when the symbol's next
  bar arrives, *after* that bar set the price. It joins the bar history and makes its snapshot, but
  leaves the price, its time and the reference price as the newer bar set them: `MarketState`
  ignores a price update older than the symbol's latest (here: a price event is dropped when its
  time is below the running maximum of the times before it).
- `finish()` closes the last, incomplete strategy bars into the state without evaluating an instant:
  its events are never an evaluation's trigger here.
- `donchian_*(SYM, TF, N)` reads the indicator snapshot only when TF is the strategy timeframe and N
  the configured Donchian period (or is omitted); otherwise the last N bars of the kept history (512
  bars: a larger N is never defined). Bar functions and Donchian channels on the input bars'
  timeframe (e.g. `close(SPY, 1m)`) read the input bars.
- A strategy bar starting at or before the previous one of its symbol joins the bar history (and
  sets the price unless it is older than the latest update) but makes no indicator snapshot
  (`IndicatorSet.handle_bar` refuses it).

Cost: linear in the bars apart from the sorts. Python-level work per bar only reads `Bar` objects
(a DataFrame of floats avoids it) and runs the ATR recursion of `compute_indicators`; the rest
loops over emitted signals. A correlation over bars whose starts are not strictly
increasing per symbol falls back to replaying those bars into a `MarketState`, which is exact but
slow. `in_schedule`, when given, must be a pure function of the instant (it is called on every
candidate instant, though not in the engine's order); by default the configuration's schedule is
computed vectorised.

Not matched: no known difference. Prices that are not finite numbers raise NotImplementedError
(the incremental run compares Decimal NaNs, which raises or orders them in ways not reproduced here).
`et_date` reads ts/1e9 as a float: instants that are whole microseconds (all bar ends in practice)
are converted vectorised, others through `et_date` itself, so that corner is matched too.

Daily (1d) strategies: the strategy bars are the regular sessions; finer bars outside them set the
price and close a pending daily bar, but join none (`StrategyPipeline.on_bar`).

The modules, in the order of the steps:

    table.py      the input bars as columns, in processing order (`BarTable`)
    events.py     step 1: the strategy bars (resampled vectorised) and every event's place (`EventStream`)
    instants.py   step 2: the evaluated instants (`Evaluations`) and the vectorised schedule and ET dates
    series.py     the events of one symbol as known at each instant (`Series`, `BarSeries`, `PriceSeries`)
    columns.py    step 3: one column per rule requirement (`Columns`)
    decider.py    steps 4 and 5: the rules over the series, then the loop over the instants that act
    backtest.py   `backtest_bars` and `bars_frame`
"""

from processors.strategies.vectorized.backtest import backtest_bars, bars_frame

__all__ = ["backtest_bars", "bars_frame"]

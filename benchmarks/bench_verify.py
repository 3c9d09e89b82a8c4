"""`verify bars` for one full simulated session: seconds per timeframe, with bars_from_ticks() as
sql/005 defines it and, for comparison, as sql/002 defined it.

Needs the stack (`make stack-up`). Run: .venv/bin/python benchmarks/bench_verify.py [--symbols 20]
[--trades-per-minute 40] [--day 2027-06-16] [--repeats 3] [--old-limit-s 120]

The day's pre-market, regular session and post-market are simulated (processors.simulation, 20
symbols at 40 trades a minute each on average: about 450,000 prints) under symbols unique to the run;
the prints go to trade_ticks through the sink's COPY, and the streamed bars are those of the batch
aggregator (processors.bars, the bars stage's lateness) for 1m and 5m. Then `verify_bars` compares the
day, once per timeframe: `--repeats` times with the current function (the median is printed), once
with sql/002's function, created under another name in a schema of its own and dropped at the end.
sql/002's function tests every print against every session of the calendar, so it is stopped after
`--old-limit-s` seconds (0: never) and printed as "> N". The run's rows are deleted at the end.
Other rows stored for the same day (none, normally) are verified too and counted in the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial

import psycopg

from processors.bars import TickArrays, aggregate_batch
from processors.calendar import build_nyse_calendar, parse_sessions
from processors.model import Bar, TradeTick
from processors.simulation import MarketSimulator, SimulationConfig
from streams.sinks.postgres import PostgresSink
from streams.sinks.rows import TABLES
from tradestream.config import Settings
from tradestream.db import connect, migrate
from tradestream.verify import BarsVerification, verify_bars

TIMEFRAMES = ("1m", "5m")
WRITE_BATCH = 50_000

# bars_from_ticks() as sql/002_bars_from_ticks.sql created it (tests/integration/test_verify_bars.py
# checks that the text still matches that file), under the name `{name}`.
OLD_BARS_FROM_TICKS = """
create or replace function {name}(timeframe interval, from_ts timestamptz, to_ts timestamptz)
returns table (symbol text, start timestamptz, "end" timestamptz, open numeric, high numeric, low numeric,
               close numeric, volume numeric, vwap numeric, trades bigint)
language sql stable as $$
    with eligible as (
        select t.symbol, t.ts, t.ts_event_ns, t.ts_init_ns, t.trade_id, t.price, t.size, s.open as day_open,
               s.close as day_close,
               not exists (select 1 from unnest(t.conditions) c join trade_condition_rules r on r.code = c
                           where not r.updates_ohlc) as ohlc,
               not exists (select 1 from unnest(t.conditions) c join trade_condition_rules r on r.code = c
                           where not r.updates_volume) as vol
        from trade_ticks t
        join trading_sessions s on t.ts >= s.open and t.ts < s.close
        where t.ts >= from_ts and t.ts < to_ts
    )
    select symbol,
           date_bin(timeframe, ts, day_open) as start,
           least(date_bin(timeframe, ts, day_open) + timeframe, day_close) as "end",
           (array_agg(price order by ts_event_ns, ts_init_ns, trade_id) filter (where ohlc))[1] as open,
           max(price) filter (where ohlc) as high,
           min(price) filter (where ohlc) as low,
           (array_agg(price order by ts_event_ns desc, ts_init_ns desc, trade_id desc) filter (where ohlc))[1],
           coalesce(sum(size) filter (where vol), 0) as volume,
           sum(price * size) filter (where vol) / nullif(sum(size) filter (where vol), 0) as vwap,
           count(*) filter (where ohlc or vol) as trades
    from eligible
    group by symbol, day_open, day_close, date_bin(timeframe, ts, day_open)
    having bool_or(ohlc)
$$;
"""


@contextmanager
def old_bars_from_ticks(settings: Settings) -> Iterator[str]:
    """sql/002's bars_from_ticks() in a schema of its own for the duration; yields its qualified name."""
    schema = f"before_005_{uuid.uuid4().hex[:8]}"
    with connect(settings, autocommit=True) as conn:
        conn.execute(f"create schema {schema}")
        try:
            conn.execute(OLD_BARS_FROM_TICKS.format(name=f"{schema}.bars_from_ticks"))
            yield f"{schema}.bars_from_ticks"
        finally:
            conn.execute(f"drop schema {schema} cascade")


def tick_record(tick: TradeTick) -> dict:
    return {f: getattr(tick, f) for f in ("symbol", "ts_event", "ts_init", "price", "size", "trade_id", "exchange",
                                          "conditions", "feed")}


def bar_record(bar: Bar) -> dict:
    return {f: getattr(bar, f) for f in ("symbol", "timeframe", "session", "start", "end", "open", "high", "low",
                                         "close", "volume", "vwap", "trades", "ts_init")}


def simulated_day(day: dt.date, symbols: list[str], trades_per_minute: float) -> list[TradeTick]:
    """The day's valid prints (the sink refuses the others), in arrival order."""
    calendar = build_nyse_calendar(day, day)
    config = SimulationConfig(symbols=tuple(symbols), trades_per_minute=trades_per_minute, seed=16)
    ticks = MarketSimulator(config, calendar.windows(parse_sessions("extended"))).ticks()
    return sorted((t for t in ticks if t.price > 0 and t.size > 0), key=lambda t: t.ts_init)


def store(settings: Settings, day: dt.date, ticks: list[TradeTick]) -> tuple[float, dict[str, int]]:
    """Write the prints and the streamed bars of each timeframe; (seconds writing prints, bars per timeframe)."""
    calendar = build_nyse_calendar(day, day)
    sink = PostgresSink(settings.sink(), codec=None)  # type: ignore[arg-type]
    started = time.perf_counter()
    for i in range(0, len(ticks), WRITE_BATCH):
        sink.write({"TradeTick": [TABLES["TradeTick"].row(tick_record(t)) for t in ticks[i:i + WRITE_BATCH]]})
    write_s = time.perf_counter() - started
    arrays = TickArrays.from_ticks(ticks)
    lateness_ns = settings.bars_stage().lateness_ns
    counts = {}
    for timeframe in TIMEFRAMES:
        bars = aggregate_batch(arrays, timeframe, parse_sessions("regular"), calendar, lateness_ns).bars
        sink.write({"Bar": [TABLES["Bar"].row(bar_record(b)) for b in bars]})
        counts[timeframe] = len(bars)
    return write_s, counts


def delete(settings: Settings, symbols: list[str]) -> None:
    with connect(settings) as conn:
        conn.execute("delete from trade_ticks where symbol = any(%s)", (symbols,))
        conn.execute("delete from bars where symbol = any(%s)", (symbols,))


def timed(run: Callable[[], BarsVerification]) -> tuple[float, BarsVerification]:
    started = time.perf_counter()
    found = run()
    return time.perf_counter() - started, found


def timed_with_limit(run: Callable[[], BarsVerification], limit_s: float) -> float | None:
    """Seconds, or None when stopped after `limit_s` (PGOPTIONS sets the statement timeout of the
    connection that verify_bars opens)."""
    before = os.environ.get("PGOPTIONS")
    if limit_s > 0:
        os.environ["PGOPTIONS"] = f"{before or ''} -c statement_timeout={int(limit_s * 1000)}".strip()
    try:
        return timed(run)[0]
    except psycopg.errors.QueryCanceled:
        return None
    finally:
        if before is None:
            os.environ.pop("PGOPTIONS", None)
        else:
            os.environ["PGOPTIONS"] = before


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--symbols", type=int, default=20)
    parser.add_argument("--trades-per-minute", type=float, default=40.0,
                        help="per symbol, on average over the regular session (a tenth outside it)")
    parser.add_argument("--day", type=dt.date.fromisoformat, default=dt.date(2027, 6, 16))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--old-limit-s", type=float, default=120.0,
                        help="stop sql/002's function after this many seconds per timeframe (0: never)")
    args = parser.parse_args()
    settings = Settings.from_env()
    migrate(settings)
    trading_day = build_nyse_calendar(args.day, args.day).day(args.day)
    if trading_day is None:
        parser.error(f"--day {args.day} is not an NYSE trading day")
    token = uuid.uuid4().hex[:6].upper()
    symbols = [f"BV{token}{i:02d}" for i in range(args.symbols)]
    start = dt.datetime.combine(args.day, dt.time(0), dt.timezone.utc)
    end = start + dt.timedelta(days=1)
    open_ns, close_ns = trading_day.open, trading_day.close

    started = time.perf_counter()
    ticks = simulated_day(args.day, symbols, args.trades_per_minute)
    simulate_s = time.perf_counter() - started
    regular = sum(open_ns <= t.ts_event < close_ns for t in ticks)
    try:
        write_s, bar_counts = store(settings, args.day, ticks)
        with connect(settings) as conn:
            stored = conn.execute("select count(*) from trade_ticks where ts >= %s and ts < %s",
                                  (start, end)).fetchone()[0]
        print(f"day {args.day}: {len(ticks):,} prints of {args.symbols} symbols ({regular:,} in the regular "
              f"session), simulated in {simulate_s:.1f} s, written in {write_s:.1f} s "
              f"({len(ticks) / write_s:,.0f} prints/s); {stored:,} prints stored for the day in all")
        print(f"{'timeframe':<10}{'bars compared':>15}{'sql/005 s (median)':>22}{'sql/002 s':>22}", flush=True)
        with old_bars_from_ticks(settings) as old_function:
            for timeframe in TIMEFRAMES:
                times = []
                for _ in range(args.repeats):
                    seconds, found = timed(partial(verify_bars, settings, start, end, [timeframe]))
                    times.append(seconds)
                ours = [d for d in found.differences if d.symbol in symbols]
                still_open = [b for b in found.open_bars if b.symbol in symbols]
                if ours or still_open:
                    raise SystemExit(f"verify found {len(ours)} difference(s) and {len(still_open)} open bar(s) "
                                     f"in the benchmark's {timeframe} bars: {ours[:3]}")
                old_s = timed_with_limit(
                    partial(verify_bars, settings, start, end, [timeframe], recompute_with=old_function),
                    args.old_limit_s)
                old = f"{old_s:.1f}" if old_s is not None else f"> {args.old_limit_s:.0f} (stopped)"
                assert found.compared >= bar_counts[timeframe]
                print(f"{timeframe:<10}{found.compared:>15,}{statistics.median(times):>22.2f}{old:>22}", flush=True)
    finally:
        delete(settings, symbols)
    print(f"load average (1, 5, 15 min) at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()

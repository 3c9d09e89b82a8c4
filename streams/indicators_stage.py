"""Stage bars -> indicator snapshots: one IndicatorSet per symbol and timeframe, state in the
`indicators-state` table. A bar at or before the last one seen (a re-sent bar) is ignored."""

from __future__ import annotations

import asyncio
import logging
import time


from processors.indicators import IndicatorParams, IndicatorSet
from processors.model import Bar
from streams.app import StageContext, StageRuntime, fail_stop_on_loss, record_latency, write_state

log = logging.getLogger(__name__)

STAGE = "indicators"


class IndicatorsProcessor:
    def __init__(self, params: IndicatorParams = IndicatorParams()) -> None:
        self.params = params
        self.sets: dict[tuple[str, str], IndicatorSet] = {}
        self.loaded: set[str] = set()

    def load(self, symbol: str, state: dict | None) -> None:
        if symbol in self.loaded:
            return
        self.loaded.add(symbol)
        for timeframe, data in (state or {}).items():
            indicator = IndicatorSet(symbol, timeframe, self.params)
            indicator.load_state(data)
            self.sets[(symbol, timeframe)] = indicator

    def state(self, symbol: str) -> dict:
        return {tf: s.to_state() for (sym, tf), s in self.sets.items() if sym == symbol}

    def forget(self) -> None:
        self.sets.clear()
        self.loaded.clear()

    def apply(self, bar: Bar):  # noqa: ANN201 - IndicatorSnapshot | None
        key = (bar.symbol, bar.timeframe)
        indicator = self.sets.get(key)
        if indicator is None:
            indicator = self.sets[key] = IndicatorSet(bar.symbol, bar.timeframe, self.params)
        return indicator.handle_bar(bar)


def register(context: StageContext) -> None:
    app = context.app
    bars = context.topic("bars")
    out = context.output_topic("indicators")
    runtime = StageRuntime(context, "indicators-state")
    table, latency = runtime.table, runtime.latency
    processor = IndicatorsProcessor()


    @app.agent(bars, name="indicators")
    async def indicators_agent(stream) -> None:  # noqa: ANN001
        async for events in stream.take_events(500, within=0.1):
            touched: dict[str, object] = {}
            sent: list = []
            for event in events:
                bar = await context.decode(event, STAGE, Bar)
                if bar is None:
                    continue
                if bar.symbol not in processor.loaded:
                    processor.load(bar.symbol, table.get(bar.symbol))
                snapshot = processor.apply(bar)
                if snapshot is None:
                    continue
                touched[bar.symbol] = event
                sent.append(await out.send(key=bar.symbol.encode(), value=snapshot))
                if event.message.timestamp:
                    now_ns = time.time_ns()
                    record_latency(latency, "*", bar.symbol, "BAR_TO_INDICATOR",
                                   now_ns - int(event.message.timestamp * 1_000_000_000), now_ns)
            await asyncio.gather(*sent)  # snapshots acknowledged before the state that says they were made
            fail_stop_on_loss([await write_state(table, symbol, processor.state(symbol), event.message.partition)
                               for symbol, event in touched.items()])
            runtime.after_batch(processor.forget)

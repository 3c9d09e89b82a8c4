"""The worker bench_pipeline.py compares the bars stage with (`--mode single`): the same Faust app and
indicators stage, with the bars stage replaced by a plain one-event-at-a-time agent that writes its
state through Faust's own table assignment after every tick — the shape a first Faust stage takes.
Benchmark only: `tradestream worker` always runs the batched stage (streams/bars_stage.py).

Run by bench_pipeline.py, with the worker's environment (TOPIC_PREFIX, BAR_TIMEFRAMES, ...):
    .venv/bin/python benchmarks/single_event_worker.py --app-id GROUP [--log-level WARNING]
It reads one record per print (ticks.trades) whatever BAR_INPUT says.
"""

from __future__ import annotations

import argparse
import logging
import sys

from faust.worker import Worker

from processors.bars.state import STAGE
from processors.model import TradeTick
from streams import indicators_stage
from streams.app import StageContext, StageRuntime, create_app
from streams.bars_stage import stage_processor
from tradestream.commands.worker import quiet_gc
from tradestream.config import Settings


def register_single(context: StageContext) -> None:
    """The plain agent: per tick, decode, apply, send the bars, write the state (a table write per tick)."""
    runtime = StageRuntime(context, "bars-state")
    table = runtime.table
    processor = stage_processor(context.settings.bars, event_time=context.settings.event_time)
    bars_topic = context.output_topic("bars")

    @context.app.agent(context.topic("ticks.trades"), name="bars")
    async def bars_single_agent(stream) -> None:  # noqa: ANN001
        async for event in stream.events():
            tick = await context.decode(event, STAGE, TradeTick)
            if tick is None:
                continue
            outcome = processor.apply_record(tick, event.message.offset, 0, 0, table.get)
            for letter in outcome.dead_letters:
                await context.dead_letter(event, letter.stage, letter.error_class, letter.reason, letter.source_index)
            if not outcome.changed:
                continue
            for bar in outcome.bars:
                await bars_topic.send(key=bar.symbol.encode(), value=bar)
            value, writes, deletes = processor.state(tick.symbol)
            for key, ids in writes.items():
                table[key] = ids
            table[tick.symbol] = value
            for key in deletes:
                del table[key]
            runtime.after_batch(processor.forget)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app-id", required=True, help="Faust app id / consumer group")
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args()
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s",
                        stream=sys.stderr)
    app, context = create_app(Settings.from_env().worker(), args.app_id)
    register_single(context)
    indicators_stage.register(context)
    worker = Worker(app, loglevel=args.log_level.lower(), quiet=True)
    worker.spinner = None  # as `tradestream worker` (tradestream/commands/worker.py)
    quiet_gc()
    worker.execute_from_commandline()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The decision files of `tradestream backtest` and `tradestream strategy replay`: one writer, one
column set per file, so a backtest and an audit replay of the same trades give identical files.

    signals.csv      ts, signal_id, strategy, symbol, action, side, price, reason, rule_values
    suppressed.csv   ts, signal_id, strategy, symbol, action, side, price, suppression, rule, rule_values
    intents.csv      ts, client_order_id, signal_id, strategy, mode, symbol, instrument, contract, side,
                     order_type, limit_price, stop_price, tick_size, reference_price, quantity, multiplier,
                     exchange, product, detail

`ts` is the decision's event time (ISO-8601 UTC, nanoseconds when not whole seconds); `ts_init`, when
our object was created, is left out because it is not part of the decision. Prices are written as the
exact decimals of the events, at least to the cent and without further trailing zeros (600.50 whether it
came from a file or from Kafka's 8 decimal places); an absent price is an empty cell. `rule_values` is a
JSON object of the values the rules compared (`{"price(SPY)": 601.25, ...}`). The README's strategy section lists the
same columns.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path

from processors.csvio import format_time
from processors.model import OrderIntentCreated, SignalGenerated, SignalSuppressed, plain_decimal

SIGNAL_COLUMNS = ("ts", "signal_id", "strategy", "symbol", "action", "side", "price", "reason", "rule_values")
SUPPRESSED_COLUMNS = ("ts", "signal_id", "strategy", "symbol", "action", "side", "price", "suppression", "rule",
                      "rule_values")
INTENT_COLUMNS = ("ts", "client_order_id", "signal_id", "strategy", "mode", "symbol", "instrument", "contract",
                  "side", "order_type", "limit_price", "stop_price", "tick_size", "reference_price", "quantity",
                  "multiplier", "exchange", "product", "detail")
CENT = Decimal("0.01")
FILES = {"signals.csv": SIGNAL_COLUMNS, "suppressed.csv": SUPPRESSED_COLUMNS, "intents.csv": INTENT_COLUMNS}


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):  # at least to the cent, without the trailing zeros of Kafka's 8 places
        plain = plain_decimal(value)
        return str(plain if plain.as_tuple().exponent <= -2 else plain.quantize(CENT))
    if isinstance(value, dict):  # rule values; an undefined one (NaN) is null, as strict JSON readers need
        return json.dumps({k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in value.items()},
                          separators=(",", ":"))
    return str(value)


def _row(event: object, columns: Sequence[str]) -> list[str]:
    return [format_time(event.ts_event) if column == "ts" else _cell(getattr(event, column)) for column in columns]


def signal_rows(signals: Iterable[SignalGenerated]) -> list[list[str]]:
    return [_row(s, SIGNAL_COLUMNS) for s in signals]


def suppressed_rows(suppressed: Iterable[SignalSuppressed]) -> list[list[str]]:
    return [_row(s, SUPPRESSED_COLUMNS) for s in suppressed]


def intent_rows(intents: Iterable[OrderIntentCreated]) -> list[list[str]]:
    return [_row(o, INTENT_COLUMNS) for o in intents]


def write_decisions(out: Path, signals: Iterable[SignalGenerated], suppressed: Iterable[SignalSuppressed],
                    intents: Iterable[OrderIntentCreated]) -> None:
    """signals.csv, suppressed.csv and intents.csv in `out` (created if missing), in the given order."""
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in (("signals.csv", signal_rows(signals)), ("suppressed.csv", suppressed_rows(suppressed)),
                       ("intents.csv", intent_rows(intents))):
        with open(out / name, "w", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(FILES[name])
            writer.writerows(rows)


"""Why did this happen: what fired a signal or a trade, and the command that replays it.

    GET /api/signals/{signal_id}/why   a signal of the caller's strategies
    GET /api/trades/{trade_id}/why     a trade of the caller's accounts: the signal that opened it (through its
                                       entry order's intent: a trade's id is its entry order's client order id),
                                       the intent and the risk decision on it

Each answers what the signal recorded (schemas/signal_generated.avsc, stored by the sink in `signals`): the
rule text that fired (`reason`) and the value of every term of the rule at that instant (`rule_values`, e.g.
price(SPY), swing_high(SPY,15m)); the inputs the rule read, as stored: for each symbol the rule names, the
newest bar of each timeframe that had ended by the signal's event time, with its indicator snapshot when the
sink stored one; and `replay`: the days and the `tradestream audit replay` command that re-runs the chain on
the recorded input of those days and compares every output with the record (the strategy's and the account's
files are those `tradestream strategy run` was given; the command names them after the strategy and account).

Ownership as everywhere (`api.users`): a signal is its strategy's owner's, a trade its account's owner's, and
the explanation of a trade (its signal among it) is the trade's owner's. Another user's signal or trade answers
404, as a missing one does. Prices and values are decimal strings, times integer nanoseconds UTC and the
signal's time also in New York time.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

from litestar import Controller, get
from litestar.exceptions import NotFoundException
from litestar.params import Parameter
from psycopg import AsyncConnection
from psycopg.rows import dict_row

from api.auth import SECURITY, Caller
from api.users import OWNED

ET = ZoneInfo("America/New_York")
MAX_ID = 200
ID = Parameter(min_length=1, max_length=MAX_ID, description=f"the id (at most {MAX_ID} characters)")
DAY_NS = 86_400 * 10**9
# A term of a rule names its symbol first: price(SPY), swing_high(SPY,15m), correlation(SPY,QQQ,15m,20).
_TERM_SYMBOLS = re.compile(r"\(([^)]*)\)")
_SYMBOL = re.compile(r"[A-Z][A-Z0-9.\-]{0,14}")

SIGNAL = """
    select signal_id, strategy, symbol, side, action, ts_event_ns, price, reason, rule_values
    from signals where signal_id = %s and strategy in ({owned})
"""
TRADE = """
    select trade_id, account_id, strategy, symbol, direction, status, entry_qty, exit_qty, entry_price, exit_price,
           initial_stop, stop_price, target_price, net_pnl, opened_ns, closed_ns, comment
    from trades where trade_id = %s and account_id in ({owned})
"""
INTENT = """
    select client_order_id, signal_id, mode, contract, side, order_type, quantity, limit_price, stop_price,
           reference_price, detail
    from order_intents where client_order_id = %s
"""
RISK_DECISION = """
    select outcome, quantity, requested_quantity, reasons, check_names, check_values, check_limits, check_outcomes,
           check_details
    from risk_decisions where intent_id = %s
"""
SIGNAL_OF_TRADE = """
    select signal_id, strategy, symbol, side, action, ts_event_ns, price, reason, rule_values
    from signals where signal_id = %s
"""
# The newest bar of each timeframe of the symbols that had ended by the signal (within the day before it), with
# its stored indicator snapshot.
INPUTS = """
    select distinct on (b.symbol, b.timeframe) b.symbol, b.timeframe, b.session, b.start_ns, b.end_ns, b.open, b.high,
           b.low, b.close, b.volume, b.vwap, i.atr, i.dc_upper, i.dc_lower, i.dc_mid, i.pivot, i.r1, i.s1,
           i.fractal_high, i.fractal_low, i.swing_high, i.swing_low
    from bars b left join indicator_snapshots i on i.symbol = b.symbol and i.timeframe = b.timeframe
                                                 and i.start = b.start
    where b.symbol = any(%s) and b.end_ns <= %s and b.end_ns > %s
    order by b.symbol, b.timeframe, b.end_ns desc
"""


def _json(row: dict[str, object]) -> dict[str, object]:
    return {key: str(value) if isinstance(value, Decimal) else value for key, value in row.items()}


def rule_symbols(symbol: str, rule_values: dict[str, float]) -> list[str]:
    """The signal's symbol, then the other symbols its rule's terms name (their arguments in capitals)."""
    found = [symbol]
    for term in rule_values:
        for arguments in _TERM_SYMBOLS.findall(term):
            for argument in (a.strip() for a in arguments.split(",")):
                if _SYMBOL.fullmatch(argument) and argument not in found:
                    found.append(argument)
    return found


def replay(ts_event_ns: int, strategy: str, account_id: str | None, name: str) -> dict[str, object]:
    """The days to replay (from the New York day of the signal, so that its session is rebuilt from its start,
    to its UTC day, which holds it) and the command."""
    instant = dt.datetime.fromtimestamp(ts_event_ns / 1e9, dt.timezone.utc)
    first, last = instant.astimezone(ET).date(), instant.date()
    command = f"tradestream audit replay --from {first} --to {last} --config {strategy}.yaml"
    if account_id is not None:
        command += f" --account {account_id}.yaml"
    command += f" --out replay-{name}"
    return {"from": first.isoformat(), "to": last.isoformat(), "strategy": strategy, "account": account_id,
            "command": command}


def _signal(row: dict[str, object]) -> dict[str, object]:
    out = _json(row)
    ts = dt.datetime.fromtimestamp(int(row["ts_event_ns"]) / 1e9, dt.timezone.utc)  # type: ignore[call-overload]
    out["ts_event"] = ts.astimezone(ET).isoformat()
    return out


async def _explain(conn: AsyncConnection, signal: dict[str, object], account_id: str | None,
                   name: str) -> dict[str, object]:
    ts_event_ns = int(signal["ts_event_ns"])  # type: ignore[call-overload]
    symbols = rule_symbols(str(signal["symbol"]), dict(signal["rule_values"] or {}))  # type: ignore[call-overload]
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(INPUTS, (symbols, ts_event_ns, ts_event_ns - DAY_NS))
        bars = [_json(row) for row in await cursor.fetchall()]
    bars.sort(key=lambda b: (symbols.index(str(b["symbol"])), b["end_ns"] - b["start_ns"]))  # type: ignore[operator]
    return {"signal": _signal(signal), "inputs": {"symbols": symbols, "bars": bars},
            "replay": replay(ts_event_ns, str(signal["strategy"]), account_id, name)}


class WhyController(Controller):
    path = "/api"
    security = SECURITY

    @get("/signals/{signal_id:str}/why")
    async def signal_why(self, conn: AsyncConnection, caller: Caller,
                         signal_id: str = ID) -> dict[str, object]:
        """What fired one of the caller's signals: its rule and the rule's values, the inputs, the replay command."""
        async with conn.cursor(row_factory=dict_row) as cursor:
            await cursor.execute(SIGNAL.format(owned=OWNED), (signal_id, "strategy", caller.user.user_id))
            row = await cursor.fetchone()
        if row is None:
            raise NotFoundException(f"no signal {signal_id!r} of yours")
        return await _explain(conn, row, None, signal_id[:12])

    @get("/trades/{trade_id:str}/why")
    async def trade_why(self, conn: AsyncConnection, caller: Caller, trade_id: str = ID) -> dict[str, object]:
        """What opened one of the caller's trades: the signal (its rule and values, the inputs), the order intent
        and the risk decision on it, and the replay command. `signal` is null when the intent is not stored."""
        async with conn.cursor(row_factory=dict_row) as cursor:
            await cursor.execute(TRADE.format(owned=OWNED), (trade_id, "account", caller.user.user_id))
            trade = await cursor.fetchone()
            if trade is None:
                raise NotFoundException(f"no trade {trade_id!r} of yours")
            await cursor.execute(INTENT, (trade_id,))
            intent = await cursor.fetchone()
            await cursor.execute(RISK_DECISION, (trade_id,))
            decision = await cursor.fetchone()
            signal = None
            if intent is not None:
                await cursor.execute(SIGNAL_OF_TRADE, (intent["signal_id"],))
                signal = await cursor.fetchone()
        account_id = str(trade["account_id"])
        if signal is not None:
            out = await _explain(conn, signal, account_id, trade_id[:12])
        else:
            instant = trade["opened_ns"] or None
            out = {"signal": None, "inputs": None,
                   "replay": None if instant is None else replay(int(instant), str(trade["strategy"]), account_id,
                                                                 trade_id[:12])}
        out["trade"] = _json(trade)
        out["intent"] = None if intent is None else _json(intent)
        out["risk_decision"] = None if decision is None else _risk(decision)
        return out


def _risk(row: dict[str, object]) -> dict[str, object]:
    """The decision with its checks as a list (the table keeps them as parallel arrays)."""
    columns = ("check_names", "check_values", "check_limits", "check_outcomes", "check_details")
    checks = [{"name": name, "value": str(value), "limit": str(limit), "outcome": outcome, "detail": detail}
              for name, value, limit, outcome, detail in zip(*(row[c] for c in columns))]  # type: ignore[call-overload]
    return {"outcome": row["outcome"], "quantity": row["quantity"], "requested_quantity": row["requested_quantity"],
            "reasons": row["reasons"], "checks": checks}

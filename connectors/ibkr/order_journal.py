"""What the IBKR order broker must remember outside IB, in a small JSON file written before every send.

    highest_order_id   every order id we ever used; a gateway restart that rolls `nextValidId` back
                       (LEAN's IB brokerage, issue 242) can then never make us send an id twice
    orders             each client order id we sent: its order id, the permIds IB gave it, whether the
                       message left our socket, and the command (so a restarted broker knows its orders)
    executions         execution id -> client order id ("" for not ours): each fill reported once, ever
    commissions        execution ids whose commission was reported
    last_execution_ns  the time of the newest execution seen: the filter of the next reqExecutions

The file is replaced atomically (written beside it, flushed, fsynced, renamed), so a process killed at any
instant leaves either the old or the new state. `MemoryJournalStore` keeps it in memory for a caller that
persists it elsewhere.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Protocol


def empty_state() -> dict[str, Any]:
    return {"highest_order_id": 0, "orders": {}, "executions": {}, "commissions": [], "last_execution_ns": 0}


class JournalStore(Protocol):
    def load(self) -> dict[str, Any]: ...

    def save(self, state: dict[str, Any]) -> None: ...


class FileJournalStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def load(self) -> dict[str, Any]:
        if not self.path.exists():
            return empty_state()
        return {**empty_state(), **json.loads(self.path.read_text())}

    def save(self, state: dict[str, Any]) -> None:
        temporary = self.path.with_name(self.path.name + ".tmp")
        with open(temporary, "w") as handle:
            json.dump(state, handle, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)


class MemoryJournalStore:
    def __init__(self) -> None:
        self.state = empty_state()

    def load(self) -> dict[str, Any]:
        return json.loads(json.dumps(self.state))

    def save(self, state: dict[str, Any]) -> None:
        self.state = json.loads(json.dumps(state))

"""The desk's overnight coverage check: once per trading day, `overnight_check_s` before its close, every account
holding positions is checked for whether they would be covered overnight (processors.risk.margin's Reg-T and
house levels under the regime in force), and an `OvernightCoverageChecked` event says so, naming each
position that would not be covered (`TradingDesk` runs it at its first input after that instant).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from processors.model import OvernightCoverageChecked
from processors.risk.event import event_decimal
from processors.risk.margin import overnight_coverage
from processors.trading.book import AccountBook
from processors.trading.config import DeskConfig


def overnight_checks(config: DeskConfig, day: dt.date, instant: int, ts_init: int,
                     prepare: Callable[[str, int], AccountBook]) -> list[OvernightCoverageChecked]:
    """The checks of `day` at `instant`, on each account's book as `prepare(account_id, instant)` gives it."""
    out: list[OvernightCoverageChecked] = []
    for account_id, account in config.accounts.items():
        book = prepare(account_id, instant)
        positions = book.positions()
        regime = account.regime_at(instant)
        if not positions or regime is None:
            continue
        coverage = overnight_coverage(positions, book.equity, account.margin, regime, instant)
        uncovered = coverage.uncovered
        detail = (f"requirement {coverage.requirement} of {len(positions)} positions against equity "
                  f"{coverage.equity} ({regime.value}, margin {account.margin.initial_pct} % initial, "
                  f"{account.margin.maintenance_pct} % maintenance)"
                  + (f": {', '.join(uncovered)} would not be covered overnight" if uncovered else ""))
        out.append(OvernightCoverageChecked(
            check_id=f"{account_id}:{day.isoformat()}", account_id=account_id, ts_event=instant, ts_init=ts_init,
            regime=regime.value, equity=event_decimal(coverage.equity),
            requirement=event_decimal(coverage.requirement), excess=event_decimal(coverage.excess),
            positions=len(positions), uncovered=uncovered, detail=detail))
    return out

"""Reading the trade manager (`TradeManager` mixes it in): a trade or all of them as `TradeView`s, an account's
open trades as the risk stage counts them, its kill switch and figures (`AccountView`), and the deals rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

from processors.deals import DealRow, deal_row
from processors.risk.killswitch import KillSwitch
from processors.risk.sizing import percent
from processors.risk.state import OpenTrade, OpenTrades
from processors.trades.errors import TradeError
from processors.trades.events import AccountView, TradeSelector, TradeStatus, TradeView
from processors.trades.trade import TradeState

ZERO = Decimal(0)
NO_TRADES = OpenTrades()


class ReadingMixin:
    """The read side of `TradeManager`: nothing here changes a trade."""

    def trade(self, trade_id: str) -> TradeView:
        return self._known(trade_id, "trade_id").view()

    def trades(self) -> list[TradeView]:
        return [trade.view() for trade in self._trades.values()]

    def open_trades(self, account_id: str) -> OpenTrades:
        """The account's running trades as the risk decision takes them (processors.risk.AccountSnapshot), with
        their total risk: kept as the trades change (`_changed`), so reading them costs nothing while nothing
        changed."""
        index = self._open.get(account_id)
        return NO_TRADES if index is None else index.frozen()

    def open_trade_record(self, account_id: str, trade_id: str) -> OpenTrade | None:
        """One running trade's record as `open_trades` holds it (None: not running in that account)."""
        index = self._open.get(account_id)
        return None if index is None else index.get(trade_id)

    def has_open_trades(self, account_id: str) -> bool:
        """Whether the account has a running trade: `bool(self.open_trades(account_id))`, without the records."""
        return bool(self._by_account.get(account_id))

    def kill_switch(self, account_id: str) -> KillSwitch | None:
        """The account's kill switch as the manager holds it (None: an account it has not seen)."""
        account = self._accounts.get(account_id)
        return None if account is None else account.kill_switch

    def account(self, account_id: str) -> AccountView:
        account = self._accounts.get(account_id)
        if account is None:
            raise TradeError("account_id", f"account {account_id!r} is not known")
        settings = self.config.accounts.get(account_id)
        open_risk = self.open_trades(account_id).risk
        net_realised = account.realised - account.charges
        day_pnl = self._total_pnl(account) - account.baseline
        equity = account.start_of_day_equity
        return AccountView(
            account_id=account_id, realised_pnl=account.realised, charges=account.charges,
            net_realised_pnl=net_realised, open_risk=open_risk,
            remaining_risk_budget=(None if settings is None
                                   else settings.limits.max_open_risk + net_realised - open_risk),
            day_pnl=day_pnl, day_loss_pct=None if equity is None else percent(max(ZERO, -day_pnl), equity),
            kill_switch_tripped=account.kill_switch.tripped, kill_switch_reason=account.kill_switch.reason)

    def deal_rows(self) -> list[DealRow]:
        """The deals report's rows (processors.deals) of every trade with a fill, Running or Completed, in the
        order the trades opened; partial exits are folded in so that quantities add up."""
        return [deal_row(trade.deal()) for trade in self._trades.values() if trade.entries]

    def deal_row_of(self, trade_id: str) -> DealRow | None:
        """The deals row of one trade (None while it has no fill)."""
        trade = self._known(trade_id, "trade_id")
        return deal_row(trade.deal()) if trade.entries else None

    def _selected(self, selector: TradeSelector | Callable[[TradeView], bool]) -> list[TradeState]:
        """The running trades `selector` names (a TradeSelector's fields, or a predicate on each trade's view),
        in the order they opened."""
        if not isinstance(selector, TradeSelector):
            return [t for t in list(self._by_account_all()) if selector(t.view())]
        if selector.trade_id is not None:
            trade = self._trades.get(selector.trade_id)
            running = trade is not None and trade.status is TradeStatus.RUNNING
            candidates: Iterable[TradeState] = [trade] if running and trade is not None else []
        elif selector.symbol is not None:
            candidates = self._by_symbol.get(selector.symbol, {}).values()
        elif selector.strategy is not None:
            candidates = self._by_strategy.get(selector.strategy, {}).values()
        elif selector.account_id is not None:
            candidates = self._by_account.get(selector.account_id, {}).values()
        else:
            candidates = self._by_account_all()
        return [t for t in list(candidates) if all(
            value is None or value == getattr(t, name)
            for name, value in (("account_id", selector.account_id), ("strategy", selector.strategy),
                                ("symbol", selector.symbol), ("trade_id", selector.trade_id)))]

    def _by_account_all(self) -> list[TradeState]:
        return sorted((t for trades in self._by_account.values() for t in trades.values()), key=lambda t: t.ordinal)

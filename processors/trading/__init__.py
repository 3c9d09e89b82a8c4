"""The trading desk: the risk decision, the paper broker, the charges and the trade manager joined, pure.

    book    AccountBook: one account's AccountSnapshot kept current from fills, prices, trades and the day roll
    errors  TradingDeskError
"""

from processors.trading.book import AccountBook
from processors.trading.errors import TradingDeskError

__all__ = ["AccountBook", "TradingDeskError"]

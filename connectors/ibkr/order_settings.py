"""The IBKR order connection's settings from the environment, for a runner trading a live account:

    IBKR_HOST (127.0.0.1), IBKR_PORT (4002: IB Gateway paper; 4001 Gateway live, 7497/7496 TWS paper/live),
    IBKR_ORDER_CLIENT_ID (18; the market-data feed uses IBKR_CLIENT_ID, 17: one API client each),
    IBKR_ACCOUNT (the account code, e.g. DU1234567; empty: the login's only account),
    IBKR_WHEN_DISCONNECTED (hold: orders wait for the reconnection; refuse: refused with the reason),
    IBKR_ORDER_PACING_PER_SECOND (40), IBKR_RECONNECT_INITIAL_S (1), IBKR_RECONNECT_MAX_S (60)

A value that cannot be read stops start-up with a ConfigError naming the setting.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.ibkr.orders import IbkrBrokerConfig
from schemas.errors import ConfigError


def order_config_from_env(environ: Mapping[str, str]) -> IbkrBrokerConfig:
    def number(name: str, default: Any, kind: type = int) -> Any:
        raw = environ.get(name, "").strip()
        if not raw:
            return default
        try:
            return kind(raw)
        except ValueError:
            raise ConfigError(f"{name}={raw!r} is not {'an integer' if kind is int else 'a number'}") from None

    port = number("IBKR_PORT", 4002)
    if not 0 < port < 65536:
        raise ConfigError(f"IBKR_PORT={port} is not a TCP port")
    return IbkrBrokerConfig(
        host=environ.get("IBKR_HOST", "127.0.0.1").strip() or "127.0.0.1", port=port,
        client_id=number("IBKR_ORDER_CLIENT_ID", 18), account=environ.get("IBKR_ACCOUNT", "").strip(),
        when_disconnected=environ.get("IBKR_WHEN_DISCONNECTED", "hold").strip() or "hold",
        pacing_per_second=number("IBKR_ORDER_PACING_PER_SECOND", 40.0, float),
        reconnect_initial_s=number("IBKR_RECONNECT_INITIAL_S", 1.0, float),
        reconnect_max_s=number("IBKR_RECONNECT_MAX_S", 60.0, float),
        library=environ.get("IBKR_API_LIBRARY", "ib_insync").strip() or "ib_insync")

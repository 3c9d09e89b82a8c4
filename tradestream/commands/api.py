"""`tradestream api`: serve the REST/websocket API and the dashboard with uvicorn."""

from __future__ import annotations

import argparse

from tradestream.config import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("api", help="serve the API and dashboard")
    parser.add_argument("--host", help="bind address (default API_HOST)")
    parser.add_argument("--port", type=int, help="port (default API_PORT)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app

    settings = Settings.from_env()
    uvicorn.run(create_app(settings), host=args.host or settings.api_host, port=args.port or settings.api_port,
                log_level="info")
    return 0

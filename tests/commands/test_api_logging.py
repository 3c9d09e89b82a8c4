"""`tradestream api` logs through the CLI's handlers: with LOG_FORMAT=json, uvicorn's and the app's lines are
JSON objects (uvicorn and Litestar would otherwise install text handlers of their own)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_api_logs_json_lines_with_log_format_json() -> None:
    env = {**os.environ, "LOG_FORMAT": "json", "API_PORT": str(free_port()), "DATABASE_URL":
           "postgresql://nobody:x@127.0.0.1:1/none"}  # the API starts without its database
    process = subprocess.Popen([sys.executable, "-m", "tradestream.cli", "api"], env=env, stderr=subprocess.PIPE,
                               stdout=subprocess.DEVNULL, text=True)
    try:
        lines = []
        for line in process.stderr:  # until the server says it is up (a blocking read, no sleep)
            lines.append(line)
            if "Application startup complete" in line or len(lines) > 50:
                break
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    records = [json.loads(line) for line in lines]
    assert {"uvicorn.error", "api.app"} <= {record["logger"] for record in records}
    assert all({"time", "level", "logger", "message"} <= set(record) for record in records)

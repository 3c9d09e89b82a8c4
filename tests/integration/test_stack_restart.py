"""A second stack on other ports, in its own data folder: stopped, killed and started again, it keeps
every topic record, schema, row and object (what `make stop` / processes dying must not lose)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import psycopg
import pytest
from confluent_kafka import Consumer, Producer

from connectors.s3archive.bucket import s3_client
from tradestream.config import Settings
from tradestream.stack.process import ServiceProcess

pytestmark = pytest.mark.integration

PORTS = {"KAFKA_PORT": "29092", "KAFKA_CONTROLLER_PORT": "29093", "SCHEMA_REGISTRY_PORT": "28081",
         "POSTGRES_PORT": "25433", "S3_PORT": "29000", "API_PORT": "28000"}


def _stack(env: dict[str, str], action: str) -> str:
    result = subprocess.run([sys.executable, "-m", "tradestream.cli", "stack", action], env=env,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, f"stack {action} failed:\n{result.stdout}\n{result.stderr[-3000:]}"
    return result.stdout


def _kill_everything(settings: Settings) -> None:
    """SIGKILL every service process, as a crash would."""
    for name in ("kafka", "schema-registry", "s3"):
        pid = ServiceProcess(name, settings.home).pid()
        assert pid is not None, f"{name} is not running"
        os.killpg(pid, signal.SIGKILL)
    postmaster = (settings.home / "postgres" / "postmaster.pid").resolve()
    os.kill(int(postmaster.read_text().split()[0]), signal.SIGKILL)


def test_data_survives_stop_and_crash(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP", "SCHEMA_REGISTRY_URL",
                                                            "DATABASE_URL", "S3_ENDPOINT_URL")}
    env.update(PORTS, TRADESTREAM_HOME=str(tmp_path / "home"), TOPIC_PREFIX="rs.")
    settings = Settings.from_env(env)
    try:
        _stack(env, "up")
        producer = Producer({"bootstrap.servers": settings.kafka_bootstrap, "acks": "all"})
        producer.produce("rs.bars", key=b"SPY", value=b"kept")
        assert producer.flush(10) == 0
        schema_ids = httpx.get(f"{settings.schema_registry_url}/subjects/rs.bars-value/versions/latest").json()
        with psycopg.connect(settings.database_url) as conn:
            conn.execute("insert into signals (signal_id, strategy, symbol, side, ts, ts_event_ns, ts_init_ns, "
                         "price, reason) values ('kept', 's', 'SPY', 'BUY', now(), 1, 1, 1.5, 'r')")
        s3_client(settings.archive()).put_object(Bucket=settings.s3_bucket, Key="kept.txt", Body=b"kept")

        _stack(env, "down")
        _stack(env, "up")
        _kill_everything(settings)
        _stack(env, "up")

        consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap, "group.id": "restart-check",
                             "auto.offset.reset": "earliest"})
        consumer.subscribe(["rs.bars"])
        message = consumer.poll(30)
        consumer.close()
        assert message is not None and message.error() is None and message.value() == b"kept"
        after = httpx.get(f"{settings.schema_registry_url}/subjects/rs.bars-value/versions/latest").json()
        assert after["id"] == schema_ids["id"] and after["version"] == schema_ids["version"]
        with psycopg.connect(settings.database_url) as conn:
            assert conn.execute("select count(*) from signals where signal_id = 'kept'").fetchone()[0] == 1
        body = s3_client(settings.archive()).get_object(Bucket=settings.s3_bucket, Key="kept.txt")["Body"].read()
        assert body == b"kept"
    finally:
        subprocess.run([sys.executable, "-m", "tradestream.cli", "stack", "down"], env=env,
                       capture_output=True, timeout=300, check=False)

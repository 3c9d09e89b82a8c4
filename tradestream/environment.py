"""The readers of environment variables behind `tradestream.config.Settings`: each parses one variable
(or a group that must agree, such as the ports) and raises `ConfigError` naming it."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote, urlsplit

from schemas.errors import ConfigError


def port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a port number (expected an integer 1-65535)") from None
    if not 1 <= value <= 65535:
        raise ConfigError(f"{name}={value} is out of range (expected 1-65535)")
    return value


def positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not an integer") from None
    if value <= 0:
        raise ConfigError(f"{name}={value} must be positive")
    return value


def positive_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None
    if not value > 0:
        raise ConfigError(f"{name}={value} must be positive")
    return value


def url(env: Mapping[str, str], name: str, default: str, schemes: tuple[str, ...]) -> str:
    raw = env.get(name)
    value = default if raw is None else raw.strip()
    if not value:
        return value
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.netloc:
        raise ConfigError(f"{name}={value!r} is not a URL of the form {schemes[0]}://host:port")
    return value.rstrip("/")


def bootstrap(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    for server in value.split(","):
        host, sep, port = server.strip().rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ConfigError(f"{name}={value!r}: each server must be host:port")
    return value


DEFAULT_PORTS = {"KAFKA_PORT": 9092, "KAFKA_CONTROLLER_PORT": 9093, "SCHEMA_REGISTRY_PORT": 8081,
                 "POSTGRES_PORT": 5433, "S3_PORT": 9000, "API_PORT": 8000}


def ports(env: Mapping[str, str]) -> dict[str, int]:
    """Every listener's port, each valid and all different."""
    ports = {name: port(env, name, default) for name, default in DEFAULT_PORTS.items()}
    if ports["KAFKA_CONTROLLER_PORT"] == ports["KAFKA_PORT"]:
        raise ConfigError("KAFKA_CONTROLLER_PORT must differ from KAFKA_PORT")
    seen: dict[int, str] = {}
    for name, number in ports.items():
        if number in seen:
            raise ConfigError(f"{name}={number} is the same port as {seen[number]}")
        seen[number] = name
    return ports


def kafka_version(env: Mapping[str, str]) -> str:
    version = env.get("KAFKA_VERSION", "").strip() or "4.1.1"
    if not all(part.isdigit() for part in version.split(".")):
        raise ConfigError(f"KAFKA_VERSION={version!r} is not a release number such as 4.1.1")
    return version


def identifier(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip() or "tradestream"
    if not value.replace("_", "").isalnum():
        raise ConfigError(f"{name}={value!r} must be letters, digits and underscores")
    return value


def database_url(env: Mapping[str, str], home: Path, user: str, database: str, port: int) -> str:
    """DATABASE_URL, or the local cluster's URL with its generated password."""
    url = env.get("DATABASE_URL", "").strip()
    if url:
        if urlsplit(url).scheme not in ("postgresql", "postgres"):
            raise ConfigError("DATABASE_URL must start with postgresql://")
        return url
    password = env.get("POSTGRES_PASSWORD", "") or local_postgres_password(home)
    return f"postgresql://{user}:{quote(password, safe='')}@127.0.0.1:{port}/{database}"


def bucket(env: Mapping[str, str]) -> str:
    bucket = env.get("S3_BUCKET", "").strip() or "tradestream-archive"
    if not (3 <= len(bucket) <= 63 and bucket.replace("-", "").replace(".", "").isalnum()
            and bucket == bucket.lower()):
        raise ConfigError(f"S3_BUCKET={bucket!r} is not a valid S3 bucket name")
    return bucket


def integer(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.lstrip("-").isdigit():
        raise ConfigError(f"{name}={raw!r} is not an integer")
    return int(raw)


def non_negative_int(raw: str, name: str, default: int, unit: str) -> int:
    raw = raw.strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise ConfigError(f"{name}={raw!r} must be a non-negative integer ({unit})")
    return int(raw)


def topic_prefix(env: Mapping[str, str]) -> str:
    raw = env.get("TOPIC_PREFIX")
    value = "ts." if raw is None else raw.strip()
    if not all(c.isalnum() or c in "._-" for c in value) or len(value) > 100:
        raise ConfigError(f"TOPIC_PREFIX={value!r} may hold only letters, digits, '.', '_' and '-' (100 at most)")
    return value


def log_format(env: Mapping[str, str]) -> str:
    """LOG_FORMAT: text (default) or json (one object per line)."""
    return choice(env, "LOG_FORMAT", "text", ("text", "json"))


def choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env.get(name, "").strip().lower() or default
    if value not in choices:
        raise ConfigError(f"{name}={value!r} must be one of: {', '.join(choices)}")
    return value


def symbols(env: Mapping[str, str], name: str, default: str) -> tuple[str, ...]:
    raw = env.get(name, "").strip() or default
    symbols = tuple(s.strip().upper() for s in raw.split(",") if s.strip())
    if not symbols:
        raise ConfigError(f"{name} must list at least one symbol")
    for symbol in symbols:
        if not symbol.replace(".", "").replace("-", "").isalnum():
            raise ConfigError(f"{name}: {symbol!r} is not a valid symbol")
    return symbols


def local_postgres_password(home: Path) -> str:
    """The local cluster's password: generated once, kept in `$TRADESTREAM_HOME/secrets` (mode 0600)."""
    path = home / "secrets" / "postgres_password"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    password = secrets.token_urlsafe(24)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process generated it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(password)
    return password


def load_dotenv_file(path: Path) -> dict[str, str]:
    """Read KEY=VALUE lines of an optional `.env` file (python-dotenv's parser)."""
    if not path.exists():
        return {}
    from dotenv import dotenv_values

    return {key: value for key, value in dotenv_values(path).items() if value is not None}

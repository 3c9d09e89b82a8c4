"""The archive's settings: required signing key, topics, retention years; errors name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.errors import ConfigError
from tradestream.config import Settings

KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="   # bytes 0..31, a test key


def settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"TRADESTREAM_HOME": str(tmp_path), **env})


def test_defaults(tmp_path: Path) -> None:
    archiver = settings(tmp_path, ARCHIVE_SIGNING_KEY=KEY).archiver()
    assert (archiver.slice_s, archiver.max_records, archiver.interval_s, archiver.key_prefix) == (3600, 100_000, 600.0, "")
    assert len(archiver.topics) == 17 and "deadletter" not in archiver.topics
    assert {"trades.actions", "strategies", "settings", "accounts"} <= set(archiver.topics)   # operators' changes
    assert (archiver.retention.trade_record_years, archiver.retention.order_years) == (6, 3)
    assert KEY not in repr(archiver)


def test_the_signing_key_is_required_and_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ARCHIVE_SIGNING_KEY is not set"):
        settings(tmp_path).archiver()
    with pytest.raises(ConfigError, match="ARCHIVE_SIGNING_KEY must be 32 bytes"):
        settings(tmp_path, ARCHIVE_SIGNING_KEY="c2hvcnQ=").archiver()


def test_the_verifier_derives_the_public_key_or_takes_it(tmp_path: Path) -> None:
    derived = settings(tmp_path, ARCHIVE_SIGNING_KEY=KEY).archive_verifier().verify_key
    given = settings(tmp_path, ARCHIVE_VERIFY_KEY=derived).archive_verifier().verify_key
    assert derived == given and derived != KEY
    with pytest.raises(ConfigError, match="ARCHIVE_VERIFY_KEY is not set"):
        settings(tmp_path).archive_verifier()


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("ARCHIVE_TOPICS", "fills,deadletter", "ARCHIVE_TOPICS names deadletter"),
    ("ARCHIVE_KEY_PREFIX", "archive", "ARCHIVE_KEY_PREFIX='archive' must end with '/'"),
    ("ARCHIVE_ORDER_YEARS", "0", "ARCHIVE_ORDER_YEARS=0 must be positive"),
    ("ARCHIVE_OTHER_YEARS", "101", "other_years must be a whole number of years from 1 to 100"),
    ("ARCHIVE_SLICE_S", "x", "ARCHIVE_SLICE_S='x' is not an integer"),
])
def test_bad_values_name_their_variable(tmp_path: Path, variable: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        settings(tmp_path, ARCHIVE_SIGNING_KEY=KEY, **{variable: value}).archiver()

"""`tradestream settings validate|show|change`: check a universal settings file, show the settings in force
(the newest version on the settings topic, or the one in force at `--at`), or publish a new version.

A change is a `SettingsChanged` event on the settings topic (one partition, key "universal"), numbered one
more than the newest version there (read and published by `connectors.kafka.settings_topic`, as the dashboard's
settings page does) and in force from its event time: now, unless `--at` names a later
instant. Changes are not back-dated (before now, or before the newest version's instant): decisions already
made under the old settings stand, and a replay finds the settings that were in force at any instant.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tradestream.commands.inputs import naming, readable_file
from tradestream.commands.strategy import instant
from tradestream.config import Settings

if TYPE_CHECKING:
    from processors.settings import SettingsHistory, UniversalSettings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("settings", help="validate, show or change the universal settings")
    commands = parser.add_subparsers(dest="settings_command", required=True, metavar="COMMAND")
    validate = commands.add_parser("validate", help="check a settings file and print its normalised settings")
    validate.add_argument("--file", required=True, type=readable_file)
    validate.set_defaults(func=run_validate)
    show = commands.add_parser("show", help="print the settings in force (from the settings topic)")
    show.add_argument("--at", type=instant, help="the instant (ISO-8601; default: the newest version)")
    show.set_defaults(func=run_show)
    change = commands.add_parser("change", help="publish a new version of the settings")
    change.add_argument("--file", required=True, type=readable_file, help="the settings file of the new version")
    change.add_argument("--reason", required=True, help="why the settings change (kept with the event)")
    change.add_argument("--operator", default="", help="who changes them")
    change.add_argument("--at", type=instant, help="when they take effect (ISO-8601; default now)")
    change.set_defaults(func=run_change)


def load_settings(path: str) -> UniversalSettings:
    """A settings file: JSON if it ends in .json, YAML otherwise; SettingsError naming every problem, with the
    note `in <path>`."""
    import yaml

    from processors.scanner.errors import FieldError
    from processors.settings import SettingsError, read_settings

    text = Path(path).read_text()
    with naming(path):
        try:
            data = json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
        except (ValueError, yaml.YAMLError) as exc:
            kind = "JSON" if path.endswith(".json") else "YAML"
            raise SettingsError([FieldError("settings", f"not valid {kind}: {exc}")]) from None
        return read_settings(data)


def settings_text(settings: UniversalSettings) -> str:
    import yaml

    from processors.settings import write_settings

    return yaml.safe_dump(write_settings(settings), sort_keys=False)


def run_validate(args: argparse.Namespace) -> int:
    print(settings_text(load_settings(args.file)), end="")
    return 0


def _iso(ns: int) -> str:
    return dt.datetime.fromtimestamp(ns / 1e9, dt.timezone.utc).isoformat(timespec="seconds")


def run_show(args: argparse.Namespace) -> int:
    history = _history()
    version = history.latest if args.at is None else history.version_at(args.at)
    if version is None:
        print("no universal settings in force" + ("" if args.at is None else f" at {_iso(args.at)}")
              + " (publish them with `tradestream settings change`)")
        return 1
    print(f"# version {version.version}, in force from {_iso(version.effective_ns)} ({version.effective_ns}); "
          f"reason: {version.reason}" + (f"; operator: {version.operator}" if version.operator else ""))
    print(settings_text(version.settings), end="")
    return 0


def run_change(args: argparse.Namespace) -> int:
    settings = load_settings(args.file)
    if not args.reason.strip():
        raise SystemExit("tradestream settings change: --reason must say why (it is kept with the change)")
    now = time.time_ns()
    at = now if args.at is None else args.at
    if at < now:
        raise SystemExit("tradestream settings change: --at must not be in the past (decisions already made stand)")
    change = _history().next_change(settings, ts_event=at, ts_init=now, reason=args.reason, operator=args.operator)
    return _publish(change)


def _kafka():  # noqa: ANN202 - (KafkaSettings, AvroCodec)
    from connectors.kafka.codec import AvroCodec

    kafka = Settings.from_env().kafka()
    return kafka, AvroCodec(kafka.registry_config())


def _history() -> SettingsHistory:
    """Every version on the settings topic, in order (SettingsError if one cannot follow the others)."""
    from connectors.kafka.settings_topic import read_settings_history

    return read_settings_history(*_kafka())


def _publish(change) -> int:  # noqa: ANN001 - SettingsChanged
    from connectors.kafka.settings_topic import SettingsTopicPublisher

    if not SettingsTopicPublisher(*_kafka()).publish(change, wait_s=30.0):
        print(f"tradestream settings: version {change.version} was not delivered to Kafka")
        return 1
    print(f"settings version {change.version} published, in force from {_iso(change.ts_event)} ({change.ts_event})")
    return 0

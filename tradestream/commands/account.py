"""`tradestream account validate|change|trip-kill-switch|reset-kill-switch`: check an account file, publish a
change of an account's settings, trip its kill switch by hand or reset the latched switch, with a reason.

A change is an `AccountChanged` event on the accounts topic, keyed by the account; the strategy runner
trading the account applies it at its event time, in order with the prints, so an audit replay applies it
at the same instant (and a replay from before a change still uses the settings in force then). The event
time is now, unless `--at` says when it takes effect (a later instant: changes are not back-dated before
now, since decisions already made under the old settings stand).
"""

from __future__ import annotations

import argparse
import json
import time

from tradestream.commands.inputs import load_account, readable_file
from tradestream.commands.strategy import instant
from tradestream.config import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("account", help="validate an account file, change an account, reset its kill switch")
    commands = parser.add_subparsers(dest="account_command", required=True, metavar="COMMAND")
    validate = commands.add_parser("validate", help="check an account file and print its normalised settings")
    validate.add_argument("--file", required=True, type=readable_file)
    validate.set_defaults(func=run_validate)
    change = commands.add_parser("change", help="publish new settings for an account (the file's account_id)")
    change.add_argument("--file", required=True, type=readable_file, help="the account file with the new settings")
    change.add_argument("--reason", required=True, help="why the settings change (kept with the event)")
    change.add_argument("--operator", default="", help="who changes them")
    change.add_argument("--at", type=instant, help="when they take effect (ISO-8601; default now)")
    change.set_defaults(func=run_change)
    trip = commands.add_parser("trip-kill-switch", help="trip an account's kill switch by hand: entries refused, "
                                                       "open trades closed")
    trip.add_argument("--account", required=True, help="the account id")
    trip.add_argument("--reason", required=True, help="why trading stops (kept with the event)")
    trip.add_argument("--operator", default="", help="who trips it")
    trip.set_defaults(func=run_trip)

    reset = commands.add_parser("reset-kill-switch", help="reset an account's latched kill switch")
    reset.add_argument("--account", required=True, help="the account id")
    reset.add_argument("--reason", required=True, help="why trading may resume (kept with the event)")
    reset.add_argument("--operator", default="", help="who resets it")
    reset.set_defaults(func=run_reset)


def run_validate(args: argparse.Namespace) -> int:
    import yaml

    from processors.risk.account_file import write_account

    print(yaml.safe_dump(write_account(load_account(args.file)), sort_keys=False), end="")
    return 0


def _reason(text: str) -> str:
    if not text.strip():
        raise SystemExit("tradestream account: --reason must say why (it is kept with the change)")
    return text.strip()


def run_change(args: argparse.Namespace) -> int:
    from processors.model import AccountChanged
    from processors.risk.account_file import write_account

    account = load_account(args.file)
    now = time.time_ns()
    at = now if args.at is None else args.at
    if at < now:
        raise SystemExit("tradestream account change: --at must not be in the past (decisions already made stand)")
    return _publish(AccountChanged(account_id=account.account_id, kind="SETTINGS_CHANGED", ts_event=at,
                                   ts_init=now, reason=_reason(args.reason), operator=args.operator,
                                   settings=json.dumps(write_account(account), sort_keys=True)))


def run_trip(args: argparse.Namespace) -> int:
    from processors.model import AccountChanged

    if not args.account.strip():
        raise SystemExit("tradestream account trip-kill-switch: --account must name the account")
    now = time.time_ns()
    return _publish(AccountChanged(account_id=args.account.strip(), kind="KILL_SWITCH_TRIPPED", ts_event=now,
                                   ts_init=now, reason=_reason(args.reason), operator=args.operator))


def run_reset(args: argparse.Namespace) -> int:
    from processors.model import AccountChanged

    if not args.account.strip():
        raise SystemExit("tradestream account reset-kill-switch: --account must name the account")
    now = time.time_ns()
    return _publish(AccountChanged(account_id=args.account.strip(), kind="KILL_SWITCH_RESET", ts_event=now,
                                   ts_init=now, reason=_reason(args.reason), operator=args.operator))


def _publish(change) -> int:  # noqa: ANN001 - AccountChanged
    from connectors.kafka.codec import AvroCodec
    from connectors.kafka.publisher import EventPublisher

    kafka = Settings.from_env().kafka()
    publisher = EventPublisher(kafka, AvroCodec(kafka.registry_config()), client_id="tradestream-account")
    publisher.publish(kafka.topic("accounts"), change.account_id, change)
    if publisher.flush() != 0 or publisher.failed:
        print(f"tradestream account: the change of {change.account_id} was not delivered to Kafka")
        return 1
    print(f"account {change.account_id}: {change.kind} published, in force from {change.ts_event} "
          f"(the runner trading it applies it in order with the prints)")
    return 0

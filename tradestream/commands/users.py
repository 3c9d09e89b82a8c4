"""`tradestream users add|list|token|revoke|grant|role|password|disable`: the users of the API and the dashboard (`api.users`).

    tradestream users add --admin alice        the first admin (password from a prompt or TRADESTREAM_NEW_PASSWORD)
    tradestream users add --role viewer bob
    tradestream users token alice              prints a new API token, once (only its hash is kept)
    tradestream users grant alice --account paper-1 --strategy "SPY breakout"
    tradestream users revoke alice             revokes every API token of the user
    tradestream users role bob trader          another role, in force from the user's next request
    tradestream users password alice           a new password (prompt or TRADESTREAM_NEW_PASSWORD); sessions end
    tradestream users disable bob              no more log-ins; sessions and API tokens refused from now on
    tradestream users list

A password is never an argument (it would be in the shell's history and in `ps`): it is read from the
environment variable TRADESTREAM_NEW_PASSWORD when set, else asked twice at the terminal. Every change is
recorded in `user_changes` with the operating-system user who ran the command and when.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys

import psycopg

from api.users import (Role, UserError, add_user, disable_user, grant, hash_password, issue_token, list_users,
                       revoke_tokens, set_password, set_role)
from schemas.errors import StackError
from tradestream.config import Settings

PASSWORD_VARIABLE = "TRADESTREAM_NEW_PASSWORD"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("users", help="add users of the API and dashboard, issue their tokens, grant "
                                                 "them accounts and strategies")
    commands = parser.add_subparsers(dest="users_command", required=True, metavar="COMMAND")
    add = commands.add_parser("add", help=f"add a user (password from a prompt or {PASSWORD_VARIABLE})")
    add.add_argument("name")
    roles = add.add_mutually_exclusive_group()
    roles.add_argument("--admin", action="store_true", help="the admin role (manages users)")
    roles.add_argument("--role", choices=[role.value for role in Role], default=Role.TRADER.value,
                       help="viewer (reads), trader (reads and changes what they own; the default) or admin")
    add.set_defaults(func=run_add)
    listing = commands.add_parser("list", help="every user with role, tokens and what they own (JSON lines)")
    listing.set_defaults(func=run_list)
    token = commands.add_parser("token", help="print a new API token of the user (shown once)")
    token.add_argument("name")
    token.set_defaults(func=run_token)
    revoke = commands.add_parser("revoke", help="revoke every API token of the user")
    revoke.add_argument("name")
    revoke.set_defaults(func=run_revoke)
    give = commands.add_parser("grant", help="make the user the owner of accounts and strategies")
    give.add_argument("name")
    give.add_argument("--account", action="append", default=[], help="an account id (repeatable)")
    give.add_argument("--strategy", action="append", default=[], help="a strategy (scanner) name (repeatable)")
    give.set_defaults(func=run_grant)
    role = commands.add_parser("role", help="give the user another role")
    role.add_argument("name")
    role.add_argument("role", choices=[r.value for r in Role])
    role.set_defaults(func=run_role)
    password = commands.add_parser("password", help=f"set a new password (prompt or {PASSWORD_VARIABLE}); the "
                                                    "user's sessions end")
    password.add_argument("name")
    password.set_defaults(func=run_password)
    disable = commands.add_parser("disable", help="disable the user: no log-in, sessions and API tokens refused")
    disable.add_argument("name")
    disable.set_defaults(func=run_disable)


def operator() -> str:
    """Who runs the command, as the change records name them."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no login name and no passwd entry (a container's arbitrary uid)
        return f"cli:uid={os.getuid()}"


def new_password() -> str:
    """The new user's password: TRADESTREAM_NEW_PASSWORD, else typed twice at the terminal."""
    password = os.environ.get(PASSWORD_VARIABLE)
    if password is None:
        if not sys.stdin.isatty():
            raise UserError("password", f"no terminal to ask the password at: set {PASSWORD_VARIABLE}")
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise UserError("password", "the two passwords differ")
    return password


async def _with_connection(settings: Settings, work):  # noqa: ANN001, ANN202 - a coroutine function of a connection
    try:
        conn = await psycopg.AsyncConnection.connect(settings.database_url, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise StackError(f"cannot connect to PostgreSQL at {settings.redacted_database_url()}: "
                         f"{exc.__class__.__name__}; is the stack up (`tradestream stack up`)?") from None
    async with conn:
        try:
            return await work(conn)
        except psycopg.errors.UndefinedTable:
            raise StackError("the users tables are missing: `tradestream db migrate` creates them") from None


def _run(work) -> object:  # noqa: ANN001 - a coroutine function of a connection
    return asyncio.run(_with_connection(Settings.from_env(), work))


def run_add(args: argparse.Namespace) -> int:
    role = Role.ADMIN if args.admin else Role(args.role)
    password_hash = hash_password(new_password())
    _run(lambda conn: add_user(conn, args.name, role, password_hash, operator()))
    print(f"user {args.name} added with the {role.value} role", file=sys.stderr)
    return 0


def run_list(args: argparse.Namespace) -> int:
    for user in _run(list_users):  # type: ignore[attr-defined]
        print(json.dumps(user))
    return 0


def run_token(args: argparse.Namespace) -> int:
    token = _run(lambda conn: issue_token(conn, args.name, operator()))
    print(token)
    print(f"a new API token of {args.name}: send it as 'Authorization: Bearer <token>'; it is not shown again",
          file=sys.stderr)
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    count = _run(lambda conn: revoke_tokens(conn, args.name, operator()))
    print(f"{count} API token(s) of {args.name} revoked", file=sys.stderr)
    return 0


def run_grant(args: argparse.Namespace) -> int:
    if not args.account and not args.strategy:
        raise UserError("account", "name at least one --account or --strategy")

    async def work(conn: psycopg.AsyncConnection) -> None:
        for kind, ids in (("account", args.account), ("strategy", args.strategy)):
            for resource_id in ids:
                await grant(conn, args.name, kind, resource_id, operator())

    _run(work)
    print(f"{args.name} owns " + ", ".join([f"account {a}" for a in args.account] +
                                          [f"strategy {s}" for s in args.strategy]), file=sys.stderr)
    return 0


def run_role(args: argparse.Namespace) -> int:
    previous = _run(lambda conn: set_role(conn, args.name, Role(args.role), operator()))
    print(f"{args.name}: role {previous} -> {args.role}", file=sys.stderr)  # type: ignore[str-bytes-safe]
    return 0


def run_password(args: argparse.Namespace) -> int:
    password_hash = hash_password(new_password())
    _run(lambda conn: set_password(conn, args.name, password_hash, operator()))
    print(f"{args.name}: password changed; their sessions have ended", file=sys.stderr)
    return 0


def run_disable(args: argparse.Namespace) -> int:
    _run(lambda conn: disable_user(conn, args.name, operator()))
    print(f"{args.name} disabled: no log-in, sessions ended, API tokens revoked", file=sys.stderr)
    return 0

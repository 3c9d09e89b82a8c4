"""`tradestream deals --from DATE --to DATE [--account A] [--strategy S] --out FILE|-`: the deals report (one
row per trade, `processors.deals.DEALS_COLUMNS`) from the `trades` table the sink writes.

A trade is in the range when it was entered (first entry fill) on one of the dates, in New York time; Waiting
trades (no fill yet) are not deals. Rows by entry time, then trade id (`api.deals_report`, which the API's
`GET /api/deals?format=csv` answers with the same file). A bad date, an empty range or a database that
cannot be reached is a message and exit status 2; a range without deals writes the header alone.
"""

from __future__ import annotations

import argparse
import sys

from tradestream.commands import date_argument


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("deals", help="the deals report (one row per trade) from the database, as CSV")
    parser.add_argument("--from", dest="start", type=date_argument, required=True,
                        help="first date (YYYY-MM-DD, New York time) of the trades' entry")
    parser.add_argument("--to", dest="end", type=date_argument, required=True, help="last date, inclusive")
    parser.add_argument("--account", help="only this account's trades")
    parser.add_argument("--strategy", help="only this strategy's trades")
    parser.add_argument("--out", required=True, help="output CSV file, or - for standard output")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import psycopg

    from api.deals_report import DealsFilter, deal_of, deals_query, write_csv
    from schemas.errors import StackError
    from tradestream.config import Settings
    from tradestream.db import connect

    try:
        where = DealsFilter(args.start, args.end, args.account, args.strategy)
    except ValueError as exc:
        print(f"tradestream deals: {exc} (--to must not be before --from)", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    query, params = deals_query(where, limit=None)
    with connect(settings) as conn:  # StackError, reported by the CLI, when the database cannot be reached
        try:
            deals = [deal_of(row) for row in conn.execute(query, params)]
        except psycopg.errors.UndefinedTable:
            raise StackError("the database has no trades table: run `tradestream stack up` to apply the "
                             "migrations") from None
        except psycopg.OperationalError as exc:
            raise StackError(f"reading the trades from PostgreSQL at {settings.redacted_database_url()} failed: "
                             f"{type(exc).__name__}; is the stack up (`tradestream stack up`)?") from None
    if args.out == "-":
        write_csv(sys.stdout, deals)
    else:
        with open(args.out, "w", newline="") as handle:
            write_csv(handle, deals)
    scope = "".join(f" of {name} {value}" for name, value in (("account", args.account),
                                                               ("strategy", args.strategy)) if value)
    print(f"{len(deals)} deal(s){scope} entered {args.start.isoformat()} to {args.end.isoformat()} (New York time)"
          + ("" if args.out == "-" else f" written to {args.out}"), file=sys.stderr)
    return 0

"""`tradestream audit verify|replay`: prove the compliance archive of some days whole, or re-run a range's
recorded input through the whole chain and compare every output with the record (tradestream/commands/
audit_replay.py).

`audit verify --from D --to D` re-reads every object of the days' slices and recomputes its SHA-256, checks each partition's hash
chain of manifests from its start and the signed daily roots, checks that the archived offsets are
contiguous and match what the topic holds (no gap, no duplicate; each record's key, value and time), that
every object keeps its own COMPLIANCE retention until its record class's date, and that no key of the
archive was written over or deleted. Each finding is a line on standard output; the exit status is 1 when
there is any.
"""

from __future__ import annotations

import argparse
import sys

from tradestream.commands import audit_replay, date_argument


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("audit", help="audit the compliance archive, or replay a range and compare it with the record", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = parser.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = actions.add_parser("verify", help="check the archive of some days: hashes, chains, offsets, retention")
    verify.add_argument("--from", dest="start", type=date_argument, required=True, help="first day (UTC)")
    verify.add_argument("--to", dest="end", type=date_argument, required=True, help="last day (UTC), inclusive")
    verify.set_defaults(func=run_verify)
    audit_replay.register(actions)


def run_verify(args: argparse.Namespace) -> int:
    from connectors.s3archive.verifier import Verifier
    from tradestream.config import Settings

    if args.end < args.start:
        print("tradestream audit verify: --to is before --from", file=sys.stderr)
        return 2
    report = Verifier(Settings.from_env().archive_verifier()).verify(args.start, args.end)
    for line in report.lines():
        print(line)
    return 1 if report.findings else 0

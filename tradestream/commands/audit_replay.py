"""`tradestream audit replay --from D --to D [--source kafka|archive] [--config FILE ...] [--account FILE ...]
--out DIR`: re-run the chain on the recorded input of a range and compare every output with what was recorded
(streams/audit_replay.py).

Every stage's state is rebuilt from --from, as the strategy runner rebuilds it on a start: begin the range
before the session it is about (a day does), or what depends on earlier prints (a bar begun before --from,
the indicators' and strategies' look-backs, trades opened earlier) differs from the live run's.

--source kafka (the default) reads the record from the topics; --source archive from the compliance archive
(S3_BUCKET, under ARCHIVE_KEY_PREFIX; the topics' names with TOPIC_PREFIX, as the archiver archived them),
opening no Kafka connection and asking no schema registry (each object carries its writer schema). Both read
each topic from its first record stamped at or after --from (the settings and accounts topics from their
beginning) to the end of what they hold, so both give the same report on a range the archive holds. The
archive is read as `tradestream archive once|run` last left it; each object is checked against its manifest's
SHA-256 before use, and one missing or changed stops the replay (`tradestream audit verify` says more).

The archive holds each topic partition as far as the archiver's last pass got: up to the end of the last day
with a signed root, else up to the partition's last archived record. When a partition read is held only to an
instant before --to, the replay says so for each such partition and compares only the outputs settled before
the earliest of those instants; the command then exits 3 unless --accept-partial-range is given. A partition
with no record since its last slice (a quiet strategy's signals) counts as stopping there until the day is
sealed: from the archive alone it cannot be told from one the archiver has not read since.

Writes DIR/report.html and DIR/differences.csv, prints one line per stage; exit status 0 when the replay
reproduces every recorded output, 1 on any difference, 2 on bad arguments or a record that cannot be read
(Kafka not answering, a topic missing, an archive object missing or changed), 3 when the archive stops before
--to and --accept-partial-range is not given (no difference found up to where it stops). Nothing is published and no
order is sent: the replay has no producer and no broker connection.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from tradestream.commands.inputs import readable_file

DAY_NS = 86_400 * 10**9
MS = 1_000_000


def bound(text: str) -> tuple[int, bool]:
    """argparse type: a day (YYYY-MM-DD, UTC) or an instant (ISO-8601 with an offset, or epoch nanoseconds), as
    (nanoseconds, whether it was a day)."""
    from processors.csvio import CsvFormatError, parse_time

    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        pass
    else:
        return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp()) * 10**9, True
    try:
        return parse_time(text, 0, ""), False
    except CsvFormatError:
        raise argparse.ArgumentTypeError(f"{text!r} is neither a day (2026-11-23) nor an instant "
                                         "(2026-11-23T14:30:00Z, or epoch nanoseconds)") from None


def register(actions: argparse._SubParsersAction) -> None:
    replay = actions.add_parser(
        "replay", help="re-run the chain on a range's recorded input and compare every output with the record",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    replay.add_argument("--from", dest="start", type=bound, required=True,
                        help="first day (UTC) or instant; state is rebuilt from here")
    replay.add_argument("--to", dest="end", type=bound, required=True,
                        help="last day (UTC, inclusive) or instant (exclusive)")
    replay.add_argument("--source", choices=("kafka", "archive"), default="kafka",
                        help="where the record is read: the topics (default), or the compliance archive "
                             "(S3_BUCKET under ARCHIVE_KEY_PREFIX; no Kafka connection)")
    replay.add_argument("--config", action="append", default=[], type=readable_file,
                        help="a strategy file whose decisions are replayed; repeat for several")
    replay.add_argument("--account", action="append", default=[], type=readable_file,
                        help="an account file: the trading of its strategies (among --config) is replayed too; "
                             "repeat for several")
    replay.add_argument("--accept-partial-range", action="store_true",
                        help="with --source archive: exit 0 (no difference) when the archive stops before --to, "
                             "comparing up to where it stops (without it: exit 3)")
    replay.add_argument("--lateness-ms", type=int, default=0, help="the strategies' allowed lateness, as run live")
    replay.add_argument("--out", required=True, help="directory for report.html and differences.csv")
    replay.set_defaults(func=run_replay)


def run_replay(args: argparse.Namespace) -> int:
    from confluent_kafka import KafkaException

    from processors.audit.report import differences_csv, report_html, summary_lines
    from processors.csvio import format_time
    from schemas.errors import TradestreamError
    from tradestream.commands.inputs import load_account, load_strategy
    from tradestream.config import Settings

    def refuse(message: str) -> int:
        print(f"tradestream audit replay: {message}", file=sys.stderr)
        return 2

    start_ns = args.start[0]
    end_ns = args.end[0] + (DAY_NS if args.end[1] else 0)
    if end_ns <= start_ns:
        return refuse("--to is before --from: the range is empty")
    if args.accept_partial_range and args.source != "archive":
        return refuse("--accept-partial-range is for --source archive: the topics are read to their ends")
    try:
        configs = [load_strategy(path) for path in args.config]
        accounts = [load_account(path) for path in args.account]
        settings = Settings.from_env()
        replay = _replay(settings, start_ns, end_ns, configs, accounts, args.lateness_ms, args.source)
    except TradestreamError as exc:
        notes = "".join(f" ({note})" for note in getattr(exc, "__notes__", ()))
        return refuse(f"{type(exc).__name__}: {exc}{notes}")
    try:
        outcome = replay.run()
    except KafkaException as exc:
        return refuse(f"Kafka at {settings.kafka_bootstrap} did not answer ({exc.args[0].str()}): is the stack up "
                      "(tradestream stack status)?")
    except TradestreamError as exc:
        return refuse(f"{type(exc).__name__}: {exc}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    facts = [("range", f"{format_time(start_ns)} to {format_time(end_ns)} (exclusive)"),
             ("source", _source_fact(replay, args.source)),
             ("topic prefix", settings.topic_prefix or "(none)"),
             ("strategies", ", ".join(sorted(c.name for c in configs)) or "(none: bars only)"),
             ("accounts", ", ".join(sorted(a.account_id for a in accounts)) or "(none)"),
             ("input", f"{outcome.input_records:,} records, {outcome.prints:,} prints "
                       f"({outcome.undecodable_inputs:,} records that do not decode); "
                       f"{outcome.trades_evaluated:,} prints evaluated by the strategies"),
             ("replay time", f"{outcome.replay_s:.1f} s")]
    stops = [f"{reach.topic}[{reach.partition}] is archived to {format_time(reach.archived_to_ms * MS)}"
             for reach in outcome.source_stops]
    if stops:
        facts.append(("archive stops before --to", f"outputs compared up to {format_time(outcome.compared_to_ns)} "
                      f"(exclusive), none settled after it; {'; '.join(stops)}"))
    (out / "report.html").write_text(report_html(outcome.stages, "Audit replay", facts))
    (out / "differences.csv").write_text(differences_csv(outcome.stages))
    for line in summary_lines(outcome.stages):
        print(line)
    for line in stops:
        print(f"archive stops before --to: {line}")
    if stops:
        print(f"compared up to {format_time(outcome.compared_to_ns)} (exclusive): the outputs settled after it are "
              "not compared" + ("" if args.accept_partial_range else
                                "; run `tradestream archive once` to archive the rest, or accept the partial range "
                                "with --accept-partial-range"))
    print(f"report: {out / 'report.html'}; no record published, no order sent")
    if outcome.differences:
        return 1
    return 3 if stops and not args.accept_partial_range else 0


def _replay(settings, start_ns: int, end_ns: int, configs, accounts, lateness_ms: int,  # noqa: ANN001, ANN202
            source: str = "kafka"):
    from connectors.kafka.codec import AvroCodec
    from streams.audit_replay import AuditReplay

    kafka = settings.kafka()
    stage = settings.bars_stage()
    if source == "archive":
        from connectors.s3archive.reader import ArchiveReader
        from connectors.s3archive.store import ArchiveStore
        from streams.audit_archive import ArchiveRecords
        from streams.audit_bars import INPUTS

        records = ArchiveRecords(ArchiveReader(ArchiveStore(settings.archive()),
                                               settings.env("ARCHIVE_KEY_PREFIX").strip()))
        records.require([kafka.topic(name) for name in INPUTS[stage.input]])
        return AuditReplay(kafka, AvroCodec(records.reader.schemas), start_ns, end_ns, configs, accounts, bars=stage,
                           event_time=settings.event_time(), lateness_ms=lateness_ms, source=records)
    return AuditReplay(kafka, AvroCodec(kafka.registry_config()), start_ns, end_ns, configs, accounts,
                       bars=stage, event_time=settings.event_time(), lateness_ms=lateness_ms)


def _source_fact(replay, source: str) -> str:  # noqa: ANN001
    if source != "archive":
        return "kafka (the topics)"
    reader = replay.source.reader
    return (f"archive: bucket {reader.store.bucket}, prefix {reader.key_prefix or '(none)'}; {reader.objects_read:,} "
            "objects read, each checked against the SHA-256 in its manifest")

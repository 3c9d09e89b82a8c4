"""`tradestream archive once|run|keygen`: the compliance archive of every business topic (SEC 17a-4).

once    one pass: every archived topic's new records to the bucket up to now, then the signed root of
        each finished UTC day; exit 0
run     passes every ARCHIVE_INTERVAL_S until SIGTERM or Ctrl-C
keygen  a new ed25519 key pair for ARCHIVE_SIGNING_KEY (keep it secret) and ARCHIVE_VERIFY_KEY (give it
        to whoever runs `tradestream audit verify`)

The archive lives in S3_BUCKET under ARCHIVE_KEY_PREFIX; see connectors/s3archive/archiver.py.
"""

from __future__ import annotations

import argparse
import signal
import threading


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("archive", help="write the business topics to the WORM archive (S3 Object Lock)",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=("once", "run", "keygen"))
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.action == "keygen":
        return keygen()
    from connectors.s3archive.archiver import Archiver
    from tradestream.config import Settings

    archiver = Archiver(Settings.from_env().archiver())
    if args.action == "once":
        report = archiver.run_once()
        print(f"archive: {report.objects} objects, {report.records} records, {report.adopted} adopted, "
              f"roots: {', '.join(report.roots) or 'none'}")
        for topic in report.missing_topics:
            print(f"archive: topic {topic} does not exist; nothing archived from it")
        return 1 if report.missing_topics else 0
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    archiver.run(stop)
    return 0


def keygen() -> int:
    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    from processors.archive.root import public_key_text

    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    print(f"ARCHIVE_SIGNING_KEY={base64.b64encode(private).decode()}")
    print(f"ARCHIVE_VERIFY_KEY={public_key_text(key)}")
    return 0

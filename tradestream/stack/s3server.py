"""A local S3-compatible server for the compliance archive: moto in server mode, made durable.

moto keeps its state in memory, so this wrapper records every state-changing request to
`<data-dir>/requests.jsonl` (moto's own recorder) and replays the file when it starts again: a
stopped and restarted stack keeps its buckets, objects, versions and Object Lock settings.
Clients use only the plain S3 API through boto3, so AWS S3 or MinIO can replace it unchanged.

Run: python -m tradestream.stack.s3server --host 127.0.0.1 --port 9000 --data-dir DIR
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import threading
from pathlib import Path

log = logging.getLogger("tradestream.s3server")

_READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def compact_recording(path: Path) -> int:
    """Drop read-only requests from the recording (they change nothing); returns entries kept."""
    if not path.exists():
        path.touch()
        return 0
    kept = [line for line in path.read_text().splitlines()
            if line.strip() and json.loads(line).get("method") not in _READ_ONLY_METHODS]
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(line + "\n" for line in kept))
    os.replace(tmp, path)
    return len(kept)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--data-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    args.data_dir.mkdir(parents=True, exist_ok=True)
    recording = args.data_dir / "requests.jsonl"
    kept = compact_recording(recording)
    os.environ["MOTO_ENABLE_RECORDING"] = "True"
    os.environ["MOTO_RECORDER_FILEPATH"] = str(recording)

    from moto.moto_api import recorder
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
    server.start()
    recorder.replay_recording(target_host=f"http://{args.host}:{args.port}")
    log.info("s3 server listening on %s:%d, replayed %d recorded requests from %s",
             args.host, args.port, kept, recording)
    # Readiness marker: the stack waits for this file, written only after the replay finished.
    (args.data_dir / "ready").write_text(str(os.getpid()))

    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    (args.data_dir / "ready").unlink(missing_ok=True)
    server.stop()
    log.info("s3 server stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Run the schema registry: python -m tradestream.schema_registry [--host] [--port] [--bootstrap] [--topic]."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading

from tradestream.schema_registry.server import serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("SCHEMA_REGISTRY_PORT", "8081")))
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP", "127.0.0.1:9092"))
    parser.add_argument("--topic", default=os.environ.get("SCHEMA_REGISTRY_TOPIC", "_schemas"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    server = serve(args.host, args.port, args.bootstrap, args.topic)
    logging.getLogger("tradestream.schema_registry").info(
        "schema registry listening on http://%s:%d (topic %s)", args.host, args.port, args.topic)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

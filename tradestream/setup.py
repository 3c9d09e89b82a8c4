"""What `stack up` does once the services answer: topics, schemas, migrations, archive bucket."""

from __future__ import annotations

import logging

from tradestream.config import Settings

log = logging.getLogger(__name__)


def setup_all(settings: Settings) -> None:
    from connectors.s3archive.bucket import ensure_archive_bucket
    from connectors.kafka.codec import register_all
    from tradestream.db import migrate
    from tradestream.topics import ensure_topics

    import datetime as dt

    from tradestream.db import connect
    from tradestream.verify import write_reference_data

    ensure_topics(settings)
    register_all(settings.schema_registry_url, prefix=settings.topic_prefix)
    migrate(settings)
    with connect(settings) as conn:
        today = dt.date.today()
        write_reference_data(conn, dt.date(2000, 1, 1), today + dt.timedelta(days=730))
    log.info("archive=%s", ensure_archive_bucket(settings.archive()))

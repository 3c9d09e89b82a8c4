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
    # The registry's configuration, not only its URL: with SCHEMA_REGISTRY_USER_INFO it carries the basic
    # authentication the compose deployment's registry requires.
    register_all(settings.kafka().registry_config(), prefix=settings.topic_prefix)  # type: ignore[arg-type]
    migrate(settings)
    with connect(settings) as conn:
        today = dt.date.today()
        write_reference_data(conn, dt.date(2000, 1, 1), today + dt.timedelta(days=730))
    log.info("archive=%s", ensure_archive_bucket(settings.archive()))

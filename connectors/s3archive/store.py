"""The archive bucket's reads and writes for the archiver and the verifier: every PUT locked, never over.

Each object is written with Object Lock mode COMPLIANCE and its retain-until date on the PUT itself (a
version written under the bucket's default rule alone carries no retention of its own on versitygw, and
becomes deletable once the default is removed), and with `If-None-Match: *`: a key that exists is never
written again (S3 answers 412), so a rerun, or a second archiver, cannot add a second copy.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass

from botocore.exceptions import ClientError

from connectors.s3archive.bucket import ArchiveSettings, s3_client
from processors.archive.retention import LOCK_MODE
from schemas.errors import ArchiveError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Written:
    key: str
    version_id: str | None
    created: bool
    """False: the key was there already (the caller compares the content)."""


class ArchiveStore:
    def __init__(self, settings: ArchiveSettings, client=None) -> None:  # noqa: ANN001 - a boto3 client
        self.bucket = settings.bucket
        self.s3 = client or s3_client(settings)

    def put_locked(self, key: str, data: bytes, retain_until: dt.datetime, content_type: str) -> Written:
        try:
            answer = self.s3.put_object(Bucket=self.bucket, Key=key, Body=data, IfNoneMatch="*",
                                        ObjectLockMode=LOCK_MODE, ObjectLockRetainUntilDate=retain_until,
                                        ContentType=content_type)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("PreconditionFailed", "412"):
                return Written(key, None, False)
            raise ArchiveError(f"writing {key} to bucket {self.bucket}: {exc.response['Error']['Code']} "
                               f"{exc.response['Error'].get('Message', '')}") from None
        return Written(key, answer.get("VersionId"), True)

    def get(self, key: str) -> bytes | None:
        """The current version's bytes; None when the key has none (never written, or a delete marker)."""
        try:
            return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "404", "NoSuchVersion"):
                return None
            raise ArchiveError(f"reading {key} from bucket {self.bucket}: {exc.response['Error']['Code']}") from None

    def keys(self, prefix: str, start_after: str = "") -> list[str]:
        """Keys under `prefix` in key order (after `start_after`)."""
        keys: list[str] = []
        paginator = self.s3.get_paginator("list_objects_v2")
        arguments = {"Bucket": self.bucket, "Prefix": prefix}
        if start_after:
            arguments["StartAfter"] = start_after
        for page in paginator.paginate(**arguments):
            keys.extend(item["Key"] for item in page.get("Contents", ()))
        return sorted(keys)

    def last_key(self, prefix: str) -> str | None:
        keys = self.keys(prefix)
        return keys[-1] if keys else None

    def retention(self, key: str) -> tuple[str, dt.datetime] | None:
        """(mode, retain-until) of the current version; None when it has no retention of its own."""
        try:
            found = self.s3.get_object_retention(Bucket=self.bucket, Key=key)["Retention"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchObjectLockConfiguration", "ObjectLockConfigurationNotFoundError"):
                return None
            if exc.response["Error"]["Code"] in ("NoSuchKey", "404", "NoSuchVersion"):
                return None
            raise ArchiveError(f"reading the retention of {key}: {exc.response['Error']['Code']}") from None
        until = found["RetainUntilDate"]
        return found.get("Mode", ""), until.astimezone(dt.timezone.utc)

    def versions(self, prefix: str) -> list[tuple[str, int, int]]:
        """(key, versions, delete markers) of every key under `prefix`."""
        counts: Counter[str] = Counter()
        markers: Counter[str] = Counter()
        paginator = self.s3.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            counts.update(item["Key"] for item in page.get("Versions", ()))
            markers.update(item["Key"] for item in page.get("DeleteMarkers", ()))
        return [(key, counts[key], markers[key]) for key in sorted(set(counts) | set(markers))]

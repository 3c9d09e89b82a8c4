"""The compliance archive bucket: S3 Object Lock in COMPLIANCE mode (SEC 17a-4 WORM storage).

Only the plain S3 API through boto3 is used, so AWS S3 or the local stack's versitygw work
unchanged. Object Lock can only be enabled when a bucket is created; an existing bucket without it
is refused rather than silently used for records that must be immutable.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from schemas.errors import StackError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class ArchiveSettings:
    """Where the compliance archive lives (built by the CLI from the S3_* variables)."""

    endpoint_url: str
    """S3 endpoint; empty means AWS (S3_ENDPOINT_URL)."""
    bucket: str
    """Archive bucket, created with Object Lock (S3_BUCKET)."""
    region: str = "us-east-1"
    """Bucket region (S3_REGION)."""
    retention_days: int = 2555
    """Default COMPLIANCE retention in days (S3_RETENTION_DAYS)."""


LOCAL_KEY = ("local", "local")


def local_credentials() -> tuple[str, str]:
    """The key pair for the local stack's server: boto3's from the environment, else the fixed local pair
    (the local server takes the same pair as its root key, `tradestream.stack.s3`)."""
    found = boto3.session.Session().get_credentials()
    if found is None:
        return LOCAL_KEY
    frozen = found.get_frozen_credentials()
    return frozen.access_key, frozen.secret_key


def s3_client(settings: ArchiveSettings):  # noqa: ANN201 - boto3 clients are dynamically typed
    """A boto3 S3 client for the configured endpoint (credentials from the environment as boto3 reads them)."""
    credentials: dict[str, str] = {}
    local = settings.endpoint_url.startswith(("http://127.", "http://localhost"))
    if local:
        access_key, secret_key = local_credentials()
        credentials = {"aws_access_key_id": access_key, "aws_secret_access_key": secret_key}
    return boto3.client(
        "s3",
        endpoint_url=settings.endpoint_url or None,
        **credentials,
        region_name=settings.region,
        config=Config(retries={"max_attempts": 5, "mode": "standard"}, s3={"addressing_style": "path"}),
    )


def archive_status(settings: ArchiveSettings) -> tuple[str, str]:
    """("up" | "down", detail) of the archive bucket, for health checks: it answers, and its Object Lock mode."""
    try:
        lock = s3_client(settings).get_object_lock_configuration(Bucket=settings.bucket)
    except ClientError as exc:
        return "down", f"{settings.endpoint_url or 'AWS'} bucket {settings.bucket}: {exc.response['Error']['Code']}"
    except BotoCoreError as exc:  # unreachable endpoint, no credentials, timeouts
        return "down", f"{settings.endpoint_url or 'AWS'} bucket {settings.bucket}: {type(exc).__name__}"
    mode = lock["ObjectLockConfiguration"].get("Rule", {}).get("DefaultRetention", {}).get("Mode", "none")
    return "up", f"bucket {settings.bucket}, Object Lock {mode}"


def ensure_archive_bucket(settings: ArchiveSettings, client=None) -> dict[str, object]:  # noqa: ANN001
    """Create the archive bucket with Object Lock and default COMPLIANCE retention; idempotent."""
    s3 = client or s3_client(settings)
    bucket = settings.bucket
    try:
        s3.head_bucket(Bucket=bucket)
        exists = True
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("404", "NoSuchBucket", "NotFound"):
            raise StackError(f"S3 bucket {bucket}: {exc.response['Error']['Code']}") from None
        exists = False
    if not exists:
        kwargs: dict[str, object] = {"Bucket": bucket, "ObjectLockEnabledForBucket": True}
        if settings.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": settings.region}
        s3.create_bucket(**kwargs)
        log.info("bucket=%s created with Object Lock", bucket)
    try:
        lock = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    except ClientError as exc:
        raise StackError(
            f"S3 bucket {bucket} exists without Object Lock; 17a-4 records need a bucket created with "
            "Object Lock: choose another S3_BUCKET"
        ) from exc
    if lock.get("ObjectLockEnabled") != "Enabled":
        raise StackError(f"S3 bucket {bucket} has Object Lock disabled; choose another S3_BUCKET")
    wanted = {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": settings.retention_days}}
    current = lock.get("Rule", {}).get("DefaultRetention", {})
    # Some servers report an unused "Years": 0 beside "Days"; compare what matters.
    if (current.get("Mode"), current.get("Days"), current.get("Years") or 0) != (
            "COMPLIANCE", settings.retention_days, 0):
        s3.put_object_lock_configuration(
            Bucket=bucket,
            ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": wanted},
        )
    versioning = s3.get_bucket_versioning(Bucket=bucket).get("Status")
    return {"bucket": bucket, "object_lock": "COMPLIANCE", "retention_days": settings.retention_days,
            "versioning": versioning}

"""The local S3 server of the stack: Versity Gateway (versitygw, Apache-2.0) over a POSIX directory.

The compliance archive needs an S3 server that enforces Object Lock in COMPLIANCE mode as AWS does:
refuse deleting a locked version and refuse shortening or downgrading its retention, also after a
restart. moto (the earlier server) let COMPLIANCE retention be shortened, answered 500 to
GetObjectRetention and gave versions new ids after a restart; versitygw refuses with 403 and keeps
everything in files (`$TRADESTREAM_HOME/s3/buckets`, versions in `$TRADESTREAM_HOME/s3/versions`:
the posix backend versions a bucket, which Object Lock requires, only given a versioning directory
outside its bucket root).

The binary is built once with `go install github.com/versity/versitygw/cmd/versitygw@<version>`
(about two minutes on two cores) into `$TRADESTREAM_TOOLS/versitygw-<version>/bin`, the project's
own tools folder (default `.tradestream/tools` in the checkout, kept when TRADESTREAM_HOME points
elsewhere, as the restart test's stack does); Go's module and build caches for it live beside it and
are removed after the build. Go 1.21 or newer fetches the Go release versitygw needs by itself.

Credentials: the server's root key is what a client of the local endpoint sends (see
`connectors.s3archive.bucket.s3_client`): the AWS key pair boto3 finds in the environment, or the
fixed `local` pair when there is none. The server listens on the loopback only.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from pathlib import Path

import httpx

from schemas.errors import StackError
from tradestream.config import PROJECT_ROOT, Settings
from tradestream.stack.process import ServiceProcess, port_bindable, wait_until

log = logging.getLogger(__name__)

VERSITYGW_VERSION = "v1.8.0"
VERSITYGW_MODULE = "github.com/versity/versitygw/cmd/versitygw"
HEALTH_PATH = "/health"
INSTALL_TIMEOUT_S = 1800


def tools_dir(settings: Settings) -> Path:
    """Where the stack's built tools live (TRADESTREAM_TOOLS, default `.tradestream/tools` of the checkout)."""
    configured = settings.env("TRADESTREAM_TOOLS").strip()
    return Path(configured).resolve() if configured else PROJECT_ROOT / ".tradestream" / "tools"


def versitygw_binary(settings: Settings) -> Path:
    """The versitygw executable, built with `go install` on first use."""
    root = tools_dir(settings) / f"versitygw-{VERSITYGW_VERSION}"
    binary = root / "bin" / "versitygw"
    marker = root / "complete"
    if marker.exists() and binary.exists():
        return binary
    go = shutil.which("go")
    if go is None:
        raise StackError("go is not installed; the local S3 server (versitygw) is built with it: install Go "
                         "1.21 or newer from https://go.dev/dl/ (or apt-get install golang-go)")
    build = root / "build"
    env = {**os.environ, "GOBIN": str(root / "bin"), "GOPATH": str(build / "gopath"),
           "GOMODCACHE": str(build / "mod"), "GOCACHE": str(build / "cache"),
           # Writable module cache: otherwise its read-only folders stop `rm -rf` of the tools folder.
           "GOFLAGS": "-modcacherw -buildvcs=false", "CGO_ENABLED": "0"}
    root.mkdir(parents=True, exist_ok=True)
    log.info("building versitygw %s with go install into %s (about two minutes)", VERSITYGW_VERSION, binary.parent)
    try:
        result = subprocess.run([go, "install", f"{VERSITYGW_MODULE}@{VERSITYGW_VERSION}"], env=env,
                                capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise StackError(f"go install of versitygw {VERSITYGW_VERSION} took over {INSTALL_TIMEOUT_S} s") from None
    if result.returncode != 0 or not binary.exists():
        raise StackError(
            f"go install {VERSITYGW_MODULE}@{VERSITYGW_VERSION} failed (check access to the Go module proxy, "
            f"GOPROXY):\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
        )
    shutil.rmtree(build, ignore_errors=True)
    marker.write_text(VERSITYGW_VERSION)
    return binary


def root_credentials() -> tuple[str, str]:
    """The key pair local clients sign with: boto3's from the environment, else the fixed local pair."""
    from connectors.s3archive.bucket import local_credentials

    return local_credentials()


class S3Service:
    name = "s3"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.process = ServiceProcess(self.name, settings.home)
        self.data_dir = settings.home / "s3"

    def ready(self) -> bool:
        try:
            answer = httpx.get(f"http://127.0.0.1:{self.settings.s3_port}{HEALTH_PATH}", timeout=2)
        except httpx.HTTPError:
            return False
        return answer.status_code == 200

    def start(self) -> None:
        if self.process.running():
            wait_until(self.ready, 60, "S3 server", self.process.log_path, self.process.running)
            return
        if not port_bindable("127.0.0.1", self.settings.s3_port):
            raise StackError(
                f"port {self.settings.s3_port} is taken by another process; stop it or set S3_PORT to a free port"
            )
        binary = versitygw_binary(self.settings)
        buckets, versions = self.data_dir / "buckets", self.data_dir / "versions"
        for folder in (buckets, versions):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        access_key, secret_key = root_credentials()
        # The keys go in the environment, not the command line (which every local account can read).
        env = {**os.environ, "ROOT_ACCESS_KEY": access_key, "ROOT_SECRET_KEY": secret_key,
               "VGW_REGION": self.settings.s3_region}
        self.process.spawn([str(binary), "--port", f"127.0.0.1:{self.settings.s3_port}", "--health", HEALTH_PATH,
                            "--quiet", "posix", "--versioning-dir", str(versions), str(buckets)], env=env)
        wait_until(self.ready, 60, "S3 server", self.process.log_path, self.process.running)

    def stop(self) -> bool:
        return self.process.stop()

    def status(self) -> dict[str, object]:
        running = self.process.running()
        return {"running": running, "ready": running and self.ready(), "server": f"versitygw {VERSITYGW_VERSION}",
                "endpoint": self.settings.s3_endpoint_url, "bucket": self.settings.s3_bucket}

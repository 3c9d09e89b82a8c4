"""The local S3 server of the stack (see `s3server`) and the archive bucket with Object Lock."""

from __future__ import annotations

import sys

from tradestream.config import Settings
from schemas.errors import StackError
from tradestream.stack.process import ServiceProcess, port_bindable, wait_until


class S3Service:
    name = "s3"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.process = ServiceProcess(self.name, settings.home)
        self.data_dir = settings.home / "s3"

    def ready(self) -> bool:
        marker = self.data_dir / "ready"
        pid = self.process.pid()
        return pid is not None and marker.exists() and marker.read_text().strip() == str(pid)

    def start(self) -> None:
        if self.process.running():
            wait_until(self.ready, 60, "S3 server", self.process.log_path, self.process.running)
            return
        if not port_bindable("127.0.0.1", self.settings.s3_port):
            raise StackError(
                f"port {self.settings.s3_port} is taken by another process; stop it or set S3_PORT to a free port"
            )
        (self.data_dir / "ready").unlink(missing_ok=True)
        self.process.spawn([sys.executable, "-m", "tradestream.stack.s3server", "--host", "127.0.0.1",
                            "--port", str(self.settings.s3_port), "--data-dir", str(self.data_dir)])
        wait_until(self.ready, 60, "S3 server", self.process.log_path, self.process.running)

    def stop(self) -> bool:
        return self.process.stop()

    def status(self) -> dict[str, object]:
        running = self.process.running()
        return {"running": running, "ready": running and self.ready(),
                "endpoint": self.settings.s3_endpoint_url, "bucket": self.settings.s3_bucket}

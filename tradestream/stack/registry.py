"""The schema registry of the local stack: the project's Confluent-API registry (see
`tradestream.schema_registry`), storing schemas in the compacted `_schemas` topic of the real broker."""

from __future__ import annotations

import sys

import httpx

from tradestream.config import Settings
from schemas.errors import StackError
from tradestream.stack.process import ServiceProcess, port_bindable, wait_until


class RegistryService:
    name = "schema-registry"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.process = ServiceProcess(self.name, settings.home)

    def ready(self) -> bool:
        try:
            response = httpx.get(f"{self.settings.schema_registry_url}/subjects", timeout=2)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    def start(self) -> None:
        if self.process.running():
            wait_until(self.ready, 60, "schema registry", self.process.log_path, self.process.running)
            return
        if not port_bindable("127.0.0.1", self.settings.schema_registry_port):
            raise StackError(
                f"port {self.settings.schema_registry_port} is taken by another process; stop it or set "
                "SCHEMA_REGISTRY_PORT to a free port"
            )
        self.process.spawn([sys.executable, "-m", "tradestream.schema_registry",
                            "--host", "127.0.0.1", "--port", str(self.settings.schema_registry_port),
                            "--bootstrap", self.settings.kafka_bootstrap])
        wait_until(self.ready, 60, "schema registry", self.process.log_path, self.process.running)

    def stop(self) -> bool:
        return self.process.stop()

    def status(self) -> dict[str, object]:
        running = self.process.running()
        return {"running": running, "ready": running and self.ready(), "url": self.settings.schema_registry_url}

"""The worker's stages, in pipeline order. Each stage module exposes `register(context)`."""

from __future__ import annotations

import importlib

import faust

from streams.app import WORKER_GROUP, StageContext, create_app
from streams.settings import WorkerSettings

STAGE_MODULES = (
    "streams.bars_stage",
    "streams.indicators_stage",
)


def register_all(context: StageContext) -> list[str]:
    """Register every stage whose module exists; returns the registered names."""
    registered = []
    for name in STAGE_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(context)
        registered.append(name.rsplit(".", 1)[1])
    return registered


def build_worker(settings: WorkerSettings, app_id: str = WORKER_GROUP) -> faust.App:
    """The worker app with every stage that exists registered."""
    app, context = create_app(settings, app_id)
    register_all(context)
    return app

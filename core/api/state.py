"""What the API's handlers work on: the daemon's settings, store, engine and services (the daemon
builds it and hands it to ``create_app``)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime

from callboard.core.config import Settings
from callboard.core.engine.control import EngineControl
from callboard.core.paths import DaemonPaths
from callboard.core.scheduling.service import ScheduleService
from callboard.core.services.catalogue import TestCatalogue
from callboard.storage.interface import StoreBackend


@dataclass
class DaemonState:
    """The running daemon, as the request handlers see it."""

    settings: Settings
    paths: DaemonPaths
    store: StoreBackend
    engine: EngineControl
    schedules: ScheduleService
    catalogue: TestCatalogue
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # Set when the daemon begins to shut down: event streams end so the server can stop.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

"""callboard storage: the SQLite store."""

from callboard.storage.batches_repo import BatchEntry
from callboard.storage.errors import SchemaTooNewError, StoreError, StoreLockedError
from callboard.storage.migrations import LATEST_VERSION, migrate
from callboard.storage.recovery import requeue_interrupted
from callboard.storage.store import Store
from callboard.storage.tests_repo import ImportCounts
from callboard.storage.writer import ResultWriter

__all__ = [
    "LATEST_VERSION",
    "BatchEntry",
    "ImportCounts",
    "ResultWriter",
    "SchemaTooNewError",
    "Store",
    "StoreError",
    "StoreLockedError",
    "migrate",
    "requeue_interrupted",
]

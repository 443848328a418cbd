"""Both backends provide every member of storage.interface, with the same parameters (mypy checks the
types where storage.open returns either store as a StoreBackend)."""

from __future__ import annotations

import inspect

import pytest

from callboard.storage import interface
from callboard.storage.batches_repo import BatchesRepo
from callboard.storage.history_repo import HistoryRepo
from callboard.storage.postgres.batches_repo import PgBatchesRepo
from callboard.storage.postgres.history_repo import PgHistoryRepo
from callboard.storage.postgres.recovery import PgRecovery
from callboard.storage.postgres.retention import PgRetention
from callboard.storage.postgres.runs_repo import PgRunsRepo
from callboard.storage.postgres.schedules_repo import PgSchedulesRepo
from callboard.storage.postgres.store import PgStore
from callboard.storage.postgres.tests_repo import PgTestsRepo
from callboard.storage.postgres.writer import PgResultWriter
from callboard.storage.runs_repo import RunsRepo
from callboard.storage.schedules_repo import SchedulesRepo
from callboard.storage.store import Store, _Recovery, _Retention
from callboard.storage.tests_repo import TestsRepo
from callboard.storage.writer import ResultWriter

IMPLEMENTATIONS: list[tuple[type, tuple[type, ...]]] = [
    (interface.TestsRepository, (TestsRepo, PgTestsRepo)),
    (interface.BatchesRepository, (BatchesRepo, PgBatchesRepo)),
    (interface.RunsRepository, (RunsRepo, PgRunsRepo)),
    (interface.HistoryRepository, (HistoryRepo, PgHistoryRepo)),
    (interface.SchedulesRepository, (SchedulesRepo, PgSchedulesRepo)),
    (interface.ResultWriting, (ResultWriter, PgResultWriter)),
    (interface.Recovery, (_Recovery, PgRecovery)),
    (interface.Retention, (_Retention, PgRetention)),
    (interface.StoreBackend, (Store, PgStore)),
]


def _methods(protocol: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in vars(protocol).items()
        if inspect.isfunction(member) and not name.startswith("_")
    }


@pytest.mark.parametrize(
    ("protocol", "classes"), IMPLEMENTATIONS, ids=lambda value: getattr(value, "__name__", "")
)
def test_every_backend_has_the_protocols_methods(protocol: type, classes: tuple[type, ...]) -> None:
    expected = _methods(protocol)
    assert expected
    for cls in classes:
        for name, signature in expected.items():
            member = getattr(cls, name, None)
            assert member is not None, f"{cls.__name__} lacks {name}"
            assert inspect.iscoroutinefunction(member) == inspect.iscoroutinefunction(vars(protocol)[name])
            assert list(inspect.signature(member).parameters) == list(signature.parameters), (cls, name)

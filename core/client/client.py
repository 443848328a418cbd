"""An async client of API v1 over the daemon's Unix socket (HTTP/1.1, ``http11``).

Every method returns the API's pydantic models; an error answer raises ApiFailure with the daemon's
code and message, and no daemon at the socket raises DaemonUnavailable. The models of what a command
does not ask for (schedules, reports, runs) are imported by the methods that return them, so that a
command pays only for its own.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter

from callboard.core.client.http11 import HttpResponse, TransportError, UnixHttp
from callboard.core.models.api import (
    BatchCreated,
    BatchRequest,
    CancelResult,
    Health,
    ImportResult,
    PruneRequest,
    PruneResponse,
    QueueStatus,
    RetryRequest,
    RunList,
    TestDefinitions,
    TestDetail,
    TestList,
    TestSummary,
    Trends,
)
from callboard.core.models.batches import Batch

if TYPE_CHECKING:
    from callboard.core.client.event_stream import EventStream
    from callboard.core.models.reports import BatchReport
    from callboard.core.models.runs import Run
    from callboard.core.models.schedules import ScheduleSpec, ScheduleView

DEFAULT_TIMEOUT_S = 60.0


class DaemonUnavailable(Exception):
    """No daemon answers on the socket."""


class ApiFailure(Exception):
    """The daemon answered with an error."""

    def __init__(self, status: int, code: str, message: str, details: list[dict[str, Any]] | None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []


def _failure(response: HttpResponse) -> ApiFailure:
    try:
        error = response.json()["error"]
        return ApiFailure(response.status_code, error["code"], error["message"], error.get("details"))
    except (ValueError, KeyError, TypeError):
        text = response.text[:200] or response.reason_phrase
        return ApiFailure(response.status_code, "error", f"HTTP {response.status_code}: {text}", None)


@cache
def _report_adapter() -> TypeAdapter[BatchReport]:
    # Built on first use: only a command that shows a report pays for the report's models.
    from callboard.core.models.reports import BatchReport

    return TypeAdapter(BatchReport)


def _query(**params: Any) -> dict[str, Any]:
    return {key: value for key, value in params.items() if value is not None and value != []}


class CallboardClient:
    """API v1 over ``socket``; use as an async context manager or call ``aclose``."""

    def __init__(self, socket: Path, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.socket = socket
        self.timeout_s = timeout_s
        self.http = UnixHttp(socket)

    async def __aenter__(self) -> CallboardClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections."""
        await self.http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        wait_as_long_as_it_takes: bool = False,
    ) -> HttpResponse:
        """One request; raises ApiFailure for an error answer, DaemonUnavailable when none answers
        (or none within the client's timeout, unless ``wait_as_long_as_it_takes``)."""
        timeout_s = None if wait_as_long_as_it_takes else self.timeout_s
        try:
            response = await self.http.request(
                method, path, params=params, json_body=json, timeout_s=timeout_s
            )
        except TransportError as exc:
            raise DaemonUnavailable(f"no daemon answers on {self.socket} ({exc})") from None
        except TimeoutError:
            raise DaemonUnavailable(
                f"the daemon on {self.socket} did not answer {method} {path} within {timeout_s:g} s"
            ) from None
        if response.status_code >= 400:
            raise _failure(response)
        return response

    # -- daemon ----------------------------------------------------------------------------------

    async def health(self) -> Health:
        """Who the daemon is; raises DaemonUnavailable when none answers. A daemon whose store cannot
        commit answers too (503): its health then has ``status`` "store_unavailable" and the cause."""
        try:
            return Health.model_validate_json((await self.request("GET", "/v1/health")).content)
        except ApiFailure as exc:
            if exc.code == "store_unavailable" and exc.details:
                return Health.model_validate(exc.details[0])
            raise

    async def daemon_settings(self) -> dict[str, Any]:
        """The settings the daemon started with, secrets masked (as ``masked`` gives them)."""
        settings: dict[str, Any] = (await self.request("GET", "/v1/settings")).json()["settings"]
        return settings

    # -- tests -----------------------------------------------------------------------------------

    async def list_tests(
        self, tag: str | None = None, kind: str | None = None, search: str | None = None
    ) -> list[TestSummary]:
        """Tests in name order with their last result."""
        response = await self.request("GET", "/v1/tests", params=_query(tag=tag, kind=kind, search=search))
        return TestList.model_validate_json(response.content).tests

    async def list_tests_json(
        self, tag: str | None = None, kind: str | None = None, search: str | None = None
    ) -> bytes:
        """The tests list as the daemon sent it (``TestList`` JSON), for a caller that prints it."""
        response = await self.request("GET", "/v1/tests", params=_query(tag=tag, kind=kind, search=search))
        return response.content

    async def test_definitions(self, tag: str | None = None) -> list[dict[str, Any]]:
        """Every test (or those with ``tag``) in suite form."""
        response = await self.request("GET", "/v1/tests/definitions", params=_query(tag=tag))
        return TestDefinitions.model_validate_json(response.content).tests

    async def get_test(self, test_id: int) -> TestDetail:
        """A test's definition and recent runs."""
        return TestDetail.model_validate_json((await self.request("GET", f"/v1/tests/{test_id}")).content)

    async def delete_test(self, test_id: int) -> None:
        """Delete a test (its past runs stay)."""
        await self.request("DELETE", f"/v1/tests/{test_id}")

    async def import_tests(
        self, paths: list[Path] | None = None, tests: list[dict[str, Any]] | None = None
    ) -> ImportResult:
        """Import suite files (made absolute here: the daemon reads them) and tests by value."""
        body = {"paths": [str(Path(p).absolute()) for p in paths or []], "tests": tests or []}  # noqa: ASYNC240 (getcwd, no disk I/O)
        response = await self.request("POST", "/v1/tests/import", json=body)
        return ImportResult.model_validate_json(response.content)

    # -- batches ---------------------------------------------------------------------------------

    async def create_batch(self, request: BatchRequest) -> BatchCreated:
        """Queue a batch; answers with the batch and the tests it skips."""
        response = await self.request("POST", "/v1/batches", json=request.model_dump(mode="json"))
        return BatchCreated.model_validate_json(response.content)

    async def get_batch(self, batch_id: int) -> Batch:
        """A batch with its counts."""
        return Batch.model_validate_json((await self.request("GET", f"/v1/batches/{batch_id}")).content)

    async def cancel_batch(self, batch_id: int) -> int:
        """Cancel a batch's queued and running runs; returns how many."""
        response = await self.request("POST", f"/v1/batches/{batch_id}/cancel")
        return CancelResult.model_validate_json(response.content).cancelled

    async def retry_batch(self, batch_id: int, request: RetryRequest | None = None) -> BatchCreated:
        """Queue a batch's tests again (only failed and errored ones with ``request.failed_only``)."""
        body = (request or RetryRequest()).model_dump()
        response = await self.request("POST", f"/v1/batches/{batch_id}/retry", json=body)
        return BatchCreated.model_validate_json(response.content)

    async def export_batch(self, batch_id: int, fmt: str) -> bytes:
        """A batch's runs as csv, json or junit."""
        response = await self.request("GET", f"/v1/batches/{batch_id}/export", params={"format": fmt})
        return response.content

    async def batch_report(self, batch_id: int, slowest: int = 5, failures: int = 20) -> BatchReport:
        """A batch's report: counts, pass rate, score distribution, slowest runs, failures."""
        params = {"slowest": slowest, "failures": failures}
        response = await self.request("GET", f"/v1/batches/{batch_id}/report", params=params)
        return _report_adapter().validate_json(response.content)

    # -- runs ------------------------------------------------------------------------------------

    async def list_runs(
        self,
        status: list[str] | None = None,
        batch_id: int | None = None,
        test_id: int | None = None,
        kind: str | None = None,
        before: int | None = None,
        limit: int = 100,
    ) -> RunList:
        """A page of runs, newest first."""
        params = _query(
            status=status, batch_id=batch_id, test_id=test_id, kind=kind, before=before, limit=limit
        )
        return RunList.model_validate_json((await self.request("GET", "/v1/runs", params=params)).content)

    async def get_run(self, run_id: int) -> Run:
        """Everything about a run."""
        # Imported here: a run holds its test's definition, whose models a client following batches
        # never needs to build.
        from callboard.core.models.runs import Run

        return Run.model_validate_json((await self.request("GET", f"/v1/runs/{run_id}")).content)

    async def cancel_run(self, run_id: int) -> None:
        """Cancel a queued or running run."""
        await self.request("POST", f"/v1/runs/{run_id}/cancel")

    async def retry_run(self, run_id: int, request: RetryRequest | None = None) -> BatchCreated:
        """Queue a run's test again in a new batch (with the request's priority and trials)."""
        body = (request or RetryRequest()).model_dump()
        response = await self.request("POST", f"/v1/runs/{run_id}/retry", json=body)
        return BatchCreated.model_validate_json(response.content)

    # -- queue -----------------------------------------------------------------------------------

    async def queue(self) -> QueueStatus:
        """The monitor's figures."""
        return QueueStatus.model_validate_json((await self.request("GET", "/v1/queue")).content)

    async def pause(self) -> QueueStatus:
        """Start no new runs."""
        return QueueStatus.model_validate_json((await self.request("POST", "/v1/queue/pause")).content)

    async def resume(self) -> QueueStatus:
        """Start runs again."""
        return QueueStatus.model_validate_json((await self.request("POST", "/v1/queue/resume")).content)

    async def cancel_all(self) -> int:
        """Cancel every queued and running run; returns how many."""
        response = await self.request("POST", "/v1/queue/cancel")
        return CancelResult.model_validate_json(response.content).cancelled

    async def trends(
        self, last_batches: int = 10, test: str | None = None, *, flaky_only: bool = False
    ) -> Trends:
        """Each test's pass rate and mean score over the last batches, and whether it is flaky
        (``flaky_only``: only the flaky tests)."""
        params = _query(last_batches=last_batches, test=test, flaky="true" if flaky_only else None)
        response = await self.request("GET", "/v1/trends", params=params)
        return Trends.model_validate_json(response.content)

    async def prune(self, days: float | None = None, max_runs: int | None = None) -> PruneResponse:
        """Delete old history now (default limits: the daemon's retention settings)."""
        body = PruneRequest(days=days, max_runs=max_runs).model_dump(exclude_none=True)
        # A prune of a large history takes minutes by design (it deletes in short transactions so that
        # the daemon keeps working meanwhile): no read timeout.
        response = await self.request(
            "POST", "/v1/maintenance/prune", json=body, wait_as_long_as_it_takes=True
        )
        return PruneResponse.model_validate_json(response.content)

    # -- schedules -------------------------------------------------------------------------------

    async def list_schedules(self) -> list[ScheduleView]:
        """Every schedule with its next fire time and last batch."""
        from callboard.core.models.schedules import ScheduleList

        return ScheduleList.model_validate_json(
            (await self.request("GET", "/v1/schedules")).content
        ).schedules

    async def create_schedule(self, spec: ScheduleSpec) -> ScheduleView:
        """Add a schedule."""
        from callboard.core.models.schedules import ScheduleView

        response = await self.request("POST", "/v1/schedules", json=spec.model_dump(mode="json"))
        return ScheduleView.model_validate_json(response.content)

    async def delete_schedule(self, schedule_id: int) -> None:
        """Remove a schedule."""
        await self.request("DELETE", f"/v1/schedules/{schedule_id}")

    async def set_schedule_enabled(self, schedule_id: int, *, enabled: bool) -> ScheduleView:
        """Pause or resume a schedule."""
        action = "resume" if enabled else "pause"
        from callboard.core.models.schedules import ScheduleView

        response = await self.request("POST", f"/v1/schedules/{schedule_id}/{action}")
        return ScheduleView.model_validate_json(response.content)

    async def run_schedule(self, schedule_id: int) -> BatchCreated:
        """Queue a schedule's batch now."""
        response = await self.request("POST", f"/v1/schedules/{schedule_id}/run")
        return BatchCreated.model_validate_json(response.content)

    # -- events ----------------------------------------------------------------------------------

    def events(
        self,
        last_id: int | None = None,
        *,
        reconnect: bool = True,
        types: tuple[str, ...] = (),
        batch_id: int | None = None,
    ) -> EventStream:
        """The live event stream (resumed after ``last_id``), optionally only some types or one batch;
        reconnects with Last-Event-ID."""
        from callboard.core.client.event_stream import EventStream

        params = _query(types=",".join(types) or None, batch_id=batch_id)
        return EventStream(self.http, self.socket, last_id, reconnect=reconnect, params=params)

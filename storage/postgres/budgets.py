"""Per-batch budgets on a shared store: what each batch has spent on calls and on the model, held in
``batch_budgets`` so the caps hold however many workers run the batch.

The rules (which runs a budget applies to, when it refuses, what a finished run spends) are callboard's
own (``core.engine.budget``), handed in as ``BudgetRules``; this module keeps the counts exact. A claim
locks the rows of the batches it is about to take budgeted runs from (``lock``, in batch order), decides
each run, skips the refused ones in the same transaction (``skip``: a run still queued and locked by the
claim, so the write is fenced) and saves the new counts (``save``); two workers can never both admit the
last call. A finish adds what the run used in the transaction that writes its result (``settle``), so a
result is counted exactly when it is stored. Rows are locked in batch order within each step; should a
claim and a finish still wait on each other's batches, PostgreSQL breaks the deadlock and the loser's
transaction is retried whole (claims and group commits both retry after a store error).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from psycopg import AsyncConnection

from callboard.core.models import RunResult
from callboard.storage.postgres import outbox
from callboard.storage.postgres.fence import NOW_TEXT, Lease

_ADD = "INSERT INTO batch_budgets (batch_id) SELECT unnest(%s::bigint[]) ON CONFLICT DO NOTHING"
_LOCK = """
SELECT batch_id, calls, call_seconds, model_tokens, model_fatal FROM batch_budgets
WHERE batch_id = ANY(%s) ORDER BY batch_id FOR UPDATE
"""
_SAVE = """
UPDATE batch_budgets SET calls = spent.calls, call_seconds = spent.call_seconds,
                         model_tokens = spent.model_tokens, model_fatal = spent.model_fatal
FROM unnest(%s::bigint[], %s::int[], %s::float8[], %s::float8[], %s::text[])
     AS spent (batch_id, calls, call_seconds, model_tokens, model_fatal)
WHERE batch_budgets.batch_id = spent.batch_id
"""
_SKIP = f"""
UPDATE runs SET status = 'skipped', skip_reason = refused.reason, finished_at = {NOW_TEXT}
FROM unnest(%s::bigint[], %s::text[]) AS refused (id, reason)
WHERE runs.id = refused.id AND runs.status = 'queued'
RETURNING runs.id, runs.attempt
"""
# The fence of a finish, taken first: the rows stay locked until the finish writes them, so what is
# settled here is exactly what will be stored.
_HELD = """
SELECT runs.id FROM runs JOIN unnest(%s::bigint[], %s::int[], %s::text[]) AS lease (id, attempt, owner)
  ON runs.id = lease.id AND runs.attempt = lease.attempt AND runs.lease_owner = lease.owner
WHERE runs.status = 'running'
ORDER BY runs.id
FOR UPDATE OF runs
"""


@dataclass
class Spent:
    """What one batch has spent (the row of ``batch_budgets``)."""

    calls: int = 0
    call_seconds: float = 0.0
    model_tokens: float = 0.0
    model_fatal: str | None = None


@dataclass(frozen=True)
class Candidate:
    """A queued run a claim is about to take, as a budget sees it."""

    run_id: int
    batch_id: int
    kind: str
    limit_keys: tuple[str, ...]
    first_claim: bool  # never claimed before (attempt 0): not yet counted against any budget
    placed: bool  # has a call SID or a dial intent: a call that may exist, to watch or look up only


@dataclass(frozen=True)
class Admission:
    """A budget's answer for one candidate: skip it with ``refusal``, or take it (counting one call of
    its batch when ``dials``)."""

    refusal: str | None = None
    dials: bool = False


@dataclass(frozen=True)
class Charge:
    """What a finishing run may have spent of its batch's budget: call time, model tokens."""

    batch_id: int
    call: bool
    model: bool


class BudgetRules(Protocol):
    """callboard's budget rules, as the store applies them."""

    @property
    def kinds(self) -> tuple[str, ...]:
        """Runs of these kinds need their batch's budget (until they have placed something)."""
        ...

    @property
    def keys(self) -> tuple[str, ...]:
        """So do runs counting against one of these limit keys."""
        ...

    def applies(self, run: Candidate) -> bool:
        """Whether the run's claim must consult its batch's budget at all."""
        ...

    def admit(self, run: Candidate, spent: Spent) -> Admission:
        """May the run start, given what its batch has spent?"""
        ...

    def settle(self, run_id: int, charge: Charge, result: RunResult, spent: Spent) -> RunResult:
        """Add what the finished run used to ``spent``; returns the result to store."""
        ...


async def lock(conn: AsyncConnection, batch_ids: Iterable[int]) -> dict[int, Spent]:
    """The spending of ``batch_ids``, their rows locked until the transaction ends (made when missing)."""
    ids = sorted(set(batch_ids))
    if not ids:
        return {}
    await conn.execute(_ADD, (ids,))
    cursor = await conn.execute(_LOCK, (ids,))
    rows = await cursor.fetchall()
    return {int(row[0]): Spent(int(row[1]), float(row[2]), float(row[3]), row[4]) for row in rows}


async def save(conn: AsyncConnection, spent: Mapping[int, Spent]) -> None:
    """Write the locked batches' new spending."""
    if not spent:
        return
    ids = sorted(spent)
    rows = [spent[batch_id] for batch_id in ids]
    await conn.execute(
        _SAVE,
        (
            ids,
            [s.calls for s in rows],
            [s.call_seconds for s in rows],
            [s.model_tokens for s in rows],
            [s.model_fatal for s in rows],
        ),
    )


async def skip(conn: AsyncConnection, refused: Sequence[tuple[int, str]]) -> list[int]:
    """Skip queued runs with their reasons (their events in the same transaction); returns their ids."""
    if not refused:
        return []
    cursor = await conn.execute(_SKIP, ([run_id for run_id, _ in refused], [reason for _, reason in refused]))
    rows = sorted(await cursor.fetchall())
    await outbox.append(
        conn,
        "run_finished",
        *({"run_id": int(run_id), "attempt": int(attempt), "status": "skipped"} for run_id, attempt in rows),
    )
    return [int(run_id) for run_id, _ in rows]


_Item = tuple[Lease, RunResult, float | None]


async def settle(
    conn: AsyncConnection, items: Sequence[tuple[_Item, Charge | None]], rules: BudgetRules
) -> list[_Item]:
    """In a finishing transaction, before the results are written: lock the runs that will be written
    (their leases still held) and their batches' budgets, add what each used, and return the items with
    the results to store (a later run meeting its batch's fatal model error is stored as skipped)."""
    charged = [(item, charge) for item, charge in items if charge is not None]
    if not charged:
        return [item for item, _ in items]
    leases = [item[0] for item, _ in charged]
    cursor = await conn.execute(
        _HELD, ([x.run_id for x in leases], [x.attempt for x in leases], [x.owner for x in leases])
    )
    held = {int(row[0]) for row in await cursor.fetchall()}
    spent = await lock(conn, (charge.batch_id for (lease, _, _), charge in charged if lease.run_id in held))
    settled: list[_Item] = []
    for (lease, result, duration_ms), charge in items:
        if charge is not None and lease.run_id in held:
            result = rules.settle(lease.run_id, charge, result, spent[charge.batch_id])
        settled.append((lease, result, duration_ms))
    await save(conn, spent)
    return settled

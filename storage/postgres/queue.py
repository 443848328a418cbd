"""Claiming runs from PostgreSQL: the runs table is the queue, shared by any number of workers.

A claim takes up to ``n`` queued runs in one transaction — priority, then FIFO (id) — with
``FOR UPDATE SKIP LOCKED``, so concurrent claimers never wait on or take the same row (the pattern of
River, Oban, graphile-worker, solid_queue and procrastinate). Each claimed run becomes running with its
attempt counted and a lease: an owner and an expiry on the database clock, renewed by ``heartbeat``.

Runs are labelled with their limit keys (``label``) before a claim may take them. Limits (global, per
kind ``kind:<kind>``, per target key such as ``twilio``) are counted from running rows while the claim
holds the ``limit_locks`` rows of the keys of the runs it may take (locked in key order, so claims
never deadlock): two claimers can never both take the last free slot. A run whose key is full is
left queued and the claim looks further down the queue, as the in-process engine parks it. The whole
claim is one statement, the ``callboard_claim`` function (migration 0006), so those rows are held for
the server's work only, never across round trips while a busy worker gets round to its next one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection

from callboard.core.models.dial_intent import DialIntent
from callboard.storage.postgres import budgets, outbox
from callboard.storage.postgres.fence import NOW_TEXT, Lease

DEFAULT_LEASE_S = 30.0
GLOBAL_KEY = "*"

_LOCK_KEYS = "INSERT INTO limit_locks (key) SELECT unnest(%s::text[]) ON CONFLICT DO NOTHING"
_LOCK_ROWS = "SELECT key FROM limit_locks WHERE key = ANY(%s) ORDER BY key FOR UPDATE"
_COUNT_RUNNING = """
SELECT key, count(*) FROM runs CROSS JOIN LATERAL unnest(limit_keys) AS key
WHERE status = 'running' AND key = ANY(%s) GROUP BY key
"""
_COUNT_ALL_RUNNING = "SELECT count(*) FROM runs WHERE status = 'running'"
_CLAIM = """
SELECT * FROM callboard_claim(%(owner)s, %(n)s, %(keys)s::text[], %(caps)s::int[], %(total)s::int,
                              %(lease_s)s::float8, %(budget_kinds)s::text[], %(budget_keys)s::text[],
                              %(channel)s)
"""
# Walks runs_queue (priority DESC, id WHERE status = 'queued'); full keys are filtered on the way. What a
# budget needs to know comes along: a call run's SID or dial intent (a call that may exist) is looked up
# for calls only.
_CANDIDATES = """
SELECT id, limit_keys, batch_id, kind, attempt,
       external_id IS NOT NULL OR (kind = 'call' AND EXISTS (SELECT 1 FROM dial_intents WHERE run_id = id))
FROM runs
WHERE status = 'queued' AND limit_keys <> '{}' AND NOT (limit_keys && %s::text[]) AND id <> ALL(%s::bigint[])
ORDER BY priority DESC, id
LIMIT %s
FOR UPDATE SKIP LOCKED
"""
_TAKE = f"""
WITH claimed AS (
    UPDATE runs SET status = 'running', attempt = attempt + 1, started_at = {NOW_TEXT},
                    lease_owner = %(owner)s, lease_until = now() + make_interval(secs => %(lease_s)s),
                    cancel_requested = FALSE
    WHERE id = ANY(%(ids)s)
    RETURNING id, batch_id, priority, attempt, max_attempts, kind, target, external_id, limit_keys,
              version_id, lease_until
)
SELECT claimed.*, dial_intents.to_number, dial_intents.from_number, dial_intents.created_at,
       test_versions.definition
FROM claimed LEFT JOIN dial_intents ON dial_intents.run_id = claimed.id
LEFT JOIN test_versions ON test_versions.id = claimed.version_id
ORDER BY claimed.priority DESC, claimed.id
"""
_UNLABELLED = """
SELECT runs.id, test_versions.id, test_versions.definition FROM runs
JOIN test_versions ON test_versions.id = runs.version_id
WHERE runs.status = 'queued' AND runs.limit_keys = '{}'
ORDER BY runs.priority DESC, runs.id
LIMIT %s
FOR UPDATE OF runs SKIP LOCKED
"""
_ANY_UNLABELLED = "SELECT EXISTS (SELECT 1 FROM runs WHERE status = 'queued' AND limit_keys = '{}')"
_LABEL = """
UPDATE runs SET limit_keys = ARRAY(SELECT jsonb_array_elements_text(labels.keys))
FROM unnest(%s::bigint[], %s::jsonb[]) AS labels (id, keys)
WHERE runs.id = labels.id AND runs.status = 'queued'
"""
_CALL_IDS = """
SELECT external_id FROM runs
WHERE kind = 'call' AND target = %s AND started_at >= %s AND external_id IS NOT NULL AND id <> %s
"""
_REGISTER = """
INSERT INTO workers (id, host, pid) VALUES (%s, %s, %s)
ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()
"""
_BEAT = "UPDATE workers SET heartbeat_at = now() WHERE id = %s"
_RENEW = """
UPDATE runs SET lease_until = now() + make_interval(secs => %s)
WHERE status = 'running' AND lease_owner = %s AND (%s::bigint[] IS NULL OR id = ANY(%s::bigint[]))
RETURNING id, cancel_requested
"""


async def call_ids_to(conn: AsyncConnection, number: str, since: str, except_run: int) -> frozenset[str]:
    """The call SIDs other runs that started since ``since`` (the store's text time) hold for calls to
    ``number``: what resolving ``except_run``'s dial intent must never take, whichever worker recorded
    them. (A scan of the runs: this happens only when a worker died between a create and its SID.)"""
    cursor = await conn.execute(_CALL_IDS, (number, since, except_run))
    return frozenset(str(row[0]) for row in await cursor.fetchall())


@dataclass(frozen=True)
class Limits:
    """At most ``total`` running runs in all, and ``per_key[key]`` running runs counting against key."""

    total: int | None = None
    per_key: Mapping[str, int] = field(default_factory=dict)

    def keys(self) -> list[str]:
        """The lock rows a claim under these limits takes, in lock order."""
        keys = sorted(self.per_key)
        return [GLOBAL_KEY, *keys] if self.total is not None else keys


@dataclass(frozen=True)
class Claim:
    """A run a worker now holds: execute attempt ``attempt`` of it, writing through a fenced ``Lease``."""

    run_id: int
    batch_id: int
    priority: int
    attempt: int
    max_attempts: int
    kind: str
    target: str
    external_id: str | None  # a call SID: resume watching it, never dial again
    limit_keys: tuple[str, ...]
    version_id: int | None
    lease_until: datetime
    dial_intent: DialIntent | None  # a create that may have gone out: look the call up, never dial again
    owner: str
    definition: str | None = None  # its test version's definition (JSON); None when the version is gone

    def lease(self) -> Lease:
        """The lease to write about this run under."""
        return Lease(self.run_id, self.attempt, self.owner)


@dataclass(frozen=True)
class Heartbeat:
    """What a heartbeat found: the runs the worker still holds, those of them asked to cancel, and
    whether the queue is paused (no new claims)."""

    held: frozenset[int]
    cancel: frozenset[int]
    paused: bool


async def claim(
    conn: AsyncConnection,
    owner: str,
    n: int,
    limits: Limits | None = None,
    lease_s: float = DEFAULT_LEASE_S,
    rules: budgets.BudgetRules | None = None,
) -> list[Claim]:
    """Claim up to ``n`` queued runs for ``owner`` within ``limits``, highest priority first and then in
    queue order; returns them in that order (none when nothing may start, or while the queue is paused).
    With budget ``rules``, a run its batch's budget refuses is skipped with the reason instead, and the
    calls admitted are counted.

    The claim is one statement (``callboard_claim``, migration 0006) on an autocommit connection: its
    limit rows are held for the server's work only. When it meets a run a budget must admit, it stops
    there and the rest is claimed by ``_claim_budgeted`` under the batches' rows."""
    limits = limits or Limits()
    keys = sorted(limits.per_key)
    cursor = await conn.execute(
        _CLAIM,
        {
            "owner": owner,
            "n": n,
            "keys": keys,
            "caps": [limits.per_key[key] for key in keys],
            "total": limits.total,
            "lease_s": lease_s,
            "budget_kinds": list(rules.kinds) if rules is not None else [],
            "budget_keys": list(rules.keys) if rules is not None else [],
            "channel": outbox.EVENTS_CHANNEL,
        },
    )
    rows = await cursor.fetchall()
    claims = [_claim(row, owner) for row in rows if row[0] is not None]
    if rules is not None and len(rows) > len(claims) and len(claims) < n:
        claims += await _claim_budgeted(conn, owner, n - len(claims), limits, lease_s, rules)
    return claims


async def _claim_budgeted(
    conn: AsyncConnection, owner: str, n: int, limits: Limits, lease_s: float, rules: budgets.BudgetRules
) -> list[Claim]:
    """``claim`` from a run its batch's budget must admit on: the batches' rows are locked (in batch
    order) with the rows of every limit, each candidate is admitted or skipped with the budget's reason,
    and the new counts saved, in one transaction. Calls and model runs only come here, and their runs
    last seconds to minutes, so the extra round trips cost little."""
    async with conn.transaction():
        cursor = await conn.execute("SELECT paused FROM queue_control")
        if (await cursor.fetchone() or (False,))[0]:
            return []
        free = await _Free.load(conn, limits)
        chosen: list[int] = []
        refused: list[tuple[int, str]] = []
        spent: dict[int, budgets.Spent] = {}
        # Each round fills the claim, runs out of queue, or finds one more key full (which the next
        # round filters out in SQL): a handful of rounds at most. A round that skipped runs refused by
        # their budget made progress and does not count.
        rounds = 0
        while rounds < len(limits.per_key) + 2:
            wanted = min(n - len(chosen), free.total)
            if wanted <= 0:
                break
            seen = [*chosen, *(run_id for run_id, _ in refused)]
            cursor = await conn.execute(_CANDIDATES, (sorted(free.full), seen, wanted))
            rows = await cursor.fetchall()
            candidates = [_candidate(row) for row in rows]
            budgeted = {c.batch_id for c in candidates if rules.applies(c)} - spent.keys()
            spent |= await budgets.lock(conn, budgeted)
            skipped_before = len(refused)
            for candidate in candidates:
                if not free.admits(candidate.limit_keys):
                    continue
                if rules.applies(candidate):
                    batch = spent[candidate.batch_id]
                    admission = rules.admit(candidate, batch)
                    if admission.refusal is not None:
                        refused.append((candidate.run_id, admission.refusal))
                        continue
                    if admission.dials:
                        batch.calls += 1
                free.take(candidate.limit_keys)
                chosen.append(candidate.run_id)
            if len(rows) < wanted:
                break  # nothing more below the filters
            if len(refused) == skipped_before:
                rounds += 1
        await budgets.skip(conn, refused)
        await budgets.save(conn, spent)
        if not chosen:
            return []
        cursor = await conn.execute(_TAKE, {"owner": owner, "lease_s": lease_s, "ids": chosen})
        claims = [_claim(row, owner) for row in await cursor.fetchall()]
        started = ({"run_id": c.run_id, "attempt": c.attempt, "owner": owner} for c in claims)
        await outbox.append(conn, "run_started", *started)
    return claims


async def label(
    conn: AsyncConnection, keys_of: Callable[[int, str], Sequence[str]], limit: int = 1000
) -> int:
    """Write the limit keys of up to ``limit`` queued runs that have none yet; ``keys_of(version_id,
    definition_json)`` works them out (callboard's own rules, cached by version). A claim only takes
    labelled runs, so no run starts before its limits are known. Workers labelling at once take disjoint
    rows (SKIP LOCKED), so they never wait on or deadlock with one another."""
    # Most claims find every run labelled: one round trip says so, with no transaction to open.
    cursor = await conn.execute(_ANY_UNLABELLED)
    if not (await cursor.fetchone() or (False,))[0]:
        return 0
    async with conn.transaction():
        cursor = await conn.execute(_UNLABELLED, (limit,))
        rows = await cursor.fetchall()
        if not rows:
            return 0
        ids = [int(row[0]) for row in rows]
        keys = [json.dumps(list(keys_of(int(row[1]), str(row[2])))) for row in rows]
        await conn.execute(_LABEL, (ids, keys))
    return len(ids)


async def register(conn: AsyncConnection, owner: str, host: str, pid: int) -> None:
    """Announce a worker (or refresh it): the workers table lists who is claiming."""
    await conn.execute(_REGISTER, (owner, host, pid))


async def heartbeat(
    conn: AsyncConnection, owner: str, lease_s: float = DEFAULT_LEASE_S, run_ids: Sequence[int] | None = None
) -> Heartbeat:
    """Renew the leases ``owner`` still holds — of ``run_ids`` only when given (the runs its worker is
    still executing: a run it dropped, say on a store error, must not be kept alive by its heartbeat;
    its lease then expires and the reaper returns it). A run missing from ``held`` was lost (reaped,
    cancelled or finished elsewhere) and its worker must stop writing about it."""
    ids = None if run_ids is None else list(run_ids)
    async with conn.transaction():
        await conn.execute(_BEAT, (owner,))
        cursor = await conn.execute(_RENEW, (lease_s, owner, ids, ids))
        rows = await cursor.fetchall()
        cursor = await conn.execute("SELECT paused FROM queue_control")
        paused = await cursor.fetchone()
    held = frozenset(int(r[0]) for r in rows)
    return Heartbeat(held, frozenset(int(r[0]) for r in rows if r[1]), bool(paused and paused[0]))


@dataclass
class _Free:
    """The free slots of one claim: what is left globally and per limited key."""

    limits: Limits
    total: int
    running: dict[str, int]
    full: set[str]

    @classmethod
    async def load(cls, conn: AsyncConnection, limits: Limits) -> _Free:
        keys = limits.keys()
        free_total = 1 << 30
        running: dict[str, int] = {}
        if keys:
            await conn.execute(_LOCK_KEYS, (keys,))
            await conn.execute(_LOCK_ROWS, (keys,))
            cursor = await conn.execute(_COUNT_RUNNING, (sorted(limits.per_key),))
            running = {key: int(count) for key, count in await cursor.fetchall()}
        if limits.total is not None:
            cursor = await conn.execute(_COUNT_ALL_RUNNING)
            row = await cursor.fetchone()
            free_total = max(0, limits.total - int(row[0] if row else 0))
        full = {key for key, cap in limits.per_key.items() if running.get(key, 0) >= cap}
        return cls(limits, free_total, running, full)

    def admits(self, keys: Sequence[str]) -> bool:
        return self.total > 0 and not self.full.intersection(keys)

    def take(self, keys: Sequence[str]) -> None:
        self.total -= 1
        for key in keys:
            cap = self.limits.per_key.get(key)
            if cap is not None:
                self.running[key] = self.running.get(key, 0) + 1
                if self.running[key] >= cap:
                    self.full.add(key)


def _candidate(row: Any) -> budgets.Candidate:
    run_id, keys, batch_id, kind, attempt, placed = row
    first_claim = int(attempt) == 0
    return budgets.Candidate(int(run_id), int(batch_id), str(kind), tuple(keys), first_claim, bool(placed))


def _claim(row: Any, owner: str) -> Claim:
    (run_id, batch_id, priority, attempt, max_attempts, kind, target, external_id, keys, version_id,
     lease_until, to_number, from_number, intent_at, definition) = row  # fmt: skip
    intent = None
    if to_number is not None:
        intent = DialIntent(str(to_number), str(from_number), datetime.fromisoformat(str(intent_at)))
    return Claim(
        int(run_id),
        int(batch_id),
        int(priority),
        int(attempt),
        int(max_attempts),
        str(kind),
        str(target),
        None if external_id is None else str(external_id),
        tuple(keys),
        None if version_id is None else int(version_id),
        lease_until,
        intent,
        owner,
        None if definition is None else str(definition),
    )

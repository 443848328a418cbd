-- The queue across machines: the runs table is the queue (claimed with FOR UPDATE SKIP LOCKED), each
-- claim is a lease on the database clock, limits are counted from running rows under a row lock per
-- limited key, rates are GCRA slots, and events are an outbox written in the changing transaction.

-- lease_owner/lease_until: the worker that claimed the run and until when (database clock); a run marked
-- running by the single-process engine has neither, and the reaper never touches it.
-- limit_keys: the limits the run counts against (kind:<kind>, its target's key, llm), worked out from its
-- test by callboard (core.engine.selection) and written by the workers before a claim can take the run;
-- empty until then.
-- cancel_requested: a cancel of a running run, for its owner (a NOTIFY wakes it; its heartbeat reads it).
ALTER TABLE runs
    ADD COLUMN lease_owner      TEXT,
    ADD COLUMN lease_until      TIMESTAMPTZ,
    ADD COLUMN limit_keys       TEXT[]  NOT NULL DEFAULT '{}',
    ADD COLUMN cancel_requested BOOLEAN NOT NULL DEFAULT FALSE;

-- Running rows are few however many runs are stored: the reaper walks them by lease, claims count them
-- per key, heartbeats find a worker's own. (Claims themselves walk runs_queue from 0001.)
CREATE INDEX runs_leases ON runs (lease_until) WHERE status = 'running';
CREATE INDEX runs_by_owner ON runs (lease_owner) WHERE status = 'running';
-- Queued runs still to be labelled with their limit keys (few: workers label them as they come).
CREATE INDEX runs_unlabelled ON runs (priority DESC, id) WHERE status = 'queued' AND limit_keys = '{}';

-- Live workers: one row each, refreshed by its heartbeat; the reaper deletes the silent ones.
CREATE TABLE workers (
    id            TEXT        PRIMARY KEY,
    host          TEXT        NOT NULL,
    pid           INTEGER     NOT NULL,
    started_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    heartbeat_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One row per limited key ('*' is the global limit): a claim locks the rows of the limits it applies, in
-- key order, so two claims never both see the last free slot.
CREATE TABLE limit_locks (
    key  TEXT PRIMARY KEY
);

-- GCRA: the theoretical arrival time of the next conforming request, per key (e.g. 'twilio:cps').
CREATE TABLE rate_slots (
    key  TEXT        PRIMARY KEY,
    tat  TIMESTAMPTZ NOT NULL
);

-- Whether workers may start runs (one row): a pause reaches workers by NOTIFY, and their heartbeat reads
-- it here in case a notification was missed.
CREATE TABLE queue_control (
    only_row  BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
    paused    BOOLEAN NOT NULL DEFAULT FALSE
);

INSERT INTO queue_control DEFAULT VALUES;

-- The events outbox: written in the transaction whose change it reports; xid says which transaction, so
-- readers take only events of transactions older than every one still running (commit-safe order).
CREATE TABLE events (
    id          BIGSERIAL   PRIMARY KEY,
    xid         XID8        NOT NULL DEFAULT pg_current_xact_id(),
    kind        TEXT        NOT NULL,
    payload     JSONB       NOT NULL DEFAULT '{}',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX events_in_commit_order ON events (xid, id);

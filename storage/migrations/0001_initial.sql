-- The initial schema. Timestamps are ISO-8601 UTC text with microseconds ("…+00:00"), so they sort as text.
-- JSON columns hold compact JSON text.

CREATE TABLE tests (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    kind        TEXT    NOT NULL,
    tags        TEXT    NOT NULL DEFAULT '[]',   -- JSON list of strings
    definition  TEXT    NOT NULL,                -- JSON: the suite form of the test (dump_test)
    digest      TEXT    NOT NULL,                -- sha256 of the canonical JSON of the definition
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);

CREATE TABLE schedules (
    id              INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL UNIQUE,
    cron            TEXT,
    interval_s      REAL,
    timezone        TEXT    NOT NULL DEFAULT 'UTC',
    selector        TEXT    NOT NULL DEFAULT '{}',
    enabled         INTEGER NOT NULL DEFAULT 1,
    misfire_grace_s REAL,
    overlap         TEXT    NOT NULL DEFAULT 'skip',
    last_fire_at    TEXT,
    next_fire_at    TEXT,
    created_at      TEXT    NOT NULL,
    CHECK (cron IS NOT NULL OR interval_s IS NOT NULL)
);

CREATE TABLE batches (
    id           INTEGER PRIMARY KEY,
    label        TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    status       TEXT    NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'finished', 'cancelled')),
    priority     INTEGER NOT NULL DEFAULT 0,
    selector     TEXT    NOT NULL DEFAULT '{}',
    schedule_id  INTEGER REFERENCES schedules (id) ON DELETE SET NULL,
    created_at   TEXT    NOT NULL,
    finished_at  TEXT
);

CREATE TABLE runs (
    id             INTEGER PRIMARY KEY,
    batch_id       INTEGER NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
    test_id        INTEGER REFERENCES tests (id) ON DELETE SET NULL,
    test_name      TEXT    NOT NULL,
    test_version   INTEGER NOT NULL,
    kind           TEXT    NOT NULL,
    target         TEXT    NOT NULL DEFAULT '',
    trial          INTEGER NOT NULL DEFAULT 1,
    priority       INTEGER NOT NULL DEFAULT 0,
    status         TEXT    NOT NULL CHECK (
                       status IN ('queued', 'running', 'passed', 'failed', 'error', 'cancelled', 'skipped')
                   ),
    skip_reason    TEXT,
    attempt        INTEGER NOT NULL DEFAULT 0,
    max_attempts   INTEGER NOT NULL DEFAULT 1,
    external_id    TEXT,                          -- e.g. a Twilio call SID: never dial that call again
    queued_at      TEXT    NOT NULL,
    started_at     TEXT,
    finished_at    TEXT,
    duration_ms    REAL,
    score          REAL,
    checks         TEXT    NOT NULL DEFAULT '[]',
    metrics        TEXT    NOT NULL DEFAULT '{}',
    transcript     TEXT    NOT NULL DEFAULT '[]',
    artifacts      TEXT    NOT NULL DEFAULT '{}',
    error_kind     TEXT,
    error_message  TEXT,
    snapshot       TEXT    NOT NULL               -- JSON: the test definition as it ran
);

-- Simulations screen filters; newest first comes from walking these backwards.
CREATE INDEX runs_by_status ON runs (status, id);
CREATE INDEX runs_by_batch ON runs (batch_id, id);
CREATE INDEX runs_by_test ON runs (test_id, id);
-- The engine's queue: only queued rows are in it, so it stays small however many runs are stored.
CREATE INDEX runs_queue ON runs (priority DESC, id) WHERE status = 'queued';
CREATE INDEX batches_by_created ON batches (created_at);
-- Foreign key lookups when a schedule is deleted.
CREATE INDEX batches_by_schedule ON batches (schedule_id);

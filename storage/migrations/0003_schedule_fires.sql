-- Every slot of every schedule that came due, and what became of it. The primary key is what makes a
-- slot fire at most once, across restarts: the row is written before the batch is queued.

CREATE TABLE schedule_fires (
    schedule_id  INTEGER NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    slot         TEXT    NOT NULL,               -- the fire time it was due at, ISO-8601 UTC
    outcome      TEXT    NOT NULL CHECK (outcome IN ('fired', 'missed', 'skipped_overlap', 'manual')),
    batch_id     INTEGER REFERENCES batches (id) ON DELETE SET NULL,
    recorded_at  TEXT    NOT NULL,
    PRIMARY KEY (schedule_id, slot)
) WITHOUT ROWID;

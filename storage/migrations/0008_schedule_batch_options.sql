-- A schedule's batches carry options like any other batch: a priority (added to each test's own) and a
-- number of trials (NULL: each test's own repeat).

ALTER TABLE schedules ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
ALTER TABLE schedules ADD COLUMN repeat INTEGER;

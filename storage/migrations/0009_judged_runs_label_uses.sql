-- Fewer bytes per run (the target is 500) with trends and flaky marks as fast, and a retention that finds
-- unused lists of check labels without reading runs.
--
-- Trends and flaky tests walk each test's newest judged runs (passed, failed or error). 0006 kept those in
-- a covering index of runs, ~43 bytes a run, most of it the test's name and the status as text. They move
-- to a narrow table of their own, kept by the triggers below on every write to runs: the name is a number
-- (run_names) and the verdict 1, 0 or NULL, which SQLite stores in no bytes at all; ~20 bytes a run.
--
-- And SQLite ends every index entry with the rowid (runs.id), so the indexes on (status, id),
-- (batch_id, id) and (test_id, id) stored each run's id twice: the same indexes without the explicit id
-- keep the same order (by id within status, batch, test) and every query plan.

CREATE TABLE run_names (
    id    INTEGER PRIMARY KEY,
    name  TEXT    NOT NULL UNIQUE              -- a test_name some judged run has (or had)
);

CREATE TABLE judged_runs (
    name_id       INTEGER NOT NULL,            -- run_names.id of the run's test_name
    batch_id      INTEGER NOT NULL,
    run_id        INTEGER NOT NULL,            -- runs.id
    passed        INTEGER,                     -- 1 passed, 0 failed, NULL error
    score         REAL,
    test_version  INTEGER NOT NULL,
    PRIMARY KEY (name_id, batch_id, run_id)    -- recency is (batch_id, run_id): each test's newest last
) WITHOUT ROWID;

INSERT INTO run_names (name)
SELECT DISTINCT test_name FROM runs INDEXED BY runs_judged_by_name
WHERE status IN ('passed', 'failed', 'error')
ORDER BY test_name;

INSERT INTO judged_runs (name_id, batch_id, run_id, passed, score, test_version)
SELECT run_names.id, runs.batch_id, runs.id,
       CASE runs.status WHEN 'passed' THEN 1 WHEN 'failed' THEN 0 END, runs.score, runs.test_version
FROM runs INDEXED BY runs_judged_by_name JOIN run_names ON run_names.name = runs.test_name
WHERE runs.status IN ('passed', 'failed', 'error')
ORDER BY run_names.id, runs.batch_id, runs.id;

DROP INDEX runs_judged_by_name;

-- A run becomes judged when it is inserted so (history copied in) or finished so; it leaves when deleted
-- (retention, a deleted batch) or put back in the queue. The upsert makes a repeated write harmless.
CREATE TRIGGER runs_judged_on_insert AFTER INSERT ON runs
WHEN NEW.status IN ('passed', 'failed', 'error') BEGIN
    INSERT INTO run_names (name) VALUES (NEW.test_name) ON CONFLICT (name) DO NOTHING;
    INSERT INTO judged_runs (name_id, batch_id, run_id, passed, score, test_version)
    SELECT id, NEW.batch_id, NEW.id, CASE NEW.status WHEN 'passed' THEN 1 WHEN 'failed' THEN 0 END,
           NEW.score, NEW.test_version
    FROM run_names WHERE name = NEW.test_name
    ON CONFLICT (name_id, batch_id, run_id) DO UPDATE
    SET passed = excluded.passed, score = excluded.score, test_version = excluded.test_version;
END;

CREATE TRIGGER runs_judged_on_finish AFTER UPDATE OF status, score ON runs
WHEN NEW.status IN ('passed', 'failed', 'error') BEGIN
    INSERT INTO run_names (name) VALUES (NEW.test_name) ON CONFLICT (name) DO NOTHING;
    INSERT INTO judged_runs (name_id, batch_id, run_id, passed, score, test_version)
    SELECT id, NEW.batch_id, NEW.id, CASE NEW.status WHEN 'passed' THEN 1 WHEN 'failed' THEN 0 END,
           NEW.score, NEW.test_version
    FROM run_names WHERE name = NEW.test_name
    ON CONFLICT (name_id, batch_id, run_id) DO UPDATE
    SET passed = excluded.passed, score = excluded.score, test_version = excluded.test_version;
END;

CREATE TRIGGER runs_judged_on_unjudge AFTER UPDATE OF status ON runs
WHEN OLD.status IN ('passed', 'failed', 'error') AND NEW.status NOT IN ('passed', 'failed', 'error') BEGIN
    DELETE FROM judged_runs
    WHERE name_id = (SELECT id FROM run_names WHERE name = OLD.test_name)
      AND batch_id = OLD.batch_id AND run_id = OLD.id;
END;

CREATE TRIGGER runs_judged_on_delete AFTER DELETE ON runs
WHEN OLD.status IN ('passed', 'failed', 'error') BEGIN
    DELETE FROM judged_runs
    WHERE name_id = (SELECT id FROM run_names WHERE name = OLD.test_name)
      AND batch_id = OLD.batch_id AND run_id = OLD.id;
END;

DROP INDEX runs_by_status;
CREATE INDEX runs_by_status ON runs (status);
DROP INDEX runs_by_batch;
CREATE INDEX runs_by_batch ON runs (batch_id);
DROP INDEX runs_by_test;
CREATE INDEX runs_by_test ON runs (test_id);

-- Retention deletes the lists of check labels no run names any more. It used to look for a run naming
-- each list with NOT EXISTS over runs.labels_id, which has no index (one would cost every run ~10 bytes):
-- a scan of every run stored for each list that is really gone, with the write lock held. Each list now
-- counts the runs naming it, kept by triggers on every write to runs, so the unused ones are found
-- without reading runs at all.
ALTER TABLE check_labels ADD COLUMN uses INTEGER NOT NULL DEFAULT 0;

UPDATE check_labels SET uses = named.runs
FROM (SELECT labels_id, COUNT(*) AS runs FROM runs WHERE labels_id IS NOT NULL GROUP BY labels_id) AS named
WHERE check_labels.id = named.labels_id;

CREATE TRIGGER runs_labels_on_insert AFTER INSERT ON runs
WHEN NEW.labels_id IS NOT NULL BEGIN
    UPDATE check_labels SET uses = uses + 1 WHERE id = NEW.labels_id;
END;

CREATE TRIGGER runs_labels_on_update AFTER UPDATE OF labels_id ON runs
WHEN NEW.labels_id IS NOT OLD.labels_id BEGIN
    UPDATE check_labels SET uses = uses + 1 WHERE id = NEW.labels_id;
    UPDATE check_labels SET uses = uses - 1 WHERE id = OLD.labels_id;
END;

CREATE TRIGGER runs_labels_on_delete AFTER DELETE ON runs
WHEN OLD.labels_id IS NOT NULL BEGIN
    UPDATE check_labels SET uses = uses - 1 WHERE id = OLD.labels_id;
END;

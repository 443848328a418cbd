-- Runs reference the test version they ran instead of each carrying a copy of its definition, and each
-- test knows its newest finished run, so listing tests with their last result is one scan.
--
-- test_versions holds every definition a test has had since, and every definition an older run was made
-- from, once. A version outlives its test (a deleted test's runs keep theirs) and is never changed:
-- history is never rewritten. tests.version_id is the test's current version.

CREATE TABLE test_versions (
    id          INTEGER PRIMARY KEY,
    test_id     INTEGER,                         -- the test it was made for (no FK: it may be deleted)
    definition  TEXT    NOT NULL                 -- JSON: the suite form of the test (dump_test)
);

CREATE INDEX test_versions_by_test ON test_versions (test_id);

ALTER TABLE tests ADD COLUMN version_id INTEGER REFERENCES test_versions (id);

INSERT INTO test_versions (test_id, definition) SELECT id, definition FROM tests ORDER BY id;

UPDATE tests SET version_id = (SELECT MAX(id) FROM test_versions WHERE test_versions.test_id = tests.id);

-- Old runs' snapshots: those equal to their test's current definition share its version, the others
-- get one version per distinct text.
CREATE INDEX test_versions_by_definition ON test_versions (definition);

INSERT INTO test_versions (test_id, definition)
SELECT MIN(test_id), snapshot FROM runs
WHERE NOT EXISTS (SELECT 1 FROM test_versions WHERE test_versions.definition = runs.snapshot)
GROUP BY snapshot;

ALTER TABLE runs ADD COLUMN version_id INTEGER REFERENCES test_versions (id);

UPDATE runs SET version_id = (
    SELECT MIN(id) FROM test_versions WHERE test_versions.definition = runs.snapshot
);

DROP INDEX test_versions_by_definition;

ALTER TABLE runs DROP COLUMN snapshot;

-- Retention deletes versions no run refers to any more (unless a test still has that definition).
CREATE INDEX runs_by_version ON runs (version_id);

-- Every definition a test takes on becomes a version, whoever writes it.
CREATE TRIGGER tests_version_insert AFTER INSERT ON tests BEGIN
    INSERT INTO test_versions (test_id, definition) VALUES (NEW.id, NEW.definition);
    UPDATE tests SET version_id = last_insert_rowid() WHERE id = NEW.id;
END;

CREATE TRIGGER tests_version_update AFTER UPDATE OF definition ON tests BEGIN
    INSERT INTO test_versions (test_id, definition) VALUES (NEW.id, NEW.definition);
    UPDATE tests SET version_id = last_insert_rowid() WHERE id = NEW.id;
END;

-- The newest final run of each test, kept by the database on every write that finishes a run (the
-- engine's finish, cancel and skip, and runs created already skipped). A narrow table of its own: updating
-- a column of tests would rewrite the test's whole row (its definition too) on every finished run.
CREATE TABLE test_last_runs (
    test_id  INTEGER PRIMARY KEY REFERENCES tests (id) ON DELETE CASCADE,
    run_id   INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO test_last_runs (test_id, run_id)
SELECT test_id, MAX(id) FROM runs
WHERE test_id IS NOT NULL AND status IN ('passed', 'failed', 'error', 'cancelled', 'skipped')
GROUP BY test_id;

CREATE TRIGGER runs_last_on_insert AFTER INSERT ON runs
WHEN NEW.status IN ('passed', 'failed', 'error', 'cancelled', 'skipped') AND NEW.test_id IS NOT NULL BEGIN
    INSERT INTO test_last_runs (test_id, run_id) VALUES (NEW.test_id, NEW.id)
    ON CONFLICT (test_id) DO UPDATE SET run_id = excluded.run_id WHERE excluded.run_id > run_id;
END;

CREATE TRIGGER runs_last_on_finish AFTER UPDATE OF status ON runs
WHEN NEW.status IN ('passed', 'failed', 'error', 'cancelled', 'skipped') AND NEW.test_id IS NOT NULL BEGIN
    INSERT INTO test_last_runs (test_id, run_id) VALUES (NEW.test_id, NEW.id)
    ON CONFLICT (test_id) DO UPDATE SET run_id = excluded.run_id WHERE excluded.run_id > run_id;
END;

-- A run's checks are stored without what runs repeat: each check's name, expected value and weight (its
-- label) are kept once per distinct list of labels, here (a suite's tests mostly share a few such lists),
-- and runs.checks then holds, per check, [passed (1/0), actual, message], the last two only when set,
-- with runs.labels_id naming the list. Both forms are read back as the same checks. Runs stored before
-- this migration keep their whole checks and no labels_id (history is never rewritten). Retention
-- deletes the lists no run names any more.

CREATE TABLE check_labels (
    id      INTEGER PRIMARY KEY,
    labels  TEXT    NOT NULL UNIQUE        -- JSON: [{"name", "expected"?, "weight"?}, ...] in check order
);

-- No foreign key: deleting an unused list would otherwise check every run (there is no index on it).
ALTER TABLE runs ADD COLUMN labels_id INTEGER;

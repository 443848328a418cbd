-- Trends and flaky tests read each test's newest judged runs (passed, failed or error): this index
-- holds just those, by test name then recency (batch, then run), with what the aggregates need
-- (status, score, test version), so each test's newest batches are a short walk backwards in the index
-- instead of a scan of every run stored. Queries use it only with the very same status condition.
CREATE INDEX runs_judged_by_name ON runs (test_name, batch_id, id, status, score, test_version)
WHERE status IN ('passed', 'failed', 'error');

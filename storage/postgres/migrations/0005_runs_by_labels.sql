-- Retention drops the lists of check labels no run names any more: NOT EXISTS over runs.labels_id for
-- each list the pruned runs named, which without this index is a scan of every run per list.
CREATE INDEX runs_by_labels ON runs (labels_id) WHERE labels_id IS NOT NULL;

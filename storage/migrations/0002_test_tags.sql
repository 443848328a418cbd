-- Tags as rows, so that "tests tagged X" is an index lookup instead of a JSON scan of every test.

CREATE TABLE test_tags (
    test_id  INTEGER NOT NULL REFERENCES tests (id) ON DELETE CASCADE,
    tag      TEXT    NOT NULL,
    PRIMARY KEY (tag, test_id)
) WITHOUT ROWID;

CREATE INDEX test_tags_by_test ON test_tags (test_id);

INSERT OR IGNORE INTO test_tags (test_id, tag)
SELECT tests.id, tag.value FROM tests, json_each(tests.tags) AS tag;

-- Triggers keep test_tags in step with tests.tags on every write, whoever writes.
CREATE TRIGGER tests_tags_insert AFTER INSERT ON tests BEGIN
    INSERT OR IGNORE INTO test_tags (test_id, tag) SELECT NEW.id, value FROM json_each(NEW.tags);
END;

CREATE TRIGGER tests_tags_update AFTER UPDATE OF tags ON tests BEGIN
    DELETE FROM test_tags WHERE test_id = NEW.id;
    INSERT OR IGNORE INTO test_tags (test_id, tag) SELECT NEW.id, value FROM json_each(NEW.tags);
END;

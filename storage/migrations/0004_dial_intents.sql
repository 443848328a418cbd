-- A call a run is about to place, committed before the create request goes out (the call SID follows in
-- runs.external_id). After a crash, a run with an intent but no SID is looked up on the account's calls
-- instead of being dialled again. One row per call run at most; only call runs ever have one.

CREATE TABLE dial_intents (
    run_id       INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    to_number    TEXT    NOT NULL,
    from_number  TEXT    NOT NULL,
    created_at   TEXT    NOT NULL               -- when the create was about to go out, ISO-8601 UTC
);

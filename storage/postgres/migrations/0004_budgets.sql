-- Per-batch budgets across workers: what each batch has spent on calls and on the model, so that
-- twilio.batch_max_calls / batch_max_minutes and llm.batch_max_tokens hold however many workers run it.
-- A claim locks its batches' rows (FOR UPDATE) while it decides and counts; a finish adds what the run
-- used in the transaction that writes its result. Rows go with their batch.
CREATE TABLE batch_budgets (
    batch_id      BIGINT           PRIMARY KEY REFERENCES batches (id) ON DELETE CASCADE,
    calls         INTEGER          NOT NULL DEFAULT 0,  -- calls admitted (each run counted once)
    call_seconds  DOUBLE PRECISION NOT NULL DEFAULT 0,  -- the ended calls' durations
    model_tokens  DOUBLE PRECISION NOT NULL DEFAULT 0,  -- prompt + completion tokens of ended runs
    model_fatal   TEXT                                  -- the batch's first fatal model error, as said
);

-- A claim in one round trip: storage/postgres/queue.py's `claim` calls callboard_claim as one autocommit
-- statement, so the limit rows it locks are held for the server's work only — never across round trips
-- while a worker's event loop is busy running tests (which made claims queue behind each other: every
-- worker added made all of them slower).
--
-- Why a function and not one SQL statement: a statement sees one snapshot, so after waiting for another
-- claim's limit row it would still count that claim's runs as queued and take the last free slot again.
-- Each statement of a PL/pgSQL function takes a fresh snapshot (READ COMMITTED), so the running rows are
-- counted after the limit row is held, as the multi-statement claim did.
--
-- Only the limit rows of the runs a claim may take are locked (not every configured limit): claims of
-- HTTP runs no longer wait for claims of calls. The first round's keys are locked in key order (waiting);
-- a later round's new keys are taken with SKIP LOCKED (a key another claim holds is passed over this
-- time), so claims never deadlock.
--
-- A run its batch's budget must admit (p_budget_kinds / p_budget_keys, when not yet placed) stops the
-- claim at that run, in queue order; the result then ends with a marker row (id NULL), and the caller
-- claims the rest with the budget rules (callboard's own, in Python).
CREATE FUNCTION callboard_claim(
    p_owner         TEXT,
    p_n             INTEGER,
    p_keys          TEXT[],            -- limited keys
    p_caps          INTEGER[],         -- their concurrency caps, in the same order
    p_total         INTEGER,           -- the global cap (key '*'), NULL for none
    p_lease_s       DOUBLE PRECISION,
    p_budget_kinds  TEXT[],
    p_budget_keys   TEXT[],
    p_channel       TEXT               -- the outbox's NOTIFY channel
) RETURNS TABLE (
    id            BIGINT,
    batch_id      BIGINT,
    priority      INTEGER,
    attempt       INTEGER,
    max_attempts  INTEGER,
    kind          TEXT,
    target        TEXT,
    external_id   TEXT,
    limit_keys    TEXT[],
    version_id    BIGINT,
    lease_until   TIMESTAMPTZ,
    to_number     TEXT,
    from_number   TEXT,
    intent_at     TEXT,
    definition    TEXT               -- the test version's definition: no round trip per run to fetch it
)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_chosen  BIGINT[] := '{}';
    v_seen    BIGINT[] := '{}';
    v_ids     BIGINT[];
    v_need    TEXT[];
    v_got     TEXT[];
    v_closed  TEXT[] := '{}';   -- keys no run may be taken for now: full, or held by another claim
    v_left    INTEGER[] := array_fill(NULL::INTEGER, ARRAY[cardinality(p_keys)]);
    v_total   INTEGER := 1 << 30;
    v_wanted  INTEGER;
    v_rounds  INTEGER := 0;
    v_stop    BOOLEAN := FALSE;
    v_first   BOOLEAN := TRUE;
    v_i       INTEGER;
    v_key     TEXT;
    v_count   BIGINT;
    v_cand    RECORD;
BEGIN
    IF (SELECT paused FROM queue_control) THEN
        RETURN;
    END IF;
    -- Limit rows are made once, before any lock is held.
    INSERT INTO limit_locks (key)
    SELECT k FROM unnest(p_keys || CASE WHEN p_total IS NULL THEN '{}'::TEXT[] ELSE ARRAY['*'] END) AS k
    WHERE NOT EXISTS (SELECT 1 FROM limit_locks WHERE limit_locks.key = k)
    ON CONFLICT DO NOTHING;

    -- Each round fills the claim, runs out of queue, or finds one more key full or held (which the next
    -- round filters out): a handful of rounds at most.
    LOOP
        v_wanted := least(p_n - cardinality(v_chosen), v_total);
        EXIT WHEN v_wanted <= 0;
        SELECT coalesce(array_agg(c.id ORDER BY c.priority DESC, c.id), '{}') INTO v_ids FROM (
            SELECT runs.id, runs.priority FROM runs
            WHERE runs.status = 'queued' AND runs.limit_keys <> '{}'
              AND NOT (runs.limit_keys && v_closed) AND runs.id <> ALL (v_seen)
            ORDER BY runs.priority DESC, runs.id
            LIMIT v_wanted
            FOR UPDATE SKIP LOCKED
        ) AS c;
        EXIT WHEN cardinality(v_ids) = 0;
        v_seen := v_seen || v_ids;

        SELECT coalesce(array_agg(DISTINCT k), '{}') INTO v_need
        FROM runs CROSS JOIN LATERAL unnest(runs.limit_keys) AS k
        WHERE runs.id = ANY (v_ids) AND k = ANY (p_keys)
          AND v_left[array_position(p_keys, k)] IS NULL AND NOT k = ANY (v_closed);
        IF v_first AND p_total IS NOT NULL THEN
            v_need := v_need || ARRAY['*'];
        END IF;
        IF v_first THEN
            SELECT coalesce(array_agg(l.key), '{}') INTO v_got FROM (
                SELECT limit_locks.key FROM limit_locks WHERE limit_locks.key = ANY (v_need)
                ORDER BY limit_locks.key FOR UPDATE
            ) AS l;
        ELSE
            SELECT coalesce(array_agg(l.key), '{}') INTO v_got FROM (
                SELECT limit_locks.key FROM limit_locks WHERE limit_locks.key = ANY (v_need)
                ORDER BY limit_locks.key FOR UPDATE SKIP LOCKED
            ) AS l;
            v_closed := v_closed || ARRAY(SELECT unnest(v_need) EXCEPT SELECT unnest(v_got));
        END IF;
        -- Counted after the rows are held: every claim that held them before has committed.
        FOREACH v_key IN ARRAY v_got LOOP
            v_i := array_position(p_keys, v_key);
            IF v_i IS NOT NULL THEN
                v_left[v_i] := p_caps[v_i];
            END IF;
        END LOOP;
        FOR v_key, v_count IN
            SELECT k, count(*) FROM runs CROSS JOIN LATERAL unnest(runs.limit_keys) AS k
            WHERE runs.status = 'running' AND k = ANY (v_got) AND k = ANY (p_keys)
            GROUP BY k
        LOOP
            v_i := array_position(p_keys, v_key);
            v_left[v_i] := v_left[v_i] - v_count::INTEGER;
        END LOOP;
        IF v_first AND p_total IS NOT NULL THEN
            v_total := greatest(0, p_total - (SELECT count(*) FROM runs WHERE runs.status = 'running')::INTEGER);
        END IF;
        FOREACH v_key IN ARRAY v_got LOOP
            v_i := array_position(p_keys, v_key);
            IF v_i IS NOT NULL AND v_left[v_i] <= 0 THEN
                v_closed := v_closed || v_key;
            END IF;
        END LOOP;
        v_first := FALSE;

        FOR v_cand IN
            SELECT runs.id, runs.limit_keys, runs.kind,
                   runs.external_id IS NOT NULL OR (runs.kind = 'call' AND EXISTS (
                       SELECT 1 FROM dial_intents WHERE dial_intents.run_id = runs.id)) AS placed
            FROM runs WHERE runs.id = ANY (v_ids)
            ORDER BY runs.priority DESC, runs.id
        LOOP
            EXIT WHEN v_total <= 0;
            CONTINUE WHEN v_cand.limit_keys && v_closed;
            IF NOT v_cand.placed
               AND (v_cand.kind = ANY (p_budget_kinds) OR v_cand.limit_keys && p_budget_keys) THEN
                v_stop := TRUE;
                EXIT;
            END IF;
            v_chosen := v_chosen || v_cand.id;
            v_total := v_total - 1;
            FOREACH v_key IN ARRAY v_cand.limit_keys LOOP
                v_i := array_position(p_keys, v_key);
                IF v_i IS NOT NULL THEN
                    v_left[v_i] := v_left[v_i] - 1;
                    IF v_left[v_i] <= 0 THEN
                        v_closed := v_closed || v_key;
                    END IF;
                END IF;
            END LOOP;
        END LOOP;
        EXIT WHEN v_stop OR cardinality(v_ids) < v_wanted;
        v_rounds := v_rounds + 1;
        EXIT WHEN v_rounds >= cardinality(p_keys) + 2;
    END LOOP;

    IF cardinality(v_chosen) > 0 THEN
        -- started_at is the store's text time (storage/postgres/fence.py NOW_TEXT).
        RETURN QUERY
        WITH claimed AS (
            UPDATE runs SET status = 'running', attempt = runs.attempt + 1,
                            started_at = to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'),
                            lease_owner = p_owner, lease_until = now() + make_interval(secs => p_lease_s),
                            cancel_requested = FALSE
            WHERE runs.id = ANY (v_chosen)
            RETURNING runs.id, runs.batch_id, runs.priority, runs.attempt, runs.max_attempts, runs.kind,
                      runs.target, runs.external_id, runs.limit_keys, runs.version_id, runs.lease_until
        ), started AS (
            INSERT INTO events (kind, payload)
            SELECT 'run_started', jsonb_build_object('run_id', c.id, 'attempt', c.attempt, 'owner', p_owner)
            FROM claimed AS c ORDER BY c.priority DESC, c.id
        )
        SELECT c.id, c.batch_id, c.priority, c.attempt, c.max_attempts, c.kind, c.target, c.external_id,
               c.limit_keys, c.version_id, c.lease_until, d.to_number, d.from_number, d.created_at,
               v.definition
        FROM claimed AS c LEFT JOIN dial_intents AS d ON d.run_id = c.id
        LEFT JOIN test_versions AS v ON v.id = c.version_id
        ORDER BY c.priority DESC, c.id;
        PERFORM pg_notify(p_channel, '');
    END IF;
    IF v_stop THEN
        RETURN QUERY SELECT NULL::BIGINT, NULL::BIGINT, NULL::INTEGER, NULL::INTEGER, NULL::INTEGER,
                            NULL::TEXT, NULL::TEXT, NULL::TEXT, NULL::TEXT[], NULL::BIGINT,
                            NULL::TIMESTAMPTZ, NULL::TEXT, NULL::TEXT, NULL::TEXT, NULL::TEXT;
    END IF;
END;
$$;

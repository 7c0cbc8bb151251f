-- Bounded events and snapshots (issue 6: "the database grows without bound").
--
-- events:
--   repeat_count / last_seen_at: an event identical to its basket's most
--     recent event of the same kind (same level and message) is not a new
--     row: that row's repeat_count goes up and last_seen_at is set
--     (store::events::insert). last_seen_at is NULL for an event seen once.
--   pinned: never deleted by retention: an error event of a basket and the
--     basket's last plan input ("cycle" event) written before it.
--   No table rewrite: the new columns have constant defaults or none.
ALTER TABLE events
    ADD COLUMN repeat_count BIGINT NOT NULL DEFAULT 1 CHECK (repeat_count >= 1),
    ADD COLUMN last_seen_at TIMESTAMPTZ NULL,
    ADD COLUMN pinned BOOLEAN NOT NULL DEFAULT false;

-- The basket's most recent event of a kind: the collapse lookup, and the
-- per-basket "keep the last N plan inputs" pruning (one index range each).
CREATE INDEX idx_events_basket_kind ON events (basket_id, kind, id DESC);
-- Events repeated recently: the dashboard lists events by when last seen.
CREATE INDEX idx_events_seen ON events (last_seen_at DESC, id DESC)
    WHERE last_seen_at IS NOT NULL;
-- The retention pass's age range (pinned rows are never candidates).
CREATE INDEX idx_events_prunable ON events (created_at, id) WHERE NOT pinned;

-- One row per periodic maintenance task, shared by every worker: a worker
-- runs the task only when it moves `started_at` forward past the interval
-- (one conditional UPDATE), so several workers run it once per interval.
CREATE TABLE maintenance_runs (
    task        VARCHAR(50)  PRIMARY KEY,
    -- when the last pass was claimed
    started_at  TIMESTAMPTZ  NOT NULL,
    worker_id   VARCHAR(100) NULL,
    -- start of the last pass that finished all its work (NULL: none yet):
    -- the next pass only looks at what changed since (minus a margin)
    done_from   TIMESTAMPTZ  NULL,
    done_at     TIMESTAMPTZ  NULL,
    -- what the last finished pass did (counts), for operators
    report      JSONB        NULL
);

INSERT INTO maintenance_runs (task, started_at) VALUES ('retention', '-infinity');

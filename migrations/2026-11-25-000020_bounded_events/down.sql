DROP TABLE maintenance_runs;
DROP INDEX idx_events_prunable;
DROP INDEX idx_events_seen;
DROP INDEX idx_events_basket_kind;
ALTER TABLE events
    DROP COLUMN pinned,
    DROP COLUMN last_seen_at,
    DROP COLUMN repeat_count;

-- Prometheus metrics (GET /metrics on the dashboard, docs/metrics.md).
--
-- 1. baskets.fills_count: the number of fills rows of the basket, kept by
--    statement-level triggers on fills (whatever writes them), so a scrape
--    reads one number per basket instead of counting fills.
ALTER TABLE baskets ADD COLUMN fills_count BIGINT NOT NULL DEFAULT 0
    CHECK (fills_count >= 0);

UPDATE baskets b SET fills_count = f.n
FROM (SELECT basket_id, count(*) AS n FROM fills GROUP BY basket_id) f
WHERE f.basket_id = b.id;

CREATE FUNCTION baskets_count_fills_inserted() RETURNS trigger AS $$
BEGIN
    UPDATE baskets b SET fills_count = b.fills_count + n.n
    FROM (SELECT basket_id, count(*) AS n FROM inserted_fills GROUP BY basket_id) n
    WHERE b.id = n.basket_id;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION baskets_count_fills_deleted() RETURNS trigger AS $$
BEGIN
    UPDATE baskets b SET fills_count = b.fills_count - n.n
    FROM (SELECT basket_id, count(*) AS n FROM deleted_fills GROUP BY basket_id) n
    WHERE b.id = n.basket_id;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER fills_count_insert AFTER INSERT ON fills
    REFERENCING NEW TABLE AS inserted_fills
    FOR EACH STATEMENT EXECUTE FUNCTION baskets_count_fills_inserted();

CREATE TRIGGER fills_count_delete AFTER DELETE ON fills
    REFERENCING OLD TABLE AS deleted_fills
    FOR EACH STATEMENT EXECUTE FUNCTION baskets_count_fills_deleted();

-- 2. bot_status.metrics: what only the worker knows, written with its
--    heartbeat (store::misc::WorkerMetrics): the cycle-duration histogram,
--    errors by kind, the request-weight limit and the fill-feed state.
--    NULL until a worker of this version has written it.
ALTER TABLE bot_status ADD COLUMN metrics JSONB NULL;

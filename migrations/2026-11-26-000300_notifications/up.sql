-- Notifications with an outbox (issue 14 part 2; README "Notifications",
-- docs/design.md "Notifications").
--
-- A notification is written by a trigger in the transaction of the change it
-- reports (a fill, a basket's status, a repeated rejection, an emergency
-- close's progress), whoever writes the change (worker, command, CLI), or by
-- the sender itself for what no change reports (heartbeat stale, daily
-- summary: `dedupe_key` makes two processes detecting the same thing write
-- one row). `notify_enqueue` writes one delivery row per channel registered
-- at that moment whose categories include the notification's, in the same
-- transaction. While no registered channel takes the category nothing is
-- written at all (a database without channels pays nothing), so what
-- happened before a channel was first registered is never sent on it.

CREATE TABLE notifications (
    id          BIGSERIAL    PRIMARY KEY,
    -- fill, take_profit, trail_stop, basket_completed, basket_reanchored,
    -- basket_closed, basket_stopped, basket_stopping, basket_closing,
    -- basket_error, order_rejected_repeatedly, close_all_progress,
    -- heartbeat_stale, heartbeat_back, daily_summary
    kind        VARCHAR(50)  NOT NULL,
    category    VARCHAR(20)  NOT NULL
        CHECK (category IN ('fills', 'closes', 'errors', 'daily')),
    -- no foreign key: a notification is a record of what was said
    basket_id   BIGINT       NULL,
    symbol      VARCHAR(20)  NULL,
    -- the facts the text is made of (decimals as strings, exactly)
    data        JSONB        NOT NULL DEFAULT '{}'::jsonb,
    dedupe_key  TEXT         NULL UNIQUE,
    created_at  TIMESTAMPTZ  NOT NULL DEFAULT now()
);

-- The retention pass's age range.
CREATE INDEX idx_notifications_created ON notifications (created_at, id);

-- The channels a sender (the web process) has configured, with the
-- categories BOT_NOTIFY lets through; registered at its start.
CREATE TABLE notification_channels (
    channel        VARCHAR(20)  PRIMARY KEY CHECK (channel IN ('telegram', 'webhook')),
    categories     TEXT[]       NOT NULL,
    registered_at  TIMESTAMPTZ  NOT NULL DEFAULT now(),
    last_seen_at   TIMESTAMPTZ  NOT NULL DEFAULT now()
);

-- One row per (notification, channel). A sender claims a due pending row
-- with FOR UPDATE SKIP LOCKED and keeps that row lock while its one request
-- is in flight (bounded by the request timeout): a killed sender's lock goes
-- with its connection, so the row is claimable again at once, and two
-- senders never send the same row at the same time. The outcome is committed
-- right after the answer.
CREATE TABLE notification_deliveries (
    notification_id  BIGINT       NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    channel          VARCHAR(20)  NOT NULL,
    state            VARCHAR(10)  NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'delivered', 'failed')),
    -- requests whose outcome was recorded
    attempts         INTEGER      NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at  TIMESTAMPTZ  NOT NULL DEFAULT now(),
    -- never a token or a webhook URL (the sender redacts them)
    last_error       TEXT         NULL,
    delivered_at     TIMESTAMPTZ  NULL,
    PRIMARY KEY (notification_id, channel)
);

-- A channel's due rows, oldest first: one index range per claim.
CREATE INDEX idx_deliveries_pending ON notification_deliveries (channel, next_attempt_at, notification_id)
    WHERE state = 'pending';
-- Given-up deliveries per channel (the dashboard's and /metrics' count).
CREATE INDEX idx_deliveries_failed ON notification_deliveries (channel) WHERE state = 'failed';

CREATE FUNCTION notify_enqueue(p_kind TEXT, p_category TEXT, p_basket_id BIGINT,
                               p_symbol TEXT, p_data JSONB, p_dedupe_key TEXT)
RETURNS BIGINT AS $$
DECLARE
    nid BIGINT;
BEGIN
    -- Nobody to tell: nothing is written (a database without channels does
    -- not pay for notifications).
    IF NOT EXISTS (SELECT 1 FROM notification_channels c WHERE p_category = ANY (c.categories)) THEN
        RETURN NULL;
    END IF;
    INSERT INTO notifications (kind, category, basket_id, symbol, data, dedupe_key)
    VALUES (p_kind, p_category, p_basket_id, p_symbol, COALESCE(p_data, '{}'::jsonb), p_dedupe_key)
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING id INTO nid;
    IF nid IS NOT NULL THEN
        INSERT INTO notification_deliveries (notification_id, channel)
        SELECT nid, c.channel FROM notification_channels c
        WHERE p_category = ANY (c.categories);
    END IF;
    RETURN nid;
END;
$$ LANGUAGE plpgsql;

-- Fills: one notification per fill, in trade-id order, set-based.
CREATE FUNCTION notify_fills_inserted() RETURNS trigger AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM notification_channels c WHERE 'fills' = ANY (c.categories)) THEN
        RETURN NULL;
    END IF;
    WITH n AS (
        INSERT INTO notifications (kind, category, basket_id, symbol, data)
        SELECT CASE f.role WHEN 'TP1' THEN 'take_profit' WHEN 'TP2' THEN 'take_profit'
                           WHEN 'TRAIL' THEN 'trail_stop' ELSE 'fill' END,
               'fills', f.basket_id, f.symbol,
               jsonb_build_object(
                   'trade_id', f.exchange_trade_id,
                   'order_id', f.exchange_order_id,
                   'client_order_id', f.client_order_id,
                   'role', f.role,
                   'side', f.side,
                   'price', f.price::text,
                   'quantity', f.quantity::text,
                   'quote_qty', f.quote_qty::text,
                   'realized_pnl', f.realized_pnl::text,
                   'base_asset', b.base_asset,
                   'quote_asset', b.quote_asset,
                   'executed_at', f.executed_at)
        FROM inserted_fills f JOIN baskets b ON b.id = f.basket_id
        ORDER BY f.basket_id, f.exchange_trade_id
        RETURNING id, category)
    INSERT INTO notification_deliveries (notification_id, channel)
    SELECT n.id, c.channel FROM n JOIN notification_channels c ON n.category = ANY (c.categories);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER fills_notify AFTER INSERT ON fills
    REFERENCING NEW TABLE AS inserted_fills
    FOR EACH STATEMENT EXECUTE FUNCTION notify_fills_inserted();

-- An emergency close (`close_all`) has finished when its command is done,
-- every `close_basket` command it queued is finished and none of their
-- baskets is still `closing`. Checked by each writer that may finish it,
-- serialised per close_all by an advisory lock so that of two writers
-- finishing the last two baskets at once the second sees the first's commit.
CREATE FUNCTION notify_close_all_check(p_parent BIGINT) RETURNS void AS $$
DECLARE
    parent   commands%ROWTYPE;
    waiting  BIGINT;
    summary  JSONB;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('notify/close_all/' || p_parent, 0));
    SELECT * INTO parent FROM commands WHERE id = p_parent AND kind = 'close_all';
    IF NOT FOUND OR parent.status <> 'done' THEN
        RETURN;
    END IF;
    SELECT count(*) FILTER (WHERE c.status IN ('pending', 'running') OR b.status = 'closing'),
           COALESCE(jsonb_agg(jsonb_build_object('basket_id', b.id, 'symbol', b.symbol,
                                                 'status', b.status, 'command_status', c.status)
                              ORDER BY b.id), '[]'::jsonb)
    INTO waiting, summary
    FROM commands c LEFT JOIN baskets b ON b.id = c.basket_id
    WHERE c.id IN (SELECT (jsonb_array_elements_text(COALESCE(parent.result->'queued', '[]'::jsonb)))::bigint);
    IF waiting = 0 THEN
        PERFORM notify_enqueue('close_all_progress', 'closes', NULL, NULL,
            jsonb_build_object('phase', 'finished', 'command', p_parent, 'baskets', summary),
            'close_all/' || p_parent || '/finished');
    END IF;
END;
$$ LANGUAGE plpgsql;

-- Baskets: status changes worth telling, and an emergency close's end.
CREATE FUNCTION notify_baskets_changed() RETURNS trigger AS $$
DECLARE
    k     TEXT;
    cat   TEXT := 'closes';
    par   BIGINT;
BEGIN
    IF NEW.status IS DISTINCT FROM OLD.status THEN
        k := CASE NEW.status
            WHEN 'closed' THEN CASE NEW.closed_reason
                WHEN 'completed' THEN 'basket_completed'
                WHEN 'reanchored' THEN 'basket_reanchored'
                ELSE 'basket_closed' END
            WHEN 'emergency_closed' THEN 'basket_closed'
            WHEN 'stopped' THEN 'basket_stopped'
            WHEN 'stopping' THEN 'basket_stopping'
            WHEN 'closing' THEN 'basket_closing'
            WHEN 'error' THEN 'basket_error'
            ELSE NULL END;
        IF NEW.status = 'error' THEN
            cat := 'errors';
        END IF;
        IF k IS NOT NULL THEN
            PERFORM notify_enqueue(k, cat, NEW.id, NEW.symbol, jsonb_build_object(
                'from', OLD.status, 'to', NEW.status, 'reason', NEW.closed_reason,
                'anchor', NEW.anchor_price::text, 'position', NEW.pos::text,
                'realized', NEW.realized::text, 'fees', NEW.fees::text,
                'sells', NEW.sells, 'wins', NEW.wins, 'losses', NEW.losses,
                'base_asset', NEW.base_asset, 'quote_asset', NEW.quote_asset), NULL);
        END IF;
        IF OLD.status = 'closing' THEN
            SELECT (payload->>'parent')::bigint INTO par FROM commands
            WHERE basket_id = NEW.id AND kind = 'close_basket' AND payload ? 'parent'
            ORDER BY id DESC LIMIT 1;
            IF par IS NOT NULL THEN
                PERFORM notify_close_all_check(par);
            END IF;
        END IF;
    ELSIF NEW.anchor_price IS DISTINCT FROM OLD.anchor_price THEN
        PERFORM notify_enqueue('basket_reanchored', 'closes', NEW.id, NEW.symbol, jsonb_build_object(
            'from_anchor', OLD.anchor_price::text, 'anchor', NEW.anchor_price::text,
            'base_asset', NEW.base_asset, 'quote_asset', NEW.quote_asset), NULL);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER baskets_notify AFTER UPDATE OF status, anchor_price ON baskets
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.anchor_price IS DISTINCT FROM NEW.anchor_price)
    EXECUTE FUNCTION notify_baskets_changed();

-- Commands: an emergency close's start (its close_all done: the baskets it
-- queued) or failure, and its end when its last close_basket finishes.
CREATE FUNCTION notify_commands_finished() RETURNS trigger AS $$
DECLARE
    baskets_json JSONB;
BEGIN
    IF NEW.kind = 'close_all' AND NEW.status = 'done' THEN
        SELECT COALESCE(jsonb_agg(jsonb_build_object('basket_id', c.basket_id, 'symbol', b.symbol)
                                  ORDER BY c.basket_id), '[]'::jsonb)
        INTO baskets_json
        FROM commands c LEFT JOIN baskets b ON b.id = c.basket_id
        WHERE c.id IN (SELECT (jsonb_array_elements_text(COALESCE(NEW.result->'queued', '[]'::jsonb)))::bigint);
        PERFORM notify_enqueue('close_all_progress', 'closes', NULL, NULL,
            jsonb_build_object('phase', 'started', 'command', NEW.id, 'baskets', baskets_json),
            'close_all/' || NEW.id || '/started');
        PERFORM notify_close_all_check(NEW.id);
    ELSIF NEW.kind = 'close_all' AND NEW.status = 'failed' THEN
        PERFORM notify_enqueue('close_all_progress', 'errors', NULL, NULL,
            jsonb_build_object('phase', 'failed', 'command', NEW.id, 'error', NEW.error),
            'close_all/' || NEW.id || '/failed');
    ELSIF NEW.kind = 'close_basket' AND NEW.payload ? 'parent' THEN
        PERFORM notify_close_all_check((NEW.payload->>'parent')::bigint);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER commands_notify_close_all AFTER UPDATE OF status ON commands
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status AND NEW.status IN ('done', 'failed')
          AND NEW.kind IN ('close_all', 'close_basket'))
    EXECUTE FUNCTION notify_commands_finished();

-- Events: a create the exchange keeps rejecting. The worker writes one
-- `create_rejected` event per streak of rejections (and again when the
-- exchange's message changes); identical ones collapse into one row whose
-- repeat_count goes up (store::events). Told once when that count reaches 3,
-- or when an event reports a streak of 3 attempts or more.
CREATE FUNCTION notify_events_changed() RETURNS trigger AS $$
DECLARE
    sym TEXT;
    attempts_new BIGINT := 0;
    attempts_old BIGINT := 0;
BEGIN
    IF jsonb_typeof(NEW.data->'attempts') = 'number' THEN
        attempts_new := (NEW.data->>'attempts')::numeric::bigint;
    END IF;
    IF TG_OP = 'UPDATE' AND jsonb_typeof(OLD.data->'attempts') = 'number' THEN
        attempts_old := (OLD.data->>'attempts')::numeric::bigint;
    END IF;
    IF (TG_OP = 'UPDATE' AND OLD.repeat_count < 3 AND NEW.repeat_count >= 3)
       OR (attempts_new >= 3 AND attempts_old < 3) THEN
        SELECT symbol INTO sym FROM baskets WHERE id = NEW.basket_id;
        PERFORM notify_enqueue('order_rejected_repeatedly', 'errors', NEW.basket_id, sym,
            jsonb_build_object('event_id', NEW.id, 'message', NEW.message,
                               'repeat_count', NEW.repeat_count,
                               'role', NEW.data->'role',
                               'client_order_id', NEW.data->'client_order_id',
                               'attempts', NEW.data->'attempts'), NULL);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER events_notify AFTER INSERT OR UPDATE ON events
    FOR EACH ROW WHEN (NEW.kind = 'create_rejected')
    EXECUTE FUNCTION notify_events_changed();

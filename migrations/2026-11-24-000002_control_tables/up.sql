-- The web -> daemon command queue, the audit log, daemon heartbeats and last prices.

CREATE TABLE commands (
    id               BIGSERIAL PRIMARY KEY,
    kind             VARCHAR(20)   NOT NULL
        CHECK (kind IN ('close_all', 'close_basket', 'pause', 'resume', 'reanchor', 'create_basket')),
    basket_id        BIGINT        NULL REFERENCES baskets (id),
    payload          JSONB         NOT NULL DEFAULT '{}'::jsonb,
    idempotency_key  VARCHAR(200)  NOT NULL UNIQUE,
    status           VARCHAR(10)   NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'running', 'done', 'failed')),
    result           JSONB         NULL,
    error            TEXT          NULL,
    created_at       TIMESTAMPTZ   NOT NULL DEFAULT now(),
    claimed_by       VARCHAR(100)  NULL,
    started_at       TIMESTAMPTZ   NULL,
    finished_at      TIMESTAMPTZ   NULL
);

CREATE INDEX idx_commands_pending ON commands (id) WHERE status IN ('pending', 'running');
CREATE INDEX idx_commands_recent ON commands (created_at DESC, id DESC);
CREATE INDEX idx_commands_basket ON commands (basket_id, id DESC) WHERE basket_id IS NOT NULL;

-- Wake the daemon (LISTEN bot_commands) as soon as a command is written.
CREATE FUNCTION notify_bot_commands() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('bot_commands', NEW.id::text);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER commands_notify AFTER INSERT ON commands
    FOR EACH ROW EXECUTE FUNCTION notify_bot_commands();

CREATE TABLE events (
    id          BIGSERIAL PRIMARY KEY,
    basket_id   BIGINT       NULL REFERENCES baskets (id),
    level       VARCHAR(5)   NOT NULL CHECK (level IN ('info', 'warn', 'error')),
    kind        VARCHAR(50)  NOT NULL,
    message     TEXT         NOT NULL,
    data        JSONB        NULL,
    created_at  TIMESTAMPTZ  NOT NULL DEFAULT now()
);

CREATE INDEX idx_events_recent ON events (created_at DESC, id DESC);
CREATE INDEX idx_events_errors ON events (created_at DESC, id DESC) WHERE level = 'error';
CREATE INDEX idx_events_basket ON events (basket_id, created_at DESC, id DESC);

CREATE TABLE bot_status (
    instance_id    VARCHAR(100) PRIMARY KEY,
    mode           VARCHAR(20)  NOT NULL,
    base_url       TEXT         NOT NULL,
    pid            INTEGER      NOT NULL,
    started_at     TIMESTAMPTZ  NOT NULL,
    heartbeat_at   TIMESTAMPTZ  NOT NULL DEFAULT now(),
    last_cycle_at  TIMESTAMPTZ  NULL,
    last_cycle_ms  BIGINT       NULL,
    last_error     TEXT         NULL,
    last_error_at  TIMESTAMPTZ  NULL,
    weight_used    INTEGER      NULL
);

CREATE TABLE market_prices (
    symbol      VARCHAR(20)   PRIMARY KEY,
    price       NUMERIC(28,8) NOT NULL CHECK (price >= 0),
    updated_at  TIMESTAMPTZ   NOT NULL DEFAULT now()
);

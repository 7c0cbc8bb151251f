-- The seed's five tables (baskets, orders, fills, account_snapshots, bot_config)
-- with their columns and indexes, plus the additions of design.md.
--
-- Money: prices, quantities and commissions as Binance sends them (8 decimals)
-- are NUMERIC(28,8): 20 integer digits, and every value fits rust_decimal's
-- 28 significant digits, so nothing is rounded on read. Quote amounts derived
-- from a product (price * qty has up to 16 decimals) and P&L are NUMERIC(28,16)
-- (12 integer digits, i.e. up to 10^12 units of the quote asset). Overflow is
-- an error, never a silent rounding.

CREATE TABLE baskets (
    id              BIGSERIAL PRIMARY KEY,
    symbol          VARCHAR(20)    NOT NULL,
    base_asset      VARCHAR(20)    NOT NULL,
    quote_asset     VARCHAR(20)    NOT NULL,
    anchor_price    NUMERIC(28,8)  NOT NULL CHECK (anchor_price > 0),
    created_at      TIMESTAMPTZ    NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ    NOT NULL DEFAULT now(),
    closed_at       TIMESTAMPTZ    NULL,
    status          VARCHAR(20)    NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'paused', 'stopping', 'closing', 'closed',
                          'stopped', 'emergency_closed', 'error')),
    closed_reason   TEXT           NULL,
    -- strategy.md section 2, as validated at creation
    config          JSONB          NOT NULL,
    -- the SymbolRules the basket was created with
    rules           JSONB          NOT NULL,
    -- meta of the last plan (strategy.md section 10)
    state           JSONB          NOT NULL DEFAULT '{}'::jsonb,
    -- budget of strategy.md section 3 (ROI denominator)
    budget_quote    NUMERIC(28,8)  NOT NULL CHECK (budget_quote > 0),
    -- orders already sent (the seq of clientOrderIds); never decreases
    order_seq       BIGINT         NOT NULL DEFAULT 0 CHECK (order_seq >= 0),
    -- incremental P&L aggregates, mirroring grid_core::PnlTotals
    pos             NUMERIC(28,8)  NOT NULL DEFAULT 0 CHECK (pos >= 0),
    cost            NUMERIC(28,16) NOT NULL DEFAULT 0,
    realized        NUMERIC(28,16) NOT NULL DEFAULT 0,
    fees            NUMERIC(28,16) NOT NULL DEFAULT 0,
    bought_qty      NUMERIC(28,8)  NOT NULL DEFAULT 0,
    bought_quote    NUMERIC(28,16) NOT NULL DEFAULT 0,
    sold_qty        NUMERIC(28,8)  NOT NULL DEFAULT 0,
    sold_quote      NUMERIC(28,16) NOT NULL DEFAULT 0,
    sells           BIGINT         NOT NULL DEFAULT 0 CHECK (sells >= 0),
    wins            BIGINT         NOT NULL DEFAULT 0 CHECK (wins >= 0),
    losses          BIGINT         NOT NULL DEFAULT 0 CHECK (losses >= 0),
    sum_wins        NUMERIC(28,16) NOT NULL DEFAULT 0,
    sum_losses      NUMERIC(28,16) NOT NULL DEFAULT 0,
    last_trade_id   BIGINT         NULL,
    -- one writer per basket: the worker holding the lease, until when
    worker_id       VARCHAR(100)   NULL,
    lease_until     TIMESTAMPTZ    NULL
);

CREATE INDEX idx_baskets_status ON baskets (status, id);
CREATE INDEX idx_baskets_worker ON baskets (worker_id) WHERE worker_id IS NOT NULL;

CREATE TABLE orders (
    id                     BIGSERIAL PRIMARY KEY,
    basket_id              BIGINT        NOT NULL REFERENCES baskets (id),
    symbol                 VARCHAR(20)   NOT NULL,
    exchange_order_id      BIGINT        NULL,
    client_order_id        VARCHAR(100)  NOT NULL,
    role                   VARCHAR(10)   NOT NULL,
    side                   VARCHAR(10)   NOT NULL CHECK (side IN ('BUY', 'SELL')),
    type                   VARCHAR(30)   NOT NULL
        CHECK (type IN ('LIMIT', 'LIMIT_MAKER', 'MARKET', 'STOP_LOSS', 'STOP_LOSS_LIMIT',
                        'TAKE_PROFIT', 'TAKE_PROFIT_LIMIT')),
    price                  NUMERIC(28,8) NOT NULL CHECK (price >= 0),
    quantity               NUMERIC(28,8) NOT NULL CHECK (quantity >= 0),
    stop_price             NUMERIC(28,8) NULL,
    trailing_delta         INTEGER       NULL CHECK (trailing_delta > 0),
    time_in_force          VARCHAR(3)    NULL CHECK (time_in_force IN ('GTC', 'IOC', 'FOK')),
    status                 VARCHAR(20)   NOT NULL DEFAULT 'PENDING_NEW'
        CHECK (status IN ('PENDING_NEW', 'NEW', 'PARTIALLY_FILLED', 'FILLED', 'CANCELED',
                          'PENDING_CANCEL', 'REJECTED', 'EXPIRED', 'EXPIRED_IN_MATCH', 'UNKNOWN')),
    executed_qty           NUMERIC(28,8) NOT NULL DEFAULT 0 CHECK (executed_qty >= 0),
    cummulative_quote_qty  NUMERIC(28,8) NOT NULL DEFAULT 0 CHECK (cummulative_quote_qty >= 0),
    error                  TEXT          NULL,
    created_at             TIMESTAMPTZ   NOT NULL DEFAULT now(),
    updated_at             TIMESTAMPTZ   NOT NULL DEFAULT now(),
    filled_at              TIMESTAMPTZ   NULL
);

-- seed indexes (widened so that they also serve the keyset-paginated history)
CREATE INDEX idx_orders_basket_id ON orders (basket_id, created_at DESC, id DESC);
CREATE UNIQUE INDEX idx_orders_client_order_id ON orders (client_order_id);
CREATE INDEX idx_orders_status ON orders (status, created_at DESC, id DESC);
-- Binance order ids are unique per symbol
CREATE UNIQUE INDEX idx_orders_exchange_order_id ON orders (symbol, exchange_order_id)
    WHERE exchange_order_id IS NOT NULL;
-- open orders of a basket (and of every basket: the daemon's sync)
CREATE INDEX idx_orders_open ON orders (basket_id, id)
    WHERE status IN ('PENDING_NEW', 'NEW', 'PARTIALLY_FILLED', 'PENDING_CANCEL', 'UNKNOWN');
-- history, newest first
CREATE INDEX idx_orders_history ON orders (created_at DESC, id DESC);
CREATE INDEX idx_orders_side_history ON orders (side, created_at DESC, id DESC);

CREATE TABLE fills (
    id                  BIGSERIAL PRIMARY KEY,
    order_id            BIGINT         NULL REFERENCES orders (id),
    basket_id           BIGINT         NOT NULL REFERENCES baskets (id),
    symbol              VARCHAR(20)    NOT NULL,
    exchange_trade_id   BIGINT         NOT NULL,
    exchange_order_id   BIGINT         NOT NULL,
    client_order_id     VARCHAR(100)   NOT NULL,
    role                VARCHAR(10)    NOT NULL,
    side                VARCHAR(10)    NOT NULL CHECK (side IN ('BUY', 'SELL')),
    price               NUMERIC(28,8)  NOT NULL CHECK (price > 0),
    quantity            NUMERIC(28,8)  NOT NULL CHECK (quantity > 0),
    quote_qty           NUMERIC(28,16) NOT NULL CHECK (quote_qty >= 0),
    commission          NUMERIC(28,8)  NOT NULL CHECK (commission >= 0),
    commission_asset    VARCHAR(20)    NOT NULL,
    commission_quote    NUMERIC(28,16) NOT NULL CHECK (commission_quote >= 0),
    is_maker            BOOLEAN        NOT NULL,
    -- realized P&L of a SELL (strategy.md section 11); NULL for a BUY
    realized_pnl        NUMERIC(28,16) NULL,
    executed_at         TIMESTAMPTZ    NOT NULL,
    created_at          TIMESTAMPTZ    NOT NULL DEFAULT now(),
    CONSTRAINT fills_symbol_trade_unique UNIQUE (symbol, exchange_trade_id),
    CONSTRAINT fills_realized_only_sells CHECK ((side = 'SELL') = (realized_pnl IS NOT NULL))
);

-- seed indexes (basket's fills in trade-id order: the strategy's input)
CREATE INDEX idx_fills_basket_id ON fills (basket_id, exchange_trade_id);
CREATE INDEX idx_fills_order_id ON fills (order_id);
CREATE INDEX idx_fills_exchange_order ON fills (symbol, exchange_order_id);
CREATE INDEX idx_fills_history ON fills (executed_at DESC, id DESC);
CREATE INDEX idx_fills_basket_history ON fills (basket_id, executed_at DESC, id DESC);

CREATE TABLE account_snapshots (
    id              BIGSERIAL PRIMARY KEY,
    "timestamp"     TIMESTAMPTZ    NOT NULL DEFAULT now(),
    quote_asset     VARCHAR(20)    NOT NULL,
    quote_balance   NUMERIC(28,8)  NOT NULL,
    base_balance    NUMERIC(28,8)  NOT NULL,
    -- account value in quote_asset
    total_value     NUMERIC(28,16) NOT NULL,
    -- every asset: {"SOL": {"free": "1.2", "locked": "0"}, ...}
    balances        JSONB          NOT NULL DEFAULT '{}'::jsonb
);

CREATE INDEX idx_account_snapshots_timestamp ON account_snapshots ("timestamp", id);

CREATE TABLE bot_config (
    id          BIGSERIAL PRIMARY KEY,
    key         VARCHAR(100) NOT NULL UNIQUE,
    value       JSONB        NOT NULL,
    updated_at  TIMESTAMPTZ  NOT NULL DEFAULT now()
);

-- Realized P&L per basket and hour, maintained in the transaction that inserts
-- the fills: the cumulative P&L chart reads these, never every fill.
CREATE TABLE pnl_hourly (
    basket_id     BIGINT         NOT NULL REFERENCES baskets (id),
    bucket_start  TIMESTAMPTZ    NOT NULL,
    realized      NUMERIC(28,16) NOT NULL DEFAULT 0,
    fees          NUMERIC(28,16) NOT NULL DEFAULT 0,
    sells         BIGINT         NOT NULL DEFAULT 0,
    PRIMARY KEY (basket_id, bucket_start)
);

CREATE INDEX idx_pnl_hourly_bucket ON pnl_hourly (bucket_start);

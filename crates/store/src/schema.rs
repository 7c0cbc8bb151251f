// @generated automatically by Diesel CLI.

diesel::table! {
    account_snapshots (id) {
        id -> Int8,
        timestamp -> Timestamptz,
        #[max_length = 20]
        quote_asset -> Varchar,
        quote_balance -> Numeric,
        base_balance -> Numeric,
        total_value -> Numeric,
        balances -> Jsonb,
        unvalued -> Jsonb,
        asset_values -> Jsonb,
        quote_values -> Jsonb,
    }
}

diesel::table! {
    baskets (id) {
        id -> Int8,
        #[max_length = 20]
        symbol -> Varchar,
        #[max_length = 20]
        base_asset -> Varchar,
        #[max_length = 20]
        quote_asset -> Varchar,
        anchor_price -> Numeric,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        closed_at -> Nullable<Timestamptz>,
        #[max_length = 20]
        status -> Varchar,
        closed_reason -> Nullable<Text>,
        config -> Jsonb,
        rules -> Jsonb,
        state -> Jsonb,
        budget_quote -> Numeric,
        order_seq -> Int8,
        pos -> Numeric,
        cost -> Numeric,
        realized -> Numeric,
        fees -> Numeric,
        bought_qty -> Numeric,
        bought_quote -> Numeric,
        sold_qty -> Numeric,
        sold_quote -> Numeric,
        sells -> Int8,
        wins -> Int8,
        losses -> Int8,
        sum_wins -> Numeric,
        sum_losses -> Numeric,
        last_trade_id -> Nullable<Int8>,
        #[max_length = 100]
        worker_id -> Nullable<Varchar>,
        lease_until -> Nullable<Timestamptz>,
        fills_count -> Int8,
    }
}

diesel::table! {
    bot_config (id) {
        id -> Int8,
        #[max_length = 100]
        key -> Varchar,
        value -> Jsonb,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    bot_status (instance_id) {
        #[max_length = 100]
        instance_id -> Varchar,
        #[max_length = 20]
        mode -> Varchar,
        base_url -> Text,
        pid -> Int4,
        started_at -> Timestamptz,
        heartbeat_at -> Timestamptz,
        last_cycle_at -> Nullable<Timestamptz>,
        last_cycle_ms -> Nullable<Int8>,
        last_error -> Nullable<Text>,
        last_error_at -> Nullable<Timestamptz>,
        weight_used -> Nullable<Int4>,
        metrics -> Nullable<Jsonb>,
    }
}

diesel::table! {
    commands (id) {
        id -> Int8,
        #[max_length = 20]
        kind -> Varchar,
        basket_id -> Nullable<Int8>,
        payload -> Jsonb,
        #[max_length = 200]
        idempotency_key -> Varchar,
        #[max_length = 10]
        status -> Varchar,
        result -> Nullable<Jsonb>,
        error -> Nullable<Text>,
        created_at -> Timestamptz,
        #[max_length = 100]
        claimed_by -> Nullable<Varchar>,
        started_at -> Nullable<Timestamptz>,
        finished_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    events (id) {
        id -> Int8,
        basket_id -> Nullable<Int8>,
        #[max_length = 5]
        level -> Varchar,
        #[max_length = 50]
        kind -> Varchar,
        message -> Text,
        data -> Nullable<Jsonb>,
        created_at -> Timestamptz,
        repeat_count -> Int8,
        last_seen_at -> Nullable<Timestamptz>,
        pinned -> Bool,
    }
}

diesel::table! {
    fills (id) {
        id -> Int8,
        order_id -> Nullable<Int8>,
        basket_id -> Int8,
        #[max_length = 20]
        symbol -> Varchar,
        exchange_trade_id -> Int8,
        exchange_order_id -> Int8,
        #[max_length = 100]
        client_order_id -> Varchar,
        #[max_length = 10]
        role -> Varchar,
        #[max_length = 10]
        side -> Varchar,
        price -> Numeric,
        quantity -> Numeric,
        quote_qty -> Numeric,
        commission -> Numeric,
        #[max_length = 20]
        commission_asset -> Varchar,
        commission_quote -> Numeric,
        is_maker -> Bool,
        realized_pnl -> Nullable<Numeric>,
        executed_at -> Timestamptz,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    maintenance_runs (task) {
        #[max_length = 50]
        task -> Varchar,
        started_at -> Timestamptz,
        #[max_length = 100]
        worker_id -> Nullable<Varchar>,
        done_from -> Nullable<Timestamptz>,
        done_at -> Nullable<Timestamptz>,
        report -> Nullable<Jsonb>,
    }
}

diesel::table! {
    market_prices (symbol) {
        #[max_length = 20]
        symbol -> Varchar,
        price -> Numeric,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    notification_channels (channel) {
        #[max_length = 20]
        channel -> Varchar,
        categories -> Array<Text>,
        registered_at -> Timestamptz,
        last_seen_at -> Timestamptz,
    }
}

diesel::table! {
    notification_deliveries (notification_id, channel) {
        notification_id -> Int8,
        #[max_length = 20]
        channel -> Varchar,
        #[max_length = 10]
        state -> Varchar,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        last_error -> Nullable<Text>,
        delivered_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    notifications (id) {
        id -> Int8,
        #[max_length = 50]
        kind -> Varchar,
        #[max_length = 20]
        category -> Varchar,
        basket_id -> Nullable<Int8>,
        #[max_length = 20]
        symbol -> Nullable<Varchar>,
        data -> Jsonb,
        dedupe_key -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    orders (id) {
        id -> Int8,
        basket_id -> Int8,
        #[max_length = 20]
        symbol -> Varchar,
        exchange_order_id -> Nullable<Int8>,
        #[max_length = 100]
        client_order_id -> Varchar,
        #[max_length = 10]
        role -> Varchar,
        #[max_length = 10]
        side -> Varchar,
        #[sql_name = "type"]
        #[max_length = 30]
        type_ -> Varchar,
        price -> Numeric,
        quantity -> Numeric,
        stop_price -> Nullable<Numeric>,
        trailing_delta -> Nullable<Int4>,
        #[max_length = 3]
        time_in_force -> Nullable<Varchar>,
        #[max_length = 20]
        status -> Varchar,
        executed_qty -> Numeric,
        cummulative_quote_qty -> Numeric,
        error -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        filled_at -> Nullable<Timestamptz>,
        request_ts_ms -> Nullable<Int8>,
    }
}

diesel::table! {
    pnl_hourly (basket_id, bucket_start) {
        basket_id -> Int8,
        bucket_start -> Timestamptz,
        realized -> Numeric,
        fees -> Numeric,
        sells -> Int8,
    }
}

diesel::table! {
    web_revoked_sessions (nonce) {
        nonce -> Text,
        expires_at -> Timestamptz,
    }
}

diesel::joinable!(commands -> baskets (basket_id));
diesel::joinable!(events -> baskets (basket_id));
diesel::joinable!(fills -> baskets (basket_id));
diesel::joinable!(fills -> orders (order_id));
diesel::joinable!(notification_deliveries -> notifications (notification_id));
diesel::joinable!(orders -> baskets (basket_id));
diesel::joinable!(pnl_hourly -> baskets (basket_id));

diesel::allow_tables_to_appear_in_same_query!(
    account_snapshots,
    baskets,
    bot_config,
    bot_status,
    commands,
    events,
    fills,
    maintenance_runs,
    market_prices,
    notification_channels,
    notification_deliveries,
    notifications,
    orders,
    pnl_hourly,
    web_revoked_sessions,
);

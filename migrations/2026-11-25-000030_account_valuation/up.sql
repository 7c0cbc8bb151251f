-- The account snapshot values every asset it can in `quote_asset` (the
-- account currency, BOT_ACCOUNT_CURRENCY) and says what it could not value,
-- instead of counting it as 0. Additive: old rows get the empty defaults.
ALTER TABLE account_snapshots
    -- held but not valued in quote_asset, so not in total_value:
    -- [{"asset": "BNB", "amount": "1", "reason": "..."}]
    ADD COLUMN unvalued     JSONB NOT NULL DEFAULT '[]'::jsonb,
    -- each valued asset: {"SOL": {"amount": "2", "value": "300", "via": ["SOLUSDT"]}}
    ADD COLUMN asset_values JSONB NOT NULL DEFAULT '{}'::jsonb,
    -- each basket quote asset, its baskets' assets valued in it:
    -- {"USDT": {"value": "6802", "unvalued": []}}
    ADD COLUMN quote_values JSONB NOT NULL DEFAULT '{}'::jsonb;

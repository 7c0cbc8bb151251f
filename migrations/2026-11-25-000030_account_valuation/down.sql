ALTER TABLE account_snapshots
    DROP COLUMN quote_values,
    DROP COLUMN asset_values,
    DROP COLUMN unvalued;

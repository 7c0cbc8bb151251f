DROP TABLE pnl_hourly;
DROP TABLE bot_config;
DROP TABLE account_snapshots;
DROP TABLE fills;
DROP TABLE orders;
DROP TABLE baskets;

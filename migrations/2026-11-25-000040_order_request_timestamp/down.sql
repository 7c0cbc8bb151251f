ALTER TABLE orders DROP COLUMN request_ts_ms;

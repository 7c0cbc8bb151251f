-- The `timestamp` parameter (exchange clock, epoch ms) that the create
-- request of this order carries, written before it is sent. A create whose
-- outcome is unknown is judged "never arrived" only once the exchange's
-- clock is past this plus the recvWindow: Binance refuses it after that.
ALTER TABLE orders ADD COLUMN request_ts_ms BIGINT;

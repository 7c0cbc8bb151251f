//! Request weights of the calls whose cost the bot plans around
//! (binance-api.md; `GET /api/v3/openOrders`, `ticker/price`, `myTrades`,
//! `account`). The client charges its governor these; the worker picks the
//! cheaper way to read what it needs with them.

/// `GET /api/v3/openOrders` for one symbol.
pub const OPEN_ORDERS_ONE: u32 = 6;
/// `GET /api/v3/openOrders` for every symbol (no `symbol`).
pub const OPEN_ORDERS_ALL: u32 = 80;
/// `GET /api/v3/ticker/price` for one symbol.
pub const TICKER_PRICE_ONE: u32 = 2;
/// `GET /api/v3/ticker/price` for several symbols, or all.
pub const TICKER_PRICE_MANY: u32 = 4;
/// `GET /api/v3/myTrades`.
pub const MY_TRADES: u32 = 20;
/// `GET /api/v3/account`.
pub const ACCOUNT: u32 = 20;

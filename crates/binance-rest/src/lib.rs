//! binance-rest: the synchronous, signed, rate-aware Binance spot REST client —
//! the only way the bot speaks to an exchange (production, testnet, or the
//! `exchange-sim` simulator).
//!
//! # What may be retried
//!
//! | call | retried by the client | on error the caller should |
//! |---|---|---|
//! | reads: `ping`, `server_time`, `exchange_info`, `symbol_rules`, ticker, `klines`, `account`, open/all orders, `get_order`, `my_trades`, `test_order` | yes: transport errors, timeouts, 5xx, `-1000/-1001/-1006/-1007/-1008`, up to `max_retries` with exponential backoff + jitter; once more after a `-1021` resync | retry next cycle |
//! | writes: `place_order`, `cancel_order`, `cancel_all` | **never** | on [`Error::UnknownOutcome`] look the order up by client order id before anything else; on [`Error::Api`] the request had no effect |
//!
//! After a 429 or 418, every call fails with [`Error::RateLimited`] /
//! [`Error::Banned`] **without sending anything** until `Retry-After` has passed.
//! Near the per-minute weight limit calls wait (sleep) for the next minute
//! instead. New orders also respect the account's unfilled order count
//! (`ORDERS` limits of exchangeInfo, `X-MBX-ORDER-COUNT-*` headers): near the
//! limit they wait briefly or are deferred, and a `-1015` blocks new orders
//! only. See [`error`] for what each error variant means.
//!
//! # Layout
//! - [`auth`]: HMAC secret, Ed25519 key, signing (REST and WebSocket API payloads), query encoding;
//! - [`governor`] and [`clock`]: weight budget and 429/418 blocks on an injectable clock;
//! - [`models`]: wire structs; [`parse`]: wire → domain; [`types`]: domain types;
//! - [`client`]: [`BinanceClient`]; [`exchange`]: the [`Exchange`] trait;
//! - [`symbol`]: [`SymbolStatus`] and [`SymbolState`] (status + rules, re-read
//!   with [`BinanceClient::refresh_symbol`]);
//! - [`user_stream`]: the user-data stream over the WebSocket API
//!   ([`UserStream`], typed [`UserEvent`]s, the reconnect policy [`StreamSupervisor`]);
//! - [`market_stream`]: last prices from the market-data streams' mini
//!   tickers ([`PriceStream`], [`PriceTick`]), without request weight.

#![deny(missing_docs)]

pub mod auth;
pub mod client;
pub mod clock;
pub mod decimal;
pub mod error;
pub mod exchange;
pub mod governor;
pub mod market_stream;
pub mod models;
pub mod parse;
pub mod stp;
pub mod symbol;
pub mod types;
pub mod user_stream;
pub mod weights;

pub use auth::{Credentials, Ed25519Key, KeyType, Secret, Signer};
pub use client::{BinanceClient, ClientConfig, PRODUCTION_URL, TESTNET_URL};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::Error;
pub use exchange::Exchange;
pub use governor::{Governor, Priority};
pub use market_stream::{market_stream_url, PriceStream, PriceTick};
pub use stp::{StpMode, StpModes};
pub use symbol::{SymbolState, SymbolStatus};
pub use types::{
    is_valid_client_order_id, Account, Balance, CommissionRates, ExchangeInfo, ExchangeOrder,
    ExchangeTrade, Kline, KlineInterval, MakerTaker, NewOrder, OrderFill, OrderRef, OrderRespType,
    OrderStatus, RateLimit, SymbolFilter, SymbolInfo, TestOrderResult,
};
pub use user_stream::{
    ws_api_url, ExecutionReport, ExecutionType, StreamSupervisor, UserEvent, UserStream,
    UserStreamOptions,
};

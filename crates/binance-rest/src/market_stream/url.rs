//! The market-data streams' base URL that goes with a REST base URL
//! (binance-ws.md §6).

use crate::error::Error;
use crate::user_stream::url::{rest_host, RestHost};

/// Production market-data streams (also `wss://stream.binance.com:443`).
pub const PRODUCTION_MARKET_STREAM_URL: &str = "wss://stream.binance.com:9443";
/// Spot testnet market-data streams.
pub const TESTNET_MARKET_STREAM_URL: &str = "wss://stream.testnet.binance.vision";
/// Demo-mode market-data streams.
pub const DEMO_MARKET_STREAM_URL: &str = "wss://demo-stream.binance.com";
/// Production market data only (the base of `https://data-api.binance.vision`).
pub const DATA_MARKET_STREAM_URL: &str = "wss://data-stream.binance.vision";

/// The market-data streams' base URL (without `/ws` or `/stream`) for a REST
/// base URL:
///
/// | REST base URL | market-data streams |
/// |---|---|
/// | `https://api.binance.com` (and `api-gcp`, `api1`–`api4`) | [`PRODUCTION_MARKET_STREAM_URL`] |
/// | `https://testnet.binance.vision[/api]` (and `api1.testnet…`) | [`TESTNET_MARKET_STREAM_URL`] |
/// | `https://demo-api.binance.com[/api]` | [`DEMO_MARKET_STREAM_URL`] |
/// | `https://data-api.binance.vision` | [`DATA_MARKET_STREAM_URL`] |
/// | `http://HOST[:PORT]` (the simulator) | `ws://HOST[:PORT]` |
///
/// # Errors
/// [`Error::InvalidRequest`] for any other URL (another `https` host has no
/// known stream server: configure its URL explicitly rather than guess).
pub fn market_stream_url(rest_base_url: &str) -> Result<String, Error> {
    match rest_host(rest_base_url) {
        Some(RestHost::Plain(host)) => Ok(format!("ws://{host}")),
        Some(RestHost::Production) => Ok(PRODUCTION_MARKET_STREAM_URL.into()),
        Some(RestHost::Testnet) => Ok(TESTNET_MARKET_STREAM_URL.into()),
        Some(RestHost::Demo) => Ok(DEMO_MARKET_STREAM_URL.into()),
        Some(RestHost::DataApi) => Ok(DATA_MARKET_STREAM_URL.into()),
        None => Err(Error::InvalidRequest(format!(
            "no known market-data stream server for the REST base URL {rest_base_url:?}; give its URL (wss://HOST[:PORT]) explicitly"
        ))),
    }
}

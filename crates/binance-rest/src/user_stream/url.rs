//! The WebSocket API URL that goes with a REST base URL (binance-ws.md §1).

use crate::error::Error;

/// Production WebSocket API.
pub const PRODUCTION_WS_API_URL: &str = "wss://ws-api.binance.com:443/ws-api/v3";
/// Spot testnet WebSocket API.
pub const TESTNET_WS_API_URL: &str = "wss://ws-api.testnet.binance.vision/ws-api/v3";
/// Demo-mode WebSocket API.
pub const DEMO_WS_API_URL: &str = "wss://demo-ws-api.binance.com/ws-api/v3";

/// The WebSocket API URL for a REST base URL:
///
/// | REST base URL | WebSocket API |
/// |---|---|
/// | `https://api.binance.com` (and `api-gcp`, `api1`–`api4`) | [`PRODUCTION_WS_API_URL`] |
/// | `https://testnet.binance.vision[/api]` (and `api1.testnet…`) | [`TESTNET_WS_API_URL`] |
/// | `https://demo-api.binance.com[/api]` | [`DEMO_WS_API_URL`] |
/// | `http://HOST[:PORT]` (the simulator) | `ws://HOST[:PORT]/ws-api/v3` |
///
/// # Errors
/// [`Error::InvalidRequest`] for any other URL (another `https` host has no
/// known WebSocket API: configure its URL explicitly rather than guess).
pub fn ws_api_url(rest_base_url: &str) -> Result<String, Error> {
    match rest_host(rest_base_url) {
        Some(RestHost::Plain(host)) => Ok(format!("ws://{host}/ws-api/v3")),
        Some(RestHost::Production) => Ok(PRODUCTION_WS_API_URL.into()),
        Some(RestHost::Testnet) => Ok(TESTNET_WS_API_URL.into()),
        Some(RestHost::Demo) => Ok(DEMO_WS_API_URL.into()),
        Some(RestHost::DataApi) | None => Err(Error::InvalidRequest(format!(
            "no known WebSocket API for the REST base URL {rest_base_url:?}; give the WebSocket API URL (wss://…/ws-api/v3) explicitly"
        ))),
    }
}

/// Which Binance REST server a base URL names (the WebSocket servers are
/// chosen from it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RestHost {
    /// `http://HOST[:PORT]`: a simulator (`HOST[:PORT]`).
    Plain(String),
    /// `https://api.binance.com` (and `api-gcp`, `api1`–`api4`).
    Production,
    /// `https://testnet.binance.vision[/api]` (and `api1.testnet…`).
    Testnet,
    /// `https://demo-api.binance.com[/api]`.
    Demo,
    /// `https://data-api.binance.vision` (market data only).
    DataApi,
}

/// The server a REST base URL names; `None` for any other URL.
pub(crate) fn rest_host(rest_base_url: &str) -> Option<RestHost> {
    let trimmed = rest_base_url.trim().trim_end_matches('/');
    let trimmed = trimmed.strip_suffix("/api").unwrap_or(trimmed);
    let (scheme, rest) = trimmed.split_once("://")?;
    if rest.is_empty() || rest.contains('/') {
        return None;
    }
    match scheme.to_ascii_lowercase().as_str() {
        "http" => Some(RestHost::Plain(rest.to_string())),
        "https" => {
            let host = rest.to_ascii_lowercase();
            let host = host.strip_suffix(":443").unwrap_or(&host);
            match host {
                "api.binance.com"
                | "api-gcp.binance.com"
                | "api1.binance.com"
                | "api2.binance.com"
                | "api3.binance.com"
                | "api4.binance.com" => Some(RestHost::Production),
                "testnet.binance.vision" | "api1.testnet.binance.vision" => Some(RestHost::Testnet),
                "demo-api.binance.com" => Some(RestHost::Demo),
                "data-api.binance.vision" => Some(RestHost::DataApi),
                _ => None,
            }
        }
        _ => None,
    }
}

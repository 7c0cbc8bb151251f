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
    let trimmed = rest_base_url.trim().trim_end_matches('/');
    let trimmed = trimmed.strip_suffix("/api").unwrap_or(trimmed);
    let unknown = || {
        Error::InvalidRequest(format!(
            "no known WebSocket API for the REST base URL {rest_base_url:?}; give the WebSocket API URL (wss://…/ws-api/v3) explicitly"
        ))
    };
    let (scheme, rest) = trimmed.split_once("://").ok_or_else(unknown)?;
    if rest.is_empty() || rest.contains('/') {
        return Err(unknown());
    }
    match scheme.to_ascii_lowercase().as_str() {
        "http" => Ok(format!("ws://{rest}/ws-api/v3")),
        "https" => {
            let host = rest.to_ascii_lowercase();
            let host = host.strip_suffix(":443").unwrap_or(&host);
            match host {
                "api.binance.com"
                | "api-gcp.binance.com"
                | "api1.binance.com"
                | "api2.binance.com"
                | "api3.binance.com"
                | "api4.binance.com" => Ok(PRODUCTION_WS_API_URL.into()),
                "testnet.binance.vision" | "api1.testnet.binance.vision" => {
                    Ok(TESTNET_WS_API_URL.into())
                }
                "demo-api.binance.com" => Ok(DEMO_WS_API_URL.into()),
                _ => Err(unknown()),
            }
        }
        _ => Err(unknown()),
    }
}

//! Last prices from the market-data WebSocket streams (binance-ws.md §6),
//! without spending REST request weight: one blocking connection to the
//! combined stream of `<lowercase symbol>@miniTicker` for each symbol,
//! yielding a [`PriceTick`] (the ticker's `c`, the last price) per update.
//!
//! ```no_run
//! use std::time::Duration;
//! use binance_rest::market_stream::{market_stream_url, PriceStream};
//! # fn main() -> Result<(), binance_rest::Error> {
//! let url = market_stream_url("https://api.binance.com")?;
//! let mut prices = PriceStream::connect(&url, &["BTCUSDC".to_string()])?;
//! while let Some(tick) = prices.next_price(Duration::from_secs(5))? {
//!     println!("{} {}", tick.symbol, tick.price);
//! }
//! # Ok(()) }
//! ```
//!
//! Invariants:
//! - [`PriceStream::connect`] sends nothing a Binance server would refuse:
//!   1 to [`MAX_STREAMS`] symbols of 1–20 characters `[A-Za-z0-9-_.]`
//!   (duplicates, in any case, listened to once), else
//!   [`Error::InvalidRequest`] and no connection. Binance accepts a
//!   well-formed but unlisted symbol and never sends anything for it: check
//!   the symbols against exchangeInfo first;
//! - [`PriceStream::next_price`] answers every ping with a pong carrying its
//!   payload at once, pings the server itself after [`PING_AFTER`] without
//!   a frame, and fails with [`Error::Transport`] (reconnect) when the
//!   connection is closed, reset or silent for [`DEAD_AFTER`], or when the
//!   server announces its shutdown (`serverShutdown`); after such an error
//!   the stream stays failed;
//! - a frame it cannot read as a mini ticker is [`Error::Decode`] and is
//!   skipped; the connection stays usable;
//! - prices are [`Decimal`]s parsed with [`crate::decimal::parse_decimal`],
//!   never floats, and are > 0.
//!
//! Reconnecting is the caller's (Binance also closes every connection after
//! 24 h); connecting costs no request weight.

mod url;

use std::collections::HashSet;
use std::fmt;
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use tungstenite::Message;

pub use url::{
    market_stream_url, DATA_MARKET_STREAM_URL, DEMO_MARKET_STREAM_URL,
    PRODUCTION_MARKET_STREAM_URL, TESTNET_MARKET_STREAM_URL,
};

use crate::decimal::parse_decimal;
use crate::error::Error;
use crate::user_stream::{io_is_timeout, open, set_read_timeout, Socket};

/// Streams one connection may listen to (Binance: 1024).
pub const MAX_STREAMS: usize = 1024;
/// TCP connect + TLS + WebSocket handshake limit.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Send a ping after this long without a frame (Binance pings every 20 s).
pub const PING_AFTER: Duration = Duration::from_secs(30);
/// [`Error::Transport`] after this long without a frame.
pub const DEAD_AFTER: Duration = Duration::from_secs(60);

/// One last price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceTick {
    /// The symbol, uppercase, as the ticker's `s` (`BNBBTC`).
    pub symbol: String,
    /// The last (close) price, `c`.
    pub price: Decimal,
    /// The event time `E`, epoch ms (the exchange's clock).
    pub event_time_ms: i64,
}

/// What one frame of the stream is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarketFrame {
    /// A `24hrMiniTicker` event, raw or wrapped in `{"stream","data"}`.
    Tick(PriceTick),
    /// `serverShutdown`: the server is about to go away; reconnect.
    ServerShutdown,
}

fn field<'a>(v: &'a serde_json::Value, k: &str) -> Result<&'a serde_json::Value, Error> {
    v.get(k)
        .ok_or_else(|| Error::Decode(format!("mini ticker without `{k}`")))
}

/// Reads one text frame: a mini ticker (raw or combined) or `serverShutdown`.
///
/// # Errors
/// [`Error::Decode`]: not JSON, another event type, a missing field, or a
/// price that is not a positive decimal.
pub fn parse_market_frame(text: &str) -> Result<MarketFrame, Error> {
    let v: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| Error::Decode(format!("market stream frame is not JSON: {e}")))?;
    let payload = match (v.get("stream"), v.get("data")) {
        (Some(_), Some(d)) => d,
        _ => &v,
    };
    let kind = payload.get("e").and_then(|e| e.as_str()).ok_or_else(|| {
        Error::Decode(format!(
            "market stream frame without an event type: {}",
            truncated(text)
        ))
    })?;
    match kind {
        "24hrMiniTicker" => {
            let symbol = field(payload, "s")?
                .as_str()
                .filter(|s| !s.is_empty())
                .ok_or_else(|| Error::Decode("mini ticker `s` is not a symbol".into()))?;
            let c = field(payload, "c")?
                .as_str()
                .ok_or_else(|| Error::Decode("mini ticker `c` is not a string".into()))?;
            let price = parse_decimal("c", c)?;
            if price <= Decimal::ZERO {
                return Err(Error::Decode(format!(
                    "mini ticker of {symbol}: price {c:?} is not positive"
                )));
            }
            let event_time_ms = field(payload, "E")?
                .as_i64()
                .ok_or_else(|| Error::Decode("mini ticker `E` is not an integer".into()))?;
            Ok(MarketFrame::Tick(PriceTick {
                symbol: symbol.to_string(),
                price,
                event_time_ms,
            }))
        }
        "serverShutdown" => Ok(MarketFrame::ServerShutdown),
        other => Err(Error::Decode(format!(
            "unexpected market stream event {other:?} (only 24hrMiniTicker is subscribed)"
        ))),
    }
}

fn truncated(text: &str) -> String {
    text.chars().take(200).collect()
}

/// The combined-stream path for `symbols`:
/// `/stream?streams=<a>@miniTicker/<b>@miniTicker…`, lowercase, duplicates once.
///
/// # Errors
/// [`Error::InvalidRequest`]: no symbol, more than [`MAX_STREAMS`], or a
/// symbol that is not 1–20 characters `[A-Za-z0-9-_.]`.
pub fn stream_path(symbols: &[String]) -> Result<String, Error> {
    let mut seen = HashSet::new();
    let mut names = Vec::new();
    for s in symbols {
        let ok = !s.is_empty()
            && s.len() <= 20
            && s.bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"-_.".contains(&c));
        if !ok {
            return Err(Error::InvalidRequest(format!(
                "market stream symbol {s:?} is not 1-20 characters A-Z, 0-9, '-', '_', '.'"
            )));
        }
        let lower = s.to_ascii_lowercase();
        if seen.insert(lower.clone()) {
            names.push(format!("{lower}@miniTicker"));
        }
    }
    if names.is_empty() {
        return Err(Error::InvalidRequest(
            "a price stream needs at least one symbol".into(),
        ));
    }
    if names.len() > MAX_STREAMS {
        return Err(Error::InvalidRequest(format!(
            "{} symbols: one market stream connection listens to at most {MAX_STREAMS}",
            names.len()
        )));
    }
    Ok(format!("/stream?streams={}", names.join("/")))
}

/// One connection to the mini tickers of some symbols. See the module docs.
pub struct PriceStream {
    socket: Socket,
    base: String,
    streams: usize,
    last_frame: Instant,
    ping_outstanding: bool,
    failed: Option<String>,
}

impl fmt::Debug for PriceStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PriceStream")
            .field("base", &self.base)
            .field("streams", &self.streams)
            .field("failed", &self.failed)
            .finish()
    }
}

impl PriceStream {
    /// Connects to the combined mini-ticker streams of `symbols` at
    /// `base_ws_url` (`wss://stream.binance.com:9443`, see
    /// [`market_stream_url`]; a trailing `/ws` or `/stream` is ignored).
    ///
    /// # Errors
    /// - [`Error::InvalidRequest`]: the URL or the symbol list cannot be used
    ///   (see [`stream_path`]); nothing was sent;
    /// - [`Error::Transport`] / [`Error::Timeout`]: no connection.
    pub fn connect(base_ws_url: &str, symbols: &[String]) -> Result<PriceStream, Error> {
        let path = stream_path(symbols)?;
        let base = base_ws_url.trim().trim_end_matches('/');
        let base = base
            .strip_suffix("/ws")
            .or_else(|| base.strip_suffix("/stream"))
            .unwrap_or(base);
        let lower = base.to_ascii_lowercase();
        if !(lower.starts_with("ws://") || lower.starts_with("wss://")) {
            return Err(Error::InvalidRequest(format!(
                "market stream URL {base_ws_url:?} must start with ws:// or wss://"
            )));
        }
        let socket = open(&format!("{base}{path}"), CONNECT_TIMEOUT)?;
        let streams = path.matches("@miniTicker").count();
        log::info!("Market stream connected: {base} ({streams} mini tickers)");
        Ok(PriceStream {
            socket,
            base: base.to_string(),
            streams,
            last_frame: Instant::now(),
            ping_outstanding: false,
            failed: None,
        })
    }

    /// The next last price, waiting up to `timeout`; `Ok(None)` when none came.
    /// Answers pings and keeps the connection alive meanwhile.
    ///
    /// # Errors
    /// - [`Error::Transport`]: the connection is lost (closed, reset, silent
    ///   past [`DEAD_AFTER`], `serverShutdown`); drop this stream and reconnect;
    /// - [`Error::Decode`]: one frame was not understood and was skipped; the
    ///   connection is still usable.
    pub fn next_price(&mut self, timeout: Duration) -> Result<Option<PriceTick>, Error> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(why) = &self.failed {
                return Err(Error::Transport(why.clone()));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            let Some(text) = self.read_text(deadline - now)? else {
                continue;
            };
            match parse_market_frame(&text) {
                Ok(MarketFrame::Tick(t)) => return Ok(Some(t)),
                Ok(MarketFrame::ServerShutdown) => {
                    return Err(self.down("the server announced its shutdown (serverShutdown)"))
                }
                Err(e) => {
                    log::warn!("Market stream: skipped a frame: {e}");
                    return Err(e);
                }
            }
        }
    }

    /// Closes the connection politely (best effort).
    pub fn close(mut self) {
        let _ = self.socket.close(None);
        let _ = self.socket.flush();
    }

    /// Reads one frame for at most `limit`: `Some(text)` for a text frame,
    /// `None` after a control frame or when `limit` passed.
    fn read_text(&mut self, limit: Duration) -> Result<Option<String>, Error> {
        let idle = self.last_frame.elapsed();
        if idle >= DEAD_AFTER {
            return Err(self.down(&format!(
                "no frame from the server for {} ms",
                idle.as_millis()
            )));
        }
        if idle >= PING_AFTER && !self.ping_outstanding {
            if let Err(e) = self.socket.send(Message::Ping(Vec::new().into())) {
                return Err(self.down(&format!("sending a ping: {e}")));
            }
            self.ping_outstanding = true;
        }
        let next_timer = if self.ping_outstanding {
            DEAD_AFTER.saturating_sub(idle)
        } else {
            PING_AFTER.saturating_sub(idle)
        };
        if let Err(e) = set_read_timeout(&self.socket, limit.min(next_timer)) {
            return Err(self.down(&format!("setting the read timeout: {e}")));
        }
        match self.socket.read() {
            Ok(msg) => {
                self.last_frame = Instant::now();
                self.ping_outstanding = false;
                match msg {
                    Message::Text(t) => Ok(Some(t.as_str().to_string())),
                    Message::Ping(_) => {
                        // tungstenite queued the pong (same payload): send it now.
                        match self.socket.flush() {
                            Ok(()) => Ok(None),
                            Err(e) => Err(self.down(&format!("sending a pong: {e}"))),
                        }
                    }
                    Message::Pong(_) | Message::Frame(_) => Ok(None),
                    Message::Binary(b) => Err(Error::Decode(format!(
                        "unexpected binary frame of {} bytes on the market stream",
                        b.len()
                    ))),
                    Message::Close(frame) => {
                        let _ = self.socket.flush();
                        Err(self.down(&match frame {
                            Some(f) => format!(
                                "the server closed the connection ({} {})",
                                f.code, f.reason
                            ),
                            None => "the server closed the connection".into(),
                        }))
                    }
                }
            }
            Err(tungstenite::Error::Io(e)) if io_is_timeout(&e) => Ok(None),
            Err(e) => Err(self.down(&e.to_string())),
        }
    }

    /// Marks the stream failed; every later call fails the same way.
    fn down(&mut self, why: &str) -> Error {
        let msg = format!("market stream down: {why}; reconnect");
        log::warn!("{msg} (url {})", self.base);
        self.failed = Some(msg.clone());
        Error::Transport(msg)
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;

//! The market-data WebSocket streams (binance-ws.md §6) as far as a bot's
//! prices need them: the individual-symbol mini ticker `<symbol>@miniTicker`,
//! raw at `GET /ws/<streamName>` and combined at
//! `GET /stream?streams=<a>/<b>/…` (each frame `{"stream":…,"data":…}`), on
//! the HTTP port, plus the loopback-only control `GET /sim/market` and
//! `POST /sim/market/drop`.
//!
//! The payload is `{"e":"24hrMiniTicker","E":…,"s":…,"c":…,"o":…,"h":…,"l":…,"v":…,"q":…}`:
//! `E` the engine's clock, `s` the symbol as listed (uppercase), and the
//! rest exactly what `GET /api/v3/ticker/24hr?type=MINI` answers at the same
//! moment (the 24 h window of [`crate::engine::Engine::window_stats`]: prices
//! from the price path at minute resolution, volumes the account's own
//! trades — see [`crate::market`] for what is synthetic), 8 decimals as REST.
//!
//! Invariants:
//! - the first ticker of every served stream is sent right after the
//!   connection opens (Binance sends its first within its 1000 ms update
//!   period; the simulator sends at once so that clients learn the price at
//!   once); after it, every 1000 ms of wall time (the timers of [`crate::ws`]
//!   are wall time too), a stream gets a ticker only when it differs from the
//!   last one sent on that connection in anything but `E`;
//! - a stream name that is not `<symbol>@<type>` with a symbol of 1–20
//!   characters `[A-Za-z0-9-_.]`, a type other than `miniTicker` (which
//!   the simulator does not serve), no stream, or more than
//!   [`MAX_STREAMS`], is refused before the upgrade: HTTP 400
//!   `{"code":2,"msg":"Invalid request: …"}` (Binance's wording for an
//!   invalid stream in a `SUBSCRIBE`; what it answers at connect time is not
//!   documented);
//! - a well-formed stream whose symbol is not listed, or not written in
//!   lowercase, is accepted and gets nothing, as on Binance (it accepts such
//!   streams silently); it is logged and counted (`ignored_streams`);
//! - connecting costs no request weight; the server pings every
//!   `ws_ping_ms`, closes (1008) a connection whose ping had no pong echoing
//!   it for `ws_pong_timeout_ms`, answers pings with pongs and closes (1001)
//!   every connection `ws_max_lifetime_ms` after it opened (the WebSocket
//!   API's settings, [`crate::config::SimConfig`]);
//! - [`MarketHub::drop_all`] (`POST /sim/market/drop`) ends every connection
//!   without a close frame, what a network drop looks like to a client;
//! - the engine is only read; text frames from the client (Binance's live
//!   `SUBSCRIBE`…) get `{"error":{"code":2,…},"id":…}` and change nothing;
//!   the 5-messages-per-second limit on incoming frames is not enforced.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::web;
use actix_web::{HttpRequest, HttpResponse};
use actix_ws::{CloseCode, CloseReason, Message};
use serde::Serialize;
use tokio::time::{sleep_until, Instant, MissedTickBehavior};

use crate::api::Params;
use crate::config::SimConfig;
use crate::server::{json_resp, lock, loopback, SharedEngine};
use crate::types::d8;

/// Streams one connection may listen to (Binance: 1024).
pub const MAX_STREAMS: usize = 1024;

/// The mini ticker's update period (Binance: 1000 ms).
pub const UPDATE_EVERY: Duration = Duration::from_millis(1000);

/// The one stream type served.
const MINI_TICKER: &str = "miniTicker";

/// Counters over every market-stream connection (`GET /sim/market`).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct MarketStats {
    /// Connections open now.
    pub open_connections: u64,
    /// Connections accepted since the start.
    pub connections: u64,
    /// Ticker frames sent.
    pub messages_sent: u64,
    /// Well-formed streams accepted but never served (unknown or not lowercase symbol).
    pub ignored_streams: u64,
    /// Pings the server sent.
    pub pings_sent: u64,
    /// Pongs that answered them.
    pub pongs_received: u64,
    /// Connections dropped by [`MarketHub::drop_all`].
    pub dropped: u64,
    /// Connections closed for a missing pong.
    pub closed_pong_timeout: u64,
    /// Connections closed at the end of their lifetime.
    pub closed_lifetime: u64,
}

/// The market streams' shared state: one per server
/// ([`crate::SimServer::market_hub`]; `/sim/market` over HTTP).
#[derive(Debug)]
pub struct MarketHub {
    stats: Mutex<MarketStats>,
    drops: tokio::sync::broadcast::Sender<()>,
    ping: Duration,
    pong_timeout: Duration,
    lifetime: Duration,
}

impl MarketHub {
    /// A hub with the config's WebSocket timings.
    pub fn new(cfg: &SimConfig) -> MarketHub {
        let (tx, _rx) = tokio::sync::broadcast::channel(16);
        MarketHub {
            stats: Mutex::new(MarketStats::default()),
            drops: tx,
            ping: Duration::from_millis(cfg.ws_ping_ms),
            pong_timeout: Duration::from_millis(cfg.ws_pong_timeout_ms),
            lifetime: Duration::from_millis(cfg.ws_max_lifetime_ms),
        }
    }

    fn st(&self) -> MutexGuard<'_, MarketStats> {
        match self.stats.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// The counters.
    pub fn stats(&self) -> MarketStats {
        self.st().clone()
    }

    /// Drops every market-stream connection now, without a close frame.
    pub fn drop_all(&self) {
        let _ = self.drops.send(());
    }
}

/// One stream a connection asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSpec {
    /// The name as asked (`bnbbtc@miniTicker`), echoed in combined frames.
    pub name: String,
    /// The symbol as the engine lists it (`BNBBTC`).
    pub symbol: String,
    /// Whether the name's symbol was written in lowercase (Binance serves
    /// only lowercase names).
    pub lowercase: bool,
}

/// Parses stream names (duplicates kept once, in order).
///
/// # Errors
/// The message of the HTTP 400 (see the module docs).
pub fn parse_streams<'a>(
    names: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<StreamSpec>, String> {
    let mut out: Vec<StreamSpec> = Vec::new();
    for name in names {
        let (sym, kind) = name
            .split_once('@')
            .ok_or_else(|| format!("Invalid request: invalid stream {name:?}"))?;
        let sym_ok = !sym.is_empty()
            && sym.len() <= 20
            && sym
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"-_.".contains(&c));
        if !sym_ok {
            return Err(format!("Invalid request: invalid stream {name:?}"));
        }
        if kind != MINI_TICKER {
            return Err(format!(
                "Invalid request: stream {name:?} is not served by the simulator (only <symbol>@{MINI_TICKER})"
            ));
        }
        if out.iter().any(|s| s.name == name) {
            continue;
        }
        out.push(StreamSpec {
            name: name.to_string(),
            symbol: sym.to_ascii_uppercase(),
            lowercase: !sym.bytes().any(|c| c.is_ascii_uppercase()),
        });
    }
    if out.is_empty() {
        return Err("Invalid request: no stream given".into());
    }
    if out.len() > MAX_STREAMS {
        return Err(format!(
            "Invalid request: {} streams; a connection can listen to at most {MAX_STREAMS}",
            out.len()
        ));
    }
    Ok(out)
}

fn refuse(msg: &str) -> HttpResponse {
    HttpResponse::build(StatusCode::BAD_REQUEST)
        .content_type("application/json")
        .body(serde_json::json!({"code": 2, "msg": msg}).to_string())
}

/// `GET /ws/<streamName>`: one raw stream.
pub async fn serve_raw(
    req: HttpRequest,
    body: web::Payload,
    engine: SharedEngine,
    hub: Arc<MarketHub>,
) -> HttpResponse {
    let name = req
        .match_info()
        .get("stream")
        .unwrap_or_default()
        .to_string();
    match parse_streams([name.as_str()]) {
        Ok(specs) => upgrade(req, body, engine, hub, specs, false),
        Err(msg) => refuse(&msg),
    }
}

/// `GET /stream?streams=<a>/<b>/…`: combined streams.
pub async fn serve_combined(
    req: HttpRequest,
    body: web::Payload,
    engine: SharedEngine,
    hub: Arc<MarketHub>,
) -> HttpResponse {
    let params = match Params::parse(req.query_string(), "") {
        Ok(p) => p,
        Err(e) => return refuse(&format!("Invalid request: {}", e.msg)),
    };
    let list = params.get("streams").unwrap_or_default().to_string();
    match parse_streams(list.split('/').filter(|s| !s.is_empty())) {
        Ok(specs) => upgrade(req, body, engine, hub, specs, true),
        Err(msg) => refuse(&msg),
    }
}

fn upgrade(
    req: HttpRequest,
    body: web::Payload,
    engine: SharedEngine,
    hub: Arc<MarketHub>,
    specs: Vec<StreamSpec>,
    combined: bool,
) -> HttpResponse {
    let (response, session, stream) = match actix_ws::handle(&req, body) {
        Ok(t) => t,
        Err(e) => return e.error_response(),
    };
    let subs: Vec<Sub> = {
        let ex = lock(&engine);
        specs
            .into_iter()
            .map(|s| {
                let served = s.lowercase && ex.symbol_config(&s.symbol).is_some();
                if !served {
                    log::warn!(
                        "Market stream {:?}: no lowercase listed symbol; accepted and never served, as Binance does",
                        s.name
                    );
                }
                Sub {
                    spec: s,
                    served,
                    last_sent: None,
                }
            })
            .collect()
    };
    let ignored = subs.iter().filter(|s| !s.served).count() as u64;
    let id = {
        let mut st = hub.st();
        st.connections += 1;
        st.open_connections += 1;
        st.ignored_streams += ignored;
        st.connections
    };
    log::info!(
        "Market stream connection={id} opened: {}",
        subs.iter()
            .map(|s| s.spec.name.as_str())
            .collect::<Vec<_>>()
            .join("/")
    );
    actix_web::rt::spawn(async move {
        let conn = Conn {
            engine,
            hub: hub.clone(),
            session,
            combined,
            subs,
            pings: Vec::new(),
            ping_count: 0,
        };
        let end = conn.run(stream).await;
        hub.st().open_connections -= 1;
        log::info!("Market stream connection={id} ended: {end}");
    });
    response
}

struct Sub {
    spec: StreamSpec,
    served: bool,
    /// The last ticker sent, from `"s"` on (everything but `e` and `E`).
    last_sent: Option<String>,
}

struct Conn {
    engine: SharedEngine,
    hub: Arc<MarketHub>,
    session: actix_ws::Session,
    combined: bool,
    subs: Vec<Sub>,
    /// Outstanding pings: payload, when sent.
    pings: Vec<(Vec<u8>, Instant)>,
    ping_count: u64,
}

enum End {
    Client,
    Dropped,
    Closed(CloseCode, &'static str),
}

impl std::fmt::Display for End {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            End::Client => write!(f, "client closed or left"),
            End::Dropped => write!(f, "dropped (POST /sim/market/drop)"),
            End::Closed(_, why) => write!(f, "closed by the server: {why}"),
        }
    }
}

impl Conn {
    async fn run(mut self, mut stream: actix_ws::MessageStream) -> End {
        let mut drops = self.hub.drops.subscribe();
        let start = Instant::now();
        // The first tick of an interval is immediate: the first tickers go at once.
        let mut push_iv = tokio::time::interval_at(start, UPDATE_EVERY);
        push_iv.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut ping_iv = tokio::time::interval_at(start + self.hub.ping, self.hub.ping);
        let far = start + Duration::from_secs(10 * 365 * 86_400);
        let lifetime_end = start + self.hub.lifetime;
        let end = loop {
            let pong_deadline = self
                .pings
                .first()
                .map_or(far, |(_, at)| *at + self.hub.pong_timeout);
            tokio::select! {
                msg = stream.recv() => match msg {
                    None | Some(Err(_)) => break End::Client,
                    Some(Ok(m)) => {
                        if let Some(end) = self.on_message(m).await {
                            break end;
                        }
                    }
                },
                _ = push_iv.tick() => {
                    if let Some(end) = self.push().await {
                        break end;
                    }
                }
                _ = ping_iv.tick() => {
                    self.ping_count += 1;
                    let payload = self.ping_count.to_string().into_bytes();
                    if self.session.ping(&payload).await.is_err() {
                        break End::Client;
                    }
                    self.pings.push((payload, Instant::now()));
                    self.hub.st().pings_sent += 1;
                }
                _ = sleep_until(pong_deadline) => {
                    self.hub.st().closed_pong_timeout += 1;
                    break End::Closed(CloseCode::Policy, "no pong");
                }
                _ = sleep_until(lifetime_end) => {
                    self.hub.st().closed_lifetime += 1;
                    break End::Closed(CloseCode::Away, "connection lifetime over");
                }
                cmd = drops.recv() => match cmd {
                    Ok(()) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        self.hub.st().dropped += 1;
                        break End::Dropped;
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                        break End::Closed(CloseCode::Away, "server stopping");
                    }
                },
            }
        };
        match &end {
            End::Closed(code, why) => {
                let _ = self
                    .session
                    .close(Some(CloseReason {
                        code: *code,
                        description: Some((*why).to_string()),
                    }))
                    .await;
            }
            End::Dropped => drop(self.session),
            End::Client => {}
        }
        end
    }

    async fn on_message(&mut self, m: Message) -> Option<End> {
        match m {
            Message::Ping(p) => self.session.pong(&p).await.err().map(|_| End::Client),
            Message::Pong(p) => {
                if let Some(i) = self.pings.iter().position(|(q, _)| q[..] == p[..]) {
                    // Answers this ping and every older one.
                    self.pings.drain(..=i);
                    self.hub.st().pongs_received += 1;
                }
                None
            }
            Message::Text(t) => {
                let id = serde_json::from_str::<serde_json::Value>(&t)
                    .ok()
                    .and_then(|v| v.get("id").cloned())
                    .unwrap_or(serde_json::Value::Null);
                let answer = serde_json::json!({
                    "error": {"code": 2, "msg": "Invalid request: the simulator takes no live SUBSCRIBE/UNSUBSCRIBE; name the streams in the URL"},
                    "id": id,
                });
                self.session
                    .text(answer.to_string())
                    .await
                    .err()
                    .map(|_| End::Client)
            }
            Message::Close(_) => Some(End::Client),
            Message::Binary(_) | Message::Continuation(_) | Message::Nop => None,
        }
    }

    /// Sends the tickers that differ from the last ones sent.
    async fn push(&mut self) -> Option<End> {
        let mut frames = Vec::new();
        {
            let ex = lock(&self.engine);
            let now = ex.now();
            for sub in self.subs.iter_mut().filter(|s| s.served) {
                let st = match ex.window_stats(&sub.spec.symbol, now - 86_400_000) {
                    Ok(st) => st,
                    Err(e) => {
                        log::warn!("Market stream {:?}: {}", sub.spec.name, e.msg);
                        continue;
                    }
                };
                let tail = format!(
                    "\"s\":\"{}\",\"c\":\"{}\",\"o\":\"{}\",\"h\":\"{}\",\"l\":\"{}\",\"v\":\"{}\",\"q\":\"{}\"",
                    sub.spec.symbol,
                    d8(st.last),
                    d8(st.open),
                    d8(st.high),
                    d8(st.low),
                    d8(st.volume),
                    d8(st.quote_volume)
                );
                if sub.last_sent.as_deref() == Some(tail.as_str()) {
                    continue;
                }
                let payload = format!("{{\"e\":\"24hrMiniTicker\",\"E\":{now},{tail}}}");
                frames.push(if self.combined {
                    format!("{{\"stream\":\"{}\",\"data\":{payload}}}", sub.spec.name)
                } else {
                    payload
                });
                sub.last_sent = Some(tail);
            }
        }
        for f in frames {
            if self.session.text(f).await.is_err() {
                return Some(End::Client);
            }
            self.hub.st().messages_sent += 1;
        }
        None
    }
}

/// The market streams' control (unsigned, loopback only): `GET /sim/market`
/// (the counters, [`MarketStats`]) and
/// `POST /sim/market/drop` (drops every market-stream connection).
pub(crate) fn control(req: &HttpRequest, path: &str, hub: &MarketHub) -> HttpResponse {
    if !loopback(req) {
        return json_resp(403, r#"{"error":"control API is loopback-only"}"#.into());
    }
    match (req.method().as_str(), path) {
        ("GET", "/sim/market") => match serde_json::to_string(&hub.stats()) {
            Ok(s) => json_resp(200, s),
            Err(e) => json_resp(500, serde_json::json!({"error": e.to_string()}).to_string()),
        },
        ("POST", "/sim/market/drop") => {
            hub.drop_all();
            json_resp(200, "{}".into())
        }
        _ => json_resp(404, r#"{"error":"unknown control endpoint"}"#.into()),
    }
}

/// The path of the combined mini-ticker streams of `symbols`:
/// `/stream?streams=a@miniTicker/b@miniTicker`.
pub fn combined_path(symbols: &[&str]) -> String {
    let list: Vec<String> = symbols
        .iter()
        .map(|s| format!("{}@{MINI_TICKER}", s.to_ascii_lowercase()))
        .collect();
    format!("/stream?streams={}", list.join("/"))
}

#[cfg(test)]
#[path = "tests/market_stream.rs"]
mod tests;

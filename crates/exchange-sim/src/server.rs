//! The HTTP server: actix-web on its own thread and runtime, every request
//! routed through [`crate::api`] against the shared engine, the WebSocket
//! API at `/ws-api/v3` ([`crate::ws`]), the market-data streams at
//! `/ws/<streamName>` and `/stream?streams=…` ([`crate::market_stream`]),
//! plus the unsigned loopback-only control API under `/sim/`.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BodySize, MessageBody};
use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::api::{self, ApiRequest, ApiResponse, Prepared};
use crate::config::{FaultConfig, SimConfig};
use crate::engine::SymbolChange;
use crate::error::SimError;
use crate::market_stream::MarketHub;
use crate::types::symbol_status_from;
use crate::ws::WsHub;

/// Shared engine handle: the server's threads, [`crate::InProcess`] and a
/// test's hands all reach one engine through it.
pub type SharedEngine = Arc<Mutex<crate::engine::Engine>>;

/// Locks the engine, recovering from a poisoned lock (the state machine has no
/// invariants that a panic in another request could leave half-applied across
/// the lock boundary other than the one being logged).
pub fn lock(e: &SharedEngine) -> MutexGuard<'_, crate::engine::Engine> {
    match e.lock() {
        Ok(g) => g,
        Err(p) => {
            log::error!("Engine lock poisoned; continuing");
            p.into_inner()
        }
    }
}

/// A running simulator HTTP server.
pub struct SimServer {
    addr: SocketAddr,
    engine: SharedEngine,
    hub: Arc<WsHub>,
    market: Arc<MarketHub>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

struct AppState {
    engine: SharedEngine,
    hub: Arc<WsHub>,
    market: Arc<MarketHub>,
}

impl SimServer {
    /// Binds (use "127.0.0.1:0" for a free port), starts serving in a
    /// background thread with its own runtime, returns once it accepts connections.
    ///
    /// # Errors
    /// [`SimError::Bind`] when the address cannot be bound, config/klines errors
    /// from [`crate::Engine::new`], [`SimError::Server`] when the server fails to start.
    pub fn start(config: SimConfig, bind: &str) -> Result<SimServer, SimError> {
        let workers = config.workers.max(1);
        let auto = config.price_path.auto_advance_ms.filter(|&ms| ms > 0);
        let speed = config.price_path.speed;
        let hub = Arc::new(WsHub::new(&config));
        let market = Arc::new(MarketHub::new(&config));
        let mut eng = crate::engine::Engine::new(config)?;
        eng.enable_user_events();
        let engine: SharedEngine = Arc::new(Mutex::new(eng));
        let listener = std::net::TcpListener::bind(bind).map_err(|source| SimError::Bind {
            addr: bind.to_string(),
            source,
        })?;
        let addr = listener.local_addr().map_err(|source| SimError::Bind {
            addr: bind.to_string(),
            source,
        })?;
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), String>>();
        let eng = engine.clone();
        let ws_hub = hub.clone();
        let market_hub = market.clone();
        let thread = std::thread::Builder::new()
            .name("exchange-sim-http".into())
            .spawn(move || {
                let sys = actix_web::rt::System::new();
                let res = sys.block_on(async move {
                    let data = web::Data::new(AppState {
                        engine: eng.clone(),
                        hub: ws_hub.clone(),
                        market: market_hub.clone(),
                    });
                    let server = HttpServer::new(move || {
                        App::new()
                            .app_data(data.clone())
                            .app_data(web::PayloadConfig::new(1 << 20))
                            .route("/ws-api/v3", web::get().to(ws_entry))
                            .route("/ws/{stream}", web::get().to(market_raw_entry))
                            .route("/stream", web::get().to(market_combined_entry))
                            .default_service(web::to(dispatch))
                    })
                    .workers(workers)
                    .shutdown_timeout(5)
                    .disable_signals()
                    .listen(listener);
                    let server = match server {
                        Ok(s) => s.run(),
                        Err(e) => {
                            let _ = ready_tx.send(Err(e.to_string()));
                            return Ok(());
                        }
                    };
                    let handle = server.handle();
                    let stop_hub = ws_hub.clone();
                    let stop_market = market_hub.clone();
                    actix_web::rt::spawn(async move {
                        let _ = stop_rx.await;
                        // WebSocket sessions never end by themselves.
                        stop_hub.drop_all();
                        stop_market.drop_all();
                        handle.stop(true).await;
                    });
                    if let Some(ms) = auto {
                        let eng = eng.clone();
                        actix_web::rt::spawn(async move {
                            let step = (Decimal::from(ms) * speed).to_i64().unwrap_or(0);
                            let mut iv = actix_web::rt::time::interval(Duration::from_millis(ms));
                            iv.tick().await;
                            loop {
                                iv.tick().await;
                                let _ = lock(&eng).advance(step);
                            }
                        });
                    }
                    let _ = ready_tx.send(Ok(()));
                    server.await
                });
                if let Err(e) = res {
                    log::error!("Simulator server stopped with error: {e}");
                }
            })
            .map_err(|e| SimError::Server(e.to_string()))?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(SimError::Server(e)),
            Err(_) => return Err(SimError::Server("server thread exited".into())),
        }
        log::info!("Exchange simulator listening on http://{addr}");
        Ok(SimServer {
            addr,
            engine,
            hub,
            market,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// e.g. "http://127.0.0.1:41234".
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// e.g. "ws://127.0.0.1:41234/ws-api/v3": the WebSocket API.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws-api/v3", self.addr)
    }

    /// The WebSocket API's sessions and faults (also `/sim/ws/…`).
    pub fn ws_hub(&self) -> Arc<WsHub> {
        self.hub.clone()
    }

    /// e.g. "ws://127.0.0.1:41234": the market-data streams' base
    /// (`/ws/<streamName>`, `/stream?streams=…`).
    pub fn market_stream_url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// The market-data streams' counters and drop control (also `/sim/market…`).
    pub fn market_hub(&self) -> Arc<MarketHub> {
        self.market.clone()
    }

    /// The engine, for in-process control (lock it with [`lock`] or `.lock()`).
    pub fn engine(&self) -> SharedEngine {
        self.engine.clone()
    }

    /// Stops the server and waits for its thread.
    pub fn shutdown(mut self) {
        self.stop_inner();
    }

    /// Blocks until the server stops (binary use).
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    fn stop_inner(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        self.stop_inner();
    }
}

/// A body that fails after the headers: the client sees a dropped connection.
struct Broken;

impl MessageBody for Broken {
    type Error = std::io::Error;
    fn size(&self) -> BodySize {
        BodySize::Sized(64)
    }
    fn poll_next(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "injected fault",
        ))))
    }
}

fn to_http(r: ApiResponse) -> HttpResponse {
    if r.drop_connection {
        return HttpResponse::Ok().body(Broken);
    }
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut b = HttpResponse::build(status);
    for (k, v) in &r.headers {
        b.insert_header((k.as_str(), v.as_str()));
    }
    if r.body.is_empty() {
        b.finish()
    } else {
        b.content_type("application/json;charset=UTF-8")
            .body(r.body)
    }
}

async fn ws_entry(req: HttpRequest, body: web::Payload, data: web::Data<AppState>) -> HttpResponse {
    crate::ws::serve(req, body, data.engine.clone(), data.hub.clone()).await
}

async fn market_raw_entry(
    req: HttpRequest,
    body: web::Payload,
    data: web::Data<AppState>,
) -> HttpResponse {
    crate::market_stream::serve_raw(req, body, data.engine.clone(), data.market.clone()).await
}

async fn market_combined_entry(
    req: HttpRequest,
    body: web::Payload,
    data: web::Data<AppState>,
) -> HttpResponse {
    crate::market_stream::serve_combined(req, body, data.engine.clone(), data.market.clone()).await
}

async fn dispatch(req: HttpRequest, body: Bytes, data: web::Data<AppState>) -> HttpResponse {
    let path = req.path().to_string();
    if path.starts_with("/sim/ws") {
        return ws_control(&req, &path, &body, &data.hub);
    }
    if path == "/sim/market" || path.starts_with("/sim/market/") {
        return crate::market_stream::control(&req, &path, &data.market);
    }
    if path.starts_with("/sim/") {
        return control(&req, &path, &body, &data.engine);
    }
    let api_key = req
        .headers()
        .get("X-MBX-APIKEY")
        .and_then(|v| v.to_str().ok());
    let areq = ApiRequest {
        method: req.method().as_str(),
        path: &path,
        query: req.query_string(),
        body: &body,
        api_key,
    };
    let prepared = api::prepare(&mut lock(&data.engine), &areq);
    let resp = match prepared {
        Prepared::Done(r) => r,
        Prepared::Go { route, delay_ms } => {
            if delay_ms > 0 {
                actix_web::rt::time::sleep(Duration::from_millis(delay_ms)).await;
            }
            api::execute(&mut lock(&data.engine), route, &areq)
        }
    };
    to_http(resp)
}

#[derive(Deserialize)]
struct PriceReq {
    symbol: String,
    price: serde_json::Value,
}

#[derive(Deserialize)]
struct AdvanceReq {
    ms: i64,
}

/// `POST /sim/symbol` body: decimals as strings or numbers, unknown fields refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SymbolReq {
    symbol: String,
    #[serde(default)]
    tick_size: Option<serde_json::Value>,
    #[serde(default)]
    min_price: Option<serde_json::Value>,
    #[serde(default)]
    step_size: Option<serde_json::Value>,
    #[serde(default)]
    min_qty: Option<serde_json::Value>,
    #[serde(default)]
    min_notional: Option<serde_json::Value>,
    #[serde(default)]
    max_notional: Option<serde_json::Value>,
    #[serde(default)]
    status: Option<String>,
}

fn json_decimal(field: &str, v: Option<&serde_json::Value>) -> Result<Option<Decimal>, String> {
    let text = match v {
        None | Some(serde_json::Value::Null) => return Ok(None),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        Some(other) => {
            return Err(format!(
                "{field} must be a decimal string like \"0.01\", got {other}"
            ))
        }
    };
    text.trim()
        .parse::<Decimal>()
        .map(Some)
        .map_err(|_| format!("{field} must be a decimal string like \"0.01\", got {text:?}"))
}

/// Parses a `POST /sim/symbol` body into a [`SymbolChange`].
///
/// # Errors
/// A message naming the bad field (not JSON, unknown field, invalid decimal or status).
pub fn parse_symbol_change(body: &[u8]) -> Result<SymbolChange, String> {
    let r: SymbolReq = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let status = match r.status {
        None => None,
        Some(s) => Some(symbol_status_from(&s)?),
    };
    Ok(SymbolChange {
        tick_size: json_decimal("tick_size", r.tick_size.as_ref())?,
        min_price: json_decimal("min_price", r.min_price.as_ref())?,
        step_size: json_decimal("step_size", r.step_size.as_ref())?,
        min_qty: json_decimal("min_qty", r.min_qty.as_ref())?,
        min_notional: json_decimal("min_notional", r.min_notional.as_ref())?,
        max_notional: json_decimal("max_notional", r.max_notional.as_ref())?,
        status,
        symbol: r.symbol,
    })
}

pub(crate) fn json_resp(status: u16, body: String) -> HttpResponse {
    HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST))
        .content_type("application/json")
        .body(body)
}

fn bad(msg: &str) -> HttpResponse {
    json_resp(400, serde_json::json!({"error": msg}).to_string())
}

pub(crate) fn loopback(req: &HttpRequest) -> bool {
    req.peer_addr().is_some_and(|a| a.ip().is_loopback())
}

fn parse_or_default<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| e.to_string())
}

/// The WebSocket API's control (unsigned, loopback only): `GET /sim/ws`,
/// `POST /sim/ws/faults`, `/sim/ws/drop`, `/sim/ws/terminate`, `/sim/ws/shutdown`.
fn ws_control(req: &HttpRequest, path: &str, body: &[u8], hub: &WsHub) -> HttpResponse {
    if !loopback(req) {
        return json_resp(403, r#"{"error":"control API is loopback-only"}"#.into());
    }
    let ok = || json_resp(200, "{}".into());
    match (req.method().as_str(), path) {
        ("GET", "/sim/ws") => match serde_json::to_string(&hub.state()) {
            Ok(s) => json_resp(200, s),
            Err(e) => json_resp(500, serde_json::json!({"error": e.to_string()}).to_string()),
        },
        ("POST", "/sim/ws/faults") => {
            let f: crate::config::WsFaultConfig = match parse_or_default(body) {
                Ok(f) => f,
                Err(e) => return bad(&e),
            };
            let out = serde_json::to_string(&f).unwrap_or_default();
            match hub.set_faults(f) {
                Ok(()) => json_resp(200, out),
                Err(e) => bad(&e),
            }
        }
        ("POST", "/sim/ws/drop") => {
            hub.drop_all();
            ok()
        }
        ("POST", "/sim/ws/terminate") => match parse_or_default::<crate::ws::TerminateReq>(body) {
            Ok(r) => {
                hub.terminate(r.session, r.subscription_id);
                ok()
            }
            Err(e) => bad(&e),
        },
        ("POST", "/sim/ws/shutdown") => match parse_or_default::<crate::ws::ShutdownReq>(body) {
            Ok(r) => {
                hub.server_shutdown(r.close_after_ms);
                ok()
            }
            Err(e) => bad(&e),
        },
        _ => json_resp(404, r#"{"error":"unknown control endpoint"}"#.into()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DepositReq {
    asset: String,
    delta: serde_json::Value,
}

/// The control API (unsigned, loopback only).
fn control(req: &HttpRequest, path: &str, body: &[u8], engine: &SharedEngine) -> HttpResponse {
    let loopback = req.peer_addr().is_some_and(|a| a.ip().is_loopback());
    if !loopback {
        return json_resp(403, r#"{"error":"control API is loopback-only"}"#.into());
    }
    let method = req.method().as_str();
    match (method, path) {
        ("POST", "/sim/price") => {
            let r: PriceReq = match serde_json::from_slice(body) {
                Ok(r) => r,
                Err(e) => return bad(&e.to_string()),
            };
            let price_s = match &r.price {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                _ => return bad("price must be a string or number"),
            };
            let Ok(price) = price_s.parse::<Decimal>() else {
                return bad("invalid price");
            };
            let mut ex = lock(engine);
            match ex.set_price(&r.symbol, price) {
                Ok(trades) => json_resp(
                    200,
                    serde_json::json!({"symbol": r.symbol, "price": price, "trades": trades})
                        .to_string(),
                ),
                Err(e) => json_resp(400, e.body()),
            }
        }
        ("POST", "/sim/symbol") => {
            let change = match parse_symbol_change(body) {
                Ok(c) => c,
                Err(e) => return bad(&e),
            };
            match lock(engine).set_symbol(&change) {
                Ok(cfg) => match serde_json::to_string(&cfg) {
                    Ok(s) => json_resp(200, s),
                    Err(e) => {
                        json_resp(500, serde_json::json!({"error": e.to_string()}).to_string())
                    }
                },
                Err(e) => bad(&e.to_string()),
            }
        }
        ("POST", "/sim/advance") => {
            let r: AdvanceReq = match serde_json::from_slice(body) {
                Ok(r) => r,
                Err(e) => return bad(&e.to_string()),
            };
            let mut ex = lock(engine);
            let trades = ex.advance(r.ms);
            let prices = ex.state().prices;
            json_resp(
                200,
                serde_json::json!({"time": ex.now(), "prices": prices, "trades": trades})
                    .to_string(),
            )
        }
        ("POST", "/sim/faults") => {
            let f: FaultConfig = match serde_json::from_slice(body) {
                Ok(f) => f,
                Err(e) => return bad(&e.to_string()),
            };
            let out = serde_json::to_string(&f).unwrap_or_default();
            lock(engine).set_faults(f);
            json_resp(200, out)
        }
        ("GET", "/sim/state") => {
            let st = lock(engine).state();
            match serde_json::to_string(&st) {
                Ok(s) => json_resp(200, s),
                Err(e) => json_resp(500, serde_json::json!({"error": e.to_string()}).to_string()),
            }
        }
        ("POST", "/sim/deposit") => {
            let r: DepositReq = match serde_json::from_slice(body) {
                Ok(r) => r,
                Err(e) => return bad(&e.to_string()),
            };
            let delta = match json_decimal("delta", Some(&r.delta)) {
                Ok(Some(d)) => d,
                Ok(None) => return bad("delta must be a decimal string like \"10\""),
                Err(e) => return bad(&e),
            };
            match lock(engine).deposit(&r.asset, delta) {
                Ok(b) => json_resp(
                    200,
                    serde_json::json!({"asset": r.asset, "free": b.free, "locked": b.locked})
                        .to_string(),
                ),
                Err(e) => json_resp(400, e.body()),
            }
        }
        ("POST", "/sim/reset") => {
            lock(engine).reset();
            json_resp(200, "{}".into())
        }
        _ => json_resp(404, r#"{"error":"unknown control endpoint"}"#.into()),
    }
}

//! The WebSocket API (`/ws-api/v3` on the HTTP port) as far as a bot's
//! user-data stream needs it (binance-ws.md §1–§2): `ping`, `time`,
//! `userDataStream.subscribe.signature`, `userDataStream.unsubscribe`,
//! `session.subscriptions`; the account's events from the engine's log; the
//! server's pings; and seeded faults ([`WsFaultConfig`], [`WsHub`]).
//!
//! Invariants:
//! - every session reads the engine's one event log ([`crate::user_stream`])
//!   from its subscription's cursor: it sends every event once, in the
//!   engine's order, unless a fault in force says otherwise (duplicate,
//!   swap two adjacent events, hold them `delay_ms`, drop the connection);
//! - a subscription whose cursor fell out of the bounded log gets
//!   `eventStreamTerminated` and ends: nothing is skipped silently;
//! - one subscription per connection at a time (one account: a second one
//!   is refused with -2035, as Binance refuses a second for the same
//!   account), ids 0, 1, … per connection, at most 65,535 (-2042);
//! - the server pings every `ws_ping_ms` and closes a session (close
//!   frame 1008) when a ping has had no pong echoing its payload for
//!   `ws_pong_timeout_ms`; it answers the client's pings with pongs and
//!   closes every session `ws_max_lifetime_ms` after it connected;
//! - a fault's drop ends the connection without a close frame (what a
//!   network drop looks like to the client); the engine is never touched by
//!   a fault: the events stay in the log for the next subscription's REST sweep.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::web;
use actix_web::{HttpRequest, HttpResponse};
use actix_ws::{CloseCode, CloseReason, Message};
use serde::{Deserialize, Serialize};
use tokio::time::{sleep_until, Instant};

use crate::api::{verify_ws_signed, Params};
use crate::config::{SimConfig, WsFaultConfig};
use crate::error::ApiError;
use crate::path::Rng;
use crate::server::{lock, SharedEngine};
use crate::user_stream::{envelope, server_shutdown_json, terminated_json};

/// Subscription ids a connection may use over its life (binance-ws.md §2).
const MAX_SUBSCRIPTION_IDS: u32 = 65_535;

/// What one session has done (`GET /sim/ws`).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct WsSessionInfo {
    /// The session's number (1, 2, … in connection order).
    pub session: u64,
    /// Its active subscription ids.
    pub subscriptions: Vec<u32>,
    /// Events sent (duplicates counted).
    pub events_sent: u64,
    /// Pings the server sent.
    pub pings_sent: u64,
    /// Pongs that answered them.
    pub pongs_received: u64,
}

/// Counters over every session (`GET /sim/ws`).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct WsStats {
    /// Connections accepted.
    pub connections: u64,
    /// Sessions closed for a missing pong.
    pub closed_pong_timeout: u64,
    /// Sessions closed at the end of their lifetime.
    pub closed_lifetime: u64,
    /// Connections dropped by a fault (`drop_after_events`, `POST /sim/ws/drop`).
    pub dropped: u64,
    /// Subscriptions ended because their cursor fell out of the event log.
    pub terminated_lagged: u64,
    /// Subscriptions ended by `POST /sim/ws/terminate`.
    pub terminated_by_fault: u64,
    /// Events sent twice by the duplicate fault.
    pub duplicated: u64,
    /// Adjacent event pairs swapped by the reorder fault.
    pub reordered: u64,
}

/// The WebSocket API's state (`GET /sim/ws`).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct WsState {
    /// Open sessions.
    pub sessions: Vec<WsSessionInfo>,
    /// Counters.
    pub stats: WsStats,
    /// The faults in force.
    pub faults: WsFaultConfig,
}

/// A command to the open sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    /// Drop every connection now (no close frame).
    DropAll,
    /// `eventStreamTerminated` to the matching subscriptions, which end.
    Terminate {
        session: Option<u64>,
        subscription: Option<u32>,
    },
    /// `serverShutdown` to every session; closed (1001) after the delay if given.
    Shutdown { close_after_ms: Option<u64> },
}

#[derive(Debug, Default)]
struct HubState {
    faults: WsFaultConfig,
    faults_version: u64,
    sessions: BTreeMap<u64, WsSessionInfo>,
    stats: WsStats,
}

/// The sessions' shared state and the control of their faults: one per
/// server ([`crate::SimServer::ws_hub`]; `/sim/ws/…` over HTTP).
#[derive(Debug)]
pub struct WsHub {
    state: Mutex<HubState>,
    commands: tokio::sync::broadcast::Sender<Command>,
    next_session: AtomicU64,
    ping: Duration,
    pong_timeout: Duration,
    lifetime: Duration,
}

impl WsHub {
    /// A hub with the config's timings and faults.
    pub fn new(cfg: &SimConfig) -> WsHub {
        let (tx, _rx) = tokio::sync::broadcast::channel(64);
        WsHub {
            state: Mutex::new(HubState {
                faults: cfg.ws_faults.clone(),
                ..HubState::default()
            }),
            commands: tx,
            next_session: AtomicU64::new(1),
            ping: Duration::from_millis(cfg.ws_ping_ms),
            pong_timeout: Duration::from_millis(cfg.ws_pong_timeout_ms),
            lifetime: Duration::from_millis(cfg.ws_max_lifetime_ms),
        }
    }

    fn st(&self) -> MutexGuard<'_, HubState> {
        match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Installs faults (every session reseeds its draws from them).
    ///
    /// # Errors
    /// A message naming a rate outside 0..=1.
    pub fn set_faults(&self, f: WsFaultConfig) -> Result<(), String> {
        f.validate()?;
        log::info!("WebSocket faults set: {f:?}");
        let mut st = self.st();
        st.faults = f;
        st.faults_version += 1;
        Ok(())
    }

    /// Open sessions, counters and faults.
    pub fn state(&self) -> WsState {
        let st = self.st();
        WsState {
            sessions: st.sessions.values().cloned().collect(),
            stats: st.stats.clone(),
            faults: st.faults.clone(),
        }
    }

    /// Drops every connection now, without a close frame.
    pub fn drop_all(&self) {
        let _ = self.commands.send(Command::DropAll);
    }

    /// Sends `eventStreamTerminated` to the subscriptions of `session` (all
    /// sessions when `None`) with id `subscription` (all when `None`), which end.
    pub fn terminate(&self, session: Option<u64>, subscription: Option<u32>) {
        let _ = self.commands.send(Command::Terminate {
            session,
            subscription,
        });
    }

    /// Sends `serverShutdown` to every session; closes them `close_after_ms` later when given.
    pub fn server_shutdown(&self, close_after_ms: Option<u64>) {
        let _ = self.commands.send(Command::Shutdown { close_after_ms });
    }

    fn with_session(&self, id: u64, f: impl FnOnce(&mut WsSessionInfo)) {
        if let Some(s) = self.st().sessions.get_mut(&id) {
            f(s);
        }
    }
}

/// `GET /ws-api/v3`: upgrades, charges the connection's weight (2), and
/// runs the session on the server's runtime. `?returnRateLimits=false`
/// drops `rateLimits` from every answer of the session.
pub async fn serve(
    req: HttpRequest,
    body: web::Payload,
    engine: SharedEngine,
    hub: Arc<WsHub>,
) -> HttpResponse {
    if let Err(e) = lock(&engine).admit("WS /ws-api/v3", 2) {
        return HttpResponse::build(
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::TOO_MANY_REQUESTS),
        )
        .content_type("application/json")
        .body(e.body());
    }
    let rate_limits = !req
        .query_string()
        .split('&')
        .any(|kv| kv.eq_ignore_ascii_case("returnRateLimits=false"));
    let (response, session, stream) = match actix_ws::handle(&req, body) {
        Ok(t) => t,
        Err(e) => return e.error_response(),
    };
    let id = hub.next_session.fetch_add(1, Ordering::Relaxed);
    {
        let mut st = hub.st();
        st.stats.connections += 1;
        st.sessions.insert(
            id,
            WsSessionInfo {
                session: id,
                ..WsSessionInfo::default()
            },
        );
    }
    log::info!("WebSocket session={id} connected");
    actix_web::rt::spawn(async move {
        let conn = Conn {
            id,
            engine,
            hub: hub.clone(),
            session,
            rate_limits,
            subs: Vec::new(),
            subs_created: 0,
            rng: Rng::new(0),
            faults_version: u64::MAX,
            events_since_faults: 0,
            outq: VecDeque::new(),
            pings: Vec::new(),
            ping_count: 0,
        };
        let end = conn.run(stream).await;
        hub.st().sessions.remove(&id);
        log::info!("WebSocket session={id} ended: {end}");
    });
    response
}

struct Sub {
    id: u32,
    cursor: u64,
}

struct Conn {
    id: u64,
    engine: SharedEngine,
    hub: Arc<WsHub>,
    session: actix_ws::Session,
    rate_limits: bool,
    subs: Vec<Sub>,
    subs_created: u32,
    rng: Rng,
    faults_version: u64,
    events_since_faults: u64,
    /// Event frames waiting for their time (the delay fault).
    outq: VecDeque<(Instant, String)>,
    /// Outstanding pings: payload, when sent.
    pings: Vec<(Vec<u8>, Instant)>,
    ping_count: u64,
}

/// Why a session ended.
enum End {
    Client,
    Dropped,
    Closed(&'static str),
}

impl std::fmt::Display for End {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            End::Client => write!(f, "client closed or left"),
            End::Dropped => write!(f, "dropped by a fault"),
            End::Closed(why) => write!(f, "closed by the server: {why}"),
        }
    }
}

/// An error frame's parts.
struct WsError {
    status: u16,
    err: ApiError,
}

impl From<ApiError> for WsError {
    fn from(err: ApiError) -> Self {
        WsError {
            status: err.status,
            err,
        }
    }
}

impl Conn {
    async fn run(mut self, mut stream: actix_ws::MessageStream) -> End {
        let mut signal = lock(&self.engine).user_event_signal();
        let mut commands = self.hub.commands.subscribe();
        let start = Instant::now();
        let mut ping_iv = tokio::time::interval_at(start + self.hub.ping, self.hub.ping);
        let far = start + Duration::from_secs(10 * 365 * 86_400);
        let lifetime_end = start + self.hub.lifetime;
        let mut shutdown_at: Option<Instant> = None;
        let end = loop {
            let pong_deadline = self
                .pings
                .first()
                .map_or(far, |(_, at)| *at + self.hub.pong_timeout);
            let out_due = self.outq.front().map_or(far, |(t, _)| *t);
            let close_at = shutdown_at.map_or(lifetime_end, |s| s.min(lifetime_end));
            tokio::select! {
                msg = stream.recv() => {
                    match msg {
                        None | Some(Err(_)) => break End::Client,
                        Some(Ok(m)) => {
                            if let Some(end) = self.on_message(m).await {
                                break end;
                            }
                        }
                    }
                }
                _ = ping_iv.tick() => {
                    self.ping_count += 1;
                    let payload = self.ping_count.to_string().into_bytes();
                    if self.session.ping(&payload).await.is_err() {
                        break End::Client;
                    }
                    self.pings.push((payload, Instant::now()));
                    self.hub.with_session(self.id, |s| s.pings_sent += 1);
                }
                _ = sleep_until(pong_deadline) => {
                    self.hub.st().stats.closed_pong_timeout += 1;
                    break End::Closed("no pong");
                }
                _ = sleep_until(close_at) => {
                    if shutdown_at.is_some_and(|s| s <= lifetime_end) {
                        break End::Closed("server shutdown");
                    }
                    self.hub.st().stats.closed_lifetime += 1;
                    break End::Closed("connection lifetime over");
                }
                _ = sleep_until(out_due) => {
                    if let Some(end) = self.flush_due().await {
                        break end;
                    }
                }
                changed = signal.changed() => {
                    if changed.is_err() {
                        break End::Closed("engine gone");
                    }
                    if let Some(end) = self.deliver().await {
                        break end;
                    }
                }
                cmd = commands.recv() => {
                    match cmd {
                        Ok(Command::DropAll) => {
                            self.hub.st().stats.dropped += 1;
                            break End::Dropped;
                        }
                        Ok(Command::Terminate { session, subscription }) => {
                            if session.is_none_or(|s| s == self.id) {
                                if let Some(end) = self.terminate(subscription, true).await {
                                    break end;
                                }
                            }
                        }
                        Ok(Command::Shutdown { close_after_ms }) => {
                            let now = lock(&self.engine).now();
                            if self.session.text(server_shutdown_json(now)).await.is_err() {
                                break End::Client;
                            }
                            if let Some(ms) = close_after_ms {
                                shutdown_at = Some(Instant::now() + Duration::from_millis(ms));
                            }
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                            break End::Closed("server stopping");
                        }
                    }
                }
            }
        };
        match &end {
            End::Closed(why) => {
                let code = match *why {
                    "no pong" => CloseCode::Policy,
                    _ => CloseCode::Away,
                };
                let _ = self
                    .session
                    .close(Some(CloseReason {
                        code,
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
            Message::Text(t) => {
                for frame in self.on_request(&t) {
                    if self.session.text(frame).await.is_err() {
                        return Some(End::Client);
                    }
                }
                None
            }
            Message::Ping(p) => self.session.pong(&p).await.err().map(|_| End::Client),
            Message::Pong(p) => {
                if let Some(i) = self.pings.iter().position(|(q, _)| q[..] == p[..]) {
                    // Answers this ping and every older one.
                    self.pings.drain(..=i);
                    self.hub.with_session(self.id, |s| s.pongs_received += 1);
                }
                None
            }
            Message::Close(_) => Some(End::Client),
            Message::Binary(_) | Message::Continuation(_) | Message::Nop => None,
        }
    }

    /// Answers one request frame; returns the frames to send (the answer,
    /// then any `eventStreamTerminated` it causes).
    fn on_request(&mut self, text: &str) -> Vec<String> {
        let v: serde_json::Value = match serde_json::from_str(text) {
            Ok(v @ serde_json::Value::Object(_)) => v,
            _ => {
                return vec![self.answer(
                    &serde_json::Value::Null,
                    Err(ApiError::bad(-1135, "Invalid JSON Request").into()),
                    true,
                )]
            }
        };
        let id = v.get("id").cloned().unwrap_or(serde_json::Value::Null);
        let method = v
            .get("method")
            .and_then(|m| m.as_str())
            .map(|m| m.strip_prefix("v3/").unwrap_or(m).to_string());
        let (params, rate_limits) = match parse_params(v.get("params")) {
            Ok(p) => p,
            Err(e) => return vec![self.answer(&id, Err(e.into()), self.rate_limits)],
        };
        let rate_limits = rate_limits.unwrap_or(self.rate_limits);
        let Some(method) = method else {
            return vec![self.answer(&id, Err(ApiError::mandatory("method").into()), rate_limits)];
        };
        let mut after = Vec::new();
        let result = self.execute(&method, &params, &mut after);
        let mut out = vec![self.answer(&id, result, rate_limits)];
        out.extend(after);
        out
    }

    fn execute(
        &mut self,
        method: &str,
        p: &Params,
        after: &mut Vec<String>,
    ) -> Result<String, WsError> {
        let weight = match method {
            "ping" | "time" => 1,
            _ => 2,
        };
        let mut ex = lock(&self.engine);
        ex.admit(&format!("WS {method}"), weight)?;
        match method {
            "ping" => Ok("{}".into()),
            "time" => Ok(format!("{{\"serverTime\":{}}}", ex.server_time())),
            "userDataStream.subscribe.signature" => {
                verify_ws_signed(&ex, p)?;
                if !self.subs.is_empty() {
                    return Err(ApiError::bad(
                        -2035,
                        "User Data Stream subscription already active.",
                    )
                    .into());
                }
                if self.subs_created >= MAX_SUBSCRIPTION_IDS {
                    return Err(ApiError::bad(
                        -2042,
                        "Maximum subscription ID reached for this connection.",
                    )
                    .into());
                }
                let sub = Sub {
                    id: self.subs_created,
                    cursor: ex.user_event_seq(),
                };
                self.subs_created += 1;
                let sid = sub.id;
                self.subs.push(sub);
                drop(ex);
                self.sync_info();
                log::info!(
                    "WebSocket session={} subscribed subscription={sid}",
                    self.id
                );
                Ok(format!("{{\"subscriptionId\":{sid}}}"))
            }
            "userDataStream.unsubscribe" => {
                let want = match p.opt_nonempty("subscriptionId") {
                    None => None,
                    Some(v) => Some(
                        v.parse::<u32>()
                            .map_err(|_| ApiError::illegal("subscriptionId", "^[0-9]{1,5}$"))?,
                    ),
                };
                if let Some(w) = want {
                    if !self.subs.iter().any(|s| s.id == w) {
                        return Err(ApiError::bad(
                            -2036,
                            "User Data Stream subscription not active.",
                        )
                        .into());
                    }
                }
                let now = ex.now();
                drop(ex);
                for s in self.subs.iter().filter(|s| want.is_none_or(|w| w == s.id)) {
                    after.push(terminated_json(s.id, now));
                }
                self.subs.retain(|s| want.is_some_and(|w| w != s.id));
                self.sync_info();
                Ok("{}".into())
            }
            "session.subscriptions" => Ok(crate::api::arr(
                self.subs
                    .iter()
                    .map(|s| format!("{{\"subscriptionId\":{}}}", s.id)),
            )),
            _ => Err(ApiError::bad(-1020, "This operation is not supported.").into()),
        }
    }

    /// `{"id":…,"status":…,"result"|"error":…,"rateLimits":[…]}`.
    fn answer(
        &self,
        id: &serde_json::Value,
        result: Result<String, WsError>,
        rate_limits: bool,
    ) -> String {
        let ex = lock(&self.engine);
        let id = serde_json::to_string(id).unwrap_or_else(|_| "null".into());
        let mut out = match result {
            Ok(r) => format!("{{\"id\":{id},\"status\":200,\"result\":{r}"),
            Err(WsError { status, err }) => {
                let mut e = serde_json::json!({"code": err.code, "msg": err.msg});
                if let Some(s) = err.retry_after {
                    let now = ex.server_time();
                    e["data"] = serde_json::json!({
                        "serverTime": now,
                        "retryAfter": now + i64::try_from(s).unwrap_or(0) * 1000,
                    });
                }
                format!("{{\"id\":{id},\"status\":{status},\"error\":{e}")
            }
        };
        if rate_limits {
            out.push_str(&format!(
                ",\"rateLimits\":[{{\"rateLimitType\":\"REQUEST_WEIGHT\",\"interval\":\"MINUTE\",\"intervalNum\":1,\"limit\":{},\"count\":{}}}]",
                ex.config().limits.weight_per_minute,
                ex.weight_used()
            ));
        }
        out.push('}');
        out
    }

    fn sync_info(&self) {
        let ids: Vec<u32> = self.subs.iter().map(|s| s.id).collect();
        self.hub.with_session(self.id, |s| s.subscriptions = ids);
    }

    /// Reads the new events of every subscription, applies the faults and
    /// queues them (sent now, or after `delay_ms`).
    async fn deliver(&mut self) -> Option<End> {
        if self.subs.is_empty() {
            return None;
        }
        let faults = {
            let st = self.hub.st();
            if st.faults_version != self.faults_version {
                self.faults_version = st.faults_version;
                self.rng = Rng::new(st.faults.seed ^ self.id.wrapping_mul(0x9E37_79B9_7F4A_7C15));
                self.events_since_faults = 0;
            }
            st.faults.clone()
        };
        let mut frames: Vec<String> = Vec::new();
        let mut terminated: Vec<String> = Vec::new();
        {
            let ex = lock(&self.engine);
            let now = ex.now();
            let mut lagged = Vec::new();
            for s in &mut self.subs {
                match ex.user_events_since(s.cursor) {
                    Ok(evs) => {
                        if let Some((last, _)) = evs.last() {
                            s.cursor = last + 1;
                        }
                        frames.extend(evs.iter().map(|(_, e)| envelope(s.id, &e.to_json())));
                    }
                    Err(l) => {
                        log::warn!(
                            "WebSocket session={} subscription={} fell behind the event log (oldest kept {}): terminated",
                            self.id, s.id, l.oldest
                        );
                        terminated.push(terminated_json(s.id, now));
                        lagged.push(s.id);
                    }
                }
            }
            if !lagged.is_empty() {
                self.subs.retain(|s| !lagged.contains(&s.id));
                self.hub.st().stats.terminated_lagged += lagged.len() as u64;
            }
        }
        if !terminated.is_empty() {
            self.sync_info();
        }
        if faults.reorder_rate > 0.0 {
            let mut i = 0;
            while i + 1 < frames.len() {
                if self.rng.next_f64() < faults.reorder_rate {
                    frames.swap(i, i + 1);
                    self.hub.st().stats.reordered += 1;
                    i += 2;
                } else {
                    i += 1;
                }
            }
        }
        if faults.duplicate_rate > 0.0 {
            let mut out = Vec::with_capacity(frames.len());
            for f in frames {
                if self.rng.next_f64() < faults.duplicate_rate {
                    out.push(f.clone());
                    self.hub.st().stats.duplicated += 1;
                }
                out.push(f);
            }
            frames = out;
        }
        let due = Instant::now() + Duration::from_millis(faults.delay_ms);
        self.outq.extend(frames.into_iter().map(|f| (due, f)));
        if let Some(end) = self.flush_due().await {
            return Some(end);
        }
        for t in terminated {
            if self.session.text(t).await.is_err() {
                return Some(End::Client);
            }
        }
        None
    }

    /// Sends the queued event frames whose time has come.
    async fn flush_due(&mut self) -> Option<End> {
        let now = Instant::now();
        while self.outq.front().is_some_and(|(t, _)| *t <= now) {
            let Some((_, frame)) = self.outq.pop_front() else {
                break;
            };
            if self.session.text(frame).await.is_err() {
                return Some(End::Client);
            }
            self.events_since_faults += 1;
            self.hub.with_session(self.id, |s| s.events_sent += 1);
            let limit = self.hub.st().faults.drop_after_events;
            if limit.is_some_and(|n| self.events_since_faults >= n) {
                self.hub.st().stats.dropped += 1;
                return Some(End::Dropped);
            }
        }
        None
    }

    /// Ends subscription `which` (all when `None`) with `eventStreamTerminated`.
    async fn terminate(&mut self, which: Option<u32>, by_fault: bool) -> Option<End> {
        let now = lock(&self.engine).now();
        let ids: Vec<u32> = self
            .subs
            .iter()
            .map(|s| s.id)
            .filter(|id| which.is_none_or(|w| w == *id))
            .collect();
        if ids.is_empty() {
            return None;
        }
        self.subs.retain(|s| !ids.contains(&s.id));
        self.sync_info();
        if by_fault {
            self.hub.st().stats.terminated_by_fault += ids.len() as u64;
        }
        for id in ids {
            if self.session.text(terminated_json(id, now)).await.is_err() {
                return Some(End::Client);
            }
        }
        None
    }
}

/// The `params` object as strings (numbers as written, booleans as
/// `true`/`false`), and `returnRateLimits` when it is a boolean.
fn parse_params(v: Option<&serde_json::Value>) -> Result<(Params, Option<bool>), ApiError> {
    let mut pairs = Vec::new();
    let mut rl = None;
    match v {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::Object(m)) => {
            for (k, v) in m {
                let s = match v {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Number(n) => n.to_string(),
                    serde_json::Value::Bool(b) => b.to_string(),
                    _ => {
                        return Err(ApiError::bad(
                            -1100,
                            format!("Illegal characters found in parameter '{k}'."),
                        ))
                    }
                };
                if k == "returnRateLimits" {
                    rl = v.as_bool();
                }
                pairs.push((k.clone(), s));
            }
        }
        Some(_) => return Err(ApiError::bad(-1135, "Invalid JSON Request")),
    }
    Ok((Params::from_pairs(pairs), rl))
}

/// `POST /sim/ws/terminate` body.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TerminateReq {
    /// The session (all when absent).
    pub session: Option<u64>,
    /// The subscription (all when absent).
    pub subscription_id: Option<u32>,
}

/// `POST /sim/ws/shutdown` body.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShutdownReq {
    /// Close every session this long after `serverShutdown` (never when absent).
    pub close_after_ms: Option<u64>,
}

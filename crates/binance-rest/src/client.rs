//! The synchronous Binance spot client.
//!
//! Invariants:
//! - every request first passes the [`Governor`] (weight budget, 429/418 blocks);
//!   while a block is in force nothing is sent;
//! - only safe reads are retried (transport errors, timeouts, 5xx, `-1000/-1001/-1006/-1007/-1008`),
//!   at most `max_retries` times, with exponential backoff and jitter;
//! - a POST/DELETE that changes state (order, cancel) is sent at most once; when its
//!   result is not known (timeout after sending, dropped connection, 5xx,
//!   `-1000/-1001/-1006/-1007`, an undecodable success) the caller gets
//!   [`Error::UnknownOutcome`], never a plain failure;
//! - signed requests carry `timestamp = local clock + measured server offset`; the
//!   offset is measured on the first signed call and again on every `-1021`, after
//!   which a signed *read* is retried once (a write is not: `-1021` rejected it cleanly);
//! - the API secret or Ed25519 private key is used only to sign; it is never
//!   logged or put in an error.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use grid_core::{Decimal, SymbolRules};

use crate::auth::{build_query, percent_encode, Credentials, Ed25519Key};
use crate::clock::{Clock, SystemClock};
use crate::error::{
    is_transient_read_code, is_unknown_status_code, Error, CODE_CANCEL_REJECTED,
    CODE_INVALID_TIMESTAMP, CODE_TOO_MANY_ORDERS,
};
use crate::exchange::Exchange;
use crate::governor::{
    interval_ms, order_counts, parse_banned_until, parse_retry_after, used_weight_1m, Governor,
    Priority,
};
use crate::models::*;
use crate::parse;
use crate::types::*;
use crate::weights;

/// Production REST base URL.
pub const PRODUCTION_URL: &str = "https://api.binance.com";
/// Spot testnet REST base URL.
pub const TESTNET_URL: &str = "https://testnet.binance.vision";

/// Largest response body read (full exchangeInfo is several MB).
const MAX_BODY_BYTES: u64 = 64 * 1024 * 1024;
/// Characters of a non-JSON error body kept in [`Error::Http`].
const MAX_ERROR_BODY: usize = 200;

/// Client settings. `Debug` never shows the secret.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Production, testnet, or any URL (the simulator), without trailing `/`.
    pub base_url: String,
    /// Needed for signed endpoints (account, orders, trades).
    pub credentials: Option<Credentials>,
    /// `recvWindow` of signed requests (default 5000, max 60000).
    pub recv_window_ms: u64,
    /// TCP/TLS connect timeout (default 3 s).
    pub connect_timeout: Duration,
    /// Total timeout of one request, body included (default 10 s).
    pub timeout: Duration,
    /// Retries of a safe read after the first attempt (default 2). Writes: never.
    pub max_retries: u32,
    /// First backoff delay (default 250 ms); doubles per retry, plus jitter.
    pub retry_base_delay: Duration,
    /// Backoff cap (default 4 s).
    pub retry_max_delay: Duration,
    /// How long exchangeInfo rules are cached (default 24 h).
    pub rules_ttl: Duration,
    /// `newOrderRespType` when a [`NewOrder`] does not set one (default RESULT,
    /// so placement answers carry status and executed quantity for every type).
    pub default_resp_type: OrderRespType,
}

impl ClientConfig {
    /// Defaults for `base_url`, without credentials.
    pub fn new(base_url: impl Into<String>) -> Self {
        ClientConfig {
            base_url: base_url.into().trim_end_matches('/').to_string(),
            credentials: None,
            recv_window_ms: 5000,
            connect_timeout: Duration::from_secs(3),
            timeout: Duration::from_secs(10),
            max_retries: 2,
            retry_base_delay: Duration::from_millis(250),
            retry_max_delay: Duration::from_secs(4),
            rules_ttl: Duration::from_secs(24 * 3600),
            default_resp_type: OrderRespType::Result,
        }
    }

    /// Defaults for Binance production ([`PRODUCTION_URL`]).
    pub fn production() -> Self {
        Self::new(PRODUCTION_URL)
    }

    /// Defaults for the spot testnet ([`TESTNET_URL`]).
    pub fn testnet() -> Self {
        Self::new(TESTNET_URL)
    }

    /// These settings with the API key and secret for signed calls.
    pub fn with_credentials(
        mut self,
        api_key: impl Into<String>,
        secret: impl Into<String>,
    ) -> Self {
        self.credentials = Some(Credentials::new(api_key, secret));
        self
    }

    /// These settings with an Ed25519 API key and its private key.
    pub fn with_ed25519_key(mut self, api_key: impl Into<String>, key: Ed25519Key) -> Self {
        self.credentials = Some(Credentials::ed25519(api_key, key));
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
    Delete,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

/// What a request does to the exchange, which decides retries and error mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// No effect: retried on transient failures.
    Read,
    /// Changes state (order, cancel): sent once; unknown results are `UnknownOutcome`.
    Write,
}

/// Request parameters, in order, before `recvWindow`/`timestamp`/`signature`.
type Params = Vec<(&'static str, String)>;

struct Call {
    method: Method,
    path: &'static str,
    params: Params,
    signed: bool,
    weight: u32,
    kind: Kind,
    /// For `UnknownOutcome` of writes.
    client_order_id: Option<String>,
    /// The `timestamp` to sign with (exchange clock, epoch ms); `None`: the
    /// local clock plus the measured offset when the request leaves.
    timestamp_ms: Option<i64>,
}

impl Call {
    fn get(path: &'static str, weight: u32) -> Self {
        Call {
            method: Method::Get,
            path,
            params: Vec::new(),
            signed: false,
            weight,
            kind: Kind::Read,
            client_order_id: None,
            timestamp_ms: None,
        }
    }

    fn signed(mut self) -> Self {
        self.signed = true;
        self
    }

    fn param(mut self, k: &'static str, v: impl Into<String>) -> Self {
        self.params.push((k, v.into()));
        self
    }

    fn unknown(&self, reason: impl Into<String>) -> Error {
        Error::UnknownOutcome {
            client_order_id: self.client_order_id.clone(),
            reason: reason.into(),
        }
    }
}

struct TransportFailure {
    /// The request cannot have reached the server.
    before_send: bool,
    timeout: bool,
    msg: String,
}

impl TransportFailure {
    fn into_error(self) -> Error {
        if self.timeout {
            Error::Timeout
        } else {
            Error::Transport(self.msg)
        }
    }
}

struct RawResponse {
    status: u16,
    body: String,
    used_weight: Option<u32>,
    /// `X-MBX-ORDER-COUNT-*`: (window length in ms, count).
    order_counts: Vec<(i64, u64)>,
    retry_after: Option<Duration>,
}

/// The Binance spot REST client. `Send + Sync`; share it behind an `Arc`.
/// All methods take `&self`.
pub struct BinanceClient {
    config: ClientConfig,
    agent: ureq::Agent,
    clock: Arc<dyn Clock>,
    governor: Governor,
    offset_ms: AtomicI64,
    time_synced: AtomicBool,
    rules: Mutex<HashMap<String, (SymbolRules, i64)>>,
    nonce: AtomicU64,
    random: RandomState,
}

impl std::fmt::Debug for BinanceClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BinanceClient")
            .field("config", &self.config)
            .field("offset_ms", &self.offset_ms.load(Ordering::Relaxed))
            .field("governor", &self.governor)
            .finish_non_exhaustive()
    }
}

impl BinanceClient {
    /// A client on the system clock. No request is sent here.
    pub fn new(config: ClientConfig) -> Self {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// A client on an injected clock (tests: [`crate::ManualClock`]).
    pub fn with_clock(config: ClientConfig, clock: Arc<dyn Clock>) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(config.timeout))
            .timeout_connect(Some(config.connect_timeout))
            .max_idle_age(Duration::from_secs(30))
            .user_agent(concat!("grid-bot-binance-rest/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        BinanceClient {
            config,
            agent,
            governor: Governor::new(clock.clone()),
            clock,
            offset_ms: AtomicI64::new(0),
            time_synced: AtomicBool::new(false),
            rules: Mutex::new(HashMap::new()),
            nonce: AtomicU64::new(0),
            random: RandomState::new(),
        }
    }

    /// The settings the client was built with.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The request-weight governor (limits, last seen weight, blocks).
    pub fn governor(&self) -> &Governor {
        &self.governor
    }

    /// The last `X-MBX-USED-WEIGHT-1M` the exchange reported, if any.
    pub fn used_weight(&self) -> Option<u32> {
        self.governor.last_used_weight()
    }

    /// Server time minus local time, as last measured (0 before the first measurement).
    pub fn time_offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::SeqCst)
    }

    fn random_u64(&self) -> u64 {
        // The pair, not `nonce ^ now`: two draws must never hash the same input.
        self.random.hash_one((
            self.nonce.fetch_add(1, Ordering::Relaxed),
            self.clock.now_ms(),
        ))
    }

    /// A fresh client order id (`x-` + 20 base-62 characters), used when a
    /// [`NewOrder`] has none so an unknown outcome can always be looked up.
    pub fn generate_client_order_id(&self) -> String {
        const ALPHABET: &[u8; 62] =
            b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut out = String::from("x-");
        let mut r = self.random_u64();
        for i in 0..20 {
            if i == 10 {
                r = self.random_u64();
            }
            out.push(ALPHABET[(r % 62) as usize] as char);
            r /= 62;
        }
        out
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.config.retry_base_delay.as_millis() as u64;
        let cap = self.config.retry_max_delay.as_millis() as u64;
        let delay = base.saturating_mul(1u64 << attempt.min(20)).min(cap).max(1);
        let half = delay / 2;
        Duration::from_millis(half + self.random_u64() % (delay - half + 1))
    }

    // ---------------------------------------------------------------- transport

    fn send_once(
        &self,
        method: Method,
        url: &str,
        api_key: Option<&str>,
    ) -> Result<RawResponse, TransportFailure> {
        let result = match method {
            Method::Get | Method::Delete => {
                let mut rb = if method == Method::Get {
                    self.agent.get(url)
                } else {
                    self.agent.delete(url)
                };
                if let Some(k) = api_key {
                    rb = rb.header("X-MBX-APIKEY", k);
                }
                rb.call()
            }
            Method::Post => {
                let mut rb = self
                    .agent
                    .post(url)
                    .header("Content-Type", "application/x-www-form-urlencoded");
                if let Some(k) = api_key {
                    rb = rb.header("X-MBX-APIKEY", k);
                }
                rb.send_empty()
            }
        };
        let mut resp = result.map_err(classify_ureq_error)?;
        let status = resp.status().as_u16();
        let headers: Vec<(String, String)> = resp
            .headers()
            .iter()
            .filter_map(|(k, v)| {
                v.to_str()
                    .ok()
                    .map(|v| (k.as_str().to_string(), v.to_string()))
            })
            .collect();
        let used_weight = used_weight_1m(headers.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let order_counts = order_counts(headers.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let retry_after = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
            .and_then(|(_, v)| parse_retry_after(v));
        let body = resp
            .body_mut()
            .with_config()
            .limit(MAX_BODY_BYTES)
            .read_to_string()
            .map_err(|e| {
                let mut f = classify_ureq_error(e);
                // The status line arrived: the request was sent.
                f.before_send = false;
                f.msg = format!("HTTP {status}, body lost: {}", f.msg);
                f
            })?;
        Ok(RawResponse {
            status,
            body,
            used_weight,
            order_counts,
            retry_after,
        })
    }

    fn query_for(&self, call: &Call) -> Result<(String, Option<String>), Error> {
        if !call.signed {
            return Ok((build_query(&call.params), None));
        }
        let creds = self
            .config
            .credentials
            .as_ref()
            .ok_or(Error::MissingCredentials)?;
        if !(1..=60_000).contains(&self.config.recv_window_ms) {
            return Err(Error::InvalidRequest(format!(
                "recv_window_ms must be 1..=60000, got {}",
                self.config.recv_window_ms
            )));
        }
        if !self.time_synced.load(Ordering::SeqCst) {
            self.sync_time()?;
        }
        let timestamp = call
            .timestamp_ms
            .unwrap_or_else(|| self.clock.now_ms() + self.offset_ms.load(Ordering::SeqCst));
        let mut params: Vec<(&str, String)> = call.params.clone();
        params.push(("recvWindow", self.config.recv_window_ms.to_string()));
        params.push(("timestamp", timestamp.to_string()));
        let mut query = build_query(&params);
        let signature = creds.sign(&query)?;
        query.push_str("&signature=");
        // Hex (HMAC) is unchanged; base64 (Ed25519) has `+ / =` to encode.
        query.push_str(&percent_encode(&signature));
        Ok((query, Some(creds.api_key.clone())))
    }

    /// Sends `call` with the retry/resync/error-mapping rules of the module docs
    /// and returns the body of a 2xx answer.
    fn execute(&self, call: &Call) -> Result<String, Error> {
        let priority = match call.kind {
            Kind::Read => Priority::Read,
            Kind::Write => Priority::Order,
        };
        let mut attempt: u32 = 0;
        let mut resynced = false;
        loop {
            if call.signed && self.config.credentials.is_none() {
                return Err(Error::MissingCredentials);
            }
            // Book the weight first (this may wait for the next minute), then
            // stamp and sign, so the timestamp is fresh when the request leaves.
            self.governor.acquire(call.weight, priority)?;
            let (query, api_key) = self.query_for(call)?;
            let url = if query.is_empty() {
                format!("{}{}", self.config.base_url, call.path)
            } else {
                format!("{}{}?{}", self.config.base_url, call.path, query)
            };
            log::debug!(
                "Sending {} {} (weight {}, attempt {})",
                call.method.as_str(),
                call.path,
                call.weight,
                attempt + 1
            );
            let resp = match self.send_once(call.method, &url, api_key.as_deref()) {
                Ok(r) => r,
                Err(f) => {
                    if call.kind == Kind::Write {
                        if f.before_send {
                            log::warn!(
                                "{} {} not sent: {}",
                                call.method.as_str(),
                                call.path,
                                f.msg
                            );
                            return Err(f.into_error());
                        }
                        log::warn!(
                            "{} {} outcome unknown: {}",
                            call.method.as_str(),
                            call.path,
                            f.msg
                        );
                        return Err(call.unknown(f.msg));
                    }
                    if attempt < self.config.max_retries {
                        let d = self.backoff(attempt);
                        log::warn!(
                            "{} {} failed ({}); retrying in {d:?}",
                            call.method.as_str(),
                            call.path,
                            f.msg
                        );
                        self.clock.sleep(d);
                        attempt += 1;
                        continue;
                    }
                    return Err(f.into_error());
                }
            };
            if let Some(w) = resp.used_weight {
                self.governor.observe_used_weight(w);
            }
            if !resp.order_counts.is_empty() {
                self.governor.observe_order_counts(&resp.order_counts);
            }
            let status = resp.status;
            if (200..300).contains(&status) {
                return Ok(resp.body);
            }
            let api = parse::api_error(&resp.body);
            log::debug!(
                "{} {} answered HTTP {status}{}",
                call.method.as_str(),
                call.path,
                api.as_ref()
                    .map(|a| format!(" code {} {}", a.code, a.msg))
                    .unwrap_or_default()
            );
            if status == 429 {
                if let Some(a) = api.as_ref().filter(|a| a.code == CODE_TOO_MANY_ORDERS) {
                    // The account's unfilled order count, not the IP's weight:
                    // new orders wait, reads and cancels go on.
                    return Err(self
                        .governor
                        .on_order_rate_limited(resp.retry_after, &a.msg));
                }
                return Err(self.governor.on_rate_limited(resp.retry_after));
            }
            if status == 418 {
                let until = api.as_ref().and_then(|a| parse_banned_until(&a.msg));
                return Err(self.governor.on_banned(resp.retry_after, until));
            }
            if call.kind == Kind::Write
                && (status >= 500
                    || api
                        .as_ref()
                        .map(|a| is_unknown_status_code(a.code))
                        .unwrap_or(false))
            {
                let what = match &api {
                    Some(a) => format!("HTTP {status} code {}: {}", a.code, a.msg),
                    None => format!("HTTP {status}"),
                };
                log::warn!(
                    "{} {} outcome unknown: {what}",
                    call.method.as_str(),
                    call.path
                );
                return Err(call.unknown(what));
            }
            if let Some(a) = &api {
                if a.code == CODE_INVALID_TIMESTAMP && call.signed && !resynced {
                    resynced = true;
                    log::warn!("Timestamp rejected (-1021); re-measuring the server time offset");
                    if let Err(e) = self.sync_time() {
                        log::warn!("Server time resync failed: {e}");
                    } else if call.kind == Kind::Read {
                        continue;
                    }
                }
            }
            let transient = status >= 500
                || api
                    .as_ref()
                    .map(|a| is_transient_read_code(a.code))
                    .unwrap_or(false);
            if call.kind == Kind::Read && transient && attempt < self.config.max_retries {
                let d = self.backoff(attempt);
                log::warn!(
                    "{} {} answered HTTP {status}; retrying in {d:?}",
                    call.method.as_str(),
                    call.path
                );
                self.clock.sleep(d);
                attempt += 1;
                continue;
            }
            return Err(match api {
                Some(a) => Error::Api {
                    code: a.code,
                    msg: a.msg,
                },
                None => Error::Http {
                    status,
                    body: resp.body.chars().take(MAX_ERROR_BODY).collect(),
                },
            });
        }
    }

    fn read<T: serde::de::DeserializeOwned>(&self, call: Call, what: &str) -> Result<T, Error> {
        let body = self.execute(&call)?;
        parse::from_json(what, &body)
    }

    /// A write's 2xx body that cannot be decoded still means "executed": report it as unknown.
    fn write<T: serde::de::DeserializeOwned>(&self, call: Call, what: &str) -> Result<T, Error> {
        let body = self.execute(&call)?;
        parse::from_json(what, &body).map_err(|e| call.unknown(format!("executed, but {e}")))
    }

    // ---------------------------------------------------------------- endpoints

    /// `GET /api/v3/ping` (weight 1). Safe to retry.
    ///
    /// # Errors
    /// Transport/timeout (the exchange is unreachable), rate-limit errors.
    pub fn ping(&self) -> Result<(), Error> {
        self.execute(&Call::get("/api/v3/ping", 1)).map(|_| ())
    }

    /// Measures the server time offset (server − local, from the midpoint of
    /// the request) and uses it for every signed request from now on. Called
    /// automatically before the first signed request and after `-1021`. Safe to retry.
    ///
    /// # Errors
    /// As [`Exchange::server_time`].
    pub fn sync_time(&self) -> Result<i64, Error> {
        let t0 = self.clock.now_ms();
        let server = self.server_time()?;
        let t1 = self.clock.now_ms();
        let offset = server - (t0 + (t1 - t0) / 2);
        self.offset_ms.store(offset, Ordering::SeqCst);
        self.time_synced.store(true, Ordering::SeqCst);
        self.governor.set_server_offset(offset);
        log::info!(
            "Server time offset measured: {offset} ms (round trip {} ms)",
            t1 - t0
        );
        Ok(offset)
    }

    /// `GET /api/v3/exchangeInfo` (weight 20) for all symbols, one, or several.
    /// Updates the governor's weight limit and the rules cache. Safe to retry.
    ///
    /// # Errors
    /// `Api{-1121}` for an unknown symbol; transport/rate-limit errors; [`Error::Decode`].
    pub fn exchange_info(&self, which: SymbolFilter<'_>) -> Result<ExchangeInfo, Error> {
        let mut call = Call::get("/api/v3/exchangeInfo", 20);
        match which {
            SymbolFilter::All => {}
            SymbolFilter::One(s) => {
                check_symbol(s)?;
                call = call.param("symbol", s);
            }
            SymbolFilter::Many(list) => {
                for s in list {
                    check_symbol(s)?;
                }
                let json = serde_json::to_string(list)
                    .map_err(|e| Error::InvalidRequest(e.to_string()))?;
                call = call.param("symbols", json);
            }
        }
        let dto: ExchangeInfoDto = self.read(call, "exchangeInfo")?;
        let info = parse::exchange_info(&dto);
        if let Some(limit) = info.request_weight_per_minute() {
            self.governor
                .set_limit(u32::try_from(limit).unwrap_or(u32::MAX));
        }
        let order_limits: Vec<(i64, u64)> = info
            .rate_limits
            .iter()
            .filter(|r| r.rate_limit_type == "ORDERS")
            .filter_map(|r| Some((interval_ms(&r.interval, r.interval_num)?, r.limit)))
            .collect();
        self.governor.set_order_limits(&order_limits);
        let now = self.clock.now_ms();
        let mut cache = self.rules.lock().unwrap_or_else(|e| e.into_inner());
        for s in &info.symbols {
            if let Ok(r) = &s.rules {
                cache.insert(s.symbol.clone(), (r.clone(), now));
            }
        }
        Ok(info)
    }

    /// Forgets cached rules (e.g. after a `-1013` that the cached rules did not predict).
    pub fn invalidate_rules(&self) {
        self.rules.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// `GET /api/v3/ticker/price?symbol=` (weight 2). Safe to retry.
    ///
    /// # Errors
    /// `Api{-1121}` for an unknown symbol; transport/rate-limit errors.
    pub fn ticker_price(&self, symbol: &str) -> Result<Decimal, Error> {
        check_symbol(symbol)?;
        let dto: TickerPricesDto = self.read(
            Call::get("/api/v3/ticker/price", weights::TICKER_PRICE_ONE).param("symbol", symbol),
            "ticker/price",
        )?;
        parse::ticker_prices(&dto)?
            .remove(symbol)
            .ok_or_else(|| Error::Decode(format!("ticker/price has no {symbol}")))
    }

    /// `GET /api/v3/ticker/price` without a symbol (weight 4): every symbol. Safe to retry.
    ///
    /// # Errors
    /// Transport/rate-limit errors.
    pub fn ticker_price_all(&self) -> Result<HashMap<String, Decimal>, Error> {
        let dto: TickerPricesDto = self.read(
            Call::get("/api/v3/ticker/price", weights::TICKER_PRICE_MANY),
            "ticker/price",
        )?;
        parse::ticker_prices(&dto)
    }

    /// `GET /api/v3/klines` (weight 2); `limit` 1..=1000 (default 500). Safe to retry.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for a bad limit; `Api{-1121}`; transport errors.
    pub fn klines(
        &self,
        symbol: &str,
        interval: KlineInterval,
        start_time: Option<i64>,
        end_time: Option<i64>,
        limit: Option<u32>,
    ) -> Result<Vec<Kline>, Error> {
        check_symbol(symbol)?;
        let mut call = Call::get("/api/v3/klines", 2)
            .param("symbol", symbol)
            .param("interval", interval.as_str());
        if let Some(t) = start_time {
            call = call.param("startTime", t.to_string());
        }
        if let Some(t) = end_time {
            call = call.param("endTime", t.to_string());
        }
        if let Some(l) = limit {
            check_limit(l)?;
            call = call.param("limit", l.to_string());
        }
        let rows: Vec<Vec<serde_json::Value>> = self.read(call, "klines")?;
        parse::klines(&rows)
    }

    /// `GET /api/v3/allOrders` (weight 20, signed): orders with id >= `from_order_id`,
    /// at most `limit` (1..=1000). Safe to retry.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] for a bad limit; transport/rate-limit errors.
    pub fn all_orders(
        &self,
        symbol: &str,
        from_order_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ExchangeOrder>, Error> {
        check_symbol(symbol)?;
        check_limit(limit)?;
        let mut call = Call::get("/api/v3/allOrders", 20).param("symbol", symbol);
        if let Some(id) = from_order_id {
            call = call.param("orderId", id.to_string());
        }
        let dtos: Vec<OrderDto> =
            self.read(call.param("limit", limit.to_string()).signed(), "allOrders")?;
        dtos.iter().map(|d| parse::order(d, None)).collect()
    }

    fn order_params(&self, order: &NewOrder) -> Result<(Params, String), Error> {
        let mut order = order.clone();
        let client_order_id = order
            .new_client_order_id
            .get_or_insert_with(|| self.generate_client_order_id())
            .clone();
        if order.resp_type.is_none() {
            order.resp_type = Some(self.config.default_resp_type);
        }
        let params = order.to_params()?;
        Ok((params, client_order_id))
    }

    /// `POST /api/v3/order/test` (weight 1, or 20 with `compute_commission_rates`):
    /// validates an order without placing it. Has no effect, so it is retried like a read.
    ///
    /// # Errors
    /// `Api` with the rejection the real order would get (filters, parameters);
    /// [`Error::InvalidRequest`]; transport/rate-limit errors.
    pub fn test_order(
        &self,
        order: &NewOrder,
        compute_commission_rates: bool,
    ) -> Result<TestOrderResult, Error> {
        let (mut params, _) = self.order_params(order)?;
        if compute_commission_rates {
            params.push(("computeCommissionRates", "true".into()));
        }
        let call = Call {
            method: Method::Post,
            path: "/api/v3/order/test",
            params,
            signed: true,
            weight: if compute_commission_rates { 20 } else { 1 },
            kind: Kind::Read,
            client_order_id: None,
            timestamp_ms: None,
        };
        let dto: TestOrderDto = self.read(call, "order/test")?;
        parse::test_order(&dto)
    }

    /// `DELETE /api/v3/openOrders` (weight 1, signed): cancels every open order on
    /// `symbol` and returns their final states. Nothing open (`-2011`) gives an
    /// empty list. **Never retried.**
    ///
    /// # Errors
    /// [`Error::UnknownOutcome`]: some or all may have been cancelled — list the
    /// open orders; rate-limit/transport as for [`Exchange::place_order`].
    pub fn cancel_all(&self, symbol: &str) -> Result<Vec<ExchangeOrder>, Error> {
        check_symbol(symbol)?;
        let call = Call {
            method: Method::Delete,
            path: "/api/v3/openOrders",
            params: vec![("symbol", symbol.to_string())],
            signed: true,
            weight: 1,
            kind: Kind::Write,
            client_order_id: None,
            timestamp_ms: None,
        };
        let items: Vec<serde_json::Value> = match self.write(call, "openOrders cancel") {
            Ok(v) => v,
            Err(Error::Api {
                code: CODE_CANCEL_REJECTED,
                msg,
            }) if msg.to_ascii_lowercase().contains("unknown order") => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        parse::cancel_all(&items).map_err(|e| Error::UnknownOutcome {
            client_order_id: None,
            reason: format!("cancelled, but {e}"),
        })
    }
}

fn check_limit(limit: u32) -> Result<(), Error> {
    if (1..=1000).contains(&limit) {
        Ok(())
    } else {
        Err(Error::InvalidRequest(format!(
            "limit must be 1..=1000, got {limit}"
        )))
    }
}

fn classify_ureq_error(e: ureq::Error) -> TransportFailure {
    use ureq::Timeout as T;
    let msg = e.to_string();
    let (before_send, timeout) = match &e {
        ureq::Error::Timeout(T::Resolve) | ureq::Error::Timeout(T::Connect) => (true, true),
        ureq::Error::Timeout(_) => (false, true),
        ureq::Error::Io(io) => (
            matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionRefused
                    | std::io::ErrorKind::AddrNotAvailable
                    | std::io::ErrorKind::NotFound
            ),
            matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ),
        ),
        ureq::Error::HostNotFound
        | ureq::Error::BadUri(_)
        | ureq::Error::Http(_)
        | ureq::Error::ConnectionFailed
        | ureq::Error::InvalidProxyUrl
        | ureq::Error::ConnectProxyFailed(_)
        | ureq::Error::RequireHttpsOnly(_)
        | ureq::Error::Tls(_) => (true, false),
        _ => (false, false),
    };
    TransportFailure {
        before_send,
        timeout,
        msg,
    }
}

impl Exchange for BinanceClient {
    /// `GET /api/v3/time` (weight 1): server time, epoch ms. Safe to retry.
    ///
    /// # Errors
    /// Transport/timeout/rate-limit errors; [`Error::Decode`].
    fn server_time(&self) -> Result<i64, Error> {
        let dto: ServerTimeDto = self.read(Call::get("/api/v3/time", 1), "time")?;
        Ok(parse::server_time(&dto))
    }

    /// The symbol's rules, from the cache when younger than `rules_ttl`,
    /// else from exchangeInfo (weight 20). Safe to retry.
    fn symbol_rules(&self, symbol: &str) -> Result<SymbolRules, Error> {
        let now = self.clock.now_ms();
        let ttl = i64::try_from(self.config.rules_ttl.as_millis()).unwrap_or(i64::MAX);
        if let Some((r, at)) = self
            .rules
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(symbol)
        {
            if now.saturating_sub(*at) < ttl {
                return Ok(r.clone());
            }
        }
        let info = self.exchange_info(SymbolFilter::One(symbol))?;
        match info.symbol(symbol) {
            Some(s) => s.rules.clone().map_err(Error::Decode),
            None => Err(Error::Decode(format!(
                "exchangeInfo does not list {symbol}"
            ))),
        }
    }

    /// Last prices of `symbols` in one request (`symbols=[..]`, weight 4; `symbol=`,
    /// weight 2, for one). Empty input: empty map, no request. Safe to retry.
    fn ticker_prices(&self, symbols: &[String]) -> Result<HashMap<String, Decimal>, Error> {
        match symbols {
            [] => Ok(HashMap::new()),
            [one] => Ok(HashMap::from([(one.clone(), self.ticker_price(one)?)])),
            many => {
                for s in many {
                    check_symbol(s)?;
                }
                let json = serde_json::to_string(many)
                    .map_err(|e| Error::InvalidRequest(e.to_string()))?;
                let dto: TickerPricesDto = self.read(
                    Call::get("/api/v3/ticker/price", weights::TICKER_PRICE_MANY)
                        .param("symbols", json),
                    "ticker/price",
                )?;
                parse::ticker_prices(&dto)
            }
        }
    }

    /// `GET /api/v3/openOrders` (signed; weight 6 for one symbol, 80 for all). Safe to retry.
    fn open_orders(&self, symbol: Option<&str>) -> Result<Vec<ExchangeOrder>, Error> {
        let call = match symbol {
            Some(s) => {
                check_symbol(s)?;
                Call::get("/api/v3/openOrders", weights::OPEN_ORDERS_ONE).param("symbol", s)
            }
            None => Call::get("/api/v3/openOrders", weights::OPEN_ORDERS_ALL),
        };
        let dtos: Vec<OrderDto> = self.read(call.signed(), "openOrders")?;
        dtos.iter().map(|d| parse::order(d, None)).collect()
    }

    /// `GET /api/v3/order` (weight 4, signed) by id or client order id. Safe to retry.
    fn get_order(&self, symbol: &str, id: OrderRef) -> Result<ExchangeOrder, Error> {
        check_symbol(symbol)?;
        let (k, v) = id.param();
        let dto: OrderDto = self.read(
            Call::get("/api/v3/order", 4)
                .param("symbol", symbol)
                .param(k, v)
                .signed(),
            "order",
        )?;
        parse::order(&dto, None)
    }

    /// The exchange's clock as this client knows it: the local clock plus the
    /// measured offset (measured first when it never was).
    ///
    /// # Errors
    /// Those of [`BinanceClient::sync_time`] when the offset is not known yet.
    fn exchange_now_ms(&self) -> Result<i64, Error> {
        if !self.time_synced.load(Ordering::SeqCst) {
            self.sync_time()?;
        }
        Ok(self.clock.now_ms() + self.offset_ms.load(Ordering::SeqCst))
    }

    /// Waits until the weight budget and the unfilled order count admit an
    /// order (a wait longer than [`crate::governor::MAX_ORDER_WAIT`] is not
    /// made: the order is deferred with [`Error::RateLimited`]), then returns the
    /// `timestamp` (exchange clock) to send it with: whatever the governor
    /// makes the caller wait happens here, before the caller records the
    /// order, never between the record and the send.
    ///
    /// # Errors
    /// [`Error::RateLimited`] / [`Error::Banned`] while a 429/418 is in force;
    /// those of [`BinanceClient::sync_time`].
    fn order_timestamp(&self) -> Result<i64, Error> {
        self.governor.wait_admissible(1, Priority::Order)?;
        self.governor.wait_order_admissible()?;
        self.exchange_now_ms()
    }

    /// `POST /api/v3/order` (weight 1, signed). **Never retried.** A missing
    /// client order id is generated (and reported in `UnknownOutcome`); a missing
    /// response type defaults to `config.default_resp_type`.
    fn place_order(&self, req: &NewOrder) -> Result<ExchangeOrder, Error> {
        let (params, cid) = self.order_params(req)?;
        let mut full = req.clone();
        full.new_client_order_id = Some(cid.clone());
        let call = Call {
            method: Method::Post,
            path: "/api/v3/order",
            params,
            signed: true,
            weight: 1,
            kind: Kind::Write,
            client_order_id: Some(cid),
            timestamp_ms: req.timestamp_ms,
        };
        // Booked in the order-count windows; an order stamped by
        // `order_timestamp` has had its wait and is sent at once.
        if req.timestamp_ms.is_none() {
            self.governor.wait_order_admissible()?;
        }
        self.governor.acquire_order()?;
        let answer = self.write::<OrderDto>(call, "order");
        self.governor.order_answered();
        let dto = answer?;
        let placed = parse::order(&dto, Some(&full));
        placed.map_err(|e| Error::UnknownOutcome {
            client_order_id: full.new_client_order_id.clone(),
            reason: format!("placed, but {e}"),
        })
    }

    /// `DELETE /api/v3/order` (weight 1, signed). **Never retried.** The returned
    /// order is final (its `executed_qty` will not change); `client_order_id` is
    /// the order's own id.
    fn cancel_order(&self, symbol: &str, id: OrderRef) -> Result<ExchangeOrder, Error> {
        check_symbol(symbol)?;
        let (k, v) = id.param();
        let call = Call {
            method: Method::Delete,
            path: "/api/v3/order",
            params: vec![("symbol", symbol.to_string()), (k, v)],
            signed: true,
            weight: 1,
            kind: Kind::Write,
            client_order_id: match &id {
                OrderRef::Client(c) => Some(c.clone()),
                OrderRef::Id(_) => None,
            },
            timestamp_ms: None,
        };
        let dto: OrderDto = self.write(call, "cancel")?;
        parse::order(&dto, None).map_err(|e| Error::UnknownOutcome {
            client_order_id: match &id {
                OrderRef::Client(c) => Some(c.clone()),
                OrderRef::Id(_) => None,
            },
            reason: format!("cancelled, but {e}"),
        })
    }

    /// `GET /api/v3/myTrades` (weight 20, signed). Safe to retry.
    fn my_trades(
        &self,
        symbol: &str,
        from_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ExchangeTrade>, Error> {
        check_symbol(symbol)?;
        check_limit(limit)?;
        let mut call = Call::get("/api/v3/myTrades", weights::MY_TRADES).param("symbol", symbol);
        if let Some(id) = from_id {
            call = call.param("fromId", id.to_string());
        }
        let dtos: Vec<TradeDto> =
            self.read(call.param("limit", limit.to_string()).signed(), "myTrades")?;
        dtos.iter().map(parse::trade).collect()
    }

    /// `GET /api/v3/account` (weight 20, signed). Safe to retry.
    ///
    /// # Errors
    /// Auth errors (`-2014`, `-2015`, `-1022`), transport/rate-limit errors.
    fn account(&self) -> Result<Account, Error> {
        let dto: AccountDto = self.read(
            Call::get("/api/v3/account", weights::ACCOUNT).signed(),
            "account",
        )?;
        parse::account(&dto)
    }

    /// The governor's estimate of this minute's weight (never below what
    /// the exchange last reported for it) and the limit in force.
    fn request_weight(&self) -> Option<(u32, u32)> {
        Some((self.governor.estimated_used_weight(), self.governor.limit()))
    }

    fn symbol_state(&self, symbol: &str) -> Result<crate::SymbolState, Error> {
        self.refresh_symbol(symbol)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<BinanceClient>();
        assert_send_sync::<Arc<dyn Exchange>>();
    }

    #[test]
    fn generated_client_order_ids_are_valid_and_distinct() {
        let c = BinanceClient::new(ClientConfig::new("http://127.0.0.1:9"));
        let a = c.generate_client_order_id();
        let b = c.generate_client_order_id();
        assert_ne!(a, b);
        assert!(is_valid_client_order_id(&a), "{a}");
        assert_eq!(a.len(), 22);
    }

    /// Two ids drawn at times whose XOR with the draw counter matched used to
    /// be equal (`nonce ^ now` hashed): 1000^0 = 1002^2 and 1000^1 = 1002^3.
    #[test]
    fn generated_client_order_ids_differ_whatever_the_clock() {
        let clock = Arc::new(crate::ManualClock::new(1000));
        let c = BinanceClient::with_clock(ClientConfig::new("http://127.0.0.1:9"), clock.clone());
        let a = c.generate_client_order_id();
        clock.set(1002);
        let b = c.generate_client_order_id();
        assert_ne!(a, b);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let mut cfg = ClientConfig::new("http://127.0.0.1:9");
        cfg.retry_base_delay = Duration::from_millis(100);
        cfg.retry_max_delay = Duration::from_millis(1000);
        let c = BinanceClient::new(cfg);
        for _ in 0..50 {
            let d0 = c.backoff(0).as_millis();
            assert!((50..=100).contains(&d0), "{d0}");
            let d2 = c.backoff(2).as_millis();
            assert!((200..=400).contains(&d2), "{d2}");
            let d9 = c.backoff(9).as_millis();
            assert!((500..=1000).contains(&d9), "{d9}");
        }
    }

    #[test]
    fn config_defaults() {
        let c = ClientConfig::testnet();
        assert_eq!(c.recv_window_ms, 5000);
        assert_eq!(c.connect_timeout, Duration::from_secs(3));
        assert_eq!(c.timeout, Duration::from_secs(10));
        assert_eq!(c.base_url, TESTNET_URL);
        assert_eq!(ClientConfig::new("http://x/").base_url, "http://x");
    }
}

//! [`InProcess`]: the simulator's engine behind the [`binance_rest::Exchange`]
//! trait, without HTTP, for tests, the simulation harness and backtests.
//! (Paper mode keeps the HTTP path: it exercises the real client.)
//!
//! Invariants:
//! - **One clock, a value.** The engine's simulated clock is the only clock:
//!   [`InProcess`] refuses an engine on wall time. Its rate-limit governor is
//!   binance-rest's own [`Governor`] on an [`EngineClock`]; where the HTTP
//!   client would sleep (waiting for the weight budget, the backoff before a
//!   read is retried, a request the timeout fault holds) the engine's clock is
//!   advanced instead ([`Engine::advance`]: time passes in the simulation, the
//!   price path moves with it). No thread, no sleep, no randomness but the
//!   engine's seeded generators.
//! - **The client's path, call by call.** Every call does what
//!   [`binance_rest::BinanceClient`] does for it, in the same order:
//!   client-side checks ([`Error::InvalidRequest`], nothing sent) → the
//!   governor (weight budget; during a 429/418's `Retry-After` the call is
//!   refused with [`Error::RateLimited`] / [`Error::Banned`] and **nothing
//!   reaches the engine**) → before the first signed call, and after a
//!   `-1021`, the server time offset is measured with `GET /api/v3/time` → the
//!   request's parameters, built by the client's own code
//!   ([`NewOrder::to_params`], [`build_query`]), through
//!   [`api::prepare_trusted`] and [`api::execute_trusted`] (the server's
//!   admission and weights, faults, `timestamp`/`recvWindow` check, endpoint
//!   and JSON body) → the answer mapped to a `Result` as the client maps an
//!   HTTP answer, its body decoded by [`binance_rest::parse`]. So the values
//!   and errors are the ones the HTTP client gets from a [`crate::SimServer`]
//!   whose engine is in the same state.
//!
//! What differs from the HTTP path, and why (besides the engine's
//! Retry-After statistic, timed on the engine clock for an engine
//! [`InProcess`] owns):
//! - no API key, no signature: the caller is the account
//!   ([`ClientConfig::credentials`] and `base_url` are ignored, so
//!   `MissingCredentials` and the auth errors `-2014/-2015/-1022` never occur);
//! - a read retried after a transient failure waits the client's full backoff
//!   delay (the client draws a random jitter below it);
//! - an answer lost by an injected fault gives the client's variant
//!   ([`Error::UnknownOutcome`] for a write, [`Error::Timeout`] for a read held
//!   beyond `ClientConfig::timeout`) with a `reason` of this module's wording
//!   instead of the HTTP library's; a held request is executed after the whole
//!   hold, before the client's retry;
//! - the client order id generated for an order sent without one comes from
//!   the engine's seeded generator (same `x-` + 20 characters format).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use binance_rest::auth::build_query;
use binance_rest::error::CODE_TOO_MANY_ORDERS;
use binance_rest::governor::{
    interval_ms, order_counts, parse_banned_until, parse_retry_after, used_weight_1m,
};
use binance_rest::models::{
    AccountDto, ExchangeInfoDto, OrderDto, ServerTimeDto, TickerPricesDto, TradeDto,
};
use binance_rest::{
    parse, Account, ClientConfig, Clock, Error, Exchange, ExchangeOrder, ExchangeTrade, Governor,
    NewOrder, OrderRef, Priority, SymbolState,
};
use grid_core::{Decimal, SymbolRules};

use crate::api::{self, ApiResponse, Params, Prepared, Route, TrustedRequest};
use crate::config::SimConfig;
use crate::engine::Engine;
use crate::error::SimError;
use crate::server::{lock, SharedEngine};

/// The engine's clock as a [`binance_rest::Clock`]: `now_ms` is the engine's
/// now; `sleep(d)` advances a simulated clock (and the price path) by `d`
/// without sleeping, and really sleeps only on an engine on wall time (where
/// waiting is the only way for time to pass).
///
/// Give it to a [`binance_rest::BinanceClient`] talking to a
/// [`crate::SimServer`] with a simulated clock
/// ([`binance_rest::BinanceClient::with_clock`]) and the HTTP client lives on
/// the engine's clock too; [`InProcess`] uses it for its governor.
#[derive(Debug, Clone)]
pub struct EngineClock {
    engine: SharedEngine,
}

impl EngineClock {
    /// The clock of `engine`.
    pub fn new(engine: SharedEngine) -> EngineClock {
        EngineClock { engine }
    }
}

impl Clock for EngineClock {
    fn now_ms(&self) -> i64 {
        lock(&self.engine).now()
    }

    fn sleep(&self, d: Duration) {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4);
        let mut e = lock(&self.engine);
        if e.has_simulated_clock() {
            let _trades = e.advance(ms);
        } else {
            drop(e);
            std::thread::sleep(d);
        }
    }
}

/// What a request does to the exchange (decides retries and error mapping,
/// as in the client).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// No effect: retried on transient failures.
    Read,
    /// Changes state (order, cancel): sent once; unknown results are `UnknownOutcome`.
    Write,
}

/// One request, as the client describes it.
struct Call {
    route: Route,
    params: Vec<(&'static str, String)>,
    /// The weight the client books with its governor.
    weight: u32,
    kind: Kind,
    /// For `UnknownOutcome` of writes.
    client_order_id: Option<String>,
    /// The `timestamp` to send (exchange clock); `None`: now + offset.
    timestamp_ms: Option<i64>,
}

impl Call {
    fn read(route: Route, weight: u32) -> Call {
        Call {
            route,
            params: Vec::new(),
            weight,
            kind: Kind::Read,
            client_order_id: None,
            timestamp_ms: None,
        }
    }

    fn write(route: Route, params: Vec<(&'static str, String)>, cid: Option<String>) -> Call {
        Call {
            route,
            params,
            weight: 1,
            kind: Kind::Write,
            client_order_id: cid,
            timestamp_ms: None,
        }
    }

    fn param(mut self, k: &'static str, v: impl Into<String>) -> Call {
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

/// An answer that never arrived (faults only).
struct Lost {
    timeout: bool,
    msg: String,
}

/// The simulator's engine as a [`binance_rest::Exchange`] for its one
/// account: every call answers what [`binance_rest::BinanceClient`] answers
/// against a [`crate::SimServer`] whose engine is in the same state (module
/// docs: how, and the few differences). `Send + Sync`; all methods take
/// `&self`.
///
/// ```
/// use binance_rest::{Exchange, NewOrder};
/// use exchange_sim::{InProcess, Side, SimConfig};
/// use rust_decimal_macros::dec;
///
/// let ex = InProcess::new(SimConfig { start_time_ms: Some(1_767_225_600_000), ..SimConfig::default() })?;
/// let ts = ex.order_timestamp()?;
/// let mut order = NewOrder::limit("SOLUSDC", Side::Buy, dec!(1), dec!(140)).client_order_id("b1");
/// order.timestamp_ms = Some(ts);
/// let placed = ex.place_order(&order)?;
/// ex.with_engine(|e| e.set_price("SOLUSDC", dec!(139)))?; // the price walks through 140: B1 fills
/// assert!(ex.get_order("SOLUSDC", placed.order_id.into())?.status.is_final());
/// ex.with_engine(|e| e.advance(60_000)); // a minute passes
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct InProcess {
    engine: SharedEngine,
    clock: Arc<EngineClock>,
    governor: Governor,
    config: ClientConfig,
    offset_ms: AtomicI64,
    time_synced: AtomicBool,
    /// symbol -> (rules, when read on the engine clock), like the client's cache.
    rules: Mutex<HashMap<String, (SymbolRules, i64)>>,
}

impl std::fmt::Debug for InProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InProcess")
            .field("config", &self.config)
            .field("offset_ms", &self.offset_ms.load(Ordering::SeqCst))
            .field("governor", &self.governor)
            .finish_non_exhaustive()
    }
}

impl InProcess {
    /// A new engine from `cfg`, which must set `start_time_ms` (the simulated
    /// clock's start), with the client's default settings
    /// ([`ClientConfig::new`]: recvWindow 5000, RESULT answers, rules cached 24 h…).
    ///
    /// # Errors
    /// [`SimError::Config`] without `start_time_ms`; the errors of [`Engine::new`].
    pub fn new(cfg: SimConfig) -> Result<InProcess, SimError> {
        InProcess::from_engine(Engine::new(cfg)?)
    }

    /// Takes over `engine`, which must be on a simulated clock. No HTTP
    /// client can reach it, so its Retry-After statistic is timed on the
    /// engine's clock ([`Engine::time_retry_after_on_engine_clock`]).
    ///
    /// # Errors
    /// [`SimError::Config`] when the engine's clock is wall time.
    pub fn from_engine(mut engine: Engine) -> Result<InProcess, SimError> {
        engine.time_retry_after_on_engine_clock();
        InProcess::shared(Arc::new(Mutex::new(engine)))
    }

    /// Shares `engine` (e.g. a [`crate::SimServer`]'s), which must be on a
    /// simulated clock. Each `InProcess` is one client: its own governor,
    /// clock offset and rules cache. (Call
    /// [`Engine::time_retry_after_on_engine_clock`] when every client of the
    /// engine waits on its clock.)
    ///
    /// # Errors
    /// [`SimError::Config`] when the engine's clock is wall time.
    pub fn shared(engine: SharedEngine) -> Result<InProcess, SimError> {
        if !lock(&engine).has_simulated_clock() {
            return Err(SimError::Config(
                "InProcess runs on the engine's simulated clock: set start_time_ms in the \
                 config (or call Engine::set_time) first"
                    .into(),
            ));
        }
        let clock = Arc::new(EngineClock::new(engine.clone()));
        Ok(InProcess {
            governor: Governor::new(clock.clone()),
            clock,
            engine,
            config: ClientConfig::new("in-process"),
            offset_ms: AtomicI64::new(0),
            time_synced: AtomicBool::new(false),
            rules: Mutex::new(HashMap::new()),
        })
    }

    /// Uses the client settings of `config` that apply in process:
    /// `recv_window_ms`, `timeout` (a request held longer by the timeout fault
    /// is lost), `max_retries`, `retry_base_delay`, `retry_max_delay`,
    /// `rules_ttl`, `default_resp_type`. `base_url`, `credentials` and
    /// `connect_timeout` are ignored.
    pub fn with_client_config(mut self, config: ClientConfig) -> InProcess {
        self.config = config;
        self
    }

    /// The client settings in use.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The shared engine handle (lock it with [`crate::server::lock`]).
    pub fn engine(&self) -> SharedEngine {
        self.engine.clone()
    }

    /// Runs `f` on the engine, between calls: move the price or the clock,
    /// change a symbol, inject faults, read the state.
    pub fn with_engine<R>(&self, f: impl FnOnce(&mut Engine) -> R) -> R {
        f(&mut lock(&self.engine))
    }

    /// The engine's clock, as this client reads and waits on it.
    pub fn clock(&self) -> Arc<EngineClock> {
        self.clock.clone()
    }

    /// The request-weight governor (limit, estimated weight, 429/418 blocks).
    pub fn governor(&self) -> &Governor {
        &self.governor
    }

    /// Server time minus the engine's clock, as last measured (0 before the
    /// first measurement; the clock-skew fault's value after it).
    pub fn time_offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::SeqCst)
    }

    /// Measures the server time offset with `GET /api/v3/time`, as the client
    /// does before its first signed call and after a `-1021`. Safe to retry.
    ///
    /// # Errors
    /// Those of [`Exchange::server_time`].
    pub fn sync_time(&self) -> Result<i64, Error> {
        let t0 = self.clock.now_ms();
        let server = self.server_time()?;
        let t1 = self.clock.now_ms();
        let offset = server - (t0 + (t1 - t0) / 2);
        self.offset_ms.store(offset, Ordering::SeqCst);
        self.time_synced.store(true, Ordering::SeqCst);
        self.governor.set_server_offset(offset);
        Ok(offset)
    }

    /// Forgets the cached symbol rules (the client's `invalidate_rules`).
    pub fn invalidate_rules(&self) {
        self.rules.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    // ------------------------------------------------------------ transport

    /// The client's backoff before retry `attempt`, without its jitter.
    fn backoff(&self, attempt: u32) -> Duration {
        let base = u64::try_from(self.config.retry_base_delay.as_millis()).unwrap_or(u64::MAX);
        let cap = u64::try_from(self.config.retry_max_delay.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(base.saturating_mul(1u64 << attempt.min(20)).min(cap).max(1))
    }

    /// The parameters as the client sends them: a signed call gets
    /// `recvWindow` and `timestamp` (measuring the offset first if needed).
    fn params_for(&self, call: &Call) -> Result<Vec<(&'static str, String)>, Error> {
        let mut params = call.params.clone();
        if !call.route.signed() {
            return Ok(params);
        }
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
        params.push(("recvWindow", self.config.recv_window_ms.to_string()));
        params.push(("timestamp", timestamp.to_string()));
        Ok(params)
    }

    /// The engine's answer to one request, or the lost answer of a fault.
    fn send(&self, route: Route, params: &[(&'static str, String)]) -> Result<ApiResponse, Lost> {
        // Encoded and decoded exactly as over HTTP.
        let p = Params::parse(&build_query(params), "").map_err(|e| Lost {
            timeout: false,
            msg: format!("request not sendable: {e}"),
        })?;
        let req = TrustedRequest { route, params: &p };
        let prepared = api::prepare_trusted(&mut lock(&self.engine), &req);
        let delay_ms = match prepared {
            Prepared::Done(r) => return Ok(r),
            Prepared::Go { delay_ms, .. } => delay_ms,
        };
        if delay_ms > 0 {
            // The server holds the request: time passes meanwhile.
            self.clock.sleep(Duration::from_millis(delay_ms));
        }
        let resp = api::execute_trusted(&mut lock(&self.engine), &req);
        let timeout_ms = u64::try_from(self.config.timeout.as_millis()).unwrap_or(u64::MAX);
        if delay_ms >= timeout_ms {
            return Err(Lost {
                timeout: true,
                msg: format!(
                    "no answer within {:?}: the simulator held the request {delay_ms} ms",
                    self.config.timeout
                ),
            });
        }
        if resp.drop_connection {
            return Err(Lost {
                timeout: false,
                msg: format!(
                    "HTTP {}, body lost: the simulator dropped the connection",
                    resp.status
                ),
            });
        }
        Ok(resp)
    }

    /// Sends `call` with the client's retry/resync/error-mapping rules and
    /// returns the body of a 2xx answer.
    fn execute(&self, call: &Call) -> Result<String, Error> {
        let priority = match call.kind {
            Kind::Read => Priority::Read,
            Kind::Write => Priority::Order,
        };
        let mut attempt: u32 = 0;
        let mut resynced = false;
        loop {
            self.governor.acquire(call.weight, priority)?;
            let params = self.params_for(call)?;
            let resp = match self.send(call.route, &params) {
                Ok(r) => r,
                Err(lost) => {
                    if call.kind == Kind::Write {
                        log::warn!("{} outcome unknown: {}", call.route.name(), lost.msg);
                        return Err(call.unknown(lost.msg));
                    }
                    if attempt < self.config.max_retries {
                        self.clock.sleep(self.backoff(attempt));
                        attempt += 1;
                        continue;
                    }
                    return Err(if lost.timeout {
                        Error::Timeout
                    } else {
                        Error::Transport(lost.msg)
                    });
                }
            };
            let headers = || resp.headers.iter().map(|(k, v)| (k.as_str(), v.as_str()));
            if let Some(w) = used_weight_1m(headers()) {
                self.governor.observe_used_weight(w);
            }
            let counts = order_counts(headers());
            if !counts.is_empty() {
                self.governor.observe_order_counts(&counts);
            }
            let status = resp.status;
            if (200..300).contains(&status) {
                return Ok(resp.body);
            }
            let api_err = parse::api_error(&resp.body);
            if status == 429 {
                let retry_after = resp.header("Retry-After").and_then(parse_retry_after);
                if let Some(a) = api_err.as_ref().filter(|a| a.code == CODE_TOO_MANY_ORDERS) {
                    // The unfilled order count, as the HTTP client: new
                    // orders wait, reads and cancels go on.
                    return Err(self.governor.on_order_rate_limited(retry_after, &a.msg));
                }
                return Err(self.governor.on_rate_limited(retry_after));
            }
            if status == 418 {
                let retry_after = resp.header("Retry-After").and_then(parse_retry_after);
                let until = api_err.as_ref().and_then(|a| parse_banned_until(&a.msg));
                return Err(self.governor.on_banned(retry_after, until));
            }
            let unknown_code = api_err
                .as_ref()
                .is_some_and(|a| matches!(a.code, -1000 | -1001 | -1006 | -1007));
            if call.kind == Kind::Write && (status >= 500 || unknown_code) {
                let what = match &api_err {
                    Some(a) => format!("HTTP {status} code {}: {}", a.code, a.msg),
                    None => format!("HTTP {status}"),
                };
                log::warn!("{} outcome unknown: {what}", call.route.name());
                return Err(call.unknown(what));
            }
            if let Some(a) = &api_err {
                if a.code == -1021 && call.route.signed() && !resynced {
                    resynced = true;
                    if let Err(e) = self.sync_time() {
                        log::warn!("Server time resync failed: {e}");
                    } else if call.kind == Kind::Read {
                        continue;
                    }
                }
            }
            let transient = status >= 500
                || api_err
                    .as_ref()
                    .is_some_and(|a| matches!(a.code, -1000 | -1001 | -1006 | -1007 | -1008));
            if call.kind == Kind::Read && transient && attempt < self.config.max_retries {
                self.clock.sleep(self.backoff(attempt));
                attempt += 1;
                continue;
            }
            return Err(match api_err {
                Some(a) => Error::Api {
                    code: a.code,
                    msg: a.msg,
                },
                None => Error::Http {
                    status,
                    body: resp.body.chars().take(200).collect(),
                },
            });
        }
    }

    fn read<T: serde::de::DeserializeOwned>(&self, call: &Call, what: &str) -> Result<T, Error> {
        let body = self.execute(call)?;
        parse::from_json(what, &body)
    }

    /// A write's 2xx body that cannot be decoded still means "executed".
    fn write<T: serde::de::DeserializeOwned>(&self, call: &Call, what: &str) -> Result<T, Error> {
        let body = self.execute(call)?;
        parse::from_json(what, &body).map_err(|e| call.unknown(format!("executed, but {e}")))
    }

    // ------------------------------------------------------------ endpoints

    /// `GET /api/v3/exchangeInfo?symbol=` (weight 20): updates the governor's
    /// limit and the rules cache, like the client.
    fn exchange_info_one(&self, symbol: &str) -> Result<binance_rest::ExchangeInfo, Error> {
        check_symbol(symbol)?;
        let call = Call::read(Route::ExchangeInfo, 20).param("symbol", symbol);
        let dto: ExchangeInfoDto = self.read(&call, "exchangeInfo")?;
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

    /// `GET /api/v3/ticker/price?symbol=` (weight 2).
    fn ticker_price(&self, symbol: &str) -> Result<Decimal, Error> {
        check_symbol(symbol)?;
        let call = Call::read(Route::TickerPrice, 2).param("symbol", symbol);
        let dto: TickerPricesDto = self.read(&call, "ticker/price")?;
        parse::ticker_prices(&dto)?
            .remove(symbol)
            .ok_or_else(|| Error::Decode(format!("ticker/price has no {symbol}")))
    }
}

impl Exchange for InProcess {
    fn server_time(&self) -> Result<i64, Error> {
        let dto: ServerTimeDto = self.read(&Call::read(Route::Time, 1), "time")?;
        Ok(parse::server_time(&dto))
    }

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
        let info = self.exchange_info_one(symbol)?;
        match info.symbol(symbol) {
            Some(s) => s.rules.clone().map_err(Error::Decode),
            None => Err(Error::Decode(format!(
                "exchangeInfo does not list {symbol}"
            ))),
        }
    }

    fn symbol_state(&self, symbol: &str) -> Result<SymbolState, Error> {
        let info = self.exchange_info_one(symbol)?;
        let s = info
            .symbol(symbol)
            .ok_or_else(|| Error::Decode(format!("exchangeInfo does not list {symbol}")))?;
        SymbolState::from_info(s)
    }

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
                let call = Call::read(Route::TickerPrice, 4).param("symbols", json);
                let dto: TickerPricesDto = self.read(&call, "ticker/price")?;
                parse::ticker_prices(&dto)
            }
        }
    }

    fn open_orders(&self, symbol: Option<&str>) -> Result<Vec<ExchangeOrder>, Error> {
        let call = match symbol {
            Some(s) => {
                check_symbol(s)?;
                Call::read(Route::OpenOrders, 6).param("symbol", s)
            }
            None => Call::read(Route::OpenOrders, 80),
        };
        let dtos: Vec<OrderDto> = self.read(&call, "openOrders")?;
        dtos.iter().map(|d| parse::order(d, None)).collect()
    }

    fn get_order(&self, symbol: &str, id: OrderRef) -> Result<ExchangeOrder, Error> {
        check_symbol(symbol)?;
        let (k, v) = order_ref_param(&id);
        let call = Call::read(Route::GetOrder, 4)
            .param("symbol", symbol)
            .param(k, v);
        let dto: OrderDto = self.read(&call, "order")?;
        parse::order(&dto, None)
    }

    fn exchange_now_ms(&self) -> Result<i64, Error> {
        if !self.time_synced.load(Ordering::SeqCst) {
            self.sync_time()?;
        }
        Ok(self.clock.now_ms() + self.offset_ms.load(Ordering::SeqCst))
    }

    fn order_timestamp(&self) -> Result<i64, Error> {
        self.governor.wait_admissible(1, Priority::Order)?;
        self.governor.wait_order_admissible()?;
        self.exchange_now_ms()
    }

    fn place_order(&self, req: &NewOrder) -> Result<ExchangeOrder, Error> {
        let mut order = req.clone();
        if order.new_client_order_id.is_none() {
            order.new_client_order_id = Some(self.with_engine(|e| e.generate_client_order_id()));
        }
        if order.resp_type.is_none() {
            order.resp_type = Some(self.config.default_resp_type);
        }
        let params = order.to_params()?;
        let cid = order.new_client_order_id.clone().unwrap_or_default();
        let mut full = req.clone();
        full.new_client_order_id = Some(cid.clone());
        let mut call = Call::write(Route::PostOrder, params, Some(cid.clone()));
        call.timestamp_ms = req.timestamp_ms;
        // Booked in the order-count windows, as the HTTP client does.
        if req.timestamp_ms.is_none() {
            self.governor.wait_order_admissible()?;
        }
        self.governor.acquire_order()?;
        let answer = self.write::<OrderDto>(&call, "order");
        self.governor.order_answered();
        let dto = answer?;
        parse::order(&dto, Some(&full)).map_err(|e| Error::UnknownOutcome {
            client_order_id: Some(cid),
            reason: format!("placed, but {e}"),
        })
    }

    fn cancel_order(&self, symbol: &str, id: OrderRef) -> Result<ExchangeOrder, Error> {
        check_symbol(symbol)?;
        let cid = match &id {
            OrderRef::Client(c) => Some(c.clone()),
            OrderRef::Id(_) => None,
        };
        let (k, v) = order_ref_param(&id);
        let call = Call::write(
            Route::CancelOrder,
            vec![("symbol", symbol.to_string()), (k, v)],
            cid.clone(),
        );
        let dto: OrderDto = self.write(&call, "cancel")?;
        parse::order(&dto, None).map_err(|e| Error::UnknownOutcome {
            client_order_id: cid,
            reason: format!("cancelled, but {e}"),
        })
    }

    fn my_trades(
        &self,
        symbol: &str,
        from_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ExchangeTrade>, Error> {
        check_symbol(symbol)?;
        check_limit(limit)?;
        let mut call = Call::read(Route::MyTrades, 20).param("symbol", symbol);
        if let Some(id) = from_id {
            call = call.param("fromId", id.to_string());
        }
        let call = call.param("limit", limit.to_string());
        let dtos: Vec<TradeDto> = self.read(&call, "myTrades")?;
        dtos.iter().map(parse::trade).collect()
    }

    fn account(&self) -> Result<Account, Error> {
        let dto: AccountDto = self.read(&Call::read(Route::Account, 20), "account")?;
        parse::account(&dto)
    }
}

/// The client's check of a symbol before sending (binance-rest `check_symbol`).
fn check_symbol(symbol: &str) -> Result<(), Error> {
    let ok = !symbol.is_empty()
        && symbol.len() <= 50
        && symbol.chars().all(|c| {
            !c.is_lowercase() && !c.is_whitespace() && !c.is_control() && c != '&' && c != '='
        });
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidRequest(format!("invalid symbol {symbol:?}")))
    }
}

/// The client's check of a `limit` (1..=1000).
fn check_limit(limit: u32) -> Result<(), Error> {
    if (1..=1000).contains(&limit) {
        Ok(())
    } else {
        Err(Error::InvalidRequest(format!(
            "limit must be 1..=1000, got {limit}"
        )))
    }
}

/// How the client names an order in a lookup or cancel.
fn order_ref_param(id: &OrderRef) -> (&'static str, String) {
    match id {
        OrderRef::Id(id) => ("orderId", id.to_string()),
        OrderRef::Client(c) => ("origClientOrderId", c.clone()),
    }
}

#[cfg(test)]
#[path = "tests/in_process.rs"]
mod tests;

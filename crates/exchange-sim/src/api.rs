//! The Binance REST surface over the engine, independent of the HTTP library:
//! parameter parsing, signature and timestamp checks, weights, and the JSON
//! bodies (field order and 8-decimal strings as production).
//!
//! Flow per request: [`prepare`] (route, admission, pre-faults) then, after an
//! optional delay done by the server without the lock, [`execute`].
//!
//! The in-process client ([`crate::InProcess`]) goes through the same two
//! phases with [`prepare_trusted`] and [`execute_trusted`]: decoded parameters
//! instead of a query string, no API key or signature (the caller is the
//! account), everything else — admission and weights, faults, the
//! `timestamp`/`recvWindow` check, every endpoint and its JSON body — shared,
//! so both paths answer the same request identically.

use hmac::{Hmac, KeyInit, Mac};
use rust_decimal::Decimal;

use crate::engine::{Engine, LostAnswer, OrderRequest, Placed, PreFault};
use crate::error::ApiError;
use crate::market::MarketRoute;
use crate::types::*;

type HmacSha256 = Hmac<sha2::Sha256>;

/// Lower-case hex HMAC-SHA256 of `payload` with `secret` (binance-api.md §3.2).
pub fn sign(secret: &str, payload: &[u8]) -> String {
    match HmacSha256::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(payload);
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

/// Whether `sig` (the URL-decoded `signature` value: base64, case-sensitive)
/// is `payload`'s Ed25519 signature under `vk` (binance-api.md §3.3).
pub fn verify_ed25519(vk: &ed25519_dalek::VerifyingKey, payload: &[u8], sig: &str) -> bool {
    use base64::Engine as _;
    use ed25519_dalek::Verifier as _;
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(sig.as_bytes()) else {
        return false;
    };
    let Ok(sig) = ed25519_dalek::Signature::from_slice(&bytes) else {
        return false;
    };
    vk.verify(payload, &sig).is_ok()
}

/// An incoming request, as raw as received.
#[derive(Debug, Clone, Copy)]
pub struct ApiRequest<'a> {
    /// `GET`, `POST`, `DELETE`.
    pub method: &'a str,
    /// e.g. `/api/v3/order`.
    pub path: &'a str,
    /// Raw query string after `?`, still percent-encoded.
    pub query: &'a str,
    /// Raw body (form-urlencoded parameters).
    pub body: &'a [u8],
    /// `X-MBX-APIKEY`.
    pub api_key: Option<&'a str>,
}

/// A request of the account itself, in process ([`crate::InProcess`]):
/// parameters decoded with [`Params::parse`] from the query the HTTP client
/// would send, and no API key or signature, but a signed endpoint's
/// `timestamp` and `recvWindow` are checked as for an HTTP request.
#[derive(Debug, Clone, Copy)]
pub struct TrustedRequest<'a> {
    /// The endpoint.
    pub route: Route,
    /// Its parameters (with `timestamp` and `recvWindow` for a signed one).
    pub params: &'a Params,
}

/// What to send back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiResponse {
    /// HTTP status.
    pub status: u16,
    /// JSON body (empty for a 404).
    pub body: String,
    /// `X-MBX-USED-WEIGHT(-1M)`, `X-MBX-ORDER-COUNT-*`, `Retry-After`.
    pub headers: Vec<(String, String)>,
    /// Close the connection without a complete answer (lost-answer fault).
    pub drop_connection: bool,
}

impl ApiResponse {
    fn json(status: u16, body: String) -> Self {
        ApiResponse {
            status,
            body,
            headers: Vec::new(),
            drop_connection: false,
        }
    }
    fn error(e: &ApiError) -> Self {
        let mut r = Self::json(e.status, e.body());
        if let Some(s) = e.retry_after {
            r.headers.push(("Retry-After".into(), s.to_string()));
        }
        r
    }

    /// The value of header `name` (any letter case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The endpoints served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `GET /api/v3/ping`.
    Ping,
    /// `GET /api/v3/time`.
    Time,
    /// `GET /api/v3/exchangeInfo`.
    ExchangeInfo,
    /// `GET /api/v3/ticker/price`.
    TickerPrice,
    /// `GET /api/v3/klines`.
    Klines,
    /// `GET /api/v3/avgPrice`.
    AvgPrice,
    /// `GET /api/v3/account`.
    Account,
    /// `GET /api/v3/openOrders`.
    OpenOrders,
    /// `GET /api/v3/order`.
    GetOrder,
    /// `GET /api/v3/myTrades`.
    MyTrades,
    /// `GET /api/v3/allOrders`.
    AllOrders,
    /// `GET /api/v3/rateLimit/order`.
    RateLimitOrder,
    /// `POST /api/v3/order`.
    PostOrder,
    /// `POST /api/v3/order/test`.
    TestOrder,
    /// `DELETE /api/v3/order`.
    CancelOrder,
    /// `DELETE /api/v3/openOrders`.
    CancelAll,
    /// The market-data endpoints of [`crate::market`] (tickers, book, trades, uiKlines).
    Market(MarketRoute),
}

impl Route {
    /// The route of a method and path, `None` for an unknown endpoint (404).
    pub fn lookup(method: &str, path: &str) -> Option<Route> {
        if let Some(m) = MarketRoute::lookup(method, path) {
            return Some(Route::Market(m));
        }
        Some(match (method, path) {
            ("GET", "/api/v3/ping") => Route::Ping,
            ("GET", "/api/v3/time") => Route::Time,
            ("GET", "/api/v3/exchangeInfo") => Route::ExchangeInfo,
            ("GET", "/api/v3/ticker/price") => Route::TickerPrice,
            ("GET", "/api/v3/klines") => Route::Klines,
            ("GET", "/api/v3/avgPrice") => Route::AvgPrice,
            ("GET", "/api/v3/account") => Route::Account,
            ("GET", "/api/v3/openOrders") => Route::OpenOrders,
            ("GET", "/api/v3/order") => Route::GetOrder,
            ("GET", "/api/v3/myTrades") => Route::MyTrades,
            ("GET", "/api/v3/allOrders") => Route::AllOrders,
            ("GET", "/api/v3/rateLimit/order") => Route::RateLimitOrder,
            ("POST", "/api/v3/order") => Route::PostOrder,
            ("POST", "/api/v3/order/test") => Route::TestOrder,
            ("DELETE", "/api/v3/order") => Route::CancelOrder,
            ("DELETE", "/api/v3/openOrders") => Route::CancelAll,
            _ => return None,
        })
    }
    /// `"METHOD /path"`, the key of [`crate::SimState::request_counts`].
    pub fn name(self) -> &'static str {
        match self {
            Route::Ping => "GET /api/v3/ping",
            Route::Time => "GET /api/v3/time",
            Route::ExchangeInfo => "GET /api/v3/exchangeInfo",
            Route::TickerPrice => "GET /api/v3/ticker/price",
            Route::Klines => "GET /api/v3/klines",
            Route::AvgPrice => "GET /api/v3/avgPrice",
            Route::Account => "GET /api/v3/account",
            Route::OpenOrders => "GET /api/v3/openOrders",
            Route::GetOrder => "GET /api/v3/order",
            Route::MyTrades => "GET /api/v3/myTrades",
            Route::AllOrders => "GET /api/v3/allOrders",
            Route::RateLimitOrder => "GET /api/v3/rateLimit/order",
            Route::PostOrder => "POST /api/v3/order",
            Route::TestOrder => "POST /api/v3/order/test",
            Route::CancelOrder => "DELETE /api/v3/order",
            Route::CancelAll => "DELETE /api/v3/openOrders",
            Route::Market(m) => m.name(),
        }
    }
    /// Needs an API key and a signature (`SIGNED` in the API docs).
    pub fn signed(self) -> bool {
        !matches!(
            self,
            Route::Ping
                | Route::Time
                | Route::ExchangeInfo
                | Route::TickerPrice
                | Route::Klines
                | Route::AvgPrice
                | Route::Market(_)
        )
    }
    /// Order placement/cancel: 0 weight on success, the weight on failure (§4.4).
    fn zero_on_success(self) -> bool {
        matches!(
            self,
            Route::PostOrder | Route::CancelOrder | Route::CancelAll
        )
    }
    fn mutates(self) -> bool {
        self.zero_on_success()
    }
    /// The request weight of this endpoint with these parameters (binance-api.md §4.4).
    pub fn weight(self, p: &Params) -> u64 {
        match self {
            Route::Ping | Route::Time => 1,
            Route::ExchangeInfo => 20,
            Route::TickerPrice => {
                if p.get("symbol").is_some() {
                    2
                } else {
                    4
                }
            }
            Route::Klines | Route::AvgPrice => 2,
            Route::Account => 20,
            Route::OpenOrders => {
                if p.get("symbol").is_some() {
                    6
                } else {
                    80
                }
            }
            Route::GetOrder => 4,
            Route::MyTrades => {
                if p.get("orderId").is_some() {
                    5
                } else {
                    20
                }
            }
            Route::AllOrders => 20,
            Route::RateLimitOrder => 40,
            Route::PostOrder | Route::CancelOrder | Route::CancelAll => 1,
            Route::TestOrder => {
                if p.get("computeCommissionRates") == Some("true") {
                    20
                } else {
                    1
                }
            }
            Route::Market(m) => m.weight(p),
        }
    }
}

// ----------------------------------------------------------------------
// Parameters
// ----------------------------------------------------------------------

fn hexval(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Form-urlencoded decoding (`+` is a space, `%XX` a byte).
pub fn url_decode(s: &str) -> Result<String, ApiError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let h = b.get(i + 1).copied().and_then(hexval);
                let l = b.get(i + 2).copied().and_then(hexval);
                match (h, l) {
                    (Some(h), Some(l)) => {
                        out.push(h * 16 + l);
                        i += 2;
                    }
                    _ => {
                        return Err(ApiError::bad(
                            -1100,
                            "Illegal characters found in a parameter.",
                        ))
                    }
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out)
        .map_err(|_| ApiError::bad(-1100, "Illegal characters found in a parameter."))
}

/// Decoded request parameters (query wins over body for the same name).
#[derive(Debug, Default, Clone)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Parses query and form body.
    ///
    /// # Errors
    /// -1101 for a parameter repeated within one part, -1100 for bad encoding.
    pub fn parse(query: &str, body: &str) -> Result<Params, ApiError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (src, part) in [(0u8, query), (1u8, body)] {
            let mut seen_here: Vec<String> = Vec::new();
            for kv in part.split('&').filter(|s| !s.is_empty()) {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                let k = url_decode(k)?;
                let v = url_decode(v)?;
                if seen_here.contains(&k) {
                    return Err(ApiError::bad(
                        -1101,
                        "Duplicate values for a parameter detected.",
                    ));
                }
                seen_here.push(k.clone());
                if src == 1 && pairs.iter().any(|(pk, _)| *pk == k) {
                    continue; // query value wins
                }
                pairs.push((k, v));
            }
        }
        Ok(Params { pairs })
    }
    /// Parameters already decoded (the WebSocket API's `params` object).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Params {
        Params { pairs }
    }
    /// The value, `None` when absent (an empty value is returned as `Some("")`).
    pub fn get(&self, k: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(pk, _)| pk == k)
            .map(|(_, v)| v.as_str())
    }
    pub(crate) fn required(&self, k: &str) -> Result<&str, ApiError> {
        match self.get(k) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(ApiError::mandatory(k)),
        }
    }
    pub(crate) fn opt_nonempty(&self, k: &str) -> Option<&str> {
        self.get(k).filter(|v| !v.is_empty())
    }
}

const DEC_RANGE: &str = r"^([0-9]{1,20})(\.[0-9]{1,20})?$";
const INT_RANGE: &str = "^[0-9]{1,20}$";
const CID_RANGE: &str = "^[a-zA-Z0-9-_]{1,36}$";
const SYMBOL_RANGE: &str = "^[A-Z0-9-_.]{1,20}$";

/// Parses a DECIMAL parameter with Binance's rules.
///
/// # Errors
/// -1100 for illegal characters, -1111 for more than 8 decimals, -1108 overflow.
pub fn parse_decimal(name: &str, v: &str) -> Result<Decimal, ApiError> {
    let (int, frac) = match v.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (v, None),
    };
    let digits = |s: &str, max: usize| {
        !s.is_empty() && s.len() <= max && s.bytes().all(|c| c.is_ascii_digit())
    };
    if !digits(int, 20) || frac.is_some_and(|f| !digits(f, 20)) {
        return Err(ApiError::illegal(name, DEC_RANGE));
    }
    if let Some(f) = frac {
        if f.trim_end_matches('0').len() > 8 {
            return Err(ApiError::bad(
                -1111,
                "Precision is over the maximum defined for this asset.",
            ));
        }
    }
    v.parse::<Decimal>()
        .map(|d| d.normalize())
        .map_err(|_| ApiError::bad(-1108, format!("Parameter '{name}' overflowed.")))
}

fn parse_u64(name: &str, v: &str) -> Result<u64, ApiError> {
    if v.is_empty() || v.len() > 20 || !v.bytes().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::illegal(name, INT_RANGE));
    }
    v.parse::<u64>()
        .map_err(|_| ApiError::bad(-1108, format!("Parameter '{name}' overflowed.")))
}

fn parse_i64(name: &str, v: &str) -> Result<i64, ApiError> {
    let n = parse_u64(name, v)?;
    i64::try_from(n).map_err(|_| ApiError::bad(-1108, format!("Parameter '{name}' overflowed.")))
}

pub(crate) fn opt_u64(p: &Params, k: &str) -> Result<Option<u64>, ApiError> {
    p.opt_nonempty(k).map(|v| parse_u64(k, v)).transpose()
}

fn opt_time(p: &Params, k: &str) -> Result<Option<i64>, ApiError> {
    Ok(p.opt_nonempty(k)
        .map(|v| parse_i64(k, v))
        .transpose()?
        .map(|t| {
            if t >= 100_000_000_000_000 {
                t / 1000
            } else {
                t
            }
        }))
}

pub(crate) fn check_symbol_syntax(v: &str) -> Result<(), ApiError> {
    let ok = !v.is_empty()
        && v.len() <= 20
        && v.bytes()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || b"-_.".contains(&c));
    if ok {
        Ok(())
    } else {
        Err(ApiError::illegal("symbol", SYMBOL_RANGE))
    }
}

fn symbol_param(p: &Params) -> Result<&str, ApiError> {
    let s = p.required("symbol")?;
    check_symbol_syntax(s)?;
    Ok(s)
}

fn check_cid(name: &str, v: &str) -> Result<(), ApiError> {
    let ok = !v.is_empty()
        && v.len() <= 36
        && v.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_');
    if ok {
        Ok(())
    } else {
        Err(ApiError::illegal(name, CID_RANGE))
    }
}

pub(crate) fn limit_param(p: &Params, default: usize, max: usize) -> Result<usize, ApiError> {
    match opt_u64(p, "limit")? {
        None => Ok(default),
        Some(0) => Ok(default),
        Some(n) if n as usize > max => Err(ApiError::bad(
            -1130,
            "Data sent for parameter 'limit' is not valid.",
        )),
        Some(n) => Ok(n as usize),
    }
}

// ----------------------------------------------------------------------
// JSON writer keeping Binance's field order
// ----------------------------------------------------------------------

pub(crate) struct Obj(String);

impl Obj {
    pub(crate) fn new() -> Obj {
        let mut s = String::with_capacity(512);
        s.push('{');
        Obj(s)
    }
    fn key(&mut self, k: &str) {
        if self.0.len() > 1 {
            self.0.push(',');
        }
        self.0.push('"');
        self.0.push_str(k);
        self.0.push_str("\":");
    }
    pub(crate) fn s(mut self, k: &str, v: &str) -> Obj {
        self.key(k);
        if v.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
            self.0.push('"');
            self.0.push_str(v);
            self.0.push('"');
        } else {
            self.0.push_str(&serde_json::Value::from(v).to_string());
        }
        self
    }
    pub(crate) fn d(self, k: &str, v: Decimal) -> Obj {
        self.s(k, &d8(v))
    }
    pub(crate) fn i(mut self, k: &str, v: i64) -> Obj {
        self.key(k);
        self.0.push_str(&v.to_string());
        self
    }
    pub(crate) fn b(mut self, k: &str, v: bool) -> Obj {
        self.key(k);
        self.0.push_str(if v { "true" } else { "false" });
        self
    }
    pub(crate) fn raw(mut self, k: &str, v: &str) -> Obj {
        self.key(k);
        self.0.push_str(v);
        self
    }
    pub(crate) fn end(mut self) -> String {
        self.0.push('}');
        self.0
    }
}

pub(crate) fn arr<I: IntoIterator<Item = String>>(items: I) -> String {
    let v: Vec<String> = items.into_iter().collect();
    format!("[{}]", v.join(","))
}

fn tif_str(o: &Order) -> &'static str {
    o.time_in_force.unwrap_or(TimeInForce::Gtc).as_str()
}

fn conditional(mut j: Obj, o: &Order, with_stop: bool) -> Obj {
    if with_stop {
        if let Some(sp) = o.stop_price {
            j = j.d("stopPrice", sp);
        }
    }
    if let Some(td) = o.trailing_delta {
        j = j.i("trailingDelta", i64::from(td)).i("trailingTime", -1);
    }
    if let Some(id) = o.strategy_id {
        j = j.i("strategyId", id);
    }
    if let Some(t) = o.strategy_type {
        j = j.i("strategyType", t);
    }
    if let Some(r) = &o.expiry_reason {
        j = j.s("expiryReason", r);
    }
    if let Some(m) = o.prevented_match_id {
        j = j
            .i("preventedMatchId", i64::try_from(m).unwrap_or(i64::MAX))
            .d("preventedQuantity", o.prevented_quantity);
    }
    j
}

fn render_placed(p: &Placed) -> String {
    let o = &p.order;
    let j = Obj::new()
        .s("symbol", &o.symbol)
        .i("orderId", o.order_id as i64)
        .i("orderListId", -1)
        .s("clientOrderId", &o.client_order_id)
        .i("transactTime", o.time);
    if p.resp_type == OrderRespType::Ack {
        return j.end();
    }
    let mut j = j
        .d("price", o.price)
        .d("origQty", o.orig_qty)
        .d("executedQty", o.executed_qty)
        .d("origQuoteOrderQty", o.orig_quote_order_qty)
        .d("cummulativeQuoteQty", o.cummulative_quote_qty)
        .s("status", o.status.as_str())
        .s("timeInForce", tif_str(o))
        .s("type", o.order_type.as_str())
        .s("side", o.side.as_str())
        .i("workingTime", o.working_time);
    j = conditional(j, o, true);
    if p.resp_type == OrderRespType::Full {
        let fills = arr(p.fills.iter().map(|t| {
            Obj::new()
                .d("price", t.price)
                .d("qty", t.qty)
                .d("commission", t.commission)
                .s("commissionAsset", &t.commission_asset)
                .i("tradeId", t.id as i64)
                .end()
        }));
        j = j.raw("fills", &fills);
    }
    j.s("selfTradePreventionMode", o.stp_mode.as_str()).end()
}

/// §6.7/§6.8 order object.
pub fn render_order(o: &Order) -> String {
    let j = Obj::new()
        .s("symbol", &o.symbol)
        .i("orderId", o.order_id as i64)
        .i("orderListId", -1)
        .s("clientOrderId", &o.client_order_id)
        .d("price", o.price)
        .d("origQty", o.orig_qty)
        .d("executedQty", o.executed_qty)
        .d("cummulativeQuoteQty", o.cummulative_quote_qty)
        .s("status", o.status.as_str())
        .s("timeInForce", tif_str(o))
        .s("type", o.order_type.as_str())
        .s("side", o.side.as_str())
        .d("stopPrice", o.stop_price.unwrap_or(Decimal::ZERO))
        .d("icebergQty", Decimal::ZERO)
        .i("time", o.time)
        .i("updateTime", o.update_time)
        .b("isWorking", o.is_working())
        .i("workingTime", o.working_time)
        .d("origQuoteOrderQty", o.orig_quote_order_qty);
    conditional(j, o, false)
        .s("selfTradePreventionMode", o.stp_mode.as_str())
        .end()
}

/// §6.11 cancel report.
fn render_cancel(o: &Order, cancel_id: &str, now: i64) -> String {
    let j = Obj::new()
        .s("symbol", &o.symbol)
        .s("origClientOrderId", &o.client_order_id)
        .i("orderId", o.order_id as i64)
        .i("orderListId", -1)
        .s("clientOrderId", cancel_id)
        .i("transactTime", now)
        .d("price", o.price)
        .d("origQty", o.orig_qty)
        .d("executedQty", o.executed_qty)
        .d("origQuoteOrderQty", o.orig_quote_order_qty)
        .d("cummulativeQuoteQty", o.cummulative_quote_qty)
        .s("status", o.status.as_str())
        .s("timeInForce", tif_str(o))
        .s("type", o.order_type.as_str())
        .s("side", o.side.as_str());
    conditional(j, o, true)
        .s("selfTradePreventionMode", o.stp_mode.as_str())
        .end()
}

fn dnorm(v: Decimal) -> String {
    v.normalize().to_string()
}

fn render_symbol_info(ex: &Engine, name: &str) -> Option<String> {
    let c = ex.symbol_config(name)?;
    let f = &c.filters;
    let filters = arr([
        Obj::new()
            .s("filterType", "PRICE_FILTER")
            .d("minPrice", f.min_price)
            .d("maxPrice", f.max_price)
            .d("tickSize", f.tick_size)
            .end(),
        Obj::new()
            .s("filterType", "LOT_SIZE")
            .d("minQty", f.min_qty)
            .d("maxQty", f.max_qty)
            .d("stepSize", f.step_size)
            .end(),
        Obj::new()
            .s("filterType", "MARKET_LOT_SIZE")
            .d("minQty", f.market_min_qty)
            .d("maxQty", f.market_max_qty)
            .d("stepSize", f.market_step_size)
            .end(),
        Obj::new()
            .s("filterType", "TRAILING_DELTA")
            .i(
                "minTrailingAboveDelta",
                i64::from(f.min_trailing_above_delta),
            )
            .i(
                "maxTrailingAboveDelta",
                i64::from(f.max_trailing_above_delta),
            )
            .i(
                "minTrailingBelowDelta",
                i64::from(f.min_trailing_below_delta),
            )
            .i(
                "maxTrailingBelowDelta",
                i64::from(f.max_trailing_below_delta),
            )
            .end(),
        Obj::new()
            .s("filterType", "PERCENT_PRICE_BY_SIDE")
            .s("bidMultiplierUp", &dnorm(f.bid_multiplier_up))
            .s("bidMultiplierDown", &dnorm(f.bid_multiplier_down))
            .s("askMultiplierUp", &dnorm(f.ask_multiplier_up))
            .s("askMultiplierDown", &dnorm(f.ask_multiplier_down))
            .i("avgPriceMins", i64::from(f.avg_price_mins))
            .end(),
        Obj::new()
            .s("filterType", "NOTIONAL")
            .d("minNotional", f.min_notional)
            .b("applyMinToMarket", f.apply_min_to_market)
            .d("maxNotional", f.max_notional)
            .b("applyMaxToMarket", f.apply_max_to_market)
            .i("avgPriceMins", i64::from(f.avg_price_mins))
            .end(),
        Obj::new()
            .s("filterType", "MAX_NUM_ORDERS")
            .i("maxNumOrders", f.max_num_orders as i64)
            .end(),
        Obj::new()
            .s("filterType", "MAX_NUM_ALGO_ORDERS")
            .i("maxNumAlgoOrders", f.max_num_algo_orders as i64)
            .end(),
    ]);
    Some(
        Obj::new()
            .s("symbol", &c.symbol)
            .s("status", c.status.as_str())
            .s("baseAsset", &c.base)
            .i("baseAssetPrecision", 8)
            .s("quoteAsset", &c.quote)
            .i("quotePrecision", 8)
            .i("quoteAssetPrecision", 8)
            .i("baseCommissionPrecision", 8)
            .i("quoteCommissionPrecision", 8)
            .raw(
                "orderTypes",
                r#"["LIMIT","LIMIT_MAKER","MARKET","STOP_LOSS","STOP_LOSS_LIMIT","TAKE_PROFIT","TAKE_PROFIT_LIMIT"]"#,
            )
            .b("icebergAllowed", false)
            .b("ocoAllowed", false)
            .b("otoAllowed", false)
            .b("opoAllowed", false)
            .b("quoteOrderQtyMarketAllowed", true)
            .b("allowTrailingStop", c.allow_trailing_stop)
            .b("cancelReplaceAllowed", false)
            .b("amendAllowed", false)
            .b("pegInstructionsAllowed", false)
            .b("isSpotTradingAllowed", true)
            .b("isMarginTradingAllowed", false)
            .raw("filters", &filters)
            .raw("permissions", "[]")
            .raw("permissionSets", r#"[["SPOT"]]"#)
            .s("defaultSelfTradePreventionMode", c.stp_default.as_str())
            .raw(
                "allowedSelfTradePreventionModes",
                &arr(c.stp_allowed.iter().map(|m| format!("\"{}\"", m.as_str()))),
            )
            .end(),
    )
}

fn rate_limits_json(ex: &Engine) -> String {
    let l = &ex.config().limits;
    format!(
        r#"[{{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":{}}},{{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":{}}},{{"rateLimitType":"ORDERS","interval":"DAY","intervalNum":1,"limit":{}}},{{"rateLimitType":"RAW_REQUESTS","interval":"MINUTE","intervalNum":5,"limit":300000}}]"#,
        l.weight_per_minute, l.orders_per_10s, l.orders_per_day
    )
}

/// Symbols of a `symbols=["A","B"]` parameter.
pub(crate) fn symbols_list(v: &str) -> Result<Vec<String>, ApiError> {
    let list: Vec<String> = serde_json::from_str(v).map_err(|_| {
        ApiError::bad(-1100, "Illegal characters found in parameter 'symbols'; legal range is '^\\[\"[A-Z0-9-_.]{1,20}\"(,\"[A-Z0-9-_.]{1,20}\"){0,}]$'.")
    })?;
    for s in &list {
        check_symbol_syntax(s)?;
    }
    Ok(list)
}

fn interval_ms(v: &str) -> Option<i64> {
    const M: i64 = 60_000;
    Some(match v {
        "1m" => M,
        "3m" => 3 * M,
        "5m" => 5 * M,
        "15m" => 15 * M,
        "30m" => 30 * M,
        "1h" => 60 * M,
        "2h" => 120 * M,
        "4h" => 240 * M,
        "6h" => 360 * M,
        "8h" => 480 * M,
        "12h" => 720 * M,
        "1d" => 1440 * M,
        "3d" => 3 * 1440 * M,
        "1w" => 7 * 1440 * M,
        "1M" => 30 * 1440 * M,
        _ => return None,
    })
}

// ----------------------------------------------------------------------
// Request processing
// ----------------------------------------------------------------------

/// Outcome of the first phase.
#[derive(Debug)]
pub enum Prepared {
    /// Answer now (error, fault, 404).
    Done(ApiResponse),
    /// Process after waiting `delay_ms` (0 = at once).
    Go {
        /// The endpoint to execute.
        route: Route,
        /// How long the server holds the request first (timeout fault).
        delay_ms: u64,
    },
}

fn with_weight(ex: &Engine, mut r: ApiResponse) -> ApiResponse {
    let w = ex.weight_used().to_string();
    r.headers.push(("X-MBX-USED-WEIGHT".into(), w.clone()));
    r.headers.push(("X-MBX-USED-WEIGHT-1M".into(), w));
    r
}

/// Phase 1: route, admission (ban, bursts, weight), pre-faults.
pub fn prepare(ex: &mut Engine, req: &ApiRequest<'_>) -> Prepared {
    let Some(route) = Route::lookup(req.method, req.path) else {
        return Prepared::Done(with_weight(ex, ApiResponse::json(404, String::new())));
    };
    let body = std::str::from_utf8(req.body).unwrap_or("");
    let weight = match Params::parse(req.query, body) {
        Ok(p) => route.weight(&p),
        Err(_) => 1,
    };
    admit(ex, route, weight)
}

/// Phase 1 of an in-process request: admission (ban, bursts, weight) and
/// pre-faults, exactly as [`prepare`] for the same endpoint and parameters.
pub fn prepare_trusted(ex: &mut Engine, req: &TrustedRequest<'_>) -> Prepared {
    admit(ex, req.route, req.route.weight(req.params))
}

fn admit(ex: &mut Engine, route: Route, weight: u64) -> Prepared {
    let admit_weight = if route.zero_on_success() { 0 } else { weight };
    if let Err(e) = ex.admit(route.name(), admit_weight) {
        return Prepared::Done(with_weight(ex, ApiResponse::error(&e)));
    }
    match ex.draw_pre_fault() {
        PreFault::Http500 => Prepared::Done(with_weight(
            ex,
            ApiResponse::json(
                500,
                ApiError::new(
                    500,
                    -1001,
                    "Internal error; unable to process your request. Please try again.",
                )
                .body(),
            ),
        )),
        PreFault::Delay(ms) => Prepared::Go {
            route,
            delay_ms: ms,
        },
        PreFault::None => Prepared::Go { route, delay_ms: 0 },
    }
}

/// Phase 2: authenticate, execute, render, apply lost-answer faults.
pub fn execute(ex: &mut Engine, route: Route, req: &ApiRequest<'_>) -> ApiResponse {
    let mut order_headers = false;
    let result = handle(ex, route, req, &mut order_headers);
    let failure_weight = || {
        let body = std::str::from_utf8(req.body).unwrap_or("");
        Params::parse(req.query, body)
            .map(|p| route.weight(&p))
            .unwrap_or(1)
    };
    finish(ex, route, result, failure_weight, order_headers)
}

/// Phase 2 of an in-process request: the `timestamp`/`recvWindow` check of a
/// signed endpoint, then exactly what [`execute`] does after authentication.
pub fn execute_trusted(ex: &mut Engine, req: &TrustedRequest<'_>) -> ApiResponse {
    let mut order_headers = false;
    let (route, p) = (req.route, req.params);
    let result = if route.signed() {
        parse_timestamp(p).and_then(|ts| check_window(ex, p, ts))
    } else {
        Ok(())
    }
    .and_then(|()| endpoint(ex, route, p, &mut order_headers));
    finish(ex, route, result, || route.weight(p), order_headers)
}

/// Charges a failed order request, adds the order-count headers, draws the
/// lost-answer fault of a write and adds the weight headers.
fn finish(
    ex: &mut Engine,
    route: Route,
    result: Result<String, ApiError>,
    failure_weight: impl FnOnce() -> u64,
    order_headers: bool,
) -> ApiResponse {
    let mut resp = match result {
        Ok(body) => ApiResponse::json(200, body),
        Err(e) => {
            if route.zero_on_success() {
                ex.charge(failure_weight());
            }
            ApiResponse::error(&e)
        }
    };
    if resp.status == 200 && order_headers {
        let (c10, cd) = ex.order_counts();
        resp.headers
            .push(("X-MBX-ORDER-COUNT-10S".into(), c10.to_string()));
        resp.headers
            .push(("X-MBX-ORDER-COUNT-1D".into(), cd.to_string()));
    }
    if resp.status == 200 && route.mutates() {
        if let Some(lost) = ex.draw_lost_answer() {
            log::info!(
                "Fault: executed {} but its answer is lost ({lost:?})",
                route.name()
            );
            resp = match lost {
                LostAnswer::Http5xx => ApiResponse::json(
                    500,
                    ApiError::new(500, -1006, "An unexpected response was received from the message bus. Execution status unknown.").body(),
                ),
                LostAnswer::Timeout1007 => ApiResponse::json(
                    503,
                    ApiError::new(503, -1007, "Timeout waiting for response from backend server. Send status unknown; execution status unknown.").body(),
                ),
                LostAnswer::DropConnection => ApiResponse {
                    status: 200,
                    body: String::new(),
                    headers: Vec::new(),
                    drop_connection: true,
                },
            };
        }
    }
    with_weight(ex, resp)
}

/// Convenience for in-process callers and tests: both phases, ignoring delays.
pub fn process(ex: &mut Engine, req: &ApiRequest<'_>) -> ApiResponse {
    match prepare(ex, req) {
        Prepared::Done(r) => r,
        Prepared::Go { route, .. } => execute(ex, route, req),
    }
}

/// A signed WebSocket API request (binance-ws.md §1 "Signing"): `apiKey`
/// among the params, the signature over every param but `signature`, sorted
/// by name, `name=value` joined by `&`, not percent-encoded; HMAC-SHA256 hex
/// for the HMAC key, Ed25519 base64 for a key of
/// [`crate::SimConfig::api_keys`]. The same checks and codes as REST:
/// -2014/-2015 for the key, -1022 for the signature, -1021 for the window.
///
/// # Errors
/// The Binance error for the first check that fails.
pub fn verify_ws_signed(ex: &Engine, p: &Params) -> Result<(), ApiError> {
    let key = p.get("apiKey").unwrap_or("");
    let ed25519 = check_key(ex, key)?;
    let ts = parse_timestamp(p)?;
    let sig = p.required("signature")?;
    let mut pairs: Vec<&(String, String)> =
        p.pairs.iter().filter(|(k, _)| k != "signature").collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    let payload = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let valid = match ed25519 {
        None => sign(&ex.config().api_secret, payload.as_bytes()).eq_ignore_ascii_case(sig),
        Some(vk) => verify_ed25519(&vk, payload.as_bytes(), sig),
    };
    if !valid {
        return Err(ApiError::bad(
            -1022,
            "Signature for this request is not valid.",
        ));
    }
    check_window(ex, p, ts)
}

/// The API key's format and whether it is known: `None` for the HMAC key,
/// the Ed25519 public key otherwise.
fn check_key(ex: &Engine, key: &str) -> Result<Option<ed25519_dalek::VerifyingKey>, ApiError> {
    let cfg = ex.config();
    if key.is_empty()
        || !key
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    {
        return Err(ApiError::new(401, -2014, "API-key format invalid."));
    }
    if key == cfg.api_key {
        return Ok(None);
    }
    match cfg.ed25519_key(key).map(|k| k.verifying_key()) {
        Some(Ok(vk)) => Ok(Some(vk)),
        // A bad PEM is refused when the config is read; never reached.
        Some(Err(_)) | None => Err(ApiError::new(
            401,
            -2015,
            "Invalid API-key, IP, or permissions for action.",
        )),
    }
}

/// Checks API key, timestamp, signature and recvWindow (§3, §12.2).
fn authenticate(ex: &Engine, req: &ApiRequest<'_>, body: &str, p: &Params) -> Result<(), ApiError> {
    let cfg = ex.config();
    let ed25519 = check_key(ex, req.api_key.unwrap_or(""))?;
    let ts = parse_timestamp(p)?;
    let sig = p.required("signature")?;
    // Payload: raw query + raw body, each without its signature pair.
    let strip = |s: &str| -> (String, bool) {
        let mut found = false;
        let kept: Vec<&str> = s
            .split('&')
            .filter(|kv| {
                let is_sig = kv.starts_with("signature=");
                found |= is_sig;
                !is_sig
            })
            .collect();
        if found {
            (kept.join("&"), true)
        } else {
            (s.to_string(), false)
        }
    };
    let (q, _) = strip(req.query);
    let (b, _) = strip(body);
    let mut payload = q;
    payload.push_str(&b);
    let valid = match ed25519 {
        None => sign(&cfg.api_secret, payload.as_bytes()).eq_ignore_ascii_case(sig),
        Some(vk) => verify_ed25519(&vk, payload.as_bytes(), sig),
    };
    if !valid {
        return Err(ApiError::bad(
            -1022,
            "Signature for this request is not valid.",
        ));
    }
    check_window(ex, p, ts)
}

/// The `timestamp` parameter in ms (microseconds accepted).
fn parse_timestamp(p: &Params) -> Result<i64, ApiError> {
    let ts_raw = p.required("timestamp")?;
    let ts = parse_i64("timestamp", ts_raw).map_err(|_| ApiError::mandatory("timestamp"))?;
    Ok(if ts >= 100_000_000_000_000 {
        ts / 1000
    } else {
        ts
    })
}

/// `recvWindow` and the timestamp against the server's clock (`-1021`).
fn check_window(ex: &Engine, p: &Params, ts: i64) -> Result<(), ApiError> {
    let recv = match p.opt_nonempty("recvWindow") {
        None => Decimal::from(5000),
        Some(v) => parse_decimal("recvWindow", v)?,
    };
    if recv > Decimal::from(60_000) {
        return Err(ApiError::bad(
            -1102,
            "'recvWindow' contains unexpected value. Cannot be greater than 60000.",
        ));
    }
    let server = ex.server_time();
    if ts >= server + 1000 {
        return Err(ApiError::bad(
            -1021,
            "Timestamp for this request was 1000ms ahead of the server's time.",
        ));
    }
    if Decimal::from(server - ts) > recv || ts < 1_483_228_800_000 {
        return Err(ApiError::bad(
            -1021,
            "Timestamp for this request is outside of the recvWindow.",
        ));
    }
    Ok(())
}

fn parse_new_order(p: &Params) -> Result<OrderRequest, ApiError> {
    let symbol = symbol_param(p)?.to_string();
    let side_s = p.required("side")?;
    let side = side_s
        .parse::<Side>()
        .map_err(|_| ApiError::bad(-1117, "Invalid side."))?;
    let type_s = p.required("type")?;
    let t = type_s
        .parse::<OrderType>()
        .map_err(|_| ApiError::bad(-1116, "Invalid orderType."))?;
    let tif = match p.opt_nonempty("timeInForce") {
        None => None,
        Some(v) => Some(
            v.parse::<TimeInForce>()
                .map_err(|_| ApiError::bad(-1115, "Invalid timeInForce."))?,
        ),
    };
    let dec = |k: &str| -> Result<Option<Decimal>, ApiError> {
        p.opt_nonempty(k).map(|v| parse_decimal(k, v)).transpose()
    };
    let quantity = dec("quantity")?;
    let quote_order_qty = dec("quoteOrderQty")?;
    let price = dec("price")?;
    let stop_price = dec("stopPrice")?;
    if p.opt_nonempty("icebergQty").is_some() {
        return Err(ApiError::rejected(
            "Iceberg orders are not supported for this symbol.",
        ));
    }
    let trailing_delta = match p.opt_nonempty("trailingDelta") {
        None => None,
        Some(v) => {
            let n = parse_u64("trailingDelta", v)?;
            Some(u32::try_from(n).unwrap_or(u32::MAX))
        }
    };
    let new_client_order_id = match p.get("newClientOrderId") {
        None => None,
        Some("") => return Err(ApiError::bad(-1118, "New client order ID was empty.")),
        Some(v) => {
            check_cid("newClientOrderId", v)?;
            Some(v.to_string())
        }
    };
    let resp_type = match p.opt_nonempty("newOrderRespType") {
        None => None,
        Some(v) => Some(
            parse_resp_type(v)
                .ok_or_else(|| ApiError::illegal("newOrderRespType", "ACK, RESULT, FULL"))?,
        ),
    };
    let strategy_id = p
        .opt_nonempty("strategyId")
        .map(|v| parse_i64("strategyId", v))
        .transpose()?;
    let strategy_type = p
        .opt_nonempty("strategyType")
        .map(|v| parse_i64("strategyType", v))
        .transpose()?;
    if strategy_type.is_some_and(|s| s < 1_000_000) {
        return Err(ApiError::bad(-1134, "strategyType was less than 1000000."));
    }
    let stp = match p.opt_nonempty("selfTradePreventionMode") {
        None => None,
        Some(v) => Some(v.parse::<StpMode>().map_err(|_| {
            ApiError::illegal(
                "selfTradePreventionMode",
                "NONE, EXPIRE_TAKER, EXPIRE_MAKER, EXPIRE_BOTH, DECREMENT, TRANSFER",
            )
        })?),
    };
    Ok(OrderRequest {
        symbol,
        side: Some(side),
        order_type: Some(t),
        time_in_force: tif,
        quantity,
        quote_order_qty,
        price,
        stop_price,
        trailing_delta,
        new_client_order_id,
        resp_type,
        strategy_id,
        strategy_type,
        stp,
    })
}

fn ids_param(p: &Params) -> Result<(Option<u64>, Option<String>), ApiError> {
    let oid = opt_u64(p, "orderId")?;
    let cid = match p.get("origClientOrderId") {
        None => None,
        Some("") => return Err(ApiError::bad(-1119, "Original client order ID was empty.")),
        Some(v) => Some(v.to_string()),
    };
    Ok((oid, cid))
}

fn handle(
    ex: &mut Engine,
    route: Route,
    req: &ApiRequest<'_>,
    order_headers: &mut bool,
) -> Result<String, ApiError> {
    let body = std::str::from_utf8(req.body)
        .map_err(|_| ApiError::bad(-1100, "Illegal characters found in a parameter."))?;
    let p = Params::parse(req.query, body)?;
    if route.signed() {
        authenticate(ex, req, body, &p)?;
    }
    endpoint(ex, route, &p, order_headers)
}

/// One endpoint, after admission and authentication: its parameters, the
/// engine call and the JSON body, shared by the HTTP and in-process paths.
fn endpoint(
    ex: &mut Engine,
    route: Route,
    p: &Params,
    order_headers: &mut bool,
) -> Result<String, ApiError> {
    match route {
        Route::Ping => Ok("{}".into()),
        Route::Time => Ok(Obj::new().i("serverTime", ex.server_time()).end()),
        Route::ExchangeInfo => {
            let names: Vec<String> = match (p.opt_nonempty("symbol"), p.opt_nonempty("symbols")) {
                (Some(_), Some(_)) => {
                    return Err(ApiError::bad(
                        -1128,
                        "Combination of optional parameters invalid.",
                    ))
                }
                (Some(s), None) => {
                    check_symbol_syntax(s)?;
                    vec![s.to_string()]
                }
                (None, Some(list)) => symbols_list(list)?,
                (None, None) => ex.symbol_names(),
            };
            let mut infos = Vec::new();
            for n in &names {
                infos.push(render_symbol_info(ex, n).ok_or_else(ApiError::invalid_symbol)?);
            }
            Ok(Obj::new()
                .s("timezone", "UTC")
                .i("serverTime", ex.server_time())
                .raw("rateLimits", &rate_limits_json(ex))
                .raw("exchangeFilters", "[]")
                .raw("symbols", &arr(infos))
                .end())
        }
        Route::TickerPrice => {
            let one = |n: &str| -> Result<String, ApiError> {
                let pr = ex.last_price(n).ok_or_else(ApiError::invalid_symbol)?;
                Ok(Obj::new().s("symbol", n).d("price", pr).end())
            };
            match (p.opt_nonempty("symbol"), p.opt_nonempty("symbols")) {
                (Some(_), Some(_)) => Err(ApiError::bad(
                    -1128,
                    "Combination of optional parameters invalid.",
                )),
                (Some(s), None) => {
                    check_symbol_syntax(s)?;
                    one(s)
                }
                (None, Some(list)) => {
                    let names = symbols_list(list)?;
                    let v: Result<Vec<String>, ApiError> = names.iter().map(|n| one(n)).collect();
                    Ok(arr(v?))
                }
                (None, None) => {
                    let v: Result<Vec<String>, ApiError> =
                        ex.symbol_names().iter().map(|n| one(n)).collect();
                    Ok(arr(v?))
                }
            }
        }
        Route::AvgPrice => {
            let s = symbol_param(p)?;
            let pr = ex.last_price(s).ok_or_else(ApiError::invalid_symbol)?;
            Ok(Obj::new()
                .i("mins", 5)
                .d("price", pr)
                .i("closeTime", ex.now())
                .end())
        }
        Route::Klines | Route::Market(MarketRoute::UiKlines) => {
            let s = symbol_param(p)?;
            let iv = p.required("interval")?;
            let ms = interval_ms(iv).ok_or_else(|| ApiError::bad(-1120, "Invalid interval."))?;
            let limit = limit_param(p, 500, 1000)?;
            let bars = ex.klines(
                s,
                ms,
                opt_time(p, "startTime")?,
                opt_time(p, "endTime")?,
                limit,
            )?;
            Ok(arr(bars.iter().map(|b| {
                format!(
                    r#"[{},"{}","{}","{}","{}","{}",{},"{}",{},"0.00000000","0.00000000","0"]"#,
                    b.open_time,
                    d8(b.open),
                    d8(b.high),
                    d8(b.low),
                    d8(b.close),
                    d8(b.volume),
                    b.open_time + ms - 1,
                    d8(b.quote_volume),
                    b.trades
                )
            })))
        }
        Route::Account => {
            let omit = p.get("omitZeroBalances") == Some("true");
            let fees = &ex.config().fees;
            let bp = |r: Decimal| (r * Decimal::from(10_000)).round().to_string();
            let balances = arr(ex
                .balances()
                .iter()
                .filter(|(_, b)| !(omit && b.free.is_zero() && b.locked.is_zero()))
                .map(|(a, b)| {
                    Obj::new()
                        .s("asset", a)
                        .d("free", b.free)
                        .d("locked", b.locked)
                        .end()
                }));
            Ok(Obj::new()
                .raw("makerCommission", &bp(fees.maker))
                .raw("takerCommission", &bp(fees.taker))
                .i("buyerCommission", 0)
                .i("sellerCommission", 0)
                .raw(
                    "commissionRates",
                    &Obj::new()
                        .d("maker", fees.maker)
                        .d("taker", fees.taker)
                        .d("buyer", Decimal::ZERO)
                        .d("seller", Decimal::ZERO)
                        .end(),
                )
                .b("canTrade", true)
                .b("canWithdraw", true)
                .b("canDeposit", true)
                .b("brokered", false)
                .b("requireSelfTradePrevention", false)
                .b("preventSor", false)
                .i("updateTime", ex.now())
                .s("accountType", "SPOT")
                .raw("balances", &balances)
                .raw("permissions", r#"["SPOT"]"#)
                .i("uid", 354937868)
                .end())
        }
        Route::OpenOrders => {
            let sym = match p.opt_nonempty("symbol") {
                Some(s) => {
                    check_symbol_syntax(s)?;
                    Some(s)
                }
                None => None,
            };
            let v = ex.open_orders(sym)?;
            Ok(arr(v.iter().map(|o| render_order(o))))
        }
        Route::GetOrder => {
            let s = symbol_param(p)?;
            let (oid, cid) = ids_param(p)?;
            let o = ex.find_order(s, oid, cid.as_deref())?;
            Ok(render_order(o))
        }
        Route::AllOrders => {
            let s = symbol_param(p)?;
            let limit = limit_param(p, 500, 1000)?;
            let v = ex.all_orders(
                s,
                opt_u64(p, "orderId")?,
                opt_time(p, "startTime")?,
                opt_time(p, "endTime")?,
                limit,
            )?;
            Ok(arr(v.iter().map(|o| render_order(o))))
        }
        Route::MyTrades => {
            let s = symbol_param(p)?;
            let limit = limit_param(p, 500, 1000)?;
            let oid = opt_u64(p, "orderId")?;
            let from = opt_u64(p, "fromId")?;
            let (st, en) = (opt_time(p, "startTime")?, opt_time(p, "endTime")?);
            if from.is_some() && (st.is_some() || en.is_some()) {
                return Err(ApiError::bad(
                    -1128,
                    "Combination of optional parameters invalid.",
                ));
            }
            if let (Some(a), Some(b)) = (st, en) {
                if b - a > 86_400_000 {
                    return Err(ApiError::bad(
                        -1127,
                        "More than 24 hours between startTime and endTime.",
                    ));
                }
            }
            let v = ex.my_trades(s, oid, from, st, en, limit)?;
            Ok(arr(v.iter().map(|t| {
                Obj::new()
                    .s("symbol", &t.symbol)
                    .i("id", t.id as i64)
                    .i("orderId", t.order_id as i64)
                    .i("orderListId", -1)
                    .d("price", t.price)
                    .d("qty", t.qty)
                    .d("quoteQty", t.quote_qty)
                    .d("commission", t.commission)
                    .s("commissionAsset", &t.commission_asset)
                    .i("time", t.time)
                    .b("isBuyer", t.is_buyer)
                    .b("isMaker", t.is_maker)
                    .b("isBestMatch", true)
                    .end()
            })))
        }
        Route::RateLimitOrder => {
            let (c10, cd) = ex.order_counts();
            let l = &ex.config().limits;
            Ok(format!(
                r#"[{{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":{},"count":{}}},{{"rateLimitType":"ORDERS","interval":"DAY","intervalNum":1,"limit":{},"count":{}}}]"#,
                l.orders_per_10s, c10, l.orders_per_day, cd
            ))
        }
        Route::PostOrder => {
            let no = parse_new_order(p)?;
            let placed = ex.place_order(&no)?;
            *order_headers = true;
            Ok(render_placed(&placed))
        }
        Route::TestOrder => {
            let no = parse_new_order(p)?;
            ex.check_order(&no)?;
            if p.get("computeCommissionRates") == Some("true") {
                let f = &ex.config().fees;
                let pair = |m: Decimal, t: Decimal| Obj::new().d("maker", m).d("taker", t).end();
                Ok(Obj::new()
                    .raw("standardCommissionForOrder", &pair(f.maker, f.taker))
                    .raw(
                        "specialCommissionForOrder",
                        &pair(Decimal::ZERO, Decimal::ZERO),
                    )
                    .raw("taxCommissionForOrder", &pair(Decimal::ZERO, Decimal::ZERO))
                    .raw(
                        "discount",
                        &Obj::new()
                            .b("enabledForAccount", true)
                            .b("enabledForSymbol", true)
                            .s("discountAsset", "BNB")
                            .d("discount", f.bnb_discount)
                            .end(),
                    )
                    .end())
            } else {
                Ok("{}".into())
            }
        }
        Route::CancelOrder => {
            let s = symbol_param(p)?;
            let (oid, cid) = ids_param(p)?;
            let restriction = match p.opt_nonempty("cancelRestrictions") {
                None => None,
                Some(v @ ("ONLY_NEW" | "ONLY_PARTIALLY_FILLED")) => Some(v),
                Some(_) => return Err(ApiError::bad(-1145, "Invalid cancelRestrictions")),
            };
            let cancel_id = cancel_client_id(ex, p)?;
            let o = ex.cancel_order_as(s, oid, cid.as_deref(), restriction, Some(&cancel_id))?;
            Ok(render_cancel(&o, &cancel_id, ex.now()))
        }
        Route::CancelAll => {
            let s = symbol_param(p)?;
            let cancel_id = cancel_client_id(ex, p)?;
            let v = ex.cancel_all_as(s, Some(&cancel_id))?;
            let now = ex.now();
            Ok(arr(v.iter().map(|o| render_cancel(o, &cancel_id, now))))
        }
        Route::Market(m) => crate::market::endpoint(ex, m, p),
    }
}

fn cancel_client_id(ex: &Engine, p: &Params) -> Result<String, ApiError> {
    match p.get("newClientOrderId") {
        None | Some("") => Ok(format!("cancel{}", ex.orders().len() + ex.trades().len())),
        Some(v) => {
            check_cid("newClientOrderId", v)?;
            Ok(v.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tv1_signatures() {
        let secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
        assert_eq!(
            sign(secret, b"symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"),
            "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
        );
        assert_eq!(
            sign(secret, b"symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"),
            "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"
        );
        assert_eq!(
            sign(secret, b"symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTCquantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"),
            "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77"
        );
        assert_eq!(
            sign(secret, b""),
            "18f82ab1c4ba20d60cb86ebc4cab5b54ddb974cdf7832421345148e7a7f9466e"
        );
    }

    #[test]
    fn decimal_params() {
        assert_eq!(
            parse_decimal("quantity", "1.50000000").ok(),
            Some(Decimal::new(15, 1))
        );
        assert_eq!(
            parse_decimal("quantity", "-1337.00000000").map_err(|e| e.code),
            Err(-1100)
        );
        assert_eq!(
            parse_decimal("quantity", "1e-7").map_err(|e| e.code),
            Err(-1100)
        );
        assert_eq!(
            parse_decimal("quantity", "1.").map_err(|e| e.code),
            Err(-1100)
        );
        assert_eq!(
            parse_decimal("quantity", "0.000000001").map_err(|e| e.code),
            Err(-1111)
        );
        assert!(parse_decimal("price", "0.100000000000").is_ok());
    }

    #[test]
    fn params_duplicates_and_precedence() {
        let p = Params::parse("a=1&b=2", "b=3&c=4").unwrap_or_default();
        assert_eq!(p.get("b"), Some("2"));
        assert_eq!(p.get("c"), Some("4"));
        assert_eq!(
            Params::parse("a=1&a=2", "").map_err(|e| e.code).err(),
            Some(-1101)
        );
        assert_eq!(
            url_decode("%5B%22A%22%5D+x").ok().as_deref(),
            Some("[\"A\"] x")
        );
    }

    #[test]
    fn rendered_strings_are_json_strings_whatever_they_hold() {
        for v in [
            "SOLUSDC",
            "x-Ab_9",
            "quote \" and \\ back",
            "line\nbreak\u{1}",
            "é 中",
            "\u{7f}",
        ] {
            let body = Obj::new().s("k", v).s("n", "plain").end();
            // Not JSON: Null, and the assertions below say so with the body.
            let parsed: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            assert_eq!(parsed["k"], v, "{body}");
            assert_eq!(parsed["n"], "plain", "{body}");
            assert_eq!(
                body,
                format!("{{\"k\":{},\"n\":\"plain\"}}", serde_json::Value::from(v)),
                "same text as serde_json writes"
            );
        }
    }
}

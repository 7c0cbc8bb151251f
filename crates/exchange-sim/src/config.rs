//! Simulator configuration. Every field is optional in JSON; [`SimConfig::default`]
//! gives SOLUSDC/BTCUSDC/ETHUSDC/BNBUSDC with production-like filters,
//! 10000 USDC + 1 BNB, 0.1 % fees charged in the received asset, a manual price
//! path and the 6000/min weight limit.

use std::collections::BTreeMap;
use std::path::Path;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::SimError;
use crate::types::{StpMode, SymbolStatus};

fn d(s: &str) -> Decimal {
    s.parse().unwrap_or_default()
}

/// Top-level configuration (JSON, all fields optional).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SimConfig {
    /// The one API key accepted (`X-MBX-APIKEY`).
    pub api_key: String,
    /// The HMAC secret requests are signed with.
    pub api_secret: String,
    /// More accepted API keys, each an Ed25519 key whose requests are
    /// verified against its public key (`-1022` when they do not match).
    pub api_keys: Vec<ApiKeyConfig>,
    /// The symbols listed, with their start price, filters and status.
    pub symbols: Vec<SymbolConfig>,
    /// Starting balances, asset -> free amount.
    pub balances: BTreeMap<String, Decimal>,
    /// Commissions.
    pub fees: FeeConfig,
    /// How prices move with `advance`.
    pub price_path: PricePathConfig,
    /// Request weight and order-rate limits.
    pub limits: LimitsConfig,
    /// `None`: the clock follows wall time (paper mode, real clients).
    /// `Some(ms)`: a frozen simulated clock starting there, moved only by `advance`.
    pub start_time_ms: Option<i64>,
    /// Seed used by the random-walk path when `price_path.seed` is absent.
    pub seed: u64,
    /// actix worker threads of the HTTP server.
    pub workers: usize,
    /// Order and trade ids start after it (`id_base + 1`, …). Binance never
    /// reuses an id; a simulator restarted against a bot's existing
    /// database must not either (paper mode sets it from the start time).
    pub id_base: u64,
    /// User-data events kept for the WebSocket API's subscribers (oldest
    /// dropped first; a subscriber that falls further behind gets
    /// `eventStreamTerminated`). Default [`crate::user_stream::DEFAULT_EVENT_LOG_CAPACITY`].
    pub user_event_log_capacity: usize,
    /// The WebSocket API pings every session this often (Binance: 20 s).
    pub ws_ping_ms: u64,
    /// A session that has not answered a ping with its pong this long is
    /// closed (Binance: 1 minute).
    pub ws_pong_timeout_ms: u64,
    /// A session is closed this long after it connected (Binance: 24 h).
    pub ws_max_lifetime_ms: u64,
    /// Faults of the WebSocket API's event delivery, from the start
    /// (`POST /sim/ws/faults` changes them at run time).
    pub ws_faults: WsFaultConfig,
}

/// Seeded faults of the WebSocket API's user-data events (see [`crate::ws`]).
/// Draws are per session, from `seed` and the session's number: the same
/// events on the same session meet the same faults.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct WsFaultConfig {
    /// Seed of the draws.
    pub seed: u64,
    /// Each session drops its connection (no close frame) right after
    /// sending this many events (counted from when the faults were set or
    /// the session connected, whichever is later).
    pub drop_after_events: Option<u64>,
    /// Events are held this long before they are sent.
    pub delay_ms: u64,
    /// Probability an event is sent twice.
    pub duplicate_rate: f64,
    /// Probability an event is swapped with the one after it (same batch).
    pub reorder_rate: f64,
}

impl Default for SimConfig {
    fn default() -> Self {
        let mut balances = BTreeMap::new();
        balances.insert("USDC".to_string(), d("10000"));
        balances.insert("BNB".to_string(), d("1"));
        SimConfig {
            api_key: "sim-key".into(),
            api_secret: "sim-secret".into(),
            api_keys: Vec::new(),
            symbols: vec![
                SymbolConfig::new("SOLUSDC", "SOL", "USDC", "150.00", "0.01", "0.001"),
                SymbolConfig::new("BTCUSDC", "BTC", "USDC", "60000.00", "0.01", "0.00001"),
                SymbolConfig::new("ETHUSDC", "ETH", "USDC", "3000.00", "0.01", "0.0001"),
                SymbolConfig::new("BNBUSDC", "BNB", "USDC", "600.00", "0.01", "0.001"),
            ],
            balances,
            fees: FeeConfig::default(),
            price_path: PricePathConfig::default(),
            limits: LimitsConfig::default(),
            start_time_ms: None,
            seed: 42,
            workers: 2,
            id_base: 0,
            user_event_log_capacity: crate::user_stream::DEFAULT_EVENT_LOG_CAPACITY,
            ws_ping_ms: 20_000,
            ws_pong_timeout_ms: 60_000,
            ws_max_lifetime_ms: 86_400_000,
            ws_faults: WsFaultConfig::default(),
        }
    }
}

impl SimConfig {
    /// Reads a JSON config file; missing fields take their defaults.
    ///
    /// # Errors
    /// [`SimError::ConfigRead`] if the file cannot be read, [`SimError::ConfigParse`]
    /// if it is not valid JSON for this shape, [`SimError::Config`] if it is inconsistent.
    pub fn from_json_file(path: &Path) -> Result<SimConfig, SimError> {
        let text = std::fs::read_to_string(path).map_err(|source| SimError::ConfigRead {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json_str(&text)
    }

    /// Parses a JSON config string.
    ///
    /// # Errors
    /// As [`SimConfig::from_json_file`].
    pub fn from_json_str(text: &str) -> Result<SimConfig, SimError> {
        let cfg: SimConfig = serde_json::from_str(text)?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks the config is usable (positive ticks/steps/prices, unique symbols).
    ///
    /// # Errors
    /// [`SimError::Config`] describing the first problem.
    pub fn validate(&self) -> Result<(), SimError> {
        let mut seen = std::collections::HashSet::new();
        for s in &self.symbols {
            if !seen.insert(s.symbol.clone()) {
                return Err(SimError::Config(format!("duplicate symbol {}", s.symbol)));
            }
            if s.price <= Decimal::ZERO {
                return Err(SimError::Config(format!("{}: price must be > 0", s.symbol)));
            }
            if s.filters.tick_size <= Decimal::ZERO || s.filters.step_size <= Decimal::ZERO {
                return Err(SimError::Config(format!(
                    "{}: tick_size and step_size must be > 0",
                    s.symbol
                )));
            }
            if s.base.is_empty() || s.quote.is_empty() {
                return Err(SimError::Config(format!("{}: base/quote empty", s.symbol)));
            }
        }
        if self.fees.maker < Decimal::ZERO || self.fees.taker < Decimal::ZERO {
            return Err(SimError::Config("fees must be >= 0".into()));
        }
        let mut keys = std::collections::HashSet::new();
        keys.insert(self.api_key.as_str());
        for k in &self.api_keys {
            if k.key.is_empty() || !keys.insert(k.key.as_str()) {
                return Err(SimError::Config(format!(
                    "api_keys: key {:?} is empty or listed twice (api_key included)",
                    k.key
                )));
            }
            k.verifying_key()?;
        }
        if self.user_event_log_capacity == 0
            || self.ws_ping_ms == 0
            || self.ws_pong_timeout_ms == 0
            || self.ws_max_lifetime_ms == 0
        {
            return Err(SimError::Config(
                "user_event_log_capacity, ws_ping_ms, ws_pong_timeout_ms and ws_max_lifetime_ms must be > 0".into(),
            ));
        }
        self.ws_faults.validate().map_err(SimError::Config)?;
        let l = &self.limits;
        if l.orders_per_10s == 0 || l.orders_per_day == 0 || l.weight_per_minute == 0 {
            return Err(SimError::Config(
                "limits: weight_per_minute, orders_per_10s and orders_per_day must be > 0".into(),
            ));
        }
        Ok(())
    }

    /// The Ed25519 public key of `api_key`, when it is one of [`SimConfig::api_keys`].
    pub fn ed25519_key(&self, api_key: &str) -> Option<&ApiKeyConfig> {
        self.api_keys.iter().find(|k| k.key == api_key)
    }
}

/// An Ed25519 API key: the key sent in `X-MBX-APIKEY` and the public key
/// its requests are verified with (what the user registers on Binance).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyConfig {
    /// The API key.
    pub key: String,
    /// `-----BEGIN PUBLIC KEY-----` … (SPKI PEM, as `openssl pkey -pubout` prints it).
    pub ed25519_public_key_pem: String,
}

impl ApiKeyConfig {
    /// The parsed public key.
    ///
    /// # Errors
    /// [`SimError::Config`] when the PEM is not an Ed25519 public key.
    pub fn verifying_key(&self) -> Result<ed25519_dalek::VerifyingKey, SimError> {
        use ed25519_dalek::pkcs8::DecodePublicKey;
        ed25519_dalek::VerifyingKey::from_public_key_pem(self.ed25519_public_key_pem.trim()).map_err(|e| {
            SimError::Config(format!(
                "api_keys: the ed25519_public_key_pem of key {:?} is not an Ed25519 public key PEM (-----BEGIN PUBLIC KEY-----, from openssl pkey -in key.pem -pubout): {e}",
                self.key
            ))
        })
    }
}

/// One symbol: assets, starting price, filters, liquidity.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SymbolConfig {
    /// Symbol name, e.g. `SOLUSDC`.
    pub symbol: String,
    /// Base asset, e.g. `SOL`.
    pub base: String,
    /// Quote asset, e.g. `USDC`.
    pub quote: String,
    /// Starting last price.
    pub price: Decimal,
    /// exchangeInfo filters.
    pub filters: FilterConfig,
    /// Base quantity that can trade per price step (one `set_price` or one
    /// path tick) against this account's orders; `None` = unlimited.
    pub step_volume: Option<Decimal>,
    /// exchangeInfo `allowTrailingStop`: `trailingDelta` is accepted.
    pub allow_trailing_stop: bool,
    /// exchangeInfo `status` (default `TRADING`); see [`crate::types`] for
    /// what the simulator does in each. A malformed name is refused when the
    /// config is read ([`crate::types::parse_symbol_status`]).
    #[serde(deserialize_with = "crate::types::de_symbol_status")]
    pub status: SymbolStatus,
    /// exchangeInfo `defaultSelfTradePreventionMode`: the mode of an order
    /// that names none (Binance's symbols: `EXPIRE_MAKER`).
    #[serde(default = "default_stp")]
    pub stp_default: StpMode,
    /// exchangeInfo `allowedSelfTradePreventionModes`. The simulator applies
    /// `NONE` and the three `EXPIRE_*` modes; an order naming `DECREMENT` or
    /// `TRANSFER` is refused with -1013 even when listed (not simulated).
    #[serde(default = "default_stp_allowed")]
    pub stp_allowed: Vec<StpMode>,
}

fn default_stp() -> StpMode {
    StpMode::ExpireMaker
}

fn default_stp_allowed() -> Vec<StpMode> {
    vec![
        StpMode::None,
        StpMode::ExpireTaker,
        StpMode::ExpireMaker,
        StpMode::ExpireBoth,
    ]
}

impl Default for SymbolConfig {
    fn default() -> Self {
        SymbolConfig::new("SOLUSDC", "SOL", "USDC", "150.00", "0.01", "0.001")
    }
}

impl SymbolConfig {
    /// A symbol with production-like filters for the given tick and step.
    pub fn new(symbol: &str, base: &str, quote: &str, price: &str, tick: &str, step: &str) -> Self {
        SymbolConfig {
            symbol: symbol.into(),
            base: base.into(),
            quote: quote.into(),
            price: d(price),
            filters: FilterConfig {
                min_price: d(tick),
                tick_size: d(tick),
                min_qty: d(step),
                step_size: d(step),
                ..FilterConfig::default()
            },
            step_volume: None,
            allow_trailing_stop: true,
            status: SymbolStatus::Trading,
            stp_default: default_stp(),
            stp_allowed: default_stp_allowed(),
        }
    }
}

/// The symbol filters (see binance-api.md §8). A zero disables a PRICE_FILTER /
/// LOT_SIZE rule as on Binance.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct FilterConfig {
    /// PRICE_FILTER `minPrice` (0 disables).
    pub min_price: Decimal,
    /// PRICE_FILTER `maxPrice` (0 disables).
    pub max_price: Decimal,
    /// PRICE_FILTER `tickSize`: prices are multiples of it.
    pub tick_size: Decimal,
    /// LOT_SIZE `minQty`.
    pub min_qty: Decimal,
    /// LOT_SIZE `maxQty` (0 disables).
    pub max_qty: Decimal,
    /// LOT_SIZE `stepSize`: quantities are multiples of it.
    pub step_size: Decimal,
    /// MARKET_LOT_SIZE `minQty`.
    pub market_min_qty: Decimal,
    /// MARKET_LOT_SIZE `maxQty` (0 disables).
    pub market_max_qty: Decimal,
    /// MARKET_LOT_SIZE `stepSize` (0: LOT_SIZE's step for `quoteOrderQty`).
    pub market_step_size: Decimal,
    /// NOTIONAL `minNotional`.
    pub min_notional: Decimal,
    /// NOTIONAL `maxNotional` (0 disables).
    pub max_notional: Decimal,
    /// NOTIONAL `applyMinToMarket`.
    pub apply_min_to_market: bool,
    /// NOTIONAL `applyMaxToMarket`.
    pub apply_max_to_market: bool,
    /// PERCENT_PRICE_BY_SIDE `bidMultiplierUp` (0 disables the upper bound).
    pub bid_multiplier_up: Decimal,
    /// PERCENT_PRICE_BY_SIDE `bidMultiplierDown`.
    pub bid_multiplier_down: Decimal,
    /// PERCENT_PRICE_BY_SIDE `askMultiplierUp` (0 disables the upper bound).
    pub ask_multiplier_up: Decimal,
    /// PERCENT_PRICE_BY_SIDE `askMultiplierDown`.
    pub ask_multiplier_down: Decimal,
    /// `avgPriceMins` shown in exchangeInfo (the simulator uses the last price).
    pub avg_price_mins: u32,
    /// TRAILING_DELTA `minTrailingAboveDelta` (BIPS).
    pub min_trailing_above_delta: u32,
    /// TRAILING_DELTA `maxTrailingAboveDelta` (BIPS).
    pub max_trailing_above_delta: u32,
    /// TRAILING_DELTA `minTrailingBelowDelta` (BIPS).
    pub min_trailing_below_delta: u32,
    /// TRAILING_DELTA `maxTrailingBelowDelta` (BIPS).
    pub max_trailing_below_delta: u32,
    /// MAX_NUM_ORDERS: open orders per symbol.
    pub max_num_orders: usize,
    /// MAX_NUM_ALGO_ORDERS: open stop orders per symbol.
    pub max_num_algo_orders: usize,
}

impl Default for FilterConfig {
    fn default() -> Self {
        FilterConfig {
            min_price: d("0.01"),
            max_price: d("1000000"),
            tick_size: d("0.01"),
            min_qty: d("0.00001"),
            max_qty: d("9000"),
            step_size: d("0.00001"),
            market_min_qty: Decimal::ZERO,
            market_max_qty: d("1000"),
            market_step_size: Decimal::ZERO,
            min_notional: d("5"),
            max_notional: d("9000000"),
            apply_min_to_market: true,
            apply_max_to_market: false,
            bid_multiplier_up: d("5"),
            bid_multiplier_down: d("0.2"),
            ask_multiplier_up: d("5"),
            ask_multiplier_down: d("0.2"),
            avg_price_mins: 5,
            min_trailing_above_delta: 10,
            max_trailing_above_delta: 2000,
            min_trailing_below_delta: 10,
            max_trailing_below_delta: 2000,
            max_num_orders: 200,
            max_num_algo_orders: 5,
        }
    }
}

/// Which asset pays the commission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CommissionAsset {
    /// Binance's default: the asset received (base on BUY, quote on SELL).
    #[default]
    Received,
    /// Always the quote asset (BUY pays on top of the notional).
    Quote,
    /// BNB at the BNB/quote price with `bnb_discount`; falls back to the received
    /// asset when BNB is short or has no price.
    Bnb,
}

/// Commissions of the account.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct FeeConfig {
    /// Maker rate (fraction, 0.001 = 0.1 %).
    pub maker: Decimal,
    /// Taker rate (fraction).
    pub taker: Decimal,
    /// Which asset pays.
    pub commission_asset: CommissionAsset,
    /// Fraction taken off the commission when paid in BNB (0.25 = 25 % off).
    pub bnb_discount: Decimal,
}

impl Default for FeeConfig {
    fn default() -> Self {
        FeeConfig {
            maker: d("0.001"),
            taker: d("0.001"),
            commission_asset: CommissionAsset::Received,
            bnb_discount: d("0.25"),
        }
    }
}

/// The kind of price path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PathKind {
    /// Prices move only by `set_price`.
    #[default]
    Manual,
    /// Seeded multiplicative random walk, one step per `step_ms` for every symbol.
    RandomWalk,
    /// Replays a Binance kline CSV for `symbol` (open, high/low, low/high, close per candle).
    Klines,
}

/// The price path driven by `advance(ms)`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct PricePathConfig {
    /// Manual, random walk or klines.
    pub kind: PathKind,
    /// Random-walk seed (default: [`SimConfig::seed`]).
    pub seed: Option<u64>,
    /// Path time per random-walk step.
    pub step_ms: i64,
    /// Max move per random-walk step, in basis points of the price.
    pub volatility_bps: u32,
    /// Kline CSV file (kind = klines).
    pub file: Option<String>,
    /// Symbol the klines drive (default: the first symbol).
    pub symbol: Option<String>,
    /// Multiply kline prices so the first open equals the symbol's start price.
    pub rescale: bool,
    /// When set, the server advances the path by itself every `auto_advance_ms`
    /// of wall time, by `auto_advance_ms * speed` of path time.
    pub auto_advance_ms: Option<u64>,
    /// Path time per wall time of the server's auto-advance.
    pub speed: Decimal,
}

impl Default for PricePathConfig {
    fn default() -> Self {
        PricePathConfig {
            kind: PathKind::Manual,
            seed: None,
            step_ms: 1000,
            volatility_bps: 20,
            file: None,
            symbol: None,
            rescale: false,
            auto_advance_ms: None,
            speed: Decimal::ONE,
        }
    }
}

/// Rate limits (binance-api.md §4).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LimitsConfig {
    /// REQUEST_WEIGHT per minute (429 `-1003` above).
    pub weight_per_minute: u64,
    /// ORDERS per 10 s (429 `-1015` above).
    pub orders_per_10s: u64,
    /// ORDERS per day (429 `-1015` above).
    pub orders_per_day: u64,
    /// Requests answered 429 in one window after which the IP is banned (418).
    pub ban_after_429s: u64,
    /// Length of that ban.
    pub ban_ms: i64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            weight_per_minute: 6000,
            orders_per_10s: 100,
            orders_per_day: 200_000,
            ban_after_429s: 5,
            ban_ms: 120_000,
        }
    }
}

impl WsFaultConfig {
    /// Checks the rates are probabilities.
    ///
    /// # Errors
    /// A message naming the bad field.
    pub fn validate(&self) -> Result<(), String> {
        for (name, v) in [
            ("duplicate_rate", self.duplicate_rate),
            ("reorder_rate", self.reorder_rate),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(format!("ws_faults.{name} must be within 0..=1, got {v}"));
            }
        }
        Ok(())
    }
}

/// Seeded fault injection (POST /sim/faults).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct FaultConfig {
    /// Seed of the fault draws.
    pub seed: u64,
    /// Probability a request is answered 500 without being executed.
    pub http_500_rate: f64,
    /// Probability an order placement/cancel IS executed but answered with a
    /// 5xx, a -1007 body or a dropped connection.
    pub unknown_outcome_rate: f64,
    /// Probability a request is held `timeout_ms` before being processed.
    pub timeout_rate: f64,
    /// How long a held request is held.
    pub timeout_ms: u64,
    /// The next N API requests are answered 429 (-1003) with Retry-After.
    pub rate_limit_burst: u64,
    /// Offset added to the server's clock (serverTime and timestamp checks).
    pub clock_skew_ms: i64,
}

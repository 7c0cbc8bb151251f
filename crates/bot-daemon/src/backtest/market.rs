//! The simulated market of a backtest: the symbol's filters (from an
//! exchangeInfo file, the simulator's own symbols, or derived from the first
//! price), the starting balances and the fees, as an [`exchange_sim::SimConfig`]
//! on a simulated clock with a manual price path (the backtest moves it).

use std::collections::BTreeMap;
use std::path::Path;

use binance_rest::models::ExchangeInfoDto;
use exchange_sim::config::CommissionAsset;
use exchange_sim::{FeeConfig, FilterConfig, SimConfig, SymbolConfig};
use grid_core::SymbolRules;
use rust_decimal::Decimal;

use crate::error::DaemonError;

/// Quote assets recognised when a symbol's name must be split without an
/// exchangeInfo file (longest first: `FDUSD` before `USD`).
const QUOTES: [&str; 12] = [
    "FDUSD", "USDC", "USDT", "TUSD", "BUSD", "EUR", "TRY", "BTC", "ETH", "BNB", "JPY", "BRL",
];

/// The fees of a backtest (`--fees maker=0.001,taker=0.001`, and
/// `bnb_price=600[,bnb_discount=0.25]` for commission paid in BNB).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fees {
    /// Maker rate (a fraction: 0.001 is 0.1 %).
    pub maker: Decimal,
    /// Taker rate.
    pub taker: Decimal,
    /// Commission in BNB: the discount and BNB's price in the quote asset
    /// (constant over the run: BNB gets a listing of its own at that price).
    pub bnb: Option<BnbFees>,
}

/// Commission paid in BNB.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BnbFees {
    /// Taken off the commission (Binance: 0.25).
    pub discount: Decimal,
    /// BNB's price in the quote asset.
    pub price: Decimal,
}

impl Default for Fees {
    fn default() -> Fees {
        Fees {
            maker: Decimal::new(1, 3),
            taker: Decimal::new(1, 3),
            bnb: None,
        }
    }
}

/// Parses `maker=0.001,taker=0.001` (either may be left out).
///
/// # Errors
/// [`DaemonError::Invalid`] naming the bad part.
pub fn parse_fees(text: &str) -> Result<Fees, DaemonError> {
    let mut fees = Fees::default();
    let (mut discount, mut bnb_price) = (None, None);
    for (k, v) in pairs(text, "--fees")? {
        let value = v.parse::<Decimal>().ok();
        let fraction = value.filter(|r| *r >= Decimal::ZERO && *r < Decimal::ONE);
        let bad = |what: &str| DaemonError::Invalid(format!("--fees {k}={v}: {what}"));
        match k.as_str() {
            "maker" => {
                fees.maker = fraction.ok_or_else(|| bad("a rate is a fraction in [0, 1), e.g. 0.001 for 0.1 %"))?;
            }
            "taker" => {
                fees.taker = fraction.ok_or_else(|| bad("a rate is a fraction in [0, 1), e.g. 0.001 for 0.1 %"))?;
            }
            "bnb_discount" => {
                discount = Some(fraction.ok_or_else(|| bad("a discount is a fraction in [0, 1), e.g. 0.25"))?);
            }
            "bnb_price" => {
                bnb_price = Some(
                    value
                        .filter(|p| *p > Decimal::ZERO)
                        .ok_or_else(|| bad("BNB's price in the quote asset, > 0"))?,
                );
            }
            other => {
                return Err(DaemonError::Invalid(format!(
                    "--fees: unknown part `{other}` (use maker=…,taker=…[,bnb_price=…[,bnb_discount=0.25]])"
                )))
            }
        }
    }
    fees.bnb = match (bnb_price, discount) {
        (Some(price), d) => Some(BnbFees {
            discount: d.unwrap_or(Decimal::new(25, 2)),
            price,
        }),
        (None, Some(_)) => {
            return Err(DaemonError::Invalid(
                "--fees bnb_discount needs bnb_price=… (BNB's price in the quote asset): commission in BNB is valued at it".into(),
            ))
        }
        (None, None) => None,
    };
    Ok(fees)
}

/// Parses `USDC=10000,BNB=0`.
///
/// # Errors
/// [`DaemonError::Invalid`] naming the bad part.
pub fn parse_balances(text: &str) -> Result<BTreeMap<String, Decimal>, DaemonError> {
    let mut out = BTreeMap::new();
    for (k, v) in pairs(text, "--balance")? {
        let asset = k.to_ascii_uppercase();
        if asset.is_empty() || asset.len() > 20 || !asset.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(DaemonError::Invalid(format!(
                "--balance: `{k}` is not an asset such as USDC"
            )));
        }
        let amount = v
            .parse::<Decimal>()
            .ok()
            .filter(|a| *a >= Decimal::ZERO)
            .ok_or_else(|| {
                DaemonError::Invalid(format!(
                    "--balance {k}={v}: the amount must be a decimal ≥ 0"
                ))
            })?;
        out.insert(asset, amount);
    }
    Ok(out)
}

fn pairs(text: &str, flag: &str) -> Result<Vec<(String, String)>, DaemonError> {
    text.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            p.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| DaemonError::Invalid(format!("{flag}: `{p}` is not name=value")))
        })
        .collect()
}

/// The symbol's rules from an exchangeInfo JSON file (the answer of
/// `GET /api/v3/exchangeInfo`).
///
/// # Errors
/// [`DaemonError::Invalid`] when the file cannot be read, is not
/// exchangeInfo, does not list the symbol, or lists it with unusable filters.
pub fn rules_from_file(path: &Path, symbol: &str) -> Result<SymbolRules, DaemonError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        DaemonError::Invalid(format!("--rules {}: cannot read it: {e}", path.display()))
    })?;
    let dto: ExchangeInfoDto =
        binance_rest::parse::from_json("exchangeInfo", &text).map_err(|e| {
            DaemonError::Invalid(format!(
                "--rules {}: not an exchangeInfo answer: {e}",
                path.display()
            ))
        })?;
    let info = binance_rest::parse::exchange_info(&dto);
    let s = info.symbol(symbol).ok_or_else(|| {
        DaemonError::Invalid(format!(
            "--rules {}: {symbol} is not in it (it lists {})",
            path.display(),
            info.symbols
                .iter()
                .take(10)
                .map(|s| s.symbol.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    let rules = s
        .rules
        .clone()
        .map_err(|e| DaemonError::Invalid(format!("--rules {}: {symbol}: {e}", path.display())))?;
    Ok(rules.validate()?)
}

/// The simulator's own listing of `symbol`, or one derived from the first
/// price: base and quote split at a known quote asset, the tick six digits
/// below the price's leading digit (16,726 → 0.01; never under 10⁻⁸), the
/// step one digit below one unit's worth of the price's magnitude
/// (16,726 → 0.00001, at most 1), no minimum notional.
///
/// # Errors
/// [`DaemonError::Invalid`] when the symbol does not end in a known quote
/// asset (give `--rules` then).
pub fn default_symbol(symbol: &str, first_price: Decimal) -> Result<SymbolConfig, DaemonError> {
    if let Some(s) = SimConfig::default()
        .symbols
        .into_iter()
        .find(|s| s.symbol == symbol)
    {
        return Ok(SymbolConfig {
            price: first_price,
            ..s
        });
    }
    let quote = QUOTES
        .iter()
        .find(|q| symbol.len() > q.len() && symbol.ends_with(*q))
        .ok_or_else(|| {
            DaemonError::Invalid(format!(
                "{symbol}: cannot tell its base and quote assets; give its filters with --rules exchangeInfo.json"
            ))
        })?;
    let base = &symbol[..symbol.len() - quote.len()];
    let digits = magnitude(first_price);
    let tick = pow10(digits - 6).max(Decimal::new(1, 8));
    let step = pow10(-digits - 1).min(Decimal::ONE).max(Decimal::new(1, 8));
    let mut cfg = SymbolConfig::new(symbol, base, quote, "1", "1", "1");
    cfg.price = first_price;
    cfg.filters = FilterConfig {
        min_price: tick,
        tick_size: tick,
        min_qty: step,
        step_size: step,
        ..FilterConfig::default()
    };
    cfg.filters.min_notional = Decimal::ZERO;
    Ok(cfg)
}

/// The simulator's listing of a symbol with these rules.
pub fn symbol_from_rules(symbol: &str, rules: &SymbolRules, first_price: Decimal) -> SymbolConfig {
    let mut cfg = SymbolConfig::new(symbol, &rules.base_asset, &rules.quote_asset, "1", "1", "1");
    cfg.price = first_price;
    cfg.filters = FilterConfig {
        min_price: rules.min_price,
        max_price: rules.max_price,
        tick_size: rules.tick_size,
        min_qty: rules.min_qty,
        max_qty: rules.max_qty,
        step_size: rules.step_size,
        min_notional: rules.min_notional,
        max_notional: rules.max_notional.unwrap_or(Decimal::ZERO),
        min_trailing_above_delta: rules.trailing_delta_min,
        max_trailing_above_delta: rules.trailing_delta_max,
        ..FilterConfig::default()
    };
    cfg
}

/// The power of ten of the leading digit (16,726 → 4; 0.0016 → −3).
fn magnitude(p: Decimal) -> i32 {
    let mut x = p.abs();
    if x.is_zero() {
        return 0;
    }
    let mut e = 0;
    while x >= Decimal::TEN {
        x /= Decimal::TEN;
        e += 1;
    }
    while x < Decimal::ONE {
        x *= Decimal::TEN;
        e -= 1;
    }
    e
}

fn pow10(e: i32) -> Decimal {
    let mut x = Decimal::ONE;
    for _ in 0..e.unsigned_abs().min(27) {
        if e >= 0 {
            x *= Decimal::TEN;
        } else {
            x /= Decimal::TEN;
        }
    }
    x
}

/// BNB's listing against the traded symbol's quote (`BNBUSDT`), unless the
/// traded symbol is that one.
pub fn bnb_pair(traded: &SymbolConfig) -> Option<String> {
    let pair = format!("BNB{}", traded.quote);
    (traded.base != "BNB").then_some(pair)
}

/// The whole simulated market: one symbol at its first price (and, for
/// commission in BNB, BNB at its constant price), the balances, the fees,
/// the clock at `start_ms`.
pub fn sim_config(
    symbol: SymbolConfig,
    balances: BTreeMap<String, Decimal>,
    fees: Fees,
    start_ms: i64,
) -> SimConfig {
    let mut symbols = vec![symbol];
    let mut fee_cfg = FeeConfig {
        maker: fees.maker,
        taker: fees.taker,
        ..FeeConfig::default()
    };
    if let Some(bnb) = fees.bnb {
        fee_cfg.commission_asset = CommissionAsset::Bnb;
        fee_cfg.bnb_discount = bnb.discount;
        if let Some(pair) = bnb_pair(&symbols[0]) {
            let mut s =
                SymbolConfig::new(&pair, "BNB", &symbols[0].quote, "1", "0.00000001", "0.001");
            s.price = bnb.price;
            symbols.push(s);
        }
    }
    SimConfig {
        symbols,
        balances,
        fees: fee_cfg,
        start_time_ms: Some(start_ms),
        ..SimConfig::default()
    }
}

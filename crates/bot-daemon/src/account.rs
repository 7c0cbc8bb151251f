//! The account snapshot: what the account holds, valued in one currency
//! (`BOT_ACCOUNT_CURRENCY`, by default the quote asset of the live basket with
//! the lowest id) and, for every basket quote asset, the assets of the
//! baskets quoted in it valued in that quote.
//!
//! Invariants:
//! - the valuation ([`value_in`], [`value_account`]) is pure: no I/O, no
//!   clock; [`record_snapshot`] only gathers its inputs and writes the row;
//! - an asset is converted only through prices the worker already has (the
//!   last ticker prices of the basket symbols), following pairs directly or
//!   inversely, one hop or several; an asset with no such path is reported
//!   in `unvalued` and left out of the total — never counted as 0, never
//!   guessed;
//! - each asset's value is rounded once, to the snapshot column's 16
//!   decimals ([`round_value`]); a total is the exact sum of those values.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::OnceLock;

use binance_rest::Exchange;
use chrono::{TimeDelta, Utc};
use diesel::pg::PgConnection;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::error::DaemonError;

/// A symbol's last price: one `base` costs `price` `quote`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    pub symbol: String,
    pub base: String,
    pub quote: String,
    pub price: Decimal,
}

/// A live basket's assets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasketAssets {
    pub id: i64,
    pub base: String,
    pub quote: String,
}

/// One valued asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssetValue {
    pub asset: String,
    /// Free + locked.
    pub amount: Decimal,
    /// In the valuation's currency, rounded by [`round_value`].
    pub value: Decimal,
    /// The symbols whose prices converted it, in order (empty for the
    /// currency itself).
    pub via: Vec<String>,
}

/// An asset held but not valued: left out of the total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unvalued {
    pub asset: String,
    pub amount: Decimal,
    pub reason: String,
}

/// Holdings valued in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Valuation {
    pub currency: String,
    /// Sum of `assets[].value`: the valued assets only.
    pub total: Decimal,
    /// By asset name.
    pub assets: Vec<AssetValue>,
    /// By asset name; empty when the total is the whole of the holdings.
    pub unvalued: Vec<Unvalued>,
}

/// The snapshot's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountValuation {
    /// The whole account in the account currency.
    pub account: Valuation,
    /// For each basket quote asset (by name): that asset plus the base assets
    /// of the baskets quoted in it, valued in it. Groups may share a base
    /// asset (SOLUSDC and SOLUSDT): they are views, not parts of a sum.
    pub by_quote: Vec<Valuation>,
}

/// Rounds a value to the 16 decimals of the snapshot's quote columns
/// (`NUMERIC(28,16)`, `store::money::QUOTE_SCALE`), half to even: the one
/// rounding of the valuation.
pub fn round_value(v: Decimal) -> Decimal {
    v.round_dp_with_strategy(
        store::money::QUOTE_SCALE,
        RoundingStrategy::MidpointNearestEven,
    )
}

/// The account currency: the configured one, else the quote asset of the
/// basket with the lowest id (`None` without either).
pub fn account_currency(configured: Option<&str>, baskets: &[BasketAssets]) -> Option<String> {
    match configured {
        Some(c) => Some(c.to_string()),
        None => baskets.iter().min_by_key(|b| b.id).map(|b| b.quote.clone()),
    }
}

/// One step from an asset towards the currency: through `pair`, selling
/// the base (`true`: multiply by the price) or buying it (`false`: divide).
#[derive(Clone, Copy)]
struct Hop<'a> {
    pair: &'a Pair,
    sell_base: bool,
}

/// For every asset that can reach `currency` through `pairs`, its first hop
/// on a shortest path. Breadth-first from the currency, pairs taken in
/// symbol order, so the path chosen never depends on input order.
fn routes<'a>(currency: &str, pairs: &'a [Pair]) -> HashMap<&'a str, Hop<'a>> {
    let mut usable: Vec<&Pair> = pairs
        .iter()
        .filter(|p| p.price > Decimal::ZERO && p.base != p.quote)
        .collect();
    usable.sort_by(|a, b| a.symbol.cmp(&b.symbol));
    usable.dedup_by(|a, b| a.symbol == b.symbol);
    let mut next: HashMap<&str, Hop> = HashMap::new();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut queue: VecDeque<&str> = VecDeque::new();
    // The currency is reached by the first pair that names it.
    let Some(start) = usable.iter().find_map(|p| {
        [p.base.as_str(), p.quote.as_str()]
            .into_iter()
            .find(|a| *a == currency)
    }) else {
        return next;
    };
    seen.insert(start);
    queue.push_back(start);
    while let Some(node) = queue.pop_front() {
        for p in &usable {
            let (other, sell_base) = if p.quote == node {
                (p.base.as_str(), true)
            } else if p.base == node {
                (p.quote.as_str(), false)
            } else {
                continue;
            };
            if seen.insert(other) {
                next.insert(other, Hop { pair: p, sell_base });
                queue.push_back(other);
            }
        }
    }
    next
}

/// Values `holdings` (asset → free + locked) in `currency` through the
/// prices of `pairs`. Zero amounts are skipped. Pure.
pub fn value_in(currency: &str, holdings: &BTreeMap<String, Decimal>, pairs: &[Pair]) -> Valuation {
    let next = routes(currency, pairs);
    let mut assets = Vec::new();
    let mut unvalued = Vec::new();
    let mut total = Decimal::ZERO;
    for (asset, &amount) in holdings {
        if amount.is_zero() {
            continue;
        }
        let mut value = Some(amount);
        let mut via = Vec::new();
        let mut node = asset.as_str();
        let mut missing = false;
        while node != currency {
            let Some(hop) = next.get(node) else {
                missing = true;
                break;
            };
            via.push(hop.pair.symbol.clone());
            value = value.and_then(|v| {
                if hop.sell_base {
                    v.checked_mul(hop.pair.price)
                } else {
                    v.checked_div(hop.pair.price)
                }
            });
            node = if hop.sell_base {
                hop.pair.quote.as_str()
            } else {
                hop.pair.base.as_str()
            };
        }
        let reason = if missing {
            Some(format!(
                "no price converts {asset} to {currency}: no basket symbol links them, directly or through other basket symbols"
            ))
        } else {
            None
        };
        let valued = value
            .filter(|_| !missing)
            .map(round_value)
            .and_then(|v| total.checked_add(v).map(|t| (v, t)));
        match (reason, valued) {
            (None, Some((v, t))) => {
                total = t;
                assets.push(AssetValue {
                    asset: asset.clone(),
                    amount,
                    value: v,
                    via,
                });
            }
            (reason, _) => unvalued.push(Unvalued {
                asset: asset.clone(),
                amount,
                reason: reason
                    .unwrap_or_else(|| format!("its value in {currency} is too large to compute")),
            }),
        }
    }
    Valuation {
        currency: currency.to_string(),
        total,
        assets,
        unvalued,
    }
}

/// The account in `currency`, and each basket quote's group in that quote.
/// Pure.
pub fn value_account(
    currency: &str,
    holdings: &BTreeMap<String, Decimal>,
    baskets: &[BasketAssets],
    pairs: &[Pair],
) -> AccountValuation {
    let mut groups: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for b in baskets {
        let g = groups.entry(b.quote.as_str()).or_default();
        g.insert(b.quote.as_str());
        g.insert(b.base.as_str());
    }
    let by_quote = groups
        .into_iter()
        .map(|(quote, members)| {
            let held: BTreeMap<String, Decimal> = holdings
                .iter()
                .filter(|(a, _)| members.contains(a.as_str()))
                .map(|(a, v)| (a.clone(), *v))
                .collect();
            value_in(quote, &held, pairs)
        })
        .collect();
    AccountValuation {
        account: value_in(currency, holdings, pairs),
        by_quote,
    }
}

/// A price older than this (written by another worker) is not used.
pub const MAX_PRICE_AGE_S: i64 = 600;

static CURRENCY: OnceLock<Option<String>> = OnceLock::new();

/// Sets `BOT_ACCOUNT_CURRENCY` for this process's snapshots (`run` calls it
/// once at start; later calls are ignored).
pub fn set_currency(currency: Option<String>) {
    let _ = CURRENCY.set(currency);
}

/// The account currency set by [`set_currency`], if any.
pub fn configured_currency() -> Option<&'static str> {
    CURRENCY.get().and_then(|c| c.as_deref())
}

fn unvalued_json(u: &[Unvalued]) -> Value {
    Value::Array(
        u.iter()
            .map(|u| json!({"asset": u.asset, "amount": u.amount, "reason": u.reason}))
            .collect(),
    )
}

/// The `account_snapshots` row's JSON of a valuation:
/// its unvalued assets, each asset's value and route, each quote's value.
pub fn valuation_json(v: &AccountValuation) -> store::misc::SnapshotValuation {
    let assets: Map<String, Value> = v
        .account
        .assets
        .iter()
        .map(|a| {
            (
                a.asset.clone(),
                json!({"amount": a.amount, "value": a.value, "via": a.via}),
            )
        })
        .collect();
    let quotes: Map<String, Value> = v
        .by_quote
        .iter()
        .map(|q| {
            (
                q.currency.clone(),
                json!({"value": q.total, "unvalued": unvalued_json(&q.unvalued)}),
            )
        })
        .collect();
    store::misc::SnapshotValuation {
        unvalued: unvalued_json(&v.account.unvalued),
        asset_values: Value::Object(assets),
        quote_values: Value::Object(quotes),
    }
}

/// The live baskets' symbols and assets (not their config, rules or state),
/// by id.
///
/// # Errors
/// [`DaemonError::Store`].
fn live_baskets(conn: &mut PgConnection) -> Result<Vec<(String, BasketAssets)>, DaemonError> {
    Ok(store::baskets::list_live_symbols(conn)?
        .into_iter()
        .map(|b| {
            (
                b.symbol,
                BasketAssets {
                    id: b.id,
                    base: b.base_asset,
                    quote: b.quote_asset,
                },
            )
        })
        .collect())
}

/// Writes one account snapshot: the exchange's balances valued by
/// [`value_account`] through `prices` (this cycle's ticker prices) and the
/// fresh last prices other workers stored for the other live baskets.
/// Nothing is written when there is no live basket and no configured
/// currency.
///
/// # Errors
/// Exchange (account) and store errors.
pub fn record_snapshot<E: Exchange>(
    conn: &mut PgConnection,
    ex: &E,
    prices: &HashMap<String, Decimal>,
    configured: Option<&str>,
) -> Result<Option<store::misc::SnapshotRow>, DaemonError> {
    let live = live_baskets(conn)?;
    let baskets: Vec<BasketAssets> = live.iter().map(|(_, b)| b.clone()).collect();
    let Some(currency) = account_currency(configured, &baskets) else {
        log::debug!("Account snapshot skipped: no live basket and no BOT_ACCOUNT_CURRENCY");
        return Ok(None);
    };
    let fresh = Utc::now() - TimeDelta::seconds(MAX_PRICE_AGE_S);
    let stored: HashMap<String, Decimal> = store::misc::prices(conn)?
        .into_iter()
        .filter(|p| p.updated_at >= fresh)
        .map(|p| (p.symbol, p.price))
        .collect();
    let mut pairs: Vec<Pair> = Vec::new();
    for (symbol, b) in &live {
        if pairs.iter().any(|p| &p.symbol == symbol) {
            continue;
        }
        if let Some(price) = prices.get(symbol).or_else(|| stored.get(symbol)) {
            pairs.push(Pair {
                symbol: symbol.clone(),
                base: b.base.clone(),
                quote: b.quote.clone(),
                price: *price,
            });
        }
    }
    let account = ex.account()?;
    let mut holdings: BTreeMap<String, Decimal> = BTreeMap::new();
    for b in &account.balances {
        let amount = b.free + b.locked;
        if !amount.is_zero() {
            *holdings.entry(b.asset.clone()).or_default() += amount;
        }
    }
    let valuation = value_account(&currency, &holdings, &baskets, &pairs);
    if !valuation.account.unvalued.is_empty() {
        let names: Vec<&str> = valuation
            .account
            .unvalued
            .iter()
            .map(|u| u.asset.as_str())
            .collect();
        log::warn!(
            "Account snapshot: {} not valued in {currency} (no price of a basket symbol converts them); the total leaves them out",
            names.join(", ")
        );
    }
    let balances: Map<String, Value> = account
        .balances
        .iter()
        .filter(|b| !b.free.is_zero() || !b.locked.is_zero())
        .map(|b| (b.asset.clone(), json!({"free": b.free, "locked": b.locked})))
        .collect();
    let first_base = baskets.iter().min_by_key(|b| b.id).map(|b| b.base.as_str());
    let held = |a: Option<&str>| {
        a.and_then(|a| holdings.get(a))
            .copied()
            .unwrap_or(Decimal::ZERO)
    };
    let row = store::misc::insert_valued_snapshot(
        conn,
        &store::misc::NewSnapshot {
            quote_balance: held(Some(&currency)),
            base_balance: held(first_base),
            total_value: valuation.account.total,
            balances: Value::Object(balances),
            quote_asset: currency,
        },
        &valuation_json(&valuation),
    )?;
    Ok(Some(row))
}

#[cfg(test)]
#[path = "tests/account.rs"]
mod tests;

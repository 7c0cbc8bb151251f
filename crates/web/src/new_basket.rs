//! The "New basket" and "Edit config" forms and their live preview:
//!
//! - `GET /baskets/new` — the form, filled with the default config (the
//!   stored `default_basket_config` over strategy.md §2's defaults) and the
//!   last price the daemon stored; `POST /baskets/new` re-renders it with
//!   the preview (the button for browsers without JavaScript);
//! - `POST /baskets` — writes a `create_basket` command;
//! - `GET|POST /baskets/{id}/edit`, `POST /baskets/{id}/config` — the same
//!   form for a `paused` basket's config, writing an `edit_config` command;
//! - `GET /fragment/basket-preview` — the preview alone, re-fetched by
//!   `static/basket_form.js` as the fields change.
//!
//! Invariants:
//! - The web never calls the exchange. The symbol's rules are the newest the
//!   database holds (the `rules` of its newest basket); without any, the
//!   preview uses rules assumed from the anchor and the page says so. The
//!   daemon validates every command against the live rules and the free
//!   balance, and answers in the command's row (`/commands?key=`).
//! - The form's fields carry the config's field names (strategy.md §2;
//!   nested ones dotted, `reanchor_rules.close_ratio`), and every error names
//!   the path of the `ConfigError` that `plan` and `basket create` report
//!   (`levels_pct[2]`); the page shows it next to its field.
//! - The preview is grid-core's: the ladder of `grid_core::ladder`, and the
//!   take-profits after 1..n fills are `grid_core::plan`'s own, on fills of
//!   the first n active levels at their prices.
//! - A POST writes at most one command, only when the form validates, once
//!   per form key (a double submit returns the first); session and CSRF as
//!   every POST (the guard and [`check_csrf`]).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use grid_core::ladder::{base_levels, extension_levels, Level};
use grid_core::{
    BasketInput, BasketStatus, ClientOrderId, Fill, GridConfig, HardStopMode, PlanInput, Role,
    Side, SymbolRules,
};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use serde_json::{Map, Value};
use store::baskets::BasketRow;
use store::commands::{CreateBasketPayload, EditConfigPayload, NewCommand, Payload};
use tera::Context;

use crate::handlers::{
    base_ctx, check_csrf, check_key, db, redirect, render, session, AppError, Data,
};
use crate::{fmt, views};

/// The form's fields as posted (`name → value`).
pub type Form = HashMap<String, String>;

/// How a field's text becomes its config value.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// A decimal, required (`"0.05"`).
    Dec,
    /// A decimal, or empty for `null`.
    OptDec,
    /// A whole number.
    Int,
    /// Decimals separated by commas or spaces.
    List,
    /// One of these values.
    Choice(&'static [&'static str]),
}

struct FieldDef {
    name: &'static str,
    kind: Kind,
    label: &'static str,
    help: &'static str,
}

const fn f(name: &'static str, kind: Kind, label: &'static str, help: &'static str) -> FieldDef {
    FieldDef {
        name,
        kind,
        label,
        help,
    }
}

/// The config fields of the form, by section (strategy.md §2's names).
const GROUPS: &[(&str, &[FieldDef])] = &[
    (
        "Budget and ladder",
        &[
            f("max_grid_capital_quote", Kind::Dec, "Budget (quote)", "what the base levels may spend, e.g. 1000"),
            f("zone_bottom_pct", Kind::Dec, "Zone bottom", "deepest level's drop below the anchor, a fraction (0.30 = 30 %)"),
            f("levels_pct", Kind::List, "Levels (drops)", "each level's drop below the anchor, fractions, strictly increasing"),
            f("alloc_weights", Kind::List, "Weights", "each level's share of the budget, summing to exactly 1"),
        ],
    ),
    (
        "Take-profit and trail",
        &[
            f("tp_start_pct", Kind::Dec, "TP margin, 1 level filled", "over the average price, e.g. 0.012"),
            f("tp_step_pct", Kind::Dec, "TP margin step", "taken off per further filled level"),
            f("tp_min_pct", Kind::Dec, "TP margin floor", "at least 2 × fee_rate"),
            f("tp2_delta_pct", Kind::Dec, "TP2 above TP1", "extra margin of TP2"),
            f("tp1_share", Kind::Dec, "TP1 share", "of everything bought"),
            f("tp2_share", Kind::Dec, "TP2 share", "of everything bought"),
            f("trail_share", Kind::Dec, "Trail share", "the three shares sum to exactly 1"),
            f("trailing_callback_pct", Kind::OptDec, "Trail callback", "fall from the high that sells, e.g. 0.018; empty: no trail (its share goes to TP2)"),
        ],
    ),
    (
        "Zone protection",
        &[
            f("hard_stop_mode", Kind::Choice(&["none", "hard", "extend_zone"]), "Zone mode", "none · hard: no buy below the hard stop · extend_zone: sparser levels below the zone"),
            f("hard_stop_pct", Kind::Dec, "Hard stop", "drop below which hard mode buys nothing"),
            f("extend_zone_bottom_pct", Kind::Dec, "Extended zone bottom", "extend_zone: deepest extension drop"),
            f("extend_levels", Kind::Int, "Extension levels", "extend_zone: how many"),
            f("extend_capital_quote", Kind::Dec, "Extension capital", "extend_zone: added to the budget from the start"),
        ],
    ),
    (
        "Placing",
        &[
            f("place_mode", Kind::Choice(&["only_next_k", "all_unfilled"]), "Place mode", "only_next_k: the next k levels at or below the price · all_unfilled: every level at once"),
            f("k_next", Kind::Int, "k", "buys open at once in only_next_k"),
        ],
    ),
    (
        "Stops, fees and reanchor",
        &[
            f("stop_loss_pct", Kind::OptDec, "Stop loss", "drop below the anchor that sells everything; empty: none"),
            f("fee_rate", Kind::Dec, "Fee rate", "of one trade, e.g. 0.001"),
            f("emergency_safety_pct", Kind::Dec, "Emergency margin", "how far below the price an emergency close sells"),
            f("reanchor_rules.close_ratio", Kind::Dec, "Reanchor: sold ratio", "suggest a reanchor once this share is sold"),
            f("reanchor_rules.time_ttl_s", Kind::Int, "Reanchor: idle seconds", "suggest one after this long without a buy"),
            f("reanchor_rules.up_pct", Kind::OptDec, "Reanchor: price up", "follow the price up by this rise while nothing is bought; empty: never"),
        ],
    ),
];

/// The ladder presets of the form (`preset`): the stored defaults, or
/// `levels` evenly spaced down to `zone_bottom_pct` with equal weights
/// (`linear`) or weights rising with depth (`deeper`); `custom` keeps the
/// lists as typed.
pub const PRESETS: &[(&str, &str)] = &[
    ("defaults", "The defaults"),
    ("linear", "Linear: even steps, equal weights"),
    (
        "deeper",
        "Heavier deeper: even steps, weights rising with depth",
    ),
    ("custom", "Custom (as typed)"),
];

/// What the form is for.
#[derive(Debug, Clone)]
pub enum Mode {
    /// A new basket: symbol and anchor are fields.
    New,
    /// The config of this basket (symbol, anchor and rules are its own).
    Edit(Box<BasketRow>),
}

/// What the database knows that the form needs (read once per request).
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// The stored `default_basket_config` (a JSON object), if any.
    pub defaults: Option<Value>,
    /// The symbol's newest rules and the basket they were stored with.
    pub rules: Option<(SymbolRules, i64)>,
    /// The symbol's last price and when the daemon stored it.
    pub last_price: Option<(Decimal, DateTime<Utc>)>,
    /// The free quote balance of the last account snapshot, and its time.
    pub free_quote: Option<(Decimal, DateTime<Utc>)>,
    /// Symbols with a stored price (the form's suggestions).
    pub symbols: Vec<String>,
    /// The symbol all this is for (the form's, the basket's, or the
    /// default config's).
    pub symbol: String,
}

/// An error shown next to its field (`field` is the form field's name; the
/// message starts with the config path when it is more precise).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// The form's verdict: the values to show, the errors, and what a valid
/// form submits.
#[derive(Debug, Clone)]
pub struct Assessed {
    /// The values to show (the posted ones, with the preset applied).
    pub values: Form,
    /// Errors by field; `field` empty: the form as a whole.
    pub errors: Vec<FieldError>,
    /// Notes that do not stop a submission (assumed rules, the balance).
    pub warnings: Vec<String>,
    /// The symbol (normalized).
    pub symbol: String,
    /// The anchor the preview uses (rounded to the tick).
    pub anchor: Option<Decimal>,
    /// The config fields the command carries.
    pub overlay: Map<String, Value>,
    /// The preview, when the config is valid enough to draw.
    pub preview: Option<Preview>,
}

impl Assessed {
    /// Nothing stops a submission.
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct LevelRow {
    pub index: u32,
    pub drop: String,
    pub price: String,
    pub qty: String,
    pub capital: String,
    pub notional: String,
    pub extension: bool,
    pub inactive: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TpRow {
    pub fills: usize,
    pub down_to: String,
    pub position: String,
    pub spent: String,
    pub avg_price: String,
    pub margin: String,
    pub tp1: String,
    pub tp2: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    pub symbol: String,
    pub base_asset: String,
    pub quote_asset: String,
    pub anchor: String,
    pub anchor_note: String,
    pub rules_assumed: bool,
    pub rules_note: String,
    pub tick: String,
    pub step: String,
    pub min_notional: String,
    pub levels: Vec<LevelRow>,
    pub active_levels: usize,
    pub capital: String,
    pub notional: String,
    pub budget: String,
    pub tps: Vec<TpRow>,
    pub tp_error: Option<String>,
    pub trail: String,
}

/// `0.05` → `5.00%`.
fn pct(fraction: Decimal) -> String {
    fmt::pct(fraction * Decimal::ONE_HUNDRED)
}

fn value_text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| value_text(Some(x)))
            .collect::<Vec<_>>()
            .join(", "),
        Some(other) => other.to_string(),
    }
}

fn get_path<'a>(obj: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(obj, |v, k| v.get(k))
}

fn set_path(obj: &mut Map<String, Value>, path: &str, v: Value) {
    match path.split_once('.') {
        None => {
            obj.insert(path.to_string(), v);
        }
        Some((head, rest)) => {
            let inner = obj
                .entry(head.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !inner.is_object() {
                *inner = Value::Object(Map::new());
            }
            if let Value::Object(m) = inner {
                set_path(m, rest, v);
            }
        }
    }
}

/// The form's values for a config (JSON as stored or as the defaults give it).
pub fn values_of(config: &Value) -> Form {
    let mut out = Form::new();
    for (_, fields) in GROUPS {
        for fd in *fields {
            out.insert(fd.name.to_string(), value_text(get_path(config, fd.name)));
        }
    }
    let n = config
        .get("levels_pct")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    out.insert("levels".into(), n.to_string());
    out
}

/// The default config: `default_basket_config` over §2's defaults (as
/// `basket create` merges them); the stored value's problem, if any.
fn defaults(known: &Known) -> (Value, Option<String>) {
    let mut merged = match serde_json::to_value(GridConfig::default()) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    if let Some(Value::Object(m)) = &known.defaults {
        let mut candidate = merged.clone();
        candidate.extend(m.clone());
        match GridConfig::from_json(&Value::Object(candidate))
            .and_then(|c| serde_json::to_value(c).map_err(|e| grid_core::ConfigError::new("", e.to_string())))
        {
            Ok(Value::Object(c)) => merged = c,
            Ok(_) => {}
            Err(e) => {
                return (
                    Value::Object(merged),
                    Some(format!(
                        "The stored default_basket_config is not usable ({e}): the form shows strategy.md §2's defaults, but the daemon merges the stored value and will refuse the command until it is fixed."
                    )),
                )
            }
        }
    }
    (Value::Object(merged), None)
}

fn trunc(d: Decimal, dp: u32) -> Decimal {
    d.round_dp_with_strategy(dp, RoundingStrategy::ToZero)
}

/// `n` levels evenly spaced down to `zone`, with equal (`linear`) or
/// depth-proportional (`deeper`) weights summing to exactly 1 (the last
/// level takes the rounding remainder). Fractions to 4 decimals.
pub fn preset_ladder(preset: &str, n: u32, zone: Decimal) -> (Vec<Decimal>, Vec<Decimal>) {
    let nd = Decimal::from(n);
    let levels: Vec<Decimal> = (1..=n)
        .map(|i| {
            if i == n {
                zone
            } else {
                trunc(zone * Decimal::from(i) / nd, 4)
            }
        })
        .collect();
    let total: Decimal = match preset {
        "deeper" => Decimal::from(n * (n + 1) / 2),
        _ => nd,
    };
    let mut weights: Vec<Decimal> = (1..=n)
        .map(|i| {
            let share = if preset == "deeper" {
                Decimal::from(i)
            } else {
                Decimal::ONE
            };
            trunc(share / total, 4)
        })
        .collect();
    let head: Decimal = weights.iter().take(weights.len().saturating_sub(1)).sum();
    if let Some(last) = weights.last_mut() {
        *last = Decimal::ONE - head;
    }
    (levels, weights)
}

fn join(v: &[Decimal]) -> String {
    v.iter()
        .map(|d| d.normalize().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Applies the `preset` to the values (`levels_pct`, `alloc_weights`).
fn apply_preset(values: &mut Form, defaults: &Value, errors: &mut Vec<FieldError>) {
    let preset = values.get("preset").map(|s| s.trim().to_string());
    match preset.as_deref() {
        None | Some("") | Some("custom") => {}
        Some("defaults") => {
            for k in ["levels_pct", "alloc_weights"] {
                values.insert(k.into(), value_text(defaults.get(k)));
            }
        }
        Some(p @ ("linear" | "deeper")) => {
            let n = values
                .get("levels")
                .and_then(|s| s.trim().parse::<u32>().ok())
                .filter(|n| (1..=50).contains(n));
            let zone = values
                .get("zone_bottom_pct")
                .and_then(|s| s.trim().parse::<Decimal>().ok())
                .filter(|z| *z > Decimal::ZERO && *z < Decimal::ONE);
            match (n, zone) {
                (Some(n), Some(zone)) => {
                    let (l, w) = preset_ladder(p, n, zone);
                    values.insert("levels_pct".into(), join(&l));
                    values.insert("alloc_weights".into(), join(&w));
                }
                (None, _) => errors.push(FieldError {
                    field: "levels".into(),
                    message: "levels: the preset needs 1 to 50 levels".into(),
                }),
                // A bad zone bottom has its own error.
                (Some(_), None) => {}
            }
        }
        Some(other) => errors.push(FieldError {
            field: "preset".into(),
            message: format!("unknown preset `{other}`"),
        }),
    }
    if let Some(n) = values.get("levels_pct").map(|s| split_list(s).len()) {
        if !matches!(preset.as_deref(), Some("linear" | "deeper")) {
            values.insert("levels".into(), n.to_string());
        }
    }
}

fn split_list(s: &str) -> Vec<&str> {
    s.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|x| !x.is_empty())
        .collect()
}

/// The config fields of the form as the command's JSON; errors name the
/// field (`levels_pct[1]`). A field the form does not carry is left out
/// (it keeps its default, or the basket's value).
pub fn overlay_of(values: &Form, errors: &mut Vec<FieldError>) -> Map<String, Value> {
    let mut overlay = Map::new();
    for (_, fields) in GROUPS {
        for fd in *fields {
            let Some(raw) = values.get(fd.name) else {
                continue;
            };
            let text = raw.trim();
            let mut err = |message: String| {
                errors.push(FieldError {
                    field: fd.name.to_string(),
                    message,
                })
            };
            let v = match fd.kind {
                Kind::OptDec if text.is_empty() => Value::Null,
                Kind::Dec | Kind::OptDec | Kind::Int | Kind::Choice(_) if text.is_empty() => {
                    err(format!("{}: required", fd.name));
                    continue;
                }
                Kind::Dec | Kind::OptDec => match text.parse::<Decimal>() {
                    Ok(_) => Value::String(text.to_string()),
                    Err(_) => {
                        err(format!(
                            "{}: `{text}` is not a decimal number (such as 0.05)",
                            fd.name
                        ));
                        continue;
                    }
                },
                Kind::Int => match text.parse::<i64>() {
                    Ok(n) => Value::from(n),
                    Err(_) => {
                        err(format!("{}: `{text}` is not a whole number", fd.name));
                        continue;
                    }
                },
                Kind::Choice(options) => {
                    if !options.contains(&text) {
                        err(format!(
                            "{}: must be one of {}",
                            fd.name,
                            options.join(", ")
                        ));
                        continue;
                    }
                    Value::String(text.to_string())
                }
                Kind::List => {
                    let mut items = Vec::new();
                    let mut ok = true;
                    for (i, item) in split_list(text).into_iter().enumerate() {
                        if item.parse::<Decimal>().is_err() {
                            err(format!(
                                "{}[{i}]: `{item}` is not a decimal number",
                                fd.name
                            ));
                            ok = false;
                        }
                        items.push(Value::String(item.to_string()));
                    }
                    if !ok {
                        continue;
                    }
                    Value::Array(items)
                }
            };
            set_path(&mut overlay, fd.name, v);
        }
    }
    overlay
}

/// The form field a `ConfigError` path belongs to: `levels_pct[2]` →
/// `levels_pct`; a path the form has no field for → `""` (the form).
pub fn field_of(path: &str) -> String {
    let base = path.split('[').next().unwrap_or("");
    let known = base == "symbol"
        || GROUPS
            .iter()
            .flat_map(|(_, fs)| fs.iter())
            .any(|fd| fd.name == base);
    if known {
        base.to_string()
    } else {
        String::new()
    }
}

fn config_error(errors: &mut Vec<FieldError>, e: &grid_core::ConfigError) {
    let field = field_of(&e.field);
    let message = if e.field.is_empty() {
        e.reason.clone()
    } else {
        format!("{}: {}", e.field, e.reason)
    };
    errors.push(FieldError { field, message });
}

/// A symbol such as `SOLUSDC` (as `basket create` accepts it).
fn normalize_symbol(raw: &str) -> Result<String, String> {
    let s = raw.trim().to_ascii_uppercase();
    if s.is_empty() {
        return Err("symbol: required (such as SOLUSDC)".into());
    }
    if s.len() > 20 || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(format!("symbol: `{s}` is not a symbol such as SOLUSDC"));
    }
    Ok(s)
}

/// Quote assets recognised at the end of a symbol, longest first.
const QUOTES: &[&str] = &[
    "FDUSD", "USDC", "USDT", "TUSD", "BUSD", "EUR", "TRY", "BRL", "JPY", "BTC", "ETH", "BNB",
];

/// `10^e`.
fn pow10(e: i32) -> Decimal {
    let mut d = Decimal::ONE;
    if e >= 0 {
        for _ in 0..e {
            d *= Decimal::TEN;
        }
    } else {
        d = Decimal::new(1, e.unsigned_abs().min(28));
    }
    d
}

/// The decimal exponent of `p`'s leading digit (`150` → 2, `0.05` → -2).
fn exponent(p: Decimal) -> i32 {
    let mut e = 0;
    let mut x = p.abs();
    if x.is_zero() {
        return 0;
    }
    while x >= Decimal::TEN {
        x /= Decimal::TEN;
        e += 1;
    }
    while x < Decimal::ONE && e > -28 {
        x *= Decimal::TEN;
        e -= 1;
    }
    e
}

/// Rules assumed for a symbol the database has never traded (the page
/// says so): the quote asset read from the symbol's end, a tick of five
/// significant digits of the anchor, a step worth about a tenth of a quote
/// unit, a minimum order of 5 quote (Binance's usual), 200 orders, trailing
/// deltas 10–2000 BIPS.
pub fn assumed_rules(symbol: &str, anchor: Decimal) -> SymbolRules {
    let quote = QUOTES
        .iter()
        .find(|q| symbol.len() > q.len() && symbol.ends_with(*q))
        .copied()
        .unwrap_or("QUOTE");
    let base = symbol.strip_suffix(quote).unwrap_or(symbol);
    let e = exponent(anchor);
    let tick = pow10(e - 4);
    let step = pow10(-(e + 1)).min(Decimal::ONE);
    SymbolRules {
        base_asset: base.to_string(),
        quote_asset: quote.to_string(),
        tick_size: tick,
        step_size: step,
        min_qty: step,
        max_qty: Decimal::from(9_000_000_000i64),
        min_price: tick,
        max_price: Decimal::from(10_000_000i64),
        min_notional: Decimal::from(5),
        max_notional: None,
        trailing_delta_min: 10,
        trailing_delta_max: 2000,
        max_num_orders: 200,
        max_num_algo_orders: None,
        percent_price_by_side: None,
    }
}

/// The preview's basket id (part of the synthetic clientOrderIds only).
const PREVIEW_BASKET: i64 = 1;

/// The take-profits after the first 1..n active levels fill at their
/// prices (no fees), from `grid_core::plan` on a paused basket.
fn take_profits(
    config: &GridConfig,
    rules: &SymbolRules,
    anchor: Decimal,
    active: &[&Level],
) -> Result<Vec<TpRow>, String> {
    let mut rows = Vec::with_capacity(active.len());
    let mut fills: Vec<Fill> = Vec::with_capacity(active.len());
    let tick_dp = rules.tick_size.normalize().scale();
    let mut spent = Decimal::ZERO;
    let mut position = Decimal::ZERO;
    for (k, l) in active.iter().enumerate() {
        let seq = u64::try_from(k + 1).unwrap_or(u64::MAX);
        let id = i64::try_from(k + 1).unwrap_or(i64::MAX);
        fills.push(Fill {
            trade_id: id,
            exchange_order_id: id,
            client_order_id: ClientOrderId::new(
                &config.symbol,
                PREVIEW_BASKET,
                Role::Buy(l.index),
                seq,
            )
            .to_string(),
            side: Side::Buy,
            price: l.price,
            qty: l.qty,
            commission: Decimal::ZERO,
            commission_asset: rules.quote_asset.clone(),
            commission_quote: Decimal::ZERO,
        });
        spent += l.price * l.qty;
        position += l.qty;
        let input = PlanInput {
            now_ms: 0,
            basket: BasketInput {
                id: PREVIEW_BASKET,
                symbol: config.symbol.clone(),
                anchor_price: anchor,
                status: BasketStatus::Paused,
                created_at_ms: 0,
                order_seq: seq,
                config: config.clone(),
            },
            rules: rules.clone(),
            fills: fills.clone(),
            open_orders: Vec::new(),
            last_price: l.price,
        };
        let plan = grid_core::plan(&input).map_err(|e| e.to_string())?;
        let m = &plan.meta;
        let show = |d: Option<Decimal>| d.map_or_else(|| "—".to_string(), fmt::num);
        rows.push(TpRow {
            fills: k + 1,
            down_to: fmt::num(l.price),
            position: fmt::num(position),
            spent: fmt::amount(spent),
            // Shown to two decimals below the tick (the plan keeps it exact).
            avg_price: show(m.avg_price.map(|a| a.round_dp(tick_dp + 2))),
            margin: m.tp_n.map_or_else(|| "—".to_string(), pct),
            tp1: show(m.tp1_price),
            tp2: show(m.tp2_price),
        });
    }
    Ok(rows)
}

fn level_row(l: &Level) -> LevelRow {
    LevelRow {
        index: l.index,
        drop: pct(l.drop_pct),
        price: fmt::num(l.price),
        qty: fmt::num(l.qty),
        capital: fmt::amount(l.quote),
        notional: fmt::amount(l.price * l.qty),
        extension: l.extension,
        inactive: l.inactive.clone(),
    }
}

/// Checks the form against what the database knows: the same validation
/// as `basket create` (`GridConfig::from_json`, `validate_with_rules`,
/// `validate_at_anchor`) with the rules the database holds, and the
/// preview. Pure: no I/O.
pub fn assess(form: &Form, mode: &Mode, known: &Known, now: DateTime<Utc>) -> Assessed {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let (base, defaults_problem) = match mode {
        Mode::New => defaults(known),
        Mode::Edit(b) => (b.config.clone(), None),
    };
    if let Some(p) = defaults_problem {
        warnings.push(p);
    }
    let mut values = form.clone();
    apply_preset(&mut values, &defaults(known).0, &mut errors);
    let symbol = match mode {
        Mode::Edit(b) => b.symbol.clone(),
        Mode::New => match normalize_symbol(values.get("symbol").map_or("", String::as_str)) {
            Ok(s) => s,
            Err(message) => {
                errors.push(FieldError {
                    field: "symbol".into(),
                    message,
                });
                String::new()
            }
        },
    };
    if !symbol.is_empty() {
        values.insert("symbol".into(), symbol.clone());
    }
    let (anchor, anchor_note) = match mode {
        Mode::Edit(b) => (Some(b.anchor_price), "the basket's anchor".to_string()),
        Mode::New => {
            let typed = values.get("anchor").map_or("", |s| s.trim());
            if typed.is_empty() {
                match known.last_price {
                    Some((p, at)) => (
                        Some(p),
                        format!(
                            "the last price the daemon stored, {} ago",
                            fmt::age((now - at).num_seconds())
                        ),
                    ),
                    None => {
                        if !symbol.is_empty() {
                            errors.push(FieldError {
                                field: "anchor".into(),
                                message: format!(
                                    "anchor: no price of {symbol} is stored yet (the daemon stores the prices of the symbols it trades): enter the anchor"
                                ),
                            });
                        }
                        (None, String::new())
                    }
                }
            } else {
                match typed.parse::<Decimal>() {
                    Ok(a) if a > Decimal::ZERO => (Some(a), "as entered".to_string()),
                    _ => {
                        errors.push(FieldError {
                            field: "anchor".into(),
                            message: format!("anchor: `{typed}` is not a positive price"),
                        });
                        (None, String::new())
                    }
                }
            }
        }
    };
    let overlay = overlay_of(&values, &mut errors);
    let mut merged = match &base {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    merged.extend(overlay.clone());
    merged.insert("symbol".into(), Value::String(symbol.clone()));
    let config = match GridConfig::from_json(&Value::Object(merged)) {
        Ok(c) => Some(c),
        Err(e) => {
            config_error(&mut errors, &e);
            None
        }
    };
    let (rules, rules_note, assumed) = match (mode, &known.rules, anchor) {
        (Mode::Edit(b), _, _) => match b.rules() {
            Ok(r) => (
                Some(r),
                format!("the rules stored with basket #{}", b.id),
                false,
            ),
            Err(e) => {
                errors.push(FieldError {
                    field: String::new(),
                    message: format!("the basket's stored rules cannot be read: {e}"),
                });
                (None, String::new(), false)
            }
        },
        (Mode::New, Some((r, id)), _) => (
            Some(r.clone()),
            format!(
                "the rules of {symbol} as stored with basket #{id} (the daemon checks the exchange's live rules when it runs the command)"
            ),
            false,
        ),
        (Mode::New, None, Some(a)) if !symbol.is_empty() => {
            let r = assumed_rules(&symbol, a);
            match r.clone().validate() {
                Ok(r) => (
                    Some(r),
                    format!(
                        "no basket has traded {symbol} yet, so its exchange rules are not known here: the preview ASSUMES the rules below; the daemon checks the real ones (and may refuse) when it runs the command"
                    ),
                    true,
                ),
                Err(e) => {
                    warnings.push(format!("no rules can be assumed at this anchor: {e}"));
                    (None, String::new(), true)
                }
            }
        }
        _ => (None, String::new(), true),
    };
    let mut preview = None;
    let mut anchor_r = anchor;
    if let (Some(config), Some(rules), Some(a)) = (&config, &rules, anchor) {
        let own = config.validate_self();
        let own_ok = own.is_ok();
        let checked = if assumed {
            own
        } else {
            config.validate_with_rules(rules)
        };
        if let Err(e) = &checked {
            config_error(&mut errors, e);
        }
        let a = rules.round_price_down(a);
        anchor_r = Some(a);
        if matches!(mode, Mode::New) && (a <= Decimal::ZERO || !rules.price_in_range(a)) {
            errors.push(FieldError {
                field: "anchor".into(),
                message: format!("anchor: {a} is outside the symbol's price range"),
            });
        }
        if checked.is_ok() && !assumed {
            if let Err(e) = config.check_active_level(rules, a) {
                config_error(&mut errors, &e);
            }
        }
        if own_ok {
            preview = Some(build_preview(
                config,
                rules,
                a,
                &anchor_note,
                &rules_note,
                assumed,
            ));
        }
        let budget = config.budget();
        let needed = match mode {
            Mode::New => Some(budget),
            Mode::Edit(b) if budget > b.budget_quote => Some(budget - b.bought_quote),
            Mode::Edit(_) => None,
        };
        if let (Some(need), Some((free, at))) = (needed, known.free_quote) {
            if need > free {
                warnings.push(format!(
                    "{} {q} to spend is above the free {q} of the last account snapshot ({} ago): {}. The daemon checks the free balance when it runs the command and refuses a budget above it.",
                    fmt::amount(need),
                    fmt::age((now - at).num_seconds()),
                    fmt::amount(free),
                    q = rules.quote_asset
                ));
            }
        }
    }
    Assessed {
        values,
        errors,
        warnings,
        symbol,
        anchor: anchor_r,
        overlay,
        preview,
    }
}

fn build_preview(
    config: &GridConfig,
    rules: &SymbolRules,
    anchor: Decimal,
    anchor_note: &str,
    rules_note: &str,
    assumed: bool,
) -> Preview {
    let mut levels = base_levels(config, rules, anchor);
    if config.hard_stop_mode == HardStopMode::ExtendZone {
        levels.extend(extension_levels(config, rules, anchor));
    }
    let active: Vec<&Level> = levels.iter().filter(|l| l.is_active()).collect();
    let capital: Decimal = levels.iter().map(|l| l.quote).sum();
    let notional: Decimal = active.iter().map(|l| l.price * l.qty).sum();
    let (tps, tp_error) = match take_profits(config, rules, anchor, &active) {
        Ok(t) => (t, None),
        Err(e) => (Vec::new(), Some(e)),
    };
    let trail = match (config.trailing_callback_pct, config.trailing_delta_bips()) {
        (Some(cb), Some(bips)) => format!(
            "TRAIL sells {} of everything bought once the price falls {} ({bips} BIPS) from its high after reaching TP2, at no less than TP1.",
            pct(config.trail_share),
            pct(cb)
        ),
        _ => "No trail: its share goes to TP2.".to_string(),
    };
    Preview {
        symbol: config.symbol.clone(),
        base_asset: rules.base_asset.clone(),
        quote_asset: rules.quote_asset.clone(),
        anchor: fmt::num(anchor),
        anchor_note: anchor_note.to_string(),
        rules_assumed: assumed,
        rules_note: rules_note.to_string(),
        tick: fmt::num(rules.tick_size),
        step: fmt::num(rules.step_size),
        min_notional: fmt::num(rules.min_notional),
        levels: levels.iter().map(level_row).collect(),
        active_levels: active.len(),
        capital: fmt::amount(capital),
        notional: fmt::amount(notional),
        budget: fmt::amount(config.budget()),
        tps,
        tp_error,
        trail,
    }
}

// ---------------------------------------------------------------- views

#[derive(Debug, Clone, Serialize)]
struct FieldView {
    name: &'static str,
    label: &'static str,
    help: &'static str,
    value: String,
    input: &'static str,
    options: Vec<&'static str>,
    errors: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
struct GroupView {
    title: &'static str,
    fields: Vec<FieldView>,
}

fn errors_for(errors: &[FieldError], field: &str) -> Vec<String> {
    errors
        .iter()
        .filter(|e| e.field == field)
        .map(|e| e.message.clone())
        .collect()
}

fn groups_view(a: &Assessed) -> Vec<GroupView> {
    GROUPS
        .iter()
        .map(|(title, fields)| GroupView {
            title,
            fields: fields
                .iter()
                .map(|fd| FieldView {
                    name: fd.name,
                    label: fd.label,
                    help: fd.help,
                    value: a.values.get(fd.name).cloned().unwrap_or_default(),
                    input: match fd.kind {
                        Kind::List => "textarea",
                        Kind::Choice(_) => "select",
                        _ => "text",
                    },
                    options: match fd.kind {
                        Kind::Choice(o) => o.to_vec(),
                        _ => Vec::new(),
                    },
                    errors: errors_for(&a.errors, fd.name),
                })
                .collect(),
        })
        .collect()
}

/// Every error keyed by field, for the live preview's script.
fn errors_json(a: &Assessed) -> Vec<&FieldError> {
    a.errors.iter().collect()
}

fn preview_ctx(ctx: &mut Context, a: &Assessed) {
    ctx.insert("p", &a.preview);
    ctx.insert("all_errors", &errors_json(a));
    ctx.insert("warnings", &a.warnings);
    for (k, name) in [
        ("levels_pct_value", "levels_pct"),
        ("alloc_weights_value", "alloc_weights"),
        ("levels_value", "levels"),
    ] {
        ctx.insert(k, &a.values.get(name).cloned().unwrap_or_default());
    }
}

// ---------------------------------------------------------------- loading

/// What the form needs from the database, for `symbol` (new) or the basket
/// (edit).
async fn load(
    state: &Data,
    symbol: Option<String>,
    basket: Option<i64>,
) -> Result<(views::StatusView, Known, Option<BasketRow>), AppError> {
    db(state, move |c| {
        let now = Utc::now();
        let st = views::status_view(&store::misc::statuses(c)?, now);
        let row = basket.map(|id| store::baskets::get(c, id)).transpose()?;
        let prices = store::misc::prices(c)?;
        let mut known = Known {
            defaults: store::misc::get_config(c, "default_basket_config")?,
            symbols: prices.iter().map(|p| p.symbol.clone()).collect(),
            ..Known::default()
        };
        // No symbol chosen yet: the default config's.
        let symbol = row
            .as_ref()
            .map(|b| b.symbol.clone())
            .or(symbol)
            .unwrap_or_else(|| value_text(defaults(&known).0.get("symbol")));
        known.symbol = symbol.clone();
        if let Ok(sym) = normalize_symbol(&symbol) {
            known.last_price = prices
                .iter()
                .find(|p| p.symbol == sym)
                .map(|p| (p.price, p.updated_at));
            if let Some(b) = store::baskets::latest_of_symbol(c, &sym)? {
                if let Ok(r) = b.rules() {
                    known.rules = Some((r, b.id));
                }
            }
            let quote = known
                .rules
                .as_ref()
                .map(|(r, _)| r.quote_asset.clone())
                .or_else(|| row.as_ref().map(|b| b.quote_asset.clone()));
            if let (Some(q), Some(snap)) = (quote, store::misc::latest_snapshot(c)?) {
                let free =
                    snap.balances
                        .get(&q)
                        .and_then(|b| b.get("free"))
                        .and_then(|v| match v {
                            Value::String(s) => s.parse::<Decimal>().ok(),
                            Value::Number(n) => n.to_string().parse::<Decimal>().ok(),
                            _ => None,
                        });
                known.free_quote = free.map(|f| (f, snap.timestamp));
            }
        }
        Ok((st, known, row))
    })
    .await
}

/// The form as first shown: the defaults (new) or the basket's config.
fn initial(mode: &Mode, known: &Known) -> Form {
    match mode {
        Mode::New => {
            let mut v = values_of(&defaults(known).0);
            v.insert("symbol".into(), known.symbol.clone());
            v.insert("anchor".into(), String::new());
            v.insert("preset".into(), "defaults".into());
            v
        }
        Mode::Edit(b) => {
            let mut v = values_of(&b.config);
            v.insert("preset".into(), "custom".into());
            v
        }
    }
}

fn has_fields(form: &Form) -> bool {
    form.keys().any(|k| k != "_token" && k != "key")
}

#[allow(clippy::too_many_arguments)]
fn page_response(
    state: &Data,
    s: &crate::auth::Session,
    st: &views::StatusView,
    known: &Known,
    mode: &Mode,
    a: &Assessed,
    submitted: bool,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let mut ctx = base_ctx(state, s, st);
    // The menu marks "New basket" for the new form only.
    let page = match mode {
        Mode::New => "new_basket",
        Mode::Edit(_) => "edit_config",
    };
    ctx.insert("page", page);
    ctx.insert("groups", &groups_view(a));
    ctx.insert("values", &a.values);
    ctx.insert("presets", PRESETS);
    ctx.insert("symbols", &known.symbols);
    ctx.insert("submitted", &submitted);
    ctx.insert("general_errors", &errors_for(&a.errors, ""));
    ctx.insert("symbol_errors", &errors_for(&a.errors, "symbol"));
    ctx.insert("anchor_errors", &errors_for(&a.errors, "anchor"));
    ctx.insert("levels_errors", &errors_for(&a.errors, "levels"));
    ctx.insert("preset_errors", &errors_for(&a.errors, "preset"));
    match mode {
        Mode::New => {
            ctx.insert("edit", &false);
            ctx.insert("action", "/baskets");
            ctx.insert("preview_action", "/baskets/new");
            ctx.insert("preview_url", "/fragment/basket-preview");
        }
        Mode::Edit(b) => {
            ctx.insert("edit", &true);
            ctx.insert("basket_id", &b.id);
            ctx.insert("basket_status", b.status.as_str());
            ctx.insert("editable", &(b.status == BasketStatus::Paused));
            ctx.insert("action", &format!("/baskets/{}/config", b.id));
            ctx.insert("preview_action", &format!("/baskets/{}/edit", b.id));
            ctx.insert(
                "preview_url",
                &format!("/fragment/basket-preview?basket={}", b.id),
            );
        }
    }
    preview_ctx(&mut ctx, a);
    let mut r = render(state, "new_basket.html", &ctx)?;
    *r.status_mut() = status;
    Ok(r)
}

fn form_symbol(form: &Form) -> Option<String> {
    form.get("symbol").cloned()
}

// ---------------------------------------------------------------- handlers

/// `GET /baskets/new`: the form (with the query's values, if any).
pub async fn new_page(
    req: HttpRequest,
    state: Data,
    q: web::Query<Form>,
) -> Result<HttpResponse, AppError> {
    let s = session(&req)?;
    let form = q.into_inner();
    let (st, known, _) = load(&state, form_symbol(&form), None).await?;
    let mode = Mode::New;
    let values = if has_fields(&form) {
        form
    } else {
        initial(&mode, &known)
    };
    let a = assess(&values, &mode, &known, Utc::now());
    page_response(&state, &s, &st, &known, &mode, &a, false, StatusCode::OK)
}

/// `POST /baskets/new`: the form re-rendered with its preview (browsers
/// without JavaScript); writes nothing.
pub async fn new_page_post(
    req: HttpRequest,
    state: Data,
    form: web::Form<Form>,
) -> Result<HttpResponse, AppError> {
    let s = session(&req)?;
    let form = form.into_inner();
    check_csrf(&state, &s, form.get("_token").map(String::as_str))?;
    let (st, known, _) = load(&state, form_symbol(&form), None).await?;
    let a = assess(&form, &Mode::New, &known, Utc::now());
    page_response(
        &state,
        &s,
        &st,
        &known,
        &Mode::New,
        &a,
        false,
        StatusCode::OK,
    )
}

/// `POST /baskets`: validates the form; when it passes, writes one
/// `create_basket` command (idempotent by the form's `key`) and shows its
/// progress; else the form again with each error next to its field (422).
pub async fn create(
    req: HttpRequest,
    state: Data,
    form: web::Form<Form>,
) -> Result<HttpResponse, AppError> {
    let s = session(&req)?;
    let form = form.into_inner();
    check_csrf(&state, &s, form.get("_token").map(String::as_str))?;
    let key = check_key(form.get("key").map(String::as_str))?;
    let (st, known, _) = load(&state, form_symbol(&form), None).await?;
    let a = assess(&form, &Mode::New, &known, Utc::now());
    if !a.is_valid() {
        return page_response(
            &state,
            &s,
            &st,
            &known,
            &Mode::New,
            &a,
            true,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let payload = Payload::CreateBasket(CreateBasketPayload {
        source: Some("web".into()),
        symbol: a.symbol.clone(),
        anchor: a.anchor,
        config: Some(a.overlay.clone()),
    });
    let cmd = NewCommand::new(&payload, None, key.clone()).map_err(crate::handlers::from_store)?;
    let (row, new) = db(&state, move |c| store::commands::insert(c, &cmd)).await?;
    state.dash.clear();
    if new {
        log::info!(
            "Basket creation requested from the dashboard symbol={} anchor={} command={}",
            a.symbol,
            a.anchor.map_or_else(|| "-".into(), |x| x.to_string()),
            row.id
        );
    }
    Ok(redirect(&format!("/commands?key={key}")))
}

fn basket_id(path: &str) -> Result<i64, AppError> {
    path.parse()
        .map_err(|_| AppError::NotFound(format!("basket `{path}` does not exist")))
}

/// `GET /baskets/{id}/edit`: the basket's config in the form.
pub async fn edit_page(
    req: HttpRequest,
    state: Data,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let s = session(&req)?;
    let id = basket_id(&path)?;
    let (st, known, row) = load(&state, None, Some(id)).await?;
    let Some(row) = row else {
        return Err(AppError::NotFound(format!("basket {id}")));
    };
    let mode = Mode::Edit(Box::new(row));
    let a = assess(&initial(&mode, &known), &mode, &known, Utc::now());
    page_response(&state, &s, &st, &known, &mode, &a, false, StatusCode::OK)
}

/// `POST /baskets/{id}/edit`: the edit form with its preview (without
/// JavaScript); writes nothing.
pub async fn edit_page_post(
    req: HttpRequest,
    state: Data,
    path: web::Path<String>,
    form: web::Form<Form>,
) -> Result<HttpResponse, AppError> {
    let s = session(&req)?;
    let form = form.into_inner();
    check_csrf(&state, &s, form.get("_token").map(String::as_str))?;
    let id = basket_id(&path)?;
    let (st, known, row) = load(&state, None, Some(id)).await?;
    let Some(row) = row else {
        return Err(AppError::NotFound(format!("basket {id}")));
    };
    let mode = Mode::Edit(Box::new(row));
    let a = assess(&form, &mode, &known, Utc::now());
    page_response(&state, &s, &st, &known, &mode, &a, false, StatusCode::OK)
}

/// `POST /baskets/{id}/config`: validates the form against the basket; when
/// it passes and the basket is paused, writes one `edit_config` command.
pub async fn edit(
    req: HttpRequest,
    state: Data,
    path: web::Path<String>,
    form: web::Form<Form>,
) -> Result<HttpResponse, AppError> {
    let s = session(&req)?;
    let form = form.into_inner();
    check_csrf(&state, &s, form.get("_token").map(String::as_str))?;
    let key = check_key(form.get("key").map(String::as_str))?;
    let id = basket_id(&path)?;
    let (st, known, row) = load(&state, None, Some(id)).await?;
    let Some(row) = row else {
        return Err(AppError::NotFound(format!("basket {id}")));
    };
    let paused = row.status == BasketStatus::Paused;
    let status = row.status;
    let mode = Mode::Edit(Box::new(row));
    let mut a = assess(&form, &mode, &known, Utc::now());
    if !paused {
        a.errors.push(FieldError {
            field: String::new(),
            message: format!(
                "basket {id} is {status}: only a paused basket's config can be changed (pause it first)"
            ),
        });
    }
    if !a.is_valid() {
        return page_response(
            &state,
            &s,
            &st,
            &known,
            &mode,
            &a,
            true,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let payload = Payload::EditConfig(EditConfigPayload {
        source: Some("web".into()),
        config: a.overlay.clone(),
    });
    let cmd =
        NewCommand::new(&payload, Some(id), key.clone()).map_err(crate::handlers::from_store)?;
    let (row, new) = db(&state, move |c| store::commands::insert(c, &cmd)).await?;
    state.dash.clear();
    if new {
        log::info!(
            "Config change requested from the dashboard basket={id} command={}",
            row.id
        );
    }
    Ok(redirect(&format!("/commands?key={key}")))
}

/// `GET /fragment/basket-preview?…`: the preview and the errors of the
/// form's current values (`basket=ID` for an edit).
pub async fn preview_fragment(
    req: HttpRequest,
    state: Data,
    q: web::Query<Form>,
) -> Result<HttpResponse, AppError> {
    let s = session(&req)?;
    let form = q.into_inner();
    let basket = form
        .get("basket")
        .map(|b| basket_id(b.as_str()))
        .transpose()?;
    let (st, known, row) = load(&state, form_symbol(&form), basket).await?;
    let mode = match row {
        Some(r) => Mode::Edit(Box::new(r)),
        None => Mode::New,
    };
    let a = assess(&form, &mode, &known, Utc::now());
    let mut ctx = base_ctx(&state, &s, &st);
    preview_ctx(&mut ctx, &a);
    render(&state, "_basket_preview.html", &ctx)
}

/// The form's script: the live preview and the presets.
pub const BASKET_FORM_JS: &str = include_str!("../static/basket_form.js");

pub async fn static_js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((
            actix_web::http::header::CACHE_CONTROL,
            "public, max-age=300",
        ))
        .body(BASKET_FORM_JS)
}

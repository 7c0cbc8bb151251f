//! `bot-daemon basket …`, `close-all` and `plan --basket`: basket creation
//! (validated against the symbol's rules and the free balance; nothing stored
//! or sent when refused) and the commands that go through the `commands`
//! table, the same path as the dashboard.

use std::path::Path;

use binance_rest::Exchange;
use diesel::pg::PgConnection;
use grid_core::{BasketInput, GridConfig, PlanInput, SymbolRules};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use store::commands::{ClosePayload, NewCommand, Origin, Payload, ReanchorPayload};
use store::CommandKind;

use crate::error::DaemonError;
use crate::ledger::Ledger;

/// Reads a basket config file: a JSON object of strategy.md §2 fields.
///
/// # Errors
/// [`DaemonError::Invalid`] for an unreadable file or one that is not a JSON object.
pub fn read_config_file(path: &Path) -> Result<Value, DaemonError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        DaemonError::Invalid(format!("cannot read config file {}: {e}", path.display()))
    })?;
    match serde_json::from_str::<Value>(&text) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(DaemonError::Invalid(format!(
            "{}: the config must be a JSON object",
            path.display()
        ))),
        Err(e) => Err(DaemonError::Invalid(format!(
            "{}: not valid JSON: {e}",
            path.display()
        ))),
    }
}

/// The config of a new basket: the file's fields, then `bot_config`'s
/// `default_basket_config` value, then strategy.md §2's defaults.
///
/// # Errors
/// [`DaemonError::Invalid`] for an unreadable or malformed file.
pub fn load_config(
    conn: &mut PgConnection,
    symbol: &str,
    file: Option<&Path>,
) -> Result<GridConfig, DaemonError> {
    let overlay = file.map(read_config_file).transpose()?;
    merge_config(conn, symbol, overlay)
}

/// As [`load_config`], with the fields given as a JSON object (a
/// `create_basket` command's `config`).
///
/// # Errors
/// [`DaemonError::Invalid`] when `overlay` is not an object;
/// [`DaemonError::Config`] naming the field for an unknown field, an unknown
/// enum value or a value of the wrong type (grid-core's
/// [`GridConfig::from_json`], as the plan command).
pub fn merge_config(
    ledger: &mut impl Ledger,
    symbol: &str,
    overlay: Option<Value>,
) -> Result<GridConfig, DaemonError> {
    let mut merged = serde_json::Map::new();
    let stored: Option<Value> = ledger.default_basket_config()?;
    if let Some(Value::Object(m)) = stored {
        merged.extend(m);
    }
    match overlay {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => merged.extend(m),
        Some(_) => {
            return Err(DaemonError::Invalid(
                "the basket config must be a JSON object".into(),
            ))
        }
    }
    merged.insert("symbol".into(), Value::String(symbol.to_string()));
    Ok(GridConfig::from_json(&Value::Object(merged))?)
}

/// Validates and creates a basket. Nothing is stored or sent when it fails.
///
/// # Errors
/// [`DaemonError::Invalid`]/[`DaemonError::Config`]/[`DaemonError::Exchange`]
/// with a message that says why (unknown symbol, budget above the free
/// balance, an invalid field, a clientOrderId longer than 36 characters).
pub fn create<E: Exchange>(
    conn: &mut PgConnection,
    ex: &E,
    symbol: &str,
    anchor: Option<Decimal>,
    config_file: Option<&Path>,
) -> Result<store::baskets::BasketRow, DaemonError> {
    let overlay = config_file.map(read_config_file).transpose()?;
    create_with(conn, ex, symbol, anchor, overlay)
}

/// [`create`] with the config fields as a JSON object instead of a file: the
/// `create_basket` command (the dashboard's form) validates exactly the same way.
///
/// # Errors
/// As [`create`].
pub fn create_with<E: Exchange>(
    conn: &mut PgConnection,
    ex: &E,
    symbol: &str,
    anchor: Option<Decimal>,
    overlay: Option<Value>,
) -> Result<store::baskets::BasketRow, DaemonError> {
    let nb = validate_new(conn, ex, symbol, anchor, overlay)?;
    // Checks the ids against the real basket id inside the creating
    // transaction (rolled back when too long).
    Ok(store::baskets::create(
        conn, &nb.config, &nb.rules, nb.anchor,
    )?)
}

/// A basket validated and ready to be written.
#[derive(Debug, Clone)]
pub struct NewBasket {
    /// Its config: the overlay over the stored defaults over §2's.
    pub config: GridConfig,
    /// The symbol's rules, as the exchange gave them.
    pub rules: SymbolRules,
    /// The anchor, rounded down to the tick.
    pub anchor: Decimal,
}

/// Everything [`create_with`] checks before it writes: the symbol, the
/// config against the symbol's rules, the anchor (default: the last price)
/// and the budget against the free balance. Writes nothing.
///
/// # Errors
/// As [`create`].
pub fn validate_new<E: Exchange>(
    ledger: &mut impl Ledger,
    ex: &E,
    symbol: &str,
    anchor: Option<Decimal>,
    overlay: Option<Value>,
) -> Result<NewBasket, DaemonError> {
    let symbol = symbol.trim().to_ascii_uppercase();
    if symbol.is_empty() || symbol.len() > 20 || !symbol.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(DaemonError::Invalid(format!(
            "`{symbol}` is not a symbol such as SOLUSDC"
        )));
    }
    let config = merge_config(ledger, &symbol, overlay)?;
    let rules = match ex.symbol_rules(&symbol) {
        Ok(r) => r,
        Err(e) if e.code() == Some(-1121) => {
            return Err(DaemonError::Invalid(format!(
                "unknown symbol {symbol} on this exchange"
            )))
        }
        Err(e) => return Err(e.into()),
    };
    let rules = rules.validate()?;
    config.validate_with_rules(&rules)?;
    let anchor = match anchor {
        Some(a) if a > Decimal::ZERO => a,
        Some(a) => return Err(DaemonError::Invalid(format!("--anchor {a} must be > 0"))),
        None => {
            let prices = ex.ticker_prices(std::slice::from_ref(&symbol))?;
            prices
                .get(&symbol)
                .copied()
                .ok_or_else(|| DaemonError::Invalid(format!("no last price for {symbol}")))?
        }
    };
    let anchor = rules.round_price_down(anchor);
    if !rules.price_in_range(anchor) || anchor <= Decimal::ZERO {
        return Err(DaemonError::Invalid(format!(
            "anchor {anchor} is outside the symbol's price range"
        )));
    }
    // §2 "at least one level must be active", as the plan command checks it.
    config.validate_at_anchor(&rules, anchor)?;
    let budget = config.budget();
    let account = ex.account()?;
    let free = account.free(&rules.quote_asset);
    if budget > free {
        return Err(DaemonError::Invalid(format!(
            "the budget {budget} {q} is above the free balance {free} {q}",
            q = rules.quote_asset
        )));
    }
    Ok(NewBasket {
        config,
        rules,
        anchor,
    })
}

/// Everything an `edit_config` command checks before it writes, as
/// [`validate_new`] does for a new basket: `fields` over the basket's stored
/// config, against the symbol's live rules, at the basket's anchor, its
/// clientOrderIds, and — when the budget grows — its unspent part against
/// the free balance. Writes nothing. (The plan on the basket's fills is
/// checked by the worker, which has its open orders.)
///
/// # Errors
/// [`DaemonError::Config`] naming the field (`symbol` when it names another
/// symbol); [`DaemonError::Invalid`] for a budget above the free balance;
/// [`DaemonError::Exchange`].
pub fn validate_edit<E: Exchange>(
    ex: &E,
    basket: &store::baskets::BasketRow,
    fields: &serde_json::Map<String, Value>,
) -> Result<(GridConfig, SymbolRules), DaemonError> {
    if let Some(sym) = fields.get("symbol") {
        let same = sym
            .as_str()
            .is_some_and(|s| s.trim().eq_ignore_ascii_case(&basket.symbol));
        if !same {
            return Err(grid_core::ConfigError::new(
                "symbol",
                format!(
                    "basket {} trades {}; a basket keeps its symbol (create a new basket instead)",
                    basket.id, basket.symbol
                ),
            )
            .into());
        }
    }
    let mut merged = match &basket.config {
        Value::Object(m) => m.clone(),
        _ => serde_json::Map::new(),
    };
    merged.extend(fields.clone());
    merged.insert("symbol".into(), Value::String(basket.symbol.clone()));
    let config = GridConfig::from_json(&Value::Object(merged))?;
    let rules = ex.symbol_rules(&basket.symbol)?.validate()?;
    config.validate_at_anchor(&rules, basket.anchor_price)?;
    config.check_client_order_ids(basket.id)?;
    let budget = config.budget();
    if budget > basket.budget_quote {
        let unspent = budget - basket.bought_quote;
        let free = ex.account()?.free(&rules.quote_asset);
        if unspent > free {
            return Err(DaemonError::Invalid(format!(
                "the budget {budget} {q} leaves {unspent} {q} to spend, above the free balance {free} {q}",
                q = rules.quote_asset
            )));
        }
    }
    Ok((config, rules))
}

/// One line per basket.
pub fn list_text(rows: &[store::baskets::BasketRow]) -> String {
    let mut out = String::from("id\tsymbol\tstatus\tanchor\tposition\trealized\tworker\n");
    for b in rows {
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            b.id,
            b.symbol,
            b.status,
            b.anchor_price,
            b.pos.normalize(),
            b.realized.round_dp(8).normalize(),
            b.worker_id.as_deref().unwrap_or("-")
        ));
    }
    out
}

/// Position, P&L, open orders, last plan and holder of a basket, as JSON.
///
/// # Errors
/// Store errors (`NotFound`).
pub fn show(conn: &mut PgConnection, id: i64) -> Result<Value, DaemonError> {
    let b = store::baskets::get(conn, id)?;
    let open = store::orders::list_open_for_basket(conn, id)?;
    let last = store::misc::last_price(conn, &b.symbol)?;
    let unrealized = last.map(|p| b.pos * p - b.cost);
    // Typed (`null` before the first plan); an unreadable one is shown as
    // stored, with the reason.
    let last_plan = match b.plan_meta() {
        Ok(meta) => json!(meta),
        Err(e) => json!({"unreadable": e.to_string(), "stored": b.state}),
    };
    Ok(json!({
        "id": b.id,
        "symbol": b.symbol,
        "status": b.status.as_str(),
        "closed_reason": b.closed_reason,
        "anchor_price": b.anchor_price,
        "budget_quote": b.budget_quote,
        "worker_id": b.worker_id,
        "lease_until": b.lease_until,
        "last_price": last,
        "position": b.pos,
        "cost": b.cost,
        "realized": b.realized,
        "unrealized": unrealized,
        "fees": b.fees,
        "sells": b.sells, "wins": b.wins, "losses": b.losses,
        "open_orders": open.iter().map(|o| json!({
            "client_order_id": o.client_order_id,
            "role": o.role.to_string(),
            "side": o.side.to_string(),
            "price": o.price,
            "qty": o.quantity,
            "executed_qty": o.executed_qty,
            "status": o.status.as_str(),
        })).collect::<Vec<_>>(),
        "last_plan": last_plan,
    }))
}

/// Queues a command for a basket (pause, resume, close_basket) or for all
/// (close_all). The key makes a repeated CLI call within the same second run once.
///
/// # Errors
/// Store errors; `NotFound` for an unknown basket.
pub fn queue(
    conn: &mut PgConnection,
    kind: CommandKind,
    basket_id: Option<i64>,
) -> Result<store::commands::CommandRow, DaemonError> {
    if let Some(id) = basket_id {
        store::baskets::get(conn, id)?;
    }
    let key = format!(
        "cli:{}:{}:{}",
        kind.as_str(),
        basket_id
            .map(|b| b.to_string())
            .unwrap_or_else(|| "all".into()),
        chrono::Utc::now().timestamp()
    );
    let source = Some("cli".to_string());
    let origin = Origin {
        source: source.clone(),
    };
    let payload = match kind {
        CommandKind::Pause => Payload::Pause(origin),
        CommandKind::Resume => Payload::Resume(origin),
        CommandKind::CloseAll => Payload::CloseAll(origin),
        CommandKind::CloseBasket => Payload::CloseBasket(ClosePayload {
            source,
            ..ClosePayload::default()
        }),
        CommandKind::Reanchor => Payload::Reanchor(ReanchorPayload {
            source,
            new_anchor: None,
        }),
        CommandKind::CreateBasket => {
            return Err(DaemonError::Invalid(
                "create_basket is queued with a symbol: use `bot-daemon basket create`".into(),
            ))
        }
        CommandKind::EditConfig => return Err(DaemonError::Invalid(
            "edit_config is queued with the fields to change: use the dashboard's \"Edit config\""
                .into(),
        )),
    };
    let cmd = NewCommand::new(&payload, basket_id, key)?;
    let (row, _) = store::commands::insert(conn, &cmd)?;
    Ok(row)
}

/// What the bot would do now for a basket, from the database (its fills, its
/// open orders and the last stored price); sends nothing.
///
/// # Errors
/// Store errors; [`DaemonError::Invalid`] when no price is stored yet.
pub fn plan_input(conn: &mut PgConnection, id: i64) -> Result<PlanInput, DaemonError> {
    let b = store::baskets::get(conn, id)?;
    let last = store::misc::last_price(conn, &b.symbol)?.ok_or_else(|| {
        DaemonError::Invalid(format!(
            "no last price stored for {} yet (is the daemon running?)",
            b.symbol
        ))
    })?;
    let fills = store::fills::fills_for_basket(conn, id)?;
    let open = store::orders::list_open_for_basket(conn, id)?;
    Ok(PlanInput {
        now_ms: chrono::Utc::now().timestamp_millis(),
        basket: BasketInput {
            id: b.id,
            symbol: b.symbol.clone(),
            anchor_price: b.anchor_price,
            status: b.status,
            created_at_ms: b.created_at.timestamp_millis(),
            order_seq: u64::try_from(b.order_seq).unwrap_or(0),
            config: b.config()?,
        },
        rules: b.rules()?,
        fills: fills.iter().map(|f| f.to_core()).collect(),
        open_orders: open.iter().filter_map(|o| o.to_open_order()).collect(),
        last_price: last,
    })
}

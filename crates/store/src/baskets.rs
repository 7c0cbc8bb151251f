//! Baskets: one grid session on one symbol, with its config, the rules it was
//! created with, the last plan's meta, its order counter and its running P&L.
//!
//! Invariants: a basket is only created from a config that validates against
//! its symbol's rules and whose clientOrderIds fit Binance's 36 characters;
//! `order_seq` never decreases; `closed_at` is set once, when the basket first
//! reaches a terminal status.

use chrono::{DateTime, Utc};
use diesel::pg::{Pg, PgConnection};
use diesel::prelude::*;
use grid_core::{BasketStatus, GridConfig, PlanMeta, PnlTotals, SymbolRules};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Error;
use crate::leases::lock_basket;
use crate::money::{check, Col};
use crate::schema::baskets;
use crate::types::DbBasketStatus;
use crate::Writer;

/// Statuses in which a basket still trades (not terminal).
pub const LIVE_STATUSES: &[BasketStatus] = &[
    BasketStatus::Active,
    BasketStatus::Paused,
    BasketStatus::Stopping,
    BasketStatus::Closing,
];

pub(crate) fn live_status_strs() -> Vec<&'static str> {
    LIVE_STATUSES.iter().map(|s| s.as_str()).collect()
}

/// A `baskets` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = baskets, check_for_backend(Pg))]
pub struct BasketRow {
    /// Row id (part of the basket's clientOrderIds).
    pub id: i64,
    /// The symbol it trades (`SOLUSDC`).
    pub symbol: String,
    /// The symbol's base asset (`SOL`).
    pub base_asset: String,
    /// The symbol's quote asset (`USDC`).
    pub quote_asset: String,
    /// The grid's anchor price P0.
    pub anchor_price: Decimal,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Last change of the row.
    pub updated_at: DateTime<Utc>,
    /// When it first reached a terminal status.
    pub closed_at: Option<DateTime<Utc>>,
    /// Its status.
    #[diesel(deserialize_as = DbBasketStatus)]
    pub status: BasketStatus,
    /// Why it ended (`completed`, `reanchored`, `stop_loss`, …).
    pub closed_reason: Option<String>,
    /// Its `GridConfig` as JSON (read it with [`BasketRow::config`]).
    pub config: Value,
    /// Its `SymbolRules` as JSON (read it with [`BasketRow::rules`]).
    pub rules: Value,
    /// The last plan's `PlanMeta` as JSON, `{}` before the first plan (read
    /// it with [`BasketRow::plan_meta`]).
    pub state: Value,
    /// The quote budget of its config.
    pub budget_quote: Decimal,
    /// The highest clientOrderId sequence number used; never decreases.
    pub order_seq: i64,
    /// Position held (base asset).
    pub pos: Decimal,
    /// Cost of the position (quote asset, fees included).
    pub cost: Decimal,
    /// Realized P&L (quote asset).
    pub realized: Decimal,
    /// Fees paid (quote asset).
    pub fees: Decimal,
    /// Base quantity bought.
    pub bought_qty: Decimal,
    /// Quote spent buying.
    pub bought_quote: Decimal,
    /// Base quantity sold.
    pub sold_qty: Decimal,
    /// Quote received selling.
    pub sold_quote: Decimal,
    /// Number of sell fills.
    pub sells: i64,
    /// Sell fills with a positive realized P&L.
    pub wins: i64,
    /// Sell fills with a negative realized P&L.
    pub losses: i64,
    /// Sum of the winning sells' realized P&L.
    pub sum_wins: Decimal,
    /// Sum of the losing sells' realized P&L.
    pub sum_losses: Decimal,
    /// The trade cursor: the last exchange trade id read for the basket.
    pub last_trade_id: Option<i64>,
    /// The worker holding (or last holding) its lease.
    pub worker_id: Option<String>,
    /// When that lease expires.
    pub lease_until: Option<DateTime<Utc>>,
}

fn count(table_id: i64, name: &str, v: i64) -> Result<u64, Error> {
    u64::try_from(v)
        .map_err(|_| Error::corrupt("baskets", table_id, format!("{name} = {v} is negative")))
}

impl BasketRow {
    /// The running P&L totals stored in the row.
    ///
    /// # Errors
    /// [`Error::Corrupt`] when a counter is negative.
    pub fn totals(&self) -> Result<PnlTotals, Error> {
        Ok(PnlTotals {
            pos: self.pos,
            cost: self.cost,
            realized: self.realized,
            fees: self.fees,
            bought_qty: self.bought_qty,
            bought_quote: self.bought_quote,
            sold_qty: self.sold_qty,
            sold_quote: self.sold_quote,
            sells: count(self.id, "sells", self.sells)?,
            wins: count(self.id, "wins", self.wins)?,
            losses: count(self.id, "losses", self.losses)?,
            sum_wins: self.sum_wins,
            sum_losses: self.sum_losses,
            last_trade_id: self.last_trade_id,
        })
    }

    /// The basket's configuration.
    ///
    /// # Errors
    /// [`Error::Corrupt`] when the stored JSON is not a valid `GridConfig`.
    pub fn config(&self) -> Result<GridConfig, Error> {
        GridConfig::deserialize(&self.config)
            .map_err(|e| Error::corrupt("baskets", self.id, format!("config: {e}")))
    }

    /// The symbol rules the basket was created with.
    ///
    /// # Errors
    /// [`Error::Corrupt`] when the stored JSON is not valid `SymbolRules`.
    pub fn rules(&self) -> Result<SymbolRules, Error> {
        SymbolRules::deserialize(&self.rules)
            .map_err(|e| Error::corrupt("baskets", self.id, format!("rules: {e}")))
    }

    /// The last plan's meta (TP prices, stop price, reanchor suggestion, halt
    /// reason, …); `None` before the basket's first plan (`state` is `{}`).
    ///
    /// # Errors
    /// [`Error::Corrupt`] when the stored JSON is not a valid `PlanMeta`.
    pub fn plan_meta(&self) -> Result<Option<PlanMeta>, Error> {
        match &self.state {
            Value::Null => Ok(None),
            Value::Object(m) if m.is_empty() => Ok(None),
            v => PlanMeta::deserialize(v)
                .map(Some)
                .map_err(|e| Error::corrupt("baskets", self.id, format!("state: {e}"))),
        }
    }
}

/// A basket's id, symbol and assets — without its config, rules or state
/// (what a worker needs to value the account).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = baskets, check_for_backend(Pg))]
pub struct BasketSymbol {
    /// The basket.
    pub id: i64,
    /// The symbol it trades.
    pub symbol: String,
    /// The symbol's base asset.
    pub base_asset: String,
    /// The symbol's quote asset.
    pub quote_asset: String,
}

#[derive(Insertable)]
#[diesel(table_name = baskets)]
struct NewBasketRow<'a> {
    symbol: &'a str,
    base_asset: &'a str,
    quote_asset: &'a str,
    anchor_price: Decimal,
    #[diesel(serialize_as = DbBasketStatus)]
    status: BasketStatus,
    config: Value,
    rules: Value,
    budget_quote: Decimal,
}

/// Creates an `active` basket at `anchor`.
///
/// # Errors
/// [`Error::Config`] when the config does not validate against `rules` (or
/// its ids would be too long) — nothing is stored; [`Error::Invalid`] for an
/// anchor that is not a positive exchange price.
pub fn create(
    conn: &mut PgConnection,
    config: &GridConfig,
    rules: &SymbolRules,
    anchor: Decimal,
) -> Result<BasketRow, Error> {
    let rules = rules.clone().validate()?;
    if anchor <= Decimal::ZERO {
        return Err(Error::invalid(
            "anchor_price",
            format!("{anchor} is not > 0"),
        ));
    }
    check("anchor_price", anchor, Col::Exchange)?;
    // strategy.md §2: every rule, including "at least one level must be active".
    config.validate_at_anchor(&rules, anchor)?;
    if config.symbol.is_empty() || config.symbol.len() > 20 {
        return Err(Error::invalid("symbol", "must be 1 to 20 characters"));
    }
    let budget = config.budget();
    check("budget", budget, Col::Exchange)?;
    let config_json = serde_json::to_value(config)
        .map_err(|e| Error::invalid("config", format!("cannot serialize: {e}")))?;
    let rules_json = serde_json::to_value(&rules)
        .map_err(|e| Error::invalid("rules", format!("cannot serialize: {e}")))?;
    conn.transaction(|conn| {
        let row: BasketRow = diesel::insert_into(baskets::table)
            .values(NewBasketRow {
                symbol: &config.symbol,
                base_asset: &rules.base_asset,
                quote_asset: &rules.quote_asset,
                anchor_price: anchor,
                status: BasketStatus::Active,
                config: config_json,
                rules: rules_json,
                budget_quote: budget,
            })
            .returning(BasketRow::as_returning())
            .get_result(conn)?;
        config.check_client_order_ids(row.id)?;
        Ok(row)
    })
}

/// The basket with this id.
///
/// # Errors
/// [`Error::NotFound`] when there is no such basket.
pub fn get(conn: &mut PgConnection, id: i64) -> Result<BasketRow, Error> {
    baskets::table
        .find(id)
        .select(BasketRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::not_found(format!("basket {id}")))
}

/// Every basket (or those with `status`), oldest first.
///
/// # Errors
/// [`Error::Query`].
pub fn list(
    conn: &mut PgConnection,
    status: Option<BasketStatus>,
) -> Result<Vec<BasketRow>, Error> {
    let mut q = baskets::table
        .select(BasketRow::as_select())
        .order(baskets::id)
        .into_boxed();
    if let Some(s) = status {
        q = q.filter(baskets::status.eq(s.as_str()));
    }
    Ok(q.load(conn)?)
}

/// The baskets with these ids (e.g. the ones a worker leased), by id.
///
/// # Errors
/// [`Error::Query`].
pub fn list_by_ids(conn: &mut PgConnection, ids: &[i64]) -> Result<Vec<BasketRow>, Error> {
    Ok(baskets::table
        .filter(baskets::id.eq_any(ids))
        .select(BasketRow::as_select())
        .order(baskets::id)
        .load(conn)?)
}

/// Baskets that still trade (`active`, `paused`, `stopping`, `closing`), oldest first.
///
/// # Errors
/// [`Error::Query`].
pub fn list_live(conn: &mut PgConnection) -> Result<Vec<BasketRow>, Error> {
    Ok(baskets::table
        .filter(baskets::status.eq_any(live_status_strs()))
        .select(BasketRow::as_select())
        .order(baskets::id)
        .load(conn)?)
}

/// The symbol and assets of every basket that still trades
/// ([`LIVE_STATUSES`]), ascending id (`idx_baskets_status`).
///
/// # Errors
/// [`Error::Query`].
pub fn list_live_symbols(conn: &mut PgConnection) -> Result<Vec<BasketSymbol>, Error> {
    Ok(baskets::table
        .filter(baskets::status.eq_any(live_status_strs()))
        .select(BasketSymbol::as_select())
        .order(baskets::id)
        .load(conn)?)
}

/// Whether the database holds any basket at all (whatever its status): the
/// daemon creates the default paper basket only in an empty one.
///
/// # Errors
/// [`Error::Query`].
pub fn any_exists(conn: &mut PgConnection) -> Result<bool, Error> {
    Ok(diesel::select(diesel::dsl::exists(baskets::table.select(baskets::id))).get_result(conn)?)
}

/// Every basket an emergency close must reach: those that trade, those in
/// `error`, and any other that holds a position or has an order that may be
/// live — whatever its status. Ascending id.
///
/// # Errors
/// [`Error::Query`].
pub fn list_closable(conn: &mut PgConnection) -> Result<Vec<BasketRow>, Error> {
    Ok(baskets::table
        .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(
            "(baskets.status IN ('active', 'paused', 'stopping', 'closing', 'error') \
             OR baskets.pos > 0 \
             OR EXISTS (SELECT 1 FROM orders o WHERE o.basket_id = baskets.id \
             AND o.status IN ('PENDING_NEW', 'NEW', 'PARTIALLY_FILLED', 'PENDING_CANCEL', 'UNKNOWN')))",
        ))
        .select(BasketRow::as_select())
        .order(baskets::id)
        .load(conn)?)
}

/// What the daemon persists after executing a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanUpdate {
    /// `meta.status_after`.
    pub status: BasketStatus,
    /// Why the basket closed (`completed`, `reanchored`, …); kept when `None`.
    pub closed_reason: Option<String>,
    /// The plan's `grid_core::PlanMeta` as JSON (`serde_json::to_value`),
    /// read back by [`BasketRow::plan_meta`].
    pub state: Value,
    /// `meta.order_seq_after`: the stored counter never goes below it (nor back).
    pub order_seq: i64,
}

pub(crate) fn write_status(
    conn: &mut PgConnection,
    row: &BasketRow,
    status: BasketStatus,
    closed_reason: Option<&str>,
    state: Option<&Value>,
    order_seq: Option<i64>,
) -> Result<BasketRow, Error> {
    // A basket that trades again (resumed from `error`, closing after it
    // ended) is no longer closed: its end time and reason go with it.
    let (closed_at, reason) = if status.is_terminal() {
        (
            row.closed_at.or_else(|| Some(Utc::now())),
            closed_reason
                .map(str::to_string)
                .or_else(|| row.closed_reason.clone()),
        )
    } else {
        (None, closed_reason.map(str::to_string))
    };
    let seq = order_seq.map_or(row.order_seq, |s| s.max(row.order_seq));
    let new_state = state.cloned().unwrap_or_else(|| row.state.clone());
    Ok(diesel::update(baskets::table.find(row.id))
        .set((
            baskets::status.eq(status.as_str()),
            baskets::closed_reason.eq(reason),
            baskets::closed_at.eq(closed_at),
            baskets::state.eq(new_state),
            baskets::order_seq.eq(seq),
            baskets::updated_at.eq(diesel::dsl::now),
        ))
        .returning(BasketRow::as_returning())
        .get_result(conn)?)
}

/// Stores the outcome of a plan: status, closed reason, meta and order counter.
///
/// # Errors
/// [`Error::LeaseLost`] when `writer` no longer holds the basket;
/// [`Error::NotFound`]; [`Error::Invalid`] for a negative `order_seq`.
pub fn update_after_plan(
    conn: &mut PgConnection,
    writer: Writer<'_>,
    id: i64,
    update: &PlanUpdate,
) -> Result<BasketRow, Error> {
    if update.order_seq < 0 {
        return Err(Error::invalid("order_seq", "is negative"));
    }
    conn.transaction(|conn| {
        let row = lock_basket(conn, writer, id)?;
        write_status(
            conn,
            &row,
            update.status,
            update.closed_reason.as_deref(),
            Some(&update.state),
            Some(update.order_seq),
        )
    })
}

/// Sets a basket's status (pause, resume, closing, error …).
///
/// # Errors
/// [`Error::LeaseLost`], [`Error::NotFound`].
pub fn set_status(
    conn: &mut PgConnection,
    writer: Writer<'_>,
    id: i64,
    status: BasketStatus,
    reason: Option<&str>,
) -> Result<BasketRow, Error> {
    conn.transaction(|conn| {
        let row = lock_basket(conn, writer, id)?;
        write_status(conn, &row, status, reason, None, None)
    })
}

/// Sets a basket's trade cursor (`last_trade_id`) before its first order is
/// written: the symbol's latest trade id on the exchange (`-1` when the
/// account never traded it), so the basket's trades are read forward from
/// there. Only the holder of a live lease writes it, and only once (while the
/// cursor is still `NULL`).
///
/// # Errors
/// [`Error::LeaseLost`] when `worker_id` does not hold an unexpired lease on
/// the basket, or its cursor is already set (someone else acted on it);
/// [`Error::Query`].
pub fn set_trade_cursor(
    conn: &mut PgConnection,
    worker_id: &str,
    basket_id: i64,
    last_trade_id: i64,
) -> Result<(), Error> {
    let n = diesel::update(
        baskets::table
            .find(basket_id)
            .filter(baskets::worker_id.eq(worker_id))
            .filter(baskets::last_trade_id.is_null())
            .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(
                "COALESCE(lease_until > now(), false)",
            )),
    )
    .set(baskets::last_trade_id.eq(last_trade_id))
    .execute(conn)?;
    if n == 0 {
        return Err(Error::LeaseLost {
            basket_id,
            worker_id: worker_id.to_string(),
        });
    }
    Ok(())
}

/// Replaces the basket's stored symbol rules with ones just read from the
/// exchange (Binance changed a filter), so the next plan — and every later
/// one, also after a restart — uses them. Leased write. The rules are
/// validated and stored normalized; the configuration is deliberately not
/// re-validated against them: a basket with a position must go on trading
/// (levels the new rules make untradable are planned as inactive).
///
/// # Errors
/// [`Error::LeaseLost`] when `writer` no longer holds the basket;
/// [`Error::NotFound`]; [`Error::Invalid`] when the rules are unusable or
/// name other assets than the basket's (a basket keeps its assets: close it
/// and create a new one) — nothing is written then.
pub fn update_rules(
    conn: &mut PgConnection,
    writer: Writer<'_>,
    basket_id: i64,
    rules: &SymbolRules,
) -> Result<BasketRow, Error> {
    let rules = rules
        .clone()
        .validate()
        .map_err(|e| Error::invalid("rules", format!("{e}; the stored rules are kept")))?;
    let rules_json = serde_json::to_value(&rules)
        .map_err(|e| Error::invalid("rules", format!("cannot serialize: {e}")))?;
    conn.transaction(|conn| {
        let row = lock_basket(conn, writer, basket_id)?;
        if row.base_asset != rules.base_asset || row.quote_asset != rules.quote_asset {
            return Err(Error::invalid(
                "rules.base_asset",
                format!(
                    "basket {basket_id} trades {}/{}, the new rules are for {}/{}; a basket keeps its assets (close it and create a new one); the stored rules are kept",
                    row.base_asset, row.quote_asset, rules.base_asset, rules.quote_asset
                ),
            ));
        }
        Ok(diesel::update(baskets::table.find(basket_id))
            .set((
                baskets::rules.eq(rules_json),
                baskets::updated_at.eq(diesel::dsl::now),
            ))
            .returning(BasketRow::as_returning())
            .get_result(conn)?)
    })
}

/// Replaces a `paused` basket's config (the `edit_config` command) and its
/// `budget_quote` (strategy.md §3: the budget follows the config). Leased
/// write; the caller has validated the config against the symbol's rules,
/// the anchor and the basket's fills. The symbol never changes.
///
/// # Errors
/// [`Error::LeaseLost`]; [`Error::NotFound`]; [`Error::Invalid`] when the
/// basket is not `paused` or the config names another symbol; [`Error::Config`]
/// when the config fails its own rules — nothing is written then.
pub fn update_config(
    conn: &mut PgConnection,
    writer: Writer<'_>,
    id: i64,
    config: &GridConfig,
) -> Result<BasketRow, Error> {
    config.validate_self()?;
    let budget = config.budget();
    check("budget", budget, Col::Exchange)?;
    let config_json = serde_json::to_value(config)
        .map_err(|e| Error::invalid("config", format!("cannot serialize: {e}")))?;
    conn.transaction(|conn| {
        let row = lock_basket(conn, writer, id)?;
        check_editable(&row, config)?;
        Ok(diesel::update(baskets::table.find(id))
            .set((
                baskets::config.eq(config_json),
                baskets::budget_quote.eq(budget),
                baskets::updated_at.eq(diesel::dsl::now),
            ))
            .returning(BasketRow::as_returning())
            .get_result(conn)?)
    })
}

/// Whether `row` may take `config` ([`update_config`]): paused, same symbol.
///
/// # Errors
/// [`Error::Invalid`] saying why not.
pub fn check_editable(row: &BasketRow, config: &GridConfig) -> Result<(), Error> {
    if row.status != BasketStatus::Paused {
        return Err(Error::invalid(
            "status",
            format!(
                "basket {} is {}; only a paused basket's config can be changed (pause it first)",
                row.id, row.status
            ),
        ));
    }
    if config.symbol != row.symbol {
        return Err(Error::invalid(
            "symbol",
            format!(
                "basket {} trades {}; a basket keeps its symbol (create a new basket for {})",
                row.id, row.symbol, config.symbol
            ),
        ));
    }
    Ok(())
}

/// The newest basket of `symbol`, whatever its status (`idx_baskets_symbol`):
/// its `rules` are the newest the database knows for the symbol.
///
/// # Errors
/// [`Error::Query`].
pub fn latest_of_symbol(conn: &mut PgConnection, symbol: &str) -> Result<Option<BasketRow>, Error> {
    Ok(baskets::table
        .filter(baskets::symbol.eq(symbol))
        .select(BasketRow::as_select())
        .order(baskets::id.desc())
        .first(conn)
        .optional()?)
}

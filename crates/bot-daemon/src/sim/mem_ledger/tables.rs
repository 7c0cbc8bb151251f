//! The tables of [`super::MemLedger`], and the store's lease and basket
//! operations on them (`store::leases`, `store::baskets`), check for check.
//!
//! Each operation validates and computes first and writes last (see the
//! parent module's invariants): on `Err` the tables are as before, except
//! for the sequences, which an insert consumes even when it then fails.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use chrono::{DateTime, TimeDelta, Utc};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use grid_core::{BasketStatus, GridConfig, SymbolRules};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use store::baskets::{BasketRow, PlanUpdate, LIVE_STATUSES};
use store::commands::CommandRow;
use store::events::{EventRow, NewEvent};
use store::fills::FillRow;
use store::money::{check, Col};
use store::orders::OrderRow;
use store::{Error, EventLevel, Writer};

use super::OrderRowStatus;
use crate::ledger::Successor;

/// Per-table id sequences (`BIGSERIAL`): the last id handed out.
#[derive(Debug, Default)]
pub(super) struct Seqs {
    basket: i64,
    order: i64,
    fill: i64,
    event: i64,
    command: i64,
}

fn next(last: &mut i64) -> i64 {
    *last = last.saturating_add(1);
    *last
}

/// A `pnl_hourly` row's figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Bucket {
    pub(super) realized: Decimal,
    pub(super) fees: Decimal,
    pub(super) sells: i64,
}

/// The tables. Indexes (`order_ids`, `orders_of`, `exchange_ids`, `trades`,
/// `fills_of`)
/// are kept in step with the rows they index by the only functions that
/// insert rows ([`Db::put_order`], [`Db::put_fill`]).
pub(super) struct Db {
    pub(super) clock: Rc<Cell<i64>>,
    pub(super) seq: Seqs,
    pub(super) commits: u64,
    pub(super) baskets: BTreeMap<i64, BasketRow>,
    pub(super) orders: BTreeMap<i64, OrderRow>,
    /// clientOrderId → order id (`UNIQUE (client_order_id)`).
    pub(super) order_ids: BTreeMap<String, i64>,
    /// basket id → its order ids.
    pub(super) orders_of: BTreeMap<i64, BTreeSet<i64>>,
    /// (symbol, exchange order id) → order id
    /// (`UNIQUE (symbol, exchange_order_id) WHERE exchange_order_id IS NOT NULL`).
    pub(super) exchange_ids: BTreeMap<(String, i64), i64>,
    pub(super) fills: BTreeMap<i64, FillRow>,
    /// (symbol, trade id) → fill id (`UNIQUE (symbol, exchange_trade_id)`).
    pub(super) trades: BTreeMap<(String, i64), i64>,
    /// basket id → trade id → fill id (the basket's fills in trade-id order).
    pub(super) fills_of: BTreeMap<i64, BTreeMap<i64, i64>>,
    pub(super) hourly: BTreeMap<(i64, DateTime<Utc>), Bucket>,
    pub(super) events: Vec<EventRow>,
    pub(super) heartbeats: BTreeMap<String, DateTime<Utc>>,
    pub(super) prices: BTreeMap<String, (Decimal, DateTime<Utc>)>,
    pub(super) commands: BTreeMap<i64, CommandRow>,
    /// idempotency key → command id (`UNIQUE (idempotency_key)`).
    pub(super) command_keys: BTreeMap<String, i64>,
    /// `bot_config`'s `default_basket_config`.
    pub(super) default_config: Option<Value>,
    /// Writes of a basket's rules or config (in [`super::MemLedger::trading_digest`]).
    pub(super) setting_writes: u64,
}

/// The instant of an epoch-ms clock value.
pub(super) fn at_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

pub(super) fn plus_ms(t: DateTime<Utc>, ms: i64) -> DateTime<Utc> {
    let max = if ms >= 0 {
        DateTime::<Utc>::MAX_UTC
    } else {
        DateTime::<Utc>::MIN_UTC
    };
    TimeDelta::try_milliseconds(ms)
        .and_then(|d| t.checked_add_signed(d))
        .unwrap_or(max)
}

/// `v` as a `NUMERIC(28, scale)` column returns it (scale padded; no
/// negative zero). Callers have checked that `v` fits ([`check`]).
pub(super) fn col(v: Decimal, c: Col) -> Decimal {
    let mut v = v;
    v.rescale(c.scale());
    if v.is_zero() {
        v.set_sign_positive(true);
    }
    v
}

pub(super) fn ex(v: Decimal) -> Decimal {
    col(v, Col::Exchange)
}

pub(super) fn quote(v: Decimal) -> Decimal {
    col(v, Col::Quote)
}

pub(super) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Error {
    Error::Invalid {
        field: field.into(),
        reason: reason.into(),
    }
}

pub(super) fn not_found(what: impl Into<String>) -> Error {
    Error::NotFound { what: what.into() }
}

/// The `Error::Query` PostgreSQL's error of `kind` with `message` becomes.
pub(super) fn db_error(kind: DatabaseErrorKind, message: impl Into<String>) -> Error {
    Error::Query(DieselError::DatabaseError(kind, Box::new(message.into())))
}

pub(super) fn too_long(len: usize) -> Error {
    db_error(
        DatabaseErrorKind::Unknown,
        format!("value too long for type character varying({len})"),
    )
}

/// `NUMERIC(28,16)` refuses a magnitude of 10^12 or more (a sum the store
/// does not check itself).
pub(super) fn quote_fits(v: Decimal) -> Result<(), Error> {
    if v.abs() >= Col::Quote.limit() {
        return Err(db_error(
            DatabaseErrorKind::Unknown,
            "numeric field overflow",
        ));
    }
    Ok(())
}

/// The basket row with every decimal at its column's scale.
pub(super) fn scaled_basket(mut b: BasketRow) -> BasketRow {
    b.anchor_price = ex(b.anchor_price);
    b.budget_quote = ex(b.budget_quote);
    b.pos = ex(b.pos);
    b.bought_qty = ex(b.bought_qty);
    b.sold_qty = ex(b.sold_qty);
    for v in [
        &mut b.cost,
        &mut b.realized,
        &mut b.fees,
        &mut b.bought_quote,
        &mut b.sold_quote,
        &mut b.sum_wins,
        &mut b.sum_losses,
    ] {
        *v = quote(*v);
    }
    b
}

impl Db {
    pub(super) fn new(clock: Rc<Cell<i64>>) -> Db {
        Db {
            clock,
            seq: Seqs::default(),
            commits: 0,
            baskets: BTreeMap::new(),
            orders: BTreeMap::new(),
            order_ids: BTreeMap::new(),
            orders_of: BTreeMap::new(),
            exchange_ids: BTreeMap::new(),
            fills: BTreeMap::new(),
            trades: BTreeMap::new(),
            fills_of: BTreeMap::new(),
            hourly: BTreeMap::new(),
            events: Vec::new(),
            heartbeats: BTreeMap::new(),
            prices: BTreeMap::new(),
            commands: BTreeMap::new(),
            command_keys: BTreeMap::new(),
            default_config: None,
            setting_writes: 0,
        }
    }

    pub(super) fn now(&self) -> DateTime<Utc> {
        at_ms(self.clock.get())
    }

    pub(super) fn next_order_id(&mut self) -> i64 {
        next(&mut self.seq.order)
    }

    pub(super) fn next_fill_id(&mut self) -> i64 {
        next(&mut self.seq.fill)
    }

    pub(super) fn next_event_id(&mut self) -> i64 {
        next(&mut self.seq.event)
    }

    pub(super) fn next_command_id(&mut self) -> i64 {
        next(&mut self.seq.command)
    }

    // ---- leases (store::leases) ----

    /// Whether `worker` holds an unexpired lease on the basket.
    pub(super) fn holds(&self, worker: &str, basket: i64) -> bool {
        let now = self.now();
        self.baskets.get(&basket).is_some_and(|b| {
            b.worker_id.as_deref() == Some(worker) && b.lease_until.is_some_and(|u| u > now)
        })
    }

    /// `NEEDS_WRITER`: the basket trades, or has an order that may be live.
    pub(super) fn needs_writer(&self, basket: i64) -> bool {
        let Some(b) = self.baskets.get(&basket) else {
            return false;
        };
        LIVE_STATUSES.contains(&b.status)
            || self.orders_of.get(&basket).is_some_and(|ids| {
                ids.iter().any(|id| {
                    self.orders
                        .get(id)
                        .is_some_and(|o| OrderRowStatus::OPEN.contains(&o.status))
                })
            })
    }

    /// `lock_basket`: the row, after the writer's lease check.
    pub(super) fn lock_basket(&self, writer: Writer<'_>, id: i64) -> Result<BasketRow, Error> {
        let row = self
            .baskets
            .get(&id)
            .ok_or_else(|| not_found(format!("basket {id}")))?;
        let (worker, or_unneeded) = match writer {
            Writer::Lease(w) => (w, false),
            Writer::Command(w) => (w, true),
            Writer::Unleased => return Ok(row.clone()),
        };
        let held = self.holds(worker, id);
        let unneeded = or_unneeded && !self.needs_writer(id);
        if !held && !unneeded {
            return Err(Error::LeaseLost {
                basket_id: id,
                worker_id: worker.to_string(),
            });
        }
        Ok(row.clone())
    }

    pub(super) fn acquire_leases(
        &mut self,
        worker: &str,
        lease_ms: i64,
        max: i64,
    ) -> Result<Vec<i64>, Error> {
        if lease_ms <= 0 {
            return Err(invalid("lease_ms", "must be > 0"));
        }
        if worker.is_empty() || worker.len() > 100 {
            return Err(invalid("worker_id", "must be 1 to 100 characters"));
        }
        let now = self.now();
        let until = plus_ms(now, lease_ms);
        let needs: BTreeMap<i64, bool> = self
            .baskets
            .keys()
            .map(|id| (*id, self.needs_writer(*id)))
            .collect();
        let needed = |id: &i64| needs.get(id).copied().unwrap_or(false);
        let mut held = Vec::new();
        for (id, b) in self.baskets.iter_mut() {
            if b.worker_id.as_deref() != Some(worker) {
                continue;
            }
            if needed(id) {
                b.lease_until = Some(until);
                held.push(*id);
            } else {
                b.worker_id = None;
                b.lease_until = None;
            }
        }
        let mut want = max - i64::try_from(held.len()).unwrap_or(i64::MAX);
        for (id, b) in self.baskets.iter_mut() {
            if want <= 0 {
                break;
            }
            let free = b.worker_id.is_none() || b.lease_until.is_none_or(|u| u <= now);
            if free && needed(id) {
                b.worker_id = Some(worker.to_string());
                b.lease_until = Some(until);
                held.push(*id);
                want -= 1;
            }
        }
        held.sort_unstable();
        Ok(held)
    }

    pub(super) fn release_baskets(&mut self, worker: &str, ids: &[i64]) -> usize {
        let mut n = 0;
        for (id, b) in self.baskets.iter_mut() {
            if ids.contains(id) && b.worker_id.as_deref() == Some(worker) {
                b.worker_id = None;
                b.lease_until = None;
                n += 1;
            }
        }
        n
    }

    pub(super) fn fair_share(&self, alive_within_ms: i64) -> i64 {
        let baskets = self
            .baskets
            .keys()
            .filter(|id| self.needs_writer(**id))
            .count();
        let since = plus_ms(self.now(), alive_within_ms.saturating_neg());
        let workers = self.heartbeats.values().filter(|at| **at > since).count();
        let n = i64::try_from(baskets).unwrap_or(i64::MAX);
        let w = i64::try_from(workers).unwrap_or(i64::MAX).max(1);
        ((n + w - 1) / w).max(1)
    }

    // ---- baskets (store::baskets) ----

    pub(super) fn get_basket(&self, id: i64) -> Result<BasketRow, Error> {
        self.baskets
            .get(&id)
            .cloned()
            .ok_or_else(|| not_found(format!("basket {id}")))
    }

    /// `baskets::create` up to (not including) storing the row: validates,
    /// draws the id (consumed even when a later check fails) and returns the
    /// new row.
    pub(super) fn new_basket(
        &mut self,
        config: &GridConfig,
        rules: &SymbolRules,
        anchor: Decimal,
    ) -> Result<BasketRow, Error> {
        let rules = rules.clone().validate()?;
        if anchor <= Decimal::ZERO {
            return Err(invalid("anchor_price", format!("{anchor} is not > 0")));
        }
        check("anchor_price", anchor, Col::Exchange)?;
        config.validate_at_anchor(&rules, anchor)?;
        if config.symbol.is_empty() || config.symbol.len() > 20 {
            return Err(invalid("symbol", "must be 1 to 20 characters"));
        }
        let budget = config.budget();
        check("budget", budget, Col::Exchange)?;
        let config_json = serde_json::to_value(config)
            .map_err(|e| invalid("config", format!("cannot serialize: {e}")))?;
        let rules_json = serde_json::to_value(&rules)
            .map_err(|e| invalid("rules", format!("cannot serialize: {e}")))?;
        // The INSERT: a value too long for its column is refused before the
        // id is drawn; a CHECK constraint after (the id is consumed).
        if rules.base_asset.chars().count() > 20 || rules.quote_asset.chars().count() > 20 {
            return Err(too_long(20));
        }
        let id = next(&mut self.seq.basket);
        if budget <= Decimal::ZERO {
            return Err(db_error(
                DatabaseErrorKind::CheckViolation,
                "new row for relation \"baskets\" violates check constraint \"baskets_budget_quote_check\"",
            ));
        }
        config.check_client_order_ids(id)?;
        let now = self.now();
        Ok(scaled_basket(BasketRow {
            id,
            symbol: config.symbol.clone(),
            base_asset: rules.base_asset.clone(),
            quote_asset: rules.quote_asset.clone(),
            anchor_price: anchor,
            created_at: now,
            updated_at: now,
            closed_at: None,
            status: BasketStatus::Active,
            closed_reason: None,
            config: config_json,
            rules: rules_json,
            state: json!({}),
            budget_quote: budget,
            order_seq: 0,
            pos: Decimal::ZERO,
            cost: Decimal::ZERO,
            realized: Decimal::ZERO,
            fees: Decimal::ZERO,
            bought_qty: Decimal::ZERO,
            bought_quote: Decimal::ZERO,
            sold_qty: Decimal::ZERO,
            sold_quote: Decimal::ZERO,
            sells: 0,
            wins: 0,
            losses: 0,
            sum_wins: Decimal::ZERO,
            sum_losses: Decimal::ZERO,
            last_trade_id: None,
            worker_id: None,
            lease_until: None,
        }))
    }

    /// `write_status` on a copy of the row.
    fn write_status(
        &self,
        row: &mut BasketRow,
        status: BasketStatus,
        closed_reason: Option<&str>,
        state: Option<&Value>,
        order_seq: Option<i64>,
    ) {
        let now = self.now();
        let (closed_at, reason) = if status.is_terminal() {
            (
                row.closed_at.or(Some(now)),
                closed_reason
                    .map(str::to_string)
                    .or_else(|| row.closed_reason.clone()),
            )
        } else {
            (None, closed_reason.map(str::to_string))
        };
        row.order_seq = order_seq.map_or(row.order_seq, |s| s.max(row.order_seq));
        if let Some(s) = state {
            row.state = s.clone();
        }
        row.status = status;
        row.closed_reason = reason;
        row.closed_at = closed_at;
        row.updated_at = now;
    }

    pub(super) fn set_status(
        &mut self,
        writer: Writer<'_>,
        id: i64,
        status: BasketStatus,
        reason: Option<&str>,
    ) -> Result<BasketRow, Error> {
        let mut row = self.lock_basket(writer, id)?;
        self.write_status(&mut row, status, reason, None, None);
        self.baskets.insert(id, row.clone());
        Ok(row)
    }

    /// `baskets::update_after_plan`, then (with a successor) `create` and
    /// the `reanchor` event, in one commit.
    pub(super) fn update_after_plan(
        &mut self,
        writer: Writer<'_>,
        id: i64,
        update: &PlanUpdate,
        successor: Option<Successor<'_>>,
    ) -> Result<Option<Result<i64, String>>, Error> {
        if update.order_seq < 0 {
            return Err(invalid("order_seq", "is negative"));
        }
        let mut row = self.lock_basket(writer, id)?;
        self.write_status(
            &mut row,
            update.status,
            update.closed_reason.as_deref(),
            Some(&update.state),
            Some(update.order_seq),
        );
        let Some(s) = successor else {
            self.baskets.insert(id, row);
            return Ok(None);
        };
        // `create` runs in a savepoint: its failure is reported, not raised.
        let created = self.new_basket(s.config, s.rules, s.anchor);
        let anchor = s.anchor;
        let event = match &created {
            Ok(nb) => NewEvent::new(
                Some(id),
                EventLevel::Info,
                "reanchor",
                format!("Reanchored: new basket {} at {anchor}", nb.id),
            )
            .with_data(Some(json!({"new_basket_id": nb.id, "anchor": anchor}))),
            Err(e) => NewEvent::new(
                Some(id),
                EventLevel::Error,
                "reanchor",
                format!("Reanchor failed: {e}"),
            ),
        };
        // Everything that can fail is done: write the three rows.
        let event = self.event_row(&event, event.data.clone())?;
        self.baskets.insert(id, row);
        let new_id = match created {
            Ok(nb) => {
                let new_id = nb.id;
                self.baskets.insert(new_id, nb);
                Ok(new_id)
            }
            Err(e) => Err(e.to_string()),
        };
        self.push_event(event);
        Ok(Some(new_id))
    }

    pub(super) fn set_trade_cursor(
        &mut self,
        worker: &str,
        basket: i64,
        last_trade_id: i64,
    ) -> Result<(), Error> {
        let now = self.now();
        let row = self.baskets.get_mut(&basket).filter(|b| {
            b.worker_id.as_deref() == Some(worker)
                && b.last_trade_id.is_none()
                && b.lease_until.is_some_and(|u| u > now)
        });
        match row {
            Some(b) => {
                b.last_trade_id = Some(last_trade_id);
                Ok(())
            }
            None => Err(Error::LeaseLost {
                basket_id: basket,
                worker_id: worker.to_string(),
            }),
        }
    }

    pub(super) fn update_rules(
        &mut self,
        writer: Writer<'_>,
        id: i64,
        rules: &SymbolRules,
    ) -> Result<BasketRow, Error> {
        let rules = rules
            .clone()
            .validate()
            .map_err(|e| invalid("rules", format!("{e}; the stored rules are kept")))?;
        let rules_json = serde_json::to_value(&rules)
            .map_err(|e| invalid("rules", format!("cannot serialize: {e}")))?;
        let mut row = self.lock_basket(writer, id)?;
        if row.base_asset != rules.base_asset || row.quote_asset != rules.quote_asset {
            return Err(invalid(
                "rules.base_asset",
                format!(
                    "basket {id} trades {}/{}, the new rules are for {}/{}; a basket keeps its assets (close it and create a new one); the stored rules are kept",
                    row.base_asset, row.quote_asset, rules.base_asset, rules.quote_asset
                ),
            ));
        }
        row.rules = rules_json;
        row.updated_at = self.now();
        self.setting_writes += 1;
        self.baskets.insert(id, row.clone());
        Ok(row)
    }
}

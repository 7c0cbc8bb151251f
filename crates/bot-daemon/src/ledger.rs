//! What the worker reads and writes between exchange calls: the
//! [`Ledger`]. PostgreSQL in production (`impl Ledger for PgConnection`,
//! each method one transaction of the `store` crate); memory in the
//! simulation harness ([`crate::sim::MemLedger`]).
//!
//! Invariants every implementation holds (the worker's safety rests on them):
//! - each method is one commit: what it wrote is visible to every later call
//!   (of any worker), and a crash between two calls keeps the first call's
//!   writes whole and nothing of the second;
//! - a write with [`Writer::Lease`] happens only while that worker holds an
//!   unexpired lease on the basket, else it fails with
//!   [`store::Error::LeaseLost`] and writes nothing;
//! - an order row's status only moves forward and its executed quantity
//!   never shrinks ([`store::orders::next_status`]), except that a row given
//!   up as "never arrived" adopts what the exchange reports;
//! - fills are recorded once per exchange trade id, and the basket's
//!   position and P&L are the walk of its fills in trade-id order.

use std::collections::HashMap;

use diesel::pg::PgConnection;
use diesel::Connection;
use grid_core::{BasketStatus, Fill, GridConfig, PlanInput, SymbolRules};
use rust_decimal::Decimal;
use serde_json::json;
use serde_json::Value;
use store::baskets::{BasketRow, PlanUpdate};
use store::commands::{CommandResult, CommandRow, NewCommand};
use store::events::{EventRow, NewEvent};
use store::fills::NewFill;
use store::orders::{ExchangeState, OrderRow};
use store::{EventLevel, Writer};

/// A reanchor written with the plan that ends a basket: the successor
/// basket's config, rules and anchor.
#[derive(Debug, Clone, Copy)]
pub struct Successor<'a> {
    pub config: &'a GridConfig,
    pub rules: &'a SymbolRules,
    pub anchor: Decimal,
}

/// The persisted state the worker drives; see the module docs.
pub trait Ledger {
    /// The number of baskets a worker should hold among the workers alive
    /// within `alive_within_ms` ([`store::leases::fair_share`]).
    fn fair_share(&mut self, alive_within_ms: i64) -> Result<i64, store::Error>;
    /// Renews this worker's leases and takes free ones, up to `max`
    /// ([`store::leases::acquire_leases`]); returns the held basket ids.
    fn acquire_leases(
        &mut self,
        worker: &str,
        lease_ms: i64,
        max: i64,
    ) -> Result<Vec<i64>, store::Error>;
    /// Gives the leases on `ids` back.
    fn release_baskets(&mut self, worker: &str, ids: &[i64]) -> Result<usize, store::Error>;
    /// Whether `worker` holds an unexpired lease on `basket`.
    fn holds(&mut self, worker: &str, basket: i64) -> Result<bool, store::Error>;
    /// The basket's row.
    fn basket(&mut self, id: i64) -> Result<BasketRow, store::Error>;
    /// Records the last prices (for the dashboard).
    fn upsert_prices(&mut self, rows: &[(String, Decimal)]) -> Result<(), store::Error>;
    /// The basket's order rows that are, or may be, live on the exchange.
    fn open_orders_of(&mut self, basket: i64) -> Result<Vec<OrderRow>, store::Error>;
    /// `(clientOrderId, executedQty)` of every order of the basket that
    /// executed something, as last reported by the exchange.
    fn executed_of(&mut self, basket: i64) -> Result<Vec<(String, Decimal)>, store::Error>;
    /// The basket's fills in trade-id order.
    fn fills_of(&mut self, basket: i64) -> Result<Vec<Fill>, store::Error>;
    /// Whether the basket has any order row at all.
    fn has_orders(&mut self, basket: i64) -> Result<bool, store::Error>;
    /// The clientOrderIds of the basket's orders with these exchange ids.
    fn client_ids_by_exchange_id(
        &mut self,
        basket: i64,
        exchange_ids: &[i64],
    ) -> Result<HashMap<i64, String>, store::Error>;
    /// Applies an order as the exchange reports it (inserting the row when
    /// the bot has none).
    fn upsert_from_exchange(
        &mut self,
        writer: Writer<'_>,
        report: &store::orders::ExchangeReport,
    ) -> Result<(), store::Error>;
    /// Applies the exchange's answer to a known order.
    fn mark_sent(
        &mut self,
        writer: Writer<'_>,
        cid: &str,
        state: &ExchangeState,
    ) -> Result<(), store::Error>;
    /// The create never took effect (or is given up as never arrived).
    fn mark_rejected(
        &mut self,
        writer: Writer<'_>,
        cid: &str,
        why: &str,
    ) -> Result<(), store::Error>;
    /// The create's outcome is unknown: looked up next cycle.
    fn mark_unknown(
        &mut self,
        writer: Writer<'_>,
        cid: &str,
        why: &str,
    ) -> Result<(), store::Error>;
    /// Writes a create's `PENDING_NEW` row before its request leaves;
    /// [`store::Error::Conflict`] when the clientOrderId is already written.
    fn insert_pending_at(
        &mut self,
        writer: Writer<'_>,
        row: &store::orders::NewOrderRow,
        request_ts_ms: Option<i64>,
    ) -> Result<(), store::Error>;
    /// Records new fills (each trade once) and walks the basket's position.
    fn record_fills(
        &mut self,
        writer: Writer<'_>,
        basket: i64,
        base_asset: &str,
        fills: &[NewFill],
    ) -> Result<usize, store::Error>;
    /// Sets the basket's trade cursor (before its first order).
    fn set_trade_cursor(
        &mut self,
        worker: &str,
        basket: i64,
        last_trade_id: i64,
    ) -> Result<(), store::Error>;
    /// Writes the plan's outcome and, with a successor, closes the basket
    /// and opens the successor in the same commit (with its `reanchor`
    /// event). Returns the successor's id, or why it could not be created
    /// (the plan's outcome is written either way).
    fn update_after_plan(
        &mut self,
        writer: Writer<'_>,
        basket: i64,
        update: &PlanUpdate,
        successor: Option<Successor<'_>>,
    ) -> Result<Option<Result<i64, String>>, store::Error>;
    /// Sets the basket's status (and why it ended).
    fn set_status(
        &mut self,
        writer: Writer<'_>,
        basket: i64,
        status: BasketStatus,
        reason: Option<&str>,
    ) -> Result<(), store::Error>;
    /// Stores the symbol's new rules on the basket.
    fn update_rules(
        &mut self,
        writer: Writer<'_>,
        basket: i64,
        rules: &SymbolRules,
    ) -> Result<BasketRow, store::Error>;
    /// Appends an event to the audit log.
    fn insert_event(&mut self, event: &NewEvent) -> Result<(), store::Error>;
    /// Appends a `cycle` event with the plan input that replays it.
    fn insert_cycle_event(
        &mut self,
        event: &NewEvent,
        input: &PlanInput,
    ) -> Result<(), store::Error>;

    // ---- operator commands ----

    /// Claims the commands `worker` may run, oldest first, at most `limit`
    /// ([`store::commands::claim_for_worker`]: those of the baskets it
    /// `held`, of no basket, of a basket no worker needs to lease, and the
    /// orphans of a worker without a heartbeat within `alive_within_ms`).
    fn claim_commands(
        &mut self,
        worker: &str,
        held: &[i64],
        alive_within_ms: i64,
        limit: i64,
    ) -> Result<Vec<CommandRow>, store::Error>;
    /// Marks a command `worker` claimed done with its result, or failed
    /// with the reason; refused when it is no longer `worker`'s.
    fn finish_command(
        &mut self,
        id: i64,
        worker: &str,
        outcome: Result<&CommandResult, &str>,
    ) -> Result<(), store::Error>;
    /// Gives a command `worker` claimed back to the queue (`pending`): the
    /// exchange could not answer it for now ([`store::commands::release`]).
    fn release_command(&mut self, id: i64, worker: &str) -> Result<(), store::Error>;
    /// Writes a command, or finds the one already written with its key;
    /// returns its id.
    fn insert_command(&mut self, command: &NewCommand) -> Result<i64, store::Error>;
    /// Every basket that may hold something: a live status, a position, or
    /// an order that may be live ([`store::baskets::list_closable`]).
    fn closable_baskets(&mut self) -> Result<Vec<BasketRow>, store::Error>;
    /// The newest event of `kind` that command `command` wrote (how a
    /// command run twice finds its first run's work).
    fn command_event(&mut self, kind: &str, command: i64)
        -> Result<Option<EventRow>, store::Error>;
    /// The stored defaults of a new basket's config (`default_basket_config`).
    fn default_basket_config(&mut self) -> Result<Option<Value>, store::Error>;
    /// Opens a basket and its `created` event naming `command`, in one commit.
    fn create_basket_for_command(
        &mut self,
        command: i64,
        config: &GridConfig,
        rules: &SymbolRules,
        anchor: Decimal,
    ) -> Result<BasketRow, store::Error>;
    /// Closes `basket` as `reanchored`, opens its successor and writes the
    /// `reanchor` event naming `command`, in one commit; returns the successor.
    fn reanchor_for_command(
        &mut self,
        writer: Writer<'_>,
        basket: i64,
        command: i64,
        successor: Successor<'_>,
    ) -> Result<BasketRow, store::Error>;
    /// Replaces a paused basket's config and budget
    /// ([`store::baskets::update_config`]) and writes the `config_changed`
    /// event naming `command` ([`config_changed_event`]), in one commit.
    fn edit_config_for_command(
        &mut self,
        writer: Writer<'_>,
        basket: i64,
        command: i64,
        config: &GridConfig,
        change: &ConfigChange,
    ) -> Result<BasketRow, store::Error>;
}

/// What an `edit_config` command changes: the top-level config fields whose
/// value differs, with their stored and new values.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigChange {
    /// The fields that differ, sorted by name.
    pub changed: Vec<String>,
    /// Their stored values.
    pub before: serde_json::Map<String, Value>,
    /// Their new values.
    pub after: serde_json::Map<String, Value>,
}

impl ConfigChange {
    /// The fields of `new` that differ from `old` (both as the config
    /// serializes; decimals compared by value, so `0.05` equals `0.050`).
    pub fn between(old: &Value, new: &Value) -> ConfigChange {
        let mut change = ConfigChange {
            changed: Vec::new(),
            before: serde_json::Map::new(),
            after: serde_json::Map::new(),
        };
        let empty = serde_json::Map::new();
        let old = old.as_object().unwrap_or(&empty);
        if let Some(new) = new.as_object() {
            for (k, v) in new {
                let was = old.get(k).unwrap_or(&Value::Null);
                if !same_value(was, v) {
                    change.changed.push(k.clone());
                    change.before.insert(k.clone(), was.clone());
                    change.after.insert(k.clone(), v.clone());
                }
            }
        }
        change.changed.sort();
        change
    }

    /// Nothing differs.
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty()
    }
}

/// Equal JSON values, decimal strings compared by value.
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => {
            x == y
                || matches!(
                    (x.parse::<Decimal>(), y.parse::<Decimal>()),
                    (Ok(p), Ok(q)) if p == q
                )
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_value(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_value(v, w)))
        }
        _ => a == b,
    }
}

/// The `config_changed` event an `edit_config` command writes with the
/// change (its data names the command, the fields, their old and new values).
pub fn config_changed_event(basket: i64, command: i64, change: &ConfigChange) -> NewEvent {
    NewEvent::new(
        Some(basket),
        EventLevel::Info,
        "config_changed",
        format!(
            "Config changed by command {command}: {}",
            change.changed.join(", ")
        ),
    )
    .with_data(Some(json!({
        "command": command,
        "changed": change.changed,
        "before": change.before,
        "after": change.after,
    })))
}

/// The `created` event a `create_basket` command writes with its basket.
pub fn created_event(basket: &BasketRow, command: i64) -> NewEvent {
    NewEvent::new(
        Some(basket.id),
        EventLevel::Info,
        "created",
        format!(
            "Basket created at {} by command {command}",
            basket.anchor_price
        ),
    )
    .with_data(Some(json!({"command": command})))
}

/// The `reanchor` event a `reanchor` command writes on the old basket
/// (`anchor`: the new basket's anchor as the command decided it).
pub fn reanchored_event(old: i64, new: &BasketRow, anchor: Decimal, command: i64) -> NewEvent {
    NewEvent::new(
        Some(old),
        EventLevel::Info,
        "reanchor",
        format!(
            "Reanchored by command {command}: new basket {} at {anchor}",
            new.id
        ),
    )
    .with_data(Some(
        json!({"new_basket_id": new.id, "anchor": anchor, "command": command}),
    ))
}

impl Ledger for PgConnection {
    fn fair_share(&mut self, alive_within_ms: i64) -> Result<i64, store::Error> {
        store::leases::fair_share(self, alive_within_ms)
    }

    fn acquire_leases(
        &mut self,
        worker: &str,
        lease_ms: i64,
        max: i64,
    ) -> Result<Vec<i64>, store::Error> {
        store::leases::acquire_leases(self, worker, lease_ms, max)
    }

    fn release_baskets(&mut self, worker: &str, ids: &[i64]) -> Result<usize, store::Error> {
        store::leases::release_baskets(self, worker, ids)
    }

    fn holds(&mut self, worker: &str, basket: i64) -> Result<bool, store::Error> {
        store::leases::holds(self, worker, basket)
    }

    fn basket(&mut self, id: i64) -> Result<BasketRow, store::Error> {
        store::baskets::get(self, id)
    }

    fn upsert_prices(&mut self, rows: &[(String, Decimal)]) -> Result<(), store::Error> {
        store::misc::upsert_prices(self, rows).map(|_| ())
    }

    fn open_orders_of(&mut self, basket: i64) -> Result<Vec<OrderRow>, store::Error> {
        store::orders::list_open_for_basket(self, basket)
    }

    fn executed_of(&mut self, basket: i64) -> Result<Vec<(String, Decimal)>, store::Error> {
        store::orders::executed_for_basket(self, basket)
    }

    fn fills_of(&mut self, basket: i64) -> Result<Vec<Fill>, store::Error> {
        Ok(store::fills::fills_for_basket(self, basket)?
            .iter()
            .map(|f| f.to_core())
            .collect())
    }

    fn has_orders(&mut self, basket: i64) -> Result<bool, store::Error> {
        store::orders::any_for_basket(self, basket)
    }

    fn client_ids_by_exchange_id(
        &mut self,
        basket: i64,
        exchange_ids: &[i64],
    ) -> Result<HashMap<i64, String>, store::Error> {
        store::orders::client_ids_by_exchange_id(self, basket, exchange_ids)
    }

    fn upsert_from_exchange(
        &mut self,
        writer: Writer<'_>,
        report: &store::orders::ExchangeReport,
    ) -> Result<(), store::Error> {
        store::orders::upsert_from_exchange(self, writer, report).map(|_| ())
    }

    fn mark_sent(
        &mut self,
        writer: Writer<'_>,
        cid: &str,
        state: &ExchangeState,
    ) -> Result<(), store::Error> {
        store::orders::mark_sent(self, writer, cid, state).map(|_| ())
    }

    fn mark_rejected(
        &mut self,
        writer: Writer<'_>,
        cid: &str,
        why: &str,
    ) -> Result<(), store::Error> {
        store::orders::mark_rejected(self, writer, cid, why).map(|_| ())
    }

    fn mark_unknown(
        &mut self,
        writer: Writer<'_>,
        cid: &str,
        why: &str,
    ) -> Result<(), store::Error> {
        store::orders::mark_unknown(self, writer, cid, why).map(|_| ())
    }

    fn insert_pending_at(
        &mut self,
        writer: Writer<'_>,
        row: &store::orders::NewOrderRow,
        request_ts_ms: Option<i64>,
    ) -> Result<(), store::Error> {
        store::orders::insert_pending_at(self, writer, row, request_ts_ms).map(|_| ())
    }

    fn record_fills(
        &mut self,
        writer: Writer<'_>,
        basket: i64,
        base_asset: &str,
        fills: &[NewFill],
    ) -> Result<usize, store::Error> {
        store::fills::record_fills(self, writer, basket, base_asset, fills)
    }

    fn set_trade_cursor(
        &mut self,
        worker: &str,
        basket: i64,
        last_trade_id: i64,
    ) -> Result<(), store::Error> {
        store::baskets::set_trade_cursor(self, worker, basket, last_trade_id).map(|_| ())
    }

    fn update_after_plan(
        &mut self,
        writer: Writer<'_>,
        basket: i64,
        update: &PlanUpdate,
        successor: Option<Successor<'_>>,
    ) -> Result<Option<Result<i64, String>>, store::Error> {
        self.transaction(|conn| {
            store::baskets::update_after_plan(conn, writer, basket, update)?;
            let Some(s) = successor else {
                return Ok(None);
            };
            let created = store::baskets::create(conn, s.config, s.rules, s.anchor);
            let anchor = s.anchor;
            let event = match &created {
                Ok(nb) => NewEvent::new(
                    Some(basket),
                    EventLevel::Info,
                    "reanchor",
                    format!("Reanchored: new basket {} at {anchor}", nb.id),
                )
                .with_data(Some(json!({"new_basket_id": nb.id, "anchor": anchor}))),
                Err(e) => NewEvent::new(
                    Some(basket),
                    EventLevel::Error,
                    "reanchor",
                    format!("Reanchor failed: {e}"),
                ),
            };
            store::events::insert(conn, &event)?;
            Ok(Some(created.map(|nb| nb.id).map_err(|e| e.to_string())))
        })
    }

    fn set_status(
        &mut self,
        writer: Writer<'_>,
        basket: i64,
        status: BasketStatus,
        reason: Option<&str>,
    ) -> Result<(), store::Error> {
        store::baskets::set_status(self, writer, basket, status, reason).map(|_| ())
    }

    fn update_rules(
        &mut self,
        writer: Writer<'_>,
        basket: i64,
        rules: &SymbolRules,
    ) -> Result<BasketRow, store::Error> {
        store::baskets::update_rules(self, writer, basket, rules)
    }

    fn insert_event(&mut self, event: &NewEvent) -> Result<(), store::Error> {
        store::events::insert(self, event).map(|_| ())
    }

    fn insert_cycle_event(
        &mut self,
        event: &NewEvent,
        input: &PlanInput,
    ) -> Result<(), store::Error> {
        store::events::insert_with_input(self, event, input).map(|_| ())
    }

    fn claim_commands(
        &mut self,
        worker: &str,
        held: &[i64],
        alive_within_ms: i64,
        limit: i64,
    ) -> Result<Vec<CommandRow>, store::Error> {
        store::commands::claim_for_worker(self, worker, held, alive_within_ms, limit)
    }

    fn finish_command(
        &mut self,
        id: i64,
        worker: &str,
        outcome: Result<&CommandResult, &str>,
    ) -> Result<(), store::Error> {
        match outcome {
            Ok(r) => store::commands::complete(self, id, worker, r),
            Err(why) => store::commands::fail(self, id, worker, why),
        }
        .map(|_| ())
    }

    fn release_command(&mut self, id: i64, worker: &str) -> Result<(), store::Error> {
        store::commands::release(self, id, worker).map(|_| ())
    }

    fn insert_command(&mut self, command: &NewCommand) -> Result<i64, store::Error> {
        store::commands::insert(self, command).map(|(row, _)| row.id)
    }

    fn closable_baskets(&mut self) -> Result<Vec<BasketRow>, store::Error> {
        store::baskets::list_closable(self)
    }

    fn command_event(
        &mut self,
        kind: &str,
        command: i64,
    ) -> Result<Option<EventRow>, store::Error> {
        store::events::by_command(self, kind, command)
    }

    fn default_basket_config(&mut self) -> Result<Option<Value>, store::Error> {
        store::misc::get_config(self, "default_basket_config")
    }

    fn create_basket_for_command(
        &mut self,
        command: i64,
        config: &GridConfig,
        rules: &SymbolRules,
        anchor: Decimal,
    ) -> Result<BasketRow, store::Error> {
        self.transaction(|conn| {
            let row = store::baskets::create(conn, config, rules, anchor)?;
            store::events::insert(conn, &created_event(&row, command))?;
            Ok(row)
        })
    }

    fn reanchor_for_command(
        &mut self,
        writer: Writer<'_>,
        basket: i64,
        command: i64,
        successor: Successor<'_>,
    ) -> Result<BasketRow, store::Error> {
        self.transaction(|conn| {
            store::baskets::set_status(
                conn,
                writer,
                basket,
                BasketStatus::Closed,
                Some("reanchored"),
            )?;
            let nb =
                store::baskets::create(conn, successor.config, successor.rules, successor.anchor)?;
            store::events::insert(
                conn,
                &reanchored_event(basket, &nb, successor.anchor, command),
            )?;
            Ok(nb)
        })
    }

    fn edit_config_for_command(
        &mut self,
        writer: Writer<'_>,
        basket: i64,
        command: i64,
        config: &GridConfig,
        change: &ConfigChange,
    ) -> Result<BasketRow, store::Error> {
        self.transaction(|conn| {
            let row = store::baskets::update_config(conn, writer, basket, config)?;
            store::events::insert(conn, &config_changed_event(basket, command, change))?;
            Ok(row)
        })
    }
}

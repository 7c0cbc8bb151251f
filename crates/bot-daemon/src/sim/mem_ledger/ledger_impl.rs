//! `impl Ledger for MemLedger`: each method is one read or one write (one
//! commit) of the tables, through the connection's faults
//! ([`MemLedger::read`], [`MemLedger::write`]).

use std::collections::HashMap;

use grid_core::{BasketStatus, Fill, GridConfig, PlanInput, SymbolRules};
use rust_decimal::Decimal;
use serde_json::Value;
use store::baskets::{BasketRow, PlanUpdate};
use store::commands::{CommandResult, CommandRow, NewCommand};
use store::events::EventRow;
use store::events::NewEvent;
use store::fills::NewFill;
use store::orders::{ExchangeState, OrderRow};
use store::Writer;

use super::{ExchangeReport, MemLedger, NewOrderRow};
use crate::ledger::{ConfigChange, Ledger, Successor};

impl Ledger for MemLedger {
    fn fair_share(&mut self, alive_within_ms: i64) -> Result<i64, store::Error> {
        self.read(|db| Ok(db.fair_share(alive_within_ms)))
    }

    fn acquire_leases(
        &mut self,
        worker: &str,
        lease_ms: i64,
        max: i64,
    ) -> Result<Vec<i64>, store::Error> {
        self.write(|db| db.acquire_leases(worker, lease_ms, max))
    }

    fn release_baskets(&mut self, worker: &str, ids: &[i64]) -> Result<usize, store::Error> {
        self.write(|db| Ok(db.release_baskets(worker, ids)))
    }

    fn holds(&mut self, worker: &str, basket: i64) -> Result<bool, store::Error> {
        self.read(|db| Ok(db.holds(worker, basket)))
    }

    fn basket(&mut self, id: i64) -> Result<BasketRow, store::Error> {
        self.read(|db| db.get_basket(id))
    }

    fn upsert_prices(&mut self, rows: &[(String, Decimal)]) -> Result<(), store::Error> {
        self.write(|db| db.upsert_prices(rows))
    }

    fn open_orders_of(&mut self, basket: i64) -> Result<Vec<OrderRow>, store::Error> {
        self.read(|db| Ok(db.open_orders_of(basket)))
    }

    fn executed_of(&mut self, basket: i64) -> Result<Vec<(String, Decimal)>, store::Error> {
        self.read(|db| Ok(db.executed_of(basket)))
    }

    fn fills_of(&mut self, basket: i64) -> Result<Vec<Fill>, store::Error> {
        self.read(|db| Ok(db.fills_of(basket)))
    }

    fn has_orders(&mut self, basket: i64) -> Result<bool, store::Error> {
        self.read(|db| Ok(db.has_orders(basket)))
    }

    fn client_ids_by_exchange_id(
        &mut self,
        basket: i64,
        exchange_ids: &[i64],
    ) -> Result<HashMap<i64, String>, store::Error> {
        self.read(|db| Ok(db.client_ids_by_exchange_id(basket, exchange_ids)))
    }

    fn upsert_from_exchange(
        &mut self,
        writer: Writer<'_>,
        report: &ExchangeReport,
    ) -> Result<(), store::Error> {
        self.write(|db| db.upsert_from_exchange(writer, report).map(|_| ()))
    }

    fn mark_sent(
        &mut self,
        writer: Writer<'_>,
        cid: &str,
        state: &ExchangeState,
    ) -> Result<(), store::Error> {
        self.write(|db| db.mark_sent(writer, cid, state).map(|_| ()))
    }

    fn mark_rejected(
        &mut self,
        writer: Writer<'_>,
        cid: &str,
        why: &str,
    ) -> Result<(), store::Error> {
        self.write(|db| db.mark_rejected(writer, cid, why).map(|_| ()))
    }

    fn mark_unknown(
        &mut self,
        writer: Writer<'_>,
        cid: &str,
        why: &str,
    ) -> Result<(), store::Error> {
        self.write(|db| db.mark_unknown(writer, cid, why).map(|_| ()))
    }

    fn insert_pending_at(
        &mut self,
        writer: Writer<'_>,
        row: &NewOrderRow,
        request_ts_ms: Option<i64>,
    ) -> Result<(), store::Error> {
        self.write(|db| db.insert_pending_at(writer, row, request_ts_ms).map(|_| ()))
    }

    fn record_fills(
        &mut self,
        writer: Writer<'_>,
        basket: i64,
        base_asset: &str,
        fills: &[NewFill],
    ) -> Result<usize, store::Error> {
        self.write(|db| db.record_fills(writer, basket, base_asset, fills))
    }

    fn set_trade_cursor(
        &mut self,
        worker: &str,
        basket: i64,
        last_trade_id: i64,
    ) -> Result<(), store::Error> {
        self.write(|db| db.set_trade_cursor(worker, basket, last_trade_id))
    }

    fn update_after_plan(
        &mut self,
        writer: Writer<'_>,
        basket: i64,
        update: &PlanUpdate,
        successor: Option<Successor<'_>>,
    ) -> Result<Option<Result<i64, String>>, store::Error> {
        self.write(|db| db.update_after_plan(writer, basket, update, successor))
    }

    fn set_status(
        &mut self,
        writer: Writer<'_>,
        basket: i64,
        status: BasketStatus,
        reason: Option<&str>,
    ) -> Result<(), store::Error> {
        self.write(|db| db.set_status(writer, basket, status, reason).map(|_| ()))
    }

    fn update_rules(
        &mut self,
        writer: Writer<'_>,
        basket: i64,
        rules: &SymbolRules,
    ) -> Result<BasketRow, store::Error> {
        self.write(|db| db.update_rules(writer, basket, rules))
    }

    fn insert_event(&mut self, event: &NewEvent) -> Result<(), store::Error> {
        self.write(|db| db.insert_event(event))
    }

    fn insert_cycle_event(
        &mut self,
        event: &NewEvent,
        input: &PlanInput,
    ) -> Result<(), store::Error> {
        self.write(|db| db.insert_cycle_event(event, input))
    }

    fn claim_commands(
        &mut self,
        worker: &str,
        held: &[i64],
        alive_within_ms: i64,
        limit: i64,
    ) -> Result<Vec<CommandRow>, store::Error> {
        if worker.is_empty() || worker.len() > 100 {
            return Err(store::Error::Invalid {
                field: "worker_id".into(),
                reason: "must be 1 to 100 characters".into(),
            });
        }
        // Nothing to claim writes nothing (a crash there loses nothing).
        let ids = self.read(|db| Ok(db.claimable(worker, held, alive_within_ms, limit)))?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.write(|db| {
            let ids = db.claimable(worker, held, alive_within_ms, limit);
            Ok(db.claim(worker, &ids))
        })
    }

    fn finish_command(
        &mut self,
        id: i64,
        worker: &str,
        outcome: Result<&CommandResult, &str>,
    ) -> Result<(), store::Error> {
        self.write(|db| db.finish_command(id, worker, outcome))
    }

    fn release_command(&mut self, id: i64, worker: &str) -> Result<(), store::Error> {
        self.write(|db| db.release_command(id, worker))
    }

    fn insert_command(&mut self, command: &NewCommand) -> Result<i64, store::Error> {
        self.write(|db| db.insert_command(command))
    }

    fn closable_baskets(&mut self) -> Result<Vec<BasketRow>, store::Error> {
        self.read(|db| Ok(db.closable()))
    }

    fn command_event(
        &mut self,
        kind: &str,
        command: i64,
    ) -> Result<Option<EventRow>, store::Error> {
        self.read(|db| Ok(db.command_event(kind, command)))
    }

    fn default_basket_config(&mut self) -> Result<Option<Value>, store::Error> {
        self.read(|db| Ok(db.default_config.clone()))
    }

    fn create_basket_for_command(
        &mut self,
        command: i64,
        config: &GridConfig,
        rules: &SymbolRules,
        anchor: Decimal,
    ) -> Result<BasketRow, store::Error> {
        self.write(|db| db.create_for_command(command, config, rules, anchor))
    }

    fn reanchor_for_command(
        &mut self,
        writer: Writer<'_>,
        basket: i64,
        command: i64,
        successor: Successor<'_>,
    ) -> Result<BasketRow, store::Error> {
        self.write(|db| db.reanchor_for_command(writer, basket, command, successor))
    }

    fn edit_config_for_command(
        &mut self,
        writer: Writer<'_>,
        basket: i64,
        command: i64,
        config: &GridConfig,
        change: &ConfigChange,
    ) -> Result<BasketRow, store::Error> {
        self.write(|db| db.edit_config_for_command(writer, basket, command, config, change))
    }
}

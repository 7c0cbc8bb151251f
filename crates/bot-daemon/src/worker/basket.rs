//! One held basket's cycle: resolve the orders the exchange no longer lists,
//! sync trades, plan, check the view, execute, write the outcome.

use std::collections::{HashMap, HashSet};

use binance_rest::{Exchange, ExchangeOrder, NewOrder, OrderRef};
use executor::arrival::{self, Clocks, Missing, Sent};
use executor::execution::{CancelAnswer, CancelStep, CreateResult, Executed, Execution};
use executor::failure::{self, CancelFailure, CreateFailure};
use executor::view::{self, StatusOutcome};
use grid_core::{basket_prefix, Plan, PlanError, PlanInput, PriceBand, Side, SymbolRules};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use store::baskets::{BasketRow, PlanUpdate};
use store::events::NewEvent;
use store::orders::OrderRow;
use store::EventLevel;

use super::convert::{differs, full_of, role_of, state_of};
use super::{plan_input, Worker};
use crate::error::DaemonError;
use crate::ledger::{Ledger, Successor};

/// What a basket's cycle did.
#[derive(Debug, Default)]
pub(super) struct BasketOutcome {
    pub acted: bool,
    pub new_fills: usize,
    /// The last prices at which its plan stays the same; `None` when the
    /// cycle did not reach the plan.
    pub band: Option<PriceBand>,
    /// The cycle planned, and the plan had nothing to send and no status
    /// to change: while nothing changes on the exchange and the price stays
    /// in `band`, the next cycle would do the same.
    pub settled: bool,
}

impl<E: Exchange> Worker<E> {
    /// Looks an order up by clientOrderId and stores what the exchange
    /// reports; `None` when the exchange does not know it.
    pub(super) fn refresh(
        &self,
        ledger: &mut impl Ledger,
        symbol: &str,
        cid: &str,
    ) -> Result<Option<ExchangeOrder>, DaemonError> {
        match self
            .exchange
            .get_order(symbol, OrderRef::Client(cid.to_string()))
        {
            Ok(ex) => {
                ledger.upsert_from_exchange(self.lease(), &full_of(&ex))?;
                Ok(Some(ex))
            }
            Err(e) if e.is_unknown_order() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub(super) fn basket_cycle(
        &mut self,
        ledger: &mut impl Ledger,
        b: BasketRow,
        open_all: &[ExchangeOrder],
        prices: &HashMap<String, Decimal>,
    ) -> Result<BasketOutcome, DaemonError> {
        let mut out = BasketOutcome::default();
        let prefix = basket_prefix(&b.symbol, b.id);
        let mut open: Vec<ExchangeOrder> = open_all
            .iter()
            .filter(|o| o.symbol == b.symbol && o.client_order_id.starts_with(&prefix))
            .cloned()
            .collect();
        let rows = ledger.open_orders_of(b.id)?;
        let mut changed = !self.synced.contains(&b.id)
            || self.dirty.contains(&b.id)
            || (self.cfg.sweep_every > 0 && self.cycles.is_multiple_of(self.cfg.sweep_every));
        let known: HashSet<&str> = rows.iter().map(|r| r.client_order_id.as_str()).collect();
        for ex in &open {
            if !known.contains(ex.client_order_id.as_str()) {
                ledger.upsert_from_exchange(self.lease(), &full_of(ex))?;
                changed = true;
            }
        }
        let mut extra = Vec::new();
        let mut in_flight: Option<&str> = None;
        for row in &rows {
            if let Some(ex) = open
                .iter()
                .find(|o| o.client_order_id == row.client_order_id)
            {
                if differs(row, ex) {
                    changed = true;
                    ledger.mark_sent(self.lease(), &row.client_order_id, &state_of(ex))?;
                }
                continue;
            }
            // Not open on the exchange: filled, canceled, or never arrived.
            changed = true;
            let found = self.refresh(ledger, &b.symbol, &row.client_order_id)?;
            let missing =
                arrival::resolve_missing(found.as_ref(), row.status.is_unconfirmed(), || {
                    self.may_still_arrive(row)
                })?;
            let cid = &row.client_order_id;
            match missing {
                Missing::Found { still_open } => {
                    if let Some(ex) = found.filter(|_| still_open) {
                        extra.push(ex);
                    }
                    log::info!("Order resolved basket={} role={} cid={cid}", b.id, row.role);
                }
                Missing::InFlight => in_flight = Some(cid),
                Missing::NeverArrived => {
                    ledger.mark_rejected(
                        self.lease(),
                        cid,
                        "not found on the exchange: the create never arrived",
                    )?;
                    log::warn!(
                        "Order never arrived basket={} role={} cid={cid}",
                        b.id,
                        row.role
                    );
                }
                Missing::Vanished => log::warn!(
                    "Order unknown to the exchange basket={} role={} cid={cid}",
                    b.id,
                    row.role
                ),
            }
        }
        if let Some(cid) = in_flight {
            log::info!(
                "Basket waits: a create of unknown outcome may still arrive basket={} cid={cid}",
                b.id
            );
            return Ok(out);
        }
        open.extend(extra);
        if changed {
            if let Some(n) = self.sync_trades(ledger, &b, prices)? {
                out.new_fills = n;
                self.synced.insert(b.id);
                self.dirty.remove(&b.id);
            }
        }
        let b = if out.new_fills > 0 || b.last_trade_id.is_none() {
            ledger.basket(b.id)?
        } else {
            b
        };
        // A missing or unusable price is a transient input problem: the
        // cycle is skipped (one event), the basket keeps its status.
        let Some(last) = prices
            .get(&b.symbol)
            .copied()
            .filter(|p| *p > Decimal::ZERO)
        else {
            let why = match prices.get(&b.symbol) {
                Some(p) => format!("the exchange gave {} a last price of {p}", b.symbol),
                None => format!("the exchange gave no last price for {}", b.symbol),
            };
            self.skip_cycle(ledger, b.id, &why, None)?;
            return Ok(out);
        };
        let (config, rules) = match (b.config(), b.rules()) {
            (Ok(c), Ok(r)) => (c, r),
            (Err(e), _) | (_, Err(e)) => {
                out.acted = self.put_in_error(ledger, &b, &open, &e.to_string(), None)?;
                return Ok(out);
            }
        };
        let input = plan_input(
            ledger,
            self.clock.now_ms(),
            &b,
            &config,
            &rules,
            &open,
            last,
        )?;
        self.plans += 1;
        let plan = match grid_core::plan_banded(&input) {
            Ok((p, band)) => {
                out.band = Some(band);
                p
            }
            Err(e @ PlanError::Input { .. }) => {
                // What the exchange said does not fit (a field out of range):
                // not the strategy's fault, and maybe gone next cycle.
                self.skip_cycle(ledger, b.id, &e.to_string(), Some(&input))?;
                return Ok(out);
            }
            Err(e) => {
                out.acted = self.put_in_error(ledger, &b, &open, &e.to_string(), Some(&input))?;
                return Ok(out);
            }
        };
        if let Some(st) = self.refresh.status(&b.symbol) {
            if !st.allows_new_orders() {
                // HALT, BREAK, END_OF_DAY …: nothing is sent; the exits stay
                // on the book as they are.
                let why = format!("{}: {}", b.symbol, st.explain());
                self.skip_cycle(ledger, b.id, &why, None)?;
                return Ok(out);
            }
        }
        self.skipped.remove(&b.id);
        if view::needs_complete_view(&plan, b.status) && self.fills_behind(ledger, &b, &input)? {
            return Ok(out);
        }
        self.behind.remove(&b.id);
        let done = self.execute(ledger, &b, &rules, &plan, &open)?;
        if done.executed {
            // An order traded in a create or cancel response: its trades are
            // recorded now (and next cycle if this fails).
            self.dirty.insert(b.id);
            if let Some(n) = self.sync_trades(ledger, &b, prices)? {
                out.new_fills += n;
                self.dirty.remove(&b.id);
            }
        }
        let status_after = self.write_outcome(
            ledger,
            &b,
            &config,
            &rules,
            &plan,
            last,
            done.stale.as_deref(),
        )?;
        out.settled = plan.actions.is_empty() && !done.executed && status_after == b.status;
        if done.sent > 0 || status_after != b.status {
            out.acted = true;
            let data = json!({
                "actions": plan.actions,
                "results": done.results,
                "status_after": status_after,
            });
            let msg = format!(
                "Cycle acted: {} cancel, {} replace, {} create",
                plan.actions.to_cancel.len(),
                plan.actions.to_replace.len(),
                plan.actions.to_create.len()
            );
            // The input goes in compactly (fills as arrays), still a
            // PlanInput that `bot-daemon plan --input` replays exactly.
            ledger.insert_cycle_event(
                &NewEvent::new(Some(b.id), EventLevel::Info, "cycle", msg.as_str())
                    .with_data(Some(data)),
                &input,
            )?;
        }
        Ok(out)
    }

    /// Whether an order of the basket reports more executed than its
    /// recorded fills ([`view::fills_behind`]): then nothing is created,
    /// replaced or ended; the basket syncs and plans again (one
    /// `fills_behind` event per distinct gap).
    fn fills_behind(
        &mut self,
        ledger: &mut impl Ledger,
        b: &BasketRow,
        input: &PlanInput,
    ) -> Result<bool, DaemonError> {
        let executed = ledger.executed_of(b.id)?;
        let Some(gap) = view::fills_behind(&executed, &input.fills) else {
            return Ok(false);
        };
        self.synced.remove(&b.id);
        let (cid, executed, recorded) = (&gap.client_order_id, gap.executed, gap.recorded);
        let msg = format!(
            "Waiting for the trades of {cid}: the exchange reports {executed} executed, {recorded} recorded"
        );
        if self.behind.get(&b.id) != Some(&msg) {
            log::warn!(
                "Basket waits: an order executed more than its recorded trades basket={} cid={cid} executed={executed} recorded={recorded}",
                b.id
            );
            ledger.insert_event(
                &NewEvent::new(Some(b.id), EventLevel::Warn, "fills_behind", msg.as_str())
                    .with_data(Some(
                        json!({"client_order_id": cid, "executed": executed, "recorded": recorded}),
                    )),
            )?;
            self.behind.insert(b.id, msg);
        }
        Ok(true)
    }

    /// Writes what the plan decided about the basket ([`view::status_outcome`]):
    /// its status, meta and order counter, and a successor when it
    /// reanchors — or nothing when an order traded behind the plan's back.
    /// Returns the basket's status after.
    #[allow(clippy::too_many_arguments)]
    fn write_outcome(
        &mut self,
        ledger: &mut impl Ledger,
        b: &BasketRow,
        config: &grid_core::GridConfig,
        rules: &SymbolRules,
        plan: &Plan,
        last: Decimal,
        stale: Option<&str>,
    ) -> Result<grid_core::BasketStatus, DaemonError> {
        let (status, reanchor) = match view::status_outcome(plan, b.status, stale) {
            StatusOutcome::Stale {
                client_order_id,
                ended,
            } => {
                // Its fills, position and budget are stale: the basket syncs
                // and plans again next cycle.
                self.synced.remove(&b.id);
                if ended {
                    log::warn!(
                        "Status not changed: {client_order_id} traded after the snapshot basket={} wanted={}",
                        b.id,
                        plan.meta.status_after
                    );
                    ledger.insert_event(&NewEvent::new(
                        Some(b.id),
                        EventLevel::Warn,
                        "view_incomplete",
                        format!(
                            "Not {}: {client_order_id} traded after the cycle's snapshot; the basket syncs and plans again",
                            plan.meta.status_after
                        ),
                    ))?;
                }
                return Ok(b.status);
            }
            StatusOutcome::Write { status, reanchor } => (status, reanchor),
        };
        let meta = serde_json::to_value(&plan.meta).unwrap_or(Value::Null);
        let seq_after = i64::try_from(plan.meta.order_seq_after).unwrap_or(i64::MAX);
        if status == b.status && meta == b.state && seq_after <= b.order_seq {
            return Ok(status);
        }
        let update = PlanUpdate {
            status,
            closed_reason: plan.meta.closed_reason.clone(),
            state: meta,
            order_seq: seq_after,
        };
        let anchor = rules.round_price_down(plan.meta.reanchor.new_anchor.unwrap_or(last));
        let successor = reanchor.then_some(Successor {
            config,
            rules,
            anchor,
        });
        let reanchored = ledger.update_after_plan(self.lease(), b.id, &update, successor)?;
        if status != b.status {
            log::info!(
                "Status changed basket={} from={} to={} reason={}",
                b.id,
                b.status,
                status,
                plan.meta.closed_reason.as_deref().unwrap_or("-")
            );
        }
        match reanchored {
            Some(Ok(nb)) => {
                log::info!("Reanchored basket={} new_basket={nb} anchor={anchor}", b.id)
            }
            Some(Err(e)) => log::error!("Reanchor failed basket={}: {e}", b.id),
            None => {}
        }
        Ok(status)
    }

    /// Whether a create the exchange does not know may still reach it
    /// ([`arrival::may_still_arrive`], on the exchange's clock).
    fn may_still_arrive(&self, row: &OrderRow) -> Result<bool, DaemonError> {
        let exchange_now_ms = match row.request_ts_ms {
            Some(_) => self.exchange.exchange_now_ms()?,
            None => 0,
        };
        Ok(arrival::may_still_arrive(
            Sent {
                request_ts_ms: row.request_ts_ms,
                written_at_ms: row.created_at.timestamp_millis(),
            },
            Clocks {
                exchange_now_ms,
                now_ms: self.clock.now_ms(),
            },
            self.cfg.arrival_window_ms,
        ))
    }

    /// A transient input problem (no usable price, an exchange answer out of
    /// range): the basket's cycle is skipped and nothing about it changes.
    /// One `cycle_skipped` event per distinct reason.
    fn skip_cycle(
        &mut self,
        ledger: &mut impl Ledger,
        id: i64,
        why: &str,
        input: Option<&PlanInput>,
    ) -> Result<(), DaemonError> {
        if self.skipped.get(&id).map(String::as_str) == Some(why) {
            return Ok(());
        }
        log::warn!("Cycle skipped, input unusable basket={id}: {why}");
        let data = input
            .and_then(|i| serde_json::to_value(i).ok())
            .map(|i| json!({"input": i}));
        ledger.insert_event(
            &NewEvent::new(
                Some(id),
                EventLevel::Warn,
                "cycle_skipped",
                format!("Cycle skipped: {why}"),
            )
            .with_data(data),
        )?;
        self.skipped.insert(id, why.to_string());
        Ok(())
    }

    /// Fails with [`store::Error::LeaseLost`] unless this worker still holds
    /// the basket: asked immediately before every cancel (a create's row is
    /// written under the same check right before its request leaves).
    pub(super) fn check_lease(&self, ledger: &mut impl Ledger, id: i64) -> Result<(), DaemonError> {
        if ledger.holds(&self.cfg.worker_id, id)? {
            Ok(())
        } else {
            Err(store::Error::LeaseLost {
                basket_id: id,
                worker_id: self.cfg.worker_id.clone(),
            }
            .into())
        }
    }

    /// The basket cannot be planned (an invalid config or rules, a history
    /// the strategy refuses): it goes to `error` (once, with the reason), its
    /// open buys are canceled and its sells are left exactly as they are, so
    /// a position keeps its exits (docs/strategy.md §8). Returns whether
    /// anything was written or sent.
    fn put_in_error(
        &mut self,
        ledger: &mut impl Ledger,
        b: &BasketRow,
        open: &[ExchangeOrder],
        err: &str,
        input: Option<&PlanInput>,
    ) -> Result<bool, DaemonError> {
        let mut acted = false;
        for o in open.iter().filter(|o| o.side == Side::Buy) {
            self.check_lease(ledger, b.id)?;
            let cid = &o.client_order_id;
            match self
                .exchange
                .cancel_order(&b.symbol, OrderRef::Client(cid.clone()))
            {
                Ok(ex) => {
                    if ex.executed_qty > o.executed_qty {
                        self.dirty.insert(b.id);
                    }
                    ledger.upsert_from_exchange(self.lease(), &full_of(&ex))?;
                    log::info!(
                        "Canceled, basket in error basket={} role={} cid={cid}",
                        b.id,
                        role_of(cid)
                    );
                }
                Err(e) if e.is_unknown_order() => {
                    self.refresh(ledger, &b.symbol, cid)?;
                    self.dirty.insert(b.id);
                }
                Err(e) => return Err(e.into()),
            }
            acted = true;
        }
        if b.status == grid_core::BasketStatus::Error {
            return Ok(acted);
        }
        log::error!("Strategy error, basket put in error basket={}: {err}", b.id);
        ledger.set_status(
            self.lease(),
            b.id,
            grid_core::BasketStatus::Error,
            Some("strategy_error"),
        )?;
        let data = input
            .and_then(|i| serde_json::to_value(i).ok())
            .map(|i| json!({"input": i}));
        ledger.insert_event(
            &NewEvent::new(Some(b.id), EventLevel::Error, "strategy_error", err).with_data(data),
        )?;
        Ok(true)
    }

    /// Drives the plan's [`Execution`]: each cancel (lease checked first),
    /// then each create (backoff, balance, row, send).
    fn execute(
        &mut self,
        ledger: &mut impl Ledger,
        b: &BasketRow,
        rules: &SymbolRules,
        plan: &Plan,
        seen: &[ExchangeOrder],
    ) -> Result<Executed, DaemonError> {
        let mut exec = Execution::new(plan, rules, seen);
        while let Some(step) = exec.next_cancel() {
            self.check_lease(ledger, b.id)?;
            self.cancel(ledger, b, &mut exec, &step)?;
        }
        let creates = exec.creates();
        if let Some(cid) = exec.stale() {
            if !plan.actions.to_create.is_empty() || !plan.actions.to_replace.is_empty() {
                log::info!(
                    "Creates deferred to the next cycle: {cid} traded after the snapshot basket={}",
                    b.id
                );
            }
        }
        if creates.is_empty() {
            return Ok(exec.finish());
        }
        let account = self.exchange.account()?;
        let mut free = executor::execution::Balances {
            quote: account.free(&b.quote_asset),
            base: account.free(&b.base_asset),
        };
        let now_ms = self.clock.now_ms();
        for p in &creates {
            let result = self.create(ledger, b, p, &mut free, now_ms)?;
            exec.on_create(p, &result);
        }
        Ok(exec.finish())
    }

    fn cancel(
        &mut self,
        ledger: &mut impl Ledger,
        b: &BasketRow,
        exec: &mut Execution<'_>,
        step: &CancelStep,
    ) -> Result<(), DaemonError> {
        let cid = &step.client_order_id;
        let role = role_of(cid);
        let replace = step.replace_with.is_some();
        match self
            .exchange
            .cancel_order(&b.symbol, OrderRef::Client(cid.clone()))
        {
            Ok(ex) => {
                ledger.upsert_from_exchange(self.lease(), &full_of(&ex))?;
                let d = exec.on_cancel(step, CancelAnswer::Canceled(&ex));
                match (replace, d.replacement_qty) {
                    (false, _) => log::info!(
                        "Canceled basket={} role={role} cid={cid} executed={}",
                        b.id,
                        d.executed
                    ),
                    (true, Some(qty)) => log::info!(
                        "Canceled for replace basket={} role={role} cid={cid} qty={qty}",
                        b.id
                    ),
                    (true, None) => log::info!(
                        "Canceled, remainder not tradable, nothing created basket={} role={role} cid={cid}",
                        b.id
                    ),
                }
            }
            Err(e) => match failure::cancel_failure(&e, replace) {
                CancelFailure::Gone => {
                    let now = self.refresh(ledger, &b.symbol, cid)?;
                    let d = exec.on_cancel(step, CancelAnswer::Gone(now.as_ref()));
                    log::info!(
                        "Cancel found the order gone basket={} role={role} cid={cid} executed={}",
                        b.id,
                        d.executed
                    );
                }
                CancelFailure::Unknown => {
                    exec.on_cancel(step, CancelAnswer::Unknown);
                    log::warn!("Replace: cancel outcome unknown, nothing created basket={} role={role} cid={cid}: {e}", b.id);
                }
                CancelFailure::Stop { market_closed } => {
                    if market_closed {
                        // The symbol stopped trading: read its status now.
                        self.refresh.on_rejected(&b.symbol);
                    }
                    return Err(e.into());
                }
            },
        }
        Ok(())
    }

    /// One create: its role's backoff, the free balance, its `PENDING_NEW`
    /// row (under the lease, with the request's timestamp), the request, and
    /// the row updated with the answer.
    fn create(
        &mut self,
        ledger: &mut impl Ledger,
        b: &BasketRow,
        p: &grid_core::PlannedOrder,
        free: &mut executor::execution::Balances,
        now_ms: i64,
    ) -> Result<CreateResult, DaemonError> {
        let role = p.role.to_string();
        let cid = p.client_order_id.clone();
        if !self.rejections.may_send(b.id, p.role, now_ms) {
            // Rejected before: retried when its wait is over.
            return Ok(CreateResult::Backoff);
        }
        // Explicit on every order; a configured mode the symbol does not
        // allow places nothing (the cycle fails with the reason, once).
        let stp = match self.stp_modes.get(&b.symbol) {
            Some(modes) => modes.choose(&b.symbol, self.stp_setting)?,
            None => self.stp_setting,
        };
        if let Err(short) = free.reserve(p) {
            log::warn!(
                "Create skipped, free balance too low basket={} role={role} cid={cid} need={} free={}",
                b.id,
                short.need,
                short.free
            );
            ledger.insert_event(&NewEvent::new(
                Some(b.id),
                EventLevel::Warn,
                "insufficient_balance",
                format!(
                    "Create of {cid} skipped: needs {}, free {}",
                    short.need, short.free
                ),
            ))?;
            return Ok(CreateResult::Insufficient(short));
        }
        let pending = store::orders::NewOrderRow {
            basket_id: b.id,
            client_order_id: cid.clone(),
            side: p.side,
            order_type: p.order_type,
            price: p.price,
            quantity: p.qty,
            stop_price: p.stop_price,
            trailing_delta: p.trailing_delta,
            time_in_force: Some(p.time_in_force),
        };
        // Any wait for the weight budget happens here, before the row is
        // written: the row records the timestamp the request carries, and
        // the request leaves right after the row is committed (under the
        // lease, checked in the same commit).
        let timestamp = match self.exchange.order_timestamp() {
            Ok(t) => t,
            Err(e) => {
                free.release(p);
                return Err(e.into());
            }
        };
        match ledger.insert_pending_at(self.lease(), &pending, Some(timestamp)) {
            Ok(()) => {}
            Err(store::Error::Conflict { .. }) => {
                free.release(p);
                log::warn!(
                    "Create skipped, id already written basket={} role={role} cid={cid}",
                    b.id
                );
                return Ok(CreateResult::AlreadyWritten);
            }
            Err(e) => return Err(e.into()),
        }
        let req = NewOrder {
            symbol: b.symbol.clone(),
            side: p.side,
            order_type: p.order_type,
            quantity: Some(p.qty),
            quote_order_qty: None,
            price: Some(p.price),
            time_in_force: Some(p.time_in_force),
            stop_price: p.stop_price,
            trailing_delta: p.trailing_delta,
            new_client_order_id: Some(cid.clone()),
            resp_type: None,
            timestamp_ms: Some(timestamp),
            self_trade_prevention: stp,
        };
        match self.exchange.place_order(&req) {
            Ok(ex) => {
                ledger.mark_sent(self.lease(), &cid, &state_of(&ex))?;
                if let Some(streak) = self.rejections.on_success(b.id, p.role) {
                    log::info!(
                        "Create accepted again after {} rejections basket={} role={role} cid={cid}",
                        streak.attempts,
                        b.id
                    );
                }
                log::info!(
                    "Placed basket={} role={role} cid={cid} side={} price={} qty={}",
                    b.id,
                    p.side,
                    p.price,
                    p.qty
                );
                Ok(CreateResult::Placed {
                    executed: ex.executed_qty > Decimal::ZERO,
                })
            }
            Err(e) => match failure::create_failure(&e) {
                CreateFailure::NotPlaced {
                    refused,
                    rate_limited,
                } => {
                    free.release(p);
                    ledger.mark_rejected(self.lease(), &cid, &e.to_string())?;
                    if rate_limited {
                        log::warn!("Create rejected basket={} role={role} cid={cid}: {e}", b.id);
                        return Err(e.into());
                    }
                    if refused {
                        self.create_rejected(ledger, b, p.role, &cid, &e, now_ms)?;
                    } else {
                        log::warn!("Create not sent basket={} role={role} cid={cid}: {e}", b.id);
                    }
                    Ok(CreateResult::Rejected(e.to_string()))
                }
                CreateFailure::Unknown => {
                    ledger.mark_unknown(self.lease(), &cid, &e.to_string())?;
                    log::warn!("Create outcome unknown, will look it up next cycle basket={} role={role} cid={cid}: {e}", b.id);
                    Ok(CreateResult::Unknown(e.to_string()))
                }
            },
        }
    }

    /// The exchange rejected a create: the role waits (exponentially longer
    /// while it keeps being rejected; an event when a streak starts, one more
    /// at its third attempt ([`crate::backoff::REPORTED_AGAIN_AT`]) and one
    /// per distinct error), and a filter failure or a closed market makes the symbol's
    /// rules be read again soon.
    fn create_rejected(
        &mut self,
        ledger: &mut impl Ledger,
        b: &BasketRow,
        role: grid_core::Role,
        cid: &str,
        e: &binance_rest::Error,
        now_ms: i64,
    ) -> Result<(), DaemonError> {
        if e.is_filter_failure() || e.is_market_closed() {
            self.refresh.on_rejected(&b.symbol);
        }
        let r = self
            .rejections
            .on_rejected(b.id, role, &e.to_string(), now_ms);
        if !r.write_event {
            log::debug!(
                "Create rejected again basket={} role={role} cid={cid} attempts={}: {e}",
                b.id,
                r.attempts
            );
            return Ok(());
        }
        log::warn!(
            "Create rejected basket={} role={role} cid={cid} retry_in_ms={}: {e}",
            b.id,
            r.delay_ms
        );
        ledger.insert_event(
            &NewEvent::new(
                Some(b.id),
                EventLevel::Warn,
                "create_rejected",
                format!("{role} rejected by the exchange ({e}); retried with a growing wait"),
            )
            .with_data(Some(json!({
                "role": role.to_string(),
                "client_order_id": cid,
                "attempts": r.attempts,
                "retry_at_ms": r.retry_at_ms,
            }))),
        )?;
        Ok(())
    }

    /// Reads `symbol`'s status and rules again when due (every 24 h, at the
    /// worker's first cycle, soon after a filter failure; at most once a
    /// minute). A status change is an event on each basket of the symbol;
    /// rules that changed are stored on each basket (its next plan replaces
    /// the orders off the new grid) with a `rules_changed` event. A failed
    /// read keeps the stored rules and is tried again later.
    pub(super) fn refresh_symbol(
        &mut self,
        ledger: &mut impl Ledger,
        symbol: &str,
        baskets: &mut [BasketRow],
    ) -> Result<(), DaemonError> {
        let now_ms = self.clock.now_ms();
        let Some(why) = self.refresh.due(symbol, now_ms) else {
            return Ok(());
        };
        self.refresh.on_attempt(symbol, now_ms);
        let state = match self.exchange.symbol_state(symbol) {
            Ok(st) => st,
            Err(e) if e.retry_after().is_some() => return Err(e.into()),
            Err(e) => {
                log::warn!(
                    "Symbol rules not read symbol={symbol} reason={}: {e}",
                    why.as_str()
                );
                return Ok(());
            }
        };
        let change = self.refresh.on_read(symbol, now_ms, &state.status);
        self.stp_modes.insert(symbol.to_string(), state.stp.clone());
        for b in baskets.iter_mut().filter(|b| b.symbol == symbol) {
            if let Some(ch) = &change {
                log::warn!(
                    "Symbol status basket={} symbol={symbol} status={}",
                    b.id,
                    ch.to.as_str()
                );
                ledger.insert_event(
                    &NewEvent::new(
                        Some(b.id),
                        EventLevel::Warn,
                        "symbol_status",
                        format!("{symbol}: {}", ch.to.explain()),
                    )
                    .with_data(serde_json::to_value(ch).ok()),
                )?;
            }
            let Ok(old) = b.rules() else {
                continue;
            };
            let changes = state.rules.changes_from(&old);
            if changes.is_empty() {
                continue;
            }
            *b = ledger.update_rules(self.lease(), b.id, &state.rules)?;
            self.rejections.clear_basket(b.id);
            log::warn!(
                "Symbol rules changed basket={} symbol={symbol} reason={}",
                b.id,
                why.as_str()
            );
            ledger.insert_event(
                &NewEvent::new(
                    Some(b.id),
                    EventLevel::Warn,
                    "rules_changed",
                    format!(
                        "{symbol}'s rules changed on the exchange; orders off the new rules are replaced"
                    ),
                )
                .with_data(Some(json!({"changes": changes, "reason": why.as_str()}))),
            )?;
        }
        Ok(())
    }
}

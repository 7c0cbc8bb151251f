//! One worker's cycle (design.md "The daemon's cycle"): heartbeat, leases,
//! commands, open orders of every symbol in one call, resolution of orders
//! whose outcome is unknown, trade sync when something changed, one ticker
//! call, then per held basket: plan, execute (cancels, then creates), persist.
//!
//! Invariants:
//! - only baskets leased by this worker are acted on, and every basket write
//!   is a leased write (`Writer::Lease`), so a lost lease stops the basket;
//!   the lease is checked again immediately before every cancel, and a
//!   create's row is written under it right before the request leaves;
//! - a create is sent only after its `PENDING_NEW` row is committed; it is
//!   never re-sent: an unknown outcome leaves the row `UNKNOWN` and the next
//!   cycle looks that clientOrderId up before planning;
//! - any wait for the weight budget happens before a create's row is written;
//!   the row records the `timestamp` the request carries, and a create the
//!   exchange does not know is given up ("never arrived") only once the
//!   exchange's clock is past that timestamp plus the recvWindow (and a
//!   margin): after that the exchange refuses it, so its role is never
//!   doubled; an order found on the exchange under a given-up id is adopted;
//! - trades are synced only once every order of the basket has a known
//!   exchange id, so no trade can be skipped as "not ours";
//! - a replacement's quantity is `qty − executedQty` of the cancel response;
//!   an unknown cancel creates nothing for that role this cycle;
//! - nothing is created on fills that are behind the exchange: not when an
//!   order the plan saw open traded after the snapshot (its cancel answers
//!   more executed than the snapshot showed, or "unknown order"), nor when
//!   any order of the basket reports more executed than its recorded
//!   trades; the basket syncs and replans next cycle;
//! - no create is sent that the free balance cannot pay for;
//! - a terminal status or a reanchor is written only on a cycle whose view is
//!   complete: no order reports more executed than its recorded fills, and no
//!   cancel answer shows a trade after the snapshot; else the basket syncs
//!   and plans again;
//! - a missing or unusable price or exchange field skips the basket's cycle
//!   (one `cycle_skipped` event); only a config, rules or history the
//!   strategy refuses puts it in `error`, where its buys are canceled and its
//!   sells are kept (`resume` validates again; `close` works on it).

use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use binance_rest::{Exchange, ExchangeOrder, NewOrder, OrderRef};
use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use grid_core::{
    basket_prefix, BasketInput, BasketStatus, ClientOrderId, Plan, PlanError, PlanInput,
    PlannedOrder, Side, SymbolRules,
};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use store::baskets::{BasketRow, PlanUpdate};
use store::commands::{ClosePayload, CommandRow, CreateBasketPayload, NewCommand, Payload};
use store::events::NewEvent;
use store::orders::{ExchangeState, OrderRow};
use store::{EventLevel, OrderStatus, Writer};

use crate::backoff::{BackoffPolicy, CreateBackoff, RefreshPolicy, RulesRefresh};
use crate::error::DaemonError;

/// How the worker is set up.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub worker_id: String,
    /// Lease length; a few cycles long.
    pub lease_ms: i64,
    /// Most baskets held; `None`: a fair share of the live workers.
    pub max_baskets: Option<i64>,
    /// Trades are re-synced every this many cycles even when nothing changed.
    pub sweep_every: u64,
    pub snapshot_interval: Duration,
    /// How long (ms after its row was written) a create whose outcome is
    /// unknown may still reach the exchange: the client's `recvWindow` plus
    /// a margin for the clocks of the database, this host and the exchange.
    /// While the exchange does not know such an order and this window lasts,
    /// its basket waits (no plan, no trade sync): marking it "never arrived"
    /// and placing the role again would make two live orders of one role
    /// when the first lands late. See [`arrival_window_ms`].
    pub arrival_window_ms: i64,
    pub mode: String,
    pub base_url: String,
    /// What the retention pass keeps (events, plan inputs, snapshots) and
    /// how often it runs; see [`store::retention`].
    pub retention: store::retention::Policy,
}

/// [`WorkerConfig::arrival_window_ms`] for a client `recvWindow`: two
/// seconds more.
pub fn arrival_window_ms(recv_window_ms: u64) -> i64 {
    i64::try_from(recv_window_ms)
        .unwrap_or(60_000)
        .saturating_add(2_000)
}

/// What one cycle did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CycleReport {
    pub held: Vec<i64>,
    /// Baskets whose cycle sent a request that changes state or changed their status.
    pub acted: Vec<i64>,
    /// Baskets whose cycle was skipped by an error.
    pub skipped: Vec<i64>,
    pub commands: usize,
    pub new_fills: usize,
}

/// The worker: its exchange, its id, and what it remembers between cycles.
pub struct Worker<E: Exchange> {
    pub exchange: E,
    pub cfg: WorkerConfig,
    started_at: DateTime<Utc>,
    cycles: u64,
    synced: HashSet<i64>,
    /// Baskets whose trades must be synced at the next occasion (an order
    /// executed in a create or cancel response).
    dirty: HashSet<i64>,
    /// The last error that skipped each basket (its event is written once).
    basket_errors: HashMap<i64, String>,
    /// Baskets waiting for trades the exchange reports but myTrades does not
    /// show yet, with the reason (its event is written once).
    behind: HashMap<i64, String>,
    /// The last transient input problem that skipped each basket's cycle
    /// (its event is written once).
    skipped: HashMap<i64, String>,
    /// When each symbol's status and rules are read again from the exchange.
    refresh: RulesRefresh,
    /// Creates the exchange rejected, per basket and role: retried with an
    /// exponential wait, one event per streak.
    rejections: CreateBackoff,
    last_snapshot: Option<Instant>,
    last_cycle_ms: Option<i64>,
    last_error: Option<String>,
    stop: Arc<AtomicBool>,
}

fn store_status(s: binance_rest::OrderStatus) -> OrderStatus {
    match s {
        // The exchange has it: for the bot it is confirmed.
        binance_rest::OrderStatus::PendingNew => OrderStatus::New,
        other => OrderStatus::from_str(other.as_str()).unwrap_or(OrderStatus::New),
    }
}

fn state_of(ex: &ExchangeOrder) -> ExchangeState {
    ExchangeState {
        exchange_order_id: ex.order_id,
        status: store_status(ex.status),
        executed_qty: ex.executed_qty,
        cummulative_quote_qty: ex.cummulative_quote_qty,
    }
}

fn full_of(ex: &ExchangeOrder) -> store::orders::ExchangeOrder {
    store::orders::ExchangeOrder {
        client_order_id: ex.client_order_id.clone(),
        side: ex.side,
        order_type: ex.order_type,
        price: ex.price,
        orig_qty: ex.orig_qty,
        stop_price: ex.stop_price,
        trailing_delta: ex.trailing_delta,
        time_in_force: ex.time_in_force,
        state: state_of(ex),
    }
}

fn role_of(cid: &str) -> String {
    ClientOrderId::parse(cid)
        .map(|c| c.role.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// A create that definitely did not happen (the request had no effect).
fn definitely_not_placed(e: &binance_rest::Error) -> bool {
    use binance_rest::Error as E;
    match e {
        E::Api { code, .. } => !matches!(*code, -1000 | -1001 | -1006 | -1007),
        E::RateLimited { .. }
        | E::Banned { .. }
        | E::InvalidRequest(_)
        | E::MissingCredentials
        | E::Transport(_)
        | E::Timeout => true,
        E::UnknownOutcome { .. } | E::Decode(_) | E::Http { .. } => false,
    }
}

impl<E: Exchange> Worker<E> {
    pub fn new(exchange: E, cfg: WorkerConfig) -> Self {
        Worker {
            exchange,
            cfg,
            started_at: Utc::now(),
            cycles: 0,
            synced: HashSet::new(),
            dirty: HashSet::new(),
            basket_errors: HashMap::new(),
            behind: HashMap::new(),
            skipped: HashMap::new(),
            refresh: RulesRefresh::new(RefreshPolicy::default()),
            rejections: CreateBackoff::new(BackoffPolicy::default()),
            last_snapshot: None,
            last_cycle_ms: None,
            last_error: None,
            stop: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The same worker with other timings for reading symbol rules again and
    /// for retrying rejected creates (tests shorten them).
    pub fn with_policies(mut self, refresh: RefreshPolicy, backoff: BackoffPolicy) -> Self {
        self.refresh = RulesRefresh::new(refresh);
        self.rejections = CreateBackoff::new(backoff);
        self
    }

    /// A flag that, once set, makes the cycle stop between two baskets.
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    fn lease(&self) -> Writer<'_> {
        Writer::Lease(&self.cfg.worker_id)
    }

    /// Runs one cycle.
    ///
    /// # Errors
    /// A database error (the caller waits and retries), or an exchange error
    /// of the calls shared by every basket (open orders, prices): the whole
    /// cycle is skipped. Per-basket errors are logged and skip that basket only.
    pub fn cycle(&mut self, conn: &mut PgConnection) -> Result<CycleReport, DaemonError> {
        let t0 = Instant::now();
        let res = self.cycle_inner(conn);
        self.cycles += 1;
        self.last_cycle_ms = Some(i64::try_from(t0.elapsed().as_millis()).unwrap_or(i64::MAX));
        self.last_error = res.as_ref().err().map(|e| e.to_string());
        res
    }

    fn cycle_inner(&mut self, conn: &mut PgConnection) -> Result<CycleReport, DaemonError> {
        let mut report = CycleReport::default();
        let now = Utc::now();
        store::misc::heartbeat(
            conn,
            &store::misc::Heartbeat {
                instance_id: self.cfg.worker_id.clone(),
                mode: self.cfg.mode.clone(),
                base_url: self.cfg.base_url.clone(),
                pid: i32::try_from(std::process::id()).unwrap_or(i32::MAX),
                started_at: self.started_at,
                last_cycle_at: self.last_cycle_ms.map(|_| now),
                last_cycle_ms: self.last_cycle_ms,
                last_error: self.last_error.clone(),
                last_error_at: self.last_error.as_ref().map(|_| now),
                weight_used: None,
            },
        )?;
        let max = match self.cfg.max_baskets {
            Some(m) => m,
            None => store::leases::fair_share(conn, self.cfg.lease_ms)?,
        };
        let mut held =
            store::leases::acquire_leases(conn, &self.cfg.worker_id, self.cfg.lease_ms, max)?;
        // Above the fair share (a worker joined): give the surplus back so the
        // newcomer can take it; this worker does not touch those baskets again.
        let keep = usize::try_from(max.max(1)).unwrap_or(usize::MAX);
        if held.len() > keep {
            let surplus = held.split_off(keep);
            store::leases::release_baskets(conn, &self.cfg.worker_id, &surplus)?;
            for id in &surplus {
                self.synced.remove(id);
                log::info!("Lease released to rebalance basket={id}");
            }
        }
        report.held = held.clone();
        report.commands = self.run_commands(conn, &held)?;
        if held.is_empty() {
            return Ok(report);
        }
        let mut baskets: Vec<BasketRow> = Vec::with_capacity(held.len());
        for id in &held {
            baskets.push(store::baskets::get(conn, *id)?);
        }
        let open = self.exchange.open_orders(None)?;
        let mut symbols: Vec<String> = baskets.iter().map(|b| b.symbol.clone()).collect();
        symbols.sort();
        symbols.dedup();
        let prices = self.exchange.ticker_prices(&symbols)?;
        let mut price_rows: Vec<(String, Decimal)> =
            prices.iter().map(|(s, p)| (s.clone(), *p)).collect();
        price_rows.sort();
        store::misc::upsert_prices(conn, &price_rows)?;
        for symbol in &symbols {
            self.refresh_symbol(conn, symbol, &mut baskets)?;
        }
        for b in baskets {
            if self.stop.load(Ordering::SeqCst) {
                break;
            }
            let id = b.id;
            match self.basket_cycle(conn, b, &open, &prices) {
                Ok(out) => {
                    self.basket_errors.remove(&id);
                    report.new_fills += out.new_fills;
                    if out.acted {
                        report.acted.push(id);
                    }
                }
                Err(e) => {
                    // Whatever this cycle wrote before failing (an order seen
                    // FILLED, say) is no longer a visible change next cycle:
                    // the next one syncs trades regardless, or a fill could be
                    // missed and its level bought again.
                    self.synced.remove(&id);
                    report.skipped.push(id);
                    if let DaemonError::Store(store::Error::LeaseLost { .. }) = e {
                        log::warn!("Lease lost, basket skipped basket={id}: {e}");
                        continue;
                    }
                    log::warn!("Basket cycle skipped basket={id}: {e}");
                    if e.is_retryable() && matches!(e, DaemonError::Store(_) | DaemonError::Db(_)) {
                        return Err(e);
                    }
                    // The audit log says why the basket was skipped (once per
                    // distinct error, not every cycle).
                    let msg = e.to_string();
                    if self.basket_errors.get(&id) != Some(&msg) {
                        let _ = store::events::insert(
                            conn,
                            &NewEvent::new(
                                Some(id),
                                EventLevel::Warn,
                                "cycle_error",
                                format!("Cycle skipped: {msg}"),
                            ),
                        );
                        self.basket_errors.insert(id, msg);
                    }
                    if let DaemonError::Exchange(x) = &e {
                        if x.retry_after().is_some() {
                            // 429/418: the client refuses every call until Retry-After.
                            break;
                        }
                    }
                }
            }
        }
        self.maybe_snapshot(conn, &symbols, &prices);
        store::retention::run_in_cycle(conn, &self.cfg.retention, &self.cfg.worker_id);
        Ok(report)
    }

    fn run_commands(
        &mut self,
        conn: &mut PgConnection,
        held: &[i64],
    ) -> Result<usize, DaemonError> {
        let worker = self.cfg.worker_id.clone();
        let cmds = store::commands::claim_for_worker(conn, &worker, held, self.cfg.lease_ms, 50)?;
        let n = cmds.len();
        for c in cmds {
            let outcome = self.run_command(conn, &c);
            let recorded = match &outcome {
                Ok(v) => store::commands::complete(conn, c.id, &worker, v),
                Err(e) => store::commands::fail(conn, c.id, &worker, e),
            };
            let basket = c
                .basket_id
                .map(|b| b.to_string())
                .unwrap_or_else(|| "-".into());
            match (recorded, &outcome) {
                (Ok(_), Ok(_)) => {
                    log::info!("Command done id={} kind={} basket={basket}", c.id, c.kind);
                }
                (Ok(_), Err(e)) => {
                    log::warn!(
                        "Command failed id={} kind={} basket={basket}: {e}",
                        c.id,
                        c.kind
                    );
                }
                // Connection lost: the cycle stops here (the caller retries);
                // the command stays `running` under this worker, which claims
                // it again next cycle (running it twice does its work once).
                (Err(e), _) if e.is_retryable() => {
                    log::error!(
                        "Command outcome not recorded id={} kind={} basket={basket} ok={}: {e}",
                        c.id,
                        c.kind,
                        outcome.is_ok()
                    );
                    return Err(e.into());
                }
                // No longer ours (reclaimed, or finished by someone else):
                // its row is left to its current claimant; go on with the rest.
                (Err(e), _) => {
                    log::warn!(
                        "Command outcome not recorded id={} kind={} basket={basket} ok={}: {e}",
                        c.id,
                        c.kind,
                        outcome.is_ok()
                    );
                }
            }
        }
        Ok(n)
    }

    fn run_command(&mut self, conn: &mut PgConnection, c: &CommandRow) -> Result<Value, String> {
        let payload = Payload::parse(c.kind, &c.payload).map_err(|e| e.to_string())?;
        let basket = |conn: &mut PgConnection| -> Result<BasketRow, String> {
            let id = c.basket_id.ok_or("this command needs a basket")?;
            store::baskets::get(conn, id).map_err(|e| e.to_string())
        };
        // A command writes under this worker's lease, or on a basket that no
        // worker needs to lease (those are the commands any worker claims).
        let set = |conn: &mut PgConnection, id: i64, s: BasketStatus| -> Result<Value, String> {
            let row =
                store::baskets::set_status(conn, Writer::Command(&self.cfg.worker_id), id, s, None)
                    .map_err(|e| e.to_string())?;
            store::events::insert(
                conn,
                &NewEvent::new(
                    Some(id),
                    EventLevel::Info,
                    "status",
                    format!("Status set to {s} by command {}", c.id),
                ),
            )
            .map_err(|e| e.to_string())?;
            log::info!("Status changed basket={id} status={s} command={}", c.id);
            Ok(json!({"basket_id": id, "status": row.status.as_str()}))
        };
        match payload {
            Payload::Pause(_) => {
                let b = basket(conn)?;
                match b.status {
                    BasketStatus::Active => set(conn, b.id, BasketStatus::Paused),
                    BasketStatus::Paused => Ok(json!({"basket_id": b.id, "status": "paused"})),
                    s => Err(format!(
                        "basket {} is {s}; only an active basket can be paused",
                        b.id
                    )),
                }
            }
            Payload::Resume(_) => {
                let b = basket(conn)?;
                match b.status {
                    BasketStatus::Paused => set(conn, b.id, BasketStatus::Active),
                    BasketStatus::Active => Ok(json!({"basket_id": b.id, "status": "active"})),
                    BasketStatus::Error => {
                        // Validated again: back to active only if it can be
                        // planned now; else it stays in error with the reason.
                        self.revalidate(conn, &b)?;
                        set(conn, b.id, BasketStatus::Active)
                    }
                    s => Err(format!(
                        "basket {} is {s}; only a paused basket or one in error can be resumed",
                        b.id
                    )),
                }
            }
            Payload::CloseBasket(_) => {
                let b = basket(conn)?;
                match b.status {
                    BasketStatus::Active
                    | BasketStatus::Paused
                    | BasketStatus::Stopping
                    | BasketStatus::Error => set(conn, b.id, BasketStatus::Closing),
                    BasketStatus::Closing => Ok(json!({"basket_id": b.id, "status": "closing"})),
                    s => {
                        // Ended, yet it may hold coins or a live order (an
                        // older version, a manual status edit): close it too.
                        if self.holds_something(conn, &b)? {
                            set(conn, b.id, BasketStatus::Closing)
                        } else {
                            Ok(json!({"basket_id": b.id, "status": s.as_str()}))
                        }
                    }
                }
            }
            Payload::CloseAll(_) => {
                // One close_basket command per basket that may hold something,
                // whatever its status: each is run by the worker that holds
                // that basket (or by any worker when none needs to).
                let targets = store::baskets::list_closable(conn).map_err(|e| e.to_string())?;
                let mut queued = Vec::new();
                for b in targets {
                    let key = format!("{}:{}", c.idempotency_key, b.id);
                    let close = Payload::CloseBasket(ClosePayload {
                        parent: Some(c.id),
                        ..ClosePayload::default()
                    });
                    let cmd =
                        NewCommand::new(&close, Some(b.id), key).map_err(|e| e.to_string())?;
                    let (row, _) =
                        store::commands::insert(conn, &cmd).map_err(|e| e.to_string())?;
                    queued.push(row.id);
                }
                Ok(json!({"queued": queued}))
            }
            Payload::Reanchor(p) => {
                let b = basket(conn)?;
                self.reanchor_command(conn, b, c.id, p.new_anchor)
            }
            Payload::CreateBasket(p) => self.create_basket_command(conn, c.id, &p),
        }
    }

    /// `resume` of a basket in `error`: its config and rules are read again
    /// and a plan is made from its fills and open orders at the last price,
    /// as `active`.
    fn revalidate(&self, conn: &mut PgConnection, b: &BasketRow) -> Result<(), String> {
        let still = |e: &dyn std::fmt::Display| format!("basket {} stays in error: {e}", b.id);
        let prices = self
            .exchange
            .ticker_prices(std::slice::from_ref(&b.symbol))
            .map_err(|e| still(&e))?;
        let last = prices
            .get(&b.symbol)
            .copied()
            .filter(|p| *p > Decimal::ZERO)
            .ok_or_else(|| still(&format!("no last price for {}", b.symbol)))?;
        let open = self
            .exchange
            .open_orders(Some(&b.symbol))
            .map_err(|e| still(&e))?;
        let prefix = basket_prefix(&b.symbol, b.id);
        let open: Vec<ExchangeOrder> = open
            .into_iter()
            .filter(|o| o.client_order_id.starts_with(&prefix))
            .collect();
        let (config, rules) = match (b.config(), b.rules()) {
            (Ok(c), Ok(r)) => (c, r),
            (Err(e), _) | (_, Err(e)) => return Err(still(&e)),
        };
        let mut active = b.clone();
        active.status = BasketStatus::Active;
        let input =
            plan_input(conn, &active, &config, &rules, &open, last).map_err(|e| still(&e))?;
        grid_core::plan(&input).map_err(|e| still(&e))?;
        Ok(())
    }

    /// Whether an ended basket still holds a position worth selling at the
    /// last price, or an order that may be live.
    fn holds_something(&self, conn: &mut PgConnection, b: &BasketRow) -> Result<bool, String> {
        let open = store::orders::list_open_for_basket(conn, b.id).map_err(|e| e.to_string())?;
        if !open.is_empty() {
            return Ok(true);
        }
        if b.pos <= Decimal::ZERO {
            return Ok(false);
        }
        let rules = b.rules().map_err(|e| format!("basket {}: {e}", b.id))?;
        let prices = self
            .exchange
            .ticker_prices(std::slice::from_ref(&b.symbol))
            .map_err(|e| format!("no last price for {}: {e}", b.symbol))?;
        let last = prices
            .get(&b.symbol)
            .copied()
            .ok_or_else(|| format!("no last price for {}", b.symbol))?;
        Ok(!rules.is_dust(b.pos, last))
    }

    /// `create_basket` ([`CreateBasketPayload`]), validated exactly like
    /// `bot-daemon basket create` (nothing stored when refused).
    fn create_basket_command(
        &mut self,
        conn: &mut PgConnection,
        cmd: i64,
        payload: &CreateBasketPayload,
    ) -> Result<Value, String> {
        if let Some(done) =
            store::events::by_command(conn, "created", cmd).map_err(|e| e.to_string())?
        {
            // Run a second time: the first run created it.
            let id = done.basket_id.ok_or("the created event has no basket")?;
            let row = store::baskets::get(conn, id).map_err(|e| e.to_string())?;
            return Ok(
                json!({"basket_id": row.id, "symbol": row.symbol, "anchor": row.anchor_price}),
            );
        }
        let symbol = payload.symbol.as_str();
        let anchor = payload.anchor;
        let overlay = payload.config.clone().map(Value::Object);
        // The basket and the event that marks the command's work: all or nothing.
        let exchange = &self.exchange;
        let row = conn
            .transaction(|conn| -> Result<BasketRow, DaemonError> {
                let row = crate::cli::basket::create_with(conn, exchange, symbol, anchor, overlay)?;
                store::events::insert(
                    conn,
                    &NewEvent::new(
                        Some(row.id),
                        EventLevel::Info,
                        "created",
                        format!("Basket created at {} by command {cmd}", row.anchor_price),
                    )
                    .with_data(Some(json!({"command": cmd}))),
                )?;
                Ok(row)
            })
            .map_err(|e| e.to_string())?;
        log::info!(
            "Basket created by command basket={} symbol={} anchor={} command={cmd}",
            row.id,
            row.symbol,
            row.anchor_price
        );
        Ok(json!({"basket_id": row.id, "symbol": row.symbol, "anchor": row.anchor_price}))
    }

    /// `reanchor`: when the basket's position is dust, cancel its orders,
    /// close it (`reanchored`) and open a new basket with the same config at
    /// `asked` (the anchor the operator confirmed) or, without one, at the
    /// last price. Refused with the reason when the position is not dust, or
    /// when the asked anchor's first level is at or above the last price (the
    /// price fell since: its buys would trade at once); nothing changes
    /// unless every cancel is confirmed.
    fn reanchor_command(
        &mut self,
        conn: &mut PgConnection,
        b: BasketRow,
        cmd: i64,
        asked: Option<Decimal>,
    ) -> Result<Value, String> {
        let id = b.id;
        if let Some(done) =
            store::events::by_command(conn, "reanchor", cmd).map_err(|e| e.to_string())?
        {
            // Run a second time (the first run's cycle was cut short before
            // the command was marked done): report what the first run did.
            let data = done.data.unwrap_or(Value::Null);
            return Ok(json!({
                "basket_id": id,
                "status": "closed",
                "new_basket_id": data.get("new_basket_id"),
                "anchor": data.get("anchor"),
            }));
        }
        if !matches!(b.status, BasketStatus::Active | BasketStatus::Paused) {
            return Err(format!(
                "basket {id} is {}; only an active or paused basket can be reanchored",
                b.status
            ));
        }
        let (config, rules) = match (b.config(), b.rules()) {
            (Ok(c), Ok(r)) => (c, r),
            (Err(e), _) | (_, Err(e)) => return Err(format!("basket {id}: {e}")),
        };
        let open = store::orders::list_open_for_basket(conn, id).map_err(|e| e.to_string())?;
        if let Some(o) = open.iter().find(|o| o.status.is_unconfirmed()) {
            return Err(format!(
                "basket {id}: the outcome of order {} is not known yet; try again in a few seconds",
                o.client_order_id
            ));
        }
        let prices = self
            .exchange
            .ticker_prices(std::slice::from_ref(&b.symbol))
            .map_err(|e| format!("no last price for {}: {e}", b.symbol))?;
        let last = prices
            .get(&b.symbol)
            .copied()
            .ok_or_else(|| format!("no last price for {}", b.symbol))?;
        let not_dust = |pos: Decimal| {
            format!(
                "basket {id} holds {} {} (not dust at {last}): the position must be sold first \
                 (wait for the take-profits or close the basket)",
                pos.normalize(),
                b.base_asset
            )
        };
        if !rules.is_dust(b.pos, last) {
            return Err(not_dust(b.pos));
        }
        let anchor = rules.round_price_down(asked.unwrap_or(last));
        let first_level = grid_core::ladder::base_levels(&config, &rules, anchor)
            .into_iter()
            .find(|l| l.is_active())
            .map(|l| l.price);
        if let Some(p) = first_level.filter(|p| *p >= last) {
            return Err(format!(
                "basket {id}: a new anchor at {anchor} puts its first buy at {p}, at or above \
                 the last price {last} (the price moved since the reanchor was asked); \
                 reanchor again"
            ));
        }
        for o in &open {
            self.check_lease(conn, id).map_err(|e| e.to_string())?;
            match self
                .exchange
                .cancel_order(&b.symbol, OrderRef::Client(o.client_order_id.clone()))
            {
                Ok(ex) => {
                    store::orders::upsert_from_exchange(conn, self.lease(), &full_of(&ex))
                        .map_err(|e| e.to_string())?;
                }
                Err(e) if e.is_unknown_order() => {
                    self.refresh(conn, &b.symbol, &o.client_order_id)
                        .map_err(|e| e.to_string())?;
                }
                Err(e) => {
                    return Err(format!(
                    "basket {id}: cancel of {} failed ({e}); the basket is unchanged, try again",
                    o.client_order_id
                ))
                }
            }
        }
        // A buy may have filled before its cancel: the position decides again.
        self.sync_trades(conn, &b, &prices)
            .map_err(|e| e.to_string())?;
        let b = store::baskets::get(conn, id).map_err(|e| e.to_string())?;
        if !rules.is_dust(b.pos, last) {
            return Err(not_dust(b.pos));
        }
        // Closing the old basket, opening the new one and the event that
        // marks the command's work: all or nothing.
        let lease = self.lease();
        let nb = conn
            .transaction(|conn| -> Result<BasketRow, store::Error> {
                store::baskets::set_status(
                    conn,
                    lease,
                    id,
                    BasketStatus::Closed,
                    Some("reanchored"),
                )?;
                let nb = store::baskets::create(conn, &config, &rules, anchor)?;
                store::events::insert(
                    conn,
                    &NewEvent::new(
                        Some(id),
                        EventLevel::Info,
                        "reanchor",
                        format!(
                            "Reanchored by command {cmd}: new basket {} at {anchor}",
                            nb.id
                        ),
                    )
                    .with_data(Some(
                        json!({"new_basket_id": nb.id, "anchor": anchor, "command": cmd}),
                    )),
                )?;
                Ok(nb)
            })
            .map_err(|e| format!("basket {id}: reanchor not done, nothing changed: {e}"))?;
        log::info!(
            "Reanchored by command basket={id} new_basket={} anchor={anchor} command={cmd}",
            nb.id
        );
        Ok(json!({"basket_id": id, "status": "closed", "new_basket_id": nb.id, "anchor": anchor}))
    }

    fn refresh(
        &self,
        conn: &mut PgConnection,
        symbol: &str,
        cid: &str,
    ) -> Result<Option<ExchangeOrder>, DaemonError> {
        match self
            .exchange
            .get_order(symbol, OrderRef::Client(cid.to_string()))
        {
            Ok(ex) => {
                store::orders::upsert_from_exchange(conn, self.lease(), &full_of(&ex))?;
                Ok(Some(ex))
            }
            Err(e) if e.is_unknown_order() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn basket_cycle(
        &mut self,
        conn: &mut PgConnection,
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
        let rows = store::orders::list_open_for_basket(conn, b.id)?;
        let mut changed = !self.synced.contains(&b.id)
            || self.dirty.contains(&b.id)
            || (self.cfg.sweep_every > 0 && self.cycles.is_multiple_of(self.cfg.sweep_every));
        let known: HashSet<&str> = rows.iter().map(|r| r.client_order_id.as_str()).collect();
        for ex in &open {
            if !known.contains(ex.client_order_id.as_str()) {
                store::orders::upsert_from_exchange(conn, self.lease(), &full_of(ex))?;
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
                    store::orders::mark_sent(
                        conn,
                        self.lease(),
                        &row.client_order_id,
                        &state_of(ex),
                    )?;
                }
                continue;
            }
            // Not open on the exchange: filled, canceled, or never arrived.
            changed = true;
            match self.refresh(conn, &b.symbol, &row.client_order_id)? {
                Some(ex) => {
                    log::info!(
                        "Order resolved basket={} role={} cid={} status={}",
                        b.id,
                        row.role,
                        row.client_order_id,
                        ex.status.as_str()
                    );
                    if ex.status.is_open() {
                        extra.push(ex);
                    }
                }
                None if row.status.is_unconfirmed() && self.may_still_arrive(row)? => {
                    // It may still arrive (its recvWindow has not passed).
                    in_flight = Some(&row.client_order_id);
                }
                None if row.status.is_unconfirmed() => {
                    store::orders::mark_rejected(
                        conn,
                        self.lease(),
                        &row.client_order_id,
                        "not found on the exchange: the create never arrived",
                    )?;
                    log::warn!(
                        "Order never arrived basket={} role={} cid={}",
                        b.id,
                        row.role,
                        row.client_order_id
                    );
                }
                None => log::warn!(
                    "Order unknown to the exchange basket={} role={} cid={}",
                    b.id,
                    row.role,
                    row.client_order_id
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
            out.new_fills = self.sync_trades(conn, &b, prices)?;
            self.synced.insert(b.id);
            self.dirty.remove(&b.id);
        }
        let b = if out.new_fills > 0 || b.last_trade_id.is_none() {
            store::baskets::get(conn, b.id)?
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
            self.skip_cycle(conn, b.id, &why, None)?;
            return Ok(out);
        };
        let (config, rules) = match (b.config(), b.rules()) {
            (Ok(c), Ok(r)) => (c, r),
            (Err(e), _) | (_, Err(e)) => {
                out.acted = self.put_in_error(conn, &b, &open, &e.to_string(), None)?;
                return Ok(out);
            }
        };
        let input = plan_input(conn, &b, &config, &rules, &open, last)?;
        let plan = match grid_core::plan(&input) {
            Ok(p) => p,
            Err(e @ PlanError::Input { .. }) => {
                // What the exchange said does not fit (a field out of range):
                // not the strategy's fault, and maybe gone next cycle.
                self.skip_cycle(conn, b.id, &e.to_string(), Some(&input))?;
                return Ok(out);
            }
            Err(e) => {
                out.acted = self.put_in_error(conn, &b, &open, &e.to_string(), Some(&input))?;
                return Ok(out);
            }
        };
        if let Some(st) = self.refresh.status(&b.symbol) {
            if !st.allows_new_orders() {
                // HALT, BREAK, END_OF_DAY …: nothing is sent; the exits stay
                // on the book as they are.
                let why = format!("{}: {}", b.symbol, st.explain());
                self.skip_cycle(conn, b.id, &why, None)?;
                return Ok(out);
            }
        }
        self.skipped.remove(&b.id);
        let status_changed = plan.meta.status_after != b.status;
        let reanchor = status_changed
            && plan.meta.status_after == BasketStatus::Closed
            && plan.meta.reanchor.actionable;
        // Ends the basket (or hands its budget to a successor): allowed only
        // on a view proven complete, like a create.
        let ends = status_changed && plan.meta.status_after.is_terminal();
        let needs_complete_view =
            ends || !plan.actions.to_create.is_empty() || !plan.actions.to_replace.is_empty();
        if needs_complete_view {
            let fills = &input.fills;
            if let Some((cid, executed, recorded)) = fills_behind(conn, b.id, fills)? {
                // Planning on fills that miss a trade could buy a done level
                // again, size a sell on a stale position, or end a basket
                // that holds coins: sync first.
                self.synced.remove(&b.id);
                let msg = format!(
                    "Waiting for the trades of {cid}: the exchange reports {executed} executed, {recorded} recorded"
                );
                if self.behind.get(&b.id) != Some(&msg) {
                    log::warn!(
                        "Basket waits: an order executed more than its recorded trades basket={} cid={cid} executed={executed} recorded={recorded}",
                        b.id
                    );
                    store::events::insert(
                        conn,
                        &NewEvent::new(Some(b.id), EventLevel::Warn, "fills_behind", msg.as_str())
                            .with_data(Some(json!({"client_order_id": cid, "executed": executed, "recorded": recorded}))),
                    )?;
                    self.behind.insert(b.id, msg);
                }
                return Ok(out);
            }
        }
        self.behind.remove(&b.id);
        let done = self.execute(conn, &b, &rules, &plan, &open)?;
        if done.executed {
            // An order traded in a create or cancel response: its trades are
            // recorded now (and next cycle if this fails).
            self.dirty.insert(b.id);
            out.new_fills += self.sync_trades(conn, &b, prices)?;
            self.dirty.remove(&b.id);
        }
        let mut reanchored = None;
        let mut status_after = plan.meta.status_after;
        if let Some(cid) = &done.stale {
            // An order traded behind the plan's back: its fills, position and
            // budget are stale, so nothing the plan decided about the basket
            // is written (no terminal status, no reanchor); the basket syncs
            // and plans again next cycle.
            self.synced.remove(&b.id);
            status_after = b.status;
            if ends {
                log::warn!(
                    "Status not changed: {cid} traded after the snapshot basket={} wanted={}",
                    b.id,
                    plan.meta.status_after
                );
                store::events::insert(
                    conn,
                    &NewEvent::new(
                        Some(b.id),
                        EventLevel::Warn,
                        "view_incomplete",
                        format!(
                            "Not {}: {cid} traded after the cycle's snapshot; the basket syncs and plans again",
                            plan.meta.status_after
                        ),
                    ),
                )?;
            }
        } else {
            let meta = serde_json::to_value(&plan.meta).unwrap_or(Value::Null);
            let seq_after = i64::try_from(plan.meta.order_seq_after).unwrap_or(i64::MAX);
            if status_changed || meta != b.state || seq_after > b.order_seq {
                let update = PlanUpdate {
                    status: plan.meta.status_after,
                    closed_reason: plan.meta.closed_reason.clone(),
                    state: meta,
                    order_seq: seq_after,
                };
                let anchor = rules.round_price_down(plan.meta.reanchor.new_anchor.unwrap_or(last));
                let lease = self.lease();
                // The old basket closed and its successor opened (or the reason
                // it could not be) in one transaction: a crash never leaves a
                // reanchored basket without a successor nor an error saying why.
                reanchored = conn.transaction(|conn| -> Result<_, store::Error> {
                    store::baskets::update_after_plan(conn, lease, b.id, &update)?;
                    if !reanchor {
                        return Ok(None);
                    }
                    let created = store::baskets::create(conn, &config, &rules, anchor);
                    let event = match &created {
                        Ok(nb) => NewEvent::new(
                            Some(b.id),
                            EventLevel::Info,
                            "reanchor",
                            format!("Reanchored: new basket {} at {anchor}", nb.id),
                        )
                        .with_data(Some(json!({"new_basket_id": nb.id, "anchor": anchor}))),
                        Err(e) => NewEvent::new(
                            Some(b.id),
                            EventLevel::Error,
                            "reanchor",
                            format!("Reanchor failed: {e}"),
                        ),
                    };
                    store::events::insert(conn, &event)?;
                    Ok(Some(created.map(|nb| (nb.id, anchor))))
                })?;
            }
        }
        let status_changed = status_after != b.status;
        if status_changed {
            log::info!(
                "Status changed basket={} from={} to={} reason={}",
                b.id,
                b.status,
                status_after,
                plan.meta.closed_reason.as_deref().unwrap_or("-")
            );
        }
        if done.sent > 0 || status_changed {
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
            store::events::insert_with_input(
                conn,
                &NewEvent::new(Some(b.id), EventLevel::Info, "cycle", msg.as_str())
                    .with_data(Some(data)),
                &input,
            )?;
        }
        match reanchored {
            Some(Ok((nb, anchor))) => {
                log::info!("Reanchored basket={} new_basket={nb} anchor={anchor}", b.id);
            }
            Some(Err(e)) => log::error!("Reanchor failed basket={}: {e}", b.id),
            None => {}
        }
        Ok(out)
    }

    /// Reads `symbol`'s status and rules again when due (every 24 h, at the
    /// worker's first cycle, soon after a filter failure; at most once a
    /// minute). A status change is an event on each basket of the symbol;
    /// rules that changed are stored on each basket (its next plan replaces
    /// the orders off the new grid) with a `rules_changed` event. A failed
    /// read keeps the stored rules and is tried again later.
    fn refresh_symbol(
        &mut self,
        conn: &mut PgConnection,
        symbol: &str,
        baskets: &mut [BasketRow],
    ) -> Result<(), DaemonError> {
        let now_ms = Utc::now().timestamp_millis();
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
        for b in baskets.iter_mut().filter(|b| b.symbol == symbol) {
            if let Some(ch) = &change {
                log::warn!(
                    "Symbol status basket={} symbol={symbol} status={}",
                    b.id,
                    ch.to.as_str()
                );
                store::events::insert(
                    conn,
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
            *b = store::baskets::update_rules(conn, self.lease(), b.id, &state.rules)?;
            self.rejections.clear_basket(b.id);
            log::warn!(
                "Symbol rules changed basket={} symbol={symbol} reason={}",
                b.id,
                why.as_str()
            );
            store::events::insert(
                conn,
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

    /// The exchange rejected a create: the role waits (exponentially longer
    /// while it keeps being rejected; one event per streak and per distinct
    /// error), and a filter failure or a closed market makes the symbol's
    /// rules be read again soon.
    fn create_rejected(
        &mut self,
        conn: &mut PgConnection,
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
        store::events::insert(
            conn,
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

    /// Whether a create that the exchange does not know may still reach it:
    /// judged on the exchange's clock against the `timestamp` its request
    /// carries (the exchange refuses it once `timestamp + recvWindow` has
    /// passed; [`WorkerConfig::arrival_window_ms`] adds a margin). A row
    /// written before timestamps were recorded is judged on its write time.
    fn may_still_arrive(&self, row: &OrderRow) -> Result<bool, DaemonError> {
        let age_ms = match row.request_ts_ms {
            Some(ts) => self.exchange.exchange_now_ms()? - ts,
            None => (Utc::now() - row.created_at).num_milliseconds(),
        };
        Ok(age_ms < self.cfg.arrival_window_ms)
    }

    /// A transient input problem (no usable price, an exchange answer out of
    /// range): the basket's cycle is skipped and nothing about it changes.
    /// One `cycle_skipped` event per distinct reason.
    fn skip_cycle(
        &mut self,
        conn: &mut PgConnection,
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
        store::events::insert(
            conn,
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
    fn check_lease(&self, conn: &mut PgConnection, id: i64) -> Result<(), DaemonError> {
        if store::leases::holds(conn, &self.cfg.worker_id, id)? {
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
    /// a position keeps its exits (strategy.md §8). Returns whether anything
    /// was written or sent.
    fn put_in_error(
        &mut self,
        conn: &mut PgConnection,
        b: &BasketRow,
        open: &[ExchangeOrder],
        err: &str,
        input: Option<&PlanInput>,
    ) -> Result<bool, DaemonError> {
        let mut acted = false;
        for o in open.iter().filter(|o| o.side == Side::Buy) {
            self.check_lease(conn, b.id)?;
            let cid = &o.client_order_id;
            match self
                .exchange
                .cancel_order(&b.symbol, OrderRef::Client(cid.clone()))
            {
                Ok(ex) => {
                    if ex.executed_qty > o.executed_qty {
                        self.dirty.insert(b.id);
                    }
                    store::orders::upsert_from_exchange(conn, self.lease(), &full_of(&ex))?;
                    log::info!(
                        "Canceled, basket in error basket={} role={} cid={cid}",
                        b.id,
                        role_of(cid)
                    );
                }
                Err(e) if e.is_unknown_order() => {
                    self.refresh(conn, &b.symbol, cid)?;
                    self.dirty.insert(b.id);
                }
                Err(e) => return Err(e.into()),
            }
            acted = true;
        }
        if b.status == BasketStatus::Error {
            return Ok(acted);
        }
        log::error!("Strategy error, basket put in error basket={}: {err}", b.id);
        store::baskets::set_status(
            conn,
            self.lease(),
            b.id,
            BasketStatus::Error,
            Some("strategy_error"),
        )?;
        let data = input
            .and_then(|i| serde_json::to_value(i).ok())
            .map(|i| json!({"input": i}));
        store::events::insert(
            conn,
            &NewEvent::new(Some(b.id), EventLevel::Error, "strategy_error", err).with_data(data),
        )?;
        Ok(true)
    }

    /// Trades since the basket's last synced trade id, recorded in one transaction.
    ///
    /// The cursor is exact: before a basket's first order is written, its
    /// `last_trade_id` is set to the symbol's latest trade id on the exchange
    /// (`-1` when the account never traded it), so every later trade —
    /// however busy the account — is read by paging forward with `fromId`.
    /// A basket with orders but no cursor (created by an older version) pages
    /// from the account's first trade of the symbol.
    fn sync_trades(
        &self,
        conn: &mut PgConnection,
        b: &BasketRow,
        prices: &HashMap<String, Decimal>,
    ) -> Result<usize, DaemonError> {
        use store::schema::orders;
        let mut from = match b.last_trade_id {
            Some(t) => t + 1,
            None => {
                let any_order: Option<i64> = orders::table
                    .filter(orders::basket_id.eq(b.id))
                    .select(orders::id)
                    .first(conn)
                    .optional()?;
                if any_order.is_some() {
                    0
                } else {
                    let latest = self
                        .exchange
                        .my_trades(&b.symbol, None, 1)?
                        .iter()
                        .map(|t| t.id)
                        .max()
                        .unwrap_or(-1);
                    store::baskets::set_trade_cursor(conn, &self.cfg.worker_id, b.id, latest)?;
                    log::info!(
                        "Trade cursor set basket={} symbol={} last_trade_id={latest}",
                        b.id,
                        b.symbol
                    );
                    return Ok(0);
                }
            }
        };
        let mut new_fills = Vec::new();
        let mut extra_prices: HashMap<String, Option<Decimal>> = HashMap::new();
        loop {
            let page = self.exchange.my_trades(&b.symbol, Some(from), 1000)?;
            let n = page.len();
            let ids: Vec<i64> = page.iter().map(|t| t.order_id).collect();
            let mine: HashMap<i64, String> = orders::table
                .filter(orders::basket_id.eq(b.id))
                .filter(orders::exchange_order_id.eq_any(&ids))
                .select((
                    orders::exchange_order_id.assume_not_null(),
                    orders::client_order_id,
                ))
                .load::<(i64, String)>(conn)?
                .into_iter()
                .collect();
            for t in &page {
                let Some(cid) = mine.get(&t.order_id) else {
                    continue;
                };
                let cq = if t.commission_asset == b.quote_asset {
                    t.commission
                } else if t.commission_asset == b.base_asset {
                    t.commission * t.price
                } else if t.commission.is_zero() {
                    Decimal::ZERO
                } else {
                    let pair = format!("{}{}", t.commission_asset, b.quote_asset);
                    let price = match prices.get(&pair) {
                        Some(p) => Some(*p),
                        None => *extra_prices
                            .entry(pair.clone())
                            .or_insert_with(|| self.third_asset_price(&pair)),
                    };
                    match price {
                        Some(p) => t.commission * p,
                        None => {
                            log::warn!(
                                "Commission valued 0: no {pair} price basket={} trade={} commission={} {}",
                                b.id,
                                t.id,
                                t.commission,
                                t.commission_asset
                            );
                            store::events::insert(conn, &NewEvent::new(Some(b.id), EventLevel::Warn, "commission_unvalued", format!(
                                    "Commission of trade {} ({} {}) valued 0: no {pair} price",
                                    t.id, t.commission, t.commission_asset
                                )).with_data(Some(
                                    json!({"trade_id": t.id, "commission": t.commission, "asset": t.commission_asset}),
                                )))?;
                            Decimal::ZERO
                        }
                    }
                };
                new_fills.push(store::fills::NewFill {
                    fill: t.to_fill(cid, cq),
                    quote_qty: Some(t.quote_qty),
                    is_maker: t.is_maker,
                    executed_at: DateTime::from_timestamp_millis(t.time).unwrap_or_else(Utc::now),
                });
            }
            match page.last() {
                Some(t) if n >= 1000 => from = t.id + 1,
                _ => break,
            }
        }
        let n = store::fills::record_fills(conn, self.lease(), b.id, &b.base_asset, &new_fills)?;
        if n > 0 {
            log::info!("Fills recorded basket={} new={n}", b.id);
        }
        Ok(n)
    }

    /// The price of a commission asset in the quote asset (`BNBUSDC`), when
    /// the exchange lists that pair; asked only when such a fee appears.
    fn third_asset_price(&self, pair: &str) -> Option<Decimal> {
        match self.exchange.ticker_prices(&[pair.to_string()]) {
            Ok(p) => p.get(pair).copied(),
            Err(e) => {
                log::warn!("No price for {pair}: {e}");
                None
            }
        }
    }

    fn execute(
        &mut self,
        conn: &mut PgConnection,
        b: &BasketRow,
        rules: &SymbolRules,
        plan: &Plan,
        seen: &[ExchangeOrder],
    ) -> Result<Executed, DaemonError> {
        let mut results = Vec::new();
        let mut executed = false;
        let mut sent = 0usize;
        // An order the plan saw open that traded after the snapshot (its
        // cancel answers more executed than the snapshot showed, or "unknown
        // order" because it filled): the plan's fills — position, budget,
        // done levels — are stale, so nothing is created on them.
        let mut stale: Option<String> = None;
        let traded_since = |cid: &str, executed: Decimal| {
            let before = seen
                .iter()
                .find(|o| o.client_order_id == cid)
                .map_or(Decimal::ZERO, |o| o.executed_qty);
            executed > before
        };
        for cid in &plan.actions.to_cancel {
            let role = role_of(cid);
            self.check_lease(conn, b.id)?;
            sent += 1;
            match self
                .exchange
                .cancel_order(&b.symbol, OrderRef::Client(cid.clone()))
            {
                Ok(ex) => {
                    executed |= ex.executed_qty > Decimal::ZERO;
                    if traded_since(cid, ex.executed_qty) {
                        stale.get_or_insert_with(|| cid.clone());
                    }
                    store::orders::upsert_from_exchange(conn, self.lease(), &full_of(&ex))?;
                    log::info!(
                        "Canceled basket={} role={role} cid={cid} executed={}",
                        b.id,
                        ex.executed_qty
                    );
                    results.push(json!({"cancel": cid, "ok": true}));
                }
                Err(e) if e.is_unknown_order() => {
                    let now = self.refresh(conn, &b.symbol, cid)?;
                    let traded = now.as_ref().map_or(Decimal::ZERO, |o| o.executed_qty);
                    log::info!(
                        "Cancel found the order gone basket={} role={role} cid={cid} executed={traded}",
                        b.id
                    );
                    if traded_since(cid, traded) {
                        stale.get_or_insert_with(|| cid.clone());
                    }
                    results.push(json!({"cancel": cid, "gone": true}));
                }
                Err(e) => {
                    if e.is_market_closed() {
                        // The symbol stopped trading: read its status now.
                        self.refresh.on_rejected(&b.symbol);
                    }
                    return Err(e.into());
                }
            }
        }
        let mut creates: Vec<PlannedOrder> = plan
            .actions
            .to_create
            .iter()
            .filter_map(|cid| plan.order(cid).cloned())
            .collect();
        for r in &plan.actions.to_replace {
            let role = role_of(&r.cancel);
            let Some(p) = plan.order(&r.create) else {
                continue;
            };
            self.check_lease(conn, b.id)?;
            sent += 1;
            match self
                .exchange
                .cancel_order(&b.symbol, OrderRef::Client(r.cancel.clone()))
            {
                Ok(ex) => {
                    executed |= ex.executed_qty > Decimal::ZERO;
                    if traded_since(&r.cancel, ex.executed_qty) {
                        stale.get_or_insert_with(|| r.cancel.clone());
                    }
                    store::orders::upsert_from_exchange(conn, self.lease(), &full_of(&ex))?;
                    let qty = rules.round_qty_down(p.qty - ex.executed_qty);
                    if qty > Decimal::ZERO && rules.is_tradable(qty, p.price) {
                        let mut p = p.clone();
                        p.qty = qty;
                        creates.push(p);
                        log::info!(
                            "Canceled for replace basket={} role={role} cid={}",
                            b.id,
                            r.cancel
                        );
                    } else {
                        log::info!(
                            "Canceled, remainder not tradable, nothing created basket={} role={role} cid={}",
                            b.id,
                            r.cancel
                        );
                    }
                    results.push(json!({"cancel": r.cancel, "replace": r.create, "executed": ex.executed_qty}));
                }
                Err(e) if e.is_unknown_order() => {
                    let now = self.refresh(conn, &b.symbol, &r.cancel)?;
                    let traded = now.as_ref().map_or(Decimal::ZERO, |o| o.executed_qty);
                    log::info!(
                        "Replace: order gone, nothing created basket={} role={role} cid={} executed={traded}",
                        b.id,
                        r.cancel
                    );
                    if traded_since(&r.cancel, traded) {
                        stale.get_or_insert_with(|| r.cancel.clone());
                    }
                    results.push(json!({"cancel": r.cancel, "gone": true}));
                }
                Err(e) if e.is_unknown_outcome() => {
                    log::warn!("Replace: cancel outcome unknown, nothing created basket={} role={role} cid={}: {e}", b.id, r.cancel);
                    results.push(json!({"cancel": r.cancel, "unknown": true}));
                }
                Err(e) => {
                    if e.is_market_closed() {
                        // The symbol stopped trading: read its status now.
                        self.refresh.on_rejected(&b.symbol);
                    }
                    return Err(e.into());
                }
            }
        }
        if let Some(cid) = stale {
            if !creates.is_empty() {
                log::info!(
                    "Creates deferred to the next cycle: {cid} traded after the snapshot basket={} deferred={}",
                    b.id,
                    creates.len()
                );
                results.push(json!({"deferred": creates.len(), "traded": cid}));
            }
            return Ok(Executed {
                results,
                executed: true,
                stale: Some(cid),
                sent,
            });
        }
        if creates.is_empty() {
            return Ok(Executed {
                results,
                executed,
                stale: None,
                sent,
            });
        }
        let account = self.exchange.account()?;
        let mut free_quote = account.free(&b.quote_asset);
        let mut free_base = account.free(&b.base_asset);
        let now_ms = Utc::now().timestamp_millis();
        for p in creates {
            let role = p.role.to_string();
            let cid = p.client_order_id.clone();
            if !self.rejections.may_send(b.id, p.role, now_ms) {
                // Rejected before: retried when its wait is over.
                results.push(json!({"create": cid, "skipped": "backoff"}));
                continue;
            }
            let (need, free) = match p.side {
                Side::Buy => (p.price * p.qty, &mut free_quote),
                Side::Sell => (p.qty, &mut free_base),
            };
            if need > *free {
                log::warn!(
                    "Create skipped, free balance too low basket={} role={role} cid={cid} need={need} free={}",
                    b.id,
                    *free
                );
                store::events::insert(
                    conn,
                    &NewEvent::new(
                        Some(b.id),
                        EventLevel::Warn,
                        "insufficient_balance",
                        format!("Create of {cid} skipped: needs {need}, free {}", *free),
                    ),
                )?;
                results.push(json!({"create": cid, "skipped": "insufficient_balance"}));
                continue;
            }
            let pending = store::orders::NewOrder {
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
            // lease, checked in the same transaction).
            let timestamp = self.exchange.order_timestamp()?;
            match store::orders::insert_pending_at(conn, self.lease(), &pending, Some(timestamp)) {
                Ok(_) => {}
                Err(store::Error::Conflict { .. }) => {
                    log::warn!(
                        "Create skipped, id already written basket={} role={role} cid={cid}",
                        b.id
                    );
                    continue;
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
            };
            sent += 1;
            match self.exchange.place_order(&req) {
                Ok(ex) => {
                    executed |= ex.executed_qty > Decimal::ZERO;
                    store::orders::mark_sent(conn, self.lease(), &cid, &state_of(&ex))?;
                    *free -= need;
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
                    results.push(json!({"create": cid, "ok": true}));
                }
                Err(e) if definitely_not_placed(&e) => {
                    store::orders::mark_rejected(conn, self.lease(), &cid, &e.to_string())?;
                    results.push(json!({"create": cid, "rejected": e.to_string()}));
                    if e.retry_after().is_some() {
                        log::warn!("Create rejected basket={} role={role} cid={cid}: {e}", b.id);
                        return Err(e.into());
                    }
                    if matches!(e, binance_rest::Error::Api { .. }) {
                        self.create_rejected(conn, b, p.role, &cid, &e, now_ms)?;
                    } else {
                        log::warn!("Create not sent basket={} role={role} cid={cid}: {e}", b.id);
                    }
                }
                Err(e) => {
                    store::orders::mark_unknown(conn, self.lease(), &cid, &e.to_string())?;
                    *free -= need;
                    log::warn!("Create outcome unknown, will look it up next cycle basket={} role={role} cid={cid}: {e}", b.id);
                    results.push(json!({"create": cid, "unknown": e.to_string()}));
                }
            }
        }
        Ok(Executed {
            results,
            executed,
            stale: None,
            sent,
        })
    }

    fn maybe_snapshot(
        &mut self,
        conn: &mut PgConnection,
        symbols: &[String],
        prices: &HashMap<String, Decimal>,
    ) {
        let due = self
            .last_snapshot
            .is_none_or(|t| t.elapsed() >= self.cfg.snapshot_interval);
        if !due {
            return;
        }
        self.last_snapshot = Some(Instant::now());
        if let Err(e) = self.snapshot(conn, symbols, prices) {
            log::warn!("Account snapshot failed: {e}");
        }
    }

    /// The account snapshot ([`crate::account`]): every live basket's
    /// assets valued in its quote, the account in `BOT_ACCOUNT_CURRENCY`
    /// through this cycle's prices (`_symbols`: the held ones; the
    /// valuation reads every live basket).
    fn snapshot(
        &self,
        conn: &mut PgConnection,
        _symbols: &[String],
        prices: &HashMap<String, Decimal>,
    ) -> Result<(), DaemonError> {
        crate::account::record_snapshot(
            conn,
            &self.exchange,
            prices,
            crate::account::configured_currency(),
        )?;
        Ok(())
    }
}

/// The plan's input for a basket: its recorded fills, the exchange's open
/// orders of the basket, and the last price; the time is the wall clock's.
fn plan_input(
    conn: &mut PgConnection,
    b: &BasketRow,
    config: &grid_core::GridConfig,
    rules: &SymbolRules,
    open: &[ExchangeOrder],
    last: Decimal,
) -> Result<PlanInput, DaemonError> {
    let fills = store::fills::fills_for_basket(conn, b.id)?;
    Ok(PlanInput {
        now_ms: Utc::now().timestamp_millis(),
        basket: BasketInput {
            id: b.id,
            symbol: b.symbol.clone(),
            anchor_price: b.anchor_price,
            status: b.status,
            created_at_ms: b.created_at.timestamp_millis(),
            order_seq: u64::try_from(b.order_seq).unwrap_or(0),
            config: config.clone(),
        },
        rules: rules.clone(),
        fills: fills.iter().map(|f| f.to_core()).collect(),
        open_orders: open.iter().map(|o| o.to_open_order()).collect(),
        last_price: last,
    })
}

/// The first order of the basket whose reported `executedQty` is above the
/// quantity of its recorded fills: `(clientOrderId, executed, recorded)`.
fn fills_behind(
    conn: &mut PgConnection,
    basket_id: i64,
    fills: &[grid_core::Fill],
) -> Result<Option<(String, Decimal, Decimal)>, DaemonError> {
    let executed = store::orders::executed_for_basket(conn, basket_id)?;
    if executed.is_empty() {
        return Ok(None);
    }
    let mut recorded: HashMap<&str, Decimal> = HashMap::new();
    for f in fills {
        *recorded.entry(f.client_order_id.as_str()).or_default() += f.qty;
    }
    Ok(executed.into_iter().find_map(|(cid, qty)| {
        let got = recorded.get(cid.as_str()).copied().unwrap_or_default();
        (qty > got).then_some((cid, qty, got))
    }))
}

fn differs(row: &OrderRow, ex: &ExchangeOrder) -> bool {
    row.exchange_order_id != Some(ex.order_id)
        || row.executed_qty != ex.executed_qty
        || row.status != store_status(ex.status)
}

/// What [`Worker::execute`] did.
struct Executed {
    /// One JSON line per request, for the cycle's event.
    results: Vec<Value>,
    /// An order traded in a create or cancel answer: sync trades now.
    executed: bool,
    /// An order the plan saw open traded after the snapshot: the plan's view
    /// was stale (its creates were deferred, its status is not written).
    stale: Option<String>,
    /// Requests sent (creates and cancels): 0 in a cycle whose creates all
    /// wait for their retry time, which writes no `cycle` event.
    sent: usize,
}

#[derive(Debug, Default)]
struct BasketOutcome {
    acted: bool,
    new_fills: usize,
}

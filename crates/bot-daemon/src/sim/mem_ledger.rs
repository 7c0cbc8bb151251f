//! [`MemLedger`]: the worker's [`Ledger`](crate::ledger::Ledger) in memory,
//! for the simulation harness — the same observable semantics as
//! `impl Ledger for PgConnection` (the `store` crate), on a virtual clock,
//! with injectable connection faults.
//!
//! Invariants (those of [`crate::ledger`], plus):
//! - **One call, one commit.** Every method validates and computes first and
//!   mutates the tables last, so a call that returns an error has written
//!   nothing (like a rolled-back transaction) and a call that returned has
//!   written everything. Clones share the tables (`Rc<RefCell<_>>`): what one
//!   worker committed is visible to every other at once, and dropping a
//!   worker (a crash) loses nothing committed. Every table borrow is taken
//!   and released inside one method, which never calls out while holding it,
//!   so borrows never overlap.
//! - **Same rows, same errors as PostgreSQL.** Each operation follows its
//!   `store` function step by step, in the same order of checks (so the same
//!   error wins): lease fencing of [`store::Writer`], `NotFound`, `Invalid`,
//!   `Conflict`, `LeaseLost`, `Pnl`, and the constraint violations the
//!   schema would raise (unique `(symbol, exchange_order_id)`, foreign keys,
//!   `CHECK (pos >= 0)`, numeric overflow) as `Error::Query` of the same
//!   kind. Money goes through the store's own pure functions
//!   ([`store::money::apply_fill`], [`store::money::check`],
//!   [`store::orders::next_status`]), and every stored decimal is rescaled to
//!   its column's scale (`NUMERIC(28,8)`: 8, `NUMERIC(28,16)`: 16), as
//!   PostgreSQL returns it. Ids come from per-table sequences that, like
//!   `BIGSERIAL`, are consumed by an insert that then fails.
//! - **Virtual time.** `now()` is the shared clock ([`MemLedger::clock`]),
//!   never the wall clock: lease expiry, heartbeats, `created_at`,
//!   `updated_at`, `filled_at`, `closed_at`.
//! - **Deterministic.** Tables are `BTreeMap`s keyed by id; every list is in
//!   id (or trade-id) order; no randomness.
//! - **Faults are per connection.** [`MemLedger::connection`] gives a worker
//!   its own fault state over the same tables; a [`Fault`] makes a call fail
//!   with a retryable error ([`store::Error::is_retryable`]) before or after
//!   it commits, or takes the connection down until [`MemLedger::recover`].
//!   Accessors and seeding helpers ignore faults.
//!
//! Differences from PostgreSQL that remain:
//! - repeated events are not collapsed: every occurrence is a row (with
//!   `repeat_count` 1 and an id of its own), and a basket's error event pins
//!   its last `cycle` event even when the error repeats;
//! - time is the virtual clock at millisecond precision, not `now()` of a
//!   transaction (microseconds);
//! - there is no concurrency: `SKIP LOCKED` skips nothing and the
//!   "stored concurrently" conflict of `record_fills` never happens;
//! - where the store has no `ORDER BY` the order is fixed: `executed_of` by
//!   order id, and a `record_fills` conflict names the lowest clashing trade;
//! - errors the worker's typed values cannot provoke are not reproduced
//!   (NUL characters in text or JSON, timestamps out of PostgreSQL's range).
//!
//! The worker's heartbeat (`store::misc::heartbeat`) is not part of the
//! `Ledger` trait: the harness records it with [`MemLedger::heartbeat`], or
//! `fair_share` counts no live worker (and divides by 1).

mod commands;
mod events;
mod fills;
mod ledger_impl;
mod orders;
mod tables;

use std::cell::{Cell, Ref, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use chrono::{DateTime, Utc};
use grid_core::{GridConfig, SymbolRules};
use rust_decimal::Decimal;
use store::baskets::BasketRow;
use store::commands::CommandRow;
use store::events::EventRow;
use store::fills::FillRow;
use store::orders::OrderRow;
use store::Error;

use tables::{at_ms, Db};

// The store's order types, named in this one place (the store renames them:
// `NewOrder` → `NewOrderRow`, `ExchangeOrder` → `ExchangeReport`,
// `OrderStatus` → `OrderRowStatus`).
pub(crate) use store::orders::{ExchangeReport, NewOrderRow};
pub(crate) use store::OrderRowStatus;

/// What happens to one write call of a connection ([`MemLedger::inject`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The call fails with a retryable error; nothing is written (the
    /// connection dropped before the commit).
    Fail,
    /// The call commits, then fails with a retryable error (the commit's
    /// acknowledgement was lost).
    LostAck,
    /// The call fails, nothing is written, and every later call of the
    /// connection fails until [`MemLedger::recover`].
    CrashBefore,
    /// The call commits and returns normally; every later call of the
    /// connection fails until [`MemLedger::recover`] (a crash right after
    /// the commit).
    CrashAfter,
}

/// A basket's lease as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub basket_id: i64,
    pub worker_id: String,
    pub until: DateTime<Utc>,
    /// `until` is after the clock's now.
    pub live: bool,
}

/// A `pnl_hourly` row: realized P&L, fees and sells of one basket in one hour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HourlyPnl {
    pub basket_id: i64,
    pub bucket_start: DateTime<Utc>,
    pub realized: Decimal,
    pub fees: Decimal,
    pub sells: i64,
}

/// The fault state of one connection.
#[derive(Debug, Default)]
struct Conn {
    /// Write calls seen (the ordinal of the last one).
    writes: u64,
    /// Faults by write ordinal.
    scheduled: BTreeMap<u64, Fault>,
    /// Read calls still to fail.
    failing_reads: u64,
    down: bool,
}

/// The worker's ledger in memory; see the module docs. `Clone` shares the
/// tables, the clock and the fault state; [`MemLedger::connection`] shares
/// the tables and the clock only.
#[derive(Clone)]
pub struct MemLedger {
    db: Rc<RefCell<Db>>,
    conn: Rc<RefCell<Conn>>,
    /// The same clock as `db`'s (read without borrowing the tables).
    clock: Rc<Cell<i64>>,
}

impl std::fmt::Debug for MemLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemLedger")
            .field("now_ms", &self.now_ms())
            .field("commits", &self.commits())
            .finish_non_exhaustive()
    }
}

/// The retryable error of a dropped connection.
pub(crate) fn connection_lost() -> Error {
    Error::Query(diesel::result::Error::DatabaseError(
        diesel::result::DatabaseErrorKind::ClosedConnection,
        Box::new("server closed the connection unexpectedly (MemLedger fault)".to_string()),
    ))
}

impl MemLedger {
    /// An empty ledger on the shared clock `clock` (epoch ms).
    pub fn new(clock: Rc<Cell<i64>>) -> MemLedger {
        MemLedger {
            db: Rc::new(RefCell::new(Db::new(Rc::clone(&clock)))),
            conn: Rc::new(RefCell::new(Conn::default())),
            clock,
        }
    }

    /// An empty ledger on a clock of its own, set to `now_ms`.
    pub fn at(now_ms: i64) -> MemLedger {
        MemLedger::new(Rc::new(Cell::new(now_ms)))
    }

    /// Another connection to the same tables and clock, with its own faults.
    pub fn connection(&self) -> MemLedger {
        MemLedger {
            db: Rc::clone(&self.db),
            conn: Rc::new(RefCell::new(Conn::default())),
            clock: Rc::clone(&self.clock),
        }
    }

    // ---- clock ----

    /// The shared clock (epoch ms).
    pub fn clock(&self) -> Rc<Cell<i64>> {
        Rc::clone(&self.clock)
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.get()
    }

    pub fn set_now_ms(&self, now_ms: i64) {
        self.clock.set(now_ms);
    }

    pub fn advance_ms(&self, ms: i64) {
        self.clock.set(self.clock.get().saturating_add(ms));
    }

    // ---- faults ----

    /// Applies `fault` to this connection's write call number `at_write`
    /// (1-based, counted by [`MemLedger::write_calls`]).
    pub fn inject(&self, at_write: u64, fault: Fault) {
        self.conn.borrow_mut().scheduled.insert(at_write, fault);
    }

    /// The next `n` write calls fail without writing anything.
    pub fn fail_next_writes(&self, n: u64) {
        let mut c = self.conn.borrow_mut();
        let from = c.writes;
        for k in 1..=n {
            c.scheduled.insert(from.saturating_add(k), Fault::Fail);
        }
    }

    /// The next `k` write calls run; the one after fails without writing.
    pub fn fail_after(&self, k: u64) {
        let mut c = self.conn.borrow_mut();
        let at = c.writes.saturating_add(k).saturating_add(1);
        c.scheduled.insert(at, Fault::Fail);
    }

    /// The next `n` write calls commit but report a retryable error.
    pub fn lose_ack_of_next_writes(&self, n: u64) {
        let mut c = self.conn.borrow_mut();
        let from = c.writes;
        for k in 1..=n {
            c.scheduled.insert(from.saturating_add(k), Fault::LostAck);
        }
    }

    /// The next `k` write calls run; then every call fails until
    /// [`MemLedger::recover`]. `k = 0`: down at once.
    pub fn crash_after(&self, k: u64) {
        let mut c = self.conn.borrow_mut();
        if k == 0 {
            c.down = true;
        } else {
            let at = c.writes.saturating_add(k);
            c.scheduled.insert(at, Fault::CrashAfter);
        }
    }

    /// The next `n` read calls fail with a retryable error.
    pub fn fail_next_reads(&self, n: u64) {
        self.conn.borrow_mut().failing_reads = n;
    }

    /// Brings the connection back up and forgets every scheduled fault.
    pub fn recover(&self) {
        let mut c = self.conn.borrow_mut();
        c.down = false;
        c.failing_reads = 0;
        c.scheduled.clear();
    }

    pub fn is_down(&self) -> bool {
        self.conn.borrow().down
    }

    /// Write calls this connection has seen (failed ones included).
    pub fn write_calls(&self) -> u64 {
        self.conn.borrow().writes
    }

    /// Write calls that committed, over every connection.
    pub fn commits(&self) -> u64 {
        self.db.borrow().commits
    }

    fn read<T>(&self, f: impl FnOnce(&Db) -> Result<T, Error>) -> Result<T, Error> {
        {
            let mut c = self.conn.try_borrow_mut().map_err(|_| reentered())?;
            if c.down {
                return Err(connection_lost());
            }
            if c.failing_reads > 0 {
                c.failing_reads -= 1;
                return Err(connection_lost());
            }
        }
        let db = self.db.try_borrow().map_err(|_| reentered())?;
        f(&db)
    }

    fn write<T>(&self, f: impl FnOnce(&mut Db) -> Result<T, Error>) -> Result<T, Error> {
        let fault = {
            let mut c = self.conn.try_borrow_mut().map_err(|_| reentered())?;
            if c.down {
                return Err(connection_lost());
            }
            c.writes = c.writes.saturating_add(1);
            let at = c.writes;
            let fault = c.scheduled.remove(&at);
            match fault {
                Some(Fault::Fail) => return Err(connection_lost()),
                Some(Fault::CrashBefore) => {
                    c.down = true;
                    return Err(connection_lost());
                }
                _ => fault,
            }
        };
        let out = {
            let mut db = self.db.try_borrow_mut().map_err(|_| reentered())?;
            let out = f(&mut db);
            if out.is_ok() {
                db.commits = db.commits.saturating_add(1);
            }
            out
        };
        match fault {
            Some(Fault::LostAck) => Err(connection_lost()),
            Some(Fault::CrashAfter) => {
                if let Ok(mut c) = self.conn.try_borrow_mut() {
                    c.down = true;
                }
                out
            }
            _ => out,
        }
    }

    // ---- seeding (no faults) ----

    /// Creates an `active` basket, as `store::baskets::create`.
    ///
    /// # Errors
    /// As `store::baskets::create`: `Config`, `Invalid`.
    pub fn create_basket(
        &self,
        config: &GridConfig,
        rules: &SymbolRules,
        anchor: Decimal,
    ) -> Result<BasketRow, Error> {
        let mut db = self.db.try_borrow_mut().map_err(|_| reentered())?;
        let row = db.new_basket(config, rules, anchor)?;
        db.baskets.insert(row.id, row.clone());
        Ok(row)
    }

    /// Sets (or, with `None`, clears) the basket's lease: `worker` until
    /// `until_ms` — e.g. an expired lease for a takeover.
    ///
    /// # Errors
    /// `NotFound` when there is no such basket.
    pub fn set_lease(&self, basket: i64, lease: Option<(&str, i64)>) -> Result<(), Error> {
        let mut db = self.db.try_borrow_mut().map_err(|_| reentered())?;
        let row = db
            .baskets
            .get_mut(&basket)
            .ok_or_else(|| tables::not_found(format!("basket {basket}")))?;
        row.worker_id = lease.map(|(w, _)| w.to_string());
        row.lease_until = lease.map(|(_, until)| at_ms(until));
        Ok(())
    }

    /// Records a heartbeat of `worker` now (`bot_status.heartbeat_at`,
    /// what [`crate::ledger::Ledger::fair_share`] counts).
    pub fn heartbeat(&self, worker: &str) {
        let now = self.now_ms();
        self.set_heartbeat(worker, Some(now));
    }

    /// Sets (or removes) `worker`'s last heartbeat.
    pub fn set_heartbeat(&self, worker: &str, at: Option<i64>) {
        let mut db = self.db.borrow_mut();
        match at {
            Some(ms) => {
                db.heartbeats.insert(worker.to_string(), at_ms(ms));
            }
            None => {
                db.heartbeats.remove(worker);
            }
        }
    }

    // ---- accessors for the invariant checker (no faults) ----

    /// Every basket, by id, borrowed (the checker's view after every step:
    /// no copy). Drop it before the next call that writes.
    pub fn basket_rows(&self) -> Ref<'_, BTreeMap<i64, BasketRow>> {
        Ref::map(self.db.borrow(), |db| &db.baskets)
    }

    /// Every command by id, borrowed like [`MemLedger::basket_rows`].
    pub fn command_rows(&self) -> Ref<'_, BTreeMap<i64, CommandRow>> {
        Ref::map(self.db.borrow(), |db| &db.commands)
    }

    /// Every fill by id, borrowed like [`MemLedger::basket_rows`].
    pub fn fill_rows(&self) -> Ref<'_, BTreeMap<i64, FillRow>> {
        Ref::map(self.db.borrow(), |db| &db.fills)
    }

    /// A digest of what the worker's trading wrote that a later cycle
    /// reads: the baskets' status, anchor, order counter, position and
    /// last trade, writes of their rules or config, the open orders' status
    /// and execution, and how many orders, fills and events there are.
    /// Equal digests around a cycle: the cycle changed nothing a later cycle
    /// reads. Not in it: lease renewals, stored prices, and a basket's
    /// `state` (the plan's meta, which trading writes for the dashboard and
    /// never reads back but to avoid writing it twice). The backtest skips
    /// the next cycles while it stays equal and nothing moved on the
    /// exchange.
    pub fn trading_digest(&self) -> u64 {
        use std::hash::{DefaultHasher, Hash, Hasher};
        let db = self.db.borrow();
        let mut h = DefaultHasher::new();
        (db.events.len(), db.fills.len(), db.orders.len()).hash(&mut h);
        db.setting_writes.hash(&mut h);
        for b in db.baskets.values() {
            (b.id, b.status.as_str(), b.anchor_price, b.order_seq, b.pos).hash(&mut h);
            (b.closed_at, b.last_trade_id).hash(&mut h);
            if b.status.is_terminal() {
                continue;
            }
            for id in db.orders_of.get(&b.id).into_iter().flatten() {
                if let Some(o) = db.orders.get(id) {
                    (o.id, o.status.as_str(), o.executed_qty, o.updated_at).hash(&mut h);
                }
            }
        }
        h.finish()
    }

    /// Every basket, by id.
    pub fn baskets(&self) -> Vec<BasketRow> {
        self.db.borrow().baskets.values().cloned().collect()
    }

    /// Every order row (closed ones included), by id.
    pub fn orders(&self) -> Vec<OrderRow> {
        self.db.borrow().orders.values().cloned().collect()
    }

    /// The order row of a clientOrderId.
    pub fn order(&self, client_order_id: &str) -> Option<OrderRow> {
        let db = self.db.borrow();
        db.order_ids
            .get(client_order_id)
            .and_then(|id| db.orders.get(id))
            .cloned()
    }

    /// Every fill (with its trade id and realized P&L), by id.
    pub fn fills(&self) -> Vec<FillRow> {
        self.db.borrow().fills.values().cloned().collect()
    }

    /// Every event, in the order written.
    pub fn events(&self) -> Vec<EventRow> {
        self.db.borrow().events.clone()
    }

    /// The stored leases (expired ones included), by basket id.
    pub fn leases(&self) -> Vec<Lease> {
        let db = self.db.borrow();
        let now = db.now();
        db.baskets
            .values()
            .filter_map(|b| {
                let worker_id = b.worker_id.clone()?;
                let until = b.lease_until?;
                Some(Lease {
                    basket_id: b.id,
                    worker_id,
                    until,
                    live: until > now,
                })
            })
            .collect()
    }

    /// The last prices stored, by symbol.
    pub fn prices(&self) -> Vec<(String, Decimal)> {
        self.db
            .borrow()
            .prices
            .iter()
            .map(|(s, (p, _))| (s.clone(), *p))
            .collect()
    }

    /// The hourly P&L buckets, by basket and hour.
    pub fn pnl_hourly(&self) -> Vec<HourlyPnl> {
        self.db
            .borrow()
            .hourly
            .iter()
            .map(|((basket_id, at), b)| HourlyPnl {
                basket_id: *basket_id,
                bucket_start: *at,
                realized: b.realized,
                fees: b.fees,
                sells: b.sells,
            })
            .collect()
    }

    /// Heartbeats by worker id.
    pub fn heartbeats(&self) -> Vec<(String, DateTime<Utc>)> {
        self.db
            .borrow()
            .heartbeats
            .iter()
            .map(|(w, at)| (w.clone(), *at))
            .collect()
    }
}

fn reentered() -> Error {
    Error::Invalid {
        field: "MemLedger".into(),
        reason: "called while already borrowed (re-entrant call)".into(),
    }
}

#[cfg(test)]
#[path = "tests/mem_ledger.rs"]
mod tests;
#[cfg(test)]
#[path = "tests/mem_ledger_faults.rs"]
mod tests_faults;
#[cfg(test)]
#[path = "tests/mem_ledger_rows.rs"]
mod tests_rows;

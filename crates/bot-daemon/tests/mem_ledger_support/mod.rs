//! Helpers of the differential test `mem_ledger.rs`: both sides' stored
//! rows, normalized for comparison (timestamps come from two clocks), and a
//! seeded generator.
#![allow(dead_code)]

use std::fmt::Debug;
use std::str::FromStr;

use bot_daemon::sim::MemLedger;
use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Numeric, Timestamptz};
use grid_core::{PlanInput, SymbolRules};
use rust_decimal::Decimal;
use serde_json::json;
use store::baskets::BasketRow;
use store::events::EventRow;
use store::fills::FillRow;
use store::orders::{OrderFilter, OrderRow};
use store::Error;

mod world;
pub use world::World;

pub fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or_else(|e| panic!("bad decimal {s}: {e}"))
}

pub fn rules(min_notional: &str, base: &str, tick: &str) -> SymbolRules {
    serde_json::from_value(json!({
        "base_asset": base, "quote_asset": "USDC",
        "tick_size": tick, "step_size": "0.01", "min_qty": "0.01", "max_qty": "9000",
        "min_price": "0.001", "max_price": "1000000", "min_notional": min_notional,
        "trailing_delta_min": 10, "trailing_delta_max": 2000, "max_num_orders": 200
    }))
    .expect("rules")
}

/// A seeded xorshift generator: every run draws the same calls.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
    pub fn pick<T: Clone>(&mut self, xs: &[T]) -> T {
        xs[usize::try_from(self.below(xs.len() as u64)).unwrap()].clone()
    }
}

pub const EPOCH: DateTime<Utc> = DateTime::<Utc>::UNIX_EPOCH;
pub const ROLES: &[&str] = &["B1", "B2", "B3", "TP1", "TP2", "TRAIL"];

pub fn is_buy(role: &str) -> bool {
    role.starts_with('B')
}

pub fn norm_basket(b: &BasketRow) -> BasketRow {
    BasketRow {
        created_at: EPOCH,
        updated_at: EPOCH,
        closed_at: b.closed_at.map(|_| EPOCH),
        lease_until: b.lease_until.map(|_| EPOCH),
        ..b.clone()
    }
}

pub fn norm_order(o: &OrderRow) -> OrderRow {
    OrderRow {
        created_at: EPOCH,
        updated_at: EPOCH,
        filled_at: o.filled_at.map(|_| EPOCH),
        ..o.clone()
    }
}

#[derive(QueryableByName, Debug, PartialEq)]
pub struct HourlyRow {
    #[diesel(sql_type = BigInt)]
    pub basket_id: i64,
    #[diesel(sql_type = Timestamptz)]
    pub bucket_start: DateTime<Utc>,
    #[diesel(sql_type = Numeric)]
    pub realized: Decimal,
    #[diesel(sql_type = Numeric)]
    pub fees: Decimal,
    #[diesel(sql_type = BigInt)]
    pub sells: i64,
}

/// What both sides must hold alike (timestamps normalized).
pub struct State {
    pub baskets: Vec<BasketRow>,
    pub orders: Vec<OrderRow>,
    pub fills: Vec<FillRow>,
    pub hourly: Vec<String>,
    pub prices: Vec<String>,
    pub events: Vec<String>,
}

/// Rows as `store::events::insert` leaves them: an event equal to one of
/// its basket's 16 latest of the kind (same level and message) bumps it.
pub fn collapse(events: &[EventRow]) -> Vec<String> {
    let mut rows: Vec<(EventRow, i64)> = Vec::new();
    for e in events {
        let carries_input = e.data.as_ref().and_then(|d| d.get("input")).is_some();
        if !carries_input {
            let hit = rows
                .iter()
                .enumerate()
                .filter(|(_, (r, _))| r.basket_id == e.basket_id && r.kind == e.kind)
                .rev()
                .take(16)
                .find(|(_, (r, _))| r.level == e.level && r.message == e.message)
                .map(|(i, _)| i);
            if let Some(i) = hit {
                rows[i].0.data = e.data.clone();
                rows[i].1 += 1;
                continue;
            }
        }
        rows.push((e.clone(), 1));
    }
    rows.iter().map(|(e, n)| show_event(e, *n)).collect()
}

pub fn show_event(e: &EventRow, repeat: i64) -> String {
    format!(
        "{:?} {} {} {:?} {:?} x{repeat}",
        e.basket_id, e.level, e.kind, e.message, e.data
    )
}

pub fn pg_state(pg: &mut PgConnection) -> (State, Vec<DateTime<Utc>>) {
    let baskets = store::baskets::list(pg, None).unwrap();
    let mut orders = Vec::new();
    let mut cursor = None;
    loop {
        let page = store::orders::history(pg, &OrderFilter::default(), cursor, 500).unwrap();
        orders.extend(page.rows);
        match page.next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    orders.sort_by_key(|o| o.id);
    let mut fills = Vec::new();
    let mut cursor = None;
    loop {
        let page = store::fills::history(pg, None, cursor, 500).unwrap();
        fills.extend(page.rows);
        match page.next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    fills.sort_by_key(|f| f.id);
    let hourly: Vec<HourlyRow> = diesel::sql_query(
        "SELECT basket_id, bucket_start, realized, fees, sells FROM pnl_hourly \
         ORDER BY basket_id, bucket_start",
    )
    .load(pg)
    .unwrap();
    let events: Vec<EventRow> = diesel::sql_query(
        "SELECT id, basket_id, level, kind, message, data, created_at, repeat_count, \
         last_seen_at, pinned FROM events ORDER BY id",
    )
    .load(pg)
    .unwrap();
    let prices = store::misc::prices(pg).unwrap();
    let stamps = baskets
        .iter()
        .map(|b| b.updated_at)
        .chain(orders.iter().map(|o| o.updated_at))
        .collect();
    let state = State {
        baskets: baskets.iter().map(norm_basket).collect(),
        orders: orders.iter().map(norm_order).collect(),
        fills: fills
            .into_iter()
            .map(|f| FillRow {
                created_at: EPOCH,
                ..f
            })
            .collect(),
        hourly: hourly
            .iter()
            .map(|h| {
                format!(
                    "{} {} {} {} {}",
                    h.basket_id, h.bucket_start, h.realized, h.fees, h.sells
                )
            })
            .collect(),
        prices: prices
            .iter()
            .map(|p| format!("{} {}", p.symbol, p.price))
            .collect(),
        events: events
            .iter()
            .map(|e| show_event(e, e.repeat_count))
            .collect(),
    };
    (state, stamps)
}

pub fn mem_state(mem: &MemLedger) -> (State, Vec<DateTime<Utc>>) {
    let baskets = mem.baskets();
    let orders = mem.orders();
    let stamps = baskets
        .iter()
        .map(|b| b.updated_at)
        .chain(orders.iter().map(|o| o.updated_at))
        .collect();
    let state = State {
        baskets: baskets.iter().map(norm_basket).collect(),
        orders: orders.iter().map(norm_order).collect(),
        fills: mem
            .fills()
            .into_iter()
            .map(|f| FillRow {
                created_at: EPOCH,
                ..f
            })
            .collect(),
        hourly: mem
            .pnl_hourly()
            .iter()
            .map(|h| {
                format!(
                    "{} {} {} {} {}",
                    h.basket_id, h.bucket_start, h.realized, h.fees, h.sells
                )
            })
            .collect(),
        prices: mem
            .prices()
            .iter()
            .map(|(s, p)| format!("{s} {p}"))
            .collect(),
        events: collapse(&mem.events()),
    };
    (state, stamps)
}

/// The first row where two tables differ, instead of both tables whole.
pub fn same_rows<T: PartialEq + Debug>(step: usize, what: &str, table: &str, pg: &[T], mem: &[T]) {
    if let Some(i) = (0..pg.len().max(mem.len())).find(|i| pg.get(*i) != mem.get(*i)) {
        panic!(
            "step {step} {what}: {table} differ at row {i} ({} rows in PostgreSQL, {} in MemLedger)\n\
             PostgreSQL: {:?}\nMemLedger:  {:?}",
            pg.len(),
            mem.len(),
            pg.get(i),
            mem.get(i)
        );
    }
}

/// Which `updated_at`s moved between two snapshots.
pub fn moved(before: &[DateTime<Utc>], after: &[DateTime<Utc>]) -> Vec<bool> {
    after
        .iter()
        .enumerate()
        .map(|(i, t)| before.get(i) != Some(t))
        .collect()
}

/// The variant of an error (`LeaseLost`, `Query`, …).
pub fn variant(e: &Error) -> String {
    let shown = format!("{e:?}");
    shown
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or_default()
        .to_string()
}

pub fn plan_input(basket: i64) -> PlanInput {
    serde_json::from_value(json!({
        "now_ms": 1_760_000_000_000_i64, "last_price": "150",
        "basket": {"id": basket, "symbol": "SOLUSDC", "anchor_price": "150",
                   "status": "active", "created_at_ms": 1_760_000_000_000_i64, "order_seq": 0},
        "rules": rules("5", "SOL", "0.001"),
        "fills": [{"trade_id": 3, "exchange_order_id": 9, "client_order_id": format!("BOT_SOLUSDC_{basket}_B1_1"),
                   "side": "BUY", "price": "142.5", "qty": "0.56", "commission": "0",
                   "commission_asset": "USDC", "commission_quote": "0"}],
    }))
    .expect("plan input")
}

//! Differential test of `MemLedger`: the same seeded sequence of `Ledger`
//! calls runs against PostgreSQL (`impl Ledger for PgConnection`, a fresh
//! database from `store::test_db`) and against a `MemLedger`; every call must
//! give the same result (or the same error message), and after every call
//! the stored rows must be the same.
//!
//! Compared exactly: every column of baskets, orders, fills, `pnl_hourly`
//! and market prices, decimals by their text (scale included) and ids
//! (sequences included) — except timestamps, which come from two clocks:
//! for those, whether they are set and whether `updated_at` moved with the
//! call. Events are compared after collapsing the memory log's repeats the
//! way `store::events::insert` does (MemLedger keeps every occurrence).
//!
//! Leases are 60 s long and expired on purpose (the same basket, at the same
//! step, in both), so the two clocks never disagree about one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::fmt::Debug;

use bot_daemon::ledger::Successor;
use bot_daemon::sim::MemLedger;
use chrono::Utc;
use grid_core::{BasketStatus, GridConfig, OrderType, Side};
use serde_json::json;
use store::baskets::PlanUpdate;
use store::events::NewEvent;
use store::fills::NewFill;
use store::test_db::TestDb;
use store::EventLevel;

// The store's order types (being renamed: one place to follow).
use store::orders::{ExchangeReport, NewOrderRow};

mod mem_ledger_support;

use mem_ledger_support::*;

const SEEDS: &[u64] = &[1, 7, 2024, 99, 31337];
const STEPS: usize = 400;

impl World {
    fn one_step(&mut self) {
        let dbg = |v: &dyn Debug| format!("{v:?}");
        match self.rng.below(22) {
            0 | 1 => {
                let (w, max) = (self.worker(), i64::try_from(self.rng.below(5)).unwrap() - 1);
                self.both(
                    "acquire_leases",
                    |l| l.acquire_leases(w, 60_000, max),
                    |v| dbg(&v),
                );
            }
            2 => {
                let w = self.worker();
                let ids: Vec<i64> = (0..self.rng.below(3)).map(|_| self.basket()).collect();
                self.both(
                    "release_baskets",
                    |l| l.release_baskets(w, &ids),
                    |v| dbg(&v),
                );
            }
            3 => {
                // Expire the basket's lease in both (the same step, so the
                // clocks never disagree).
                let b = self.basket();
                if let Some(row) = self.mem.baskets().into_iter().find(|r| r.id == b) {
                    if let (Some(w), Some(_)) = (row.worker_id, row.lease_until) {
                        store::testing::grant_lease(&mut self.pg, b, &w, -1).unwrap();
                        let at = self.mem.now_ms() - 1000;
                        self.mem.set_lease(b, Some((&w, at))).unwrap();
                    }
                }
                let w = self.worker();
                self.both("holds", |l| l.holds(w, b), |v| dbg(&v));
            }
            4 => {
                self.both("fair_share", |l| l.fair_share(60_000), |v| dbg(&v));
            }
            5 => {
                let b = self.basket();
                self.both("basket", |l| l.basket(b), |v| dbg(&norm_basket(&v)));
                self.both(
                    "open_orders_of",
                    |l| l.open_orders_of(b),
                    |v| dbg(&v.iter().map(norm_order).collect::<Vec<_>>()),
                );
                self.both(
                    "executed_of",
                    |l| l.executed_of(b),
                    |mut v| {
                        v.sort();
                        dbg(&v)
                    },
                );
                self.both("fills_of", |l| l.fills_of(b), |v| dbg(&v));
                self.both("has_orders", |l| l.has_orders(b), |v| dbg(&v));
                let xs: Vec<i64> = self
                    .cids
                    .clone()
                    .iter()
                    .map(|c| self.exchange_state(c).exchange_order_id)
                    .collect();
                self.both(
                    "client_ids_by_exchange_id",
                    |l| l.client_ids_by_exchange_id(b, &xs),
                    |v| dbg(&v.into_iter().collect::<BTreeMap<_, _>>()),
                );
            }
            6 => {
                let mut rows = vec![("SOLUSDC".to_string(), self.price())];
                if self.rng.chance(30) {
                    let sym = self
                        .rng
                        .pick(&["BTCUSDC", "SOLUSDC", "AVERYVERYLONGSYMBOLUSDC"]);
                    rows.push((sym.to_string(), self.price()));
                }
                self.both("upsert_prices", |l| l.upsert_prices(&rows), |v| dbg(&v));
            }
            7..=9 => {
                let (cid, mut side) = self.cid();
                if self.rng.chance(5) {
                    side = Side::Buy;
                }
                let row = NewOrderRow {
                    basket_id: if self.rng.chance(5) {
                        self.basket()
                    } else {
                        cid.split('_')
                            .nth(2)
                            .and_then(|s| s.parse().ok())
                            .unwrap_or(999)
                    },
                    client_order_id: cid.clone(),
                    side,
                    order_type: OrderType::Limit,
                    price: self.price(),
                    quantity: d("0.56"),
                    stop_price: None,
                    trailing_delta: self.rng.chance(5).then_some(0),
                    time_in_force: None,
                };
                let ts = self.rng.chance(50).then_some(1_760_000_000_000);
                self.cids.push(cid);
                let w = self.writer();
                self.both(
                    "insert_pending_at",
                    |l| l.insert_pending_at(w, &row, ts),
                    |v| dbg(&v),
                );
            }
            10 | 11 => {
                let (cid, _) = self.cid();
                let (st, w) = (self.exchange_state(&cid), self.writer());
                self.both("mark_sent", |l| l.mark_sent(w, &cid, &st), |v| dbg(&v));
            }
            12 => {
                let ((cid, _), w) = (self.cid(), self.writer());
                if self.rng.chance(50) {
                    self.both(
                        "mark_unknown",
                        |l| l.mark_unknown(w, &cid, "timeout"),
                        |v| dbg(&v),
                    );
                } else {
                    self.both(
                        "mark_rejected",
                        |l| l.mark_rejected(w, &cid, "never arrived"),
                        |v| dbg(&v),
                    );
                }
            }
            13 => {
                let (cid, side) = self.cid();
                let report = ExchangeReport {
                    client_order_id: cid.clone(),
                    side,
                    order_type: OrderType::Limit,
                    price: self.price(),
                    orig_qty: d("0.56"),
                    stop_price: None,
                    trailing_delta: None,
                    time_in_force: None,
                    state: self.exchange_state(&cid),
                };
                self.cids.push(cid);
                let w = self.writer();
                self.both(
                    "upsert_from_exchange",
                    |l| l.upsert_from_exchange(w, &report),
                    |v| dbg(&v),
                );
            }
            14..=16 => {
                let b = self.basket();
                let batch: Vec<NewFill> = (0..1 + self.rng.below(3))
                    .map(|_| {
                        let mut f = self.new_fill();
                        if self.rng.chance(80) {
                            let role = f
                                .fill
                                .client_order_id
                                .split('_')
                                .nth(3)
                                .unwrap_or("B1")
                                .to_string();
                            f.fill.client_order_id =
                                format!("BOT_SOLUSDC_{b}_{role}_{}", f.fill.trade_id % 30 + 1);
                        }
                        f
                    })
                    .collect();
                let w = self.writer();
                let last = self
                    .mem
                    .baskets()
                    .iter()
                    .find(|r| r.id == b)
                    .and_then(|r| r.last_trade_id);
                let oldest = batch.iter().map(|f| f.fill.trade_id).min();
                let n = self.both(
                    "record_fills",
                    |l| l.record_fills(w, b, "SOL", &batch),
                    |v| dbg(&v),
                );
                if n.is_some_and(|n| n != "0")
                    && matches!((last, oldest), (Some(l), Some(o)) if o <= l)
                {
                    self.saw("record_fills late (re-walk)");
                }
            }
            17 => {
                let (w, b) = (self.worker(), self.basket());
                let cursor = i64::try_from(self.rng.below(40)).unwrap() - 1;
                self.both(
                    "set_trade_cursor",
                    |l| l.set_trade_cursor(w, b, cursor),
                    |v| dbg(&v),
                );
            }
            18 => {
                let (w, b) = (self.writer(), self.basket());
                let statuses = [
                    BasketStatus::Active,
                    BasketStatus::Paused,
                    BasketStatus::Stopping,
                    BasketStatus::Closing,
                    BasketStatus::Closed,
                    BasketStatus::Stopped,
                    BasketStatus::EmergencyClosed,
                    BasketStatus::Error,
                ];
                let seq = i64::try_from(self.rng.below(40)).unwrap() - 1;
                let update = PlanUpdate {
                    status: self.rng.pick(&statuses),
                    closed_reason: self.rng.chance(40).then(|| "reanchored".to_string()),
                    state: json!({ "step": self.step }),
                    order_seq: seq,
                };
                let cfg = GridConfig::default();
                let r = rules("5", "SOL", "0.001");
                let anchor = d(self.rng.pick(&["140", "0", "150.5", "140.0000000001"]));
                let with = self.rng.chance(30);
                let out = self.both(
                    "update_after_plan",
                    |l| {
                        let s = with.then_some(Successor {
                            config: &cfg,
                            rules: &r,
                            anchor,
                        });
                        l.update_after_plan(w, b, &update, s)
                    },
                    |v| dbg(&v),
                );
                match out.as_deref() {
                    Some(o) if o.starts_with("Some(Ok") => self.saw("reanchor created"),
                    Some(o) if o.starts_with("Some(Err") => self.saw("reanchor failed"),
                    _ => {}
                }
            }
            19 => {
                let (w, b) = (self.writer(), self.basket());
                let st = self.rng.pick(&[
                    BasketStatus::Active,
                    BasketStatus::Paused,
                    BasketStatus::Closed,
                    BasketStatus::Error,
                ]);
                let reason = self.rng.chance(50).then_some("operator");
                self.both(
                    "set_status",
                    |l| l.set_status(w, b, st, reason),
                    |v| dbg(&v),
                );
            }
            20 => {
                let (w, b) = (self.writer(), self.basket());
                let r = match self.rng.below(6) {
                    0 => rules("5", "BTC", "0.001"),
                    1 => rules("5", "SOL", "0"),
                    _ => rules(self.rng.pick(&["5", "10", "7.5"]), "SOL", "0.001"),
                };
                self.both(
                    "update_rules",
                    |l| l.update_rules(w, b, &r),
                    |v| dbg(&norm_basket(&v)),
                );
            }
            _ => {
                let b = if self.rng.chance(30) {
                    None
                } else {
                    Some(self.basket())
                };
                let level = self
                    .rng
                    .pick(&[EventLevel::Info, EventLevel::Warn, EventLevel::Error]);
                let kind = self.rng.pick(&["lease_taken", "order_failed", "cycle", ""]);
                let message = if self.rng.chance(50) {
                    "same".to_string()
                } else {
                    format!("m{}", self.step)
                };
                let event = NewEvent::new(b, level, kind, message)
                    .with_data(self.rng.chance(30).then(|| json!({"k": self.step})));
                if self.rng.chance(30) {
                    let input = plan_input(b.unwrap_or(1));
                    let event = if self.rng.chance(20) {
                        event.with_data(Some(json!(1)))
                    } else {
                        event
                    };
                    self.both(
                        "insert_cycle_event",
                        |l| l.insert_cycle_event(&event, &input),
                        |v| dbg(&v),
                    );
                } else {
                    self.both("insert_event", |l| l.insert_event(&event), |v| dbg(&v));
                }
            }
        }
    }
}

fn run(seed: u64) -> BTreeMap<String, usize> {
    let db = TestDb::new();
    let mut pg = db.connect();
    let mem = MemLedger::at(Utc::now().timestamp_millis());
    for w in ["w1", "w2"] {
        store::misc::heartbeat(
            &mut pg,
            &store::misc::Heartbeat {
                instance_id: w.to_string(),
                mode: "paper".into(),
                base_url: "http://sim".into(),
                pid: 1,
                started_at: Utc::now(),
                last_cycle_at: None,
                last_cycle_ms: None,
                last_error: None,
                last_error_at: None,
                weight_used: None,
            },
        )
        .unwrap();
        mem.heartbeat(w);
    }
    let r = rules("5", "SOL", "0.001");
    for anchor in ["150", "140"] {
        let a = store::baskets::create(&mut pg, &GridConfig::default(), &r, d(anchor)).unwrap();
        let b = mem
            .create_basket(&GridConfig::default(), &r, d(anchor))
            .unwrap();
        assert_eq!(norm_basket(&a), norm_basket(&b));
    }
    let mut world = World {
        pg,
        mem,
        rng: Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1),
        step: 0,
        baskets: Vec::new(),
        cids: Vec::new(),
        fills: Vec::new(),
        trade: 0,
        stamps: (Vec::new(), Vec::new()),
        seen: BTreeMap::new(),
    };
    world.compare_rows("setup");
    world.prologue();
    for step in 0..STEPS {
        world.step = step;
        world.one_step();
    }
    world.seen
}

#[test]
fn mem_ledger_matches_postgres_call_for_call() {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for seed in SEEDS {
        for (k, n) in run(*seed) {
            *seen.entry(k).or_default() += n;
        }
    }
    eprintln!("outcomes: {seen:#?}");
    // The runs reach the interesting paths, not only the refusals.
    for must in [
        "acquire_leases Ok",
        "insert_pending_at Ok",
        "insert_pending_at Conflict",
        "insert_pending_at LeaseLost",
        "mark_sent Ok",
        "mark_sent Conflict",
        "mark_rejected Invalid",
        "upsert_from_exchange Ok",
        "record_fills Ok",
        "record_fills Pnl",
        "record_fills Conflict",
        "record_fills late (re-walk)",
        "reanchor created",
        "reanchor failed",
        "set_trade_cursor Ok",
        "update_after_plan Ok",
        "update_rules Ok",
        "insert_event Query",
        "insert_cycle_event Ok",
        "mark_sent Query",
        "upsert_from_exchange Query",
        "record_fills Query",
    ] {
        assert!(seen.get(must).is_some_and(|n| *n > 0), "never saw {must}");
    }
}

//! The two ledgers of the differential test side by side: one call on
//! both, the comparison of results and rows, the generators of arguments,
//! and the scripted calls for paths random ones rarely reach.

use std::collections::BTreeMap;
use std::fmt::Debug;

use bot_daemon::ledger::{Ledger, Successor};
use bot_daemon::sim::MemLedger;
use chrono::{DateTime, TimeZone, Utc};
use diesel::pg::PgConnection;
use grid_core::{BasketStatus, Fill, GridConfig, OrderType, Side};
use rust_decimal::Decimal;
use serde_json::json;
use store::baskets::PlanUpdate;
use store::fills::NewFill;
use store::orders::{ExchangeReport, ExchangeState, NewOrderRow};
use store::{Error, OrderRowStatus, Writer};

use super::*;

/// PostgreSQL and a `MemLedger` driven alike, with what the generators
/// remember (baskets, clientOrderIds, fills) to reuse.
pub struct World {
    pub pg: PgConnection,
    pub mem: MemLedger,
    pub rng: Rng,
    pub step: usize,
    pub baskets: Vec<i64>,
    pub cids: Vec<String>,
    pub fills: Vec<NewFill>,
    pub trade: i64,
    /// Last `updated_at`s seen (PostgreSQL, memory): did a call move them.
    pub stamps: (Vec<DateTime<Utc>>, Vec<DateTime<Utc>>),
    /// How often each call gave each outcome (`record_fills Ok`,
    /// `mark_sent LeaseLost`, …): the coverage of the run.
    pub seen: BTreeMap<String, usize>,
}

impl World {
    /// Runs `f` on both ledgers and compares results, then the stored rows.
    pub fn both<T: Debug>(
        &mut self,
        what: &str,
        f: impl Fn(&mut dyn Ledger) -> Result<T, Error>,
        show: impl Fn(T) -> String,
    ) -> Option<String> {
        // The memory clock follows the wall clock, strictly increasing.
        let now = Utc::now().timestamp_millis().max(self.mem.now_ms() + 1);
        self.mem.set_now_ms(now);
        let pg = f(&mut self.pg);
        let mem = f(&mut self.mem);
        let shown = |r: &Result<T, Error>| match r {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        };
        let (pg_err, mem_err) = (shown(&pg), shown(&mem));
        let outcome = match &pg {
            Ok(_) => "Ok".to_string(),
            Err(e) => variant(e),
        };
        *self.seen.entry(format!("{what} {outcome}")).or_default() += 1;
        let (pg, mem) = (pg.map(&show), mem.map(&show));
        assert_eq!(
            (pg.as_ref().ok(), &pg_err),
            (mem.as_ref().ok(), &mem_err),
            "step {} {what}: PostgreSQL (left) and MemLedger (right) differ",
            self.step
        );
        self.compare_rows(what);
        pg.ok()
    }

    pub fn saw(&mut self, what: &str) {
        *self.seen.entry(what.to_string()).or_default() += 1;
    }

    pub fn compare_rows(&mut self, what: &str) {
        let (pg, pg_stamps) = pg_state(&mut self.pg);
        let (mem, mem_stamps) = mem_state(&self.mem);
        let step = self.step;
        same_rows(step, what, "baskets", &pg.baskets, &mem.baskets);
        same_rows(step, what, "orders", &pg.orders, &mem.orders);
        same_rows(step, what, "fills", &pg.fills, &mem.fills);
        same_rows(step, what, "pnl_hourly", &pg.hourly, &mem.hourly);
        same_rows(step, what, "prices", &pg.prices, &mem.prices);
        same_rows(step, what, "events", &pg.events, &mem.events);
        assert_eq!(
            moved(&self.stamps.0, &pg_stamps),
            moved(&self.stamps.1, &mem_stamps),
            "step {} {what}: updated_at moved differently",
            self.step
        );
        self.stamps = (pg_stamps, mem_stamps);
        self.baskets = mem.baskets.iter().map(|b| b.id).collect();
    }

    pub fn writer(&mut self) -> Writer<'static> {
        match self.rng.below(10) {
            0..=3 => Writer::Unleased,
            4..=6 => Writer::Lease("w1"),
            7 | 8 => Writer::Lease("w2"),
            _ => Writer::Command("w1"),
        }
    }

    pub fn worker(&mut self) -> &'static str {
        self.rng.pick(&["w1", "w2"])
    }

    pub fn basket(&mut self) -> i64 {
        if self.rng.chance(6) || self.baskets.is_empty() {
            999
        } else {
            let b = self.baskets.clone();
            self.rng.pick(&b)
        }
    }

    pub fn cid(&mut self) -> (String, Side) {
        if !self.cids.is_empty() && self.rng.chance(70) {
            let c = self.rng.pick(&self.cids.clone());
            let side = if c.contains("_B") {
                Side::Buy
            } else {
                Side::Sell
            };
            return (c, side);
        }
        let (b, role) = (self.basket(), self.rng.pick(ROLES));
        let seq = 1 + self.rng.below(30);
        let side = if is_buy(role) { Side::Buy } else { Side::Sell };
        (format!("BOT_SOLUSDC_{b}_{role}_{seq}"), side)
    }

    pub fn price(&mut self) -> Decimal {
        d(self.rng.pick(&[
            "142.5",
            "135",
            "150",
            "120.001",
            "0.5",
            "142.5",
            "142.500000001",
            "-1",
        ]))
    }

    pub fn exchange_state(&mut self, cid: &str) -> ExchangeState {
        let id = if self.rng.chance(20) {
            i64::try_from(1 + self.rng.below(2)).unwrap()
        } else {
            cid.bytes()
                .fold(17_i64, |h, b| (h * 31 + i64::from(b)) % 1_000_000_007)
        };
        let executed = d(self.rng.pick(&["0", "0.1", "0.2", "0.56"]));
        ExchangeState {
            exchange_order_id: id,
            status: self.rng.pick(&[
                OrderRowStatus::New,
                OrderRowStatus::PartiallyFilled,
                OrderRowStatus::Filled,
                OrderRowStatus::Canceled,
                OrderRowStatus::PendingCancel,
                OrderRowStatus::Expired,
                OrderRowStatus::Rejected,
                OrderRowStatus::New,
                OrderRowStatus::Unknown,
            ]),
            executed_qty: executed,
            cummulative_quote_qty: executed * d("142.5"),
        }
    }

    pub fn new_fill(&mut self) -> NewFill {
        if !self.fills.is_empty() && self.rng.chance(25) {
            return self.rng.pick(&self.fills.clone());
        }
        let b = self.basket();
        let role = if self.rng.chance(60) {
            self.rng.pick(&["B1", "B2", "B3"])
        } else {
            self.rng.pick(&["TP1", "TP2", "TRAIL"])
        };
        let trade = if self.rng.chance(15) {
            i64::try_from(1 + self.rng.below(u64::try_from(self.trade).unwrap_or(1))).unwrap()
        } else {
            self.trade += i64::try_from(1 + self.rng.below(3)).unwrap();
            self.trade
        };
        let mut side = if is_buy(role) { Side::Buy } else { Side::Sell };
        if self.rng.chance(4) {
            side = if side == Side::Buy {
                Side::Sell
            } else {
                Side::Buy
            };
        }
        let price = d(self.rng.pick(&["142.5", "135", "150.001", "120"]));
        let (fee, asset) = self
            .rng
            .pick(&[("0", "USDC"), ("0.0001", "SOL"), ("0.05", "USDC")]);
        let fee = d(fee);
        let f = NewFill {
            fill: Fill {
                trade_id: trade,
                exchange_order_id: 5000 + trade,
                client_order_id: format!("BOT_SOLUSDC_{b}_{role}_{}", 1 + self.rng.below(30)),
                side,
                price,
                qty: d(self.rng.pick(&["0.1", "0.2", "0.56", "1"])),
                commission: fee,
                commission_asset: asset.to_string(),
                commission_quote: if asset == "SOL" { fee * price } else { fee },
            },
            quote_qty: None,
            is_maker: self.rng.chance(50),
            executed_at: Utc
                .timestamp_opt(1_760_000_000 + trade * 700, 123_456_789)
                .unwrap(),
        };
        self.fills.push(f.clone());
        f
    }

    /// Scripted calls for the paths random ones rarely reach: constraint
    /// violations, and ids an insert consumed before failing.
    pub fn prologue(&mut self) {
        let dbg = |v: &dyn Debug| format!("{v:?}");
        let pending = |cid: &str, side| NewOrderRow {
            basket_id: 1,
            client_order_id: cid.to_string(),
            side,
            order_type: OrderType::Limit,
            price: d("142.5"),
            quantity: d("0.56"),
            stop_price: None,
            trailing_delta: None,
            time_in_force: None,
        };
        let st = |id, status| ExchangeState {
            exchange_order_id: id,
            status,
            executed_qty: Decimal::ZERO,
            cummulative_quote_qty: Decimal::ZERO,
        };
        for cid in ["BOT_SOLUSDC_1_B1_1", "BOT_SOLUSDC_1_B2_2"] {
            let row = pending(cid, Side::Buy);
            self.both(
                "insert_pending_at",
                |l| l.insert_pending_at(Writer::Unleased, &row, None),
                |v| dbg(&v),
            );
        }
        let new = st(42, OrderRowStatus::New);
        self.both(
            "mark_sent",
            |l| l.mark_sent(Writer::Unleased, "BOT_SOLUSDC_1_B1_1", &new),
            |v| dbg(&v),
        );
        // Another order with the same exchange id: the unique index refuses.
        self.both(
            "mark_sent",
            |l| l.mark_sent(Writer::Unleased, "BOT_SOLUSDC_1_B2_2", &new),
            |v| dbg(&v),
        );
        let report = ExchangeReport {
            client_order_id: "BOT_SOLUSDC_2_TP1_3".into(),
            side: Side::Sell,
            order_type: OrderType::Limit,
            price: d("150"),
            orig_qty: d("0.5"),
            stop_price: None,
            trailing_delta: None,
            time_in_force: None,
            state: st(42, OrderRowStatus::Filled),
        };
        self.both(
            "upsert_from_exchange",
            |l| l.upsert_from_exchange(Writer::Unleased, &report),
            |v| dbg(&v),
        );
        // The refused insert consumed an order id.
        let row = pending("BOT_SOLUSDC_1_B3_4", Side::Buy);
        self.both(
            "insert_pending_at",
            |l| l.insert_pending_at(Writer::Unleased, &row, None),
            |v| dbg(&v),
        );
        // A buy whose base-asset fee exceeds it: the position would go negative.
        let mut f = NewFill {
            fill: Fill {
                trade_id: 1,
                exchange_order_id: 42,
                client_order_id: "BOT_SOLUSDC_1_B1_1".into(),
                side: Side::Buy,
                price: d("142.5"),
                qty: d("0.1"),
                commission: d("0.2"),
                commission_asset: "SOL".into(),
                commission_quote: d("28.5"),
            },
            quote_qty: None,
            is_maker: true,
            executed_at: Utc.timestamp_opt(1_760_000_000, 0).unwrap(),
        };
        let batch = vec![f.clone()];
        self.both(
            "record_fills",
            |l| l.record_fills(Writer::Unleased, 1, "SOL", &batch),
            |v| dbg(&v),
        );
        f.fill.commission = d("0.0001");
        f.fill.commission_quote = d("0.01425");
        let batch = vec![f];
        self.both(
            "record_fills",
            |l| l.record_fills(Writer::Unleased, 1, "SOL", &batch),
            |v| dbg(&v),
        );
        // Successors: ids too long for the symbol (the id is consumed), an
        // asset too long for its column, then one that is created.
        let long = GridConfig {
            symbol: "AVERYLONGSYMBOLUSDC".into(),
            ..GridConfig::default()
        };
        let (cfg, ok_rules) = (GridConfig::default(), rules("5", "SOL", "0.001"));
        let long_asset = rules("5", "SOLSOLSOLSOLSOLSOLSOLS", "0.001");
        let plan = PlanUpdate {
            status: BasketStatus::Active,
            closed_reason: None,
            state: json!({}),
            order_seq: 0,
        };
        for (c, r) in [(&long, &ok_rules), (&cfg, &long_asset), (&cfg, &ok_rules)] {
            let s = Successor {
                config: c,
                rules: r,
                anchor: d("140"),
            };
            self.both(
                "update_after_plan",
                |l| l.update_after_plan(Writer::Unleased, 2, &plan, Some(s)),
                |v| dbg(&v),
            );
        }
        self.saw("prologue");
    }
}

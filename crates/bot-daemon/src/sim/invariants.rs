//! The money invariants the simulation harness checks after every step
//! ([`check_step`]) and once the run has settled ([`check_settled`]).
//! docs/invariants.md lists them with the other tests of each rule.
//!
//! After every step, from the exchange's records and the ledger:
//! - `two_live_orders`: no role of a basket has two live orders;
//! - `level_overbought`: no level is bought beyond its quantity;
//! - `sold_unbought`: no basket sold more than it received from its buys;
//! - `fill_twice` / `fill_unknown`: each fill in the ledger is an exchange
//!   trade of that basket's orders, recorded once;
//! - `terminal_unprotected`: no basket takes a terminal status while it
//!   holds a position worth selling (judged at the step it ended: a dust
//!   remainder may be worth more later, at a higher price);
//! - `user_order_touched`: no cancel ever targeted an order that is not the
//!   bot's, and the user's order is still on the book as placed;
//! - `weight_after_429`: no worker sends a request during a 429/418's
//!   Retry-After it was given (each worker process has its own governor: a
//!   restarted process, or another worker, cannot know it; the harness
//!   checks this around each worker's cycle).
//!
//! Once settled (faults off, every create delivered, a few quiet cycles):
//! - `fill_missing`: every exchange trade of a bot order is in the ledger;
//! - `position_mismatch`: each basket's position in the ledger equals the
//!   one its exchange trades give.

use std::collections::{BTreeMap, BTreeSet};

use exchange_sim::{Engine, OrderStatus};
use grid_core::{BasketStatus, ClientOrderId, Decimal, GridConfig, Role, Side, SymbolRules};
use store::baskets::BasketRow;
use store::CommandStatus;

use super::mem_ledger::MemLedger;

/// One broken invariant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The invariant's name (see the module docs).
    pub invariant: &'static str,
    /// What broke, with the values.
    pub detail: String,
}

fn violation(invariant: &'static str, detail: String) -> Violation {
    Violation { invariant, detail }
}

/// What the checks need to know about the run.
#[derive(Debug, Clone)]
pub struct Context {
    /// The user's own order (not the bot's), placed at the start.
    pub user_order_id: u64,
    /// Its clientOrderId.
    pub user_client_order_id: String,
    /// Each basket's level quantities, the largest under every set of rules
    /// it has had (a rules change re-rounds them); see [`Context::learn`].
    pub allowed: BTreeMap<i64, BTreeMap<u32, Decimal>>,
    /// The rules (as stored) each basket's `allowed` has seen.
    pub rules_seen: BTreeMap<i64, Vec<serde_json::Value>>,
    /// Baskets already seen with a terminal status: judged when they ended
    /// (at the price the plan saw), not again as the price moves on.
    pub ended: BTreeSet<i64>,
}

impl Context {
    /// Takes in new baskets and new rules (before a check).
    pub fn learn(&mut self, baskets: &[&BasketRow]) {
        for b in baskets {
            let seen = self.rules_seen.entry(b.id).or_default();
            if seen.contains(&b.rules) {
                continue;
            }
            seen.push(b.rules.clone());
            let (Ok(config), Ok(rules)) = (b.config(), b.rules()) else {
                continue;
            };
            let allowed = self.allowed.entry(b.id).or_default();
            for (i, q) in level_quantities(&config, &rules, b.anchor_price) {
                let e = allowed.entry(i).or_insert(q);
                *e = (*e).max(q);
            }
        }
    }

    /// Remembers which baskets have ended (after a check).
    pub fn mark_ended(&mut self, baskets: &[&BasketRow]) {
        self.ended.extend(
            baskets
                .iter()
                .filter(|b| b.status.is_terminal())
                .map(|b| b.id),
        );
    }
}

/// One basket's trading as the exchange recorded it.
#[derive(Debug, Default, Clone)]
struct Traded {
    received: Decimal,
    sold: Decimal,
    /// `received − sold` minus base-asset fees on sells.
    position: Decimal,
    per_level: BTreeMap<u32, Decimal>,
    trade_ids: BTreeSet<i64>,
}

fn basket_of(cid: &str) -> Option<(i64, Role)> {
    ClientOrderId::parse(cid)
        .ok()
        .map(|c| (c.basket_id, c.role))
}

fn traded(engine: &Engine, baskets: &[&BasketRow]) -> BTreeMap<i64, Traded> {
    let base: BTreeMap<i64, &str> = baskets
        .iter()
        .map(|b| (b.id, b.base_asset.as_str()))
        .collect();
    let mut out: BTreeMap<i64, Traded> = BTreeMap::new();
    for t in engine.trades() {
        let Some((id, role)) = basket_of(&t.client_order_id) else {
            continue;
        };
        let e = out.entry(id).or_default();
        let fee_in_base = base.get(&id).is_some_and(|b| *b == t.commission_asset);
        let fee = if fee_in_base {
            t.commission
        } else {
            Decimal::ZERO
        };
        match t.side {
            Side::Buy => {
                e.received += t.qty - fee;
                e.position += t.qty - fee;
                if let Role::Buy(i) = role {
                    *e.per_level.entry(i).or_insert(Decimal::ZERO) += t.qty;
                }
            }
            Side::Sell => {
                e.sold += t.qty;
                e.position -= t.qty + fee;
            }
        }
        e.trade_ids.insert(i64::try_from(t.id).unwrap_or(i64::MAX));
    }
    out
}

fn level_quantities(
    config: &GridConfig,
    rules: &SymbolRules,
    anchor: Decimal,
) -> BTreeMap<u32, Decimal> {
    let mut levels = grid_core::ladder::base_levels(config, rules, anchor);
    levels.extend(grid_core::ladder::extension_levels(config, rules, anchor));
    levels.into_iter().map(|l| (l.index, l.qty)).collect()
}

/// The invariants that hold after every step.
pub fn check_step(
    engine: &Engine,
    ledger: &MemLedger,
    baskets: &[&BasketRow],
    canceled: &[String],
    cx: &Context,
) -> Vec<Violation> {
    let mut out = Vec::new();

    // Live orders per role (`BOT_SOLUSDC_3_B1`).
    let mut live: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for o in engine.orders().iter().filter(|o| o.status.is_open()) {
        if basket_of(&o.client_order_id).is_none() {
            continue;
        }
        if let Some((role_key, _)) = o.client_order_id.rsplit_once('_') {
            live.entry(role_key.to_string())
                .or_default()
                .push(&o.client_order_id);
        }
    }
    for (role, cids) in live.iter().filter(|(_, c)| c.len() > 1) {
        out.push(violation(
            "two_live_orders",
            format!("role {role} has live orders {cids:?}"),
        ));
    }

    let traded = traded(engine, baskets);
    for b in baskets {
        let t = traded.get(&b.id).cloned().unwrap_or_default();
        if t.sold > t.received {
            out.push(violation(
                "sold_unbought",
                format!(
                    "basket {} sold {} but received {}",
                    b.id, t.sold, t.received
                ),
            ));
        }
        if let Some(allowed) = cx.allowed.get(&b.id) {
            for (i, got) in &t.per_level {
                let max = allowed.get(i).copied().unwrap_or(Decimal::ZERO);
                if *got > max {
                    out.push(violation(
                        "level_overbought",
                        format!(
                            "basket {} level B{i} bought {got} > its quantity {max}",
                            b.id
                        ),
                    ));
                }
            }
        }
        let newly_ended = b.status.is_terminal()
            && b.status != BasketStatus::Error
            && !cx.ended.contains(&b.id)
            && t.position > Decimal::ZERO;
        if let (true, Ok(rules)) = (newly_ended, b.rules()) {
            let last = engine.last_price(&b.symbol).unwrap_or(Decimal::ZERO);
            if !rules.is_dust(t.position, last) {
                out.push(violation(
                    "terminal_unprotected",
                    format!(
                        "basket {} is {} holding {} {} (not dust at {last})",
                        b.id, b.status, t.position, b.base_asset
                    ),
                ));
            }
        }
    }

    // Fills: each an exchange trade of its basket, once.
    let mut seen = BTreeSet::new();
    for f in ledger.fill_rows().values() {
        if !seen.insert(f.exchange_trade_id) {
            out.push(violation(
                "fill_twice",
                format!("trade {} is recorded twice", f.exchange_trade_id),
            ));
        }
        let known = traded
            .get(&f.basket_id)
            .is_some_and(|t| t.trade_ids.contains(&f.exchange_trade_id));
        if !known {
            out.push(violation(
                "fill_unknown",
                format!(
                    "fill of trade {} (basket {}) is not an exchange trade of its orders",
                    f.exchange_trade_id, f.basket_id
                ),
            ));
        }
    }

    if let Some(cid) = canceled.iter().find(|c| basket_of(c).is_none()) {
        out.push(violation(
            "user_order_touched",
            format!("a cancel targeted {cid}"),
        ));
    }
    let user = engine
        .orders()
        .iter()
        .find(|o| o.order_id == cx.user_order_id);
    if !user.is_some_and(|o| {
        o.status == OrderStatus::New && o.client_order_id == cx.user_client_order_id
    }) {
        out.push(violation(
            "user_order_touched",
            format!(
                "the user's order {} is no longer as placed",
                cx.user_client_order_id
            ),
        ));
    }
    out
}

/// The invariants that hold once the run has settled.
pub fn check_settled(engine: &Engine, ledger: &MemLedger) -> Vec<Violation> {
    let mut out = Vec::new();
    let rows = ledger.basket_rows();
    let baskets: Vec<&BasketRow> = rows.values().collect();
    let traded = traded(engine, &baskets);
    let recorded: BTreeSet<i64> = ledger
        .fill_rows()
        .values()
        .map(|f| f.exchange_trade_id)
        .collect();
    for (id, t) in &traded {
        let missing: Vec<&i64> = t.trade_ids.difference(&recorded).collect();
        if !missing.is_empty() {
            out.push(violation(
                "fill_missing",
                format!("basket {id}: trades {missing:?} are not in the ledger"),
            ));
        }
    }
    for c in ledger.command_rows().values() {
        if matches!(c.status, CommandStatus::Pending | CommandStatus::Running) {
            out.push(violation(
                "command_unanswered",
                format!(
                    "command {} ({} on basket {:?}) is still {} once settled",
                    c.id, c.kind, c.basket_id, c.status
                ),
            ));
        }
    }
    for b in &baskets {
        if b.status == BasketStatus::Closing {
            out.push(violation(
                "close_unfinished",
                format!("basket {} is still closing once settled", b.id),
            ));
        }
        let want = traded.get(&b.id).map_or(Decimal::ZERO, |t| t.position);
        if b.pos != want {
            out.push(violation(
                "position_mismatch",
                format!(
                    "basket {}: the ledger holds {} {}, its exchange trades {want}",
                    b.id, b.pos, b.base_asset
                ),
            ));
        }
    }
    out
}

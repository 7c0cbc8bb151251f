//! Executing a plan: cancels (plain, then the first half of each replace),
//! then creates, as a state machine the driver feeds with the exchange's
//! answers. The driver does the I/O; every decision is here.
//!
//! Invariants:
//! - cancels run before creates, so a create never competes with the order
//!   it replaces for the same balance or role;
//! - a replacement's quantity is the planned quantity minus what the
//!   cancel answer reports executed, rounded down to the step; nothing is
//!   created when that remainder is not tradable, nor when the cancel's
//!   outcome is unknown or the order was already gone;
//! - an order the plan saw open that traded after the snapshot (a cancel
//!   answers more executed than the snapshot showed, or the order is gone
//!   with more executed) makes the plan stale: every create of the cycle is
//!   deferred and the basket's status is not written;
//! - no create is sent that the free balance cannot pay for: a buy needs
//!   `price × qty` of the quote, a sell `qty` of the base, and each create
//!   sent (or of unknown outcome) reserves its need for the rest of the
//!   cycle.

use std::collections::{HashMap, VecDeque};

use binance_rest::ExchangeOrder;
use grid_core::{Plan, PlannedOrder, Side, SymbolRules};
use rust_decimal::Decimal;
use serde_json::{json, Value};

/// A cancel to send: a plain cancel, or the first half of a replace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelStep {
    /// The clientOrderId to cancel.
    pub client_order_id: String,
    /// For a replace: the clientOrderId of the planned replacement.
    pub replace_with: Option<String>,
}

/// What the exchange said about a cancel.
#[derive(Debug, Clone, Copy)]
pub enum CancelAnswer<'a> {
    /// Canceled; the answer's `executedQty` is final.
    Canceled(&'a ExchangeOrder),
    /// "Unknown order": no longer open; the lookup's report, if it found it.
    Gone(Option<&'a ExchangeOrder>),
    /// The outcome is unknown (a replace's cancel only).
    Unknown,
}

/// What one cancel's answer decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelDecision {
    /// What the order executed, as the answer (or lookup) reports.
    pub executed: Decimal,
    /// It traded after the snapshot: the plan is stale.
    pub traded_since_snapshot: bool,
    /// For a replace: the replacement's quantity, `None` when nothing is
    /// created for the role.
    pub replacement_qty: Option<Decimal>,
}

/// Whether an order traded after the snapshot: it reports more executed
/// than the snapshot showed (an order the snapshot did not show counts
/// from zero).
pub fn traded_since(snapshot_executed: Option<Decimal>, executed: Decimal) -> bool {
    executed > snapshot_executed.unwrap_or(Decimal::ZERO)
}

/// A replacement's quantity: `planned − executed`, rounded down to the
/// step; `None` when that is not a tradable order at `price`.
pub fn replacement_qty(
    rules: &SymbolRules,
    planned: &PlannedOrder,
    executed: Decimal,
) -> Option<Decimal> {
    let qty = rules.round_qty_down(planned.qty - executed);
    (qty > Decimal::ZERO && rules.is_tradable(qty, planned.price)).then_some(qty)
}

/// The free balances a cycle's creates draw on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Balances {
    /// Free quote asset (pays buys).
    pub quote: Decimal,
    /// Free base asset (pays sells).
    pub base: Decimal,
}

/// A create the free balance cannot pay for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insufficient {
    /// What it needs (quote for a buy, base for a sell).
    pub need: Decimal,
    /// What is free.
    pub free: Decimal,
}

impl Balances {
    /// What `order` needs: `price × qty` of the quote for a buy, `qty` of
    /// the base for a sell.
    pub fn need(order: &PlannedOrder) -> Decimal {
        match order.side {
            Side::Buy => order.price * order.qty,
            Side::Sell => order.qty,
        }
    }

    fn free_for(&mut self, side: Side) -> &mut Decimal {
        match side {
            Side::Buy => &mut self.quote,
            Side::Sell => &mut self.base,
        }
    }

    /// Reserves what `order` needs, or says why it cannot be sent.
    ///
    /// # Errors
    /// [`Insufficient`] when the free balance is below its need.
    pub fn reserve(&mut self, order: &PlannedOrder) -> Result<Decimal, Insufficient> {
        let need = Self::need(order);
        let free = self.free_for(order.side);
        if need > *free {
            return Err(Insufficient { need, free: *free });
        }
        *free -= need;
        Ok(need)
    }

    /// Gives back a reservation whose create had no effect.
    pub fn release(&mut self, order: &PlannedOrder) {
        let need = Self::need(order);
        *self.free_for(order.side) += need;
    }
}

/// How a create ended, for the cycle's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateResult {
    /// Accepted; `executed` when it traded at once.
    Placed {
        /// It executed something in its answer.
        executed: bool,
    },
    /// Not sent: its role waits for its retry time after rejections.
    Backoff,
    /// Not sent: the free balance cannot pay for it.
    Insufficient(Insufficient),
    /// Not sent: its clientOrderId is already written (a concurrent writer).
    AlreadyWritten,
    /// Sent and refused, or not sent by the client.
    Rejected(String),
    /// Sent; the outcome is unknown (looked up next cycle).
    Unknown(String),
}

/// One plan's execution; see the module docs.
#[derive(Debug)]
pub struct Execution<'p> {
    plan: &'p Plan,
    rules: &'p SymbolRules,
    snapshot: HashMap<String, Decimal>,
    cancels: VecDeque<CancelStep>,
    creates: Vec<PlannedOrder>,
    stale: Option<String>,
    executed: bool,
    sent: usize,
    results: Vec<Value>,
}

impl<'p> Execution<'p> {
    /// Starts executing `plan` for a basket whose open orders in the
    /// cycle's snapshot were `seen`.
    pub fn new(plan: &'p Plan, rules: &'p SymbolRules, seen: &[ExchangeOrder]) -> Self {
        let cancels = plan
            .actions
            .to_cancel
            .iter()
            .map(|cid| CancelStep {
                client_order_id: cid.clone(),
                replace_with: None,
            })
            .chain(
                plan.actions
                    .to_replace
                    .iter()
                    .filter(|r| plan.order(&r.create).is_some())
                    .map(|r| CancelStep {
                        client_order_id: r.cancel.clone(),
                        replace_with: Some(r.create.clone()),
                    }),
            )
            .collect();
        let creates = plan
            .actions
            .to_create
            .iter()
            .filter_map(|cid| plan.order(cid).cloned())
            .collect();
        Execution {
            plan,
            rules,
            snapshot: seen
                .iter()
                .map(|o| (o.client_order_id.clone(), o.executed_qty))
                .collect(),
            cancels,
            creates,
            stale: None,
            executed: false,
            sent: 0,
            results: Vec::new(),
        }
    }

    /// The next cancel to send (counted as sent), in order: plain cancels,
    /// then the cancels of replaces.
    pub fn next_cancel(&mut self) -> Option<CancelStep> {
        let step = self.cancels.pop_front()?;
        self.sent += 1;
        Some(step)
    }

    /// Takes the exchange's answer to `step`.
    pub fn on_cancel(&mut self, step: &CancelStep, answer: CancelAnswer<'_>) -> CancelDecision {
        let cid = step.client_order_id.as_str();
        let executed = match answer {
            CancelAnswer::Canceled(ex) => ex.executed_qty,
            CancelAnswer::Gone(found) => found.map_or(Decimal::ZERO, |o| o.executed_qty),
            CancelAnswer::Unknown => Decimal::ZERO,
        };
        let traded = !matches!(answer, CancelAnswer::Unknown)
            && traded_since(self.snapshot.get(cid).copied(), executed);
        if traded {
            self.stale.get_or_insert_with(|| cid.to_string());
        }
        let mut replacement_qty = None;
        match answer {
            CancelAnswer::Canceled(ex) => {
                self.executed |= ex.executed_qty > Decimal::ZERO;
                match &step.replace_with {
                    Some(create) => {
                        if let Some(p) = self.plan.order(create) {
                            replacement_qty = self::replacement_qty(self.rules, p, executed);
                            if let Some(qty) = replacement_qty {
                                let mut p = p.clone();
                                p.qty = qty;
                                self.creates.push(p);
                            }
                        }
                        self.results.push(
                            json!({"cancel": cid, "replace": create, "executed": ex.executed_qty}),
                        );
                    }
                    None => self.results.push(json!({"cancel": cid, "ok": true})),
                }
            }
            CancelAnswer::Gone(_) => {
                self.results.push(json!({"cancel": cid, "gone": true}));
            }
            CancelAnswer::Unknown => {
                self.results.push(json!({"cancel": cid, "unknown": true}));
            }
        }
        CancelDecision {
            executed,
            traded_since_snapshot: traded,
            replacement_qty,
        }
    }

    /// After the cancels: the creates to send, in order, or none when the
    /// plan went stale (they are deferred to the next cycle).
    pub fn creates(&mut self) -> Vec<PlannedOrder> {
        let creates = std::mem::take(&mut self.creates);
        if let Some(cid) = &self.stale {
            if !creates.is_empty() {
                self.results
                    .push(json!({"deferred": creates.len(), "traded": cid}));
            }
            return Vec::new();
        }
        creates
    }

    /// The order that traded after the snapshot, if any (the plan is stale).
    pub fn stale(&self) -> Option<&str> {
        self.stale.as_deref()
    }

    /// Records how a create ended.
    pub fn on_create(&mut self, order: &PlannedOrder, result: &CreateResult) {
        let cid = order.client_order_id.as_str();
        let line = match result {
            CreateResult::Placed { executed } => {
                self.sent += 1;
                self.executed |= *executed;
                json!({"create": cid, "ok": true})
            }
            CreateResult::Backoff => json!({"create": cid, "skipped": "backoff"}),
            CreateResult::Insufficient(_) => {
                json!({"create": cid, "skipped": "insufficient_balance"})
            }
            CreateResult::AlreadyWritten => return,
            CreateResult::Rejected(why) => {
                self.sent += 1;
                json!({"create": cid, "rejected": why})
            }
            CreateResult::Unknown(why) => {
                self.sent += 1;
                json!({"create": cid, "unknown": why})
            }
        };
        self.results.push(line);
    }

    /// What the execution did.
    pub fn finish(self) -> Executed {
        Executed {
            results: self.results,
            executed: self.executed || self.stale.is_some(),
            stale: self.stale,
            sent: self.sent,
        }
    }
}

/// What an execution did.
#[derive(Debug, Clone, PartialEq)]
pub struct Executed {
    /// One JSON line per request, for the cycle's event.
    pub results: Vec<Value>,
    /// An order traded in a create or cancel answer (or behind the plan's
    /// back): the basket's trades are synced now.
    pub executed: bool,
    /// An order the plan saw open traded after the snapshot: the plan was
    /// stale (its creates were deferred; its status is not written).
    pub stale: Option<String>,
    /// Requests sent (creates and cancels): 0 in a cycle whose creates all
    /// wait for their retry time, which writes no `cycle` event.
    pub sent: usize,
}

//! The account's user-data events (binance-ws.md §2) as the engine records
//! them, and their JSON as Binance sends them inside
//! `{"subscriptionId":N,"event":{…}}`.
//!
//! Invariants:
//! - the log holds events in the order the engine made them, each with a
//!   sequence number one above the previous one (never reused, also across
//!   [`crate::Engine::reset`]);
//! - it keeps at most [`UserEventLog::capacity`] events (default
//!   [`DEFAULT_EVENT_LOG_CAPACITY`]), dropping the oldest: a reader whose
//!   cursor is older than the oldest kept event has lost events and is told
//!   so ([`Lagged`]); the WebSocket API then ends its subscription with
//!   `eventStreamTerminated` and the client must subscribe again (and sweep
//!   over REST, as after any gap);
//! - nothing is recorded until [`crate::Engine::enable_user_events`] (the HTTP
//!   server enables it; backtests and the simulation harness pay nothing);
//! - the log does no IO: readers are woken through a `tokio::sync::watch`
//!   value that only carries the next sequence number.

use std::collections::VecDeque;
use std::sync::Arc;

use rust_decimal::Decimal;

use crate::api::{arr, Obj};
use crate::types::{Balance, Order, OrderStatus, Trade};

/// Events kept when the config does not say: at ~4 events per fill (NEW,
/// account, TRADE, account) that is the last ~2,500 order changes, far more
/// than a subscriber reading every few milliseconds ever lags.
pub const DEFAULT_EVENT_LOG_CAPACITY: usize = 10_000;

/// `x` of an `executionReport` (binance-ws.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecType {
    /// The order was accepted (also sent again when a stop order triggers and starts working).
    New,
    /// Canceled by the user.
    Canceled,
    /// A fill.
    Trade,
    /// Expired by its type's rules (IOC/FOK/MARKET remainder).
    Expired,
    /// Expired by self-trade prevention (status `EXPIRED_IN_MATCH`).
    TradePrevention,
}

impl ExecType {
    /// Binance's name.
    pub fn as_str(self) -> &'static str {
        match self {
            ExecType::New => "NEW",
            ExecType::Canceled => "CANCELED",
            ExecType::Trade => "TRADE",
            ExecType::Expired => "EXPIRED",
            ExecType::TradePrevention => "TRADE_PREVENTION",
        }
    }
}

/// One `executionReport`: the order as it is right after the change.
#[derive(Debug, Clone)]
pub struct ExecutionReport {
    /// `E`: event time (engine clock).
    pub event_time: i64,
    /// `x`.
    pub exec_type: ExecType,
    /// The order after the change (`X` is its status).
    pub order: Order,
    /// The fill of a `TRADE` report.
    pub trade: Option<Trade>,
    /// `c` of a `CANCELED` report: the cancel request's client id (`C` is
    /// then the order's own client id).
    pub cancel_client_order_id: Option<String>,
    /// `B` of a `TRADE_PREVENTION` report: the quantity this prevented match expired.
    pub last_prevented_quantity: Option<Decimal>,
    /// `U` of a `TRADE_PREVENTION` report: the other order of the prevented match.
    pub counter_order_id: Option<u64>,
    /// `I`: execution id, one per report.
    pub execution_id: u64,
}

/// One `outboundAccountPosition`: the assets the change touched.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountPosition {
    /// `E`.
    pub event_time: i64,
    /// `u`: time of the account update.
    pub update_time: i64,
    /// `B`: asset, free, locked (sorted by asset).
    pub balances: Vec<(String, Balance)>,
}

/// A user-data event.
#[derive(Debug, Clone)]
pub enum UserEvent {
    /// `executionReport`.
    Execution(Box<ExecutionReport>),
    /// `outboundAccountPosition`.
    Account(AccountPosition),
    /// `balanceUpdate` (a deposit or withdrawal: [`crate::Engine::deposit`]).
    Balance {
        /// `E`.
        event_time: i64,
        /// `a`.
        asset: String,
        /// `d`: the delta.
        delta: Decimal,
        /// `T`: clear time.
        clear_time: i64,
    },
}

impl UserEvent {
    /// Its `e`.
    pub fn kind(&self) -> &'static str {
        match self {
            UserEvent::Execution(_) => "executionReport",
            UserEvent::Account(_) => "outboundAccountPosition",
            UserEvent::Balance { .. } => "balanceUpdate",
        }
    }

    /// The event object's JSON, fields in Binance's order.
    pub fn to_json(&self) -> String {
        match self {
            UserEvent::Execution(r) => render_execution(r),
            UserEvent::Account(a) => {
                let b = arr(a.balances.iter().map(|(asset, bal)| {
                    Obj::new()
                        .s("a", asset)
                        .d("f", bal.free)
                        .d("l", bal.locked)
                        .end()
                }));
                Obj::new()
                    .s("e", "outboundAccountPosition")
                    .i("E", a.event_time)
                    .i("u", a.update_time)
                    .raw("B", &b)
                    .end()
            }
            UserEvent::Balance {
                event_time,
                asset,
                delta,
                clear_time,
            } => Obj::new()
                .s("e", "balanceUpdate")
                .i("E", *event_time)
                .s("a", asset)
                .d("d", *delta)
                .i("T", *clear_time)
                .end(),
        }
    }
}

fn id(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// `executionReport` in the field order of the official example
/// (binance-ws.md §2); the conditional fields' places are not documented:
/// `d` after `P`, `v` after `t`, `D`/`j`/`J` after `Q` (the older example),
/// then `W`, `V`, the STP fields and `eR`.
fn render_execution(r: &ExecutionReport) -> String {
    let o = &r.order;
    let cancel = r.exec_type == ExecType::Canceled;
    let c = match (&r.cancel_client_order_id, cancel) {
        (Some(cid), true) => cid.as_str(),
        _ => o.client_order_id.as_str(),
    };
    let orig_c = if cancel {
        o.client_order_id.as_str()
    } else {
        ""
    };
    let mut j = Obj::new()
        .s("e", "executionReport")
        .i("E", r.event_time)
        .s("s", &o.symbol)
        .s("c", c)
        .s("S", o.side.as_str())
        .s("o", o.order_type.as_str())
        .s(
            "f",
            o.time_in_force
                .unwrap_or(crate::types::TimeInForce::Gtc)
                .as_str(),
        )
        .d("q", o.orig_qty)
        .d("p", o.price)
        .d("P", o.stop_price.unwrap_or(Decimal::ZERO));
    if let Some(td) = o.trailing_delta {
        j = j.i("d", i64::from(td));
    }
    j = j
        .d("F", Decimal::ZERO)
        .i("g", -1)
        .s("C", orig_c)
        .s("x", r.exec_type.as_str())
        .s("X", o.status.as_str())
        .s("r", "NONE")
        .i("i", id(o.order_id));
    let t = r.trade.as_ref();
    j = j
        .d("l", t.map_or(Decimal::ZERO, |t| t.qty))
        .d("z", o.executed_qty)
        .d("L", t.map_or(Decimal::ZERO, |t| t.price));
    j = match t {
        Some(t) => j.d("n", t.commission).s("N", &t.commission_asset),
        None => j.s("n", "0").raw("N", "null"),
    };
    j = j
        .i("T", t.map_or(r.event_time, |t| t.time))
        .i("t", t.map_or(-1, |t| id(t.id)));
    if let Some(m) = o
        .prevented_match_id
        .filter(|_| o.status == OrderStatus::ExpiredInMatch)
    {
        j = j.i("v", id(m));
    }
    let on_book =
        o.status.is_open() && o.is_working() && o.order_type != crate::types::OrderType::Market;
    j = j
        .i("I", id(r.execution_id))
        .b("w", on_book)
        .b("m", t.is_some_and(|t| t.is_maker))
        .b("M", t.is_some())
        .i("O", o.time)
        .d("Z", o.cummulative_quote_qty)
        .d("Y", t.map_or(Decimal::ZERO, |t| t.quote_qty))
        .d("Q", o.orig_quote_order_qty);
    if let Some(s) = o.strategy_id {
        j = j.i("j", s);
    }
    if let Some(s) = o.strategy_type {
        j = j.i("J", s);
    }
    if o.working_time >= 0 && o.is_working() {
        j = j.i("W", o.working_time);
    }
    j = j.s("V", o.stp_mode.as_str());
    if r.exec_type == ExecType::TradePrevention {
        j = j.d("A", o.prevented_quantity);
        if let Some(b) = r.last_prevented_quantity {
            j = j.d("B", b);
        }
        j = j.i("u", -1);
        if let Some(u) = r.counter_order_id {
            j = j.i("U", id(u)).s("Cs", &o.symbol);
        }
    }
    if o.status == OrderStatus::Expired {
        if let Some(reason) = &o.expiry_reason {
            j = j.s("eR", reason);
        }
    }
    j.end()
}

/// `{"subscriptionId":N,"event":{…}}`.
pub fn envelope(subscription_id: u32, event_json: &str) -> String {
    format!("{{\"subscriptionId\":{subscription_id},\"event\":{event_json}}}")
}

/// `eventStreamTerminated` for subscription `subscription_id` at `time`.
pub fn terminated_json(subscription_id: u32, time: i64) -> String {
    envelope(
        subscription_id,
        &Obj::new()
            .s("e", "eventStreamTerminated")
            .i("E", time)
            .end(),
    )
}

/// `serverShutdown` (a connection event: no `subscriptionId`).
pub fn server_shutdown_json(time: i64) -> String {
    format!(
        "{{\"event\":{}}}",
        Obj::new().s("e", "serverShutdown").i("E", time).end()
    )
}

/// A reader's cursor is older than the oldest event kept: events were lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lagged {
    /// The oldest sequence number still kept.
    pub oldest: u64,
}

/// The bounded, sequenced log of the account's events (see the module doc).
#[derive(Debug, Clone)]
pub struct UserEventLog {
    enabled: bool,
    events: VecDeque<(u64, UserEvent)>,
    next_seq: u64,
    capacity: usize,
    next_execution_id: u64,
    signal: Arc<tokio::sync::watch::Sender<u64>>,
}

impl UserEventLog {
    /// An empty, disabled log keeping at most `capacity` events (at least 1).
    pub fn new(capacity: usize) -> UserEventLog {
        let (tx, _rx) = tokio::sync::watch::channel(0);
        UserEventLog {
            enabled: false,
            events: VecDeque::new(),
            next_seq: 0,
            capacity: capacity.max(1),
            next_execution_id: 1,
            signal: Arc::new(tx),
        }
    }

    /// Starts recording.
    pub fn enable(&mut self) {
        self.enabled = true;
    }

    /// Whether events are recorded.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// The bound.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The sequence number the next event will get (a new reader's cursor).
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// A new execution id (`I`).
    pub(crate) fn execution_id(&mut self) -> u64 {
        let id = self.next_execution_id;
        self.next_execution_id += 1;
        id
    }

    /// Appends an event (when enabled) and wakes the readers.
    pub(crate) fn push(&mut self, ev: UserEvent) {
        if !self.enabled {
            return;
        }
        self.events.push_back((self.next_seq, ev));
        self.next_seq += 1;
        while self.events.len() > self.capacity {
            self.events.pop_front();
        }
        self.signal.send_replace(self.next_seq);
    }

    /// The events with a sequence number >= `cursor`, oldest first.
    ///
    /// # Errors
    /// [`Lagged`] when events after `cursor` were already dropped.
    pub fn since(&self, cursor: u64) -> Result<Vec<(u64, UserEvent)>, Lagged> {
        let oldest = self.events.front().map_or(self.next_seq, |(s, _)| *s);
        if cursor < oldest {
            return Err(Lagged { oldest });
        }
        let skip = usize::try_from(cursor - oldest).unwrap_or(usize::MAX);
        Ok(self.events.iter().skip(skip).cloned().collect())
    }

    /// A receiver that changes whenever an event is appended.
    pub fn subscribe_signal(&self) -> tokio::sync::watch::Receiver<u64> {
        self.signal.subscribe()
    }
}

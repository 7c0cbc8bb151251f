//! [`Interposer`]: the harness's hands between a worker and the in-process
//! exchange. It holds creates to deliver them later (a send that leaves
//! late), and records every cancel's target (user orders must never be
//! one). The engine's own faults (5xx, lost answers, timeouts, 429/418,
//! clock skew, partial fills) are set on the engine itself.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use binance_rest::{
    Account, Error, Exchange, ExchangeOrder, ExchangeTrade, NewOrder, OrderRef, SymbolState,
};
use exchange_sim::InProcess;
use grid_core::{Decimal, SymbolRules};

/// What the harness shares with every worker's [`Interposer`].
#[derive(Debug, Default)]
pub struct Hands {
    /// Hold the next create instead of sending it (its answer is lost).
    pub hold_next_create: bool,
    /// Creates held, with the step at which they reach the exchange.
    pub held: Vec<(u64, NewOrder)>,
    /// Every clientOrderId a worker asked to cancel.
    pub canceled: Vec<String>,
    /// Requests that reached the exchange inside a Retry-After the same
    /// client had been given (`weight_after_429`).
    pub retry_after_breaches: Vec<String>,
}

/// The shared [`Hands`].
pub type SharedHands = Arc<Mutex<Hands>>;

/// Locks the hands (a poisoned lock only means a test thread panicked).
pub fn hands(h: &SharedHands) -> MutexGuard<'_, Hands> {
    h.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A worker's exchange: the in-process simulator with the harness's hands.
#[derive(Debug)]
pub struct Interposer {
    /// The client of the shared engine.
    pub inner: InProcess,
    hands: SharedHands,
    /// The step number, for held creates' delivery.
    step: Arc<Mutex<u64>>,
    /// Steps a held create waits before it reaches the exchange.
    pub hold_steps: u64,
    /// End of the longest Retry-After this client was given (engine ms).
    retry_until: Mutex<i64>,
}

impl Interposer {
    /// A worker's exchange over `inner`.
    pub fn new(inner: InProcess, hands: SharedHands, step: Arc<Mutex<u64>>) -> Interposer {
        Interposer {
            inner,
            hands,
            step,
            hold_steps: 3,
            retry_until: Mutex::new(i64::MIN),
        }
    }

    /// Runs one call of the client, noting a request that reaches the
    /// exchange inside a Retry-After this client was given, and each new
    /// Retry-After.
    fn call<T>(
        &self,
        what: &str,
        f: impl FnOnce(&InProcess) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let (now, before) = self
            .inner
            .with_engine(|e| (e.now(), e.requests_during_retry_after()));
        let res = f(&self.inner);
        let after = self.inner.with_engine(|e| e.requests_during_retry_after());
        let mut until = self
            .retry_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if now < *until && after > before {
            hands(&self.hands).retry_after_breaches.push(format!(
                "{what} reached the exchange at {now}, inside a Retry-After until {}",
                *until
            ));
        }
        if let Err(e) = &res {
            if let Some(d) = e.retry_after() {
                let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2);
                *until = (*until).max(now.saturating_add(ms));
            }
        }
        res
    }
}

impl Exchange for Interposer {
    fn server_time(&self) -> Result<i64, Error> {
        self.call("server_time", |c| c.server_time())
    }
    fn symbol_rules(&self, symbol: &str) -> Result<SymbolRules, Error> {
        self.call("symbol_rules", |c| c.symbol_rules(symbol))
    }
    fn symbol_state(&self, symbol: &str) -> Result<SymbolState, Error> {
        self.call("symbol_state", |c| c.symbol_state(symbol))
    }
    fn ticker_prices(&self, symbols: &[String]) -> Result<HashMap<String, Decimal>, Error> {
        self.call("ticker_prices", |c| c.ticker_prices(symbols))
    }
    fn open_orders(&self, symbol: Option<&str>) -> Result<Vec<ExchangeOrder>, Error> {
        self.call("open_orders", |c| c.open_orders(symbol))
    }
    fn get_order(&self, symbol: &str, id: OrderRef) -> Result<ExchangeOrder, Error> {
        self.call("get_order", |c| c.get_order(symbol, id))
    }
    fn exchange_now_ms(&self) -> Result<i64, Error> {
        self.call("exchange_now_ms", |c| c.exchange_now_ms())
    }
    fn order_timestamp(&self) -> Result<i64, Error> {
        self.call("order_timestamp", |c| c.order_timestamp())
    }
    fn place_order(&self, req: &NewOrder) -> Result<ExchangeOrder, Error> {
        let mut h = hands(&self.hands);
        if h.hold_next_create {
            h.hold_next_create = false;
            let step = *self
                .step
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            h.held.push((step + self.hold_steps, req.clone()));
            return Err(Error::UnknownOutcome {
                client_order_id: req.new_client_order_id.clone(),
                reason: "held by the simulation harness: it leaves late".into(),
            });
        }
        drop(h);
        self.call("place_order", |c| c.place_order(req))
    }
    fn cancel_order(&self, symbol: &str, id: OrderRef) -> Result<ExchangeOrder, Error> {
        if let OrderRef::Client(cid) = &id {
            hands(&self.hands).canceled.push(cid.clone());
        }
        self.call("cancel_order", |c| c.cancel_order(symbol, id))
    }
    fn my_trades(
        &self,
        symbol: &str,
        from_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ExchangeTrade>, Error> {
        self.call("my_trades", |c| c.my_trades(symbol, from_id, limit))
    }
    fn account(&self) -> Result<Account, Error> {
        self.call("account", |c| c.account())
    }
}

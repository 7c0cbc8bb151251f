//! The worker's exchange with the test's hands on it ([`Interposed`]), and
//! checks shared by the fault and safety tests.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use binance_rest::{Exchange, ExchangeOrder, NewOrder, OrderRef};
use diesel::pg::PgConnection;
use exchange_sim::server::lock;
use exchange_sim::SimServer;
use grid_core::{Decimal, SymbolRules};

/// The worker's exchange with the test's hands on it:
/// - `hold`: the next create is kept instead of sent and answered "outcome
///   unknown", like a request stuck in the network or the exchange's queue;
///   the test delivers it later (or never);
/// - `move_to`: at the next price read — after the cycle's open-orders
///   snapshot — the sim's SOLUSDC price moves there (filling at most the
///   given volume per order and price step), so an order trades while the
///   snapshot still shows it open;
/// - `trades_lag`: that many myTrades calls answer nothing new, like an
///   exchange whose trade list lags behind its order status.
pub struct Interposed<E> {
    pub inner: E,
    pub engine: exchange_sim::SharedEngine,
    pub hold: AtomicBool,
    pub held: Mutex<Option<NewOrder>>,
    pub move_to: Mutex<Option<(Decimal, Option<Decimal>)>>,
    pub trades_lag: AtomicUsize,
    /// The next price read answers 0 for every symbol (a bad ticker value).
    pub zero_price_once: AtomicBool,
    /// Run once at the next price read (after the cycle's snapshot).
    pub on_price_read: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

impl<E> Interposed<E> {
    pub fn new(inner: E, sim: &SimServer) -> Self {
        Interposed {
            inner,
            engine: sim.engine(),
            hold: AtomicBool::new(false),
            held: Mutex::new(None),
            move_to: Mutex::new(None),
            trades_lag: AtomicUsize::new(0),
            zero_price_once: AtomicBool::new(false),
            on_price_read: Mutex::new(None),
        }
    }

    pub fn move_at_next_price_read(&self, price: Decimal, step_volume: Option<Decimal>) {
        *self.move_to.lock().unwrap_or_else(|e| e.into_inner()) = Some((price, step_volume));
    }

    pub fn take_held(&self) -> NewOrder {
        self.held
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .unwrap_or_else(|| panic!("no create was held"))
    }
}

impl<E: Exchange> Exchange for Interposed<E> {
    fn server_time(&self) -> Result<i64, binance_rest::Error> {
        self.inner.server_time()
    }
    fn symbol_rules(&self, symbol: &str) -> Result<SymbolRules, binance_rest::Error> {
        self.inner.symbol_rules(symbol)
    }
    fn symbol_state(&self, symbol: &str) -> Result<binance_rest::SymbolState, binance_rest::Error> {
        self.inner.symbol_state(symbol)
    }
    fn ticker_prices(
        &self,
        symbols: &[String],
    ) -> Result<HashMap<String, Decimal>, binance_rest::Error> {
        let to = self
            .move_to
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some((price, volume)) = to {
            let mut ex = lock(&self.engine);
            let moved = ex
                .set_step_volume("SOLUSDC", volume)
                .and_then(|_| ex.set_price("SOLUSDC", price))
                .and_then(|_| ex.set_step_volume("SOLUSDC", None));
            if let Err(e) = moved {
                panic!("move the price: {e:?}");
            }
        }
        let hook = self
            .on_price_read
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(f) = hook {
            f();
        }
        let mut prices = self.inner.ticker_prices(symbols)?;
        if self.zero_price_once.swap(false, Ordering::SeqCst) {
            for p in prices.values_mut() {
                *p = Decimal::ZERO;
            }
        }
        Ok(prices)
    }
    fn open_orders(&self, symbol: Option<&str>) -> Result<Vec<ExchangeOrder>, binance_rest::Error> {
        self.inner.open_orders(symbol)
    }
    fn get_order(&self, symbol: &str, id: OrderRef) -> Result<ExchangeOrder, binance_rest::Error> {
        self.inner.get_order(symbol, id)
    }
    fn exchange_now_ms(&self) -> Result<i64, binance_rest::Error> {
        self.inner.exchange_now_ms()
    }
    fn order_timestamp(&self) -> Result<i64, binance_rest::Error> {
        self.inner.order_timestamp()
    }
    fn place_order(&self, req: &NewOrder) -> Result<ExchangeOrder, binance_rest::Error> {
        if self.hold.swap(false, Ordering::SeqCst) {
            *self.held.lock().unwrap_or_else(|e| e.into_inner()) = Some(req.clone());
            return Err(binance_rest::Error::UnknownOutcome {
                client_order_id: req.new_client_order_id.clone(),
                reason: "held in flight by the test".into(),
            });
        }
        self.inner.place_order(req)
    }
    fn cancel_order(
        &self,
        symbol: &str,
        id: OrderRef,
    ) -> Result<ExchangeOrder, binance_rest::Error> {
        self.inner.cancel_order(symbol, id)
    }
    fn my_trades(
        &self,
        symbol: &str,
        from_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<binance_rest::ExchangeTrade>, binance_rest::Error> {
        let lagging = self
            .trades_lag
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if lagging {
            return Ok(Vec::new());
        }
        self.inner.my_trades(symbol, from_id, limit)
    }
    fn account(&self) -> Result<binance_rest::Account, binance_rest::Error> {
        self.inner.account()
    }
}

pub fn order_status(conn: &mut PgConnection, cid: &str) -> String {
    store::orders::get_by_client_id(conn, cid)
        .unwrap_or_else(|e| panic!("{cid}: {e}"))
        .unwrap_or_else(|| panic!("{cid}: no such order"))
        .status
        .to_string()
}

/// Live orders on the exchange for the role of `cid` (`BOT_SOLUSDC_1_B1`).
pub fn live_for_role(sim: &SimServer, cid: &str) -> usize {
    let role = cid.rsplit_once('_').map(|(r, _)| r).unwrap_or(cid);
    lock(&sim.engine())
        .state()
        .orders
        .iter()
        .filter(|o| {
            o.status.is_open() && o.client_order_id.rsplit_once('_').map(|(r, _)| r) == Some(role)
        })
        .count()
}

/// The price of the resting order whose clientOrderId starts with `prefix`.
pub fn resting_price(sim: &SimServer, prefix: &str) -> Decimal {
    let engine = sim.engine();
    let st = lock(&engine).state();
    st.orders
        .iter()
        .find(|o| o.client_order_id.starts_with(prefix) && o.status.is_open())
        .map(|o| o.price)
        .unwrap_or_else(|| panic!("no resting {prefix}"))
}

/// The invariants that hold at every instant (not only once settled): no
/// role with two live orders, no fill the exchange does not know.
pub fn check_history_partial(sim: &SimServer, conn: &mut PgConnection) {
    let engine = sim.engine();
    let st = lock(&engine).state();
    let mut live: HashMap<String, String> = HashMap::new();
    for o in st.orders.iter().filter(|o| o.status.is_open()) {
        if let Some((role, _)) = o.client_order_id.rsplit_once('_') {
            if let Some(other) = live.insert(role.to_string(), o.client_order_id.clone()) {
                panic!("two live orders: {other} and {}", o.client_order_id);
            }
        }
    }
    let sim_ids: HashSet<i64> = st.trades.iter().map(|t| t.id as i64).collect();
    let ids: Vec<i64> = store::testing::all_trade_ids(conn).unwrap_or_default();
    assert!(ids.iter().all(|t| sim_ids.contains(t)));
}

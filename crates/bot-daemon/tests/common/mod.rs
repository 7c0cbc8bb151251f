//! Helpers shared by the integration tests: an exchange-sim on loopback, a
//! client and a worker for it, and the money invariants checked against the
//! sim's full order and trade history.
#![allow(dead_code)]

pub mod interposed;
#[allow(unused_imports)]
pub use interposed::*;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use binance_rest::{BinanceClient, ClientConfig};
use bot_daemon::worker::{Worker, WorkerConfig};
use diesel::pg::PgConnection;
use exchange_sim::server::lock;
use exchange_sim::Side;
use exchange_sim::{SimConfig, SimServer};
use grid_core::{Decimal, SymbolRules};

pub fn sim_with(cfg: SimConfig) -> SimServer {
    match SimServer::start(cfg, "127.0.0.1:0") {
        Ok(s) => s,
        Err(e) => panic!("sim: {e}"),
    }
}

pub fn sim() -> SimServer {
    sim_with(SimConfig {
        workers: 2,
        ..SimConfig::default()
    })
}

pub fn client_for(url: &str) -> BinanceClient {
    let mut cfg = ClientConfig::new(url.to_string()).with_credentials("sim-key", "sim-secret");
    cfg.timeout = Duration::from_millis(1500);
    cfg.retry_base_delay = Duration::from_millis(10);
    cfg.retry_max_delay = Duration::from_millis(50);
    let c = BinanceClient::new(cfg);
    // exchangeInfo sets the client's weight limit to the sim's.
    let _ = binance_rest::Exchange::symbol_rules(&c, "SOLUSDC");
    c
}

pub fn client(sim: &SimServer) -> BinanceClient {
    client_for(&sim.base_url())
}

pub fn worker_cfg(url: &str, id: &str, lease_ms: i64, max: Option<i64>) -> WorkerConfig {
    WorkerConfig {
        worker_id: id.to_string(),
        lease_ms,
        max_baskets: max,
        sweep_every: 0,
        snapshot_interval: Duration::from_secs(3600),
        arrival_window_ms: bot_daemon::worker::arrival_window_ms(5000),
        mode: "paper".into(),
        base_url: url.to_string(),
        retention: store::retention::Policy::default(),
    }
}

pub fn worker(sim: &SimServer, id: &str) -> Worker<BinanceClient> {
    Worker::new(
        client(sim),
        worker_cfg(&sim.base_url(), id, 60_000, Some(100)),
    )
}

pub fn set_price(sim: &SimServer, symbol: &str, p: Decimal) {
    let engine = sim.engine();
    let mut ex = lock(&engine);
    if let Err(e) = ex.set_price(symbol, p) {
        panic!("set_price: {e:?}");
    }
}

/// A tiny seeded generator (xorshift), so every run draws the same numbers.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    /// In `lo..hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo).max(1)
    }
}

/// A seeded price path for SOLUSDC between 126 and 162: falls through the
/// levels and rises through the take-profits, again and again.
pub fn price_path(seed: u64, n: usize) -> Vec<Decimal> {
    let mut rng = Rng::new(seed);
    let mut p: i64 = 15_000;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let step = i64::try_from(rng.range(0, 601)).unwrap_or(0) - 300;
        p = (p + step).clamp(12_600, 16_200);
        out.push(Decimal::new(p, 2));
    }
    out
}

/// The money invariants, checked against the exchange's full history:
/// - no role ever had two live orders at once (from every order's life span);
/// - every exchange trade of a bot order is exactly once in `fills`;
/// - the database's position of each symbol equals the exchange's balance;
/// - no basket sold what it had not bought;
/// - no level bought more than its quantity.
pub fn check_history(sim: &SimServer, conn: &mut PgConnection) {
    check_history_beside(sim, conn, &BTreeMap::new());
}

/// [`check_history`] for an account that also holds `outside` (the user's
/// own coins, never the bot's to sell).
pub fn check_history_beside(
    sim: &SimServer,
    conn: &mut PgConnection,
    outside: &BTreeMap<String, Decimal>,
) {
    let engine = sim.engine();
    let st = lock(&engine).state();
    let now = st.time;

    // Live intervals per role key (`BOT_SOLUSDC_3_B1`).
    let mut lives: HashMap<String, Vec<(i64, i64, String)>> = HashMap::new();
    for o in st
        .orders
        .iter()
        .filter(|o| o.client_order_id.starts_with("BOT_"))
    {
        let Some((role_key, _)) = o.client_order_id.rsplit_once('_') else {
            continue;
        };
        let end = if o.status.is_open() {
            i64::MAX
        } else {
            o.update_time
        };
        lives.entry(role_key.to_string()).or_default().push((
            o.time,
            end,
            o.client_order_id.clone(),
        ));
    }
    for (role, mut v) in lives {
        v.sort();
        for w in v.windows(2) {
            // Half-open [time, end): a replacement created in the same
            // millisecond as its cancel does not overlap.
            assert!(
                w[1].0 >= w[0].1,
                "role {role} had two live orders: {} (live {}..{}) and {} (from {})",
                w[0].2,
                w[0].0,
                w[0].1,
                w[1].2,
                w[1].0
            );
        }
    }
    let _ = now;

    let ids: Vec<i64> =
        store::testing::all_trade_ids(conn).unwrap_or_else(|e| panic!("fills: {e}"));
    let unique: HashSet<i64> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "a trade is twice in fills");
    let bot_trades: Vec<_> = st
        .trades
        .iter()
        .filter(|t| t.client_order_id.starts_with("BOT_"))
        .collect();
    let sim_ids: HashSet<i64> = bot_trades.iter().map(|t| t.id as i64).collect();
    assert_eq!(
        unique, sim_ids,
        "fills differ from the exchange's bot trades"
    );

    let rows = store::baskets::list(conn, None).unwrap_or_else(|e| panic!("baskets: {e}"));
    let mut pos_by_asset: BTreeMap<String, Decimal> = BTreeMap::new();
    for b in &rows {
        *pos_by_asset.entry(b.base_asset.clone()).or_default() += b.pos;
    }
    for (asset, pos) in &pos_by_asset {
        let bal = st
            .balances
            .get(asset)
            .map(|b| b.free + b.locked)
            .unwrap_or_default()
            - outside.get(asset).copied().unwrap_or_default();
        assert_eq!(
            *pos, bal,
            "database position of {asset} != exchange balance"
        );
    }

    // Per basket: bought vs sold, and per level bought vs its quantity.
    for b in &rows {
        let (id, asset, anchor) = (b.id, &b.base_asset, &b.anchor_price);
        let prefix = format!("_{id}_");
        let mut bought = Decimal::ZERO;
        let mut base_fee = Decimal::ZERO;
        let mut sold = Decimal::ZERO;
        let mut per_level: HashMap<String, Decimal> = HashMap::new();
        for t in bot_trades.iter().filter(|t| {
            t.client_order_id
                .strip_prefix("BOT_")
                .and_then(|r| r.split_once('_'))
                .is_some_and(|(_, rest)| format!("_{rest}").starts_with(&prefix))
        }) {
            match t.side {
                Side::Buy => {
                    bought += t.qty;
                    if &t.commission_asset == asset {
                        base_fee += t.commission;
                    }
                    let role = t.client_order_id.rsplit('_').nth(1).unwrap_or("?");
                    *per_level.entry(role.to_string()).or_default() += t.qty;
                }
                Side::Sell => sold += t.qty,
            }
        }
        assert!(
            sold <= bought - base_fee,
            "basket {id} sold {sold} but received only {}",
            bought - base_fee
        );
        // A corrupt config row (a bad-input test) has no levels to check.
        let Ok(config) = b.config() else {
            continue;
        };
        let rules: SymbolRules = b.rules().unwrap_or_else(|e| panic!("rules: {e}"));
        let mut levels = grid_core::ladder::base_levels(&config, &rules, *anchor);
        levels.extend(grid_core::ladder::extension_levels(
            &config, &rules, *anchor,
        ));
        for l in levels {
            let got = per_level
                .get(&format!("B{}", l.index))
                .copied()
                .unwrap_or_default();
            assert!(
                got <= l.qty,
                "basket {id} level B{} bought {got} > its quantity {}",
                l.index,
                l.qty
            );
        }
    }
}

//! Faults the worker must survive, against exchange-sim and a fresh database:
//! `kill -9` of the real binary at seeded moments, injected exchange faults
//! (5xx, unknown outcomes, timeouts, a 429 burst, clock skew), PostgreSQL
//! dropping the daemon's connections, and two workers sharing 20 baskets.
//! Every test is bounded in cycles and time and ends with the money
//! invariants checked against the sim's full history (`check_history`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test and measurement code: a failed unwrap is a failed run

mod common;

use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use binance_rest::{Exchange, ExchangeOrder, NewOrder, OrderRef};
use bot_daemon::cli::basket;
use bot_daemon::worker::Worker;
use common::*;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use exchange_sim::server::lock;
use exchange_sim::{FaultConfig, SimConfig, SimServer};
use grid_core::{Decimal, SymbolRules};
use rust_decimal_macros::dec;
use store::test_db::TestDb;
use store::CommandKind;

/// The tests whose workers race lease expiries (and real processes) run one
/// at a time: run beside each other on two cores, a first cycle of 20
/// baskets can outlast a short lease, which tests the machine's load, not
/// the worker.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn roomy_sim() -> SimServer {
    let mut cfg = SimConfig {
        workers: 2,
        ..SimConfig::default()
    };
    cfg.limits.orders_per_10s = 1000;
    // Cycles 20-50 ms apart: the default weight budget (an all-symbols
    // openOrders weighs 80) would throttle them; the faults test sets its own.
    cfg.limits.weight_per_minute = 1_000_000;
    sim_with(cfg)
}

fn cycles_seen(sim: &SimServer) -> u64 {
    let engine = sim.engine();
    let st = lock(&engine).state();
    st.request_counts
        .get("GET /api/v3/openOrders")
        .copied()
        .unwrap_or(0)
}

fn daemon(sim: &SimServer, db: &TestDb, worker: &str, interval_ms: u64, lease_ms: u64) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bot-daemon"));
    c.arg("run")
        .env("DATABASE_URL", db.url())
        .env("BINANCE_BASE_URL", sim.base_url())
        .env("BINANCE_API_KEY", "sim-key")
        .env("BINANCE_API_SECRET", "sim-secret")
        .env_remove("BOT_MODE")
        .env_remove("BINANCE_USE_TESTNET")
        .env("BOT_CHECK_INTERVAL_MS", interval_ms.to_string())
        .env("BOT_LEASE_MS", lease_ms.to_string())
        .env("BOT_WORKER_ID", worker)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

/// Settles after the faults: a clean worker (once the dead ones' leases have
/// expired) resolves every unknown order and syncs every trade.
fn settle(sim: &SimServer, conn: &mut PgConnection, lease_ms: u64) {
    {
        let engine = sim.engine();
        lock(&engine).set_faults(FaultConfig::default());
    }
    std::thread::sleep(Duration::from_millis(lease_ms + 100));
    let mut w = worker(sim, "settle");
    // A create of unknown outcome that the exchange does not know is given
    // up only after its arrival window (recvWindow + 2 s).
    let t = Instant::now();
    let mut n = 0;
    while n < 4
        || !store::orders::list_unknown(conn, None)
            .unwrap_or_default()
            .is_empty()
    {
        // The arrival window (7 s) plus cycles on a loaded machine: one CI
        // run of a slow machine needed more than 10 s.
        assert!(
            t.elapsed() < Duration::from_millis(20_000),
            "unknown orders left: {:?}",
            store::orders::list_unknown(conn, None)
        );
        if let Err(e) = w.cycle(conn) {
            panic!("settling cycle: {e}");
        }
        n += 1;
        if n >= 4 {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn spawn(cmd: &mut Command) -> Child {
    cmd.spawn()
        .unwrap_or_else(|e| panic!("spawn bot-daemon: {e}"))
}

/// The pid in this worker's heartbeat row (written at the start of each cycle).
fn heartbeat_pid(conn: &mut PgConnection, worker: &str) -> Option<i32> {
    store::misc::statuses(conn)
        .ok()?
        .into_iter()
        .find(|s| s.instance_id == worker)
        .map(|s| s.pid)
}

/// `kill -9` of the real daemon at seeded moments while the price moves,
/// restarted each time under the same worker id (a supervisor's restart: the
/// new process renews its predecessor's leases at once). Cycles are counted
/// on the exchange (one all-symbols openOrders call per cycle), not by wall
/// time; the test ends by itself after 200 cycles and 20 kills, bounded at
/// 150 s, then checks the money invariants against the sim's full history.
#[test]
fn kill_dash_nine_at_random_moments() {
    let _serial = one_at_a_time();
    const WORKER: &str = "kd";
    let sim = roomy_sim();
    let db = TestDb::new();
    let mut conn = db.connect();
    let c = client(&sim);
    for _ in 0..2 {
        basket::create(&mut conn, &c, "SOLUSDC", Some(dec!(150)), None)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    // The price moves all the time, in the background, dead daemon or not.
    let done = Arc::new(AtomicBool::new(false));
    let steps = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mover = {
        let engine = sim.engine();
        let done = Arc::clone(&done);
        let steps = Arc::clone(&steps);
        let path = price_path(5, 100_000);
        std::thread::spawn(move || {
            let mut i = 0;
            while !done.load(Ordering::SeqCst) {
                if let Err(e) = lock(&engine).set_price("SOLUSDC", path[i % path.len()]) {
                    panic!("set_price: {e:?}");
                }
                i += 1;
                steps.store(i, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(15));
            }
        })
    };
    let mut rng = Rng::new(20_261_124);
    let lease_ms = 1000;
    let t0 = Instant::now();
    let mut runs = 0u32;
    let mut startups: Vec<Duration> = Vec::new();
    let mut killed_mid_cycle_window = 0u32;
    while cycles_seen(&sim) < 200 || runs < 20 {
        assert!(
            t0.elapsed() < Duration::from_secs(150),
            "too slow: {} cycles in {runs} runs",
            cycles_seen(&sim)
        );
        // Without the stream every cycle reads and may act (with it, most
        // cycles here would skip the exchange): the kills land in cycles
        // that write, and `cycles_seen` counts them.
        let mut child =
            spawn(daemon(&sim, &db, WORKER, 50, lease_ms).env("BOT_USER_STREAM", "off"));
        let pid = i32::try_from(child.id()).unwrap_or(i32::MAX);
        let born = Instant::now();
        // Half the lives end at a seeded moment after spawn (start-up
        // included), the others at a seeded moment after the first cycle
        // began, so every phase of a cycle gets killed.
        let after_first_cycle = rng.next().is_multiple_of(2);
        let life = Duration::from_millis(rng.range(100, 1500));
        let mut first_cycle = None;
        loop {
            if first_cycle.is_none() && heartbeat_pid(&mut conn, WORKER) == Some(pid) {
                first_cycle = Some(born.elapsed());
            }
            let due = match (after_first_cycle, first_cycle) {
                (false, _) => born.elapsed() >= life,
                (true, Some(f)) => born.elapsed() >= f + life,
                // Start-up stuck: kill it anyway after 10 s.
                (true, None) => born.elapsed() >= Duration::from_secs(10),
            };
            if due {
                break;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("the daemon exited by itself: {status:?}");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        if let Some(f) = first_cycle {
            startups.push(f);
            killed_mid_cycle_window += u32::from(after_first_cycle);
        }
        runs += 1;
    }
    done.store(true, Ordering::SeqCst);
    mover
        .join()
        .unwrap_or_else(|_| panic!("price mover panicked"));
    startups.sort();
    let (orders, trades) = {
        let st = lock(&sim.engine()).state();
        (st.orders.len(), st.trades.len())
    };
    eprintln!(
        "kill -9: {runs} runs ({killed_mid_cycle_window} after the first cycle), {} cycles, \
         {} price steps, {orders} orders, {trades} trades in {:?}; start-up to first cycle: \
         min {:?} median {:?} max {:?}",
        cycles_seen(&sim),
        steps.load(Ordering::SeqCst),
        t0.elapsed(),
        startups.first(),
        startups.get(startups.len() / 2),
        startups.last()
    );
    assert!(cycles_seen(&sim) >= 200);
    assert!(runs >= 20);
    assert!(
        killed_mid_cycle_window >= 5,
        "too few kills after a cycle began"
    );
    assert!(
        orders >= 20,
        "only {orders} orders: the daemon hardly traded"
    );
    settle(&sim, &mut conn, lease_ms);
    check_history(&sim, &mut conn);
    assert!(
        lock(&sim.engine())
            .state()
            .trades
            .iter()
            .any(|t| t.side == exchange_sim::Side::Sell),
        "the price path never sold anything"
    );
}

/// (worker that sent it, clientOrderId, lease holder when it was sent).
type SendLog = Arc<Mutex<Vec<(String, String, Option<String>)>>>;

/// Records every state-changing request with the basket's lease holder at
/// the moment it is sent.
struct Recording<E> {
    inner: E,
    worker: String,
    db: Mutex<PgConnection>,
    log: SendLog,
}

impl<E: Exchange> Recording<E> {
    fn note(&self, cid: &str) {
        let id: i64 = cid
            .split('_')
            .nth(2)
            .and_then(|s| s.parse().ok())
            .unwrap_or(-1);
        let holder: Option<String> = {
            let mut c = self.db.lock().unwrap_or_else(|e| e.into_inner());
            // The lease is checked right before each request; 250 ms of grace
            // covers the thread being descheduled between check and send
            // (600 ms leases on a loaded 2-core machine). A second writer
            // still shows: it would be the holder.
            store::testing::lease_holder_within(&mut c, id, 250)
                .ok()
                .flatten()
        };
        self.log.lock().unwrap_or_else(|e| e.into_inner()).push((
            self.worker.clone(),
            cid.to_string(),
            holder,
        ));
    }
}

impl<E: Exchange> Exchange for Recording<E> {
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
        self.inner.ticker_prices(symbols)
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
        self.note(req.new_client_order_id.as_deref().unwrap_or(""));
        self.inner.place_order(req)
    }
    fn cancel_order(
        &self,
        symbol: &str,
        id: OrderRef,
    ) -> Result<ExchangeOrder, binance_rest::Error> {
        if let OrderRef::Client(cid) = &id {
            self.note(cid);
        }
        self.inner.cancel_order(symbol, id)
    }
    fn my_trades(
        &self,
        symbol: &str,
        from_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<binance_rest::ExchangeTrade>, binance_rest::Error> {
        self.inner.my_trades(symbol, from_id, limit)
    }
    fn account(&self) -> Result<binance_rest::Account, binance_rest::Error> {
        self.inner.account()
    }
}

#[test]
fn two_workers_twenty_baskets_one_writer_each() {
    let _serial = one_at_a_time();
    let sim = roomy_sim();
    let db = TestDb::new();
    let mut conn = db.connect();
    let c = client(&sim);
    let mut ids = HashSet::new();
    for _ in 0..20 {
        let b = basket::create(&mut conn, &c, "SOLUSDC", Some(dec!(150)), None)
            .unwrap_or_else(|e| panic!("{e}"));
        ids.insert(b.id);
    }
    let log = Arc::new(Mutex::new(Vec::new()));
    let lease_ms = 600;
    let make = |id: &str| {
        let rec = Recording {
            inner: client(&sim),
            worker: id.to_string(),
            db: Mutex::new(db.connect()),
            log: Arc::clone(&log),
        };
        Worker::new(rec, worker_cfg(&sim.base_url(), id, lease_ms, None))
    };
    let served = Arc::new(Mutex::new(HashSet::new()));
    let kill_w1 = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicBool::new(false));
    let path = price_path(9, 10_000);
    std::thread::scope(|s| {
        for (name, killable) in [("w1", true), ("w2", false)] {
            let mut w = make(name);
            let mut conn = db.connect();
            let served = Arc::clone(&served);
            let kill_w1 = Arc::clone(&kill_w1);
            let done = Arc::clone(&done);
            s.spawn(move || {
                while !done.load(Ordering::SeqCst) {
                    if killable && kill_w1.load(Ordering::SeqCst) {
                        return; // dies without releasing anything
                    }
                    match w.cycle(&mut conn) {
                        Ok(r) => served
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .extend(r.held.iter().map(|b| (name, *b))),
                        Err(e) => eprintln!("{name}: cycle failed: {e}"),
                    }
                    std::thread::sleep(Duration::from_millis(30));
                }
            });
        }
        for p in path.iter().take(120) {
            set_price(&sim, "SOLUSDC", *p);
            std::thread::sleep(Duration::from_millis(25));
        }
        kill_w1.store(true, Ordering::SeqCst);
        done.store(true, Ordering::SeqCst);
    });
    let served = served.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let by_any: HashSet<i64> = served.iter().map(|(_, b)| *b).collect();
    assert_eq!(by_any, ids, "every basket served");
    // w1 took all 20 first, then gave w2 its fair share.
    let by_w2: HashSet<i64> = served
        .iter()
        .filter(|(w, _)| *w == "w2")
        .map(|(_, b)| *b)
        .collect();
    assert!(by_w2.len() >= 5, "shared: w2 held only {}", by_w2.len());
    let sent = log.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert!(sent.len() >= 40, "only {} requests", sent.len());
    for (w, cid, holder) in &sent {
        assert_eq!(
            holder.as_deref(),
            Some(w.as_str()),
            "{cid} sent by {w}, held by {holder:?}"
        );
    }
    // w1 is dead: w2 takes its baskets within two cycles of the lease expiry.
    std::thread::sleep(Duration::from_millis(lease_ms as u64 + 50));
    let mut w2 = make("w2");
    let mut conn2 = db.connect();
    let mut held = HashSet::new();
    for _ in 0..2 {
        let r = w2.cycle(&mut conn2).unwrap_or_else(|e| panic!("{e}"));
        held = r.held.into_iter().collect();
    }
    assert_eq!(
        held, ids,
        "w2 holds every basket two cycles after w1's leases expired"
    );
    settle(&sim, &mut conn, lease_ms as u64);
    check_history(&sim, &mut conn);
}

#[test]
fn injected_exchange_faults() {
    let sim = roomy_sim();
    let db = TestDb::new();
    let mut conn = db.connect();
    let c = client(&sim);
    for _ in 0..2 {
        basket::create(&mut conn, &c, "SOLUSDC", Some(dec!(150)), None)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let faults = FaultConfig {
        seed: 17,
        http_500_rate: 0.1,
        unknown_outcome_rate: 0.15,
        timeout_rate: 0.1,
        timeout_ms: 700,
        rate_limit_burst: 0,
        clock_skew_ms: 1500,
    };
    lock(&sim.engine()).set_faults(faults.clone());
    let cfg = ClientCfg { timeout_ms: 500 };
    let mut w = Worker::new(
        cfg.client(&sim),
        worker_cfg(&sim.base_url(), "w1", 60_000, Some(10)),
    );
    let path = price_path(23, 200);
    let mut offset: i64 = 0;
    let mut burst_at = None;
    let mut errors: HashMap<String, usize> = HashMap::new();
    let t0 = Instant::now();
    for (i, p) in path.iter().enumerate() {
        let wall = chrono::Utc::now().timestamp_millis();
        if i == 80 {
            // The 429 burst, at second 58.8 of the sim's minute (a short Retry-After).
            offset = 58_800 - wall.rem_euclid(60_000);
            let mut f = faults.clone();
            f.rate_limit_burst = 3;
            lock(&sim.engine()).set_faults(f);
            burst_at = Some(i);
        }
        {
            let engine = sim.engine();
            let mut ex = lock(&engine);
            ex.set_time(wall + offset);
            if let Err(e) = ex.set_price("SOLUSDC", *p) {
                panic!("{e:?}");
            }
        }
        if let Err(e) = w.cycle(&mut conn) {
            let kind = match &e {
                bot_daemon::DaemonError::Exchange(x) => format!("{x:?}").chars().take(14).collect(),
                other => other.to_string(),
            };
            *errors.entry(kind).or_default() += 1;
            if let bot_daemon::DaemonError::Exchange(binance_rest::Error::Banned { .. }) = e {
                panic!("banned after a 429 (cycle {i})");
            }
        }
        let st = lock(&sim.engine()).state();
        assert_eq!(
            st.requests_during_retry_after, 0,
            "a request reached the exchange before Retry-After had passed (cycle {i})"
        );
        drop(st);
        check_history_partial(&sim, &mut conn);
    }
    let answered_429 = lock(&sim.engine()).state().answered_429;
    eprintln!(
        "faults: cycle errors {errors:?}, 429s answered {answered_429}, burst at {burst_at:?}, {:?}",
        t0.elapsed()
    );
    assert!(!errors.is_empty(), "no fault reached the worker");
    assert!(answered_429 >= 1, "the 429 burst never reached the worker");
    // Back to the wall clock for the final sync.
    let wall = chrono::Utc::now().timestamp_millis();
    lock(&sim.engine()).set_time(wall + offset);
    std::thread::sleep(Duration::from_secs(2)); // the Retry-After of the burst
    {
        let engine = sim.engine();
        lock(&engine).set_faults(FaultConfig::default());
    }
    for _ in 0..4 {
        let wall = chrono::Utc::now().timestamp_millis();
        lock(&sim.engine()).set_time(wall + offset);
        let _ = w.cycle(&mut conn);
    }
    // w1 stops (a clean shutdown gives its leases back) and the settling
    // worker resolves what is left.
    store::leases::release_leases(&mut conn, "w1").unwrap_or_else(|e| panic!("{e}"));
    settle(&sim, &mut conn, 0);
    check_history(&sim, &mut conn);
}

#[derive(Default)]
struct ClientCfg {
    timeout_ms: u64,
}

impl ClientCfg {
    fn client(&self, sim: &SimServer) -> binance_rest::BinanceClient {
        let mut cfg = binance_rest::ClientConfig::new(sim.base_url())
            .with_credentials("sim-key", "sim-secret");
        cfg.timeout = Duration::from_millis(self.timeout_ms.max(100));
        cfg.retry_base_delay = Duration::from_millis(10);
        cfg.retry_max_delay = Duration::from_millis(50);
        let c = binance_rest::BinanceClient::new(cfg);
        let _ = binance_rest::Exchange::symbol_rules(&c, "SOLUSDC");
        c
    }
}

#[test]
fn postgres_drops_the_daemons_connections() {
    let _serial = one_at_a_time();
    let sim = roomy_sim();
    let db = TestDb::new();
    let mut conn = db.connect();
    let c = client(&sim);
    for _ in 0..2 {
        basket::create(&mut conn, &c, "SOLUSDC", Some(dec!(150)), None)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let log = std::env::temp_dir().join(format!("bd-pgkill-{}.log", std::process::id()));
    let file = std::fs::File::create(&log).unwrap_or_else(|e| panic!("{e}"));
    let mut cmd = daemon(&sim, &db, "pg", 50, 1000);
    // Polling: every cycle reads the exchange, so `cycles_seen` counts the
    // cycles that resumed (with the stream most would read nothing).
    cmd.stderr(file)
        .env("RUST_LOG", "info")
        .env("BOT_USER_STREAM", "off");
    let mut child = spawn(&mut cmd);
    let path = price_path(31, 1000);
    let mut step = 0;
    let move_for = |ms: u64, step: &mut usize| {
        let t = Instant::now();
        while t.elapsed() < Duration::from_millis(ms) {
            set_price(&sim, "SOLUSDC", path[*step % path.len()]);
            *step += 1;
            std::thread::sleep(Duration::from_millis(25));
        }
    };
    move_for(1500, &mut step);
    let mut killed = 0;
    for _ in 0..8 {
        let n: Vec<bool> = diesel::sql_query(
            "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .load::<Terminated>(&mut conn)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|t| t.ok)
        .collect();
        killed += n.len();
        move_for(300, &mut step);
    }
    let after = cycles_seen(&sim);
    let since = chrono::Utc::now();
    move_for(2500, &mut step);
    assert!(
        cycles_seen(&sim) > after + 5,
        "the daemon did not resume cycling"
    );
    let hb: Vec<chrono::DateTime<chrono::Utc>> = store::misc::statuses(&mut conn)
        .unwrap_or_default()
        .into_iter()
        .map(|s| s.heartbeat_at)
        .collect();
    assert!(
        hb.iter().any(|t| *t > since),
        "no heartbeat after the drops"
    );
    // SIGTERM: exits 0 within 2 s.
    let t = Instant::now();
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let status = loop {
        if let Ok(Some(s)) = child.try_wait() {
            break s;
        }
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "no exit within 2 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(killed >= 8, "terminated {killed} backends");
    assert!(
        text.contains("LISTEN connection lost")
            || text.contains("Cycle failed")
            || text.contains("Database unavailable"),
        "the drops were not logged:\n{text}"
    );
    assert!(!text.contains("panicked"), "{text}");
    settle(&sim, &mut conn, 1000);
    // The daemon's log stays on disk when the history check fails.
    eprintln!("daemon log: {}", log.display());
    check_history(&sim, &mut conn);
    let _ = std::fs::remove_file(&log);
}

#[derive(QueryableByName)]
struct Terminated {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    ok: bool,
}

/// A create whose outcome is unknown and that the exchange does not know
/// (yet) may still arrive while its recvWindow lasts: the basket waits; it
/// does not mark it "never arrived" and place the role again (two live
/// orders for one role once the first one lands). After the window it is
/// given up and the role placed again.
#[test]
fn a_create_arriving_late_is_not_doubled() {
    let sim = roomy_sim();
    let db = TestDb::new();
    let mut conn = db.connect();
    let c = client(&sim);
    basket::create(&mut conn, &c, "SOLUSDC", Some(dec!(150)), None)
        .unwrap_or_else(|e| panic!("{e}"));
    let ex = Interposed::new(client(&sim), &sim);
    ex.hold.store(true, Ordering::SeqCst);
    let mut cfg = worker_cfg(&sim.base_url(), "w1", 60_000, Some(10));
    cfg.arrival_window_ms = 60_000;
    let mut w = Worker::new(ex, cfg);
    w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    let held = w.exchange.take_held();
    let cid = held.new_client_order_id.clone().unwrap_or_default();
    assert_eq!(order_status(&mut conn, &cid), "UNKNOWN");
    for _ in 0..3 {
        w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
        check_history_partial(&sim, &mut conn);
        assert_eq!(live_for_role(&sim, &cid), 0, "the role was placed again");
    }
    assert_eq!(order_status(&mut conn, &cid), "UNKNOWN");
    // It lands now, late.
    w.exchange
        .inner
        .place_order(&held)
        .unwrap_or_else(|e| panic!("late arrival: {e}"));
    check_history_partial(&sim, &mut conn);
    for _ in 0..2 {
        w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
        check_history_partial(&sim, &mut conn);
    }
    assert_eq!(order_status(&mut conn, &cid), "NEW");
    assert_eq!(live_for_role(&sim, &cid), 1);

    // A second basket's first create is lost for good: given up after the window.
    let b2 = basket::create(&mut conn, &c, "SOLUSDC", Some(dec!(150)), None)
        .unwrap_or_else(|e| panic!("{e}"));
    // Long enough that the next cycle, however slow the machine, runs
    // inside it (a window shorter than a cycle made this test flaky).
    w.cfg.arrival_window_ms = 3_000;
    w.exchange.hold.store(true, Ordering::SeqCst);
    w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    let lost = w.exchange.take_held();
    let lost_cid = lost.new_client_order_id.clone().unwrap_or_default();
    assert!(
        lost_cid.starts_with(&format!("BOT_SOLUSDC_{}_", b2.id)),
        "{lost_cid}"
    );
    w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(live_for_role(&sim, &lost_cid), 0);
    std::thread::sleep(Duration::from_millis(3_100));
    for _ in 0..2 {
        w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
        check_history_partial(&sim, &mut conn);
    }
    assert_eq!(order_status(&mut conn, &lost_cid), "REJECTED");
    assert_eq!(live_for_role(&sim, &lost_cid), 1, "the role placed again");
    settle(&sim, &mut conn, 0);
    check_history(&sim, &mut conn);
}

/// B1 fills after the cycle's open-orders snapshot: the plan (price now
/// below B1, `only_next_k`) cancels it, and the exchange answers "unknown
/// order". That order's trades must be in the next plan's fills, or the
/// level is bought a second time (seen in CI while PostgreSQL dropped the
/// daemon's connections and the price ran on).
#[test]
fn a_buy_filled_after_the_snapshot_is_not_bought_again() {
    let sim = roomy_sim();
    let db = TestDb::new();
    let mut conn = db.connect();
    let c = client(&sim);
    let b = basket::create(&mut conn, &c, "SOLUSDC", Some(dec!(150)), None)
        .unwrap_or_else(|e| panic!("{e}"));
    let ex = Interposed::new(client(&sim), &sim);
    let mut w = Worker::new(ex, worker_cfg(&sim.base_url(), "w1", 60_000, Some(10)));
    for _ in 0..2 {
        w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    }
    let b1 = format!("BOT_SOLUSDC_{}_B1_", b.id);
    let b1_price = resting_price(&sim, &b1);
    // Just below B1 and above B2: B1 fills, the plan wants B2 and B3.
    w.exchange
        .move_at_next_price_read(b1_price - dec!(0.5), None);
    for _ in 0..2 {
        w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
        check_history_partial(&sim, &mut conn);
    }
    // Back above B1: a basket that missed B1's fill would buy it again now.
    set_price(&sim, "SOLUSDC", b1_price + dec!(0.5));
    for _ in 0..3 {
        w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
        check_history_partial(&sim, &mut conn);
    }
    let engine = sim.engine();
    let st = lock(&engine).state();
    let b1_orders: Vec<&str> = st
        .orders
        .iter()
        .filter(|o| o.client_order_id.starts_with(&b1))
        .map(|o| o.client_order_id.as_str())
        .collect();
    assert_eq!(b1_orders.len(), 1, "B1 sent again: {b1_orders:?}");
    drop(st);
    store::leases::release_leases(&mut conn, "w1").unwrap_or_else(|e| panic!("{e}"));
    settle(&sim, &mut conn, 0);
    check_history(&sim, &mut conn);
}

/// Basket A is closed (EXIT: a marketable sell of its whole position) while
/// its TP1 partially fills after the cycle's snapshot. The cancel answers
/// with more executed than the snapshot showed: the position the plan sized
/// the EXIT on is stale. Selling it anyway would sell coins that are not A's
/// (here the user's own free SOL; or another basket's); the close must wait
/// for the fills and sell only what A holds.
#[test]
fn a_close_does_not_sell_what_a_late_take_profit_already_sold() {
    let mut cfg = SimConfig {
        workers: 2,
        ..SimConfig::default()
    };
    cfg.limits.orders_per_10s = 1000;
    cfg.limits.weight_per_minute = 1_000_000;
    let own: std::collections::BTreeMap<String, Decimal> = [("SOL".to_string(), dec!(5))].into();
    cfg.balances.extend(own.clone());
    let sim = sim_with(cfg);
    let db = TestDb::new();
    let mut conn = db.connect();
    let c = client(&sim);
    let a = basket::create(&mut conn, &c, "SOLUSDC", Some(dec!(150)), None)
        .unwrap_or_else(|e| panic!("{e}"));
    basket::create(&mut conn, &c, "SOLUSDC", Some(dec!(150)), None)
        .unwrap_or_else(|e| panic!("{e}"));
    let ex = Interposed::new(client(&sim), &sim);
    let mut w = Worker::new(ex, worker_cfg(&sim.base_url(), "w1", 60_000, Some(10)));
    w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    // B1 of both baskets fills.
    let b1 = resting_price(&sim, &format!("BOT_SOLUSDC_{}_B1_", a.id));
    set_price(&sim, "SOLUSDC", b1 - dec!(0.01));
    for _ in 0..3 {
        w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    }
    let tp1 = resting_price(&sim, &format!("BOT_SOLUSDC_{}_TP1_", a.id));
    basket::queue(&mut conn, CommandKind::CloseBasket, Some(a.id))
        .unwrap_or_else(|e| panic!("{e}"));
    // Between this cycle's snapshot and its cancels, A's (and B's) TP1 trade
    // one step (0.05) each.
    w.exchange
        .move_at_next_price_read(tp1 + dec!(0.01), Some(dec!(0.05)));
    for _ in 0..4 {
        w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
        check_history_partial(&sim, &mut conn);
    }
    store::leases::release_leases(&mut conn, "w1").unwrap_or_else(|e| panic!("{e}"));
    settle(&sim, &mut conn, 0);
    check_history_beside(&sim, &mut conn, &own);
    let status = store::baskets::get(&mut conn, a.id)
        .unwrap_or_else(|e| panic!("{e}"))
        .status;
    assert_eq!(status.as_str(), "emergency_closed");
}

/// The exchange reports B1 FILLED but its trade list lags two calls behind:
/// the basket waits (one `fills_behind` event, nothing created) instead of
/// planning on fills that miss B1, then goes on once the trades show, and
/// B1 is never bought again.
#[test]
fn a_basket_waits_while_the_trade_list_lags_behind_the_orders() {
    let sim = roomy_sim();
    let db = TestDb::new();
    let mut conn = db.connect();
    let b = basket::create(&mut conn, &client(&sim), "SOLUSDC", Some(dec!(150)), None)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut w = Worker::new(
        Interposed::new(client(&sim), &sim),
        worker_cfg(&sim.base_url(), "w1", 60_000, Some(10)),
    );
    w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    let b1 = format!("BOT_SOLUSDC_{}_B1_", b.id);
    let b1_price = resting_price(&sim, &b1);
    set_price(&sim, "SOLUSDC", b1_price - dec!(0.5));
    w.exchange.trades_lag.store(2, Ordering::SeqCst);
    let sent = |sim: &SimServer| lock(&sim.engine()).state().orders.len();
    let before = sent(&sim);
    for _ in 0..2 {
        w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sent(&sim), before, "an order was sent on fills missing B1");
    }
    let waits: Vec<String> = store::events::of_kind(&mut conn, b.id, "fills_behind", 500)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .rev()
        .map(|e| e.message)
        .collect();
    assert_eq!(waits.len(), 1, "{waits:?}");
    assert!(waits[0].contains(&b1), "{waits:?}");
    // The trades show now: the basket goes on (B3 joins the ladder).
    w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
    assert!(sent(&sim) > before, "the basket did not go on");
    set_price(&sim, "SOLUSDC", b1_price + dec!(0.5));
    for _ in 0..3 {
        w.cycle(&mut conn).unwrap_or_else(|e| panic!("{e}"));
        check_history_partial(&sim, &mut conn);
    }
    let b1_sent = lock(&sim.engine())
        .state()
        .orders
        .iter()
        .filter(|o| o.client_order_id.starts_with(&b1))
        .count();
    assert_eq!(b1_sent, 1, "B1 bought again");
    store::leases::release_leases(&mut conn, "w1").unwrap_or_else(|e| panic!("{e}"));
    settle(&sim, &mut conn, 0);
    check_history(&sim, &mut conn);
}

/// Baskets by holder (`baskets.worker_id`) among those that need a writer.
fn holders(conn: &mut PgConnection) -> HashMap<String, usize> {
    let rows = store::baskets::list_live(conn).unwrap_or_else(|e| panic!("{e}"));
    let mut by: HashMap<String, usize> = HashMap::new();
    for b in rows {
        *by.entry(b.worker_id.unwrap_or_else(|| "-".into()))
            .or_default() += 1;
    }
    by
}

/// `Placed basket=… cid=…` lines of a daemon's log: (basket, clientOrderId).
fn placed(log: &str) -> Vec<(i64, String)> {
    log.lines()
        .filter(|l| l.contains("] Placed basket="))
        .filter_map(|l| {
            let basket = l.split("basket=").nth(1)?.split(' ').next()?.parse().ok()?;
            let cid = l.split("cid=").nth(1)?.split(' ').next()?.to_string();
            Some((basket, cid))
        })
        .collect()
}

/// Two real `bot-daemon run` processes share 20 baskets; one is SIGKILLed.
/// The survivor holds every basket within two of its cycles once the dead
/// one's leases have expired, no basket's orders were ever sent by both
/// processes in interleaved turns, and the money invariants hold.
#[test]
fn sigkill_one_of_two_worker_processes() {
    let _serial = one_at_a_time();
    let sim = roomy_sim();
    let db = TestDb::new();
    let mut conn = db.connect();
    let c = client(&sim);
    for _ in 0..20 {
        basket::create(&mut conn, &c, "SOLUSDC", Some(dec!(150)), None)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let lease_ms: u64 = 1000;
    let logs: Vec<std::path::PathBuf> = ["a", "b"]
        .iter()
        .map(|w| std::env::temp_dir().join(format!("bd-two-{}-{w}.log", std::process::id())))
        .collect();
    let mut children = Vec::new();
    for (w, log) in ["pa", "pb"].iter().zip(&logs) {
        let file = std::fs::File::create(log).unwrap_or_else(|e| panic!("{e}"));
        let mut cmd = daemon(&sim, &db, w, 50, lease_ms);
        cmd.stderr(file).env("RUST_LOG", "info");
        children.push(spawn(&mut cmd));
    }
    let path = price_path(41, 10_000);
    let mut step = 0usize;
    let move_for = |ms: u64, step: &mut usize| {
        let t = Instant::now();
        while t.elapsed() < Duration::from_millis(ms) {
            set_price(&sim, "SOLUSDC", path[*step % path.len()]);
            *step += 1;
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    // Both serve a share (the second to start gets its fair share).
    let t0 = Instant::now();
    loop {
        move_for(200, &mut step);
        let by = holders(&mut conn);
        if by.get("pa").copied().unwrap_or(0) >= 5 && by.get("pb").copied().unwrap_or(0) >= 5 {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "no fair share: {by:?}"
        );
    }
    move_for(1500, &mut step);
    let mut a = children.remove(0);
    let _ = a.kill(); // SIGKILL
    let _ = a.wait();
    let killed_at = Instant::now();
    let killed_sim_ms = lock(&sim.engine()).state().time;
    // pa's leases run out at the latest of their expiries (database clock);
    // from then on, count pb's cycles (every openOrders call is pb's) until
    // it holds every basket. The price keeps moving meanwhile.
    let expiry: chrono::DateTime<chrono::Utc> = store::baskets::list(&mut conn, None)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .filter(|b| b.worker_id.as_deref() == Some("pa"))
        .filter_map(|b| b.lease_until)
        .max()
        .unwrap_or_else(|| panic!("pa held nothing when killed"));
    let mut expired_at_cycle = None;
    let took = loop {
        set_price(&sim, "SOLUSDC", path[step % path.len()]);
        step += 1;
        let now = store::testing::db_now(&mut conn).unwrap_or_else(|e| panic!("{e}"));
        if expired_at_cycle.is_none() && now > expiry {
            expired_at_cycle = Some(cycles_seen(&sim));
        }
        let by = holders(&mut conn);
        if let Some(c0) = expired_at_cycle {
            if by.len() == 1 && by.contains_key("pb") {
                break cycles_seen(&sim) - c0;
            }
        }
        assert!(
            killed_at.elapsed() < Duration::from_secs(15),
            "pb never took pa's baskets: {by:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    eprintln!("pb held every basket {took} cycle(s) after pa's leases expired");
    assert!(took <= 2, "pb needed {took} cycles");
    move_for(1500, &mut step);
    let mut b = children.remove(0);
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(b.id().to_string())
        .status();
    let status = b.wait().unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success(), "{status:?}");

    // Per basket, the sending process changes at most once while both run
    // (the rebalance when the second one starts; either may start first)
    // and at most once more, to pb, after pa is killed: never interleaved
    // turns.
    let texts: Vec<String> = logs
        .iter()
        .map(|l| std::fs::read_to_string(l).unwrap_or_default())
        .collect();
    let engine = sim.engine();
    let st = lock(&engine).state();
    let time_of: HashMap<&str, i64> = st
        .orders
        .iter()
        .map(|o| (o.client_order_id.as_str(), o.time))
        .collect();
    let mut sends: HashMap<i64, Vec<(i64, usize)>> = HashMap::new();
    for (who, text) in texts.iter().enumerate() {
        for (basket, cid) in placed(text) {
            let t = time_of.get(cid.as_str()).copied().unwrap_or(i64::MAX);
            sends.entry(basket).or_default().push((t, who));
        }
    }
    drop(st);
    assert!(
        sends.values().map(Vec::len).sum::<usize>() >= 40,
        "{sends:?}"
    );
    for (basket, mut s) in sends {
        s.sort();
        let before_kill: Vec<&(i64, usize)> =
            s.iter().filter(|(t, _)| *t < killed_sim_ms).collect();
        let turns_before = before_kill.windows(2).filter(|w| w[0].1 != w[1].1).count();
        let turns = s.windows(2).filter(|w| w[0].1 != w[1].1).count();
        assert!(
            turns_before <= 1 && turns <= 2,
            "basket {basket} sent by both in turns: {s:?} (pa killed at {killed_sim_ms})"
        );
        assert!(
            s.iter()
                .filter(|(t, _)| *t >= killed_sim_ms)
                .all(|(_, who)| *who == 1),
            "basket {basket}: pa sent after it was killed: {s:?}"
        );
    }
    for l in &logs {
        let _ = std::fs::remove_file(l);
    }
    settle(&sim, &mut conn, lease_ms);
    check_history(&sim, &mut conn);
}

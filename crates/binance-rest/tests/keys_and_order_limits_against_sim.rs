//! Ed25519 API keys and the unfilled order count, against a running
//! `exchange-sim`: an Ed25519 key places, queries and cancels (the simulator
//! verifies against the registered public key), a wrong key is refused with
//! `-1022`, the private key never reaches a log or an error; a 100-level grid
//! placed at once under a 10 s order limit far below 100 is paced and
//! deferred by the governor and never answered `-1015`; a `-1015` (orders the
//! client did not know of) blocks new orders only.

// Test code: a failed unwrap/expect/panic is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use binance_rest::{
    BinanceClient, ClientConfig, Clock, Ed25519Key, Error, Exchange, KeyType, ManualClock,
    NewOrder, OrderRef, OrderStatus,
};
use exchange_sim::{ApiKeyConfig, SharedEngine, SimConfig, SimServer};
use grid_core::Side;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

const HMAC_KEY: &str = "sim-hmac-key";
const HMAC_SECRET: &str = "sim-hmac-secret";
const ED_KEY: &str = "sim-ed25519-key";
/// A throwaway key (`openssl genpkey -algorithm ed25519`): the one registered.
const PEM: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ3kUoUGoM9YVFsF/38QBuivP4CYKdV2pmQgi9fmc1ht\n-----END PRIVATE KEY-----\n";
/// Binance's FIX docs example key: a valid key, but not the registered one.
const OTHER_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIIJEYWtGBrhACmb9Dvy+qa8WEf0lQOl1s4CLIAB9m89u\n-----END PRIVATE KEY-----\n";
// 2026-01-01T00:00:00Z.
const T0: i64 = 1_767_225_600_000;

fn key(pem: &str) -> Ed25519Key {
    Ed25519Key::from_pkcs8_pem(pem).unwrap()
}

fn sim_config() -> SimConfig {
    SimConfig {
        api_key: HMAC_KEY.into(),
        api_secret: HMAC_SECRET.into(),
        api_keys: vec![ApiKeyConfig {
            key: ED_KEY.into(),
            ed25519_public_key_pem: key(PEM).public_key_pem().unwrap(),
        }],
        ..SimConfig::default()
    }
}

fn ed_client(sim: &SimServer, pem: &str) -> BinanceClient {
    let mut cfg = ClientConfig::new(sim.base_url()).with_ed25519_key(ED_KEY, key(pem));
    cfg.timeout = Duration::from_secs(2);
    BinanceClient::new(cfg)
}

#[test]
fn an_ed25519_key_places_queries_and_cancels() {
    common::capture_logs();
    let sim = SimServer::start(sim_config(), "127.0.0.1:0").unwrap();
    let c = ed_client(&sim, PEM);
    assert_eq!(
        c.config().credentials.as_ref().map(|k| k.key_type()),
        Some(KeyType::Ed25519)
    );
    let usdc = c.account().unwrap().free("USDC");
    assert_eq!(usdc, dec!(10000));
    // Enough signed requests that base64 signatures with `+`, `/` and `=`
    // (percent-encoded on the wire) are among them.
    let mut ids = Vec::new();
    for i in 0..12 {
        let price = dec!(130.00) + Decimal::from(i);
        let o = c
            .place_order(&NewOrder::limit("SOLUSDC", Side::Buy, dec!(0.1), price))
            .unwrap();
        assert_eq!(o.status, OrderStatus::New);
        ids.push(o.order_id);
    }
    let got = c.get_order("SOLUSDC", OrderRef::Id(ids[0])).unwrap();
    assert_eq!(got.price, dec!(130.00));
    assert_eq!(c.open_orders(Some("SOLUSDC")).unwrap().len(), 12);
    for id in &ids {
        let done = c.cancel_order("SOLUSDC", OrderRef::Id(*id)).unwrap();
        assert_eq!(done.status, OrderStatus::Canceled);
    }
    assert!(c.open_orders(None).unwrap().is_empty());
    assert!(c.my_trades("SOLUSDC", None, 10).unwrap().is_empty());
    // The HMAC key of the same simulator still works beside it.
    let h = BinanceClient::new(
        ClientConfig::new(sim.base_url()).with_credentials(HMAC_KEY, HMAC_SECRET),
    );
    assert_eq!(h.account().unwrap().free("USDC"), usdc);
    sim.shutdown();
}

#[test]
fn a_wrong_ed25519_key_is_refused_and_no_key_leaks() {
    common::capture_logs();
    let sim = SimServer::start(sim_config(), "127.0.0.1:0").unwrap();
    let c = ed_client(&sim, OTHER_PEM);
    let e = c.account().unwrap_err();
    assert_eq!(e.code(), Some(-1022), "{e:?}");
    assert!(e.is_auth_error());
    assert_eq!(
        e.to_string(),
        "exchange error -1022: Signature for this request is not valid."
    );
    let placed = c.place_order(&NewOrder::limit(
        "SOLUSDC",
        Side::Buy,
        dec!(0.1),
        dec!(140.00),
    ));
    assert_eq!(placed.unwrap_err().code(), Some(-1022));
    // An unknown API key: -2015, whatever the signature.
    let mut cfg = ClientConfig::new(sim.base_url()).with_ed25519_key("not-registered", key(PEM));
    cfg.timeout = Duration::from_secs(2);
    let e = BinanceClient::new(cfg).account().unwrap_err();
    assert_eq!(e.code(), Some(-2015), "{e:?}");
    // Neither private key appears anywhere.
    let good = ed_client(&sim, PEM);
    good.account().unwrap();
    let mut texts = common::logs();
    texts.push(format!("{c:?} {good:?} {e:?} {e}"));
    for t in &texts {
        for secret in [
            "IJ3kUoUGoM9YVFsF",
            "IIJEYWtGBrhACmb9",
            "MC4CAQAwBQYDK2VwBCI",
        ] {
            assert!(!t.contains(secret), "private key leaked: {t}");
        }
    }
    sim.shutdown();
}

/// The client's clock and the simulator's, moved together: a sleep of the
/// client (the governor's wait) or of the test advances both.
struct Linked {
    clock: ManualClock,
    engine: SharedEngine,
}

impl Clock for Linked {
    fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
    fn sleep(&self, d: Duration) {
        self.clock.sleep(d);
        exchange_sim::server::lock(&self.engine).advance(d.as_millis() as i64);
    }
}

fn limited_sim(orders_per_10s: u64) -> (SimServer, Arc<Linked>) {
    let mut cfg = sim_config();
    cfg.start_time_ms = Some(T0 + 1_000);
    cfg.limits.orders_per_10s = orders_per_10s;
    let sim = SimServer::start(cfg, "127.0.0.1:0").unwrap();
    let linked = Arc::new(Linked {
        clock: ManualClock::new(T0 + 1_000),
        engine: sim.engine(),
    });
    (sim, linked)
}

fn order_counts(sim: &SimServer) -> (u64, u64) {
    exchange_sim::server::lock(&sim.engine()).order_counts()
}

/// What the daemon does per create: `order_timestamp` (waits briefly or
/// defers), then `place_order` with that timestamp at once; a deferral is
/// retried after its `retry_after`. Returns the deferrals.
fn place_all(
    c: &BinanceClient,
    clock: &Linked,
    sim: &SimServer,
    orders: &[NewOrder],
    limit: u64,
) -> u32 {
    let mut deferred = 0;
    for o in orders {
        let ts = loop {
            match c.order_timestamp() {
                Ok(ts) => break ts,
                Err(Error::RateLimited { retry_after }) => {
                    deferred += 1;
                    clock.sleep(retry_after);
                }
                Err(e) => panic!("order_timestamp: {e:?}"),
            }
        };
        let mut o = o.clone();
        o.timestamp_ms = Some(ts);
        let placed = c.place_order(&o);
        assert!(placed.is_ok(), "{placed:?}");
        let (c10, _) = order_counts(sim);
        assert!(c10 <= limit, "the simulator's 10 s count {c10} > {limit}");
    }
    deferred
}

fn grid(n: u32) -> Vec<NewOrder> {
    (0..n)
        .map(|i| {
            NewOrder::limit(
                "SOLUSDC",
                Side::Buy,
                dec!(0.1),
                dec!(149.00) - Decimal::from(i) * dec!(0.25),
            )
        })
        .collect()
}

#[test]
fn a_100_level_grid_placed_at_once_never_trips_the_order_limit() {
    const LIMIT: u64 = 30;
    let (sim, clock) = limited_sim(LIMIT);
    let mut cfg = ClientConfig::new(sim.base_url()).with_ed25519_key(ED_KEY, key(PEM));
    cfg.timeout = Duration::from_secs(2);
    let c = BinanceClient::with_clock(cfg, clock.clone());
    // The symbol's rules are read first, as the daemon does: they carry the limits.
    c.symbol_rules("SOLUSDC").unwrap();
    assert_eq!(
        c.governor().order_limits(),
        vec![(10_000, LIMIT), (86_400_000, 200_000)]
    );
    let deferred = place_all(&c, &clock, &sim, &grid(100), LIMIT);
    let open = c.open_orders(Some("SOLUSDC")).unwrap();
    assert_eq!(open.len(), 100, "every level placed");
    // 28 (the cap: 30 less the margin) per window: the limit was binding,
    // and the client deferred instead of being refused.
    assert!(deferred >= 3, "deferred {deferred}");
    let end = clock.now_ms() - T0;
    assert!(
        end >= 30_000,
        "100 orders at 28 per 10 s end in the 4th window, not at {end} ms"
    );
    assert_eq!(
        exchange_sim::server::lock(&sim.engine())
            .state()
            .order_count_1d,
        100
    );
    sim.shutdown();
}

#[test]
fn fills_lower_the_count_and_the_client_follows() {
    const LIMIT: u64 = 30;
    let (sim, clock) = limited_sim(LIMIT);
    let c = BinanceClient::with_clock(
        ClientConfig::new(sim.base_url()).with_credentials(HMAC_KEY, HMAC_SECRET),
        clock.clone(),
    );
    c.symbol_rules("SOLUSDC").unwrap();
    assert_eq!(place_all(&c, &clock, &sim, &grid(28), LIMIT), 0);
    assert_eq!(order_counts(&sim), (28, 28));
    assert!(matches!(
        c.order_timestamp(),
        Err(Error::RateLimited { .. })
    ));
    // The price falls through the top 20 levels: their first fills take 20
    // off the simulator's count (faqs/order_count_decrement.md).
    exchange_sim::server::lock(&sim.engine())
        .set_price("SOLUSDC", dec!(144.10))
        .unwrap();
    assert_eq!(order_counts(&sim), (8, 8));
    // The next order's answer reports it; then the client places 19 more in
    // the same 10 s window without a wait.
    let t = clock.now_ms();
    let more: Vec<NewOrder> = (0..20)
        .map(|i| {
            NewOrder::limit(
                "SOLUSDC",
                Side::Buy,
                dec!(0.1),
                dec!(130.00) - Decimal::from(i),
            )
        })
        .collect();
    // The first needs the room the governor does not know of yet: sent
    // stamped, without order_timestamp's check (still under the full limit).
    let mut first = more[0].clone();
    first.timestamp_ms = Some(c.exchange_now_ms().unwrap());
    c.place_order(&first)
        .map(|_| ())
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(c.governor().estimated_order_counts()[0], (10_000, 9));
    assert_eq!(place_all(&c, &clock, &sim, &more[1..], LIMIT), 0);
    assert_eq!(clock.now_ms(), t, "no wait");
    assert_eq!(order_counts(&sim).0, 28);
    sim.shutdown();
}

#[test]
fn a_1015_from_orders_the_client_did_not_know_blocks_new_orders_only() {
    const LIMIT: u64 = 30;
    let (sim, clock) = limited_sim(LIMIT);
    let a = BinanceClient::with_clock(
        ClientConfig::new(sim.base_url()).with_credentials(HMAC_KEY, HMAC_SECRET),
        clock.clone(),
    );
    a.symbol_rules("SOLUSDC").unwrap();
    place_all(&a, &clock, &sim, &grid(28), LIMIT);
    // Another client on the same account, which never read exchangeInfo
    // (it assumes 100 per 10 s): the simulator refuses its third order.
    let b = BinanceClient::with_clock(
        ClientConfig::new(sim.base_url()).with_ed25519_key(ED_KEY, key(PEM)),
        clock.clone(),
    );
    let more = grid(31);
    b.place_order(&more[28]).unwrap();
    b.place_order(&more[29]).unwrap();
    let e = b.place_order(&more[30]).unwrap_err();
    let Error::RateLimited { retry_after } = e else {
        panic!("{e:?}")
    };
    assert!(retry_after <= Duration::from_secs(10), "{retry_after:?}");
    assert_eq!(order_counts(&sim).0, LIMIT);
    let before = exchange_sim::server::lock(&sim.engine())
        .state()
        .request_counts;
    // New orders are refused without a request; reads and cancels go on.
    assert!(matches!(
        b.order_timestamp(),
        Err(Error::RateLimited { .. })
    ));
    assert!(matches!(
        b.place_order(&more[30]),
        Err(Error::RateLimited { .. })
    ));
    let after = exchange_sim::server::lock(&sim.engine())
        .state()
        .request_counts;
    assert_eq!(before.get("order"), after.get("order"), "nothing sent");
    let open = b.open_orders(Some("SOLUSDC")).unwrap();
    b.cancel_order("SOLUSDC", OrderRef::Id(open[0].order_id))
        .unwrap();
    // After Retry-After, orders go again.
    clock.sleep(retry_after);
    b.place_order(&more[30]).unwrap();
    sim.shutdown();
}

#[test]
fn the_simulator_refuses_a_config_whose_public_key_is_not_ed25519() {
    let good = key(PEM).public_key_pem().unwrap();
    let json = |pem: &str| {
        serde_json::json!({"api_keys": [{"key": "k1", "ed25519_public_key_pem": pem}]}).to_string()
    };
    assert!(SimConfig::from_json_str(&json(&good)).is_ok());
    let e = SimConfig::from_json_str(&json(PEM))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("not an Ed25519 public key PEM") && e.contains("k1"),
        "{e}"
    );
    let e = SimConfig::from_json_str(
        &serde_json::json!({"api_keys": [{"key": "sim-key", "ed25519_public_key_pem": good}]})
            .to_string(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("listed twice"), "{e}");
}

//! The market-data endpoints over HTTP: `/ticker/24hr`, `/ticker` (rolling
//! window), `/ticker/bookTicker`, `/depth`, `/trades`, `/uiKlines`,
//! `/avgPrice` — Binance's field order, parameters, errors and weights, and
//! numbers that follow the engine's price path, trades and resting orders.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::time::Duration;

use exchange_sim::api::sign;
use exchange_sim::engine::MAX_BARS;
use exchange_sim::server::lock;
use exchange_sim::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};

const T0: i64 = 1_499_827_319_559;
/// T0's minute.
const M0: i64 = T0 - T0 % 60_000;

struct Resp {
    status: u16,
    json: serde_json::Value,
    text: String,
    headers: HashMap<String, String>,
}

impl Resp {
    fn weight(&self) -> u64 {
        self.headers["x-mbx-used-weight-1m"].parse().unwrap()
    }
}

struct Client {
    base: String,
    agent: ureq::Agent,
}

impl Client {
    fn send(&self, method: &str, path_query: &str) -> Resp {
        let url = format!("{}{}", self.base, path_query);
        let res = match method {
            "GET" => self
                .agent
                .get(&url)
                .header("X-MBX-APIKEY", "sim-key")
                .call(),
            _ => self
                .agent
                .post(&url)
                .header("X-MBX-APIKEY", "sim-key")
                .send(""),
        };
        let mut resp = res.expect("transport");
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_lowercase(), v.to_str().unwrap().to_string()))
            .collect();
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
        Resp {
            status,
            json,
            text,
            headers,
        }
    }
    fn get(&self, path_query: &str) -> Resp {
        self.send("GET", path_query)
    }
    /// A signed order at the engine's time `ts`.
    fn order(&self, params: &str, ts: i64) -> Resp {
        let q = format!("{params}&timestamp={ts}");
        let sig = sign("sim-secret", q.as_bytes());
        let r = self.send("POST", &format!("/api/v3/order?{q}&signature={sig}"));
        assert_eq!(r.status, 200, "{}", r.text);
        r
    }
}

fn start() -> (SimServer, Client) {
    let cfg = SimConfig {
        start_time_ms: Some(T0),
        workers: 1,
        ..SimConfig::default()
    };
    let srv = SimServer::start(cfg, "127.0.0.1:0").expect("start");
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let cl = Client {
        base: srv.base_url(),
        agent,
    };
    (srv, cl)
}

fn assert_err(r: &Resp, code: i64, msg: &str) {
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.json["code"], code, "{}", r.text);
    assert_eq!(r.json["msg"], msg, "{}", r.text);
}

fn assert_code(r: &Resp, code: i64) {
    assert_eq!(
        (r.status, r.json["code"].as_i64()),
        (400, Some(code)),
        "{}",
        r.text
    );
}

/// The keys of a JSON object in the order they were written.
fn keys(text: &str) -> Vec<String> {
    struct Keys;
    impl<'de> Visitor<'de> for Keys {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Vec<String>, A::Error> {
            let mut v = Vec::new();
            while let Some(k) = m.next_key::<String>()? {
                m.next_value::<IgnoredAny>()?;
                v.push(k);
            }
            Ok(v)
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    de.deserialize_map(Keys).expect("a JSON object")
}

fn d(v: &serde_json::Value) -> Decimal {
    v.as_str().expect("a decimal string").parse().unwrap()
}

const FULL_24HR: [&str; 21] = [
    "symbol",
    "priceChange",
    "priceChangePercent",
    "weightedAvgPrice",
    "prevClosePrice",
    "lastPrice",
    "lastQty",
    "bidPrice",
    "bidQty",
    "askPrice",
    "askQty",
    "openPrice",
    "highPrice",
    "lowPrice",
    "volume",
    "quoteVolume",
    "openTime",
    "closeTime",
    "firstId",
    "lastId",
    "count",
];
const MINI: [&str; 12] = [
    "symbol",
    "openPrice",
    "highPrice",
    "lowPrice",
    "lastPrice",
    "volume",
    "quoteVolume",
    "openTime",
    "closeTime",
    "firstId",
    "lastId",
    "count",
];
const FULL_ROLLING: [&str; 15] = [
    "symbol",
    "priceChange",
    "priceChangePercent",
    "weightedAvgPrice",
    "openPrice",
    "highPrice",
    "lowPrice",
    "lastPrice",
    "volume",
    "quoteVolume",
    "openTime",
    "closeTime",
    "firstId",
    "lastId",
    "count",
];

/// SOLUSDC: 150 at T0, 160 a minute later, 140 at +2 min, 155 at +3 min,
/// then a MARKET BUY of 0.1 (taker, at 155).
fn with_history(srv: &SimServer, cl: &Client) -> i64 {
    let eng = srv.engine();
    for (min, p) in [(1, dec!(160)), (2, dec!(140)), (3, dec!(155))] {
        let mut e = lock(&eng);
        e.set_time(M0 + min * 60_000 + 5_000);
        e.set_price("SOLUSDC", p).unwrap();
    }
    let now = M0 + 3 * 60_000 + 6_000;
    lock(&eng).set_time(now);
    let r = cl.order(
        "symbol=SOLUSDC&side=BUY&type=MARKET&quantity=0.1&newOrderRespType=FULL",
        now,
    );
    assert_eq!(r.json["status"], "FILLED");
    now
}

#[test]
fn ticker_24hr_full_and_mini_follow_the_path_and_the_trades() {
    let (srv, cl) = start();
    let now = with_history(&srv, &cl);
    let w0 = cl.get("/api/v3/time").weight();
    let r = cl.get("/api/v3/ticker/24hr?symbol=SOLUSDC");
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.weight() - w0, 2, "24hr with symbol weighs 2");
    assert_eq!(keys(&r.text), FULL_24HR);
    let j = &r.json;
    assert_eq!(j["symbol"], "SOLUSDC");
    assert_eq!(j["openPrice"], "150.00000000");
    assert_eq!(j["prevClosePrice"], "150.00000000");
    assert_eq!(j["highPrice"], "160.00000000");
    assert_eq!(j["lowPrice"], "140.00000000");
    assert_eq!(j["lastPrice"], "155.00000000");
    assert_eq!(j["priceChange"], "5.00000000");
    assert_eq!(j["priceChangePercent"], "3.333");
    assert_eq!(j["volume"], "0.10000000");
    assert_eq!(j["quoteVolume"], "15.50000000");
    assert_eq!(j["weightedAvgPrice"], "155.00000000");
    assert_eq!(j["lastQty"], "0.10000000");
    assert_eq!(
        (j["firstId"].as_i64(), j["lastId"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(j["count"], 1);
    assert_eq!(j["closeTime"], now);
    assert_eq!(j["openTime"], now - 86_400_000);
    // The book around the last price: one tick each side.
    assert_eq!(j["bidPrice"], "154.99000000");
    assert_eq!(j["askPrice"], "155.01000000");
    assert!(d(&j["bidQty"]) > Decimal::ZERO && d(&j["askQty"]) > Decimal::ZERO);

    // A symbol that never traded: ids -1, zero volume.
    let r = cl.get("/api/v3/ticker/24hr?symbol=BTCUSDC&type=MINI");
    assert_eq!(keys(&r.text), MINI);
    assert_eq!(r.json["firstId"], -1);
    assert_eq!(r.json["lastId"], -1);
    assert_eq!(r.json["count"], 0);
    assert_eq!(r.json["volume"], "0.00000000");
    assert_eq!(r.json["openPrice"], "60000.00000000");

    // Lists: symbols keeps the order asked; none gives every symbol.
    let w0 = r.weight();
    let r = cl.get("/api/v3/ticker/24hr?symbols=%5B%22BTCUSDC%22,%22SOLUSDC%22%5D&type=MINI");
    assert_eq!(r.weight() - w0, 2, "1-20 symbols weigh 2");
    let names: Vec<&str> = r
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["symbol"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["BTCUSDC", "SOLUSDC"]);
    let r = cl.get("/api/v3/ticker/24hr?symbols=%5B%22SOLUSDC%22%5D");
    assert!(r.json.is_array(), "symbols answers an array even for one");
    let w0 = r.weight();
    let r = cl.get("/api/v3/ticker/24hr");
    assert_eq!(r.weight() - w0, 80, "all symbols weigh 80");
    assert_eq!(r.json.as_array().unwrap().len(), 4);
    assert_eq!(keys(&r.json[0].to_string()).len(), FULL_24HR.len());
}

#[test]
fn ticker_parameter_errors_and_symbol_status() {
    let (srv, cl) = start();
    let bad = |q: &str| cl.get(&format!("/api/v3/ticker/24hr?{q}"));
    assert_err(&bad("symbol=NOPEUSDC"), -1121, "Invalid symbol.");
    assert_err(
        &bad("symbols=%5B%22SOLUSDC%22,%22NOPEUSDC%22%5D"),
        -1121,
        "Invalid symbol.",
    );
    assert_code(&bad("symbol=solusdc"), -1100);
    assert_code(&bad("symbols=SOLUSDC"), -1100);
    assert_err(
        &bad("symbol=SOLUSDC&symbols=%5B%22SOLUSDC%22%5D"),
        -1128,
        "Combination of optional parameters invalid.",
    );
    assert_err(
        &bad("symbol=SOLUSDC&type=FOO"),
        -1100,
        "Illegal characters found in parameter 'type'; legal range is 'FULL, MINI'.",
    );
    assert_err(
        &bad("symbol=SOLUSDC&symbolStatus=OPEN"),
        -1122,
        "Invalid symbolStatus.",
    );
    assert_err(
        &bad("symbol=SOLUSDC&symbolStatus=HALT"),
        -1220,
        "The symbol's status does not match the requested symbolStatus.",
    );
    // symbolStatus filters lists.
    let mut change = SymbolChange::new("BTCUSDC");
    change.status = Some(SymbolStatus::Halt);
    lock(&srv.engine()).set_symbol(&change).unwrap();
    let r = bad("symbolStatus=HALT");
    let names: Vec<&str> = r
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["symbol"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["BTCUSDC"]);
    let r = cl.get("/api/v3/ticker/bookTicker?symbolStatus=TRADING");
    assert_eq!(r.json.as_array().unwrap().len(), 3);
    let r = cl.get("/api/v3/depth?symbol=BTCUSDC&symbolStatus=TRADING");
    assert_code(&r, -1220);
}

#[test]
fn rolling_window_ticker() {
    let (srv, cl) = start();
    let now = with_history(&srv, &cl);
    let w0 = cl.get("/api/v3/ping").weight();
    // 2 minutes back from +3m06s starts at +1m: open 160 (the bar of +1m).
    let r = cl.get("/api/v3/ticker?symbol=SOLUSDC&windowSize=2m");
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.weight() - w0, 4);
    assert_eq!(keys(&r.text), FULL_ROLLING);
    assert_eq!(r.json["openTime"], M0 + 60_000);
    assert_eq!(r.json["closeTime"], now);
    assert_eq!(r.json["openPrice"], "160.00000000");
    assert_eq!(r.json["highPrice"], "160.00000000");
    assert_eq!(r.json["lowPrice"], "140.00000000");
    assert_eq!(r.json["priceChange"], "-5.00000000");
    assert_eq!(r.json["priceChangePercent"], "-3.125");
    assert_eq!(r.json["count"], 1);
    // 1 minute: starts at +2m, the price was 140 then.
    let r = cl.get("/api/v3/ticker?symbol=SOLUSDC&windowSize=1m&type=MINI");
    assert_eq!(keys(&r.text), MINI);
    assert_eq!(r.json["openPrice"], "140.00000000");
    assert_eq!(r.json["highPrice"], "155.00000000");
    // The default is 1d.
    let r = cl.get("/api/v3/ticker?symbol=SOLUSDC");
    assert_eq!(r.json["openTime"], {
        let f = now - 86_400_000;
        f - f % 60_000
    });
    assert_eq!(r.json["openPrice"], "150.00000000");
    // symbols: an array, 4 per symbol.
    let w0 = r.weight();
    let r = cl.get("/api/v3/ticker?symbols=%5B%22SOLUSDC%22,%22ETHUSDC%22%5D&windowSize=7d");
    assert_eq!(r.weight() - w0, 8);
    assert_eq!(r.json.as_array().unwrap().len(), 2);
    // Errors.
    assert_err(
        &cl.get("/api/v3/ticker"),
        -1102,
        "Param 'symbol' or 'symbols' must be sent, but both were empty/null!",
    );
    for w in ["8d", "60m", "24h", "1d2h", "0m", "1w"] {
        assert_code(
            &cl.get(&format!("/api/v3/ticker?symbol=SOLUSDC&windowSize={w}")),
            -1100,
        );
    }
    let many: Vec<String> = (0..101).map(|i| format!("%22S{i}%22")).collect();
    let w0 = cl.get("/api/v3/ping").weight();
    let r = cl.get(&format!("/api/v3/ticker?symbols=%5B{}%5D", many.join(",")));
    assert_code(&r, -1101);
    assert_eq!(
        r.weight() - w0,
        200,
        "over 50 symbols weighs 200, refused or not"
    );
}

#[test]
fn depth_merges_resting_orders_into_the_synthetic_book() {
    let (srv, cl) = start();
    let r = cl.get("/api/v3/depth?symbol=SOLUSDC&limit=5");
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(keys(&r.text), ["lastUpdateId", "bids", "asks"]);
    let id0 = r.json["lastUpdateId"].as_i64().unwrap();
    let side = |r: &Resp, s: &str| -> Vec<(Decimal, Decimal)> {
        r.json[s]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| (d(&l[0]), d(&l[1])))
            .collect()
    };
    let bids = side(&r, "bids");
    let asks = side(&r, "asks");
    assert_eq!(bids.len(), 5);
    assert_eq!(asks.len(), 5);
    // One level a tick; the smallest order at 150 is 0.034 SOL (NOTIONAL 5),
    // level k holds k x 10 of them.
    assert_eq!(bids[0], (dec!(149.99), dec!(0.34)));
    assert_eq!(bids[4], (dec!(149.95), dec!(1.70)));
    assert_eq!(asks[0], (dec!(150.01), dec!(0.34)));
    assert_eq!(asks[2], (dec!(150.03), dec!(1.02)));

    // The account's orders add to their levels; the book's id moves on.
    let t = lock(&srv.engine()).now();
    cl.order("symbol=SOLUSDC&side=BUY&type=MARKET&quantity=1", t);
    cl.order(
        "symbol=SOLUSDC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.5&price=149.99",
        t,
    );
    cl.order(
        "symbol=SOLUSDC&side=SELL&type=LIMIT&timeInForce=GTC&quantity=0.2&price=150.02",
        t,
    );
    cl.order(
        "symbol=SOLUSDC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.3&price=100",
        t,
    );
    let r = cl.get("/api/v3/depth?symbol=SOLUSDC&limit=5");
    assert!(r.json["lastUpdateId"].as_i64().unwrap() > id0);
    let bids = side(&r, "bids");
    let asks = side(&r, "asks");
    assert_eq!(bids[0], (dec!(149.99), dec!(0.84)));
    assert_eq!(asks[1], (dec!(150.02), dec!(0.88)));
    assert_eq!(bids.len(), 5, "the far order is beyond 5 levels");

    // Deep enough, the far order shows at its own price.
    let w0 = r.weight();
    let r = cl.get("/api/v3/depth?symbol=SOLUSDC&limit=5000");
    assert_eq!(r.weight() - w0, 250);
    let bids = side(&r, "bids");
    assert_eq!(bids.len(), 5000);
    let at100 = bids
        .iter()
        .find(|(p, _)| *p == dec!(100))
        .expect("the order at 100");
    assert_eq!(at100.1, dec!(0.3) + Decimal::from(5000) * dec!(0.34));
    assert!(bids.windows(2).all(|w| w[0].0 > w[1].0), "bids best first");
    let asks = side(&r, "asks");
    assert!(asks.windows(2).all(|w| w[0].0 < w[1].0), "asks best first");
    assert!(bids[0].0 < asks[0].0, "not crossed");

    // Weights by limit; a limit over 5000 is cut to 5000.
    for (limit, w) in [
        (100, 5),
        (101, 25),
        (500, 25),
        (501, 50),
        (1000, 50),
        (6000, 250),
    ] {
        let before = cl.get("/api/v3/ping").weight();
        let r = cl.get(&format!("/api/v3/depth?symbol=SOLUSDC&limit={limit}"));
        assert_eq!(r.weight() - before, w, "limit {limit}");
        assert_eq!(r.json["bids"].as_array().unwrap().len(), limit.min(5000));
    }
    let r = cl.get("/api/v3/depth?symbol=SOLUSDC");
    assert_eq!(r.json["asks"].as_array().unwrap().len(), 100, "default 100");
    // Errors.
    assert_err(
        &cl.get("/api/v3/depth"),
        -1102,
        "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
    );
    assert_err(
        &cl.get("/api/v3/depth?symbol=NOPEUSDC"),
        -1121,
        "Invalid symbol.",
    );
    assert_code(&cl.get("/api/v3/depth?symbol=SOLUSDC&limit=abc"), -1100);
    assert_code(&cl.get("/api/v3/depth?symbol=SOLUSDC&limit=0"), -1130);
}

#[test]
fn book_ticker_is_the_top_of_the_book() {
    let (_srv, cl) = start();
    let w0 = cl.get("/api/v3/ping").weight();
    let r = cl.get("/api/v3/ticker/bookTicker?symbol=ETHUSDC");
    assert_eq!(r.weight() - w0, 2);
    assert_eq!(
        keys(&r.text),
        ["symbol", "bidPrice", "bidQty", "askPrice", "askQty"]
    );
    let depth = cl.get("/api/v3/depth?symbol=ETHUSDC&limit=1");
    assert_eq!(r.json["bidPrice"], depth.json["bids"][0][0]);
    assert_eq!(r.json["bidQty"], depth.json["bids"][0][1]);
    assert_eq!(r.json["askPrice"], depth.json["asks"][0][0]);
    assert_eq!(r.json["askQty"], depth.json["asks"][0][1]);
    assert_eq!(r.json["bidPrice"], "2999.99000000");
    let w0 = depth.weight();
    let r = cl.get("/api/v3/ticker/bookTicker");
    assert_eq!(r.weight() - w0, 4);
    assert_eq!(r.json.as_array().unwrap().len(), 4);
    assert_err(
        &cl.get("/api/v3/ticker/bookTicker?symbol=NOPEUSDC"),
        -1121,
        "Invalid symbol.",
    );
}

#[test]
fn trades_list_the_account_trades_with_the_buyer_maker_flag() {
    let (srv, cl) = start();
    let eng = srv.engine();
    let t = lock(&eng).now();
    // Taker buy: the buyer took.
    cl.order("symbol=SOLUSDC&side=BUY&type=MARKET&quantity=1", t);
    // Resting buy filled as the price falls: the buyer made the market.
    cl.order(
        "symbol=SOLUSDC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.2&price=149",
        t,
    );
    lock(&eng).set_price("SOLUSDC", dec!(148)).unwrap();
    // Resting sell filled as the price rises: the buyer took.
    cl.order(
        "symbol=SOLUSDC&side=SELL&type=LIMIT&timeInForce=GTC&quantity=0.3&price=149.5",
        t,
    );
    lock(&eng).set_price("SOLUSDC", dec!(150)).unwrap();
    let w0 = cl.get("/api/v3/ping").weight();
    let r = cl.get("/api/v3/trades?symbol=SOLUSDC");
    assert_eq!(r.weight() - w0, 25);
    let v = r.json.as_array().unwrap();
    assert_eq!(v.len(), 3, "{}", r.text);
    assert_eq!(
        keys(&v[0].to_string()).len(),
        7,
        "id price qty quoteQty time isBuyerMaker isBestMatch"
    );
    assert_eq!(
        keys(&r.text[1..r.text.find('}').unwrap() + 1]),
        [
            "id",
            "price",
            "qty",
            "quoteQty",
            "time",
            "isBuyerMaker",
            "isBestMatch"
        ]
    );
    let flags: Vec<bool> = v
        .iter()
        .map(|t| t["isBuyerMaker"].as_bool().unwrap())
        .collect();
    assert_eq!(flags, [false, true, false]);
    assert_eq!(v[1]["price"], "149.00000000");
    assert_eq!(v[1]["qty"], "0.20000000");
    assert_eq!(v[1]["quoteQty"], "29.80000000");
    let ids: Vec<i64> = v.iter().map(|t| t["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [1, 2, 3]);
    // limit keeps the newest.
    let r = cl.get("/api/v3/trades?symbol=SOLUSDC&limit=2");
    let ids: Vec<i64> = r
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [2, 3]);
    assert_eq!(cl.get("/api/v3/trades?symbol=BTCUSDC").text, "[]");
    assert_err(
        &cl.get("/api/v3/trades?symbol=NOPEUSDC"),
        -1121,
        "Invalid symbol.",
    );
    assert_code(&cl.get("/api/v3/trades?symbol=SOLUSDC&limit=1001"), -1130);
    assert_code(&cl.get("/api/v3/trades"), -1102);
}

#[test]
fn ui_klines_are_the_klines_and_avg_price_has_its_shape() {
    let (srv, cl) = start();
    with_history(&srv, &cl);
    let k = cl.get("/api/v3/klines?symbol=SOLUSDC&interval=1m");
    let w0 = k.weight();
    let ui = cl.get("/api/v3/uiKlines?symbol=SOLUSDC&interval=1m");
    assert_eq!(ui.weight() - w0, 2);
    assert_eq!(ui.text, k.text);
    assert_eq!(ui.json.as_array().unwrap().len(), 4);
    assert_eq!(ui.json[1][2], "160.00000000");
    let ui5 = cl.get("/api/v3/uiKlines?symbol=SOLUSDC&interval=5m&limit=1");
    assert_eq!(ui5.json[0][2], "160.00000000");
    assert_eq!(ui5.json[0][3], "140.00000000");
    assert_err(
        &cl.get("/api/v3/uiKlines?symbol=SOLUSDC&interval=7m"),
        -1120,
        "Invalid interval.",
    );
    assert_code(&cl.get("/api/v3/uiKlines?symbol=SOLUSDC"), -1102);
    let r = cl.get("/api/v3/avgPrice?symbol=SOLUSDC");
    assert_eq!(keys(&r.text), ["mins", "price", "closeTime"]);
    assert_eq!(r.json["mins"], 5);
}

#[test]
fn every_endpoint_a_client_library_calls_is_served() {
    let (_srv, cl) = start();
    for (method, path) in [
        ("GET", "/api/v3/ping"),
        ("GET", "/api/v3/time"),
        ("GET", "/api/v3/exchangeInfo"),
        ("GET", "/api/v3/ticker/price"),
        ("GET", "/api/v3/ticker/24hr"),
        ("GET", "/api/v3/ticker/bookTicker"),
        ("GET", "/api/v3/ticker"),
        ("GET", "/api/v3/depth"),
        ("GET", "/api/v3/trades"),
        ("GET", "/api/v3/avgPrice"),
        ("GET", "/api/v3/klines"),
        ("GET", "/api/v3/uiKlines"),
        ("GET", "/api/v3/account"),
        ("GET", "/api/v3/openOrders"),
        ("GET", "/api/v3/allOrders"),
        ("GET", "/api/v3/myTrades"),
        ("GET", "/api/v3/order"),
        ("POST", "/api/v3/order"),
    ] {
        let r = cl.send(method, path);
        assert_ne!(r.status, 404, "{method} {path}");
        assert!(
            r.headers.contains_key("x-mbx-used-weight-1m"),
            "{method} {path}"
        );
    }
    let url = format!("{}/api/v3/order", cl.base);
    let r = cl.agent.delete(&url).call().unwrap();
    assert_ne!(r.status().as_u16(), 404);
}

/// The history the tickers read is bounded: [`MAX_BARS`] minutes per symbol,
/// whatever runs; a window reaching past it starts at the oldest bar kept.
#[test]
fn minute_history_is_bounded() {
    let mut e = Engine::new(SimConfig {
        start_time_ms: Some(M0),
        ..SimConfig::default()
    })
    .unwrap();
    let n = MAX_BARS as i64 + 500;
    for i in 1..=n {
        e.set_time(M0 + i * 60_000);
        let p = if i % 2 == 0 { dec!(150) } else { dec!(151) };
        e.set_price("SOLUSDC", p).unwrap();
    }
    let bars = e.klines("SOLUSDC", 60_000, None, None, usize::MAX).unwrap();
    assert_eq!(bars.len(), MAX_BARS);
    assert_eq!(bars[0].open_time, M0 + (n - MAX_BARS as i64 + 1) * 60_000);
    let st = e.window_stats("SOLUSDC", M0).unwrap();
    assert_eq!(st.open, bars[0].open);
    assert_eq!(
        (st.low, st.high, st.last),
        (dec!(150), dec!(151), dec!(150))
    );
    // From inside the next-to-last minute: that bar (151) and the last (150).
    let st = e.window_stats("SOLUSDC", M0 + n * 60_000 - 1).unwrap();
    assert_eq!(
        (st.open, st.high, st.low),
        (dec!(151), dec!(151), dec!(150))
    );
    assert_eq!(st.prev_close, dec!(150));
}

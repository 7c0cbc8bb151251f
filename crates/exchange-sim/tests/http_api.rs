//! Every error code and message triggered by a real HTTP request against a
//! running server, the TV-1 signature vectors, the TV-6 filter vectors, the
//! response shapes/headers, rate limits, faults and the control API.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::time::Duration;

use exchange_sim::api::sign;
use exchange_sim::*;
use rust_decimal_macros::dec;

const T0: i64 = 1_499_827_319_559;
const KEY: &str = "sim-key";
const SECRET: &str = "sim-secret";

struct Resp {
    status: u16,
    json: serde_json::Value,
    text: String,
    headers: HashMap<String, String>,
}

struct Client {
    base: String,
    agent: ureq::Agent,
    key: String,
    secret: String,
    ts: i64,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

impl Client {
    fn new(srv: &SimServer) -> Client {
        Client {
            base: srv.base_url(),
            agent: agent(),
            key: KEY.into(),
            secret: SECRET.into(),
            ts: T0,
        }
    }
    fn raw(&self, method: &str, path_query: &str, body: Option<&str>, key: Option<&str>) -> Resp {
        let url = format!("{}{}", self.base, path_query);
        let res = match (method, body) {
            ("GET", _) => {
                let mut r = self.agent.get(&url);
                if let Some(k) = key {
                    r = r.header("X-MBX-APIKEY", k);
                }
                r.call()
            }
            ("DELETE", _) => {
                let mut r = self.agent.delete(&url);
                if let Some(k) = key {
                    r = r.header("X-MBX-APIKEY", k);
                }
                r.call()
            }
            (_, b) => {
                let mut r = self.agent.post(&url);
                if let Some(k) = key {
                    r = r.header("X-MBX-APIKEY", k);
                }
                r.header("Content-Type", "application/x-www-form-urlencoded")
                    .send(b.unwrap_or(""))
            }
        };
        let mut resp = res.expect("transport");
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_lowercase(),
                    v.to_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
        Resp {
            status,
            json,
            text,
            headers,
        }
    }
    /// Signed request with everything in the query string.
    fn signed(&self, method: &str, path: &str, params: &str) -> Resp {
        let q = if params.is_empty() {
            format!("timestamp={}", self.ts)
        } else {
            format!("{params}&timestamp={}", self.ts)
        };
        let sig = sign(&self.secret, q.as_bytes());
        self.raw(
            method,
            &format!("{path}?{q}&signature={sig}"),
            None,
            Some(&self.key),
        )
    }
    fn order(&self, params: &str) -> Resp {
        self.signed("POST", "/api/v3/order", params)
    }
    fn control(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let mut r = self
            .agent
            .post(&format!("{}{}", self.base, path))
            .send_json(body)
            .expect("control");
        serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap()
    }
}

fn cfg() -> SimConfig {
    SimConfig {
        start_time_ms: Some(T0),
        workers: 1,
        ..SimConfig::default()
    }
}

fn start(c: SimConfig) -> (SimServer, Client) {
    let srv = SimServer::start(c, "127.0.0.1:0").expect("start");
    let cl = Client::new(&srv);
    (srv, cl)
}

fn assert_err(r: &Resp, status: u16, code: i64, msg: &str) {
    assert_eq!(r.status, status, "body: {}", r.text);
    assert_eq!(r.json["code"], code, "body: {}", r.text);
    assert_eq!(r.json["msg"], msg, "body: {}", r.text);
}

#[test]
fn tv1_official_signature_vectors_accepted() {
    let mut c = cfg();
    c.api_key = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A".into();
    c.api_secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j".into();
    let mut s = SymbolConfig::new("LTCBTC", "LTC", "BTC", "0.2", "0.00001", "0.001");
    s.filters.min_notional = dec!(0.0001);
    c.symbols = vec![s];
    c.balances.insert("BTC".into(), dec!(10));
    let (_srv, cl) = start(c);
    let key = Some("vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A");
    let q = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
    let sig = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71";
    let r = cl.raw(
        "POST",
        &format!("/api/v3/order?{q}&signature={sig}"),
        None,
        key,
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["status"], "NEW");
    assert_eq!(r.json["price"], "0.10000000");
    // Upper-case signature accepted (a fresh request: a new clientOrderId is generated).
    let r = cl.raw(
        "POST",
        &format!("/api/v3/order?{q}&signature={}", sig.to_uppercase()),
        None,
        key,
    );
    assert_eq!(r.status, 200, "{}", r.text);
    // One payload character flipped.
    let bad = q.replace("quantity=1", "quantity=2");
    let r = cl.raw(
        "POST",
        &format!("/api/v3/order?{bad}&signature={sig}"),
        None,
        key,
    );
    assert_err(&r, 400, -1022, "Signature for this request is not valid.");
    // H3: query + body, no '&' at the join.
    let r = cl.raw(
        "POST",
        "/api/v3/order?symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC",
        Some("quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559&signature=0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77"),
        key,
    );
    assert_eq!(r.status, 200, "{}", r.text);
    // H2: signature over the percent-encoded bytes passes; the symbol itself is then refused.
    let h2 = "symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
    let r = cl.raw(
        "POST",
        &format!("/api/v3/order?{h2}&signature=e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"),
        None,
        key,
    );
    assert_eq!(r.json["code"], -1100, "{}", r.text);
}

#[test]
fn public_endpoints_shapes_and_weights() {
    let (_srv, cl) = start(cfg());
    let r = cl.raw("GET", "/api/v3/ping", None, None);
    assert_eq!((r.status, r.text.as_str()), (200, "{}"));
    assert_eq!(r.headers["x-mbx-used-weight-1m"], "1");
    let r = cl.raw("GET", "/api/v3/time", None, None);
    assert_eq!(r.json["serverTime"], T0);
    assert_eq!(r.headers["x-mbx-used-weight-1m"], "2");
    let r = cl.raw("GET", "/api/v3/exchangeInfo?symbol=BTCUSDC", None, None);
    assert_eq!(r.headers["x-mbx-used-weight-1m"], "22");
    let s = &r.json["symbols"][0];
    assert_eq!(s["symbol"], "BTCUSDC");
    let types: Vec<&str> = s["filters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["filterType"].as_str().unwrap())
        .collect();
    for f in [
        "PRICE_FILTER",
        "LOT_SIZE",
        "NOTIONAL",
        "PERCENT_PRICE_BY_SIDE",
        "TRAILING_DELTA",
        "MAX_NUM_ORDERS",
        "MAX_NUM_ALGO_ORDERS",
    ] {
        assert!(types.contains(&f), "{f}");
    }
    assert_eq!(s["filters"][0]["tickSize"], "0.01000000");
    assert_eq!(r.json["rateLimits"][0]["limit"], 6000);
    let r = cl.raw(
        "GET",
        "/api/v3/exchangeInfo?symbols=%5B%22BTCUSDC%22,%22SOLUSDC%22%5D",
        None,
        None,
    );
    assert_eq!(r.json["symbols"].as_array().unwrap().len(), 2);
    let r = cl.raw("GET", "/api/v3/exchangeInfo", None, None);
    assert_eq!(r.json["symbols"].as_array().unwrap().len(), 4);
    let r = cl.raw("GET", "/api/v3/exchangeInfo?symbol=FOOBAR", None, None);
    assert_err(&r, 400, -1121, "Invalid symbol.");

    let r = cl.raw("GET", "/api/v3/ticker/price?symbol=BTCUSDC", None, None);
    assert_eq!(r.text, r#"{"symbol":"BTCUSDC","price":"60000.00000000"}"#);
    let r = cl.raw("GET", "/api/v3/ticker/price", None, None);
    assert_eq!(r.json.as_array().unwrap().len(), 4);
    let r = cl.raw("GET", "/api/v3/ticker/price?symbol=FOOBAR", None, None);
    assert_err(&r, 400, -1121, "Invalid symbol.");
    let r = cl.raw("GET", "/api/v3/ticker/price?symbol=btcusdc", None, None);
    assert_eq!(r.json["code"], -1100);

    let r = cl.raw(
        "GET",
        "/api/v3/klines?symbol=BTCUSDC&interval=1m",
        None,
        None,
    );
    let k = &r.json[0];
    assert_eq!(k.as_array().unwrap().len(), 12);
    assert_eq!(k[1], "60000.00000000");
    assert_eq!(k[6].as_i64().unwrap(), k[0].as_i64().unwrap() + 59_999);
    let r = cl.raw(
        "GET",
        "/api/v3/klines?symbol=BTCUSDC&interval=2m",
        None,
        None,
    );
    assert_err(&r, 400, -1120, "Invalid interval.");
    let r = cl.raw("GET", "/api/v3/nope", None, None);
    assert_eq!(r.status, 404);
    assert!(r.headers.contains_key("x-mbx-used-weight-1m"));
}

#[test]
fn auth_and_timestamp_errors() {
    let (_srv, mut cl) = start(cfg());
    let r = cl.raw("GET", "/api/v3/account?timestamp=1", None, None);
    assert_err(&r, 401, -2014, "API-key format invalid.");
    cl.key = "wrong-key".into();
    let r = cl.signed("GET", "/api/v3/account", "");
    assert_err(
        &r,
        401,
        -2015,
        "Invalid API-key, IP, or permissions for action.",
    );
    cl.key = KEY.into();
    let r = cl.raw("GET", "/api/v3/account?recvWindow=5000", None, Some(KEY));
    assert_err(
        &r,
        400,
        -1102,
        "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.",
    );
    let r = cl.raw(
        "GET",
        &format!("/api/v3/account?timestamp={T0}"),
        None,
        Some(KEY),
    );
    assert_err(
        &r,
        400,
        -1102,
        "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.",
    );
    cl.secret = "other".into();
    let r = cl.signed("GET", "/api/v3/account", "");
    assert_err(&r, 400, -1022, "Signature for this request is not valid.");
    cl.secret = SECRET.into();
    cl.ts = T0 - 5001;
    let r = cl.signed("GET", "/api/v3/account", "");
    assert_err(
        &r,
        400,
        -1021,
        "Timestamp for this request is outside of the recvWindow.",
    );
    let r = cl.signed("GET", "/api/v3/account", "recvWindow=6000");
    assert_eq!(r.status, 200, "{}", r.text);
    cl.ts = T0 + 1000;
    let r = cl.signed("GET", "/api/v3/account", "");
    assert_err(
        &r,
        400,
        -1021,
        "Timestamp for this request was 1000ms ahead of the server's time.",
    );
    cl.ts = T0 + 999;
    assert_eq!(cl.signed("GET", "/api/v3/account", "").status, 200);
    cl.ts = T0;
    let r = cl.signed("GET", "/api/v3/account", "recvWindow=60001");
    assert_eq!(r.json["code"], -1102);
    // Duplicate parameter.
    let r = cl.signed("GET", "/api/v3/account", "recvWindow=5000&recvWindow=5000");
    assert_err(&r, 400, -1101, "Duplicate values for a parameter detected.");
    let r = cl.signed("GET", "/api/v3/account", "omitZeroBalances=true");
    assert_eq!(r.json["balances"].as_array().unwrap().len(), 2);
    assert_eq!(r.json["balances"][1]["asset"], "USDC");
    assert_eq!(r.json["balances"][1]["free"], "10000.00000000");
    assert_eq!(r.json["makerCommission"], 10);
    assert!(r.headers["x-mbx-used-weight-1m"].parse::<u64>().unwrap() >= 20);
}

#[test]
fn order_validation_errors() {
    let (_srv, cl) = start(cfg());
    let base = "symbol=BTCUSDC&side=BUY";
    let cases: Vec<(String, i64, String)> = vec![
        ("side=BUY&type=LIMIT".into(), -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.".into()),
        ("symbol=FOOUSDC&side=BUY&type=MARKET&quantity=1".into(), -1121, "Invalid symbol.".into()),
        ("symbol=BTCUSDC&side=UP&type=LIMIT".into(), -1117, "Invalid side.".into()),
        (format!("{base}&type=FOO"), -1116, "Invalid orderType.".into()),
        (format!("{base}&type=LIMIT&quantity=0.001&price=60000"), -1102, "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.".into()),
        (format!("{base}&type=LIMIT&timeInForce=GTC&price=60000"), -1102, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.".into()),
        (format!("{base}&type=LIMIT&timeInForce=GTC&quantity=0.001"), -1102, "Mandatory parameter 'price' was not sent, was empty/null, or malformed.".into()),
        (format!("{base}&type=LIMIT&timeInForce=XYZ&quantity=0.001&price=1"), -1115, "Invalid timeInForce.".into()),
        (format!("{base}&type=MARKET&timeInForce=GTC&quantity=0.001"), -1106, "Parameter 'timeInForce' sent when not required.".into()),
        (format!("{base}&type=LIMIT_MAKER&timeInForce=GTC&quantity=0.001&price=50000"), -1106, "Parameter 'timeInForce' sent when not required.".into()),
        (format!("{base}&type=MARKET&quantity=0.001&price=60000"), -1106, "Parameter 'price' sent when not required.".into()),
        (format!("{base}&type=LIMIT&timeInForce=GTC&quantity=0.001&price=50000&stopPrice=1"), -1106, "Parameter 'stopPrice' sent when not required.".into()),
        (format!("{base}&type=STOP_LOSS_LIMIT&timeInForce=GTC&quantity=0.001&price=61000"), -1102, "Param 'stopPrice' or 'trailingDelta' must be sent, but both were empty/null!".into()),
        (format!("{base}&type=MARKET"), -1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!".into()),
        (format!("{base}&type=MARKET&quantity=-1337.00000000"), -1100, "Illegal characters found in parameter 'quantity'; legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.".into()),
        (format!("{base}&type=MARKET&quantity=1e-3"), -1100, "Illegal characters found in parameter 'quantity'; legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.".into()),
        (format!("{base}&type=MARKET&quantity=0.000000001"), -1111, "Precision is over the maximum defined for this asset.".into()),
        (format!("{base}&type=MARKET&quantity=0.001&newClientOrderId={}", "a".repeat(37)), -1100, "Illegal characters found in parameter 'newClientOrderId'; legal range is '^[a-zA-Z0-9-_]{1,36}$'.".into()),
        (format!("{base}&type=MARKET&quantity=0.001&newClientOrderId=a.b"), -1100, "Illegal characters found in parameter 'newClientOrderId'; legal range is '^[a-zA-Z0-9-_]{1,36}$'.".into()),
        (format!("{base}&type=MARKET&quantity=0.001&newClientOrderId="), -1118, "New client order ID was empty.".into()),
        (format!("{base}&type=MARKET&quantity=0.001&strategyType=5"), -1134, "strategyType was less than 1000000.".into()),
    ];
    for (params, code, msg) in cases {
        let r = cl.order(&params);
        assert_eq!(
            (r.status, r.json["code"].as_i64()),
            (400, Some(code)),
            "{params}: {}",
            r.text
        );
        assert_eq!(r.json["msg"], msg.as_str(), "{params}");
        assert!(r.headers.contains_key("x-mbx-used-weight-1m"));
        assert!(!r.headers.contains_key("x-mbx-order-count-10s"));
    }
    // A 36-char id is fine.
    let r = cl.order(&format!(
        "{base}&type=LIMIT&timeInForce=GTC&quantity=0.001&price=50000&newClientOrderId={}",
        "A".repeat(36)
    ));
    assert_eq!(r.status, 200, "{}", r.text);
}

#[test]
fn tv6_filters_both_sides_of_each_bound() {
    let mut c = cfg();
    c.balances.insert("BTC".into(), dec!(1));
    c.balances.insert("USDC".into(), dec!(1000000));
    c.limits.orders_per_10s = 1000;
    let (_srv, cl) = start(c);
    // TV-6 rows (BTCUSDC: tick 0.01, step 0.00001, NOTIONAL 5, PERCENT_PRICE_BY_SIDE 5/0.2, avg 60000).
    let rows: &[(&str, &str, &str, Option<&str>)] = &[
        ("60000.00", "0.00010", "BUY", None),
        ("60000.005", "0.00010", "BUY", Some("PRICE_FILTER")),
        ("60000.00", "0.000105", "BUY", Some("LOT_SIZE")),
        ("40000.00", "0.00010", "BUY", Some("NOTIONAL")),
        ("50000.00", "0.00010", "BUY", None),
        ("300000.01", "0.00010", "BUY", Some("PERCENT_PRICE_BY_SIDE")),
        ("300000.00", "0.00010", "BUY", None),
        ("11999.99", "0.00100", "SELL", Some("PERCENT_PRICE_BY_SIDE")),
        ("12000.00", "0.00100", "SELL", None),
        ("0.001", "1", "BUY", Some("PRICE_FILTER")),
        ("1000000.01", "0.0001", "SELL", Some("PRICE_FILTER")),
        ("60000.00", "9000.00001", "SELL", Some("LOT_SIZE")),
        ("60000.00", "0.000009", "BUY", Some("LOT_SIZE")),
    ];
    for (price, qty, side, fail) in rows {
        let r = cl.signed(
            "POST",
            "/api/v3/order/test",
            &format!("symbol=BTCUSDC&side={side}&type=LIMIT&timeInForce=GTC&quantity={qty}&price={price}"),
        );
        match fail {
            None => assert_eq!(
                (r.status, r.text.as_str()),
                (200, "{}"),
                "{price} {qty} {side}"
            ),
            Some(f) => assert_err(&r, 400, -1013, &format!("Filter failure: {f}")),
        }
    }
    // NOTIONAL max: 9,000,000.
    let r = cl.signed(
        "POST",
        "/api/v3/order/test",
        "symbol=BTCUSDC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=150&price=60000.01",
    );
    assert_err(&r, 400, -1013, "Filter failure: NOTIONAL");
    let r = cl.signed(
        "POST",
        "/api/v3/order/test",
        "symbol=BTCUSDC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=150&price=60000",
    );
    assert_eq!(r.status, 200, "{}", r.text);
    // TRAILING_DELTA: 10..=2000 on both sides.
    for (td, ok) in [(9, false), (10, true), (2000, true), (2001, false)] {
        for (side, stop) in [("SELL", "70000"), ("BUY", "50000")] {
            let r = cl.signed(
                "POST",
                "/api/v3/order/test",
                &format!("symbol=BTCUSDC&side={side}&type=TAKE_PROFIT_LIMIT&timeInForce=GTC&quantity=0.001&price=60000&stopPrice={stop}&trailingDelta={td}"),
            );
            if ok {
                assert_eq!(r.status, 200, "{td} {side} {}", r.text);
            } else {
                assert_err(&r, 400, -1013, "Filter failure: TRAILING_DELTA");
            }
        }
    }
    // computeCommissionRates.
    let r = cl.signed("POST", "/api/v3/order/test", "symbol=BTCUSDC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=60000&computeCommissionRates=true");
    assert_eq!(r.json["standardCommissionForOrder"]["maker"], "0.00100000");
    // MAX_NUM_ORDERS 200 then MAX_NUM_ALGO_ORDERS 5 with real orders.
    for i in 0..5 {
        let r = cl.order(&format!("symbol=BTCUSDC&side=SELL&type=STOP_LOSS_LIMIT&timeInForce=GTC&quantity=0.0001&price=50000&stopPrice=5{i}000"));
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(
            r.json.as_object().unwrap().len(),
            5,
            "stop orders default to ACK"
        );
    }
    let r = cl.order("symbol=BTCUSDC&side=SELL&type=STOP_LOSS_LIMIT&timeInForce=GTC&quantity=0.0001&price=50000&stopPrice=56000");
    assert_err(&r, 400, -1013, "Filter failure: MAX_NUM_ALGO_ORDERS");
    for i in 0..195 {
        let r = cl.order(&format!(
            "symbol=BTCUSDC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.0001&price={}",
            50000 + i
        ));
        assert_eq!(r.status, 200, "order {i}: {}", r.text);
    }
    let r =
        cl.order("symbol=BTCUSDC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.0001&price=50001");
    assert_err(&r, 400, -1013, "Filter failure: MAX_NUM_ORDERS");
}

#[test]
fn order_lifecycle_rejections_query_cancel() {
    let mut c = cfg();
    c.balances.insert("BTC".into(), dec!(0.01));
    let (srv, cl) = start(c);
    // FULL for LIMIT, resting.
    let r = cl.order("symbol=BTCUSDC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=50000&newClientOrderId=myOrder1");
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["status"], "NEW");
    assert_eq!(r.json["fills"], serde_json::json!([]));
    assert_eq!(r.json["executedQty"], "0.00000000");
    assert_eq!(r.json["origQty"], "0.01000000");
    assert_eq!(r.json["orderListId"], -1);
    assert_eq!(r.headers["x-mbx-order-count-10s"], "1");
    assert_eq!(r.headers["x-mbx-order-count-1d"], "1");
    assert_eq!(
        r.headers["x-mbx-used-weight-1m"], "0",
        "successful orders cost 0 weight"
    );
    let id = r.json["orderId"].as_i64().unwrap();
    let acct = cl.signed("GET", "/api/v3/account", "");
    let usdc = acct.json["balances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["asset"] == "USDC")
        .unwrap()
        .clone();
    assert_eq!(usdc["locked"], "500.00000000");
    assert_eq!(usdc["free"], "9500.00000000");
    // Duplicate open client id.
    let r = cl.order("symbol=BTCUSDC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=50000&newClientOrderId=myOrder1");
    assert_err(&r, 400, -2010, "Duplicate order sent.");
    // Insufficient balance.
    let r = cl.order("symbol=BTCUSDC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=50000");
    assert_err(
        &r,
        400,
        -2010,
        "Account has insufficient balance for requested action.",
    );
    let r = cl.order("symbol=BTCUSDC&side=SELL&type=MARKET&quantity=0.02");
    assert_err(
        &r,
        400,
        -2010,
        "Account has insufficient balance for requested action.",
    );
    // LIMIT_MAKER crossing.
    let r = cl.order("symbol=BTCUSDC&side=BUY&type=LIMIT_MAKER&quantity=0.001&price=60000");
    assert_err(&r, 400, -2010, "Order would immediately match and take.");
    // Stops that would trigger immediately.
    for p in [
        "side=SELL&type=STOP_LOSS_LIMIT&timeInForce=GTC&price=59000&stopPrice=60000",
        "side=BUY&type=STOP_LOSS_LIMIT&timeInForce=GTC&price=59000&stopPrice=59000",
        "side=SELL&type=TAKE_PROFIT_LIMIT&timeInForce=GTC&price=61000&stopPrice=59999.99",
        "side=BUY&type=TAKE_PROFIT&stopPrice=60000.01",
    ] {
        let r = cl.order(&format!("symbol=BTCUSDC&quantity=0.001&{p}"));
        assert_err(&r, 400, -2010, "Stop price would trigger immediately.");
    }
    // A trailing TP SELL without stopPrice (the grid bot's TRAIL when the last is above TP2).
    let r = cl.order("symbol=BTCUSDC&side=SELL&type=TAKE_PROFIT_LIMIT&timeInForce=GTC&quantity=0.001&price=59000&trailingDelta=180&newClientOrderId=trail1");
    assert_eq!(r.status, 200, "{}", r.text);
    let q = cl.signed(
        "GET",
        "/api/v3/order",
        "symbol=BTCUSDC&origClientOrderId=trail1",
    );
    assert_eq!(q.json["isWorking"], false);
    assert_eq!(q.json["workingTime"], -1);
    assert_eq!(q.json["trailingDelta"], 180);
    assert_eq!(q.json["stopPrice"], "0.00000000");
    // Query.
    let q = cl.signed(
        "GET",
        "/api/v3/order",
        "symbol=BTCUSDC&origClientOrderId=myOrder1",
    );
    assert_eq!(q.json["orderId"], id);
    assert_eq!(q.json["isWorking"], true);
    assert_eq!(q.json["status"], "NEW");
    // 20 (account) + 1 per failed order request + 4 (this query); successes cost 0.
    assert_eq!(q.headers["x-mbx-used-weight-1m"], "36");
    let q = cl.signed("GET", "/api/v3/order", "symbol=BTCUSDC&orderId=999");
    assert_err(&q, 400, -2013, "Order does not exist.");
    let q = cl.signed("GET", "/api/v3/order", "symbol=BTCUSDC");
    assert_err(
        &q,
        400,
        -1102,
        "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
    );
    let q = cl.signed(
        "GET",
        "/api/v3/order",
        &format!("symbol=BTCUSDC&orderId={id}&origClientOrderId=other"),
    );
    assert_err(
        &q,
        400,
        -2039,
        "Client order ID is not correct for this order ID.",
    );
    let q = cl.signed("GET", "/api/v3/order", "symbol=BTCUSDC&origClientOrderId=");
    assert_err(&q, 400, -1119, "Original client order ID was empty.");
    let q = cl.signed("GET", "/api/v3/order", "symbol=BTCUSDC&orderId=abc");
    assert_eq!(q.json["code"], -1100);
    let q = cl.signed("GET", "/api/v3/openOrders", "symbol=BTCUSDC");
    assert_eq!(q.json.as_array().unwrap().len(), 2);
    let q = cl.signed("GET", "/api/v3/openOrders", "");
    assert_eq!(q.json.as_array().unwrap().len(), 2);
    // Cancel.
    let r = cl.signed(
        "DELETE",
        "/api/v3/order",
        "symbol=BTCUSDC&origClientOrderId=myOrder1&cancelRestrictions=FOO",
    );
    assert_err(&r, 400, -1145, "Invalid cancelRestrictions");
    let r = cl.signed(
        "DELETE",
        "/api/v3/order",
        "symbol=BTCUSDC&origClientOrderId=myOrder1&newClientOrderId=cancelMyOrder1",
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["origClientOrderId"], "myOrder1");
    assert_eq!(r.json["clientOrderId"], "cancelMyOrder1");
    assert_eq!(r.json["status"], "CANCELED");
    let r = cl.signed(
        "DELETE",
        "/api/v3/order",
        "symbol=BTCUSDC&origClientOrderId=myOrder1",
    );
    assert_err(&r, 400, -2011, "Unknown order sent.");
    let r = cl.signed("DELETE", "/api/v3/order", "symbol=BTCUSDC&orderId=12345");
    assert_err(&r, 400, -2011, "Unknown order sent.");
    // The id can be reused once the first order is closed.
    let r = cl.order("symbol=BTCUSDC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=50000&newClientOrderId=myOrder1");
    assert_eq!(r.status, 200, "{}", r.text);
    let r = cl.signed("DELETE", "/api/v3/openOrders", "symbol=BTCUSDC");
    assert_eq!(r.json.as_array().unwrap().len(), 2, "{}", r.text);
    let r = cl.signed("DELETE", "/api/v3/openOrders", "symbol=BTCUSDC");
    assert_err(&r, 400, -2011, "Unknown order sent.");
    assert_eq!(r.text.len(), 42);
    let st = srv.engine().lock().unwrap().state();
    assert_eq!(st.balances["USDC"].locked, dec!(0));
    assert_eq!(st.balances["USDC"].free, dec!(10000));
}

#[test]
fn market_fill_full_response_trades_and_control_price_walk() {
    let (_srv, cl) = start(cfg());
    let r = cl.order("symbol=SOLUSDC&side=BUY&type=MARKET&quantity=2");
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["status"], "FILLED");
    assert_eq!(r.json["price"], "0.00000000");
    assert_eq!(r.json["cummulativeQuoteQty"], "300.00000000");
    assert_eq!(r.json["fills"][0]["price"], "150.00000000");
    assert_eq!(r.json["fills"][0]["commission"], "0.00200000");
    assert_eq!(r.json["fills"][0]["commissionAsset"], "SOL");
    // quoteOrderQty.
    let r = cl.order("symbol=SOLUSDC&side=BUY&type=MARKET&quoteOrderQty=100");
    assert_eq!(r.json["executedQty"], "0.66600000");
    assert_eq!(r.json["origQuoteOrderQty"], "100.00000000");
    // Three resting sells, walked through by one /sim/price call.
    for (p, cid) in [("151", "s1"), ("153", "s3"), ("152", "s2")] {
        let r = cl.order(&format!("symbol=SOLUSDC&side=SELL&type=LIMIT&timeInForce=GTC&quantity=0.5&price={p}&newClientOrderId={cid}&newOrderRespType=RESULT"));
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.json.get("fills").is_none());
    }
    let res = cl.control(
        "/sim/price",
        serde_json::json!({"symbol": "SOLUSDC", "price": "155"}),
    );
    let tr = res["trades"].as_array().unwrap();
    let prices: Vec<&str> = tr.iter().map(|t| t["price"].as_str().unwrap()).collect();
    assert_eq!(prices, vec!["151", "152", "153"]);
    assert!(tr.iter().all(|t| t["isMaker"] == true));
    let r = cl.signed("GET", "/api/v3/myTrades", "symbol=SOLUSDC");
    assert_eq!(r.json.as_array().unwrap().len(), 5);
    assert_eq!(r.json[2]["price"], "151.00000000");
    assert_eq!(r.json[2]["isMaker"], true);
    assert_eq!(r.json[2]["isBuyer"], false);
    let r = cl.signed("GET", "/api/v3/myTrades", "symbol=SOLUSDC&fromId=4&limit=1");
    assert_eq!(r.json.as_array().unwrap().len(), 1);
    assert_eq!(r.json[0]["id"], 4);
    let oid = r.json[0]["orderId"].as_i64().unwrap();
    let r = cl.signed(
        "GET",
        "/api/v3/myTrades",
        &format!("symbol=SOLUSDC&orderId={oid}"),
    );
    assert_eq!(r.json.as_array().unwrap().len(), 1);
    let r = cl.signed("GET", "/api/v3/allOrders", "symbol=SOLUSDC");
    assert_eq!(r.json.as_array().unwrap().len(), 5);
    assert!(r
        .json
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["status"] == "FILLED"));
    let r = cl.raw("GET", "/api/v3/ticker/price?symbol=SOLUSDC", None, None);
    assert_eq!(r.json["price"], "155.00000000");
    // State and reset.
    let st: serde_json::Value = serde_json::from_str(
        &cl.agent
            .get(&format!("{}/sim/state", cl.base))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(st["orders"].as_array().unwrap().len(), 5);
    assert_eq!(st["trades"].as_array().unwrap().len(), 5);
    assert_eq!(st["prices"]["SOLUSDC"], "155");
    assert!(st["request_counts"]["POST /api/v3/order"].as_u64().unwrap() >= 5);
    cl.control("/sim/reset", serde_json::json!({}));
    let r = cl.signed("GET", "/api/v3/allOrders", "symbol=SOLUSDC");
    assert_eq!(r.json, serde_json::json!([]));
    let adv = cl.control("/sim/advance", serde_json::json!({"ms": 1500}));
    assert_eq!(adv["time"], T0 + 1500);
}

#[test]
fn rate_limits_429_then_418() {
    let mut c = cfg();
    c.limits.weight_per_minute = 50;
    c.limits.ban_after_429s = 2;
    c.limits.orders_per_10s = 2;
    let (srv, mut cl) = start(c);
    for _ in 0..2 {
        let r = cl.raw("GET", "/api/v3/exchangeInfo", None, None);
        assert_eq!(r.status, 200);
    }
    let r = cl.raw("GET", "/api/v3/exchangeInfo", None, None);
    assert_err(&r, 429, -1003, "Too much request weight used; current limit is 50 request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.");
    assert!(r.headers["retry-after"].parse::<u64>().unwrap() > 0);
    cl.raw("GET", "/api/v3/exchangeInfo", None, None);
    let r = cl.raw("GET", "/api/v3/exchangeInfo", None, None);
    assert_eq!(r.status, 418, "{}", r.text);
    assert_eq!(r.json["code"], -1003);
    assert!(r.json["msg"]
        .as_str()
        .unwrap()
        .starts_with("Way too much request weight used; IP banned until "));
    assert!(r.headers.contains_key("retry-after"));
    // The ban ends with time.
    srv.engine().lock().unwrap().advance(180_000);
    cl.ts = T0 + 180_000;
    let r = cl.raw("GET", "/api/v3/ping", None, None);
    assert_eq!(r.status, 200);
    // Order rate: 2 per 10 s.
    for _ in 0..2 {
        assert_eq!(
            cl.order("symbol=SOLUSDC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.1&price=140")
                .status,
            200
        );
    }
    let r = cl.order("symbol=SOLUSDC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.1&price=140");
    assert_err(
        &r,
        429,
        -1015,
        "Too many new orders; current limit is 2 orders per 10 SECOND.",
    );
    assert!(r.headers.contains_key("retry-after"));
}

#[test]
fn faults_unknown_outcome_executes_the_order() {
    let (srv, cl) = start(cfg());
    cl.control(
        "/sim/faults",
        serde_json::json!({"seed": 3, "unknown_outcome_rate": 1.0}),
    );
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..12 {
        let q = format!("symbol=SOLUSDC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.1&price=140&newClientOrderId=u{i}");
        let sig = sign(SECRET, format!("{q}&timestamp={T0}").as_bytes());
        let res = cl
            .agent
            .post(&format!(
                "{}/api/v3/order?{q}&timestamp={T0}&signature={sig}",
                cl.base
            ))
            .header("X-MBX-APIKEY", KEY)
            .send_empty();
        match res {
            Ok(mut r) => {
                let body = r.body_mut().read_to_string();
                match body {
                    Ok(b) => {
                        let v: serde_json::Value = serde_json::from_str(&b).unwrap_or_default();
                        assert!(r.status().as_u16() >= 500, "{b}");
                        seen.insert(v["code"].as_i64().unwrap_or(0));
                    }
                    Err(_) => {
                        seen.insert(0);
                    }
                }
            }
            Err(_) => {
                seen.insert(0);
            }
        }
        // The order exists anyway: reconcile by origClientOrderId.
        let q = cl.signed(
            "GET",
            "/api/v3/order",
            &format!("symbol=SOLUSDC&origClientOrderId=u{i}"),
        );
        assert_eq!(q.status, 200, "{}", q.text);
        assert_eq!(q.json["status"], "NEW");
    }
    assert_eq!(
        seen.len(),
        3,
        "5xx -1006, -1007 and dropped connection all seen: {seen:?}"
    );
    // 500 without execution; burst of 429; clock skew.
    cl.control(
        "/sim/faults",
        serde_json::json!({"seed": 1, "http_500_rate": 1.0}),
    );
    let r = cl.order("symbol=SOLUSDC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.1&price=140&newClientOrderId=x500");
    assert_eq!(r.status, 500);
    cl.control(
        "/sim/faults",
        serde_json::json!({"rate_limit_burst": 2, "clock_skew_ms": 7000}),
    );
    assert_eq!(cl.raw("GET", "/api/v3/ping", None, None).status, 429);
    assert_eq!(cl.raw("GET", "/api/v3/ping", None, None).status, 429);
    let r = cl.raw("GET", "/api/v3/time", None, None);
    assert_eq!(r.json["serverTime"], T0 + 7000);
    let r = cl.signed(
        "GET",
        "/api/v3/order",
        "symbol=SOLUSDC&origClientOrderId=x500",
    );
    assert_err(
        &r,
        400,
        -1021,
        "Timestamp for this request is outside of the recvWindow.",
    );
    srv.engine()
        .lock()
        .unwrap()
        .set_faults(FaultConfig::default());
    let r = cl.signed(
        "GET",
        "/api/v3/order",
        "symbol=SOLUSDC&origClientOrderId=x500",
    );
    assert_err(&r, 400, -2013, "Order does not exist.");
}

#[test]
fn timeout_fault_delays_the_answer() {
    let (_srv, cl) = start(cfg());
    cl.control(
        "/sim/faults",
        serde_json::json!({"seed": 1, "timeout_rate": 1.0, "timeout_ms": 300}),
    );
    let short: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_millis(100)))
        .build()
        .into();
    assert!(
        short
            .get(&format!("{}/api/v3/ping", cl.base))
            .call()
            .is_err(),
        "client times out"
    );
}

//! Symbol rules and status changed at run time (`POST /sim/symbol`,
//! `Engine::set_symbol`): new orders meet the new filters with Binance's
//! codes, resting orders stay, exchangeInfo shows the change, and a symbol
//! that is not TRADING refuses new orders (and, except CANCEL_ONLY, cancels)
//! and does not trade.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use exchange_sim::api::sign;
use exchange_sim::*;
use rust_decimal_macros::dec;
use serde_json::{json, Value};

const T0: i64 = 1_499_827_319_559;

struct Resp {
    status: u16,
    json: Value,
    text: String,
}

struct Client {
    base: String,
    agent: ureq::Agent,
}

impl Client {
    fn new(srv: &SimServer) -> Client {
        Client {
            base: srv.base_url(),
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(10)))
                .build()
                .into(),
        }
    }
    fn read(mut r: ureq::http::Response<ureq::Body>) -> Resp {
        let status = r.status().as_u16();
        let text = r.body_mut().read_to_string().unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp { status, json, text }
    }
    fn signed(&self, method: &str, path: &str, params: &str) -> Resp {
        let q = format!("{params}&timestamp={T0}");
        let sig = sign("sim-secret", q.as_bytes());
        let url = format!("{}{path}?{q}&signature={sig}", self.base);
        let r = match method {
            "GET" => self
                .agent
                .get(&url)
                .header("X-MBX-APIKEY", "sim-key")
                .call(),
            "DELETE" => self
                .agent
                .delete(&url)
                .header("X-MBX-APIKEY", "sim-key")
                .call(),
            _ => self
                .agent
                .post(&url)
                .header("X-MBX-APIKEY", "sim-key")
                .send(""),
        };
        Self::read(r.expect("transport"))
    }
    fn order(&self, params: &str) -> Resp {
        self.signed("POST", "/api/v3/order", params)
    }
    fn control(&self, path: &str, body: &str) -> Resp {
        let r = self
            .agent
            .post(&format!("{}{path}", self.base))
            .header("Content-Type", "application/json")
            .send(body)
            .expect("transport");
        Self::read(r)
    }
    fn exchange_info(&self, symbol: &str) -> Value {
        let r = self
            .agent
            .get(&format!(
                "{}/api/v3/exchangeInfo?symbol={symbol}",
                self.base
            ))
            .call()
            .expect("transport");
        Self::read(r).json["symbols"][0].clone()
    }
}

fn start() -> (SimServer, Client) {
    let cfg = SimConfig {
        start_time_ms: Some(T0),
        workers: 1,
        ..SimConfig::default()
    };
    let srv = SimServer::start(cfg, "127.0.0.1:0").expect("start");
    let cl = Client::new(&srv);
    (srv, cl)
}

fn filter<'a>(info: &'a Value, name: &str) -> &'a Value {
    info["filters"]
        .as_array()
        .and_then(|fs| fs.iter().find(|f| f["filterType"] == name))
        .unwrap_or(&Value::Null)
}

fn assert_err(r: &Resp, status: u16, code: i64, msg: &str) {
    assert_eq!(r.status, status, "body: {}", r.text);
    assert_eq!(r.json["code"], code, "body: {}", r.text);
    assert_eq!(r.json["msg"], msg, "body: {}", r.text);
}

const BUY_140: &str = "symbol=SOLUSDC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=140.05";

#[test]
fn http_tick_change_applies_to_new_orders_and_exchange_info() {
    let (_srv, cl) = start();
    // A resting order on the old grid (tick 0.01).
    let resting = cl.order(BUY_140);
    assert_eq!(resting.status, 200, "{}", resting.text);

    let r = cl.control("/sim/symbol", r#"{"symbol":"SOLUSDC","tick_size":"0.10"}"#);
    assert_eq!(r.status, 200, "POST /sim/symbol: {}", r.text);
    assert_eq!(r.json["symbol"], "SOLUSDC", "{}", r.text);
    assert_eq!(r.json["status"], "TRADING", "{}", r.text);
    assert_eq!(r.json["filters"]["tick_size"], "0.10", "{}", r.text);

    let info = cl.exchange_info("SOLUSDC");
    assert_eq!(filter(&info, "PRICE_FILTER")["tickSize"], "0.10000000");
    assert_eq!(info["status"], "TRADING");

    // Old grid: refused with Binance's filter failure; new grid: accepted.
    assert_err(
        &cl.order(BUY_140),
        400,
        -1013,
        "Filter failure: PRICE_FILTER",
    );
    let ok = cl.order("symbol=SOLUSDC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=140.1");
    assert_eq!(ok.status, 200, "{}", ok.text);

    // The order placed before the change still rests, at its off-grid price.
    let open = cl.signed("GET", "/api/v3/openOrders", "symbol=SOLUSDC");
    let prices: Vec<&str> = open
        .json
        .as_array()
        .map(|v| v.iter().filter_map(|o| o["price"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        prices,
        vec!["140.05000000", "140.10000000"],
        "{}",
        open.text
    );
}

#[test]
fn http_step_and_notional_changes_use_binance_filter_failures() {
    let (_srv, cl) = start();
    let r = cl.control(
        "/sim/symbol",
        r#"{"symbol":"SOLUSDC","step_size":"0.01","min_notional":10}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let info = cl.exchange_info("SOLUSDC");
    assert_eq!(filter(&info, "LOT_SIZE")["stepSize"], "0.01000000");
    assert_eq!(filter(&info, "NOTIONAL")["minNotional"], "10.00000000");
    // Unchanged fields keep their values.
    assert_eq!(filter(&info, "PRICE_FILTER")["tickSize"], "0.01000000");

    let lot = "symbol=SOLUSDC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.105&price=140";
    assert_err(&cl.order(lot), 400, -1013, "Filter failure: LOT_SIZE");
    // 0.05 * 140 = 7 >= the old minimum 5, below the new 10.
    let small = "symbol=SOLUSDC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.05&price=140";
    assert_err(&cl.order(small), 400, -1013, "Filter failure: NOTIONAL");
    // /order/test validates the same way.
    assert_err(
        &cl.signed("POST", "/api/v3/order/test", small),
        400,
        -1013,
        "Filter failure: NOTIONAL",
    );
    let ok = "symbol=SOLUSDC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.08&price=140";
    assert_eq!(cl.order(ok).status, 200);
}

#[test]
fn http_bad_changes_are_refused_with_a_message_and_change_nothing() {
    let (_srv, cl) = start();
    let cases = [
        (
            r#"{"symbol":"DOGEUSDC","tick_size":"0.1"}"#,
            "unknown symbol \"DOGEUSDC\"",
        ),
        (
            r#"{"symbol":"SOLUSDC","tick_size":"abc"}"#,
            "tick_size must be a decimal",
        ),
        (
            r#"{"symbol":"SOLUSDC","tick_size":"0"}"#,
            "tick_size = 0: must be > 0",
        ),
        (
            r#"{"symbol":"SOLUSDC","step_size":"-0.1"}"#,
            "step_size = -0.1: must be > 0",
        ),
        (
            r#"{"symbol":"SOLUSDC","tick_size":"0.000000001"}"#,
            "at most 8 decimals",
        ),
        (
            r#"{"symbol":"SOLUSDC","min_notional":"-1"}"#,
            "min_notional = -1: must be >= 0",
        ),
        (
            r#"{"symbol":"SOLUSDC","min_notional":"20","max_notional":"10"}"#,
            "must be <= max_notional",
        ),
        (
            r#"{"symbol":"SOLUSDC","status":"halt"}"#,
            "invalid symbol status",
        ),
        (
            r#"{"symbol":"SOLUSDC","tick":"0.1"}"#,
            "unknown field `tick`",
        ),
        (r#"{"tick_size":"0.1"}"#, "missing field `symbol`"),
        ("not json", "expected"),
    ];
    for (body, want) in cases {
        let r = cl.control("/sim/symbol", body);
        assert_eq!(r.status, 400, "{body} -> {}", r.text);
        let msg = r.json["error"].as_str().unwrap_or_default();
        assert!(
            msg.contains(want),
            "{body}: {msg:?} does not contain {want:?}"
        );
    }
    let info = cl.exchange_info("SOLUSDC");
    assert_eq!(filter(&info, "PRICE_FILTER")["tickSize"], "0.01000000");
    assert_eq!(filter(&info, "NOTIONAL")["minNotional"], "5.00000000");
    assert_eq!(filter(&info, "NOTIONAL")["maxNotional"], "9000000.00000000");
    assert_eq!(info["status"], "TRADING");
}

#[test]
fn http_halt_refuses_orders_and_cancels_and_freezes_the_price() {
    let (_srv, cl) = start();
    let resting = cl.order(BUY_140);
    assert_eq!(resting.status, 200, "{}", resting.text);
    let id = resting.json["orderId"].as_i64().unwrap_or_default();

    let r = cl.control("/sim/symbol", r#"{"symbol":"SOLUSDC","status":"HALT"}"#);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["status"], "HALT");
    assert_eq!(cl.exchange_info("SOLUSDC")["status"], "HALT");
    // Other symbols are not affected.
    assert_eq!(cl.exchange_info("BTCUSDC")["status"], "TRADING");

    let ok_grid = "symbol=SOLUSDC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=140.10";
    assert_err(&cl.order(ok_grid), 400, -1013, "Market is closed.");
    assert_err(
        &cl.signed("POST", "/api/v3/order/test", ok_grid),
        400,
        -1013,
        "Market is closed.",
    );
    assert_err(
        &cl.signed(
            "DELETE",
            "/api/v3/order",
            &format!("symbol=SOLUSDC&orderId={id}"),
        ),
        400,
        -2011,
        "Market is closed.",
    );
    assert_err(
        &cl.signed("DELETE", "/api/v3/openOrders", "symbol=SOLUSDC"),
        400,
        -2011,
        "Market is closed.",
    );
    // Nothing trades: the price cannot be moved through the resting BUY.
    let r = cl.control("/sim/price", r#"{"symbol":"SOLUSDC","price":"130"}"#);
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.json["code"], -1013, "{}", r.text);
    assert!(r.text.contains("TRADING first"), "{}", r.text);
    // The order is still open, unfilled; lookups work.
    let q = cl.signed(
        "GET",
        "/api/v3/order",
        &format!("symbol=SOLUSDC&orderId={id}"),
    );
    assert_eq!(q.json["status"], "NEW", "{}", q.text);

    // Trading again: the order fills when the price reaches it, cancels work.
    let r = cl.control("/sim/symbol", r#"{"symbol":"SOLUSDC","status":"TRADING"}"#);
    assert_eq!(r.status, 200, "{}", r.text);
    let r = cl.control("/sim/price", r#"{"symbol":"SOLUSDC","price":"140"}"#);
    assert_eq!(
        r.json["trades"].as_array().map(Vec::len),
        Some(1),
        "{}",
        r.text
    );
    assert_eq!(cl.order(ok_grid).status, 200);
}

#[test]
fn http_cancel_only_allows_cancels_but_no_new_orders() {
    let (_srv, cl) = start();
    let a = cl.order(BUY_140);
    let b = cl.order("symbol=SOLUSDC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=139");
    assert_eq!((a.status, b.status), (200, 200));
    let r = cl.control(
        "/sim/symbol",
        r#"{"symbol":"SOLUSDC","status":"CANCEL_ONLY"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(cl.exchange_info("SOLUSDC")["status"], "CANCEL_ONLY");
    assert_err(&cl.order(BUY_140), 400, -1013, "Market is closed.");
    let id = a.json["orderId"].as_i64().unwrap_or_default();
    let c = cl.signed(
        "DELETE",
        "/api/v3/order",
        &format!("symbol=SOLUSDC&orderId={id}"),
    );
    assert_eq!(c.status, 200, "{}", c.text);
    assert_eq!(c.json["status"], "CANCELED");
    let all = cl.signed("DELETE", "/api/v3/openOrders", "symbol=SOLUSDC");
    assert_eq!(all.status, 200, "{}", all.text);
    assert_eq!(all.json.as_array().map(Vec::len), Some(1));
}

#[test]
fn http_reset_restores_the_configured_symbols() {
    let (_srv, cl) = start();
    let r = cl.control(
        "/sim/symbol",
        &json!({"symbol": "SOLUSDC", "tick_size": 0.1, "status": "BREAK"}).to_string(),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json["filters"]["tick_size"], "0.1",
        "a JSON number is read exactly"
    );
    assert_eq!(cl.exchange_info("SOLUSDC")["status"], "BREAK");
    cl.control("/sim/reset", "{}");
    let info = cl.exchange_info("SOLUSDC");
    assert_eq!(info["status"], "TRADING");
    assert_eq!(filter(&info, "PRICE_FILTER")["tickSize"], "0.01000000");
}

// ----------------------------------------------------------------------
// In process: Engine::set_symbol
// ----------------------------------------------------------------------

fn engine(cfg: SimConfig) -> Engine {
    Engine::new(SimConfig {
        start_time_ms: Some(1_700_000_000_000),
        ..cfg
    })
    .expect("engine")
}

#[test]
fn engine_resting_orders_stay_and_fill_after_a_tick_change() {
    let mut ex = engine(SimConfig::default());
    let placed = ex
        .place_order(&OrderRequest::limit(
            "SOLUSDC",
            Side::Buy,
            dec!(140.05),
            dec!(1),
        ))
        .expect("old grid");
    let mut ch = SymbolChange::new("SOLUSDC");
    ch.tick_size = Some(dec!(0.1));
    ch.min_notional = Some(dec!(10));
    let cfg = ex.set_symbol(&ch).expect("change");
    assert_eq!(cfg.filters.tick_size, dec!(0.1));
    assert_eq!(cfg.filters.min_notional, dec!(10));
    assert_eq!(
        ex.symbol_config("SOLUSDC").map(|c| c.filters.tick_size),
        Some(dec!(0.1))
    );

    let e = ex
        .place_order(&OrderRequest::limit(
            "SOLUSDC",
            Side::Buy,
            dec!(140.05),
            dec!(1),
        ))
        .expect_err("off the new tick");
    assert_eq!(
        (e.code, e.msg.as_str()),
        (-1013, "Filter failure: PRICE_FILTER")
    );
    let e = ex
        .place_order(&OrderRequest::limit(
            "SOLUSDC",
            Side::Buy,
            dec!(140),
            dec!(0.05),
        ))
        .expect_err("below the new notional");
    assert_eq!(
        (e.code, e.msg.as_str()),
        (-1013, "Filter failure: NOTIONAL")
    );

    // The resting order is untouched and still fills at its own price.
    let o = ex.order(placed.order.order_id).expect("order");
    assert_eq!((o.status, o.price), (OrderStatus::New, dec!(140.05)));
    let trades = ex.set_price("SOLUSDC", dec!(140)).expect("move");
    assert_eq!(trades.len(), 1);
    assert_eq!(trades[0].price, dec!(140.05));
}

#[test]
fn engine_halt_blocks_matching_in_the_price_path_too() {
    let mut cfg = SimConfig::default();
    cfg.price_path.kind = PathKind::RandomWalk;
    cfg.price_path.seed = Some(7);
    cfg.price_path.volatility_bps = 200;
    let mut ex = engine(cfg.clone());
    let mut twin = engine(cfg);
    // A BUY just below and a SELL just above: a 2 % random walk crosses one quickly.
    for e in [&mut ex, &mut twin] {
        e.place_order(&OrderRequest::limit(
            "SOLUSDC",
            Side::Buy,
            dec!(149.9),
            dec!(1),
        ))
        .expect("buy");
    }
    let mut halt = SymbolChange::new("SOLUSDC");
    halt.status = Some(SymbolStatus::Halt);
    ex.set_symbol(&halt).expect("halt");
    let trades = ex.advance(60_000);
    assert!(
        trades.iter().all(|t| t.symbol != "SOLUSDC"),
        "a halted symbol trades: {trades:?}"
    );
    assert_eq!(
        ex.last_price("SOLUSDC"),
        Some(dec!(150)),
        "halted price moved"
    );
    // Other symbols keep walking exactly as without the halt (same draws).
    let twin_trades = twin.advance(60_000);
    for s in ["BTCUSDC", "ETHUSDC", "BNBUSDC"] {
        assert_eq!(ex.last_price(s), twin.last_price(s), "{s}");
    }
    assert!(
        twin_trades.iter().any(|t| t.symbol == "SOLUSDC"),
        "the twin trades"
    );
    // Back to TRADING: the walk moves SOLUSDC again.
    let mut open = SymbolChange::new("SOLUSDC");
    open.status = Some(SymbolStatus::Trading);
    ex.set_symbol(&open).expect("open");
    ex.advance(60_000);
    assert_ne!(ex.last_price("SOLUSDC"), Some(dec!(150)));
}

#[test]
fn engine_refused_change_changes_nothing() {
    let mut ex = engine(SimConfig::default());
    let before = ex.symbol_config("SOLUSDC").cloned();
    let mut ch = SymbolChange::new("SOLUSDC");
    ch.tick_size = Some(dec!(0.1));
    ch.status = Some(SymbolStatus::Halt);
    ch.step_size = Some(dec!(0));
    let e = ex.set_symbol(&ch).expect_err("step 0");
    assert!(
        matches!(
            e,
            SymbolChangeError::Invalid {
                field: "step_size",
                ..
            }
        ),
        "{e}"
    );
    let after = ex.symbol_config("SOLUSDC").cloned();
    assert_eq!(
        before.map(|c| (c.filters.tick_size, c.status)),
        after.map(|c| (c.filters.tick_size, c.status))
    );
    let e = ex
        .set_symbol(&SymbolChange::new("XRPUSDC"))
        .expect_err("unknown");
    assert!(e.to_string().contains("SOLUSDC, BTCUSDC"), "{e}");
}

#[test]
fn config_can_start_a_symbol_halted_and_other_statuses_round_trip() {
    let cfg = SimConfig::from_json_str(
        r#"{"symbols":[{"symbol":"SOLUSDC","base":"SOL","quote":"USDC","price":"150","status":"END_OF_DAY"}]}"#,
    )
    .expect("config");
    let mut ex = engine(cfg);
    assert_eq!(
        ex.symbol_config("SOLUSDC").map(|c| c.status.clone()),
        Some(SymbolStatus::EndOfDay)
    );
    let e = ex
        .place_order(&OrderRequest::limit(
            "SOLUSDC",
            Side::Buy,
            dec!(140),
            dec!(1),
        ))
        .expect_err("closed");
    assert_eq!((e.code, e.msg.as_str()), (-1013, "Market is closed."));
    // A status Binance may add later is accepted and treated as closed.
    let mut ch = SymbolChange::new("SOLUSDC");
    ch.status = parse_symbol_status("MAINTENANCE_2027");
    ex.set_symbol(&ch).expect("other status");
    let e = ex.cancel_all("SOLUSDC").expect_err("closed");
    assert_eq!((e.code, e.msg.as_str()), (-2011, "Market is closed."));
    for s in [
        "TRADING",
        "HALT",
        "BREAK",
        "END_OF_DAY",
        "CANCEL_ONLY",
        "PRE_TRADING",
        "POST_TRADING",
        "AUCTION_MATCH",
    ] {
        assert_eq!(
            parse_symbol_status(s).map(|x| x.to_string()),
            Some(s.to_string())
        );
    }
    assert_eq!(parse_symbol_status("halt"), None);
    assert_eq!(parse_symbol_status(""), None);
}

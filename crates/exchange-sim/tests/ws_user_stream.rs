//! The WebSocket API's user-data stream against a running server, with a
//! plain WebSocket client (tungstenite): subscription with HMAC and Ed25519
//! keys, the refusals, every event field for field against the engine's
//! order, trade and balances, the faults, ping/pong and the pong timeout.
//! Every wait is bounded: a read timeout or a deadline on the hub's counters.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::TcpStream;
use std::time::{Duration, Instant};

use exchange_sim::api::sign;
use exchange_sim::server::lock;
use exchange_sim::types::StpMode;
use exchange_sim::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::{json, Value};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

type Ws = WebSocket<MaybeTlsStream<TcpStream>>;

const T0: i64 = 1_700_000_000_000;
const WAIT: Duration = Duration::from_secs(5);

fn config() -> SimConfig {
    SimConfig {
        start_time_ms: Some(T0),
        ..SimConfig::default()
    }
}

fn connect(url: &str) -> Ws {
    let (ws, _) = tungstenite::connect(url).unwrap();
    if let MaybeTlsStream::Plain(s) = ws.get_ref() {
        s.set_read_timeout(Some(WAIT)).unwrap();
    }
    ws
}

/// The next text frame as JSON (pings are answered by tungstenite on the way).
fn next(ws: &mut Ws) -> Value {
    serde_json::from_str(&next_text(ws)).unwrap()
}

fn next_text(ws: &mut Ws) -> String {
    let until = Instant::now() + WAIT;
    loop {
        assert!(Instant::now() < until, "no text frame within {WAIT:?}");
        match ws.read() {
            Ok(Message::Text(t)) => return t.to_string(),
            Ok(_) => {}
            Err(e) => panic!("connection ended before a text frame: {e}"),
        }
    }
}

fn request(ws: &mut Ws, v: Value) -> Value {
    ws.send(Message::Text(v.to_string().into())).unwrap();
    next(ws)
}

fn subscribe_hmac(ws: &mut Ws, ts: i64) -> Value {
    let payload = format!("apiKey=sim-key&timestamp={ts}");
    let sig = sign("sim-secret", payload.as_bytes());
    request(
        ws,
        json!({"id": "s1", "method": "userDataStream.subscribe.signature",
               "params": {"apiKey": "sim-key", "timestamp": ts, "signature": sig}}),
    )
}

fn event(frame: &Value) -> &Value {
    assert_eq!(frame["subscriptionId"], 0, "{frame}");
    &frame["event"]
}

fn d8(v: Decimal) -> String {
    format!("{v:.8}")
}

fn expect_position(frame: &Value, engine: &Engine, assets: &[&str]) {
    let e = event(frame);
    assert_eq!(e["e"], "outboundAccountPosition", "{frame}");
    assert_eq!(e["E"], engine.now());
    assert_eq!(e["u"], engine.now());
    let b = e["B"].as_array().unwrap();
    assert_eq!(b.len(), assets.len(), "{frame}");
    for (item, asset) in b.iter().zip(assets) {
        let bal = engine.balance(asset);
        assert_eq!(
            item,
            &json!({"a": asset, "f": d8(bal.free), "l": d8(bal.locked)})
        );
    }
}

fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let until = Instant::now() + WAIT;
    while !cond() {
        assert!(Instant::now() < until, "{what}: not within {WAIT:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn hmac_subscription_gets_every_order_change_field_for_field() {
    let sim = SimServer::start(config(), "127.0.0.1:0").unwrap();
    let engine = sim.engine();
    let mut ws = connect(&sim.ws_url());
    let r = subscribe_hmac(&mut ws, T0);
    assert_eq!(r["id"], "s1");
    assert_eq!(r["status"], 200);
    assert_eq!(r["result"], json!({"subscriptionId": 0}));
    let rl = &r["rateLimits"][0];
    assert_eq!(rl["rateLimitType"], "REQUEST_WEIGHT");
    assert_eq!(rl["limit"], 6000);
    assert_eq!(rl["count"], lock(&engine).weight_used());

    // NEW: a resting BUY locks USDC.
    let buy = lock(&engine)
        .place_order(&OrderRequest {
            new_client_order_id: Some("buy-1".into()),
            ..OrderRequest::limit("SOLUSDC", Side::Buy, dec!(140), dec!(2))
        })
        .unwrap()
        .order;
    let text = next_text(&mut ws);
    let f: Value = serde_json::from_str(&text).unwrap();
    let e = event(&f);
    let expected_new = json!({
        "e": "executionReport", "E": T0, "s": "SOLUSDC", "c": "buy-1", "S": "BUY",
        "o": "LIMIT", "f": "GTC", "q": "2.00000000", "p": "140.00000000",
        "P": "0.00000000", "F": "0.00000000", "g": -1, "C": "", "x": "NEW", "X": "NEW",
        "r": "NONE", "i": buy.order_id, "l": "0.00000000", "z": "0.00000000",
        "L": "0.00000000", "n": "0", "N": null, "T": T0, "t": -1, "I": 1, "w": true,
        "m": false, "M": false, "O": T0, "Z": "0.00000000", "Y": "0.00000000",
        "Q": "0.00000000", "W": T0, "V": "EXPIRE_MAKER"
    });
    assert_eq!(e, &expected_new);
    // Binance's field order (its example's `v` is sent only after STP).
    let order = "e E s c S o f q p P F g C x X r i l z L n N T t I w m M O Z Y Q W V";
    let at: Vec<usize> = order
        .split(' ')
        .map(|k| text.find(&format!("\"{k}\":")).unwrap())
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
    expect_position(&next(&mut ws), &lock(&engine), &["USDC"]);

    // TRADE: the price falls to the order, one fill of 2 as maker.
    lock(&engine).advance(1000);
    let trades = lock(&engine).set_price("SOLUSDC", dec!(139)).unwrap();
    assert_eq!(trades.len(), 1);
    let tr = &trades[0];
    let f = next(&mut ws);
    let e = event(&f);
    let ex = lock(&engine);
    let o = ex.order(buy.order_id).unwrap();
    assert_eq!(e["x"], "TRADE");
    assert_eq!(e["X"], "FILLED");
    assert_eq!(e["E"], T0 + 1000);
    assert_eq!(e["T"], tr.time);
    assert_eq!(e["t"], tr.id);
    assert_eq!(e["l"], d8(tr.qty));
    assert_eq!(e["L"], d8(tr.price));
    assert_eq!(e["n"], d8(tr.commission));
    assert_eq!(e["N"], tr.commission_asset);
    assert_eq!(e["N"], "SOL");
    assert_eq!(e["m"], true);
    assert_eq!(e["M"], true);
    assert_eq!(e["w"], false);
    assert_eq!(e["z"], d8(o.executed_qty));
    assert_eq!(e["Z"], d8(o.cummulative_quote_qty));
    assert_eq!(e["Y"], d8(tr.quote_qty));
    assert_eq!(e["I"], 2);
    expect_position(&next(&mut ws), &ex, &["SOL", "USDC"]);
    drop(ex);

    // CANCELED over REST: `c` is the cancel's id, `C` the order's.
    let sell = lock(&engine)
        .place_order(&OrderRequest {
            new_client_order_id: Some("sell-1".into()),
            ..OrderRequest::limit("SOLUSDC", Side::Sell, dec!(160), dec!(1))
        })
        .unwrap()
        .order;
    assert_eq!(event(&next(&mut ws))["x"], "NEW");
    expect_position(&next(&mut ws), &lock(&engine), &["SOL"]);
    let ts = lock(&engine).server_time();
    let q = format!(
        "symbol=SOLUSDC&orderId={}&newClientOrderId=my-cancel&timestamp={ts}",
        sell.order_id
    );
    let url = format!(
        "{}/api/v3/order?{q}&signature={}",
        sim.base_url(),
        sign("sim-secret", q.as_bytes())
    );
    let resp = ureq::delete(&url)
        .header("X-MBX-APIKEY", "sim-key")
        .call()
        .unwrap();
    assert_eq!(resp.status(), 200);
    let f = next(&mut ws);
    let e = event(&f);
    assert_eq!(e["x"], "CANCELED");
    assert_eq!(e["X"], "CANCELED");
    assert_eq!(e["c"], "my-cancel");
    assert_eq!(e["C"], "sell-1");
    assert_eq!(e["i"], sell.order_id);
    assert_eq!(e["w"], false);
    expect_position(&next(&mut ws), &lock(&engine), &["SOL"]);

    // A deposit: balanceUpdate then the position.
    lock(&engine).deposit("USDC", dec!(25)).unwrap();
    let f = next(&mut ws);
    assert_eq!(
        event(&f),
        &json!({"e": "balanceUpdate", "E": T0 + 1000, "a": "USDC", "d": "25.00000000", "T": T0 + 1000})
    );
    expect_position(&next(&mut ws), &lock(&engine), &["USDC"]);
}

#[test]
fn market_order_and_ioc_remainder_report_new_trade_expired() {
    let sim = SimServer::start(config(), "127.0.0.1:0").unwrap();
    let engine = sim.engine();
    lock(&engine)
        .set_step_volume("SOLUSDC", Some(dec!(1)))
        .unwrap();
    let mut ws = connect(&sim.ws_url());
    assert_eq!(subscribe_hmac(&mut ws, T0)["status"], 200);
    let placed = lock(&engine)
        .place_order(&OrderRequest {
            time_in_force: Some(TimeInForce::Ioc),
            ..OrderRequest::limit("SOLUSDC", Side::Buy, dec!(151), dec!(3))
        })
        .unwrap();
    assert_eq!(placed.fills.len(), 1);
    let kinds: Vec<(String, String)> = (0..5)
        .map(|_| {
            let f = next(&mut ws);
            let e = event(&f).clone();
            (
                e["e"].as_str().unwrap().to_string(),
                e["x"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("executionReport".into(), "NEW".into()),
            ("outboundAccountPosition".into(), String::new()),
            ("executionReport".into(), "TRADE".into()),
            ("outboundAccountPosition".into(), String::new()),
            ("executionReport".into(), "EXPIRED".into()),
        ]
    );
    // The expiry releases the rest of the lock.
    expect_position(&next(&mut ws), &lock(&engine), &["USDC"]);
}

#[test]
fn self_trade_prevention_reports_trade_prevention_with_stp_fields() {
    let sim = SimServer::start(config(), "127.0.0.1:0").unwrap();
    let engine = sim.engine();
    {
        let mut ex = lock(&engine);
        ex.set_step_volume("SOLUSDC", Some(Decimal::ZERO)).unwrap();
        // SOL to sell.
        ex.deposit("SOL", dec!(5)).unwrap();
    }
    let mut ws = connect(&sim.ws_url());
    assert_eq!(subscribe_hmac(&mut ws, T0)["status"], 200);
    let maker = lock(&engine)
        .place_order(&OrderRequest::limit(
            "SOLUSDC",
            Side::Buy,
            dec!(149),
            dec!(1),
        ))
        .unwrap()
        .order;
    assert_eq!(event(&next(&mut ws))["x"], "NEW");
    next(&mut ws);
    let taker = lock(&engine)
        .place_order(&OrderRequest {
            stp: Some(StpMode::ExpireMaker),
            ..OrderRequest::limit("SOLUSDC", Side::Sell, dec!(149), dec!(1))
        })
        .unwrap()
        .order;
    assert_eq!(event(&next(&mut ws))["x"], "NEW");
    expect_position(&next(&mut ws), &lock(&engine), &["SOL"]);
    let f = next(&mut ws);
    let e = event(&f);
    let ex = lock(&engine);
    let m = ex.order(maker.order_id).unwrap();
    assert_eq!(m.status, OrderStatus::ExpiredInMatch);
    assert_eq!(e["x"], "TRADE_PREVENTION");
    assert_eq!(e["X"], "EXPIRED_IN_MATCH");
    assert_eq!(e["i"], maker.order_id);
    assert_eq!(e["v"], m.prevented_match_id.unwrap());
    assert_eq!(e["A"], d8(m.prevented_quantity));
    assert_eq!(e["B"], "1.00000000");
    assert_eq!(e["u"], -1);
    assert_eq!(e["U"], taker.order_id);
    assert_eq!(e["Cs"], "SOLUSDC");
    assert_eq!(e["z"], "0.00000000");
    expect_position(&next(&mut ws), &ex, &["USDC"]);
}

#[test]
fn ed25519_subscription_with_the_spec_vector() {
    // binance-ws.md §2: the FIX example key over the subscribe payload of
    // the official example (a derived vector).
    let pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIIJEYWtGBrhACmb9Dvy+qa8WEf0lQOl1s4CLIAB9m89u\n-----END PRIVATE KEY-----";
    use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePublicKey};
    let sk = ed25519_dalek::SigningKey::from_pkcs8_pem(pem).unwrap();
    let pub_pem = sk
        .verifying_key()
        .to_public_key_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .unwrap();
    let key = "mjcKCrJzTU6TChLsnPmgnQJJMR616J4yWvdZWDUeXkk6vL6dLyS7rcVOQlADlVjA";
    let ts = 1_747_385_641_636;
    let cfg = SimConfig {
        start_time_ms: Some(ts),
        api_keys: vec![ApiKeyConfig {
            key: key.into(),
            ed25519_public_key_pem: pub_pem,
        }],
        ..SimConfig::default()
    };
    let sim = SimServer::start(cfg, "127.0.0.1:0").unwrap();
    let mut ws = connect(&format!("{}?returnRateLimits=false", sim.ws_url()));
    let sig =
        "YHniJjbW6kh+IL/34zRP84SoGmE+Wm1XZD6JK2oHk9XsjiEP6zcjvjNMtHcIVcleifg7QaJr18cH+XlWfb2SDA==";
    let r = request(
        &mut ws,
        json!({"id": 7, "method": "userDataStream.subscribe.signature",
               "params": {"apiKey": key, "timestamp": ts, "signature": sig}}),
    );
    assert_eq!(
        r,
        json!({"id": 7, "status": 200, "result": {"subscriptionId": 0}})
    );
    // One bit off: refused.
    let mut ws2 = connect(&sim.ws_url());
    let bad = sig.replacen('Y', "Z", 1);
    let r = request(
        &mut ws2,
        json!({"id": 8, "method": "userDataStream.subscribe.signature",
               "params": {"apiKey": key, "timestamp": ts, "signature": bad}}),
    );
    assert_eq!(r["status"], 400);
    assert_eq!(r["error"]["code"], -1022);
    // Events reach the Ed25519 subscription.
    lock(&sim.engine())
        .place_order(&OrderRequest::limit(
            "SOLUSDC",
            Side::Buy,
            dec!(100),
            dec!(1),
        ))
        .unwrap();
    assert_eq!(event(&next(&mut ws))["x"], "NEW");
}

#[test]
fn refusals_and_session_methods() {
    let sim = SimServer::start(config(), "127.0.0.1:0").unwrap();
    let mut ws = connect(&sim.ws_url());
    let sub = |ws: &mut Ws, key: &str, ts: i64, sig: &str| {
        request(
            ws,
            json!({"id": 1, "method": "userDataStream.subscribe.signature",
                   "params": {"apiKey": key, "timestamp": ts, "signature": sig}}),
        )
    };
    let good = sign(
        "sim-secret",
        format!("apiKey=sim-key&timestamp={T0}").as_bytes(),
    );
    let r = sub(&mut ws, "sim-key", T0, &"0".repeat(64));
    assert_eq!(
        (r["status"].clone(), r["error"]["code"].clone()),
        (json!(400), json!(-1022))
    );
    assert_eq!(
        r["error"]["msg"],
        "Signature for this request is not valid."
    );
    let r = sub(&mut ws, "other-key", T0, &good);
    assert_eq!(
        (r["status"].clone(), r["error"]["code"].clone()),
        (json!(401), json!(-2015))
    );
    let old = T0 - 6000;
    let sig = sign(
        "sim-secret",
        format!("apiKey=sim-key&timestamp={old}").as_bytes(),
    );
    let r = sub(&mut ws, "sim-key", old, &sig);
    assert_eq!(r["error"]["code"], -1021);
    // recvWindow is signed too (sorted between apiKey and timestamp).
    let sig = sign(
        "sim-secret",
        format!("apiKey=sim-key&recvWindow=10000&timestamp={old}").as_bytes(),
    );
    let r = request(
        &mut ws,
        json!({"id": 2, "method": "userDataStream.subscribe.signature",
               "params": {"apiKey": "sim-key", "timestamp": old, "recvWindow": 10000, "signature": sig}}),
    );
    assert_eq!(r["result"], json!({"subscriptionId": 0}), "{r}");
    let r = sub(&mut ws, "sim-key", T0, &good);
    assert_eq!(r["error"]["code"], -2035);
    let r = request(&mut ws, json!({"id": 3, "method": "session.subscriptions"}));
    assert_eq!(r["result"], json!([{"subscriptionId": 0}]));
    let r = request(
        &mut ws,
        json!({"id": 4, "method": "userDataStream.unsubscribe", "params": {"subscriptionId": 5}}),
    );
    assert_eq!(r["error"]["code"], -2036);
    let r = request(
        &mut ws,
        json!({"id": 5, "method": "userDataStream.unsubscribe", "params": {"subscriptionId": 0}}),
    );
    assert_eq!(r["result"], json!({}));
    assert_eq!(
        next(&mut ws),
        json!({"subscriptionId": 0, "event": {"e": "eventStreamTerminated", "E": T0}})
    );
    let r = request(
        &mut ws,
        json!({"id": 6, "method": "session.subscriptions", "params": {"returnRateLimits": false}}),
    );
    assert_eq!(r, json!({"id": 6, "status": 200, "result": []}));
    // A new subscription gets the next id.
    assert_eq!(
        sub(&mut ws, "sim-key", T0, &good)["result"],
        json!({"subscriptionId": 1})
    );
    let r = request(&mut ws, json!({"id": null, "method": "v3/time"}));
    assert_eq!(r["result"], json!({"serverTime": T0}));
    assert_eq!(r["id"], Value::Null);
    let r = request(&mut ws, json!({"id": "p", "method": "ping"}));
    assert_eq!(r["result"], json!({}));
    let r = request(&mut ws, json!({"id": 9, "method": "no.such.method"}));
    assert_eq!(
        (r["status"].clone(), r["error"]["code"].clone()),
        (json!(400), json!(-1020))
    );
    ws.send(Message::Text("not json".into())).unwrap();
    let r = next(&mut ws);
    assert_eq!(
        (r["id"].clone(), r["error"]["code"].clone()),
        (Value::Null, json!(-1135))
    );
}

fn place(engine: &SharedEngine, price: Decimal) -> Order {
    lock(engine)
        .place_order(&OrderRequest::limit("SOLUSDC", Side::Buy, price, dec!(1)))
        .unwrap()
        .order
}

#[test]
fn duplicate_and_reorder_faults() {
    let sim = SimServer::start(config(), "127.0.0.1:0").unwrap();
    let engine = sim.engine();
    let hub = sim.ws_hub();
    let mut ws = connect(&sim.ws_url());
    assert_eq!(subscribe_hmac(&mut ws, T0)["status"], 200);
    hub.set_faults(WsFaultConfig {
        duplicate_rate: 1.0,
        ..WsFaultConfig::default()
    })
    .unwrap();
    place(&engine, dec!(100));
    let a = next(&mut ws);
    let b = next(&mut ws);
    let c = next(&mut ws);
    let d = next(&mut ws);
    assert_eq!(a, b);
    assert_eq!(c, d);
    assert_eq!(event(&a)["e"], "executionReport");
    assert_eq!(event(&c)["e"], "outboundAccountPosition");
    assert_eq!(hub.state().stats.duplicated, 2);

    hub.set_faults(WsFaultConfig {
        reorder_rate: 1.0,
        ..WsFaultConfig::default()
    })
    .unwrap();
    place(&engine, dec!(101));
    let first = next(&mut ws);
    let second = next(&mut ws);
    assert_eq!(event(&first)["e"], "outboundAccountPosition");
    assert_eq!(event(&second)["e"], "executionReport");
    assert_eq!(hub.state().stats.reordered, 1);

    // Held events arrive no earlier than the delay.
    hub.set_faults(WsFaultConfig {
        delay_ms: 300,
        ..WsFaultConfig::default()
    })
    .unwrap();
    let t = Instant::now();
    place(&engine, dec!(102));
    assert_eq!(event(&next(&mut ws))["x"], "NEW");
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    next(&mut ws);
}

fn expect_dropped(ws: &mut Ws) {
    let until = Instant::now() + WAIT;
    loop {
        assert!(Instant::now() < until, "connection not dropped");
        match ws.read() {
            Ok(Message::Close(f)) => panic!("a drop sends no close frame, got {f:?}"),
            Ok(_) => {}
            Err(tungstenite::Error::Protocol(
                tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
            ))
            | Err(tungstenite::Error::ConnectionClosed)
            | Err(tungstenite::Error::AlreadyClosed) => return,
            Err(tungstenite::Error::Io(e)) if e.kind() != std::io::ErrorKind::WouldBlock => return,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
}

#[test]
fn dropped_connections_after_n_events_and_on_demand() {
    let sim = SimServer::start(config(), "127.0.0.1:0").unwrap();
    let engine = sim.engine();
    let hub = sim.ws_hub();
    hub.set_faults(WsFaultConfig {
        drop_after_events: Some(3),
        ..WsFaultConfig::default()
    })
    .unwrap();
    let mut ws = connect(&sim.ws_url());
    assert_eq!(subscribe_hmac(&mut ws, T0)["status"], 200);
    place(&engine, dec!(100));
    place(&engine, dec!(101));
    for _ in 0..3 {
        next(&mut ws);
    }
    expect_dropped(&mut ws);
    wait_for("dropped counted", || hub.state().stats.dropped == 1);
    // The events stay in the engine: a new subscription sees the next ones.
    hub.set_faults(WsFaultConfig::default()).unwrap();
    let mut ws = connect(&sim.ws_url());
    assert_eq!(subscribe_hmac(&mut ws, T0)["status"], 200);
    wait_for("one session", || hub.state().sessions.len() == 1);
    hub.drop_all();
    expect_dropped(&mut ws);
    wait_for("no session", || hub.state().sessions.is_empty());
    assert_eq!(hub.state().stats.dropped, 2);
}

#[test]
fn terminated_stream_lagged_subscriber_and_server_shutdown() {
    let cfg = SimConfig {
        user_event_log_capacity: 4,
        ..config()
    };
    let sim = SimServer::start(cfg, "127.0.0.1:0").unwrap();
    let engine = sim.engine();
    let hub = sim.ws_hub();
    let mut ws = connect(&sim.ws_url());
    assert_eq!(subscribe_hmac(&mut ws, T0)["status"], 200);
    // Six events while the session cannot read: the bound is 4.
    {
        let mut ex = lock(&engine);
        for p in [dec!(100), dec!(101), dec!(102)] {
            ex.place_order(&OrderRequest::limit("SOLUSDC", Side::Buy, p, dec!(1)))
                .unwrap();
        }
    }
    assert_eq!(
        next(&mut ws),
        json!({"subscriptionId": 0, "event": {"e": "eventStreamTerminated", "E": T0}})
    );
    assert_eq!(hub.state().stats.terminated_lagged, 1);
    // Subscribed again: events flow again.
    assert_eq!(
        subscribe_hmac(&mut ws, T0)["result"],
        json!({"subscriptionId": 1})
    );
    place(&engine, dec!(103));
    assert_eq!(event_of(&next(&mut ws), 1)["x"], "NEW");
    next(&mut ws);
    // Terminated on demand.
    hub.terminate(None, Some(1));
    assert_eq!(
        next(&mut ws),
        json!({"subscriptionId": 1, "event": {"e": "eventStreamTerminated", "E": T0}})
    );
    // serverShutdown, then closed.
    hub.server_shutdown(Some(50));
    assert_eq!(
        next(&mut ws),
        json!({"event": {"e": "serverShutdown", "E": T0}})
    );
    let until = Instant::now() + WAIT;
    loop {
        assert!(Instant::now() < until);
        match ws.read() {
            Ok(Message::Close(Some(f))) => {
                assert_eq!(u16::from(f.code), 1001);
                break;
            }
            Ok(_) => {}
            Err(e) => panic!("expected a close frame: {e}"),
        }
    }
}

fn event_of(frame: &Value, sub: u32) -> &Value {
    assert_eq!(frame["subscriptionId"], sub, "{frame}");
    &frame["event"]
}

#[test]
fn pings_pongs_and_the_pong_timeout() {
    let cfg = SimConfig {
        ws_ping_ms: 50,
        ws_pong_timeout_ms: 300,
        ..config()
    };
    let sim = SimServer::start(cfg, "127.0.0.1:0").unwrap();
    let hub = sim.ws_hub();
    // A client that reads answers every ping (tungstenite pongs with the payload).
    let mut ws = connect(&sim.ws_url());
    let payload = b"hello".to_vec();
    ws.send(Message::Ping(payload.clone().into())).unwrap();
    let until = Instant::now() + WAIT;
    let mut pings = 0;
    let mut pong = false;
    while pings < 10 || !pong {
        assert!(Instant::now() < until, "pings={pings} pong={pong}");
        match ws.read().unwrap() {
            Message::Ping(_) => pings += 1,
            Message::Pong(p) => {
                assert_eq!(p.as_ref(), &payload[..]);
                pong = true;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    // 10 pings at 50 ms = 500 ms > the 300 ms timeout: still open.
    let s = hub.state();
    assert_eq!(s.stats.closed_pong_timeout, 0);
    assert!(s.sessions[0].pongs_received >= 9, "{s:?}");

    // A client that does not read never pongs: closed with 1008.
    drop(ws);
    wait_for("first session gone", || hub.state().sessions.is_empty());
    let mut silent = connect(&sim.ws_url());
    wait_for("pong timeout", || {
        hub.state().stats.closed_pong_timeout == 1
    });
    let until = Instant::now() + WAIT;
    loop {
        assert!(Instant::now() < until);
        match silent.read() {
            Ok(Message::Close(Some(f))) => {
                assert_eq!(u16::from(f.code), 1008);
                break;
            }
            Ok(_) => {}
            Err(e) => panic!("expected a close frame: {e}"),
        }
    }
}

#[test]
fn control_api_sets_ws_faults_and_reports_sessions() {
    let sim = SimServer::start(config(), "127.0.0.1:0").unwrap();
    let base = sim.base_url();
    let post = |path: &str, body: Value| {
        ureq::post(&format!("{base}{path}"))
            .config()
            .http_status_as_error(false)
            .build()
            .send(body.to_string())
            .unwrap()
    };
    let r = post("/sim/ws/faults", json!({"seed": 3, "duplicate_rate": 0.5}));
    assert_eq!(r.status(), 200);
    assert_eq!(sim.ws_hub().state().faults.duplicate_rate, 0.5);
    let r = post("/sim/ws/faults", json!({"reorder_rate": 2.0}));
    assert_eq!(r.status(), 400);
    let r = post("/sim/ws/faults", json!({"no_such": 1}));
    assert_eq!(r.status(), 400);
    let _ws = connect(&sim.ws_url());
    wait_for("session listed", || {
        sim.ws_hub().state().sessions.len() == 1
    });
    let mut r = ureq::get(&format!("{base}/sim/ws")).call().unwrap();
    let v: Value = serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(v["sessions"][0]["session"], 1);
    assert_eq!(v["stats"]["connections"], 1);
    for path in ["/sim/ws/terminate", "/sim/ws/shutdown", "/sim/ws/drop"] {
        assert_eq!(post(path, json!({})).status(), 200, "{path}");
    }
    let r = post("/sim/deposit", json!({"asset": "USDC", "delta": "5"}));
    assert_eq!(r.status(), 200);
    assert_eq!(lock(&sim.engine()).balance("USDC").free, dec!(10005));
}

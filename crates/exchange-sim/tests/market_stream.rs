//! The market-data streams (`/ws/<name>`, `/stream?streams=…`) against a
//! running server, with a plain WebSocket client (tungstenite): the first
//! mini ticker at once and equal to REST's MINI ticker, nothing while nothing
//! changes, a new one after a price change or a fill, combined frames,
//! unknown symbols accepted and ignored, refusals, pings, drops and the
//! `/sim/market` counters. Every wait is bounded by a read timeout or a deadline.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::TcpStream;
use std::time::{Duration, Instant};

use exchange_sim::market_stream::{combined_path, MAX_STREAMS};
use exchange_sim::server::lock;
use exchange_sim::*;
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
        workers: 1,
        ..SimConfig::default()
    }
}

fn connect(url: &str) -> Ws {
    let (ws, _) = tungstenite::connect(url).unwrap();
    set_timeout(&ws, WAIT);
    ws
}

fn set_timeout(ws: &Ws, d: Duration) {
    if let MaybeTlsStream::Plain(s) = ws.get_ref() {
        s.set_read_timeout(Some(d)).unwrap();
    }
}

/// The next text frame as JSON within `limit`, `None` when none came
/// (pings are answered by tungstenite on the way).
fn next_within(ws: &mut Ws, limit: Duration) -> Option<Value> {
    let until = Instant::now() + limit;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        set_timeout(ws, left);
        match ws.read() {
            Ok(Message::Text(t)) => return Some(serde_json::from_str(t.as_str()).unwrap()),
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => panic!("connection ended before a text frame: {e}"),
        }
    }
}

fn next(ws: &mut Ws) -> Value {
    next_within(ws, WAIT).unwrap_or_else(|| panic!("no text frame within {WAIT:?}"))
}

fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let until = Instant::now() + WAIT;
    while !cond() {
        assert!(Instant::now() < until, "{what}: not within {WAIT:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn get_json(url: &str) -> (u16, Value) {
    let mut r = ureq::get(url)
        .config()
        .http_status_as_error(false)
        .build()
        .call()
        .unwrap();
    let status = r.status().as_u16();
    let body = r.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

#[test]
fn raw_stream_first_ticker_at_once_equal_to_rest_then_only_changes() {
    let sim = SimServer::start(config(), "127.0.0.1:0").unwrap();
    let started = Instant::now();
    let mut ws = connect(&format!(
        "{}/ws/solusdc@miniTicker",
        sim.market_stream_url()
    ));
    let t = next(&mut ws);
    assert!(
        started.elapsed() < Duration::from_millis(1000),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(t["e"], "24hrMiniTicker");
    assert_eq!(t["E"], T0);
    assert_eq!(t["s"], "SOLUSDC");
    assert_eq!(t["c"], "150.00000000");
    let (status, rest) = get_json(&format!(
        "{}/api/v3/ticker/24hr?symbol=SOLUSDC&type=MINI",
        sim.base_url()
    ));
    assert_eq!(status, 200);
    for (k, field) in [
        ("c", "lastPrice"),
        ("o", "openPrice"),
        ("h", "highPrice"),
        ("l", "lowPrice"),
        ("v", "volume"),
        ("q", "quoteVolume"),
    ] {
        assert_eq!(t[k], rest[field], "{k} vs {field}");
    }

    // Nothing changes: nothing more is sent.
    assert_eq!(next_within(&mut ws, Duration::from_millis(2300)), None);

    // A new price: a new ticker within the next period.
    lock(&sim.engine())
        .set_price("SOLUSDC", dec!(151.5))
        .unwrap();
    let changed = Instant::now();
    let t = next(&mut ws);
    assert!(
        changed.elapsed() < Duration::from_millis(2000),
        "{:?}",
        changed.elapsed()
    );
    assert_eq!(t["c"], "151.50000000");
    assert_eq!(t["h"], "151.50000000");
    assert!(
        t.get("stream").is_none(),
        "a raw stream is not wrapped: {t}"
    );
    let stats = sim.market_hub().stats();
    assert_eq!((stats.open_connections, stats.messages_sent), (1, 2));
}

#[test]
fn a_fill_moves_volume_and_quote_volume() {
    let sim = SimServer::start(config(), "127.0.0.1:0").unwrap();
    let engine = sim.engine();
    let mut ws = connect(&format!(
        "{}/ws/solusdc@miniTicker",
        sim.market_stream_url()
    ));
    assert_eq!(next(&mut ws)["v"], "0.00000000");
    lock(&engine)
        .place_order(&OrderRequest::limit(
            "SOLUSDC",
            Side::Buy,
            dec!(149),
            dec!(2),
        ))
        .unwrap();
    lock(&engine).set_price("SOLUSDC", dec!(148)).unwrap();
    let t = next(&mut ws);
    assert_eq!(t["c"], "148.00000000");
    assert_eq!(t["v"], "2.00000000");
    assert_eq!(t["q"], "298.00000000");
}

#[test]
fn combined_streams_wrap_each_and_ignore_unknown_symbols() {
    let sim = SimServer::start(config(), "127.0.0.1:0").unwrap();
    let path = format!(
        "{}/stream?streams=solusdc@miniTicker/btcusdc@miniTicker/nosuch@miniTicker/SOLUSDC@miniTicker/solusdc@miniTicker",
        sim.market_stream_url()
    );
    let mut ws = connect(&path);
    let mut got: Vec<(String, String, String)> = (0..2)
        .map(|_| {
            let f = next(&mut ws);
            assert_eq!(f["data"]["e"], "24hrMiniTicker", "{f}");
            (
                f["stream"].as_str().unwrap().to_string(),
                f["data"]["s"].as_str().unwrap().to_string(),
                f["data"]["c"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            (
                "btcusdc@miniTicker".into(),
                "BTCUSDC".into(),
                "60000.00000000".into()
            ),
            (
                "solusdc@miniTicker".into(),
                "SOLUSDC".into(),
                "150.00000000".into()
            ),
        ]
    );
    // The unknown and the uppercase streams are accepted and never served.
    assert_eq!(next_within(&mut ws, Duration::from_millis(1300)), None);
    let stats = sim.market_hub().stats();
    assert_eq!(stats.ignored_streams, 2, "{stats:?}");
    assert_eq!(stats.messages_sent, 2, "{stats:?}");

    // Only the symbol whose price moved gets a new ticker.
    lock(&sim.engine())
        .set_price("BTCUSDC", dec!(61000))
        .unwrap();
    let f = next(&mut ws);
    assert_eq!(f["stream"], "btcusdc@miniTicker");
    assert_eq!(f["data"]["c"], "61000.00000000");
    assert_eq!(next_within(&mut ws, Duration::from_millis(1300)), None);
    assert_eq!(
        combined_path(&["SOLUSDC", "BTCUSDC"]),
        "/stream?streams=solusdc@miniTicker/btcusdc@miniTicker"
    );
}

#[test]
fn bad_stream_names_are_refused_with_400_before_the_upgrade() {
    let sim = SimServer::start(config(), "127.0.0.1:0").unwrap();
    let too_many: Vec<String> = (0..=MAX_STREAMS)
        .map(|i| format!("s{i}@miniTicker"))
        .collect();
    let cases = [
        "/ws/solusdc@trade".to_string(),
        "/ws/solusdc".to_string(),
        "/ws/sol%20usdc@miniTicker".to_string(),
        "/stream".to_string(),
        "/stream?streams=".to_string(),
        "/stream?streams=solusdc@miniTicker/btcusdc@depth".to_string(),
        format!("/stream?streams={}", too_many.join("/")),
    ];
    for path in &cases {
        // Over HTTP: 400 with Binance's error shape.
        let (status, body) = get_json(&format!("{}{path}", sim.base_url()));
        assert_eq!(status, 400, "{path}");
        assert_eq!(body["code"], 2, "{path}: {body}");
        assert!(
            body["msg"].as_str().unwrap().starts_with("Invalid request"),
            "{path}: {body}"
        );
        // As a WebSocket handshake: refused.
        match tungstenite::connect(format!("{}{path}", sim.market_stream_url())) {
            Err(tungstenite::Error::Http(r)) => assert_eq!(r.status().as_u16(), 400, "{path}"),
            Err(e) => panic!("{path}: {e}"),
            Ok(_) => panic!("{path}: accepted"),
        }
    }
    assert_eq!(sim.market_hub().stats().connections, 0);
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
fn control_drops_every_connection_and_reports_counters() {
    let sim = SimServer::start(config(), "127.0.0.1:0").unwrap();
    let base = sim.base_url();
    let url = format!("{}/ws/btcusdc@miniTicker", sim.market_stream_url());
    let mut a = connect(&url);
    let mut b = connect(&url);
    next(&mut a);
    next(&mut b);
    let (status, v) = get_json(&format!("{base}/sim/market"));
    assert_eq!(status, 200);
    assert_eq!(v["open_connections"], 2, "{v}");
    assert_eq!(v["connections"], 2, "{v}");
    assert_eq!(v["messages_sent"], 2, "{v}");
    let r = ureq::post(&format!("{base}/sim/market/drop"))
        .send("")
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    expect_dropped(&mut a);
    expect_dropped(&mut b);
    wait_for("no connection", || {
        sim.market_hub().stats().open_connections == 0
    });
    assert_eq!(sim.market_hub().stats().dropped, 2);
    let (status, _) = get_json(&format!("{base}/sim/market/nope"));
    assert_eq!(status, 404);
    // A new connection after the drop learns the price at once.
    let mut c = connect(&url);
    assert_eq!(next(&mut c)["c"], "60000.00000000");
    // The WebSocket API's drop leaves market streams alone.
    sim.ws_hub().drop_all();
    lock(&sim.engine())
        .set_price("BTCUSDC", dec!(59000))
        .unwrap();
    assert_eq!(next(&mut c)["c"], "59000.00000000");
}

#[test]
fn pings_pongs_pong_timeout_and_text_frames() {
    let cfg = SimConfig {
        ws_ping_ms: 50,
        ws_pong_timeout_ms: 300,
        ..config()
    };
    let sim = SimServer::start(cfg, "127.0.0.1:0").unwrap();
    let hub = sim.market_hub();
    let url = format!("{}/ws/solusdc@miniTicker", sim.market_stream_url());
    let mut ws = connect(&url);
    ws.send(Message::text(
        r#"{"method":"SUBSCRIBE","params":["btcusdc@miniTicker"],"id":7}"#,
    ))
    .unwrap();
    let payload = b"hi".to_vec();
    ws.send(Message::Ping(payload.clone().into())).unwrap();
    let until = Instant::now() + WAIT;
    let (mut pings, mut pong, mut texts) = (0, false, Vec::new());
    while pings < 10 || !pong || texts.len() < 2 {
        assert!(
            Instant::now() < until,
            "pings={pings} pong={pong} texts={texts:?}"
        );
        match ws.read().unwrap() {
            Message::Ping(_) => pings += 1,
            Message::Pong(p) => {
                assert_eq!(p.as_ref(), &payload[..]);
                pong = true;
            }
            Message::Text(t) => texts.push(serde_json::from_str::<Value>(t.as_str()).unwrap()),
            other => panic!("unexpected {other:?}"),
        }
    }
    // 10 pings at 50 ms = 500 ms > the 300 ms timeout: still open.
    let s = hub.stats();
    assert_eq!(s.closed_pong_timeout, 0, "{s:?}");
    assert!(s.pongs_received >= 9, "{s:?}");
    let answer = texts.iter().find(|t| t.get("error").is_some()).unwrap();
    assert_eq!(answer["id"], 7);
    assert_eq!(answer["error"]["code"], 2);
    assert!(texts.iter().any(|t| t["e"] == json!("24hrMiniTicker")));

    // A client that does not read never pongs: closed with 1008.
    drop(ws);
    wait_for("first gone", || hub.stats().open_connections == 0);
    let mut silent = connect(&url);
    wait_for("pong timeout", || hub.stats().closed_pong_timeout == 1);
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

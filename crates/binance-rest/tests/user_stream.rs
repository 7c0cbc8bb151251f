//! The user-data stream client against a fake WebSocket API server in the
//! test (std TcpListener + tungstenite::accept): subscription accepted and
//! refused, events read in order, pings answered, idle pings, a silent server
//! detected as down, a closed connection turned into a reconnect by the
//! supervisor, and the secret never in an error.

// Test code: a failed unwrap/expect/panic is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use binance_rest::user_stream::{
    SplitMix64, Step, StreamSupervisor, SupervisorConfig, UserEvent, UserStream, UserStreamOptions,
};
use binance_rest::{Credentials, Error, ExecutionType, ManualClock};
use rust_decimal_macros::dec;
use tungstenite::{Message, WebSocket};

const API_KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
const NOW_MS: i64 = 1_700_000_000_000;
const OFFSET_MS: i64 = 1_234;

type Ws = WebSocket<TcpStream>;

fn creds() -> Credentials {
    Credentials::new(API_KEY, SECRET)
}

fn options() -> UserStreamOptions {
    UserStreamOptions {
        time_offset_ms: OFFSET_MS,
        clock: Arc::new(ManualClock::new(NOW_MS)),
        ..UserStreamOptions::default()
    }
}

/// A server accepting `connections` connections in turn, each handled by `f`
/// (called with the connection's number).
fn server<F>(connections: usize, f: F) -> (String, JoinHandle<()>)
where
    F: Fn(usize, Ws) + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/ws-api/v3", listener.local_addr().unwrap());
    let h = thread::spawn(move || {
        for n in 0..connections {
            let (tcp, _) = listener.accept().unwrap();
            let ws = tungstenite::accept(tcp).unwrap();
            f(n, ws);
        }
    });
    (url, h)
}

/// Reads the subscribe request, checks it as Binance would (method, params,
/// timestamp, HMAC signature over the sorted params) and returns its id.
fn read_subscribe(ws: &mut Ws) -> serde_json::Value {
    let text = match ws.read().unwrap() {
        Message::Text(t) => t.as_str().to_string(),
        other => panic!("expected the subscribe request, got {other:?}"),
    };
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["method"], "userDataStream.subscribe.signature");
    let p = &v["params"];
    assert_eq!(p["apiKey"], API_KEY);
    assert_eq!(
        p["timestamp"],
        NOW_MS + OFFSET_MS,
        "local clock + server offset"
    );
    let want = creds()
        .sign_ws_params(&[
            ("apiKey", API_KEY.to_string()),
            ("timestamp", (NOW_MS + OFFSET_MS).to_string()),
        ])
        .unwrap();
    assert_eq!(p["signature"], want.as_str());
    assert!(!text.contains(SECRET));
    v["id"].clone()
}

fn send(ws: &mut Ws, v: serde_json::Value) {
    ws.send(Message::text(v.to_string())).unwrap();
}

fn accept_subscription(ws: &mut Ws, sid: i64) {
    let id = read_subscribe(ws);
    send(
        ws,
        serde_json::json!({"id": id, "status": 200, "result": {"subscriptionId": sid}}),
    );
}

fn execution_report(x: &str, status: &str, t: i64, l: &str) -> serde_json::Value {
    serde_json::json!({"subscriptionId": 3, "event": {
        "e":"executionReport","E":1_499_405_658_658i64,"s":"SOLUSDC","c":"grid-1-b-0001","S":"BUY","o":"LIMIT","f":"GTC",
        "q":"0.50000000","p":"140.25000000","P":"0.00000000","F":"0.00000000","g":-1,"C":"",
        "x":x,"X":status,"r":"NONE","i":42,"l":l,"z":l,"L":"140.25000000",
        "n":"0.00050000","N":"SOL","T":1_499_405_658_657i64,"t":t,"I":9,"w":true,"m":true,"M":false,
        "O":1_499_405_658_657i64,"Z":"0","Y":"0","Q":"0.00000000","W":1_499_405_658_657i64,"V":"NONE"}})
}

#[test]
fn subscribes_and_reads_events_in_order() {
    let (url, h) = server(1, |_, mut ws| {
        accept_subscription(&mut ws, 3);
        send(&mut ws, execution_report("NEW", "NEW", -1, "0"));
        send(&mut ws, execution_report("TRADE", "FILLED", 77, "0.5"));
        send(
            &mut ws,
            serde_json::json!({"subscriptionId":3,"event":{"e":"listStatus","E":1,"s":"SOLUSDC"}}),
        );
        send(
            &mut ws,
            serde_json::json!({"subscriptionId":3,"event":{"e":"outboundAccountPosition","E":2,"u":1,"B":[{"a":"SOL","f":"1.5","l":"0"}]}}),
        );
        send(
            &mut ws,
            serde_json::json!({"event":{"e":"serverShutdown","E":3}}),
        );
        // Keep the connection until the client is done.
        let _ = ws.read();
    });
    let mut s = UserStream::connect(&url, &creds(), options()).unwrap();
    assert_eq!(s.subscription_id(), 3);
    let t = Duration::from_secs(5);

    let Some(UserEvent::ExecutionReport(r)) = s.next_event(t).unwrap() else {
        panic!()
    };
    assert_eq!(r.execution_type, ExecutionType::New);
    let Some(UserEvent::ExecutionReport(r)) = s.next_event(t).unwrap() else {
        panic!()
    };
    let fill = r.to_fill(dec!(0.07)).unwrap();
    assert_eq!(
        (fill.trade_id, fill.exchange_order_id, fill.qty, fill.price),
        (77, 42, dec!(0.5), dec!(140.25))
    );
    assert_eq!(fill.client_order_id, "grid-1-b-0001");
    let Some(UserEvent::Unknown(raw)) = s.next_event(t).unwrap() else {
        panic!()
    };
    assert!(raw.contains("listStatus"));
    let Some(UserEvent::OutboundAccountPosition(p)) = s.next_event(t).unwrap() else {
        panic!()
    };
    assert_eq!(p.balances[0].free, dec!(1.5));
    assert_eq!(
        s.next_event(t).unwrap(),
        Some(UserEvent::ServerShutdown { event_time: 3 })
    );
    // Nothing more: a short wait returns None, the connection stays up.
    assert_eq!(s.next_event(Duration::from_millis(50)).unwrap(), None);
    s.close();
    h.join().unwrap();
}

#[test]
fn refused_subscriptions_are_typed_and_never_quote_the_secret() {
    let cases = [
        (
            400,
            -1022,
            "Signature for this request is not valid.",
            false,
        ),
        (
            401,
            -2015,
            "Invalid API-key, IP, or permissions for action.",
            true,
        ),
        (
            400,
            -1021,
            "Timestamp for this request is outside of the recvWindow.",
            false,
        ),
    ];
    let (url, h) = server(cases.len(), move |n, mut ws| {
        let id = read_subscribe(&mut ws);
        let (status, code, msg, null_id) = cases[n];
        let id = if null_id { serde_json::Value::Null } else { id };
        send(
            &mut ws,
            serde_json::json!({"id": id, "status": status, "error": {"code": code, "msg": msg}}),
        );
        let _ = ws.read();
    });
    for (_, code, msg, _) in cases {
        let e = UserStream::connect(&url, &creds(), options()).unwrap_err();
        assert_eq!(
            e,
            Error::StreamRefused {
                code,
                msg: msg.into()
            }
        );
        let text = format!("{e} {e:?}");
        assert!(!text.contains(SECRET) && !text.contains(API_KEY), "{text}");
        assert!(text.contains(msg));
    }
    h.join().unwrap();
}

#[test]
fn pings_are_answered_with_their_payload() {
    let (url, h) = server(1, |_, mut ws| {
        accept_subscription(&mut ws, 0);
        ws.send(Message::Ping(b"hb-1".to_vec().into())).unwrap();
        match ws.read().unwrap() {
            Message::Pong(p) => assert_eq!(&p[..], b"hb-1"),
            other => panic!("expected a pong, got {other:?}"),
        }
        // Only once the pong came does the event follow.
        send(
            &mut ws,
            serde_json::json!({"subscriptionId":0,"event":{"e":"eventStreamTerminated","E":5}}),
        );
        let _ = ws.read();
    });
    let mut s = UserStream::connect(&url, &creds(), options()).unwrap();
    assert_eq!(
        s.next_event(Duration::from_secs(10)).unwrap(),
        Some(UserEvent::EventStreamTerminated { event_time: 5 })
    );
    s.close();
    h.join().unwrap();
}

#[test]
fn an_idle_connection_is_pinged_and_kept_alive_by_pongs() {
    let (url, h) = server(1, |_, mut ws| {
        accept_subscription(&mut ws, 0);
        let start = Instant::now();
        let mut pings = 0;
        // Answer the client's idle pings for longer than its dead limit.
        while start.elapsed() < Duration::from_millis(2_500) {
            match ws.read().unwrap() {
                Message::Ping(_) => {
                    pings += 1;
                    ws.flush().unwrap(); // sends the queued pong
                }
                other => panic!("expected a ping, got {other:?}"),
            }
        }
        assert!(pings >= 2, "{pings} pings");
        send(
            &mut ws,
            serde_json::json!({"subscriptionId":0,"event":{"e":"eventStreamTerminated","E":6}}),
        );
        let _ = ws.read();
    });
    let opts = UserStreamOptions {
        ping_after: Duration::from_millis(100),
        dead_after: Duration::from_millis(1_500),
        ..options()
    };
    let mut s = UserStream::connect(&url, &creds(), opts).unwrap();
    let start = Instant::now();
    assert_eq!(
        s.next_event(Duration::from_secs(20)).unwrap(),
        Some(UserEvent::EventStreamTerminated { event_time: 6 })
    );
    assert!(start.elapsed() >= Duration::from_millis(1_500));
    s.close();
    h.join().unwrap();
}

#[test]
fn a_silent_server_is_detected_as_down() {
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let (url, h) = server(1, move |_, mut ws| {
        accept_subscription(&mut ws, 0);
        // The client pings when idle...
        assert!(matches!(ws.read().unwrap(), Message::Ping(_)));
        // ...but this server never answers nor sends anything again.
        let _ = done_rx.recv();
    });
    let opts = UserStreamOptions {
        ping_after: Duration::from_millis(100),
        dead_after: Duration::from_millis(400),
        ..options()
    };
    let mut s = UserStream::connect(&url, &creds(), opts).unwrap();
    let start = Instant::now();
    let e = s.next_event(Duration::from_secs(20)).unwrap_err();
    let took = start.elapsed();
    assert!(
        matches!(e, Error::StreamDown(ref m) if m.contains("no frame")),
        "{e}"
    );
    assert!(e.is_retryable());
    assert!(took >= Duration::from_millis(400), "{took:?}");
    assert!(
        took < Duration::from_secs(20),
        "the dead limit, not the timeout: {took:?}"
    );
    done_tx.send(()).unwrap();
    h.join().unwrap();
}

#[test]
fn a_closed_connection_becomes_a_reconnect_and_a_sweep() {
    let (url, h) = server(3, |n, mut ws| {
        accept_subscription(&mut ws, n as i64);
        match n {
            // A close frame.
            0 => ws.close(None).unwrap(),
            // The socket dropped without a close frame.
            1 => drop(ws),
            _ => {
                send(&mut ws, execution_report("NEW", "NEW", -1, "0"));
                let _ = ws.read();
            }
        }
    });
    let mut sup = StreamSupervisor::new(SupervisorConfig::default(), SplitMix64::new(42));
    let clock = ManualClock::new(NOW_MS);
    use binance_rest::Clock;
    let mut events = Vec::new();
    let mut downs = 0;
    let mut sweeps = 0;
    let mut stream: Option<UserStream> = None;
    for _ in 0..50 {
        let now = clock.now_ms();
        match sup.step(now) {
            Step::Connect => match UserStream::connect(&url, &creds(), options()) {
                Ok(s) => {
                    stream = Some(s);
                    sup.on_connected(now);
                }
                Err(e) => panic!("{e}"),
            },
            Step::Reconnect => panic!("not at 23h50m"),
            Step::Sweep => {
                sweeps += 1;
                sup.on_swept();
            }
            Step::Wait { until_ms } => clock.set(until_ms),
            Step::Read { .. } => {
                let s = stream.as_mut().unwrap();
                match s.next_event(Duration::from_secs(5)) {
                    Ok(Some(e)) => {
                        sup.on_event(now, &e);
                        events.push(e);
                        break;
                    }
                    Ok(None) => panic!("no event"),
                    Err(e) => {
                        assert!(matches!(e, Error::StreamDown(_)), "{e}");
                        downs += 1;
                        stream = None;
                        sup.on_read_error(now, &e);
                        assert!(!sup.is_live());
                    }
                }
            }
        }
    }
    assert_eq!(downs, 2, "close frame and dropped socket");
    assert_eq!(sweeps, 3, "a sweep after every connect");
    assert_eq!(stream.as_ref().map(|s| s.subscription_id()), Some(2));
    assert!(matches!(events.as_slice(), [UserEvent::ExecutionReport(_)]));
    assert!(clock.now_ms() > NOW_MS, "backed off before reconnecting");
    stream.unwrap().close();
    h.join().unwrap();
}

#[test]
fn connecting_to_nothing_is_a_transport_error() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/ws-api/v3", listener.local_addr().unwrap());
    drop(listener);
    let e = UserStream::connect(&url, &creds(), options()).unwrap_err();
    assert!(matches!(e, Error::Transport(_)), "{e}");
    let e = UserStream::connect("http://127.0.0.1:1/x", &creds(), options()).unwrap_err();
    assert!(matches!(e, Error::InvalidRequest(_)), "{e}");
}

#[test]
fn wss_goes_through_tls() {
    // A plain TCP server that is no TLS server: the rustls client is set up
    // (crypto provider, webpki roots) and the handshake fails cleanly.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("wss://{}/ws-api/v3", listener.local_addr().unwrap());
    let h = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        drop(tcp);
    });
    let e = UserStream::connect(&url, &creds(), options()).unwrap_err();
    assert!(
        matches!(e, Error::Transport(ref m) if m.contains("handshake")),
        "{e}"
    );
    h.join().unwrap();
}

//! The price-stream client against a fake stream server in the test (std
//! TcpListener + tungstenite::accept): the combined path it asks for, pings
//! answered with their payload, a frame it cannot read skipped as `Decode`
//! with the connection still usable, `serverShutdown` and a close as
//! `Transport` errors that stay.

// Test code: a failed unwrap/expect/panic is a failed test, with its message.
// tungstenite's handshake callback returns its (large) error response as is.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::result_large_err
)]

use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use binance_rest::market_stream::{PriceStream, PriceTick};
use binance_rest::Error;
use rust_decimal_macros::dec;
use tungstenite::handshake::server::{Request, Response};
use tungstenite::{Message, WebSocket};

type Ws = WebSocket<TcpStream>;

const WAIT: Duration = Duration::from_secs(5);

/// One connection handled by `f`; the requested path (with query) is sent on the channel.
fn server<F>(f: F) -> (String, mpsc::Receiver<String>, JoinHandle<()>)
where
    F: FnOnce(Ws) + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    let h = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(WAIT)).unwrap();
        let ws = tungstenite::accept_hdr(tcp, |req: &Request, resp: Response| {
            tx.send(req.uri().to_string()).unwrap();
            Ok(resp)
        })
        .unwrap();
        f(ws);
    });
    (url, rx, h)
}

fn ticker(symbol: &str, price: &str, e: i64) -> String {
    format!(
        r#"{{"stream":"{}@miniTicker","data":{{"e":"24hrMiniTicker","E":{e},"s":"{symbol}","c":"{price}","o":"1","h":"1","l":"1","v":"0","q":"0"}}}}"#,
        symbol.to_ascii_lowercase()
    )
}

#[test]
fn pings_are_answered_and_a_bad_frame_leaves_the_connection_usable() {
    let (url, path, h) = server(|mut ws| {
        ws.send(Message::Ping(b"p-1".to_vec().into())).unwrap();
        // The client's pong carries the ping's payload.
        match ws.read().unwrap() {
            Message::Pong(p) => assert_eq!(p.as_ref(), b"p-1"),
            other => panic!("expected a pong, got {other:?}"),
        }
        ws.send(Message::text("garbage")).unwrap();
        ws.send(Message::text(r#"{"e":"trade","E":1,"s":"X"}"#))
            .unwrap();
        ws.send(Message::text(ticker("SOLUSDC", "150.25", 7)))
            .unwrap();
        ws.send(Message::text(r#"{"e":"serverShutdown","E":8}"#))
            .unwrap();
        // Wait for the client to go.
        let _ = ws.read();
    });
    let mut s = PriceStream::connect(
        &format!("{url}/stream/"),
        &["SOLUSDC".to_string(), "btcUSDC".to_string()],
    )
    .unwrap();
    assert_eq!(
        path.recv().unwrap(),
        "/stream?streams=solusdc@miniTicker/btcusdc@miniTicker"
    );
    assert!(matches!(s.next_price(WAIT), Err(Error::Decode(_))));
    assert!(matches!(s.next_price(WAIT), Err(Error::Decode(_))));
    assert_eq!(
        s.next_price(WAIT).unwrap(),
        Some(PriceTick {
            symbol: "SOLUSDC".into(),
            price: dec!(150.25),
            event_time_ms: 7
        })
    );
    match s.next_price(WAIT) {
        Err(Error::Transport(m)) => assert!(m.contains("serverShutdown"), "{m}"),
        other => panic!("expected Transport, got {other:?}"),
    }
    // The stream stays failed: the caller reconnects.
    assert!(matches!(s.next_price(WAIT), Err(Error::Transport(_))));
    s.close();
    h.join().unwrap();
}

#[test]
fn a_close_is_a_transport_error_and_a_quiet_server_a_timeout() {
    let (url, _path, h) = server(|mut ws| {
        ws.send(Message::text(ticker("BNBBTC", "0.0025", 1)))
            .unwrap();
        thread::sleep(Duration::from_millis(300));
        ws.close(None).unwrap();
        while ws.read().is_ok() {}
    });
    let mut s = PriceStream::connect(&url, &["BNBBTC".to_string()]).unwrap();
    assert_eq!(s.next_price(WAIT).unwrap().unwrap().price, dec!(0.0025));
    // Nothing within 50 ms: Ok(None), not an error.
    assert_eq!(s.next_price(Duration::from_millis(50)).unwrap(), None);
    match s.next_price(WAIT) {
        Err(Error::Transport(m)) => assert!(m.contains("closed"), "{m}"),
        other => panic!("expected Transport, got {other:?}"),
    }
    h.join().unwrap();
}

#[test]
fn refusals_before_connecting() {
    for (url, symbols) in [
        ("ws://127.0.0.1:1", vec![]),
        ("ws://127.0.0.1:1", vec!["SOL USDC".to_string()]),
        ("http://127.0.0.1:1", vec!["SOLUSDC".to_string()]),
        ("127.0.0.1:1", vec!["SOLUSDC".to_string()]),
    ] {
        match PriceStream::connect(url, &symbols) {
            Err(Error::InvalidRequest(_)) => {}
            other => panic!("{url} {symbols:?}: {other:?}"),
        }
    }
    // Nobody listening: a transport error.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    assert!(matches!(
        PriceStream::connect(&format!("ws://127.0.0.1:{port}"), &["SOLUSDC".to_string()]),
        Err(Error::Transport(_))
    ));
}

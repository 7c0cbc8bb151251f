//! The client's HTTP pipeline against a scripted loopback server: status and
//! error-body mapping, retries of reads only, UnknownOutcome for writes, the
//! governor's 429/418 blocks, -1021 resync, signing on the wire, and the
//! secret never showing up in errors or logs.

// Test code: a failed unwrap/expect/panic is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use binance_rest::auth::Secret;
use binance_rest::{
    BinanceClient, ClientConfig, Clock, Error, Exchange, ManualClock, NewOrder, OrderRef,
};
use common::{Mock, Reply, Req};
use grid_core::Side;
use rust_decimal_macros::dec;

const KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
const T0: i64 = 1_767_225_600_000;

type Check = fn(&Error) -> bool;

const ORDER_JSON: &str = r#"{"symbol":"BTCUSDT","orderId":28,"orderListId":-1,"clientOrderId":"grid-1","transactTime":1507725176595,"price":"59000.00000000","origQty":"0.00100000","executedQty":"0.00000000","origQuoteOrderQty":"0.000000","cummulativeQuoteQty":"0.00000000","status":"NEW","timeInForce":"GTC","type":"LIMIT","side":"BUY","workingTime":1507725176595,"selfTradePreventionMode":"NONE"}"#;

fn time_reply() -> Reply {
    Reply::json(200, format!(r#"{{"serverTime":{}}}"#, T0 + 1234))
        .header("x-mbx-used-weight-1m", "1")
}

fn client(mock: &Mock) -> (Arc<ManualClock>, BinanceClient) {
    common::capture_logs();
    let clock = Arc::new(ManualClock::new(T0));
    let mut cfg = ClientConfig::new(&mock.base_url).with_credentials(KEY, SECRET);
    cfg.timeout = Duration::from_millis(800);
    cfg.connect_timeout = Duration::from_millis(500);
    (clock.clone(), BinanceClient::with_clock(cfg, clock))
}

fn order() -> NewOrder {
    NewOrder::limit("BTCUSDT", Side::Buy, dec!(0.001), dec!(59000)).client_order_id("grid-1")
}

fn assert_no_secret(e: &Error) {
    let s = format!("{e} {e:?}");
    assert!(!s.contains(SECRET), "{s}");
}

#[test]
fn signed_request_on_the_wire() {
    let mock = Mock::start(|r: &Req| match r.path.as_str() {
        "/api/v3/time" => time_reply(),
        _ => Reply::json(200, ORDER_JSON).header("X-MBX-USED-WEIGHT-1M", "7"),
    });
    let (_clock, c) = client(&mock);
    let o = c.place_order(&order()).unwrap();
    assert_eq!(o.order_id, 28);
    assert_eq!(c.used_weight(), Some(7));
    assert_eq!(c.time_offset_ms(), 1234);

    let reqs = mock.requests();
    assert_eq!(
        reqs[0].path, "/api/v3/time",
        "the first signed call measures the time"
    );
    let r = reqs.iter().find(|r| r.path == "/api/v3/order").unwrap();
    assert_eq!(r.method, "POST");
    assert_eq!(r.header("X-MBX-APIKEY"), Some(KEY));
    assert_eq!(r.param("timestamp"), Some((T0 + 1234).to_string().as_str()));
    assert_eq!(r.param("recvWindow"), Some("5000"));
    assert_eq!(r.param("newOrderRespType"), Some("RESULT"));
    assert_eq!(r.param("newClientOrderId"), Some("grid-1"));
    assert_eq!(r.param("quantity"), Some("0.001"));
    // The signature covers exactly the bytes before `&signature=`.
    let (payload, sig) = r.query.rsplit_once("&signature=").unwrap();
    assert_eq!(Secret::new(SECRET).sign(payload).unwrap(), sig);
    assert!(!r.query.contains(SECRET));
}

#[test]
fn status_and_code_mapping() {
    let cases: Vec<(u16, &str, Check)> = vec![
        (400, r#"{"code":-1121,"msg":"Invalid symbol."}"#, |e| {
            e.code() == Some(-1121)
        }),
        (
            400,
            r#"{"code":-2013,"msg":"Order does not exist."}"#,
            Error::is_unknown_order,
        ),
        (
            401,
            r#"{"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}"#,
            Error::is_auth_error,
        ),
        (
            400,
            r#"{"code":-1022,"msg":"Signature for this request is not valid."}"#,
            Error::is_auth_error,
        ),
        (403, "<html>Forbidden</html>", |e| {
            matches!(e, Error::Http { status: 403, .. }) && e.is_retryable()
        }),
        (404, "", |e| {
            matches!(e, Error::Http { status: 404, .. }) && !e.is_retryable()
        }),
        (200, "not json", |e| matches!(e, Error::Decode(_))),
    ];
    for (status, body, check) in cases {
        let body = body.to_string();
        let mock = Mock::start(move |r: &Req| match r.path.as_str() {
            "/api/v3/time" => time_reply(),
            _ => Reply::json(status, body.clone()),
        });
        let (_clock, c) = client(&mock);
        let e = c
            .get_order("BTCUSDT", OrderRef::Client("grid-1".into()))
            .unwrap_err();
        assert!(check(&e), "HTTP {status}: got {e:?}");
        assert_no_secret(&e);
        assert_eq!(
            mock.count("/api/v3/order"),
            1,
            "definite answers are not retried"
        );
    }
}

#[test]
fn order_rejections_map_to_helpers() {
    let cases: Vec<(&str, Check)> = vec![
        (
            "Account has insufficient balance for requested action.",
            Error::is_insufficient_balance,
        ),
        ("Duplicate order sent.", Error::is_duplicate_order),
        (
            "Order would immediately match and take.",
            Error::is_would_trigger_immediately,
        ),
        (
            "Stop price would trigger immediately.",
            Error::is_would_trigger_immediately,
        ),
    ];
    for (msg, check) in cases {
        let mock = Mock::start(move |r: &Req| match r.path.as_str() {
            "/api/v3/time" => time_reply(),
            _ => Reply::error(400, -2010, msg),
        });
        let (_clock, c) = client(&mock);
        let e = c.place_order(&order()).unwrap_err();
        assert!(check(&e), "{msg}: {e:?}");
        assert!(!e.is_unknown_outcome());
    }
    let mock = Mock::start(|r: &Req| match r.path.as_str() {
        "/api/v3/time" => time_reply(),
        _ => Reply::error(400, -1013, "Filter failure: LOT_SIZE"),
    });
    let (_clock, c) = client(&mock);
    let e = c.place_order(&order()).unwrap_err();
    assert!(e.is_filter_failure());
    assert_eq!(e.filter_name(), Some("LOT_SIZE"));
}

#[test]
fn reads_are_retried_on_5xx_with_backoff() {
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let mock = Mock::start(move |r: &Req| match r.path.as_str() {
        "/api/v3/time" => time_reply(),
        _ => {
            if n2.fetch_add(1, Ordering::SeqCst) < 2 {
                Reply::json(503, "")
            } else {
                Reply::json(200, format!("[{ORDER_JSON}]"))
            }
        }
    });
    let (clock, c) = client(&mock);
    let orders = c.open_orders(Some("BTCUSDT")).unwrap();
    assert_eq!(orders.len(), 1);
    assert_eq!(mock.count("/api/v3/openOrders"), 3);
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 2, "{sleeps:?}");
    assert!(sleeps[1] >= sleeps[0] / 2);
}

#[test]
fn reads_give_up_after_max_retries() {
    let mock = Mock::start(|r: &Req| match r.path.as_str() {
        "/api/v3/time" => time_reply(),
        _ => Reply::error(
            500,
            -1001,
            "Internal error; unable to process your request. Please try again.",
        ),
    });
    let (_clock, c) = client(&mock);
    let e = c.account().unwrap_err();
    assert_eq!(e.code(), Some(-1001));
    assert!(e.is_retryable());
    assert_eq!(mock.count("/api/v3/account"), 3, "1 + max_retries(2)");
}

#[test]
fn writes_are_never_retried_and_5xx_is_unknown_outcome() {
    for reply in [
        || Reply::json(502, "<html>Bad gateway</html>"),
        || {
            Reply::error(500, -1007, "Timeout waiting for response from backend server. Send status unknown; execution status unknown.")
        },
        || {
            Reply::error(400, -1006, "An unexpected response was received from the message bus. Execution status unknown.")
        },
        || {
            Reply::error(400, -1007, "Timeout waiting for response from backend server. Send status unknown; execution status unknown.")
        },
        || Reply::json(200, "{ truncated"),
        || Reply::Drop,
    ] {
        let mock = Mock::start(move |r: &Req| match r.path.as_str() {
            "/api/v3/time" => time_reply(),
            _ => reply(),
        });
        let (clock, c) = client(&mock);
        let e = c.place_order(&order()).unwrap_err();
        match &e {
            Error::UnknownOutcome {
                client_order_id, ..
            } => assert_eq!(client_order_id.as_deref(), Some("grid-1")),
            other => panic!("expected UnknownOutcome, got {other:?}"),
        }
        assert!(!e.is_retryable());
        assert_eq!(mock.count("/api/v3/order"), 1, "a POST is sent once");
        assert!(clock.sleeps().is_empty());

        let e = c
            .cancel_order("BTCUSDT", OrderRef::Client("grid-1".into()))
            .unwrap_err();
        assert!(e.is_unknown_outcome(), "{e:?}");
        assert_eq!(
            mock.requests()
                .iter()
                .filter(|r| r.method == "DELETE")
                .count(),
            1
        );
    }
}

#[test]
fn a_write_that_times_out_after_sending_is_unknown_outcome() {
    let mock = Mock::start(|r: &Req| match r.path.as_str() {
        "/api/v3/time" => time_reply(),
        _ => Reply::Delay(
            Duration::from_millis(1500),
            Box::new(Reply::json(200, ORDER_JSON)),
        ),
    });
    let (_clock, c) = client(&mock);
    let e = c.place_order(&order()).unwrap_err();
    assert!(e.is_unknown_outcome(), "{e:?}");
    assert_eq!(mock.count("/api/v3/order"), 1);
    // A read that times out is a plain Timeout, after retries.
    let e = c.get_order("BTCUSDT", OrderRef::Id(28)).unwrap_err();
    assert_eq!(e, Error::Timeout);
}

#[test]
fn a_write_that_cannot_connect_is_not_unknown() {
    // Bind and drop: nothing listens on this port any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    common::capture_logs();
    let clock = Arc::new(ManualClock::new(T0));
    let cfg = ClientConfig::new(format!("http://127.0.0.1:{port}")).with_credentials(KEY, SECRET);
    let c = BinanceClient::with_clock(cfg, clock);
    // The time sync (a read) fails first; nothing is sent.
    let e = c.place_order(&order()).unwrap_err();
    assert!(matches!(e, Error::Transport(_)), "{e:?}");
    assert_no_secret(&e);
}

#[test]
fn a_429_blocks_every_call_without_sending_until_retry_after() {
    let mock = Mock::start(|r: &Req| {
        match r.path.as_str() {
        "/api/v3/time" => time_reply(),
        "/api/v3/ping" => Reply::json(200, "{}"),
        _ => Reply::error(
            429,
            -1003,
            "Too much request weight used; current limit is 6000 request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.",
        )
        .header("Retry-After", "30"),
    }
    });
    let (clock, c) = client(&mock);
    let e = c.account().unwrap_err();
    assert_eq!(
        e,
        Error::RateLimited {
            retry_after: Duration::from_secs(30)
        }
    );
    assert_eq!(mock.count("/api/v3/account"), 1, "a 429 is not retried");
    let sent = mock.requests().len();

    clock.advance(Duration::from_secs(10));
    for _ in 0..5 {
        assert!(
            matches!(c.ping(), Err(Error::RateLimited { retry_after }) if retry_after == Duration::from_secs(20))
        );
        assert!(matches!(
            c.place_order(&order()),
            Err(Error::RateLimited { .. })
        ));
    }
    assert_eq!(mock.requests().len(), sent, "nothing is sent while blocked");

    clock.advance(Duration::from_secs(20));
    c.ping().unwrap();
    assert_eq!(mock.requests().len(), sent + 1);
}

#[test]
fn a_418_bans_until_the_time_in_the_message() {
    let until = T0 + 1234 + 600_000; // server time
    let mock = Mock::start(move |r: &Req| {
        match r.path.as_str() {
        "/api/v3/time" => time_reply(),
        "/api/v3/ping" => Reply::json(200, "{}"),
        _ => Reply::error(
            418,
            -1003,
            &format!("Way too much request weight used; IP banned until {until}. Please use WebSocket Streams for live updates to avoid bans."),
        )
        .header("Retry-After", "120"),
    }
    });
    let (clock, c) = client(&mock);
    let e = c.account().unwrap_err();
    match e {
        Error::Banned {
            until_ms,
            retry_after,
        } => {
            assert_eq!(until_ms, until - 1234, "converted to local time");
            assert_eq!(retry_after, Duration::from_secs(600));
        }
        other => panic!("{other:?}"),
    }
    let sent = mock.requests().len();
    clock.advance(Duration::from_secs(599));
    assert!(matches!(c.ping(), Err(Error::Banned { .. })));
    assert_eq!(mock.requests().len(), sent);
    clock.advance(Duration::from_secs(1));
    c.ping().unwrap();
}

#[test]
fn used_weight_header_drives_the_governor() {
    let mock = Mock::start(|r: &Req| match r.path.as_str() {
        "/api/v3/exchangeInfo" => Reply::json(200, include_str!("../test_data/exchange_info.json"))
            .header("x-mbx-used-weight-1m", "5390"),
        _ => Reply::json(200, "{}").header("X-Mbx-Used-Weight-1m", "5400"),
    });
    let (clock, c) = client(&mock);
    c.exchange_info(binance_rest::SymbolFilter::All).unwrap();
    assert_eq!(c.governor().limit(), 6000);
    assert_eq!(c.used_weight(), Some(5390));
    c.ping().unwrap(); // 5391 of the 5400 reads may use: fits
    assert!(clock.sleeps().is_empty());
    assert_eq!(c.used_weight(), Some(5400));
    c.ping().unwrap(); // 5401 would not fit: waits for the next minute, then sends
    assert_eq!(clock.sleeps().len(), 1, "slowed down before the limit");
    assert_eq!(mock.count("/api/v3/ping"), 2);
}

#[test]
fn timestamp_rejection_resyncs_then_retries_reads_only() {
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let mock = Mock::start(move |r: &Req| match r.path.as_str() {
        "/api/v3/time" => time_reply(),
        "/api/v3/account" => {
            if n2.fetch_add(1, Ordering::SeqCst) == 0 {
                Reply::error(
                    400,
                    -1021,
                    "Timestamp for this request is outside of the recvWindow.",
                )
            } else {
                Reply::json(200, include_str!("../test_data/account.json"))
            }
        }
        _ => Reply::error(
            400,
            -1021,
            "Timestamp for this request was 1000ms ahead of the server's time.",
        ),
    });
    let (_clock, c) = client(&mock);
    let a = c.account().unwrap();
    assert_eq!(a.balances.len(), 2);
    assert_eq!(
        mock.count("/api/v3/time"),
        2,
        "measured at start, re-measured on -1021"
    );
    assert_eq!(mock.count("/api/v3/account"), 2);

    let e = c.place_order(&order()).unwrap_err();
    assert!(e.is_timestamp_outside_window(), "{e:?}");
    assert!(!e.is_unknown_outcome());
    assert_eq!(mock.count("/api/v3/order"), 1, "a POST is never retried");
    assert_eq!(mock.count("/api/v3/time"), 3);
}

#[test]
fn cancel_all_with_nothing_open_is_empty() {
    let mock = Mock::start(|r: &Req| match r.path.as_str() {
        "/api/v3/time" => time_reply(),
        _ => Reply::error(400, -2011, "Unknown order sent."),
    });
    let (_clock, c) = client(&mock);
    assert!(c.cancel_all("BTCUSDT").unwrap().is_empty());
    let e = c.cancel_order("BTCUSDT", OrderRef::Id(5)).unwrap_err();
    assert!(e.is_unknown_order());
}

#[test]
fn ticker_prices_is_one_request() {
    let mock = Mock::start(|_r: &Req| {
        Reply::json(
            200,
            r#"[{"symbol":"BTCUSDC","price":"60000.10"},{"symbol":"SOLUSDC","price":"142.5"}]"#,
        )
    });
    let (_clock, c) = client(&mock);
    let m = c
        .ticker_prices(&["BTCUSDC".to_string(), "SOLUSDC".to_string()])
        .unwrap();
    assert_eq!(m["SOLUSDC"], dec!(142.5));
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].query, "symbols=%5B%22BTCUSDC%22%2C%22SOLUSDC%22%5D");
    assert!(c.ticker_prices(&[]).unwrap().is_empty());
    assert_eq!(mock.requests().len(), 1);
}

#[test]
fn invalid_orders_are_never_sent() {
    let mock = Mock::start(|_r: &Req| Reply::json(200, "{}"));
    let (_clock, c) = client(&mock);
    let bad = NewOrder::limit("BTCUSDT", Side::Buy, dec!(-1), dec!(1));
    assert!(matches!(c.place_order(&bad), Err(Error::InvalidRequest(_))));
    assert!(matches!(
        c.my_trades("BTCUSDT", None, 0),
        Err(Error::InvalidRequest(_))
    ));
    assert!(mock.requests().is_empty());
    let unsigned = BinanceClient::new(ClientConfig::new(&mock.base_url));
    assert_eq!(unsigned.account(), Err(Error::MissingCredentials));
    assert!(mock.requests().is_empty());
}

#[test]
fn the_secret_never_appears_in_debug_errors_or_logs() {
    let mock = Mock::start(|r: &Req| match r.path.as_str() {
        "/api/v3/time" => time_reply(),
        "/api/v3/order" if r.method == "POST" => Reply::Drop,
        _ => Reply::error(400, -1022, "Signature for this request is not valid."),
    });
    let (_clock, c) = client(&mock);
    let mut texts = vec![format!("{c:?}"), format!("{:?}", c.config())];
    texts.push(format!("{:?}", c.place_order(&order())));
    texts.push(format!("{:?}", c.account()));
    texts.push(format!("{:?}", c.cancel_all("BTCUSDT")));
    for r in [
        c.place_order(&order()),
        c.get_order("BTCUSDT", OrderRef::Id(1)),
    ] {
        if let Err(e) = r {
            texts.push(e.to_string());
        }
    }
    texts.extend(common::logs());
    assert!(common::logs().len() > 3, "logging was captured");
    for t in texts {
        assert!(!t.contains(SECRET), "secret leaked: {t}");
        assert!(!t.contains(&SECRET[..16]), "secret prefix leaked: {t}");
    }
}

#[test]
fn the_timestamp_is_taken_after_waiting_for_the_weight_budget() {
    let mock = Mock::start(|r: &Req| match r.path.as_str() {
        "/api/v3/time" => Reply::json(200, format!(r#"{{"serverTime":{}}}"#, T0 + 1234))
            .header("x-mbx-used-weight-1m", "5999"),
        _ => Reply::json(200, include_str!("../test_data/account.json")),
    });
    let (clock, c) = client(&mock);
    c.sync_time().unwrap();
    c.account().unwrap(); // 5999 + 20 > 5400: waits for the next minute first
    assert_eq!(clock.sleeps().len(), 1);
    let r = mock
        .requests()
        .into_iter()
        .find(|r| r.path == "/api/v3/account")
        .unwrap();
    let ts: i64 = r.param("timestamp").unwrap().parse().unwrap();
    assert_eq!(ts, clock.now_ms() + c.time_offset_ms());
}

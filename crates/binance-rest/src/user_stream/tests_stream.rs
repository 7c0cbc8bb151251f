use super::*;
use crate::auth::Ed25519Key;

const API_KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
/// The illustrative Ed25519 key of Binance's fix-api.md (binance-ws.md §3).
const DOC_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIIJEYWtGBrhACmb9Dvy+qa8WEf0lQOl1s4CLIAB9m89u\n-----END PRIVATE KEY-----\n";

fn params(text: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(v["method"], SUBSCRIBE_METHOD);
    v["params"].clone()
}

#[test]
fn hmac_subscribe_request_signs_apikey_and_timestamp() {
    // Expected: printf 'apiKey=…&timestamp=1645423376532' | openssl dgst -sha256 -hmac SECRET
    let c = Credentials::new(API_KEY, SECRET);
    let text = subscribe_request(&c, "req-1", 1_645_423_376_532, None).unwrap();
    let p = params(&text);
    assert_eq!(p["apiKey"], API_KEY);
    assert_eq!(p["timestamp"], 1_645_423_376_532i64);
    assert!(p.get("recvWindow").is_none());
    assert_eq!(
        p["signature"],
        "74448608dc93596b10b1c8c9cf871d140884b9e1463ab9371dcc47de69b39531"
    );
    assert!(!text.contains(SECRET));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["id"], "req-1");

    // recvWindow is signed in its sorted place.
    let p = params(&subscribe_request(&c, "req-2", 1_645_423_376_532, Some(5000)).unwrap());
    assert_eq!(p["recvWindow"], 5000);
    assert_eq!(
        p["signature"],
        "4e969a560f7877137f387f0ee2ba91209b365e088880f469d65dd7673e132988"
    );
}

#[test]
fn ed25519_subscribe_request_matches_the_derived_vector() {
    // binance-ws.md §3 "Derived vectors": the userDataStream.subscribe.signature
    // payload of web-socket-api.md's example, signed with the fix-api.md key.
    let key = Ed25519Key::from_pkcs8_pem(DOC_PEM).unwrap();
    let c = Credentials::ed25519(
        "mjcKCrJzTU6TChLsnPmgnQJJMR616J4yWvdZWDUeXkk6vL6dLyS7rcVOQlADlVjA",
        key,
    );
    let p = params(&subscribe_request(&c, "x", 1_747_385_641_636, None).unwrap());
    assert_eq!(
        p["signature"],
        "YHniJjbW6kh+IL/34zRP84SoGmE+Wm1XZD6JK2oHk9XsjiEP6zcjvjNMtHcIVcleifg7QaJr18cH+XlWfb2SDA=="
    );
}

#[test]
fn ws_url_mapping() {
    let cases: &[(&str, Option<&str>)] = &[
        ("https://api.binance.com", Some(PRODUCTION_WS_API_URL)),
        ("https://api.binance.com/", Some(PRODUCTION_WS_API_URL)),
        ("https://api3.binance.com", Some(PRODUCTION_WS_API_URL)),
        ("https://api-gcp.binance.com", Some(PRODUCTION_WS_API_URL)),
        ("https://testnet.binance.vision", Some(TESTNET_WS_API_URL)),
        (
            "https://testnet.binance.vision/api",
            Some(TESTNET_WS_API_URL),
        ),
        (
            "https://api1.testnet.binance.vision/api",
            Some(TESTNET_WS_API_URL),
        ),
        ("https://demo-api.binance.com/api", Some(DEMO_WS_API_URL)),
        (
            "http://127.0.0.1:8765",
            Some("ws://127.0.0.1:8765/ws-api/v3"),
        ),
        (
            "http://localhost:9000/",
            Some("ws://localhost:9000/ws-api/v3"),
        ),
        ("http://[::1]:9000", Some("ws://[::1]:9000/ws-api/v3")),
        ("https://my-proxy.example.com", None),
        ("https://api.binance.com/sapi", None),
        ("ftp://api.binance.com", None),
        ("api.binance.com", None),
        ("", None),
    ];
    for (rest, want) in cases {
        let got = ws_api_url(rest);
        match want {
            Some(w) => assert_eq!(got.as_deref(), Ok(*w), "{rest}"),
            None => assert!(
                matches!(got, Err(Error::InvalidRequest(_))),
                "{rest}: {got:?}"
            ),
        }
    }
    assert_eq!(
        ws_api_url(crate::PRODUCTION_URL).unwrap(),
        PRODUCTION_WS_API_URL
    );
    assert_eq!(ws_api_url(crate::TESTNET_URL).unwrap(), TESTNET_WS_API_URL);
}

#[test]
fn refusals_say_what_to_do_and_never_quote_the_key() {
    let err = |code: i64, msg: &str| ResponseError {
        code,
        msg: msg.into(),
        data: None,
    };
    let e = refusal(
        400,
        &err(-1022, "Signature for this request is not valid."),
        API_KEY,
        0,
    );
    assert_eq!(e.code(), Some(-1022));
    assert!(e.is_auth_error());
    assert!(e.to_string().contains("secret or private key"), "{e}");
    let e = refusal(
        401,
        &err(
            -2015,
            &format!("Invalid API-key {API_KEY}, IP, or permissions for action."),
        ),
        API_KEY,
        0,
    );
    assert!(e.is_auth_error());
    assert!(!e.to_string().contains(API_KEY), "{e}");
    assert!(e.to_string().contains("IP whitelist"), "{e}");
    let e = refusal(
        400,
        &err(
            -1021,
            "Timestamp for this request is outside of the recvWindow.",
        ),
        API_KEY,
        0,
    );
    assert!(e.is_timestamp_outside_window());
    assert!(e.to_string().contains("clock"), "{e}");
    // 429 / 418 carry the wait from error.data.retryAfter.
    let limited = ResponseError {
        code: -1003,
        msg: "Too many requests".into(),
        data: Some(serde_json::json!({"serverTime": 1000, "retryAfter": 31_000})),
    };
    assert_eq!(
        refusal(429, &limited, API_KEY, 1_000),
        Error::RateLimited {
            retry_after: Duration::from_secs(30)
        }
    );
    assert_eq!(
        refusal(418, &limited, API_KEY, 1_000),
        Error::Banned {
            until_ms: 31_000,
            retry_after: Duration::from_secs(30)
        }
    );
}

#[test]
fn stream_errors_never_hold_the_secret() {
    // Even if an exchange message quoted the key, it is masked; the secret is
    // never in any input of these errors.
    let e = refusal(
        400,
        &ResponseError {
            code: -1022,
            msg: format!("bad {API_KEY}"),
            data: None,
        },
        API_KEY,
        0,
    );
    let ed = Credentials::ed25519(API_KEY, Ed25519Key::from_pkcs8_pem(DOC_PEM).unwrap());
    let text = format!("{e} {e:?} {ed:?} {:?}", Error::StreamDown("x".into()));
    for needle in [SECRET, API_KEY, "MC4CAQAw", "IIJEYWtG"] {
        assert!(!text.contains(needle), "{needle} in {text}");
    }
}

#[test]
fn options_and_stream_debug_hold_no_secret() {
    let c = Credentials::new(API_KEY, SECRET);
    let dbg = format!("{:?} {c:?}", UserStreamOptions::default());
    assert!(!dbg.contains(SECRET) && !dbg.contains(API_KEY), "{dbg}");
}

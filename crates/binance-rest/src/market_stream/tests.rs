use super::*;
use rust_decimal_macros::dec;

#[test]
fn market_stream_url_mapping() {
    let cases: &[(&str, Option<&str>)] = &[
        (
            "https://api.binance.com",
            Some(PRODUCTION_MARKET_STREAM_URL),
        ),
        (
            "https://api.binance.com/",
            Some(PRODUCTION_MARKET_STREAM_URL),
        ),
        (
            "https://api.binance.com/api",
            Some(PRODUCTION_MARKET_STREAM_URL),
        ),
        (
            "https://API4.binance.com:443",
            Some(PRODUCTION_MARKET_STREAM_URL),
        ),
        (
            "https://api-gcp.binance.com",
            Some(PRODUCTION_MARKET_STREAM_URL),
        ),
        (
            "https://testnet.binance.vision",
            Some(TESTNET_MARKET_STREAM_URL),
        ),
        (
            "https://testnet.binance.vision/api",
            Some(TESTNET_MARKET_STREAM_URL),
        ),
        (
            "https://api1.testnet.binance.vision",
            Some(TESTNET_MARKET_STREAM_URL),
        ),
        (
            "https://demo-api.binance.com/api",
            Some(DEMO_MARKET_STREAM_URL),
        ),
        (
            "https://data-api.binance.vision",
            Some(DATA_MARKET_STREAM_URL),
        ),
        ("http://127.0.0.1:8765", Some("ws://127.0.0.1:8765")),
        ("http://localhost:9000/", Some("ws://localhost:9000")),
        ("http://[::1]:9000", Some("ws://[::1]:9000")),
        ("https://my-proxy.example.com", None),
        ("https://api.binance.com/sapi", None),
        ("ftp://api.binance.com", None),
        ("api.binance.com", None),
        ("", None),
    ];
    for (rest, want) in cases {
        let got = market_stream_url(rest);
        match want {
            Some(w) => assert_eq!(got.as_deref(), Ok(*w), "{rest}"),
            None => assert!(
                matches!(&got, Err(Error::InvalidRequest(m)) if m.contains("explicitly")),
                "{rest}: {got:?}"
            ),
        }
    }
    assert_eq!(
        market_stream_url(crate::PRODUCTION_URL).as_deref(),
        Ok("wss://stream.binance.com:9443")
    );
    assert_eq!(
        market_stream_url(crate::TESTNET_URL).as_deref(),
        Ok("wss://stream.testnet.binance.vision")
    );
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_string()).collect()
}

#[test]
fn stream_paths_are_lowercase_combined_and_checked() {
    assert_eq!(
        stream_path(&strings(&["BNBBTC", "solusdc", "BnbBtc"])).as_deref(),
        Ok("/stream?streams=bnbbtc@miniTicker/solusdc@miniTicker")
    );
    for bad in [
        vec![],
        vec![""],
        vec!["SOL USDC"],
        vec!["SOLUSDC@trade"],
        vec!["ABCDEFGHIJKLMNOPQRSTU"],
        vec!["BTC/USDC"],
    ] {
        assert!(
            matches!(stream_path(&strings(&bad)), Err(Error::InvalidRequest(_))),
            "{bad:?}"
        );
    }
    let many: Vec<String> = (0..=MAX_STREAMS).map(|i| format!("S{i}")).collect();
    assert!(matches!(stream_path(&many), Err(Error::InvalidRequest(m)) if m.contains("1024")));
    assert!(stream_path(&many[..MAX_STREAMS]).is_ok());
}

#[test]
fn frames_raw_and_combined() {
    // The payload of binance-spot-api-docs/web-socket-streams.md.
    let raw = r#"{"e":"24hrMiniTicker","E":123456789,"s":"BNBBTC","c":"0.0025","o":"0.0010","h":"0.0025","l":"0.0010","v":"10000","q":"18"}"#;
    let tick = PriceTick {
        symbol: "BNBBTC".into(),
        price: dec!(0.0025),
        event_time_ms: 123_456_789,
    };
    assert_eq!(parse_market_frame(raw), Ok(MarketFrame::Tick(tick.clone())));
    let combined = format!(r#"{{"stream":"bnbbtc@miniTicker","data":{raw}}}"#);
    assert_eq!(parse_market_frame(&combined), Ok(MarketFrame::Tick(tick)));
    assert_eq!(
        parse_market_frame(r#"{"e":"serverShutdown","E":1}"#),
        Ok(MarketFrame::ServerShutdown)
    );
    assert_eq!(
        parse_market_frame(r#"{"stream":"x","data":{"e":"serverShutdown","E":1}}"#),
        Ok(MarketFrame::ServerShutdown)
    );
}

#[test]
fn undecodable_frames_are_decode_errors() {
    let t = |fields: &str| format!(r#"{{"e":"24hrMiniTicker",{fields}}}"#);
    for bad in [
        "not json".to_string(),
        "{}".to_string(),
        r#"{"result":null,"id":1}"#.to_string(),
        r#"{"e":"trade","E":1,"s":"BNBBTC","p":"1"}"#.to_string(),
        t(r#""E":1,"c":"1""#),
        t(r#""E":1,"s":"","c":"1""#),
        t(r#""E":1,"s":"BNBBTC""#),
        t(r#""E":1,"s":"BNBBTC","c":1.5"#),
        t(r#""E":1,"s":"BNBBTC","c":"abc""#),
        t(r#""E":1,"s":"BNBBTC","c":"0""#),
        t(r#""E":1,"s":"BNBBTC","c":"-1""#),
        t(r#""s":"BNBBTC","c":"1""#),
        t(r#""E":"1","s":"BNBBTC","c":"1""#),
    ] {
        assert!(
            matches!(parse_market_frame(&bad), Err(Error::Decode(_))),
            "{bad}: {:?}",
            parse_market_frame(&bad)
        );
    }
}

use super::*;

#[test]
fn stream_names() {
    let ok = parse_streams(["bnbbtc@miniTicker", "sol-usdc.x_1@miniTicker"]).unwrap_or_default();
    assert_eq!(ok.len(), 2);
    assert_eq!(ok[0].symbol, "BNBBTC");
    assert!(ok[0].lowercase);
    assert_eq!(ok[1].symbol, "SOL-USDC.X_1");
    let upper = parse_streams(["BNBBTC@miniTicker"]).unwrap_or_default();
    assert_eq!(upper.len(), 1);
    assert!(!upper[0].lowercase);
    let dup = parse_streams(["a@miniTicker", "a@miniTicker"]).unwrap_or_default();
    assert_eq!(dup.len(), 1);
    for bad in [
        "bnbbtc",
        "@miniTicker",
        "bnbbtc@trade",
        "bnbbtc@miniticker",
        "bnb btc@miniTicker",
        "abcdefghijklmnopqrstu@miniTicker",
        "!miniTicker@arr",
    ] {
        assert!(parse_streams([bad]).is_err(), "{bad}");
    }
    assert!(parse_streams([]).is_err());
    let many: Vec<String> = (0..=MAX_STREAMS)
        .map(|i| format!("s{i}@miniTicker"))
        .collect();
    assert!(parse_streams(many.iter().map(String::as_str)).is_err());
    assert!(parse_streams(many[..MAX_STREAMS].iter().map(String::as_str)).is_ok());
}

#[test]
fn combined_paths() {
    assert_eq!(
        combined_path(&["BNBBTC", "SOLUSDC"]),
        "/stream?streams=bnbbtc@miniTicker/solusdc@miniTicker"
    );
}

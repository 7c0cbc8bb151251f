//! Unit tests of `auth.rs` (kept beside it, out of the production file).

use super::*;

const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

#[test]
fn tv1_official_vector_1_ascii() {
    let s = Secret::new(SECRET);
    let payload = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
    assert_eq!(
        s.sign(payload).unwrap(),
        "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
    );
    // The same payload built through the encoder.
    let q = build_query(&[
        ("symbol", "LTCBTC"),
        ("side", "BUY"),
        ("type", "LIMIT"),
        ("timeInForce", "GTC"),
        ("quantity", "1"),
        ("price", "0.1"),
        ("recvWindow", "5000"),
        ("timestamp", "1499827319559"),
    ]);
    assert_eq!(q, payload);
}

#[test]
fn tv1_official_vector_2_non_ascii_is_encoded_before_signing() {
    let s = Secret::new(SECRET);
    let q = build_query(&[
        ("symbol", "１２３４５６"),
        ("side", "BUY"),
        ("type", "LIMIT"),
        ("timeInForce", "GTC"),
        ("quantity", "1"),
        ("price", "0.1"),
        ("recvWindow", "5000"),
        ("timestamp", "1499827319559"),
    ]);
    assert_eq!(
        q,
        "symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
    );
    assert_eq!(
        s.sign(&q).unwrap(),
        "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"
    );
}

#[test]
fn tv1_official_vector_3_query_plus_body_without_separator() {
    let s = Secret::new(SECRET);
    let sig = sign_request(
        &s,
        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC",
        "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559",
    )
    .unwrap();
    assert_eq!(
        sig,
        "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77"
    );
}

#[test]
fn derived_vectors() {
    let s = Secret::new(SECRET);
    let cases = [
        ("timestamp=1499827319559", "2222d49722f6af5da13f6da6bfc0d7de19ca2815ebc98bbc49e4942268472f3f"),
        ("symbol=BTCUSDT&timestamp=1499827319559", "d97112c82a46aae604c384663068433947147d01a3c8cfad4a53903682ec2eca"),
        (
            "symbol=BTCUSDT&origClientOrderId=grid-BTCUSDT-b-0001&recvWindow=5000&timestamp=1499827319559",
            "a4d40ee01d3e3aa9631f8958186ef9a53a14c2715612b97a6ed8fa4b6da25b2c",
        ),
        (
            "symbol=BTCUSDT&side=SELL&type=STOP_LOSS_LIMIT&timeInForce=GTC&quantity=0.00100000&price=59000.00&stopPrice=59100.00&newClientOrderId=grid-sl-1&timestamp=1499827319559",
            "3652fb572bb16b4d146229c3826a44aea3421c8e3145f21a3add7a87909cee1a",
        ),
        ("", "18f82ab1c4ba20d60cb86ebc4cab5b54ddb974cdf7832421345148e7a7f9466e"),
    ];
    for (payload, want) in cases {
        assert_eq!(s.sign(payload).unwrap(), want, "payload {payload:?}");
    }
}

#[test]
fn secret_is_redacted() {
    let c = Credentials::new(
        "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
        SECRET,
    );
    let dbg = format!("{c:?} {:?} {} {:#?}", c.secret(), c.secret(), c);
    assert!(!dbg.contains(SECRET), "{dbg}");
    assert!(!dbg.contains("NhqP"), "{dbg}");
    assert!(dbg.contains("***"));
    assert!(!dbg.contains("vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"));
}

#[test]
fn json_array_params_are_encoded() {
    assert_eq!(
        build_query(&[("symbols", r#"["BTCUSDT","BNBBTC"]"#)]),
        "symbols=%5B%22BTCUSDT%22%2C%22BNBBTC%22%5D"
    );
}

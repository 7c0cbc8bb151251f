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
    let secret = c.secret().map(|s| format!("{s:?} {s}")).unwrap_or_default();
    let dbg = format!("{c:?} {secret} {c:#?}");
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

// ------------------------------------------------------------------ Ed25519

/// The illustrative private key of Binance's FIX API docs (the FIX API docs, Logon
/// `RawData` example): the only published Ed25519 key with a published
/// signature to check against.
const DOC_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIIJEYWtGBrhACmb9Dvy+qa8WEf0lQOl1s4CLIAB9m89u\n-----END PRIVATE KEY-----\n";
/// Its public key, as `openssl pkey -in key.pem -pubout` prints it.
const DOC_PUB: &str =
    "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGUIKv9dSpWXBViXp2m6vAIb8QMFJYBgyFEQsFJlqgA0=\n-----END PUBLIC KEY-----\n";

fn doc_key() -> Ed25519Key {
    Ed25519Key::from_pkcs8_pem(DOC_PEM).unwrap()
}

#[test]
fn ed25519_official_fix_logon_vector() {
    // FIX API docs: RawData of Logon<A> = base64(Ed25519(key, "A" SOH "EXAMPLE"
    // SOH "SPOT" SOH "1" SOH "20240627-11:17:25.223")).
    let payload = "A\x01EXAMPLE\x01SPOT\x011\x0120240627-11:17:25.223";
    assert_eq!(
        doc_key().sign(payload.as_bytes()),
        "4MHXelVVcpkdwuLbl6n73HQUXUf1dse2PCgT1DYqW9w8AVZ1RACFGM+5UdlGPrQHrgtS3CvsRURC1oj73j8gCA=="
    );
    assert_eq!(doc_key().public_key_pem().unwrap(), DOC_PUB);
}

/// Binance publishes no checkable REST/WS Ed25519 vector (the REST examples
/// print RSA-sized strings; the WS ones use an unpublished key). These were
/// computed with the FIX doc key by OpenSSL 3.0.19, independently of this code:
/// `printf '%s' "$PAYLOAD" > p.bin; openssl pkeyutl -sign -inkey key.pem -rawin -in p.bin | base64 -w0`.
/// Ed25519 is deterministic (RFC 8032), so any correct signer gives the same.
#[test]
fn ed25519_rest_vectors_computed_with_openssl() {
    let c = Credentials::ed25519(
        "4yNzx3yWC5bS6YTwEkSRaC0nRmSQIIStAUOh1b6kqaBrTLIhjCpI5lJH8q8R8WNO",
        doc_key(),
    );
    assert_eq!(c.key_type(), KeyType::Ed25519);
    // The rest-api.md Ed25519 example's payload (query string, in sent order).
    let q = build_query(&[
        ("symbol", "BTCUSDT"),
        ("side", "SELL"),
        ("type", "LIMIT"),
        ("timeInForce", "GTC"),
        ("quantity", "1"),
        ("price", "0.2"),
        ("timestamp", "1668481559918"),
        ("recvWindow", "5000"),
    ]);
    assert_eq!(
        q,
        "symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=GTC&quantity=1&price=0.2&timestamp=1668481559918&recvWindow=5000"
    );
    let sig = c.sign(&q).unwrap();
    assert_eq!(
        sig,
        "inDT086KVIP8vgUfw5sV3VTkescWztiAGlf4x8FLKHM4NInsn0c1kYVLoGMO8cyjfR6vmTku2YQE0gtfVVlfCw=="
    );
    assert_eq!(sig.len(), 88);
    // Sent URL-encoded (rest-api.md step 5).
    assert_eq!(
        percent_encode(&sig),
        "inDT086KVIP8vgUfw5sV3VTkescWztiAGlf4x8FLKHM4NInsn0c1kYVLoGMO8cyjfR6vmTku2YQE0gtfVVlfCw%3D%3D"
    );
}

#[test]
fn ed25519_ws_api_vectors_computed_with_openssl() {
    let c = Credentials::ed25519(
        "4yNzx3yWC5bS6YTwEkSRaC0nRmSQIIStAUOh1b6kqaBrTLIhjCpI5lJH8q8R8WNO",
        doc_key(),
    );
    // web-socket-api.md's signed order.place example params, in the order the
    // request lists them; the payload sorts them and leaves `signature` out.
    let params = [
        ("symbol", "BTCUSDT"),
        ("side", "SELL"),
        ("type", "LIMIT"),
        ("timeInForce", "GTC"),
        ("quantity", "0.01000000"),
        ("price", "52000.00"),
        ("recvWindow", "100"),
        ("timestamp", "1645423376532"),
        (
            "apiKey",
            "4yNzx3yWC5bS6YTwEkSRaC0nRmSQIIStAUOh1b6kqaBrTLIhjCpI5lJH8q8R8WNO",
        ),
        ("signature", "ignored"),
    ];
    assert_eq!(
        ws_signature_payload(&params),
        "apiKey=4yNzx3yWC5bS6YTwEkSRaC0nRmSQIIStAUOh1b6kqaBrTLIhjCpI5lJH8q8R8WNO&price=52000.00&quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT&timeInForce=GTC&timestamp=1645423376532&type=LIMIT"
    );
    assert_eq!(
        c.sign_ws_params(&params).unwrap(),
        "82wlF5RobwT7JZehRQgOaupNEm5GrAqJj5tqZeCCE6ZxkhlUbWBThOx00q3FVnCKn882P+9p85phztjk4bOMAQ=="
    );
    // userDataStream.subscribe.signature: apiKey + timestamp.
    let c = Credentials::ed25519(
        "mjcKCrJzTU6TChLsnPmgnQJJMR616J4yWvdZWDUeXkk6vL6dLyS7rcVOQlADlVjA",
        doc_key(),
    );
    assert_eq!(
        c.sign_ws_params(&[
            ("timestamp", "1747385641636"),
            (
                "apiKey",
                "mjcKCrJzTU6TChLsnPmgnQJJMR616J4yWvdZWDUeXkk6vL6dLyS7rcVOQlADlVjA"
            ),
        ])
        .unwrap(),
        "YHniJjbW6kh+IL/34zRP84SoGmE+Wm1XZD6JK2oHk9XsjiEP6zcjvjNMtHcIVcleifg7QaJr18cH+XlWfb2SDA=="
    );
}

#[test]
fn ws_api_hmac_official_vector() {
    // web-socket-api.md "SIGNED request example (HMAC)".
    let c = Credentials::new(
        "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
        SECRET,
    );
    let params = [
        ("symbol", "BTCUSDT"),
        ("side", "SELL"),
        ("type", "LIMIT"),
        ("timeInForce", "GTC"),
        ("quantity", "0.01000000"),
        ("price", "52000.00"),
        ("recvWindow", "100"),
        ("timestamp", "1645423376532"),
        (
            "apiKey",
            "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
        ),
    ];
    assert_eq!(
        c.sign_ws_params(&params).unwrap(),
        "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24"
    );
    // Unicode symbol: not percent-encoded in the WS payload.
    let params = [
        ("symbol", "１２３４５６"),
        ("side", "BUY"),
        ("type", "LIMIT"),
        ("timeInForce", "GTC"),
        ("quantity", "1.00000000"),
        ("price", "0.10000000"),
        ("recvWindow", "5000"),
        ("timestamp", "1645423376532"),
        (
            "apiKey",
            "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
        ),
    ];
    assert_eq!(
        c.sign_ws_params(&params).unwrap(),
        "b33892ae8e687c939f4468c6268ddd4c40ac1af18ad19a064864c47bae0752cd"
    );
}

#[test]
fn ed25519_key_is_redacted_everywhere() {
    let c = Credentials::ed25519("abcdefgh", doc_key());
    let k = doc_key();
    let text = format!("{c:?} {c:#?} {k:?} {:?}", Signer::Ed25519(doc_key()));
    for part in [
        "MC4CAQAwBQYDK2VwBCIEIIJEYWtGBrhACmb9Dvy",
        "IIJEYWtGBrhACmb9",
    ] {
        assert!(!text.contains(part), "{text}");
    }
    assert!(text.contains("***") && text.contains("ed25519"), "{text}");
    assert!(c.secret().is_none());
}

#[test]
fn unusable_private_keys_say_why_without_quoting_them() {
    let body = "MC4CAQAwBQYDK2VwBCIEIIJEYWtGBrhACmb9Dvy+qa8WEf0lQOl1s4CLIAB9m89u";
    // Throwaway keys from `openssl genpkey -algorithm x25519` and
    // `-algorithm EC -pkeyopt ec_paramgen_curve:P-256`: PKCS#8, other algorithms.
    let x25519 = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VuBCIEIIASmCXBHt+WXBwsmDh2QPBqet44argjR+fXYxREEb1a\n-----END PRIVATE KEY-----\n";
    let ec = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgQgWzTwYAQxXqH2dT\nOte/L0c1K0OMv1p4E2nFD13hmuKhRANCAARhGfqRDhtB4uOa38j0KSQNu+iZyS29\nAg3sk8tGv+FzQWkciTC24BiZJCd+dlS9a7ecu4fl89Np0VYhn4t9q2Av\n-----END PRIVATE KEY-----\n";
    let cases: Vec<(String, &str)> = vec![
        (body.to_string(), "not in PEM format"),
        (
            DOC_PEM.replace("PRIVATE KEY", "ENCRYPTED PRIVATE KEY"),
            "encrypted",
        ),
        (DOC_PUB.to_string(), "PUBLIC key"),
        (
            DOC_PEM.replace("PRIVATE KEY", "OPENSSH PRIVATE KEY"),
            "OpenSSH",
        ),
        (DOC_PEM.replace("PRIVATE KEY", "RSA PRIVATE KEY"), "RSA"),
        (x25519.to_string(), "X25519"),
        (ec.to_string(), "elliptic-curve"),
        (
            DOC_PEM.replace("MC4C", "MC4D"),
            "not a valid PKCS#8 Ed25519 key",
        ),
        (DOC_PEM.replace("MC4C", "M!4C"), "base64"),
        (DOC_PEM.replace("-----END PRIVATE KEY-----", ""), "END"),
    ];
    for (text, want) in cases {
        let e = Ed25519Key::from_pkcs8_pem(&text)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains(want), "{want:?} not in {e:?}");
        assert!(
            !e.contains("MC4C") && !e.contains("IIJEYWtG") && !e.contains("MIGH"),
            "{e}"
        );
    }
}

#[test]
fn key_file_errors_name_the_file_not_the_content() {
    let dir = std::env::temp_dir().join(format!("binance-rest-keytest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let missing = dir.join("missing.pem");
    let e = Ed25519Key::from_pem_file(&missing)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.contains("cannot read") && e.contains("missing.pem"),
        "{e}"
    );
    let enc = dir.join("enc.pem");
    std::fs::write(
        &enc,
        DOC_PEM.replace("PRIVATE KEY", "ENCRYPTED PRIVATE KEY"),
    )
    .unwrap();
    let e = Ed25519Key::from_pem_file(&enc)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("enc.pem") && e.contains("encrypted"), "{e}");
    assert!(!e.contains("IIJEYWtG"), "{e}");
    let good = dir.join("good.pem");
    std::fs::write(&good, DOC_PEM).unwrap();
    assert!(Ed25519Key::from_pem_file(&good).is_ok());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn key_type_names() {
    assert_eq!(KeyType::parse(" Ed25519 "), Some(KeyType::Ed25519));
    assert_eq!(KeyType::parse("HMAC"), Some(KeyType::Hmac));
    assert_eq!(KeyType::parse("rsa"), None);
    assert_eq!(KeyType::Ed25519.as_str(), "ed25519");
}

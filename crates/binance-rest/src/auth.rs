//! Credentials, query-string encoding and HMAC-SHA256 signing (binance-api.md §3.2).
//!
//! Invariants:
//! - the secret lives only in [`Secret`], whose `Debug`/`Display` print `***`;
//!   it is used for one thing, keying the HMAC, and never formatted;
//! - the signed payload is exactly the bytes put on the wire (percent-encoded
//!   query string without the `signature` pair), so what is signed is what the
//!   server verifies.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::error::Error;

/// The API secret. `Debug` and `Display` print `***`; there is no accessor
/// that returns the text, and the bytes are overwritten on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(secret: impl Into<String>) -> Self {
        Secret(secret.into())
    }

    /// Whether the secret is empty (e.g. an unset environment variable).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `lowercase_hex(HMAC_SHA256(secret, payload))`.
    ///
    /// # Errors
    /// [`Error::InvalidRequest`] if the HMAC cannot be keyed (never for HMAC-SHA256,
    /// which accepts any key length; kept to avoid a panic path).
    pub fn sign(&self, payload: &str) -> Result<String, Error> {
        sign_with(self.0.as_bytes(), payload)
    }
}

fn sign_with(key: &[u8], payload: &str) -> Result<String, Error> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .map_err(|_| Error::InvalidRequest("the API secret cannot key HMAC-SHA256".into()))?;
    mac.update(payload.as_bytes());
    Ok(hex::encode(mac.finalize().into_bytes()))
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        let mut bytes = std::mem::take(&mut self.0).into_bytes();
        bytes.iter_mut().for_each(|b| *b = 0);
        std::hint::black_box(&bytes);
    }
}

/// API key + secret. `Debug` shows only the first 4 characters of the key and
/// `***` for the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub api_key: String,
    secret: Secret,
}

impl Credentials {
    pub fn new(api_key: impl Into<String>, secret: impl Into<String>) -> Self {
        Credentials {
            api_key: api_key.into(),
            secret: Secret::new(secret),
        }
    }

    pub fn secret(&self) -> &Secret {
        &self.secret
    }

    /// Signs a payload with the secret.
    ///
    /// # Errors
    /// See [`Secret::sign`].
    pub fn sign(&self, payload: &str) -> Result<String, Error> {
        self.secret.sign(payload)
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: String = self.api_key.chars().take(4).collect();
        f.debug_struct("Credentials")
            .field("api_key", &format_args!("{shown}…"))
            .field("secret", &self.secret)
            .finish()
    }
}

/// Percent-encodes a query component: RFC 3986 unreserved characters
/// (`A-Z a-z 0-9 - _ . ~`) stay, every other byte of the UTF-8 becomes `%XX`
/// (upper-case hex), as the docs' reference helper does.
pub fn percent_encode(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 0x0f) as usize] as char);
        }
    }
    out
}

/// `name=value&name=value` with each name and value percent-encoded, in the given order.
pub fn build_query<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in params.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(&percent_encode(k.as_ref()));
        out.push('=');
        out.push_str(&percent_encode(v.as_ref()));
    }
    out
}

/// Signs `query` (and an optional form `body`, concatenated with no separator,
/// §3.2 step 3) and returns the signature.
///
/// # Errors
/// See [`Secret::sign`].
pub fn sign_request(secret: &Secret, query: &str, body: &str) -> Result<String, Error> {
    let mut payload = String::with_capacity(query.len() + body.len());
    payload.push_str(query);
    payload.push_str(body);
    secret.sign(&payload)
}

#[cfg(test)]
mod tests {
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
}

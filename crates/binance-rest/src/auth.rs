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
    /// Wraps the secret text as Binance issued it (HMAC key; not validated).
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
    /// The API key, sent in the `X-MBX-APIKEY` header; not secret.
    pub api_key: String,
    secret: Secret,
}

impl Credentials {
    /// A key and its secret, as Binance issued them.
    pub fn new(api_key: impl Into<String>, secret: impl Into<String>) -> Self {
        Credentials {
            api_key: api_key.into(),
            secret: Secret::new(secret),
        }
    }

    /// The secret, for signing; it never prints.
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
#[path = "tests/auth.rs"]
mod tests;

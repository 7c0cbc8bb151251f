//! Login sessions, CSRF tokens, login form tokens and the password check.
//!
//! - Every signature uses the *session key* ([`session_key`]) =
//!   `HMAC-SHA256(APP_SECRET, "gt-session-key-v1|" + user + password)`:
//!   changing `APP_SECRET`, the user name or the password ends every
//!   session and invalidates every form at once.
//! - Session cookie `gt_session` = `{expires}.{nonce}.{sig}` with
//!   `sig = HMAC(key, "session|{user}|{expires}|{nonce}")`; HttpOnly,
//!   SameSite=Strict, Path=/, Max-Age = the session lifetime, `Secure` when
//!   configured (by default off loopback).
//! - CSRF token = `{expires}.{sig}` with `sig = HMAC(key, "csrf|{nonce}|{expires}")`,
//!   bound to the session's nonce, valid [`CSRF_TTL_S`].
//! - Login form token = `{expires}.{nonce}.{sig}` with
//!   `sig = HMAC(key, "login|{nonce}|{expires}")`, valid [`LOGIN_TOKEN_TTL_S`]
//!   and used once (its nonce is consumed in `web_revoked_sessions`).
//! - Signatures and the password are compared in constant time.
//! - Logging out revokes the session's nonce in the database
//!   (`store::web_sessions`) until the session would have expired: a
//!   restart of `web` does not bring it back.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Name of the session cookie.
pub const COOKIE: &str = "gt_session";
/// Lifetime of a CSRF token: a page left open longer must be reloaded
/// (the dashboard refreshes its forms every 10 s).
pub const CSRF_TTL_S: i64 = 4 * 3600;
/// Lifetime of the login form's token.
pub const LOGIN_TOKEN_TTL_S: i64 = 10 * 60;
/// Prefix of a used login token's nonce in `web_revoked_sessions`.
pub const LOGIN_NONCE_PREFIX: &str = "login-";

/// The key every cookie and token is signed with, derived from
/// `APP_SECRET`, the user name and the password (`None`: the password-less
/// loopback mode).
pub fn session_key(secret: &[u8], user: &str, password: Option<&str>) -> Vec<u8> {
    let msg = match password {
        Some(p) => format!(
            "gt-session-key-v1|user={}|password={}",
            hex::encode(user),
            hex::encode(p)
        ),
        None => format!("gt-session-key-v1|user={}|open", hex::encode(user)),
    };
    mac(secret, &msg)
}

fn mac(secret: &[u8], msg: &str) -> Vec<u8> {
    // HMAC accepts keys of any length: this never fails.
    let mut m = match HmacSha256::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => return Vec::new(),
    };
    m.update(msg.as_bytes());
    m.finalize().into_bytes().to_vec()
}

fn verify(secret: &[u8], msg: &str, sig_hex: &str) -> bool {
    let Ok(sig) = hex::decode(sig_hex) else {
        return false;
    };
    let Ok(mut m) = HmacSha256::new_from_slice(secret) else {
        return false;
    };
    m.update(msg.as_bytes());
    m.verify_slice(&sig).is_ok()
}

/// Constant-time equality of two byte strings of any lengths (both are
/// MACed first, so neither the length nor a common prefix leaks).
pub fn ct_eq(secret: &[u8], a: &[u8], b: &[u8]) -> bool {
    let ha = mac(secret, &format!("pw|{}", hex::encode(a)));
    let hb = mac(secret, &format!("pw|{}", hex::encode(b)));
    if ha.len() != hb.len() || ha.is_empty() {
        return false;
    }
    ha.iter().zip(&hb).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// An authenticated session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub nonce: String,
    pub expires: i64,
}

/// The cookie value of a new session for `user`.
pub fn session_cookie_value(key: &[u8], user: &str, nonce: &str, expires: i64) -> String {
    let sig = hex::encode(mac(key, &format!("session|{user}|{expires}|{nonce}")));
    format!("{expires}.{nonce}.{sig}")
}

/// Parses and checks a session cookie value.
pub fn check_session(key: &[u8], user: &str, value: &str, now: i64) -> Option<Session> {
    let mut parts = value.splitn(3, '.');
    let expires: i64 = parts.next()?.parse().ok()?;
    let nonce = parts.next()?;
    let sig = parts.next()?;
    if nonce.is_empty() || nonce.len() > 64 || !nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    if expires <= now {
        return None;
    }
    verify(key, &format!("session|{user}|{expires}|{nonce}"), sig).then(|| Session {
        nonce: nonce.to_string(),
        expires,
    })
}

/// A CSRF token bound to the session nonce `nonce`.
pub fn csrf_token(key: &[u8], nonce: &str, now: i64) -> String {
    let expires = now + CSRF_TTL_S;
    let sig = hex::encode(mac(key, &format!("csrf|{nonce}|{expires}")));
    format!("{expires}.{sig}")
}

/// True when `token` was issued for `nonce` and has not expired.
pub fn check_csrf(key: &[u8], nonce: &str, token: &str, now: i64) -> bool {
    let Some((exp, sig)) = token.split_once('.') else {
        return false;
    };
    let Ok(expires) = exp.parse::<i64>() else {
        return false;
    };
    expires > now
        && expires <= now + CSRF_TTL_S + 60
        && verify(key, &format!("csrf|{nonce}|{expires}"), sig)
}

/// A fresh random hex string of `N` bytes (nonces, idempotency keys).
pub fn random_hex<const N: usize>() -> String {
    match crate::config::random_bytes::<N>() {
        Ok(b) => hex::encode(b),
        // No OS randomness: fall back to a time-based value, still unique per call.
        Err(_) => {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            hex::encode(mac(&t.to_le_bytes(), "fallback"))[..N * 2].to_string()
        }
    }
}

/// A login form token's parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginToken {
    pub nonce: String,
    pub expires: i64,
}

/// A fresh login form token.
pub fn login_token(key: &[u8], now: i64) -> String {
    let nonce = random_hex::<16>();
    let expires = now + LOGIN_TOKEN_TTL_S;
    let sig = hex::encode(mac(key, &format!("login|{nonce}|{expires}")));
    format!("{expires}.{nonce}.{sig}")
}

/// The token's parts when it is genuine and not expired (whether it was
/// used already is the database's to say).
pub fn check_login_token(key: &[u8], token: &str, now: i64) -> Option<LoginToken> {
    let mut parts = token.splitn(3, '.');
    let expires: i64 = parts.next()?.parse().ok()?;
    let nonce = parts.next()?;
    let sig = parts.next()?;
    if nonce.len() != 32 || !nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    if expires <= now || expires > now + LOGIN_TOKEN_TTL_S + 60 {
        return None;
    }
    verify(key, &format!("login|{nonce}|{expires}"), sig).then(|| LoginToken {
        nonce: nonce.to_string(),
        expires,
    })
}

#[cfg(test)]
#[path = "tests/auth.rs"]
mod tests;

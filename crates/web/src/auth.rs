//! Login sessions, CSRF tokens and the password check.
//!
//! - Session cookie `gt_session` = `{expires}.{nonce}.{sig}` with
//!   `sig = HMAC-SHA256(APP_SECRET, "session|{user}|{expires}|{nonce}")`;
//!   HttpOnly, SameSite=Strict, Path=/, Max-Age = the session lifetime.
//! - CSRF token = `{expires}.{sig}` with
//!   `sig = HMAC(APP_SECRET, "csrf|{nonce}|{expires}")`, bound to the session's
//!   nonce; the login form's token is bound to the fixed nonce `login`.
//! - Signatures and the password are compared in constant time.
//! - Logging out revokes the session's nonce until the session would have
//!   expired ([`Revoked`]). The list lives in this process: a restart of the
//!   web process forgets it (changing `APP_SECRET` ends every session).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Name of the session cookie.
pub const COOKIE: &str = "gt_session";
/// Lifetime of a CSRF token: a page left open longer must be reloaded
/// (the dashboard refreshes its forms every 10 s).
pub const CSRF_TTL_S: i64 = 4 * 3600;

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

/// Nonces of sessions logged out before they expire, with their expiry;
/// expired ones are dropped as new ones come in.
#[derive(Debug, Default)]
pub struct Revoked {
    nonces: std::sync::Mutex<std::collections::HashMap<String, i64>>,
}

impl Revoked {
    /// Revokes `s` (a logout).
    pub fn revoke(&self, s: &Session, now: i64) {
        let mut m = self.nonces.lock().unwrap_or_else(|e| e.into_inner());
        m.retain(|_, expires| *expires > now);
        m.insert(s.nonce.clone(), s.expires);
    }

    /// Whether the session with `nonce` was logged out.
    pub fn contains(&self, nonce: &str, now: i64) -> bool {
        let m = self.nonces.lock().unwrap_or_else(|e| e.into_inner());
        m.get(nonce).is_some_and(|expires| *expires > now)
    }
}

/// An authenticated session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub nonce: String,
    pub expires: i64,
}

/// The cookie value of a new session for `user`.
pub fn session_cookie_value(secret: &[u8], user: &str, nonce: &str, expires: i64) -> String {
    let sig = hex::encode(mac(secret, &format!("session|{user}|{expires}|{nonce}")));
    format!("{expires}.{nonce}.{sig}")
}

/// Parses and checks a session cookie value.
pub fn check_session(secret: &[u8], user: &str, value: &str, now: i64) -> Option<Session> {
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
    verify(secret, &format!("session|{user}|{expires}|{nonce}"), sig).then(|| Session {
        nonce: nonce.to_string(),
        expires,
    })
}

/// A CSRF token bound to `nonce` (the session's, or `login`).
pub fn csrf_token(secret: &[u8], nonce: &str, now: i64) -> String {
    let expires = now + CSRF_TTL_S;
    let sig = hex::encode(mac(secret, &format!("csrf|{nonce}|{expires}")));
    format!("{expires}.{sig}")
}

/// True when `token` was issued for `nonce` and has not expired.
pub fn check_csrf(secret: &[u8], nonce: &str, token: &str, now: i64) -> bool {
    let Some((exp, sig)) = token.split_once('.') else {
        return false;
    };
    let Ok(expires) = exp.parse::<i64>() else {
        return false;
    };
    expires > now
        && expires <= now + CSRF_TTL_S + 60
        && verify(secret, &format!("csrf|{nonce}|{expires}"), sig)
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

#[cfg(test)]
mod tests {
    use super::*;

    const S: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn sessions_round_trip_and_reject_tampering() {
        let v = session_cookie_value(S, "admin", "abcd", 2000);
        assert_eq!(
            check_session(S, "admin", &v, 1000),
            Some(Session {
                nonce: "abcd".into(),
                expires: 2000
            })
        );
        assert_eq!(check_session(S, "admin", &v, 2000), None, "expired");
        assert_eq!(check_session(S, "other", &v, 1000), None, "other user");
        assert_eq!(check_session(b"another-secret-xx", "admin", &v, 1000), None);
        let forged = v.replacen("2000", "9999", 1);
        assert_eq!(check_session(S, "admin", &forged, 1000), None);
        assert_eq!(check_session(S, "admin", "garbage", 1000), None);
    }

    #[test]
    fn csrf_tokens_are_bound_to_the_session_and_expire() {
        let t = csrf_token(S, "abcd", 1000);
        assert!(check_csrf(S, "abcd", &t, 1001));
        assert!(!check_csrf(S, "abce", &t, 1001));
        assert!(!check_csrf(S, "abcd", &t, 1000 + CSRF_TTL_S));
        assert!(!check_csrf(S, "abcd", "", 1001));
        assert!(!check_csrf(S, "abcd", "1.zz", 0));
    }

    #[test]
    fn passwords_compare_exactly() {
        assert!(ct_eq(S, b"pw", b"pw"));
        assert!(!ct_eq(S, b"pw", b"pw "));
        assert!(!ct_eq(S, b"", b"pw"));
        assert_eq!(random_hex::<16>().len(), 32);
        assert_ne!(random_hex::<16>(), random_hex::<16>());
    }
}

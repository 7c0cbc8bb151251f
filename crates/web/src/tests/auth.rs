//! Unit tests of `auth.rs` (kept beside it, out of the production file).

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

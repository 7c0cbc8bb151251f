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

#[test]
fn the_session_key_changes_with_the_secret_the_user_and_the_password() {
    let k = session_key(S, "admin", Some("pw-one"));
    assert_eq!(k, session_key(S, "admin", Some("pw-one")));
    assert_ne!(k, session_key(S, "admin", Some("pw-two")));
    assert_ne!(k, session_key(S, "root", Some("pw-one")));
    assert_ne!(
        k,
        session_key(b"another-secret-0123456789abcdef", "admin", Some("pw-one"))
    );
    assert_ne!(k, session_key(S, "admin", None));
    // No ambiguity between the parts.
    assert_ne!(
        session_key(S, "ad", Some("min|pw")),
        session_key(S, "admin", Some("|pw"))
    );
    let cookie = session_cookie_value(&k, "admin", "abcd", 2000);
    let other = session_key(S, "admin", Some("pw-two"));
    assert!(check_session(&k, "admin", &cookie, 1000).is_some());
    assert_eq!(check_session(&other, "admin", &cookie, 1000), None);
}

#[test]
fn login_tokens_are_short_lived_and_signed() {
    let t = login_token(S, 1000);
    let parsed = check_login_token(S, &t, 1000).expect("valid");
    assert_eq!(parsed.expires, 1000 + LOGIN_TOKEN_TTL_S);
    assert_eq!(parsed.nonce.len(), 32);
    assert!(check_login_token(S, &t, 1000 + LOGIN_TOKEN_TTL_S - 1).is_some());
    assert_eq!(check_login_token(S, &t, 1000 + LOGIN_TOKEN_TTL_S), None);
    assert_eq!(check_login_token(b"other-key", &t, 1000), None);
    let forged = t.replacen(&(1000 + LOGIN_TOKEN_TTL_S).to_string(), "99999", 1);
    assert_eq!(check_login_token(S, &forged, 1000), None);
    // A session CSRF token is not a login token.
    assert_eq!(
        check_login_token(S, &csrf_token(S, "login", 1000), 1000),
        None
    );
    assert_eq!(check_login_token(S, "", 1000), None);
    assert_ne!(
        login_token(S, 1000),
        login_token(S, 1000),
        "fresh nonce each"
    );
}

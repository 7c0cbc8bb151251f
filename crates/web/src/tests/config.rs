//! Unit tests of `config.rs` (kept beside it, out of the production file).

use super::*;
use std::collections::HashMap;

fn cfg(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let m: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_vars(|k| m.get(k).cloned())
}

#[test]
fn defaults_are_loopback_and_open_with_a_random_secret() {
    let c = cfg(&[]).expect("config");
    assert_eq!(c.bind, DEFAULT_BIND);
    assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
    assert_eq!(c.user, "admin");
    assert!(c.is_open());
    assert!(c.secret_generated);
    assert_eq!(c.secret.len(), 32);
    let d = cfg(&[]).expect("config");
    assert_ne!(c.secret, d.secret, "a fresh secret per start");
}

#[test]
fn non_loopback_bind_needs_a_password() {
    assert_eq!(
        cfg(&[("WEB_BIND", "0.0.0.0:8080")]).err(),
        Some(ConfigError::OpenNonLoopback("0.0.0.0:8080".into()))
    );
    let c = cfg(&[("WEB_BIND", "0.0.0.0:8080"), ("DASHBOARD_PASSWORD", "pw")]).expect("ok");
    assert!(!c.is_open());
    assert!(cfg(&[("WEB_BIND", "[::1]:8080")]).is_ok());
    assert!(matches!(
        cfg(&[("WEB_BIND", "nonsense")]),
        Err(ConfigError::BadBind(_))
    ));
}

#[test]
fn secrets_are_checked_and_never_debug_printed() {
    assert_eq!(
        cfg(&[("APP_SECRET", "short")]).err(),
        Some(ConfigError::ShortSecret)
    );
    let c = cfg(&[
        ("APP_SECRET", "0123456789abcdef-very-secret"),
        ("DASHBOARD_PASSWORD", "hunter2-password"),
    ])
    .expect("ok");
    assert!(!c.secret_generated);
    let dbg = format!("{c:?}");
    assert!(!dbg.contains("very-secret") && !dbg.contains("hunter2"));
    assert_eq!(
        cfg(&[("DASHBOARD_PASSWORD", "")]).err(),
        Some(ConfigError::Empty("DASHBOARD_PASSWORD"))
    );
}

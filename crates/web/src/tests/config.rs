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
    let c = cfg(&[
        ("WEB_BIND", "0.0.0.0:8080"),
        ("DASHBOARD_PASSWORD", "a long enough password"),
    ])
    .expect("ok");
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

#[test]
fn weak_passwords_and_secrets_are_refused_off_loopback() {
    let lan = |extra: &[(&str, &str)]| {
        let mut v = vec![("WEB_BIND", "0.0.0.0:8080")];
        v.extend_from_slice(extra);
        cfg(&v).err().map(|e| e.to_string())
    };
    // The sample values of .env.example, whatever the case.
    for pw in [
        "change-me-too",
        "CHANGE-ME-TOO",
        "change-me-to-a-long-random-string",
    ] {
        let msg = lan(&[("DASHBOARD_PASSWORD", pw)]).unwrap_or_default();
        assert!(
            msg.contains("DASHBOARD_PASSWORD") && msg.contains(".env.example"),
            "{pw}: {msg:?}"
        );
        assert!(!msg.contains(pw), "the password is shown: {msg}");
    }
    let msg = lan(&[("DASHBOARD_PASSWORD", "elevenchars")]).unwrap_or_default();
    assert!(msg.contains("at least 12 characters"), "{msg:?}");
    assert_eq!(lan(&[("DASHBOARD_PASSWORD", "twelve-chars")]), None);
    // APP_SECRET: 32 bytes at least, not a sample value.
    let pw = ("DASHBOARD_PASSWORD", "a long enough password");
    let msg = lan(&[pw, ("APP_SECRET", "0123456789abcdef0123456789abcde")]).unwrap_or_default();
    assert!(
        msg.contains("APP_SECRET") && msg.contains("openssl rand"),
        "{msg:?}"
    );
    let msg = lan(&[pw, ("APP_SECRET", "change-me-to-a-long-random-string")]).unwrap_or_default();
    assert!(
        msg.contains("APP_SECRET") && msg.contains(".env.example"),
        "{msg:?}"
    );
    assert_eq!(
        lan(&[pw, ("APP_SECRET", "0123456789abcdef0123456789abcdef")]),
        None
    );
    // On loopback the sample password still starts (with a warning).
    assert!(cfg(&[("DASHBOARD_PASSWORD", "change-me-too")]).is_ok());
}

#[test]
fn off_loopback_cookies_are_secure_unless_plain_http_is_said() {
    let pw = ("DASHBOARD_PASSWORD", "a long enough password");
    let lan = ("WEB_BIND", "0.0.0.0:8080");
    let c = cfg(&[lan, pw]).expect("ok");
    assert!(c.secure_cookie && !c.plain_http);
    assert!(c
        .warnings()
        .iter()
        .all(|w| !w.contains("WEB_ALLOW_PLAIN_HTTP")));
    let c = cfg(&[lan, pw, ("WEB_ALLOW_PLAIN_HTTP", "true")]).expect("ok");
    assert!(!c.secure_cookie && c.plain_http);
    assert!(
        c.warnings()
            .iter()
            .any(|w| w.contains("WEB_ALLOW_PLAIN_HTTP=true") && w.contains("plain http")),
        "{:?}",
        c.warnings()
    );
    let e = cfg(&[lan, pw, ("WEB_SECURE_COOKIE", "false")]).err();
    assert_eq!(e, Some(ConfigError::InsecureCookie("0.0.0.0:8080".into())));
    assert!(e
        .map(|e| e.to_string())
        .unwrap_or_default()
        .contains("WEB_ALLOW_PLAIN_HTTP=true"));
    // Loopback: off by default, on behind a local TLS proxy; no HSTS otherwise.
    assert!(!cfg(&[]).expect("ok").secure_cookie);
    assert!(
        cfg(&[("WEB_SECURE_COOKIE", "true")])
            .expect("ok")
            .secure_cookie
    );
    assert!(matches!(
        cfg(&[("WEB_SECURE_COOKIE", "maybe")]),
        Err(ConfigError::Invalid {
            name: "WEB_SECURE_COOKIE",
            ..
        })
    ));
}

#[test]
fn allowed_hosts_come_from_the_bind_and_the_list() {
    let c = cfg(&[("WEB_ALLOWED_HOSTS", "dash.lan:8443")]).expect("ok");
    assert!(c.allowed_hosts.allows("localhost:8080"));
    assert!(c.allowed_hosts.allows("dash.lan:8443"));
    assert!(!c.allowed_hosts.allows("dash.lan:8080"));
    let c = cfg(&[("WEB_BIND", "127.0.0.1:9090")]).expect("ok");
    assert!(c.allowed_hosts.allows("127.0.0.1:9090") && !c.allowed_hosts.allows("127.0.0.1:8080"));
    assert!(matches!(
        cfg(&[("WEB_ALLOWED_HOSTS", "*")]),
        Err(ConfigError::BadHost(_))
    ));
}

#[test]
fn weak_loopback_passwords_are_warned_about() {
    let c = cfg(&[("DASHBOARD_PASSWORD", "change-me-too")]).expect("ok");
    let w = c.warnings().join("\n");
    assert!(
        w.contains("sample value") && !w.contains("change-me-too"),
        "{w}"
    );
    let c = cfg(&[]).expect("ok");
    let w = c.warnings().join("\n");
    assert!(
        w.contains("APP_SECRET is not set") && w.contains("production"),
        "{w}"
    );
}

const TG_TOKEN: &str = "123456789:AAE-secret_bot_token";
const HOOK: &str = "https://discord.com/api/webhooks/42/SecretWebhookKey";

#[test]
fn notification_channels_are_read_and_their_secrets_never_shown() {
    let c = cfg(&[
        ("BOT_TELEGRAM_TOKEN", TG_TOKEN),
        ("BOT_TELEGRAM_CHAT_ID", "-100123"),
        ("BOT_WEBHOOK_URL", HOOK),
        ("BOT_WEBHOOK_FORMAT", "discord"),
        ("BOT_NOTIFY", "closes, errors,closes"),
        ("BOT_NOTIFY_STALE_SECONDS", "120"),
    ])
    .expect("config");
    let n = &c.notify;
    assert_eq!(n.categories, vec!["closes", "errors"]);
    assert_eq!(n.stale_after.as_secs(), 120);
    assert_eq!(n.targets().len(), 2);
    match &n.telegram {
        Some(crate::notify::Target::Telegram {
            api_url, chat_id, ..
        }) => {
            assert_eq!(api_url, crate::notify::DEFAULT_TELEGRAM_API);
            assert_eq!(chat_id, "-100123");
        }
        other => panic!("telegram: {other:?}"),
    }
    for shown in [format!("{c:?}"), format!("{n:?}"), n.describe()] {
        assert!(!shown.contains("secret_bot_token"), "{shown}");
        assert!(!shown.contains("SecretWebhookKey"), "{shown}");
    }
    assert_eq!(
        n.describe(),
        "telegram, webhook (discord); categories closes, errors; heartbeat stale after 120 s"
    );
    let off = cfg(&[]).expect("config");
    assert!(off.notify.targets().is_empty());
    assert_eq!(
        off.notify.categories,
        vec!["fills", "closes", "errors", "daily"]
    );
    assert_eq!(off.notify.describe(), "off (no channel configured)");
}

#[test]
fn bad_notification_settings_stop_the_start_without_showing_secrets() {
    let refused = |vars: &[(&str, &str)], name: &str| {
        let e = cfg(vars)
            .err()
            .unwrap_or_else(|| panic!("{vars:?} accepted"));
        let msg = e.to_string();
        assert!(msg.contains(name), "{msg}");
        assert!(
            !msg.contains("secret_bot_token") && !msg.contains("SecretWebhookKey"),
            "{msg}"
        );
    };
    refused(&[("BOT_TELEGRAM_TOKEN", TG_TOKEN)], "BOT_TELEGRAM_CHAT_ID");
    refused(&[("BOT_TELEGRAM_CHAT_ID", "-1")], "BOT_TELEGRAM_TOKEN");
    refused(
        &[
            ("BOT_TELEGRAM_TOKEN", "secret_bot_token with spaces"),
            ("BOT_TELEGRAM_CHAT_ID", "1"),
        ],
        "BOT_TELEGRAM_TOKEN",
    );
    refused(
        &[
            ("BOT_TELEGRAM_TOKEN", TG_TOKEN),
            ("BOT_TELEGRAM_CHAT_ID", "my chat"),
        ],
        "BOT_TELEGRAM_CHAT_ID",
    );
    refused(
        &[
            ("BOT_TELEGRAM_TOKEN", TG_TOKEN),
            ("BOT_TELEGRAM_CHAT_ID", "1"),
            ("BOT_TELEGRAM_API_URL", "api.telegram.org"),
        ],
        "BOT_TELEGRAM_API_URL",
    );
    refused(
        &[(
            "BOT_WEBHOOK_URL",
            "discord.com/api/webhooks/42/SecretWebhookKey",
        )],
        "BOT_WEBHOOK_URL",
    );
    refused(
        &[("BOT_WEBHOOK_URL", HOOK), ("BOT_WEBHOOK_FORMAT", "teams")],
        "BOT_WEBHOOK_FORMAT",
    );
    refused(&[("BOT_WEBHOOK_FORMAT", "slack")], "BOT_WEBHOOK_URL");
    refused(&[("BOT_NOTIFY", "fills,trades")], "BOT_NOTIFY");
    refused(&[("BOT_NOTIFY", "")], "BOT_NOTIFY");
    refused(
        &[("BOT_NOTIFY_STALE_SECONDS", "5")],
        "BOT_NOTIFY_STALE_SECONDS",
    );
    refused(
        &[("BOT_NOTIFY_STALE_SECONDS", "1m")],
        "BOT_NOTIFY_STALE_SECONDS",
    );
    assert!(cfg(&[
        ("BOT_TELEGRAM_TOKEN", TG_TOKEN),
        ("BOT_TELEGRAM_CHAT_ID", "@my_channel")
    ])
    .is_ok());
}

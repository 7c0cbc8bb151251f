//! Unit tests of `hosts.rs`.

use super::*;

fn list(bind_host: &str, port: u16, extra: Option<&str>) -> AllowedHosts {
    AllowedHosts::new(bind_host, port, extra).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn loopback_names_with_the_bound_port() {
    let a = list("127.0.0.1", 8080, None);
    for ok in [
        "127.0.0.1:8080",
        "localhost:8080",
        "LocalHost:8080",
        "[::1]:8080",
    ] {
        assert!(a.allows(ok), "{ok}");
    }
    for no in [
        "127.0.0.1",
        "localhost",
        "127.0.0.1:8081",
        "localhost.:8080",
        "localhost.evil.example:8080",
        "evil.example:8080",
        "127.0.0.2:8080",
        "[::2]:8080",
        "::1:8080",
        "",
        "127.0.0.1:8080:8080",
        "127.0.0.1:",
        "local host:8080",
    ] {
        assert!(!a.allows(no), "{no}");
    }
    // Port 80: the browser leaves it out.
    let a = list("127.0.0.1", 80, None);
    assert!(a.allows("localhost") && a.allows("localhost:80"));
}

#[test]
fn a_specific_bind_address_is_allowed_a_wildcard_is_not() {
    let a = list("192.168.1.5", 8080, None);
    assert!(a.allows("192.168.1.5:8080"));
    assert!(!a.allows("192.168.1.6:8080"));
    let a = list("0.0.0.0", 8080, None);
    assert!(!a.allows("0.0.0.0:8080"));
    assert_eq!(a.rules().len(), 3, "{:?}", a.rules());
    assert_eq!(
        list("127.0.0.1", 8080, None).rules().len(),
        3,
        "no duplicates"
    );
    let a = list("[::]", 8080, None);
    assert!(!a.allows("[::]:8080"));
    let a = list("[fd00::5]", 8080, None);
    assert!(a.allows("[fd00::5]:8080") && a.allows("[FD00::5]:8080"));
}

#[test]
fn extra_hosts_with_and_without_port() {
    let a = list(
        "127.0.0.1",
        8080,
        Some(" dash.lan:8443 , Bot.Example.com,, [fd00::1]:9000,tls.example:443"),
    );
    assert!(a.allows("dash.lan:8443"));
    assert!(!a.allows("dash.lan") && !a.allows("dash.lan:8080"));
    assert!(a.allows("bot.example.com") && a.allows("bot.example.com:1234"));
    assert!(a.allows("[fd00::1]:9000") && !a.allows("[fd00::1]:9001"));
    assert!(a.allows("tls.example") && a.allows("tls.example:443"));
    assert!(!a.allows("example.com") && !a.allows("evil.bot.example.com"));
}

#[test]
fn bad_entries_are_refused_with_what_to_do() {
    for (entry, says) in [
        ("*", "wildcard"),
        ("*.example.com", "wildcard"),
        ("http://dash.lan", "URL"),
        ("dash.lan/x", "URL"),
        ("dash lan", "not a host"),
        ("dash.lan:http", "not a host"),
        ("dash.lan:99999", "not a host"),
        ("[nothex]:80", "not a host"),
    ] {
        let e = AllowedHosts::new("127.0.0.1", 8080, Some(entry))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains(says) && e.contains("WEB_ALLOWED_HOSTS") && e.contains("e.g."),
            "{entry}: {e}"
        );
    }
}

#[test]
fn origins_are_matched_against_the_list() {
    let a = list("127.0.0.1", 8080, Some("bot.example.com:443"));
    assert!(a.allows_origin("http://127.0.0.1:8080"));
    assert!(a.allows_origin("http://localhost:8080"));
    assert!(a.allows_origin("https://bot.example.com"));
    for no in [
        "null",
        "http://evil.example",
        "http://127.0.0.1:9999",
        "ftp://127.0.0.1:8080",
        "http://127.0.0.1:8080/",
        "127.0.0.1:8080",
        "",
    ] {
        assert!(!a.allows_origin(no), "{no}");
    }
}

#[test]
fn shown_hosts_are_printable_and_short() {
    assert_eq!(shown("a\r\nb c"), "abc");
    assert_eq!(shown(&"x".repeat(500)).len(), 100);
}

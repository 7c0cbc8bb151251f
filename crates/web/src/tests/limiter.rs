//! Unit tests of `limiter.rs`.

use super::*;

const MIN: i64 = 60_000;

#[test]
fn five_failures_lock_one_minute_then_each_failure_doubles_up_to_the_cap() {
    let l = LoginLimiter::default();
    let mut now = 1_000_000;
    for _ in 0..4 {
        let a = l.begin("a", now).expect("open");
        assert_eq!(a.new_lock(), None);
    }
    let a = l.begin("a", now).expect("open");
    assert_eq!(
        a.new_lock(),
        Some(NewLock {
            scope: Scope::Client,
            duration_s: 60,
            nth: 1
        })
    );
    assert_eq!(
        l.check("a", now + 1),
        Err(Locked {
            retry_after_s: 60,
            scope: Scope::Client
        })
    );
    assert!(l.begin("a", now + MIN - 1).is_err(), "refused while locked");
    assert!(l.check("b", now).is_ok(), "another client");
    let mut want = 2 * MIN;
    for nth in 2..=9 {
        now += MIN * 64; // past any lock
        let a = l.begin("a", now).expect("open again");
        let lock = a.new_lock().expect("a further failure locks");
        assert_eq!(lock.nth, nth);
        assert_eq!(lock.duration_s * 1000, want.min(PER_CLIENT.max_ms));
        want *= 2;
    }
    assert_eq!(
        l.check("a", now).err().map(|x| x.retry_after_s),
        Some(3600),
        "capped at an hour"
    );
}

#[test]
fn a_success_forgives_the_client_and_a_quiet_day_forgets() {
    let l = LoginLimiter::default();
    for _ in 0..4 {
        l.begin("a", 0).expect("open");
    }
    let a = l.begin("a", 0).expect("open");
    assert!(a.new_lock().is_some());
    // The attempt that would have locked was the right password.
    l.succeeded(&a);
    assert!(l.check("a", 0).is_ok());
    assert_eq!(l.clients(), 0);
    // A quiet day forgets failures and locks.
    for _ in 0..5 {
        l.begin("b", 0).ok();
    }
    assert!(l.check("b", 1).is_err());
    let a = l.begin("b", FORGET_MS + MIN + 1).expect("forgotten");
    assert_eq!(a.new_lock(), None, "starts afresh");
}

#[test]
fn cancel_takes_an_attempt_back() {
    let l = LoginLimiter::default();
    for _ in 0..4 {
        let a = l.begin("a", 0).expect("open");
        l.cancel(&a);
    }
    for _ in 0..4 {
        assert_eq!(l.begin("a", 0).expect("open").new_lock(), None);
    }
    let a = l.begin("a", 0).expect("open");
    assert!(a.new_lock().is_some());
    l.cancel(&a);
    assert!(l.check("a", 0).is_ok(), "the lock it started is undone");
}

#[test]
fn many_clients_lock_everyone() {
    let l = LoginLimiter::default();
    for i in 0..GLOBAL.threshold - 1 {
        let a = l.begin(&format!("c{i}"), 0).expect("open");
        assert_eq!(a.new_lock(), None);
    }
    let a = l.begin("last", 0).expect("open");
    assert_eq!(a.new_lock().map(|n| n.scope), Some(Scope::Global));
    assert_eq!(
        l.check("someone-else", 0).err().map(|x| x.scope),
        Some(Scope::Global)
    );
    assert!(l.check("someone-else", GLOBAL.base_ms).is_ok());
}

#[test]
fn the_client_table_is_bounded() {
    let l = LoginLimiter::new(
        PER_CLIENT,
        Policy {
            threshold: u32::MAX,
            ..GLOBAL
        },
    );
    for i in 0..MAX_CLIENTS + 50 {
        l.begin(&format!("c{i}"), 0).ok();
    }
    assert!(l.clients() <= MAX_CLIENTS);
}

#[test]
fn clients_are_keyed_by_address_and_ipv6_by_64() {
    let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap_or_else(|e| panic!("{s}: {e}")));
    assert_eq!(client_key(ip("203.0.113.7")), "203.0.113.7");
    assert_eq!(client_key(ip("::ffff:203.0.113.7")), "203.0.113.7");
    assert_eq!(
        client_key(ip("2001:db8:1:2:aaaa::1")),
        client_key(ip("2001:db8:1:2:bbbb::9"))
    );
    assert_ne!(
        client_key(ip("2001:db8:1:2::1")),
        client_key(ip("2001:db8:1:3::1"))
    );
    assert_eq!(client_key(None), "unknown");
}

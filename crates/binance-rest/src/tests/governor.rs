//! Unit tests of `governor.rs` (kept beside it, out of the production file).

use super::*;
use crate::clock::ManualClock;

// 2026-01-01T00:00:00Z, a minute boundary.
const T0: i64 = 1_767_225_600_000;

fn gov() -> (Arc<ManualClock>, Governor) {
    let clock = Arc::new(ManualClock::new(T0));
    let g = Governor::new(clock.clone());
    (clock, g)
}

#[test]
fn header_is_read_case_insensitively() {
    assert_eq!(used_weight_1m([("x-mbx-used-weight-1m", "17")]), Some(17));
    assert_eq!(used_weight_1m([("X-MBX-USED-WEIGHT-1M", " 42 ")]), Some(42));
    assert_eq!(used_weight_1m([("X-Mbx-Used-Weight", "9")]), None);
    assert_eq!(
        used_weight_1m([("x-mbx-used-weight", "9"), ("X-Mbx-Used-Weight-1m", "10")]),
        Some(10)
    );
}

#[test]
fn parses_retry_after_and_ban_time() {
    assert_eq!(parse_retry_after("30"), Some(Duration::from_secs(30)));
    assert_eq!(parse_retry_after("soon"), None);
    assert_eq!(
        parse_banned_until("Way too much request weight used; IP banned until 1712840265023. Please use WebSocket Streams for live updates to avoid bans."),
        Some(1712840265023)
    );
    assert_eq!(parse_banned_until("Too much request weight used"), None);
}

#[test]
fn under_the_limit_nothing_waits() {
    let (clock, g) = gov();
    for _ in 0..100 {
        g.acquire(20, Priority::Read).unwrap();
    }
    assert_eq!(g.estimated_used_weight(), 2000);
    assert!(clock.sleeps().is_empty());
}

#[test]
fn reads_wait_for_the_next_minute_near_the_limit() {
    let (clock, g) = gov();
    clock.advance(Duration::from_secs(10));
    g.observe_used_weight(5390);
    assert_eq!(g.last_used_weight(), Some(5390));
    g.acquire(10, Priority::Read).unwrap(); // 5400 = 90 %: still fits
    assert!(clock.sleeps().is_empty());
    g.acquire(1, Priority::Read).unwrap(); // would exceed: sleeps to the next window
    assert_eq!(clock.sleeps(), vec![Duration::from_millis(50_000 + 250)]);
    assert_eq!(g.estimated_used_weight(), 1);
}

#[test]
fn orders_may_use_the_headroom() {
    let (clock, g) = gov();
    g.observe_used_weight(5990);
    g.acquire(1, Priority::Order).unwrap();
    assert!(clock.sleeps().is_empty());
    g.acquire(4, Priority::Read).unwrap();
    assert_eq!(clock.sleeps().len(), 1);
}

#[test]
fn limit_comes_from_exchange_info() {
    let (clock, g) = gov();
    g.set_limit(1200);
    g.observe_used_weight(1070);
    g.acquire(20, Priority::Read).unwrap();
    assert_eq!(clock.sleeps().len(), 1);
}

#[test]
fn header_never_lowers_the_estimate_within_a_minute() {
    let (_clock, g) = gov();
    for _ in 0..10 {
        g.acquire(20, Priority::Read).unwrap();
    }
    g.observe_used_weight(20); // a late answer
    assert_eq!(g.estimated_used_weight(), 200);
    g.observe_used_weight(900); // another process on the same IP
    assert_eq!(g.estimated_used_weight(), 900);
}

#[test]
fn after_429_everything_is_refused_until_retry_after() {
    let (clock, g) = gov();
    let e = g.on_rate_limited(Some(Duration::from_secs(30)));
    assert_eq!(
        e,
        Error::RateLimited {
            retry_after: Duration::from_secs(30)
        }
    );
    clock.advance(Duration::from_secs(10));
    match g.acquire(1, Priority::Order) {
        Err(Error::RateLimited { retry_after }) => {
            assert_eq!(retry_after, Duration::from_secs(20))
        }
        other => panic!("{other:?}"),
    }
    assert!(g.check_blocked().is_err());
    // The governor never sleeps through a block: it refuses.
    assert!(clock.sleeps().is_empty());
    clock.advance(Duration::from_millis(19_999));
    assert!(g.acquire(1, Priority::Read).is_err());
    clock.advance(Duration::from_millis(1));
    g.acquire(1, Priority::Read).unwrap();
    assert_eq!(g.blocked_until_ms(), None);
}

#[test]
fn a_429_without_retry_after_uses_the_default() {
    let (_clock, g) = gov();
    assert_eq!(
        g.on_rate_limited(None),
        Error::RateLimited {
            retry_after: DEFAULT_RETRY_AFTER
        }
    );
}

#[test]
fn after_418_everything_is_refused_until_the_ban_ends() {
    let (clock, g) = gov();
    let until = T0 + 300_000;
    let e = g.on_banned(Some(Duration::from_secs(120)), Some(until));
    assert_eq!(
        e,
        Error::Banned {
            until_ms: until,
            retry_after: Duration::from_secs(300)
        }
    );
    clock.advance(Duration::from_secs(200));
    assert!(
        matches!(g.acquire(1, Priority::Order), Err(Error::Banned { until_ms, .. }) if until_ms == until)
    );
    clock.advance(Duration::from_secs(100));
    g.acquire(1, Priority::Order).unwrap();
}

#[test]
fn a_shorter_429_never_shortens_a_ban() {
    let (clock, g) = gov();
    g.on_banned(Some(Duration::from_secs(600)), None);
    g.on_rate_limited(Some(Duration::from_secs(1)));
    clock.advance(Duration::from_secs(5));
    assert!(matches!(g.check_blocked(), Err(Error::Banned { .. })));
}

#[test]
fn a_single_call_heavier_than_the_budget_still_goes_in_a_fresh_minute() {
    let (clock, g) = gov();
    g.set_limit(10);
    g.acquire(80, Priority::Read).unwrap();
    assert!(clock.sleeps().is_empty());
}

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

// ------------------------------------------------------- unfilled order count

const TEN_S: i64 = 10_000;
const DAY: i64 = 86_400_000;

#[test]
fn order_count_headers_are_read_case_insensitively() {
    assert_eq!(
        order_counts([
            ("x-mbx-order-count-10s", "7"),
            ("X-MBX-ORDER-COUNT-1D", " 1234 "),
            ("x-mbx-used-weight-1m", "3"),
            ("x-mbx-order-count-", "1"),
            ("x-mbx-order-count-10x", "1"),
        ]),
        vec![(TEN_S, 7), (DAY, 1234)]
    );
    assert_eq!(
        order_counts([("X-Mbx-Order-Count-1M", "2")]),
        vec![(60_000, 2)]
    );
    assert_eq!(
        parse_order_limit_window("Too many new orders; current limit is 100 orders per 10 SECOND."),
        Some(TEN_S)
    );
    assert_eq!(
        parse_order_limit_window("Too many new orders; current limit is 200000 orders per 1 DAY."),
        Some(DAY)
    );
    assert_eq!(parse_order_limit_window("Too many new orders."), None);
}

#[test]
fn order_cap_keeps_a_margin() {
    assert_eq!(order_cap(100), 95);
    assert_eq!(order_cap(200_000), 190_000);
    assert_eq!(order_cap(10), 9);
    assert_eq!(order_cap(1), 1);
}

#[test]
fn orders_are_paced_within_the_ten_second_window() {
    let (clock, g) = gov();
    g.set_order_limits(&[(TEN_S, 10), (DAY, 1000)]);
    clock.advance(Duration::from_millis(9_000));
    // 9 (the cap) go at once.
    for _ in 0..9 {
        g.wait_order_admissible().unwrap();
        g.acquire_order().unwrap();
        g.order_answered();
    }
    assert!(clock.sleeps().is_empty());
    assert_eq!(g.estimated_order_counts(), vec![(TEN_S, 9), (DAY, 9)]);
    // The 10th waits for the next window (1 s + margin away: a short wait).
    g.wait_order_admissible().unwrap();
    assert_eq!(
        clock.sleeps(),
        vec![Duration::from_millis(1_000 + WINDOW_MARGIN_MS as u64)]
    );
    assert_eq!(g.estimated_order_counts(), vec![(TEN_S, 0), (DAY, 9)]);
}

#[test]
fn a_long_wait_defers_the_order_instead() {
    let (clock, g) = gov();
    g.set_order_limits(&[(TEN_S, 10)]);
    clock.advance(Duration::from_millis(1_000));
    for _ in 0..9 {
        g.acquire_order().unwrap();
        g.order_answered();
    }
    let e = g.wait_order_admissible().unwrap_err();
    assert_eq!(
        e,
        Error::RateLimited {
            retry_after: Duration::from_millis(9_000 + WINDOW_MARGIN_MS as u64)
        }
    );
    assert!(clock.sleeps().is_empty(), "no sleep: deferred");
    // A pre-stamped order still books up to the full limit, not past it.
    g.acquire_order().unwrap();
    assert!(matches!(g.acquire_order(), Err(Error::RateLimited { .. })));
    // Reads are not affected.
    g.acquire(1, Priority::Read).unwrap();
}

#[test]
fn fills_reported_by_the_header_free_room() {
    let (clock, g) = gov();
    g.set_order_limits(&[(TEN_S, 10), (DAY, 1000)]);
    clock.advance(Duration::from_millis(3_000));
    for _ in 0..9 {
        g.acquire_order().unwrap();
        g.order_answered();
    }
    assert!(g.wait_order_admissible().is_err());
    // The exchange answers the next order (booked at the limit) with counts
    // lowered by fills: 4 unfilled in the window.
    g.acquire_order().unwrap();
    g.observe_order_counts(&[(TEN_S, 4), (DAY, 40)]);
    g.order_answered();
    assert_eq!(g.estimated_order_counts(), vec![(TEN_S, 4), (DAY, 40)]);
    g.wait_order_admissible().unwrap();
    assert!(clock.sleeps().is_empty());
}

#[test]
fn orders_in_flight_are_added_to_the_reported_count() {
    let (clock, g) = gov();
    g.set_order_limits(&[(TEN_S, 100)]);
    clock.advance(Duration::from_millis(3_000));
    g.acquire_order().unwrap();
    g.acquire_order().unwrap();
    g.acquire_order().unwrap();
    // The first answer says 1: the two others are still on their way.
    g.observe_order_counts(&[(TEN_S, 1)]);
    g.order_answered();
    assert_eq!(g.estimated_order_counts(), vec![(TEN_S, 3)]);
}

#[test]
fn near_a_boundary_a_header_only_raises_the_estimate() {
    let (clock, g) = gov();
    g.set_order_limits(&[(TEN_S, 100)]);
    clock.advance(Duration::from_millis(9_900));
    for _ in 0..50 {
        g.acquire_order().unwrap();
        g.order_answered();
    }
    // 100 ms into the next window on our clock: the header may be the new
    // window's (low) or the old one's; the old window is kept until +250 ms.
    clock.advance(Duration::from_millis(200));
    g.observe_order_counts(&[(TEN_S, 2)]);
    assert_eq!(g.estimated_order_counts(), vec![(TEN_S, 50)]);
    clock.advance(Duration::from_millis(200));
    assert_eq!(g.estimated_order_counts(), vec![(TEN_S, 0)]);
}

#[test]
fn a_1015_blocks_new_orders_only_until_the_window_ends() {
    let (clock, g) = gov();
    g.set_order_limits(&[(TEN_S, 100), (DAY, 200_000)]);
    clock.advance(Duration::from_millis(4_000));
    let e = g.on_order_rate_limited(
        None,
        "Too many new orders; current limit is 100 orders per 10 SECOND.",
    );
    let wait = Duration::from_millis(6_000 + WINDOW_MARGIN_MS as u64);
    assert_eq!(e, Error::RateLimited { retry_after: wait });
    assert_eq!(g.estimated_order_counts(), vec![(TEN_S, 100), (DAY, 0)]);
    assert!(matches!(g.acquire_order(), Err(Error::RateLimited { .. })));
    assert!(matches!(
        g.wait_order_admissible(),
        Err(Error::RateLimited { .. })
    ));
    // Reads and cancels go on.
    g.acquire(4, Priority::Read).unwrap();
    g.acquire(1, Priority::Order).unwrap();
    g.check_blocked().unwrap();
    clock.advance(wait);
    g.wait_order_admissible().unwrap();
    g.acquire_order().unwrap();
    // Retry-After, when sent, wins.
    let e = g.on_order_rate_limited(Some(Duration::from_secs(3)), "Too many new orders.");
    assert_eq!(
        e,
        Error::RateLimited {
            retry_after: Duration::from_secs(3)
        }
    );
}

#[test]
fn order_limits_come_from_exchange_info_and_keep_the_estimate() {
    let (clock, g) = gov();
    assert_eq!(g.order_limits(), vec![(TEN_S, 100), (DAY, 200_000)]);
    clock.advance(Duration::from_millis(1_000));
    g.acquire_order().unwrap();
    g.order_answered();
    g.set_order_limits(&[(TEN_S, 50), (DAY, 160_000)]);
    assert_eq!(g.order_limits(), vec![(TEN_S, 50), (DAY, 160_000)]);
    assert_eq!(g.estimated_order_counts(), vec![(TEN_S, 1), (DAY, 1)]);
    g.set_order_limits(&[]);
    g.set_order_limits(&[(TEN_S, 0)]);
    assert_eq!(g.order_limits(), vec![(TEN_S, 50), (DAY, 160_000)]);
    assert_eq!(interval_ms("SECOND", 10), Some(TEN_S));
    assert_eq!(interval_ms("DAY", 1), Some(DAY));
    assert_eq!(interval_ms("WEEK", 1), None);
}

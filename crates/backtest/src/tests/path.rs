use rust_decimal_macros::dec;

use crate::path::{points, PathRule};
use crate::Candle;

fn candle(open: &str, high: &str, low: &str, close: &str) -> Candle {
    Candle {
        open_time_ms: 60_000,
        close_time_ms: 119_999,
        open: open.parse().unwrap(),
        high: high.parse().unwrap(),
        low: low.parse().unwrap(),
        close: close.parse().unwrap(),
        volume: dec!(1),
    }
}

#[test]
fn the_path_visits_open_extremes_and_close_in_the_rules_order() {
    // (candle, rule, the two extremes in the order visited)
    let cases = [
        // open nearer the low: low first under `nearer`, whatever the colour
        (
            ("100", "110", "98", "95"),
            PathRule::NearerFirst,
            ("98", "110"),
        ),
        (
            ("100", "110", "98", "95"),
            PathRule::Direction,
            ("110", "98"),
        ),
        // open nearer the high
        (
            ("108", "110", "90", "109"),
            PathRule::NearerFirst,
            ("110", "90"),
        ),
        (
            ("108", "110", "90", "109"),
            PathRule::Direction,
            ("90", "110"),
        ),
        // a tie: low first
        (
            ("100", "105", "95", "100"),
            PathRule::NearerFirst,
            ("95", "105"),
        ),
        (
            ("100", "105", "95", "100"),
            PathRule::Direction,
            ("95", "105"),
        ),
    ];
    for ((o, h, l, c), rule, (a, b)) in cases {
        let k = candle(o, h, l, c);
        let p = points(&k, rule);
        let prices: Vec<String> = p.iter().map(|(_, x)| x.to_string()).collect();
        assert_eq!(prices, [o, a, b, c], "{rule} on {o} {h} {l} {c}");
        let times: Vec<i64> = p.iter().map(|(t, _)| *t).collect();
        assert_eq!(times, [60_000, 79_999, 99_999, 119_999]);
    }
}

#[test]
fn path_rules_parse_by_name_and_refuse_others() {
    assert_eq!("nearer".parse::<PathRule>(), Ok(PathRule::NearerFirst));
    assert_eq!("direction".parse::<PathRule>(), Ok(PathRule::Direction));
    let err = "random".parse::<PathRule>().unwrap_err();
    assert!(err.contains("nearer") && err.contains("direction"), "{err}");
    assert_eq!(PathRule::default().as_str(), "nearer");
}

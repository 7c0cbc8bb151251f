use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::metrics::{cagr, profit_factor, sharpe, sortino, win_rate_pct, Series, Tracker};

const DAY: i64 = 86_400_000;

#[test]
fn drawdown_depth_and_duration_from_the_running_peak() {
    let mut t = Tracker::new(0, dec!(1000), 100);
    // up to 1200, down to 900 (−25 %), back to 1200 three days after the peak.
    for (time, eq) in [
        (DAY, dec!(1200)),
        (2 * DAY, dec!(900)),
        (3 * DAY, dec!(1100)),
        (4 * DAY, dec!(1200)),
        (5 * DAY, dec!(1150)),
    ] {
        t.observe(time, eq, false);
    }
    let f = t.finish();
    assert_eq!(f.max_drawdown_pct, dec!(25));
    assert_eq!(f.max_drawdown_duration_s, 3 * 86_400);
    assert_eq!(f.total_return_pct, dec!(15));
    assert_eq!(f.start_equity, dec!(1000));
    assert_eq!(f.final_equity, dec!(1150));
}

#[test]
fn a_drawdown_never_recovered_lasts_until_the_end() {
    let mut t = Tracker::new(0, dec!(1000), 100);
    t.observe(DAY, dec!(1100), false);
    t.observe(10 * DAY, dec!(990), false);
    let f = t.finish();
    assert_eq!(f.max_drawdown_pct, dec!(10));
    assert_eq!(f.max_drawdown_duration_s, 9 * 86_400);
}

#[test]
fn exposure_counts_the_time_a_position_was_held() {
    let mut t = Tracker::new(0, dec!(100), 10);
    t.observe(1_000, dec!(100), true); // holding from 1 s
    t.observe(4_000, dec!(101), false); // sold at 4 s
    t.observe(10_000, dec!(101), false);
    assert_eq!(t.finish().exposure_pct, dec!(30));
}

#[test]
fn ratios_of_known_series() {
    // Constant growth: no dispersion, no Sharpe; no losing day, no Sortino.
    assert_eq!(sharpe(&[0.01, 0.01, 0.01]), None);
    assert_eq!(sortino(&[0.01, 0.02]), None);
    assert_eq!(sharpe(&[0.01]), None);
    // (0, 0.02): mean 0.01, sample sd 0.02/√2, so the ratio is √½ · √365 ≈ 13.51
    let s = sharpe(&[0.0, 0.02]).unwrap();
    assert!((s - 0.5f64.sqrt() * 365f64.sqrt()).abs() < 1e-9, "{s}");
    // mean 0, downside √(0.01²/2)
    let so = sortino(&[0.01, -0.01]).unwrap();
    assert!(so.abs() < 1e-12, "{so}");
    // Doubling in a year is 100 % a year; in half a year, 300 %.
    let y = 365 * DAY;
    assert!((cagr(dec!(100), dec!(200), y).unwrap() - 1.0).abs() < 1e-9);
    assert!((cagr(dec!(100), dec!(200), y / 2).unwrap() - 3.0).abs() < 1e-9);
    assert_eq!(cagr(dec!(100), dec!(200), DAY - 1), None, "under a day");
    assert_eq!(profit_factor(dec!(30), dec!(-10)), Some(dec!(3)));
    assert_eq!(profit_factor(dec!(30), Decimal::ZERO), None);
    assert_eq!(win_rate_pct(3, 1), Some(dec!(75)));
    assert_eq!(win_rate_pct(0, 0), None);
}

#[test]
fn daily_returns_feed_the_ratios_and_cagr_needs_a_day() {
    let mut t = Tracker::new(0, dec!(100), 10);
    t.observe(DAY / 2, dec!(101), false);
    let short = t.clone().finish();
    assert_eq!(short.cagr_pct, None);
    assert_eq!(short.sharpe, None, "one day is no series");
    t.observe(DAY + 1, dec!(100), false);
    t.observe(2 * DAY + 1, dec!(102), false);
    let f = t.finish();
    assert!(f.sharpe.is_some() && f.sortino.is_some(), "{f:?}");
    assert!(f.cagr_pct.is_some());
}

#[test]
fn a_long_series_is_thinned_but_keeps_its_ends() {
    let mut s = Series::new(100);
    for i in 0..100_000 {
        s.push(i, Decimal::from(i));
    }
    let pts = s.finish();
    assert!(pts.len() <= 201, "{}", pts.len());
    assert!(pts.len() >= 100, "{}", pts.len());
    assert_eq!(pts.first(), Some(&(0, Decimal::ZERO)));
    assert_eq!(pts.last(), Some(&(99_999, Decimal::from(99_999))));
    assert!(pts.windows(2).all(|w| w[0].0 < w[1].0));
}

use std::ops::Bound;

use rust_decimal_macros::dec;

use super::PriceBand;
use crate::rules::SymbolRules;

fn rules() -> SymbolRules {
    crate::rules::tests::sol()
}

#[test]
fn comparisons_keep_the_side_of_the_line_the_last_price_is_on() {
    let mut b = PriceBand::anywhere();
    assert!(b.at_or_above(dec!(140), dec!(135)));
    assert!(!b.at_or_above(dec!(140), dec!(142.5)));
    assert!(!b.at_or_below(dec!(140), dec!(100)));
    assert_eq!(b.lower(), Bound::Included(dec!(135)));
    assert_eq!(b.upper(), Bound::Excluded(dec!(142.5)));
    assert!(b.contains(dec!(135)) && b.contains(dec!(142.499)));
    assert!(!b.contains(dec!(134.999)) && !b.contains(dec!(142.5)));
    // A looser line changes nothing; a tighter one narrows.
    b.raise(Bound::Excluded(dec!(120)));
    assert_eq!(b.lower(), Bound::Included(dec!(135)));
    b.raise(Bound::Excluded(dec!(135)));
    assert!(!b.contains(dec!(135)));
    b.cap(Bound::Included(dec!(142.5)));
    assert_eq!(b.upper(), Bound::Excluded(dec!(142.5)));
}

#[test]
fn meeting_two_bands_keeps_what_both_contain() {
    let mut a = PriceBand::between(Some(dec!(10)), Some(dec!(20)));
    let b = PriceBand::between(Some(dec!(15)), None);
    a.meet(&b);
    assert!(!a.contains(dec!(15)) && a.contains(dec!(15.01)) && a.contains(dec!(19.99)));
    assert!(!a.contains(dec!(20)));
    let mut p = PriceBand::anywhere();
    p.pin(dec!(17));
    a.meet(&p);
    assert!(a.contains(dec!(17)) && !a.contains(dec!(17.001)) && !a.contains(dec!(16.999)));
}

#[test]
fn a_position_stays_on_the_side_of_min_notional_it_is_on() {
    let r = rules();
    // 0.05 SOL: worth 6 at 120, not dust; at 100 exactly 5 (not below the
    // minimum), dust under 100.
    let mut b = PriceBand::anywhere();
    assert!(!b.is_dust(&r, dec!(0.05), dec!(120)));
    assert!(b.contains(dec!(100)) && b.contains(dec!(1000)));
    assert!(!b.contains(dec!(99.999)));
    assert!(b.contains_range(dec!(100), dec!(500)) && !b.contains_range(dec!(90), dec!(500)));
    // Dust at 50: stays dust up to just under 100.
    let mut d = PriceBand::anywhere();
    assert!(d.is_dust(&r, dec!(0.05), dec!(50)));
    assert!(d.contains(dec!(99.999)) && !d.contains(dec!(100)));
    // Nothing held (or less than a step): dust at every price above 0.
    let mut z = PriceBand::anywhere();
    assert!(z.is_dust(&r, dec!(0.001), dec!(50)));
    assert!(z.contains(dec!(1_000_000)) && !z.contains(dec!(0)));
}

#[test]
fn a_pinned_band_holds_its_price_alone() {
    let b = PriceBand::at(dec!(3));
    assert!(b.contains(dec!(3)) && !b.contains(dec!(3.0000001)) && !b.contains(dec!(2.9999999)));
}

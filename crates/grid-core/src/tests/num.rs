//! Unit tests of `num.rs` (kept beside it, out of the production file).

use super::*;
use rust_decimal_macros::dec;

#[test]
fn sums_are_exact_whatever_the_scale() {
    let mut s = Sum::<16>::default();
    s.add(dec!(0.00000001));
    s.add(dec!(142.50000000));
    s.add(dec!(1e-20)); // beyond 16 decimals: through Decimal
    s.add(dec!(-0.5));
    assert_eq!(s.get(), dec!(142.00000001) + dec!(1e-20));
    let mut p = Sum::<16>::default();
    p.add_product(dec!(142.500), dec!(0.56));
    p.add_product(dec!(135.000), dec!(0.88));
    p.add_product(dec!(127.500), dec!(1.17));
    p.add_product(dec!(0.123456789), dec!(2)); // 9 decimals: through Decimal
    assert_eq!(p.get(), dec!(347.775) + dec!(0.246913578));
}

#[test]
fn magnitude_check_matches_comparison() {
    for (v, pos, ok) in [
        (dec!(0), false, true),
        (dec!(0), true, false),
        (dec!(-0.00000001), false, false),
        (dec!(100000000000), true, true),
        (dec!(100000000000.00000001), true, false),
        (dec!(99999999999.999999999999999), true, true),
        (dec!(1e-28), true, true),
    ] {
        assert_eq!(within_1e11(v, pos), ok, "{v}");
    }
}

#[test]
fn rounds_once_half_even_at_28_digits() {
    assert_eq!(
        div28(dec!(347.775), dec!(2.61)).unwrap().to_string(),
        "133.2471264367816091954022989"
    );
    assert_eq!(
        div28(dec!(1), dec!(3)).unwrap().to_string(),
        "0.3333333333333333333333333333"
    );
    assert_eq!(
        div28(dec!(2), dec!(3)).unwrap().to_string(),
        "0.6666666666666666666666666667"
    );
    assert_eq!(
        div28(dec!(-2), dec!(3)).unwrap().to_string(),
        "-0.6666666666666666666666666667"
    );
    assert_eq!(div28(dec!(10), dec!(4)).unwrap(), dec!(2.5));
    assert_eq!(div28(dec!(1000), dec!(0.001)).unwrap(), dec!(1000000));
    assert_eq!(div28(dec!(1), dec!(0)), None);
}

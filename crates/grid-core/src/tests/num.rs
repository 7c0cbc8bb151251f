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

// --- Integer fast paths against their `Decimal` definitions ----------------

use proptest::prelude::*;

/// Any decimal: up to 96-bit mantissas, any scale, either sign, -0 too.
fn arb_any() -> impl Strategy<Value = Decimal> {
    (
        prop_oneof![
            Just(0u128),
            0u128..1000,
            0u128..(1 << 32),
            0u128..(1 << 64),
            0u128..(1 << 96),
        ],
        0u32..=28,
        any::<bool>(),
    )
        .prop_map(|(m, s, neg)| {
            let d = Decimal::from_i128_with_scale(m as i128, s);
            if neg {
                -d
            } else {
                d
            }
        })
}

/// `(a, b)` with the same value at different scales now and then.
fn arb_pair() -> impl Strategy<Value = (Decimal, Decimal)> {
    (arb_any(), arb_any(), 0u32..=20, any::<bool>()).prop_map(|(a, b, k, rescale)| {
        if rescale {
            let mut c = a;
            c.rescale((a.scale() + k).min(28));
            (a, c)
        } else {
            (a, b)
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn units8_nonneg_is_units8_when_nonnegative(v in arb_any()) {
        let want = units8(v).and_then(|u| u64::try_from(u).ok());
        prop_assert_eq!(units8_nonneg(&v), want);
    }

    #[test]
    fn exchange_units8_agrees_when_it_accepts(
        v in prop_oneof![arb_any(), (0i64..i64::MAX).prop_map(|m| Decimal::new(m, 8))],
    ) {
        let (u, ok) = exchange_units8(&v);
        if ok {
            prop_assert_eq!(Some(u), units8_nonneg(&v));
            prop_assert!(u64::try_from(MAX_UNITS8).is_err() || i128::from(u) <= MAX_UNITS8);
        }
    }

    #[test]
    fn cmp_dec_is_decimal_order((a, b) in arb_pair()) {
        prop_assert_eq!(cmp_dec(a, b), a.cmp(&b), "{} vs {}", a, b);
        prop_assert_eq!(cmp_dec(b, a), b.cmp(&a), "{} vs {}", b, a);
        prop_assert_eq!(dec_lt(a, b), a < b);
        prop_assert_eq!(dec_gt(a, b), a > b);
    }

    #[test]
    fn mul_dec_is_decimal_mul((a, b) in arb_pair()) {
        if let Some(want) = a.checked_mul(b) {
            prop_assert_eq!(mul_dec(a, b).serialize(), want.serialize(), "{} * {}", a, b);
        }
        // Prices and quantities: at most 12 digits, at most 14 decimals.
        let small = |d: Decimal| {
            let m = (d.mantissa() % 1_000_000_000_000) as i64;
            Decimal::new(m, d.scale().min(14))
        };
        let (x, y) = (small(a), small(b));
        prop_assert_eq!(mul_dec(x, y).serialize(), (x * y).serialize(), "{} * {}", x, y);
    }

    #[test]
    fn sub_dec_is_decimal_sub((a, b) in arb_pair()) {
        if let Some(want) = a.checked_sub(b) {
            prop_assert_eq!(sub_dec(a, b).serialize(), want.serialize(), "{} - {}", a, b);
        }
        if let Some(want) = b.checked_sub(a) {
            prop_assert_eq!(sub_dec(b, a).serialize(), want.serialize(), "{} - {}", b, a);
        }
        prop_assert_eq!(sub_dec(a, a).serialize(), (a - a).serialize(), "{} - itself", a);
        let small = |d: Decimal| {
            let m = (d.mantissa() % 1_000_000_000_000) as i64;
            Decimal::new(m, d.scale().min(14))
        };
        let (x, y) = (small(a), small(b));
        prop_assert_eq!(sub_dec(x, y).serialize(), (x - y).serialize(), "{} - {}", x, y);
        prop_assert_eq!(sub_dec(Decimal::ONE, y).serialize(), (Decimal::ONE - y).serialize());
    }

    /// What `reconcile` relies on to skip `want + executed` when nothing was
    /// executed: `x + 0` is `x`, bit for bit, for `x` not zero.
    #[test]
    fn adding_zero_to_a_nonzero_decimal_changes_nothing(x in arb_any(), z in arb_any()) {
        let zero = Decimal::from_i128_with_scale(0, z.scale());
        let zero = if z.is_sign_negative() { -zero } else { zero };
        if !x.is_zero() {
            prop_assert_eq!((x + zero).serialize(), x.serialize(), "{} + {}", x, zero);
            prop_assert_eq!((x + Decimal::ZERO).serialize(), x.serialize());
        }
    }

    #[test]
    fn sum_get_splits_units_as_before(units in prop_oneof![
        any::<i64>().prop_map(i128::from),
        -(1i128 << 100)..(1i128 << 100),
    ]) {
        let s8 = Sum::<8> { units, rest: Decimal::ZERO };
        let s16 = Sum::<16> { units, rest: Decimal::ZERO };
        // The formula before the 64-bit division.
        fn old<const S: u32>(units: i128) -> Decimal {
            let whole = units / POW10[S as usize];
            let frac = units % POW10[S as usize];
            let frac = Decimal::try_from_i128_with_scale(frac, S).unwrap_or_default();
            let whole = Decimal::try_from_i128_with_scale(whole, 0).unwrap_or(Decimal::MAX);
            whole + frac
        }
        prop_assert_eq!(s8.get().serialize(), old::<8>(units).serialize());
        prop_assert_eq!(s16.get().serialize(), old::<16>(units).serialize());
        // Small sums too (a few units, whole numbers, fractions only).
        let small = units % 1_000_000_000_000_000_000;
        for u in [small, small % 100_000_000, small / 100_000_000 * 100_000_000] {
            let s = Sum::<8> { units: u, rest: Decimal::ZERO };
            prop_assert_eq!(s.get().serialize(), old::<8>(u).serialize(), "{}", u);
        }
    }
}

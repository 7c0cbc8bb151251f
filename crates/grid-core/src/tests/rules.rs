//! Unit tests of `rules.rs` (kept beside it, out of the production file).

use super::*;
use rust_decimal_macros::dec;

pub fn sol() -> SymbolRules {
    SymbolRules {
        base_asset: "SOL".into(),
        quote_asset: "USDC".into(),
        tick_size: dec!(0.00100000),
        step_size: dec!(0.01),
        min_qty: dec!(0.01),
        max_qty: dec!(9000),
        min_price: dec!(0.001),
        max_price: dec!(1000000),
        min_notional: dec!(5),
        max_notional: None,
        trailing_delta_min: 10,
        trailing_delta_max: 2000,
        max_num_orders: 200,
        max_num_algo_orders: None,
        percent_price_by_side: None,
    }
    .validate()
    .unwrap()
}

#[test]
fn rounding_keeps_the_tick_scale() {
    let r = sol();
    assert_eq!(r.round_price_down(dec!(142.5)).to_string(), "142.500");
    assert_eq!(r.round_price_up(dec!(134.44631)).to_string(), "134.447");
    assert_eq!(r.round_price_up(dec!(134.447)).to_string(), "134.447");
    assert_eq!(r.round_qty_down(dec!(0.5614)).to_string(), "0.56");
    assert_eq!(r.round_qty_down(dec!(-1)), dec!(0));
}

#[test]
fn tradability_names_the_failing_filter() {
    let r = sol();
    assert_eq!(
        r.check_tradable(dec!(0.03), dec!(150)),
        Err(NotTradable::MinNotional)
    );
    assert_eq!(
        r.check_tradable(dec!(0.001), dec!(15000)),
        Err(NotTradable::MinQty)
    );
    assert_eq!(
        r.check_tradable(dec!(9000.01), dec!(1)),
        Err(NotTradable::MaxQty)
    );
    assert_eq!(
        r.check_tradable(dec!(1), dec!(0.0005)),
        Err(NotTradable::PriceFilter)
    );
    assert_eq!(r.check_tradable(dec!(0.04), dec!(125)), Ok(()));
    assert!(r.is_dust(dec!(0.039), dec!(125)));
    assert!(!r.is_dust(dec!(0.049), dec!(125)));
}

/// The last price is a valuation price: after the tick size grows it may sit
/// off the new grid, and a position worth 195 USDC is still no dust.
#[test]
fn a_last_price_off_the_tick_grid_does_not_make_a_position_dust() {
    let mut r = sol();
    r.tick_size = dec!(0.10);
    assert!(!r.is_dust(dec!(1.447551), dec!(134.99)));
    assert!(r.is_dust(dec!(0.0369), dec!(134.99)));
    assert!(r.is_dust(dec!(1), dec!(0)));
}

#[test]
fn unusable_rules_are_refused() {
    let mut r = sol();
    r.tick_size = dec!(0);
    assert_eq!(r.validate().unwrap_err().field, "rules.tick_size");
    let mut r = sol();
    r.min_qty = dec!(10000);
    assert_eq!(r.validate().unwrap_err().field, "rules.min_qty");
}

// --- Fast paths of the rounding against the `Decimal` formulas -------------

use proptest::prelude::*;

/// Bit-for-bit equality: the same mantissa, scale and sign (so the same text).
fn same(a: Decimal, b: Decimal) -> bool {
    a.serialize() == b.serialize()
}

/// Decimals of up to 20 digits and up to 28 decimals, either sign, -0 too.
fn arb_dec() -> impl Strategy<Value = Decimal> {
    (
        prop_oneof![
            Just(0u128),
            0u128..1000,
            0u128..(1 << 32),
            0u128..(1 << 64),
            0u128..100_000_000_000_000_000_000,
        ],
        0u32..=28,
        prop::bool::weighted(0.1),
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

/// Ticks and steps: powers of ten (the fast path) and others (the fallback),
/// normalized or not.
fn arb_size() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        4 => (0u32..=8).prop_map(|e| Decimal::new(1, e)),
        1 => prop::sample::select(vec![
            Decimal::new(10, 3),
            Decimal::new(5, 1),
            Decimal::new(25, 2),
            Decimal::new(5, 0),
            Decimal::new(10, 0),
            Decimal::new(100_000_000, 8),
        ]),
    ]
}

fn rules_with_step(step: Decimal) -> SymbolRules {
    SymbolRules {
        step_size: step,
        ..sol()
    }
}

/// The reference of `rescaled`: normalize, then rescale up to `scale`.
fn rescaled_decimal(x: Decimal, scale: u32) -> Decimal {
    let mut v = x.normalize();
    if v.scale() < scale {
        v.rescale(scale);
    }
    v
}

/// `quote` close to `k` steps of `price`: exactly on, or one unit of the last
/// decimal (or 10^-28) above or below, where rounding could cross a step.
fn arb_near_step() -> impl Strategy<Value = (Decimal, Decimal, u32)> {
    (
        1u64..100_000_000,
        0u32..=8,
        (1i64..100_000_000_000, 0u32..=8),
        prop::sample::select(vec![-2i32, -1, 0, 1, 2]),
    )
        .prop_map(|(k, e, (pm, ps), nudge)| {
            let price = Decimal::new(pm, ps);
            let exact = Decimal::from_i128_with_scale(i128::from(k), e) * price;
            let tiny = match nudge.abs() {
                1 => Decimal::new(1, 28),
                2 => Decimal::new(1, exact.scale()),
                _ => Decimal::ZERO,
            };
            let quote = if nudge < 0 {
                exact - tiny
            } else {
                exact + tiny
            };
            (quote, price, e)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn fast_rd_and_ru_give_the_decimal_digits(x in arb_dec(), s in arb_size()) {
        prop_assert!(same(rd(x, s), rd_decimal(x, s)), "rd({x}, {s})");
        prop_assert!(same(ru(x, s), ru_decimal(x, s)), "ru({x}, {s})");
    }

    #[test]
    fn fast_multiple_check_is_the_remainder_check(x in arb_dec(), s in arb_size()) {
        prop_assert_eq!(is_multiple(x, s), (x % s).is_zero(), "{} % {}", x, s);
    }

    #[test]
    fn fast_rescaled_is_normalize_then_rescale(x in arb_dec(), scale in 0u32..=28) {
        prop_assert!(same(rescaled(x, scale), rescaled_decimal(x, scale)), "{x} at {scale}");
    }

    #[test]
    fn qty_for_quote_is_rd_of_the_decimal_quotient(
        q in (1u128..100_000_000_000_000_000_000, 0u32..=28),
        p in (1u128..100_000_000_000_000_000_000, 0u32..=28),
        step in arb_size(),
    ) {
        let quote = Decimal::from_i128_with_scale(q.0 as i128, q.1);
        let price = Decimal::from_i128_with_scale(p.0 as i128, p.1);
        // `rd` of quotients near Decimal's range overflows (panics) in the
        // reference too; keep them below 10^18 (at most 10^26 steps).
        prop_assume!(quote
            .checked_div(price)
            .is_some_and(|v| v < Decimal::from(10u64.pow(18))));
        let r = rules_with_step(step);
        let want = r.round_qty_down(quote / price);
        prop_assert!(same(r.qty_for_quote(quote, price), want), "{quote} / {price} at {step}");
    }

    #[test]
    fn qty_for_quote_near_a_step_boundary((quote, price, e) in arb_near_step()) {
        prop_assume!(quote > Decimal::ZERO);
        let r = rules_with_step(Decimal::new(1, e));
        let want = r.round_qty_down(quote / price);
        prop_assert!(same(r.qty_for_quote(quote, price), want), "{quote} / {price} at 1e-{e}");
    }

    #[test]
    fn tradability_is_the_decimal_comparison(
        qty in arb_dec(),
        price in arb_dec(),
        max_notional in prop::option::of(0u32..100_000),
    ) {
        let r = SymbolRules { max_notional: max_notional.map(Decimal::from), ..sol() };
        // The same filters written with `Decimal`'s operators.
        let want = if !(price > Decimal::ZERO
            && price >= r.min_price
            && price <= r.max_price
            && (price % r.tick_size).is_zero())
        {
            Err(NotTradable::PriceFilter)
        } else if qty <= Decimal::ZERO || qty < r.min_qty {
            Err(NotTradable::MinQty)
        } else if qty > r.max_qty {
            Err(NotTradable::MaxQty)
        } else if qty * price < r.min_notional {
            Err(NotTradable::MinNotional)
        } else if r.max_notional.is_some_and(|m| m > Decimal::ZERO && qty * price > m) {
            Err(NotTradable::MaxNotional)
        } else {
            Ok(())
        };
        prop_assert_eq!(r.check_tradable(qty, price), want);
    }
}

#[test]
fn changes_from_lists_what_differs_and_differs_for_orders_ignores_percent_price() {
    let old = sol();
    assert!(old.changes_from(&old).is_empty());
    assert!(!old.differs_for_orders(&old));

    // Same values at another scale: no change (a re-read writes "0.00100000").
    let mut same = old.clone();
    same.tick_size = dec!(0.00100000);
    same.min_notional = dec!(5.00000000);
    assert!(same.changes_from(&old).is_empty());
    assert!(!same.differs_for_orders(&old));

    let mut new = old.clone();
    new.tick_size = dec!(0.01);
    new.min_notional = dec!(10);
    new.max_notional = Some(dec!(9000000.00));
    let c = new.changes_from(&old);
    let fields: Vec<&str> = c.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(fields, ["tick_size", "min_notional", "max_notional"]);
    assert_eq!((c[0].old.as_str(), c[0].new.as_str()), ("0.001", "0.01"));
    assert_eq!((c[2].old.as_str(), c[2].new.as_str()), ("none", "9000000"));
    assert!(new.differs_for_orders(&old));
    assert!(old.differs_for_orders(&new), "symmetric");

    for f in [
        |r: &mut SymbolRules| r.step_size = dec!(0.1),
        |r: &mut SymbolRules| r.min_qty = dec!(0.1),
        |r: &mut SymbolRules| r.max_qty = dec!(100),
        |r: &mut SymbolRules| r.min_price = dec!(0.01),
        |r: &mut SymbolRules| r.max_price = dec!(1000),
        |r: &mut SymbolRules| r.trailing_delta_min = 20,
        |r: &mut SymbolRules| r.trailing_delta_max = 1000,
        |r: &mut SymbolRules| r.max_num_orders = 50,
        |r: &mut SymbolRules| r.max_num_algo_orders = Some(5),
        |r: &mut SymbolRules| r.quote_asset = "USDT".into(),
    ] {
        let mut r = old.clone();
        f(&mut r);
        assert!(r.differs_for_orders(&old), "{:?}", r.changes_from(&old));
        assert_eq!(r.changes_from(&old).len(), 1);
    }

    // PERCENT_PRICE_BY_SIDE is listed but does not call for a new plan.
    let mut p = old.clone();
    p.percent_price_by_side = Some(PercentPriceBySide {
        bid_multiplier_up: dec!(5),
        bid_multiplier_down: dec!(0.2),
        ask_multiplier_up: dec!(5),
        ask_multiplier_down: dec!(0.2),
        avg_price_mins: 5,
    });
    let c = p.changes_from(&old);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].field, "percent_price_by_side");
    assert_eq!(c[0].new, "bid 0.2..5, ask 0.2..5, 5 min");
    assert!(!p.differs_for_orders(&old));
}

#[test]
fn stored_rules_json_has_no_status_and_rejects_unknown_fields() {
    // The basket row's `rules` JSON is the filters only: the symbol status is
    // read fresh from the exchange and never stored with them. A row written
    // by this version reads back identically; a field this version does not
    // know is refused (so a status would not be silently dropped either).
    let r = sol();
    let json = serde_json::to_value(&r).unwrap();
    assert!(json.get("status").is_none());
    let back: SymbolRules = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(back, r);
    let mut with_status = json;
    with_status["status"] = "HALT".into();
    assert!(serde_json::from_value::<SymbolRules>(with_status).is_err());
}

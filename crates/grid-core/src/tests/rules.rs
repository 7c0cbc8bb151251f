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

#[test]
fn unusable_rules_are_refused() {
    let mut r = sol();
    r.tick_size = dec!(0);
    assert_eq!(r.validate().unwrap_err().field, "rules.tick_size");
    let mut r = sol();
    r.min_qty = dec!(10000);
    assert_eq!(r.validate().unwrap_err().field, "rules.min_qty");
}

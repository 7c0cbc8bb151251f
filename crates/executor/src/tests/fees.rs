use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::fees::{commission_in_quote, Commission, Fee};

#[test]
fn a_fee_is_valued_in_the_quote_or_reported() {
    let price = |pair: &str| (pair == "BNBUSDC").then_some(dec!(600));
    // (amount, asset) → value
    let cases = [
        (dec!(0.15), "USDC", Commission::Valued(dec!(0.15))),
        (dec!(0.001), "SOL", Commission::Valued(dec!(0.150))),
        (dec!(0.0002), "BNB", Commission::Valued(dec!(0.12))),
        (Decimal::ZERO, "XYZ", Commission::Valued(Decimal::ZERO)),
        (
            dec!(1),
            "XYZ",
            Commission::Unvalued {
                pair: "XYZUSDC".into(),
            },
        ),
    ];
    for (amount, asset, want) in cases {
        let fee = Fee {
            amount,
            asset,
            trade_price: dec!(150),
        };
        assert_eq!(
            commission_in_quote(fee, "SOL", "USDC", price),
            want,
            "{asset}"
        );
    }
    assert_eq!(
        Commission::Unvalued { pair: "X".into() }.quote(),
        Decimal::ZERO
    );
}

#[test]
fn a_third_asset_price_is_asked_only_for_a_third_asset_fee() {
    let fee = Fee {
        amount: dec!(1),
        asset: "USDC",
        trade_price: dec!(150),
    };
    let mut asked = false;
    let _ = commission_in_quote(fee, "SOL", "USDC", |_| {
        asked = true;
        None
    });
    assert!(!asked);
}

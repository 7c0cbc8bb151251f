//! Unit tests of `types.rs` (kept beside it, out of the production file).

use super::*;
use rust_decimal_macros::dec;

fn names(p: &[(&'static str, String)]) -> Vec<&'static str> {
    p.iter().map(|(k, _)| *k).collect()
}

#[test]
fn limit_params() {
    let p = NewOrder::limit("BTCUSDT", Side::Buy, dec!(0.00100000), dec!(59000.00))
        .client_order_id("grid-1")
        .to_params()
        .unwrap();
    assert_eq!(
        p,
        vec![
            ("symbol", "BTCUSDT".to_string()),
            ("side", "BUY".into()),
            ("type", "LIMIT".into()),
            ("timeInForce", "GTC".into()),
            ("quantity", "0.00100000".into()),
            ("price", "59000.00".into()),
            ("newClientOrderId", "grid-1".into()),
        ]
    );
}

#[test]
fn limit_maker_and_market_never_send_time_in_force_or_price() {
    let p = NewOrder::limit_maker("BTCUSDT", Side::Sell, dec!(1), dec!(2))
        .to_params()
        .unwrap();
    assert_eq!(
        names(&p),
        vec!["symbol", "side", "type", "quantity", "price"]
    );
    let p = NewOrder::market("BTCUSDT", Side::Sell, dec!(1))
        .to_params()
        .unwrap();
    assert_eq!(names(&p), vec!["symbol", "side", "type", "quantity"]);
    let p = NewOrder::market_quote("BTCUSDT", Side::Buy, dec!(10))
        .to_params()
        .unwrap();
    assert_eq!(names(&p), vec!["symbol", "side", "type", "quoteOrderQty"]);
    // Explicitly asking for them is refused, not sent.
    let e = NewOrder::limit_maker("BTCUSDT", Side::Sell, dec!(1), dec!(2))
        .time_in_force(TimeInForce::Gtc)
        .to_params();
    assert!(matches!(e, Err(Error::InvalidRequest(_))));
    let mut m = NewOrder::market("BTCUSDT", Side::Sell, dec!(1));
    m.price = Some(dec!(3));
    assert!(matches!(m.to_params(), Err(Error::InvalidRequest(_))));
}

#[test]
fn stop_orders_need_a_trigger() {
    let o = NewOrder::stop_loss_limit("BTCUSDT", Side::Sell, dec!(0.001), dec!(59000), None, None);
    assert!(matches!(o.to_params(), Err(Error::InvalidRequest(_))));
    let p = NewOrder::stop_loss_limit(
        "BTCUSDT",
        Side::Sell,
        dec!(0.001),
        dec!(59000),
        None,
        Some(150),
    )
    .resp_type(OrderRespType::Result)
    .to_params()
    .unwrap();
    assert_eq!(
        names(&p),
        vec![
            "symbol",
            "side",
            "type",
            "timeInForce",
            "quantity",
            "price",
            "trailingDelta",
            "newOrderRespType"
        ]
    );
    let p = NewOrder::take_profit_limit(
        "BTCUSDT",
        Side::Sell,
        dec!(0.001),
        dec!(61000),
        Some(dec!(60900)),
        Some(100),
    )
    .to_params()
    .unwrap();
    assert!(p.contains(&("stopPrice", "60900".to_string())));
    assert!(p.contains(&("trailingDelta", "100".to_string())));
    assert!(p.contains(&("type", "TAKE_PROFIT_LIMIT".to_string())));
    // A LIMIT never sends stopPrice.
    let mut l = NewOrder::limit("BTCUSDT", Side::Buy, dec!(1), dec!(1));
    l.stop_price = Some(dec!(1));
    assert!(l.to_params().is_err());
}

#[test]
fn refuses_bad_values() {
    assert!(NewOrder::limit("BTCUSDT", Side::Buy, dec!(-1), dec!(1))
        .to_params()
        .is_err());
    assert!(NewOrder::limit("BTCUSDT", Side::Buy, dec!(0), dec!(1))
        .to_params()
        .is_err());
    assert!(NewOrder::limit("btcusdt", Side::Buy, dec!(1), dec!(1))
        .to_params()
        .is_err());
    assert!(NewOrder::limit("BTCUSDT", Side::Buy, dec!(1), dec!(1))
        .client_order_id("has.dot")
        .to_params()
        .is_err());
    assert!(NewOrder::limit("BTCUSDT", Side::Buy, dec!(1), dec!(1))
        .client_order_id("a".repeat(37))
        .to_params()
        .is_err());
    assert!(NewOrder::limit("BTCUSDT", Side::Buy, dec!(1), dec!(1))
        .client_order_id("a".repeat(36))
        .to_params()
        .is_ok());
}

#[test]
fn intervals_round_trip() {
    for i in KlineInterval::ALL {
        assert_eq!(i.as_str().parse::<KlineInterval>().unwrap(), i);
    }
    assert!("2m".parse::<KlineInterval>().is_err());
}

#[test]
fn statuses_round_trip() {
    for s in [
        "NEW",
        "PENDING_NEW",
        "PARTIALLY_FILLED",
        "FILLED",
        "CANCELED",
        "PENDING_CANCEL",
        "REJECTED",
        "EXPIRED",
        "EXPIRED_IN_MATCH",
    ] {
        assert_eq!(s.parse::<OrderStatus>().unwrap().as_str(), s);
    }
    assert!("WHATEVER".parse::<OrderStatus>().is_err());
    assert!(OrderStatus::PartiallyFilled.is_open());
    assert!(OrderStatus::Canceled.is_final());
}

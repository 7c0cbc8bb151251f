use super::*;
use rust_decimal_macros::dec;

/// binance-ws.md §2, the official executionReport example (comments stripped).
const NEW: &str = r#"{"subscriptionId":0,"event":{"e":"executionReport","E":1499405658658,"s":"ETHBTC","c":"mUvoqJxFIILMdfAW5iGSOW","S":"BUY","o":"LIMIT","f":"GTC","q":"1.00000000","p":"0.10264410","P":"0.00000000","F":"0.00000000","g":-1,"C":"","x":"NEW","X":"NEW","r":"NONE","i":4293153,"l":"0.00000000","z":"0.00000000","L":"0.00000000","n":"0","N":null,"T":1499405658657,"t":-1,"v":3,"I":8641984,"w":true,"m":false,"M":false,"O":1499405658657,"Z":"0.00000000","Y":"0.00000000","Q":"0.00000000","W":1499405658657,"V":"NONE"}}"#;

/// The same order's fill, as the FAQ's TRADE example changes it ("w":false,"M":true,"N":"BNB","t":7).
const TRADE: &str = r#"{"subscriptionId":0,"event":{"e":"executionReport","E":1499405658700,"s":"ETHBTC","c":"mUvoqJxFIILMdfAW5iGSOW","S":"BUY","o":"LIMIT","f":"GTC","q":"1.00000000","p":"0.10264410","P":"0.00000000","F":"0.00000000","g":-1,"C":"","x":"TRADE","X":"PARTIALLY_FILLED","r":"NONE","i":4293153,"l":"0.40000000","z":"0.40000000","L":"0.10264410","n":"0.00003079","N":"BNB","T":1499405658699,"t":7,"I":8641990,"w":false,"m":true,"M":true,"O":1499405658657,"Z":"0.04105764","Y":"0.04105764","Q":"0.00000000","W":1499405658657,"V":"NONE"}}"#;

const CANCELED: &str = r#"{"subscriptionId":0,"event":{"e":"executionReport","E":1499405659000,"s":"ETHBTC","c":"cancelReq123","S":"BUY","o":"LIMIT","f":"GTC","q":"1.00000000","p":"0.10264410","P":"0.00000000","F":"0.00000000","g":-1,"C":"mUvoqJxFIILMdfAW5iGSOW","x":"CANCELED","X":"CANCELED","r":"NONE","i":4293153,"l":"0.00000000","z":"0.40000000","L":"0.00000000","n":"0","N":null,"T":1499405658999,"t":-1,"I":8641999,"w":false,"m":false,"M":false,"O":1499405658657,"Z":"0.04105764","Y":"0.00000000","Q":"0.00000000","V":"NONE"}}"#;

/// STP: the maker expired in match (binance-ws.md §2 conditional fields v/A/B/u/U).
const EXPIRED_IN_MATCH: &str = r#"{"subscriptionId":0,"event":{"e":"executionReport","E":1670217957498,"s":"BTCUSDT","c":"wpNzhSclc16pV8g5THIOR3","S":"BUY","o":"LIMIT","f":"GTC","q":"1.200000","p":"1.200000","P":"0.000000","F":"0.000000","g":-1,"C":"","x":"TRADE_PREVENTION","X":"EXPIRED_IN_MATCH","r":"NONE","i":2,"l":"0.000000","z":"0.000000","L":"0.000000","n":"0","N":null,"T":1670217957498,"t":-1,"v":0,"I":12,"w":false,"m":false,"M":false,"O":1670217957437,"Z":"0.000000","Y":"0.000000","Q":"0.000000","W":1670217957437,"V":"EXPIRE_MAKER","A":"1.200000","B":"1.200000","u":1,"U":5,"Cs":"BTCUSDT"}}"#;

fn report(text: &str) -> ExecutionReport {
    match parse_frame(text).unwrap() {
        Frame::Event {
            subscription_id: Some(0),
            event: UserEvent::ExecutionReport(r),
        } => *r,
        other => panic!("{other:?}"),
    }
}

#[test]
fn new_order_report() {
    let r = report(NEW);
    assert_eq!(r.event_time, 1_499_405_658_658);
    assert_eq!(r.symbol, "ETHBTC");
    assert_eq!(r.client_order_id, "mUvoqJxFIILMdfAW5iGSOW");
    assert_eq!(r.order_client_id(), "mUvoqJxFIILMdfAW5iGSOW");
    assert_eq!(r.side, Side::Buy);
    assert_eq!(r.order_type, OrderType::Limit);
    assert_eq!(r.time_in_force, "GTC");
    assert_eq!(r.orig_qty, dec!(1));
    assert_eq!(r.price, dec!(0.10264410));
    assert_eq!(r.price.to_string(), "0.10264410", "exact, scale kept");
    assert_eq!(r.order_list_id, -1);
    assert_eq!(r.orig_client_order_id, None, "C is empty");
    assert_eq!(r.execution_type, ExecutionType::New);
    assert_eq!(r.status, OrderStatus::New);
    assert_eq!(r.order_id, 4_293_153);
    assert_eq!(r.trade_id, None);
    assert_eq!(r.commission_asset, None);
    assert_eq!(r.prevented_match_id, Some(3));
    assert_eq!(r.execution_id, Some(8_641_984));
    assert!(r.is_working);
    assert!(!r.is_maker);
    assert_eq!(r.working_time, Some(1_499_405_658_657));
    assert_eq!(r.stp_mode.as_deref(), Some("NONE"));
    assert_eq!(r.prevented_qty, None);
    assert_eq!(r.trade(), None);
    assert_eq!(r.to_fill(Decimal::ZERO), None);
}

#[test]
fn trade_report_becomes_the_same_trade_and_fill_as_my_trades() {
    let r = report(TRADE);
    assert_eq!(r.execution_type, ExecutionType::Trade);
    assert_eq!(r.status, OrderStatus::PartiallyFilled);
    assert_eq!(r.last_qty, dec!(0.4));
    assert_eq!(r.cumulative_qty, dec!(0.4));
    assert_eq!(r.last_price, dec!(0.10264410));
    assert_eq!(r.cumulative_quote_qty, dec!(0.04105764));
    assert_eq!(r.commission, dec!(0.00003079));
    assert!(r.is_maker);
    let t = r.trade().unwrap();
    assert_eq!(
        t,
        ExchangeTrade {
            symbol: "ETHBTC".into(),
            id: 7,
            order_id: 4_293_153,
            order_list_id: -1,
            price: dec!(0.10264410),
            qty: dec!(0.4),
            quote_qty: dec!(0.04105764),
            commission: dec!(0.00003079),
            commission_asset: "BNB".into(),
            time: 1_499_405_658_699,
            is_buyer: true,
            is_maker: true,
            is_best_match: None,
        }
    );
    let f = r.to_fill(dec!(0.001)).unwrap();
    assert_eq!(f, t.to_fill("mUvoqJxFIILMdfAW5iGSOW", dec!(0.001)));
    assert_eq!(f.trade_id, 7);
    assert_eq!(f.side, Side::Buy);
}

#[test]
fn canceled_report_names_the_original_order() {
    let r = report(CANCELED);
    assert_eq!(r.execution_type, ExecutionType::Canceled);
    assert_eq!(r.status, OrderStatus::Canceled);
    assert_eq!(r.client_order_id, "cancelReq123");
    assert_eq!(
        r.orig_client_order_id.as_deref(),
        Some("mUvoqJxFIILMdfAW5iGSOW")
    );
    assert_eq!(r.order_client_id(), "mUvoqJxFIILMdfAW5iGSOW");
    assert_eq!(r.cumulative_qty, dec!(0.4));
    assert_eq!(r.working_time, None);
    assert_eq!(r.trade(), None);
}

#[test]
fn expired_in_match_report_carries_the_prevented_quantity() {
    let r = report(EXPIRED_IN_MATCH);
    assert_eq!(r.execution_type, ExecutionType::TradePrevention);
    assert_eq!(r.status, OrderStatus::ExpiredInMatch);
    assert!(r.status.is_final());
    assert_eq!(r.prevented_match_id, Some(0));
    assert_eq!(r.prevented_qty, Some(dec!(1.2)));
    assert_eq!(r.last_prevented_qty, Some(dec!(1.2)));
    assert_eq!(r.cumulative_qty, Decimal::ZERO);
    assert_eq!(r.stp_mode.as_deref(), Some("EXPIRE_MAKER"));
    assert_eq!(r.trade(), None, "never a fill");
}

#[test]
fn other_events() {
    let ev = |t: &str| match parse_frame(t).unwrap() {
        Frame::Event { event, .. } => event,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        ev(
            r#"{"subscriptionId":0,"event":{"e":"outboundAccountPosition","E":1564034571105,"u":1564034571073,"B":[{"a":"ETH","f":"10000.000000","l":"0.000000"},{"a":"BTC","f":"0.5","l":"0.25"}]}}"#
        ),
        UserEvent::OutboundAccountPosition(AccountPosition {
            event_time: 1_564_034_571_105,
            last_update_time: 1_564_034_571_073,
            balances: vec![
                Balance {
                    asset: "ETH".into(),
                    free: dec!(10000),
                    locked: Decimal::ZERO
                },
                Balance {
                    asset: "BTC".into(),
                    free: dec!(0.5),
                    locked: dec!(0.25)
                },
            ],
        })
    );
    assert_eq!(
        ev(
            r#"{"subscriptionId":0,"event":{"e":"balanceUpdate","E":1573200697110,"a":"BTC","d":"-100.00000000","T":1573200697068}}"#
        ),
        UserEvent::BalanceUpdate(BalanceUpdate {
            event_time: 1_573_200_697_110,
            asset: "BTC".into(),
            delta: dec!(-100),
            clear_time: 1_573_200_697_068,
        })
    );
    assert_eq!(
        ev(r#"{"subscriptionId":0,"event":{"e":"eventStreamTerminated","E":1728973001334}}"#),
        UserEvent::EventStreamTerminated {
            event_time: 1_728_973_001_334
        }
    );
    // serverShutdown comes without subscriptionId.
    assert_eq!(
        parse_frame(r#"{"event":{"e":"serverShutdown","E":1770123456789}}"#).unwrap(),
        Frame::Event {
            subscription_id: None,
            event: UserEvent::ServerShutdown {
                event_time: 1_770_123_456_789
            }
        }
    );
}

#[test]
fn unknown_event_types_are_kept_not_dropped() {
    let text =
        r#"{"subscriptionId":0,"event":{"e":"listStatus","E":1564035303637,"s":"ETHBTC","g":2}}"#;
    let Frame::Event { event, .. } = parse_frame(text).unwrap() else {
        panic!()
    };
    assert_eq!(event.kind(), "listStatus");
    let UserEvent::Unknown(raw) = event else {
        panic!()
    };
    let v: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(v["g"], 2);
    // No `e` at all: still Unknown.
    let Frame::Event { event, .. } = parse_frame(r#"{"event":{}}"#).unwrap() else {
        panic!()
    };
    assert_eq!(event.kind(), "?");
}

#[test]
fn malformed_reports_name_the_field() {
    let bad_price = NEW.replace(r#""p":"0.10264410""#, r#""p":"abc""#);
    let e = parse_frame(&bad_price).unwrap_err();
    assert!(e.to_string().contains("executionReport.p"), "{e}");
    let no_order_id = NEW.replace(r#""i":4293153,"#, "");
    let e = parse_frame(&no_order_id).unwrap_err();
    assert!(e.to_string().contains("`i`"), "{e}");
    let bad_status = NEW.replace(r#""X":"NEW""#, r#""X":"WEIRD""#);
    let e = parse_frame(&bad_status).unwrap_err();
    assert!(e.to_string().contains("executionReport.X"), "{e}");
    // A TRADE without trade id or commission asset cannot become a fill.
    let e = parse_frame(&TRADE.replace(r#""t":7"#, r#""t":-1"#)).unwrap_err();
    assert!(e.to_string().contains("no trade id"), "{e}");
    let e = parse_frame(&TRADE.replace(r#""N":"BNB""#, r#""N":null"#)).unwrap_err();
    assert!(e.to_string().contains("commission asset"), "{e}");
    assert!(matches!(parse_frame("not json"), Err(Error::Decode(_))));
    assert!(matches!(parse_frame(r#"{"x":1}"#), Err(Error::Decode(_))));
    // Unknown execution types pass (X still tells the state).
    let r = report(&NEW.replace(r#""x":"NEW""#, r#""x":"AMENDMENT""#));
    assert_eq!(r.execution_type, ExecutionType::Other("AMENDMENT".into()));
}

#[test]
fn responses() {
    assert_eq!(
        parse_frame(r#"{"id":"d3df8a22","status":200,"result":{"subscriptionId":0}}"#).unwrap(),
        Frame::Response {
            id: "d3df8a22".into(),
            status: 200,
            result: Some(serde_json::json!({"subscriptionId":0})),
            error: None,
        }
    );
    let Frame::Response { id, status, error, .. } = parse_frame(
        r#"{"id":null,"status":401,"error":{"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}}"#,
    )
    .unwrap() else { panic!() };
    assert!(id.is_null());
    assert_eq!(status, 401);
    assert_eq!(error.unwrap().code, -2015);
}

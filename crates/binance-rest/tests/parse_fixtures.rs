//! Every documented response (test_data/, see SOURCES.md) decodes into the
//! right domain values.

use binance_rest::models::*;
use binance_rest::parse;
use binance_rest::{NewOrder, OrderRespType, OrderStatus};
use grid_core::{OrderType, Side, TimeInForce};
use rust_decimal_macros::dec;

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/test_data/", $name))
    };
}

#[test]
fn ping_and_time() {
    let v: serde_json::Value = parse::from_json("ping", fixture!("ping.json")).unwrap();
    assert_eq!(v, serde_json::json!({}));
    let t: ServerTimeDto = parse::from_json("time", fixture!("time.json")).unwrap();
    assert_eq!(parse::server_time(&t), 1499827319559);
}

#[test]
fn exchange_info_to_symbol_rules() {
    let dto: ExchangeInfoDto =
        parse::from_json("exchangeInfo", fixture!("exchange_info.json")).unwrap();
    let info = parse::exchange_info(&dto);
    assert_eq!(info.timezone.as_deref(), Some("UTC"));
    assert_eq!(info.server_time, Some(1565246363776));
    assert_eq!(info.request_weight_per_minute(), Some(6000));
    assert_eq!(info.rate_limits.len(), 4);

    let btc = info.symbol("BTCUSDT").unwrap();
    assert!(btc.allow_trailing_stop);
    let r = btc.rules.clone().unwrap();
    assert_eq!(r.base_asset, "BTC");
    assert_eq!(r.quote_asset, "USDT");
    assert_eq!(r.tick_size, dec!(0.01));
    assert_eq!(r.tick_size.to_string(), "0.01"); // normalized by grid-core validate
    assert_eq!(r.step_size, dec!(0.00001));
    assert_eq!(r.min_qty, dec!(0.00001));
    assert_eq!(r.max_qty, dec!(9000));
    assert_eq!(r.min_price, dec!(0.01));
    assert_eq!(r.max_price, dec!(1000000));
    assert_eq!(r.min_notional, dec!(5));
    assert_eq!(r.max_notional, Some(dec!(9000000)));
    assert_eq!((r.trailing_delta_min, r.trailing_delta_max), (10, 2000));
    assert_eq!(r.max_num_orders, 200);
    assert_eq!(r.max_num_algo_orders, Some(5));
    let p = r.percent_price_by_side.clone().unwrap();
    assert_eq!(p.bid_multiplier_up, dec!(5));
    assert_eq!(p.bid_multiplier_down, dec!(0.2));
    assert_eq!(p.ask_multiplier_up, dec!(5));
    assert_eq!(p.ask_multiplier_down, dec!(0.2));
    assert_eq!(p.avg_price_mins, 5);

    // TV-6 filter math with the parsed rules (the part grid-core checks).
    assert!(r.is_tradable(dec!(0.00010), dec!(60000.00)));
    assert!(!r.is_tradable(dec!(0.00010), dec!(60000.005)));
    assert!(!r.is_tradable(dec!(0.00010), dec!(40000.00)));

    // ETHBTC: legacy MIN_NOTIONAL, no TRAILING_DELTA / MAX_NUM_ORDERS / PERCENT_PRICE_BY_SIDE.
    let eth = info.symbol("ETHBTC").unwrap().rules.clone().unwrap();
    assert_eq!(eth.tick_size, dec!(0.000001));
    assert_eq!(eth.step_size, dec!(0.001));
    assert_eq!(eth.min_notional, dec!(0.001));
    assert_eq!(eth.max_notional, None);
    assert_eq!(eth.max_num_orders, 200);
    assert_eq!(eth.max_num_algo_orders, None);
    assert_eq!(eth.percent_price_by_side, None);
    assert_eq!(
        (eth.trailing_delta_min, eth.trailing_delta_max),
        (0, u32::MAX)
    );
}

#[test]
fn symbol_without_lot_size_has_no_rules() {
    let json = r#"{"symbols":[{"symbol":"FOOBAR","status":"TRADING","baseAsset":"FOO","quoteAsset":"BAR",
        "filters":[{"filterType":"PRICE_FILTER","minPrice":"0.01","maxPrice":"100","tickSize":"0.01"}]}]}"#;
    let dto: ExchangeInfoDto = parse::from_json("exchangeInfo", json).unwrap();
    let info = parse::exchange_info(&dto);
    let err = info.symbols[0].rules.clone().unwrap_err();
    assert!(err.contains("LOT_SIZE"), "{err}");
}

#[test]
fn ticker_prices() {
    let one: TickerPricesDto = parse::from_json("t", fixture!("ticker_price_one.json")).unwrap();
    let m = parse::ticker_prices(&one).unwrap();
    assert_eq!(m["LTCBTC"], dec!(4.000002));
    let many: TickerPricesDto = parse::from_json("t", fixture!("ticker_price_many.json")).unwrap();
    let m = parse::ticker_prices(&many).unwrap();
    assert_eq!(m.len(), 2);
    assert_eq!(m["ETHBTC"], dec!(0.079466));
}

#[test]
fn klines() {
    let rows: Vec<Vec<serde_json::Value>> =
        parse::from_json("klines", fixture!("klines.json")).unwrap();
    let k = parse::klines(&rows).unwrap();
    assert_eq!(k.len(), 1);
    assert_eq!(k[0].open_time, 1499040000000);
    assert_eq!(k[0].open, dec!(0.01634790));
    assert_eq!(k[0].high, dec!(0.8));
    assert_eq!(k[0].low, dec!(0.015758));
    assert_eq!(k[0].close, dec!(0.015771));
    assert_eq!(k[0].volume, dec!(148976.11427815));
    assert_eq!(k[0].close_time, 1499644799999);
    assert_eq!(k[0].quote_volume, dec!(2434.19055334));
    assert_eq!(k[0].trades, 308);
    assert_eq!(k[0].taker_buy_base_volume, dec!(1756.87402397));
    assert_eq!(k[0].taker_buy_quote_volume, dec!(28.46694368));

    let rows: Vec<Vec<serde_json::Value>> =
        parse::from_json("klines", fixture!("klines_real_btcusdt_1m.json")).unwrap();
    let k = parse::klines(&rows).unwrap();
    assert_eq!(k[0].close, dec!(41865.14));
    assert_eq!(k[0].close_time - k[0].open_time, 60_000 - 1);

    let bad: Vec<Vec<serde_json::Value>> = vec![vec![serde_json::json!(1)]];
    assert!(matches!(
        parse::klines(&bad),
        Err(binance_rest::Error::Decode(_))
    ));
}

#[test]
fn account() {
    let dto: AccountDto = parse::from_json("account", fixture!("account.json")).unwrap();
    let a = parse::account(&dto).unwrap();
    assert!(a.can_trade);
    assert_eq!(a.free("BTC"), dec!(4723846.89208129));
    assert_eq!(a.locked("LTC"), dec!(0));
    assert_eq!(a.free("USDC"), dec!(0));
    let c = a.commission_rates.unwrap();
    assert_eq!(c.maker, dec!(0.0015));
    assert_eq!(c.seller, dec!(0));
    assert_eq!(a.account_type.as_deref(), Some("SPOT"));
}

#[test]
fn open_orders_and_query() {
    for body in [
        fixture!("open_orders.json"),
        &format!("[{}]", fixture!("order_query.json")),
    ] {
        let dtos: Vec<OrderDto> = parse::from_json("openOrders", body).unwrap();
        let o = parse::order(&dtos[0], None).unwrap();
        assert_eq!(o.symbol, "LTCBTC");
        assert_eq!(o.order_id, 1);
        assert_eq!(o.client_order_id, "myOrder1");
        assert_eq!(o.cancel_client_order_id, None);
        assert_eq!(o.status, OrderStatus::New);
        assert_eq!(o.side, Side::Buy);
        assert_eq!(o.order_type, OrderType::Limit);
        assert_eq!(o.time_in_force, Some(TimeInForce::Gtc));
        assert_eq!(o.price, dec!(0.1));
        assert_eq!(o.orig_qty, dec!(1));
        assert_eq!(o.executed_qty, dec!(0));
        assert_eq!(o.stop_price, None, "\"0.0\" means no stop price");
        assert_eq!(o.trailing_delta, None);
        assert_eq!(o.time, Some(1499827319559));
        assert_eq!(o.update_time, Some(1499827319559));
        assert_eq!(o.is_working, Some(true));
        assert!(!o.is_ack);
        let oo = o.to_open_order();
        assert_eq!(oo.exchange_order_id, 1);
        assert_eq!(oo.client_order_id, "myOrder1");
        assert_eq!(oo.price, dec!(0.1));
        assert_eq!(oo.stop_price, None);
    }
}

#[test]
fn order_ack_is_completed_from_the_request() {
    let dto: OrderDto = parse::from_json("order", fixture!("order_ack.json")).unwrap();
    // Without the request an ACK cannot become an order.
    assert!(parse::order(&dto, None).is_err());
    let req = NewOrder::limit_maker("BTCUSDT", Side::Buy, dec!(0.001), dec!(59000))
        .client_order_id("6gCrw2kRUAF9CvJDGP16IP")
        .resp_type(OrderRespType::Ack);
    let o = parse::order(&dto, Some(&req)).unwrap();
    assert!(o.is_ack);
    assert_eq!(o.order_id, 28);
    assert_eq!(o.client_order_id, "6gCrw2kRUAF9CvJDGP16IP");
    assert_eq!(o.order_type, OrderType::LimitMaker);
    assert_eq!(o.price, dec!(59000));
    assert_eq!(o.orig_qty, dec!(0.001));
    assert_eq!(o.transact_time, Some(1507725176595));
}

#[test]
fn order_result_and_full() {
    let dto: OrderDto = parse::from_json("order", fixture!("order_result.json")).unwrap();
    let o = parse::order(&dto, None).unwrap();
    assert_eq!(o.status, OrderStatus::Filled);
    assert_eq!(o.order_type, OrderType::Market);
    assert_eq!(o.side, Side::Sell);
    assert_eq!(o.executed_qty, dec!(10));
    assert_eq!(o.cummulative_quote_qty, dec!(10));
    assert_eq!(o.working_time, Some(1507725176595));
    assert!(o.fills.is_empty());

    let dto: OrderDto = parse::from_json("order", fixture!("order_full.json")).unwrap();
    let o = parse::order(&dto, None).unwrap();
    assert_eq!(o.fills.len(), 5);
    let total: rust_decimal::Decimal = o.fills.iter().map(|f| f.qty).sum();
    assert_eq!(total, o.executed_qty);
    assert_eq!(o.fills[1].commission, dec!(19.995));
    assert_eq!(o.fills[4].trade_id, Some(60));
    assert_eq!(o.fills[0].commission_asset, "USDT");

    let dto: OrderDto =
        parse::from_json("order", fixture!("order_full_resting_paxgbtc.json")).unwrap();
    let o = parse::order(&dto, None).unwrap();
    assert_eq!(o.status, OrderStatus::New);
    assert_eq!(o.price, dec!(0.07435));
    assert_eq!(o.orig_qty, dec!(0.0014));
    assert_eq!(o.client_order_id, "TAILS_TEST_BTC_OLL_1660136297832");
    assert!(o.fills.is_empty());
    assert_eq!(o.remaining_qty(), dec!(0.0014));
}

#[test]
fn test_order_responses() {
    let dto: TestOrderDto =
        parse::from_json("order/test", fixture!("test_order_empty.json")).unwrap();
    assert_eq!(parse::test_order(&dto).unwrap(), Default::default());
    let dto: TestOrderDto =
        parse::from_json("order/test", fixture!("test_order_commission.json")).unwrap();
    let t = parse::test_order(&dto).unwrap();
    assert_eq!(t.standard_commission.unwrap().taker, dec!(0.00000114));
    assert_eq!(t.special_commission.unwrap().maker, dec!(0.05));
    assert_eq!(t.discount, Some(dec!(0.25)));
    assert_eq!(t.discount_asset.as_deref(), Some("BNB"));
}

#[test]
fn cancel_reports_name_the_order_not_the_cancel() {
    let dto: OrderDto = parse::from_json("cancel", fixture!("cancel_order.json")).unwrap();
    let o = parse::order(&dto, None).unwrap();
    assert_eq!(o.client_order_id, "myOrder1");
    assert_eq!(o.cancel_client_order_id.as_deref(), Some("cancelMyOrder1"));
    assert_eq!(o.status, OrderStatus::Canceled);
    assert_eq!(o.executed_qty, dec!(0));
    assert_eq!(o.time, Some(1684804350068));
    assert_eq!(o.remaining_qty(), dec!(0));

    let items: Vec<serde_json::Value> =
        parse::from_json("cancel all", fixture!("cancel_all.json")).unwrap();
    let all = parse::cancel_all(&items).unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].client_order_id, "E6APeyTJvkMvLMYMqu1KQ4");
    assert_eq!(all[0].price, dec!(0.089853));
    assert_eq!(all[0].orig_qty, dec!(0.178622));
}

#[test]
fn cancel_all_flattens_order_lists() {
    let report = serde_json::from_str::<serde_json::Value>(fixture!("cancel_order.json")).unwrap();
    let list = serde_json::json!({"orderListId": 1, "contingencyType": "OCO", "listStatusType": "ALL_DONE",
        "listOrderStatus": "ALL_DONE", "listClientOrderId": "l", "transactionTime": 1, "symbol": "LTCBTC",
        "orders": [], "orderReports": [report.clone(), report]});
    let all = parse::cancel_all(&[list]).unwrap();
    assert_eq!(all.len(), 2);
}

#[test]
fn my_trades() {
    let dtos: Vec<TradeDto> = parse::from_json("myTrades", fixture!("my_trades.json")).unwrap();
    let t = parse::trade(&dtos[0]).unwrap();
    assert_eq!(t.id, 28457);
    assert_eq!(t.order_id, 100234);
    assert_eq!(t.price, dec!(4.000001));
    assert_eq!(t.qty, dec!(12));
    assert_eq!(t.quote_qty, dec!(48.000012));
    assert_eq!(t.commission, dec!(10.1));
    assert_eq!(t.commission_asset, "BNB");
    assert!(t.is_buyer && !t.is_maker);
    assert_eq!(t.side(), Side::Buy);
    let f = t.to_fill("grid-1", dec!(0));
    assert_eq!(f.trade_id, 28457);
    assert_eq!(f.exchange_order_id, 100234);
    assert_eq!(f.client_order_id, "grid-1");
    assert_eq!(f.side, Side::Buy);
}

#[test]
fn rate_limit_order() {
    let v: Vec<RateLimitDto> =
        parse::from_json("rateLimit/order", fixture!("rate_limit_order.json")).unwrap();
    assert_eq!(v[0].limit, 50);
    assert_eq!(v[1].count, Some(0));
}

#[test]
fn error_bodies() {
    let cases: Vec<serde_json::Value> = serde_json::from_str(fixture!("errors.json")).unwrap();
    assert!(cases.len() >= 25);
    for c in cases {
        let body = c["body"].to_string();
        let e = parse::api_error(&body).unwrap_or_else(|| panic!("{body}"));
        assert_eq!(e.code, c["body"]["code"].as_i64().unwrap());
        assert_eq!(e.msg, c["body"]["msg"].as_str().unwrap());
    }
    assert!(parse::api_error("<html>403 Forbidden</html>").is_none());
}

#[test]
fn unknown_enum_values_are_decode_errors_not_panics() {
    let mut v: serde_json::Value = serde_json::from_str(fixture!("order_query.json")).unwrap();
    v["status"] = "SOMETHING_NEW".into();
    let dto: OrderDto = serde_json::from_value(v).unwrap();
    assert!(
        matches!(parse::order(&dto, None), Err(binance_rest::Error::Decode(m)) if m.contains("status"))
    );
    let mut v: serde_json::Value = serde_json::from_str(fixture!("order_query.json")).unwrap();
    v["price"] = "1e".into();
    let dto: OrderDto = serde_json::from_value(v).unwrap();
    assert!(
        matches!(parse::order(&dto, None), Err(binance_rest::Error::Decode(m)) if m.contains("price"))
    );
}

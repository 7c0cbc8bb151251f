//! Engine-level scenarios: Binance's trailing-stop FAQ scenarios A–E, stop
//! triggers, partial fills, commissions, balance conservation over a long
//! seeded random walk, and determinism.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use exchange_sim::config::{CommissionAsset, PathKind};
use exchange_sim::path::Rng;
use exchange_sim::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

const T0: i64 = 1_700_000_000_000;

fn cfg() -> SimConfig {
    let mut c = SimConfig {
        start_time_ms: Some(T0),
        ..SimConfig::default()
    };
    c.balances.insert("USDC".into(), dec!(1000000));
    c.balances.insert("BTC".into(), dec!(10));
    c.balances.insert("SOL".into(), dec!(100));
    c
}

fn ex_at(symbol: &str, price: Decimal) -> Engine {
    let mut ex = Engine::new(cfg()).unwrap();
    ex.set_price(symbol, price).unwrap();
    ex
}

fn stop_order(
    t: OrderType,
    side: Side,
    stop: Option<Decimal>,
    td: Option<u32>,
    price: Decimal,
) -> OrderRequest {
    OrderRequest {
        symbol: "BTCUSDC".into(),
        side: Some(side),
        order_type: Some(t),
        time_in_force: Some(TimeInForce::Gtc),
        quantity: Some(dec!(0.01)),
        price: Some(price),
        stop_price: stop,
        trailing_delta: td,
        ..OrderRequest::default()
    }
}

/// Moves through `legs`, asserting no trade happens before the last one.
fn walk(ex: &mut Engine, legs: &[Decimal]) {
    for p in legs {
        let t = ex.set_price("BTCUSDC", *p).unwrap();
        assert!(t.is_empty(), "unexpected trade at {p}: {t:?}");
    }
}

#[test]
fn scenario_a_trailing_stop_loss_limit_buy() {
    let mut ex = ex_at("BTCUSDC", dec!(40000));
    let o = ex
        .place_order(&stop_order(
            OrderType::StopLossLimit,
            Side::Buy,
            Some(dec!(44000)),
            Some(500),
            dec!(45000),
        ))
        .unwrap()
        .order;
    assert_eq!(o.working_time, -1);
    walk(&mut ex, &[dec!(37000)]);
    assert!(
        !ex.order(o.order_id).unwrap().trail_active,
        "7.5% drop before activation is ignored"
    );
    walk(&mut ex, &[dec!(45000)]);
    let st = ex.order(o.order_id).unwrap();
    assert!(st.trail_active);
    assert_eq!(
        st.trail_extreme,
        Some(dec!(44000)),
        "first trade >= stopPrice sets the lowest price"
    );
    walk(&mut ex, &[dec!(46000), dec!(42000), dec!(44099.99)]);
    assert_eq!(
        ex.order(o.order_id).unwrap().trail_extreme,
        Some(dec!(42000))
    );
    let t = ex.set_price("BTCUSDC", dec!(44100)).unwrap();
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].price, dec!(44100));
    assert!(!t[0].is_maker);
    let st = ex.order(o.order_id).unwrap();
    assert_eq!(st.status, OrderStatus::Filled);
    assert!(st.working_time > 0);
}

#[test]
fn scenario_b_trailing_stop_loss_limit_sell() {
    let mut ex = ex_at("BTCUSDC", dec!(40000));
    let o = ex
        .place_order(&stop_order(
            OrderType::StopLossLimit,
            Side::Sell,
            Some(dec!(39000)),
            Some(1000),
            dec!(38000),
        ))
        .unwrap()
        .order;
    walk(&mut ex, &[dec!(41500)]);
    assert!(!ex.order(o.order_id).unwrap().trail_active);
    walk(&mut ex, &[dec!(37000)]);
    assert_eq!(
        ex.order(o.order_id).unwrap().trail_extreme,
        Some(dec!(39000))
    );
    walk(&mut ex, &[dec!(41000), dec!(36900.01)]);
    // 36,900 = 41,000 * 0.90 triggers; limit 38,000 is above the market: it rests.
    walk(&mut ex, &[dec!(36900)]);
    let st = ex.order(o.order_id).unwrap();
    assert!(st.triggered && st.is_working());
    assert_eq!(st.status, OrderStatus::New);
    let t = ex.set_price("BTCUSDC", dec!(38000)).unwrap();
    assert_eq!(t.len(), 1);
    assert_eq!((t[0].price, t[0].is_maker), (dec!(38000), true));
}

#[test]
fn scenario_c_trailing_take_profit_limit_buy() {
    let mut ex = ex_at("BTCUSDC", dec!(40000));
    let o = ex
        .place_order(&stop_order(
            OrderType::TakeProfitLimit,
            Side::Buy,
            Some(dec!(38000)),
            Some(850),
            dec!(38500),
        ))
        .unwrap()
        .order;
    walk(&mut ex, &[dec!(42000), dec!(37000)]);
    assert_eq!(
        ex.order(o.order_id).unwrap().trail_extreme,
        Some(dec!(37000))
    );
    walk(&mut ex, &[dec!(39000), dec!(38000), dec!(40144.99)]);
    assert!(!ex.order(o.order_id).unwrap().triggered);
    walk(&mut ex, &[dec!(40145)]); // 37,000 * 1.085: triggers, limit 38,500 rests below
    assert!(ex.order(o.order_id).unwrap().triggered);
    let t = ex.set_price("BTCUSDC", dec!(38400)).unwrap();
    assert_eq!(t.len(), 1);
    assert_eq!((t[0].price, t[0].is_maker), (dec!(38500), true));
}

#[test]
fn scenario_d_trailing_take_profit_limit_sell() {
    let mut ex = ex_at("BTCUSDC", dec!(40000));
    let o = ex
        .place_order(&stop_order(
            OrderType::TakeProfitLimit,
            Side::Sell,
            Some(dec!(42000)),
            Some(750),
            dec!(41000),
        ))
        .unwrap()
        .order;
    walk(&mut ex, &[dec!(41500), dec!(39000)]);
    assert!(!ex.order(o.order_id).unwrap().trail_active);
    walk(&mut ex, &[dec!(45000)]);
    assert_eq!(
        ex.order(o.order_id).unwrap().trail_extreme,
        Some(dec!(45000))
    );
    walk(&mut ex, &[dec!(44000), dec!(46500), dec!(43012.51)]);
    let t = ex.set_price("BTCUSDC", dec!(43012.50)).unwrap();
    assert_eq!(t.len(), 1, "46,500 * 0.925 = 43,012.5 triggers");
    assert_eq!((t[0].price, t[0].is_maker), (dec!(43012.50), false));
    assert_eq!(ex.order(o.order_id).unwrap().status, OrderStatus::Filled);
}

#[test]
fn scenario_e_trailing_without_stop_price() {
    let mut ex = ex_at("BTCUSDC", dec!(40000));
    let o = ex
        .place_order(&stop_order(
            OrderType::StopLossLimit,
            Side::Sell,
            None,
            Some(700),
            dec!(39000),
        ))
        .unwrap()
        .order;
    assert!(o.trail_active);
    assert_eq!(o.trail_extreme, Some(dec!(40000)));
    walk(
        &mut ex,
        &[dec!(42000), dec!(39500), dec!(45500), dec!(42315.01)],
    );
    let t = ex.set_price("BTCUSDC", dec!(42315)).unwrap();
    assert_eq!(t.len(), 1, "45,500 * 0.93 = 42,315 triggers");
    assert_eq!(t[0].price, dec!(42315));
}

#[test]
fn plain_stops_trigger_at_stop_price_and_market_stop_fills() {
    let mut ex = ex_at("BTCUSDC", dec!(40000));
    let sl = stop_order(
        OrderType::StopLoss,
        Side::Sell,
        Some(dec!(39000)),
        None,
        dec!(0),
    );
    let sl = OrderRequest {
        price: None,
        time_in_force: None,
        ..sl
    };
    let o = ex.place_order(&sl).unwrap().order;
    walk(&mut ex, &[dec!(39000.01)]);
    let t = ex.set_price("BTCUSDC", dec!(38000)).unwrap();
    assert_eq!(t.len(), 1);
    assert_eq!(
        t[0].price,
        dec!(39000),
        "fills where the walk crosses the stop"
    );
    assert_eq!(ex.order(o.order_id).unwrap().status, OrderStatus::Filled);
}

#[test]
fn walk_fills_in_price_order() {
    let mut ex = ex_at("SOLUSDC", dec!(150));
    for p in [dec!(149), dec!(147), dec!(148)] {
        ex.place_order(&OrderRequest::limit("SOLUSDC", Side::Buy, p, dec!(1)))
            .unwrap();
    }
    let t = ex.set_price("SOLUSDC", dec!(140)).unwrap();
    let prices: Vec<Decimal> = t.iter().map(|t| t.price).collect();
    assert_eq!(prices, vec![dec!(149), dec!(148), dec!(147)]);
    assert!(t.iter().all(|t| t.is_maker));
}

#[test]
fn partial_fills_with_step_volume() {
    let mut c = cfg();
    c.symbols[0].step_volume = Some(dec!(0.3));
    let mut ex = Engine::new(c).unwrap();
    let o = ex
        .place_order(&OrderRequest::limit(
            "SOLUSDC",
            Side::Buy,
            dec!(140),
            dec!(1),
        ))
        .unwrap()
        .order;
    let t = ex.set_price("SOLUSDC", dec!(139)).unwrap();
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].qty, dec!(0.3));
    let st = ex.order(o.order_id).unwrap();
    assert_eq!(st.status, OrderStatus::PartiallyFilled);
    assert_eq!(st.executed_qty, dec!(0.3));
    assert_eq!(
        ex.balance("USDC").locked,
        dec!(98),
        "0.7 * 140 still locked"
    );
    ex.set_price("SOLUSDC", dec!(139)).unwrap();
    ex.set_price("SOLUSDC", dec!(141)).unwrap(); // leftover crossed at 139 fills first
    assert_eq!(ex.order(o.order_id).unwrap().executed_qty, dec!(0.9));
    assert!(
        ex.set_price("SOLUSDC", dec!(142)).unwrap().is_empty(),
        "price above the bid"
    );
    let t = ex.set_price("SOLUSDC", dec!(139.5)).unwrap();
    assert_eq!(t[0].qty, dec!(0.1));
    assert_eq!(ex.order(o.order_id).unwrap().status, OrderStatus::Filled);
    assert_eq!(ex.balance("USDC").locked, dec!(0));

    // A MARKET order larger than the step volume expires partially filled.
    let m = OrderRequest {
        symbol: "SOLUSDC".into(),
        side: Some(Side::Buy),
        order_type: Some(OrderType::Market),
        quantity: Some(dec!(1)),
        ..OrderRequest::default()
    };
    let p = ex.place_order(&m).unwrap();
    assert_eq!(p.order.status, OrderStatus::Expired);
    assert_eq!(p.order.executed_qty, dec!(0.3));
    assert_eq!(p.fills.len(), 1);
}

#[test]
fn commissions_by_mode() {
    for (mode, asset, amount) in [
        (CommissionAsset::Received, "SOL", dec!(0.001)),
        (CommissionAsset::Quote, "USDC", dec!(0.15)),
        // 150 * 0.001 / 600 * 0.75
        (CommissionAsset::Bnb, "BNB", dec!(0.0001875)),
    ] {
        let mut c = cfg();
        c.fees.commission_asset = mode;
        let mut ex = Engine::new(c).unwrap();
        let m = OrderRequest {
            symbol: "SOLUSDC".into(),
            side: Some(Side::Buy),
            order_type: Some(OrderType::Market),
            quantity: Some(dec!(1)),
            ..OrderRequest::default()
        };
        let p = ex.place_order(&m).unwrap();
        assert_eq!(p.fills[0].commission_asset, asset, "{mode:?}");
        assert_eq!(p.fills[0].commission, amount, "{mode:?}");
    }
}

fn run_random(seed: u64, steps: usize) -> (Engine, usize) {
    let mut c = cfg();
    c.price_path.kind = PathKind::RandomWalk;
    c.price_path.seed = Some(seed);
    c.price_path.volatility_bps = 40;
    c.symbols[0].step_volume = Some(dec!(0.5));
    c.fees.commission_asset = CommissionAsset::Received;
    let start = c.balances.clone();
    let mut ex = Engine::new(c).unwrap();
    let mut rng = Rng::new(seed ^ 99);
    let mut placed = 0;
    let mut expected: BTreeMap<String, Decimal> = start.clone();
    let mut seen_trades = 0;
    for i in 0..steps {
        let last = ex.last_price("SOLUSDC").unwrap();
        let side = if rng.next_u64().is_multiple_of(2) {
            Side::Buy
        } else {
            Side::Sell
        };
        let off = Decimal::new(rng.range_i64(1, 300), 2);
        let price = match side {
            Side::Buy => last - off,
            Side::Sell => last + off,
        };
        let qty = Decimal::new(rng.range_i64(100, 2000), 3);
        let r = rng.next_u64() % 10;
        let res = if r < 7 {
            ex.place_order(&OrderRequest::limit("SOLUSDC", side, price, qty))
        } else if r < 8 {
            ex.place_order(&OrderRequest {
                symbol: "SOLUSDC".into(),
                side: Some(side),
                order_type: Some(OrderType::Market),
                quantity: Some(qty),
                ..OrderRequest::default()
            })
        } else {
            let open: Vec<u64> = ex
                .open_orders(Some("SOLUSDC"))
                .unwrap()
                .iter()
                .map(|o| o.order_id)
                .collect();
            if let Some(id) = open.get((rng.next_u64() as usize) % open.len().max(1)) {
                ex.cancel_order("SOLUSDC", Some(*id), None, None).unwrap();
            }
            Err(ApiError::unknown_order())
        };
        if res.is_ok() {
            placed += 1;
        }
        ex.advance(1000);
        // Invariants after every step.
        for (a, b) in ex.balances() {
            assert!(b.free >= Decimal::ZERO, "step {i}: {a} free {}", b.free);
            assert!(
                b.locked >= Decimal::ZERO,
                "step {i}: {a} locked {}",
                b.locked
            );
        }
        let mut locked: BTreeMap<String, Decimal> = BTreeMap::new();
        for o in ex.open_orders(None).unwrap() {
            *locked.entry(o.locked_asset.clone()).or_default() += o.locked_remaining;
        }
        for (a, b) in ex.balances() {
            assert_eq!(
                b.locked,
                locked.get(a).copied().unwrap_or_default(),
                "step {i}: {a}"
            );
        }
        for t in &ex.trades()[seen_trades..] {
            let (base, quote) = ("SOL".to_string(), "USDC".to_string());
            let sign = if t.is_buyer {
                Decimal::ONE
            } else {
                -Decimal::ONE
            };
            *expected.entry(base).or_default() += sign * t.qty;
            *expected.entry(quote).or_default() -= sign * t.quote_qty;
            *expected.entry(t.commission_asset.clone()).or_default() -= t.commission;
        }
        seen_trades = ex.trades().len();
    }
    for (a, b) in ex.balances() {
        assert_eq!(
            b.free + b.locked,
            expected.get(a).copied().unwrap_or_default(),
            "asset {a}"
        );
    }
    (ex, placed)
}

#[test]
fn balances_conserved_over_long_random_walk() {
    let (ex, placed) = run_random(7, 1500);
    assert!(placed >= 300, "placed {placed}");
    assert!(ex.trades().len() >= 200, "trades {}", ex.trades().len());
    assert!(ex.trades().iter().any(|t| t.is_maker) && ex.trades().iter().any(|t| !t.is_maker));
}

#[test]
fn same_seed_same_trades() {
    let (a, _) = run_random(11, 400);
    let (b, _) = run_random(11, 400);
    let (c, _) = run_random(12, 400);
    assert!(!a.trades().is_empty());
    assert_eq!(a.trades(), b.trades());
    assert_ne!(a.trades(), c.trades());
}

#[test]
fn klines_path_replays_file() {
    let mut c = cfg();
    c.price_path.kind = PathKind::Klines;
    // The file shipped with the project (data/klines/README.md).
    c.price_path.file = Some(format!(
        "{}/../../data/klines/BTCUSDT-5m-2023-01.csv",
        env!("CARGO_MANIFEST_DIR")
    ));
    c.price_path.symbol = Some("BTCUSDC".into());
    let mut ex = Engine::new(c).unwrap();
    assert_eq!(ex.last_price("BTCUSDC"), Some(dec!(16727.3)));
    ex.advance(300_000);
    assert_eq!(
        ex.last_price("BTCUSDC"),
        Some(dec!(16726.0)),
        "next candle's open"
    );
    assert_eq!(ex.now(), T0 + 300_000);
}

#[test]
fn config_from_json_defaults_and_overrides() {
    let c = SimConfig::from_json_str(r#"{"api_key":"k","fees":{"maker":"0.0002"}}"#).unwrap();
    assert_eq!(c.api_key, "k");
    assert_eq!(c.api_secret, "sim-secret");
    assert_eq!(c.fees.maker, dec!(0.0002));
    assert_eq!(c.fees.taker, dec!(0.001));
    assert_eq!(c.symbols.len(), 4);
    assert!(SimConfig::from_json_str(r#"{"symbols":[{"symbol":"X","price":"0"}]}"#).is_err());
}

/// The sim counts requests that arrive while a 429's Retry-After runs (wall
/// clock), so a test can prove its client backed off instead of hoping.
#[test]
fn requests_inside_retry_after_are_counted() {
    let mut ex = ex_at("SOLUSDC", dec!(150));
    ex.set_faults(FaultConfig {
        rate_limit_burst: 1,
        ..FaultConfig::default()
    });
    let e = ex
        .admit("GET /api/v3/ping", 1)
        .expect_err("the burst answers 429");
    assert_eq!(e.status, 429);
    assert!(e.retry_after.unwrap_or(0) >= 1);
    let st = ex.state();
    assert_eq!((st.answered_429, st.requests_during_retry_after), (1, 0));
    // The next request comes at once, inside the Retry-After: admitted
    // (the burst is over) but counted.
    assert!(ex.admit("GET /api/v3/ping", 1).is_ok());
    assert_eq!(ex.state().requests_during_retry_after, 1);
}

/// A simulator restarted with another id base never gives an id its
/// predecessor gave (a bot's database keeps the old ones), and every
/// lookup by id works past the base.
#[test]
fn ids_start_after_the_id_base_and_every_lookup_follows() {
    let base = 1_767_225_600_000_000u64;
    let mut ex = Engine::new(SimConfig {
        id_base: base,
        ..cfg()
    })
    .unwrap();
    ex.set_price("BTCUSDC", dec!(60000)).unwrap();
    let req = |price: Decimal| OrderRequest {
        symbol: "BTCUSDC".into(),
        side: Some(Side::Buy),
        order_type: Some(OrderType::Limit),
        time_in_force: Some(TimeInForce::Gtc),
        quantity: Some(dec!(0.01)),
        price: Some(price),
        ..OrderRequest::default()
    };
    let a = ex.place_order(&req(dec!(59000))).unwrap().order;
    let b = ex.place_order(&req(dec!(58000))).unwrap().order;
    assert_eq!((a.order_id, b.order_id), (base + 1, base + 2));
    assert_eq!(ex.order(base + 2).unwrap().price, dec!(58000));
    assert!(ex.order(base).is_none() && ex.order(1).is_none());
    let canceled = ex
        .cancel_order("BTCUSDC", Some(base + 2), None, None)
        .unwrap();
    assert_eq!(canceled.status, OrderStatus::Canceled);
    let trades = ex.set_price("BTCUSDC", dec!(58500)).unwrap();
    assert_eq!(trades.len(), 1);
    assert_eq!((trades[0].id, trades[0].order_id), (base + 1, base + 1));
    let mine = ex
        .my_trades("BTCUSDC", None, Some(base + 1), None, None, 10)
        .unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(ex.order(base + 1).unwrap().status, OrderStatus::Filled);
}

/// `quiet_band`: the price moves anywhere inside it without changing any
/// order (no trade, no trigger, no trail extreme), and the first price
/// outside it changes one.
#[test]
fn a_walk_inside_the_quiet_band_changes_no_order() {
    use std::ops::Bound;
    let mut ex = ex_at("BTCUSDC", dec!(40000));
    let buy = OrderRequest::limit("BTCUSDC", Side::Buy, dec!(39000), dec!(0.01));
    let sell = OrderRequest::limit("BTCUSDC", Side::Sell, dec!(43000), dec!(0.01));
    ex.place_order(&buy).unwrap();
    ex.place_order(&sell).unwrap();
    // A trailing take-profit activating at 42,000 (scenario D).
    let trail = stop_order(
        OrderType::TakeProfitLimit,
        Side::Sell,
        Some(dec!(42000)),
        Some(750),
        dec!(41000),
    );
    let t = ex.place_order(&trail).unwrap().order;
    let band = ex.quiet_band("BTCUSDC").unwrap();
    assert_eq!(band.lower(), Bound::Excluded(dec!(39000)));
    assert_eq!(band.upper(), Bound::Excluded(dec!(42000)));
    let before = format!("{:?}", ex.orders());
    let mut rng = Rng::new(7);
    for _ in 0..500 {
        let p = dec!(39000.01) + Decimal::new(rng.range_i64(0, 299_998), 2);
        assert!(band.contains(p));
        assert!(ex.set_price("BTCUSDC", p).unwrap().is_empty());
    }
    assert_eq!(
        format!("{:?}", ex.orders()),
        before,
        "an order changed inside the band"
    );
    // Activated at 42,000: its extreme now caps the band from above, and
    // its trigger (7.5 % under the extreme) bounds it from below.
    walk(&mut ex, &[dec!(42000)]);
    assert!(ex.order(t.order_id).unwrap().trail_active);
    let band = ex.quiet_band("BTCUSDC").unwrap();
    assert_eq!(band.upper(), Bound::Included(dec!(42000)));
    assert_eq!(band.lower(), Bound::Excluded(dec!(39000)));
    walk(&mut ex, &[dec!(42000.01)]);
    assert_eq!(
        ex.order(t.order_id).unwrap().trail_extreme,
        Some(dec!(42000.01))
    );
    // Outside: the buy trades at the first price under the band.
    assert_eq!(ex.set_price("BTCUSDC", dec!(39000)).unwrap().len(), 1);
}

//! One price step with 200 resting orders (issue 3: < 10 µs median).
//!
//! `cargo bench -p exchange-sim --bench engine`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use exchange_sim::{Engine, OrderRequest, Side, SimConfig};
use rust_decimal::Decimal;

fn setup() -> Engine {
    let mut cfg = SimConfig {
        start_time_ms: Some(1_700_000_000_000),
        ..SimConfig::default()
    };
    cfg.balances
        .insert("USDC".into(), Decimal::from(10_000_000));
    cfg.balances.insert("SOL".into(), Decimal::from(100_000));
    cfg.limits.orders_per_10s = u64::MAX;
    let mut ex = Engine::new(cfg).expect("config");
    // 100 bids 100.00..149.50 and 100 asks 150.50..200.00 (SOLUSDC, last 150).
    for i in 0..100i64 {
        let bid = Decimal::new(10_000 + i * 50, 2);
        let ask = Decimal::new(15_050 + i * 50, 2);
        ex.place_order(&OrderRequest::limit(
            "SOLUSDC",
            Side::Buy,
            bid,
            Decimal::ONE,
        ))
        .expect("bid");
        ex.place_order(&OrderRequest::limit(
            "SOLUSDC",
            Side::Sell,
            ask,
            Decimal::ONE,
        ))
        .expect("ask");
    }
    ex
}

fn bench_step(c: &mut Criterion) {
    let mut ex = setup();
    // Steps inside the spread: the common case of a backtest tick.
    let prices = [Decimal::new(15_010, 2), Decimal::new(14_990, 2)];
    let mut i = 0usize;
    c.bench_function("price_step_200_resting_no_fill", |b| {
        b.iter(|| {
            i += 1;
            let t = ex.set_price("SOLUSDC", prices[i % 2]).expect("step");
            black_box(t);
        })
    });
    // A step that fills one resting order, on a fresh book each batch.
    c.bench_function("price_step_200_resting_one_fill", |b| {
        b.iter_batched(
            setup,
            |mut ex| {
                let t = ex
                    .set_price("SOLUSDC", Decimal::new(15_050, 2))
                    .expect("step");
                (ex, t) // dropped by criterion outside the measurement
            },
            criterion::BatchSize::LargeInput,
        )
    });
}

criterion_group!(benches, bench_step);
criterion_main!(benches);

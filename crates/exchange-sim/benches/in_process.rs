//! `InProcess` throughput: one place + cancel pair of a LIMIT order (two
//! `binance_rest::Exchange` calls, each through the client's governor, the
//! server's admission, parameters, endpoint and JSON body, and the client's
//! decoding), and one `get_order`.
//!
//! `cargo bench -p exchange-sim --bench in_process`; ops/s = calls per pair
//! (2) / time per pair.
//!
//! The engine keeps every order it ever accepted, so each batch of 10,000
//! pairs runs on a fresh `InProcess` (its construction is not timed).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use binance_rest::{Exchange, NewOrder, OrderRef};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use exchange_sim::{InProcess, LimitsConfig, Side, SimConfig};
use rust_decimal::Decimal;

const BATCH: u64 = 10_000;

fn fresh() -> InProcess {
    let ex = InProcess::new(SimConfig {
        start_time_ms: Some(1_767_225_600_000),
        limits: LimitsConfig {
            orders_per_10s: u64::MAX / 4,
            orders_per_day: u64::MAX / 4,
            ..LimitsConfig::default()
        },
        ..SimConfig::default()
    })
    .expect("config");
    // The first signed call measures the clock offset: not part of the loop.
    ex.account().expect("account");
    ex
}

fn order(i: u64) -> NewOrder {
    NewOrder::limit(
        "SOLUSDC",
        Side::Buy,
        Decimal::new(1, 1),
        Decimal::new(14_000 - (i % 100) as i64, 2),
    )
    .client_order_id(format!("bench-{i}"))
}

fn pair(ex: &InProcess, i: u64) {
    let mut o = order(i);
    o.timestamp_ms = Some(ex.order_timestamp().expect("timestamp"));
    let placed = ex.place_order(&o).expect("placed");
    let cancelled = ex
        .cancel_order("SOLUSDC", OrderRef::Id(placed.order_id))
        .expect("cancelled");
    black_box(cancelled);
}

fn bench(c: &mut Criterion) {
    c.bench_function("in_process/place_cancel_pair", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut done = 0;
            while done < iters {
                let ex = fresh();
                let n = (iters - done).min(BATCH);
                let t = Instant::now();
                for i in 0..n {
                    pair(&ex, i);
                }
                total += t.elapsed();
                done += n;
            }
            total
        })
    });

    let ex = fresh();
    let mut o = order(0);
    o.timestamp_ms = Some(ex.order_timestamp().expect("timestamp"));
    let id = ex.place_order(&o).expect("placed").order_id;
    c.bench_function("in_process/get_order", |b| {
        b.iter(|| black_box(ex.get_order("SOLUSDC", OrderRef::Id(id)).expect("order")))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

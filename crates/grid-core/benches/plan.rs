//! One full `plan` call for a basket of 50 levels with 2,000 fills and 10 open
//! orders (issue 2 target: <= 50 µs on the 2-core reference machine).
//!
//! Measured median: 33 µs (three runs of 32.9 / 33.1 / 33.8 µs; the same
//! machine gave 85 µs before the integer fast paths), with
//! `CARGO_TARGET_DIR=/tmp/target-gridcore cargo bench -p grid-core --bench plan`
//! on the 2-core VM while other crates were being built. Callgrind on
//! `examples/plan_profile`: 0.55M instructions per plan (1.14M before), of
//! which about 150 per fill in `PlanInput::validate` (the fill loop is ~45% of
//! the time); the rest is the ladder, the reconciler's new ids and allocation.

// Bench setup: a failed unwrap/expect stops the bench with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{criterion_group, criterion_main, Criterion};
use grid_core::plan;

#[path = "support/plan_input.rs"]
mod plan_input;
use plan_input::input;

fn bench(c: &mut Criterion) {
    let inp = input();
    let p = plan(&inp).expect("the benchmark input plans");
    assert!(!p.orders.is_empty());
    c.bench_function("plan_50_levels_2000_fills_10_open", |b| {
        b.iter(|| plan(std::hint::black_box(&inp)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! One full `plan` call for a basket of 50 levels with 2,000 fills and 10 open
//! orders (issue 2 target: <= 50 µs on the 2-core reference machine).

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

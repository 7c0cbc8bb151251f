//! Runs the benchmark's plan input N times (for profilers: callgrind, perf).
//! `cargo run --release -p grid-core --example plan_profile -- 1000`
//!
//! `valgrind --tool=callgrind target/release/examples/plan_profile 100`: about
//! 0.55M instructions per plan after the integer fast paths (1.14M before),
//! plus 3.1M once for building the input.

use grid_core::plan;

#[path = "../benches/support/plan_input.rs"]
mod plan_input;
use plan_input::input;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100);
    let inp = input();
    let mut orders = 0;
    for _ in 0..n {
        if let Ok(p) = plan(std::hint::black_box(&inp)) {
            orders += p.orders.len();
        }
    }
    println!("{n} plans, {orders} orders");
}

//! Runs the benchmark's plan input N times (for profilers: callgrind, perf).
//! `cargo run --release -p grid-core --example plan_profile -- 1000`

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

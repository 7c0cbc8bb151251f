//! Deterministic simulation testing of the whole bot (docs/design.md
//! "The simulation harness"): the live worker's code, on an in-memory
//! ledger with PostgreSQL's commit semantics ([`MemLedger`]), against the
//! in-process simulator, under a seeded schedule of faults, with the money
//! invariants ([`invariants`]) checked after every step.
//!
//! `bot-daemon simulate --seeds N --cycles M [--seed S] [--workers K]` runs
//! it from the command line; a seed that breaks an invariant prints the
//! command that replays it, and is committed as a regression
//! (crates/bot-daemon/tests/simulation.rs).

pub mod faults;
pub mod harness;
pub mod invariants;
pub mod mem_ledger;
mod rng;
pub mod streams;

#[cfg(test)]
#[path = "tests/invariants.rs"]
mod invariant_tests;

pub use harness::{run, Found, Outcome, Scenario, SetupError};
pub use mem_ledger::MemLedger;
#[cfg(test)]
#[path = "tests/commands.rs"]
mod command_tests;
#[cfg(test)]
#[path = "tests/edit_config.rs"]
mod edit_config_tests;
#[cfg(test)]
#[path = "tests/quiet.rs"]
mod quiet_tests;

//! `executor`: every decision the worker takes after [`grid_core::plan`],
//! as pure functions of what the bot has persisted, what the exchange just
//! said, the plan, and the time (passed in). No I/O, no clock, no logging:
//! the live worker (PostgreSQL + `binance-rest`), the simulation harness
//! (memory + the in-process simulator) and backtests all drive these same
//! functions, so they take the same decisions.
//!
//! The rules, each a function here (docs/design.md "The executor",
//! docs/invariants.md):
//! - [`arrival`]: an order the exchange does not list is looked up; a create
//!   the exchange does not know is given up ("never arrived") only once the
//!   exchange's clock is past its request's `timestamp` plus the arrival
//!   window; until then its basket waits;
//! - [`view`]: nothing is created, replaced or ended on fills that are
//!   behind the exchange (an order reporting more executed than its
//!   recorded trades); a plan's terminal status or reanchor is written only
//!   on a complete view;
//! - [`execution`]: cancels run before creates; a replacement's quantity is
//!   the planned quantity minus the cancel answer's `executedQty`, rounded
//!   down to the step, and nothing is created when that is not tradable; an
//!   order the plan saw open that traded after the snapshot defers every
//!   create of the cycle and keeps the basket's status; an unknown cancel
//!   creates nothing for its role; no create is sent that the free balance
//!   cannot pay for;
//! - [`failure`]: which create errors prove the order was not placed (the
//!   row is rejected) and which leave its outcome unknown (looked up next
//!   cycle, never re-sent);
//! - [`fees`]: a trade's commission valued in the quote asset.

#![deny(missing_docs)]

pub mod arrival;
pub mod execution;
pub mod failure;
pub mod fees;
pub mod view;

#[cfg(test)]
mod tests;

//! bot-daemon: the worker that runs the grid strategy against an exchange,
//! and the command-line tools around it.
//!
//! Invariants of the worker (see [`worker`]):
//! - it acts only on baskets it holds a lease on (one writer per basket);
//! - an order row (`PENDING_NEW`) is committed before its create request is
//!   sent; an unknown outcome is never retried, the next cycle looks the
//!   clientOrderId up before planning anything;
//! - cancels run before creates; a replacement's quantity comes from the
//!   cancel response; a free-balance check precedes every create;
//! - the API secret is never logged, stored or put in an error.

pub mod account;
pub mod backoff;
pub mod backtest;
pub mod cli;
pub mod error;
pub mod ledger;
pub mod paper;
pub mod prices;
pub mod run;
pub mod settings;
pub mod sim;
pub mod stream;
pub mod worker;

pub use error::DaemonError;

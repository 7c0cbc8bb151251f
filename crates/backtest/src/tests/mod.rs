//! Unit tests, one file per module.

mod klines;
mod metrics;
mod path;

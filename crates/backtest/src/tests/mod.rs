//! Unit tests, one file per module.

mod klines;

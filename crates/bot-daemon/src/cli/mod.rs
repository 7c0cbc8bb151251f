//! Subcommands of `bot-daemon`.

pub mod basket;
pub mod plan;

//! Subcommands of `bot-daemon`.

pub mod plan;

//! `bot-daemon`: the worker that runs the grid strategy, and its tools.

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "bot-daemon",
    version,
    about = "Binance spot grid trading bot: worker and tools"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print what the strategy would do for one JSON input (strategy.md §14).
    /// Touches no database and no network.
    Plan {
        /// The input file, or `-` for standard input.
        #[arg(long)]
        input: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Plan { input } => cli::plan::run_file(&input),
    }
}

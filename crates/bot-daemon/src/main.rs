//! `bot-daemon`: the worker that runs the grid strategy, and its tools.

use std::path::PathBuf;
use std::process::ExitCode;

use bot_daemon::cli;
use bot_daemon::error::DaemonError;
use bot_daemon::settings::Settings;
use clap::{Parser, Subcommand};
use rust_decimal::Decimal;
use store::CommandKind;

#[derive(Parser)]
#[command(
    name = "bot-daemon",
    version,
    about = "Binance spot grid trading bot: worker and tools"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// The worker loop (the default).
    Run,
    /// Create the database when missing and apply the migrations.
    Migrate,
    /// Print what the strategy would do: for one JSON input (strategy.md §14,
    /// no database, no network) or for a stored basket (no order is sent).
    Plan {
        /// The input file, or `-` for standard input.
        #[arg(long, conflicts_with = "basket")]
        input: Option<String>,
        /// A basket id.
        #[arg(long)]
        basket: Option<i64>,
    },
    /// Baskets: create, list, show, pause, resume, close.
    Basket {
        #[command(subcommand)]
        action: BasketCmd,
    },
    /// Emergency close of every live basket (through the commands table).
    CloseAll,
    /// Exit 0 when this machine's worker has a fresh heartbeat (healthcheck).
    Health,
    /// What a basket would have done on historical candles, decided by the
    /// live worker's code against the simulator (no database, no network).
    /// Bad input: exit 2.
    Backtest(Box<cli::backtest::Args>),
    /// Deterministic simulation: workers against the in-process exchange
    /// under seeded faults, the money invariants checked after every step
    /// (no database, no network). Exit 1 when an invariant broke.
    Simulate {
        /// Seeds to run, from `--seed`.
        #[arg(long, default_value_t = 1)]
        seeds: u64,
        /// Steps (worker cycles) per seed.
        #[arg(long, default_value_t = 500)]
        cycles: u64,
        /// The first seed (alone: replays that seed).
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Workers sharing the ledger and the account.
        #[arg(long, default_value_t = 1)]
        workers: usize,
        /// No operator commands (replays a seed found before they existed).
        #[arg(long)]
        no_operator: bool,
        /// Workers trust the user-data and price streams between 60 s
        /// safety sweeps, under the streams' faults (drops, duplicates,
        /// delays, disconnects, stale prices).
        #[arg(long)]
        streams: bool,
    },
}

#[derive(Subcommand)]
enum BasketCmd {
    /// Create a basket (validated; nothing stored or sent when invalid: exit 2).
    Create {
        #[arg(long)]
        symbol: String,
        /// Anchor price (default: the last price).
        #[arg(long)]
        anchor: Option<Decimal>,
        /// JSON file with strategy.md §2 fields.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Every basket: id, symbol, status, anchor, position, realized P&L, holding worker.
    List,
    /// One basket: position, P&L, open orders, last plan, holding worker.
    Show { id: i64 },
    /// Stop buying; the take-profits and trail keep protecting the position.
    Pause { id: i64 },
    /// Buy again after a pause.
    Resume { id: i64 },
    /// Emergency close: sell the position, cancel the rest.
    Close { id: i64 },
}

/// Prints to standard output; a closed pipe is fine, never a panic.
fn say(text: &str) -> Result<(), DaemonError> {
    Ok(cli::emit(text)?)
}

fn fail(e: &DaemonError) -> ExitCode {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "error: {e}");
    ExitCode::from(2)
}

fn db(settings: &Settings) -> Result<diesel::PgConnection, DaemonError> {
    bot_daemon::run::prepare_database(&settings.database_url)?;
    Ok(store::connect(&settings.database_url)?)
}

fn health(settings: &Settings) -> Result<(), DaemonError> {
    let mut conn = store::connect(&settings.database_url)?;
    let rows = store::misc::statuses(&mut conn)?;
    let id = std::env::var("BOT_WORKER_ID")
        .ok()
        .filter(|s| !s.is_empty());
    let host = bot_daemon::settings::host_name();
    let whose = match &id {
        Some(id) => cli::health::Whose::Id(id),
        None => cli::health::Whose::Host(&host),
    };
    // Three cycles late, and never less than 30 s.
    let max_age = (settings.check_interval * 3).max(std::time::Duration::from_secs(30));
    match cli::health::check(&rows, &whose, chrono::Utc::now(), max_age) {
        Ok(age) => say(&format!("healthy: heartbeat {}s ago\n", age.as_secs())),
        Err(why) => Err(DaemonError::Invalid(why)),
    }
}

/// `bot-daemon simulate`: violations (with their replay commands) on
/// standard error, the summary JSON last on standard output.
fn simulate(o: cli::simulate::Options) -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("off")).init();
    match cli::simulate::simulate(o) {
        Ok(s) => {
            for f in &s.found {
                let _ = std::io::Write::write_all(
                    &mut std::io::stderr(),
                    format!(
                        "violation seed={} step={} {}: {}\n  replay: {}\n",
                        f.scenario.seed,
                        f.step,
                        f.violation.invariant,
                        f.violation.detail,
                        f.scenario.replay()
                    )
                    .as_bytes(),
                );
            }
            let _ = cli::emit(&format!("{}\n", s.to_json()));
            if s.found.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => fail(&DaemonError::Invalid(format!("simulation not set up: {e}"))),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Plan {
        input: Some(input), ..
    }) = &cli.command
    {
        return cli::plan::run_file(input);
    }
    if let Some(Command::Simulate {
        seeds,
        cycles,
        seed,
        workers,
        no_operator,
        streams,
    }) = &cli.command
    {
        return simulate(cli::simulate::Options {
            seeds: *seeds,
            first_seed: *seed,
            cycles: *cycles,
            workers: *workers,
            operator: !*no_operator,
            streams: *streams,
        });
    }
    if let Some(Command::Backtest(args)) = &cli.command {
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("off")).init();
        return match cli::backtest::backtest(args).and_then(|t| say(&t)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&e),
        };
    }
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    let command = cli.command.unwrap_or(Command::Run);
    if let Command::Health = command {
        // Docker reads 1 as "unhealthy" and reserves 2.
        return match health(&settings) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                let _ = std::io::Write::write_all(
                    &mut std::io::stderr(),
                    format!("unhealthy: {e}\n").as_bytes(),
                );
                ExitCode::from(1)
            }
        };
    }
    let res = match command {
        Command::Run => bot_daemon::run::run(&settings),
        Command::Migrate => bot_daemon::run::prepare_database(&settings.database_url)
            .and_then(|()| say("migrations applied\n")),
        Command::Plan {
            basket: Some(id), ..
        } => db(&settings).and_then(|mut c| {
            let input = cli::basket::plan_input(&mut c, id)?;
            let text =
                serde_json::to_string(&input).map_err(|e| DaemonError::Invalid(e.to_string()))?;
            let (out, ok) = cli::plan::answer(&text);
            say(&format!("{out}\n"))?;
            if ok {
                Ok(())
            } else {
                Err(DaemonError::Invalid(
                    "the strategy refused this basket's input".into(),
                ))
            }
        }),
        Command::Plan { .. } => Err(DaemonError::Invalid(
            "plan needs --input FILE or --basket ID".into(),
        )),
        Command::CloseAll => db(&settings).and_then(|mut c| {
            let row = cli::basket::queue(&mut c, CommandKind::CloseAll, None)?;
            say(&format!("close_all queued as command {}\n", row.id))
        }),
        Command::Basket { action } => basket(&settings, action),
        Command::Health => health(&settings),
        Command::Simulate { .. } | Command::Backtest(_) => Err(DaemonError::Invalid(
            "simulate and backtest run before the settings are read".into(),
        )),
    };
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn basket(settings: &Settings, action: BasketCmd) -> Result<(), DaemonError> {
    let mut conn = db(settings)?;
    let queued = |conn: &mut diesel::PgConnection, kind: CommandKind, id: i64| {
        let row = cli::basket::queue(conn, kind, Some(id))?;
        say(&format!(
            "{} of basket {id} queued as command {}\n",
            kind.as_str(),
            row.id
        ))
    };
    match action {
        BasketCmd::Create {
            symbol,
            anchor,
            config,
        } => {
            let (client, sim, _url) = bot_daemon::run::exchange(settings)?;
            let row = cli::basket::create(&mut conn, &client, &symbol, anchor, config.as_deref())?;
            drop(sim);
            say(&format!(
                "basket {} created: {} anchored at {}\n",
                row.id, row.symbol, row.anchor_price
            ))
        }
        BasketCmd::List => {
            let rows = store::baskets::list(&mut conn, None)?;
            say(&cli::basket::list_text(&rows))
        }
        BasketCmd::Show { id } => {
            let v = cli::basket::show(&mut conn, id)?;
            say(&format!(
                "{}\n",
                serde_json::to_string_pretty(&v).unwrap_or_default()
            ))
        }
        BasketCmd::Pause { id } => queued(&mut conn, CommandKind::Pause, id),
        BasketCmd::Resume { id } => queued(&mut conn, CommandKind::Resume, id),
        BasketCmd::Close { id } => queued(&mut conn, CommandKind::CloseBasket, id),
    }
}

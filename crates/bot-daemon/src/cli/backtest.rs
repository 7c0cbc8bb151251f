//! `bot-daemon backtest`: the command line of [`crate::backtest`] — its
//! arguments read into [`Options`], the table printed, the JSON and the
//! HTML report written. Every bad input is an error naming it (exit 2).

use std::path::{Path, PathBuf};

use chrono::{NaiveDate, TimeZone, Utc};

use crate::backtest::{market, output, run, sweep, Options};
use crate::error::DaemonError;

/// The arguments as given (`bot-daemon backtest --help`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Args {
    /// A Binance kline file: CSV (with or without header, ms or µs times),
    /// a zip of one, or the JSON of GET /api/v3/klines. Repeat it for
    /// several files, in time order.
    #[arg(long, required = true)]
    pub klines: Vec<PathBuf>,
    /// The symbol (its filters from --rules, the simulator's own, or
    /// derived from the first price).
    #[arg(long)]
    pub symbol: String,
    /// JSON file with strategy.md §2 fields over the defaults.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The first basket's anchor (default: the first candle's open).
    #[arg(long)]
    pub anchor: Option<rust_decimal::Decimal>,
    /// An exchangeInfo JSON file with the symbol's filters.
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Starting balances, e.g. USDC=10000,BNB=0 (default: the config's
    /// budget in the quote asset).
    #[arg(long)]
    pub balance: Option<String>,
    /// Commission rates, e.g. maker=0.001,taker=0.001 (the default); add
    /// bnb_price=600[,bnb_discount=0.25] to pay it in BNB.
    #[arg(long)]
    pub fees: Option<String>,
    /// The bot's cycle, seconds.
    #[arg(long, default_value_t = 5)]
    pub cycle_seconds: u64,
    /// First day (2023-01-01), time (RFC 3339) or epoch ms.
    #[arg(long)]
    pub from: Option<String>,
    /// End (exclusive), as --from.
    #[arg(long)]
    pub to: Option<String>,
    /// The price path inside a candle: nearer (open, nearer extreme, other
    /// extreme, close) or direction (low first when it rose).
    #[arg(long, default_value = "nearer")]
    pub candle_path: String,
    /// Run every cycle (never skip one that provably changes nothing).
    #[arg(long)]
    pub every_cycle: bool,
    /// Write the results as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write the HTML report here.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// A sweep file: many configs ranked by an objective, with
    /// walk-forward validation (see docs/design.md, "Sweeps").
    #[arg(long)]
    pub sweep: Option<PathBuf>,
    /// Parallel runs of a sweep (default: the cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Write a sweep's runs as CSV here, best first.
    #[arg(long)]
    pub csv: Option<PathBuf>,
}

/// `2023-01-05`, `2023-01-05T12:00:00Z` or `1672876800000` as epoch ms.
///
/// # Errors
/// [`DaemonError::Invalid`] naming the flag.
pub fn parse_time(flag: &str, text: &str) -> Result<i64, DaemonError> {
    let t = text.trim();
    if let Ok(ms) = t.parse::<i64>() {
        return Ok(ms);
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        if let Some(dt) = d.and_hms_opt(0, 0, 0) {
            return Ok(Utc.from_utc_datetime(&dt).timestamp_millis());
        }
    }
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(t) {
        return Ok(dt.timestamp_millis());
    }
    Err(DaemonError::Invalid(format!(
        "{flag} {t}: not a date (2023-01-05), a time (2023-01-05T12:00:00Z) or epoch milliseconds"
    )))
}

/// The [`Options`] of these arguments.
///
/// # Errors
/// [`DaemonError::Invalid`] for the first bad argument.
pub fn options(a: &Args) -> Result<Options, DaemonError> {
    if a.klines.is_empty() {
        return Err(DaemonError::Invalid(
            "--klines FILE is required (a Binance kline CSV, zip or JSON)".into(),
        ));
    }
    let from_ms = a
        .from
        .as_deref()
        .map(|t| parse_time("--from", t))
        .transpose()?;
    let to_ms = a.to.as_deref().map(|t| parse_time("--to", t)).transpose()?;
    if let (Some(f), Some(t)) = (from_ms, to_ms) {
        if f >= t {
            return Err(DaemonError::Invalid(format!(
                "--from {} is not before --to {}",
                a.from.as_deref().unwrap_or(""),
                a.to.as_deref().unwrap_or("")
            )));
        }
    }
    Ok(Options {
        klines: a.klines.clone(),
        symbol: a.symbol.clone(),
        config: a
            .config
            .as_deref()
            .map(super::basket::read_config_file)
            .transpose()?,
        anchor: a.anchor,
        rules: a.rules.clone(),
        balances: a
            .balance
            .as_deref()
            .map(market::parse_balances)
            .transpose()?,
        fees: a
            .fees
            .as_deref()
            .map(market::parse_fees)
            .transpose()?
            .unwrap_or_default(),
        cycle_seconds: a.cycle_seconds,
        from_ms,
        to_ms,
        path: a.candle_path.parse().map_err(DaemonError::Invalid)?,
        every_cycle: a.every_cycle,
    })
}

fn write(path: &Path, text: &str) -> Result<(), DaemonError> {
    std::fs::write(path, text)
        .map_err(|e| DaemonError::Invalid(format!("cannot write {}: {e}", path.display())))
}

/// Runs the backtest; returns the table to print.
///
/// # Errors
/// As [`options`] and [`run`]; a file that cannot be written.
pub fn backtest(a: &Args) -> Result<String, DaemonError> {
    let o = options(a)?;
    if let Some(path) = &a.sweep {
        if a.report.is_some() {
            return Err(DaemonError::Invalid(
                "--report draws one run: run the config the sweep ranks first without --sweep"
                    .into(),
            ));
        }
        let spec = sweep::read_spec(path)?;
        let jobs = a.jobs.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        });
        let out = sweep::sweep(&o, &spec, jobs)?;
        if let Some(p) = &a.json {
            let text = serde_json::to_string_pretty(&sweep::to_json(&out))
                .map_err(|e| DaemonError::Invalid(e.to_string()))?;
            write(p, &text)?;
        }
        if let Some(p) = &a.csv {
            write(p, &sweep::to_csv(&out))?;
        }
        return Ok(sweep::table(&out));
    }
    if a.csv.is_some() || a.jobs.is_some() {
        return Err(DaemonError::Invalid(
            "--csv and --jobs are for --sweep".into(),
        ));
    }
    let out = run(&o)?;
    if let Some(p) = &a.json {
        let text = serde_json::to_string_pretty(&output::to_json(&out))
            .map_err(|e| DaemonError::Invalid(e.to_string()))?;
        write(p, &text)?;
    }
    if let Some(p) = &a.report {
        write(p, &crate::backtest::html::report(&out))?;
    }
    Ok(output::table(&out))
}

//! Paper mode: the exchange-sim engine on a free loopback port inside this
//! process, its price moving by itself (a seeded random walk, or a kline CSV
//! from `BOT_PAPER_KLINES` replayed `BOT_PAPER_SPEED` times faster than real
//! time), reached through the real [`BinanceClient`] — so paper trading runs
//! every line live trading does.
//!
//! Each start is a new simulated exchange (its account, orders and trades
//! are not kept), so its order and trade ids start after a base taken from
//! the start time (`start ms × 1000`): an id never repeats one a previous
//! paper exchange gave to rows the database still holds, which the unique
//! indexes on exchange ids would refuse (a fill lost).

use exchange_sim::config::{PathKind, SimConfig};
use exchange_sim::SimServer;

use crate::error::DaemonError;

/// The simulator's configuration for paper mode.
pub fn sim_config(seed: u64, klines: Option<&str>, speed: u32, started_ms: i64) -> SimConfig {
    let mut cfg = SimConfig {
        seed,
        id_base: id_base(started_ms),
        ..SimConfig::default()
    };
    cfg.price_path.seed = Some(seed);
    cfg.price_path.auto_advance_ms = Some(1000);
    match klines {
        Some(file) => {
            cfg.price_path.kind = PathKind::Klines;
            cfg.price_path.file = Some(file.to_string());
            cfg.price_path.rescale = true;
            // 60: a one-minute candle per second of wall time.
            cfg.price_path.speed = rust_decimal::Decimal::from(speed.max(1));
        }
        None => {
            cfg.price_path.kind = PathKind::RandomWalk;
            cfg.price_path.step_ms = 1000;
            cfg.price_path.volatility_bps = 20;
        }
    }
    cfg
}

/// Starts the paper exchange.
///
/// # Errors
/// [`DaemonError::Sim`] when it cannot bind or the kline file is unusable.
pub fn start(
    seed: u64,
    klines: Option<&str>,
    speed: u32,
    started_ms: i64,
) -> Result<SimServer, DaemonError> {
    let cfg = sim_config(seed, klines, speed, started_ms);
    SimServer::start(cfg, "127.0.0.1:0").map_err(|e| DaemonError::Sim(e.to_string()))
}

/// The first id of a paper exchange started at `started_ms` (below 2^53:
/// browsers read the ids exactly).
pub fn id_base(started_ms: i64) -> u64 {
    u64::try_from(started_ms.max(0))
        .unwrap_or(0)
        .saturating_mul(1000)
}

/// The simulator's API key and secret (the paper account's, not the user's).
pub fn credentials() -> (String, String) {
    let cfg = SimConfig::default();
    (cfg.api_key, cfg.api_secret)
}

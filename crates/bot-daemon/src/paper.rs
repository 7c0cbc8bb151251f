//! Paper mode: the exchange-sim engine on a free loopback port inside this
//! process, its price moving by itself (a seeded random walk, or a kline CSV
//! from `BOT_PAPER_KLINES`), reached through the real [`BinanceClient`] — so
//! paper trading runs every line live trading does.

use exchange_sim::config::{PathKind, SimConfig};
use exchange_sim::SimServer;

use crate::error::DaemonError;

/// The simulator's configuration for paper mode.
pub fn sim_config(seed: u64, klines: Option<&str>) -> SimConfig {
    let mut cfg = SimConfig {
        seed,
        ..SimConfig::default()
    };
    cfg.price_path.seed = Some(seed);
    cfg.price_path.auto_advance_ms = Some(1000);
    match klines {
        Some(file) => {
            cfg.price_path.kind = PathKind::Klines;
            cfg.price_path.file = Some(file.to_string());
            cfg.price_path.rescale = true;
            // One minute candle per second of wall time.
            cfg.price_path.speed = rust_decimal::Decimal::from(60);
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
pub fn start(seed: u64, klines: Option<&str>) -> Result<SimServer, DaemonError> {
    let cfg = sim_config(seed, klines);
    SimServer::start(cfg, "127.0.0.1:0").map_err(|e| DaemonError::Sim(e.to_string()))
}

/// The simulator's API key and secret (the paper account's, not the user's).
pub fn credentials() -> (String, String) {
    let cfg = SimConfig::default();
    (cfg.api_key, cfg.api_secret)
}

//! `exchange-sim [--bind 127.0.0.1:8900] [--config FILE] [--seed N]`

use std::path::PathBuf;

use clap::Parser;
use exchange_sim::{SimConfig, SimServer};

#[derive(Parser, Debug)]
#[command(
    name = "exchange-sim",
    about = "A Binance-compatible spot exchange on loopback"
)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8900")]
    bind: String,
    /// JSON config file (every field optional).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Seed for the random-walk path and generated ids (overrides the config).
    #[arg(long)]
    seed: Option<u64>,
}

fn main() -> std::process::ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let args = Args::parse();
    let mut cfg = match &args.config {
        Some(p) => match SimConfig::from_json_file(p) {
            Ok(c) => c,
            Err(e) => {
                log::error!("{e}");
                return std::process::ExitCode::from(2);
            }
        },
        None => SimConfig::default(),
    };
    if let Some(s) = args.seed {
        cfg.seed = s;
        cfg.price_path.seed = Some(s);
    }
    match SimServer::start(cfg, &args.bind) {
        Ok(srv) => {
            log::info!(
                "Serving {} (api key and secret from the config)",
                srv.base_url()
            );
            srv.wait();
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            log::error!("{e}");
            std::process::ExitCode::from(1)
        }
    }
}

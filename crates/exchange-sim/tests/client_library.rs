//! A standard client library works against the simulator unmodified:
//! Binance's own Python connector (`binance-connector`, pinned in
//! `tests/client_library/requirements.txt`, installed into `.ci/venv` by
//! `.ci/run`) runs `tests/client_library/check.py` — ping, time, exchangeInfo,
//! prices, 24 h / rolling / book tickers, depth, klines, balances, a LIMIT
//! order placed, queried, listed and canceled, a MARKET fill, trades, errors —
//! against a server on a free port. Under CI (`CI` set) a missing library
//! fails the test; elsewhere it is skipped with the command that installs it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use exchange_sim::{SimConfig, SimServer};

const INSTALL: &str = "python3 -m venv .ci/venv && .ci/venv/bin/pip install -r crates/exchange-sim/tests/client_library/requirements.txt";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The venv's Python when it imports the connector.
fn python() -> Option<PathBuf> {
    let py = workspace().join(".ci/venv/bin/python3");
    Command::new(&py)
        .args(["-c", "import binance.spot"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
        .then_some(py)
}

#[test]
fn binance_connector_everyday_calls() {
    let Some(py) = python() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "binance-connector is missing under CI: .ci/run installs it ({INSTALL})"
        );
        eprintln!(
            "SKIPPED the client-library check: binance-connector is not installed ({INSTALL})"
        );
        return;
    };
    // Wall clock: the library signs with its own time.
    let cfg = SimConfig {
        workers: 1,
        ..SimConfig::default()
    };
    let (key, secret) = (cfg.api_key.clone(), cfg.api_secret.clone());
    let srv = SimServer::start(cfg, "127.0.0.1:0").expect("start");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/client_library/check.py");
    let out = Command::new(py)
        .arg(script)
        .args([srv.base_url(), key, secret])
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "binance-connector failed against the simulator\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    assert!(
        stdout.lines().last().is_some_and(|l| l.starts_with("OK:")),
        "{stdout}"
    );
    // Every call the script makes reached the simulator's endpoints.
    let counts = exchange_sim::server::lock(&srv.engine())
        .state()
        .request_counts;
    for endpoint in [
        "GET /api/v3/ping",
        "GET /api/v3/time",
        "GET /api/v3/exchangeInfo",
        "GET /api/v3/ticker/price",
        "GET /api/v3/ticker/24hr",
        "GET /api/v3/ticker",
        "GET /api/v3/ticker/bookTicker",
        "GET /api/v3/depth",
        "GET /api/v3/klines",
        "GET /api/v3/uiKlines",
        "GET /api/v3/avgPrice",
        "GET /api/v3/account",
        "POST /api/v3/order",
        "GET /api/v3/order",
        "GET /api/v3/openOrders",
        "DELETE /api/v3/order",
        "GET /api/v3/myTrades",
        "GET /api/v3/trades",
        "GET /api/v3/allOrders",
    ] {
        assert!(
            counts.get(endpoint).is_some_and(|&n| n > 0),
            "{endpoint} not called: {counts:?}"
        );
    }
}

//! The market-data stream beside the worker: a thread that keeps one
//! `<symbol>@miniTicker` subscription ([`binance_rest::market_stream`]) for
//! the symbols the worker trades and puts their last prices on a board the
//! worker reads before each cycle ([`crate::worker::StreamView::prices`]).
//! Streamed prices cost no request weight, so a cycle with nothing to do
//! spends none.
//!
//! Invariants:
//! - the board holds a symbol's price only while the connection that
//!   reported it is open: a drop, an error or a change of the symbols
//!   clears it, and the worker asks the ticker for what the board lacks;
//! - the thread never decides anything: a price on the board only lets the
//!   worker tell that its last plans still hold ([`grid_core::PriceBand`]);
//!   every cycle that acts reads the ticker itself;
//! - reconnects wait 0.5 s doubling to 30 s after a failure.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use binance_rest::market_stream::PriceStream;
use rust_decimal::Decimal;

/// The longest the thread blocks in one read or wait.
const SLICE: Duration = Duration::from_millis(250);
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

#[derive(Debug, Default)]
struct Board {
    /// The symbols to follow (sorted, no duplicates).
    want: Vec<String>,
    /// Their last prices on the open connection.
    prices: HashMap<String, Decimal>,
}

/// The running price thread.
pub struct PriceFeed {
    board: Arc<Mutex<Board>>,
    stop: Arc<AtomicBool>,
    join: Option<JoinHandle<()>>,
}

fn lock(board: &Mutex<Board>) -> MutexGuard<'_, Board> {
    match board.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl PriceFeed {
    /// Follows `symbols` from now on (a change reconnects).
    pub fn want(&self, symbols: &[String]) {
        let mut want = symbols.to_vec();
        want.sort();
        want.dedup();
        let mut b = lock(&self.board);
        if b.want != want {
            b.want = want;
            b.prices.clear();
        }
    }

    /// The last prices on the open connection.
    pub fn prices(&self) -> HashMap<String, Decimal> {
        lock(&self.board).prices.clone()
    }

    /// Stops the thread and waits for it.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(j) = self.join.take() {
            let _ = j.join();
        }
    }
}

/// Starts the price thread on the market-data stream at `ws_base`
/// (e.g. `wss://stream.binance.com:9443`).
///
/// # Errors
/// The OS refusing a thread.
pub fn spawn(ws_base: String) -> std::io::Result<PriceFeed> {
    let board = Arc::new(Mutex::new(Board::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let (b, s) = (board.clone(), stop.clone());
    let join = std::thread::Builder::new()
        .name("price-stream".into())
        .spawn(move || run(&ws_base, &b, &s))?;
    Ok(PriceFeed {
        board,
        stop,
        join: Some(join),
    })
}

/// Sleeps `d` in slices, returning early when `stop` is set.
fn pause(d: Duration, stop: &AtomicBool) {
    let mut left = d;
    while !left.is_zero() && !stop.load(Ordering::SeqCst) {
        let step = left.min(SLICE);
        std::thread::sleep(step);
        left -= step;
    }
}

fn run(ws_base: &str, board: &Mutex<Board>, stop: &AtomicBool) {
    let mut backoff = FIRST_BACKOFF;
    let mut failing = false;
    while !stop.load(Ordering::SeqCst) {
        let want = lock(board).want.clone();
        if want.is_empty() {
            pause(SLICE, stop);
            continue;
        }
        let mut stream = match PriceStream::connect(ws_base, &want) {
            Ok(s) => s,
            Err(e) => {
                if !failing {
                    log::warn!("Price stream not connected, prices polled meanwhile: {e}");
                    failing = true;
                }
                pause(backoff, stop);
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        log::info!("Price stream connected symbols={}", want.len());
        failing = false;
        backoff = FIRST_BACKOFF;
        while !stop.load(Ordering::SeqCst) {
            match stream.next_price(SLICE) {
                Ok(Some(t)) => {
                    let mut b = lock(board);
                    if b.want != want {
                        break;
                    }
                    b.prices.insert(t.symbol, t.price);
                }
                Ok(None) => {
                    if lock(board).want != want {
                        break;
                    }
                }
                Err(e @ binance_rest::Error::Decode(_)) => {
                    log::warn!("Price stream message not understood: {e}");
                }
                Err(e) => {
                    log::warn!("Price stream lost, prices polled meanwhile: {e}");
                    failing = true;
                    break;
                }
            }
        }
        lock(board).prices.clear();
        stream.close();
        if failing {
            pause(backoff, stop);
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
}

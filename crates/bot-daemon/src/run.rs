//! `bot-daemon run`: database setup, the exchange (paper, testnet or
//! production), then the cycle every `BOT_CHECK_INTERVAL_SECONDS` until
//! SIGTERM/SIGINT, which end the sleep at once (a second one kills).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use binance_rest::{BinanceClient, ClientConfig, Exchange};
use diesel::pg::PgConnection;
use exchange_sim::SimServer;
use grid_core::GridConfig;
use store::misc::StreamState;

use crate::error::DaemonError;
use crate::settings::{Mode, Settings};
use crate::worker::{StreamView, Worker, WorkerConfig};

/// Creates the database when missing and applies the migrations.
///
/// # Errors
/// [`DaemonError::Store`].
pub fn prepare_database(url: &str) -> Result<(), DaemonError> {
    store::ensure_database(url)?;
    let mut conn = store::connect(url)?;
    store::run_migrations(&mut conn)?;
    Ok(())
}

/// The exchange client for the settings; in paper mode with the simulator it
/// started (keep it alive as long as the client is used).
///
/// # Errors
/// [`DaemonError::Sim`] when the paper exchange cannot start.
pub fn exchange(
    settings: &Settings,
) -> Result<(BinanceClient, Option<SimServer>, String), DaemonError> {
    match settings.mode.mode {
        Mode::Paper => {
            let (key, secret) = crate::paper::credentials();
            let (sim, url) = match &settings.mode.base_url {
                Some(url) => (None, url.clone()),
                None => {
                    let sim = crate::paper::start(
                        settings.paper_seed,
                        settings.paper_klines.as_deref(),
                        settings.paper_speed,
                        chrono::Utc::now().timestamp_millis(),
                    )?;
                    let url = sim.base_url();
                    (Some(sim), url)
                }
            };
            let mut cfg = ClientConfig::new(url.clone()).with_credentials(key, secret);
            cfg.recv_window_ms = settings.recv_window_ms;
            Ok((BinanceClient::new(cfg), sim, url))
        }
        Mode::Testnet | Mode::Local | Mode::Production => {
            let url = settings.mode.base_url.clone().unwrap_or_default();
            let mut cfg = ClientConfig::new(url.clone());
            cfg.credentials = settings.credentials();
            cfg.recv_window_ms = settings.recv_window_ms;
            log::info!(
                "API key type {}",
                cfg.credentials
                    .as_ref()
                    .map_or("none", |c| c.key_type().as_str())
            );
            Ok((BinanceClient::new(cfg), None, url))
        }
    }
}

/// Creates the default paper basket when the database has no basket at
/// all: SOLUSDC at the last price, its config the fields of `overlay`
/// (`BOT_PAPER_CONFIG`) over the stored defaults over strategy.md §2,
/// validated like `bot-daemon basket create`.
///
/// # Errors
/// Exchange or store errors; a config the strategy refuses.
pub fn ensure_default_basket<E: Exchange>(
    conn: &mut PgConnection,
    ex: &E,
    overlay: Option<serde_json::Value>,
) -> Result<Option<i64>, DaemonError> {
    if store::baskets::any_exists(conn)? {
        return Ok(None);
    }
    let symbol = GridConfig::default().symbol;
    let nb = crate::cli::basket::validate_new(conn, ex, &symbol, None, overlay)?;
    let row = store::baskets::create(conn, &nb.config, &nb.rules, nb.anchor)?;
    log::info!(
        "Default paper basket created basket={} symbol={} anchor={}",
        row.id,
        row.symbol,
        row.anchor_price
    );
    Ok(Some(row.id))
}

/// What [`start_paper`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PaperStart {
    /// Baskets of the previous paper exchange, closed (ascending ids).
    pub retired: Vec<i64>,
    /// Baskets created: one per retired `active` basket, or the default one.
    pub created: Vec<i64>,
}

/// Why [`start_paper`] closes a basket (its `closed_reason`).
pub const PAPER_GONE: &str = "paper exchange restarted: the orders, position and balances \
     of this basket were on the previous one";

/// Readies the database for a new in-process paper exchange, which starts
/// empty: the baskets of the previous one that no live worker holds are
/// closed with their open orders ([`store::leases::retire_unreachable`]) —
/// their exits would sell on this exchange what it never bought for them.
/// Each that was `active` carries on as a new basket with the same config at
/// this exchange's last price (one that cannot be created is logged and
/// skipped: the start goes on); a database with no basket at all gets the
/// default paper basket ([`ensure_default_basket`]).
///
/// # Errors
/// Store errors while retiring; a default basket config the strategy refuses.
pub fn start_paper<E: Exchange>(
    conn: &mut PgConnection,
    ex: &E,
    worker_id: &str,
    overlay: Option<serde_json::Value>,
) -> Result<PaperStart, DaemonError> {
    let mut out = PaperStart::default();
    for r in store::leases::retire_unreachable(conn, worker_id, PAPER_GONE)? {
        log::warn!(
            "Basket retired basket={} symbol={} was={}: {PAPER_GONE}",
            r.row.id,
            r.row.symbol,
            r.was.as_str()
        );
        out.retired.push(r.row.id);
        if r.was != grid_core::BasketStatus::Active {
            continue;
        }
        match successor(conn, ex, &r.row) {
            Ok(id) => {
                log::info!(
                    "Basket carried on basket={id} from={} symbol={}",
                    r.row.id,
                    r.row.symbol
                );
                out.created.push(id);
            }
            Err(e) => log::warn!(
                "Basket not carried on from={} symbol={}: {e}",
                r.row.id,
                r.row.symbol
            ),
        }
    }
    if let Some(id) = ensure_default_basket(conn, ex, overlay)? {
        out.created.push(id);
    }
    Ok(out)
}

/// A new `active` basket with `old`'s config at the exchange's last price,
/// validated like `bot-daemon basket create`.
fn successor<E: Exchange>(
    conn: &mut PgConnection,
    ex: &E,
    old: &store::baskets::BasketRow,
) -> Result<i64, DaemonError> {
    let config = serde_json::to_value(old.config()?)
        .map_err(|e| DaemonError::Invalid(format!("basket {} config: {e}", old.id)))?;
    let nb = crate::cli::basket::validate_new(conn, ex, &old.symbol, None, Some(config))?;
    Ok(store::baskets::create(conn, &nb.config, &nb.rules, nb.anchor)?.id)
}

/// Runs the worker until SIGTERM/SIGINT.
///
/// # Errors
/// Setup errors only (settings, database creation, paper exchange); the loop
/// itself never returns an error.
pub fn run(settings: &Settings) -> Result<(), DaemonError> {
    log::info!(
        "Starting worker={} mode={} url={} interval={} ms",
        settings.worker_id,
        settings.mode.mode.as_str(),
        settings
            .mode
            .base_url
            .as_deref()
            .unwrap_or("in-process simulator"),
        settings.check_interval.as_millis()
    );
    if settings.mode.mode == Mode::Production {
        log::warn!("PRODUCTION mode: real money");
    }
    if let (Mode::Paper, Some(url)) = (settings.mode.mode, &settings.mode.base_url) {
        if crate::settings::parse_base_url(url)
            .is_ok_and(|b| b.kind != crate::settings::HostKind::Loopback)
        {
            log::warn!("Paper mode against a simulator on another host (BOT_CONFIRM_REMOTE_PAPER=yes): {url}");
        }
    }
    crate::account::set_currency(settings.account_currency.clone());
    prepare_database(&settings.database_url)?;
    let pool = store::connect_pool(&settings.database_url, 4)?;
    let (client, sim, url) = exchange(settings)?;
    if settings.mode.mode == Mode::Paper {
        let mut conn = pool.get().map_err(store::Error::from)?;
        let overlay = settings
            .paper_config
            .as_deref()
            .map(|p| crate::cli::basket::read_config_file(std::path::Path::new(p)))
            .transpose()?;
        // An in-process exchange starts empty; a simulator of its own
        // (BINANCE_BASE_URL) keeps its orders across this process's restarts.
        let started = if sim.is_some() {
            start_paper(&mut conn, &client, &settings.worker_id, overlay).map(|_| ())
        } else {
            ensure_default_basket(&mut conn, &client, overlay).map(|_| ())
        };
        if let Err(e) = started {
            log::warn!("Paper start: {e}");
        }
    }

    // exchangeInfo tells the client the account's request-weight limit
    // (its governor assumes Binance's 6,000 per minute until then).
    if let Ok(mut conn) = pool.get() {
        if let Some(b) = store::baskets::list_live(&mut conn)
            .ok()
            .and_then(|l| l.into_iter().next())
        {
            if let Err(e) = client.symbol_rules(&b.symbol) {
                log::warn!("exchangeInfo unavailable, default weight limit kept: {e}");
            }
        }
    }

    let (tx, rx) = mpsc::channel::<()>();
    let term = Arc::new(AtomicBool::new(false));
    for sig in signal_hook::consts::TERM_SIGNALS {
        signal_hook::flag::register_conditional_shutdown(*sig, 1, Arc::clone(&term))?;
        signal_hook::flag::register(*sig, Arc::clone(&term))?;
    }
    let mut signals = signal_hook::iterator::Signals::new(signal_hook::consts::TERM_SIGNALS)?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for _ in signals.forever() {
                let _ = tx.send(());
            }
        })?;

    let lease_ms = match settings.lease {
        Some(l) => i64::try_from(l.as_millis()).unwrap_or(i64::MAX),
        None => i64::try_from(settings.check_interval.as_millis() * 3)
            .unwrap_or(15_000)
            .max(3000),
    };
    let (wake_tx, wake_rx) = std::sync::mpsc::channel();
    let stream = if settings.user_stream {
        start_stream(&client, &url, wake_tx, &settings.worker_id)
    } else {
        None
    };
    let mut worker = Worker::new(
        client,
        WorkerConfig {
            worker_id: settings.worker_id.clone(),
            lease_ms,
            max_baskets: settings.max_baskets,
            // With the stream, every full cycle compares each order with
            // the exchange's (executed quantity, status): a fill cannot hide
            // from it, and 50 baskets' myTrades every 60 cycles would cost
            // 1,000 weight. Without it, the old belt and braces.
            sweep_every: if stream.is_some() { 0 } else { 60 },
            snapshot_interval: settings.snapshot_interval,
            arrival_window_ms: crate::worker::arrival_window_ms(settings.recv_window_ms),
            mode: settings.mode.mode.as_str().to_string(),
            base_url: url,
            retention: settings.retention.clone(),
        },
    )
    .with_stp_mode(settings.stp_mode)
    .with_sweep_interval(stream.is_some().then_some(settings.sweep_interval));
    let prices = if stream.is_some() && settings.price_stream {
        start_prices(&worker.cfg.base_url)
    } else {
        None
    };
    let stop = worker.stop_flag();
    let mut sleeper = Sleeper::new(&settings.database_url, pool.clone()).with_wake(wake_rx);
    let first_backoff = settings.check_interval.min(Duration::from_secs(1));
    let mut backoff = first_backoff;
    loop {
        let started = Instant::now();
        let mut wait = settings.check_interval;
        let state = stream.as_ref().map_or(StreamState::Polling, |s| s.state());
        worker.set_stream_state(state);
        worker.set_streams(StreamView {
            streaming: state == StreamState::Streaming,
            seq: stream.as_ref().map_or(0, |s| s.seq()),
            prices: prices.as_ref().map(|p| p.prices()).unwrap_or_default(),
        });
        match pool.get() {
            Ok(mut conn) => match worker.cycle(&mut conn) {
                Ok(_) => backoff = first_backoff,
                Err(e) if e.is_retryable() => {
                    log::error!("Cycle failed, retrying in {} ms: {e}", backoff.as_millis());
                    wait = backoff;
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
                Err(e) => log::warn!("Cycle skipped: {e}"),
            },
            Err(e) => {
                log::error!(
                    "Database unavailable, retrying in {} ms: {e}",
                    backoff.as_millis()
                );
                wait = backoff;
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        }
        if let Some(p) = &prices {
            p.want(worker.symbols());
        }
        if term.load(Ordering::SeqCst) {
            break;
        }
        match sleeper.sleep(started + wait, &rx) {
            Wake::Signal => break,
            Wake::Notified | Wake::Polled => {
                log::debug!("Woken early: a command is waiting");
            }
            Wake::Stream => {
                log::debug!("Woken early: an order changed on the exchange");
            }
            Wake::Deadline => {}
        }
    }
    stop.store(true, Ordering::SeqCst);
    log::info!("Stopping worker={}", settings.worker_id);
    if let Some(s) = stream {
        s.stop();
    }
    if let Some(p) = prices {
        p.stop();
    }
    if let Ok(mut conn) = pool.get() {
        let _ = store::leases::release_leases(&mut conn, &settings.worker_id);
        let _ = store::misc::remove_status(&mut conn, &settings.worker_id);
    }
    drop(sim);
    Ok(())
}

/// Starts the user-data stream thread ([`crate::stream`]) for `client`'s
/// exchange, or says why not (polling alone then): no credentials, or a base
/// URL whose WebSocket API address is not known.
fn start_stream(
    client: &BinanceClient,
    url: &str,
    wake: std::sync::mpsc::Sender<()>,
    worker_id: &str,
) -> Option<crate::stream::StreamHandle> {
    let Some(credentials) = client.config().credentials.clone() else {
        log::info!("User-data stream off: no API key; fills are polled");
        return None;
    };
    let ws = match binance_rest::user_stream::ws_api_url(url) {
        Ok(ws) => ws,
        Err(e) => {
            log::warn!("User-data stream off, fills are polled: {e}");
            return None;
        }
    };
    if let Err(e) = client.sync_time() {
        log::warn!("Server time not read before the stream subscribes: {e}");
    }
    let seed = worker_id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    match crate::stream::spawn(ws, credentials, client.time_offset_ms(), wake, seed) {
        Ok(h) => Some(h),
        Err(e) => {
            log::warn!("User-data stream thread not started, fills are polled: {e}");
            None
        }
    }
}

/// Starts the market-data price thread ([`crate::prices`]) for the
/// exchange at `url`, or says why not (prices polled then).
fn start_prices(url: &str) -> Option<crate::prices::PriceFeed> {
    let ws = match binance_rest::market_stream::market_stream_url(url) {
        Ok(ws) => ws,
        Err(e) => {
            log::warn!("Price stream off, prices polled: {e}");
            return None;
        }
    };
    match crate::prices::spawn(ws) {
        Ok(p) => Some(p),
        Err(e) => {
            log::warn!("Price stream thread not started, prices polled: {e}");
            None
        }
    }
}

/// Why [`Sleeper::sleep`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// The next cycle is due.
    Deadline,
    /// `NOTIFY bot_commands`: a command was written.
    Notified,
    /// The one-second poll found a pending command (NOTIFY missed or unavailable).
    Polled,
    /// SIGTERM/SIGINT (or the signal channel closed).
    Signal,
    /// The user-data stream saw one of the account's orders change.
    Stream,
}

/// The worker's sleep between cycles: short steps, ending early on a
/// signal, on `NOTIFY bot_commands` (drained from a dedicated, non-pooled
/// `LISTEN` connection) or, as a fallback, when the one-second poll of
/// `commands` finds a pending row. A broken `LISTEN` connection is reopened
/// at the next poll. Either way a written command starts within 2 s.
pub struct Sleeper {
    url: String,
    pool: store::Pool,
    listen: Option<PgConnection>,
    /// The user-data stream's wake-ups ([`crate::stream`]).
    wake: Option<Receiver<()>>,
    /// How often the sleep looks at the channel and the notifications.
    pub step: Duration,
    /// How often it polls `commands`.
    pub poll_every: Duration,
}

impl Sleeper {
    /// Opens the `LISTEN` connection (or leaves it for the next poll to retry).
    pub fn new(url: &str, pool: store::Pool) -> Sleeper {
        let mut s = Sleeper {
            url: url.to_string(),
            pool,
            listen: None,
            wake: None,
            step: Duration::from_millis(50),
            poll_every: Duration::from_secs(1),
        };
        s.reconnect();
        s
    }

    /// The same sleeper, also ended by a message on `wake` ([`Wake::Stream`]).
    pub fn with_wake(mut self, wake: Receiver<()>) -> Sleeper {
        self.wake = Some(wake);
        self
    }

    /// True while the `LISTEN` connection is open.
    pub fn listening(&self) -> bool {
        self.listen.is_some()
    }

    fn reconnect(&mut self) {
        let opened = store::connect(&self.url).and_then(|mut c| {
            store::commands::listen(&mut c)?;
            Ok(c)
        });
        match opened {
            Ok(c) => {
                log::debug!("Listening on {}", store::commands::NOTIFY_CHANNEL);
                self.listen = Some(c);
            }
            Err(e) => {
                log::warn!("LISTEN unavailable, polling commands every second: {e}");
                self.listen = None;
            }
        }
    }

    fn notified(&mut self) -> bool {
        let Some(conn) = self.listen.as_mut() else {
            return false;
        };
        match store::commands::drain_notifications(conn) {
            Ok(ids) => !ids.is_empty(),
            Err(e) => {
                log::warn!("LISTEN connection lost, reopening at the next poll: {e}");
                self.listen = None;
                false
            }
        }
    }

    /// Sleeps until `deadline` unless woken earlier; see [`Wake`].
    pub fn sleep(&mut self, deadline: Instant, signals: &Receiver<()>) -> Wake {
        let mut next_poll = Instant::now() + self.poll_every;
        loop {
            if self.notified() {
                return Wake::Notified;
            }
            if let Some(w) = &self.wake {
                if w.try_recv().is_ok() {
                    // One cycle answers every wake-up queued so far.
                    while w.try_recv().is_ok() {}
                    return Wake::Stream;
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return Wake::Deadline;
            }
            if now >= next_poll {
                next_poll = now + self.poll_every;
                if self.listen.is_none() {
                    self.reconnect();
                }
                if let Ok(mut conn) = self.pool.get() {
                    if pending_commands(&mut conn) {
                        return Wake::Polled;
                    }
                }
            }
            let slice = (deadline - now).min(self.step);
            match signals.recv_timeout(slice) {
                Ok(()) | Err(RecvTimeoutError::Disconnected) => return Wake::Signal,
                Err(RecvTimeoutError::Timeout) => {}
            }
        }
    }
}

fn pending_commands(conn: &mut PgConnection) -> bool {
    store::commands::any_pending(conn).unwrap_or(false)
}

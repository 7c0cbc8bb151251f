//! The user-data stream beside the worker: a thread that keeps a WebSocket
//! API subscription ([`binance_rest::user_stream`]) and wakes the worker's
//! cycle as soon as one of the account's orders trades, is cancelled or
//! expires, so a fill is recorded and its take-profit placed without waiting
//! out the cycle interval.
//!
//! Invariants:
//! - The thread records nothing: the woken cycle reads open orders and trades
//!   through REST as every cycle does (fills are unique by trade id). A lost,
//!   duplicated, delayed or reordered event, a dropped connection or a
//!   terminated subscription can only delay a cycle, never lose, duplicate or
//!   invent a fill.
//! - After every (re)connect the worker is woken once (the sweep that fills
//!   the gap of the reconnect).
//! - Its sequence number ([`StreamHandle::seq`]) moves with every event
//!   that wakes the worker, every (re)connect and every drop, before the
//!   wake is sent: a worker that saw the same number before and after a
//!   cycle knows the stream reported no change of the account's orders in
//!   between (what lets it skip the exchange, [`crate::worker::StreamView`]).
//!   While the state is not `streaming`, the worker polls every cycle.
//! - Its state ([`StreamState`]) is what the heartbeat reports.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use binance_rest::user_stream::{
    SplitMix64, Step, StreamSupervisor, SupervisorConfig, UserEvent, UserStream, UserStreamOptions,
};
use binance_rest::{Clock, Credentials, ExecutionType, SystemClock};
use store::misc::StreamState;

/// The longest the thread blocks in one read or wait (it checks its stop
/// flag in between).
const SLICE: Duration = Duration::from_millis(250);

/// The running stream thread.
pub struct StreamHandle {
    state: Arc<AtomicU8>,
    seq: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    join: Option<JoinHandle<()>>,
}

impl StreamHandle {
    /// The stream's state now.
    pub fn state(&self) -> StreamState {
        decode(self.state.load(Ordering::SeqCst))
    }

    /// The stream's sequence number now (see the module docs).
    pub fn seq(&self) -> u64 {
        self.seq.load(Ordering::SeqCst)
    }

    /// Stops the thread and waits for it (at most one [`SLICE`] plus a
    /// connect attempt).
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(j) = self.join.take() {
            let _ = j.join();
        }
    }
}

fn encode(s: StreamState) -> u8 {
    match s {
        StreamState::Polling => 0,
        StreamState::Connecting => 1,
        StreamState::Streaming => 2,
        StreamState::Down => 3,
    }
}

fn decode(v: u8) -> StreamState {
    match v {
        1 => StreamState::Connecting,
        2 => StreamState::Streaming,
        3 => StreamState::Down,
        _ => StreamState::Polling,
    }
}

/// Starts the stream thread on `ws_url` with `credentials`, sending `()` on
/// `wake` whenever the worker should run a cycle now. `time_offset_ms` is the
/// exchange clock minus this host's (the subscribe request is signed with
/// the exchange's time); `seed` varies the reconnect jitter between hosts.
///
/// # Errors
/// The OS refusing a thread.
pub fn spawn(
    ws_url: String,
    credentials: Credentials,
    time_offset_ms: i64,
    wake: Sender<()>,
    seed: u64,
) -> std::io::Result<StreamHandle> {
    let state = Arc::new(AtomicU8::new(encode(StreamState::Connecting)));
    let stop = Arc::new(AtomicBool::new(false));
    let seq = Arc::new(AtomicU64::new(0));
    let (st, sq, sp) = (state.clone(), seq.clone(), stop.clone());
    let shared = Shared {
        state: st,
        seq: sq,
        stop: sp,
    };
    let join = std::thread::Builder::new()
        .name("user-stream".into())
        .spawn(move || run(&ws_url, &credentials, time_offset_ms, &wake, seed, &shared))?;
    Ok(StreamHandle {
        state,
        seq,
        stop,
        join: Some(join),
    })
}

/// Whether the worker should run a cycle for this event: an order of the
/// account traded, was cancelled or expired, or the stream says events may
/// have been missed. A new order is not one: the worker placed it itself
/// (waking for it would only run a quiet cycle after every acting one).
fn wakes(e: &UserEvent) -> bool {
    match e {
        UserEvent::ExecutionReport(r) => !matches!(
            r.execution_type,
            ExecutionType::New | ExecutionType::Replaced
        ),
        UserEvent::EventStreamTerminated { .. } | UserEvent::ServerShutdown { .. } => true,
        _ => false,
    }
}

/// What the thread shares with its handle.
struct Shared {
    state: Arc<AtomicU8>,
    seq: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

fn run(
    url: &str,
    credentials: &Credentials,
    time_offset_ms: i64,
    wake: &Sender<()>,
    seed: u64,
    shared: &Shared,
) {
    let (state, stop) = (&shared.state, &shared.stop);
    let bump = || {
        shared.seq.fetch_add(1, Ordering::SeqCst);
    };
    let clock = SystemClock;
    let mut sup = StreamSupervisor::new(SupervisorConfig::default(), SplitMix64::new(seed));
    let mut stream: Option<UserStream> = None;
    let set = |s: StreamState| {
        if state.swap(encode(s), Ordering::SeqCst) != encode(s) {
            log::info!("User-data stream state={}", s.as_str());
        }
    };
    while !stop.load(Ordering::SeqCst) {
        let now = clock.now_ms();
        match sup.step(now) {
            Step::Connect => {
                set(StreamState::Connecting);
                let options = UserStreamOptions {
                    time_offset_ms,
                    ..UserStreamOptions::default()
                };
                match UserStream::connect(url, credentials, options) {
                    Ok(s) => {
                        stream = Some(s);
                        sup.on_connected(clock.now_ms());
                    }
                    Err(e) => {
                        log::warn!("User-data stream not connected, polling meanwhile: {e}");
                        set(StreamState::Down);
                        sup.on_connect_failed(clock.now_ms(), &e);
                    }
                }
            }
            Step::Reconnect => {
                if let Some(s) = stream.take() {
                    s.close();
                }
            }
            Step::Sweep => {
                // The cycle reads open orders and trades by REST: whatever
                // happened while the stream was down is found there.
                bump();
                if wake.send(()).is_err() {
                    return;
                }
                sup.on_swept();
                set(StreamState::Streaming);
            }
            Step::Read { until_ms } => {
                let Some(s) = stream.as_mut() else {
                    sup.on_read_error(
                        now,
                        &binance_rest::Error::StreamDown("no connection".into()),
                    );
                    continue;
                };
                let left = u64::try_from(until_ms.saturating_sub(now)).unwrap_or(0);
                match s.next_event(SLICE.min(Duration::from_millis(left.max(1)))) {
                    Ok(None) => {}
                    Ok(Some(e)) => {
                        sup.on_event(clock.now_ms(), &e);
                        if wakes(&e) {
                            bump();
                            if wake.send(()).is_err() {
                                return;
                            }
                        }
                    }
                    Err(e @ binance_rest::Error::Decode(_)) => {
                        // One frame skipped, the connection still good: the
                        // supervisor asks for a sweep.
                        log::warn!("User-data stream event not understood: {e}");
                        bump();
                        sup.on_read_error(clock.now_ms(), &e);
                    }
                    Err(e) => {
                        log::warn!("User-data stream lost, polling meanwhile: {e}");
                        stream = None;
                        set(StreamState::Down);
                        bump();
                        sup.on_read_error(clock.now_ms(), &e);
                    }
                }
            }
            Step::Wait { until_ms } => {
                let left = u64::try_from(until_ms.saturating_sub(now)).unwrap_or(0);
                std::thread::sleep(SLICE.min(Duration::from_millis(left)));
            }
        }
    }
    if let Some(s) = stream.take() {
        s.close();
    }
}

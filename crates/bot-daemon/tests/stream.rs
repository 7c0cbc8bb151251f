//! The user-data stream thread beside the worker ([`bot_daemon::stream`])
//! against the simulator's WebSocket API: it wakes the worker once per
//! (re)connect (the sweep) and whenever one of the account's orders trades
//! (not for the orders it places itself), and a dropped connection comes back
//! by itself.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use binance_rest::{BinanceClient, ClientConfig, Credentials, Exchange, NewOrder};
use bot_daemon::stream::{self, StreamHandle};
use exchange_sim::{SimConfig, SimServer};
use grid_core::Side;
use rust_decimal_macros::dec;
use store::misc::StreamState;

fn wait_state(h: &StreamHandle, want: StreamState) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while h.state() != want {
        assert!(
            Instant::now() < deadline,
            "state {:?}, want {want:?}",
            h.state()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn wake(rx: &Receiver<()>, what: &str) {
    rx.recv_timeout(Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("no wake-up for {what}: {e}"));
}

fn sim() -> SimServer {
    SimServer::start(
        SimConfig {
            workers: 1,
            ..SimConfig::default()
        },
        "127.0.0.1:0",
    )
    .unwrap()
}

fn drain(rx: &Receiver<()>) {
    while rx.try_recv().is_ok() {}
}

#[test]
fn the_stream_wakes_the_worker_on_connect_on_every_order_change_and_after_a_drop() {
    let sim = sim();
    let (tx, rx) = mpsc::channel();
    let h = stream::spawn(
        sim.ws_url(),
        Credentials::new("sim-key", "sim-secret"),
        0,
        tx,
        7,
    )
    .unwrap();
    wake(&rx, "the sweep after connecting");
    wait_state(&h, StreamState::Streaming);
    drain(&rx);

    let c = BinanceClient::new(
        ClientConfig::new(sim.base_url()).with_credentials("sim-key", "sim-secret"),
    );
    c.place_order(
        &NewOrder::limit("SOLUSDC", Side::Buy, dec!(1), dec!(149)).client_order_id("s-b1"),
    )
    .unwrap();
    assert!(
        rx.recv_timeout(Duration::from_millis(500)).is_err(),
        "a new order is the worker's own doing: no wake-up"
    );
    {
        let engine = sim.engine();
        exchange_sim::server::lock(&engine)
            .set_price("SOLUSDC", dec!(148))
            .unwrap();
    }
    wake(&rx, "the fill");
    drain(&rx);

    // The connection drops: the stream comes back, and the worker is woken
    // for the sweep that covers the gap.
    sim.ws_hub().drop_all();
    wake(&rx, "the sweep after the reconnect");
    wait_state(&h, StreamState::Streaming);
    h.stop();
}

#[test]
fn a_refused_subscription_is_down_and_polling_goes_on() {
    let sim = sim();
    let (tx, rx) = mpsc::channel();
    let h = stream::spawn(
        sim.ws_url(),
        Credentials::new("sim-key", "not-the-secret"),
        0,
        tx,
        7,
    )
    .unwrap();
    wait_state(&h, StreamState::Down);
    assert!(
        rx.recv_timeout(Duration::from_millis(300)).is_err(),
        "nothing to sweep for: never connected"
    );
    h.stop();
}

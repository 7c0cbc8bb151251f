//! End-to-end in headless Chromium: log in, open the close-all modal,
//! confirm, see the basket go to `closing` (a stand-in daemon, through the
//! store, runs the commands); and the "New basket" form with the real
//! worker's command handling behind it (`new_basket_in_a_real_browser`). Skips with a message when
//! Chromium, node or `crates/web/e2e/node_modules` (`npm ci --prefix crates/web/e2e`)
//! is missing — except under CI (`CI` set), where `.ci/run` installs them and a
//! missing one is a failure, so the browser test cannot be skipped silently.

// Test code: a failed unwrap/expect/panic is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::{middleware, App, HttpServer};
use common::*;
use grid_core::BasketStatus;
use store::test_db::TestDb;
use store::Writer;

fn chromium() -> Option<PathBuf> {
    let from_env = std::env::var_os("CHROMIUM").map(PathBuf::from);
    from_env
        .into_iter()
        .chain(["/usr/bin/chromium", "/usr/bin/chromium-browser"].map(PathBuf::from))
        .find(|p| p.exists())
}

fn skip(why: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "close_all_in_a_real_browser cannot run under CI: {why}"
    );
    eprintln!("SKIPPED close_all_in_a_real_browser: {why}");
}

#[test]
fn close_all_in_a_real_browser() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("e2e");
    let Some(chrome) = chromium() else {
        skip("no Chromium (apt-get install -y chromium)");
        return;
    };
    if Command::new("node").arg("--version").output().is_err() {
        skip("no node");
        return;
    }
    if !dir.join("node_modules/playwright-core").exists() {
        skip("run `npm ci --prefix crates/web/e2e` (playwright-core)");
        return;
    }
    let db = TestDb::new();
    let book = scripted_book(&db);
    heartbeat(&db, "paper", None);
    let listener = TcpListener::bind("127.0.0.1:0").expect("port");
    let port = listener.local_addr().expect("addr").port();
    // The browser's Host is 127.0.0.1:{port}: the bound port of the allow-list.
    let bind = format!("127.0.0.1:{port}");
    let state = state_with(&db, Some(PASSWORD), &[("WEB_BIND", bind.as_str())]);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .wrap(middleware::from_fn(web::guard))
            .configure(web::routes)
    })
    .workers(2)
    .disable_signals()
    .listen(listener)
    .expect("listen")
    .run();
    let handle = server.handle();
    let srv = std::thread::spawn(move || actix_web::rt::System::new().block_on(server));

    // The stand-in daemon: claims commands, sets the basket closing, reports done.
    let stop = Arc::new(AtomicBool::new(false));
    let pool = db.pool().clone();
    let s2 = stop.clone();
    let daemon = std::thread::spawn(move || {
        let mut done = 0;
        while !s2.load(Ordering::Relaxed) {
            if let Ok(mut c) = pool.get() {
                let live: Vec<i64> = store::baskets::list_live(&mut c)
                    .unwrap_or_default()
                    .iter()
                    .map(|b| b.id)
                    .collect();
                let claimed = store::commands::claim_for_worker(&mut c, "e2e", &live, 60_000, 1);
                if let Some(cmd) = claimed.ok().and_then(|v| v.into_iter().next()) {
                    std::thread::sleep(Duration::from_millis(1500));
                    if let Some(id) = cmd.basket_id {
                        let _ = store::baskets::set_status(
                            &mut c,
                            Writer::Unleased,
                            id,
                            BasketStatus::Closing,
                            None,
                        );
                        let _ = store::commands::complete(
                            &mut c,
                            cmd.id,
                            "e2e",
                            &store::commands::CommandResult::CloseBasket(
                                store::commands::StatusResult {
                                    basket_id: id,
                                    status: BasketStatus::Closing,
                                },
                            ),
                        );
                        done += 1;
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        done
    });

    let shots = std::env::var("E2E_SHOT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir().join("web-e2e-shots"));
    std::fs::create_dir_all(&shots).expect("shot dir");
    let out = Command::new("node")
        .arg(dir.join("close_all.mjs"))
        .arg(format!("http://127.0.0.1:{port}"))
        .arg(PASSWORD)
        .arg(&shots)
        .env("CHROMIUM", &chrome)
        .current_dir(&dir)
        .output()
        .expect("node");
    stop.store(true, Ordering::Relaxed);
    let ran = daemon.join().unwrap_or(0);
    actix_web::rt::System::new().block_on(handle.stop(true));
    let _ = srv.join();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "e2e failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("E2E OK"), "{stdout}\n{stderr}");
    assert_eq!(ran, 1, "one close command for the one live basket");
    let mut c = db.conn();
    let a = store::baskets::get(&mut c, book.a).expect("basket");
    assert_eq!(a.status, BasketStatus::Closing);
    eprintln!("screenshots in {}", shots.display());
}

fn skip_named(test: &str, why: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "{test} cannot run under CI: {why}"
    );
    eprintln!("SKIPPED {test}: {why}");
}

/// The "New basket" form in headless Chromium with the real worker behind
/// it: the live preview appears (rules assumed: no basket has traded the
/// symbol yet), a refused config shows its error next to the field (live
/// and after a submit), a budget the daemon refuses comes back `failed` with
/// the reason, and a valid basket is created by the worker's command
/// handling against exchange-sim (validated against its live rules and free
/// balance) and opens from the progress page; once paused, its config is
/// edited from its page (an `edit_config` command the worker runs).
/// Screenshots at phone and laptop widths (`E2E_SHOT_DIR`).
#[test]
fn new_basket_in_a_real_browser() {
    const TEST: &str = "new_basket_in_a_real_browser";
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("e2e");
    let Some(chrome) = chromium() else {
        skip_named(TEST, "no Chromium (apt-get install -y chromium)");
        return;
    };
    if Command::new("node").arg("--version").output().is_err() {
        skip_named(TEST, "no node");
        return;
    }
    if !dir.join("node_modules/playwright-core").exists() {
        skip_named(
            TEST,
            "run `npm ci --prefix crates/web/e2e` (playwright-core)",
        );
        return;
    }
    let sim = exchange_sim::SimServer::start(
        exchange_sim::SimConfig {
            workers: 2,
            ..exchange_sim::SimConfig::default()
        },
        "127.0.0.1:0",
    )
    .expect("exchange-sim");
    {
        let engine = sim.engine();
        let mut ex = exchange_sim::server::lock(&engine);
        ex.set_price("SOLUSDC", "150".parse().expect("price"))
            .expect("set price");
    }
    let db = TestDb::new();
    let listener = TcpListener::bind("127.0.0.1:0").expect("port");
    let port = listener.local_addr().expect("addr").port();
    let bind = format!("127.0.0.1:{port}");
    let state = state_with(&db, Some(PASSWORD), &[("WEB_BIND", bind.as_str())]);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .wrap(middleware::from_fn(web::guard))
            .configure(web::routes)
    })
    .workers(2)
    .disable_signals()
    .listen(listener)
    .expect("listen")
    .run();
    let handle = server.handle();
    let srv = std::thread::spawn(move || actix_web::rt::System::new().block_on(server));

    // The real worker: its cycle claims the commands and runs them.
    let stop = Arc::new(AtomicBool::new(false));
    let s2 = stop.clone();
    let url = sim.base_url();
    let mut conn = db.connect();
    let daemon = std::thread::spawn(move || {
        let client = binance_rest::BinanceClient::new(
            binance_rest::ClientConfig::new(url.clone()).with_credentials("sim-key", "sim-secret"),
        );
        let cfg = bot_daemon::worker::WorkerConfig {
            base_url: url,
            ..bot_daemon::worker::WorkerConfig::in_process("e2e-worker", "paper", 60_000)
        };
        let mut w = bot_daemon::worker::Worker::new(client, cfg);
        let mut errors = Vec::new();
        while !s2.load(Ordering::Relaxed) {
            if let Err(e) = w.cycle(&mut conn) {
                errors.push(e.to_string());
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        errors
    });

    let shots = std::env::var("E2E_SHOT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir().join("web-e2e-shots"));
    std::fs::create_dir_all(&shots).expect("shot dir");
    let out = Command::new("node")
        .arg(dir.join("new_basket.mjs"))
        .arg(format!("http://127.0.0.1:{port}"))
        .arg(PASSWORD)
        .arg(&shots)
        .env("CHROMIUM", &chrome)
        .current_dir(&dir)
        .output()
        .expect("node");
    stop.store(true, Ordering::Relaxed);
    let worker_errors = daemon.join().unwrap_or_default();
    actix_web::rt::System::new().block_on(handle.stop(true));
    let _ = srv.join();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "e2e failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("E2E OK"), "{stdout}\n{stderr}");
    assert!(worker_errors.is_empty(), "{worker_errors:?}");
    // Exactly the one valid basket, as the form sent it.
    let mut c = db.conn();
    let all = store::baskets::list(&mut c, None).expect("baskets");
    assert_eq!(all.len(), 1, "{all:?}");
    let b = &all[0];
    assert_eq!(b.symbol, "SOLUSDC");
    assert_eq!(b.anchor_price, "150".parse().expect("anchor"));
    let config = b.config().expect("config");
    assert_eq!(config.k_next, 3);
    // Edited from the browser once paused.
    assert_eq!(config.tp_start_pct, "0.015".parse().expect("tp"));
    assert_eq!(b.status, grid_core::BasketStatus::Paused);
    let edit = store::commands::recent(&mut c, 50)
        .expect("commands")
        .into_iter()
        .find(|r| r.kind == store::CommandKind::EditConfig)
        .expect("the edit_config command");
    assert!(store::events::by_command(&mut c, "config_changed", edit.id)
        .expect("events")
        .is_some());
    let cmds = store::commands::recent(&mut c, 50).expect("commands");
    let failed: Vec<_> = cmds
        .iter()
        .filter(|r| r.status == store::CommandStatus::Failed)
        .collect();
    assert_eq!(failed.len(), 1, "the budget above the balance: {cmds:?}");
    assert!(failed[0]
        .error
        .as_deref()
        .unwrap_or("")
        .contains("above the free balance"));
    eprintln!("screenshots in {}", shots.display());
}

//! End-to-end in headless Chromium: log in, open the close-all modal,
//! confirm, see the basket go to `closing`. A stand-in daemon (through the
//! store, like `bot-daemon` does) runs the commands. Skips with a message when
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

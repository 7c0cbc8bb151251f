//! Notifications end to end: changes written through the store's own
//! functions, the sender (in-process, or the real `web` binary) delivering
//! them to a local fake Telegram API and a fake webhook that record every
//! request.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::new_basket;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use grid_core::{BasketStatus, Side};
use serde_json::Value;
use store::fills::NewFill;
use store::notifications::{self as outbox, NotificationRow};
use store::test_db::TestDb;
use store::Writer;
use web::notify::{NotifyConfig, Sender};

const TOKEN: &str = "123456789:AAE-sekrit_TOKEN_value_for_tests";
const HOOK_SECRET: &str = "hooks/987654/SeCrEtWebhookKey";

// ---------------------------------------------------------------- fake server

#[derive(Debug, Clone)]
struct Req {
    path: String,
    headers: HashMap<String, String>,
    body: Value,
    at: Instant,
}

enum Reply {
    Answer(u16, Vec<(&'static str, String)>, String),
    /// Never answered (the connection stays open until the server stops).
    Hold,
}

type Responder = Box<dyn Fn(&Req, &[Req]) -> Reply + Send + Sync>;

/// A tiny HTTP/1.1 server recording every request.
struct Fake {
    port: u16,
    reqs: Arc<Mutex<Vec<Req>>>,
    stop: Arc<AtomicBool>,
}

fn ok() -> Reply {
    Reply::Answer(200, vec![], r#"{"ok":true}"#.into())
}

impl Fake {
    fn start(responder: impl Fn(&Req, &[Req]) -> Reply + Send + Sync + 'static) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let reqs = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let responder: Arc<Responder> = Arc::new(Box::new(responder));
        let (r2, s2) = (reqs.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s2.load(Ordering::Acquire) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let (r3, s3, resp) = (r2.clone(), s2.clone(), responder.clone());
                std::thread::spawn(move || serve(conn, &r3, &s3, &resp));
            }
        });
        Fake { port, reqs, stop }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn requests(&self) -> Vec<Req> {
        self.reqs.lock().unwrap().clone()
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(conn: TcpStream, reqs: &Mutex<Vec<Req>>, stop: &AtomicBool, responder: &Responder) {
    let mut w = conn.try_clone().unwrap();
    let mut r = BufReader::new(conn);
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
        let mut headers = HashMap::new();
        loop {
            let mut h = String::new();
            if r.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let mut body = Vec::new();
        if let Some(n) = headers
            .get("content-length")
            .and_then(|v| v.parse::<usize>().ok())
        {
            body.resize(n, 0);
            if r.read_exact(&mut body).is_err() {
                return;
            }
        } else if headers
            .get("transfer-encoding")
            .is_some_and(|v| v.contains("chunked"))
        {
            loop {
                let mut size = String::new();
                r.read_line(&mut size).unwrap();
                let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
                let mut chunk = vec![0; n + 2];
                r.read_exact(&mut chunk).unwrap();
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..n]);
            }
        }
        let req = Req {
            path,
            headers,
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
            at: Instant::now(),
        };
        let reply = {
            let mut all = reqs.lock().unwrap();
            let before = all.clone();
            all.push(req.clone());
            responder(&req, &before)
        };
        match reply {
            Reply::Hold => {
                while !stop.load(Ordering::Acquire) {
                    std::thread::sleep(Duration::from_millis(50));
                }
                return;
            }
            Reply::Answer(status, extra, body) => {
                let mut head = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
                    body.len()
                );
                for (k, v) in extra {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                head.push_str("\r\n");
                if w.write_all(head.as_bytes()).is_err() || w.write_all(body.as_bytes()).is_err() {
                    return;
                }
            }
        }
    }
}

// ---------------------------------------------------------------- helpers

fn wait_until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !f() {
        assert!(
            t0.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn vars_of<'a>(pairs: &'a [(&'static str, String)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
}

fn channel_vars(
    tg: Option<&Fake>,
    hook: Option<&Fake>,
    extra: &[(&str, &str)],
) -> Vec<(&'static str, String)> {
    let mut v: Vec<(&'static str, String)> = Vec::new();
    if let Some(t) = tg {
        v.push(("BOT_TELEGRAM_TOKEN", TOKEN.into()));
        v.push(("BOT_TELEGRAM_CHAT_ID", "-100200300".into()));
        v.push(("BOT_TELEGRAM_API_URL", t.url()));
    }
    if let Some(h) = hook {
        v.push(("BOT_WEBHOOK_URL", format!("{}/{HOOK_SECRET}", h.url())));
    }
    // The daily summary of yesterday may be written at start: left out where
    // the test counts messages (see the test of its own).
    if !extra.iter().any(|(k, _)| *k == "BOT_NOTIFY") {
        v.push(("BOT_NOTIFY", "fills,closes,errors".into()));
    }
    for (k, val) in extra {
        let k: &'static str = Box::leak(k.to_string().into_boxed_str());
        v.push((k, val.to_string()));
    }
    v
}

fn notify_cfg(tg: Option<&Fake>, hook: Option<&Fake>, extra: &[(&str, &str)]) -> NotifyConfig {
    let vars = channel_vars(tg, hook, extra);
    let mut cfg = NotifyConfig::from_vars(&vars_of(&vars)).expect("notify config");
    cfg.poll = Duration::from_millis(50);
    cfg.watch_every = Duration::from_millis(200);
    cfg.timeout = Duration::from_secs(2);
    cfg
}

fn start(db: &TestDb, cfg: &NotifyConfig) -> Sender {
    let s = Sender::spawn(db.url(), cfg)
        .expect("threads")
        .expect("a channel");
    let want = cfg.targets().len();
    let mut c = db.conn();
    wait_until(
        "the channels' registration",
        Duration::from_secs(10),
        || outbox::channel_counts(&mut c).map(|v| v.len()).unwrap_or(0) == want,
    );
    s
}

fn all(c: &mut PgConnection) -> Vec<NotificationRow> {
    outbox::list_after(c, 0, 500).unwrap()
}

/// Every delivery row: (notification id, channel) → state.
fn states(c: &mut PgConnection) -> BTreeMap<(i64, String), String> {
    let mut m = BTreeMap::new();
    for n in all(c) {
        for d in outbox::deliveries(c, n.id).unwrap() {
            m.insert((n.id, d.channel), d.state);
        }
    }
    m
}

fn all_delivered(c: &mut PgConnection, expected: usize) -> bool {
    let s = states(c);
    s.len() == expected && s.values().all(|v| v == "delivered")
}

fn fill(basket: i64, role: &str, trade_id: i64, side: Side, price: &str, qty: &str) -> NewFill {
    common::fill(
        &format!("BOT_SOLUSDC_{basket}_{role}_{trade_id}"),
        trade_id,
        side,
        price,
        qty,
    )
}

fn id_of(r: &Req) -> i64 {
    r.body["id"].as_i64().unwrap_or(-1)
}

// ---------------------------------------------------------------- tests

#[test]
fn fills_and_closes_are_delivered_once_to_both_channels_with_stable_ids() {
    let db = TestDb::new();
    let tg = Fake::start(|_, _| ok());
    // The webhook's first request is a 503: retried with the same id.
    let hook = Fake::start(|_, before| {
        if before.is_empty() {
            Reply::Answer(503, vec![], "busy".into())
        } else {
            Reply::Answer(204, vec![], String::new())
        }
    });
    let sender = start(&db, &notify_cfg(Some(&tg), Some(&hook), &[]));
    let mut c = db.conn();
    let b = new_basket(&mut c, "150", None);
    store::fills::record_fills(
        &mut c,
        Writer::Unleased,
        b.id,
        "SOL",
        &[
            fill(b.id, "B1", 501, Side::Buy, "142.5", "2"),
            fill(b.id, "TP1", 502, Side::Sell, "150", "1"),
        ],
    )
    .unwrap();
    store::baskets::set_status(
        &mut c,
        Writer::Unleased,
        b.id,
        BasketStatus::Error,
        Some("test error"),
    )
    .unwrap();
    wait_until("every delivery", Duration::from_secs(30), || {
        all_delivered(&mut c, 6)
    });
    sender.stop();

    let rows = all(&mut c);
    let ids: Vec<i64> = rows.iter().map(|n| n.id).collect();
    let kinds: Vec<&str> = rows.iter().map(|n| n.kind.as_str()).collect();
    assert_eq!(kinds, vec!["fill", "take_profit", "basket_error"]);

    let t = tg.requests();
    assert_eq!(t.len(), 3, "one Telegram message per notification");
    for r in &t {
        assert_eq!(r.path, format!("/bot{TOKEN}/sendMessage"));
        assert_eq!(r.body["chat_id"], "-100200300");
    }
    let texts: Vec<&str> = t.iter().map(|r| r.body["text"].as_str().unwrap()).collect();
    assert!(
        texts[0].starts_with("BUY B1 filled: 2 SOL at 142.5 USDC"),
        "{}",
        texts[0]
    );
    assert!(
        texts[1].starts_with("Take-profit TP1 filled: sold 1 SOL at 150 USDC, realized +7.5 USDC"),
        "{}",
        texts[1]
    );
    assert!(texts[2].contains("is in error: test error"), "{}", texts[2]);

    let h = hook.requests();
    assert_eq!(h.len(), 4, "three notifications, the first one twice");
    assert!(h.iter().all(|r| r.path == format!("/{HOOK_SECRET}")));
    assert!(h.iter().all(|r| r
        .headers
        .get("content-type")
        .is_some_and(|v| v.starts_with("application/json"))));
    // The 503 was retried later with the same body (same id); the others
    // were not held up meanwhile.
    let got: Vec<i64> = h.iter().map(id_of).collect();
    assert_eq!(got, vec![ids[0], ids[1], ids[2], ids[0]]);
    assert_eq!(h[0].body, h[3].body, "a retry sends the same body, same id");
    let fill_body = &h[3].body;
    assert_eq!(fill_body["kind"], "fill");
    assert_eq!(fill_body["category"], "fills");
    assert_eq!(fill_body["trade_id"], 501);
    assert_eq!(h[1].body["trade_id"], 502);
    assert_eq!(fill_body["basket_id"], b.id);
    assert_eq!(fill_body["symbol"], "SOLUSDC");
    assert!(fill_body["text"]
        .as_str()
        .unwrap()
        .starts_with("BUY B1 filled"));
    assert!(fill_body["created_at"].is_string());
    assert!(h[2].body.get("trade_id").is_none(), "not a fill");
    let first = &outbox::deliveries(&mut c, ids[0]).unwrap()[1];
    assert_eq!((first.channel.as_str(), first.attempts), ("webhook", 2));
}

#[test]
fn bot_notify_chooses_the_categories_sent() {
    let db = TestDb::new();
    let hook = Fake::start(|_, _| ok());
    let sender = start(
        &db,
        &notify_cfg(None, Some(&hook), &[("BOT_NOTIFY", "closes,errors")]),
    );
    let mut c = db.conn();
    let b = new_basket(&mut c, "150", None);
    store::fills::record_fills(
        &mut c,
        Writer::Unleased,
        b.id,
        "SOL",
        &[fill(b.id, "B1", 601, Side::Buy, "142.5", "2")],
    )
    .unwrap();
    store::baskets::set_status(&mut c, Writer::Unleased, b.id, BasketStatus::Closing, None)
        .unwrap();
    wait_until("the close", Duration::from_secs(20), || {
        all_delivered(&mut c, 1)
    });
    sender.stop();
    let rows = all(&mut c);
    assert_eq!(
        rows.iter().map(|n| n.kind.as_str()).collect::<Vec<_>>(),
        vec!["basket_closing"],
        "no channel takes fills: the fill is not even written"
    );
    let h = hook.requests();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].body["kind"], "basket_closing");
}

#[test]
fn a_429_is_honoured_before_the_next_attempt() {
    let db = TestDb::new();
    let tg = Fake::start(|_, before| {
        if before.is_empty() {
            Reply::Answer(429, vec![], r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 2","parameters":{"retry_after":2}}"#.into())
        } else {
            ok()
        }
    });
    // Slack says it in a header.
    let hook = Fake::start(|_, before| {
        if before.is_empty() {
            Reply::Answer(429, vec![("Retry-After", "1".into())], String::new())
        } else {
            ok()
        }
    });
    let sender = start(
        &db,
        &notify_cfg(Some(&tg), Some(&hook), &[("BOT_WEBHOOK_FORMAT", "slack")]),
    );
    let mut c = db.conn();
    let b = new_basket(&mut c, "150", None);
    store::baskets::set_status(&mut c, Writer::Unleased, b.id, BasketStatus::Closing, None)
        .unwrap();
    wait_until("both deliveries", Duration::from_secs(20), || {
        all_delivered(&mut c, 2)
    });
    sender.stop();
    let t = tg.requests();
    assert_eq!(t.len(), 2);
    let waited = t[1].at - t[0].at;
    assert!(
        waited >= Duration::from_secs(2),
        "Telegram asked 2 s, waited {waited:?}"
    );
    let h = hook.requests();
    assert_eq!(h.len(), 2);
    let waited = h[1].at - h[0].at;
    assert!(
        waited >= Duration::from_secs(1),
        "Retry-After 1 s, waited {waited:?}"
    );
    assert!(
        h[1].body["text"].as_str().unwrap().contains("is closing"),
        "slack body: {}",
        h[1].body
    );
    assert!(h[1].body.get("id").is_none(), "slack body is {{text}} only");
}

#[test]
fn a_hanging_channel_does_not_delay_the_other_and_its_errors_carry_no_secret() {
    let db = TestDb::new();
    let tg = Fake::start(|_, _| Reply::Hold);
    let hook = Fake::start(|_, _| ok());
    let cfg = notify_cfg(Some(&tg), Some(&hook), &[]);
    let sender = start(&db, &cfg);
    let mut c = db.conn();
    let b = new_basket(&mut c, "150", None);
    let t0 = Instant::now();
    store::fills::record_fills(
        &mut c,
        Writer::Unleased,
        b.id,
        "SOL",
        &[
            fill(b.id, "B1", 701, Side::Buy, "142.5", "1"),
            fill(b.id, "B2", 702, Side::Buy, "135", "1"),
            fill(b.id, "B3", 703, Side::Buy, "130", "1"),
        ],
    )
    .unwrap();
    wait_until("the webhook's three", Duration::from_secs(10), || {
        hook.requests().len() == 3
    });
    assert!(
        t0.elapsed() < cfg.timeout,
        "the webhook was served within the hanging channel's timeout ({:?})",
        t0.elapsed()
    );
    wait_until("the webhook's commits", Duration::from_secs(10), || {
        states(&mut c)
            .iter()
            .filter(|((_, ch), s)| ch == "webhook" && *s == "delivered")
            .count()
            == 3
    });
    // Telegram timed out: pending, retried later, the error says why
    // without the token.
    wait_until(
        "a Telegram timeout recorded",
        Duration::from_secs(10),
        || {
            all(&mut c).iter().any(|n| {
                outbox::deliveries(&mut c, n.id)
                    .unwrap()
                    .iter()
                    .any(|d| d.channel == "telegram" && d.last_error.is_some())
            })
        },
    );
    sender.stop();
    for n in all(&mut c) {
        for d in outbox::deliveries(&mut c, n.id).unwrap() {
            if let Some(e) = d.last_error {
                assert!(!e.contains(TOKEN) && !e.contains("sekrit"), "{e}");
                assert_eq!(d.state, "pending", "a timeout is retried: {e}");
            }
        }
    }
}

#[test]
fn an_error_answer_echoing_the_secrets_is_redacted_and_given_up_after_three_attempts() {
    let db = TestDb::new();
    let tg = Fake::start(|_, _| {
        Reply::Answer(
            400,
            vec![],
            format!(
                r#"{{"ok":false,"error_code":400,"description":"Bad Request: chat not found for bot{TOKEN}"}}"#
            ),
        )
    });
    let hook = Fake::start(|r, _| Reply::Answer(404, vec![], format!("no such hook {}", r.path)));
    let mut cfg = notify_cfg(Some(&tg), Some(&hook), &[]);
    cfg.timeout = Duration::from_secs(2);
    let sender = start(&db, &cfg);
    let mut c = db.conn();
    let b = new_basket(&mut c, "150", None);
    store::baskets::set_status(&mut c, Writer::Unleased, b.id, BasketStatus::Closing, None)
        .unwrap();
    // Three attempts: now, after 5 s, after 10 s.
    wait_until("both given up", Duration::from_secs(40), || {
        let s = states(&mut c);
        s.len() == 2 && s.values().all(|v| v == "failed")
    });
    sender.stop();
    assert_eq!(tg.requests().len(), 3);
    assert_eq!(hook.requests().len(), 3);
    let n = &all(&mut c)[0];
    for d in outbox::deliveries(&mut c, n.id).unwrap() {
        let e = d.last_error.unwrap();
        assert!(!e.contains(TOKEN) && !e.contains(HOOK_SECRET), "{e}");
        assert!(e.contains("<redacted>"), "{e}");
        assert_eq!(d.attempts, 3);
        let status = if d.channel == "telegram" {
            "HTTP 400"
        } else {
            "HTTP 404"
        };
        assert!(e.starts_with(status), "{e}");
    }
}

fn heartbeat_aged(c: &mut PgConnection, worker: &str, age_s: i64) {
    diesel::sql_query(
        "INSERT INTO bot_status (instance_id, mode, base_url, pid, started_at, heartbeat_at) \
         VALUES ($1, 'live', 'http://x', 1, now(), now() - make_interval(secs => $2))",
    )
    .bind::<diesel::sql_types::Text, _>(worker)
    .bind::<diesel::sql_types::Double, _>(age_s as f64)
    .execute(c)
    .unwrap();
}

#[test]
fn a_stale_heartbeat_is_sent_once_by_two_senders_and_never_for_a_fresh_one() {
    let db = TestDb::new();
    let hook = Fake::start(|_, _| ok());
    let cfg = notify_cfg(None, Some(&hook), &[("BOT_NOTIFY", "errors")]);
    let mut c = db.conn();
    heartbeat_aged(&mut c, "dead-worker", 600);
    heartbeat_aged(&mut c, "live-worker", 1);
    let one = start(&db, &cfg);
    let two = start(&db, &cfg);
    wait_until("the alert delivered", Duration::from_secs(20), || {
        all_delivered(&mut c, 1)
    });
    // Both watchdogs have passed again since (several times).
    std::thread::sleep(cfg.watch_every * 3);
    one.stop();
    two.stop();
    let rows = all(&mut c);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].kind, "heartbeat_stale");
    assert_eq!(rows[0].data["worker"], "dead-worker");
    let h = hook.requests();
    assert_eq!(h.len(), 1);
    assert!(h[0].body["text"].as_str().unwrap().contains("dead-worker"));
}

#[test]
fn the_daily_summary_is_sent_once_by_two_senders() {
    let db = TestDb::new();
    let hook = Fake::start(|_, _| ok());
    let cfg = notify_cfg(None, Some(&hook), &[("BOT_NOTIFY", "daily")]);
    let mut c = db.conn();
    new_basket(&mut c, "150", None);
    // Configured since before yesterday (a day nobody listened to is not told).
    outbox::register_channel(&mut c, "webhook", &["daily".to_string()]).unwrap();
    diesel::sql_query("UPDATE notification_channels SET registered_at = now() - interval '2 days'")
        .execute(&mut c)
        .unwrap();
    let one = start(&db, &cfg);
    let two = start(&db, &cfg);
    wait_until("the summary delivered", Duration::from_secs(20), || {
        all_delivered(&mut c, 1)
    });
    std::thread::sleep(cfg.watch_every * 3);
    one.stop();
    two.stop();
    let rows = all(&mut c);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].kind, "daily_summary");
    let yesterday = (chrono::Utc::now() - chrono::TimeDelta::days(1)).date_naive();
    assert_eq!(
        rows[0].data["day"],
        yesterday.format("%Y-%m-%d").to_string()
    );
    let h = hook.requests();
    assert_eq!(h.len(), 1);
    let text = h[0].body["text"].as_str().unwrap();
    assert!(
        text.starts_with(&format!("Daily summary {}", yesterday.format("%Y-%m-%d"))),
        "{text}"
    );
    assert!(text.contains("baskets: active 1"), "{text}");
}

// ---------------------------------------------------------------- the real binary

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn_web(db: &TestDb, tg: &Fake, hook: &Fake, dir: &std::path::Path, log: &str) -> Child {
    let vars = channel_vars(Some(tg), Some(hook), &[]);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_web"));
    cmd.current_dir(dir) // no .env there
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "info")
        .env("DATABASE_URL", db.url())
        .env("WEB_BIND", format!("127.0.0.1:{}", free_port()))
        .env("APP_SECRET", common::SECRET)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join(log)).unwrap());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.spawn().expect("web binary")
}

#[test]
fn a_kill_in_the_middle_of_delivery_loses_nothing_and_repeats_only_the_request_in_flight() {
    let db = TestDb::new();
    let dir = std::env::temp_dir().join(format!(
        "notify-kill-{}-{}",
        std::process::id(),
        free_port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let tg = Fake::start(|_, _| ok());
    // The webhook answers, except the first request for the third id,
    // which it holds unanswered.
    let hook = Fake::start(|r, before| {
        let mut seen: Vec<i64> = before.iter().map(id_of).collect();
        seen.dedup();
        let first_time = !seen.contains(&id_of(r));
        if first_time && seen.len() == 2 {
            Reply::Hold
        } else {
            ok()
        }
    });
    let mut web = spawn_web(&db, &tg, &hook, &dir, "run1.log");
    let mut c = db.conn();
    wait_until("the web's registration", Duration::from_secs(30), || {
        outbox::channel_counts(&mut c).map(|v| v.len()).unwrap_or(0) == 2
    });
    let b = new_basket(&mut c, "150", None);
    let fills: Vec<NewFill> = (0..5)
        .map(|i| {
            fill(
                b.id,
                &format!("B{}", i + 1),
                800 + i,
                Side::Buy,
                "140",
                "0.5",
            )
        })
        .collect();
    store::fills::record_fills(&mut c, Writer::Unleased, b.id, "SOL", &fills).unwrap();
    let ids: Vec<i64> = all(&mut c).iter().map(|n| n.id).collect();
    assert_eq!(ids.len(), 5);
    // Telegram has delivered everything (a kill between deliveries), the
    // webhook holds the third in flight.
    wait_until(
        "Telegram done and the third webhook request in flight",
        Duration::from_secs(30),
        || {
            let s = states(&mut c);
            let tg_done = ids.iter().all(|id| {
                s.get(&(*id, "telegram".into()))
                    .is_some_and(|v| v == "delivered")
            });
            tg_done && hook.requests().iter().any(|r| id_of(r) == ids[2])
        },
    );
    web.kill().unwrap(); // SIGKILL
    web.wait().unwrap();
    let s = states(&mut c);
    assert_eq!(s[&(ids[0], "webhook".into())], "delivered");
    assert_eq!(s[&(ids[1], "webhook".into())], "delivered");
    assert_eq!(
        s[&(ids[2], "webhook".into())],
        "pending",
        "in flight when killed"
    );
    assert_eq!(tg.requests().len(), 5);

    let mut web = spawn_web(&db, &tg, &hook, &dir, "run2.log");
    wait_until(
        "every delivery after the restart",
        Duration::from_secs(30),
        || all_delivered(&mut c, 10),
    );
    web.kill().unwrap();
    web.wait().unwrap();

    // Telegram: each notification once (nothing was in flight there).
    let t = tg.requests();
    assert_eq!(t.len(), 5, "no Telegram message twice");
    for (i, r) in t.iter().enumerate() {
        let text = r.body["text"].as_str().unwrap();
        assert!(
            text.contains(&format!("trade {}", 800 + i as i64)),
            "{text}"
        );
    }
    // Webhook: each id once, but the one in flight at the kill: twice, with
    // the same id (a receiver drops the repeat).
    let mut per_id: BTreeMap<i64, usize> = BTreeMap::new();
    for r in hook.requests() {
        *per_id.entry(id_of(&r)).or_default() += 1;
    }
    let want: BTreeMap<i64, usize> = ids
        .iter()
        .map(|id| (*id, if *id == ids[2] { 2 } else { 1 }))
        .collect();
    assert_eq!(per_id, want);

    // The logs name no secret.
    for log in ["run1.log", "run2.log"] {
        let text = std::fs::read_to_string(dir.join(log)).unwrap();
        assert!(text.contains("Notification delivered"), "{log}: {text}");
        assert!(
            !text.contains(TOKEN) && !text.contains("sekrit"),
            "{log} leaks the token"
        );
        assert!(!text.contains(HOOK_SECRET), "{log} leaks the webhook URL");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

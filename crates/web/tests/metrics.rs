//! `GET /metrics` against a real database: who may read it, what it says
//! about the scripted book (read back by two Prometheus text parsers: the
//! `prometheus-parse` crate, and the official Python client's parser for
//! strictness), and that the shipped Grafana dashboard asks only for
//! metrics that exist.

// Test code: a failed unwrap/expect/panic is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{header, StatusCode};

use common::*;
use store::commands::{NewCommand, Origin, Payload};
use store::misc::{CycleHistogram, Heartbeat, NewSnapshot, WorkerMetrics};
use store::test_db::TestDb;

const TOKEN: &str = "metrics-token-0123456789abcdef0123456789";

/// One sample as a parser read it: name, labels, value.
type Sample = (String, BTreeMap<String, String>, f64);

async fn login<S, B>(app: &S) -> String
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = actix_web::test::call_service(app, get_req("/login").to_request()).await;
    let token = field(&body(res).await, "_token");
    let res = actix_web::test::call_service(
        app,
        post_req("/login")
            .set_form([
                ("_token", token.as_str()),
                ("username", "admin"),
                ("password", PASSWORD),
            ])
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let set = cookie_of(&res).expect("session cookie");
    set.split(';').next().unwrap_or_default().to_string()
}

async fn scrape<S, B>(app: &S, headers: &[(header::HeaderName, String)]) -> (StatusCode, String)
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut req = get_req("/metrics");
    for (k, v) in headers {
        req = req.insert_header((k.clone(), v.clone()));
    }
    let res = actix_web::test::call_service(app, req.to_request()).await;
    let status = res.status();
    if status == StatusCode::OK {
        let ct = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert_eq!(ct, "text/plain; version=0.0.4; charset=utf-8");
    }
    (status, body(res).await)
}

fn bearer(t: &str) -> (header::HeaderName, String) {
    (header::AUTHORIZATION, format!("Bearer {t}"))
}

/// Every sample, read by the `prometheus-parse` crate (histograms flattened
/// back to their `_bucket` samples). Also checks that every line is a
/// comment or a sample the parser understands (it skips what it cannot read).
fn parse_rust(text: &str) -> Vec<Sample> {
    for line in text.lines() {
        match prometheus_parse::LineInfo::parse(line) {
            prometheus_parse::LineInfo::Sample { value, .. } => {
                assert!(
                    value.parse::<f64>().is_ok() || value == "+Inf" || value == "NaN",
                    "bad value in `{line}`"
                );
            }
            prometheus_parse::LineInfo::Doc { .. } | prometheus_parse::LineInfo::Type { .. } => {}
            other => panic!("line not understood ({other:?}): `{line}`"),
        }
    }
    let scrape =
        prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("parses");
    let mut out = Vec::new();
    for s in scrape.samples {
        let labels: BTreeMap<String, String> = s
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        match s.value {
            prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Untyped(v) => out.push((s.metric, labels, v)),
            prometheus_parse::Value::Histogram(buckets) => {
                for b in buckets {
                    let mut l = labels.clone();
                    let le = if b.less_than.is_infinite() {
                        "+Inf".to_string()
                    } else {
                        b.less_than.to_string()
                    };
                    l.insert("le".into(), le);
                    out.push((format!("{}_bucket", s.metric), l, b.count));
                }
            }
            other => panic!("unexpected sample {other:?}"),
        }
    }
    out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    out
}

fn python() -> Option<&'static str> {
    ["/usr/bin/python3", "python3"].into_iter().find(|p| {
        Command::new(p)
            .args(["-c", "import prometheus_client.parser"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// Every sample, read by the official Python client's parser, which refuses
/// any malformed line. `None` (locally) when it is not installed; under CI
/// (`.ci/run` installs `python3-prometheus-client`) a missing parser fails.
fn parse_python(text: &str) -> Option<Vec<Sample>> {
    let Some(py) = python() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "the Python prometheus_client parser is missing under CI (apt-get install python3-prometheus-client)"
        );
        eprintln!("SKIPPED the Python parser check: apt-get install python3-prometheus-client");
        return None;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/prom_parse.py");
    let mut child = Command::new(py)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("python output");
    assert!(
        out.status.success(),
        "the Python parser refused the exposition: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<(String, BTreeMap<String, String>, serde_json::Value)> =
        serde_json::from_slice(&out.stdout).expect("json");
    let mut v: Vec<Sample> = rows
        .into_iter()
        .map(|(n, l, x)| {
            let f = match x {
                serde_json::Value::Number(n) => n.as_f64().expect("f64"),
                serde_json::Value::String(s) if s == "+Inf" => f64::INFINITY,
                other => panic!("value {other}"),
            };
            // prometheus-parse keeps `le` as written; compare numbers.
            let l = l
                .into_iter()
                .map(|(k, v)| {
                    if k == "le" && v != "+Inf" {
                        (k, v.parse::<f64>().expect("le").to_string())
                    } else {
                        (k, v)
                    }
                })
                .collect();
            (n, l, f)
        })
        .collect();
    v.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    Some(v)
}

fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|(n, l, _)| {
            n == name
                && l.len() == labels.len()
                && labels
                    .iter()
                    .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|(_, _, v)| *v)
}

/// The scripted book (its fills are months old), plus a basket closed
/// after a BUY 1 @ 100 and a SELL 1 @ 110 this hour, a worker with its
/// metrics, a pending command and an account snapshot.
fn seeded() -> (TestDb, Book) {
    let db = TestDb::new();
    let book = scripted_book(&db);
    let mut c = db.conn();
    let closed = new_basket(&mut c, "120", None).id;
    let buy = order(
        &mut c,
        closed,
        "B1",
        1,
        "100",
        "1",
        store::OrderRowStatus::Filled,
        "1",
    );
    let sell = order(
        &mut c,
        closed,
        "TP1",
        2,
        "110",
        "1",
        store::OrderRowStatus::Filled,
        "1",
    );
    let now = |mut f: store::fills::NewFill| {
        f.executed_at = chrono::Utc::now();
        f
    };
    store::fills::record_fills(
        &mut c,
        store::Writer::Unleased,
        closed,
        "SOL",
        &[
            now(fill(&buy, 21, grid_core::Side::Buy, "100", "1")),
            now(fill(&sell, 22, grid_core::Side::Sell, "110", "1")),
        ],
    )
    .expect("fills of the closed basket");
    store::baskets::set_status(
        &mut c,
        store::Writer::Unleased,
        closed,
        grid_core::BasketStatus::Closed,
        Some("completed"),
    )
    .expect("close");
    let mut hist = CycleHistogram::new();
    for ms in [8, 40, 40, 300] {
        hist.observe(ms);
    }
    let mut m = WorkerMetrics {
        cycle_ms: hist,
        weight_limit: Some(6000),
        quiet_cycles: 17,
        ..WorkerMetrics::default()
    };
    m.count_error("exchange_transport");
    m.count_error("exchange_transport");
    m.count_error("lease_lost");
    store::misc::heartbeat_with_metrics(
        &mut c,
        &Heartbeat {
            instance_id: "worker-1".into(),
            mode: "paper".into(),
            base_url: "http://127.0.0.1:1".into(),
            pid: 42,
            started_at: chrono::Utc::now(),
            last_cycle_at: Some(chrono::Utc::now()),
            last_cycle_ms: Some(300),
            last_error: None,
            last_error_at: None,
            weight_used: Some(82),
        },
        Some(&m),
    )
    .expect("heartbeat");
    store::commands::insert(
        &mut c,
        &NewCommand::new(
            &Payload::Pause(Origin::default()),
            Some(book.a),
            "metrics-k1",
        )
        .expect("command"),
    )
    .expect("insert command");
    store::misc::insert_snapshot(
        &mut c,
        &NewSnapshot {
            quote_asset: "USDC".into(),
            quote_balance: d("1000"),
            base_balance: d("3"),
            total_value: d("1420.5"),
            balances: serde_json::json!({}),
        },
    )
    .expect("snapshot");
    (db, book)
}

#[actix_web::test]
async fn without_a_session_or_the_token_it_is_401_and_never_a_redirect() {
    let db = TestDb::new();
    let app = svc!(state_with(
        &db,
        Some(PASSWORD),
        &[("WEB_METRICS_TOKEN", TOKEN)]
    ));
    let (status, _) = scrape(&app, &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let wrong = format!("{TOKEN}x");
    let (status, body) = scrape(&app, &[bearer(&wrong)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(!body.contains(&wrong), "the given token is not echoed");
    let (status, _) = scrape(&app, &[bearer(&TOKEN[..TOKEN.len() - 1])]).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a prefix is not the token"
    );
    let (status, _) = scrape(&app, &[(header::AUTHORIZATION, TOKEN.to_string())]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "no Bearer scheme");
    let (status, _) = scrape(&app, &[(header::AUTHORIZATION, format!("Basic {TOKEN}"))]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn the_token_or_a_session_opens_it() {
    let db = TestDb::new();
    let app = svc!(state_with(
        &db,
        Some(PASSWORD),
        &[("WEB_METRICS_TOKEN", TOKEN)]
    ));
    let (status, body) = scrape(&app, &[bearer(TOKEN)]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("# TYPE gridbot_baskets gauge"), "{body}");
    let cookie = login(&app).await;
    let (status, _) = scrape(&app, &[(header::COOKIE, cookie.clone())]).await;
    assert_eq!(status, StatusCode::OK);
    // A session does not make a wrong token acceptable.
    let (status, _) = scrape(&app, &[(header::COOKIE, cookie), bearer("nope")]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn without_web_metrics_token_only_a_session_works() {
    let db = TestDb::new();
    let app = svc!(state(&db, Some(PASSWORD)));
    let (status, body) = scrape(&app, &[bearer(TOKEN)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("WEB_METRICS_TOKEN is not set"), "{body}");
    let cookie = login(&app).await;
    let (status, _) = scrape(&app, &[(header::COOKIE, cookie)]).await;
    assert_eq!(status, StatusCode::OK);
}

#[actix_web::test]
async fn the_token_still_works_when_a_password_less_dashboard_closes_for_production() {
    let db = TestDb::new();
    heartbeat(&db, "production", None);
    let app = svc!(state_with(&db, None, &[("WEB_METRICS_TOKEN", TOKEN)]));
    let (status, _) = scrape(&app, &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the dashboard is closed");
    let (status, body) = scrape(&app, &[bearer(TOKEN)]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("gridbot_worker_info{worker=\"worker-1\",mode=\"production\"} 1"),
        "{body}"
    );
}

#[test]
fn a_weak_metrics_token_is_refused_at_start_without_showing_it() {
    for bad in ["short-token", "metrics token with spaces 0123456789abcdef"] {
        let vars = [("WEB_METRICS_TOKEN", bad)];
        let err = web::Config::from_vars(|k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })
        .expect_err("refused");
        let msg = err.to_string();
        assert!(msg.contains("WEB_METRICS_TOKEN"), "{msg}");
        assert!(!msg.contains(bad), "the value is not shown: {msg}");
    }
}

#[actix_web::test]
async fn the_seeded_book_reads_back_through_two_parsers() {
    let (db, book) = seeded();
    {
        // A registered channel with one notification waiting.
        let mut c = db.conn();
        let errors = vec!["errors".to_string()];
        store::notifications::register_channel(&mut c, "webhook", &errors).expect("channel");
        store::notifications::enqueue(
            &mut c,
            &store::notifications::NewNotification {
                kind: "heartbeat_stale".into(),
                category: "errors".into(),
                basket_id: None,
                symbol: None,
                data: serde_json::json!({}),
                dedupe_key: None,
            },
        )
        .expect("notification");
    }
    let app = svc!(state_with(
        &db,
        Some(PASSWORD),
        &[("WEB_METRICS_TOKEN", TOKEN)]
    ));
    let (status, text) = scrape(&app, &[bearer(TOKEN)]).await;
    assert_eq!(status, StatusCode::OK);
    let s = parse_rust(&text);
    if let Some(py) = parse_python(&text) {
        assert_eq!(py, s, "both parsers read the same samples");
    }
    let a = book.a.to_string();
    let ab = [("basket_id", a.as_str()), ("symbol", "SOLUSDC")];
    // Basket A: BUY 2 @ 142.5, BUY 2 @ 135, SELL 1 @ 140 (no fees), last 140.
    assert_eq!(value(&s, "gridbot_basket_position", &ab), Some(3.0));
    assert_eq!(value(&s, "gridbot_basket_cost", &ab), Some(416.25));
    assert_eq!(value(&s, "gridbot_basket_avg_price", &ab), Some(138.75));
    assert_eq!(value(&s, "gridbot_basket_realized_pnl", &ab), Some(1.25));
    assert_eq!(value(&s, "gridbot_basket_unrealized_pnl", &ab), Some(3.75));
    assert_eq!(value(&s, "gridbot_basket_fills_total", &ab), Some(3.0));
    assert_eq!(value(&s, "gridbot_basket_sells_total", &ab), Some(1.0));
    assert_eq!(value(&s, "gridbot_basket_fees_total", &ab), Some(0.0));
    assert_eq!(value(&s, "gridbot_basket_budget", &ab), Some(1000.0));
    assert_eq!(
        value(&s, "gridbot_symbol_last_price", &[("symbol", "SOLUSDC")]),
        Some(140.0)
    );
    // Open: B3 NEW, TP1 NEW, TP2 PENDING_NEW; the filled ones are not open.
    for (role, n) in [
        ("buy", 1.0),
        ("tp1", 1.0),
        ("tp2", 1.0),
        ("trail", 0.0),
        ("exit", 0.0),
    ] {
        let l = [ab[0], ab[1], ("role", role)];
        assert_eq!(
            value(&s, "gridbot_basket_open_orders", &l),
            Some(n),
            "{role}"
        );
    }
    // Basket B (emergency_closed) and the closed one are not listed; the
    // closed one's +10 of this hour is in the last 24 hours, B's old −5 not.
    let b = book.b.to_string();
    assert!(
        !s.iter().any(|(_, l, _)| l.get("basket_id") == Some(&b)),
        "terminal baskets are not listed"
    );
    assert_eq!(
        s.iter()
            .filter(|(n, _, _)| n == "gridbot_basket_position")
            .count(),
        1,
        "only basket A is listed"
    );
    assert_eq!(
        value(&s, "gridbot_baskets", &[("status", "active")]),
        Some(1.0)
    );
    assert_eq!(
        value(&s, "gridbot_baskets", &[("status", "error")]),
        Some(0.0)
    );
    assert_eq!(
        value(&s, "gridbot_baskets", &[("status", "closed")]),
        None,
        "terminal statuses are not counted (their number only grows)"
    );
    assert_eq!(value(&s, "gridbot_baskets_omitted", &[]), Some(0.0));
    assert_eq!(
        value(&s, "gridbot_realized_pnl_24h", &[("quote_asset", "USDC")]),
        Some(10.0)
    );
    assert_eq!(
        value(&s, "gridbot_fees_24h", &[("quote_asset", "USDC")]),
        Some(0.0)
    );
    assert_eq!(
        value(&s, "gridbot_commands", &[("status", "pending")]),
        Some(1.0)
    );
    assert_eq!(
        value(&s, "gridbot_commands", &[("status", "running")]),
        Some(0.0)
    );
    assert_eq!(
        value(&s, "gridbot_account_value", &[("quote_asset", "USDC")]),
        Some(1420.5)
    );
    // The worker.
    let w = [("worker", "worker-1")];
    let age = value(&s, "gridbot_worker_heartbeat_age_seconds", &w).expect("age");
    assert!((0.0..60.0).contains(&age), "{age}");
    assert_eq!(value(&s, "gridbot_worker_request_weight", &w), Some(82.0));
    assert_eq!(
        value(&s, "gridbot_worker_request_weight_limit", &w),
        Some(6000.0)
    );
    assert_eq!(
        value(&s, "gridbot_worker_last_cycle_seconds", &w),
        Some(0.3)
    );
    assert_eq!(
        value(
            &s,
            "gridbot_worker_info",
            &[("worker", "worker-1"), ("mode", "paper")]
        ),
        Some(1.0)
    );
    let bucket = |le: &str| {
        value(
            &s,
            "gridbot_worker_cycle_duration_seconds_bucket",
            &[("worker", "worker-1"), ("le", le)],
        )
    };
    assert_eq!(bucket("0.01"), Some(1.0));
    assert_eq!(bucket("0.05"), Some(3.0));
    assert_eq!(bucket("0.25"), Some(3.0));
    assert_eq!(bucket("0.5"), Some(4.0));
    assert_eq!(bucket("+Inf"), Some(4.0));
    assert_eq!(
        value(&s, "gridbot_worker_cycle_duration_seconds_count", &w),
        Some(4.0)
    );
    assert_eq!(
        value(&s, "gridbot_worker_cycle_duration_seconds_sum", &w),
        Some(0.388)
    );
    assert_eq!(
        value(
            &s,
            "gridbot_worker_errors_total",
            &[("worker", "worker-1"), ("kind", "exchange_transport")]
        ),
        Some(2.0)
    );
    assert_eq!(
        value(
            &s,
            "gridbot_worker_errors_total",
            &[("worker", "worker-1"), ("kind", "lease_lost")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &s,
            "gridbot_worker_quiet_cycles_total",
            &[("worker", "worker-1")]
        ),
        Some(17.0)
    );
    assert_eq!(
        value(
            &s,
            "gridbot_worker_stream_state",
            &[("worker", "worker-1"), ("state", "polling")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &s,
            "gridbot_notifications_pending",
            &[("channel", "webhook")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &s,
            "gridbot_notifications_failed",
            &[("channel", "webhook")]
        ),
        Some(0.0)
    );
    // No label carries an order id (clientOrderIds start with BOT_).
    for (n, l, _) in &s {
        for (k, v) in l {
            assert!(!v.starts_with("BOT_"), "{n}{{{k}={v}}}");
        }
    }
    // Every documented name is exported, and nothing else.
    let names: BTreeSet<&str> = s.iter().map(|(n, _, _)| n.as_str()).collect();
    let documented: BTreeSet<&str> = web::metrics::NAMES.iter().copied().collect();
    assert_eq!(names, documented);
}

#[test]
fn a_plain_heartbeat_keeps_the_workers_metrics() {
    let (db, _) = seeded();
    heartbeat(&db, "paper", None);
    let mut c = db.conn();
    let scrape = store::metrics::scrape(&mut c).expect("scrape");
    let m = scrape.workers[0].metrics.as_ref().expect("kept");
    assert_eq!(m.cycle_ms.count(), 4);
    assert_eq!(m.errors.get("exchange_transport"), Some(&2));
}

#[test]
fn fills_count_follows_inserted_fills() {
    let db = TestDb::new();
    let book = scripted_book(&db);
    let mut c = db.conn();
    let a = store::metrics::scrape(&mut c)
        .expect("scrape")
        .baskets
        .into_iter()
        .find(|b| b.id == book.a)
        .expect("A listed");
    assert_eq!(a.fills, 3);
    // A re-sent batch with one new trade adds one.
    let cid = order(
        &mut c,
        book.a,
        "B3",
        7,
        "127.5",
        "1",
        store::OrderRowStatus::Filled,
        "1",
    );
    let n = store::fills::record_fills(
        &mut c,
        store::Writer::Unleased,
        book.a,
        "SOL",
        &[fill(&cid, 4, grid_core::Side::Buy, "127.5", "1")],
    )
    .expect("fill");
    assert_eq!(n, 1);
    let again = store::fills::record_fills(
        &mut c,
        store::Writer::Unleased,
        book.a,
        "SOL",
        &[fill(&cid, 4, grid_core::Side::Buy, "127.5", "1")],
    )
    .expect("again");
    assert_eq!(again, 0);
    let a = store::metrics::scrape(&mut c)
        .expect("scrape")
        .baskets
        .into_iter()
        .find(|b| b.id == book.a)
        .expect("A listed");
    assert_eq!(a.fills, 4);
}

/// Every `gridbot_*` name an `expr` of the Grafana dashboard uses.
fn grafana_names() -> BTreeSet<String> {
    fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    match (k.as_str(), x) {
                        ("expr" | "query", serde_json::Value::String(s)) => out.push(s.clone()),
                        _ => walk(x, out),
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/grafana-dashboard.json");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("dashboard")).expect("json");
    let mut exprs = Vec::new();
    walk(&json, &mut exprs);
    assert!(exprs.len() >= 10, "the dashboard has its panels' queries");
    let mut names = BTreeSet::new();
    for e in exprs {
        let mut rest = e.as_str();
        while let Some(i) = rest.find("gridbot_") {
            let tail = &rest[i..];
            let end = tail
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(tail.len());
            names.insert(tail[..end].to_string());
            rest = &tail[end..];
        }
    }
    names
}

#[actix_web::test]
async fn every_metric_the_grafana_dashboard_queries_is_exported() {
    let (db, _) = seeded();
    let app = svc!(state_with(
        &db,
        Some(PASSWORD),
        &[("WEB_METRICS_TOKEN", TOKEN)]
    ));
    let (status, text) = scrape(&app, &[bearer(TOKEN)]).await;
    assert_eq!(status, StatusCode::OK);
    let exported: BTreeSet<String> = parse_rust(&text).into_iter().map(|(n, _, _)| n).collect();
    let used = grafana_names();
    let missing: Vec<&String> = used.difference(&exported).collect();
    assert!(
        missing.is_empty(),
        "the dashboard queries metrics /metrics does not export: {missing:?}"
    );
}

//! The dashboard's access rules against a real database: DNS rebinding (the
//! `Host` allow-list and the origin check), brute force (login lockouts),
//! sessions that end with a password change, a logout or a restart.

// Test code: a failed unwrap/expect/panic is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::test;
use common::*;
use std::sync::Arc;
use store::test_db::TestDb;
use web::ManualClock;

const EVIL: &str = "rebind.attacker.example:8080";

fn n_commands(db: &TestDb) -> i64 {
    let mut c = db.conn();
    let n = store::commands::recent(&mut c, 500).expect("count").len();
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn cookie_pair(set: &str) -> String {
    set.split(';').next().unwrap_or_default().to_string()
}

fn header_of(res: &ServiceResponse<impl MessageBody>, name: header::HeaderName) -> Option<String> {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// GET /login from `peer` and the login form's token.
async fn login_token<S, B>(app: &S, peer: &str) -> String
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = test::call_service(
        app,
        get_req("/login")
            .peer_addr(peer.parse().expect("peer"))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    field(&body(res).await, "_token")
}

/// POST /login from `peer` with a fresh token (or the login page's answer
/// when it gives no form: a locked client gets the 429 page already there).
async fn try_login<S, B>(app: &S, peer: &str, password: &str) -> ServiceResponse<B>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = test::call_service(
        app,
        get_req("/login")
            .peer_addr(peer.parse().expect("peer"))
            .to_request(),
    )
    .await;
    if res.status() != StatusCode::OK {
        return res;
    }
    let token = field(&body(res).await, "_token");
    try_login_with(app, peer, &token, password).await
}

async fn try_login_with<S, B>(
    app: &S,
    peer: &str,
    token: &str,
    password: &str,
) -> ServiceResponse<B>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    test::call_service(
        app,
        post_req("/login")
            .peer_addr(peer.parse().expect("peer"))
            .set_form([
                ("_token", token),
                ("username", "admin"),
                ("password", password),
            ])
            .to_request(),
    )
    .await
}

/// Logs in with the right password; the session cookie (`name=value`).
async fn session<S, B>(app: &S) -> String
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = try_login(app, "127.0.0.1:50000", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    cookie_pair(&cookie_of(&res).expect("session cookie"))
}

async fn get_with<S, B>(app: &S, cookie: &str, uri: &str) -> ServiceResponse<B>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    test::call_service(
        app,
        get_req(uri)
            .insert_header((header::COOKIE, cookie.to_string()))
            .to_request(),
    )
    .await
}

/// Polls every future in turn until all are done (no extra dependency).
async fn join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futs: Vec<std::pin::Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = futs.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, o) in futs.iter_mut().zip(out.iter_mut()) {
            if o.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *o = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}

// ------------------------------------------------------------ 10. DNS rebinding

/// A page of the attacker's site whose name now resolves to 127.0.0.1 runs
/// the whole close-all flow with its own `Host` (and `Origin`): the
/// password-less loopback dashboard must give it nothing.
#[actix_web::test]
async fn a_rebound_name_cannot_get_a_session_or_close_all() {
    let db = TestDb::new();
    scripted_book(&db);
    let app = svc!(state(&db, None));
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/login")
            .insert_header((header::HOST, EVIL))
            .to_request(),
    )
    .await;
    assert_eq!(
        res.status(),
        StatusCode::MISDIRECTED_REQUEST,
        "GET /login with a foreign Host"
    );
    assert!(cookie_of(&res).is_none(), "a session for a foreign Host");
    // Even holding a session (say the attacker got one some other way), a
    // request with the foreign Host reaches no handler.
    let res = test::call_service(&app, get_req("/login").to_request()).await;
    let cookie = cookie_pair(&cookie_of(&res).expect("local session"));
    let res = get_with(&app, &cookie, "/trading/close").await;
    let token = field(&body(res).await, "_token");
    for (method, uri) in [
        ("GET", "/trading/close"),
        ("GET", "/api/summary"),
        ("POST", "/trading/close-all"),
    ] {
        let req = if method == "GET" {
            test::TestRequest::get()
        } else {
            test::TestRequest::post()
        };
        let res = test::call_service(
            &app,
            req.uri(uri)
                .insert_header((header::HOST, EVIL))
                .insert_header((header::ORIGIN, format!("http://{EVIL}")))
                .insert_header((header::COOKIE, cookie.clone()))
                .set_form([("_token", token.as_str()), ("key", "eeeeeeeeeeeeeeeeeeee")])
                .to_request(),
        )
        .await;
        assert_eq!(
            res.status(),
            StatusCode::MISDIRECTED_REQUEST,
            "{method} {uri}"
        );
    }
    assert_eq!(n_commands(&db), 0, "nothing was written");
}

#[actix_web::test]
async fn only_allowed_host_names_reach_the_handlers() {
    let db = TestDb::new();
    let app = svc!(state_with(
        &db,
        Some(PASSWORD),
        &[("WEB_ALLOWED_HOSTS", "dash.lan:8443, bot.example.com")]
    ));
    for host in [
        "127.0.0.1:8080",
        "localhost:8080",
        "LOCALHOST:8080",
        "[::1]:8080",
        "dash.lan:8443",
        "bot.example.com",
        "bot.example.com:443",
    ] {
        let res = test::call_service(
            &app,
            test::TestRequest::get()
                .uri("/login")
                .insert_header((header::HOST, host))
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK, "{host}");
    }
    for host in [
        EVIL,
        "127.0.0.1:9999",
        "localhost",
        "dash.lan:8080",
        "dash.lan",
        "127.0.0.1.nip.io:8080",
        "localhost.attacker.example:8080",
        "",
    ] {
        let res = test::call_service(
            &app,
            test::TestRequest::get()
                .uri("/login")
                .insert_header((header::HOST, host))
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::MISDIRECTED_REQUEST, "{host:?}");
        let text = body(res).await;
        assert!(text.contains("WEB_ALLOWED_HOSTS"), "{text}");
    }
    // No Host at all is not a browser: refused too.
    let res = test::call_service(&app, test::TestRequest::get().uri("/login").to_request()).await;
    assert_eq!(res.status(), StatusCode::MISDIRECTED_REQUEST);
    // Load balancers probe /healthz by any name: it says only "ok".
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/healthz")
            .insert_header((header::HOST, EVIL))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
}

/// The origin check compares the `Origin` with the allow-list, never with
/// a name the request itself carries (`X-Forwarded-Host` included).
#[actix_web::test]
async fn the_origin_is_checked_against_the_allow_list() {
    let db = TestDb::new();
    scripted_book(&db);
    let app = svc!(state(&db, Some(PASSWORD)));
    let cookie = session(&app).await;
    let res = get_with(&app, &cookie, "/trading/close").await;
    let token = field(&body(res).await, "_token");
    let res = test::call_service(
        &app,
        post_req("/trading/close-all")
            .insert_header((header::COOKIE, cookie.clone()))
            .insert_header(("x-forwarded-host", "evil.example"))
            .insert_header((header::ORIGIN, "http://evil.example"))
            .set_form([("_token", token.as_str()), ("key", "ffffffffffffffffffff")])
            .to_request(),
    )
    .await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "X-Forwarded-Host trusted"
    );
    let res = test::call_service(
        &app,
        post_req("/trading/close-all")
            .insert_header((header::COOKIE, cookie.clone()))
            .insert_header((header::ORIGIN, "null"))
            .set_form([("_token", token.as_str()), ("key", "ffffffffffffffffffff")])
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "Origin: null");
    assert_eq!(n_commands(&db), 0);
    // Another allowed name of this dashboard is the same site.
    let res = test::call_service(
        &app,
        post_req("/trading/close-all")
            .insert_header((header::COOKIE, cookie.clone()))
            .insert_header((header::ORIGIN, "http://localhost:8080"))
            .set_form([("_token", token.as_str()), ("key", "ffffffffffffffffffff")])
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

/// No password and a worker trading production: the dashboard refuses
/// everything, and says to set a password.
#[actix_web::test]
async fn a_production_worker_requires_a_password() {
    let db = TestDb::new();
    scripted_book(&db);
    heartbeat(&db, "paper", None);
    let app = svc!(state(&db, None));
    let res = test::call_service(&app, get_req("/login").to_request()).await;
    let cookie = cookie_pair(&cookie_of(&res).expect("paper: open on loopback"));
    let res = get_with(&app, &cookie, "/trading/close").await;
    assert_eq!(res.status(), StatusCode::OK);
    let token = field(&body(res).await, "_token");
    // The worker restarts in production.
    heartbeat(&db, "production", None);
    for uri in ["/", "/trading/close", "/api/summary", "/login"] {
        let res = get_with(&app, &cookie, uri).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{uri}");
        assert!(cookie_of(&res).is_none(), "{uri}: a session handed out");
        let text = body(res).await;
        assert!(text.contains("DASHBOARD_PASSWORD"), "{uri}: {text}");
    }
    let res = test::call_service(
        &app,
        post_req("/trading/close-all")
            .insert_header((header::COOKIE, cookie.clone()))
            .set_form([("_token", token.as_str()), ("key", "gggggggggggggggggggg")])
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(n_commands(&db), 0);
    let res = test::call_service(&app, get_req("/healthz").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
}

// ------------------------------------------------------------ 11. brute force

fn locked_events(db: &TestDb) -> Vec<(Option<i64>, String, String)> {
    let mut c = db.conn();
    let mut rows = store::events::recent(&mut c, None, 500).expect("events");
    rows.retain(|e| e.kind == "login_locked");
    rows.sort_by_key(|e| e.id);
    rows.into_iter()
        .map(|e| (e.basket_id, e.level.as_str().to_string(), e.message))
        .collect()
}

#[actix_web::test]
async fn failed_logins_lock_the_client_out() {
    let db = TestDb::new();
    let clock = Arc::new(ManualClock::new());
    let app = svc!(state_clock(&db, Some(PASSWORD), &[], clock.clone()));
    let attacker = "203.0.113.7:40000";
    for i in 0..4 {
        let res = try_login(&app, attacker, "guess").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "failure {i}");
    }
    // The fifth failure locks the client for a minute.
    let res = try_login(&app, attacker, "guess").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header_of(&res, header::RETRY_AFTER).as_deref(), Some("60"));
    // Even the right password waits; the login page says how long.
    clock.advance_s(15);
    let res = try_login(&app, attacker, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(cookie_of(&res).is_none());
    assert_eq!(header_of(&res, header::RETRY_AFTER).as_deref(), Some("45"));
    let page = body(res).await;
    assert!(
        page.contains("Too many failed logins") && page.contains("45 s"),
        "{page}"
    );
    let ev = locked_events(&db);
    assert_eq!(ev.len(), 1, "{ev:?}");
    assert_eq!(ev[0].0, None);
    assert_eq!(ev[0].1, "warn");
    assert!(ev[0].2.contains("203.0.113.7"), "{}", ev[0].2);
    // Another client is not locked out.
    let res = try_login(&app, "198.51.100.9:40000", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // After the minute, each further failure locks again, twice as long.
    clock.advance_s(45);
    let res = try_login(&app, attacker, "guess").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header_of(&res, header::RETRY_AFTER).as_deref(), Some("120"));
    clock.advance_s(120);
    let res = try_login(&app, attacker, "guess").await;
    assert_eq!(header_of(&res, header::RETRY_AFTER).as_deref(), Some("240"));
    assert_eq!(locked_events(&db).len(), 3, "one event per lock");
    // The right password after the wait: in, and the client is forgiven.
    clock.advance_s(240);
    let res = try_login(&app, attacker, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = try_login(&app, attacker, "guess").await;
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "forgiven after a login"
    );
}

/// A burst of parallel guesses cannot slip in before the first failure is
/// counted: each attempt counts when it starts.
#[actix_web::test]
async fn parallel_guesses_are_counted_before_they_are_checked() {
    let db = TestDb::new();
    let app = svc!(state(&db, Some(PASSWORD)));
    let peer = "203.0.113.8:40000";
    let mut tokens = Vec::new();
    for _ in 0..12 {
        tokens.push(login_token(&app, peer).await);
    }
    let burst = tokens
        .iter()
        .map(|t| try_login_with(&app, peer, t, "guess"));
    let statuses: Vec<StatusCode> = join_all(burst.collect())
        .await
        .iter()
        .map(|r| r.status())
        .collect();
    let tried = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    assert_eq!(tried, 4, "{statuses:?}");
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
            .count(),
        8,
        "{statuses:?}"
    );
}

#[actix_web::test]
async fn failures_from_many_clients_lock_the_login_for_everyone() {
    let db = TestDb::new();
    let clock = Arc::new(ManualClock::new());
    let app = svc!(state_clock(&db, Some(PASSWORD), &[], clock.clone()));
    for i in 0..20u32 {
        let peer = format!("10.0.{}.{}:40000", i / 200, i % 200 + 1);
        let res = try_login(&app, &peer, "guess").await;
        let want = if i < 19 {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::TOO_MANY_REQUESTS
        };
        assert_eq!(res.status(), want, "failure {i}");
    }
    let res = try_login(&app, "192.0.2.200:40000", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header_of(&res, header::RETRY_AFTER).as_deref(), Some("60"));
    assert!(body(res).await.contains("from several addresses"));
    let ev = locked_events(&db);
    assert_eq!(ev.len(), 1, "{ev:?}");
    assert!(ev[0].2.contains("every client"), "{}", ev[0].2);
    clock.advance_s(60);
    let res = try_login(&app, "192.0.2.200:40000", PASSWORD).await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "open again after the lock"
    );
}

#[actix_web::test]
async fn a_login_token_expires_after_ten_minutes() {
    let db = TestDb::new();
    let clock = Arc::new(ManualClock::new());
    let app = svc!(state_clock(&db, Some(PASSWORD), &[], clock.clone()));
    let peer = "127.0.0.1:50000";
    let token = login_token(&app, peer).await;
    clock.advance_s(10 * 60);
    let res = try_login_with(&app, peer, &token, PASSWORD).await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "an expired login token"
    );
    let token = login_token(&app, peer).await;
    clock.advance_s(9 * 60);
    let res = try_login_with(&app, peer, &token, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[actix_web::test]
async fn a_login_token_works_once() {
    let db = TestDb::new();
    let app = svc!(state(&db, Some(PASSWORD)));
    let peer = "127.0.0.1:50000";
    let token = login_token(&app, peer).await;
    let res = try_login_with(&app, peer, &token, "guess").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = try_login_with(&app, peer, &token, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "a used login token");
    assert!(cookie_of(&res).is_none());
    let page = body(res).await;
    assert!(
        page.contains("used already") && page.contains("name=\"_token\""),
        "{page}"
    );
}

// ------------------------------------------------------------ 13. sessions

#[actix_web::test]
async fn a_password_change_ends_every_session() {
    let db = TestDb::new();
    let app = svc!(state(&db, Some(PASSWORD)));
    let cookie = session(&app).await;
    assert_eq!(get_with(&app, &cookie, "/").await.status(), StatusCode::OK);
    // Restarted with a new password (same APP_SECRET).
    let app = svc!(state(&db, Some("a brand new passphrase")));
    let res = get_with(&app, &cookie, "/").await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "old session still valid"
    );
}

#[actix_web::test]
async fn a_logout_outlives_a_restart() {
    let db = TestDb::new();
    let app = svc!(state(&db, Some(PASSWORD)));
    let cookie = session(&app).await;
    let res = get_with(&app, &cookie, "/trading/close").await;
    let csrf = field(&body(res).await, "_token");
    let res = test::call_service(
        &app,
        post_req("/logout")
            .insert_header((header::COOKIE, cookie.clone()))
            .set_form([("_token", csrf.as_str())])
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        get_with(&app, &cookie, "/").await.status(),
        StatusCode::SEE_OTHER
    );
    // The same configuration, a new process.
    let app = svc!(state(&db, Some(PASSWORD)));
    let res = get_with(&app, &cookie, "/").await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "revocation lost on restart"
    );
}

#[actix_web::test]
async fn off_loopback_cookies_are_secure_and_hsts_is_sent() {
    let db = TestDb::new();
    let app = svc!(state_with(
        &db,
        Some(PASSWORD),
        &[("WEB_BIND", "0.0.0.0:8080")]
    ));
    let res = try_login(&app, "192.168.1.20:50000", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let set = cookie_of(&res).expect("cookie");
    assert!(set.contains("; Secure"), "{set}");
    assert!(
        header_of(&res, header::STRICT_TRANSPORT_SECURITY).is_some_and(|v| v.contains("max-age=")),
        "no HSTS"
    );
    // A login posted from a plain-http LAN page would lose its Secure
    // cookie: the form says what to do instead.
    let token = login_token(&app, "192.168.1.20:50000").await;
    let res = test::call_service(
        &app,
        post_req("/login")
            .peer_addr("192.168.1.20:50000".parse().expect("peer"))
            .insert_header((header::ORIGIN, "http://127.0.0.1:8080"))
            .set_form([
                ("_token", token.as_str()),
                ("username", "admin"),
                ("password", PASSWORD),
            ])
            .to_request(),
    )
    .await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "loopback http keeps Secure cookies"
    );
    let app = svc!(state_with(
        &db,
        Some(PASSWORD),
        &[
            ("WEB_BIND", "0.0.0.0:8080"),
            ("WEB_ALLOWED_HOSTS", "192.168.1.5:8080")
        ]
    ));
    let token = login_token(&app, "192.168.1.20:50000").await;
    let res = test::call_service(
        &app,
        test::TestRequest::post()
            .uri("/login")
            .peer_addr("192.168.1.20:50000".parse().expect("peer"))
            .insert_header((header::HOST, "192.168.1.5:8080"))
            .insert_header((header::ORIGIN, "http://192.168.1.5:8080"))
            .set_form([
                ("_token", token.as_str()),
                ("username", "admin"),
                ("password", PASSWORD),
            ])
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(cookie_of(&res).is_none());
    assert!(body(res).await.contains("WEB_ALLOW_PLAIN_HTTP=true"));
    // Plain http on a LAN, said explicitly.
    let app = svc!(state_with(
        &db,
        Some(PASSWORD),
        &[
            ("WEB_BIND", "0.0.0.0:8080"),
            ("WEB_ALLOW_PLAIN_HTTP", "true")
        ]
    ));
    let res = try_login(&app, "192.168.1.20:50000", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let set = cookie_of(&res).expect("cookie");
    assert!(!set.contains("Secure"), "{set}");
    assert!(header_of(&res, header::STRICT_TRANSPORT_SECURITY).is_none());
}

//! The web's handlers against a real database (one fresh `TestDb` per test)
//! filled through the store's repositories with a scripted book.

// Test code: a failed unwrap/expect/panic is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::test;
use common::*;
use diesel::prelude::*;
use store::commands::{CommandResult, StatusResult};
use store::test_db::TestDb;
use store::{CommandKind, CommandStatus, EventLevel, Writer};

/// Logs in; returns the session cookie (`name=value`) and a CSRF token of a page.
async fn login<S, B>(app: &S) -> (String, String)
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = test::call_service(app, get_req("/login").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = body(res).await;
    let token = field(&html, "_token");
    let res = test::call_service(
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
    let cookie = set.split(';').next().unwrap_or_default().to_string();
    let csrf = csrf_of(app, &cookie).await;
    (cookie, csrf)
}

async fn csrf_of<S, B>(app: &S, cookie: &str) -> String
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = test::call_service(
        app,
        get_req("/trading/close")
            .insert_header((header::COOKIE, cookie.to_string()))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    field(&body(res).await, "_token")
}

async fn get<S, B>(app: &S, cookie: &str, uri: &str) -> (StatusCode, String)
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = test::call_service(
        app,
        get_req(uri)
            .insert_header((header::COOKIE, cookie.to_string()))
            .to_request(),
    )
    .await;
    let status = res.status();
    (status, body(res).await)
}

async fn post<S, B>(app: &S, cookie: &str, uri: &str, form: &[(&str, &str)]) -> ServiceResponse<B>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    test::call_service(
        app,
        post_req(uri)
            .insert_header((header::COOKIE, cookie.to_string()))
            .set_form(form)
            .to_request(),
    )
    .await
}

fn command_rows(db: &TestDb) -> Vec<(String, Option<i64>, String, String)> {
    let mut c = db.conn();
    let mut rows = store::commands::recent(&mut c, 500).expect("commands");
    rows.sort_by_key(|r| r.id);
    rows.into_iter()
        .map(|r| {
            (
                r.kind.as_str().to_string(),
                r.basket_id,
                r.idempotency_key,
                r.status.as_str().to_string(),
            )
        })
        .collect()
}

#[actix_web::test]
async fn everything_needs_a_login_and_the_login_is_checked() {
    let db = TestDb::new();
    let app = svc!(state(&db, Some(PASSWORD)));
    for uri in [
        "/",
        "/orders/history",
        "/baskets/1",
        "/commands?key=0123456789abcdef0",
    ] {
        let res = test::call_service(&app, get_req(uri).to_request()).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{uri}");
        assert_eq!(
            res.headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok()),
            Some("/login")
        );
    }
    for uri in ["/api/summary", "/fragment/live", "/fragment/close"] {
        let res = test::call_service(&app, get_req(uri).to_request()).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{uri}");
    }
    for uri in [
        "/trading/close-all",
        "/trading/pause",
        "/trading/resume",
        "/trading/reanchor",
        "/logout",
    ] {
        let res =
            test::call_service(&app, post_req(uri).set_form([("_token", "x")]).to_request()).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{uri}");
    }
    // healthz needs no login.
    let res = test::call_service(&app, get_req("/healthz").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body(res).await, r#"{"database":"ok","status":"ok"}"#);

    // A forged cookie is not a session.
    let res = test::call_service(
        &app,
        get_req("/api/summary")
            .insert_header((header::COOKIE, "gt_session=9999999999.abcd.00ff"))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // Wrong password: 401 and no cookie; no login token: 403.
    let html = body(test::call_service(&app, get_req("/login").to_request()).await).await;
    assert!(!html.contains("open to every user"));
    let token = field(&html, "_token");
    let res = test::call_service(
        &app,
        post_req("/login")
            .set_form([
                ("_token", token.as_str()),
                ("username", "admin"),
                ("password", "guess"),
            ])
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(cookie_of(&res).is_none());
    assert!(body(res).await.contains("Wrong user name or password"));
    let res = test::call_service(
        &app,
        post_req("/login")
            .set_form([("username", "admin"), ("password", PASSWORD)])
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // The right password (a fresh form: a login token works once): an
    // HttpOnly, SameSite=Strict cookie with an expiry.
    let html = body(test::call_service(&app, get_req("/login").to_request()).await).await;
    let token = field(&html, "_token");
    let res = test::call_service(
        &app,
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
    let set = cookie_of(&res).expect("cookie");
    assert!(set.contains("HttpOnly"), "{set}");
    assert!(set.contains("SameSite=Strict"), "{set}");
    assert!(set.contains("Max-Age="), "{set}");
    let cookie = set.split(';').next().unwrap_or_default().to_string();
    let (status, _) = get(&app, &cookie, "/").await;
    assert_eq!(status, StatusCode::OK);

    // Logout needs the CSRF token, then the cookie is removed.
    let csrf = csrf_of(&app, &cookie).await;
    let res = post(&app, &cookie, "/logout", &[]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = post(&app, &cookie, "/logout", &[("_token", &csrf)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(cookie_of(&res).is_some_and(|c| c.contains("Max-Age=0")));
    // The old cookie (kept by a thief, or a browser that ignored the
    // removal) no longer opens anything; a new login does.
    let (status, _) = get(&app, &cookie, "/").await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "a logged-out session still works"
    );
    let res = post(&app, &cookie, "/trading/close-all", &[("_token", &csrf)]).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let (fresh, _) = login(&app).await;
    let (status, _) = get(&app, &fresh, "/").await;
    assert_eq!(status, StatusCode::OK);
}

#[actix_web::test]
async fn posts_need_a_valid_csrf_token_and_the_same_origin() {
    let db = TestDb::new();
    let book = scripted_book(&db);
    let app = svc!(state(&db, Some(PASSWORD)));
    let (cookie, csrf) = login(&app).await;
    let key = "aaaaaaaaaaaaaaaaaaaaaaaa";
    let id = book.a.to_string();
    for uri in [
        "/trading/close-all",
        "/trading/pause",
        "/trading/resume",
        "/trading/reanchor",
    ] {
        let res = post(&app, &cookie, uri, &[("key", key), ("basket_id", &id)]).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{uri} without token");
        let res = post(
            &app,
            &cookie,
            uri,
            &[("_token", "123.abc"), ("key", key), ("basket_id", &id)],
        )
        .await;
        assert_eq!(
            res.status(),
            StatusCode::FORBIDDEN,
            "{uri} with a bad token"
        );
    }
    // A token of another session does not work here.
    let (_other_cookie, other_csrf) = login(&app).await;
    let res = post(
        &app,
        &cookie,
        "/trading/close-all",
        &[("_token", &other_csrf), ("key", key)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // A valid token from another origin is refused.
    let res = test::call_service(
        &app,
        post_req("/trading/close-all")
            .insert_header((header::COOKIE, cookie.clone()))
            .insert_header((header::ORIGIN, "https://evil.example"))
            .set_form([("_token", csrf.as_str()), ("key", key)])
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(command_rows(&db).is_empty(), "nothing was written");
    // Same origin is fine.
    let res = test::call_service(
        &app,
        post_req("/trading/close-all")
            .insert_header((header::COOKIE, cookie.clone()))
            .insert_header((header::HOST, "localhost:8080"))
            .insert_header((header::ORIGIN, "http://localhost:8080"))
            .set_form([("_token", csrf.as_str()), ("key", key)])
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[actix_web::test]
async fn security_headers_are_on_every_response() {
    let db = TestDb::new();
    scripted_book(&db);
    let app = svc!(state(&db, Some(PASSWORD)));
    let (cookie, _) = login(&app).await;
    for uri in [
        "/",
        "/api/summary",
        "/orders/history",
        "/login",
        "/fragment/live",
    ] {
        let res = test::call_service(
            &app,
            get_req(uri)
                .insert_header((header::COOKIE, cookie.clone()))
                .to_request(),
        )
        .await;
        let h = res.headers();
        let csp = h
            .get(header::CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(
            csp.contains("default-src 'none'") && csp.contains("script-src 'self'"),
            "{uri}: {csp}"
        );
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("http"),
            "{uri}: {csp}"
        );
        assert_eq!(
            h.get(header::X_FRAME_OPTIONS).and_then(|v| v.to_str().ok()),
            Some("DENY"),
            "{uri}"
        );
        assert_eq!(
            h.get(header::CACHE_CONTROL).and_then(|v| v.to_str().ok()),
            Some("no-store"),
            "{uri}"
        );
        // Plain http on loopback: no HSTS (it would pin https on localhost).
        assert!(h.get(header::STRICT_TRANSPORT_SECURITY).is_none(), "{uri}");
    }
    // The pages have no inline script and load nothing from elsewhere.
    let (_, html) = get(&app, &cookie, "/").await;
    assert!(html.contains(r#"<script src="/static/app.js" defer></script>"#));
    assert_eq!(html.matches("<script").count(), 1);
    assert!(!html.contains("https://") && !html.contains(" style=\""));
    let res = test::call_service(&app, get_req("/static/app.css").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = test::call_service(&app, get_req("/static/app.js").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[actix_web::test]
async fn the_dashboard_shows_the_right_figures() {
    let db = TestDb::new();
    let book = scripted_book(&db);
    heartbeat(&db, "paper", None);
    let app = svc!(state(&db, Some(PASSWORD)));
    let (cookie, _) = login(&app).await;
    let (status, html) = get(&app, &cookie, "/").await;
    assert_eq!(status, StatusCode::OK);
    // Profitability: from the baskets' running totals.
    for (fig, want) in [
        ("realized", "-3.75"),
        ("unrealized", "+3.75"),
        ("total", "0.00"),
        ("roi", "0.00%"),
        ("trades", "2"),
        ("win_rate", "50.00%"),
        ("avg_win", "+1.25"),
        ("avg_loss", "-5.00"),
    ] {
        let needle = format!("data-figure=\"{fig}\">{want}");
        assert!(html.contains(&needle), "missing {needle}");
    }
    // Status bar.
    assert!(html.contains("Daemon running"));
    assert!(html.contains("mode <b class=\"uppercase \">paper</b>"));
    assert!(!html.contains("production-banner"));
    // The live basket: anchor, position, average price, TPs, stop and its distance.
    let card_start = html
        .find(&format!("id=\"basket-{}\"", book.a))
        .expect("card A");
    let card = &html[card_start..card_start + html[card_start..].find("</article>").unwrap_or(0)];
    for want in [
        "SOLUSDC",
        ">active<",
        "150",
        "3 SOL",
        "138.75",
        "TP1 140.415",
        "TP2 141.525",
        "120 <span",
        "14.29% below the last price",
        "+3.75 USDC",
        "+1.25 USDC",
        "Reanchor suggested (closed_ratio) at 140",
        "Reanchor now",
        "Pause buys",
        "<svg",
        "B1 142.5 × 0.56 · filled",
        "B3 127.5 × 1.17 · waiting",
        ">stop 120<",
        ">last 140<",
        ">TP1 140.415<",
    ] {
        assert!(card.contains(want), "basket card lacks {want:?}");
    }
    // The closed basket is not in the live cards but listed as closed.
    assert!(!html.contains(&format!("id=\"basket-{}\"", book.b)));
    assert!(
        html.contains(&format!("SOLUSDC #{}</a>", book.b)) && html.contains("emergency_closed")
    );
    // Open orders: three, with colours; the pending one is yellow.
    let table = &html[html.find("id=\"open-orders\"").expect("table")..];
    let table = &table[..table.find("</table>").unwrap_or(0)];
    assert_eq!(table.matches("<tr class=").count(), 3);
    assert!(table.contains(&format!("BOT_SOLUSDC_{}_B3_4", book.a)));
    assert!(table.contains("bg-amber-50 text-amber-900") && table.contains("PENDING_NEW"));
    assert!(table.contains("text-emerald-700\">+3.75"));
    // Charts and events (errors first).
    assert!(html.contains("Cumulative realized P&amp;L (USDC)"));
    assert!(html.contains("No account snapshot in the last 7 days yet"));
    let err = html
        .find("Timeout talking to the exchange")
        .expect("error event");
    let info = html.find("Placed B3 at 127.5").expect("info event");
    assert!(err < info, "errors first");

    // The fragment is the live part only; the API has the same figures.
    let (status, frag) = get(&app, &cookie, "/fragment/live").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!frag.contains("<html") && frag.contains("data-figure=\"realized\">-3.75"));
    let (status, api) = get(&app, &cookie, "/api/summary").await;
    assert_eq!(status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_str(&api).expect("json");
    let dec = |v: &serde_json::Value| d(v.as_str().unwrap_or("x"));
    assert_eq!(dec(&v["portfolio"][0]["summary"]["realized"]), d("-3.75"));
    assert_eq!(dec(&v["portfolio"][0]["summary"]["unrealized"]), d("3.75"));
    assert_eq!(dec(&v["baskets"][0]["avg_cost"]), d("138.75"));
    assert_eq!(v["open_orders"], 3);
    assert_eq!(v["baskets"][0]["tp1_price"], "140.415");
    assert_eq!(v["daemon"]["mode"], "paper");
}

#[actix_web::test]
async fn production_mode_shows_a_red_banner_and_a_dead_daemon_is_said() {
    let db = TestDb::new();
    scripted_book(&db);
    heartbeat(&db, "production", Some("API key rejected"));
    {
        let mut c = db.conn();
        diesel::sql_query("UPDATE bot_status SET heartbeat_at = now() - interval '5 minutes'")
            .execute(&mut c)
            .expect("age");
    }
    let app = svc!(state(&db, Some(PASSWORD)));
    let (cookie, _) = login(&app).await;
    for uri in ["/", "/orders/history"] {
        let (_, html) = get(&app, &cookie, uri).await;
        assert!(html.contains("id=\"production-banner\""), "{uri}");
        assert!(
            html.contains("PRODUCTION — this bot trades REAL money"),
            "{uri}"
        );
    }
    let (_, html) = get(&app, &cookie, "/").await;
    assert!(html.contains("Daemon NOT running"));
    assert!(html.contains("heartbeat <b>5 min</b> ago"));
    assert!(html.contains("API key rejected"));
}

/// The status bar says how each notification channel is doing: what waits
/// and what was given up (none shown while no channel is configured).
#[actix_web::test]
async fn the_status_bar_shows_each_notification_channels_backlog() {
    let db = TestDb::new();
    scripted_book(&db);
    heartbeat(&db, "paper", None);
    let app = svc!(state(&db, Some(PASSWORD)));
    let (cookie, _) = login(&app).await;
    let (_, html) = get(&app, &cookie, "/").await;
    assert!(!html.contains("data-notify="), "no channel, no line");
    {
        let mut c = db.conn();
        let all: Vec<String> = store::notifications::CATEGORIES
            .iter()
            .map(|s| s.to_string())
            .collect();
        store::notifications::register_channel(&mut c, "webhook", &all).expect("register");
        diesel::sql_query(
            "SELECT notify_enqueue('heartbeat_stale', 'errors', NULL, NULL, '{}'::jsonb, k) \
             FROM (VALUES ('a'), ('b'), ('c')) v(k)",
        )
        .execute(&mut c)
        .expect("enqueue");
        diesel::sql_query(
            "UPDATE notification_deliveries SET state = 'failed' \
             WHERE notification_id = (SELECT min(id) FROM notifications)",
        )
        .execute(&mut c)
        .expect("fail one");
    }
    // A new process: the first one's dashboard is cached for a few seconds.
    let app = svc!(state(&db, Some(PASSWORD)));
    let (cookie, _) = login(&app).await;
    let (_, html) = get(&app, &cookie, "/").await;
    assert!(
        html.contains(
            "notifications <b>webhook</b>: 2 waiting, <b class=\"text-red-700\">1 given up</b>"
        ),
        "{html}"
    );
}

/// The status bar says how each worker learns about fills (its heartbeat's
/// stream state).
#[actix_web::test]
async fn the_status_bar_shows_how_each_worker_learns_about_fills() {
    for (stream, shown) in [
        ("streaming", "streamed"),
        ("down", "polled (stream down)"),
        ("polling", "polled"),
    ] {
        let db = TestDb::new();
        scripted_book(&db);
        heartbeat(&db, "paper", None);
        {
            let mut c = db.conn();
            diesel::sql_query(
                "UPDATE bot_status SET metrics = jsonb_build_object('stream', $1::text)",
            )
            .bind::<diesel::sql_types::Text, _>(stream)
            .execute(&mut c)
            .expect("metrics");
        }
        let app = svc!(state(&db, Some(PASSWORD)));
        let (cookie, _) = login(&app).await;
        let (_, html) = get(&app, &cookie, "/").await;
        let want = format!("data-stream=\"{stream}\">{shown}</b>");
        assert!(html.contains(&want), "{stream}: {want} not in the page");
    }
}

#[actix_web::test]
async fn everything_rendered_is_escaped_and_secrets_never_shown() {
    let db = TestDb::new();
    let book = scripted_book(&db);
    heartbeat(&db, "paper", Some("<script>alert('hb')</script>"));
    {
        let mut c = db.conn();
        store::events::insert(
            &mut c,
            &store::events::NewEvent {
                basket_id: Some(book.a),
                level: EventLevel::Error,
                kind: "<img src=x onerror=alert(1)>".into(),
                message: "<script>alert(1)</script> & more".into(),
                data: None,
            },
        )
        .expect("event");
        // A symbol with markup (as a hostile row would hold).
        diesel::sql_query("UPDATE baskets SET symbol = '<script>x</script>' WHERE id = $1")
            .bind::<diesel::sql_types::BigInt, _>(book.b)
            .execute(&mut c)
            .expect("symbol");
    }
    let app = svc!(state(&db, Some(PASSWORD)));
    let (cookie, _) = login(&app).await;
    for uri in [
        "/".to_string(),
        format!("/baskets/{}", book.a),
        format!("/baskets/{}", book.b),
        "/fragment/live".into(),
    ] {
        let (status, html) = get(&app, &cookie, &uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        assert!(!html.contains("<script>alert"), "{uri}: raw script");
        assert!(!html.contains("<script>x"), "{uri}: raw symbol");
        assert!(!html.contains("<img src=x"), "{uri}: raw img");
        assert!(
            !html.contains(SECRET) && !html.contains(PASSWORD),
            "{uri}: secret shown"
        );
    }
    let (_, html) = get(&app, &cookie, "/").await;
    assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt; &amp; more"));
    assert!(html.contains("&lt;script&gt;x&lt;&#x2F;script&gt;"));
}

#[actix_web::test]
async fn close_all_writes_one_command_per_live_basket_once() {
    let db = TestDb::new();
    let book = scripted_book(&db);
    let c2 = {
        let mut c = db.conn();
        let p = new_basket(&mut c, "150", None);
        store::baskets::set_status(
            &mut c,
            Writer::Unleased,
            p.id,
            grid_core::BasketStatus::Paused,
            None,
        )
        .expect("pause");
        p.id
    };
    let app = svc!(state(&db, Some(PASSWORD)));
    let (cookie, _) = login(&app).await;
    // The confirmation lists what will happen and the baskets it acts on.
    let (status, modal) = get(&app, &cookie, "/fragment/close").await;
    assert_eq!(status, StatusCode::OK);
    for want in [
        "Close all positions",
        "cancel <b>ALL</b> its open orders",
        "entire position",
        "LIMIT order",
        "emergency_closed",
        "This action cannot be undone!",
        "Confirm: close 2 baskets",
        "135.8 <span",
        "(3.00% below 140)",
    ] {
        assert!(modal.contains(want), "modal lacks {want:?}");
    }
    assert!(
        !modal.contains(&format!("#{}", book.b)),
        "closed basket not listed"
    );
    let csrf = field(&modal, "_token");
    let key = field(&modal, "key");
    assert!(key.len() >= 16);

    let res = post(
        &app,
        &cookie,
        "/trading/close-all",
        &[("_token", &csrf), ("key", &key), ("basket_id", "")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let loc = res
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert_eq!(loc, format!("/commands?key={key}"));
    let rows = command_rows(&db);
    assert_eq!(
        rows,
        vec![
            (
                "close_basket".to_string(),
                Some(book.a),
                format!("{key}:{}", book.a),
                "pending".to_string()
            ),
            (
                "close_basket".to_string(),
                Some(c2),
                format!("{key}:{c2}"),
                "pending".to_string()
            ),
        ]
    );
    // A double submit creates nothing twice.
    let res = post(
        &app,
        &cookie,
        "/trading/close-all",
        &[("_token", &csrf), ("key", &key)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(command_rows(&db).len(), 2);

    // Progress: pending until the daemon reports done.
    let (status, page) = get(&app, &cookie, &loc).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Waiting for the trading daemon") && page.contains("NOT running"));
    assert_eq!(page.matches("close basket").count(), 2);
    assert!(page.contains("data-refresh-url=\"/fragment/commands?key="));
    // The daemon (simulated through the store) claims and runs them.
    {
        let mut c = db.conn();
        let live: Vec<i64> = store::baskets::list_live(&mut c)
            .expect("baskets")
            .iter()
            .map(|b| b.id)
            .collect();
        while let Some(cmd) = store::commands::claim_for_worker(&mut c, "w1", &live, 60_000, 1)
            .expect("claim")
            .into_iter()
            .next()
        {
            assert_eq!(cmd.kind, CommandKind::CloseBasket);
            let id = cmd.basket_id.expect("basket");
            store::baskets::set_status(
                &mut c,
                Writer::Unleased,
                id,
                grid_core::BasketStatus::Closing,
                None,
            )
            .expect("closing");
            store::commands::complete(
                &mut c,
                cmd.id,
                "w1",
                &CommandResult::CloseBasket(StatusResult {
                    basket_id: id,
                    status: grid_core::BasketStatus::Closing,
                }),
            )
            .expect("complete");
        }
    }
    let (_, frag) = get(&app, &cookie, &format!("/fragment/commands?key={key}")).await;
    assert!(frag.contains("data-finished=\"1\""));
    assert!(frag.contains("The daemon has finished these 2 commands"));
    assert!(frag.contains(&format!("data-basket-status=\"{}\">closing", book.a)));
    assert_eq!(
        command_rows(&db)
            .iter()
            .filter(|r| r.3 == CommandStatus::Done.as_str())
            .count(),
        2
    );
    // Closing baskets are not offered again.
    let (_, modal) = get(&app, &cookie, "/fragment/close").await;
    assert!(modal.contains("There is no live basket to close"));
}

#[actix_web::test]
async fn close_one_basket_pause_resume_reanchor() {
    let db = TestDb::new();
    let book = scripted_book(&db);
    let app = svc!(state(&db, Some(PASSWORD)));
    let (cookie, csrf) = login(&app).await;
    let a = book.a.to_string();
    let (_, modal) = get(&app, &cookie, &format!("/fragment/close?basket_id={a}")).await;
    assert!(
        modal.contains(&format!("Close basket #{a}")) && modal.contains("Confirm: close 1 basket<")
    );
    let key = field(&modal, "key");
    let res = post(
        &app,
        &cookie,
        "/trading/close-all",
        &[("_token", &csrf), ("key", &key), ("basket_id", &a)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // A closed basket cannot be closed (404), a malformed key is refused (400).
    let res = post(
        &app,
        &cookie,
        "/trading/close-all",
        &[
            ("_token", &csrf),
            ("key", "bbbbbbbbbbbbbbbbbbbb"),
            ("basket_id", "999999"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = post(
        &app,
        &cookie,
        "/trading/close-all",
        &[("_token", &csrf), ("key", "x%_"), ("basket_id", &a)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    for (uri, k) in [
        ("/trading/pause", "p"),
        ("/trading/resume", "r"),
        ("/trading/reanchor", "n"),
    ] {
        let key = format!("cccccccccccccccccccc-{k}");
        let res = post(
            &app,
            &cookie,
            uri,
            &[("_token", &csrf), ("key", &key), ("basket_id", &a)],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{uri}");
        let res = post(
            &app,
            &cookie,
            uri,
            &[("_token", &csrf), ("key", &key), ("basket_id", &a)],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{uri} again");
    }
    let kinds: Vec<String> = command_rows(&db).into_iter().map(|r| r.0).collect();
    assert_eq!(kinds, ["close_basket", "pause", "resume", "reanchor"]);
    let mut c = db.conn();
    let payload: serde_json::Value = store::commands::recent(&mut c, 500)
        .expect("commands")
        .into_iter()
        .find(|r| r.kind == CommandKind::Reanchor)
        .expect("payload")
        .payload;
    assert_eq!(payload["new_anchor"], "140");
}

#[actix_web::test]
async fn history_is_keyset_paginated_to_the_last_page_and_filters() {
    let db = TestDb::new();
    let book = scripted_book(&db);
    let many = {
        let mut c = db.conn();
        let p = new_basket(&mut c, "150", None);
        for seq in 1..=120u64 {
            let role = if seq % 3 == 0 { "TP1" } else { "B1" };
            order(
                &mut c,
                p.id,
                role,
                seq,
                "140",
                "1",
                store::OrderRowStatus::Canceled,
                "0",
            );
        }
        p.id
    };
    let app = svc!(state(&db, Some(PASSWORD)));
    let (cookie, _) = login(&app).await;
    let mut uri = format!("/orders/history?basket={many}");
    let mut seen = std::collections::HashSet::new();
    let mut pages = 0;
    loop {
        let (status, html) = get(&app, &cookie, &uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        pages += 1;
        for part in html.split(&format!("BOT_SOLUSDC_{many}_")).skip(1) {
            let cid: String = part.chars().take_while(|c| *c != '<').collect();
            assert!(seen.insert(cid.clone()), "{cid} twice");
        }
        match html
            .find("id=\"older\" class=\"px-3 py-1 rounded bg-white hover:bg-slate-50\" href=\"")
        {
            Some(i) => {
                let rest = &html[i..];
                let start = rest.find("href=\"").unwrap_or(0) + 6;
                let end = rest[start..].find('"').unwrap_or(0) + start;
                uri = rest[start..end].replace("&amp;", "&");
            }
            None => {
                assert!(html.contains("This is the oldest page."));
                break;
            }
        }
        assert!(pages < 10);
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 120);
    // Newest first; filter by side.
    let (_, html) = get(
        &app,
        &cookie,
        &format!("/orders/history?basket={many}&side=SELL"),
    )
    .await;
    assert_eq!(html.matches("text-red-700\">SELL<").count(), 40);
    assert!(!html.contains("text-emerald-700\">BUY<"));
    let first = html
        .find(&format!("BOT_SOLUSDC_{many}_TP1_120"))
        .expect("newest");
    let later = html
        .find(&format!("BOT_SOLUSDC_{many}_TP1_117"))
        .expect("older");
    assert!(first < later);
    // Filter by status; realized P&L per order; canceled rows are grey.
    let (_, html) = get(
        &app,
        &cookie,
        &format!("/orders/history?basket={}&status=FILLED", book.a),
    )
    .await;
    assert_eq!(html.matches("FILLED</span>").count(), 3);
    assert!(html.contains("text-emerald-700\">+1.25"));
    let (_, html) = get(
        &app,
        &cookie,
        &format!("/orders/history?basket={many}&status=CANCELED"),
    )
    .await;
    assert!(html.contains("bg-slate-50 text-slate-400"));
    // Fills with their realized P&L.
    let (_, html) = get(&app, &cookie, "/orders/history?view=fills").await;
    assert!(html.contains("+1.25") && html.contains("-5.00"));
    // Bad filters are a 400, not a crash.
    for q in ["basket=x", "side=UP", "status=NOPE", "before=zz"] {
        let (status, _) = get(&app, &cookie, &format!("/orders/history?{q}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{q}");
    }
}

#[actix_web::test]
async fn basket_page_shows_config_ladder_orders_fills_events() {
    let db = TestDb::new();
    let book = scripted_book(&db);
    let app = svc!(state(&db, Some(PASSWORD)));
    let (cookie, _) = login(&app).await;
    let (status, html) = get(&app, &cookie, &format!("/baskets/{}", book.a)).await;
    assert_eq!(status, StatusCode::OK);
    for want in [
        "basket #",
        "Ladder",
        "<svg",
        "B6 ",
        "&quot;levels_pct&quot;",
        "&quot;tick_size&quot;",
        "Placed B3 at 127.5",
        "+1.25",
        "138.75",
        "TP1 / TP2",
    ] {
        assert!(html.contains(want), "basket page lacks {want:?}");
    }
    let (status, _) = get(&app, &cookie, "/baskets/424242").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get(&app, &cookie, "/baskets/abc").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn without_a_password_the_loopback_dashboard_is_open_and_says_so() {
    let db = TestDb::new();
    scripted_book(&db);
    let app = svc!(state(&db, None));
    let res = test::call_service(&app, get_req("/login").to_request()).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let set = cookie_of(&res).expect("session handed out");
    let cookie = set.split(';').next().unwrap_or_default().to_string();
    let (status, html) = get(&app, &cookie, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("open to every user of this machine"));
    // POSTs still need the session and its CSRF token.
    let res = test::call_service(
        &app,
        post_req("/trading/close-all")
            .set_form([("key", "dddddddddddddddddddd")])
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = post(
        &app,
        &cookie,
        "/trading/close-all",
        &[("key", "dddddddddddddddddddd")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

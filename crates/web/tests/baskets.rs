//! The "New basket" and "Edit config" forms, their preview and the command
//! list, against a real database (one fresh `TestDb` per test): errors next
//! to the field they name (the `ConfigError` paths of `plan`/`basket
//! create`), a valid form writes exactly one command (once per form key), the
//! preview is grid-core's ladder and take-profits, rules the database does
//! not know are said to be assumed, and the command list pages newest first.

// Test code: a failed unwrap/expect/panic is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::test;
use common::*;
use grid_core::BasketStatus;
use serde_json::json;
use store::commands::{NewCommand, Origin, Payload};
use store::test_db::TestDb;
use store::{CommandKind, Writer};

async fn login<S, B>(app: &S) -> String
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = test::call_service(app, get_req("/login").to_request()).await;
    let token = field(&body(res).await, "_token");
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
    set.split(';').next().unwrap_or_default().to_string()
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

async fn post<S, B>(
    app: &S,
    cookie: &str,
    uri: &str,
    form: &[(String, String)],
) -> ServiceResponse<B>
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

/// Every `name="…" value="…"` input and every textarea/select of the form
/// in `html`, as a browser would post them (the selected option of a select).
fn form_fields(html: &str) -> Vec<(String, String)> {
    let form = &html[html.find("id=\"basket-form\"").expect("the form")..];
    let form = &form[..form.find("</form>").expect("end of form")];
    let mut out = Vec::new();
    let mut rest = form;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let tag_end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..tag_end];
        let attr = |name: &str| -> Option<String> {
            let needle = format!(" {name}=\"");
            let s = tag.find(&needle)? + needle.len();
            let e = tag[s..].find('"')? + s;
            Some(unescape(&tag[s..e]))
        };
        if tag.starts_with("input") {
            if let Some(n) = attr("name") {
                out.push((n, attr("value").unwrap_or_default()));
            }
        } else if tag.starts_with("textarea") {
            let n = attr("name").expect("textarea name");
            let body = &rest[tag_end + 1..];
            let v = &body[..body.find("</textarea>").expect("end of textarea")];
            out.push((n, unescape(v)));
        } else if tag.starts_with("select") {
            let n = attr("name").expect("select name");
            let body = &rest[tag_end + 1..];
            let body = &body[..body.find("</select>").expect("end of select")];
            let opt = body
                .split("<option")
                .find(|o| o.contains(" selected"))
                .or_else(|| body.split("<option").nth(1))
                .expect("an option");
            let s = opt.find("value=\"").expect("value") + 7;
            let e = opt[s..].find('"').expect("quote") + s;
            out.push((n, unescape(&opt[s..e])));
        }
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#x2F;", "/")
        .replace("&amp;", "&")
}

fn set(form: &mut [(String, String)], name: &str, value: &str) {
    let f = form
        .iter_mut()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no field {name}"));
    f.1 = value.to_string();
}

/// The text of the error box next to field `name`.
fn error_next_to(html: &str, name: &str) -> String {
    let needle = format!("data-error-for=\"{name}\"");
    let at = html
        .find(&needle)
        .unwrap_or_else(|| panic!("no error box for {name}"));
    let rest = &html[at..];
    let start = rest.find('>').expect("tag end") + 1;
    // The box holds spans; its own closing tag is the first `</span>` not
    // closing one of them.
    let mut depth = 0;
    let mut i = start;
    loop {
        let next_open = rest[i..].find("<span").map(|k| k + i);
        let next_close = rest[i..].find("</span>").map(|k| k + i).expect("close");
        match next_open {
            Some(o) if o < next_close => {
                depth += 1;
                i = o + 5;
            }
            _ if depth == 0 => return rest[start..next_close].to_string(),
            _ => {
                depth -= 1;
                i = next_close + 7;
            }
        }
    }
}

fn commands(db: &TestDb) -> Vec<store::commands::CommandRow> {
    let mut c = db.conn();
    let mut rows = store::commands::recent(&mut c, 500).expect("commands");
    rows.sort_by_key(|r| r.id);
    rows
}

#[actix_web::test]
async fn the_new_basket_form_previews_validates_and_writes_one_command() {
    let db = TestDb::new();
    let book = scripted_book(&db);
    let app = svc!(state(&db, Some(PASSWORD)));
    let cookie = login(&app).await;

    // The form: the defaults, the symbol of the default config, the last
    // price stored as the anchor, the rules of the newest SOLUSDC basket.
    let (status, html) = get(&app, &cookie, "/baskets/new").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    for want in [
        "name=\"symbol\" value=\"SOLUSDC\"",
        "name=\"max_grid_capital_quote\" value=\"1000\"",
        "0.05, 0.10, 0.15, 0.20, 0.25, 0.30",
        "Preview: SOLUSDC at 140",
        "the last price the daemon stored",
        &format!("as stored with basket #{}", book.b),
        // Level 1 of 140: rd(133, 0.001), rd(80 / 133, 0.01).
        "133",
        "0.60",
        "Take-profits after 1…6 fills",
    ] {
        assert!(html.contains(want), "the form lacks {want:?}");
    }
    assert!(!html.contains("ASSUMED"), "the rules are known");
    let form = form_fields(&html);
    assert!(form.iter().any(|(n, _)| n == "reanchor_rules.close_ratio"));

    // The preview fragment follows the fields: a linear preset of 4 levels.
    let (status, frag) = get(
        &app,
        &cookie,
        "/fragment/basket-preview?symbol=SOLUSDC&anchor=200&preset=linear&levels=4&zone_bottom_pct=0.2&levels_pct=x&alloc_weights=y&max_grid_capital_quote=800",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for want in [
        "Preview: SOLUSDC at 200",
        "data-levels-pct=\"0.05, 0.1, 0.15, 0.2\"",
        "data-alloc-weights=\"0.25, 0.25, 0.25, 0.25\"",
        // Level 4: 200 × 0.8 = 160, 200 / 160 = 1.25.
        "160",
        "1.25",
        "Take-profits after 1…4 fills",
    ] {
        assert!(frag.contains(want), "the preview lacks {want:?}: {frag}");
    }
    // Heavier deeper: weights 1..4 / 10.
    let (_, frag) = get(
        &app,
        &cookie,
        "/fragment/basket-preview?symbol=SOLUSDC&anchor=200&preset=deeper&levels=4&zone_bottom_pct=0.2",
    )
    .await;
    assert!(
        frag.contains("data-alloc-weights=\"0.1, 0.2, 0.3, 0.4\""),
        "{frag}"
    );

    // Refused configs: each error next to the field it names, no command.
    // (fields changed, the field the error is next to, the error).
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: &[Case] = &[
        (
            &[
                ("preset", "custom"),
                ("levels_pct", "0.10, 0.05, 0.15, 0.20, 0.25, 0.30"),
            ],
            "levels_pct",
            "levels_pct[1]: levels must be strictly increasing",
        ),
        (
            &[
                ("preset", "custom"),
                ("alloc_weights", "0.08, 0.12, 0.15, 0.18, 0.22, 0.20"),
            ],
            "alloc_weights",
            "alloc_weights: must sum to exactly 1",
        ),
        (
            &[("tp_min_pct", "0.001")],
            "tp_min_pct",
            "tp_min_pct: must be &gt;= 2 * fee_rate",
        ),
        (
            &[("k_next", "two")],
            "k_next",
            "k_next: `two` is not a whole number",
        ),
        (
            &[("trailing_callback_pct", "0.5")],
            "trailing_callback_pct",
            "outside the symbol&#x27;s TRAILING_DELTA range",
        ),
        (
            &[("reanchor_rules.close_ratio", "1.5")],
            "reanchor_rules.close_ratio",
            "reanchor_rules.close_ratio: must be in (0, 1]",
        ),
        (
            &[("symbol", "SOL/USDC")],
            "symbol",
            "is not a symbol such as SOLUSDC",
        ),
        (&[("anchor", "-3")], "anchor", "is not a positive price"),
    ];
    for (i, (changes, field_name, want)) in cases.iter().enumerate() {
        let mut f = form.clone();
        for (n, v) in *changes {
            set(&mut f, n, v);
        }
        set(&mut f, "key", &format!("{}-bad{i}", "k".repeat(20)));
        let res = post(&app, &cookie, "/baskets", &f).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{want}");
        let html = body(res).await;
        let next_to = error_next_to(&html, field_name);
        assert!(
            next_to.contains(want),
            "{field_name}: {want:?} not in {next_to:?}"
        );
    }
    assert!(commands(&db).is_empty(), "a refused form writes nothing");

    // A valid form: one create_basket command with the config's field
    // names, once per key; the page of its progress.
    let mut f = form.clone();
    set(&mut f, "anchor", "150.0004");
    set(&mut f, "k_next", "3");
    let key = "a".repeat(32);
    set(&mut f, "key", &key);
    for _ in 0..2 {
        let res = post(&app, &cookie, "/baskets", &f).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            res.headers().get(header::LOCATION).unwrap(),
            &format!("/commands?key={key}")
        );
    }
    let rows = commands(&db);
    assert_eq!(rows.len(), 1, "a double submit is one command");
    let c = &rows[0];
    assert_eq!(c.kind, CommandKind::CreateBasket);
    assert_eq!(c.basket_id, None);
    let Payload::CreateBasket(p) = Payload::parse(c.kind, &c.payload).unwrap() else {
        panic!("{:?}", c.payload)
    };
    assert_eq!(p.symbol, "SOLUSDC");
    assert_eq!(p.anchor, Some(d("150")), "rounded down to the tick");
    assert_eq!(p.source.as_deref(), Some("web"));
    let cfg = p.config.unwrap();
    assert_eq!(cfg["k_next"], json!(3));
    assert_eq!(cfg["levels_pct"][2], json!("0.15"));
    assert_eq!(cfg["reanchor_rules"]["time_ttl_s"], json!(86400));
    assert_eq!(cfg["trailing_callback_pct"], json!("0.018"));
    assert_eq!(cfg["stop_loss_pct"], json!(null));
    // What the daemon reads: the same config through grid-core.
    let mut merged = cfg.clone();
    merged.insert("symbol".into(), json!("SOLUSDC"));
    let config = grid_core::GridConfig::from_json(&serde_json::Value::Object(merged)).unwrap();
    config.validate_at_anchor(&sol_rules(), d("150")).unwrap();
    let (status, progress) = get(&app, &cookie, &format!("/commands?key={key}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(progress.contains("create basket"), "{progress}");
    assert!(progress.contains("pending"), "{progress}");

    // Without a token: refused before anything is written.
    let mut no_token = f.clone();
    set(&mut no_token, "_token", "forged");
    set(&mut no_token, "key", &"b".repeat(32));
    let res = post(&app, &cookie, "/baskets", &no_token).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(commands(&db).len(), 1);
}

#[actix_web::test]
async fn a_symbol_the_database_does_not_know_is_previewed_with_assumed_rules() {
    let db = TestDb::new();
    scripted_book(&db);
    let app = svc!(state(&db, Some(PASSWORD)));
    let cookie = login(&app).await;
    let (status, frag) = get(
        &app,
        &cookie,
        "/fragment/basket-preview?symbol=ethusdt&anchor=3000",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for want in [
        "Preview: ETHUSDT at 3000",
        "ASSUMED rules",
        "no basket has traded ETHUSDT yet",
        "tick 0.1, step 0.0001",
        // Level 1: 3000 × 0.95.
        "2850",
    ] {
        assert!(frag.contains(want), "lacks {want:?}: {frag}");
    }
    // No price and no anchor: the anchor must be given.
    let (_, frag) = get(
        &app,
        &cookie,
        "/fragment/basket-preview?symbol=ETHUSDT&anchor=",
    )
    .await;
    assert!(
        frag.contains("data-field=\"anchor\">anchor: no price of ETHUSDT is stored yet"),
        "{frag}"
    );
}

#[actix_web::test]
async fn edit_config_needs_a_paused_basket_and_writes_one_command() {
    let db = TestDb::new();
    let book = scripted_book(&db);
    let app = svc!(state(&db, Some(PASSWORD)));
    let cookie = login(&app).await;

    // Active: the form says why it cannot be sent, and a POST is refused.
    let (status, html) = get(&app, &cookie, &format!("/baskets/{}/edit", book.a)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("only a paused basket's config can be changed"));
    let mut form = form_fields(&html);
    set(&mut form, "key", &"c".repeat(32));
    let res = post(&app, &cookie, &format!("/baskets/{}/config", book.a), &form).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(commands(&db).is_empty());

    {
        let mut c = db.conn();
        store::baskets::set_status(&mut c, Writer::Unleased, book.a, BasketStatus::Paused, None)
            .unwrap();
    }
    let (_, html) = get(&app, &cookie, &format!("/baskets/{}", book.a)).await;
    assert!(html.contains(&format!("href=\"/baskets/{}/edit\"", book.a)));
    let (_, html) = get(&app, &cookie, &format!("/baskets/{}/edit", book.a)).await;
    assert!(!html.contains("not-editable"));
    assert!(
        html.contains("Preview: SOLUSDC at 150"),
        "the basket's anchor"
    );
    assert!(
        html.contains("name=\"stop_loss_pct\" value=\"0.20\""),
        "its own config"
    );
    let mut form = form_fields(&html);
    set(&mut form, "key", &"d".repeat(32));
    set(&mut form, "tp_step_pct", "-0.1");
    let res = post(&app, &cookie, &format!("/baskets/{}/config", book.a), &form).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = body(res).await;
    assert!(error_next_to(&html, "tp_step_pct").contains("tp_step_pct: must be in [0, 1)"));
    assert!(commands(&db).is_empty());

    set(&mut form, "tp_step_pct", "0.002");
    let res = post(&app, &cookie, &format!("/baskets/{}/config", book.a), &form).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let rows = commands(&db);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].kind, CommandKind::EditConfig);
    assert_eq!(rows[0].basket_id, Some(book.a));
    let Payload::EditConfig(p) = Payload::parse(rows[0].kind, &rows[0].payload).unwrap() else {
        panic!()
    };
    assert_eq!(p.config["tp_step_pct"], json!("0.002"));
    assert!(
        !p.config.contains_key("symbol"),
        "a basket keeps its symbol"
    );
}

#[actix_web::test]
async fn the_command_list_pages_newest_first() {
    let db = TestDb::new();
    let book = scripted_book(&db);
    {
        let mut c = db.conn();
        for i in 0..60 {
            let p = Payload::Pause(Origin {
                source: Some("test".into()),
            });
            let cmd = NewCommand::new(&p, Some(book.a), format!("list-{i:02}")).unwrap();
            store::commands::insert(&mut c, &cmd).unwrap();
        }
    }
    let app = svc!(state(&db, Some(PASSWORD)));
    let cookie = login(&app).await;
    let (status, html) = get(&app, &cookie, "/commands").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let ids: Vec<i64> = html
        .match_indices("data-command=\"")
        .map(|(i, m)| {
            let s = &html[i + m.len()..];
            s[..s.find('"').unwrap()].parse().unwrap()
        })
        .collect();
    assert_eq!(ids.len(), 50, "one bounded page");
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    let next = &html[html
        .find("href=\"/commands?before=")
        .expect("an older page")
        + 6..];
    let next = &next[..next.find('"').unwrap()];
    let (status, older) = get(&app, &cookie, next).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(older.matches("data-command=\"").count(), 10);
    assert!(older.contains("This is the oldest page."));
    let (status, _) = get(&app, &cookie, "/commands?before=nonsense").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[actix_web::test]
async fn the_new_pages_need_a_login_and_their_posts_a_token_and_the_same_origin() {
    let db = TestDb::new();
    let book = scripted_book(&db);
    let app = svc!(state(&db, Some(PASSWORD)));
    for uri in [
        "/baskets/new",
        &format!("/baskets/{}/edit", book.a),
        "/commands",
    ] {
        let res = test::call_service(&app, get_req(uri).to_request()).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{uri}");
    }
    let res = test::call_service(
        &app,
        get_req("/fragment/basket-preview?symbol=SOLUSDC").to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let posts = [
        "/baskets".to_string(),
        "/baskets/new".to_string(),
        format!("/baskets/{}/edit", book.a),
        format!("/baskets/{}/config", book.a),
    ];
    for uri in &posts {
        let res = test::call_service(
            &app,
            post_req(uri).set_form([("symbol", "SOLUSDC")]).to_request(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{uri}");
    }
    let cookie = login(&app).await;
    let (_, html) = get(&app, &cookie, "/baskets/new").await;
    let mut form = form_fields(&html);
    set(&mut form, "key", &"e".repeat(32));
    for uri in &posts {
        let mut forged = form.clone();
        set(&mut forged, "_token", "forged");
        let res = post(&app, &cookie, uri, &forged).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{uri}: token");
        let res = test::call_service(
            &app,
            post_req(uri)
                .insert_header((header::COOKIE, cookie.clone()))
                .insert_header((header::ORIGIN, "http://evil.example"))
                .set_form(&form)
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{uri}: origin");
    }
    assert!(commands(&db).is_empty());
}

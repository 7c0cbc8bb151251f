//! Request handlers. Database work runs in `web::block`; nothing here
//! unwraps on a request path.

use std::collections::HashMap;
use std::str::FromStr;

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use diesel::Connection;
use grid_core::Side;
use serde::Deserialize;
use serde_json::{json, Value};
use store::commands::{ClosePayload, NewCommand, Origin, Payload, ReanchorPayload};
use store::{CommandKind, Cursor, EventLevel, OrderRowStatus};
use tera::Context;

use crate::auth::{self, Session};
use crate::views::{self, BasketView};
use crate::{limiter, AppState};

pub(crate) type Data = web::Data<AppState>;

/// Rows per history page.
pub const PAGE: i64 = 50;

/// Errors of a request, each with the status it answers.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("the database is not available right now; retry in a moment")]
    Db(String),
    #[error("the page could not be rendered")]
    Render(String),
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Db(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Render(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AppError::Db(e) => log::error!("Database error: {e}"),
            AppError::Render(e) => log::error!("Template error: {e}"),
            _ => {}
        }
        // Plain text: nothing of the message is interpreted by the browser.
        HttpResponse::build(self.status_code())
            .content_type("text/plain; charset=utf-8")
            .body(self.to_string())
    }
}

pub(crate) fn from_store(e: store::Error) -> AppError {
    match e {
        store::Error::NotFound { .. } => AppError::NotFound(e.to_string()),
        store::Error::Conflict { .. } => AppError::Conflict(e.to_string()),
        store::Error::Invalid { .. } => AppError::BadRequest(e.to_string()),
        other => AppError::Db(other.to_string()),
    }
}

/// Runs `f` with a pooled connection on the blocking thread pool.
pub(crate) async fn db<T, F>(state: &Data, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut PgConnection) -> Result<T, store::Error> + Send + 'static,
    T: Send + 'static,
{
    let pool = state.pool.clone();
    web::block(move || {
        let mut conn = pool.get().map_err(|e| AppError::Db(e.to_string()))?;
        f(&mut conn).map_err(from_store)
    })
    .await
    .map_err(|e| AppError::Db(e.to_string()))?
}

pub(crate) fn render(state: &Data, name: &str, ctx: &Context) -> Result<HttpResponse, AppError> {
    let html = state
        .tera
        .render(name, ctx)
        .map_err(|e| AppError::Render(format!("{name}: {e:?}")))?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html))
}

pub(crate) fn session(req: &HttpRequest) -> Result<Session, AppError> {
    req.extensions()
        .get::<Session>()
        .cloned()
        .ok_or(AppError::Forbidden("Login required"))
}

/// The context every page shares: CSRF token, open-mode notice, daemon status.
pub(crate) fn base_ctx(state: &Data, s: &Session, status: &views::StatusView) -> Context {
    let mut ctx = Context::new();
    ctx.insert("csrf", &auth::csrf_token(&state.key, &s.nonce, state.now()));
    ctx.insert("open_mode", &state.cfg.is_open());
    ctx.insert("bind", &state.cfg.bind);
    ctx.insert("user", &state.cfg.user);
    ctx.insert("status", status);
    ctx.insert("form_key", &auth::random_hex::<16>());
    ctx
}

pub(crate) fn check_csrf(state: &Data, s: &Session, token: Option<&str>) -> Result<(), AppError> {
    let ok = token.is_some_and(|t| auth::check_csrf(&state.key, &s.nonce, t, state.now()));
    if ok {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "Invalid or expired form token: reload the page and try again",
        ))
    }
}

/// An idempotency key from a form: 16 to 100 characters of `[0-9A-Za-z-]`
/// (no `LIKE` wildcard, no `:` separator).
pub(crate) fn check_key(key: Option<&str>) -> Result<String, AppError> {
    match key {
        Some(k)
            if (16..=100).contains(&k.len())
                && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
        {
            Ok(k.to_string())
        }
        _ => Err(AppError::BadRequest(
            "missing or malformed form key: reload the page".into(),
        )),
    }
}

pub(crate) fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_string()))
        .finish()
}

// ---------------------------------------------------------------- dashboard

/// The dashboard's data: from the shared cache when fresh, else loaded.
async fn dashboard_data(state: &Data) -> Result<std::sync::Arc<views::Dashboard>, AppError> {
    let (cached, claimed) = state.dash.get();
    if let Some(d) = cached {
        return Ok(d);
    }
    match db(state, |c| views::load_dashboard(c, Utc::now())).await {
        Ok(d) => {
            let d = std::sync::Arc::new(d);
            state.dash.put(d.clone());
            Ok(d)
        }
        Err(e) => {
            if claimed {
                state.dash.clear();
            }
            Err(e)
        }
    }
}

pub async fn dashboard(req: HttpRequest, state: Data) -> Result<HttpResponse, AppError> {
    let s = session(&req)?;
    let d = dashboard_data(&state).await?;
    let mut ctx = base_ctx(&state, &s, &d.status);
    ctx.insert("d", d.as_ref());
    ctx.insert("page", "dashboard");
    render(&state, "dashboard.html", &ctx)
}

pub async fn live_fragment(req: HttpRequest, state: Data) -> Result<HttpResponse, AppError> {
    let s = session(&req)?;
    let d = dashboard_data(&state).await?;
    let mut ctx = base_ctx(&state, &s, &d.status);
    ctx.insert("d", d.as_ref());
    render(&state, "_live.html", &ctx)
}

pub async fn api_summary(req: HttpRequest, state: Data) -> Result<HttpResponse, AppError> {
    session(&req)?;
    let v = db(&state, |c| {
        let now = Utc::now();
        let statuses = store::misc::statuses(c)?;
        let baskets = store::dashboard::basket_summaries(c, views::CLOSED_ON_DASHBOARD)?;
        let portfolio = store::dashboard::portfolio(c)?;
        let open = store::orders::list_open(c)?.len();
        let baskets: Vec<Value> = baskets
            .iter()
            .map(|s| {
                let meta = s.basket.plan_meta().ok().flatten();
                json!({
                    "id": s.basket.id,
                    "symbol": s.basket.symbol,
                    "status": s.basket.status.as_str(),
                    "anchor_price": s.basket.anchor_price,
                    "position": s.basket.pos,
                    "avg_buy_price": s.avg_buy_price,
                    "avg_cost": s.avg_cost,
                    "last_price": s.last_price,
                    "open_orders": s.open_orders,
                    "unrealized": s.unrealized,
                    "pnl": s.pnl,
                    "tp1_price": meta.as_ref().and_then(|m| m.tp1_price),
                    "tp2_price": meta.as_ref().and_then(|m| m.tp2_price),
                    "stop_loss_price": meta.as_ref().and_then(|m| m.stop_loss_price),
                    "reanchor": meta.as_ref().map(|m| &m.reanchor),
                })
            })
            .collect();
        Ok(json!({
            "generated_at": now,
            "daemon": views::status_view(&statuses, now),
            "portfolio": portfolio,
            "baskets": baskets,
            "open_orders": open,
        }))
    })
    .await?;
    Ok(HttpResponse::Ok().json(v))
}

pub async fn healthz(state: Data) -> HttpResponse {
    let ok = db(&state, |c| {
        diesel::sql_query("SELECT 1")
            .execute(c)
            .map_err(store::Error::from)
    })
    .await
    .is_ok();
    if ok {
        HttpResponse::Ok().json(json!({"status": "ok", "database": "ok"}))
    } else {
        HttpResponse::ServiceUnavailable()
            .json(json!({"status": "error", "database": "unreachable"}))
    }
}

use diesel::RunQueryDsl;

// ---------------------------------------------------------------- login

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(rename = "_token")]
    token: Option<String>,
    username: Option<String>,
    password: Option<String>,
}

fn session_cookie(state: &Data) -> Cookie<'static> {
    let now = state.now();
    let nonce = auth::random_hex::<16>();
    let value = auth::session_cookie_value(
        &state.key,
        &state.cfg.user,
        &nonce,
        now + state.cfg.session_ttl_s,
    );
    Cookie::build(auth::COOKIE, value)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.cfg.secure_cookie)
        .path("/")
        .max_age(CookieDuration::seconds(state.cfg.session_ttl_s))
        .finish()
}

fn login_form(
    state: &Data,
    error: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let mut ctx = Context::new();
    ctx.insert("csrf", &auth::login_token(&state.key, state.now()));
    ctx.insert("error", &error);
    let mut r = render(state, "login.html", &ctx)?;
    *r.status_mut() = status;
    Ok(r)
}

/// 429: logins are locked for this client (or for everyone).
fn locked_page(state: &Data, l: limiter::Locked) -> Result<HttpResponse, AppError> {
    let mut ctx = Context::new();
    ctx.insert("locked", &true);
    ctx.insert("retry_after_s", &l.retry_after_s);
    ctx.insert("retry_after", &fmt_wait(l.retry_after_s));
    ctx.insert("global", &(l.scope == limiter::Scope::Global));
    let mut r = render(state, "login.html", &ctx)?;
    *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    r.headers_mut().insert(
        header::RETRY_AFTER,
        header::HeaderValue::from(l.retry_after_s.max(1)),
    );
    Ok(r)
}

/// `75` → "1 min 15 s".
fn fmt_wait(s: i64) -> String {
    match (s / 60, s % 60) {
        (0, s) => format!("{s} s"),
        (m, 0) => format!("{m} min"),
        (m, s) => format!("{m} min {s} s"),
    }
}

/// The client's key for the login limiter: its address as the socket
/// sees it (behind a reverse proxy, every client shares the proxy's).
fn client_of(req: &HttpRequest) -> String {
    limiter::client_key(req.peer_addr().map(|a| a.ip()))
}

/// The form was posted from a plain-http page of a non-loopback name
/// (browsers treat `http://localhost` and `http://127.0.0.1` as secure and
/// keep `Secure` cookies there).
fn plain_http_origin(req: &HttpRequest) -> bool {
    let Some(authority) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .and_then(|o| o.strip_prefix("http://"))
    else {
        return false;
    };
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    !(host.eq_ignore_ascii_case("localhost") || host == "127.0.0.1" || host == "::1")
}

pub async fn login_page(req: HttpRequest, state: Data) -> Result<HttpResponse, AppError> {
    if req.extensions().get::<Session>().is_some() {
        return Ok(redirect("/"));
    }
    if state.cfg.is_open() {
        // No password (loopback, no production worker: the guard checked
        // both): the session is handed out, and every page says the
        // dashboard is open to local users.
        let mut r = redirect("/");
        r.add_cookie(&session_cookie(&state))
            .map_err(|e| AppError::Render(e.to_string()))?;
        return Ok(r);
    }
    if let Err(l) = state.limiter.check(&client_of(&req), state.clock.now_ms()) {
        return locked_page(&state, l);
    }
    login_form(&state, None, StatusCode::OK)
}

/// Writes the `login_locked` event and the log line of a new lock.
async fn report_lock(state: &Data, client: &str, lock: limiter::NewLock) {
    let message = match lock.scope {
        limiter::Scope::Client => format!(
            "Dashboard login locked for {} s for client {client} after repeated failed logins (lock #{} in a row)",
            lock.duration_s, lock.nth
        ),
        limiter::Scope::Global => format!(
            "Dashboard login locked for {} s for every client after {} failed logins from several addresses (last from {client}; lock #{} in a row)",
            lock.duration_s,
            limiter::GLOBAL.threshold,
            lock.nth
        ),
    };
    log::warn!("{message}");
    let event = store::events::NewEvent::new(None, EventLevel::Warn, "login_locked", message)
        .with_data(Some(json!({
            "scope": lock.scope.as_str(),
            "client": client,
            "seconds": lock.duration_s,
            "lock": lock.nth,
        })));
    if let Err(e) = db(state, move |c| store::events::insert(c, &event)).await {
        log::error!("Could not write the login_locked event: {e}");
    }
}

pub async fn login(
    req: HttpRequest,
    state: Data,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let now = state.now();
    let client = client_of(&req);
    if let Err(l) = state.limiter.check(&client, state.clock.now_ms()) {
        return locked_page(&state, l);
    }
    if state.cfg.secure_cookie && plain_http_origin(&req) {
        // The browser would drop the Secure cookie: say so instead of
        // sending the user back to this form without a word.
        return login_form(
            &state,
            Some("This page was opened over plain http, so your browser would drop the (https-only) session cookie. Open the dashboard over https, or, on a trusted LAN without TLS, set WEB_ALLOW_PLAIN_HTTP=true and restart it."),
            StatusCode::BAD_REQUEST,
        );
    }
    let Some(token) = form
        .token
        .as_deref()
        .and_then(|t| auth::check_login_token(&state.key, t, now))
    else {
        return login_form(
            &state,
            Some("This login form expired (they last 10 minutes): enter your password again."),
            StatusCode::FORBIDDEN,
        );
    };
    // From here the attempt counts as a failure unless it succeeds.
    let attempt = match state.limiter.begin(&client, state.clock.now_ms()) {
        Ok(a) => a,
        Err(l) => return locked_page(&state, l),
    };
    let nonce = format!("{}{}", auth::LOGIN_NONCE_PREFIX, token.nonce);
    let expires = DateTime::from_timestamp(token.expires, 0).unwrap_or_else(Utc::now);
    let fresh = match db(&state, move |c| {
        store::web_sessions::consume(c, &nonce, expires)
    })
    .await
    {
        Ok(f) => f,
        Err(e) => {
            state.limiter.cancel(&attempt);
            return Err(e);
        }
    };
    let user_ok = auth::ct_eq(
        &state.cfg.secret,
        form.username.as_deref().unwrap_or("").as_bytes(),
        state.cfg.user.as_bytes(),
    );
    let pass_ok = match &state.cfg.password {
        Some(p) => auth::ct_eq(
            &state.cfg.secret,
            form.password.as_deref().unwrap_or("").as_bytes(),
            p.as_bytes(),
        ),
        None => true,
    };
    if fresh && user_ok && pass_ok {
        state.limiter.succeeded(&attempt);
        log::info!("Dashboard login user={} client={client}", state.cfg.user);
        let mut r = redirect("/");
        r.add_cookie(&session_cookie(&state))
            .map_err(|e| AppError::Render(e.to_string()))?;
        return Ok(r);
    }
    log::warn!("Failed dashboard login client={client}");
    if let Some(lock) = attempt.new_lock() {
        report_lock(&state, &client, lock).await;
        if let Err(l) = state.limiter.check(&client, state.clock.now_ms()) {
            return locked_page(&state, l);
        }
    }
    if !fresh {
        return login_form(
            &state,
            Some("This login form was used already (each one works once): enter your password again."),
            StatusCode::FORBIDDEN,
        );
    }
    login_form(
        &state,
        Some("Wrong user name or password."),
        StatusCode::UNAUTHORIZED,
    )
}

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    #[serde(rename = "_token")]
    token: Option<String>,
}

pub async fn logout(
    req: HttpRequest,
    state: Data,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, AppError> {
    let s = session(&req)?;
    check_csrf(&state, &s, form.token.as_deref())?;
    let nonce = s.nonce.clone();
    let expires = DateTime::from_timestamp(s.expires, 0).unwrap_or_else(Utc::now);
    db(&state, move |c| {
        store::web_sessions::revoke(c, &nonce, expires)
    })
    .await?;
    log::info!("Dashboard logout user={}", state.cfg.user);
    let mut r = redirect("/login");
    let mut gone = Cookie::build(auth::COOKIE, "")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.cfg.secure_cookie)
        .path("/")
        .finish();
    gone.make_removal();
    r.add_cookie(&gone)
        .map_err(|e| AppError::Render(e.to_string()))?;
    Ok(r)
}

// ---------------------------------------------------------------- history

#[derive(Debug, Deserialize, Default)]
pub struct HistoryQuery {
    view: Option<String>,
    basket: Option<String>,
    side: Option<String>,
    status: Option<String>,
    before: Option<String>,
}

pub(crate) fn parse_cursor(s: &str) -> Option<Cursor> {
    let (micros, id) = s.split_once('-')?;
    let at = DateTime::from_timestamp_micros(micros.parse().ok()?)?;
    Some(Cursor {
        at,
        id: id.parse().ok()?,
    })
}

pub(crate) fn cursor_str(c: &Cursor) -> String {
    format!("{}-{}", c.at.timestamp_micros(), c.id)
}

pub(crate) fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

pub async fn history(
    req: HttpRequest,
    state: Data,
    q: web::Query<HistoryQuery>,
) -> Result<HttpResponse, AppError> {
    let s = session(&req)?;
    let fills_view = non_empty(&q.view) == Some("fills");
    let basket = non_empty(&q.basket)
        .map(|b| {
            b.parse::<i64>()
                .map_err(|_| AppError::BadRequest(format!("basket `{b}` is not a number")))
        })
        .transpose()?;
    let side = non_empty(&q.side)
        .map(|v| {
            Side::from_str(v)
                .map_err(|_| AppError::BadRequest(format!("side `{v}` is not BUY or SELL")))
        })
        .transpose()?;
    let status = non_empty(&q.status)
        .map(|v| {
            OrderRowStatus::from_str(v)
                .map_err(|_| AppError::BadRequest(format!("unknown order status `{v}`")))
        })
        .transpose()?;
    let before = non_empty(&q.before)
        .map(|c| parse_cursor(c).ok_or_else(|| AppError::BadRequest("bad page cursor".into())))
        .transpose()?;
    let (status_view, orders, fills, next) = db(&state, move |c| {
        let now = Utc::now();
        let st = views::status_view(&store::misc::statuses(c)?, now);
        if fills_view {
            let page = store::fills::history(c, basket, before, PAGE)?;
            let fills: Vec<_> = page.rows.iter().map(views::fill_view).collect();
            Ok((st, Vec::new(), fills, page.next))
        } else {
            let filter = store::orders::OrderFilter {
                basket_id: basket,
                side,
                status,
            };
            let page = store::orders::history(c, &filter, before, PAGE)?;
            let ids: Vec<i64> = page.rows.iter().map(|o| o.id).collect();
            let realized = store::fills::realized_by_order(c, &ids)?;
            let orders: Vec<_> = page
                .rows
                .iter()
                .map(|o| views::order_view(o, None, realized.get(&o.id)))
                .collect();
            Ok((st, orders, Vec::new(), page.next))
        }
    })
    .await?;
    let mut ctx = base_ctx(&state, &s, &status_view);
    ctx.insert("page", "history");
    ctx.insert("fills_view", &fills_view);
    ctx.insert("orders", &orders);
    ctx.insert("fills", &fills);
    ctx.insert("next", &next.as_ref().map(cursor_str));
    ctx.insert("first_page", &before.is_none());
    ctx.insert("f_basket", &basket);
    ctx.insert("f_side", &side.map(|s| s.to_string()));
    ctx.insert("f_status", &status.map(|s| s.as_str()));
    let statuses: Vec<&str> = OrderRowStatus::ALL.iter().map(|s| s.as_str()).collect();
    ctx.insert("all_statuses", &statuses);
    render(&state, "history.html", &ctx)
}

// ---------------------------------------------------------------- basket

pub async fn basket(
    req: HttpRequest,
    state: Data,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let s = session(&req)?;
    let id: i64 = path
        .parse()
        .map_err(|_| AppError::NotFound(format!("basket `{}` does not exist", path.as_str())))?;
    let loaded = db(&state, move |c| {
        let now = Utc::now();
        let st = views::status_view(&store::misc::statuses(c)?, now);
        let row = store::baskets::get(c, id)?;
        let price = store::misc::prices(c)?
            .into_iter()
            .find(|p| p.symbol == row.symbol)
            .map(|p| (p.price, p.updated_at));
        let open = store::orders::list_open_for_basket(c, id)?;
        let config = serde_json::to_string_pretty(&row.config).unwrap_or_default();
        let rules = serde_json::to_string_pretty(&row.rules).unwrap_or_default();
        let meta = serde_json::to_string_pretty(&row.state).unwrap_or_default();
        let open_n = i64::try_from(open.len()).unwrap_or(i64::MAX);
        let summary = views::summary_of(row, price, open_n)?;
        let bought = store::orders::bought_by_role(c, id)?;
        let bv = views::basket_view(&summary, Some(&bought), now, false);
        let filter = store::orders::OrderFilter {
            basket_id: Some(id),
            ..Default::default()
        };
        let orders_page = store::orders::history(c, &filter, None, PAGE)?;
        let oids: Vec<i64> = orders_page.rows.iter().map(|o| o.id).collect();
        let realized = store::fills::realized_by_order(c, &oids)?;
        let open_v: Vec<_> = open
            .iter()
            .map(|o| views::order_view(o, Some(&summary), None))
            .collect();
        let orders_v: Vec<_> = orders_page
            .rows
            .iter()
            .map(|o| views::order_view(o, None, realized.get(&o.id)))
            .collect();
        let fills_page = store::fills::history(c, Some(id), None, PAGE)?;
        let fills_v: Vec<_> = fills_page.rows.iter().map(views::fill_view).collect();
        let events_v: Vec<_> = store::events::recent(c, Some(id), 30)?
            .iter()
            .map(|e| views::event_view(e, now))
            .collect();
        let status_str = summary.basket.status.as_str();
        let cmds: Vec<_> = store::commands::of_basket(c, id, 10)?
            .iter()
            .map(|cmd| views::command_view(cmd, now, Some(status_str)))
            .collect();
        Ok((st, json!({
            "b": bv, "config": config, "rules": rules, "meta": meta,
            "open_orders": open_v, "orders": orders_v, "more_orders": orders_page.next.is_some(),
            "fills": fills_v, "more_fills": fills_page.next.is_some(),
            "events": events_v, "commands": cmds,
        })))
    })
    .await?;
    let (status, loaded) = loaded;
    let mut ctx = base_ctx(&state, &s, &status);
    if let Value::Object(m) = loaded {
        for (k, v) in m {
            ctx.insert(k, &v);
        }
    }
    ctx.insert("page", "basket");
    render(&state, "basket.html", &ctx)
}

// ---------------------------------------------------------------- actions

#[derive(Debug, Deserialize, Default)]
pub struct CloseQuery {
    basket_id: Option<String>,
}

fn parse_basket_id(v: &Option<String>) -> Result<Option<i64>, AppError> {
    non_empty(v)
        .map(|b| {
            b.parse::<i64>()
                .map_err(|_| AppError::BadRequest(format!("basket `{b}` is not a number")))
        })
        .transpose()
}

async fn close_targets(
    state: &Data,
    basket: Option<i64>,
) -> Result<(views::StatusView, Vec<BasketView>), AppError> {
    db(state, move |c| {
        let now = Utc::now();
        let st = views::status_view(&store::misc::statuses(c)?, now);
        let mut live = views::live_baskets(c, now)?;
        if let Some(id) = basket {
            live.retain(|b| b.id == id);
        }
        live.retain(|b| b.status != "closing");
        Ok((st, live))
    })
    .await
}

fn close_ctx(ctx: &mut Context, basket: Option<i64>, targets: &[BasketView]) {
    ctx.insert("targets", targets);
    ctx.insert("single", &basket);
}

/// The confirmation's body (fetched by the modal).
pub async fn close_fragment(
    req: HttpRequest,
    state: Data,
    q: web::Query<CloseQuery>,
) -> Result<HttpResponse, AppError> {
    let s = session(&req)?;
    let basket = parse_basket_id(&q.basket_id)?;
    let (st, targets) = close_targets(&state, basket).await?;
    let mut ctx = base_ctx(&state, &s, &st);
    close_ctx(&mut ctx, basket, &targets);
    render(&state, "_close_form.html", &ctx)
}

/// The confirmation as a page (without JavaScript).
pub async fn close_page(
    req: HttpRequest,
    state: Data,
    q: web::Query<CloseQuery>,
) -> Result<HttpResponse, AppError> {
    let s = session(&req)?;
    let basket = parse_basket_id(&q.basket_id)?;
    let (st, targets) = close_targets(&state, basket).await?;
    let mut ctx = base_ctx(&state, &s, &st);
    close_ctx(&mut ctx, basket, &targets);
    ctx.insert("page", "close");
    render(&state, "close.html", &ctx)
}

#[derive(Debug, Deserialize)]
pub struct ActionForm {
    #[serde(rename = "_token")]
    token: Option<String>,
    key: Option<String>,
    basket_id: Option<String>,
}

/// Writes the commands of one submission in one transaction; a key already
/// used writes nothing (the first submission's rows stand).
fn write_commands(
    c: &mut PgConnection,
    kind: CommandKind,
    key: &str,
    targets: &[(i64, Value)],
) -> Result<usize, store::Error> {
    c.transaction(|c| {
        let mut created = 0;
        for (id, payload) in targets {
            let (_, new) = store::commands::insert(
                c,
                &NewCommand {
                    kind,
                    basket_id: Some(*id),
                    payload: payload.clone(),
                    idempotency_key: format!("{key}:{id}"),
                },
            )?;
            if new {
                created += 1;
            }
        }
        Ok(created)
    })
}

/// `POST /trading/close-all`: one `close_basket` command per live basket (or
/// for `basket_id` only), idempotent by the form's key.
pub async fn close_all(
    req: HttpRequest,
    state: Data,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, AppError> {
    let s = session(&req)?;
    check_csrf(&state, &s, form.token.as_deref())?;
    let key = check_key(form.key.as_deref())?;
    let basket = parse_basket_id(&form.basket_id)?;
    let k = key.clone();
    let created = db(&state, move |c| {
        // Every basket that may hold coins or a live order, whatever its
        // status (`error` included).
        let mut live = store::baskets::list_closable(c)?;
        if let Some(id) = basket {
            live.retain(|b| b.id == id);
            if live.is_empty() {
                // Closed already (or unknown): report it rather than pretend.
                store::baskets::get(c, id)?;
            }
        }
        let close = Payload::CloseBasket(ClosePayload {
            source: Some("web".into()),
            close_all: Some(basket.is_none()),
            parent: None,
        })
        .to_json()?;
        let targets: Vec<(i64, Value)> = live.iter().map(|b| (b.id, close.clone())).collect();
        write_commands(c, CommandKind::CloseBasket, &k, &targets)
    })
    .await?;
    state.dash.clear();
    log::warn!(
        "Close requested from the dashboard basket={} commands_created={created}",
        basket.map_or("all".to_string(), |b| b.to_string())
    );
    Ok(redirect(&format!("/commands?key={key}")))
}

async fn basket_action(
    req: HttpRequest,
    state: Data,
    form: web::Form<ActionForm>,
    kind: CommandKind,
) -> Result<HttpResponse, AppError> {
    let s = session(&req)?;
    check_csrf(&state, &s, form.token.as_deref())?;
    let key = check_key(form.key.as_deref())?;
    let id = parse_basket_id(&form.basket_id)?
        .ok_or_else(|| AppError::BadRequest("basket_id is required".into()))?;
    let k = key.clone();
    db(&state, move |c| {
        let b = store::baskets::get(c, id)?;
        let source = Some("web".to_string());
        let payload = match kind {
            // The anchor the operator saw on the page and confirmed.
            CommandKind::Reanchor => Payload::Reanchor(ReanchorPayload {
                source,
                new_anchor: b.plan_meta()?.and_then(|m| m.reanchor.new_anchor),
            }),
            CommandKind::Pause => Payload::Pause(Origin { source }),
            CommandKind::Resume => Payload::Resume(Origin { source }),
            other => {
                return Err(store::Error::Invalid {
                    field: "kind".into(),
                    reason: format!("{other} is not a basket action"),
                })
            }
        };
        write_commands(c, kind, &k, &[(id, payload.to_json()?)])
    })
    .await?;
    state.dash.clear();
    log::info!("Command {kind} requested from the dashboard basket={id}");
    Ok(redirect(&format!("/commands?key={key}")))
}

pub async fn pause(
    req: HttpRequest,
    state: Data,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, AppError> {
    basket_action(req, state, form, CommandKind::Pause).await
}

pub async fn resume(
    req: HttpRequest,
    state: Data,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, AppError> {
    basket_action(req, state, form, CommandKind::Resume).await
}

pub async fn reanchor(
    req: HttpRequest,
    state: Data,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, AppError> {
    basket_action(req, state, form, CommandKind::Reanchor).await
}

// ---------------------------------------------------------------- commands

#[derive(Debug, Deserialize)]
pub struct KeyQuery {
    key: Option<String>,
    /// `/commands` without a key: the list's page cursor.
    before: Option<String>,
}

async fn load_commands(
    state: &Data,
    key: String,
) -> Result<(views::StatusView, Vec<views::CommandView>), AppError> {
    db(state, move |c| {
        let now = Utc::now();
        let st = views::status_view(&store::misc::statuses(c)?, now);
        let rows = store::commands::by_key(c, &key)?;
        let ids: Vec<i64> = rows.iter().filter_map(|r| r.basket_id).collect();
        let statuses: HashMap<i64, String> = store::baskets::list_by_ids(c, &ids)?
            .into_iter()
            .map(|b| (b.id, b.status.as_str().to_string()))
            .collect();
        let v = rows
            .iter()
            .map(|r| {
                views::command_view(
                    r,
                    now,
                    r.basket_id
                        .and_then(|id| statuses.get(&id))
                        .map(String::as_str),
                )
            })
            .collect();
        Ok((st, v))
    })
    .await
}

fn commands_ctx(ctx: &mut Context, key: &str, cmds: &[views::CommandView]) {
    ctx.insert("key", key);
    ctx.insert("commands", cmds);
    ctx.insert("all_finished", &cmds.iter().all(|c| c.finished));
}

pub async fn commands_page(
    req: HttpRequest,
    state: Data,
    q: web::Query<KeyQuery>,
) -> Result<HttpResponse, AppError> {
    let s = session(&req)?;
    if q.key.is_none() {
        // Every command, newest first.
        return crate::command_list::page(&state, &s, non_empty(&q.before)).await;
    }
    let key = check_key(q.key.as_deref())?;
    let (st, cmds) = load_commands(&state, key.clone()).await?;
    let mut ctx = base_ctx(&state, &s, &st);
    commands_ctx(&mut ctx, &key, &cmds);
    ctx.insert("page", "commands");
    render(&state, "commands.html", &ctx)
}

pub async fn commands_fragment(
    req: HttpRequest,
    state: Data,
    q: web::Query<KeyQuery>,
) -> Result<HttpResponse, AppError> {
    let s = session(&req)?;
    let key = check_key(q.key.as_deref())?;
    let (st, cmds) = load_commands(&state, key.clone()).await?;
    let mut ctx = base_ctx(&state, &s, &st);
    commands_ctx(&mut ctx, &key, &cmds);
    render(&state, "_commands.html", &ctx)
}

// ---------------------------------------------------------------- static

/// The compiled Tailwind CSS (`scripts/build-css` rebuilds it).
pub const APP_CSS: &str = include_str!("../static/app.css");
/// The dashboard's only script: auto-refresh and the confirmation modal.
pub const APP_JS: &str = include_str!("../static/app.js");

pub async fn static_css() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(APP_CSS)
}

pub async fn static_js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(APP_JS)
}

pub async fn not_found() -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("text/plain; charset=utf-8")
        .body("Not found")
}

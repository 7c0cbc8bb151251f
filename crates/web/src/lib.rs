//! The `web` dashboard: actix-web + tera over the store.
//!
//! Invariants (enforced by [`guard`], the one middleware, before any handler):
//! - It reads PostgreSQL and writes only `commands` rows, its own
//!   `web_revoked_sessions` rows, `login_locked` events and the
//!   notification outbox's delivery state ([`notify`]); it never calls the
//!   exchange (its only outbound requests are notifications).
//! - A request whose `Host` is not in the allow-list ([`hosts`]) is answered
//!   421 and reaches no handler (DNS rebinding). `/healthz` is the one
//!   exception: load balancers and the container healthcheck probe it by
//!   any name, and it only says whether the database answers — no session,
//!   no data, no action.
//! - Every page and action needs a session (`/login`, `/healthz` and
//!   `/static/*` excepted): pages redirect to the login, everything else is
//!   401. A session is a cookie signed with the session key (`auth`) whose
//!   nonce is not revoked in the database. `/metrics` is 401 too, and
//!   also takes `Authorization: Bearer WEB_METRICS_TOKEN` instead of a
//!   session ([`metrics`]).
//! - Without a password (loopback only), nothing but `/healthz`, the
//!   static files and `/metrics` to its bearer token is served while any
//!   worker reports `production`: 403 with a page saying to set
//!   `DASHBOARD_PASSWORD`.
//! - Every POST carries a valid CSRF token bound to the session (403
//!   otherwise) and, when the browser sends one, an `Origin` naming an
//!   allowed host and no cross-site `Sec-Fetch-Site` (403 otherwise).
//! - Every response carries a CSP without external sources or inline script,
//!   `X-Frame-Options: DENY` and `Cache-Control: no-store` (static files
//!   excepted), and HSTS when cookies are `Secure`.
//! - Templates are named `*.html`, so tera escapes everything they render.

pub mod auth;
pub mod clock;
pub mod command_list;
pub mod config;
pub mod dotenv;
pub mod fmt;
pub mod handlers;
pub mod hosts;
pub mod limiter;
pub mod metrics;
pub mod new_basket;
pub mod notify;
pub mod svg;
pub mod views;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpResponse};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::Config;

/// Shared by every worker thread (`web::Data`): built once.
pub struct AppState {
    pub pool: store::Pool,
    pub tera: tera::Tera,
    pub cfg: Config,
    /// The key of every cookie and token ([`auth::session_key`]).
    pub key: Vec<u8>,
    /// The dashboard's data, shared by all sessions for [`DASH_TTL`].
    pub dash: DashCache,
    /// Failed-login counts and lockouts.
    pub limiter: limiter::LoginLimiter,
    /// The time of every expiry and lockout decision.
    pub clock: Arc<dyn Clock>,
}

impl AppState {
    pub fn new(pool: store::Pool, tera: tera::Tera, cfg: Config) -> AppState {
        AppState::with_clock(pool, tera, cfg, Arc::new(SystemClock))
    }

    /// As [`AppState::new`] with another clock (tests move it by hand).
    pub fn with_clock(
        pool: store::Pool,
        tera: tera::Tera,
        cfg: Config,
        clock: Arc<dyn Clock>,
    ) -> AppState {
        let key = auth::session_key(&cfg.secret, &cfg.user, cfg.password.as_deref());
        AppState {
            pool,
            tera,
            cfg,
            key,
            dash: DashCache::default(),
            limiter: limiter::LoginLimiter::default(),
            clock,
        }
    }

    /// Now, in whole seconds since the epoch.
    pub fn now(&self) -> i64 {
        self.clock.now_s()
    }
}

/// How long a loaded dashboard is served to every session before it is read
/// again (the page refreshes every 10 s; a command written by this process
/// clears it at once).
pub const DASH_TTL: Duration = Duration::from_millis(1000);

/// The last loaded dashboard. One request reloads it when it is stale while
/// the others keep serving the previous one (no thundering herd on the
/// database under load).
#[derive(Default)]
pub struct DashCache {
    last: Mutex<Option<(Instant, Arc<views::Dashboard>)>>,
    loading: AtomicBool,
}

impl DashCache {
    /// The cached dashboard if fresh; else `None` and, when `claim` is won,
    /// the caller must load and [`DashCache::put`] it.
    pub fn get(&self) -> (Option<Arc<views::Dashboard>>, bool) {
        let last = self.last.lock().ok().and_then(|g| g.clone());
        match last {
            Some((at, d)) if at.elapsed() < DASH_TTL => (Some(d), false),
            Some((_, d)) => {
                // Stale: one request reloads, the others serve the stale copy.
                let won = !self.loading.swap(true, Ordering::AcqRel);
                if won {
                    (None, true)
                } else {
                    (Some(d), false)
                }
            }
            None => (None, false),
        }
    }

    pub fn put(&self, d: Arc<views::Dashboard>) {
        if let Ok(mut g) = self.last.lock() {
            *g = Some((Instant::now(), d));
        }
        self.loading.store(false, Ordering::Release);
    }

    /// Forgets the cached copy (after a command was written).
    pub fn clear(&self) {
        if let Ok(mut g) = self.last.lock() {
            *g = None;
        }
        self.loading.store(false, Ordering::Release);
    }
}

/// The CSP of every response: nothing from elsewhere, no inline script or style.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

macro_rules! templates {
    ($($name:literal),+ $(,)?) => {
        &[$(($name, include_str!(concat!("../../../templates/", $name)))),+]
    };
}

/// The templates, compiled into the binary (a fresh clone's `cargo build` is enough).
pub const TEMPLATES: &[(&str, &str)] = templates!(
    "base.html",
    "login.html",
    "dashboard.html",
    "_live.html",
    "_close_form.html",
    "close.html",
    "commands.html",
    "_commands.html",
    "history.html",
    "basket.html",
    "error.html",
    "new_basket.html",
    "_basket_preview.html",
    "command_list.html",
);

/// Builds the tera instance (autoescape on: every name ends in `.html`).
///
/// # Errors
/// A template that does not parse.
pub fn build_tera() -> Result<tera::Tera, tera::Error> {
    let mut t = tera::Tera::default();
    t.add_raw_templates(TEMPLATES.iter().copied())?;
    t.autoescape_on(vec![".html"]);
    Ok(t)
}

/// The routes (used by `main` and by the tests).
pub fn routes(cfg: &mut web::ServiceConfig) {
    use handlers as h;
    cfg.route("/", web::get().to(h::dashboard))
        .route("/fragment/live", web::get().to(h::live_fragment))
        .route("/fragment/close", web::get().to(h::close_fragment))
        .route("/fragment/commands", web::get().to(h::commands_fragment))
        .route("/login", web::get().to(h::login_page))
        .route("/login", web::post().to(h::login))
        .route("/logout", web::post().to(h::logout))
        .route("/healthz", web::get().to(h::healthz))
        .route("/api/summary", web::get().to(h::api_summary))
        .route(metrics::PATH, web::get().to(metrics::metrics))
        .route("/orders/history", web::get().to(h::history))
        .route("/baskets/new", web::get().to(new_basket::new_page))
        .route("/baskets/new", web::post().to(new_basket::new_page_post))
        .route("/baskets", web::post().to(new_basket::create))
        .route("/baskets/{id}/edit", web::get().to(new_basket::edit_page))
        .route(
            "/baskets/{id}/edit",
            web::post().to(new_basket::edit_page_post),
        )
        .route("/baskets/{id}/config", web::post().to(new_basket::edit))
        .route(
            "/fragment/basket-preview",
            web::get().to(new_basket::preview_fragment),
        )
        .route(
            "/static/basket_form.js",
            web::get().to(new_basket::static_js),
        )
        .route("/baskets/{id}", web::get().to(h::basket))
        .route("/commands", web::get().to(h::commands_page))
        .route("/trading/close", web::get().to(h::close_page))
        .route("/trading/close-all", web::post().to(h::close_all))
        .route("/trading/pause", web::post().to(h::pause))
        .route("/trading/resume", web::post().to(h::resume))
        .route("/trading/reanchor", web::post().to(h::reanchor))
        .route("/static/app.css", web::get().to(h::static_css))
        .route("/static/app.js", web::get().to(h::static_js))
        .default_service(web::to(h::not_found));
}

fn is_public(path: &str) -> bool {
    path == "/login" || path == "/healthz" || path.starts_with("/static/")
}

/// Paths served whatever the `Host` and without the production check.
fn is_probe(path: &str) -> bool {
    path == "/healthz"
}

fn is_page(req: &ServiceRequest) -> bool {
    req.method() == Method::GET
        && req.path() != metrics::PATH
        && !req.path().starts_with("/api/")
        && !req.path().starts_with("/fragment/")
}

/// The request's `Host` (HTTP/2: the URI's authority); `None` when missing
/// or given twice.
fn request_host(req: &ServiceRequest) -> Option<String> {
    let mut all = req.headers().get_all(header::HOST);
    match (all.next(), all.next()) {
        (Some(h), None) => h.to_str().ok().map(str::to_string),
        (None, None) => req.uri().authority().map(|a| a.as_str().to_string()),
        _ => None,
    }
}

/// An unsafe request from another site: a cross-site `Sec-Fetch-Site`, or
/// an `Origin` that names no allowed host (compared with the allow-list,
/// never with a name the request carries).
fn cross_origin(req: &ServiceRequest, allowed: &hosts::AllowedHosts) -> bool {
    if let Some(site) = req.headers().get("sec-fetch-site") {
        if site.as_bytes() == b"cross-site" || site.as_bytes() == b"same-site" {
            return true;
        }
    }
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return false;
    };
    match origin.to_str() {
        Ok(o) => !allowed.allows_origin(o),
        Err(_) => true,
    }
}

fn secure_headers<B>(res: &mut ServiceResponse<B>, hsts: bool) {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if hsts {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(config::HSTS),
        );
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

fn text(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/plain; charset=utf-8")
        .body(body)
}

/// What the production check and the revocation check found.
struct DbVerdict {
    revoked: bool,
    production: bool,
}

/// The database part of the guard, on the blocking pool.
async fn db_verdict(
    state: &web::Data<AppState>,
    nonce: Option<String>,
    check_production: bool,
) -> Result<DbVerdict, String> {
    let pool = state.pool.clone();
    web::block(move || -> Result<DbVerdict, String> {
        let mut c = pool.get().map_err(|e| e.to_string())?;
        let revoked = match &nonce {
            Some(n) => store::web_sessions::is_revoked(&mut c, n).map_err(|e| e.to_string())?,
            None => false,
        };
        let production = check_production
            && store::misc::any_production_worker(&mut c).map_err(|e| e.to_string())?;
        Ok(DbVerdict {
            revoked,
            production,
        })
    })
    .await
    .map_err(|e| e.to_string())?
}

/// The answer while a production worker runs and no password is set.
pub const NEEDS_PASSWORD: &str = "A trading worker runs in PRODUCTION (real money) and DASHBOARD_PASSWORD is not set, so this dashboard stays closed. Set DASHBOARD_PASSWORD (at least 12 characters) in .env or the environment and restart the dashboard.";

fn needs_password(state: &AppState, page: bool) -> HttpResponse {
    if page {
        let mut ctx = tera::Context::new();
        ctx.insert("needs_password", &true);
        ctx.insert("message", NEEDS_PASSWORD);
        if let Ok(html) = state.tera.render("login.html", &ctx) {
            return HttpResponse::Forbidden()
                .content_type("text/html; charset=utf-8")
                .body(html);
        }
    }
    text(StatusCode::FORBIDDEN, NEEDS_PASSWORD.to_string())
}

/// The session and security middleware (`middleware::from_fn(guard)`).
///
/// # Errors
/// Whatever the inner service returns.
pub async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(req.into_response(HttpResponse::InternalServerError().finish()));
    };
    let hsts = state.cfg.secure_cookie;
    let early = check(&req, &state).await;
    let mut res = match early {
        Some(resp) => req.into_response(resp),
        None => next.call(req).await?.map_into_boxed_body(),
    };
    secure_headers(&mut res, hsts);
    Ok(res)
}

/// The guard's decisions; `Some(answer)` stops the request before any handler.
async fn check(req: &ServiceRequest, state: &web::Data<AppState>) -> Option<HttpResponse> {
    let path = req.path().to_string();
    if is_probe(&path) {
        return None;
    }
    let host = request_host(req);
    if !host
        .as_deref()
        .is_some_and(|h| state.cfg.allowed_hosts.allows(h))
    {
        let shown = hosts::shown(host.as_deref().unwrap_or(""));
        log::info!("Refused a request for Host `{shown}` (not in the allow-list) path={path}");
        return Some(text(
            StatusCode::MISDIRECTED_REQUEST,
            format!("421 Misdirected Request: this dashboard does not answer to the name `{shown}`. If that name is yours, add it to WEB_ALLOWED_HOSTS (comma-separated host[:port]) and restart `web`."),
        ));
    }
    if req.method() != Method::GET
        && req.method() != Method::HEAD
        && cross_origin(req, &state.cfg.allowed_hosts)
    {
        return Some(text(
            StatusCode::FORBIDDEN,
            "Cross-origin request refused: use the dashboard's own pages (if this is your dashboard under another name, add that name to WEB_ALLOWED_HOSTS)".to_string(),
        ));
    }
    if path.starts_with("/static/") {
        return None;
    }
    match metrics::bearer(req, state) {
        metrics::Bearer::Absent => {}
        metrics::Bearer::Valid => return None,
        metrics::Bearer::Refused(answer) => return Some(answer),
    }
    let now = state.now();
    let session = req
        .cookie(auth::COOKIE)
        .and_then(|c| auth::check_session(&state.key, &state.cfg.user, c.value(), now));
    let check_production = state.cfg.is_open();
    let session = if session.is_some() || check_production {
        let nonce = session.as_ref().map(|s| s.nonce.clone());
        match db_verdict(state, nonce, check_production).await {
            Ok(v) if v.production => return Some(needs_password(state, is_page(req))),
            Ok(v) => session.filter(|_| !v.revoked),
            Err(e) => {
                log::error!("Database error while checking a session: {e}");
                return Some(text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The database is not available right now; retry in a moment".to_string(),
                ));
            }
        }
    } else {
        None
    };
    if let Some(s) = session {
        req.extensions_mut().insert(s);
        return None;
    }
    if is_public(&path) {
        None
    } else if is_page(req) {
        Some(
            HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/login"))
                .finish(),
        )
    } else {
        Some(text(StatusCode::UNAUTHORIZED, "Login required".to_string()))
    }
}

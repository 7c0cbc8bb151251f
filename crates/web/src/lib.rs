//! The `web` dashboard: actix-web + tera over the store.
//!
//! Invariants:
//! - It reads PostgreSQL and writes only `commands` rows; it never calls the exchange.
//! - Every page and action needs a session (`/login`, `/healthz` and
//!   `/static/*` excepted): pages redirect to the login, everything else is 401.
//! - Every POST carries a valid CSRF token bound to the session (403 otherwise)
//!   and, when the browser sends one, a same-origin `Origin` (403 otherwise).
//! - Every response carries a CSP without external sources or inline script,
//!   `X-Frame-Options: DENY` and `Cache-Control: no-store` (static files excepted).
//! - Templates are named `*.html`, so tera escapes everything they render.

pub mod auth;
pub mod config;
pub mod fmt;
pub mod handlers;
pub mod queries;
pub mod svg;
pub mod views;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpResponse};
use chrono::Utc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use config::Config;

/// Shared by every worker thread (`web::Data`): built once.
pub struct AppState {
    pub pool: store::Pool,
    pub tera: tera::Tera,
    pub cfg: Config,
    /// The dashboard's data, shared by all sessions for [`DASH_TTL`].
    pub dash: DashCache,
    /// Sessions logged out before they expire.
    pub revoked: auth::Revoked,
}

impl AppState {
    pub fn new(pool: store::Pool, tera: tera::Tera, cfg: Config) -> AppState {
        AppState {
            pool,
            tera,
            cfg,
            dash: DashCache::default(),
            revoked: auth::Revoked::default(),
        }
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
        .route("/orders/history", web::get().to(h::history))
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

fn is_page(req: &ServiceRequest) -> bool {
    req.method() == Method::GET
        && !req.path().starts_with("/api/")
        && !req.path().starts_with("/fragment/")
}

/// A same-origin check for unsafe methods: an `Origin` (or `Sec-Fetch-Site`)
/// that names another site is refused.
fn cross_origin(req: &ServiceRequest) -> bool {
    if let Some(site) = req.headers().get("sec-fetch-site") {
        if site.as_bytes() == b"cross-site" || site.as_bytes() == b"same-site" {
            return true;
        }
    }
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return false;
    };
    let Ok(origin) = origin.to_str() else {
        return true;
    };
    let host = req.connection_info().host().to_string();
    origin != format!("http://{host}") && origin != format!("https://{host}")
}

fn secure_headers<B>(res: &mut ServiceResponse<B>) {
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
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
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
    let now = Utc::now().timestamp();
    let session = req
        .cookie(auth::COOKIE)
        .and_then(|c| auth::check_session(&state.cfg.secret, &state.cfg.user, c.value(), now))
        .filter(|s| !state.revoked.contains(&s.nonce, now));
    let early = if req.method() != Method::GET && req.method() != Method::HEAD && cross_origin(&req)
    {
        Some(
            HttpResponse::Forbidden()
                .content_type("text/plain; charset=utf-8")
                .body("Cross-origin request refused"),
        )
    } else if is_public(req.path()) {
        None
    } else if let Some(s) = session.clone() {
        req.extensions_mut().insert(s);
        None
    } else if is_page(&req) {
        Some(
            HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/login"))
                .finish(),
        )
    } else {
        Some(
            HttpResponse::build(StatusCode::UNAUTHORIZED)
                .content_type("text/plain; charset=utf-8")
                .body("Login required"),
        )
    };
    if let Some(s) = session {
        if is_public(req.path()) {
            req.extensions_mut().insert(s);
        }
    }
    let mut res = match early {
        Some(resp) => req.into_response(resp),
        None => next.call(req).await?.map_into_boxed_body(),
    };
    secure_headers(&mut res);
    Ok(res)
}

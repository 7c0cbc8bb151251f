//! The `web` binary: the dashboard. Configuration from the environment
//! merged over `./.env` (see `web::config`); it refuses to start on a
//! non-loopback bind without a strong password (exit 2, saying what to set).

use ::web::{build_tera, guard, routes, AppState, Config};
use actix_web::{middleware, web as aw, App, HttpServer};

fn main() -> std::io::Result<()> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cfg = match Config::from_env() {
        Ok((c, from_file)) => {
            if !from_file.is_empty() {
                // Names only: values may be secrets.
                log::info!(
                    "Read from .env (the process environment wins): {}",
                    from_file.join(", ")
                );
            }
            c
        }
        Err(e) => {
            log::error!("Configuration: {e}");
            std::process::exit(2);
        }
    };
    for w in cfg.warnings() {
        log::warn!("{w}");
    }
    let hosts: Vec<String> = cfg
        .allowed_hosts
        .rules()
        .iter()
        .map(ToString::to_string)
        .collect();
    log::info!(
        "Answering to Host {} (WEB_ALLOWED_HOSTS adds names); cookies Secure={}",
        hosts.join(", "),
        cfg.secure_cookie
    );
    let tera = match build_tera() {
        Ok(t) => t,
        Err(e) => {
            log::error!("Templates: {e:?}");
            std::process::exit(2);
        }
    };
    let pool = match store::connect_pool(&cfg.database_url, cfg.pool_size) {
        Ok(p) => p,
        Err(e) => {
            log::error!("Database: {e}");
            std::process::exit(2);
        }
    };
    match pool.get() {
        Ok(mut c) => match store::web_sessions::prune_expired(&mut c) {
            Ok(n) if n > 0 => log::info!("Pruned {n} expired session revocations"),
            Ok(_) => {}
            Err(e) => log::warn!("Could not prune expired session revocations: {e}"),
        },
        Err(e) => log::warn!("Could not prune expired session revocations: {e}"),
    }
    log::info!("Notifications: {}", cfg.notify.describe());
    // Runs until the process ends (its threads hold nothing a kill could
    // leave half-done: see web::notify).
    let _notifier = match ::web::notify::Sender::spawn(&cfg.database_url, &cfg.notify) {
        Ok(s) => s,
        Err(e) => {
            log::error!("Notifications: cannot start the sender: {e}");
            std::process::exit(2);
        }
    };
    let bind = cfg.bind.clone();
    let state = aw::Data::new(AppState::new(pool, tera, cfg));
    log::info!("Dashboard listening on http://{bind}");
    actix_web::rt::System::new().block_on(
        HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .wrap(middleware::from_fn(guard))
                .configure(routes)
        })
        .bind(bind)?
        .run(),
    )
}

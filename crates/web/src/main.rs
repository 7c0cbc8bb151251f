//! The `web` binary: the dashboard. Configuration from the environment
//! (see `web::config`); it refuses a non-loopback bind without a password.

use ::web::{build_tera, guard, routes, AppState, Config};
use actix_web::{middleware, web as aw, App, HttpServer};

fn main() -> std::io::Result<()> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cfg = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            log::error!("Configuration: {e}");
            std::process::exit(2);
        }
    };
    if cfg.secret_generated {
        log::warn!("APP_SECRET is not set: a random one is used, so sessions reset when the dashboard restarts");
    }
    if cfg.is_open() {
        log::warn!(
            "DASHBOARD_PASSWORD is not set: the dashboard on {} is open to every local user of this machine",
            cfg.bind
        );
    }
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

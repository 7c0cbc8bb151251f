//! `GET /metrics`: the bot's state in the Prometheus text format (0.0.4),
//! encoded by `prometheus-client` from one [`store::metrics::scrape`]
//! (docs/metrics.md lists every metric; docs/grafana-dashboard.json uses them).
//!
//! Invariants:
//! - Served to a logged-in session (checked by [`crate::guard`]) or to a
//!   request with `Authorization: Bearer <WEB_METRICS_TOKEN>`, compared in
//!   constant time ([`bearer`]). Anything else is 401, never a redirect: an
//!   `Authorization` header that is not that token is refused even with a
//!   session. Without `WEB_METRICS_TOKEN` only a session works. The token
//!   is never logged, echoed or stored.
//! - Labels are bounded: `basket_id` and `symbol` (at most
//!   [`store::metrics::MAX_BASKETS`] baskets), `role` (5 values: `buy`,
//!   `tp1`, `tp2`, `trail`, `exit`), `worker` (at most
//!   [`store::metrics::MAX_WORKERS`]), `mode`, `kind` (the worker's fixed
//!   error kinds), `state`, `status`, `quote_asset`, `channel` (`telegram`,
//!   `webhook`). Never an order id.
//! - A scrape reads aggregates and index ranges only, never fills (see
//!   [`store::metrics`]); every basket money figure is in its quote asset.
//! - Money is `Decimal` up to here; it becomes a float only in the
//!   exposition, whose values are floats by definition.

use std::str::FromStr;

use actix_web::dev::ServiceRequest;
use actix_web::http::header;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use grid_core::Role;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{prometheus_text, DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use store::metrics::{BasketFigures, Scrape};
use store::misc::StreamState;

use crate::auth::{self, Session};
use crate::handlers::AppError;
use crate::AppState;

/// The route.
pub const PATH: &str = "/metrics";

/// Every metric name, as a scraper sees it (histogram and counter suffixes
/// included). The tests check that the Grafana dashboard asks only for these.
pub const NAMES: &[&str] = &[
    "gridbot_basket_position",
    "gridbot_basket_avg_price",
    "gridbot_basket_cost",
    "gridbot_basket_realized_pnl",
    "gridbot_basket_unrealized_pnl",
    "gridbot_basket_budget",
    "gridbot_basket_fees_total",
    "gridbot_basket_fills_total",
    "gridbot_basket_sells_total",
    "gridbot_basket_open_orders",
    "gridbot_symbol_last_price",
    "gridbot_baskets",
    "gridbot_baskets_omitted",
    "gridbot_realized_pnl_24h",
    "gridbot_fees_24h",
    "gridbot_commands",
    "gridbot_account_value",
    "gridbot_account_snapshot_age_seconds",
    "gridbot_worker_info",
    "gridbot_worker_heartbeat_age_seconds",
    "gridbot_worker_cycle_duration_seconds_bucket",
    "gridbot_worker_cycle_duration_seconds_sum",
    "gridbot_worker_cycle_duration_seconds_count",
    "gridbot_worker_last_cycle_seconds",
    "gridbot_worker_request_weight",
    "gridbot_worker_request_weight_limit",
    "gridbot_worker_stream_state",
    "gridbot_worker_errors_total",
    "gridbot_worker_quiet_cycles_total",
    "gridbot_notifications_pending",
    "gridbot_notifications_failed",
];

/// The `role` label's values: a BUY of any level is `buy`.
pub const ROLES: [&str; 5] = ["buy", "tp1", "tp2", "trail", "exit"];

/// Marks a request the guard let through on the metrics token.
#[derive(Debug, Clone, Copy)]
pub struct TokenAuthorized;

/// What the guard does with a request's `Authorization` header.
pub enum Bearer {
    /// Not `/metrics`, or no `Authorization` header: the session decides.
    Absent,
    /// `/metrics` with the configured token: served.
    Valid,
    /// `/metrics` with any other `Authorization`: this answer (401).
    Refused(HttpResponse),
}

/// The guard's decision on `Authorization` for `/metrics` (see the module
/// invariants); marks a valid request with [`TokenAuthorized`].
pub fn bearer(req: &ServiceRequest, state: &AppState) -> Bearer {
    if req.path() != PATH {
        return Bearer::Absent;
    }
    let mut all = req.headers().get_all(header::AUTHORIZATION);
    let given = match (all.next(), all.next()) {
        (None, _) => return Bearer::Absent,
        (Some(v), None) => v
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim),
        (Some(_), Some(_)) => None,
    };
    let ok = match (&state.cfg.metrics_token, given) {
        (Some(token), Some(given)) => auth::ct_eq(&state.key, token.as_bytes(), given.as_bytes()),
        _ => false,
    };
    if ok {
        req.extensions_mut().insert(TokenAuthorized);
        return Bearer::Valid;
    }
    let why = if state.cfg.metrics_token.is_some() {
        "Unauthorized: the bearer token is not this dashboard's WEB_METRICS_TOKEN"
    } else {
        "Unauthorized: WEB_METRICS_TOKEN is not set on this dashboard, so /metrics needs a logged-in session"
    };
    log::info!("Refused /metrics: wrong or unusable Authorization header");
    Bearer::Refused(
        HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\""))
            .content_type("text/plain; charset=utf-8")
            .body(why),
    )
}

/// `GET /metrics`.
///
/// # Errors
/// [`AppError::Db`] (503) when the database does not answer;
/// [`AppError::Render`] (500) for a worker's metrics row that does not parse.
pub async fn metrics(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let authorized = {
        let ext = req.extensions();
        ext.get::<Session>().is_some() || ext.get::<TokenAuthorized>().is_some()
    };
    if !authorized {
        // The guard answers first; this keeps the route closed on its own.
        return Ok(HttpResponse::Unauthorized()
            .content_type("text/plain; charset=utf-8")
            .body("Login required"));
    }
    let pool = state.pool.clone();
    let scrape = web::block(move || {
        let mut conn = pool.get().map_err(|e| AppError::Db(e.to_string()))?;
        store::metrics::scrape(&mut conn).map_err(|e| match e {
            store::Error::Corrupt { .. } => AppError::Render(e.to_string()),
            other => AppError::Db(other.to_string()),
        })
    })
    .await
    .map_err(|e| AppError::Db(e.to_string()))??;
    let text = encode(scrape).map_err(|e| AppError::Render(format!("metrics: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type(prometheus_text::CONTENT_TYPE)
        .body(text))
}

/// The exposition of one scrape.
///
/// # Errors
/// Only a formatting error of the encoder.
pub fn encode(scrape: Scrape) -> Result<String, std::fmt::Error> {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(ScrapeCollector(scrape)));
    let mut out = String::new();
    prometheus_text::encode(&mut out, &registry)?;
    Ok(out)
}

/// A money or quantity figure as the exposition's float (NaN for a value
/// a float cannot hold, which bounded columns never give).
fn float(v: Decimal) -> f64 {
    v.to_f64().unwrap_or(f64::NAN)
}

/// The `role` label of a stored role (`B3` → `buy`); `None` for a role
/// this version does not know (left out rather than mislabelled).
fn role_label(stored: &str) -> Option<&'static str> {
    match Role::from_str(stored).ok()? {
        Role::Buy(_) => Some("buy"),
        Role::Tp1 => Some("tp1"),
        Role::Tp2 => Some("tp2"),
        Role::Trail => Some("trail"),
        Role::Exit => Some("exit"),
    }
}

type Labels = Vec<(&'static str, String)>;

fn basket_labels(b: &BasketFigures) -> Labels {
    vec![
        ("basket_id", b.id.to_string()),
        ("symbol", b.symbol.clone()),
    ]
}

#[derive(Debug)]
struct ScrapeCollector(Scrape);

/// One family of samples sharing a name, help and type.
fn family<V: prometheus_client::encoding::EncodeGaugeValue>(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    samples: &[(Labels, V)],
) -> Result<(), std::fmt::Error> {
    let mut m = enc.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (labels, v) in samples {
        m.encode_family(labels)?.encode_gauge(v)?;
    }
    Ok(())
}

fn counter_family(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    samples: &[(Labels, f64)],
) -> Result<(), std::fmt::Error> {
    let mut m = enc.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (labels, v) in samples {
        m.encode_family(labels)?
            .encode_counter::<NoLabelSet, _, f64>(v, None)?;
    }
    Ok(())
}

impl Collector for ScrapeCollector {
    fn encode(&self, mut enc: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let s = &self.0;
        let per_basket = |f: &dyn Fn(&BasketFigures) -> Option<Decimal>| -> Vec<(Labels, f64)> {
            s.baskets
                .iter()
                .filter_map(|b| f(b).map(|v| (basket_labels(b), float(v))))
                .collect()
        };
        family(
            &mut enc,
            "gridbot_basket_position",
            "Base quantity the basket holds (net of base-asset fees).",
            &per_basket(&|b| Some(b.pos)),
        )?;
        family(
            &mut enc,
            "gridbot_basket_avg_price",
            "Average entry price of the position, fees included (cost / position); absent when flat.",
            &per_basket(&|b| b.avg_price()),
        )?;
        family(
            &mut enc,
            "gridbot_basket_cost",
            "Quote cost of the position, fees included.",
            &per_basket(&|b| Some(b.cost)),
        )?;
        family(
            &mut enc,
            "gridbot_basket_realized_pnl",
            "Realized P&L of the basket's sells, fees deducted, in its quote asset.",
            &per_basket(&|b| Some(b.realized)),
        )?;
        family(
            &mut enc,
            "gridbot_basket_unrealized_pnl",
            "Position at the last price minus its cost, in the quote asset; absent before a price is known.",
            &per_basket(&|b| b.unrealized()),
        )?;
        family(
            &mut enc,
            "gridbot_basket_budget",
            "The basket's budget in its quote asset.",
            &per_basket(&|b| Some(b.budget_quote)),
        )?;
        counter_family(
            &mut enc,
            "gridbot_basket_fees",
            "Every fee of the basket, valued in its quote asset.",
            &per_basket(&|b| Some(b.fees)),
        )?;
        counter_family(
            &mut enc,
            "gridbot_basket_fills",
            "Fills (exchange trades) recorded for the basket.",
            &per_basket(&|b| Some(Decimal::from(b.fills))),
        )?;
        counter_family(
            &mut enc,
            "gridbot_basket_sells",
            "SELL fills of the basket (take-profits, trail, exits).",
            &per_basket(&|b| Some(Decimal::from(b.sells))),
        )?;

        // Open orders: every listed basket with every role (0 included).
        let mut open: Vec<(Labels, i64)> = Vec::with_capacity(s.baskets.len() * ROLES.len());
        for b in &s.baskets {
            for role in ROLES {
                let n: i64 = s
                    .open_orders
                    .iter()
                    .filter(|o| o.basket_id == b.id && role_label(&o.role) == Some(role))
                    .map(|o| o.n)
                    .sum();
                let mut l = basket_labels(b);
                l.push(("role", role.to_string()));
                open.push((l, n));
            }
        }
        family(
            &mut enc,
            "gridbot_basket_open_orders",
            "Orders of the basket that are or may be live, by role (buy = a BUY of any level).",
            &open,
        )?;

        let mut symbols: Vec<(&str, Decimal)> = s
            .baskets
            .iter()
            .filter_map(|b| b.last_price.map(|p| (b.symbol.as_str(), p)))
            .collect();
        symbols.sort();
        symbols.dedup();
        family(
            &mut enc,
            "gridbot_symbol_last_price",
            "Last price of each listed basket's symbol, as the worker last read it.",
            &symbols
                .iter()
                .map(|(sym, p)| (vec![("symbol", sym.to_string())], float(*p)))
                .collect::<Vec<_>>(),
        )?;

        family(
            &mut enc,
            "gridbot_baskets",
            "Baskets that trade or are in error, per status.",
            &store::metrics::listed_statuses()
                .into_iter()
                .map(|st| {
                    let n = s
                        .baskets_by_status
                        .iter()
                        .find(|c| c.name == st)
                        .map_or(0, |c| c.n);
                    (vec![("status", st.to_string())], n)
                })
                .collect::<Vec<_>>(),
        )?;
        family(
            &mut enc,
            "gridbot_baskets_omitted",
            "Trading or error baskets left out of the per-basket metrics (beyond the newest 500).",
            &[(Labels::new(), s.baskets_omitted)],
        )?;
        family(
            &mut enc,
            "gridbot_realized_pnl_24h",
            "Realized P&L of the current hour and the 23 before, every basket (closed ones included), per quote asset.",
            &s.last_24h
                .iter()
                .map(|q| {
                    (
                        vec![("quote_asset", q.quote_asset.clone())],
                        float(q.realized),
                    )
                })
                .collect::<Vec<_>>(),
        )?;
        family(
            &mut enc,
            "gridbot_fees_24h",
            "Fees of the current hour and the 23 before, every basket, per quote asset.",
            &s.last_24h
                .iter()
                .map(|q| (vec![("quote_asset", q.quote_asset.clone())], float(q.fees)))
                .collect::<Vec<_>>(),
        )?;
        family(
            &mut enc,
            "gridbot_notifications_pending",
            "Notification deliveries not yet accepted by the channel (README \"Notifications\").",
            &s.notifications
                .iter()
                .map(|n| (vec![("channel", n.channel.clone())], n.pending))
                .collect::<Vec<_>>(),
        )?;
        family(
            &mut enc,
            "gridbot_notifications_failed",
            "Notification deliveries given up (a channel refusing them), kept 30 days.",
            &s.notifications
                .iter()
                .map(|n| (vec![("channel", n.channel.clone())], n.failed))
                .collect::<Vec<_>>(),
        )?;
        family(
            &mut enc,
            "gridbot_commands",
            "Operator commands waiting for a worker (pending) or being run (running).",
            &["pending", "running"]
                .iter()
                .map(|st| {
                    let n = s.commands.iter().find(|c| c.name == *st).map_or(0, |c| c.n);
                    (vec![("status", st.to_string())], n)
                })
                .collect::<Vec<_>>(),
        )?;
        if let Some(a) = &s.account {
            family(
                &mut enc,
                "gridbot_account_value",
                "Account value in the account currency at the newest snapshot (assets that could not be valued are left out).",
                &[(vec![("quote_asset", a.quote_asset.clone())], float(a.total_value))],
            )?;
            family(
                &mut enc,
                "gridbot_account_snapshot_age_seconds",
                "Seconds since the newest account snapshot.",
                &[(Labels::new(), a.age_s)],
            )?;
        }

        self.encode_workers(&mut enc)
    }
}

impl ScrapeCollector {
    fn encode_workers(&self, enc: &mut DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let workers = &self.0.workers;
        let w = |id: &str| -> Labels { vec![("worker", id.to_string())] };
        family(
            enc,
            "gridbot_worker_info",
            "One per worker row, with its trading mode.",
            &workers
                .iter()
                .map(|x| {
                    let mut l = w(&x.instance_id);
                    l.push(("mode", x.mode.clone()));
                    (l, 1i64)
                })
                .collect::<Vec<_>>(),
        )?;
        family(
            enc,
            "gridbot_worker_heartbeat_age_seconds",
            "Seconds since the worker's last heartbeat (one per cycle); a stopped worker removes its row, a dead one keeps ageing.",
            &workers
                .iter()
                .map(|x| (w(&x.instance_id), x.heartbeat_age_s))
                .collect::<Vec<_>>(),
        )?;
        family(
            enc,
            "gridbot_worker_last_cycle_seconds",
            "Duration of the worker's last finished cycle.",
            &workers
                .iter()
                .filter_map(|x| {
                    x.last_cycle_ms
                        .map(|ms| (w(&x.instance_id), Decimal::from(ms) / Decimal::from(1000)))
                })
                .map(|(l, v)| (l, float(v)))
                .collect::<Vec<_>>(),
        )?;
        {
            let mut m = enc.encode_descriptor(
                "gridbot_worker_cycle_duration_seconds",
                "Durations of the worker's cycles since it started.",
                None,
                MetricType::Histogram,
            )?;
            for x in workers {
                let Some(h) = x.metrics.as_ref().map(|m| &m.cycle_ms) else {
                    continue;
                };
                let buckets: Vec<(f64, u64)> = h
                    .bounds_ms
                    .iter()
                    .map(|b| *b as f64 / 1000.0)
                    .chain(std::iter::once(f64::INFINITY))
                    .zip(h.counts.iter().copied())
                    .collect();
                let labels = w(&x.instance_id);
                m.encode_family(&labels)?.encode_histogram::<NoLabelSet>(
                    h.sum_ms as f64 / 1000.0,
                    h.count(),
                    &buckets,
                    None,
                )?;
            }
        }
        family(
            enc,
            "gridbot_worker_request_weight",
            "Exchange request weight the worker used in the current minute (its governor's count at its last heartbeat).",
            &workers
                .iter()
                .filter_map(|x| x.weight_used.map(|v| (w(&x.instance_id), i64::from(v))))
                .collect::<Vec<_>>(),
        )?;
        family(
            enc,
            "gridbot_worker_request_weight_limit",
            "The exchange's request-weight limit per minute the worker keeps under.",
            &workers
                .iter()
                .filter_map(|x| {
                    x.metrics
                        .as_ref()
                        .and_then(|m| m.weight_limit)
                        .map(|v| (w(&x.instance_id), i64::from(v)))
                })
                .collect::<Vec<_>>(),
        )?;
        family(
            enc,
            "gridbot_worker_stream_state",
            "How the worker learns about fills: 1 for its current state (polling until the user-data stream exists), 0 for the others.",
            &workers
                .iter()
                .filter_map(|x| x.metrics.as_ref().map(|m| (x, m.stream)))
                .flat_map(|(x, current)| {
                    StreamState::ALL.iter().map(move |st| {
                        let mut l = w(&x.instance_id);
                        l.push(("state", st.as_str().to_string()));
                        (l, i64::from(*st == current))
                    })
                })
                .collect::<Vec<_>>(),
        )?;
        counter_family(
            enc,
            "gridbot_worker_quiet_cycles",
            "Cycles that read nothing from the exchange since the worker started: the user-data stream was up and nothing that could change a plan had happened.",
            &workers
                .iter()
                .filter_map(|x| {
                    x.metrics
                        .as_ref()
                        .map(|m| (w(&x.instance_id), m.quiet_cycles as f64))
                })
                .collect::<Vec<_>>(),
        )?;
        counter_family(
            enc,
            "gridbot_worker_errors",
            "Errors of the worker since it started, by kind (a cycle or a basket's cycle skipped).",
            &workers
                .iter()
                .filter_map(|x| x.metrics.as_ref().map(|m| (x, m)))
                .flat_map(|(x, m)| {
                    m.errors.iter().map(move |(kind, n)| {
                        let mut l = w(&x.instance_id);
                        l.push(("kind", kind.clone()));
                        (l, *n as f64)
                    })
                })
                .collect::<Vec<_>>(),
        )
    }
}

#[cfg(test)]
#[path = "tests/metrics.rs"]
mod tests;

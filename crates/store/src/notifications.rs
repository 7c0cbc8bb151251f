//! Notifications with an outbox: what is worth telling a person, written in
//! the transaction of the change it reports, and its delivery to each
//! configured channel exactly once.
//!
//! Invariants:
//! - A notification of a change (a fill, a basket's status, a repeated
//!   rejection, an emergency close's progress) is written by a trigger of the
//!   migration `2026-11-26-000300_notifications` in the transaction of that
//!   change, whoever writes it: it exists if and only if the change was
//!   committed. Notifications no change reports (heartbeat stale, the daily
//!   summary) are written with a `dedupe_key`, so two processes detecting the
//!   same thing write one row ([`enqueue`]).
//! - The delivery rows (one per channel registered then whose categories
//!   include the notification's) are written with the notification, in the
//!   same transaction. While no registered channel ([`register_channel`])
//!   takes its category, nothing is written: what happened before a channel
//!   was first registered is never sent on it.
//! - A delivery is claimed by one sender at a time: [`deliver_next`] locks one
//!   due `pending` row (`FOR UPDATE SKIP LOCKED`, oldest due first) and keeps
//!   the lock while its one request is in flight; the outcome is committed
//!   right after the answer. A sender killed meanwhile loses its lock with
//!   its connection: the row is claimable again at once and is sent again
//!   (the one window where a channel can receive a notification twice: the
//!   request was answered and the process died before the commit).
//! - `attempts` counts the requests whose outcome was recorded; a failed or
//!   rate-limited attempt moves `next_attempt_at` forward, so a row that keeps
//!   failing never blocks the rows behind it.
//! - `last_error` is written by the sender, which never puts a token or a
//!   webhook URL in it; it is cut to [`MAX_ERROR_CHARS`].

use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Integer, Jsonb, Nullable, Text, Timestamptz};
use serde::Serialize;
use serde_json::{json, Value};

use crate::error::Error;

/// The categories a notification belongs to (`BOT_NOTIFY`).
pub const CATEGORIES: [&str; 4] = ["fills", "closes", "errors", "daily"];

/// The channels a sender may register.
pub const CHANNELS: [&str; 2] = ["telegram", "webhook"];

/// Longest `last_error` stored.
pub const MAX_ERROR_CHARS: usize = 500;

/// Notifications older than this many days are deleted by the retention
/// pass once no delivery of theirs is pending.
pub const RETENTION_DAYS: i64 = 30;

/// A `notifications` row.
#[derive(Debug, Clone, PartialEq, QueryableByName, Serialize)]
pub struct NotificationRow {
    /// Row id: the notification's id on every channel and every retry.
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    /// `fill`, `take_profit`, `basket_closed`, `heartbeat_stale`, …
    #[diesel(sql_type = Text)]
    pub kind: String,
    /// One of [`CATEGORIES`].
    #[diesel(sql_type = Text)]
    pub category: String,
    /// The basket it is about, if any.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub basket_id: Option<i64>,
    /// The basket's symbol, if any.
    #[diesel(sql_type = Nullable<Text>)]
    pub symbol: Option<String>,
    /// The facts the text is made of (decimals as strings).
    #[diesel(sql_type = Jsonb)]
    pub data: Value,
    /// Set for notifications no change reports (one per key).
    #[diesel(sql_type = Nullable<Text>)]
    pub dedupe_key: Option<String>,
    /// When it was written.
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

/// A `notification_deliveries` row.
#[derive(Debug, Clone, PartialEq, QueryableByName, Serialize)]
pub struct DeliveryRow {
    /// The notification.
    #[diesel(sql_type = BigInt)]
    pub notification_id: i64,
    /// `telegram` or `webhook`.
    #[diesel(sql_type = Text)]
    pub channel: String,
    /// `pending`, `delivered` or `failed`.
    #[diesel(sql_type = Text)]
    pub state: String,
    /// Requests whose outcome was recorded.
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    /// Not sent before this time.
    #[diesel(sql_type = Timestamptz)]
    pub next_attempt_at: DateTime<Utc>,
    /// Why the last attempt failed (redacted by the sender).
    #[diesel(sql_type = Nullable<Text>)]
    pub last_error: Option<String>,
    /// When the channel accepted it.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub delivered_at: Option<DateTime<Utc>>,
}

/// A notification to write from Rust (the triggers write the others).
#[derive(Debug, Clone, PartialEq)]
pub struct NewNotification {
    /// Kind, 1 to 50 characters.
    pub kind: String,
    /// One of [`CATEGORIES`].
    pub category: String,
    /// The basket it is about, if any.
    pub basket_id: Option<i64>,
    /// The basket's symbol, if any.
    pub symbol: Option<String>,
    /// The facts.
    pub data: Value,
    /// One notification per key: a second [`enqueue`] with it writes nothing.
    pub dedupe_key: Option<String>,
}

fn check_category(category: &str) -> Result<(), Error> {
    if CATEGORIES.contains(&category) {
        Ok(())
    } else {
        Err(Error::invalid(
            "notification category",
            format!("`{category}` is not one of {}", CATEGORIES.join(", ")),
        ))
    }
}

fn check_channel(channel: &str) -> Result<(), Error> {
    if CHANNELS.contains(&channel) {
        Ok(())
    } else {
        Err(Error::invalid(
            "notification channel",
            format!("`{channel}` is not one of {}", CHANNELS.join(", ")),
        ))
    }
}

#[derive(QueryableByName)]
struct OptId {
    #[diesel(sql_type = Nullable<BigInt>)]
    id: Option<i64>,
}

/// Writes a notification and its delivery rows (`notify_enqueue`); `None`
/// when its `dedupe_key` was written already.
///
/// # Errors
/// [`Error::Invalid`] for an unknown category or a kind outside 1 to 50
/// characters; [`Error::Query`].
pub fn enqueue(conn: &mut PgConnection, n: &NewNotification) -> Result<Option<i64>, Error> {
    check_category(&n.category)?;
    if n.kind.is_empty() || n.kind.len() > 50 {
        return Err(Error::invalid(
            "notification kind",
            "must be 1 to 50 characters",
        ));
    }
    let r: OptId = diesel::sql_query("SELECT notify_enqueue($1, $2, $3, $4, $5, $6) AS id")
        .bind::<Text, _>(&n.kind)
        .bind::<Text, _>(&n.category)
        .bind::<Nullable<BigInt>, _>(n.basket_id)
        .bind::<Nullable<Text>, _>(n.symbol.as_deref())
        .bind::<Jsonb, _>(&n.data)
        .bind::<Nullable<Text>, _>(n.dedupe_key.as_deref())
        .get_result(conn)?;
    Ok(r.id)
}

/// Registers (or updates) a channel with the categories it sends: every
/// notification written from now on whose category is among them gets a
/// delivery row for it.
///
/// # Errors
/// [`Error::Invalid`] for an unknown channel or category; [`Error::Query`].
pub fn register_channel(
    conn: &mut PgConnection,
    channel: &str,
    categories: &[String],
) -> Result<(), Error> {
    check_channel(channel)?;
    for c in categories {
        check_category(c)?;
    }
    diesel::sql_query(
        "INSERT INTO notification_channels (channel, categories) VALUES ($1, $2) \
         ON CONFLICT (channel) DO UPDATE SET categories = EXCLUDED.categories, last_seen_at = now()",
    )
    .bind::<Text, _>(channel)
    .bind::<Array<Text>, _>(categories)
    .execute(conn)?;
    Ok(())
}

/// Removes the registration of every channel not in `keep` and marks its
/// pending deliveries `failed` ("channel no longer configured"); returns the
/// number of deliveries so ended. One sender configuration per database is
/// assumed (two web processes with different channels would undo each
/// other's registrations).
///
/// # Errors
/// [`Error::Query`].
pub fn unregister_others(conn: &mut PgConnection, keep: &[&str]) -> Result<usize, Error> {
    let keep: Vec<String> = keep.iter().map(|s| (*s).to_string()).collect();
    conn.transaction(|conn| {
        diesel::sql_query("DELETE FROM notification_channels WHERE NOT (channel = ANY ($1))")
            .bind::<Array<Text>, _>(&keep)
            .execute(conn)?;
        Ok(diesel::sql_query(
            "UPDATE notification_deliveries SET state = 'failed', \
               last_error = 'channel no longer configured' \
             WHERE state = 'pending' AND NOT (channel = ANY ($1))",
        )
        .bind::<Array<Text>, _>(&keep)
        .execute(conn)?)
    })
}

/// What became of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The channel accepted it (2xx).
    Delivered,
    /// Try again after this wait (a 429's `retry_after`, a 5xx, a timeout).
    Retry {
        /// Wait from now.
        after: Duration,
        /// Why (redacted).
        error: String,
    },
    /// Never try again (e.g. a 4xx after a few attempts).
    Failed {
        /// Why (redacted).
        error: String,
    },
}

/// One claimed delivery, handed to the sending closure of [`deliver_next`].
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    /// The notification.
    pub notification: NotificationRow,
    /// The channel it goes to.
    pub channel: String,
    /// Attempts recorded before this one.
    pub attempts: i32,
}

#[derive(QueryableByName)]
struct Due {
    #[diesel(sql_type = BigInt)]
    notification_id: i64,
    #[diesel(sql_type = Integer)]
    attempts: i32,
}

fn cut(s: &str) -> String {
    s.chars().take(MAX_ERROR_CHARS).collect()
}

/// Claims `channel`'s oldest due pending delivery, calls `send` with it while
/// holding the row's lock, and commits its outcome; `None` when nothing is
/// due (or every due row is being sent by someone else). See the module's
/// invariants.
///
/// # Errors
/// [`Error::Query`] (the outcome is then not recorded: the row stays
/// `pending` and due, and is sent again).
pub fn deliver_next(
    conn: &mut PgConnection,
    channel: &str,
    send: impl FnOnce(&Claim) -> Outcome,
) -> Result<Option<(Claim, Outcome)>, Error> {
    conn.transaction(|conn| {
        let due: Option<Due> = diesel::sql_query(
            "SELECT notification_id, attempts FROM notification_deliveries \
             WHERE channel = $1 AND state = 'pending' AND next_attempt_at <= now() \
             ORDER BY next_attempt_at, notification_id LIMIT 1 FOR UPDATE SKIP LOCKED",
        )
        .bind::<Text, _>(channel)
        .get_result(conn)
        .optional()?;
        let Some(due) = due else {
            return Ok(None);
        };
        let notification: NotificationRow = diesel::sql_query(
            "SELECT id, kind, category, basket_id, symbol, data, dedupe_key, created_at \
             FROM notifications WHERE id = $1",
        )
        .bind::<BigInt, _>(due.notification_id)
        .get_result(conn)?;
        let claim = Claim {
            notification,
            channel: channel.to_string(),
            attempts: due.attempts,
        };
        let outcome = send(&claim);
        let q = match &outcome {
            Outcome::Delivered => diesel::sql_query(
                "UPDATE notification_deliveries SET state = 'delivered', attempts = attempts + 1, \
                   delivered_at = now(), last_error = NULL \
                 WHERE notification_id = $1 AND channel = $2",
            )
            .bind::<BigInt, _>(due.notification_id)
            .bind::<Text, _>(channel)
            .execute(conn),
            Outcome::Retry { after, error } => diesel::sql_query(
                "UPDATE notification_deliveries SET attempts = attempts + 1, \
                   next_attempt_at = now() + make_interval(secs => $3), last_error = $4 \
                 WHERE notification_id = $1 AND channel = $2",
            )
            .bind::<BigInt, _>(due.notification_id)
            .bind::<Text, _>(channel)
            .bind::<diesel::sql_types::Double, _>(after.as_secs_f64())
            .bind::<Text, _>(cut(error))
            .execute(conn),
            Outcome::Failed { error } => diesel::sql_query(
                "UPDATE notification_deliveries SET state = 'failed', attempts = attempts + 1, \
                   last_error = $3 \
                 WHERE notification_id = $1 AND channel = $2",
            )
            .bind::<BigInt, _>(due.notification_id)
            .bind::<Text, _>(channel)
            .bind::<Text, _>(cut(error))
            .execute(conn),
        };
        q?;
        Ok(Some((claim, outcome)))
    })
}

/// Every delivery of a notification, by channel.
///
/// # Errors
/// [`Error::Query`].
pub fn deliveries(
    conn: &mut PgConnection,
    notification_id: i64,
) -> Result<Vec<DeliveryRow>, Error> {
    Ok(diesel::sql_query(
        "SELECT notification_id, channel, state, attempts, next_attempt_at, last_error, delivered_at \
         FROM notification_deliveries WHERE notification_id = $1 ORDER BY channel",
    )
    .bind::<BigInt, _>(notification_id)
    .load(conn)?)
}

/// Up to `limit` (≤ 500) notifications with an id above `after_id`, oldest
/// first.
///
/// # Errors
/// [`Error::Query`].
pub fn list_after(
    conn: &mut PgConnection,
    after_id: i64,
    limit: i64,
) -> Result<Vec<NotificationRow>, Error> {
    Ok(diesel::sql_query(
        "SELECT id, kind, category, basket_id, symbol, data, dedupe_key, created_at \
         FROM notifications WHERE id > $1 ORDER BY id LIMIT $2",
    )
    .bind::<BigInt, _>(after_id)
    .bind::<BigInt, _>(crate::page_limit(limit))
    .load(conn)?)
}

/// Pending and failed deliveries of a channel.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName, Serialize)]
pub struct ChannelCounts {
    /// `telegram` or `webhook`.
    #[diesel(sql_type = Text)]
    pub channel: String,
    /// Deliveries not yet accepted by the channel.
    #[diesel(sql_type = BigInt)]
    pub pending: i64,
    /// Deliveries given up (kept 30 days).
    #[diesel(sql_type = BigInt)]
    pub failed: i64,
}

/// Pending and failed deliveries per channel (every registered channel, and
/// any other that still has such rows), by channel: two partial-index
/// ranges, for the dashboard and `/metrics`.
///
/// # Errors
/// [`Error::Query`].
pub fn channel_counts(conn: &mut PgConnection) -> Result<Vec<ChannelCounts>, Error> {
    Ok(diesel::sql_query(
        "WITH p AS (SELECT channel, count(*) AS n FROM notification_deliveries \
                    WHERE state = 'pending' GROUP BY channel), \
              f AS (SELECT channel, count(*) AS n FROM notification_deliveries \
                    WHERE state = 'failed' GROUP BY channel), \
              c AS (SELECT channel FROM notification_channels UNION SELECT channel FROM p \
                    UNION SELECT channel FROM f) \
         SELECT c.channel::text AS channel, COALESCE(p.n, 0) AS pending, COALESCE(f.n, 0) AS failed \
         FROM c LEFT JOIN p ON p.channel = c.channel LEFT JOIN f ON f.channel = c.channel \
         ORDER BY c.channel",
    )
    .load(conn)?)
}

/// Deletes up to `batch` notifications written before `cutoff` none of whose
/// deliveries is pending (their deliveries go with them); for the retention
/// pass ([`crate::retention`]).
///
/// # Errors
/// [`Error::Query`].
pub fn delete_batch_before(
    conn: &mut PgConnection,
    cutoff: DateTime<Utc>,
    batch: i64,
) -> Result<usize, Error> {
    Ok(diesel::sql_query(
        "DELETE FROM notifications WHERE id IN ( \
           SELECT n.id FROM notifications n WHERE n.created_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM notification_deliveries d \
                             WHERE d.notification_id = n.id AND d.state = 'pending') \
           ORDER BY n.created_at, n.id LIMIT $2)",
    )
    .bind::<Timestamptz, _>(cutoff)
    .bind::<BigInt, _>(batch)
    .execute(conn)?)
}

/// The heartbeat watchdog's pass: one `heartbeat_stale` notification per
/// worker whose `bot_status.heartbeat_at` is older than `stale_after` (or 3×
/// its last cycle's duration when that is longer) — one per stale episode,
/// keyed `stale:{worker}:{heartbeat_at in µs}` — and one `heartbeat_back`
/// when a worker told stale beats again (keyed `back:` + the stale key).
/// Returns the ids written. Safe to run from several processes at once.
///
/// # Errors
/// [`Error::Query`].
pub fn heartbeat_watch(conn: &mut PgConnection, stale_after: Duration) -> Result<Vec<i64>, Error> {
    let secs = stale_after.as_secs_f64();
    let stale: Vec<OptId> = diesel::sql_query(
        "SELECT notify_enqueue('heartbeat_stale', 'errors', NULL, NULL, \
           jsonb_build_object('worker', s.instance_id, 'mode', s.mode, \
             'heartbeat_at', s.heartbeat_at, \
             'age_seconds', floor(extract(epoch FROM now() - s.heartbeat_at))::bigint, \
             'last_error', s.last_error), \
           'stale:' || s.instance_id || ':' || \
             (extract(epoch FROM s.heartbeat_at) * 1000000)::bigint) AS id \
         FROM bot_status s \
         WHERE s.heartbeat_at < now() - GREATEST(make_interval(secs => $1), \
                                                 make_interval(secs => 3 * COALESCE(s.last_cycle_ms, 0) / 1000.0))",
    )
    .bind::<diesel::sql_types::Double, _>(secs)
    .load(conn)?;
    let back: Vec<OptId> = diesel::sql_query(
        "SELECT notify_enqueue('heartbeat_back', 'errors', NULL, NULL, \
           jsonb_build_object('worker', s.instance_id, 'mode', s.mode, \
             'heartbeat_at', s.heartbeat_at, 'stale_since', last.data->'heartbeat_at'), \
           'back:' || last.dedupe_key) AS id \
         FROM bot_status s \
         CROSS JOIN LATERAL ( \
           SELECT n.dedupe_key, n.data FROM notifications n \
           WHERE n.kind = 'heartbeat_stale' AND n.dedupe_key LIKE 'stale:' || s.instance_id || ':%' \
           ORDER BY n.id DESC LIMIT 1) last \
         WHERE s.heartbeat_at >= now() - GREATEST(make_interval(secs => $1), \
                                                  make_interval(secs => 3 * COALESCE(s.last_cycle_ms, 0) / 1000.0)) \
           AND s.heartbeat_at > (last.data->>'heartbeat_at')::timestamptz",
    )
    .bind::<diesel::sql_types::Double, _>(secs)
    .load(conn)?;
    Ok(stale.into_iter().chain(back).filter_map(|r| r.id).collect())
}

#[derive(QueryableByName)]
struct QuoteSum {
    #[diesel(sql_type = Text)]
    quote_asset: String,
    #[diesel(sql_type = Text)]
    realized: String,
    #[diesel(sql_type = Text)]
    fees: String,
    #[diesel(sql_type = BigInt)]
    sells: i64,
}

#[derive(QueryableByName)]
struct StatusCount {
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Exists {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    found: bool,
}

/// Writes the daily summary of UTC day `day` (keyed `daily:YYYY-MM-DD`):
/// realized P&L, fees and sells per quote asset (from `pnl_hourly`), the
/// number of fills executed that day, and the baskets by status now. `None`
/// when it was written already, or when no channel taking `daily` was
/// registered before the day ended (nobody was listening that day: a first
/// start does not tell yesterday). Bounded reads: the day's hourly buckets, an
/// index range of the day's fills, and one row per status.
///
/// # Errors
/// [`Error::Query`].
pub fn daily_summary(conn: &mut PgConnection, day: NaiveDate) -> Result<Option<i64>, Error> {
    let key = format!("daily:{}", day.format("%Y-%m-%d"));
    let done: Exists = diesel::sql_query(
        "SELECT EXISTS (SELECT 1 FROM notifications WHERE dedupe_key = $1) AS found",
    )
    .bind::<Text, _>(&key)
    .get_result(conn)?;
    if done.found {
        return Ok(None);
    }
    let from = day
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
        .ok_or_else(|| Error::invalid("summary day", format!("{day} has no midnight")))?;
    let to = from + TimeDelta::days(1);
    let listened: Exists = diesel::sql_query(
        "SELECT EXISTS (SELECT 1 FROM notification_channels \
                        WHERE 'daily' = ANY (categories) AND registered_at < $1) AS found",
    )
    .bind::<Timestamptz, _>(to)
    .get_result(conn)?;
    if !listened.found {
        return Ok(None);
    }
    let pnl: Vec<QuoteSum> = diesel::sql_query(
        "SELECT b.quote_asset::text AS quote_asset, sum(p.realized)::text AS realized, \
                sum(p.fees)::text AS fees, sum(p.sells)::bigint AS sells \
         FROM pnl_hourly p JOIN baskets b ON b.id = p.basket_id \
         WHERE p.bucket_start >= $1 AND p.bucket_start < $2 \
         GROUP BY b.quote_asset ORDER BY b.quote_asset",
    )
    .bind::<Timestamptz, _>(from)
    .bind::<Timestamptz, _>(to)
    .load(conn)?;
    let fills: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM fills WHERE executed_at >= $1 AND executed_at < $2",
    )
    .bind::<Timestamptz, _>(from)
    .bind::<Timestamptz, _>(to)
    .get_result(conn)?;
    let statuses: Vec<StatusCount> = diesel::sql_query(
        "SELECT status::text AS status, count(*) AS n FROM baskets GROUP BY status ORDER BY status",
    )
    .load(conn)?;
    let realized: Vec<Value> = pnl
        .iter()
        .map(|q| {
            json!({"quote_asset": q.quote_asset, "realized": q.realized,
                   "fees": q.fees, "sells": q.sells})
        })
        .collect();
    let baskets: serde_json::Map<String, Value> = statuses
        .iter()
        .map(|s| (s.status.clone(), json!(s.n)))
        .collect();
    enqueue(
        conn,
        &NewNotification {
            kind: "daily_summary".into(),
            category: "daily".into(),
            basket_id: None,
            symbol: None,
            data: json!({
                "day": day.format("%Y-%m-%d").to_string(),
                "realized": realized,
                "fills": fills.n,
                "baskets": baskets,
            }),
            dedupe_key: Some(key),
        },
    )
}

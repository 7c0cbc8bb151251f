//! Retention: what the database keeps, so that it stops growing with every
//! cycle (issue 6).
//!
//! The policy ([`Policy`], set from `BOT_*` variables by the daemon):
//! - **Plan inputs** (`cycle` events, one per cycle that acted): the newest
//!   `keep_inputs` (100) of each basket, plus every pinned one (the last
//!   input before an error of its basket, see [`crate::events`]).
//! - **Events**: deleted once older than `events_days` (30), counted from
//!   when they were last seen (a warning still repeating stays), except
//!   pinned ones (errors of a basket and the inputs before them), which are
//!   kept whatever their age.
//! - **Notifications**: deleted [`crate::notifications::RETENTION_DAYS`] (30)
//!   days after they were written, with their deliveries, once none of them
//!   is pending (a delivery still pending is kept until it is sent or given
//!   up).
//! - **Account snapshots**: all kept for a day; older ones are thinned to the
//!   last snapshot of each hour (per quote asset) — the dashboard's equity
//!   chart is hourly — and deleted after `snapshot_days` (365).
//!
//! Invariants:
//! - A pass runs at most once per `interval` (300 s) across all workers: a
//!   worker runs it only when one conditional `UPDATE` of the
//!   `maintenance_runs` row moves its start past the interval, so of several
//!   workers due at once exactly one runs it.
//! - Every statement deletes at most `batch` (500) rows, chosen by an index
//!   range, in its own short transaction: no long lock, and the worker's
//!   cycle is held up by at most `budget` (2 s, checked between statements)
//!   or `max_statements` (200 statements that deleted rows) per pass. What a
//!   pass leaves undone is done by the next ones.
//! - Passes are idempotent and may overlap: each statement deletes what is
//!   still there; a row another pass deleted is skipped.
//! - A pass that finished all its work records its start (`done_from`); the
//!   next one only looks at baskets and snapshots that changed since (minus
//!   an hour of margin). Until one has finished, passes look at everything.
//! - A policy that would erase the history (0 days, no input kept) is
//!   refused ([`Policy::validate`]), never acted on.

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Nullable, Text, Timestamptz};
use serde::Serialize;

use crate::error::Error;

/// Name of the retention task's `maintenance_runs` row.
pub const TASK: &str = "retention";

/// Snapshots younger than this are all kept.
const SNAPSHOTS_ALL_KEPT: TimeDelta = TimeDelta::days(1);

/// Looked at again before the start of the last finished pass (a row written
/// by a transaction that began before that pass and committed after it).
const SINCE_MARGIN: TimeDelta = TimeDelta::hours(1);

/// What the retention pass keeps and how it works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Events older than this many days (by when last seen) are deleted,
    /// except pinned ones. `BOT_EVENTS_RETENTION_DAYS`, ≥ 1.
    pub events_days: i64,
    /// Plan inputs (`cycle` events) kept per basket, besides pinned ones.
    /// `BOT_PLAN_INPUTS_KEEP`, ≥ 1.
    pub keep_inputs: i64,
    /// Hourly account snapshots are deleted after this many days.
    /// `BOT_SNAPSHOT_RETENTION_DAYS`, ≥ 2 (a day is kept whole).
    pub snapshot_days: i64,
    /// Least time between two passes, across every worker.
    /// `BOT_RETENTION_INTERVAL_SECONDS`.
    pub interval: Duration,
    /// Most rows one statement deletes, ≥ 1.
    pub batch: i64,
    /// Most statements that delete rows one pass runs, ≥ 1.
    pub max_statements: u32,
    /// Time after which a pass stops between two statements.
    pub budget: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            events_days: 30,
            keep_inputs: 100,
            snapshot_days: 365,
            interval: Duration::from_secs(300),
            batch: 500,
            max_statements: 200,
            budget: Duration::from_secs(2),
        }
    }
}

impl Policy {
    /// # Errors
    /// [`Error::Invalid`] naming the setting when a value would erase the
    /// history or stall the pass.
    pub fn validate(&self) -> Result<(), Error> {
        let check = |ok: bool, field: &str, reason: String| {
            if ok {
                Ok(())
            } else {
                Err(Error::invalid(field, reason))
            }
        };
        check(
            (1..=36_500).contains(&self.events_days),
            "BOT_EVENTS_RETENTION_DAYS",
            format!("{} must be 1 to 36500 days (default 30)", self.events_days),
        )?;
        check(
            (1..=1_000_000).contains(&self.keep_inputs),
            "BOT_PLAN_INPUTS_KEEP",
            format!(
                "{} must be 1 to 1000000 plan inputs per basket (default 100)",
                self.keep_inputs
            ),
        )?;
        check(
            (2..=36_500).contains(&self.snapshot_days),
            "BOT_SNAPSHOT_RETENTION_DAYS",
            format!(
                "{} must be 2 to 36500 days (default 365; the last day is always kept whole)",
                self.snapshot_days
            ),
        )?;
        check(
            (1..=100_000).contains(&self.batch),
            "retention batch",
            format!("{} must be 1 to 100000 rows", self.batch),
        )?;
        check(
            self.max_statements >= 1,
            "retention max_statements",
            "must be at least 1".to_string(),
        )
    }
}

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// All the work was done (else the next passes go on with it).
    pub complete: bool,
    /// Statements that deleted rows (at most the policy's `max_statements`).
    pub statements: u32,
    /// Statements that found nothing left to delete (bounded by the time
    /// budget only: one per basket that wrote plan inputs, one per step).
    pub probes: u32,
    /// Most rows one of them deleted (≤ the policy's batch).
    pub largest_batch: usize,
    /// Plan inputs beyond the newest `keep_inputs` of their basket.
    pub inputs_deleted: usize,
    /// Events older than `events_days`.
    pub events_deleted: usize,
    /// Snapshots thinned to hourly or older than `snapshot_days`.
    pub snapshots_deleted: usize,
    /// Notifications older than 30 days, none of whose deliveries is pending.
    pub notifications_deleted: usize,
    /// How long the pass took.
    pub elapsed_ms: u64,
}

#[derive(QueryableByName)]
struct Claimed {
    #[diesel(sql_type = Timestamptz)]
    started_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    done_from: Option<DateTime<Utc>>,
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Claims the pass when due: `(start, start of the last finished pass)`.
/// One statement; no write when not due.
fn claim(
    conn: &mut PgConnection,
    interval: Duration,
    worker_id: &str,
) -> Result<Option<Claimed>, Error> {
    Ok(diesel::sql_query(
        "WITH created AS ( \
           INSERT INTO maintenance_runs (task, started_at, worker_id) \
           SELECT $1, now(), $3 \
           WHERE NOT EXISTS (SELECT 1 FROM maintenance_runs WHERE task = $1) \
           ON CONFLICT (task) DO NOTHING \
           RETURNING started_at, done_from), \
         claimed AS ( \
           UPDATE maintenance_runs SET started_at = now(), worker_id = $3 \
           WHERE task = $1 AND started_at <= now() - make_interval(secs => $2) \
           RETURNING started_at, done_from) \
         SELECT started_at, done_from FROM created \
         UNION ALL SELECT started_at, done_from FROM claimed",
    )
    .bind::<Text, _>(TASK)
    .bind::<Double, _>(interval.as_secs_f64())
    .bind::<Text, _>(worker_id)
    .get_result::<Claimed>(conn)
    .optional()?)
}

/// One pass's running totals and limits.
struct Pass<'a> {
    policy: &'a Policy,
    t0: Instant,
    report: Report,
}

impl Pass<'_> {
    fn exhausted(&self) -> bool {
        self.report.statements >= self.policy.max_statements
            || self.t0.elapsed() >= self.policy.budget
    }

    /// Runs `delete` (one statement of at most `batch` rows) until it deletes
    /// fewer than `batch`; `false` when the budget ran out first.
    fn drain(
        &mut self,
        conn: &mut PgConnection,
        mut delete: impl FnMut(&mut PgConnection) -> Result<usize, Error>,
        count: fn(&mut Report) -> &mut usize,
    ) -> Result<bool, Error> {
        let batch = usize::try_from(self.policy.batch).unwrap_or(usize::MAX);
        loop {
            if self.exhausted() {
                return Ok(false);
            }
            let n = delete(conn)?;
            if n > 0 {
                self.report.statements += 1;
            } else {
                self.report.probes += 1;
            }
            self.report.largest_batch = self.report.largest_batch.max(n);
            *count(&mut self.report) += n;
            if n < batch {
                return Ok(true);
            }
        }
    }

    fn run(
        &mut self,
        conn: &mut PgConnection,
        now: DateTime<Utc>,
        done_from: Option<DateTime<Utc>>,
    ) -> Result<bool, Error> {
        let p = self.policy;
        let since = done_from.map(|t| t - SINCE_MARGIN);

        // Plan inputs beyond the newest N of each basket that wrote any since
        // (every basket until a pass has finished), found in one statement:
        // a probe of at most N + 1 index entries per candidate basket.
        let candidates = match since {
            None => "SELECT id FROM baskets",
            Some(_) => {
                "SELECT DISTINCT basket_id AS id FROM events \
                 WHERE created_at >= $3 AND kind = $1 AND basket_id IS NOT NULL"
            }
        };
        let baskets: Vec<Id> = diesel::sql_query(format!(
            "SELECT c.id FROM ({candidates}) c WHERE EXISTS ( \
               SELECT 1 FROM ( \
                 SELECT pinned FROM events e WHERE e.basket_id = c.id AND e.kind = $1 \
                 ORDER BY e.id DESC OFFSET $2) older \
               WHERE NOT older.pinned) \
             ORDER BY c.id"
        ))
        .bind::<Text, _>(crate::events::CYCLE_KIND)
        .bind::<BigInt, _>(p.keep_inputs)
        .bind::<Nullable<Timestamptz>, _>(since)
        .load(conn)?;
        for b in baskets {
            let done = self.drain(
                conn,
                |c| crate::events::delete_inputs_beyond(c, b.id, p.keep_inputs, p.batch),
                |r| &mut r.inputs_deleted,
            )?;
            if !done {
                return Ok(false);
            }
        }

        // Events older than the retention (by when last seen), not pinned.
        let cutoff = now - TimeDelta::days(p.events_days);
        if !self.drain(
            conn,
            |c| crate::events::delete_batch_before(c, cutoff, p.batch),
            |r| &mut r.events_deleted,
        )? {
            return Ok(false);
        }

        // Notifications (and their deliveries) nothing waits for any more.
        let cutoff = now - TimeDelta::days(crate::notifications::RETENTION_DAYS);
        if !self.drain(
            conn,
            |c| crate::notifications::delete_batch_before(c, cutoff, p.batch),
            |r| &mut r.notifications_deleted,
        )? {
            return Ok(false);
        }

        // Snapshots: hourly once older than a day (whole hours), then gone.
        let to = hour_floor(now - SNAPSHOTS_ALL_KEPT);
        let from = since.map_or(DateTime::UNIX_EPOCH, |s| hour_floor(s - SNAPSHOTS_ALL_KEPT));
        if !self.drain(
            conn,
            |c| crate::misc::thin_snapshots(c, from, to, p.batch),
            |r| &mut r.snapshots_deleted,
        )? {
            return Ok(false);
        }
        let cutoff = now - TimeDelta::days(p.snapshot_days);
        self.drain(
            conn,
            |c| crate::misc::delete_snapshots_before(c, cutoff, p.batch),
            |r| &mut r.snapshots_deleted,
        )
    }
}

/// The start of `t`'s UTC hour.
fn hour_floor(t: DateTime<Utc>) -> DateTime<Utc> {
    let secs = t.timestamp().div_euclid(3600) * 3600;
    DateTime::from_timestamp(secs, 0).unwrap_or(t)
}

/// Runs a retention pass when one is due (see the module's invariants);
/// `None` when another pass ran within the policy's interval.
///
/// # Errors
/// [`Error::Invalid`] for an invalid policy (nothing deleted);
/// [`Error::Query`] (what was deleted before stays deleted; the next pass
/// goes on).
pub fn run_if_due(
    conn: &mut PgConnection,
    policy: &Policy,
    worker_id: &str,
) -> Result<Option<Report>, Error> {
    policy.validate()?;
    let Some(claimed) = claim(conn, policy.interval, worker_id)? else {
        return Ok(None);
    };
    let mut pass = Pass {
        policy,
        t0: Instant::now(),
        report: Report::default(),
    };
    let complete = pass.run(conn, claimed.started_at, claimed.done_from)?;
    let mut report = pass.report;
    report.complete = complete;
    report.elapsed_ms = u64::try_from(pass.t0.elapsed().as_millis()).unwrap_or(u64::MAX);
    if complete {
        let json = serde_json::to_value(&report).unwrap_or(serde_json::Value::Null);
        diesel::sql_query(
            "UPDATE maintenance_runs SET done_from = GREATEST(COALESCE(done_from, $2), $2), \
             done_at = now(), report = $3 WHERE task = $1",
        )
        .bind::<Text, _>(TASK)
        .bind::<Timestamptz, _>(claimed.started_at)
        .bind::<diesel::sql_types::Jsonb, _>(json)
        .execute(conn)?;
    }
    Ok(Some(report))
}

/// [`run_if_due`] from the worker's cycle: never fails the cycle; a pass
/// that deleted something is logged at `info`, a failure at `warn` (the next
/// pass, one interval later, tries again).
pub fn run_in_cycle(conn: &mut PgConnection, policy: &Policy, worker_id: &str) {
    match run_if_due(conn, policy, worker_id) {
        Ok(Some(r))
            if r.statements > 0
                && (r.inputs_deleted
                    + r.events_deleted
                    + r.snapshots_deleted
                    + r.notifications_deleted)
                    > 0 =>
        {
            log::info!(
                "Retention pass inputs_deleted={} events_deleted={} snapshots_deleted={} notifications_deleted={} statements={} ms={} complete={}",
                r.inputs_deleted,
                r.events_deleted,
                r.snapshots_deleted,
                r.notifications_deleted,
                r.statements,
                r.elapsed_ms,
                r.complete
            );
        }
        Ok(_) => {}
        Err(e) => log::warn!("Retention pass failed (retried next interval): {e}"),
    }
}

//! The audit log: every action, error and the replayable input of every
//! cycle that acted.

use chrono::{DateTime, Utc};
use diesel::pg::{Pg, PgConnection};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;

use crate::error::Error;
use crate::schema::events;
use crate::types::EventLevel;

/// An `events` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = events, check_for_backend(Pg))]
pub struct EventRow {
    pub id: i64,
    pub basket_id: Option<i64>,
    pub level: EventLevel,
    pub kind: String,
    pub message: String,
    pub data: Option<Value>,
    pub created_at: DateTime<Utc>,
}

/// An event to write.
#[derive(Debug, Clone, PartialEq, Insertable)]
#[diesel(table_name = events)]
pub struct NewEvent {
    pub basket_id: Option<i64>,
    pub level: EventLevel,
    /// Short machine-readable kind (`cycle`, `order_rejected`, `lease_taken`, …), ≤ 50 characters.
    pub kind: String,
    pub message: String,
    pub data: Option<Value>,
}

impl NewEvent {
    /// An event without data.
    pub fn new(
        basket_id: Option<i64>,
        level: EventLevel,
        kind: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        NewEvent {
            basket_id,
            level,
            kind: kind.into(),
            message: message.into(),
            data: None,
        }
    }

    /// The same event carrying `data` (e.g. a cycle's replayable input).
    pub fn with_data(self, data: Option<Value>) -> Self {
        NewEvent { data, ..self }
    }
}

/// # Errors
/// [`Error::Invalid`] for a kind longer than 50 characters; [`Error::Query`].
pub fn insert(conn: &mut PgConnection, event: &NewEvent) -> Result<EventRow, Error> {
    if event.kind.is_empty() || event.kind.len() > 50 {
        return Err(Error::invalid("event kind", "must be 1 to 50 characters"));
    }
    Ok(diesel::insert_into(events::table)
        .values(event)
        .returning(EventRow::as_returning())
        .get_result(conn)?)
}

/// The most recent events, errors first: the newest errors, then the newest
/// other events, `limit` (≤ 500) in all; optionally of one basket.
///
/// # Errors
/// [`Error::Query`].
pub fn recent(
    conn: &mut PgConnection,
    basket_id: Option<i64>,
    limit: i64,
) -> Result<Vec<EventRow>, Error> {
    let limit = crate::page_limit(limit);
    let mut errors = events::table
        .filter(events::level.eq(EventLevel::Error))
        .select(EventRow::as_select())
        .order((events::created_at.desc(), events::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some(b) = basket_id {
        errors = errors.filter(events::basket_id.eq(b));
    }
    let mut rows: Vec<EventRow> = errors.load(conn)?;
    let rest = limit - i64::try_from(rows.len()).unwrap_or(limit);
    if rest > 0 {
        let mut others = events::table
            .filter(events::level.ne(EventLevel::Error))
            .select(EventRow::as_select())
            .order((events::created_at.desc(), events::id.desc()))
            .limit(rest)
            .into_boxed();
        if let Some(b) = basket_id {
            others = others.filter(events::basket_id.eq(b));
        }
        rows.extend(others.load(conn)?);
    }
    Ok(rows)
}

/// The event of `kind` that command `command_id` wrote (its data holds
/// `"command": command_id`), if any: how a command run a second time (its
/// worker's cycle was cut short before it was marked done) finds what the
/// first run did instead of doing it again.
///
/// # Errors
/// [`Error::Query`].
pub fn by_command(
    conn: &mut PgConnection,
    kind: &str,
    command_id: i64,
) -> Result<Option<EventRow>, Error> {
    Ok(events::table
        .filter(events::kind.eq(kind))
        .filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("data->>'command' = ")
                .bind::<diesel::sql_types::Text, _>(command_id.to_string()),
        )
        .select(EventRow::as_select())
        .order(events::id.desc())
        .first(conn)
        .optional()?)
}

/// Deletes events older than `days` (≥ 1) days; returns how many.
///
/// # Errors
/// [`Error::Invalid`] for `days < 1`.
pub fn delete_older_than(conn: &mut PgConnection, days: i64) -> Result<usize, Error> {
    if days < 1 {
        return Err(Error::invalid(
            "event retention days",
            format!("{days} is below 1"),
        ));
    }
    Ok(diesel::sql_query(
        "DELETE FROM events WHERE created_at < now() - make_interval(days => $1::int)",
    )
    .bind::<diesel::sql_types::BigInt, _>(days)
    .execute(conn)?)
}

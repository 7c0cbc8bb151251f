//! The audit log: every action, error and the replayable input of every
//! cycle that acted.
//!
//! Invariants:
//! - Repeated events collapse: an event identical to one of its basket's
//!   [`LOOKBACK`] most recent events of the same kind — same basket (or both
//!   none), kind, level and message — is not a new row: the newest such
//!   row's `repeat_count` goes up by one, `last_seen_at` becomes now, and its
//!   `message` and `data` become the new event's. Two refinements of "same
//!   message", both for what the worker writes every cycle:
//!   - several warnings of one kind take turns (`insufficient_balance` for
//!     TP1, TP2 and the trail, every cycle): each collapses into its own row,
//!     hence the look-back over the last few events of the kind rather than
//!     the very last one;
//!   - a bot clientOrderId in a message is compared without its sequence
//!     number (`BOT_SOLUSDC_7_TP1_3` and `BOT_SOLUSDC_7_TP1_6` are two tries
//!     of the same role: each cycle numbers its creates anew).
//!
//!   Writers of one basket (or of one kind, for events without a basket) are
//!   serialised by a transaction advisory lock, so two identical events
//!   written at once still make one row counting two. The lookup is one
//!   index range of `idx_events_basket_kind` (at most [`LOOKBACK`] entries).
//! - An event whose data carries a plan input (`"input"`) is never collapsed:
//!   each is a distinct decision; they are bounded by the retention pass
//!   instead ([`crate::retention`]).
//! - A stored plan input is a `PlanInput` that `bot-daemon plan --input`
//!   reads as it is and that plans exactly like the one the worker planned:
//!   only its fills are written compactly, each as the array of its fields
//!   in declaration order (`[trade_id, exchange_order_id, client_order_id,
//!   side, price, qty, commission, commission_asset, commission_quote]`),
//!   which serde reads back into the same `Fill` (no value is rounded:
//!   decimals keep their text). See [`compact_input`].
//! - An error event of a basket is `pinned` (never deleted by retention), and
//!   so is the basket's last plan input written before it — when the error
//!   is new, not when it repeats, so a repeating error pins one input only.

use chrono::{DateTime, Utc};
use diesel::connection::Connection;
use diesel::pg::{Pg, PgConnection};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use grid_core::{Fill, PlanInput};
use serde::ser::{SerializeStruct, SerializeTuple};
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::error::Error;
use crate::schema::events;
use crate::types::EventLevel;

/// Kind of the worker's "the cycle acted" events, whose data carries the
/// plan input (the per-basket "keep the last N" rule applies to these).
pub const CYCLE_KIND: &str = "cycle";

/// How many of the basket's most recent events of a kind a new event is
/// compared with.
pub const LOOKBACK: i64 = 16;

/// PostgreSQL regular expression of a bot clientOrderId
/// (`BOT_{symbol}_{basket}_{role}_{seq}`), its sequence number apart.
const CID_SEQ: &str = "(BOT_[A-Z0-9]+_[0-9]+_[A-Z0-9]+)_[0-9]+";

/// An `events` row.
#[derive(Debug, Clone, PartialEq, Queryable, QueryableByName, Selectable, Serialize)]
#[diesel(table_name = events, check_for_backend(Pg))]
pub struct EventRow {
    /// Row id.
    pub id: i64,
    /// The basket it is about, if any.
    pub basket_id: Option<i64>,
    /// Severity.
    pub level: EventLevel,
    /// Short machine-readable kind (`cycle`, `order_rejected`, …).
    pub kind: String,
    /// The message for people (of the last occurrence).
    pub message: String,
    /// Structured details (of the last occurrence), e.g. a cycle's plan input.
    pub data: Option<Value>,
    /// When the event was first seen.
    pub created_at: DateTime<Utc>,
    /// How many identical events this row stands for (1: seen once).
    pub repeat_count: i64,
    /// When it was last seen; `None` when seen once.
    pub last_seen_at: Option<DateTime<Utc>>,
    /// Kept by retention whatever its age (an error of a basket, or the plan
    /// input written before one).
    pub pinned: bool,
}

impl EventRow {
    /// When the event was last seen (`created_at` for an event seen once).
    pub fn seen_at(&self) -> DateTime<Utc> {
        self.last_seen_at.unwrap_or(self.created_at)
    }
}

/// An event to write.
#[derive(Debug, Clone, PartialEq, Insertable)]
#[diesel(table_name = events)]
pub struct NewEvent {
    /// The basket it is about, if any.
    pub basket_id: Option<i64>,
    /// Severity.
    pub level: EventLevel,
    /// Short machine-readable kind (`cycle`, `order_rejected`, `lease_taken`, …), ≤ 50 characters.
    pub kind: String,
    /// The message for people.
    pub message: String,
    /// Structured details, e.g. a cycle's plan input.
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

/// One fill as the array of its fields, in declaration order (what serde's
/// derived `Deserialize` of [`Fill`] reads as a sequence).
struct CompactFill<'a>(&'a Fill);

impl Serialize for CompactFill<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Exhaustive: a field added to `Fill` fails to compile here instead
        // of being dropped from every stored input.
        let Fill {
            trade_id,
            exchange_order_id,
            client_order_id,
            side,
            price,
            qty,
            commission,
            commission_asset,
            commission_quote,
        } = self.0;
        let mut t = s.serialize_tuple(9)?;
        t.serialize_element(trade_id)?;
        t.serialize_element(exchange_order_id)?;
        t.serialize_element(client_order_id)?;
        t.serialize_element(side)?;
        t.serialize_element(price)?;
        t.serialize_element(qty)?;
        t.serialize_element(commission)?;
        t.serialize_element(commission_asset)?;
        t.serialize_element(commission_quote)?;
        t.end()
    }
}

struct CompactFills<'a>(&'a [Fill]);

impl Serialize for CompactFills<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(CompactFill))
    }
}

/// A [`PlanInput`] with its fills as arrays.
struct CompactInput<'a>(&'a PlanInput);

impl Serialize for CompactInput<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Exhaustive, like `CompactFill`; the names are `PlanInput`'s.
        let PlanInput {
            now_ms,
            basket,
            rules,
            fills,
            open_orders,
            last_price,
        } = self.0;
        let mut st = s.serialize_struct("PlanInput", 6)?;
        st.serialize_field("now_ms", now_ms)?;
        st.serialize_field("basket", basket)?;
        st.serialize_field("rules", rules)?;
        st.serialize_field("fills", &CompactFills(fills))?;
        st.serialize_field("open_orders", open_orders)?;
        st.serialize_field("last_price", last_price)?;
        st.end()
    }
}

/// `input` as stored: the same JSON as `serde_json::to_value(input)` except
/// that each fill is the array of its fields (about half the size); it
/// deserializes into a `PlanInput` equal to `input`.
///
/// # Errors
/// [`Error::Invalid`] when the input cannot be serialized (not expected:
/// every field is plain data).
pub fn compact_input(input: &PlanInput) -> Result<Value, Error> {
    serde_json::to_value(CompactInput(input)).map_err(|e| {
        Error::invalid(
            "plan input",
            format!("cannot be serialized ({e}); report this as a bug"),
        )
    })
}

/// `data` with a plan input written in full (`"input": {…, "fills": [{…}]}`)
/// replaced by its compact form; anything else is returned as it is.
fn compact_data(data: &Value) -> Option<Value> {
    let input = data.get("input")?;
    let fills = input.get("fills")?.as_array()?;
    if !fills.iter().any(Value::is_object) {
        return None;
    }
    let typed: PlanInput = serde_json::from_value(input.clone()).ok()?;
    let compact = compact_input(&typed).ok()?;
    let mut out = data.clone();
    if let Some(slot) = out.get_mut("input") {
        *slot = compact;
    }
    Some(out)
}

fn carries_input(data: Option<&Value>) -> bool {
    data.and_then(|d| d.get("input")).is_some()
}

/// Writes an event, collapsing it into the basket's most recent event of the
/// same kind when identical (see the module's invariants); returns the row
/// written or bumped. A plan input in `data.input` is stored compactly.
///
/// # Errors
/// [`Error::Invalid`] for a kind outside 1 to 50 characters; [`Error::Query`].
pub fn insert(conn: &mut PgConnection, event: &NewEvent) -> Result<EventRow, Error> {
    match event.data.as_ref().and_then(compact_data) {
        Some(data) => write(conn, event, Some(&data)),
        None => write(conn, event, event.data.as_ref()),
    }
}

/// Writes `event` with `input` added to its data as `"input"`, compactly
/// ([`compact_input`]): how the worker stores the replayable input of a
/// cycle that acted. Such an event is never collapsed.
///
/// # Errors
/// As [`insert`]; [`Error::Invalid`] when `event.data` is neither an object
/// nor absent.
pub fn insert_with_input(
    conn: &mut PgConnection,
    event: &NewEvent,
    input: &PlanInput,
) -> Result<EventRow, Error> {
    let mut data = match &event.data {
        None => serde_json::Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(other) => {
            return Err(Error::invalid(
                "event data",
                format!("must be a JSON object to carry a plan input, not {other}"),
            ))
        }
    };
    data.insert("input".into(), compact_input(input)?);
    write(conn, event, Some(&Value::Object(data)))
}

/// Key of the transaction advisory lock serialising the event writers of a
/// basket (or of a kind, for events without a basket).
fn lock_key(event: &NewEvent) -> String {
    match event.basket_id {
        Some(b) => format!("events/basket/{b}"),
        None => format!("events/kind/{}", event.kind),
    }
}

fn write(
    conn: &mut PgConnection,
    event: &NewEvent,
    data: Option<&Value>,
) -> Result<EventRow, Error> {
    if event.kind.is_empty() || event.kind.len() > 50 {
        return Err(Error::invalid("event kind", "must be 1 to 50 characters"));
    }
    let collapsible = !carries_input(data);
    let pin_previous = event.level == EventLevel::Error && event.basket_id.is_some();
    conn.transaction(|conn| -> Result<EventRow, Error> {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind::<Text, _>(lock_key(event))
            .execute(conn)?;
        if collapsible {
            if let Some(row) = bump(conn, event, data)? {
                return Ok(row);
            }
        }
        if pin_previous {
            // A new error: the input the basket planned on before it stays.
            diesel::sql_query(
                "UPDATE events SET pinned = true WHERE id = ( \
                   SELECT id FROM events WHERE basket_id = $1 AND kind = $2 \
                   ORDER BY id DESC LIMIT 1) AND NOT pinned",
            )
            .bind::<Nullable<BigInt>, _>(event.basket_id)
            .bind::<Text, _>(CYCLE_KIND)
            .execute(conn)?;
        }
        Ok(diesel::insert_into(events::table)
            .values((
                events::basket_id.eq(event.basket_id),
                events::level.eq(event.level),
                events::kind.eq(&event.kind),
                events::message.eq(&event.message),
                events::data.eq(data),
                events::pinned.eq(pin_previous),
            ))
            .returning(EventRow::as_returning())
            .get_result(conn)?)
    })
}

/// Bumps the newest of the basket's [`LOOKBACK`] most recent events of
/// `event.kind` that has the same level and message (clientOrderId sequence
/// numbers apart); `None` when there is none.
fn bump(
    conn: &mut PgConnection,
    event: &NewEvent,
    data: Option<&Value>,
) -> Result<Option<EventRow>, Error> {
    // `basket_id = $1` and `IS NULL` are separate statements: only these
    // two forms use the index (`IS NOT DISTINCT FROM` does not).
    let basket = match event.basket_id {
        Some(_) => "basket_id = $1",
        None => "basket_id IS NULL AND $1::bigint IS NULL",
    };
    let sql = format!(
        "UPDATE events e SET repeat_count = e.repeat_count + 1, last_seen_at = now(), \
           message = $4, data = $5 \
         WHERE e.id = ( \
           SELECT id FROM ( \
             SELECT id, level, message FROM events WHERE {basket} AND kind = $2 \
             ORDER BY id DESC LIMIT $6) latest \
           WHERE level = $3 \
             AND regexp_replace(message, $7, '\\1', 'g') = regexp_replace($4, $7, '\\1', 'g') \
           ORDER BY id DESC LIMIT 1) \
         RETURNING e.id, e.basket_id, e.level, e.kind, e.message, e.data, e.created_at, \
                   e.repeat_count, e.last_seen_at, e.pinned"
    );
    Ok(diesel::sql_query(sql)
        .bind::<Nullable<BigInt>, _>(event.basket_id)
        .bind::<Text, _>(&event.kind)
        .bind::<Text, _>(event.level.as_str())
        .bind::<Text, _>(&event.message)
        .bind::<Nullable<diesel::sql_types::Jsonb>, _>(data)
        .bind::<BigInt, _>(LOOKBACK)
        .bind::<Text, _>(CID_SEQ)
        .get_result::<EventRow>(conn)
        .optional()?)
}

const ROW_COLUMNS: &str =
    "id, basket_id, level, kind, message, data, created_at, repeat_count, last_seen_at, pinned";

/// Up to `limit` events of one level class (`error`, or every other level),
/// optionally of one basket, newest last-seen first: the union of two index
/// ranges — the newest by `created_at` and the newest repeated ones by
/// `last_seen_at` — ordered by when last seen.
fn recent_class(
    conn: &mut PgConnection,
    errors: bool,
    basket_id: Option<i64>,
    limit: i64,
) -> Result<Vec<EventRow>, Error> {
    let level = if errors {
        "level = 'error'"
    } else {
        "level <> 'error'"
    };
    let basket = if basket_id.is_some() {
        "AND basket_id = $2"
    } else {
        "AND $2::bigint IS NULL"
    };
    let sql = format!(
        "SELECT {ROW_COLUMNS} FROM events WHERE id IN ( \
           (SELECT id FROM events WHERE {level} {basket} \
            ORDER BY created_at DESC, id DESC LIMIT $1) \
           UNION \
           (SELECT id FROM events WHERE last_seen_at IS NOT NULL AND {level} {basket} \
            ORDER BY last_seen_at DESC, id DESC LIMIT $1)) \
         ORDER BY COALESCE(last_seen_at, created_at) DESC, id DESC LIMIT $1"
    );
    Ok(diesel::sql_query(sql)
        .bind::<BigInt, _>(limit)
        .bind::<Nullable<BigInt>, _>(basket_id)
        .load::<EventRow>(conn)?)
}

/// The most recent events, errors first: the newest errors, then the newest
/// other events, `limit` (≤ 500) in all; optionally of one basket. "Newest"
/// is by when last seen, so an event still repeating stays on top.
///
/// # Errors
/// [`Error::Query`].
pub fn recent(
    conn: &mut PgConnection,
    basket_id: Option<i64>,
    limit: i64,
) -> Result<Vec<EventRow>, Error> {
    let limit = crate::page_limit(limit);
    let mut rows = recent_class(conn, true, basket_id, limit)?;
    let rest = limit - i64::try_from(rows.len()).unwrap_or(limit);
    if rest > 0 {
        rows.extend(recent_class(conn, false, basket_id, rest)?);
    }
    Ok(rows)
}

/// The basket's events of one kind, newest first, at most `limit` (≤ 500):
/// one index range of `idx_events_basket_kind`.
///
/// # Errors
/// [`Error::Query`].
pub fn of_kind(
    conn: &mut PgConnection,
    basket_id: i64,
    kind: &str,
    limit: i64,
) -> Result<Vec<EventRow>, Error> {
    Ok(events::table
        .filter(events::basket_id.eq(basket_id))
        .filter(events::kind.eq(kind))
        .select(EventRow::as_select())
        .order(events::id.desc())
        .limit(crate::page_limit(limit))
        .load(conn)?)
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

/// Deletes up to `batch` events older than `cutoff` — first seen and last
/// seen — that are not pinned, oldest first; returns how many. One short
/// statement (an index range of `idx_events_prunable`).
///
/// # Errors
/// [`Error::Invalid`] for `batch < 1`; [`Error::Query`].
pub fn delete_batch_before(
    conn: &mut PgConnection,
    cutoff: DateTime<Utc>,
    batch: i64,
) -> Result<usize, Error> {
    if batch < 1 {
        return Err(Error::invalid("event batch", format!("{batch} is below 1")));
    }
    Ok(diesel::sql_query(
        "DELETE FROM events WHERE id IN ( \
           SELECT id FROM events WHERE created_at < $1 AND NOT pinned \
             AND COALESCE(last_seen_at, created_at) < $1 \
           ORDER BY created_at, id LIMIT $2)",
    )
    .bind::<diesel::sql_types::Timestamptz, _>(cutoff)
    .bind::<BigInt, _>(batch)
    .execute(conn)?)
}

/// Deletes up to `batch` plan-input events (`cycle`) of `basket_id` beyond
/// its newest `keep`, except pinned ones; returns how many. One short
/// statement (an index range of `idx_events_basket_kind`).
///
/// # Errors
/// [`Error::Invalid`] for `keep < 1` or `batch < 1`; [`Error::Query`].
pub fn delete_inputs_beyond(
    conn: &mut PgConnection,
    basket_id: i64,
    keep: i64,
    batch: i64,
) -> Result<usize, Error> {
    if keep < 1 || batch < 1 {
        return Err(Error::invalid(
            "plan inputs kept / batch",
            format!("{keep} / {batch}: both must be at least 1"),
        ));
    }
    Ok(diesel::sql_query(
        "DELETE FROM events WHERE id IN ( \
           SELECT id FROM ( \
             SELECT id, pinned FROM events WHERE basket_id = $1 AND kind = $2 \
             ORDER BY id DESC OFFSET $3) older \
           WHERE NOT pinned LIMIT $4)",
    )
    .bind::<BigInt, _>(basket_id)
    .bind::<Text, _>(CYCLE_KIND)
    .bind::<BigInt, _>(keep)
    .bind::<BigInt, _>(batch)
    .execute(conn)?)
}

/// Deletes events older than `days` (≥ 1) days, except pinned ones and ones
/// seen again within that time; returns how many. Works in batches of 1,000
/// rows, one short statement each (the worker's retention pass bounds its
/// total work; this one runs to the end).
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
    let cutoff = Utc::now() - chrono::TimeDelta::days(days);
    let mut total = 0;
    loop {
        let n = delete_batch_before(conn, cutoff, 1000)?;
        total += n;
        if n < 1000 {
            return Ok(total);
        }
    }
}

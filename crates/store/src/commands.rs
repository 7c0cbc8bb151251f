//! The web → daemon command queue.
//!
//! Invariants: a command is written once per idempotency key (a double submit
//! returns the first row); a pending command is claimed by exactly one worker
//! (`FOR UPDATE SKIP LOCKED`); only its claimant can finish it. Every insert
//! fires `NOTIFY bot_commands` (a trigger), so a listening daemon wakes at once.

use std::fmt;

use chrono::{DateTime, Utc};
use diesel::dsl::sql;
use diesel::pg::{Pg, PgConnection};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};
use grid_core::BasketStatus;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;

use crate::error::Error;
use crate::schema::commands;
use crate::types::{CommandKind, CommandStatus};

/// The channel the `commands` insert trigger notifies.
pub const NOTIFY_CHANNEL: &str = "bot_commands";

/// A `commands` row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = commands, check_for_backend(Pg))]
pub struct CommandRow {
    /// Row id.
    pub id: i64,
    /// What the command asks.
    pub kind: CommandKind,
    /// The basket it is about, if any.
    pub basket_id: Option<i64>,
    /// Its kind's [`Payload`] as stored (read it with [`Payload::parse`]).
    pub payload: Value,
    /// The key that makes a repeated submission one command.
    pub idempotency_key: String,
    /// Its progress.
    pub status: CommandStatus,
    /// Its kind's [`CommandResult`] as stored once done (read it with [`CommandRow::outcome`]).
    pub result: Option<Value>,
    /// Why it failed.
    pub error: Option<String>,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// The worker that claimed it.
    pub claimed_by: Option<String>,
    /// When it was (last) claimed.
    pub started_at: Option<DateTime<Utc>>,
    /// When it finished (done or failed).
    pub finished_at: Option<DateTime<Utc>>,
}

impl CommandRow {
    /// The stored result, read as its kind's [`CommandResult`]; `None` while
    /// the command has none (not done, or failed).
    ///
    /// # Errors
    /// [`Error::Corrupt`] when the stored result is not its kind's shape
    /// (e.g. written by an older version).
    pub fn outcome(&self) -> Result<Option<CommandResult>, Error> {
        match &self.result {
            None | Some(Value::Null) => Ok(None),
            Some(v) => CommandResult::parse(self.kind, v)
                .map(Some)
                .map_err(|e| Error::corrupt("commands", self.id, format!("result: {e}"))),
        }
    }
}

/// A command to write.
#[derive(Debug, Clone, PartialEq, Insertable)]
#[diesel(table_name = commands)]
pub struct NewCommand {
    /// What the command asks (must match the payload's kind).
    pub kind: CommandKind,
    /// The basket it is about, if any.
    pub basket_id: Option<i64>,
    /// Its kind's [`Payload`] as JSON ([`Payload::to_json`]).
    pub payload: Value,
    /// The same key twice means the same request (a double click, a retried POST).
    pub idempotency_key: String,
}

/// Writes a command, or returns the one already written with its key.
/// The flag is true when this call created it.
///
/// # Errors
/// [`Error::Conflict`] when the key was used for a different command;
/// [`Error::Invalid`] for an empty or too long key, or a payload that is not
/// its kind's [`Payload`].
pub fn insert(conn: &mut PgConnection, cmd: &NewCommand) -> Result<(CommandRow, bool), Error> {
    Payload::parse(cmd.kind, &cmd.payload)?;
    if cmd.idempotency_key.is_empty() || cmd.idempotency_key.len() > 200 {
        return Err(Error::invalid(
            "idempotency_key",
            "must be 1 to 200 characters",
        ));
    }
    let created: Option<CommandRow> = diesel::insert_into(commands::table)
        .values(cmd)
        .on_conflict(commands::idempotency_key)
        .do_nothing()
        .returning(CommandRow::as_returning())
        .get_result(conn)
        .optional()?;
    if let Some(row) = created {
        return Ok((row, true));
    }
    let row: CommandRow = commands::table
        .filter(commands::idempotency_key.eq(&cmd.idempotency_key))
        .select(CommandRow::as_select())
        .first(conn)?;
    if row.kind != cmd.kind || row.basket_id != cmd.basket_id {
        return Err(Error::Conflict {
            what: format!("command key `{}`", cmd.idempotency_key),
            detail: format!(
                "it was used for {} on basket {:?}; use a new key for a new command",
                row.kind, row.basket_id
            ),
        });
    }
    Ok((row, false))
}

/// Claims, for `worker_id`, the oldest pending commands (at most `limit`) it
/// may run: those of a basket in `held` (the baskets it leases), those of no
/// basket, and those of a basket that no worker leases any more (a terminal
/// status and no order that may be live: answered without touching the
/// exchange — a no-op or a refusal with its reason). Commands of a basket
/// another worker leases, or that still needs a writer nobody holds yet, are
/// left pending for its holder.
///
/// One transaction with `FOR UPDATE SKIP LOCKED`: two workers never get the
/// same command. Each is marked `running` with `claimed_by = worker_id`;
/// returned oldest first.
///
/// A `running` command is claimed again (same basket rules) when it is an
/// orphan: claimed by `worker_id` itself (a worker runs its commands within
/// one cycle, so one still `running` when it claims is left over from a cycle
/// cut short — a lost connection, a kill — of this worker or of its previous
/// process under the same id), or by a worker without a heartbeat in the last
/// `alive_within_ms`. Every command kind must therefore be safe to run twice.
///
/// # Errors
/// [`Error::Invalid`] for an empty or too long `worker_id`; [`Error::Query`].
pub fn claim_for_worker(
    conn: &mut PgConnection,
    worker_id: &str,
    held: &[i64],
    alive_within_ms: i64,
    limit: i64,
) -> Result<Vec<CommandRow>, Error> {
    if worker_id.is_empty() || worker_id.len() > 100 {
        return Err(Error::invalid("worker_id", "must be 1 to 100 characters"));
    }
    if limit <= 0 {
        return Ok(Vec::new());
    }
    let unleased = format!(
        "commands.basket_id IN (SELECT baskets.id FROM baskets WHERE NOT {})",
        crate::leases::NEEDS_WRITER
    );
    conn.transaction(|conn| {
        let orphan = commands::status.eq(CommandStatus::Running).and(
            commands::claimed_by.eq(worker_id).or(sql::<Bool>(
                "NOT EXISTS (SELECT 1 FROM bot_status s WHERE s.instance_id = commands.claimed_by \
                 AND s.heartbeat_at > now() - make_interval(secs => ",
            )
            .bind::<BigInt, _>(alive_within_ms.max(0))
            .sql("::float8 / 1000))")),
        );
        let ids: Vec<i64> = commands::table
            .filter(commands::status.eq(CommandStatus::Pending).or(orphan))
            .filter(
                commands::basket_id
                    .is_null()
                    .or(commands::basket_id.eq_any(held))
                    .or(sql::<Bool>(&unleased)),
            )
            .select(commands::id)
            .order(commands::id)
            .limit(limit)
            .for_update()
            .skip_locked()
            .load(conn)?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut rows: Vec<CommandRow> =
            diesel::update(commands::table.filter(commands::id.eq_any(&ids)))
                .set((
                    commands::status.eq(CommandStatus::Running),
                    commands::claimed_by.eq(worker_id),
                    commands::started_at.eq(diesel::dsl::now),
                ))
                .returning(CommandRow::as_returning())
                .get_results(conn)?;
        rows.sort_by_key(|r| r.id);
        Ok(rows)
    })
}

fn finish(
    conn: &mut PgConnection,
    id: i64,
    worker_id: &str,
    status: CommandStatus,
    result: Option<(CommandKind, &Value)>,
    error: Option<&str>,
) -> Result<CommandRow, Error> {
    let kinds: &[CommandKind] = match &result {
        Some((kind, _)) => std::slice::from_ref(kind),
        None => CommandKind::ALL,
    };
    let target = commands::table
        .find(id)
        .filter(commands::status.eq(CommandStatus::Running))
        .filter(commands::claimed_by.eq(worker_id))
        .filter(commands::kind.eq_any(kinds));
    let row: Option<CommandRow> = diesel::update(target)
        .set((
            commands::status.eq(status),
            commands::result.eq(result.map(|(_, v)| v)),
            commands::error.eq(error),
            commands::finished_at.eq(diesel::dsl::now),
        ))
        .returning(CommandRow::as_returning())
        .get_result(conn)
        .optional()?;
    row.ok_or_else(|| match result {
        Some(_) => Error::invalid(
            format!("command {id}"),
            format!(
                "is not a running command of worker `{worker_id}` of this result's kind \
                 (finished, reclaimed, unknown or of another kind)"
            ),
        ),
        None => not_running(id, worker_id),
    })
}

/// Marks a claimed command `done` with its result, which must be of the
/// command's kind.
///
/// # Errors
/// [`Error::Invalid`] when `worker_id` does not hold it (any more), or the
/// command is of another kind than `result`.
pub fn complete(
    conn: &mut PgConnection,
    id: i64,
    worker_id: &str,
    result: &CommandResult,
) -> Result<CommandRow, Error> {
    let json = result.to_json()?;
    finish(
        conn,
        id,
        worker_id,
        CommandStatus::Done,
        Some((result.kind(), &json)),
        None,
    )
}

/// Marks a claimed command `failed` with the reason.
///
/// # Errors
/// [`Error::Invalid`] when `worker_id` does not hold it (any more).
pub fn fail(
    conn: &mut PgConnection,
    id: i64,
    worker_id: &str,
    error: &str,
) -> Result<CommandRow, Error> {
    finish(
        conn,
        id,
        worker_id,
        CommandStatus::Failed,
        None,
        Some(error),
    )
}

/// Gives a command `worker_id` claimed back to the queue (`pending`, no
/// claimant): the exchange could not answer it for now (a rate limit, a
/// timeout), so the next cycle of whichever worker may run it tries again.
///
/// # Errors
/// [`Error::Invalid`] when `worker_id` does not hold it (any more).
pub fn release(conn: &mut PgConnection, id: i64, worker_id: &str) -> Result<CommandRow, Error> {
    let target = commands::table
        .find(id)
        .filter(commands::status.eq(CommandStatus::Running))
        .filter(commands::claimed_by.eq(worker_id));
    let row: Option<CommandRow> = diesel::update(target)
        .set((
            commands::status.eq(CommandStatus::Pending),
            commands::claimed_by.eq(None::<String>),
            commands::started_at.eq(None::<DateTime<Utc>>),
        ))
        .returning(CommandRow::as_returning())
        .get_result(conn)
        .optional()?;
    row.ok_or_else(|| not_running(id, worker_id))
}

/// A command `worker_id` does not hold (any more).
fn not_running(id: i64, worker_id: &str) -> Error {
    Error::invalid(
        format!("command {id}"),
        format!("is not running under worker `{worker_id}` (finished, reclaimed or unknown)"),
    )
}

/// The command with this id.
///
/// # Errors
/// [`Error::NotFound`].
pub fn get(conn: &mut PgConnection, id: i64) -> Result<CommandRow, Error> {
    commands::table
        .find(id)
        .select(CommandRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::not_found(format!("command {id}")))
}

/// The newest commands (the dashboard's progress list), at most `limit` (≤ 500).
///
/// # Errors
/// [`Error::Query`].
pub fn recent(conn: &mut PgConnection, limit: i64) -> Result<Vec<CommandRow>, Error> {
    Ok(commands::table
        .select(CommandRow::as_select())
        .order((commands::created_at.desc(), commands::id.desc()))
        .limit(crate::page_limit(limit))
        .load(conn)?)
}

/// The commands written by one form submission: key `key` itself or
/// `key:…` (one per basket), oldest first, at most 500. `key` must hold no
/// `LIKE` wildcard (`%`, `_`, `\`): the dashboard's keys are
/// letters, digits and `-`.
///
/// # Errors
/// [`Error::Invalid`] for a key with a wildcard; [`Error::Query`].
pub fn by_key(conn: &mut PgConnection, key: &str) -> Result<Vec<CommandRow>, Error> {
    if key.contains(['%', '_', '\\']) {
        return Err(Error::invalid(
            "idempotency_key",
            "a submission key may not hold `%`, `_` or `\\`",
        ));
    }
    Ok(commands::table
        .filter(
            commands::idempotency_key
                .eq(key)
                .or(commands::idempotency_key.like(format!("{key}:%"))),
        )
        .select(CommandRow::as_select())
        .order(commands::id)
        .limit(crate::MAX_PAGE)
        .load(conn)?)
}

/// The newest commands of one basket, at most `limit` (≤ 500)
/// (`idx_commands_basket`).
///
/// # Errors
/// [`Error::Query`].
pub fn of_basket(
    conn: &mut PgConnection,
    basket_id: i64,
    limit: i64,
) -> Result<Vec<CommandRow>, Error> {
    Ok(commands::table
        .filter(commands::basket_id.eq(basket_id))
        .select(CommandRow::as_select())
        .order(commands::id.desc())
        .limit(crate::page_limit(limit))
        .load(conn)?)
}

/// Whether any command waits to be claimed (`pending`): the daemon's
/// sleeper wakes early for one (`idx_commands_pending`).
///
/// # Errors
/// [`Error::Query`].
pub fn any_pending(conn: &mut PgConnection) -> Result<bool, Error> {
    Ok(diesel::select(diesel::dsl::exists(
        commands::table.filter(commands::status.eq(CommandStatus::Pending)),
    ))
    .get_result(conn)?)
}

/// One page of every command, newest first (`created_at DESC, id DESC`,
/// `idx_commands_recent`), after `before`; `limit` is clamped to
/// 1..=[`crate::MAX_PAGE`]. The dashboard's `/commands` list.
///
/// # Errors
/// [`Error::Query`].
pub fn page(
    conn: &mut PgConnection,
    before: Option<crate::Cursor>,
    limit: i64,
) -> Result<crate::Page<CommandRow>, Error> {
    let limit = crate::page_limit(limit);
    let mut q = commands::table.select(CommandRow::as_select()).into_boxed();
    if let Some(c) = before {
        q = q.filter(crate::orders::keyset_before(c));
    }
    let mut rows: Vec<CommandRow> = q
        .order((commands::created_at.desc(), commands::id.desc()))
        .limit(limit + 1)
        .load(conn)?;
    let keep = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = rows.len() > keep;
    rows.truncate(keep);
    let next = if more {
        rows.last().map(|r| crate::Cursor {
            at: r.created_at,
            id: r.id,
        })
    } else {
        None
    };
    Ok(crate::Page { rows, next })
}

/// Commands not finished yet (pending or running), oldest first.
///
/// # Errors
/// [`Error::Query`].
pub fn unfinished(conn: &mut PgConnection) -> Result<Vec<CommandRow>, Error> {
    Ok(commands::table
        .filter(commands::status.eq_any([CommandStatus::Pending, CommandStatus::Running]))
        .select(CommandRow::as_select())
        .order(commands::id)
        .load(conn)?)
}

/// Subscribes a dedicated (non-pooled) connection to [`NOTIFY_CHANNEL`].
///
/// # Errors
/// [`Error::Query`].
pub fn listen(conn: &mut PgConnection) -> Result<(), Error> {
    use diesel::connection::SimpleConnection;
    conn.batch_execute(&format!("LISTEN {NOTIFY_CHANNEL}"))?;
    Ok(())
}

/// Drains the notifications received so far on a [`listen`]ing connection
/// without blocking; returns the ids of the commands they announce.
///
/// # Errors
/// [`Error::Query`] when the connection is broken (reconnect and listen again).
pub fn drain_notifications(conn: &mut PgConnection) -> Result<Vec<i64>, Error> {
    let mut ids = Vec::new();
    for n in conn.notifications_iter() {
        let n = n?;
        if n.channel == NOTIFY_CHANNEL {
            if let Ok(id) = n.payload.parse() {
                ids.push(id);
            }
        }
    }
    Ok(ids)
}

/// What a command asks, one shape per kind: written by the dashboard and the
/// CLI, read by the worker, both through this type, so a field one side
/// writes and the other ignores cannot happen again (unknown fields are
/// refused). [`insert`] refuses a payload that does not parse for its kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// `pause`.
    Pause(Origin),
    /// `resume`.
    Resume(Origin),
    /// `close_basket`.
    CloseBasket(ClosePayload),
    /// `close_all`.
    CloseAll(Origin),
    /// `reanchor`.
    Reanchor(ReanchorPayload),
    /// `create_basket`.
    CreateBasket(CreateBasketPayload),
    /// `edit_config`.
    EditConfig(EditConfigPayload),
}

/// Who asked (`web`, `cli`); informative only.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Origin {
    /// `web`, `cli`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// `close_basket`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClosePayload {
    /// `web`, `cli`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Part of a close-all from the dashboard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_all: Option<bool>,
    /// The `close_all` command that queued it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<i64>,
}

/// `reanchor`: the anchor the operator saw and confirmed (the plan's
/// suggestion on the dashboard); `None` anchors at the last price.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReanchorPayload {
    /// `web`, `cli`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The new basket's anchor; `None`: the last price.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "new_anchor_field"
    )]
    pub new_anchor: Option<rust_decimal::Decimal>,
}

/// `create_basket`: validated by the worker exactly like `basket create`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBasketPayload {
    /// `web`, `cli`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The symbol to trade (`SOLUSDC`).
    pub symbol: String,
    /// The anchor price; `None`: the last price.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "anchor_field"
    )]
    pub anchor: Option<rust_decimal::Decimal>,
    /// Fields of the strategy config (strategy.md §2) over the defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<serde_json::Map<String, Value>>,
}

/// `edit_config`: fields of the strategy config (strategy.md §2) that
/// replace the basket's own; the basket must be `paused`. The worker merges
/// them over the basket's stored config and validates the result against the
/// symbol's live rules, the basket's anchor, its fills and the free balance,
/// exactly like `create_basket` (nothing changes when refused).
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditConfigPayload {
    /// `web`, `cli`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The fields to change (the others keep their stored value).
    pub config: serde_json::Map<String, Value>,
}

fn new_anchor_field<'de, D>(d: D) -> Result<Option<rust_decimal::Decimal>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    positive_price(d, "new_anchor")
}

fn anchor_field<'de, D>(d: D) -> Result<Option<rust_decimal::Decimal>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    positive_price(d, "anchor")
}

/// A positive price written as a JSON string (`"150.5"`, exact) or number.
fn positive_price<'de, D>(d: D, field: &str) -> Result<Option<rust_decimal::Decimal>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::de::Error as _;
    use serde::Deserialize as _;
    let text = match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => {
            return Err(D::Error::custom(format!(
                "{field}: {other} is not a decimal"
            )));
        }
    };
    let v: rust_decimal::Decimal = text
        .parse()
        .map_err(|e| D::Error::custom(format!("{field}: `{text}` is not a decimal: {e}")))?;
    if v <= rust_decimal::Decimal::ZERO {
        return Err(D::Error::custom(format!(
            "{field}: `{text}` is not a positive price"
        )));
    }
    Ok(Some(v))
}

impl Payload {
    /// The command kind this payload belongs to.
    pub fn kind(&self) -> CommandKind {
        match self {
            Payload::Pause(_) => CommandKind::Pause,
            Payload::Resume(_) => CommandKind::Resume,
            Payload::CloseBasket(_) => CommandKind::CloseBasket,
            Payload::CloseAll(_) => CommandKind::CloseAll,
            Payload::Reanchor(_) => CommandKind::Reanchor,
            Payload::CreateBasket(_) => CommandKind::CreateBasket,
            Payload::EditConfig(_) => CommandKind::EditConfig,
        }
    }

    /// Reads a stored payload as its kind's shape. `null` is an empty payload.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the payload field that is unknown, missing
    /// or malformed.
    pub fn parse(kind: CommandKind, v: &Value) -> Result<Payload, Error> {
        fn read<T: serde::de::DeserializeOwned>(kind: CommandKind, v: &Value) -> Result<T, Error> {
            let v = if v.is_null() {
                Value::Object(Default::default())
            } else {
                v.clone()
            };
            read_named(format!("{kind} payload"), v)
        }
        Ok(match kind {
            CommandKind::Pause => Payload::Pause(read(kind, v)?),
            CommandKind::Resume => Payload::Resume(read(kind, v)?),
            CommandKind::CloseBasket => Payload::CloseBasket(read(kind, v)?),
            CommandKind::CloseAll => Payload::CloseAll(read(kind, v)?),
            CommandKind::Reanchor => Payload::Reanchor(read(kind, v)?),
            CommandKind::CreateBasket => Payload::CreateBasket(read(kind, v)?),
            CommandKind::EditConfig => Payload::EditConfig(read(kind, v)?),
        })
    }

    /// The payload as stored.
    ///
    /// # Errors
    /// [`Error::Invalid`] if it cannot be written as JSON (it always can).
    pub fn to_json(&self) -> Result<Value, Error> {
        let v = match self {
            Payload::Pause(p) | Payload::Resume(p) | Payload::CloseAll(p) => {
                serde_json::to_value(p)
            }
            Payload::CloseBasket(p) => serde_json::to_value(p),
            Payload::Reanchor(p) => serde_json::to_value(p),
            Payload::CreateBasket(p) => serde_json::to_value(p),
            Payload::EditConfig(p) => serde_json::to_value(p),
        };
        v.map_err(|e| Error::invalid("payload", e.to_string()))
    }
}

impl NewCommand {
    /// A command of `payload`'s kind.
    ///
    /// # Errors
    /// As [`Payload::to_json`].
    pub fn new(
        payload: &Payload,
        basket_id: Option<i64>,
        idempotency_key: impl Into<String>,
    ) -> Result<NewCommand, Error> {
        Ok(NewCommand {
            kind: payload.kind(),
            basket_id,
            payload: payload.to_json()?,
            idempotency_key: idempotency_key.into(),
        })
    }
}

/// What a finished command did, one shape per kind: written by the worker
/// ([`complete`]), read by the dashboard and the CLI ([`CommandRow::outcome`]),
/// both through this type (unknown fields are refused, as for [`Payload`]).
#[derive(Debug, Clone, PartialEq)]
pub enum CommandResult {
    /// `pause`: the basket's status after it.
    Pause(StatusResult),
    /// `resume`: the basket's status after it.
    Resume(StatusResult),
    /// `close_basket`: the basket's status after it.
    CloseBasket(StatusResult),
    /// `close_all`: the `close_basket` commands it queued.
    CloseAll(CloseAllResult),
    /// `reanchor`: the closed basket and its successor.
    Reanchor(ReanchorResult),
    /// `create_basket`: the basket created.
    CreateBasket(CreateBasketResult),
    /// `edit_config`: the fields that changed.
    EditConfig(EditConfigResult),
}

/// `pause`, `resume`, `close_basket`: the basket's status once the command
/// ran (the status it set, or the one it already had when there was nothing
/// to do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusResult {
    /// The basket.
    pub basket_id: i64,
    /// Its status after the command.
    pub status: BasketStatus,
}

/// `close_all`: the ids of the `close_basket` commands it queued (one per
/// basket that may hold something; those already queued by an earlier run
/// are listed again).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseAllResult {
    /// The `close_basket` commands, ascending basket id.
    pub queued: Vec<i64>,
}

/// `reanchor`: the basket closed (`reanchored`) and the one opened in its place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReanchorResult {
    /// The reanchored basket.
    pub basket_id: i64,
    /// Its status after the command (`closed`).
    pub status: BasketStatus,
    /// The basket opened in its place.
    pub new_basket_id: i64,
    /// The new basket's anchor.
    pub anchor: Decimal,
}

/// `create_basket`: the basket created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBasketResult {
    /// The new basket.
    pub basket_id: i64,
    /// Its symbol.
    pub symbol: String,
    /// Its anchor price.
    pub anchor: Decimal,
}

/// `edit_config`: the basket and the config fields whose value changed
/// (empty when the new config equals the stored one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditConfigResult {
    /// The basket.
    pub basket_id: i64,
    /// The top-level config fields that changed, sorted by name.
    pub changed: Vec<String>,
}

impl CommandResult {
    /// The command kind this result belongs to.
    pub fn kind(&self) -> CommandKind {
        match self {
            CommandResult::Pause(_) => CommandKind::Pause,
            CommandResult::Resume(_) => CommandKind::Resume,
            CommandResult::CloseBasket(_) => CommandKind::CloseBasket,
            CommandResult::CloseAll(_) => CommandKind::CloseAll,
            CommandResult::Reanchor(_) => CommandKind::Reanchor,
            CommandResult::CreateBasket(_) => CommandKind::CreateBasket,
            CommandResult::EditConfig(_) => CommandKind::EditConfig,
        }
    }

    /// Reads a stored result as its kind's shape.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the field that is unknown, missing or malformed.
    pub fn parse(kind: CommandKind, v: &Value) -> Result<CommandResult, Error> {
        fn read<T: serde::de::DeserializeOwned>(kind: CommandKind, v: &Value) -> Result<T, Error> {
            read_named(format!("{kind} result"), v.clone())
        }
        Ok(match kind {
            CommandKind::Pause => CommandResult::Pause(read(kind, v)?),
            CommandKind::Resume => CommandResult::Resume(read(kind, v)?),
            CommandKind::CloseBasket => CommandResult::CloseBasket(read(kind, v)?),
            CommandKind::CloseAll => CommandResult::CloseAll(read(kind, v)?),
            CommandKind::Reanchor => CommandResult::Reanchor(read(kind, v)?),
            CommandKind::CreateBasket => CommandResult::CreateBasket(read(kind, v)?),
            CommandKind::EditConfig => CommandResult::EditConfig(read(kind, v)?),
        })
    }

    /// The result as stored.
    ///
    /// # Errors
    /// [`Error::Invalid`] if it cannot be written as JSON (it always can).
    pub fn to_json(&self) -> Result<Value, Error> {
        let v = match self {
            CommandResult::Pause(r) | CommandResult::Resume(r) | CommandResult::CloseBasket(r) => {
                serde_json::to_value(r)
            }
            CommandResult::CloseAll(r) => serde_json::to_value(r),
            CommandResult::Reanchor(r) => serde_json::to_value(r),
            CommandResult::CreateBasket(r) => serde_json::to_value(r),
            CommandResult::EditConfig(r) => serde_json::to_value(r),
        };
        v.map_err(|e| Error::invalid("result", e.to_string()))
    }
}

/// One line for people (the dashboard's command list): `basket 3 is paused`,
/// `queued 2 close commands (#7, #8)`, …
impl fmt::Display for CommandResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandResult::Pause(r) | CommandResult::Resume(r) | CommandResult::CloseBasket(r) => {
                write!(f, "basket {} is {}", r.basket_id, r.status)
            }
            CommandResult::CloseAll(r) if r.queued.is_empty() => f.write_str("nothing to close"),
            CommandResult::CloseAll(r) => {
                let ids: Vec<String> = r.queued.iter().map(|id| format!("#{id}")).collect();
                write!(
                    f,
                    "queued {} close command{} ({})",
                    ids.len(),
                    if ids.len() == 1 { "" } else { "s" },
                    ids.join(", ")
                )
            }
            CommandResult::Reanchor(r) => write!(
                f,
                "basket {} is {}; new basket {} at {}",
                r.basket_id,
                r.status,
                r.new_basket_id,
                r.anchor.normalize()
            ),
            CommandResult::CreateBasket(r) => write!(
                f,
                "basket {} created: {} at {}",
                r.basket_id,
                r.symbol,
                r.anchor.normalize()
            ),
            CommandResult::EditConfig(r) if r.changed.is_empty() => {
                write!(f, "basket {}: config unchanged", r.basket_id)
            }
            CommandResult::EditConfig(r) => write!(
                f,
                "basket {} config changed: {}",
                r.basket_id,
                r.changed.join(", ")
            ),
        }
    }
}

/// Reads `v` as `T`; the error names `what` and the field that is unknown,
/// missing or malformed (`config: invalid type …`).
fn read_named<T: serde::de::DeserializeOwned>(what: String, v: Value) -> Result<T, Error> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        let msg = e.into_inner().to_string();
        let reason = if path == "." || msg.starts_with(&path) {
            msg
        } else {
            format!("{path}: {msg}")
        };
        Error::invalid(what, reason)
    })
}

//! The `commands` table of [`super::MemLedger`] and the store's command
//! operations on it (`store::commands`), check for check: an idempotency
//! key names one command; a claim takes the oldest pending commands the
//! worker may run (and the orphans of a worker without a heartbeat, or its
//! own); only the claimant finishes a command, once.

use std::collections::BTreeSet;

use grid_core::{BasketStatus, GridConfig, SymbolRules};
use rust_decimal::Decimal;
use serde_json::Value;
use store::baskets::BasketRow;
use store::commands::{CommandResult, CommandRow, NewCommand, Payload};
use store::events::EventRow;
use store::money::{check, Col};
use store::{CommandStatus, Error, Writer};

use super::tables::{invalid, plus_ms, scaled_basket, Db};
use super::OrderRowStatus;
use crate::ledger::{
    config_changed_event, created_event, reanchored_event, ConfigChange, Successor,
};

impl Db {
    /// `commands::insert`: the command, or the one already written with
    /// its key (a conflict when that one is of another kind or basket).
    pub(super) fn insert_command(&mut self, cmd: &NewCommand) -> Result<i64, Error> {
        Payload::parse(cmd.kind, &cmd.payload)?;
        if cmd.idempotency_key.is_empty() || cmd.idempotency_key.len() > 200 {
            return Err(invalid("idempotency_key", "must be 1 to 200 characters"));
        }
        if let Some(row) = self
            .command_keys
            .get(&cmd.idempotency_key)
            .and_then(|id| self.commands.get(id))
        {
            if row.kind != cmd.kind || row.basket_id != cmd.basket_id {
                return Err(Error::Conflict {
                    what: format!("command key `{}`", cmd.idempotency_key),
                    detail: format!(
                        "it was used for {} on basket {:?}; use a new key for a new command",
                        row.kind, row.basket_id
                    ),
                });
            }
            return Ok(row.id);
        }
        if let Some(b) = cmd.basket_id {
            if !self.baskets.contains_key(&b) {
                return Err(invalid("basket_id", format!("basket {b} does not exist")));
            }
        }
        let id = self.next_command_id();
        let row = CommandRow {
            id,
            kind: cmd.kind,
            basket_id: cmd.basket_id,
            payload: cmd.payload.clone(),
            idempotency_key: cmd.idempotency_key.clone(),
            status: CommandStatus::Pending,
            result: None,
            error: None,
            created_at: self.now(),
            claimed_by: None,
            started_at: None,
            finished_at: None,
        };
        self.command_keys.insert(row.idempotency_key.clone(), id);
        self.commands.insert(id, row);
        Ok(id)
    }

    /// The ids `commands::claim_for_worker` would claim, oldest first.
    pub(super) fn claimable(
        &self,
        worker: &str,
        held: &[i64],
        alive_within_ms: i64,
        limit: i64,
    ) -> Vec<i64> {
        let now = self.now();
        let alive: BTreeSet<&str> = self
            .heartbeats
            .iter()
            .filter(|(_, at)| plus_ms(**at, alive_within_ms.max(0)) > now)
            .map(|(w, _)| w.as_str())
            .collect();
        let limit = usize::try_from(limit.max(0)).unwrap_or(0);
        self.commands
            .values()
            .filter(|c| match c.status {
                CommandStatus::Pending => true,
                CommandStatus::Running => c
                    .claimed_by
                    .as_deref()
                    .is_some_and(|w| w == worker || !alive.contains(w)),
                CommandStatus::Done | CommandStatus::Failed => false,
            })
            .filter(|c| match c.basket_id {
                None => true,
                Some(b) => held.contains(&b) || !self.needs_writer(b),
            })
            .map(|c| c.id)
            .take(limit)
            .collect()
    }

    /// Marks `ids` running under `worker`; returns their rows.
    pub(super) fn claim(&mut self, worker: &str, ids: &[i64]) -> Vec<CommandRow> {
        let now = self.now();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(c) = self.commands.get_mut(id) {
                c.status = CommandStatus::Running;
                c.claimed_by = Some(worker.to_string());
                c.started_at = Some(now);
                out.push(c.clone());
            }
        }
        out
    }

    /// `commands::complete` / `commands::fail`.
    pub(super) fn finish_command(
        &mut self,
        id: i64,
        worker: &str,
        outcome: Result<&CommandResult, &str>,
    ) -> Result<(), Error> {
        let now = self.now();
        let result = match outcome {
            Ok(r) => Some((r.kind(), r.to_json()?)),
            Err(_) => None,
        };
        let row = self.commands.get_mut(&id).filter(|c| {
            c.status == CommandStatus::Running
                && c.claimed_by.as_deref() == Some(worker)
                && result.as_ref().is_none_or(|(k, _)| *k == c.kind)
        });
        let Some(row) = row else {
            return Err(invalid(
                format!("command {id}"),
                format!("is not running under worker `{worker}` (finished, reclaimed or unknown)"),
            ));
        };
        match (outcome, result) {
            (Ok(_), Some((_, json))) => {
                row.status = CommandStatus::Done;
                row.result = Some(json);
                row.error = None;
            }
            (_, _) => {
                row.status = CommandStatus::Failed;
                row.result = None;
                row.error = outcome.err().map(str::to_string);
            }
        }
        row.finished_at = Some(now);
        Ok(())
    }

    /// `commands::release`: back to `pending`, no claimant.
    pub(super) fn release_command(&mut self, id: i64, worker: &str) -> Result<(), Error> {
        let Some(row) = self.commands.get_mut(&id).filter(|c| {
            c.status == CommandStatus::Running && c.claimed_by.as_deref() == Some(worker)
        }) else {
            return Err(invalid(
                format!("command {id}"),
                format!("is not running under worker `{worker}` (finished, reclaimed or unknown)"),
            ));
        };
        row.status = CommandStatus::Pending;
        row.claimed_by = None;
        row.started_at = None;
        Ok(())
    }

    /// `baskets::list_closable`.
    pub(super) fn closable(&self) -> Vec<BasketRow> {
        self.baskets
            .values()
            .filter(|b| {
                matches!(
                    b.status,
                    BasketStatus::Active
                        | BasketStatus::Paused
                        | BasketStatus::Stopping
                        | BasketStatus::Closing
                        | BasketStatus::Error
                ) || b.pos > Decimal::ZERO
                    || self.orders_of.get(&b.id).is_some_and(|ids| {
                        ids.iter().any(|id| {
                            self.orders
                                .get(id)
                                .is_some_and(|o| OrderRowStatus::OPEN.contains(&o.status))
                        })
                    })
            })
            .cloned()
            .collect()
    }

    /// `events::by_command`: the newest event of `kind` whose data names
    /// the command.
    pub(super) fn command_event(&self, kind: &str, command: i64) -> Option<EventRow> {
        self.events
            .iter()
            .rev()
            .find(|e| {
                e.kind == kind
                    && e.data
                        .as_ref()
                        .and_then(|d| d.get("command"))
                        .and_then(Value::as_i64)
                        == Some(command)
            })
            .cloned()
    }

    /// `create` and the `created` event, in one commit.
    pub(super) fn create_for_command(
        &mut self,
        command: i64,
        config: &GridConfig,
        rules: &SymbolRules,
        anchor: Decimal,
    ) -> Result<BasketRow, Error> {
        let row = self.new_basket(config, rules, anchor)?;
        self.baskets.insert(row.id, row.clone());
        let event = created_event(&row, command);
        match self.event_row(&event, event.data.clone()) {
            Ok(e) => {
                self.push_event(e);
                Ok(row)
            }
            Err(e) => {
                self.baskets.remove(&row.id);
                Err(e)
            }
        }
    }

    /// `set_status(closed, reanchored)`, `create` and the `reanchor` event,
    /// in one commit.
    pub(super) fn reanchor_for_command(
        &mut self,
        writer: Writer<'_>,
        basket: i64,
        command: i64,
        successor: Successor<'_>,
    ) -> Result<BasketRow, Error> {
        self.lock_basket(writer, basket)?;
        let nb = self.new_basket(successor.config, successor.rules, successor.anchor)?;
        let event = reanchored_event(basket, &nb, successor.anchor, command);
        let row = self.event_row(&event, event.data.clone())?;
        self.set_status(writer, basket, BasketStatus::Closed, Some("reanchored"))?;
        self.baskets.insert(nb.id, nb.clone());
        self.push_event(row);
        Ok(nb)
    }

    /// `baskets::update_config` and the `config_changed` event, in one commit.
    pub(super) fn edit_config_for_command(
        &mut self,
        writer: Writer<'_>,
        basket: i64,
        command: i64,
        config: &GridConfig,
        change: &ConfigChange,
    ) -> Result<BasketRow, Error> {
        config.validate_self()?;
        let budget = config.budget();
        check("budget", budget, Col::Exchange)?;
        let config_json = serde_json::to_value(config)
            .map_err(|e| invalid("config", format!("cannot serialize: {e}")))?;
        let mut row = self.lock_basket(writer, basket)?;
        store::baskets::check_editable(&row, config)?;
        let event = config_changed_event(basket, command, change);
        let event_row = self.event_row(&event, event.data.clone())?;
        row.config = config_json;
        row.budget_quote = budget;
        row.updated_at = self.now();
        self.setting_writes += 1;
        let row = scaled_basket(row);
        self.baskets.insert(basket, row.clone());
        self.push_event(event_row);
        Ok(row)
    }
}

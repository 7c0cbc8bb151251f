//! Operator commands (pause, resume, close, close-all, reanchor, create
//! basket, edit a paused basket's config), claimed from the [`Ledger`] (PostgreSQL in production, the
//! simulation harness's memory ledger in tests) and run by the worker that
//! holds the basket (or by any worker when no lease is needed). A command
//! run twice does its work once: each records an event its second run finds.

use binance_rest::{Exchange, ExchangeOrder, OrderRef};
use grid_core::{basket_prefix, BasketStatus};
use rust_decimal::Decimal;
use serde_json::Value;
use store::baskets::BasketRow;
use store::commands::{
    CloseAllResult, ClosePayload, CommandResult, CommandRow, CreateBasketPayload,
    CreateBasketResult, EditConfigPayload, EditConfigResult, NewCommand, Payload, ReanchorResult,
    StatusResult,
};
use store::events::NewEvent;
use store::{EventLevel, Writer};

use super::convert::full_of;
use super::Worker;
use crate::error::DaemonError;
use crate::ledger::{ConfigChange, Ledger, Successor};

impl<E: Exchange> Worker<E> {
    pub(super) fn run_commands(
        &mut self,
        ledger: &mut impl Ledger,
        held: &[i64],
    ) -> Result<usize, DaemonError> {
        let worker = self.cfg.worker_id.clone();
        let cmds = ledger.claim_commands(&worker, held, self.cfg.lease_ms, 50)?;
        let n = cmds.len();
        for c in cmds {
            let outcome = self.run_command(ledger, &c);
            let basket = c
                .basket_id
                .map(|b| b.to_string())
                .unwrap_or_else(|| "-".into());
            let busy = outcome.as_ref().is_err_and(CommandError::is_busy);
            let recorded = match &outcome {
                // Not an answer: the exchange could not say. Queued again
                // for the next cycle (of whichever worker may run it).
                Err(_) if busy => ledger.release_command(c.id, &worker),
                Ok(v) => ledger.finish_command(c.id, &worker, Ok(v)),
                Err(e) => ledger.finish_command(c.id, &worker, Err(&e.to_string())),
            };
            match (recorded, &outcome) {
                (Ok(_), Err(e)) if busy => {
                    log::warn!(
                        "Command deferred id={} kind={} basket={basket}: {e}",
                        c.id,
                        c.kind
                    );
                }
                (Ok(_), Ok(_)) => {
                    log::info!("Command done id={} kind={} basket={basket}", c.id, c.kind);
                }
                (Ok(_), Err(e)) => {
                    log::warn!(
                        "Command failed id={} kind={} basket={basket}: {e}",
                        c.id,
                        c.kind
                    );
                }
                // Connection lost: the cycle stops here (the caller retries);
                // the command stays `running` under this worker, which claims
                // it again next cycle (running it twice does its work once).
                (Err(e), _) if e.is_retryable() => {
                    log::error!(
                        "Command outcome not recorded id={} kind={} basket={basket} ok={}: {e}",
                        c.id,
                        c.kind,
                        outcome.is_ok()
                    );
                    return Err(e.into());
                }
                // No longer ours (reclaimed, or finished by someone else):
                // its row is left to its current claimant; go on with the rest.
                (Err(e), _) => {
                    log::warn!(
                        "Command outcome not recorded id={} kind={} basket={basket} ok={}: {e}",
                        c.id,
                        c.kind,
                        outcome.is_ok()
                    );
                }
            }
        }
        Ok(n)
    }

    fn run_command<L: Ledger>(
        &mut self,
        conn: &mut L,
        c: &CommandRow,
    ) -> Result<CommandResult, CommandError> {
        let payload = Payload::parse(c.kind, &c.payload)?;
        let basket = |conn: &mut L| -> Result<BasketRow, CommandError> {
            let id = c.basket_id.ok_or(CommandError::NeedsBasket)?;
            Ok(conn.basket(id)?)
        };
        // A command writes under this worker's lease, or on a basket that no
        // worker needs to lease (those are the commands any worker claims).
        let set = |conn: &mut L, id: i64, s: BasketStatus| -> Result<StatusResult, CommandError> {
            conn.set_status(Writer::Command(&self.cfg.worker_id), id, s, None)?;
            conn.insert_event(&NewEvent::new(
                Some(id),
                EventLevel::Info,
                "status",
                format!("Status set to {s} by command {}", c.id),
            ))?;
            log::info!("Status changed basket={id} status={s} command={}", c.id);
            Ok(StatusResult {
                basket_id: id,
                status: s,
            })
        };
        let unchanged = |b: &BasketRow| StatusResult {
            basket_id: b.id,
            status: b.status,
        };
        let refused = |b: &BasketRow, allowed: &'static str| CommandError::Status {
            basket_id: b.id,
            status: b.status,
            allowed,
        };
        match payload {
            Payload::Pause(_) => {
                let b = basket(conn)?;
                let r = match b.status {
                    BasketStatus::Active => set(conn, b.id, BasketStatus::Paused)?,
                    BasketStatus::Paused => unchanged(&b),
                    _ => return Err(refused(&b, "only an active basket can be paused")),
                };
                Ok(CommandResult::Pause(r))
            }
            Payload::Resume(_) => {
                let b = basket(conn)?;
                let r = match b.status {
                    BasketStatus::Paused => set(conn, b.id, BasketStatus::Active)?,
                    BasketStatus::Active => unchanged(&b),
                    BasketStatus::Error => {
                        // Validated again: back to active only if it can be
                        // planned now; else it stays in error with the reason.
                        self.revalidate(conn, &b)?;
                        set(conn, b.id, BasketStatus::Active)?
                    }
                    _ => {
                        return Err(refused(
                            &b,
                            "only a paused basket or one in error can be resumed",
                        ))
                    }
                };
                Ok(CommandResult::Resume(r))
            }
            Payload::CloseBasket(_) => {
                let b = basket(conn)?;
                let r = match b.status {
                    BasketStatus::Active
                    | BasketStatus::Paused
                    | BasketStatus::Stopping
                    | BasketStatus::Error => set(conn, b.id, BasketStatus::Closing)?,
                    BasketStatus::Closing => unchanged(&b),
                    // Ended, yet it may hold coins or a live order (an older
                    // version, a manual status edit): close it too.
                    _ if self.holds_something(conn, &b)? => set(conn, b.id, BasketStatus::Closing)?,
                    _ => unchanged(&b),
                };
                Ok(CommandResult::CloseBasket(r))
            }
            Payload::CloseAll(_) => {
                // One close_basket command per basket that may hold something,
                // whatever its status: each is run by the worker that holds
                // that basket (or by any worker when none needs to).
                let targets = conn.closable_baskets()?;
                let mut queued = Vec::new();
                for b in targets {
                    let key = format!("{}:{}", c.idempotency_key, b.id);
                    let close = Payload::CloseBasket(ClosePayload {
                        parent: Some(c.id),
                        ..ClosePayload::default()
                    });
                    let cmd = NewCommand::new(&close, Some(b.id), key)?;
                    queued.push(conn.insert_command(&cmd)?);
                }
                Ok(CommandResult::CloseAll(CloseAllResult { queued }))
            }
            Payload::Reanchor(p) => {
                let b = basket(conn)?;
                self.reanchor_command(conn, b, c.id, p.new_anchor)
                    .map(CommandResult::Reanchor)
            }
            Payload::CreateBasket(p) => self
                .create_basket_command(conn, c.id, &p)
                .map(CommandResult::CreateBasket),
            Payload::EditConfig(p) => {
                let b = basket(conn)?;
                self.edit_config_command(conn, b, c.id, &p)
                    .map(CommandResult::EditConfig)
            }
        }
    }

    /// `resume` of a basket in `error`: its config and rules are read again
    /// and a plan is made from its fills and open orders at the last price,
    /// as `active`.
    fn revalidate(&self, conn: &mut impl Ledger, b: &BasketRow) -> Result<(), CommandError> {
        let still = |e: &dyn std::fmt::Display| CommandError::StaysInError {
            basket_id: b.id,
            reason: e.to_string(),
        };
        let (config, rules) = match (b.config(), b.rules()) {
            (Ok(c), Ok(r)) => (c, r),
            (Err(e), _) | (_, Err(e)) => return Err(still(&e)),
        };
        self.plans_as_active(conn, b, &config, &rules)
            .map_err(|u| match u {
                Unplannable::Exchange(e) if e.is_retryable() => {
                    exchange_failed(format!("basket {}: no answer to check it", b.id), e)
                }
                Unplannable::Exchange(e) => still(&e),
                Unplannable::Plan(why) => still(&why),
            })
    }

    /// Whether the basket, `active` with this config and these rules, plans
    /// without error from its fills and its open orders at the last price
    /// (both read from the exchange now).
    fn plans_as_active(
        &self,
        conn: &mut impl Ledger,
        b: &BasketRow,
        config: &grid_core::GridConfig,
        rules: &grid_core::SymbolRules,
    ) -> Result<(), Unplannable> {
        let prices = self
            .exchange
            .ticker_prices(std::slice::from_ref(&b.symbol))
            .map_err(Unplannable::Exchange)?;
        let last = prices
            .get(&b.symbol)
            .copied()
            .filter(|p| *p > Decimal::ZERO)
            .ok_or_else(|| Unplannable::Plan(format!("no last price for {}", b.symbol)))?;
        let open = self
            .exchange
            .open_orders(Some(&b.symbol))
            .map_err(Unplannable::Exchange)?;
        let prefix = basket_prefix(&b.symbol, b.id);
        let open: Vec<ExchangeOrder> = open
            .into_iter()
            .filter(|o| o.client_order_id.starts_with(&prefix))
            .collect();
        let mut active = b.clone();
        active.status = BasketStatus::Active;
        let input = super::plan_input(
            conn,
            self.clock.now_ms(),
            &active,
            config,
            rules,
            &open,
            last,
        )
        .map_err(|e| Unplannable::Plan(e.to_string()))?;
        grid_core::plan(&input).map_err(|e| Unplannable::Plan(e.to_string()))?;
        Ok(())
    }

    /// `edit_config` ([`EditConfigPayload`]) of a `paused` basket: the fields
    /// over its stored config, validated like `create_basket` (the symbol's
    /// live rules, the anchor, the ids, a larger budget against the free
    /// balance) and planned as `active` from its fills and open orders (what
    /// `resume` will do); then the config, the budget and a `config_changed`
    /// event in one commit. Refused with the reason, nothing changed,
    /// otherwise.
    fn edit_config_command(
        &mut self,
        conn: &mut impl Ledger,
        b: BasketRow,
        cmd: i64,
        payload: &EditConfigPayload,
    ) -> Result<EditConfigResult, CommandError> {
        let id = b.id;
        if let Some(done) = conn.command_event("config_changed", cmd)? {
            // Run a second time: the first run changed it.
            let changed = done
                .data
                .as_ref()
                .and_then(|d| d.get("changed"))
                .and_then(|v| serde_json::from_value::<Vec<String>>(v.clone()).ok())
                .ok_or_else(|| {
                    refused(format!(
                        "basket {id}: the config_changed event of command {cmd} does not list the fields"
                    ))
                })?;
            return Ok(EditConfigResult {
                basket_id: id,
                changed,
            });
        }
        if b.status != BasketStatus::Paused {
            return Err(CommandError::Status {
                basket_id: id,
                status: b.status,
                allowed: "only a paused basket's config can be changed (pause it first)",
            });
        }
        let (config, rules) =
            crate::cli::basket::validate_edit(&self.exchange, &b, &payload.config)?;
        self.plans_as_active(conn, &b, &config, &rules)
            .map_err(|u| match u {
                Unplannable::Exchange(e) => {
                    exchange_failed(format!("basket {id}: no answer to check the new config"), e)
                }
                Unplannable::Plan(why) => refused(format!(
                    "basket {id}: the new config cannot trade this basket's fills and orders: {why}"
                )),
            })?;
        let new_json = serde_json::to_value(&config).map_err(|e| {
            refused(format!(
                "basket {id}: the new config cannot be written: {e}"
            ))
        })?;
        let change = ConfigChange::between(&b.config, &new_json);
        if change.is_empty() {
            return Ok(EditConfigResult {
                basket_id: id,
                changed: Vec::new(),
            });
        }
        conn.edit_config_for_command(
            Writer::Command(&self.cfg.worker_id),
            id,
            cmd,
            &config,
            &change,
        )?;
        log::info!(
            "Config changed by command basket={id} fields={} command={cmd}",
            change.changed.join(",")
        );
        Ok(EditConfigResult {
            basket_id: id,
            changed: change.changed,
        })
    }

    /// Whether an ended basket still holds a position worth selling at the
    /// last price, or an order that may be live.
    fn holds_something(&self, conn: &mut impl Ledger, b: &BasketRow) -> Result<bool, CommandError> {
        let open = conn.open_orders_of(b.id)?;
        if !open.is_empty() {
            return Ok(true);
        }
        if b.pos <= Decimal::ZERO {
            return Ok(false);
        }
        let rules = b
            .rules()
            .map_err(|e| refused(format!("basket {}: {e}", b.id)))?;
        let last = self.last_price(&b.symbol)?;
        Ok(!rules.is_dust(b.pos, last))
    }

    /// `create_basket` ([`CreateBasketPayload`]), validated exactly like
    /// `bot-daemon basket create` (nothing stored when refused).
    fn create_basket_command(
        &mut self,
        conn: &mut impl Ledger,
        cmd: i64,
        payload: &CreateBasketPayload,
    ) -> Result<CreateBasketResult, CommandError> {
        let created = |row: BasketRow| CreateBasketResult {
            basket_id: row.id,
            symbol: row.symbol,
            anchor: row.anchor_price,
        };
        if let Some(done) = conn.command_event("created", cmd)? {
            // Run a second time: the first run created it.
            let id = done
                .basket_id
                .ok_or_else(|| refused("the created event has no basket".into()))?;
            return Ok(created(conn.basket(id)?));
        }
        let overlay = payload.config.clone().map(Value::Object);
        let nb = crate::cli::basket::validate_new(
            conn,
            &self.exchange,
            &payload.symbol,
            payload.anchor,
            overlay,
        )?;
        // The basket and the event that marks the command's work: all or nothing.
        let row = conn.create_basket_for_command(cmd, &nb.config, &nb.rules, nb.anchor)?;
        log::info!(
            "Basket created by command basket={} symbol={} anchor={} command={cmd}",
            row.id,
            row.symbol,
            row.anchor_price
        );
        Ok(created(row))
    }

    /// `reanchor`: when the basket's position is dust, cancel its orders,
    /// close it (`reanchored`) and open a new basket with the same config at
    /// `asked` (the anchor the operator confirmed) or, without one, at the
    /// last price. Refused with the reason when the position is not dust, or
    /// when the asked anchor's first level is at or above the last price (the
    /// price fell since: its buys would trade at once); nothing changes
    /// unless every cancel is confirmed.
    fn reanchor_command(
        &mut self,
        conn: &mut impl Ledger,
        b: BasketRow,
        cmd: i64,
        asked: Option<Decimal>,
    ) -> Result<ReanchorResult, CommandError> {
        let id = b.id;
        if let Some(done) = conn.command_event("reanchor", cmd)? {
            // Run a second time (the first run's cycle was cut short before
            // the command was marked done): report what the first run did.
            let data = done.data.unwrap_or(Value::Null);
            let field = |name: &str| data.get(name).cloned().unwrap_or(Value::Null);
            let (Ok(new_basket_id), Ok(anchor)) = (
                serde_json::from_value::<i64>(field("new_basket_id")),
                serde_json::from_value::<Decimal>(field("anchor")),
            ) else {
                return Err(refused(format!(
                    "basket {id}: the reanchor event of command {cmd} does not name the new basket"
                )));
            };
            return Ok(ReanchorResult {
                basket_id: id,
                status: BasketStatus::Closed,
                new_basket_id,
                anchor,
            });
        }
        if !matches!(b.status, BasketStatus::Active | BasketStatus::Paused) {
            return Err(CommandError::Status {
                basket_id: id,
                status: b.status,
                allowed: "only an active or paused basket can be reanchored",
            });
        }
        let (config, rules) = match (b.config(), b.rules()) {
            (Ok(c), Ok(r)) => (c, r),
            (Err(e), _) | (_, Err(e)) => return Err(refused(format!("basket {id}: {e}"))),
        };
        let open = conn.open_orders_of(id)?;
        if let Some(o) = open.iter().find(|o| o.status.is_unconfirmed()) {
            return Err(refused(format!(
                "basket {id}: the outcome of order {} is not known yet; try again in a few seconds",
                o.client_order_id
            )));
        }
        let last = self.last_price(&b.symbol)?;
        let prices = std::collections::HashMap::from([(b.symbol.clone(), last)]);
        let not_dust = |pos: Decimal| {
            refused(format!(
                "basket {id} holds {} {} (not dust at {last}): the position must be sold first \
                 (wait for the take-profits or close the basket)",
                pos.normalize(),
                b.base_asset
            ))
        };
        if !rules.is_dust(b.pos, last) {
            return Err(not_dust(b.pos));
        }
        let anchor = rules.round_price_down(asked.unwrap_or(last));
        let first_level = grid_core::ladder::base_levels(&config, &rules, anchor)
            .into_iter()
            .find(|l| l.is_active())
            .map(|l| l.price);
        if let Some(p) = first_level.filter(|p| *p >= last) {
            return Err(refused(format!(
                "basket {id}: a new anchor at {anchor} puts its first buy at {p}, at or above \
                 the last price {last} (the price moved since the reanchor was asked); \
                 reanchor again"
            )));
        }
        for o in &open {
            self.check_lease(conn, id)?;
            match self
                .exchange
                .cancel_order(&b.symbol, OrderRef::Client(o.client_order_id.clone()))
            {
                Ok(ex) => {
                    conn.upsert_from_exchange(self.lease(), &full_of(&ex))?;
                }
                Err(e) if e.is_unknown_order() => {
                    self.refresh(conn, &b.symbol, &o.client_order_id)?;
                }
                Err(e) if e.is_retryable() => {
                    return Err(exchange_failed(
                        format!("basket {id}: cancel of {}", o.client_order_id),
                        e,
                    ))
                }
                Err(e) => {
                    return Err(refused(format!(
                    "basket {id}: cancel of {} failed ({e}); the basket is unchanged, try again",
                    o.client_order_id
                )))
                }
            }
        }
        // A buy may have filled before its cancel: the position decides again.
        if self.sync_trades(conn, &b, &prices)?.is_none() {
            return Err(refused(format!(
                "basket {id}: an order's exchange id is not known yet; try again in a few seconds"
            )));
        }
        let b = conn.basket(id)?;
        if !rules.is_dust(b.pos, last) {
            return Err(not_dust(b.pos));
        }
        // Closing the old basket, opening the new one and the event that
        // marks the command's work: all or nothing.
        let successor = Successor {
            config: &config,
            rules: &rules,
            anchor,
        };
        let nb = conn
            .reanchor_for_command(self.lease(), id, cmd, successor)
            .map_err(|e| {
                refused(format!(
                    "basket {id}: reanchor not done, nothing changed: {e}"
                ))
            })?;
        log::info!(
            "Reanchored by command basket={id} new_basket={} anchor={anchor} command={cmd}",
            nb.id
        );
        Ok(ReanchorResult {
            basket_id: id,
            status: BasketStatus::Closed,
            new_basket_id: nb.id,
            anchor,
        })
    }

    /// The symbol's last price, for a command.
    fn last_price(&self, symbol: &str) -> Result<Decimal, CommandError> {
        let prices = self
            .exchange
            .ticker_prices(&[symbol.to_string()])
            .map_err(|e| exchange_failed(format!("no last price for {symbol}"), e))?;
        prices
            .get(symbol)
            .copied()
            .ok_or_else(|| refused(format!("no last price for {symbol}")))
    }
}

/// Why a basket cannot be planned as `active` ([`Worker::plans_as_active`]).
enum Unplannable {
    /// The exchange did not answer (the price or the open orders).
    Exchange(binance_rest::Error),
    /// The plan (or its input) was refused, with the reason.
    Plan(String),
}

fn refused(why: String) -> CommandError {
    CommandError::Refused(why)
}

/// An exchange call of a command failed: busy (tried again next cycle)
/// when the error is one that passes, else refused with the reason.
fn exchange_failed(what: String, e: binance_rest::Error) -> CommandError {
    if e.is_retryable() {
        CommandError::Busy { what, source: e }
    } else {
        refused(format!("{what}: {e}"))
    }
}

/// Why a command failed (its row's `error`; the operator reads it).
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The command's row or a basket's row could not be read or written.
    #[error("{0}")]
    Store(#[from] store::Error),
    /// The exchange or the database failed during the command.
    #[error("{0}")]
    Daemon(#[from] DaemonError),
    /// A basket command without a basket.
    #[error("this command needs a basket")]
    NeedsBasket,
    /// The basket's status does not allow the command.
    #[error("basket {basket_id} is {status}; {allowed}")]
    Status {
        /// The basket.
        basket_id: i64,
        /// Its status.
        status: BasketStatus,
        /// Which statuses the command accepts.
        allowed: &'static str,
    },
    /// `resume` of a basket in error that still cannot be planned.
    #[error("basket {basket_id} stays in error: {reason}")]
    StaysInError {
        /// The basket.
        basket_id: i64,
        /// Why it cannot be planned.
        reason: String,
    },
    /// Refused for a reason the message gives (position not dust, price
    /// moved, an order's outcome unknown, a cancel failed …); nothing changed.
    #[error("{0}")]
    Refused(String),
    /// The exchange could not answer for now (a rate limit, a timeout, a
    /// 5xx): the command goes back to the queue and runs again next cycle
    /// (every kind is safe to run twice).
    #[error("{what}: {source}; tried again next cycle")]
    Busy {
        /// What the command was doing.
        what: String,
        /// The exchange's error (retryable).
        source: binance_rest::Error,
    },
}

impl CommandError {
    /// Whether the command did nothing because the exchange could not
    /// answer for now: it goes back to the queue instead of failing.
    pub fn is_busy(&self) -> bool {
        match self {
            CommandError::Busy { .. } => true,
            CommandError::Daemon(DaemonError::Exchange(e)) => e.is_retryable(),
            _ => false,
        }
    }
}

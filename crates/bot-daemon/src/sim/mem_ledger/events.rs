//! The store's event log (`store::events`) and last prices
//! (`store::misc::upsert_prices`) on [`super::tables::Db`], check for check.
//!
//! Unlike `store::events::insert`, repeated events are not collapsed into
//! one row (`repeat_count` stays 1): the harness's checker sees every
//! occurrence. A basket's error event is pinned, and so is the basket's last
//! `cycle` event before it (on every error, not only a new one).

use std::collections::BTreeSet;

use diesel::result::DatabaseErrorKind;
use grid_core::PlanInput;
use rust_decimal::Decimal;
use serde_json::Value;
use store::events::{EventRow, NewEvent, CYCLE_KIND};
use store::money::{check_non_negative, Col};
use store::{Error, EventLevel};

use super::tables::{db_error, ex, invalid, too_long, Db};

impl Db {
    // ---- prices (store::misc::upsert_prices) ----

    pub(super) fn upsert_prices(&mut self, rows: &[(String, Decimal)]) -> Result<(), Error> {
        for (symbol, price) in rows {
            check_non_negative(&format!("price of {symbol}"), *price, Col::Exchange)?;
        }
        let mut seen = BTreeSet::new();
        for (symbol, _) in rows {
            if symbol.chars().count() > 20 {
                return Err(too_long(20));
            }
            if !seen.insert(symbol.as_str()) {
                return Err(db_error(
                    DatabaseErrorKind::Unknown,
                    "ON CONFLICT DO UPDATE command cannot affect row a second time",
                ));
            }
        }
        let now = self.now();
        for (symbol, price) in rows {
            self.prices.insert(symbol.clone(), (ex(*price), now));
        }
        Ok(())
    }

    // ---- events (store::events) ----

    /// `events::insert`: a plan input written in full is stored compactly.
    pub(super) fn insert_event(&mut self, event: &NewEvent) -> Result<(), Error> {
        let data = match event.data.as_ref().and_then(compact_data) {
            Some(d) => Some(d),
            None => event.data.clone(),
        };
        self.write_event(event, data)
    }

    /// `events::insert_with_input`.
    pub(super) fn insert_cycle_event(
        &mut self,
        event: &NewEvent,
        input: &PlanInput,
    ) -> Result<(), Error> {
        let mut data = match &event.data {
            None => serde_json::Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(other) => {
                return Err(invalid(
                    "event data",
                    format!("must be a JSON object to carry a plan input, not {other}"),
                ))
            }
        };
        data.insert("input".into(), store::events::compact_input(input)?);
        self.write_event(event, Some(Value::Object(data)))
    }

    /// `events::write`, without collapsing repeats: every event is a row.
    fn write_event(&mut self, event: &NewEvent, data: Option<Value>) -> Result<(), Error> {
        let row = self.event_row(event, data)?;
        self.push_event(row);
        Ok(())
    }

    /// The checks of `events::write` and the row it inserts (its id drawn).
    pub(super) fn event_row(
        &mut self,
        event: &NewEvent,
        data: Option<Value>,
    ) -> Result<EventRow, Error> {
        if event.kind.is_empty() || event.kind.len() > 50 {
            return Err(invalid("event kind", "must be 1 to 50 characters"));
        }
        let id = self.next_event_id();
        if let Some(b) = event.basket_id {
            if !self.baskets.contains_key(&b) {
                return Err(db_error(
                    DatabaseErrorKind::ForeignKeyViolation,
                    "insert or update on table \"events\" violates foreign key constraint \"events_basket_id_fkey\"",
                ));
            }
        }
        Ok(EventRow {
            id,
            basket_id: event.basket_id,
            level: event.level,
            kind: event.kind.clone(),
            message: event.message.clone(),
            data,
            created_at: self.now(),
            repeat_count: 1,
            last_seen_at: None,
            // A basket's error event is pinned, and so is its last plan input.
            pinned: event.level == EventLevel::Error && event.basket_id.is_some(),
        })
    }

    pub(super) fn push_event(&mut self, row: EventRow) {
        if row.pinned {
            if let Some(prev) = self
                .events
                .iter_mut()
                .rev()
                .find(|e| e.basket_id == row.basket_id && e.kind == CYCLE_KIND)
            {
                prev.pinned = true;
            }
        }
        self.events.push(row);
    }
}

/// `compact_data`: `data` with a plan input written in full replaced by its
/// compact form; `None` when there is nothing to compact.
fn compact_data(data: &Value) -> Option<Value> {
    let input = data.get("input")?;
    let fills = input.get("fills")?.as_array()?;
    if !fills.iter().any(Value::is_object) {
        return None;
    }
    let typed: PlanInput = serde_json::from_value(input.clone()).ok()?;
    let compact = store::events::compact_input(&typed).ok()?;
    let mut out = data.clone();
    if let Some(slot) = out.get_mut("input") {
        *slot = compact;
    }
    Some(out)
}

//! The `Strategy` trait and the grid strategy (strategy.md §3–§9).
//!
//! A strategy turns validated input into desired orders (with what each role
//! still wants) and the plan's meta; the reconciler does the rest, so a second
//! strategy plugs in without touching the daemon.
//!
//! Invariants of the grid: no BUY unless the basket is `active` and no reanchor
//! is actionable; buys never cost more than the remaining budget; sells never
//! ask for more than the position; every emitted order is tradable.

use rust_decimal::Decimal;

use crate::band::PriceBand;
use crate::config::{GridConfig, PlaceMode};
use crate::error::PlanError;
use crate::ids::Role;
use crate::input::ValidInput;
use crate::ladder::{base_levels, extension_levels, InactiveLevel, Level};
use crate::model::{BasketStatus, OrderType, Side, TimeInForce};
use crate::num::{dec_gt, mul_dec, sub_dec};
use crate::plan::{PlanMeta, ReanchorMeta};
use crate::reconcile::{role_orders, Desired};
use crate::rules::SymbolRules;
use crate::state::BasketState;

/// What a strategy wants: desired orders and the plan's meta
/// (`order_seq_after` is filled in by the reconciler).
#[derive(Debug, Clone)]
pub struct Intent {
    /// One entry per role the strategy wants open, in any order (the reconciler sorts).
    pub desired: Vec<Desired>,
    /// The plan's meta; `order_seq_after` is overwritten by the reconciler.
    pub meta: PlanMeta,
    /// The last prices at which the strategy decides the same (`None`: only
    /// the last price itself, as far as the strategy can tell).
    pub band: Option<PriceBand>,
    /// TP2 while a TRAIL is desired: the last price against it decides the
    /// TRAIL's `stopPrice`, which counts only when the TRAIL is sent
    /// (created or replaced; an open TRAIL's `stopPrice` is never
    /// compared), so [`crate::plan_banded`] adds this line to the band then.
    pub trail_activation: Option<Decimal>,
}

/// A strategy: validated input in, desired orders and meta out, with no I/O,
/// clock or randomness ([`crate::plan_with`] runs it).
pub trait Strategy {
    /// A short, stable name of the strategy (`grid`).
    fn name(&self) -> &'static str;

    /// Whether [`Strategy::intent`] reads `ValidInput::fills` (each fill with
    /// its role). When `false`, `plan_with` leaves that list empty and the
    /// strategy works from `ValidInput::state`, which is built either way.
    fn needs_fills(&self) -> bool {
        true
    }

    /// The desired orders and meta for one validated input.
    ///
    /// # Errors
    /// A `StrategyError` when the history contradicts itself.
    fn intent(&self, input: &ValidInput<'_>) -> Result<Intent, PlanError>;
}

/// The grid ("basket") strategy of strategy.md.
#[derive(Debug, Clone, Copy, Default)]
pub struct GridStrategy;

fn limit(role: Role, side: Side, price: Decimal, want: Decimal) -> Desired {
    Desired {
        role,
        side,
        order_type: OrderType::Limit,
        price,
        want,
        stop_price: None,
        trailing_delta: None,
        time_in_force: TimeInForce::Gtc,
    }
}

/// What is left of a level: `want = rd(qty_i - filled_i, step)`, and whether
/// the level is done (`want` is not tradable at its price). Computed once per
/// level and plan.
#[derive(Debug, Clone, Copy)]
struct Progress {
    want: Decimal,
    done: bool,
}

fn progress(rules: &SymbolRules, levels: &[Level], state: &BasketState) -> Vec<Progress> {
    levels
        .iter()
        .map(|l| {
            let want = rules.round_qty_down(sub_dec(l.qty, state.filled(l.index)));
            Progress {
                want,
                done: !rules.is_tradable(want, l.price),
            }
        })
        .collect()
}

fn buys(
    cfg: &GridConfig,
    levels: &[Level],
    progress: &[Progress],
    last: Decimal,
    remaining_budget: Decimal,
    band: &mut PriceBand,
) -> Vec<Desired> {
    let candidates = levels
        .iter()
        .zip(progress)
        .filter(|(l, p)| l.is_active() && !p.done);
    let mut chosen: Vec<(&Level, &Progress)> = match cfg.place_mode {
        PlaceMode::AllUnfilled => candidates.collect(),
        PlaceMode::OnlyNextK => {
            let mut below: Vec<(&Level, &Progress)> = candidates
                .filter(|(l, _)| band.at_or_above(last, l.price))
                .collect();
            below.sort_by(|a, b| b.0.price.cmp(&a.0.price).then(a.0.index.cmp(&b.0.index)));
            below.truncate(cfg.k_next as usize);
            below.sort_by_key(|(l, _)| l.index);
            below
        }
    };
    let mut cost = Decimal::ZERO;
    // Room for the (at most 3) sells appended after the buys.
    let mut out = Vec::with_capacity(chosen.len() + 3);
    for (l, p) in chosen.drain(..) {
        cost += mul_dec(p.want, l.price);
        if dec_gt(cost, remaining_budget) {
            break;
        }
        out.push(limit(Role::Buy(l.index), Side::Buy, l.price, p.want));
    }
    out
}

struct Sells {
    orders: Vec<Desired>,
    tp1_price: Decimal,
    tp2_price: Decimal,
    tp_n: Decimal,
}

fn sells(
    cfg: &GridConfig,
    rules: &SymbolRules,
    state: &BasketState,
    avg: Decimal,
    last: Decimal,
) -> Sells {
    let levels = Decimal::from(state.filled_levels().max(1) - 1);
    let tp_n = (cfg.tp_start_pct - cfg.tp_step_pct * levels).max(cfg.tp_min_pct);
    let tp1_price = rules.round_price_up(avg * (Decimal::ONE + tp_n));
    let tp2_price = rules.round_price_up(avg * (Decimal::ONE + tp_n + cfg.tp2_delta_pct));
    let trail_bips = cfg.trailing_delta_bips();

    let nb = state.net_bought;
    let tp1_total = rules.round_qty_down(nb * cfg.tp1_share);
    let (tp2_total, trail_total) = if trail_bips.is_some() {
        let tp2 = rules.round_qty_down(nb * cfg.tp2_share);
        (tp2, nb - tp1_total - tp2)
    } else {
        (nb - tp1_total, Decimal::ZERO)
    };
    let mut roles: Vec<(Role, Decimal, Decimal, Decimal)> = vec![
        (Role::Tp1, tp1_price, tp1_total, state.sold_tp1),
        (Role::Tp2, tp2_price, tp2_total, state.sold_tp2),
    ];
    if trail_bips.is_some() {
        roles.push((Role::Trail, tp1_price, trail_total, state.sold_trail));
    }

    // What a role passes on joins the next role's total before that role's
    // sales are taken off (`max(0, total_r + passed - sold_r)`): a role that
    // already sold what was passed to it does not sell it again, and a partial
    // fill of its open order leaves `want + executedQty` unchanged (§7).
    let mut left = state.position;
    let mut carry = Decimal::ZERO;
    let mut orders = Vec::with_capacity(3);
    for (role, price, total, sold) in roles {
        let want = (total + carry - sold).max(Decimal::ZERO).min(left);
        let want = rules.round_qty_down(want);
        if !rules.is_tradable(want, price) {
            carry = want;
            continue;
        }
        carry = Decimal::ZERO;
        left -= want;
        let mut d = limit(role, Side::Sell, price, want);
        if role == Role::Trail {
            d.order_type = OrderType::TakeProfitLimit;
            d.trailing_delta = trail_bips;
            d.stop_price = (last < tp2_price).then_some(tp2_price);
        }
        orders.push(d);
    }
    Sells {
        orders,
        tp1_price,
        tp2_price,
        tp_n,
    }
}

impl Strategy for GridStrategy {
    fn name(&self) -> &'static str {
        "grid"
    }

    /// The grid works from the derived state only.
    fn needs_fills(&self) -> bool {
        false
    }

    fn intent(&self, input: &ValidInput<'_>) -> Result<Intent, PlanError> {
        let cfg = &input.config;
        let rules = &input.rules;
        let p0 = input.basket.anchor_price;
        let last = input.last;

        let mut levels = base_levels(cfg, rules, p0);
        let state = &input.state;
        let mut progress = progress(rules, &levels, state);
        let base_all_done = levels
            .iter()
            .zip(&progress)
            .filter(|(l, _)| l.is_active())
            .all(|(_, p)| p.done);
        if base_all_done {
            let ext = extension_levels(cfg, rules, p0);
            progress.extend(self::progress(rules, &ext, state));
            levels.extend(ext);
        }

        let mut band = PriceBand::anywhere();
        let position_dust = band.is_dust(rules, state.position, last);
        let stop_loss_price = cfg.stop_loss_pct.map(|sl| p0 * (Decimal::ONE - sl));

        // Effective status of this cycle, before the reanchor decision.
        let mut status = input.basket.status;
        let mut closed_reason = None;
        if matches!(status, BasketStatus::Active | BasketStatus::Paused) {
            if let Some(line) = stop_loss_price {
                if band.at_or_below(last, line) {
                    status = BasketStatus::Stopping;
                }
            }
        }

        let mut reanchor = ReanchorMeta::default();
        if status == BasketStatus::Active {
            let rr = &cfg.reanchor_rules;
            let bought_and_sold = state.has_buys && state.has_sells;
            if position_dust && bought_and_sold {
                reanchor.reasons.push("flat".to_string());
            }
            if state.net_bought > Decimal::ZERO && state.closed_ratio() >= rr.close_ratio {
                reanchor.reasons.push("closed_ratio".to_string());
            }
            let age_ms = i128::from(input.now_ms) - i128::from(input.basket.created_at_ms);
            if !state.has_buys && age_ms >= i128::from(rr.time_ttl_s) * 1000 {
                reanchor.reasons.push("ttl".to_string());
            }
            if let Some(up) = rr.up_pct {
                if !state.has_buys && band.at_or_above(last, p0 * (Decimal::ONE + up)) {
                    reanchor.reasons.push("price_up".to_string());
                }
            }
            reanchor.suggested = !reanchor.reasons.is_empty();
            reanchor.actionable = reanchor.suggested && position_dust;
            reanchor.new_anchor = reanchor.suggested.then_some(last);
            if reanchor.actionable {
                // The successor is anchored at the last price. A suggestion
                // that is not actionable only shows it (see `PriceBand`).
                band.pin(last);
            }
        }

        let spent = state.spent_quote;
        let remaining_budget = cfg.budget() - spent;
        let mut desired = Vec::new();
        let mut tp = None;
        let mut status_after = status;

        let wants_sells = matches!(status, BasketStatus::Active | BasketStatus::Paused)
            && !reanchor.actionable
            && !position_dust;
        // Sells are appended after the buys: `desired` is then already in the
        // reconciler's order (buys by level, TP1, TP2, TRAIL), so its stable
        // sort finds one run and moves nothing. Roles are unique, so the
        // sorted order is the same either way.
        let mut sell_orders = Vec::new();
        if wants_sells {
            if let Some(avg) = state.avg_price {
                let s = sells(cfg, rules, state, avg, last);
                tp = Some((s.tp_n, s.tp1_price, s.tp2_price));
                sell_orders = s.orders;
            }
        }
        match status {
            BasketStatus::Active if reanchor.actionable => {
                status_after = BasketStatus::Closed;
                closed_reason = Some(
                    if reanchor.reasons.iter().any(|r| r == "flat") {
                        "completed"
                    } else {
                        "reanchored"
                    }
                    .to_string(),
                );
            }
            BasketStatus::Active => {
                // `desired` is still empty here: take the buys' vector as is.
                let mut b = buys(cfg, &levels, &progress, last, remaining_budget, &mut band);
                b.append(&mut desired);
                desired = b;
            }
            BasketStatus::Stopping | BasketStatus::Closing => {
                // The EXIT's price follows the last price.
                band.pin(last);
                let (role_open, _) = role_orders(&input.orders);
                let fresh =
                    rules.round_price_down(last * (Decimal::ONE - cfg.emergency_safety_pct));
                let price = match role_open.get(&Role::Exit) {
                    Some((_, o)) if o.price > Decimal::ZERO && o.price <= last => o.price,
                    _ => fresh,
                };
                let want = rules.round_qty_down(state.position);
                if rules.is_tradable(want, price) {
                    desired.push(limit(Role::Exit, Side::Sell, price, want));
                } else {
                    status_after = if status == BasketStatus::Stopping {
                        BasketStatus::Stopped
                    } else {
                        BasketStatus::EmergencyClosed
                    };
                    closed_reason = Some(
                        if status == BasketStatus::Stopping {
                            "stop_loss"
                        } else {
                            "emergency_close"
                        }
                        .to_string(),
                    );
                }
            }
            _ => {}
        }
        desired.extend(sell_orders);

        let halted = status != BasketStatus::Active || reanchor.actionable;
        let halt_reason = if status != BasketStatus::Active {
            Some(status.as_str().to_string())
        } else if reanchor.actionable {
            Some("reanchor".to_string())
        } else {
            None
        };
        let selling: Decimal = desired
            .iter()
            .filter(|d| d.side == Side::Sell)
            .map(|d| d.want)
            .sum();
        let inactive_levels = levels
            .iter()
            .filter_map(|l| {
                l.inactive.as_ref().map(|r| InactiveLevel {
                    level: l.index,
                    reason: r.clone(),
                })
            })
            .collect();
        let meta = PlanMeta {
            avg_price: state.avg_price.map(|d| d.normalize()),
            position: state.position.normalize(),
            net_bought: state.net_bought.normalize(),
            filled_levels: state.filled_levels(),
            planned_levels_n: u32::try_from(levels.len()).unwrap_or(u32::MAX),
            inactive_levels,
            remaining_quote_budget: remaining_budget.normalize(),
            tp_n: tp.map(|t| t.0.normalize()),
            halted,
            halt_reason,
            reanchor,
            dust: (state.position - selling).normalize(),
            order_seq_after: input.basket.order_seq,
            status_after,
            closed_reason,
            tp1_price: tp.map(|t| rules.canonical_price(t.1)),
            tp2_price: tp.map(|t| rules.canonical_price(t.2)),
            stop_loss_price: stop_loss_price.map(|p| p.normalize()),
        };
        let trail_activation = tp
            .filter(|_| desired.iter().any(|d| d.role == Role::Trail))
            .map(|t| t.2);
        Ok(Intent {
            desired,
            meta,
            band: Some(band),
            trail_activation,
        })
    }
}

//! `plan_banded`: where a plan stays the same (strategy.md §5, §6, §8, §9:
//! the lines the last price is compared with).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::ops::Bound;

use common::*;
use grid_core::*;
use rust_decimal_macros::dec;

#[test]
fn an_idle_ladder_plans_the_same_between_the_levels_around_the_last_price() {
    // Levels 142.500, 135.000, 127.500, …; only the next two under 140 are
    // placed, so the plan changes when the price reaches 142.500 or falls
    // under 135.000.
    let inp = input(dec!(140));
    let (planned, band) = plan_banded(&inp).unwrap();
    assert_eq!(rows(&planned, Some(Side::Buy)).len(), 2);
    assert_eq!(band.lower(), Bound::Included(dec!(135.000)));
    assert_eq!(band.upper(), Bound::Excluded(dec!(142.500)));
    for p in [dec!(135), dec!(138.123), dec!(142.499)] {
        let mut at = inp.clone();
        at.last_price = p;
        assert_eq!(plan(&at).unwrap(), planned, "at {p}");
    }
    let mut above = inp.clone();
    above.last_price = dec!(142.5);
    assert_ne!(plan(&above).unwrap(), planned);
}

#[test]
fn placing_every_level_depends_on_no_line() {
    let mut inp = input(dec!(140));
    inp.basket.config.place_mode = PlaceMode::AllUnfilled;
    let (_, band) = plan_banded(&inp).unwrap();
    assert_eq!(band.lower(), Bound::Excluded(dec!(0)));
    assert!(band.contains(dec!(1)) && band.contains(dec!(100000)));
}

#[test]
fn an_actionable_reanchor_anchors_at_the_last_price_so_the_plan_is_pinned_to_it() {
    let mut inp = input(dec!(170));
    inp.basket.config.reanchor_rules.up_pct = Some(dec!(0.1));
    let (planned, band) = plan_banded(&inp).unwrap();
    assert_eq!(planned.meta.reanchor.reasons, vec!["price_up".to_string()]);
    assert!(planned.meta.reanchor.actionable);
    assert!(band.contains(dec!(170)) && !band.contains(dec!(170.001)));
    // Under the line, the line bounds the band.
    let mut under = inp.clone();
    under.last_price = dec!(160);
    let (_, band) = plan_banded(&under).unwrap();
    assert_eq!(band.upper(), Bound::Excluded(dec!(165.0)));
}

#[test]
fn a_closing_basket_prices_its_exit_from_the_last_price() {
    let mut inp = input(dec!(140));
    inp.basket.status = BasketStatus::Closing;
    inp.fills = vec![buy(1, 1, dec!(142.5), dec!(1))];
    let (planned, band) = plan_banded(&inp).unwrap();
    assert_eq!(planned.orders.len(), 1);
    assert!(band.contains(dec!(140)) && !band.contains(dec!(140.001)));
}

#[test]
fn the_stop_loss_line_bounds_the_band_from_below() {
    let mut inp = input(dec!(140));
    inp.basket.config.place_mode = PlaceMode::AllUnfilled;
    inp.basket.config.stop_loss_pct = Some(dec!(0.4));
    let (_, band) = plan_banded(&inp).unwrap();
    assert_eq!(band.lower(), Bound::Excluded(dec!(90.0)));
}

#[test]
fn a_suggestion_that_cannot_act_only_shows_the_price_and_does_not_pin_the_plan() {
    // 0.9 of 1 SOL sold (closed_ratio 0.9 >= 0.7): suggested, but 0.1 SOL
    // (worth ~14) is not dust, so nothing acts; the TP orders decide.
    let mut inp = input(dec!(140));
    inp.fills = vec![
        buy(1, 1, dec!(142.5), dec!(1)),
        sell(2, "TP1", dec!(144), dec!(0.9)),
    ];
    let (planned, band) = plan_banded(&inp).unwrap();
    let r = &planned.meta.reanchor;
    assert!(r.suggested && !r.actionable, "{r:?}");
    assert_eq!(r.new_anchor, Some(dec!(140)));
    assert!(
        band.contains(dec!(139)) && band.contains(dec!(141)),
        "{band:?}"
    );
    let mut at = inp.clone();
    at.last_price = dec!(139);
    let mut other = plan(&at).unwrap();
    assert_eq!(other.meta.reanchor.new_anchor, Some(dec!(139)));
    other.meta.reanchor.new_anchor = Some(dec!(140));
    assert_eq!(other, planned);
}

#[test]
fn tp2_bounds_the_band_only_while_the_trail_is_to_be_sent() {
    // One level bought: TP1, TP2 and the TRAIL (activation at TP2) are to
    // be created, so the price's side of TP2 decides the TRAIL's stopPrice.
    let mut inp = input(dec!(143));
    inp.fills = vec![buy(1, 1, dec!(142.5), dec!(1))];
    inp.basket.order_seq = 1;
    let (planned, band) = plan_banded(&inp).unwrap();
    let tp2 = planned.meta.tp2_price.unwrap();
    let trail = planned
        .orders
        .iter()
        .find(|o| o.role == Role::Trail)
        .unwrap();
    assert_eq!(trail.stop_price, Some(tp2));
    assert!(planned.actions.to_create.contains(&trail.client_order_id));
    assert_eq!(band.upper(), Bound::Excluded(tp2));
    // Once every sell is open, the TRAIL is kept whatever the price does
    // around TP2: the line no longer bounds the band.
    inp.open_orders = planned
        .orders
        .iter()
        .enumerate()
        .map(|(i, o)| open_from(o, 100 + i as i64))
        .collect();
    inp.basket.order_seq = planned.meta.order_seq_after;
    let (kept, band) = plan_banded(&inp).unwrap();
    assert!(kept.actions.is_empty(), "{:?}", kept.actions);
    assert!(
        band.contains(tp2) && band.contains(tp2 + dec!(0.5)),
        "{band:?}"
    );
}

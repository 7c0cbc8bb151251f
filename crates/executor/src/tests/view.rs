use grid_core::{BasketStatus, Fill, Side};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::{meta, plan, planned};
use crate::view::{
    fills_behind, needs_complete_view, status_outcome, unidentified, Behind, StatusOutcome,
};

fn fill(cid: &str, trade_id: i64, qty: Decimal) -> Fill {
    Fill {
        trade_id,
        exchange_order_id: 1,
        client_order_id: cid.into(),
        side: Side::Buy,
        price: dec!(100),
        qty,
        commission: Decimal::ZERO,
        commission_asset: "USDC".into(),
        commission_quote: Decimal::ZERO,
    }
}

#[test]
fn fills_behind_names_the_first_order_executed_beyond_its_fills() {
    let fills = [
        fill("a", 1, dec!(0.4)),
        fill("a", 2, dec!(0.6)),
        fill("b", 3, dec!(0.5)),
    ];
    let behind = |cid: &str, executed, recorded| {
        Some(Behind {
            client_order_id: cid.into(),
            executed,
            recorded,
        })
    };
    type Case = (Vec<(&'static str, Decimal)>, Option<Behind>);
    let cases: Vec<Case> = vec![
        (vec![], None),
        (vec![("a", dec!(1)), ("b", dec!(0.5))], None),
        (
            vec![("a", dec!(1)), ("b", dec!(0.7))],
            behind("b", dec!(0.7), dec!(0.5)),
        ),
        (
            vec![("c", dec!(0.1)), ("b", dec!(0.7))],
            behind("c", dec!(0.1), Decimal::ZERO),
        ),
        // Fills beyond what the order reports (a late report) are not "behind".
        (vec![("a", dec!(0.9))], None),
    ];
    for (executed, want) in cases {
        let executed: Vec<(String, Decimal)> = executed
            .into_iter()
            .map(|(c, q)| (c.to_string(), q))
            .collect();
        assert_eq!(fills_behind(&executed, &fills), want, "{executed:?}");
    }
}

#[test]
fn creating_replacing_or_ending_needs_a_complete_view_waiting_does_not() {
    let buy = planned("B1", Side::Buy, dec!(100), dec!(0.1));
    let active = BasketStatus::Active;
    let cases = [
        (plan(&[], &[], &[], active), false),
        (plan(&["X"], &[], &[], active), false),
        (plan(&[], &[], std::slice::from_ref(&buy), active), true),
        (plan(&[], &[("X", buy.clone())], &[], active), true),
        (plan(&["X"], &[], &[], BasketStatus::Closed), true),
        (plan(&[], &[], &[], BasketStatus::Paused), false),
    ];
    for (p, want) in cases {
        assert_eq!(needs_complete_view(&p, active), want, "{:?}", p.actions);
    }
    // A basket already closed does not "end" again.
    let closed = plan(&[], &[], &[], BasketStatus::Closed);
    assert!(!needs_complete_view(&closed, BasketStatus::Closed));
}

#[test]
fn a_stale_view_writes_no_status_and_a_fresh_one_writes_the_plans() {
    let mut ends = plan(&[], &[], &[], BasketStatus::Closed);
    ends.meta = meta(BasketStatus::Closed, true);
    let cases = [
        (
            None,
            StatusOutcome::Write {
                status: BasketStatus::Closed,
                reanchor: true,
            },
        ),
        (
            Some("T1"),
            StatusOutcome::Stale {
                client_order_id: "T1".into(),
                ended: true,
            },
        ),
    ];
    for (stale, want) in cases {
        assert_eq!(status_outcome(&ends, BasketStatus::Active, stale), want);
    }
    // Not a reanchor when the plan's reanchor is not actionable.
    let closes = plan(&[], &[], &[], BasketStatus::Closed);
    assert_eq!(
        status_outcome(&closes, BasketStatus::Active, None),
        StatusOutcome::Write {
            status: BasketStatus::Closed,
            reanchor: false
        }
    );
}

#[test]
fn a_trade_sync_waits_for_every_exchange_id() {
    type Rows<'a> = &'a [(&'a str, Option<i64>)];
    let cases: [(Rows<'_>, Option<&str>); 4] = [
        (&[], None),
        (&[("a", Some(1)), ("b", Some(2))], None),
        (&[("a", Some(1)), ("b", None), ("c", None)], Some("b")),
        (&[("c", None)], Some("c")),
    ];
    for (rows, want) in cases {
        assert_eq!(unidentified(rows.iter().copied()), want, "{rows:?}");
    }
}

//! The typed boundaries: a basket's plan meta and a command's result are
//! read back as the types they were written from.

use grid_core::{BasketStatus, PlanMeta, ReanchorMeta};
use serde_json::json;
use store::baskets::{self, PlanUpdate};
use store::commands::{
    CloseAllResult, CommandResult, CreateBasketResult, ReanchorResult, StatusResult,
};
use store::test_db::TestDb;
use store::{CommandKind, Error, Writer};

use crate::common::{d, new_basket};

fn meta() -> PlanMeta {
    PlanMeta {
        avg_price: Some(d("138.75")),
        position: d("3"),
        net_bought: d("3"),
        filled_levels: 2,
        planned_levels_n: 5,
        inactive_levels: Vec::new(),
        remaining_quote_budget: d("583.75"),
        tp_n: Some(d("2")),
        halted: false,
        halt_reason: None,
        reanchor: ReanchorMeta {
            suggested: true,
            reasons: vec!["closed_ratio".into()],
            actionable: false,
            new_anchor: Some(d("140")),
        },
        dust: d("0"),
        order_seq_after: 7,
        status_after: BasketStatus::Active,
        closed_reason: None,
        tp1_price: Some(d("140.415")),
        tp2_price: Some(d("141.525")),
        stop_loss_price: None,
    }
}

#[test]
fn the_plan_meta_reads_back_typed() {
    let db = TestDb::new();
    let mut conn = db.connect();
    let b = new_basket(&mut conn);
    assert_eq!(b.plan_meta().expect("no plan yet"), None);
    let m = meta();
    let row = baskets::update_after_plan(
        &mut conn,
        Writer::Unleased,
        b.id,
        &PlanUpdate {
            status: m.status_after,
            closed_reason: None,
            state: serde_json::to_value(&m).expect("json"),
            order_seq: 7,
        },
    )
    .expect("plan");
    assert_eq!(row.plan_meta().expect("typed"), Some(m));
    let mut bad = row.clone();
    bad.state = json!({"tp1_price": "140"});
    assert!(matches!(bad.plan_meta(), Err(Error::Corrupt { .. })));
}

#[test]
fn command_results_keep_their_stored_shape() {
    let cases = [
        (
            CommandKind::Pause,
            json!({"basket_id": 3, "status": "paused"}),
            CommandResult::Pause(StatusResult {
                basket_id: 3,
                status: BasketStatus::Paused,
            }),
            "basket 3 is paused",
        ),
        (
            CommandKind::CloseAll,
            json!({"queued": [7, 8]}),
            CommandResult::CloseAll(CloseAllResult { queued: vec![7, 8] }),
            "queued 2 close commands (#7, #8)",
        ),
        (
            CommandKind::Reanchor,
            json!({"basket_id": 3, "status": "closed", "new_basket_id": 9, "anchor": "139.9"}),
            CommandResult::Reanchor(ReanchorResult {
                basket_id: 3,
                status: BasketStatus::Closed,
                new_basket_id: 9,
                anchor: d("139.9"),
            }),
            "basket 3 is closed; new basket 9 at 139.9",
        ),
        (
            CommandKind::CreateBasket,
            json!({"basket_id": 9, "symbol": "SOLUSDC", "anchor": "150.00"}),
            CommandResult::CreateBasket(CreateBasketResult {
                basket_id: 9,
                symbol: "SOLUSDC".into(),
                anchor: d("150.00"),
            }),
            "basket 9 created: SOLUSDC at 150",
        ),
    ];
    for (kind, stored, typed, text) in cases {
        let read = CommandResult::parse(kind, &stored).expect("parses");
        assert_eq!(read, typed);
        assert_eq!(read.kind(), kind);
        assert_eq!(typed.to_json().expect("json"), stored);
        assert_eq!(read.to_string(), text);
    }
    // The shape of one kind is not another's, and unknown fields are refused.
    assert!(CommandResult::parse(CommandKind::CloseAll, &json!({"basket_id": 3})).is_err());
    let err = CommandResult::parse(
        CommandKind::Resume,
        &json!({"basket_id": 3, "status": "active", "extra": 1}),
    )
    .expect_err("unknown field");
    assert!(err.to_string().contains("extra"), "{err}");
}

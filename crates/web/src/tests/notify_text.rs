use chrono::Utc;
use serde_json::{json, Value};
use store::notifications::NotificationRow;

use super::render;

fn n(kind: &str, basket: Option<i64>, data: Value) -> NotificationRow {
    NotificationRow {
        id: 1,
        kind: kind.into(),
        category: "fills".into(),
        basket_id: basket,
        symbol: basket.map(|_| "SOLUSDC".to_string()),
        data,
        dedupe_key: None,
        created_at: Utc::now(),
    }
}

#[test]
fn a_buy_fill_says_what_was_bought() {
    let t = render(&n(
        "fill",
        Some(7),
        json!({"trade_id": 123, "role": "B2", "side": "BUY", "price": "142.30000000",
               "quantity": "0.50000000", "realized_pnl": null, "base_asset": "SOL", "quote_asset": "USDC"}),
    ));
    assert_eq!(
        t,
        "BUY B2 filled: 0.5 SOL at 142.3 USDC (Basket 7 SOLUSDC, trade 123)."
    );
}

#[test]
fn a_take_profit_says_the_realized_pnl_with_its_sign() {
    let t = render(&n(
        "take_profit",
        Some(7),
        json!({"trade_id": 124, "role": "TP1", "side": "SELL", "price": "150.1",
               "quantity": "0.25", "realized_pnl": "1.9250000000000000", "base_asset": "SOL", "quote_asset": "USDC"}),
    ));
    assert_eq!(
        t,
        "Take-profit TP1 filled: sold 0.25 SOL at 150.1 USDC, realized +1.925 USDC (Basket 7 SOLUSDC, trade 124)."
    );
    let t = render(&n(
        "trail_stop",
        Some(7),
        json!({"trade_id": 125, "role": "TRAIL", "price": "149", "quantity": "0.25",
               "realized_pnl": "-0.5", "base_asset": "SOL", "quote_asset": "USDC"}),
    ));
    assert!(t.starts_with("Trailing stop TRAIL filled"), "{t}");
    assert!(t.contains("realized -0.5 USDC"), "{t}");
}

#[test]
fn basket_ends_say_why_and_the_result() {
    let facts = json!({"from": "active", "to": "closed", "reason": "completed", "realized": "12.5000",
                       "fees": "0.20", "sells": 4, "wins": 3, "losses": 1, "quote_asset": "USDC",
                       "base_asset": "SOL", "position": "0"});
    assert_eq!(
        render(&n("basket_completed", Some(3), facts.clone())),
        "Basket 3 SOLUSDC completed its cycle: realized +12.5 USDC over 4 sells (3 won, 1 lost), fees 0.2 USDC. A new basket takes over."
    );
    let mut em = facts.clone();
    em["reason"] = json!("emergency_close");
    assert!(
        render(&n("basket_closed", Some(3), em)).starts_with("Basket 3 SOLUSDC emergency-closed")
    );
    assert!(
        render(&n("basket_stopped", Some(3), facts.clone())).contains("stopped by its stop loss")
    );
    let mut err = facts;
    err["reason"] = json!("fills contradict the position");
    assert!(render(&n("basket_error", Some(3), err))
        .contains("in error: fills contradict the position"));
}

#[test]
fn close_all_progress_lists_the_baskets() {
    let started = json!({"phase": "started", "command": 9,
        "baskets": [{"basket_id": 1, "symbol": "SOLUSDC"}, {"basket_id": 2, "symbol": "ETHUSDC"}]});
    assert_eq!(
        render(&n("close_all_progress", None, started)),
        "Close all (command 9): closing 2 baskets: #1 SOLUSDC, #2 ETHUSDC."
    );
    let finished = json!({"phase": "finished", "command": 9,
        "baskets": [{"basket_id": 1, "symbol": "SOLUSDC", "status": "emergency_closed"}]});
    assert_eq!(
        render(&n("close_all_progress", None, finished)),
        "Close all (command 9) finished, 1 baskets: #1 SOLUSDC emergency_closed."
    );
    let none = json!({"phase": "started", "command": 9, "baskets": []});
    assert_eq!(
        render(&n("close_all_progress", None, none)),
        "Close all (command 9): nothing to close."
    );
}

#[test]
fn watchdog_and_summary_texts() {
    let t = render(&n(
        "heartbeat_stale",
        None,
        json!({"worker": "w1", "mode": "live", "age_seconds": 312, "heartbeat_at": "2026-11-26T10:00:00+00:00"}),
    ));
    assert_eq!(t, "Worker w1 (live) has not reported for 312 s (last heartbeat 2026-11-26T10:00:00+00:00): is the daemon running?");
    let t = render(&n(
        "daily_summary",
        None,
        json!({"day": "2026-11-25", "fills": 14,
               "realized": [{"quote_asset": "USDC", "realized": "3.50", "fees": "0.1", "sells": 3}],
               "baskets": {"active": 2, "closed": 5}}),
    ));
    assert_eq!(
        t,
        "Daily summary 2026-11-25 (UTC): realized +3.5 USDC (3 sells, fees 0.1); 14 fills; baskets: active 2, closed 5."
    );
    let t = render(&n(
        "order_rejected_repeatedly",
        Some(4),
        json!({"role": "TP1", "repeat_count": 3, "attempts": 1, "message": "TP1 rejected by the exchange (Filter failure)"}),
    ));
    assert!(t.contains("keeps rejecting TP1"), "{t}");
    assert!(t.contains("Filter failure"), "{t}");
}

#[test]
fn a_missing_fact_shows_as_a_question_mark() {
    let t = render(&n("fill", Some(1), json!({})));
    assert_eq!(t, "? ? filled: ? ? at ? ? (Basket 1 SOLUSDC, trade ?).");
}

mod delivery {
    use std::time::Duration;

    use serde_json::json;
    use store::notifications::Outcome;

    use crate::notify::channel::{
        backoff, outcome, retry_after, webhook_body, Sent, Target, WebhookFormat, MAX_BACKOFF,
    };

    #[test]
    fn retry_after_is_read_from_the_body_or_the_header() {
        let tg = r#"{"ok":false,"error_code":429,"parameters":{"retry_after":7}}"#;
        assert_eq!(retry_after(tg, None), Duration::from_secs(7));
        assert_eq!(
            retry_after(r#"{"retry_after": 1.5, "global": false}"#, Some("9")),
            Duration::from_millis(1500)
        );
        assert_eq!(retry_after("", Some("4")), Duration::from_secs(4));
        assert_eq!(retry_after("", None), Duration::from_secs(30));
        assert_eq!(
            retry_after(r#"{"retry_after": 0.01}"#, None),
            Duration::from_secs(1),
            "at least a second"
        );
        assert_eq!(
            retry_after(r#"{"retry_after": 1e9}"#, None),
            Duration::from_secs(3600)
        );
    }

    #[test]
    fn transient_errors_back_off_and_refusals_give_up_after_three() {
        assert_eq!(backoff(1), Duration::from_secs(5));
        assert_eq!(backoff(2), Duration::from_secs(10));
        assert_eq!(backoff(50), MAX_BACKOFF);
        assert!(matches!(
            outcome(&Sent::Transient("timeout".into()), 100),
            Outcome::Retry { .. }
        ));
        let refused = Sent::Refused {
            status: 400,
            detail: "chat not found".into(),
        };
        assert!(matches!(outcome(&refused, 2), Outcome::Retry { .. }));
        assert_eq!(
            outcome(&refused, 3),
            Outcome::Failed {
                error: "HTTP 400: chat not found (given up after 3 attempts)".into()
            }
        );
        assert_eq!(
            outcome(&Sent::RateLimited(Duration::from_secs(3)), 1),
            Outcome::Retry {
                after: Duration::from_secs(3),
                error: "HTTP 429: rate limited, retry after 3 s".into()
            }
        );
    }

    #[test]
    fn webhook_bodies_by_format() {
        let n = super::n(
            "fill",
            Some(7),
            json!({"trade_id": 99, "role": "B1", "side": "BUY", "price": "1", "quantity": "2"}),
        );
        let j = webhook_body(&n, WebhookFormat::Json);
        assert_eq!(j["id"], 1);
        assert_eq!(j["trade_id"], 99);
        assert_eq!(j["kind"], "fill");
        assert_eq!(j["basket_id"], 7);
        assert!(j["text"].as_str().is_some_and(|t| t.contains("trade 99")));
        let d = webhook_body(&n, WebhookFormat::Discord);
        assert_eq!(d.as_object().map(|o| o.len()), Some(1));
        assert!(d["content"].is_string());
        let s = webhook_body(&n, WebhookFormat::Slack);
        assert_eq!(s.as_object().map(|o| o.len()), Some(1));
        assert!(s["text"].is_string());
    }

    #[test]
    fn secrets_are_redacted_from_messages() {
        let hook = Target::Webhook {
            url: "https://hooks.slack.com/services/T0/B0/XyzSecret".into(),
            format: WebhookFormat::Slack,
        };
        let r = hook.redactor();
        assert_eq!(
            r.redact("POST https://hooks.slack.com/services/T0/B0/XyzSecret failed"),
            "POST <redacted> failed"
        );
        assert_eq!(r.redact("path services/T0/B0/XyzSecret"), "path <redacted>");
        let tg = Target::Telegram {
            api_url: "https://api.telegram.org".into(),
            token: "1:abc_DEF".into(),
            chat_id: "1".into(),
        };
        assert_eq!(
            tg.redactor().redact("/bot1:abc_DEF/sendMessage"),
            "/bot<redacted>/sendMessage"
        );
        assert!(!format!("{hook:?} {tg:?}").contains("XyzSecret"));
        assert!(!format!("{tg:?}").contains("abc_DEF"));
    }
}

//! Symbol statuses and closed-market errors from the documented responses
//! (test_data/, see SOURCES.md): every status decodes to its typed value, an
//! unknown one is kept, and every closed-market error is recognised as such
//! and never as a filter failure.

use binance_rest::models::*;
use binance_rest::{parse, Error, SymbolState, SymbolStatus};
use rust_decimal_macros::dec;

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/test_data/", $name))
    };
}

#[test]
fn every_documented_status_decodes_and_says_what_may_be_sent() {
    let dto: ExchangeInfoDto =
        parse::from_json("exchangeInfo", fixture!("exchange_info_statuses.json")).unwrap();
    let info = parse::exchange_info(&dto);
    let got: Vec<(SymbolStatus, bool, bool)> = info
        .symbols
        .iter()
        .map(|s| {
            let st = s.symbol_status();
            let (new, cancel) = (st.allows_new_orders(), st.allows_cancels());
            (st, new, cancel)
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (SymbolStatus::Trading, true, true),
            (SymbolStatus::EndOfDay, false, false),
            (SymbolStatus::Halt, false, false),
            (SymbolStatus::Break, false, false),
            (SymbolStatus::CancelOnly, false, true),
            (SymbolStatus::PreTrading, false, false),
            (SymbolStatus::PostTrading, false, false),
            (SymbolStatus::AuctionMatch, false, false),
            (SymbolStatus::Unknown("SOMETHING_NEW".into()), false, false),
        ]
    );
    for s in &info.symbols {
        // The name round-trips, and the rules are read whatever the status.
        assert_eq!(s.symbol_status().as_str(), s.status);
        let st = SymbolState::from_info(s).unwrap();
        assert_eq!(st.rules.tick_size, dec!(0.000001));
        assert!(!st.status.explain().is_empty());
        // Serialized as Binance writes it (for events and the dashboard).
        assert_eq!(
            serde_json::to_value(&st.status).unwrap(),
            serde_json::Value::from(s.status.clone())
        );
    }
    let halt: SymbolStatus = serde_json::from_str("\"HALT\"").unwrap();
    assert_eq!(halt, SymbolStatus::Halt);
    assert!(SymbolStatus::Halt.explain().starts_with("HALT: "));
}

#[test]
fn closed_market_errors_are_recognised_and_are_not_filter_failures() {
    let cases: Vec<serde_json::Value> =
        serde_json::from_str(fixture!("errors_symbol_status.json")).unwrap();
    assert_eq!(cases.len(), 4);
    for c in cases {
        let e = Error::Api {
            code: c["body"]["code"].as_i64().unwrap(),
            msg: c["body"]["msg"].as_str().unwrap().to_string(),
        };
        assert!(e.is_market_closed(), "{e}");
        assert!(!e.is_filter_failure(), "{e}");
        assert_eq!(e.filter_name(), None, "{e}");
        assert!(!e.is_unknown_order(), "{e}");
        assert!(!e.is_retryable(), "{e}");
    }
    // Filter failures are not a closed market.
    let all: Vec<serde_json::Value> = serde_json::from_str(fixture!("errors.json")).unwrap();
    for c in all {
        let e = Error::Api {
            code: c["body"]["code"].as_i64().unwrap(),
            msg: c["body"]["msg"].as_str().unwrap().to_string(),
        };
        assert!(!e.is_market_closed(), "{e}");
    }
    assert!(!Error::Timeout.is_market_closed());
}

use rust_decimal_macros::dec;

use super::order;
use crate::arrival::{may_still_arrive, resolve_missing, Clocks, Missing, Sent};
use binance_rest::OrderStatus;

#[test]
fn an_unknown_create_may_arrive_until_its_window_passes_on_the_exchange_clock() {
    // (request ts, written at, exchange now, host now, window) → may arrive
    let cases = [
        // Judged on the exchange's clock against the request's timestamp.
        (Some(1_000), 0, 1_000 + 6_999, 999_999, 7_000, true),
        (Some(1_000), 0, 1_000 + 7_000, 0, 7_000, false),
        // The host's clock being far ahead does not give it up early.
        (Some(1_000), 0, 2_000, 1_000_000, 7_000, true),
        // An exchange clock behind the request (skew) keeps waiting.
        (Some(10_000), 0, 5_000, 0, 7_000, true),
        // Rows without a request timestamp: the host's clock since written.
        (None, 1_000, 0, 7_999, 7_000, true),
        (None, 1_000, 999_999, 8_000, 7_000, false),
    ];
    for (ts, written, ex_now, now, window, want) in cases {
        let got = may_still_arrive(
            Sent {
                request_ts_ms: ts,
                written_at_ms: written,
            },
            Clocks {
                exchange_now_ms: ex_now,
                now_ms: now,
            },
            window,
        );
        assert_eq!(
            got, want,
            "ts={ts:?} written={written} ex_now={ex_now} now={now}"
        );
    }
}

#[test]
fn a_missing_row_is_found_in_flight_given_up_or_vanished() {
    let open = order("c", OrderStatus::New, dec!(0));
    let filled = order("c", OrderStatus::Filled, dec!(1));
    // (lookup, unconfirmed, may arrive) → decision
    let cases: [(Option<&_>, bool, bool, Missing); 6] = [
        (
            Some(&open),
            true,
            false,
            Missing::Found { still_open: true },
        ),
        (
            Some(&filled),
            false,
            false,
            Missing::Found { still_open: false },
        ),
        (
            Some(&filled),
            true,
            true,
            Missing::Found { still_open: false },
        ),
        (None, true, true, Missing::InFlight),
        (None, true, false, Missing::NeverArrived),
        (None, false, true, Missing::Vanished),
    ];
    for (found, unconfirmed, may, want) in cases {
        let got = resolve_missing::<()>(found, unconfirmed, || Ok(may));
        assert_eq!(
            got,
            Ok(want.clone()),
            "found={found:?} unconfirmed={unconfirmed}"
        );
    }
}

#[test]
fn the_exchange_clock_is_read_only_for_an_unconfirmed_row_it_does_not_know() {
    let filled = order("c", OrderStatus::Filled, dec!(1));
    let asked = |found, unconfirmed| {
        let mut asked = false;
        let _ = resolve_missing::<()>(found, unconfirmed, || {
            asked = true;
            Ok(true)
        });
        asked
    };
    assert!(!asked(Some(&filled), true));
    assert!(!asked(None, false));
    assert!(asked(None, true));
    assert_eq!(
        resolve_missing(None, true, || Err("clock down")),
        Err("clock down")
    );
}

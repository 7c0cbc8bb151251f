use std::time::Duration;

use binance_rest::Error;

use crate::failure::{cancel_failure, create_failure, CancelFailure, CreateFailure};

fn api(code: i64) -> Error {
    let msg = match code {
        -2011 => "Unknown order sent.",
        -1013 => "Filter failure: LOT_SIZE",
        _ => "refused",
    };
    Error::Api {
        code,
        msg: msg.into(),
    }
}

#[test]
fn only_errors_that_prove_no_effect_reject_a_create() {
    let not_placed = |refused, rate_limited| CreateFailure::NotPlaced {
        refused,
        rate_limited,
    };
    let cases = [
        (api(-2010), not_placed(true, false)),
        (api(-1013), not_placed(true, false)),
        (api(-1021), not_placed(true, false)),
        (api(-1000), CreateFailure::Unknown),
        (api(-1001), CreateFailure::Unknown),
        (api(-1006), CreateFailure::Unknown),
        (api(-1007), CreateFailure::Unknown),
        (Error::Timeout, not_placed(false, false)),
        (
            Error::RateLimited {
                retry_after: Duration::from_secs(3),
            },
            not_placed(false, true),
        ),
        (
            Error::UnknownOutcome {
                client_order_id: None,
                reason: "read timed out".into(),
            },
            CreateFailure::Unknown,
        ),
        (
            Error::Http {
                status: 503,
                body: String::new(),
            },
            CreateFailure::Unknown,
        ),
    ];
    for (e, want) in cases {
        assert_eq!(create_failure(&e), want, "{e:?}");
    }
}

#[test]
fn a_cancel_error_is_gone_unknown_or_stops_the_basket() {
    let unknown_outcome = Error::UnknownOutcome {
        client_order_id: None,
        reason: "read timed out".into(),
    };
    assert_eq!(cancel_failure(&api(-2011), false), CancelFailure::Gone);
    assert_eq!(cancel_failure(&api(-2011), true), CancelFailure::Gone);
    assert_eq!(
        cancel_failure(&unknown_outcome, true),
        CancelFailure::Unknown
    );
    assert_eq!(
        cancel_failure(&unknown_outcome, false),
        CancelFailure::Stop {
            market_closed: false
        }
    );
    let closed = Error::Api {
        code: -2011,
        msg: "Market is closed.".into(),
    };
    assert_eq!(
        cancel_failure(&closed, true),
        CancelFailure::Stop {
            market_closed: true
        }
    );
}

//! What an exchange error on a request means for the order.
//!
//! Invariant: a create is never sent twice. An error that proves the request
//! had no effect rejects the row (its role may be placed again later, with
//! a new clientOrderId); any other error leaves the outcome unknown: the row
//! stays `UNKNOWN` and the next cycle looks its clientOrderId up.

use binance_rest::Error;

/// What a failed create means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateFailure {
    /// The request had no effect (refused before or by the exchange).
    NotPlaced {
        /// The exchange refused the order itself (a filter, the balance, a
        /// closed market): the role is retried with a growing wait.
        refused: bool,
        /// 429/418: every further call waits for Retry-After; the cycle stops.
        rate_limited: bool,
    },
    /// The request may have been applied: looked up next cycle, never re-sent.
    Unknown,
}

/// Classifies a create's error.
pub fn create_failure(e: &Error) -> CreateFailure {
    let not_placed = |refused| CreateFailure::NotPlaced {
        refused,
        rate_limited: e.retry_after().is_some(),
    };
    match e {
        // -1000 unknown, -1001 disconnected, -1006 unexpected response,
        // -1007 timeout: the exchange itself does not know the outcome.
        Error::Api { code, .. } if matches!(*code, -1000 | -1001 | -1006 | -1007) => {
            CreateFailure::Unknown
        }
        Error::Api { .. } => not_placed(true),
        Error::RateLimited { .. }
        | Error::Banned { .. }
        | Error::InvalidRequest(_)
        | Error::MissingCredentials
        | Error::InvalidKey(_)
        | Error::Transport(_)
        | Error::Timeout
        // Errors of the user-data stream; an order call never returns them.
        | Error::StreamDown(_)
        | Error::StreamRefused { .. } => not_placed(false),
        Error::UnknownOutcome { .. } | Error::Decode(_) | Error::Http { .. } => {
            CreateFailure::Unknown
        }
    }
}

/// What a failed cancel means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelFailure {
    /// "Unknown order": it is no longer open (filled, canceled, expired);
    /// look it up to learn what it executed.
    Gone,
    /// The cancel may or may not have been applied. For a replace nothing
    /// is created for its role this cycle; a plain cancel stops the basket's
    /// cycle (next cycle's snapshot tells).
    Unknown,
    /// Anything else stops the basket's cycle; `market_closed` asks for the
    /// symbol's status to be read again.
    Stop {
        /// The symbol stopped trading.
        market_closed: bool,
    },
}

/// Classifies a cancel's error; `replace` when the cancel is the first half
/// of a replace.
pub fn cancel_failure(e: &Error, replace: bool) -> CancelFailure {
    if e.is_unknown_order() {
        CancelFailure::Gone
    } else if replace && e.is_unknown_outcome() {
        CancelFailure::Unknown
    } else {
        CancelFailure::Stop {
            market_closed: e.is_market_closed(),
        }
    }
}

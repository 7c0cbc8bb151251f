//! Orders the exchange does not list as open: filled, canceled, expired,
//! or a create that has not arrived (yet).
//!
//! Invariant: a create whose outcome is unknown is never given up while the
//! exchange may still accept it. Binance refuses a signed request once its
//! clock is past the request's `timestamp` plus `recvWindow`; the arrival
//! window adds a margin to that, and the age is measured on the exchange's
//! clock against the timestamp the request carries. Giving up earlier would
//! let the role be placed again and the first create land late: two live
//! orders for one role.

use binance_rest::ExchangeOrder;

/// When a create's request was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    /// The `timestamp` the request carries (exchange clock, epoch ms);
    /// `None` for rows written before it was recorded.
    pub request_ts_ms: Option<i64>,
    /// When its row was written (this host's clock, epoch ms).
    pub written_at_ms: i64,
}

/// The clocks a judgement of arrival needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clocks {
    /// The exchange's clock now (epoch ms).
    pub exchange_now_ms: i64,
    /// This host's clock now (epoch ms).
    pub now_ms: i64,
}

/// Whether a create the exchange does not know may still reach it: its age
/// on the exchange's clock (or, for a row without a request timestamp, on
/// this host's clock since the row was written) is below `window_ms`.
pub fn may_still_arrive(sent: Sent, clocks: Clocks, window_ms: i64) -> bool {
    let age_ms = match sent.request_ts_ms {
        Some(ts) => clocks.exchange_now_ms.saturating_sub(ts),
        None => clocks.now_ms.saturating_sub(sent.written_at_ms),
    };
    age_ms < window_ms
}

/// What becomes of an order row the exchange does not list as open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    /// The lookup found it: its row takes the report; `still_open` when the
    /// lookup shows it live (it joined the book after the snapshot).
    Found {
        /// The lookup reports an open status.
        still_open: bool,
    },
    /// A create of unknown outcome the exchange may still accept: the
    /// basket waits (no plan, no trade sync) until it arrives or its window
    /// passes.
    InFlight,
    /// A create the exchange does not know and can no longer accept: the row
    /// is given up (rejected, "never arrived").
    NeverArrived,
    /// A confirmed order the exchange no longer knows (archived): the row is
    /// left as it is and reported.
    Vanished,
}

/// Decides the fate of a row missing from the open orders, given the
/// lookup's answer (`None`: the exchange does not know the clientOrderId),
/// whether the row's create is unconfirmed (`PENDING_NEW`/`UNKNOWN`), and,
/// asked only when it matters, whether the create may still arrive.
///
/// # Errors
/// Whatever `may_arrive` fails with (reading the exchange's clock).
pub fn resolve_missing<E>(
    found: Option<&ExchangeOrder>,
    unconfirmed: bool,
    may_arrive: impl FnOnce() -> Result<bool, E>,
) -> Result<Missing, E> {
    Ok(match found {
        Some(ex) => Missing::Found {
            still_open: ex.status.is_open(),
        },
        None if !unconfirmed => Missing::Vanished,
        None if may_arrive()? => Missing::InFlight,
        None => Missing::NeverArrived,
    })
}

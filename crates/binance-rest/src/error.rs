//! The client's one error type.
//!
//! Every variant says what the caller must do next:
//!
//! | variant | what happened | what to do |
//! |---|---|---|
//! | [`Error::Transport`] | the request could not be completed (connect refused, reset, TLS, …). For a write it is only returned when the request **cannot** have reached the exchange. | retry later |
//! | [`Error::Timeout`] | a read timed out, or a write timed out while still connecting (nothing sent) | retry later |
//! | [`Error::RateLimited`] | HTTP 429, or the governor refuses because of an earlier 429, or defers a new order over the unfilled-order-count limit | send nothing (after `-1015` or a deferral: no new order) until `retry_after` has passed |
//! | [`Error::Banned`] | HTTP 418 (IP ban), or the governor refuses because of it | send nothing until `until_ms` |
//! | [`Error::Api`] | the exchange answered with `{"code","msg"}`: a **definite** rejection | see the `is_*` helpers |
//! | [`Error::UnknownOutcome`] | a write (order or cancel) may or may not have been executed (timeout after sending, 5xx, `-1006`, `-1007`, dropped connection, undecodable success) | look the order up (by client order id) before doing anything else |
//! | [`Error::Decode`] | a read's response could not be understood | report; retrying rarely helps |
//! | [`Error::Http`] | a non-JSON / unexpected HTTP status (403 WAF, 404, …) | back off (403) or fix the URL |
//! | [`Error::InvalidRequest`] | the client refused to send a request the exchange would reject | fix the caller; nothing was sent |
//! | [`Error::MissingCredentials`] | a signed endpoint was called without credentials | configure keys; nothing was sent |
//! | [`Error::InvalidKey`] | a private key could not be read or used | fix the key file as the message says; nothing was sent |
//! | [`Error::StreamDown`] | the user-data stream's WebSocket connection is gone (closed, reset, silent too long) | reconnect with backoff ([`crate::user_stream::StreamSupervisor`]) and sweep orders/trades by REST meanwhile |
//! | [`Error::StreamRefused`] | the exchange refused the user-data stream subscription (`-1022`, `-2015`, `-1021`, …) | see the message: fix the key/permissions, or re-sync the clock (`-1021`), then reconnect |
//!
//! No variant ever carries the API secret or private key: messages come from
//! the exchange, from ureq (which never sees the secret, only its signature)
//! or from this crate, which never quotes a key or a key file's text.

use std::time::Duration;

/// `-1003` TOO_MANY_REQUESTS.
pub const CODE_TOO_MANY_REQUESTS: i64 = -1003;
/// `-1006` unexpected response from the message bus; execution status unknown.
pub const CODE_UNEXPECTED_RESP: i64 = -1006;
/// `-1007` backend timeout; execution status unknown.
pub const CODE_TIMEOUT: i64 = -1007;
/// `-1013` filter failure (message `Filter failure: NAME`).
pub const CODE_FILTER_FAILURE: i64 = -1013;
/// `-1015` too many new orders (unfilled order count).
pub const CODE_TOO_MANY_ORDERS: i64 = -1015;
/// `-1021` timestamp outside recvWindow / ahead of server time.
pub const CODE_INVALID_TIMESTAMP: i64 = -1021;
/// `-1022` invalid signature.
pub const CODE_INVALID_SIGNATURE: i64 = -1022;
/// `-1121` invalid symbol.
pub const CODE_BAD_SYMBOL: i64 = -1121;
/// `-2010` new order rejected (message says why).
pub const CODE_NEW_ORDER_REJECTED: i64 = -2010;
/// `-2011` cancel rejected (typically "Unknown order sent.").
pub const CODE_CANCEL_REJECTED: i64 = -2011;
/// `-2013` order does not exist.
pub const CODE_NO_SUCH_ORDER: i64 = -2013;
/// `-2014` API-key format invalid.
pub const CODE_BAD_API_KEY_FMT: i64 = -2014;
/// `-2015` invalid API-key, IP, or permissions.
pub const CODE_REJECTED_MBX_KEY: i64 = -2015;

/// Every way a call can fail. See the module docs for what each means.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The request failed below HTTP. For reads: nothing is known to have
    /// changed, retrying later is safe. For writes this variant is only used
    /// when the request cannot have been sent (e.g. connection refused);
    /// otherwise a write gets [`Error::UnknownOutcome`].
    #[error("transport error: {0}")]
    Transport(String),

    /// The request timed out (reads), or a write timed out before anything was
    /// sent (resolve/connect). A write that timed out after sending is
    /// [`Error::UnknownOutcome`].
    #[error("request timed out")]
    Timeout,

    /// HTTP 429 (`-1003` request weight or `-1015` order count), or the governor
    /// refused to send because an earlier 429 is still in force, or deferred a
    /// new order that would take the unfilled order count over its limit.
    /// Nothing was executed. After `-1003` no request of this client is sent
    /// before `retry_after` has passed; after `-1015` (or a deferral) no new
    /// order is, while reads and cancels go on.
    #[error("rate limited: retry after {retry_after:?}")]
    RateLimited {
        /// How long to wait before the next request (from `Retry-After`).
        retry_after: Duration,
    },

    /// HTTP 418: the IP is banned until `until_ms` (epoch ms, local clock),
    /// i.e. for `retry_after` from the moment the error was produced. Nothing
    /// was executed; the governor refuses every call until then.
    #[error("IP banned until {until_ms} (retry after {retry_after:?})")]
    Banned {
        /// End of the ban, Unix milliseconds on the local clock.
        until_ms: i64,
        /// How long the ban still lasted when the error was produced.
        retry_after: Duration,
    },

    /// A definite rejection by the exchange, `{"code": .., "msg": ..}`.
    /// The request had no effect (for orders: nothing was placed/cancelled).
    #[error("exchange error {code}: {msg}")]
    Api {
        /// Binance's error code (negative, e.g. `-2010` insufficient balance).
        code: i64,
        /// Binance's message, as sent.
        msg: String,
    },

    /// A write (new order, cancel) whose result is not known: it may have been
    /// executed. **Do not retry blindly**: look the order up by its client
    /// order id (carried here when known) first.
    #[error("outcome unknown{}: {reason}", client_order_id.as_deref().map(|c| format!(" for client order id {c}")).unwrap_or_default())]
    UnknownOutcome {
        /// The client order id of the order placed or cancelled, when known.
        client_order_id: Option<String>,
        /// What happened (timeout after sending, HTTP 5xx, `-1006`, an undecodable answer).
        reason: String,
    },

    /// The response of a read could not be decoded.
    #[error("cannot decode response: {0}")]
    Decode(String),

    /// An HTTP status without a Binance error body (403 WAF, 404, …).
    /// `body` is truncated.
    #[error("HTTP {status}: {body}")]
    Http {
        /// The HTTP status code.
        status: u16,
        /// The start of the response body, truncated.
        body: String,
    },

    /// The client refused to build the request (a value the exchange would
    /// reject, e.g. a negative quantity). Nothing was sent.
    #[error("invalid request: {0}")]
    InvalidRequest(String),

    /// A signed endpoint was called on a client without credentials. Nothing was sent.
    #[error("this endpoint needs API credentials")]
    MissingCredentials,

    /// The private key cannot be used (unreadable file, not PEM, encrypted,
    /// not Ed25519, …). The message says what to do; it never quotes the key.
    #[error("API private key: {0}")]
    InvalidKey(String),

    /// The user-data stream's WebSocket connection is gone: closed by the
    /// server, reset, or silent for longer than the dead-connection limit.
    /// Events may have been missed: reconnect (with backoff) and sweep open
    /// orders and trades by REST.
    #[error("user-data stream down: {0}; reconnect and sweep orders and trades by REST")]
    StreamDown(String),

    /// The exchange refused a user-data stream request (the subscription, or
    /// an error frame on the connection). The message is the exchange's, with
    /// what to do; it never quotes the API key or secret.
    #[error("user-data stream refused by the exchange (error {code}: {msg}): {}", stream_refusal_hint(*code))]
    StreamRefused {
        /// Binance's error code (`-1022`, `-2015`, `-1021`, …).
        code: i64,
        /// Binance's message, with the API key (should it appear) masked.
        msg: String,
    },
}

/// What to do about a refused user-data stream subscription.
fn stream_refusal_hint(code: i64) -> &'static str {
    match code {
        CODE_INVALID_SIGNATURE => {
            "the signature is not valid: the API secret or private key does not belong to this API key, or the key type is wrong (BINANCE_API_KEY_TYPE)"
        }
        CODE_REJECTED_MBX_KEY | CODE_BAD_API_KEY_FMT => {
            "the API key is invalid, revoked, not allowed from this IP, or lacks permission; check the key and its IP whitelist on Binance"
        }
        CODE_INVALID_TIMESTAMP => {
            "the request's timestamp is outside recvWindow: the local clock is off; re-measure the server time offset and reconnect"
        }
        _ => "reconnect later; REST polling covers the gap",
    }
}

impl Error {
    /// The exchange error code, for [`Error::Api`].
    pub fn code(&self) -> Option<i64> {
        match self {
            Error::Api { code, .. } | Error::StreamRefused { code, .. } => Some(*code),
            _ => None,
        }
    }

    fn api_msg(&self) -> Option<(i64, &str)> {
        match self {
            Error::Api { code, msg } => Some((*code, msg.as_str())),
            _ => None,
        }
    }

    /// Whether the *same* request may be sent again later and could succeed,
    /// without first finding out what happened:
    ///
    /// - `Transport`, `Timeout`: yes.
    /// - `RateLimited`, `Banned`: yes, but only after the wait they carry
    ///   (the client refuses earlier anyway).
    /// - `Api`: only for transient codes (`-1000`, `-1001`, `-1003`, `-1006`, `-1007`,
    ///   `-1008`, `-1015`, `-1021`).
    /// - `Http`: for 403 (WAF, back off first) and 5xx.
    /// - `UnknownOutcome`: **no** — reconcile first (the order may exist).
    /// - `Decode`, `InvalidRequest`, `MissingCredentials`, `InvalidKey`: no.
    /// - `StreamDown`: yes (reconnect with backoff); `StreamRefused`: as `Api`.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport(_)
            | Error::StreamDown(_)
            | Error::Timeout
            | Error::RateLimited { .. }
            | Error::Banned { .. } => true,
            Error::Api { code, .. } | Error::StreamRefused { code, .. } => matches!(
                *code,
                -1000 | -1001 | -1003 | -1006 | -1007 | -1008 | -1015 | -1021
            ),
            Error::Http { status, .. } => *status == 403 || *status >= 500,
            Error::UnknownOutcome { .. }
            | Error::Decode(_)
            | Error::InvalidRequest(_)
            | Error::MissingCredentials
            | Error::InvalidKey(_) => false,
        }
    }

    /// The request may have been executed: look it up before acting.
    pub fn is_unknown_outcome(&self) -> bool {
        matches!(self, Error::UnknownOutcome { .. })
    }

    /// `RateLimited` or `Banned`: the wait before any new request.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after } | Error::Banned { retry_after, .. } => {
                Some(*retry_after)
            }
            _ => None,
        }
    }

    /// `-2010` "Account has insufficient balance for requested action."
    pub fn is_insufficient_balance(&self) -> bool {
        matches!(self.api_msg(), Some((-2010, m)) if m.to_ascii_lowercase().contains("insufficient balance"))
    }

    /// `-2010` "Duplicate order sent." (client order id already used by an open order).
    pub fn is_duplicate_order(&self) -> bool {
        matches!(self.api_msg(), Some((-2010, m)) if m.to_ascii_lowercase().contains("duplicate order"))
    }

    /// The order does not exist (any more): `-2013` "Order does not exist." on a
    /// lookup, or `-2011` "Unknown order sent." on a cancel (unknown, filled or
    /// already cancelled), `-2026` archived.
    pub fn is_unknown_order(&self) -> bool {
        match self.api_msg() {
            Some((-2013, _)) | Some((-2026, _)) => true,
            Some((-2011, m)) => m.to_ascii_lowercase().contains("unknown order"),
            _ => false,
        }
    }

    /// `-1013` "Filter failure: NAME".
    pub fn is_filter_failure(&self) -> bool {
        matches!(self.api_msg(), Some((-1013, m)) if m.starts_with("Filter failure"))
    }

    /// The symbol is not trading: "Market is closed." (`-1013` on a new order as
    /// production sends it, `-2010`/`-2011` as errors.md lists the message) or
    /// "This order type is not possible in this trading phase." (the text since
    /// 2023-03 for an order on a symbol that is not TRADING). Nothing was done;
    /// re-read the symbol's status (exchangeInfo) before sending again. Never a
    /// filter failure.
    pub fn is_market_closed(&self) -> bool {
        matches!(self.api_msg(), Some((-1013 | -1010 | -2010 | -2011, m)) if {
            let m = m.to_ascii_lowercase();
            m.contains("market is closed") || m.contains("not possible in this trading phase")
        })
    }

    /// The filter named by a `-1013` "Filter failure: NAME" error.
    pub fn filter_name(&self) -> Option<&str> {
        match self.api_msg() {
            Some((-1013, m)) => m.strip_prefix("Filter failure: ").map(str::trim),
            _ => None,
        }
    }

    /// `-2010` "Order would immediately match and take." (LIMIT_MAKER crossing),
    /// "Stop price would trigger immediately." / "Order would trigger immediately."
    /// (stop order on the wrong side of the market).
    pub fn is_would_trigger_immediately(&self) -> bool {
        matches!(self.api_msg(), Some((-2010, m)) if {
            let m = m.to_ascii_lowercase();
            m.contains("would trigger immediately") || m.contains("would immediately match")
        })
    }

    /// `-1021` the request's timestamp was outside recvWindow (clock drift).
    /// The client has already re-measured the server time offset when it returns this.
    pub fn is_timestamp_outside_window(&self) -> bool {
        self.code() == Some(CODE_INVALID_TIMESTAMP)
    }

    /// `-2014`/`-2015`/`-1022` or HTTP 401: the credentials are wrong or lack permission.
    pub fn is_auth_error(&self) -> bool {
        matches!(
            self.code(),
            Some(CODE_BAD_API_KEY_FMT)
                | Some(CODE_REJECTED_MBX_KEY)
                | Some(CODE_INVALID_SIGNATURE)
                | Some(-1002)
        ) || matches!(self, Error::Http { status: 401, .. })
    }
}

/// Codes that mean "the exchange does not know whether it executed the request".
pub(crate) fn is_unknown_status_code(code: i64) -> bool {
    // -1006/-1007 are documented as "execution status unknown"; -1000 (unknown
    // error) and -1001 (internal error, disconnected) give no guarantee either,
    // and treating a rejection as unknown only costs one lookup.
    matches!(code, -1000 | -1001 | CODE_UNEXPECTED_RESP | CODE_TIMEOUT)
}

/// Codes worth retrying automatically for a safe read.
pub(crate) fn is_transient_read_code(code: i64) -> bool {
    matches!(code, -1000 | -1001 | -1006 | -1007 | -1008)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: i64, msg: &str) -> Error {
        Error::Api {
            code,
            msg: msg.to_string(),
        }
    }

    #[test]
    fn helpers_match_documented_messages() {
        assert!(api(
            -2010,
            "Account has insufficient balance for requested action."
        )
        .is_insufficient_balance());
        assert!(api(-2010, "Duplicate order sent.").is_duplicate_order());
        assert!(api(-2013, "Order does not exist.").is_unknown_order());
        assert!(api(-2011, "Unknown order sent.").is_unknown_order());
        assert!(
            !api(-2011, "Order was not canceled due to cancel restrictions.").is_unknown_order()
        );
        assert!(api(-1013, "Filter failure: LOT_SIZE").is_filter_failure());
        assert_eq!(
            api(-1013, "Filter failure: LOT_SIZE").filter_name(),
            Some("LOT_SIZE")
        );
        assert!(
            api(-2010, "Order would immediately match and take.").is_would_trigger_immediately()
        );
        assert!(api(-2010, "Stop price would trigger immediately.").is_would_trigger_immediately());
        assert!(api(-2010, "Order would trigger immediately.").is_would_trigger_immediately());
        assert!(api(
            -1021,
            "Timestamp for this request is outside of the recvWindow."
        )
        .is_timestamp_outside_window());
        assert!(api(-2015, "Invalid API-key, IP, or permissions for action.").is_auth_error());
        // Helpers do not cross codes.
        assert!(!api(-2010, "Duplicate order sent.").is_insufficient_balance());
        assert!(!api(-1013, "Filter failure: LOT_SIZE").is_duplicate_order());
        assert!(!Error::Timeout.is_unknown_order());
    }

    #[test]
    fn retryability() {
        assert!(Error::Timeout.is_retryable());
        assert!(Error::Transport("x".into()).is_retryable());
        assert!(Error::RateLimited {
            retry_after: Duration::from_secs(1)
        }
        .is_retryable());
        assert!(api(-1021, "").is_retryable());
        assert!(!api(-2010, "Duplicate order sent.").is_retryable());
        assert!(!api(-1013, "Filter failure: NOTIONAL").is_retryable());
        assert!(!Error::UnknownOutcome {
            client_order_id: None,
            reason: "x".into()
        }
        .is_retryable());
        assert!(!Error::Decode("x".into()).is_retryable());
        assert!(Error::Http {
            status: 503,
            body: String::new()
        }
        .is_retryable());
        assert!(!Error::Http {
            status: 404,
            body: String::new()
        }
        .is_retryable());
    }

    #[test]
    fn unknown_outcome_names_the_client_order_id() {
        let e = Error::UnknownOutcome {
            client_order_id: Some("grid-1".into()),
            reason: "timeout".into(),
        };
        assert_eq!(
            e.to_string(),
            "outcome unknown for client order id grid-1: timeout"
        );
        let e = Error::UnknownOutcome {
            client_order_id: None,
            reason: "HTTP 502".into(),
        };
        assert_eq!(e.to_string(), "outcome unknown: HTTP 502");
    }
}

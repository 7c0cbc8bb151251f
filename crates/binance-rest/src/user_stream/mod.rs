//! The user-data stream over the WebSocket API (binance-ws.md §1–§2): one
//! blocking connection that subscribes with `userDataStream.subscribe.signature`
//! and yields typed [`UserEvent`]s.
//!
//! ```no_run
//! use std::time::Duration;
//! use binance_rest::user_stream::{ws_api_url, UserStream, UserStreamOptions};
//! use binance_rest::Credentials;
//! # fn main() -> Result<(), binance_rest::Error> {
//! let creds = Credentials::new("key", "secret");
//! let url = ws_api_url("https://api.binance.com")?;
//! let mut stream = UserStream::connect(&url, &creds, UserStreamOptions::default())?;
//! while let Some(event) = stream.next_event(Duration::from_secs(5))? {
//!     println!("{}", event.kind());
//! }
//! # Ok(()) }
//! ```
//!
//! Invariants:
//! - `connect` returns only once the exchange accepted the subscription
//!   (`status` 200 with a `subscriptionId`); a refusal is
//!   [`Error::StreamRefused`] (or `RateLimited`/`Banned` for 429/418), whose
//!   message never holds the API key or the secret;
//! - [`UserStream::next_event`] answers every ping with a pong carrying its
//!   payload at once, pings the server itself after
//!   [`UserStreamOptions::ping_after`] without a frame, and fails with
//!   [`Error::StreamDown`] after [`UserStreamOptions::dead_after`] without
//!   one, or when the server closes or the socket breaks;
//! - an event type this client does not know is returned as
//!   [`UserEvent::Unknown`] and logged once per type per connection;
//! - a frame that cannot be decoded is [`Error::Decode`] from `next_event`;
//!   the connection stays usable (the caller sweeps by REST, see
//!   [`StreamSupervisor::on_read_error`]).
//!
//! Reconnecting is the caller's, driven by [`StreamSupervisor`].

mod event;
mod supervisor;
pub(crate) mod url;

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::io::ErrorKind;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tungstenite::client::IntoClientRequest;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{HandshakeError, Message, WebSocket};

pub use event::{
    parse_event, parse_frame, AccountPosition, BalanceUpdate, ExecutionReport, ExecutionType,
    Frame, ResponseError, UserEvent,
};
pub use supervisor::{backoff_delay, SplitMix64, Step, StreamSupervisor, SupervisorConfig};
pub use url::{ws_api_url, DEMO_WS_API_URL, PRODUCTION_WS_API_URL, TESTNET_WS_API_URL};

use crate::auth::Credentials;
use crate::clock::{Clock, SystemClock};
use crate::error::Error;

/// The subscribe method this client uses (any key type, any session).
pub const SUBSCRIBE_METHOD: &str = "userDataStream.subscribe.signature";

/// How to connect and when to call the connection dead.
#[derive(Clone)]
pub struct UserStreamOptions {
    /// Server time minus local time, ms (`BinanceClient::time_offset_ms`), added
    /// to the clock for the request's `timestamp`.
    pub time_offset_ms: i64,
    /// `recvWindow` of the subscribe request, ms; `None`: not sent (Binance's 5000).
    pub recv_window_ms: Option<u64>,
    /// The clock the `timestamp` is read from.
    pub clock: Arc<dyn Clock>,
    /// TCP connect + TLS + WebSocket handshake limit (10 s).
    pub connect_timeout: Duration,
    /// How long to wait for the subscribe answer (10 s).
    pub response_timeout: Duration,
    /// Send a ping after this long without a frame (30 s; Binance pings every 20 s).
    pub ping_after: Duration,
    /// [`Error::StreamDown`] after this long without a frame (60 s).
    pub dead_after: Duration,
}

impl Default for UserStreamOptions {
    fn default() -> Self {
        UserStreamOptions {
            time_offset_ms: 0,
            recv_window_ms: None,
            clock: Arc::new(SystemClock),
            connect_timeout: Duration::from_secs(10),
            response_timeout: Duration::from_secs(10),
            ping_after: Duration::from_secs(30),
            dead_after: Duration::from_secs(60),
        }
    }
}

impl fmt::Debug for UserStreamOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserStreamOptions")
            .field("time_offset_ms", &self.time_offset_ms)
            .field("recv_window_ms", &self.recv_window_ms)
            .field("connect_timeout", &self.connect_timeout)
            .field("response_timeout", &self.response_timeout)
            .field("ping_after", &self.ping_after)
            .field("dead_after", &self.dead_after)
            .finish()
    }
}

/// The text of a `userDataStream.subscribe.signature` request: params
/// `apiKey`, `timestamp` (and `recvWindow`), signed as the WebSocket API
/// signs (sorted, not percent-encoded), `id` as given.
///
/// # Errors
/// Those of [`Credentials::sign_ws_params`].
pub fn subscribe_request(
    credentials: &Credentials,
    id: &str,
    timestamp_ms: i64,
    recv_window_ms: Option<u64>,
) -> Result<String, Error> {
    let mut params: Vec<(&str, String)> = vec![
        ("apiKey", credentials.api_key.clone()),
        ("timestamp", timestamp_ms.to_string()),
    ];
    if let Some(w) = recv_window_ms {
        params.push(("recvWindow", w.to_string()));
    }
    let signature = credentials.sign_ws_params(&params)?;
    let mut p = serde_json::Map::new();
    p.insert("apiKey".into(), credentials.api_key.clone().into());
    p.insert("timestamp".into(), timestamp_ms.into());
    if let Some(w) = recv_window_ms {
        p.insert("recvWindow".into(), w.into());
    }
    p.insert("signature".into(), signature.into());
    Ok(serde_json::json!({"id": id, "method": SUBSCRIBE_METHOD, "params": p}).to_string())
}

pub(crate) type Socket = WebSocket<MaybeTlsStream<TcpStream>>;

/// One subscribed user-data stream connection. See the module docs.
pub struct UserStream {
    socket: Socket,
    url: String,
    subscription_id: i64,
    pending: VecDeque<UserEvent>,
    last_frame: Instant,
    ping_outstanding: bool,
    unknown_logged: HashSet<String>,
    options: UserStreamOptions,
}

impl fmt::Debug for UserStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserStream")
            .field("url", &self.url)
            .field("subscription_id", &self.subscription_id)
            .finish()
    }
}

pub(crate) fn io_is_timeout(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

pub(crate) fn set_read_timeout(socket: &Socket, d: Duration) -> std::io::Result<()> {
    let d = Some(d.max(Duration::from_millis(1)));
    match socket.get_ref() {
        MaybeTlsStream::Plain(s) => s.set_read_timeout(d),
        MaybeTlsStream::Rustls(s) => s.get_ref().set_read_timeout(d),
        _ => Ok(()),
    }
}

/// The exchange's message with the API key masked, should it ever be quoted.
fn masked(msg: &str, credentials_key: &str) -> String {
    if credentials_key.len() >= 8 {
        msg.replace(credentials_key, "***")
    } else {
        msg.to_string()
    }
}

fn refusal(status: u16, err: &ResponseError, api_key: &str, now_ms: i64) -> Error {
    let retry_after_ms = err
        .data
        .as_ref()
        .and_then(|d| d.get("retryAfter"))
        .and_then(|r| r.as_i64());
    let wait = |fallback: Duration| {
        retry_after_ms
            .map(|t| Duration::from_millis(u64::try_from(t - now_ms).unwrap_or(0)))
            .unwrap_or(fallback)
    };
    match status {
        429 => Error::RateLimited {
            retry_after: wait(Duration::from_secs(60)),
        },
        418 => {
            let retry_after = wait(Duration::from_secs(120));
            Error::Banned {
                until_ms: now_ms + i64::try_from(retry_after.as_millis()).unwrap_or(i64::MAX),
                retry_after,
            }
        }
        _ => Error::StreamRefused {
            code: err.code,
            msg: masked(&err.msg, api_key),
        },
    }
}

impl UserStream {
    /// Connects to `ws_url` (`ws://` or `wss://`, see [`ws_api_url`]) and
    /// subscribes to the account's user-data stream.
    ///
    /// # Errors
    /// - [`Error::InvalidRequest`]: the URL cannot be used;
    /// - [`Error::Transport`] / [`Error::Timeout`]: no connection (nothing subscribed);
    /// - [`Error::StreamRefused`]: the exchange refused (`-1022` bad signature,
    ///   `-2015` key/IP/permission, `-1021` clock: re-sync and reconnect, …);
    /// - [`Error::RateLimited`] / [`Error::Banned`]: 429 / 418;
    /// - [`Error::StreamDown`]: the server closed before answering;
    /// - [`Error::Decode`]: the answer was not understood.
    pub fn connect(
        ws_url: &str,
        credentials: &Credentials,
        options: UserStreamOptions,
    ) -> Result<UserStream, Error> {
        let mut socket = open(ws_url, options.connect_timeout)?;
        let now_ms = options.clock.now_ms();
        let id = format!("uds-{now_ms}");
        let request = subscribe_request(
            credentials,
            &id,
            now_ms.saturating_add(options.time_offset_ms),
            options.recv_window_ms,
        )?;
        socket
            .send(Message::text(request))
            .map_err(|e| Error::Transport(format!("sending the subscribe request: {e}")))?;
        let mut stream = UserStream {
            socket,
            url: ws_url.to_string(),
            subscription_id: -1,
            pending: VecDeque::new(),
            last_frame: Instant::now(),
            ping_outstanding: false,
            unknown_logged: HashSet::new(),
            options,
        };
        let deadline = Instant::now() + stream.options.response_timeout;
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::Timeout);
            }
            let Some(text) = stream.read_text(deadline - now)? else {
                continue;
            };
            match parse_frame(&text)? {
                Frame::Event { event, .. } => stream.queue(event),
                Frame::Response {
                    id: rid,
                    status,
                    result,
                    error,
                } if rid.as_str() == Some(id.as_str()) || rid.is_null() => {
                    if let Some(err) = error.filter(|_| status != 200) {
                        let e = refusal(
                            status,
                            &err,
                            &credentials.api_key,
                            stream.options.clock.now_ms(),
                        );
                        log::warn!("User-data stream subscription refused: {e}");
                        return Err(e);
                    }
                    let sid = result
                        .as_ref()
                        .and_then(|r| r.get("subscriptionId"))
                        .and_then(|s| s.as_i64())
                        .ok_or_else(|| {
                            Error::Decode(format!(
                                "{SUBSCRIBE_METHOD} answer (status {status}) has no result.subscriptionId"
                            ))
                        })?;
                    stream.subscription_id = sid;
                    log::info!(
                        "User-data stream subscribed: url={} subscriptionId={sid}",
                        stream.url
                    );
                    return Ok(stream);
                }
                Frame::Response { id: rid, .. } => {
                    log::warn!(
                        "User-data stream: ignoring an answer to another request (id {rid})"
                    );
                }
            }
        }
    }

    /// The `subscriptionId` the exchange gave.
    pub fn subscription_id(&self) -> i64 {
        self.subscription_id
    }

    /// The next event, waiting up to `timeout`; `Ok(None)` when none came.
    /// Answers pings and keeps the connection alive meanwhile.
    ///
    /// # Errors
    /// - [`Error::StreamDown`]: the connection is lost (closed, reset, silent
    ///   past [`UserStreamOptions::dead_after`]); drop this stream and reconnect;
    /// - [`Error::StreamRefused`]: the server sent an error on the connection
    ///   (e.g. `-2015` when the key was revoked); reconnect to learn more;
    /// - [`Error::Decode`]: one frame was not understood and was skipped; the
    ///   connection is still usable, but sweep by REST.
    pub fn next_event(&mut self, timeout: Duration) -> Result<Option<UserEvent>, Error> {
        if let Some(e) = self.pending.pop_front() {
            return Ok(Some(e));
        }
        let deadline = Instant::now() + timeout;
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            let Some(text) = self.read_text(deadline - now)? else {
                continue;
            };
            match parse_frame(&text) {
                Ok(Frame::Event {
                    subscription_id,
                    event,
                }) => {
                    if let Some(sid) = subscription_id.filter(|s| *s != self.subscription_id) {
                        log::warn!(
                            "User-data stream: event for subscriptionId={sid}, ours is {}",
                            self.subscription_id
                        );
                    }
                    self.queue(event);
                    if let Some(e) = self.pending.pop_front() {
                        return Ok(Some(e));
                    }
                }
                Ok(Frame::Response {
                    status, error, id, ..
                }) => {
                    if let Some(err) = error.filter(|_| status != 200) {
                        let e = Error::StreamRefused {
                            code: err.code,
                            msg: err.msg,
                        };
                        log::warn!("User-data stream: error frame (id {id}, status {status}): {e}");
                        return Err(e);
                    }
                }
                Err(e) => {
                    log::warn!("User-data stream: skipped a frame: {e}");
                    return Err(e);
                }
            }
        }
    }

    /// Closes the connection politely (best effort).
    pub fn close(mut self) {
        let _ = self.socket.close(None);
        let _ = self.socket.flush();
    }

    fn queue(&mut self, event: UserEvent) {
        if let UserEvent::Unknown(_) = &event {
            let kind = event.kind();
            if self.unknown_logged.insert(kind.clone()) {
                log::warn!(
                    "User-data stream: event type {kind:?} is not known to this client; passed on as Unknown (logged once)"
                );
            }
        }
        self.pending.push_back(event);
    }

    /// Reads one frame for at most `limit`: `Some(text)` for a text frame,
    /// `None` after a control frame or when `limit` passed. Handles pings
    /// (pong at once), idle pings and the dead-connection limit.
    fn read_text(&mut self, limit: Duration) -> Result<Option<String>, Error> {
        let idle = self.last_frame.elapsed();
        if idle >= self.options.dead_after {
            return Err(self.down(format!(
                "no frame from the server for {} ms",
                idle.as_millis()
            )));
        }
        if idle >= self.options.ping_after && !self.ping_outstanding {
            log::debug!(
                "User-data stream idle for {} ms: sending a ping",
                idle.as_millis()
            );
            self.socket
                .send(Message::Ping(Vec::new().into()))
                .map_err(|e| self.down(format!("sending a ping: {e}")))?;
            self.ping_outstanding = true;
        }
        let next_timer = if self.ping_outstanding {
            self.options.dead_after.saturating_sub(idle)
        } else {
            self.options.ping_after.saturating_sub(idle)
        };
        set_read_timeout(&self.socket, limit.min(next_timer))
            .map_err(|e| self.down(format!("setting the read timeout: {e}")))?;
        match self.socket.read() {
            Ok(msg) => {
                self.last_frame = Instant::now();
                self.ping_outstanding = false;
                match msg {
                    Message::Text(t) => Ok(Some(t.as_str().to_string())),
                    Message::Ping(_) => {
                        // tungstenite queued the pong (same payload): send it now.
                        self.socket
                            .flush()
                            .map_err(|e| self.down(format!("sending a pong: {e}")))?;
                        Ok(None)
                    }
                    Message::Pong(_) | Message::Frame(_) => Ok(None),
                    Message::Binary(b) => Err(Error::Decode(format!(
                        "unexpected binary frame of {} bytes (SBE is not requested)",
                        b.len()
                    ))),
                    Message::Close(frame) => {
                        let _ = self.socket.flush();
                        Err(self.down(match frame {
                            Some(f) => format!(
                                "the server closed the connection ({} {})",
                                f.code, f.reason
                            ),
                            None => "the server closed the connection".into(),
                        }))
                    }
                }
            }
            Err(tungstenite::Error::Io(e)) if io_is_timeout(&e) => Ok(None),
            Err(e) => Err(self.down(e.to_string())),
        }
    }

    fn down(&self, why: String) -> Error {
        log::warn!("User-data stream down: url={} {why}", self.url);
        Error::StreamDown(why)
    }
}

/// TCP connect (with a timeout), then TLS for `wss://`, then the WebSocket
/// handshake (also the market-data streams', [`crate::market_stream`]).
pub(crate) fn open(ws_url: &str, timeout: Duration) -> Result<Socket, Error> {
    let request = ws_url
        .into_client_request()
        .map_err(|e| Error::InvalidRequest(format!("WebSocket URL {ws_url:?}: {e}")))?;
    let uri = request.uri();
    let tls = match uri.scheme_str() {
        Some("wss") => true,
        Some("ws") => false,
        _ => {
            return Err(Error::InvalidRequest(format!(
                "WebSocket URL {ws_url:?} must start with ws:// or wss://"
            )))
        }
    };
    let host = uri
        .host()
        .ok_or_else(|| Error::InvalidRequest(format!("WebSocket URL {ws_url:?} has no host")))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
    let addrs: Vec<_> = (host.as_str(), port)
        .to_socket_addrs()
        .map_err(|e| Error::Transport(format!("resolving {host}: {e}")))?
        .collect();
    let mut last = Error::Transport(format!("{host} resolves to no address"));
    let mut tcp = None;
    for a in addrs {
        match TcpStream::connect_timeout(&a, timeout) {
            Ok(s) => {
                tcp = Some(s);
                break;
            }
            Err(e) if io_is_timeout(&e) => last = Error::Timeout,
            Err(e) => last = Error::Transport(format!("connecting to {a}: {e}")),
        }
    }
    let tcp = tcp.ok_or(last)?;
    let setup = |e: std::io::Error| Error::Transport(format!("socket setup: {e}"));
    tcp.set_read_timeout(Some(timeout)).map_err(setup)?;
    tcp.set_write_timeout(Some(timeout)).map_err(setup)?;
    tcp.set_nodelay(true).map_err(setup)?;
    match tungstenite::client_tls_with_config(request, tcp, None, None) {
        Ok((socket, _response)) => Ok(socket),
        Err(HandshakeError::Interrupted(_)) => Err(Error::Timeout),
        Err(HandshakeError::Failure(tungstenite::Error::Io(e))) if io_is_timeout(&e) => {
            Err(Error::Timeout)
        }
        Err(HandshakeError::Failure(e)) => Err(Error::Transport(format!(
            "WebSocket handshake with {ws_url}: {e}"
        ))),
    }
}

#[cfg(test)]
#[path = "tests_stream.rs"]
mod tests;

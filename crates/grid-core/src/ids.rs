//! Order roles and the clientOrderId scheme `BOT_{symbol}_{basket_id}_{role}_{seq}`.
//!
//! Invariants: `ClientOrderId::parse(id.to_string()) == id` for every id this
//! module prints; an id matches Binance's `^[a-zA-Z0-9-_]{1,36}$` or
//! [`ClientOrderId::check_len`] refuses it; a role is always read from the id,
//! never guessed from a price.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Binance's longest accepted clientOrderId.
pub const MAX_CLIENT_ORDER_ID_LEN: usize = 36;
/// Every order the bot sends starts with this.
pub const BOT_PREFIX: &str = "BOT_";

/// What an order is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// BUY of ladder level `i` (1-based; extension levels follow the base levels).
    Buy(u32),
    /// The first take-profit (`TP1`): a LIMIT SELL at `tp1_price`.
    Tp1,
    /// The second take-profit (`TP2`): a LIMIT SELL at `tp2_price`.
    Tp2,
    /// The native trailing stop (`TRAIL`): a TAKE_PROFIT_LIMIT SELL with `trailingDelta`.
    Trail,
    /// The stop-loss or emergency-close sell (`EXIT`) of the whole tradable position.
    Exit,
}

impl Role {
    /// Whether this is a BUY role (`B{i}`); every other role sells.
    pub fn is_buy(self) -> bool {
        matches!(self, Role::Buy(_))
    }

    /// Sort rank of strategy.md §10: buys by level, then TP1, TP2, TRAIL, EXIT.
    pub fn rank(self) -> (u8, u32) {
        match self {
            Role::Buy(i) => (0, i),
            Role::Tp1 => (1, 0),
            Role::Tp2 => (2, 0),
            Role::Trail => (3, 0),
            Role::Exit => (4, 0),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Role::Buy(i) => write!(f, "B{i}"),
            Role::Tp1 => f.write_str("TP1"),
            Role::Tp2 => f.write_str("TP2"),
            Role::Trail => f.write_str("TRAIL"),
            Role::Exit => f.write_str("EXIT"),
        }
    }
}

/// Why a role or a clientOrderId does not parse, or why Binance would refuse an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseIdError(pub String);

impl fmt::Display for ParseIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseIdError {}

impl FromStr for Role {
    type Err = ParseIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "TP1" => Ok(Role::Tp1),
            "TP2" => Ok(Role::Tp2),
            "TRAIL" => Ok(Role::Trail),
            "EXIT" => Ok(Role::Exit),
            _ => {
                let digits = s
                    .strip_prefix('B')
                    .ok_or_else(|| ParseIdError(format!("unknown role `{s}`")))?;
                // Reject "B", "B01", "B+1": exactly one canonical spelling per level.
                if digits.is_empty()
                    || digits.starts_with('0')
                    || !digits.bytes().all(|b| b.is_ascii_digit())
                {
                    return Err(ParseIdError(format!("unknown role `{s}`")));
                }
                let i: u32 = digits
                    .parse()
                    .map_err(|_| ParseIdError(format!("level out of range in `{s}`")))?;
                Ok(Role::Buy(i))
            }
        }
    }
}

impl Serialize for Role {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Role {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// `BOT_{symbol}_{basket_id}_{role}_{seq}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientOrderId {
    /// The exchange symbol, e.g. `SOLUSDC`.
    pub symbol: String,
    /// The basket's id (`baskets.id`).
    pub basket_id: i64,
    /// What the order is for.
    pub role: Role,
    /// The basket's order number of this order (1, 2, …), never reused within the basket.
    pub seq: u64,
}

/// The prefix shared by every order of one basket: `BOT_{symbol}_{basket_id}_`.
pub fn basket_prefix(symbol: &str, basket_id: i64) -> String {
    format!("{BOT_PREFIX}{symbol}_{basket_id}_")
}

fn valid_chars(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl ClientOrderId {
    /// The id of `role`'s order number `seq` of basket `basket_id` on `symbol`
    /// (not checked: see [`ClientOrderId::check_len`]).
    pub fn new(symbol: &str, basket_id: i64, role: Role, seq: u64) -> Self {
        Self {
            symbol: symbol.to_string(),
            basket_id,
            role,
            seq,
        }
    }

    /// Parses an id of this scheme.
    ///
    /// # Errors
    /// When the id has no `BOT_` prefix or a part does not parse.
    pub fn parse(id: &str) -> Result<Self, ParseIdError> {
        let rest = id
            .strip_prefix(BOT_PREFIX)
            .ok_or_else(|| ParseIdError(format!("`{id}` has no {BOT_PREFIX} prefix")))?;
        let mut parts = rest.rsplitn(4, '_');
        let (Some(seq), Some(role), Some(basket), Some(symbol)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(ParseIdError(format!("`{id}` has too few parts")));
        };
        let canonical_int = |s: &str| {
            !s.is_empty()
                && s.bytes().all(|b| b.is_ascii_digit())
                && (s == "0" || !s.starts_with('0'))
        };
        if !canonical_int(seq) || !canonical_int(basket) {
            return Err(ParseIdError(format!(
                "`{id}` has a malformed basket id or seq"
            )));
        }
        if symbol.is_empty() || !valid_chars(symbol) {
            return Err(ParseIdError(format!("`{id}` has a malformed symbol")));
        }
        let seq = seq
            .parse()
            .map_err(|_| ParseIdError(format!("`{id}`: seq out of range")))?;
        let basket_id = basket
            .parse()
            .map_err(|_| ParseIdError(format!("`{id}`: basket id out of range")))?;
        Ok(Self {
            symbol: symbol.to_string(),
            basket_id,
            role: role.parse()?,
            seq,
        })
    }

    /// Checks that the printed id is one Binance accepts.
    ///
    /// # Errors
    /// When the printed id would be longer than Binance accepts or has a
    /// character outside `[a-zA-Z0-9-_]`.
    pub fn check_len(&self) -> Result<(), ParseIdError> {
        self.to_checked_string().map(|_| ())
    }

    /// The printed id, checked against Binance's `^[a-zA-Z0-9-_]{1,36}$`.
    ///
    /// # Errors
    /// As [`ClientOrderId::check_len`].
    pub fn to_checked_string(&self) -> Result<String, ParseIdError> {
        checked_id(&self.symbol, self.basket_id, self.role, self.seq)
    }
}

/// [`ClientOrderId::to_checked_string`] of the id with these parts, without
/// building a `ClientOrderId` (and copying the symbol) first.
///
/// # Errors
/// As [`ClientOrderId::check_len`].
pub(crate) fn checked_id(
    symbol: &str,
    basket_id: i64,
    role: Role,
    seq: u64,
) -> Result<String, ParseIdError> {
    let s = render_id(symbol, basket_id, role, seq);
    if s.len() > MAX_CLIENT_ORDER_ID_LEN {
        return Err(ParseIdError(format!(
            "clientOrderId `{s}` is {} characters; Binance accepts at most {MAX_CLIENT_ORDER_ID_LEN}",
            s.len()
        )));
    }
    // Everything but the symbol is `BOT_`, digits, `-`, `_` and a role name.
    if !valid_chars(symbol) {
        return Err(ParseIdError(format!(
            "clientOrderId `{s}` has characters outside [a-zA-Z0-9-_]"
        )));
    }
    Ok(s)
}

fn push_int(out: &mut Vec<u8>, v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = v;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // Byte by byte: a few digits, where `extend_from_slice` calls `memmove`.
    for &b in &buf[i..] {
        out.push(b);
    }
}

#[cfg(test)]
impl ClientOrderId {
    /// The same text as `Display`, without the formatting machinery.
    fn render(&self) -> String {
        render_id(&self.symbol, self.basket_id, self.role, self.seq)
    }
}

/// `BOT_{symbol}_{basket_id}_{role}_{seq}` without the formatting machinery
/// (the reconciler prints one id per new order on every plan): bytes first,
/// checked as UTF-8 once.
fn render_id(symbol: &str, basket_id: i64, role: Role, seq: u64) -> String {
    let mut out = Vec::with_capacity(BOT_PREFIX.len() + symbol.len() + 32);
    out.extend_from_slice(BOT_PREFIX.as_bytes());
    out.extend_from_slice(symbol.as_bytes());
    out.push(b'_');
    if basket_id < 0 {
        out.push(b'-');
    }
    push_int(&mut out, basket_id.unsigned_abs());
    out.push(b'_');
    match role {
        Role::Buy(i) => {
            out.push(b'B');
            push_int(&mut out, u64::from(i));
        }
        Role::Tp1 => out.extend_from_slice(b"TP1"),
        Role::Tp2 => out.extend_from_slice(b"TP2"),
        Role::Trail => out.extend_from_slice(b"TRAIL"),
        Role::Exit => out.extend_from_slice(b"EXIT"),
    }
    out.push(b'_');
    push_int(&mut out, seq);
    // The symbol is a `str` and everything else ASCII: always UTF-8.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

impl fmt::Display for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{BOT_PREFIX}{}_{}_{}_{}",
            self.symbol, self.basket_id, self.role, self.seq
        )
    }
}

#[cfg(test)]
#[path = "tests/ids.rs"]
mod tests;

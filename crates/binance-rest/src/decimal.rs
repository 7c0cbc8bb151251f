//! Decimals on the wire: parsed from any decimal string, printed fixed-point.
//!
//! Binance accepts `^([0-9]{1,20})(\.[0-9]{1,20})?$` for decimal parameters: no
//! sign, no exponent, at most 20 digits on either side of the point.

use std::str::FromStr;

use rust_decimal::Decimal;

use crate::error::Error;

/// Formats a decimal parameter fixed-point (never an exponent), trailing zeros
/// kept as given (`0.00100000` stays `0.00100000`), fraction trimmed only if it
/// would exceed 20 digits.
///
/// # Errors
/// [`Error::InvalidRequest`] naming `name` for a negative value or one that does
/// not fit the exchange's pattern. Nothing is sent then.
pub fn format_param(name: &str, v: Decimal) -> Result<String, Error> {
    if v.is_sign_negative() && !v.is_zero() {
        return Err(Error::InvalidRequest(format!(
            "{name} must not be negative, got {v}"
        )));
    }
    let mut v = v.abs();
    if v.scale() > 20 {
        v = v.normalize();
        if v.scale() > 20 {
            return Err(Error::InvalidRequest(format!(
                "{name} has more than 20 decimal places: {v}"
            )));
        }
    }
    // `Decimal`'s Display is fixed-point; it never prints an exponent.
    let s = v.to_string();
    let int_len = s.split('.').next().map(str::len).unwrap_or(0);
    if int_len > 20 || !s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(Error::InvalidRequest(format!(
            "{name} is out of range: {s}"
        )));
    }
    Ok(s)
}

/// Parses a decimal from the exchange: `"0.00100000"`, `"1"`, `"0.1"`, `"-1.0"`,
/// and also exponent forms (`"1e-7"`), which Binance does not send but a proxy might.
///
/// # Errors
/// [`Error::Decode`] naming `field`.
pub fn parse_decimal(field: &str, s: &str) -> Result<Decimal, Error> {
    let t = s.trim();
    Decimal::from_str(t)
        .or_else(|_| Decimal::from_scientific(t))
        .map_err(|_| Error::Decode(format!("`{field}` is not a decimal: {s:?}")))
}

#[cfg(test)]
#[path = "tests/decimal.rs"]
mod tests;

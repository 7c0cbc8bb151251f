//! Unit tests of `decimal.rs` (kept beside it, out of the production file).

use super::*;
use rust_decimal_macros::dec;

#[test]
fn formats_fixed_point() {
    assert_eq!(format_param("q", dec!(0.0000001)).unwrap(), "0.0000001");
    assert_eq!(format_param("q", dec!(0.00100000)).unwrap(), "0.00100000");
    assert_eq!(format_param("q", dec!(1)).unwrap(), "1");
    assert_eq!(format_param("q", dec!(59000.00)).unwrap(), "59000.00");
    assert_eq!(
        format_param("q", dec!(100000000000)).unwrap(),
        "100000000000"
    );
    assert_eq!(format_param("q", Decimal::ZERO).unwrap(), "0");
    let tiny = Decimal::new(1, 28); // 1e-28: cannot be expressed with 20 decimals
    assert!(matches!(
        format_param("q", tiny),
        Err(Error::InvalidRequest(_))
    ));
    let long_zeros = Decimal::from_str("1.0000000000000000000000000").unwrap();
    assert_eq!(format_param("q", long_zeros).unwrap(), "1");
}

#[test]
fn rejects_negative_values() {
    let e = format_param("quantity", dec!(-1337.00000000)).unwrap_err();
    assert!(e.to_string().contains("quantity"), "{e}");
}

#[test]
fn every_formatted_value_matches_the_exchange_pattern() {
    for v in [
        dec!(0.1),
        dec!(123.456),
        dec!(0.00000001),
        dec!(99999999.99999999),
        dec!(5e-8),
    ] {
        let s = format_param("p", v).unwrap();
        let (i, f) = s.split_once('.').unwrap_or((&s, "1"));
        assert!(
            !i.is_empty() && i.len() <= 20 && i.bytes().all(|b| b.is_ascii_digit()),
            "{s}"
        );
        assert!(
            !f.is_empty() && f.len() <= 20 && f.bytes().all(|b| b.is_ascii_digit()),
            "{s}"
        );
    }
}

#[test]
fn parses_any_decimal_string() {
    assert_eq!(parse_decimal("p", "4.00000200").unwrap(), dec!(4.000002));
    assert_eq!(parse_decimal("p", "0.1").unwrap(), dec!(0.1));
    assert_eq!(parse_decimal("p", "0.000000").unwrap(), dec!(0));
    assert_eq!(parse_decimal("p", "-1.0").unwrap(), dec!(-1));
    assert_eq!(parse_decimal("p", "1e-7").unwrap(), dec!(0.0000001));
    assert_eq!(
        parse_decimal("p", "4723846.89208129").unwrap(),
        dec!(4723846.89208129)
    );
    let e = parse_decimal("price", "abc").unwrap_err();
    assert!(matches!(e, Error::Decode(ref m) if m.contains("price")));
}

use super::*;
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn bounds_are_checked() {
    assert!(check("p", d("0.00000001"), Col::Exchange).is_ok());
    assert!(check("p", d("0.000000001"), Col::Exchange).is_err());
    assert!(check("p", d("1.100000000000"), Col::Exchange).is_ok());
    assert!(check("p", d("99999999999999999999.99999999"), Col::Exchange).is_ok());
    assert!(check("p", d("100000000000000000000"), Col::Exchange).is_err());
    assert!(check("q", d("999999999999.9999999999999999"), Col::Quote).is_ok());
    assert!(check("q", d("1000000000000"), Col::Quote).is_err());
    assert!(check_non_negative("q", d("-1"), Col::Quote).is_err());
    assert!(check_non_negative("q", d("0"), Col::Quote).is_ok());
}

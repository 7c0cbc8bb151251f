//! Exact decimal division to 28 significant digits, rounded half-even once —
//! the precision of the specification's own figures (`Decimal`'s `/` keeps up
//! to 29 digits, and rounding that again could round twice).

use rust_decimal::Decimal;

const SIG: u32 = 28;
const MAX_SCALE: i64 = 28;

fn digits(m: u128) -> u32 {
    if m == 0 {
        0
    } else {
        m.ilog10() + 1
    }
}

/// `a / b` correctly rounded to 28 significant digits (at most 28 decimals);
/// `None` when `b` is zero.
pub fn div28(a: Decimal, b: Decimal) -> Option<Decimal> {
    if b.is_zero() {
        return None;
    }
    let negative = !a.is_zero() && (a.is_sign_negative() != b.is_sign_negative());
    let ma = a.mantissa().unsigned_abs();
    let mb = b.mantissa().unsigned_abs();
    let base_scale = i64::from(a.scale()) - i64::from(b.scale());
    let mut mant = ma / mb;
    let mut rem = ma % mb;
    if digits(mant) > SIG {
        return a.checked_div(b);
    }
    let mut frac: i64 = 0;
    while rem != 0 && digits(mant) < SIG && frac + base_scale < MAX_SCALE {
        rem *= 10;
        mant = mant * 10 + rem / mb;
        rem %= mb;
        frac += 1;
    }
    if rem != 0 {
        let next = rem * 10;
        let d = next / mb;
        let tail = next % mb;
        if d > 5 || (d == 5 && (tail != 0 || mant % 2 == 1)) {
            mant += 1;
        }
    }
    let mut scale = frac + base_scale;
    while scale < 0 {
        mant = mant.checked_mul(10)?;
        scale += 1;
    }
    let signed = i128::try_from(mant).ok()?;
    let signed = if negative { -signed } else { signed };
    Decimal::try_from_i128_with_scale(signed, u32::try_from(scale).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn rounds_once_half_even_at_28_digits() {
        assert_eq!(
            div28(dec!(347.775), dec!(2.61)).unwrap().to_string(),
            "133.2471264367816091954022989"
        );
        assert_eq!(
            div28(dec!(1), dec!(3)).unwrap().to_string(),
            "0.3333333333333333333333333333"
        );
        assert_eq!(
            div28(dec!(2), dec!(3)).unwrap().to_string(),
            "0.6666666666666666666666666667"
        );
        assert_eq!(
            div28(dec!(-2), dec!(3)).unwrap().to_string(),
            "-0.6666666666666666666666666667"
        );
        assert_eq!(div28(dec!(10), dec!(4)).unwrap(), dec!(2.5));
        assert_eq!(div28(dec!(1000), dec!(0.001)).unwrap(), dec!(1000000));
        assert_eq!(div28(dec!(1), dec!(0)), None);
    }
}

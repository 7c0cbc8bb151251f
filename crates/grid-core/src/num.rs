//! Exact decimal division to 28 significant digits, rounded half-even once —
//! the precision of the specification's own figures (`Decimal`'s `/` keeps up
//! to 29 digits, and rounding that again could round twice).

use std::cmp::Ordering;

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

const POW10: [i128; 19] = {
    let mut t = [1i128; 19];
    let mut i = 1;
    while i < 19 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// Sign, scale, and the magnitude of the mantissa when it fits in 64 bits.
#[inline(always)]
fn parts(v: Decimal) -> (bool, u32, Option<u64>) {
    let m = v.mantissa();
    let neg = m < 0;
    (neg, v.scale(), u64::try_from(m.unsigned_abs()).ok())
}

const POW10_U64: [u64; 20] = {
    let mut t = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// `0 <= v <= 10^11` (or `0 < v` with `positive`), by integer arithmetic on the
/// mantissa: a `Decimal` comparison rescales, and this runs for every fill.
#[inline(always)]
pub fn within_1e11(v: Decimal, positive: bool) -> bool {
    let (neg, s, small) = parts(v);
    if let Some(m) = small {
        if s <= 8 {
            // 1e11 * 10^8 = 1e19 < 2^64.
            return (m == 0 && !positive)
                || (m != 0 && !neg && m <= 100_000_000_000 * POW10_U64[s as usize]);
        }
    }
    within_1e11_slow(v, positive)
}

#[cold]
fn within_1e11_slow(v: Decimal, positive: bool) -> bool {
    let m = v.mantissa();
    if m < 0 || (positive && m == 0) {
        return false;
    }
    let s = v.scale() as usize;
    // 1e11 * 10^s exceeds the largest mantissa once s >= 18.
    s >= 18 || m <= 100_000_000_000 * POW10[s]
}

/// `v` as an integer count of `10^-8` when `v >= 0` has at most 8 decimals and
/// the count is below `2^63`: the same value as [`units8`] on those inputs
/// (`-0` gives 0), `None` for every other input. Being below `2^63 < 10^19`,
/// the count is also at most [`MAX_UNITS8`]. The per-fill fast path.
#[inline(always)]
pub fn units8_nonneg(v: &Decimal) -> Option<u64> {
    let r = raw(v);
    let (s, low) = (r.scale, r.low);
    if r.hi != 0 || s > 8 || (r.negative && low != 0) {
        return None;
    }
    let u = if s == 8 {
        low
    } else {
        low.checked_mul(POW10_U64[(8 - s) as usize])?
    };
    (u < 1 << 63).then_some(u)
}

/// The common case of [`units8_nonneg`], without branches: `v`'s mantissa and
/// whether `v` has exactly 8 decimals, the sign bit clear and a mantissa
/// below `2^63` (as the exchange and the store deliver every amount). When the
/// flag is set the count equals `units8_nonneg(v)`.
#[inline(always)]
pub fn exchange_units8(v: &Decimal) -> (u64, bool) {
    let r = raw(v);
    let low = r.low;
    let ok = (r.hi == 0) & (r.scale == 8) & !r.negative & (low >> 63 == 0);
    (low, ok)
}

/// A `Decimal` through its stable API (`Decimal::unpack` is documented as
/// unstable): the sign bit (set for `-0` too), the scale and the mantissa's
/// magnitude split into its high 32 and low 64 bits (a mantissa has 96).
#[derive(Clone, Copy)]
struct Raw {
    negative: bool,
    scale: u32,
    hi: u32,
    low: u64,
}

#[inline(always)]
fn raw(v: &Decimal) -> Raw {
    let m = v.mantissa().unsigned_abs();
    Raw {
        negative: v.is_sign_negative(),
        scale: v.scale(),
        hi: (m >> 64) as u32,
        low: m as u64,
    }
}

/// `10^i` for `i <= 28` (the scales a `Decimal` can have).
const POW10_U128: [u128; 29] = {
    let mut t = [1u128; 29];
    let mut i = 1;
    while i < 29 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// `a.cmp(&b)`: on integers when both have the sign bit clear (every price,
/// quantity, amount and filter value), through `Decimal::cmp` otherwise. Both
/// compare the exact values, so they agree; `Decimal`'s own comparison
/// rescales through a generic path on every call.
///
/// The mantissa of the smaller scale is multiplied by `10^d` (`d` the scale
/// difference): in one 64x64-bit product for 64-bit mantissas and `d <= 19`,
/// else in 128 bits, where an overflow means it exceeds the other mantissa
/// (below `2^96`).
#[inline]
pub fn cmp_dec(a: Decimal, b: Decimal) -> Ordering {
    let (ra, rb) = (raw(&a), raw(&b));
    if !ra.negative && !rb.negative && ra.hi == 0 && rb.hi == 0 {
        // 64-bit mantissas, 10^d < 2^64 for d <= 19: the products fit 128 bits.
        let ma = u128::from(ra.low);
        let mb = u128::from(rb.low);
        if ra.scale >= rb.scale {
            if let Some(&p) = POW10_U64.get((ra.scale - rb.scale) as usize) {
                return ma.cmp(&(mb * u128::from(p)));
            }
        } else if let Some(&p) = POW10_U64.get((rb.scale - ra.scale) as usize) {
            return (ma * u128::from(p)).cmp(&mb);
        }
    }
    if !ra.negative && !rb.negative {
        let ma = u128::from(ra.low) | (u128::from(ra.hi) << 64);
        let mb = u128::from(rb.low) | (u128::from(rb.hi) << 64);
        if ra.scale >= rb.scale {
            if let Some(&p) = POW10_U128.get((ra.scale - rb.scale) as usize) {
                return mb.checked_mul(p).map_or(Ordering::Less, |x| ma.cmp(&x));
            }
        } else if let Some(&p) = POW10_U128.get((rb.scale - ra.scale) as usize) {
            return ma.checked_mul(p).map_or(Ordering::Greater, |x| x.cmp(&mb));
        }
    }
    a.cmp(&b)
}

/// `a < b` (see [`cmp_dec`]).
#[inline]
pub fn dec_lt(a: Decimal, b: Decimal) -> bool {
    cmp_dec(a, b) == Ordering::Less
}

/// `a > b` (see [`cmp_dec`]).
#[inline]
pub fn dec_gt(a: Decimal, b: Decimal) -> bool {
    cmp_dec(a, b) == Ordering::Greater
}

/// `a * b`, the same bits as `Decimal`'s `*`. When both have the sign bit
/// clear and 64-bit mantissas, the product of the mantissas fits 96 bits and
/// the scales add up to at most 28, `*` is exact (mantissa `ma * mb`, scale
/// `sa + sb`, or `Decimal::ZERO` for a zero product) and is built here
/// without the call, whose result, written to memory in pieces and read back
/// whole, stalls the comparison that follows.
#[inline]
pub fn mul_dec(a: Decimal, b: Decimal) -> Decimal {
    let (ra, rb) = (raw(&a), raw(&b));
    if ra.hi == 0 && rb.hi == 0 && !ra.negative && !rb.negative && ra.scale + rb.scale <= 28 {
        let ma = u128::from(ra.low);
        let mb = u128::from(rb.low);
        let m = ma * mb;
        if m == 0 {
            return Decimal::ZERO;
        }
        if let Ok(m) = i128::try_from(m) {
            if m < 1 << 96 {
                if let Ok(p) = Decimal::try_from_i128_with_scale(m, ra.scale + rb.scale) {
                    return p;
                }
            }
        }
    }
    a * b
}

/// `a - b`, the same bits as `Decimal`'s `-`. When both have the sign bit
/// clear, 64-bit mantissas and scales at most 19 apart, `-` aligns them to the
/// larger scale and subtracts exactly (the result negative when `b > a`,
/// positive zero when equal; `a` itself when `b` is zero and `a` is not);
/// built here without the call for the same reason as [`mul_dec`].
#[inline]
pub fn sub_dec(a: Decimal, b: Decimal) -> Decimal {
    let (ra, rb) = (raw(&a), raw(&b));
    if ra.hi == 0 && rb.hi == 0 && !ra.negative && !rb.negative {
        let ma = u128::from(ra.low);
        let mb = u128::from(rb.low);
        // `0 - b` is `b` (sign flipped unless zero) in `Decimal`, even when
        // `b` is zero too; `a - 0` is `a`. Only the latter is taken here.
        if mb == 0 && ma != 0 {
            return a;
        }
        let scale = ra.scale.max(rb.scale);
        if let (Some(&pa), Some(&pb), true) = (
            POW10_U64.get((scale - ra.scale) as usize),
            POW10_U64.get((scale - rb.scale) as usize),
            ma != 0,
        ) {
            // < 2^64 * 10^19 < 2^128.
            let (x, y) = (ma * u128::from(pa), mb * u128::from(pb));
            let (m, negative) = if x >= y {
                (x - y, false)
            } else {
                (y - x, true)
            };
            if let Ok(m) = i128::try_from(m) {
                if m < 1 << 96 {
                    if let Ok(d) =
                        Decimal::try_from_i128_with_scale(if negative { -m } else { m }, scale)
                    {
                        return d;
                    }
                }
            }
        }
    }
    a - b
}

/// An exact running sum of decimals. Values with at most `S` decimals (every
/// Binance value has 8) are added as integers; anything else, or an overflow,
/// goes through `Decimal`. The result is exactly the `Decimal` sum.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sum<const S: u32> {
    units: i128,
    rest: Decimal,
}

/// Below 2^63: two such values multiply within an `i128` without overflow.
const SMALL: i128 = 1 << 63;

/// `v` as an integer count of `10^-8` when it has at most 8 decimals and the
/// count fits in 63 bits (every Binance value does).
#[inline(always)]
pub fn units8(v: Decimal) -> Option<i128> {
    Sum::<8>::units(v, 8)
}

/// `10^11` in units of `10^-8`: the largest value grid-core accepts.
pub const MAX_UNITS8: i128 = 100_000_000_000 * 100_000_000;

impl<const S: u32> Sum<S> {
    /// Adds an integer count of `10^-S`; `exact` is the same value as a
    /// `Decimal`, used only if the integer sum would overflow.
    #[inline(always)]
    pub fn add_units(&mut self, u: i128, exact: impl FnOnce() -> Decimal) {
        match self.units.checked_add(u) {
            Some(n) => self.units = n,
            None => self.rest += exact(),
        }
    }

    /// `v` as an integer count of `10^-scale`, when it fits in 63 bits.
    #[inline(always)]
    fn units(v: Decimal, scale: u32) -> Option<i128> {
        let (neg, s, small) = parts(v);
        if s > scale {
            return None;
        }
        // Fast path: a 64-bit mantissa at the wanted scale (every Binance value).
        let u = match small {
            Some(m) if s == scale && m < (1 << 63) => i128::from(m),
            _ => {
                // |m| < 2^96 and 10^(scale-s) <= 10^18 < 2^60: no i128 overflow.
                let m = v.mantissa().unsigned_abs() as i128;
                let u = m * POW10[(scale - s) as usize];
                if u >= SMALL {
                    return None;
                }
                u
            }
        };
        Some(if neg { -u } else { u })
    }

    /// Adds `v` exactly (as an integer when it has at most `S` decimals).
    #[inline(always)]
    pub fn add(&mut self, v: Decimal) {
        if let Some(n) = Self::units(v, S).and_then(|u| self.units.checked_add(u)) {
            self.units = n;
        } else {
            self.add_slow(v);
        }
    }

    #[cold]
    fn add_slow(&mut self, v: Decimal) {
        self.rest += v;
    }

    /// Adds `a * b`: both with at most `S / 2` decimals, as integers.
    #[inline(always)]
    pub fn add_product(&mut self, a: Decimal, b: Decimal) {
        let half = S / 2;
        if let (Some(x), Some(y)) = (Self::units(a, half), Self::units(b, half)) {
            // |x|, |y| < 2^63: |x * y| < 2^126.
            if let Some(n) = self.units.checked_add(x * y) {
                self.units = n;
                return;
            }
        }
        self.add_product_slow(a, b);
    }

    #[cold]
    fn add_product_slow(&mut self, a: Decimal, b: Decimal) {
        self.rest += a * b;
    }

    /// The exact sum so far: equal to the `Decimal` sum of the values added
    /// (its scale may differ).
    pub fn get(&self) -> Decimal {
        let p = POW10[S as usize];
        // Without a `Decimal` remainder and within 64 bits, the additions below
        // are known: `x + 0` and `0 + x` give `x` unchanged, and `whole + frac`
        // (same sign) gives the mantissa `units` at scale `S`.
        if let (Ok(u), Ok(p), true) = (
            i64::try_from(self.units),
            i64::try_from(p),
            self.rest.is_zero(),
        ) {
            let (whole, frac) = (u / p, u % p);
            let (m, scale) = if whole == 0 {
                (frac, S)
            } else if frac == 0 {
                (whole, 0)
            } else {
                (u, S)
            };
            if let Ok(d) = Decimal::try_from_i128_with_scale(i128::from(m), scale) {
                return d;
            }
        }
        let whole = self.units / p;
        let frac = self.units % p;
        let frac = Decimal::try_from_i128_with_scale(frac, S).unwrap_or_default();
        let whole = Decimal::try_from_i128_with_scale(whole, 0).unwrap_or(Decimal::MAX);
        whole + frac + self.rest
    }
}

#[cfg(test)]
#[path = "tests/num.rs"]
mod tests;

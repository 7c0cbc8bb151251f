//! Server-rendered SVG charts: the equity curve, cumulative realized P&L and
//! the ladder picture of a basket. Coordinates are `f64` (drawing only);
//! every label is a formatted `Decimal`, and all text is XML-escaped.

use std::fmt::Write;

use chrono::{DateTime, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::fmt;

/// XML escape for text and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn f(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

const W: f64 = 640.0;

/// A line chart of a time series (oldest first). `empty` is shown without data.
pub fn line_chart(
    points: &[(DateTime<Utc>, Decimal)],
    title: &str,
    unit: &str,
    empty: &str,
) -> String {
    let h = 220.0;
    let (l, r, t, b) = (70.0, 12.0, 14.0, 28.0);
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg viewBox="0 0 {W} {h}" class="w-full h-auto" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"##,
        esc(title)
    );
    let _ = write!(
        s,
        r##"<rect x="{l}" y="{t}" width="{}" height="{}" fill="#f8fafc" stroke="#e2e8f0"/>"##,
        W - l - r,
        h - t - b
    );
    if points.len() < 2 {
        let _ = write!(
            s,
            r##"<text x="{}" y="{}" text-anchor="middle" font-size="14" fill="#64748b">{}</text></svg>"##,
            W / 2.0,
            h / 2.0,
            esc(empty)
        );
        return s;
    }
    let min = points.iter().map(|p| p.1).min().unwrap_or_default();
    let max = points.iter().map(|p| p.1).max().unwrap_or_default();
    let (lo, hi) = if min == max {
        (f(min) - 1.0, f(max) + 1.0)
    } else {
        let pad = (f(max) - f(min)) * 0.08;
        (f(min) - pad, f(max) + pad)
    };
    let t0 = points[0].0.timestamp() as f64;
    let t1 = points[points.len() - 1].0.timestamp() as f64;
    let span = (t1 - t0).max(1.0);
    let x = |ts: f64| l + (ts - t0) / span * (W - l - r);
    let y = |v: f64| t + (hi - v) / (hi - lo) * (h - t - b);
    if lo < 0.0 && hi > 0.0 {
        let _ = write!(
            s,
            r##"<line x1="{l}" x2="{}" y1="{y0:.1}" y2="{y0:.1}" stroke="#94a3b8" stroke-dasharray="4 3"/><text x="{}" y="{:.1}" text-anchor="end" font-size="11" fill="#64748b">0</text>"##,
            W - r,
            l - 6.0,
            y(0.0) + 4.0,
            y0 = y(0.0)
        );
    }
    let mut path = String::new();
    for (i, (at, v)) in points.iter().enumerate() {
        let _ = write!(
            path,
            "{}{:.1},{:.1}",
            if i == 0 { "M" } else { " L" },
            x(at.timestamp() as f64),
            y(f(*v))
        );
    }
    let last = points[points.len() - 1].1;
    let first = points[0].1;
    let colour = if last >= first { "#047857" } else { "#b91c1c" };
    let _ = write!(
        s,
        r##"<path d="{path}" fill="none" stroke="{colour}" stroke-width="2" stroke-linejoin="round"/>"##
    );
    if min != max {
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11" fill="#334155">{}</text><text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11" fill="#334155">{}</text>"##,
            l - 6.0,
            t + 10.0,
            esc(&fmt::amount(max)),
            l - 6.0,
            h - b,
            esc(&fmt::amount(min))
        );
    } else if !(lo < 0.0 && hi > 0.0) {
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11" fill="#334155">{}</text>"##,
            l - 6.0,
            y(f(min)) + 4.0,
            esc(&fmt::amount(min))
        );
    }
    let _ = write!(
        s,
        r##"<text x="{l}" y="{:.1}" font-size="11" fill="#64748b">{}</text><text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11" fill="#64748b">{}</text>"##,
        h - 8.0,
        esc(&points[0].0.format("%m-%d %H:%M").to_string()),
        W - r,
        h - 8.0,
        esc(&points[points.len() - 1]
            .0
            .format("%m-%d %H:%M UTC")
            .to_string())
    );
    let _ = write!(
        s,
        r##"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{colour}"/><text x="{:.1}" y="{:.1}" text-anchor="end" font-size="12" font-weight="600" fill="{colour}">{} {}</text></svg>"##,
        x(t1),
        y(f(last)),
        x(t1) - 6.0,
        (y(f(last)) - 8.0).max(t + 12.0),
        esc(&fmt::amount(last)),
        esc(unit)
    );
    s
}

/// One horizontal line of the ladder picture.
#[derive(Debug, Clone)]
pub struct LadderLevel {
    pub index: u32,
    pub price: Decimal,
    pub qty: Decimal,
    pub filled: bool,
    pub active: bool,
}

/// What the ladder picture shows.
#[derive(Debug, Clone, Default)]
pub struct Ladder {
    pub anchor: Decimal,
    pub levels: Vec<LadderLevel>,
    pub avg: Option<Decimal>,
    pub tp1: Option<Decimal>,
    pub tp2: Option<Decimal>,
    pub stop: Option<Decimal>,
    pub last: Option<Decimal>,
}

/// The ladder of a basket: levels (filled ones solid green), TP lines, the
/// stop line, the anchor and the current price.
pub fn ladder(lad: &Ladder, compact: bool) -> String {
    let h = if compact { 260.0 } else { 420.0 };
    let (t, b) = (14.0, 14.0);
    let (x0, x1) = (150.0, W - 190.0);
    let mut prices: Vec<Decimal> = vec![lad.anchor];
    prices.extend(lad.levels.iter().map(|l| l.price));
    prices.extend(
        [lad.tp1, lad.tp2, lad.stop, lad.last, lad.avg]
            .into_iter()
            .flatten(),
    );
    let min = prices.iter().copied().min().unwrap_or_default();
    let max = prices.iter().copied().max().unwrap_or_default();
    let (lo, hi) = if min == max {
        (f(min) * 0.9, f(max) * 1.1 + 1.0)
    } else {
        let pad = (f(max) - f(min)) * 0.04;
        (f(min) - pad, f(max) + pad)
    };
    let y = |p: Decimal| t + (hi - f(p)) / (hi - lo) * (h - t - b);
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg viewBox="0 0 {W} {h}" class="w-full h-auto" role="img" aria-label="Ladder" xmlns="http://www.w3.org/2000/svg"><rect x="{x0}" y="{t}" width="{}" height="{}" fill="#f8fafc" stroke="#e2e8f0"/>"##,
        x1 - x0,
        h - t - b
    );
    // Level labels (right of the box), spread apart like the marks below.
    let mut order: Vec<(usize, f64)> = lad
        .levels
        .iter()
        .enumerate()
        .map(|(i, l)| (i, y(l.price) + 4.0))
        .collect();
    order.sort_by(|a, b| a.1.total_cmp(&b.1));
    let mut level_y = vec![0.0; lad.levels.len()];
    let mut prev = f64::MIN;
    for (i, ly) in order {
        let ly = if ly < prev + 12.0 { prev + 12.0 } else { ly };
        level_y[i] = ly;
        prev = ly;
    }
    for (li, l) in lad.levels.iter().enumerate() {
        let yy = y(l.price);
        let (stroke, dash, width, note) = if l.filled {
            ("#059669", "", 4.0, "filled")
        } else if l.active {
            ("#64748b", r#" stroke-dasharray="6 4""#, 1.5, "waiting")
        } else {
            ("#cbd5e1", r#" stroke-dasharray="2 4""#, 1.0, "inactive")
        };
        let _ = write!(
            s,
            r##"<line x1="{x0}" x2="{x1}" y1="{yy:.1}" y2="{yy:.1}" stroke="{stroke}" stroke-width="{width}"{dash}/><text x="{:.1}" y="{:.1}" font-size="11" fill="{stroke}">B{} {} × {} · {}</text>"##,
            x1 + 6.0,
            level_y[li],
            l.index,
            esc(&fmt::num(l.price)),
            esc(&fmt::num(l.qty)),
            note
        );
    }
    // The special lines; their labels (left of the box) are spread apart so
    // that close prices stay readable.
    let marks: Vec<(Decimal, &str, &str, &str, f64)> = [
        (
            Some(lad.anchor),
            "anchor",
            "#475569",
            r#" stroke-dasharray="1 3""#,
            1.5,
        ),
        (lad.avg, "avg", "#7c3aed", r#" stroke-dasharray="3 3""#, 1.5),
        (lad.tp1, "TP1", "#2563eb", "", 2.0),
        (lad.tp2, "TP2", "#1d4ed8", "", 2.0),
        (
            lad.stop,
            "stop",
            "#dc2626",
            r#" stroke-dasharray="8 3""#,
            2.5,
        ),
        (lad.last, "last", "#ea580c", "", 3.0),
    ]
    .into_iter()
    .filter_map(|(p, l, c, dsh, w)| p.map(|p| (p, l, c, dsh, w)))
    .collect();
    let mut label_y: Vec<(usize, f64)> = marks
        .iter()
        .enumerate()
        .map(|(i, m)| (i, y(m.0) + 4.0))
        .collect();
    label_y.sort_by(|a, b| a.1.total_cmp(&b.1));
    let mut prev = f64::MIN;
    for (_, ly) in label_y.iter_mut() {
        if *ly < prev + 13.0 {
            *ly = prev + 13.0;
        }
        prev = *ly;
    }
    let mut ys = vec![0.0; marks.len()];
    for (i, ly) in label_y {
        ys[i] = ly;
    }
    for (i, (p, label, colour, dash, width)) in marks.iter().enumerate() {
        let yy = y(*p);
        let _ = write!(
            s,
            r##"<line x1="{x0}" x2="{x1}" y1="{yy:.1}" y2="{yy:.1}" stroke="{colour}" stroke-width="{width}"{dash}/><text x="{:.1}" y="{:.1}" text-anchor="end" font-size="12" font-weight="600" fill="{colour}">{} {}</text>"##,
            x0 - 6.0,
            ys[i],
            esc(label),
            esc(&fmt::num(*p))
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(esc("<script>&\"'"), "&lt;script&gt;&amp;&quot;&#39;");
        let svg = line_chart(&[], "<t>", "USDC", "No <data>");
        assert!(svg.contains("No &lt;data&gt;") && !svg.contains("<data>"));
    }

    #[test]
    fn ladder_draws_every_level_and_line() {
        let lad = Ladder {
            anchor: Decimal::from(150),
            levels: (1..=3)
                .map(|i| LadderLevel {
                    index: i,
                    price: Decimal::from(150 - 5 * i64::from(i)),
                    qty: Decimal::ONE,
                    filled: i == 1,
                    active: true,
                })
                .collect(),
            avg: Some(Decimal::from(145)),
            tp1: Some(Decimal::from(147)),
            tp2: None,
            stop: Some(Decimal::from(120)),
            last: Some(Decimal::from(141)),
        };
        let svg = ladder(&lad, true);
        assert!(svg.contains("B1 145 × 1 · filled"));
        assert!(svg.contains("B3 135 × 1 · waiting"));
        assert!(svg.contains(">stop 120<") && svg.contains(">last 141<"));
    }
}

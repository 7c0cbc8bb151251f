//! The `--report` file: one self-contained HTML page (inline CSS and SVG, no
//! script, no network) in the dashboard's colours: the price with each
//! basket's ladder and every fill, the equity against buy-and-hold, the
//! drawdown, the figures, and the baskets one by one.
//!
//! Pixel coordinates are `f64` (drawing, not money); every number shown as
//! text comes from the JSON summary, so the page and the JSON agree.

use std::fmt::Write as _;

use grid_core::Side;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde_json::Value;

use super::{output, Outcome};

const W: f64 = 960.0;
const H: f64 = 260.0;
const PAD_L: f64 = 64.0;
const PAD_R: f64 = 12.0;
const PAD_T: f64 = 10.0;
const PAD_B: f64 = 22.0;

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn f(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

/// Maps times and values to the chart's pixels.
struct Frame {
    t0: f64,
    t1: f64,
    lo: f64,
    hi: f64,
}

impl Frame {
    fn new(t: (i64, i64), values: impl Iterator<Item = f64>) -> Frame {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for v in values {
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if !lo.is_finite() || !hi.is_finite() {
            (lo, hi) = (0.0, 1.0);
        }
        if hi - lo < 1e-12 {
            hi = lo + lo.abs().max(1.0) * 0.01;
        }
        let m = (hi - lo) * 0.05;
        Frame {
            t0: t.0 as f64,
            t1: (t.1 as f64).max(t.0 as f64 + 1.0),
            lo: lo - m,
            hi: hi + m,
        }
    }
    fn x(&self, t: i64) -> f64 {
        PAD_L + (t as f64 - self.t0) / (self.t1 - self.t0) * (W - PAD_L - PAD_R)
    }
    fn y(&self, v: f64) -> f64 {
        PAD_T + (self.hi - v) / (self.hi - self.lo) * (H - PAD_T - PAD_B)
    }
}

fn polyline(fr: &Frame, pts: &[(i64, f64)], color: &str, width: f64, dash: &str) -> String {
    let mut d = String::new();
    for (t, v) in pts {
        let _ = write!(d, "{:.1},{:.1} ", fr.x(*t), fr.y(*v));
    }
    format!(
        r#"<polyline fill="none" stroke="{color}" stroke-width="{width}" stroke-dasharray="{dash}" points="{d}"/>"#
    )
}

fn axes(fr: &Frame, label: &str) -> String {
    let mut s = String::new();
    for i in 0..=4 {
        let v = fr.lo + (fr.hi - fr.lo) * f64::from(i) / 4.0;
        let y = fr.y(v);
        let _ = write!(
            s,
            r##"<line x1="{PAD_L}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="#e2e8f0"/><text x="{:.1}" y="{:.1}" text-anchor="end" class="ax">{}</text>"##,
            W - PAD_R,
            PAD_L - 6.0,
            y + 4.0,
            short(v)
        );
    }
    for (t, anchor) in [(fr.t0, "start"), (fr.t1, "end")] {
        let x = fr.x(t as i64);
        let _ = write!(
            s,
            r#"<text x="{x:.1}" y="{:.1}" text-anchor="{anchor}" class="ax">{}</text>"#,
            H - 6.0,
            date(t as i64)
        );
    }
    let _ = write!(
        s,
        r#"<text x="{PAD_L}" y="{:.1}" class="ax">{}</text>"#,
        PAD_T + 2.0,
        esc(label)
    );
    s
}

fn short(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.2}M", v / 1e6)
    } else if a >= 1000.0 {
        format!("{v:.0}")
    } else if a >= 1.0 || a == 0.0 {
        format!("{v:.2}")
    } else {
        // Four significant digits (0.001634).
        let places = usize::try_from((-a.log10()).ceil() as i64 + 3)
            .unwrap_or(8)
            .min(12);
        format!("{v:.places$}")
    }
}

fn date(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

fn svg(body: &str, title: &str) -> String {
    format!(
        r#"<svg viewBox="0 0 {W} {H}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">{body}</svg>"#,
        esc(title)
    )
}

fn price_chart(o: &Outcome) -> String {
    let prices: Vec<(i64, f64)> = o.prices.iter().map(|(t, p)| (*t, f(*p))).collect();
    let fr = Frame::new(o.span_ms, prices.iter().map(|(_, v)| *v));
    let mut body = axes(&fr, &format!("{} close", o.options.symbol));
    for (basket, levels, from, to) in &o.ladders {
        for p in levels {
            let y = fr.y(f(*p));
            if !(PAD_T..=H - PAD_B).contains(&y) {
                continue;
            }
            let _ = write!(
                body,
                r##"<line x1="{:.1}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="#a5b4fc" stroke-dasharray="3 3"><title>basket {basket} level {p}</title></line>"##,
                fr.x(*from),
                fr.x(*to)
            );
        }
    }
    body.push_str(&polyline(&fr, &prices, "#334155", 1.2, "none"));
    for fill in &o.fills {
        let (x, y) = (fr.x(fill.time_ms), fr.y(f(fill.price)));
        let (shape, color) = match fill.side {
            Side::Buy => (
                format!(
                    "{x:.1},{:.1} {:.1},{:.1} {:.1},{:.1}",
                    y - 1.0,
                    x - 4.5,
                    y + 7.0,
                    x + 4.5,
                    y + 7.0
                ),
                "#059669",
            ),
            Side::Sell => (
                format!(
                    "{x:.1},{:.1} {:.1},{:.1} {:.1},{:.1}",
                    y + 1.0,
                    x - 4.5,
                    y - 7.0,
                    x + 4.5,
                    y - 7.0
                ),
                "#dc2626",
            ),
        };
        let _ = write!(
            body,
            r#"<polygon points="{shape}" fill="{color}"><title>{} {} {} @ {} ({})</title></polygon>"#,
            fill.side.as_str(),
            esc(&fill.role),
            fill.qty,
            fill.price,
            date(fill.time_ms)
        );
    }
    svg(&body, "price, ladders and fills")
}

fn equity_chart(o: &Outcome) -> String {
    let eq: Vec<(i64, f64)> = o.figures.equity.iter().map(|(t, e)| (*t, f(*e))).collect();
    let start = f(o.figures.start_equity);
    let open = f(o.first_open);
    let hold: Vec<(i64, f64)> = o
        .prices
        .iter()
        .map(|(t, p)| {
            (
                *t,
                if open > 0.0 {
                    start * f(*p) / open
                } else {
                    start
                },
            )
        })
        .collect();
    let fr = Frame::new(o.span_ms, eq.iter().chain(hold.iter()).map(|(_, v)| *v));
    let mut body = axes(
        &fr,
        &format!("equity ({}) — bot: solid, buy and hold: dashed", o.quote),
    );
    body.push_str(&polyline(&fr, &hold, "#94a3b8", 1.2, "5 4"));
    body.push_str(&polyline(&fr, &eq, "#4f46e5", 1.8, "none"));
    svg(&body, "equity against buy and hold")
}

fn drawdown_chart(o: &Outcome) -> String {
    let mut peak = f64::NEG_INFINITY;
    let dd: Vec<(i64, f64)> = o
        .figures
        .equity
        .iter()
        .map(|(t, e)| {
            let v = f(*e);
            peak = peak.max(v);
            (
                *t,
                if peak > 0.0 {
                    (v - peak) / peak * 100.0
                } else {
                    0.0
                },
            )
        })
        .collect();
    let fr = Frame::new(o.span_ms, dd.iter().map(|(_, v)| *v).chain([0.0]));
    let mut body = axes(&fr, "drawdown %");
    let mut area = format!("{:.1},{:.1} ", fr.x(o.span_ms.0), fr.y(0.0));
    for (t, v) in &dd {
        let _ = write!(area, "{:.1},{:.1} ", fr.x(*t), fr.y(*v));
    }
    let _ = write!(area, "{:.1},{:.1}", fr.x(o.span_ms.1), fr.y(0.0));
    let _ = write!(
        body,
        r##"<polygon points="{area}" fill="#fecaca" stroke="#dc2626" stroke-width="1"/>"##
    );
    svg(&body, "drawdown")
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => "—".into(),
        Value::String(s) => esc(s),
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| format!("{} {}", esc(k), cell(v)))
            .collect::<Vec<_>>()
            .join(", "),
        other => esc(&other.to_string()),
    }
}

/// The report page.
pub fn report(o: &Outcome) -> String {
    let s = output::summary(o);
    let mut metrics = String::new();
    if let Value::Object(m) = &s {
        for (k, v) in m {
            let _ = write!(
                metrics,
                "<div><span>{}</span><b>{}</b></div>",
                esc(&k.replace('_', " ")),
                cell(v)
            );
        }
    }
    let mut baskets = String::new();
    for b in &o.baskets {
        let _ = write!(
            baskets,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            b.id,
            esc(b.status.as_str()),
            esc(b.closed_reason.as_deref().unwrap_or("—")),
            b.anchor_price.normalize(),
            esc(&date(b.created_at.timestamp_millis())),
            b.closed_at.map(|t| esc(&date(t.timestamp_millis()))).unwrap_or_else(|| "—".into()),
            b.sells,
            b.realized.round_dp(4),
            b.pos.normalize(),
        );
    }
    let head = format!(
        "{} · {} → {} · {} candles · cycle {} s · path {}",
        esc(&o.options.symbol),
        esc(&date(o.span_ms.0)),
        esc(&date(o.span_ms.1)),
        o.candles,
        o.options.cycle_seconds,
        o.options.path
    );
    let big = |k: &str| cell(&s[k]);
    format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Backtest {sym}</title><style>{CSS}</style></head><body>
<header><h1>Backtest {sym}</h1><p>{head}</p></header>
<main>
<section class="cards">
<div class="card"><span>total return</span><b class="{ret_class}">{ret} %</b></div>
<div class="card"><span>buy and hold</span><b>{bh} %</b></div>
<div class="card"><span>max drawdown</span><b class="neg">{dd} %</b></div>
<div class="card"><span>Sharpe</span><b>{sharpe}</b></div>
<div class="card"><span>sells</span><b>{sells}</b></div>
<div class="card"><span>fees ({quote})</span><b>{fees}</b></div>
</section>
<section class="panel"><h2>Price, ladders and fills</h2>{price}<p class="legend"><i class="buy"></i> buy <i class="sell"></i> sell <i class="lvl"></i> ladder level of a basket while it lived</p></section>
<section class="panel"><h2>Equity against buy and hold</h2>{equity}</section>
<section class="panel"><h2>Drawdown</h2>{drawdown}</section>
<section class="panel"><h2>Figures</h2><div class="kv">{metrics}</div></section>
<section class="panel"><h2>Baskets</h2><div class="scroll"><table><thead><tr><th>id</th><th>status</th><th>why</th><th>anchor</th><th>opened</th><th>closed</th><th>sells</th><th>realized</th><th>position</th></tr></thead><tbody>{baskets}</tbody></table></div></section>
<footer>bot-daemon backtest · {fills} fills · {cycles} cycles run, {skipped} quiet ones skipped · every figure is in the JSON (--json)</footer>
</main></body></html>
"#,
        sym = esc(&o.options.symbol),
        ret_class = if o.figures.total_return_pct < Decimal::ZERO {
            "neg"
        } else {
            "pos"
        },
        ret = big("total_return_pct"),
        bh = big("buy_and_hold_return_pct"),
        dd = big("max_drawdown_pct"),
        sharpe = big("sharpe"),
        sells = big("sells"),
        quote = esc(&o.quote),
        fees = big("fees_quote"),
        price = price_chart(o),
        equity = equity_chart(o),
        drawdown = drawdown_chart(o),
        fills = o.fills.len(),
        cycles = o.cycles_run,
        skipped = o.cycles_skipped,
    )
}

const CSS: &str = "*{box-sizing:border-box}body{margin:0;font-family:ui-sans-serif,system-ui,sans-serif;background:#f8fafc;color:#0f172a}\
header{background:#0f172a;color:#fff;padding:16px 24px}header h1{margin:0;font-size:20px}header p{margin:4px 0 0;color:#cbd5e1;font-size:14px}\
main{max-width:1040px;margin:0 auto;padding:16px}.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:12px;margin-bottom:16px}\
.card{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:12px}.card span{display:block;font-size:12px;color:#64748b;text-transform:uppercase;letter-spacing:.03em}\
.card b{font-size:20px}.pos{color:#047857}.neg{color:#b91c1c}.panel{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:12px 16px;margin-bottom:16px}\
.panel h2{font-size:15px;margin:0 0 8px}svg{width:100%;height:auto;display:block}.ax{font-size:11px;fill:#64748b}\
.legend{font-size:12px;color:#475569;margin:6px 0 0}.legend i{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px;vertical-align:middle}\
.legend .buy{background:#059669}.legend .sell{background:#dc2626}.legend .lvl{border-top:2px dashed #a5b4fc;height:0}\
.kv{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));column-gap:24px}\
.kv div{display:flex;justify-content:space-between;gap:12px;padding:4px 0;border-bottom:1px solid #f1f5f9;font-size:13px}\
.kv span{color:#475569}.kv b{font-weight:500;text-align:right;overflow-wrap:anywhere}\
table{border-collapse:collapse;width:100%;font-size:13px}th,td{padding:4px 6px;border-bottom:1px solid #f1f5f9;text-align:right;white-space:nowrap}\
thead th{color:#475569;font-weight:600}.scroll{overflow-x:auto}\
footer{font-size:12px;color:#64748b;text-align:center;padding:8px}";

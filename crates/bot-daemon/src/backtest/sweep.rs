//! `bot-daemon backtest --sweep sweep.json`: many configs over the same
//! candles, ranked by an objective, with walk-forward validation.
//!
//! The sweep file (unknown fields refused, like every config):
//! ```json
//! {"grid": {"tp_start_pct": ["0.008", "0.012"], "k_next": [1, 2]},
//!  "objective": "return_over_drawdown",
//!  "walk_forward": {"folds": 4}}
//! ```
//! or `{"random": {"samples": 64, "seed": 1, "ranges": {"tp_start_pct":
//! {"min": "0.004", "max": "0.02"}, "k_next": {"min": 1, "max": 4}}}}`.
//! A field is any config field, nested ones by their dotted path
//! (`reanchor_rules.time_ttl_s`); its values are JSON as the config file
//! writes them. A grid is the cartesian product of its lists; a random
//! sample draws each field uniformly in its range (integers when both
//! bounds are, else decimals at the finer of the bounds' scales) from a
//! seeded generator: the same file gives the same configs.
//!
//! Invariants: every run is a full backtest of the live engine (only its
//! config differs); a config the strategy refuses is reported with its
//! error and ranked last, never dropped; the ranking is stable (ties keep
//! the sweep's order); walk-forward splits the span into `folds + 1` equal
//! windows, chooses the best config on window i alone and reports it on
//! window i + 1, which it never saw.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{output, run_on, Loaded, Options};
use crate::error::DaemonError;

/// What the sweep file asks.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepSpec {
    /// Lists of values per field: every combination.
    #[serde(default)]
    pub grid: Option<BTreeMap<String, Vec<Value>>>,
    /// Seeded random samples.
    #[serde(default)]
    pub random: Option<RandomSpec>,
    /// What ranks the runs.
    #[serde(default)]
    pub objective: Objective,
    /// Out-of-sample validation.
    #[serde(default)]
    pub walk_forward: Option<WalkForward>,
}

/// `random`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomSpec {
    /// How many configs.
    pub samples: u32,
    /// The generator's seed.
    #[serde(default)]
    pub seed: u64,
    /// `{"min": …, "max": …}` per field.
    pub ranges: BTreeMap<String, Range>,
}

/// A field's range.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Range {
    /// Lowest value (a JSON integer, or a decimal as a string or number).
    pub min: Value,
    /// Highest value.
    pub max: Value,
}

/// `walk_forward`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalkForward {
    /// Training windows (each followed by its test window), ≥ 1.
    pub folds: u32,
}

/// What ranks the runs (higher is better).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// `total_return_pct`.
    #[default]
    Return,
    /// `total_return_pct / max(max_drawdown_pct, 0.01)`.
    ReturnOverDrawdown,
    /// `sharpe`.
    Sharpe,
    /// `sortino`.
    Sortino,
    /// `calmar`.
    Calmar,
    /// `profit_factor`.
    ProfitFactor,
}

impl Objective {
    /// Its name in the sweep file.
    pub fn as_str(self) -> &'static str {
        match self {
            Objective::Return => "return",
            Objective::ReturnOverDrawdown => "return_over_drawdown",
            Objective::Sharpe => "sharpe",
            Objective::Sortino => "sortino",
            Objective::Calmar => "calmar",
            Objective::ProfitFactor => "profit_factor",
        }
    }

    /// The objective's value of a run's summary (`None`: not defined for it).
    pub fn of(self, summary: &Value) -> Option<f64> {
        let num = |k: &str| -> Option<f64> {
            match &summary[k] {
                Value::String(s) => s.parse::<Decimal>().ok()?.to_f64(),
                Value::Number(n) => n.as_f64(),
                _ => None,
            }
        };
        match self {
            Objective::Return => num("total_return_pct"),
            Objective::ReturnOverDrawdown => {
                Some(num("total_return_pct")? / num("max_drawdown_pct")?.max(0.01))
            }
            Objective::Sharpe => num("sharpe"),
            Objective::Sortino => num("sortino"),
            Objective::Calmar => num("calmar"),
            Objective::ProfitFactor => num("profit_factor"),
        }
    }
}

/// Reads and checks a sweep file.
///
/// # Errors
/// [`DaemonError::Invalid`] naming the file and what is wrong in it.
pub fn read_spec(path: &std::path::Path) -> Result<SweepSpec, DaemonError> {
    let bad = |why: String| DaemonError::Invalid(format!("--sweep {}: {why}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let de = &mut serde_json::Deserializer::from_str(&text);
    let spec: SweepSpec = serde_path_to_error::deserialize(de)
        .map_err(|e| bad(format!("{} at `{}`", e.inner(), e.path())))?;
    if spec.grid.is_none() == spec.random.is_none() {
        return Err(bad("give either \"grid\" or \"random\"".into()));
    }
    if let Some(g) = &spec.grid {
        if g.is_empty() || g.values().any(Vec::is_empty) {
            return Err(bad("every grid field needs at least one value".into()));
        }
    }
    if let Some(r) = &spec.random {
        if r.samples == 0 || r.ranges.is_empty() {
            return Err(bad("random needs samples ≥ 1 and at least one range".into()));
        }
    }
    if spec.walk_forward.is_some_and(|w| w.folds == 0) {
        return Err(bad("walk_forward.folds must be ≥ 1".into()));
    }
    Ok(spec)
}

/// SplitMix64 (the simulation harness's generator, another stream).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

fn dec(v: &Value) -> Option<Decimal> {
    match v {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.to_string().parse().ok(),
        _ => None,
    }
}

/// One draw in `r`.
fn draw(field: &str, r: &Range, rng: &mut Rng) -> Result<Value, DaemonError> {
    if let (Some(lo), Some(hi)) = (r.min.as_i64(), r.max.as_i64()) {
        if hi < lo {
            return Err(DaemonError::Invalid(format!("--sweep: {field}: max < min")));
        }
        let span = u64::try_from(hi - lo).unwrap_or(0).saturating_add(1);
        let x = lo + i64::try_from(rng.next() % span).unwrap_or(0);
        return Ok(json!(x));
    }
    let (Some(lo), Some(hi)) = (dec(&r.min), dec(&r.max)) else {
        return Err(DaemonError::Invalid(format!(
            "--sweep: {field}: min and max must be numbers or decimal strings"
        )));
    };
    if hi < lo {
        return Err(DaemonError::Invalid(format!("--sweep: {field}: max < min")));
    }
    let scale = lo.scale().max(hi.scale()).max(1);
    let u = Decimal::from(rng.next() >> 11) / Decimal::from(1u64 << 53);
    let x = (lo + (hi - lo) * u).round_dp(scale);
    Ok(Value::String(x.to_string()))
}

/// Every config of the sweep: field path → value, in the sweep's order.
///
/// # Errors
/// A range that cannot be drawn from.
pub fn configs(spec: &SweepSpec) -> Result<Vec<BTreeMap<String, Value>>, DaemonError> {
    if let Some(grid) = &spec.grid {
        let mut out = vec![BTreeMap::new()];
        for (field, values) in grid {
            out = out
                .into_iter()
                .flat_map(|c| {
                    values.iter().map(move |v| {
                        let mut c = c.clone();
                        c.insert(field.clone(), v.clone());
                        c
                    })
                })
                .collect();
        }
        return Ok(out);
    }
    let Some(r) = &spec.random else {
        return Ok(Vec::new());
    };
    let mut rng = Rng(r.seed ^ 0x5EE9_5EE9);
    (0..r.samples)
        .map(|_| {
            r.ranges
                .iter()
                .map(|(f, range)| Ok((f.clone(), draw(f, range, &mut rng)?)))
                .collect()
        })
        .collect()
}

/// `base` with `fields` set (dotted paths make nested objects).
pub fn overlay(base: Option<&Value>, fields: &BTreeMap<String, Value>) -> Value {
    let mut root = match base {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    };
    for (path, v) in fields {
        let mut node = &mut root;
        let parts: Vec<&str> = path.split('.').collect();
        for (i, p) in parts.iter().enumerate() {
            if i + 1 == parts.len() {
                node.insert((*p).to_string(), v.clone());
            } else {
                let next = node
                    .entry((*p).to_string())
                    .or_insert_with(|| Value::Object(Map::new()));
                if !next.is_object() {
                    *next = Value::Object(Map::new());
                }
                let Value::Object(m) = next else { break };
                node = m;
            }
        }
    }
    Value::Object(root)
}

/// One run of a sweep.
#[derive(Debug, Clone)]
pub struct SweepRun {
    /// The fields the sweep set.
    pub fields: BTreeMap<String, Value>,
    /// Its summary, or why it could not run.
    pub result: Result<Value, String>,
    /// The objective's value (`None`: undefined or failed).
    pub score: Option<f64>,
}

/// Most candles a sweep keeps in memory to share among its runs (about
/// 100 bytes each); with more, every run streams the files.
pub const SHARED_CANDLES_MAX: usize = 3_000_000;

/// Runs `base` once per config on `jobs` threads; results in the sweep's order.
fn run_all(
    loaded: Option<&Loaded>,
    base: &Options,
    fields: &[BTreeMap<String, Value>],
    objective: Objective,
    jobs: usize,
    progress: &Progress,
) -> Vec<SweepRun> {
    let next = AtomicUsize::new(0);
    let out: Mutex<Vec<Option<SweepRun>>> = Mutex::new(vec![None; fields.len()]);
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1).min(fields.len().max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(f) = fields.get(i) else { break };
                let mut o = base.clone();
                o.config = Some(overlay(base.config.as_ref(), f));
                let result = run_on(&o, loaded)
                    .map(|outcome| output::summary(&outcome))
                    .map_err(|e| e.to_string());
                let score = result.as_ref().ok().and_then(|s| objective.of(s));
                let r = SweepRun {
                    fields: f.clone(),
                    result,
                    score,
                };
                if let Some(slot) = out
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .get_mut(i)
                {
                    *slot = Some(r);
                }
                progress.tick();
            });
        }
    });
    out.into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .into_iter()
        .flatten()
        .collect()
}

/// Indices of `runs`, best first (undefined scores last, ties in order).
pub fn ranking(runs: &[SweepRun]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..runs.len()).collect();
    idx.sort_by(|a, b| {
        let (x, y) = (runs[*a].score, runs[*b].score);
        match (x, y) {
            (Some(x), Some(y)) => y.partial_cmp(&x).unwrap_or(std::cmp::Ordering::Equal),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        }
    });
    idx
}

/// A progress bar on standard error, when it is a terminal.
struct Progress {
    total: usize,
    done: AtomicUsize,
    show: bool,
}

impl Progress {
    fn new(total: usize) -> Progress {
        Progress {
            total,
            done: AtomicUsize::new(0),
            show: std::io::stderr().is_terminal(),
        }
    }
    fn tick(&self) {
        let n = self.done.fetch_add(1, Ordering::SeqCst) + 1;
        if self.show {
            let width = 30;
            let filled = n * width / self.total.max(1);
            eprint!(
                "\r[{}{}] {n}/{} runs",
                "#".repeat(filled),
                " ".repeat(width - filled.min(width)),
                self.total
            );
            if n == self.total {
                eprintln!();
            }
        }
    }
}

/// The first open and last close of the candles `o` selects.
fn span(o: &Options, loaded: Option<&Loaded>) -> Result<(i64, i64), DaemonError> {
    let mut first = None;
    let mut last = None;
    let candles: Box<dyn Iterator<Item = Result<backtest::Candle, backtest::KlineError>>> =
        match loaded {
            Some(l) => Box::new(l.candles().iter().copied().map(Ok)),
            None => Box::new(backtest::KlineReader::open(&o.klines)?),
        };
    for c in candles {
        let c = c?;
        if o.from_ms.is_some_and(|f| c.open_time_ms < f) {
            continue;
        }
        if o.to_ms.is_some_and(|t| c.open_time_ms >= t) {
            break;
        }
        first.get_or_insert(c.open_time_ms);
        last = Some(c.close_time_ms);
    }
    match (first, last) {
        (Some(f), Some(l)) => Ok((f, l + 1)),
        _ => Err(DaemonError::Invalid("no candle to sweep over".into())),
    }
}

/// What a sweep produced.
#[derive(Debug, Clone)]
pub struct SweepOutcome {
    /// The runs over the whole span, in the sweep's order.
    pub runs: Vec<SweepRun>,
    /// Their ranking (indices into `runs`, best first).
    pub ranked: Vec<usize>,
    /// The objective.
    pub objective: Objective,
    /// The walk-forward folds, when asked.
    pub walk_forward: Option<Value>,
}

/// Runs the sweep.
///
/// # Errors
/// A spec that cannot be drawn from; no candle in the span.
pub fn sweep(base: &Options, spec: &SweepSpec, jobs: usize) -> Result<SweepOutcome, DaemonError> {
    let fields = configs(spec)?;
    let loaded = Loaded::read(&base.klines, SHARED_CANDLES_MAX)?;
    let loaded = loaded.as_ref();
    let (from, to) = span(base, loaded)?;
    let folds = spec.walk_forward.map_or(0, |w| w.folds as usize);
    let progress = Progress::new(fields.len() * (1 + folds) + folds);
    let runs = run_all(loaded, base, &fields, spec.objective, jobs, &progress);
    let ranked = ranking(&runs);
    let walk_forward = match spec.walk_forward {
        None => None,
        Some(w) => {
            let windows = i64::from(w.folds) + 1;
            let len = (to - from) / windows;
            let mut out = Vec::new();
            for k in 0..i64::from(w.folds) {
                let train = (from + k * len, from + (k + 1) * len);
                let test = (train.1, if k + 2 == windows { to } else { train.1 + len });
                let mut o = base.clone();
                (o.from_ms, o.to_ms) = (Some(train.0), Some(train.1));
                let trained = run_all(loaded, &o, &fields, spec.objective, jobs, &progress);
                let best = ranking(&trained).first().copied();
                let chosen = best.and_then(|i| trained.get(i));
                let mut t = base.clone();
                (t.from_ms, t.to_ms) = (Some(test.0), Some(test.1));
                let tested = chosen.map(|c| {
                    let only = [c.fields.clone()];
                    run_all(loaded, &t, &only, spec.objective, 1, &progress)
                });
                let test_run = tested.as_ref().and_then(|v| v.first());
                out.push(json!({
                    "train": {"from_ms": train.0, "to_ms": train.1},
                    "test": {"from_ms": test.0, "to_ms": test.1},
                    "best_config": chosen.map(|c| c.fields.clone()),
                    "train_objective": chosen.and_then(|c| c.score),
                    "test_objective": test_run.and_then(|r| r.score),
                    "test_summary": test_run.map(|r| match &r.result {
                        Ok(s) => s.clone(),
                        Err(e) => json!({"error": e}),
                    }),
                }));
            }
            Some(json!({"folds": out}))
        }
    };
    Ok(SweepOutcome {
        runs,
        ranked,
        objective: spec.objective,
        walk_forward,
    })
}

/// The `--json` document of a sweep.
pub fn to_json(s: &SweepOutcome) -> Value {
    json!({
        "objective": s.objective.as_str(),
        "runs": s.ranked.iter().filter_map(|i| s.runs.get(*i)).map(|r| json!({
            "config": r.fields,
            "objective": r.score,
            "summary": r.result.as_ref().ok(),
            "error": r.result.as_ref().err(),
        })).collect::<Vec<_>>(),
        "walk_forward": s.walk_forward,
    })
}

const CSV_KEYS: [&str; 8] = [
    "total_return_pct",
    "max_drawdown_pct",
    "sharpe",
    "sortino",
    "calmar",
    "profit_factor",
    "sells",
    "fees_quote",
];

fn csv_cell(v: &Value) -> String {
    let s = match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The runs as CSV, best first: the swept fields, the objective, then the
/// main figures.
pub fn to_csv(s: &SweepOutcome) -> String {
    let fields: Vec<String> = s
        .runs
        .first()
        .map(|r| r.fields.keys().cloned().collect())
        .unwrap_or_default();
    let mut out = String::new();
    let mut head: Vec<String> = fields.clone();
    head.push("objective".into());
    head.extend(CSV_KEYS.iter().map(|k| (*k).to_string()));
    head.push("error".into());
    out.push_str(&head.join(","));
    out.push('\n');
    for r in s.ranked.iter().filter_map(|i| s.runs.get(*i)) {
        let mut row: Vec<String> = fields
            .iter()
            .map(|f| csv_cell(r.fields.get(f).unwrap_or(&Value::Null)))
            .collect();
        row.push(r.score.map(|x| format!("{x:.4}")).unwrap_or_default());
        for k in CSV_KEYS {
            row.push(match &r.result {
                Ok(sum) => csv_cell(&sum[k]),
                Err(_) => String::new(),
            });
        }
        row.push(
            r.result
                .as_ref()
                .err()
                .map(|e| csv_cell(&json!(e)))
                .unwrap_or_default(),
        );
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

/// The ten best runs (and the walk-forward folds) for the terminal.
pub fn table(s: &SweepOutcome) -> String {
    let mut out = format!(
        "sweep: {} runs, ranked by {}\n",
        s.runs.len(),
        s.objective.as_str()
    );
    for (rank, i) in s.ranked.iter().take(10).enumerate() {
        let Some(r) = s.runs.get(*i) else { continue };
        let fields = r
            .fields
            .iter()
            .map(|(k, v)| match v {
                Value::String(x) => format!("{k}={x}"),
                other => format!("{k}={other}"),
            })
            .collect::<Vec<_>>()
            .join(" ");
        let score = r.score.map_or("—".to_string(), |x| format!("{x:.4}"));
        let ret = match &r.result {
            Ok(sum) => format!(
                "return {}% dd {}%",
                csv_cell(&sum["total_return_pct"]),
                csv_cell(&sum["max_drawdown_pct"])
            ),
            Err(e) => format!("error: {e}"),
        };
        out.push_str(&format!(
            "  #{:<3} {score:>10}  {ret}  {fields}\n",
            rank + 1
        ));
    }
    if let Some(Value::Array(folds)) = s.walk_forward.as_ref().map(|w| w["folds"].clone()) {
        out.push_str("walk-forward (best on each window, scored on the next):\n");
        for (k, f) in folds.iter().enumerate() {
            let num = |v: &Value| v.as_f64().map_or("—".to_string(), |x| format!("{x:.4}"));
            out.push_str(&format!(
                "  fold {}: train {} → test {}\n",
                k + 1,
                num(&f["train_objective"]),
                num(&f["test_objective"])
            ));
        }
    }
    out
}

#[cfg(test)]
#[path = "tests/sweep.rs"]
mod tests;

//! `bot-daemon plan --input FILE|-`: strategy.md §14.
//!
//! Invariant: every input, valid or not, is answered with one JSON document on
//! stdout — the `Plan` (exit 0) or `{"error": {kind, field, message}}` (exit 2).
//! Nothing panics and nothing is written anywhere else.

use std::io::Read;
use std::process::ExitCode;

use grid_core::{plan, PlanError, PlanInput};
use serde_json::json;

/// The answer to one input text: the JSON to print and whether it is a plan.
pub fn answer(text: &str) -> (String, bool) {
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed: Result<PlanInput, _> = serde_path_to_error::deserialize(&mut de);
    let input = match parsed {
        Ok(input) => input,
        Err(e) => {
            // A malformed config value is a `config` error naming its field
            // (strategy.md §2), anything else an `input` error.
            let err = PlanError::from_json(&e.path().to_string(), e.inner());
            return (plan_error_json(&err), false);
        }
    };
    if let Err(e) = de.end() {
        return (error_json("input", "", &e.to_string()), false);
    }
    match plan(&input) {
        // The Plan struct, not a `Value`: keys keep the order of strategy.md §10.
        Ok(p) => match serde_json::to_string_pretty(&p) {
            Ok(text) => (text, true),
            Err(e) => (error_json("input", "", &e.to_string()), false),
        },
        Err(e) => (plan_error_json(&e), false),
    }
}

fn plan_error_json(e: &PlanError) -> String {
    error_json(e.kind(), e.field(), e.reason())
}

fn error_json(kind: &str, field: &str, message: &str) -> String {
    let v = json!({"error": {"kind": kind, "field": field, "message": message}});
    serde_json::to_string_pretty(&v).unwrap_or_else(|_| FALLBACK.to_string())
}

const FALLBACK: &str = r#"{"error":{"kind":"input","field":"","message":"unprintable error"}}"#;

fn read_input(path: &str) -> Result<String, String> {
    let mut text = String::new();
    if path == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
    } else {
        text = std::fs::read_to_string(path).map_err(|e| format!("cannot read `{path}`: {e}"))?;
    }
    Ok(text)
}

/// Runs the command: prints the answer and returns the exit code (0 or 2).
pub fn run_file(path: &str) -> ExitCode {
    let (text, ok) = match read_input(path) {
        Ok(text) => answer(&text),
        Err(msg) => (error_json("input", "input", &msg), false),
    };
    if let Err(e) = super::emit(&format!("{text}\n")) {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "error: cannot write the answer: {e}");
        return ExitCode::from(1);
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}

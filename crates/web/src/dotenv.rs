//! `.env` for `web`, with the rules `bot-daemon` uses: a `.env` in the
//! current directory fills the variables the process environment does not
//! set (the environment wins); `KEY=value` lines, `#` comments, an optional
//! `export `, single or double quotes around the value.
//!
//! Invariant: errors name the line, never its content (it may hold a secret).

use std::collections::HashMap;
use std::path::Path;

/// A `.env` that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DotEnvError {
    #[error("{path} line {line}: {reason}; fix or remove that line (format: KEY=value)")]
    Line {
        path: String,
        line: usize,
        reason: &'static str,
    },
    #[error("cannot read {path}: {reason}; check its permissions or remove it")]
    Read { path: String, reason: String },
}

/// Parses `.env` text into `(key, value)` pairs, in order.
///
/// # Errors
/// [`DotEnvError::Line`] naming the first bad line.
pub fn parse(path: &str, text: &str) -> Result<Vec<(String, String)>, DotEnvError> {
    let mut out = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |reason| DotEnvError::Line {
            path: path.to_string(),
            line: n + 1,
            reason,
        };
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((k, v)) = line.split_once('=') else {
            return Err(bad("expected KEY=value"));
        };
        let k = k.trim();
        if k.is_empty() || !k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(bad("the name before `=` is not a variable name"));
        }
        let v = v.trim();
        let v = if v.len() >= 2
            && ((v.starts_with('"') && v.ends_with('"'))
                || (v.starts_with('\'') && v.ends_with('\'')))
        {
            &v[1..v.len() - 1]
        } else {
            v
        };
        out.push((k.to_string(), v.to_string()));
    }
    Ok(out)
}

/// The variables of the file at `path` (none when it does not exist),
/// overridden by `process` (the process environment wins), and the names
/// that came from the file (for the log: names only, never values).
///
/// # Errors
/// [`DotEnvError`] for an unreadable or malformed file.
pub fn merge(
    path: &Path,
    process: impl IntoIterator<Item = (String, String)>,
) -> Result<(HashMap<String, String>, Vec<String>), DotEnvError> {
    let mut env: HashMap<String, String> = HashMap::new();
    let name = path.display().to_string();
    if path.is_file() {
        let text = std::fs::read_to_string(path).map_err(|e| DotEnvError::Read {
            path: name.clone(),
            reason: e.to_string(),
        })?;
        env.extend(parse(&name, &text)?);
    }
    let from_file: Vec<String> = env.keys().cloned().collect();
    let process: HashMap<String, String> = process.into_iter().collect();
    let mut used: Vec<String> = from_file
        .into_iter()
        .filter(|k| !process.contains_key(k))
        .collect();
    used.sort();
    env.extend(process);
    Ok((env, used))
}

/// The process environment (variables that are not UTF-8 are skipped)
/// merged over `./.env`, and the names taken from `.env`.
///
/// # Errors
/// [`DotEnvError`] for an unreadable or malformed `.env`.
pub fn environment() -> Result<(HashMap<String, String>, Vec<String>), DotEnvError> {
    let process: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    merge(Path::new(".env"), process)
}

#[cfg(test)]
#[path = "tests/dotenv.rs"]
mod tests;

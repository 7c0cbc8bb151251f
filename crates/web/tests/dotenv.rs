//! The `web` binary reads `.env` from its working directory like
//! `bot-daemon` does: the process environment wins over the file.

// Test code: a failed unwrap/expect/panic is a failed test, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::{Command, Output};

fn dir_with_env(name: &str, dotenv: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("web-dotenv-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join(".env"), dotenv).expect(".env");
    dir
}

/// Runs `web` in `dir` with only `vars` (and PATH) in its environment; it
/// must stop by itself (a configuration error) rather than serve.
fn run(dir: &PathBuf, vars: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_web"));
    cmd.current_dir(dir).env_clear();
    if let Some(p) = std::env::var_os("PATH") {
        cmd.env("PATH", p);
    }
    // Unreachable: a start that gets past the configuration fails fast-ish.
    cmd.env("DATABASE_URL", "postgres://127.0.0.1:1/none");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().expect("run web")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn dotenv_is_read_and_the_process_environment_wins() {
    // The password in .env is read (and refused: it is the sample value).
    let dir = dir_with_env(
        "read",
        "# from .env.example\nWEB_BIND=192.0.2.1:8080\nDASHBOARD_PASSWORD=change-me-too\n",
    );
    let out = run(&dir, &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("DASHBOARD_PASSWORD"), "{err}");
    assert!(
        err.contains(".env.example"),
        "the .env password was not read: {err}"
    );
    // The process environment wins over .env.
    let dir = dir_with_env("wins", "WEB_DB_POOL=4\n");
    let out = run(&dir, &[("WEB_DB_POOL", "0")]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("WEB_DB_POOL `0`"), "{err}");
    // A malformed line is named, its content never shown.
    let dir = dir_with_env("bad", "OK=1\nSECRET_LINE_WITHOUT_EQUALS_s3cr3t\n");
    let out = run(&dir, &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(".env line 2"), "{err}");
    assert!(!err.contains("s3cr3t"), "{err}");
}

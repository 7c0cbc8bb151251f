//! `bot-daemon plan --input` end to end: every input, valid or not, is
//! answered with JSON on stdout; exit code 0 for a plan, 2 for a refusal.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test and measurement code: a failed unwrap is a failed run

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bot-daemon"))
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/plan_inputs")
        .join(name)
}

fn run_file(name: &str) -> (Value, i32) {
    let out = bin()
        .args(["plan", "--input"])
        .arg(fixture(name))
        .output()
        .unwrap();
    parse(out)
}

fn run_stdin(text: &[u8]) -> (Value, i32) {
    let mut child = bin()
        .args(["plan", "--input", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(text).unwrap();
    parse(child.wait_with_output().unwrap())
}

fn parse(out: Output) -> (Value, i32) {
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        !stderr.contains("panicked"),
        "the plan command panicked: {stderr}"
    );
    let v: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {stdout}"));
    (v, out.status.code().unwrap())
}

#[test]
fn worked_example_step_two_is_planned() {
    let (v, code) = run_file("worked_example_step2.json");
    assert_eq!(code, 0);
    let ids: Vec<&str> = v["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["client_order_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "BOT_SOLUSDC_42_B4_4",
            "BOT_SOLUSDC_42_B5_5",
            "BOT_SOLUSDC_42_TP1_6",
            "BOT_SOLUSDC_42_TP2_7",
            "BOT_SOLUSDC_42_TRAIL_8"
        ]
    );
    assert_eq!(v["orders"][2]["price"], "134.447");
    assert_eq!(v["orders"][2]["qty"], "1.04");
    assert_eq!(v["orders"][4]["type"], "TAKE_PROFIT_LIMIT");
    assert_eq!(v["orders"][4]["trailing_delta"], 180);
    assert_eq!(v["orders"][4]["stop_price"], "135.513");
    assert_eq!(v["meta"]["avg_price"], "133.2471264367816091954022989");
    assert_eq!(v["meta"]["remaining_quote_budget"], "652.225");
    assert_eq!(v["meta"]["order_seq_after"], 8);
}

#[test]
fn plan_keys_follow_the_specification_order() {
    let out = bin()
        .args(["plan", "--input"])
        .arg(fixture("worked_example_step2.json"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let o = text.find("\"orders\"").unwrap();
    let a = text.find("\"actions\"").unwrap();
    let m = text.find("\"meta\"").unwrap();
    assert!(o < a && a < m, "orders, actions, meta in that order");
}

#[test]
fn same_input_gives_the_same_bytes() {
    let a = bin()
        .args(["plan", "--input"])
        .arg(fixture("worked_example_step2.json"))
        .output()
        .unwrap();
    let b = bin()
        .args(["plan", "--input"])
        .arg(fixture("worked_example_step2.json"))
        .output()
        .unwrap();
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn refused_inputs_are_answered_with_error_json_and_exit_2() {
    struct Case {
        name: &'static str,
        file: &'static str,
        kind: &'static str,
        field: &'static str,
    }
    let cases = [
        Case {
            name: "levels not increasing",
            file: "bad_config_levels.json",
            kind: "config",
            field: "levels_pct[1]",
        },
        Case {
            name: "sold more than bought",
            file: "oversold.json",
            kind: "strategy",
            field: "fills",
        },
        Case {
            name: "negative last price",
            file: "negative_price.json",
            kind: "input",
            field: "last_price",
        },
        Case {
            // strategy.md §2: every config failure is a ConfigError naming the field
            name: "unknown config field",
            file: "unknown_config_field.json",
            kind: "config",
            field: "typo_field",
        },
        Case {
            name: "unknown enum value in the config",
            file: "unknown_place_mode.json",
            kind: "config",
            field: "place_mode",
        },
        Case {
            name: "malformed nested config value",
            file: "bad_reanchor_close_ratio.json",
            kind: "config",
            field: "reanchor_rules.close_ratio",
        },
        Case {
            // §2 "At least one level must be active", also for a basket with fills
            name: "no active level, basket with fills",
            file: "no_active_level_with_fills.json",
            kind: "config",
            field: "levels_pct",
        },
        Case {
            name: "no active level, basket with an open order",
            file: "no_active_level_with_open_order.json",
            kind: "config",
            field: "levels_pct",
        },
        Case {
            name: "fill of another basket",
            file: "foreign_fill.json",
            kind: "strategy",
            field: "fills[0].client_order_id",
        },
        Case {
            name: "zero tick size",
            file: "zero_tick.json",
            kind: "config",
            field: "rules.tick_size",
        },
        Case {
            name: "truncated JSON",
            file: "truncated.json",
            kind: "input",
            field: "",
        },
    ];
    for c in cases {
        let (v, code) = run_file(c.file);
        assert_eq!(code, 2, "{}: exit code", c.name);
        assert_eq!(v["error"]["kind"], c.kind, "{}: {v}", c.name);
        assert!(
            v["error"]["field"].as_str().unwrap().starts_with(c.field),
            "{}: field {} should start with {}",
            c.name,
            v["error"]["field"],
            c.field
        );
        assert!(
            !v["error"]["message"].as_str().unwrap().is_empty(),
            "{}: message",
            c.name
        );
    }
}

#[test]
fn stdin_input_and_garbage() {
    let text = std::fs::read(fixture("worked_example_step2.json")).unwrap();
    let (v, code) = run_stdin(&text);
    assert_eq!(code, 0);
    assert_eq!(v["meta"]["position"], "2.61");

    for garbage in [
        &b""[..],
        b"null",
        b"[1,2]",
        b"\xff\xfe",
        b"{\"now_ms\": \"soon\"}",
    ] {
        let (v, code) = run_stdin(garbage);
        assert_eq!(code, 2, "{:?}", String::from_utf8_lossy(garbage));
        assert_eq!(v["error"]["kind"], "input");
    }
}

#[test]
fn missing_file_is_an_input_error() {
    let (v, code) = run_file("does-not-exist.json");
    assert_eq!(code, 2);
    assert_eq!(v["error"]["kind"], "input");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("cannot read"));
}

//! Unit tests of `dotenv.rs`.

use super::*;

#[test]
fn lines_comments_export_and_quotes() {
    let v = parse(
        ".env",
        "# c\nexport A=1\nB = \"two words\"\n\nC='x=y'\n  # indented comment\nD=\n",
    )
    .unwrap_or_default();
    assert_eq!(
        v,
        [
            ("A".to_string(), "1".to_string()),
            ("B".into(), "two words".into()),
            ("C".into(), "x=y".into()),
            ("D".into(), String::new()),
        ]
    );
}

#[test]
fn bad_lines_are_named_never_shown() {
    let e = parse(".env", "OK=1\nSECRET_LINE_WITHOUT_EQUALS_s3cr3t\n")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains(".env line 2") && !e.contains("s3cr3t"), "{e}");
    let e = parse(".env", "BAD KEY=s3cr3t\n")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("line 1") && !e.contains("s3cr3t"), "{e}");
}

#[test]
fn the_process_environment_wins_over_the_file() {
    let dir = std::env::temp_dir().join(format!("web-dotenv-unit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let path = dir.join(".env");
    std::fs::write(&path, "A=file\nB=file\n").unwrap_or_else(|e| panic!("{e}"));
    let (env, from_file) =
        merge(&path, [("A".to_string(), "process".to_string())]).unwrap_or_default();
    assert_eq!(env.get("A").map(String::as_str), Some("process"));
    assert_eq!(env.get("B").map(String::as_str), Some("file"));
    assert_eq!(from_file, ["B"]);
    // No file: the process environment only.
    let (env, from_file) = merge(
        &dir.join("missing.env"),
        [("A".to_string(), "p".to_string())],
    )
    .unwrap_or_default();
    assert_eq!(env.len(), 1);
    assert!(from_file.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

//! Unit tests of [`crate::klines`]: the shipped 5m file, each format, the
//! series across files, and every refusal naming its file and position.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use zip::write::SimpleFileOptions;
use zip::CompressionMethod;

use crate::{Candle, Gap, KlineError, KlineReader, Position};

const FIVE_MIN: i64 = 300_000;
/// 2023-01-02 16:45:00 UTC, the first open time of the shipped file.
const T0: i64 = 1_672_677_900_000;

fn shipped() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/klines/BTCUSDT-5m-2023-01.csv")
}

/// A fresh directory under the system's temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> Self {
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("backtest-klines-{}-{test}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// A zip at `name` holding `entries` (name, contents) with `method`.
    fn zip(&self, name: &str, entries: &[(&str, &[u8])], method: CompressionMethod) -> PathBuf {
        let path = self.0.join(name);
        let mut w = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        let options = SimpleFileOptions::default().compression_method(method);
        for (entry, contents) in entries {
            w.start_file(*entry, options).unwrap();
            w.write_all(contents).unwrap();
        }
        w.finish().unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A 5m kline line in Binance's CSV layout opening at `open_ms`.
fn line(open_ms: i64, o: &str, h: &str, l: &str, c: &str, v: &str) -> String {
    let close_ms = open_ms + FIVE_MIN - 1;
    format!("{open_ms},{o},{h},{l},{c},{v},{close_ms},0,0,0,0,0\n")
}

/// A valid 5m line opening `i` intervals after [`T0`].
fn nth(i: i64) -> String {
    line(T0 + i * FIVE_MIN, "100.5", "101", "99", "100", "3.25")
}

fn csv_of(slots: &[i64]) -> String {
    slots.iter().map(|i| nth(*i)).collect()
}

fn read_all(paths: &[PathBuf]) -> (Vec<Candle>, KlineReader) {
    let mut reader = KlineReader::open(paths).unwrap();
    let candles = reader.by_ref().collect::<Result<Vec<_>, _>>().unwrap();
    (candles, reader)
}

/// The error the series ends with, checking that iteration stops after it.
fn first_error(paths: &[PathBuf]) -> KlineError {
    let mut reader = KlineReader::open(paths).unwrap();
    for item in reader.by_ref() {
        if let Err(e) = item {
            assert!(reader.next().is_none(), "iteration goes on after {e}");
            return e;
        }
    }
    panic!("no error reading {paths:?}");
}

fn decimal(s: &str) -> Decimal {
    s.parse().unwrap()
}

#[test]
fn reads_the_shipped_5m_file() {
    let text = std::fs::read_to_string(shipped()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let first: Vec<&str> = lines[0].split(',').collect();
    let last: Vec<&str> = lines[lines.len() - 1].split(',').collect();
    assert_eq!(
        first[..5],
        ["1672677900000", "16727.3", "16728.8", "16726.0", "16726.1"]
    );
    assert_eq!(last[0], "1675977300000");

    let (candles, reader) = read_all(&[shipped()]);

    assert_eq!(candles.len(), 10_999);
    assert_eq!(reader.candles_read(), 10_999);
    let (c0, cn) = (candles[0], candles[candles.len() - 1]);
    assert_eq!(c0.open_time_ms, T0);
    assert_eq!(c0.open_time_ms.to_string(), first[0]);
    assert_eq!(c0.close_time_ms, 1_672_678_199_999);
    assert_eq!(
        (c0.open, c0.high, c0.low),
        (dec!(16727.3), dec!(16728.8), dec!(16726.0))
    );
    assert_eq!(c0.close, dec!(16726.1));
    assert_eq!(c0.close, decimal(first[4]));
    assert_eq!(c0.volume, dec!(691.508));
    assert_eq!(cn.open_time_ms, 1_675_977_300_000);
    assert_eq!(cn.open_time_ms.to_string(), last[0]);
    assert_eq!(cn.close, decimal(last[4]));
    assert_eq!(reader.interval_ms(), Some(FIVE_MIN));
    // The file is complete: 10,999 slots of 5 minutes from first to last.
    assert_eq!((cn.open_time_ms - c0.open_time_ms) / FIVE_MIN + 1, 10_999);
    assert_eq!(reader.gaps(), &[]);
}

#[test]
fn a_header_line_is_skipped() {
    let dir = TempDir::new("header");
    let header = "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore\r\n";
    let with_header = dir.write("h.csv", format!("{header}{}", csv_of(&[0, 1])));
    let without = dir.write("n.csv", csv_of(&[0, 1]));

    let (a, _) = read_all(&[with_header]);
    let (b, _) = read_all(&[without]);
    assert_eq!(a.len(), 2);
    assert_eq!(a, b);

    // Lines are counted from the header: the third line is line 3.
    let bad = dir.write("bad.csv", format!("{header}{}1,2,3\n", nth(0)));
    let e = first_error(&[bad]);
    assert!(
        matches!(
            e,
            KlineError::Malformed {
                at: Position::Line(3),
                ..
            }
        ),
        "{e}"
    );
    // A header is only a header on line 1.
    let late = dir.write("late.csv", format!("{}{header}", nth(0)));
    let e = first_error(&[late]);
    assert!(
        matches!(
            e,
            KlineError::Malformed {
                at: Position::Line(2),
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn microsecond_times_become_milliseconds() {
    let dir = TempDir::new("micros");
    // 2025-01-01 00:00 UTC in µs, as in Binance's 2025 spot dumps.
    let us = "1735689600000000,93576.00,93610.93,93537.50,93610.93,8.21827,1735689899999999,768978.76,1712,4.04,378014.53,0\n";
    let (c, _) = read_all(&[dir.write("us.csv", us)]);
    assert_eq!(c[0].open_time_ms, 1_735_689_600_000);
    assert_eq!(c[0].close_time_ms, 1_735_689_899_999);
    assert_eq!(c[0].close, dec!(93610.93));

    // Each value is judged on its own: a month in ms then a month in µs is
    // one series with no gap.
    let ms = dir.write("ms.csv", line(1_735_689_300_000, "1", "1", "1", "1", "0"));
    let (c, reader) = read_all(&[ms, dir.write("us2.csv", us)]);
    assert_eq!(c.len(), 2);
    assert_eq!(reader.interval_ms(), Some(FIVE_MIN));
    assert_eq!(reader.gaps(), &[]);
}

#[test]
fn a_zip_of_the_csv_reads_the_same_candles() {
    let dir = TempDir::new("zip");
    let csv = std::fs::read(shipped()).unwrap();
    let (expected, _) = read_all(&[shipped()]);
    let entry = [("BTCUSDT-5m-2023-01.csv", csv.as_slice())];
    for (name, method) in [
        ("deflated.zip", CompressionMethod::Deflated),
        ("stored.zip", CompressionMethod::Stored),
        // Detected by content, whatever the name.
        ("no-extension", CompressionMethod::Deflated),
    ] {
        let zip = dir.zip(name, &entry, method);
        let (candles, reader) = read_all(&[zip]);
        assert_eq!(candles, expected, "{name}");
        assert_eq!(reader.gaps(), &[], "{name}");
    }
}

#[test]
fn a_zip_must_hold_one_intact_file() {
    let dir = TempDir::new("zipbad");
    let body = csv_of(&[0, 1]);
    let two = dir.zip(
        "two.zip",
        &[("a.csv", body.as_bytes()), ("b.csv", body.as_bytes())],
        CompressionMethod::Deflated,
    );
    let e = KlineReader::open(&[two]).err().unwrap();
    let msg = e.to_string();
    assert!(matches!(e, KlineError::Zip { .. }), "{msg}");
    assert!(msg.contains("2 files (a.csv, b.csv)"), "{msg}");

    // A stored entry with one digit changed (the volume: the candle stays
    // valid) fails its CRC-32 check at the end of the entry.
    let good = dir.zip(
        "good.zip",
        &[("a.csv", body.as_bytes())],
        CompressionMethod::Stored,
    );
    let mut bytes = std::fs::read(&good).unwrap();
    let at = bytes.windows(4).position(|w| w == b"3.25").unwrap();
    bytes[at + 2] = b'7';
    let bad = dir.write("bad.zip", bytes);
    let e = first_error(&[bad]);
    assert!(matches!(e, KlineError::Read { .. }), "{e}");
    assert!(e.to_string().contains("CRC-32"), "{e}");

    let not_zip = dir.write("empty.zip", "");
    let e = KlineReader::open(&[not_zip]).err().unwrap();
    assert!(matches!(e, KlineError::Zip { .. }), "{e}");
}

#[test]
fn rest_json_with_string_and_numeric_fields() {
    let dir = TempDir::new("json");
    // The example of Binance's docs (strings), then the same candle's
    // successor with JSON numbers, pretty-printed.
    let json = r#"[[1499040000000,"0.01634790","0.80000000","0.01575800","0.01577100","148976.11427815",1499644799999,"2434.19055334",308,"1756.87402397","28.46694368","0"],
      [ 1499644800000, 0.01634790, 0.80000000, 0.01575800, 0.01577100, 1.5e2,
        1500249599999, 2434.19055334, 308, 1756.87402397, 28.46694368, "0" ]
    ]"#;
    let (c, reader) = read_all(&[dir.write("k.json", json)]);
    assert_eq!(c.len(), 2);
    assert_eq!(c[0].open_time_ms, 1_499_040_000_000);
    assert_eq!(c[0].close_time_ms, 1_499_644_799_999);
    assert_eq!(c[0].high, dec!(0.8));
    assert_eq!(c[0].volume, dec!(148976.11427815));
    // Numbers keep their exact text: no trip through f64.
    assert_eq!(c[0].open.to_string(), "0.01634790");
    assert_eq!(c[1].open.to_string(), "0.01634790");
    assert_eq!(c[1].volume, dec!(150));
    assert_eq!((c[1].low, c[1].close), (c[0].low, c[0].close));
    assert_eq!(reader.interval_ms(), Some(604_800_000));

    let (c, _) = read_all(&[dir.write("empty.json", " [ ] \n")]);
    assert!(c.is_empty());
}

#[test]
fn json_errors_name_the_element() {
    let dir = TempDir::new("jsonbad");
    let ok = r#"[1499040000000,"1","2","1","1","5",1499040299999,"0",1,"0","0","0"]"#;
    let cases = [
        (format!("[{ok},[1,2,3]]"), 1, "expected 12 columns, found 3"),
        (
            format!(
                r#"[{ok},[1499040300000,"1","0.5","1","1","5",1499040599999,"0",1,"0","0","0"]]"#
            ),
            1,
            "high 0.5 is below low 1",
        ),
        (
            format!("[{ok},"),
            1,
            "expected an array `[open_time, open, high, …]`",
        ),
        (
            format!("[{ok}"),
            1,
            "the file ends before the array's closing ']'",
        ),
        (format!("[{ok} {ok}]"), 1, "expected ',' or ']'"),
        (format!("[{ok}] x"), 1, "unexpected data after"),
        (
            format!("[{}", &ok[..40]),
            0,
            "the file ends inside this element",
        ),
    ];
    for (i, (json, element, reason)) in cases.iter().enumerate() {
        let path = dir.write(&format!("{i}.json"), json);
        let e = first_error(&[path]);
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("{i}.json element [{element}]")),
            "{msg}"
        );
        assert!(msg.contains(reason), "{msg}");
    }
}

#[test]
fn two_files_are_read_as_one_series() {
    let dir = TempDir::new("two");
    let text = std::fs::read_to_string(shipped()).unwrap();
    let split = text.match_indices('\n').nth(4_999).unwrap().0 + 1;
    let a = dir.write("a.csv", &text[..split]);
    let b = dir.write("b.csv", &text[split..]);

    let (whole, _) = read_all(&[shipped()]);
    let (parts, reader) = read_all(&[a, b]);
    assert_eq!(parts, whole);
    assert_eq!(reader.candles_read(), 10_999);
    assert_eq!(reader.gaps(), &[]);
}

#[test]
fn an_overlapping_second_file_is_an_error_naming_the_file_and_line() {
    let dir = TempDir::new("overlap");
    let a = dir.write("a.csv", csv_of(&[0, 1, 2]));
    let b = dir.write("b.csv", csv_of(&[2, 3]));

    let mut reader = KlineReader::open(&[a.clone(), b.clone()]).unwrap();
    let read: Vec<_> = reader.by_ref().take(3).collect();
    assert!(read.iter().all(Result::is_ok));
    let e = reader.next().unwrap().unwrap_err();
    assert!(reader.next().is_none());
    match &e {
        KlineError::OutOfOrder {
            path,
            at,
            open_time_ms,
            previous_path,
            previous_at,
            ..
        } => {
            assert_eq!((path, *at), (&b, Position::Line(1)));
            assert_eq!((previous_path, *previous_at), (&a, Position::Line(3)));
            assert_eq!(*open_time_ms, T0 + 2 * FIVE_MIN);
        }
        other => panic!("expected OutOfOrder, got {other}"),
    }
    let msg = e.to_string();
    assert!(msg.contains("b.csv line 1"), "{msg}");
    assert!(msg.contains("a.csv line 3"), "{msg}");
    assert!(
        msg.contains("1672678500000 (2023-01-02 16:55:00.000 UTC)"),
        "{msg}"
    );
    assert!(msg.contains("close 1672678799999"), "{msg}");
    assert!(msg.contains("pass the files in time order"), "{msg}");
}

#[test]
fn an_unsorted_or_overlapping_candle_in_one_file_is_refused() {
    let dir = TempDir::new("unsorted");
    let unsorted = dir.write("u.csv", csv_of(&[0, 2, 1]));
    let e = first_error(&[unsorted]);
    assert!(
        matches!(
            e,
            KlineError::OutOfOrder {
                at: Position::Line(3),
                ..
            }
        ),
        "{e}"
    );

    // Opens after the previous open, but before it closed (a 1m candle
    // inside a 5m one).
    let inside = format!(
        "{}{}",
        nth(0),
        line(T0 + 60_000, "100", "100", "100", "100", "1")
    );
    let e = first_error(&[dir.write("i.csv", inside)]);
    assert!(
        matches!(
            e,
            KlineError::OutOfOrder {
                at: Position::Line(2),
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn a_malformed_price_names_the_line() {
    let dir = TempDir::new("price");
    let bad = line(T0 + FIVE_MIN, "100", "101,5", "99", "100", "1");
    let path = dir.write("p.csv", format!("{}{bad}", nth(0)));
    let e = first_error(&[path]);
    assert!(
        matches!(
            e,
            KlineError::Malformed {
                at: Position::Line(2),
                ..
            }
        ),
        "{e}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("p.csv line 2: expected 12 columns, found 13"),
        "{msg}"
    );

    let bad = line(T0 + FIVE_MIN, "100", "1O1", "99", "100", "1");
    let path = dir.write("q.csv", format!("{}{bad}", nth(0)));
    let msg = first_error(&[path]).to_string();
    assert!(
        msg.contains("q.csv line 2: high `1O1` is not a decimal number"),
        "{msg}"
    );
    assert!(msg.contains("fix or remove this candle"), "{msg}");
}

#[test]
fn high_below_low_is_refused() {
    let dir = TempDir::new("highlow");
    let path = dir.write("h.csv", line(T0, "100", "99", "101", "100", "1"));
    let e = first_error(&[path]);
    assert!(
        matches!(
            e,
            KlineError::Malformed {
                at: Position::Line(1),
                ..
            }
        ),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("h.csv line 1: high 99 is below low 101"),
        "{e}"
    );
}

#[test]
fn malformed_candles_are_refused_with_the_reason() {
    let dir = TempDir::new("malformed");
    let cases = [
        (line(T0, "102", "101", "99", "100", "1"), "open 102 is outside [low 99, high 101]"),
        (line(T0, "100", "101", "99", "98.5", "1"), "close 98.5 is outside [low 99, high 101]"),
        (line(T0, "100", "101", "99", "100", "-0.1"), "volume -0.1 is negative"),
        (line(T0, "0", "1", "0", "0", "1"), "low 0 is not a positive price"),
        (line(T0, "1", "1", "1", "1", ""), "volume `` is not a decimal number"),
        (format!("{T0},1,1,1,1,1,{},0,0,0,0,0", T0 - 1), "close_time 1672677899999 is before open_time"),
        ("1672677900000000000,1,1,1,1,1,1672677900000000000,0,0,0,0,0".into(), "open_time `1672677900000000000` is too large for ms or µs since 1970 (nanoseconds are not supported)"),
        (format!("-1,1,1,1,1,1,{T0},0,0,0,0,0"), "open_time `-1` is negative"),
        (format!("{T0}.5,1,1,1,1,1,{T0},0,0,0,0,0"), "open_time `1672677900000.5` is not a whole number of ms or µs since 1970"),
        (format!("{T0},1,1,1,1,1,{T0}"), "expected 12 columns, found 7"),
    ];
    for (i, (text, reason)) in cases.iter().enumerate() {
        let path = dir.write(&format!("{i}.csv"), format!("{}{text}\n", nth(-1)));
        let msg = first_error(&[path]).to_string();
        assert!(msg.contains(&format!("{i}.csv line 2: {reason}")), "{msg}");
    }
}

#[test]
fn a_gap_is_reported_with_its_missing_count() {
    let dir = TempDir::new("gap");
    // Slots 2 and 3 missing in a.csv, 6 to 9 missing across the files.
    let a = dir.write("a.csv", csv_of(&[0, 1, 4, 5]));
    let b = dir.write("b.csv", csv_of(&[10, 11]));
    let (c, reader) = read_all(&[a, b]);
    assert_eq!(c.len(), 6);
    assert_eq!(reader.interval_ms(), Some(FIVE_MIN));
    let at = |i: i64| T0 + i * FIVE_MIN;
    assert_eq!(
        reader.gaps(),
        &[
            Gap {
                after_ms: at(1),
                before_ms: at(4),
                missing: 2
            },
            Gap {
                after_ms: at(5),
                before_ms: at(10),
                missing: 4
            },
        ]
    );
}

#[test]
fn wrong_paths_fail_at_open() {
    let dir = TempDir::new("paths");
    assert!(matches!(KlineReader::open(&[]), Err(KlineError::NoFiles)));
    let a = dir.write("a.csv", csv_of(&[0]));
    let missing = dir.0.join("missing.csv");
    let e = KlineReader::open(&[a, missing.clone()]).err().unwrap();
    assert!(
        matches!(&e, KlineError::Open { path, .. } if *path == missing),
        "{e}"
    );
    let e = KlineReader::open(std::slice::from_ref(&dir.0))
        .err()
        .unwrap();
    assert!(e.to_string().contains("is a directory"), "{e}");
}

//! `bot-daemon backtest`: the accounting holds on the shipped real candles
//! and on generated ones; skipping quiet cycles changes nothing (parity
//! with running every cycle); bad input is refused with exit 2; the report
//! renders in a real browser.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use bot_daemon::backtest::{run, run_on, Loaded, Options, Outcome};
use grid_core::Side;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::json;

fn data(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/klines")
        .join(file)
}

/// Levels close enough to the anchor that a few days of candles trade them.
fn tight() -> serde_json::Value {
    json!({"levels_pct": ["0.005", "0.01", "0.015", "0.02", "0.025", "0.03"]})
}

fn options(file: &str, symbol: &str) -> Options {
    Options {
        klines: vec![data(file)],
        symbol: symbol.into(),
        config: Some(tight()),
        anchor: None,
        rules: None,
        balances: None,
        fees: Default::default(),
        cycle_seconds: 60,
        from_ms: None,
        to_ms: None,
        path: Default::default(),
        every_cycle: false,
    }
}

/// Cash + position × last price (+ BNB at its price) is the final equity;
/// the fills explain every unit of every asset, the fees and the realized
/// P&L; nothing is sold that was not bought, basket by basket.
fn assert_accounts(o: &Outcome, start_quote: Decimal) {
    assert_accounts_with(o, start_quote, Decimal::ZERO, None);
}

fn assert_accounts_with(
    o: &Outcome,
    start_quote: Decimal,
    start_bnb: Decimal,
    bnb_price: Option<Decimal>,
) {
    assert!(!o.fills.is_empty(), "the run must trade to prove anything");
    let bal = |a: &str| o.final_balances.get(a).copied().unwrap_or(Decimal::ZERO);
    let (mut quote, mut base, mut bnb) = (start_quote, Decimal::ZERO, start_bnb);
    let mut per_basket: BTreeMap<i64, Decimal> = BTreeMap::new();
    for f in &o.fills {
        assert_eq!(f.quote_qty, f.price * f.qty, "{f:?}");
        let fee_in = |a: &str| {
            if f.commission_asset == a {
                f.commission
            } else {
                Decimal::ZERO
            }
        };
        let (fee_base, fee_quote, fee_bnb) = (fee_in(&o.base), fee_in(&o.quote), fee_in("BNB"));
        assert!(
            fee_base + fee_quote + fee_bnb == f.commission,
            "a commission in an unexpected asset: {f:?}"
        );
        if let (Some(p), true) = (bnb_price, fee_bnb > Decimal::ZERO) {
            assert_eq!(
                f.commission_quote,
                fee_bnb * p,
                "BNB valued at its price: {f:?}"
            );
        }
        bnb -= fee_bnb;
        let held = per_basket.entry(f.basket_id).or_default();
        match f.side {
            Side::Buy => {
                quote -= f.quote_qty + fee_quote;
                base += f.qty - fee_base;
                *held += f.qty - fee_base;
            }
            Side::Sell => {
                quote += f.quote_qty - fee_quote;
                base -= f.qty + fee_base;
                *held -= f.qty + fee_base;
                assert!(
                    *held >= Decimal::ZERO,
                    "basket {} sold what it had not bought: {f:?}",
                    f.basket_id
                );
            }
        }
    }
    assert_eq!(bal(&o.quote), quote, "quote balance against the fills");
    assert_eq!(bal(&o.base), base, "base balance against the fills");
    assert_eq!(bal("BNB"), bnb, "BNB balance against the fills");
    for b in &o.baskets {
        assert_eq!(
            b.pos,
            per_basket.get(&b.id).copied().unwrap_or(Decimal::ZERO),
            "basket {} position against its fills",
            b.id
        );
    }
    assert_eq!(
        o.figures.final_equity,
        bal(&o.quote)
            + bal(&o.base) * o.last_close
            + bnb_price.map_or(Decimal::ZERO, |p| bal("BNB") * p),
        "final equity is cash + position × last close (+ BNB at its price)"
    );
    let s = bot_daemon::backtest::output::summary(o);
    let fees: Decimal = o.fills.iter().map(|f| f.commission_quote).sum();
    assert_eq!(s["fees_quote"], json!(fees.round_dp(8).normalize()));
    let realized: Decimal = o.fills.iter().filter_map(|f| f.realized_pnl).sum();
    let by_basket: Decimal = o.baskets.iter().map(|b| b.realized).sum();
    assert_eq!(realized, by_basket, "the fills' P&L is the baskets' P&L");
    assert_eq!(
        s["sells"],
        json!(o.fills.iter().filter(|f| f.side == Side::Sell).count()),
        "every sell fill is counted once (one fill per sell order here)"
    );
}

#[test]
fn commission_in_bnb_is_paid_in_bnb_and_valued_at_its_price() {
    let mut o = options("BTCUSDT-5m-2023-01.csv", "BTCUSDT");
    o.to_ms = Some(1_673_913_600_000); // 2023-01-17
    o.fees =
        bot_daemon::backtest::market::parse_fees("maker=0.001,taker=0.001,bnb_price=250").unwrap();
    o.balances = Some(BTreeMap::from([
        ("USDT".into(), dec!(1000)),
        ("BNB".into(), dec!(1)),
    ]));
    let out = run(&o).unwrap();
    assert!(
        out.fills.iter().all(|f| f.commission_asset == "BNB"),
        "every commission in BNB while there is BNB: {:?}",
        out.fills.first()
    );
    // 0.1 % less the 25 % discount, in BNB at 250 (8 decimals of BNB).
    let f = &out.fills[0];
    let exact = f.quote_qty * dec!(0.00075) / dec!(250);
    assert!((f.commission - exact).abs() <= dec!(0.00000001), "{f:?}");
    assert_accounts_with(&out, dec!(1000), dec!(1), Some(dec!(250)));
}

#[test]
fn the_accounts_add_up_on_the_shipped_btc_candles() {
    let mut o = options("BTCUSDT-5m-2023-01.csv", "BTCUSDT");
    o.to_ms = Some(1_673_913_600_000); // 2023-01-17
    let out = run(&o).unwrap();
    assert_eq!(out.first_open, dec!(16727.3));
    assert!(out.candles > 4_000, "{}", out.candles);
    assert_eq!(out.quote, "USDT");
    assert_accounts(&out, dec!(1000));
    assert!(
        out.baskets.len() > 1,
        "baskets complete and open successors"
    );
}

#[test]
fn the_accounts_add_up_on_the_shipped_altcoin_candles() {
    // Quoted in BTC, tiny prices and a 2.3× run-up.
    let mut o = options("ALTBTC-1m-2017-11.csv", "ALTBTC");
    o.config = Some(json!({
        "levels_pct": ["0.005", "0.01", "0.015", "0.02", "0.025", "0.03"],
        "max_grid_capital_quote": "2",
    }));
    o.to_ms = Some(1_510_000_000_000);
    let out = run(&o).unwrap();
    assert_eq!(out.quote, "BTC");
    assert_accounts(&out, dec!(2));
}

/// A seeded random walk of one-minute candles (1 % moves), as a CSV file.
fn generated(seed: u64, n: usize) -> PathBuf {
    let mut x = seed;
    let mut next = move || {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut price = dec!(150.00);
    let mut text = String::new();
    let t0 = 1_700_000_000_000i64 / 60_000 * 60_000;
    for i in 0..n {
        let step = |r: u64| Decimal::new(i64::try_from(r % 201).unwrap() - 100, 2);
        let open = price;
        let close = (open + step(next())).max(dec!(50));
        let high = open.max(close) + Decimal::new(i64::try_from(next() % 60).unwrap(), 2);
        let low =
            (open.min(close) - Decimal::new(i64::try_from(next() % 60).unwrap(), 2)).max(dec!(1));
        let t = t0 + i64::try_from(i).unwrap() * 60_000;
        text.push_str(&format!(
            "{t},{open},{high},{low},{close},1,{},0,0,0,0,0\n",
            t + 59_999
        ));
        price = close;
    }
    let path = std::env::temp_dir().join(format!("bt-walk-{seed}-{}.csv", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn the_accounts_add_up_on_generated_candles() {
    for seed in [1, 2] {
        let file = generated(seed, 2_000);
        let mut o = options("unused", "SOLUSDC");
        o.klines = vec![file.clone()];
        let out = run(&o).unwrap();
        std::fs::remove_file(&file).ok();
        assert_eq!(out.candles, 2_000);
        assert_accounts(&out, dec!(1000));
    }
}

#[test]
fn skipping_quiet_cycles_gives_the_same_orders_and_fills_as_running_every_cycle() {
    for (file, symbol, to, cycle) in [
        (
            "BTCUSDT-5m-2023-01.csv",
            "BTCUSDT",
            1_673_136_000_000i64,
            60,
        ), // five days
        // Twelve days, one cycle per candle: the TRAIL fills on a candle's
        // last point and the next candle is quiet (the fill must still end
        // the quiet).
        ("BTCUSDT-5m-2023-01.csv", "BTCUSDT", 1_673_654_400_000, 300),
        ("ALTBTC-1m-2017-11.csv", "ALTBTC", 1_509_900_000_000, 60),
    ] {
        let mut o = options(file, symbol);
        o.cycle_seconds = cycle;
        if symbol == "ALTBTC" {
            o.config = Some(json!({
                "levels_pct": ["0.005", "0.01", "0.015", "0.02", "0.025", "0.03"],
                "max_grid_capital_quote": "2",
            }));
        }
        o.to_ms = Some(to);
        let fast = run(&o).unwrap();
        o.every_cycle = true;
        let every = run(&o).unwrap();
        assert!(!fast.fills.is_empty(), "{symbol}: no fill to compare");
        assert!(fast.cycles_skipped > 0, "{symbol}: nothing was skipped");
        assert_eq!(every.cycles_skipped, 0);
        assert_eq!(fast.fills, every.fills, "{symbol}: fills differ");
        assert_eq!(fast.orders, every.orders, "{symbol}: orders differ");
        assert_eq!(fast.final_balances, every.final_balances, "{symbol}");
        let ids = |o: &Outcome| {
            o.baskets
                .iter()
                .map(|b| (b.id, b.status, b.anchor_price, b.order_seq))
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&fast), ids(&every), "{symbol}: baskets differ");
        assert_eq!(fast.figures.equity, every.figures.equity, "{symbol}");
    }
}

/// The skipping rules (the plans' price band, the book's quiet band, the
/// TTL) on generated candles, with every line the plan compares the price
/// with in play: only-next-k levels, a stop loss, `price_up` re-anchors,
/// the TTL, a trail, on the daemon's 5 s cycle.
#[test]
fn skipping_follows_every_line_of_the_plan_on_generated_candles() {
    let configs = [
        json!({"levels_pct": ["0.004", "0.008", "0.012", "0.016"],
               "alloc_weights": ["0.25", "0.25", "0.25", "0.25"], "k_next": 1,
               "reanchor_rules": {"close_ratio": "0.5", "time_ttl_s": 3600, "up_pct": "0.01"}}),
        json!({"levels_pct": ["0.005", "0.01", "0.015"],
               "alloc_weights": ["0.3", "0.3", "0.4"], "place_mode": "all_unfilled",
               "stop_loss_pct": "0.05", "trailing_callback_pct": "0.003"}),
    ];
    for (seed, config) in configs.into_iter().enumerate() {
        let file = generated(10 + seed as u64, 3_000);
        let mut o = options("unused", "SOLUSDC");
        o.klines = vec![file.clone()];
        o.config = Some(config);
        o.cycle_seconds = 5;
        let fast = run(&o).unwrap();
        o.every_cycle = true;
        let every = run(&o).unwrap();
        std::fs::remove_file(&file).ok();
        assert!(
            fast.fills.len() >= 10,
            "seed {seed}: too few fills to compare"
        );
        assert!(fast.baskets.len() >= 2, "seed {seed}: no successor basket");
        assert!(
            fast.cycles_run * 20 < every.cycles_run,
            "seed {seed}: {} of {} cycles run",
            fast.cycles_run,
            every.cycles_run
        );
        assert_eq!(fast.orders, every.orders, "seed {seed}: orders differ");
        assert_eq!(fast.fills, every.fills, "seed {seed}: fills differ");
        assert_eq!(fast.final_balances, every.final_balances);
        assert_eq!(fast.figures.equity, every.figures.equity);
    }
}

/// A sweep reads the candles once and runs every config on them: the same
/// outcome as streaming the files, gaps and the `--from`/`--to` window
/// included.
#[test]
fn a_run_on_candles_read_once_is_the_run_on_the_files() {
    let mut o = options("BTCUSDT-5m-2023-01.csv", "BTCUSDT");
    o.from_ms = Some(1_672_800_000_000);
    o.to_ms = Some(1_673_600_000_000);
    let loaded = Loaded::read(&o.klines, 1_000_000).unwrap().unwrap();
    let a = run(&o).unwrap();
    let b = run_on(&o, Some(&loaded)).unwrap();
    assert!(!a.fills.is_empty());
    assert_eq!(
        (a.candles, a.span_ms, a.interval_ms),
        (b.candles, b.span_ms, b.interval_ms)
    );
    assert_eq!(a.gaps, b.gaps);
    assert_eq!(a.orders, b.orders);
    assert_eq!(a.fills, b.fills);
    assert_eq!(a.figures.equity, b.figures.equity);
    // More candles than allowed: nothing is kept, each run streams.
    assert!(Loaded::read(&o.klines, 100).unwrap().is_none());
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bot-daemon"))
}

/// `bot-daemon backtest --klines <the shipped BTC file> --symbol BTCUSDT` and `args`.
fn btc_backtest(args: &[&str]) -> Command {
    let mut c = bin();
    c.arg("backtest")
        .arg("--klines")
        .arg(data("BTCUSDT-5m-2023-01.csv"))
        .args(["--symbol", "BTCUSDT"])
        .args(args);
    c
}

#[test]
fn bad_input_is_refused_naming_it_with_exit_2() {
    let file = data("BTCUSDT-5m-2023-01.csv");
    let f = file.to_str().unwrap();
    let cases: [(&[&str], &str); 7] = [
        (
            &["--klines", "/nonexistent.csv", "--symbol", "BTCUSDT"],
            "/nonexistent.csv",
        ),
        (
            &["--klines", f, "--symbol", "BTCUSDT", "--fees", "maker=2"],
            "--fees maker=2",
        ),
        (
            &["--klines", f, "--symbol", "BTCUSDT", "--fees", "bnb=1"],
            "unknown part `bnb`",
        ),
        (
            &["--klines", f, "--symbol", "BTCUSDT", "--from", "yesterday"],
            "--from yesterday",
        ),
        (
            &[
                "--klines",
                f,
                "--symbol",
                "BTCUSDT",
                "--from",
                "2023-02-01",
                "--to",
                "2023-01-01",
            ],
            "is not before",
        ),
        (
            &["--klines", f, "--symbol", "FOO"],
            "cannot tell its base and quote",
        ),
        (
            &[
                "--klines",
                f,
                "--symbol",
                "BTCUSDT",
                "--candle-path",
                "zigzag",
            ],
            "unknown candle path",
        ),
    ];
    for (args, want) in cases {
        let out = bin().arg("backtest").args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: `{err}` should name `{want}`");
    }
    // A config field the strategy refuses, named by its path.
    let cfg = std::env::temp_dir().join(format!("bt-bad-{}.json", std::process::id()));
    std::fs::write(&cfg, r#"{"levels_pct": ["0.05", "-1"]}"#).unwrap();
    let out = btc_backtest(&["--config"]).arg(&cfg).output().unwrap();
    std::fs::remove_file(&cfg).ok();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("levels_pct"), "{err}");
}

fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .map(PathBuf::from)
        .into_iter()
        .find(|p| p.exists())
}

#[test]
fn the_command_writes_json_and_a_report_a_browser_renders() {
    let dir = std::env::temp_dir().join(format!("bt-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("cfg.json");
    std::fs::write(&cfg, tight().to_string()).unwrap();
    let (json_path, html) = (dir.join("out.json"), dir.join("report.html"));
    let out = btc_backtest(&["--to", "2023-01-12", "--cycle-seconds", "60"])
        .arg("--config")
        .arg(&cfg)
        .arg("--json")
        .arg(&json_path)
        .arg("--report")
        .arg(&html)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("total return %"), "{stdout}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    for key in [
        "total_return_pct",
        "cagr_pct",
        "max_drawdown_pct",
        "max_drawdown_duration_s",
        "sharpe",
        "sortino",
        "calmar",
        "profit_factor",
        "win_rate_pct",
        "sells",
        "completed_cycles",
        "fees_quote",
        "exposure_pct",
        "peak_capital_quote",
        "start_equity_quote",
        "final_equity_quote",
        "final_position",
        "buy_and_hold_return_pct",
        "candles",
        "plan_calls",
    ] {
        assert!(v["summary"].get(key).is_some(), "summary.{key} is missing");
    }
    let fill = &v["fills"][0];
    for key in [
        "time_ms",
        "basket_id",
        "role",
        "side",
        "price",
        "qty",
        "commission",
        "commission_asset",
        "commission_quote",
        "client_order_id",
    ] {
        assert!(fill.get(key).is_some(), "fills[0].{key} is missing");
    }
    assert!(v["fills"][0]["price"].is_string(), "decimals are strings");
    assert!(v["baskets"][0]["summary"]["sells"].is_number());
    let eq = v["equity"].as_array().unwrap();
    assert!(eq.len() > 10 && eq[0].as_array().unwrap().len() == 2);

    let page = std::fs::read_to_string(&html).unwrap();
    assert_eq!(
        page.matches("http").count(),
        page.matches("xmlns=\"http://www.w3.org/2000/svg\"").count(),
        "no address but the SVG namespace"
    );
    assert!(!page.contains("<script"), "no script");
    assert!(
        !page.contains("src=\"http") && !page.contains("href=\"http"),
        "no network"
    );
    let Some(chrome) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI installs Chromium (.ci/run): the report must be checked in a browser"
        );
        eprintln!("no Chromium: the browser check is skipped (apt-get install chromium)");
        return;
    };
    let shot = dir.join("report.png");
    let dom = Command::new(&chrome)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .arg(format!("file://{}", html.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains("Backtest BTCUSDT"),
        "{}",
        &dom[..dom.len().min(500)]
    );
    assert_eq!(dom.matches("<svg").count(), 3, "three charts");
    let fills = v["fills"].as_array().unwrap().len();
    assert_eq!(
        dom.matches("<polygon").count(),
        fills + 1,
        "a marker per fill, and the drawdown"
    );
    let status = Command::new(&chrome)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1280,2200",
        ])
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "{} bytes",
        png.len()
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_sweep_ranks_its_runs_reports_refused_configs_and_scores_out_of_sample() {
    let dir = std::env::temp_dir().join(format!("bt-sweep-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let spec = dir.join("sweep.json");
    std::fs::write(
        &spec,
        json!({
            "grid": {
                "tp_start_pct": ["0.008", "0.012"],
                "levels_pct": [["0.005", "0.01", "0.015", "0.02", "0.025", "0.03"], ["-1"]],
            },
            "objective": "return",
            "walk_forward": {"folds": 2},
        })
        .to_string(),
    )
    .unwrap();
    let (json_path, csv) = (dir.join("sweep-out.json"), dir.join("sweep.csv"));
    let out = btc_backtest(&[
        "--to",
        "2023-01-14",
        "--cycle-seconds",
        "300",
        "--jobs",
        "2",
    ])
    .arg("--sweep")
    .arg(&spec)
    .arg("--json")
    .arg(&json_path)
    .arg("--csv")
    .arg(&csv)
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 4);
    let scores: Vec<Option<f64>> = runs.iter().map(|r| r["objective"].as_f64()).collect();
    assert!(scores[0].is_some() && scores[1].is_some(), "{scores:?}");
    assert!(scores[0] >= scores[1], "best first: {scores:?}");
    for r in &runs[2..] {
        assert!(r["objective"].is_null());
        assert!(r["error"].as_str().unwrap().contains("levels_pct"), "{r}");
    }
    assert_eq!(
        runs[0]["summary"]["total_return_pct"]
            .as_str()
            .unwrap()
            .parse::<f64>()
            .unwrap(),
        scores[0].unwrap()
    );
    let folds = v["walk_forward"]["folds"].as_array().unwrap();
    assert_eq!(folds.len(), 2);
    for f in folds {
        assert_eq!(
            f["test"]["from_ms"], f["train"]["to_ms"],
            "the test window follows its training window"
        );
        assert!(f["best_config"].is_object(), "{f}");
        assert!(f["test_summary"]["total_return_pct"].is_string(), "{f}");
    }
    assert_eq!(folds[1]["train"]["from_ms"], folds[0]["test"]["from_ms"]);
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().count(), 5, "{text}");
    assert!(
        text.starts_with("levels_pct,tp_start_pct,objective,total_return_pct"),
        "{text}"
    );

    // A sweep draws no report; a sweep file with an unknown field is refused.
    let refused = btc_backtest(&[])
        .arg("--sweep")
        .arg(&spec)
        .arg("--report")
        .arg(dir.join("r.html"))
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    std::fs::write(&spec, r#"{"grid": {"k_next": [1]}, "objectiv": "return"}"#).unwrap();
    let bad = btc_backtest(&[])
        .arg("--sweep")
        .arg(&spec)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(2), "{err}");
    assert!(err.contains("objectiv"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_symbols_filters_come_from_an_exchange_info_file() {
    let dir = std::env::temp_dir().join(format!("bt-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rules = dir.join("exchangeInfo.json");
    // Binance's answer for BTCUSDT, trimmed to what the bot reads.
    std::fs::write(
        &rules,
        json!({
            "timezone": "UTC",
            "serverTime": 1_672_677_900_000i64,
            "rateLimits": [],
            "symbols": [{
                "symbol": "BTCUSDT",
                "status": "TRADING",
                "baseAsset": "BTC",
                "quoteAsset": "USDT",
                "allowTrailingStop": true,
                "filters": [
                    {"filterType": "PRICE_FILTER", "minPrice": "0.01000000", "maxPrice": "1000000.00000000", "tickSize": "0.10000000"},
                    {"filterType": "LOT_SIZE", "minQty": "0.00010000", "maxQty": "9000.00000000", "stepSize": "0.00010000"},
                    {"filterType": "NOTIONAL", "minNotional": "5.00000000", "applyMinToMarket": true, "maxNotional": "9000000.00000000", "applyMaxToMarket": false, "avgPriceMins": 5},
                    {"filterType": "TRAILING_DELTA", "minTrailingAboveDelta": 10, "maxTrailingAboveDelta": 2000, "minTrailingBelowDelta": 10, "maxTrailingBelowDelta": 2000},
                ],
            }],
        })
        .to_string(),
    )
    .unwrap();
    let mut o = options("BTCUSDT-5m-2023-01.csv", "BTCUSDT");
    o.to_ms = Some(1_673_222_400_000);
    o.rules = Some(rules.clone());
    let out = run(&o).unwrap();
    let stored = out.baskets[0].rules().unwrap();
    assert_eq!(stored.tick_size, dec!(0.1));
    assert_eq!(stored.step_size, dec!(0.0001));
    assert_eq!(stored.min_notional, dec!(5));
    for f in &out.fills {
        assert_eq!(
            f.price % dec!(0.1),
            Decimal::ZERO,
            "{f:?} off the file's tick"
        );
        assert_eq!(
            f.qty % dec!(0.0001),
            Decimal::ZERO,
            "{f:?} off the file's step"
        );
    }
    assert_accounts(&out, dec!(1000));

    // A symbol the file does not list, and a file that is not exchangeInfo.
    o.symbol = "ETHUSDT".into();
    let err = run(&o).unwrap_err().to_string();
    assert!(
        err.contains("ETHUSDT is not in it") && err.contains("BTCUSDT"),
        "{err}"
    );
    std::fs::write(&rules, "[1, 2]").unwrap();
    o.symbol = "BTCUSDT".into();
    let err = run(&o).unwrap_err().to_string();
    assert!(err.contains("not an exchangeInfo answer"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

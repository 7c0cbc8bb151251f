//! The deterministic simulation harness on every `cargo test`: the
//! committed regression seeds (simulation_seeds.txt) and a small sweep.
//! The large soak (200 seeds × 500 cycles) runs in `.ci/run` through
//! `bot-daemon simulate`, in release mode.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use bot_daemon::sim::{run, Scenario};

fn assert_clean(s: Scenario) {
    let out = run(s).unwrap_or_else(|e| panic!("seed {}: {e}", s.seed));
    // Stalled workers skip their steps; most steps run a cycle.
    assert!(
        out.cycles >= s.cycles / 2,
        "seed {} ran {} cycles",
        s.seed,
        out.cycles
    );
    if let Some(f) = out.found.first() {
        panic!(
            "seed {} step {}: {}: {}\nreplay: {}",
            f.scenario.seed,
            f.step,
            f.violation.invariant,
            f.violation.detail,
            f.scenario.replay()
        );
    }
}

#[test]
fn the_regression_seeds_break_no_invariant() {
    let text = include_str!("simulation_seeds.txt");
    let mut n = 0;
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let mut operator = true;
        let mut streams = false;
        for w in words.iter().skip(3) {
            match *w {
                "no-operator" => operator = false,
                "streams" => streams = true,
                other => panic!("{line}: `{other}` is not `no-operator` or `streams`"),
            }
        }
        let f: Vec<u64> = words[..words.len().min(3)]
            .iter()
            .map(|x| x.parse().unwrap_or_else(|e| panic!("{line}: {e}")))
            .collect();
        assert_eq!(
            f.len(),
            3,
            "seed cycles workers [no-operator] [streams]: {line}"
        );
        assert_clean(Scenario {
            seed: f[0],
            cycles: f[1],
            workers: usize::try_from(f[2]).unwrap(),
            operator,
            streams,
        });
        n += 1;
    }
    assert!(n > 0, "no seed in simulation_seeds.txt");
}

#[test]
fn a_small_sweep_breaks_no_invariant() {
    for seed in 100..110 {
        assert_clean(Scenario {
            seed,
            cycles: 200,
            workers: 1 + usize::try_from(seed % 2).unwrap(),
            operator: true,
            streams: false,
        });
    }
}

/// The workers trust the streams between safety sweeps while the streams
/// drop, repeat and delay events, disconnect and freeze prices: the money
/// invariants hold after every step, and once settled every trade is
/// recorded (`check_settled`).
#[test]
fn a_small_sweep_with_faulty_streams_breaks_no_invariant() {
    let mut quiet = 0;
    for seed in 300..310 {
        let s = Scenario {
            seed,
            cycles: 200,
            workers: 1 + usize::try_from(seed % 2).unwrap(),
            operator: true,
            streams: true,
        };
        assert_clean(s);
        let out = run(s).unwrap();
        assert!(out.streams.events > 0, "seed {seed}: {out:?}");
        quiet += out.quiet_cycles;
    }
    assert!(quiet > 0, "the streams let some cycles skip the exchange");
}

#[test]
fn a_seed_replays_exactly() {
    let s = Scenario {
        seed: 5,
        cycles: 150,
        workers: 2,
        operator: true,
        streams: false,
    };
    let a = run(s).unwrap();
    let b = run(s).unwrap();
    assert_eq!(a, b, "the same seed must give the same run");
    assert!(a.orders > 1 && a.cycles >= 75, "{a:?}");
    let s = Scenario { streams: true, ..s };
    assert_eq!(run(s).unwrap(), run(s).unwrap(), "with streams too");
}

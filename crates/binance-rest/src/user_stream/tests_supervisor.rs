use super::*;
use grid_core::Decimal;

const S: i64 = 1000;

fn sup() -> StreamSupervisor {
    StreamSupervisor::new(SupervisorConfig::default(), SplitMix64::new(7))
}

#[test]
fn backoff_doubles_from_half_a_second_to_thirty_seconds_with_equal_jitter() {
    let cfg = SupervisorConfig::default();
    // (failures, base ms)
    let table = [
        (0, 500),
        (1, 500),
        (2, 1_000),
        (3, 2_000),
        (4, 4_000),
        (5, 8_000),
        (6, 16_000),
        (7, 30_000),
        (8, 30_000),
        (40, 30_000),
        (u32::MAX, 30_000),
    ];
    for (failures, base) in table {
        let lo = backoff_delay(&cfg, failures, 0);
        let hi = backoff_delay(&cfg, failures, base / 2);
        assert_eq!(lo, Duration::from_millis(base / 2), "failures {failures}");
        assert_eq!(hi, Duration::from_millis(base), "failures {failures}");
        let mut rng = SplitMix64::new(failures as u64);
        for _ in 0..200 {
            let d = backoff_delay(&cfg, failures, rng.next_u64());
            assert!(
                d >= Duration::from_millis(base / 2) && d <= Duration::from_millis(base),
                "{failures}: {d:?}"
            );
        }
    }
}

#[test]
fn jitter_is_reproducible_from_the_seed() {
    let run = |seed| {
        let mut s = StreamSupervisor::new(SupervisorConfig::default(), SplitMix64::new(seed));
        let mut out = Vec::new();
        for i in 0..6 {
            s.on_connect_failed(i * 100 * S, &Error::Transport("refused".into()));
            out.push(s.step(i * 100 * S));
        }
        out
    };
    assert_eq!(run(1), run(1));
    assert_ne!(run(1), run(2));
}

/// One row: what happens at `t` (seconds) and the step expected right after.
enum Input {
    Tick,
    Connected,
    ConnectFailed(Error),
    Swept,
    Event(UserEvent),
    ReadError(Error),
}

/// (time in s, input, the step expected right after, what the row checks).
type Row = (i64, Input, fn(Step) -> bool, &'static str);

fn check(rows: Vec<Row>) {
    let mut s = sup();
    for (i, (t, input, want, what)) in rows.into_iter().enumerate() {
        let now = t * S;
        match input {
            Input::Tick => {}
            Input::Connected => s.on_connected(now),
            Input::ConnectFailed(e) => s.on_connect_failed(now, &e),
            Input::Swept => s.on_swept(),
            Input::Event(e) => s.on_event(now, &e),
            Input::ReadError(e) => s.on_read_error(now, &e),
        }
        let step = s.step(now);
        assert!(want(step), "row {i} ({what}): got {step:?}");
    }
}

fn down() -> Error {
    Error::StreamDown("closed".into())
}

#[test]
fn lifecycle_table() {
    use Input::*;
    const DAY_LESS_10M: i64 = 23 * 3600 + 50 * 60;
    check(vec![
        (0, Tick, |s| s == Step::Connect, "first step connects"),
        (
            0,
            Connected,
            |s| s == Step::Sweep,
            "connected: sweep before trusting the stream",
        ),
        (1, Tick, |s| s == Step::Sweep, "still sweep until on_swept"),
        (
            1,
            Swept,
            |s| {
                s == Step::Read {
                    until_ms: DAY_LESS_10M * S,
                }
            },
            "read until 23h50m",
        ),
        (
            100,
            Event(UserEvent::BalanceUpdate(
                crate::user_stream::BalanceUpdate {
                    event_time: 0,
                    asset: "BTC".into(),
                    delta: Decimal::ONE,
                    clear_time: 0,
                },
            )),
            |s| matches!(s, Step::Read { .. }),
            "ordinary events change nothing",
        ),
        (
            200,
            ReadError(Error::Decode("bad".into())),
            |s| s == Step::Sweep,
            "skipped frame: sweep, stay connected",
        ),
        (200, Swept, |s| matches!(s, Step::Read { .. }), "swept"),
        (
            DAY_LESS_10M - 1,
            Tick,
            |s| matches!(s, Step::Read { .. }),
            "before the age limit: read",
        ),
        (
            DAY_LESS_10M,
            Tick,
            |s| s == Step::Reconnect,
            "at 23h50m: replace the connection",
        ),
        (
            DAY_LESS_10M,
            Tick,
            |s| s == Step::Connect,
            "then connect at once",
        ),
        (
            DAY_LESS_10M + 1,
            Connected,
            |s| s == Step::Sweep,
            "reconnected: sweep again",
        ),
        (
            DAY_LESS_10M + 1,
            Swept,
            |s| matches!(s, Step::Read { .. }),
            "reading",
        ),
        (
            DAY_LESS_10M + 500,
            Event(UserEvent::ServerShutdown { event_time: 0 }),
            |s| s == Step::Connect,
            "serverShutdown after a stable connection: reconnect at once",
        ),
        (DAY_LESS_10M + 501, Connected, |s| s == Step::Sweep, "sweep"),
        (
            DAY_LESS_10M + 501,
            Swept,
            |s| matches!(s, Step::Read { .. }),
            "reading",
        ),
        (
            DAY_LESS_10M + 900,
            Event(UserEvent::EventStreamTerminated { event_time: 0 }),
            |s| s == Step::Connect,
            "eventStreamTerminated: reconnect at once",
        ),
        (
            DAY_LESS_10M + 900,
            ConnectFailed(Error::Timeout),
            |s| matches!(s, Step::Wait { .. }),
            "connect failed: wait",
        ),
        (
            DAY_LESS_10M + 901,
            Tick,
            |s| s == Step::Connect,
            "back-off over: connect",
        ),
    ]);
}

#[test]
fn drops_and_failures_back_off_and_reset_only_after_a_stable_connection() {
    let mut s = sup();
    assert_eq!(s.step(0), Step::Connect);
    s.on_connected(0);
    s.on_swept();
    assert!(s.is_live());
    // A drop after a long, stable connection: first back-off (0.25–0.5 s).
    s.on_read_error(3600 * S, &down());
    assert!(!s.is_live());
    let Step::Wait { until_ms } = s.step(3600 * S) else {
        panic!("{:?}", s.step(3600 * S))
    };
    assert!(
        (3600 * S + 250..=3600 * S + 500).contains(&until_ms),
        "{until_ms}"
    );
    assert_eq!(s.step(until_ms - 1), Step::Wait { until_ms });
    assert_eq!(s.step(until_ms), Step::Connect);
    // Failed connects keep doubling up to 30 s.
    let mut now = until_ms;
    let mut bases = Vec::new();
    for _ in 0..8 {
        s.on_connect_failed(now, &Error::Timeout);
        let Step::Wait { until_ms } = s.step(now) else {
            panic!()
        };
        bases.push(until_ms - now);
        now = until_ms;
        assert_eq!(s.step(now), Step::Connect);
    }
    let want_base = [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000];
    for (d, b) in bases.iter().zip(want_base) {
        assert!((b / 2..=b).contains(d), "{bases:?}");
    }
    assert_eq!(s.failures(), 9);
    // Connected but dropped again within a second: no reset, still 30 s.
    s.on_connected(now);
    assert_eq!(s.step(now), Step::Sweep, "sweep needed after every connect");
    s.on_read_error(now + S, &down());
    let Step::Wait { until_ms } = s.step(now + S) else {
        panic!()
    };
    assert!(until_ms - (now + S) >= 15_000, "flapping stays backed off");
    // An early serverShutdown also backs off instead of reconnecting at once.
    now = until_ms;
    s.on_connected(now);
    s.on_event(now + S, &UserEvent::ServerShutdown { event_time: 0 });
    assert!(matches!(s.step(now + S), Step::Wait { .. }));
    // A connection that stayed up 60 s resets the back-off.
    now += 100 * S;
    s.on_connected(now);
    s.on_swept();
    s.on_read_error(now + 60 * S, &down());
    let Step::Wait { until_ms } = s.step(now + 60 * S) else {
        panic!()
    };
    assert!(until_ms - (now + 60 * S) <= 500);
    assert_eq!(s.failures(), 1);
}

#[test]
fn rate_limits_extend_the_wait() {
    let mut s = sup();
    s.on_connect_failed(
        0,
        &Error::RateLimited {
            retry_after: Duration::from_secs(90),
        },
    );
    assert_eq!(s.step(0), Step::Wait { until_ms: 90 * S });
    s.on_connect_failed(
        90 * S,
        &Error::Banned {
            until_ms: 0,
            retry_after: Duration::from_secs(600),
        },
    );
    assert_eq!(s.step(90 * S), Step::Wait { until_ms: 690 * S });
}

//! Unit tests of `backoff.rs` (kept beside it, out of the production file).

use super::*;

const PRICE: &str = "exchange error -1013: Filter failure: PRICE_FILTER";
const NOTIONAL: &str = "exchange error -1013: Filter failure: NOTIONAL";

#[test]
fn delays_double_from_base_to_cap() {
    let p = BackoffPolicy::default();
    let table: &[(u32, i64)] = &[
        (0, 5_000),
        (1, 5_000),
        (2, 10_000),
        (3, 20_000),
        (4, 40_000),
        (5, 80_000),
        (6, 160_000),
        (7, 320_000),
        (8, 600_000),
        (9, 600_000),
        (64, 600_000),
        (u32::MAX, 600_000),
    ];
    for &(attempts, want) in table {
        assert_eq!(p.delay_ms(attempts), want, "attempt {attempts}");
    }
    // Degenerate policies stay usable.
    let odd = BackoffPolicy {
        base_ms: 0,
        cap_ms: -5,
    };
    assert_eq!(odd.delay_ms(1), 1);
    assert_eq!(odd.delay_ms(40), 1);
    let big = BackoffPolicy {
        base_ms: i64::MAX / 2,
        cap_ms: i64::MAX,
    };
    assert_eq!(big.delay_ms(3), i64::MAX);
}

/// One step of a scenario: at `t`, `Rej(msg)`, `Ok` or `Check`, and what must
/// hold afterwards.
enum Step {
    Rej(&'static str),
    Ok,
    Check,
}

/// (time, step, may_send at this time after the step, attempts, write_event, retry_at)
type StreakRow = (i64, Step, bool, u32, Option<bool>, Option<i64>);

#[test]
fn a_streak_writes_one_event_per_distinct_error_and_ends_on_success() {
    use Step::*;
    let b = 7;
    let r = Role::Tp1;
    let table: &[StreakRow] = &[
        (1_000, Check, true, 0, None, None),
        (1_000, Rej(PRICE), false, 1, Some(true), Some(6_000)),
        (5_999, Check, false, 1, None, Some(6_000)),
        (6_000, Check, true, 1, None, Some(6_000)),
        (6_000, Rej(PRICE), false, 2, Some(false), Some(16_000)),
        // The third attempt in a row is reported once more.
        (16_000, Rej(PRICE), false, 3, Some(true), Some(36_000)),
        // Another message: one more event, the delay keeps growing.
        (36_000, Rej(NOTIONAL), false, 4, Some(true), Some(76_000)),
        (76_000, Rej(NOTIONAL), false, 5, Some(false), Some(156_000)),
        // Back to the first message: it differs from the last one, so an event.
        (156_000, Rej(PRICE), false, 6, Some(true), Some(316_000)),
        (316_000, Ok, true, 0, None, None),
        // A new streak starts from the base again and writes an event.
        (400_000, Rej(PRICE), false, 1, Some(true), Some(405_000)),
    ];
    let mut bo = CreateBackoff::new(BackoffPolicy::default());
    for (i, (t, step, may, attempts, event, retry)) in table.iter().enumerate() {
        match step {
            Rej(msg) => {
                let rj = bo.on_rejected(b, r, msg, *t);
                assert_eq!(Some(rj.write_event), *event, "row {i}: write_event");
                assert_eq!(rj.attempts, *attempts, "row {i}: attempts");
                assert_eq!(Some(rj.retry_at_ms), *retry, "row {i}: retry_at");
                assert_eq!(rj.retry_at_ms - t, rj.delay_ms, "row {i}");
            }
            Ok => {
                let ended = bo.on_success(b, r).expect("a streak ended");
                assert_eq!((ended.attempts, ended.since_ms), (6, 1_000), "row {i}");
                assert_eq!(ended.last_error, PRICE);
                assert_eq!(ended.role, "TP1");
            }
            Check => {}
        }
        assert_eq!(bo.may_send(b, r, *t), *may, "row {i}: may_send");
        assert_eq!(bo.retry_at(b, r), *retry, "row {i}: retry_at()");
        let n = bo.entries_for(b).first().map_or(0, |e| e.attempts);
        assert_eq!(n, *attempts, "row {i}: entries");
    }
    assert_eq!(
        bo.on_success(b, Role::Tp2),
        None,
        "no streak, nothing ended"
    );
}

#[test]
fn streaks_are_per_basket_and_role_and_cleared_per_basket() {
    let mut bo = CreateBackoff::new(BackoffPolicy {
        base_ms: 1_000,
        cap_ms: 4_000,
    });
    assert!(bo.on_rejected(1, Role::Exit, PRICE, 0).write_event);
    assert!(bo.on_rejected(1, Role::Buy(2), PRICE, 0).write_event);
    assert!(
        bo.on_rejected(2, Role::Exit, PRICE, 0).write_event,
        "another basket has its own streak"
    );
    assert!(
        bo.may_send(1, Role::Tp1, 0),
        "other roles are not held back"
    );
    assert!(!bo.may_send(2, Role::Exit, 999));
    let e = bo.entries();
    let keys: Vec<(i64, &str)> = e.iter().map(|e| (e.basket_id, e.role.as_str())).collect();
    assert_eq!(keys, vec![(1, "B2"), (1, "EXIT"), (2, "EXIT")]);
    assert_eq!(bo.clear_basket(1), 2);
    assert!(bo.may_send(1, Role::Exit, 0));
    assert!(!bo.may_send(2, Role::Exit, 0));
    assert_eq!(bo.clear_basket(1), 0);
    // JSON for the dashboard / event.
    let j = serde_json::to_value(bo.entries()).expect("json");
    assert_eq!(j[0]["role"], "EXIT");
    assert_eq!(j[0]["retry_at_ms"], 1_000);
    assert_eq!(j[0]["last_error"], PRICE);
}

const MIN: i64 = 60_000;
const DAY: i64 = 86_400_000;

enum R {
    /// `due` must answer this.
    Due(Option<RefreshReason>),
    /// A read attempt that fails (transport).
    Fail,
    /// A successful read with this status; the change it must report.
    Read(SymbolStatus, Option<(Option<SymbolStatus>, SymbolStatus)>),
    /// A create was rejected (filter failure / market closed).
    Rejected,
}

#[test]
fn rules_refresh_schedule() {
    use RefreshReason::*;
    use SymbolStatus::*;
    let t0 = 1_000_000;
    let table: Vec<(i64, R)> = vec![
        (t0, R::Due(Some(FirstRead))),
        (t0, R::Read(Trading, None)),
        (t0 + 1, R::Due(None)),
        (t0 + DAY - 1, R::Due(None)),
        (t0 + DAY, R::Due(Some(Periodic))),
        // A failed periodic read is retried after the minimum gap, not before.
        (t0 + DAY, R::Fail),
        (t0 + DAY + MIN - 1, R::Due(None)),
        (t0 + DAY + MIN, R::Due(Some(Periodic))),
        (t0 + DAY + MIN, R::Read(Trading, None)),
        // A storm of -1013 right after a read: one read, a minute after the last.
        (t0 + DAY + MIN + 10, R::Rejected),
        (t0 + DAY + MIN + 10, R::Due(None)),
        (t0 + DAY + 2 * MIN - 1, R::Rejected),
        (t0 + DAY + 2 * MIN - 1, R::Due(None)),
        (t0 + DAY + 2 * MIN, R::Due(Some(Rejected))),
        (
            t0 + DAY + 2 * MIN,
            R::Read(Halt, Some((Some(Trading), Halt))),
        ),
        // While halted: re-checked every minute; the same status is no change.
        (t0 + DAY + 2 * MIN + 1, R::Due(None)),
        (t0 + DAY + 3 * MIN, R::Due(Some(NotTrading))),
        (t0 + DAY + 3 * MIN, R::Read(Halt, None)),
        (t0 + DAY + 4 * MIN, R::Due(Some(NotTrading))),
        (
            t0 + DAY + 4 * MIN,
            R::Read(CancelOnly, Some((Some(Halt), CancelOnly))),
        ),
        (
            t0 + DAY + 5 * MIN,
            R::Read(Trading, Some((Some(CancelOnly), Trading))),
        ),
        // Trading again: back to the daily schedule.
        (t0 + DAY + 6 * MIN, R::Due(None)),
        (t0 + 2 * DAY + 5 * MIN, R::Due(Some(Periodic))),
    ];
    let mut r = RulesRefresh::new(RefreshPolicy::default());
    for (i, (t, step)) in table.into_iter().enumerate() {
        match step {
            R::Due(want) => assert_eq!(r.due("SOLUSDC", t), want, "row {i} at {t}"),
            R::Fail => r.on_attempt("SOLUSDC", t),
            R::Read(status, change) => {
                r.on_attempt("SOLUSDC", t);
                let got = r.on_read("SOLUSDC", t, &status);
                let got = got.map(|c| {
                    assert_eq!(c.symbol, "SOLUSDC");
                    (c.from, c.to)
                });
                assert_eq!(got, change, "row {i}");
                assert_eq!(r.status("SOLUSDC"), Some(&status));
                assert_eq!(r.last_read_ms("SOLUSDC"), Some(t));
            }
            R::Rejected => r.on_rejected("SOLUSDC"),
        }
    }
}

#[test]
fn rules_refresh_is_per_symbol_and_reports_a_first_read_that_is_not_trading() {
    let mut r = RulesRefresh::default();
    assert_eq!(r.policy(), RefreshPolicy::default());
    assert_eq!(r.due("BTCUSDC", 0), Some(RefreshReason::FirstRead));
    r.on_attempt("BTCUSDC", 0);
    assert_eq!(r.status("BTCUSDC"), None);
    // The read failed: tried again after a minute, still as a first read.
    assert_eq!(r.due("BTCUSDC", MIN - 1), None);
    assert_eq!(r.due("BTCUSDC", MIN), Some(RefreshReason::FirstRead));
    let c = r
        .on_read("BTCUSDC", MIN, &SymbolStatus::Break)
        .expect("reported");
    assert_eq!((c.from.clone(), c.to.clone()), (None, SymbolStatus::Break));
    assert_eq!(r.due("SOLUSDC", MIN), Some(RefreshReason::FirstRead));
    r.on_rejected("ETHUSDC");
    assert_eq!(
        r.due("ETHUSDC", 0),
        Some(RefreshReason::Rejected),
        "never read, rejected: read at once"
    );
    assert_eq!(RefreshReason::NotTrading.as_str(), "not_trading");
    let j = serde_json::to_value(&c).expect("json");
    assert_eq!(
        j,
        serde_json::json!({"symbol": "BTCUSDC", "from": null, "to": "BREAK"})
    );
}

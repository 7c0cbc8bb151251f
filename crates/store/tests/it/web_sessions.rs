//! `store::web_sessions`: revoked dashboard sessions and used login tokens.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::Text;
use store::test_db::TestDb;
use store::web_sessions;

#[derive(QueryableByName)]
struct Expiry {
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    expires_at: chrono::DateTime<Utc>,
}

#[derive(QueryableByName)]
struct Nonce {
    #[diesel(sql_type = Text)]
    nonce: String,
}

fn rows(conn: &mut PgConnection) -> Vec<String> {
    diesel::sql_query("SELECT nonce FROM web_revoked_sessions ORDER BY nonce")
        .load::<Nonce>(conn)
        .expect("rows")
        .into_iter()
        .map(|r| r.nonce)
        .collect()
}

#[test]
fn a_revoked_nonce_stays_revoked_for_another_connection() {
    let db = TestDb::new();
    let mut a = db.conn();
    let later = Utc::now() + Duration::hours(1);
    assert!(!web_sessions::is_revoked(&mut a, "abcd").expect("read"));
    web_sessions::revoke(&mut a, "abcd", later).expect("revoke");
    web_sessions::revoke(&mut a, "abcd", later - Duration::minutes(5)).expect("again");
    // Another connection (a restarted process) sees it.
    let mut b = db.conn();
    assert!(web_sessions::is_revoked(&mut b, "abcd").expect("read"));
    assert!(!web_sessions::is_revoked(&mut b, "abce").expect("read"));
    let exp: chrono::DateTime<Utc> =
        diesel::sql_query("SELECT expires_at FROM web_revoked_sessions WHERE nonce = 'abcd'")
            .get_result::<Expiry>(&mut b)
            .expect("row")
            .expires_at;
    assert!(
        (exp - later).num_seconds().abs() < 1,
        "a second revoke keeps the later expiry"
    );
    assert!(web_sessions::revoke(&mut b, "", later).is_err());
    assert!(web_sessions::revoke(&mut b, &"x".repeat(101), later).is_err());
    assert!(!web_sessions::is_revoked(&mut b, "").expect("read"));
}

#[test]
fn a_token_is_consumed_once() {
    let db = TestDb::new();
    let mut c = db.conn();
    let later = Utc::now() + Duration::minutes(10);
    assert!(web_sessions::consume(&mut c, "login-1", later).expect("first"));
    assert!(!web_sessions::consume(&mut c, "login-1", later).expect("second"));
    assert!(web_sessions::consume(&mut c, "login-2", later).expect("other"));
    assert!(web_sessions::is_revoked(&mut c, "login-1").expect("read"));
}

#[test]
fn expired_rows_are_pruned_when_one_is_revoked() {
    let db = TestDb::new();
    let mut c = db.conn();
    let past = Utc::now() - Duration::minutes(1);
    let later = Utc::now() + Duration::hours(1);
    web_sessions::consume(&mut c, "old-1", past).expect("old");
    web_sessions::consume(&mut c, "old-2", past).expect("old");
    web_sessions::consume(&mut c, "live", later).expect("live");
    assert_eq!(rows(&mut c).len(), 3);
    web_sessions::revoke(&mut c, "new", later).expect("revoke");
    assert_eq!(rows(&mut c), ["live", "new"]);
    assert_eq!(web_sessions::prune_expired(&mut c).expect("prune"), 0);
}

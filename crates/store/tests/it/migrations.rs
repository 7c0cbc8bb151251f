use diesel::prelude::*;
use diesel::sql_types::BigInt;
use store::test_db::TestDb;

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn user_tables(conn: &mut PgConnection) -> i64 {
    diesel::sql_query(
        "SELECT COUNT(*) AS n FROM pg_tables WHERE schemaname = 'public' \
         AND tablename <> '__diesel_schema_migrations'",
    )
    .get_result::<N>(conn)
    .expect("count")
    .n
}

#[test]
fn migrations_go_up_down_and_up_again() {
    let db = TestDb::new();
    let mut conn = db.connect();
    assert_eq!(
        user_tables(&mut conn),
        15,
        "every table after the template's migrations"
    );
    store::run_migrations(&mut conn).expect("idempotent re-run");
    store::revert_all_migrations(&mut conn).expect("down");
    assert_eq!(user_tables(&mut conn), 0, "down.sql leaves nothing behind");
    let fns: N = diesel::sql_query(
        "SELECT COUNT(*) AS n FROM pg_proc WHERE proname = 'notify_bot_commands'",
    )
    .get_result(&mut conn)
    .expect("count");
    assert_eq!(fns.n, 0, "the trigger function is dropped too");
    store::run_migrations(&mut conn).expect("up again");
    assert_eq!(user_tables(&mut conn), 15);
    // The schema works after the round trip.
    common_basket(&mut conn);
}

fn common_basket(conn: &mut PgConnection) {
    let b = crate::common::new_basket(conn);
    assert_eq!(b.status, grid_core::BasketStatus::Active);
}

#[test]
fn ensure_database_creates_a_missing_database_once() {
    let base = store::test_db::base_url();
    let name = format!("store_ensure_{}", std::process::id());
    let url = match base.rfind('/') {
        Some(i) => format!("{}/{name}", &base[..i]),
        None => panic!("bad base url"),
    };
    store::ensure_database(&url).expect("create");
    store::ensure_database(&url).expect("exists already: fine");
    let mut conn = store::connect(&url).expect("connect to the new database");
    store::run_migrations(&mut conn).expect("migrate");
    drop(conn);
    let mut admin = store::connect(&base).expect("admin");
    use diesel::connection::SimpleConnection;
    admin
        .batch_execute(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
        .expect("drop");
}

#[test]
fn a_template_dropped_by_another_process_is_rebuilt() {
    // A process built from other migrations drops templates it deems stale;
    // one that this process still uses must come back, not fail every test.
    let first = store::test_db::TestDb::new();
    let mut admin = first.connect();
    let tpl: Vec<String> = diesel::sql_query(
        "SELECT datname AS name FROM pg_database WHERE datname LIKE 'store\\_tpl\\_%' \
         AND datname NOT LIKE '%\\_building'",
    )
    .load::<Name>(&mut admin)
    .unwrap()
    .into_iter()
    .map(|n| n.name)
    .collect();
    assert!(!tpl.is_empty(), "a template exists");
    for name in &tpl {
        // Other tests may be copying it right now: retry until it is free.
        for _ in 0..100 {
            match diesel::connection::SimpleConnection::batch_execute(
                &mut admin,
                &format!("DROP DATABASE IF EXISTS \"{name}\""),
            ) {
                Ok(()) => break,
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(50)),
            }
        }
    }
    let second = store::test_db::TestDb::try_new();
    assert!(
        second.is_ok(),
        "rebuilt: {:?}",
        second.err().map(|e| e.to_string())
    );
}

#[derive(diesel::QueryableByName)]
struct Name {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

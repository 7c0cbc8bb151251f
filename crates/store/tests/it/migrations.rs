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
        10,
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
    assert_eq!(user_tables(&mut conn), 10);
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

//! Integration tests against a real PostgreSQL: one fresh database per test
//! (`store::test_db::TestDb`). Server: `TEST_DATABASE_URL` or
//! `postgres://postgres@127.0.0.1:5432/postgres`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod control;
mod fills;
mod leases;
mod migrations;
mod money;
mod notifications;
mod orders;
mod retention;
mod rules;
mod typed;
mod web_sessions;

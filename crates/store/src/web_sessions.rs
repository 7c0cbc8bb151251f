//! The dashboard's revoked nonces (`web_revoked_sessions`), owned by `web`.
//!
//! A nonce here is a session logged out before it expired, or a login form
//! token already used. The cookie or token itself is signed and carries its
//! own expiry; this table only says "no longer, even though the signature is
//! good".
//!
//! Invariants:
//! - A nonce is revoked at most once ([`consume`] tells the first caller
//!   apart, atomically, even across processes).
//! - A row whose `expires_at` has passed means nothing (the cookie or token
//!   it names is expired anyway) and may be deleted at any time
//!   ([`prune_expired`]); [`revoke`] prunes as it goes, so the table stays
//!   as small as the set of live revoked sessions.
//! - Nonces are 1 to 100 characters (the column's check).

use chrono::{DateTime, Utc};
use diesel::pg::PgConnection;
use diesel::prelude::*;

use crate::error::Error;
use crate::schema::web_revoked_sessions as t;

/// Longest nonce the table takes.
pub const MAX_NONCE: usize = 100;

fn check_nonce(nonce: &str) -> Result<(), Error> {
    if nonce.is_empty() || nonce.len() > MAX_NONCE {
        return Err(Error::invalid(
            "web session nonce",
            format!("must be 1 to {MAX_NONCE} characters"),
        ));
    }
    Ok(())
}

/// Revokes `nonce` until `expires_at` (a logout). Revoking it again keeps
/// the later expiry. Expired rows are deleted in the same call.
///
/// # Errors
/// [`Error::Invalid`] for an empty or too long nonce; [`Error::Query`].
pub fn revoke(
    conn: &mut PgConnection,
    nonce: &str,
    expires_at: DateTime<Utc>,
) -> Result<(), Error> {
    check_nonce(nonce)?;
    prune_expired(conn)?;
    diesel::insert_into(t::table)
        .values((t::nonce.eq(nonce), t::expires_at.eq(expires_at)))
        .on_conflict(t::nonce)
        .do_update()
        .set(
            t::expires_at.eq(diesel::dsl::sql::<diesel::sql_types::Timestamptz>(
                "GREATEST(web_revoked_sessions.expires_at, excluded.expires_at)",
            )),
        )
        .execute(conn)?;
    Ok(())
}

/// Uses `nonce` once (a login form token): `true` for the first caller,
/// `false` when it was used or revoked already.
///
/// # Errors
/// [`Error::Invalid`] for an empty or too long nonce; [`Error::Query`].
pub fn consume(
    conn: &mut PgConnection,
    nonce: &str,
    expires_at: DateTime<Utc>,
) -> Result<bool, Error> {
    check_nonce(nonce)?;
    let inserted = diesel::insert_into(t::table)
        .values((t::nonce.eq(nonce), t::expires_at.eq(expires_at)))
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok(inserted == 1)
}

/// Whether `nonce` was revoked (whatever its expiry: an expired session is
/// refused by its own signature check anyway).
///
/// # Errors
/// [`Error::Query`].
pub fn is_revoked(conn: &mut PgConnection, nonce: &str) -> Result<bool, Error> {
    if nonce.is_empty() || nonce.len() > MAX_NONCE {
        return Ok(false);
    }
    Ok(diesel::select(diesel::dsl::exists(t::table.find(nonce))).get_result(conn)?)
}

/// Deletes the rows whose expiry has passed (database time); returns how many.
///
/// # Errors
/// [`Error::Query`].
pub fn prune_expired(conn: &mut PgConnection) -> Result<usize, Error> {
    Ok(diesel::delete(t::table.filter(t::expires_at.lt(diesel::dsl::now))).execute(conn)?)
}

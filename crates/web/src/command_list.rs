//! `GET /commands` (without `key=`): every command, newest first, a bounded
//! page at a time (keyset pagination on `created_at, id`, the
//! `idx_commands_recent` index), with its status, its outcome (the typed
//! result, or the reason it failed) and its basket's status now.
//!
//! Invariant: one page reads at most [`PAGE`] + 1 command rows and the
//! baskets they name; nothing here writes.

use std::collections::HashMap;

use actix_web::HttpResponse;
use chrono::Utc;

use crate::auth::Session;
use crate::handlers::{base_ctx, cursor_str, db, parse_cursor, render, AppError, Data};
use crate::views;

/// Commands per page.
pub const PAGE: i64 = 50;

/// The page; `before` is the previous page's cursor (`{micros}-{id}`).
///
/// # Errors
/// [`AppError::BadRequest`] for a malformed cursor; database errors.
pub async fn page(
    state: &Data,
    s: &Session,
    before: Option<&str>,
) -> Result<HttpResponse, AppError> {
    let cursor = before
        .map(|c| parse_cursor(c).ok_or_else(|| AppError::BadRequest("bad page cursor".into())))
        .transpose()?;
    let (st, cmds, next) = db(state, move |c| {
        let now = Utc::now();
        let st = views::status_view(&store::misc::statuses(c)?, now);
        let page = store::commands::page(c, cursor, PAGE)?;
        let ids: Vec<i64> = page.rows.iter().filter_map(|r| r.basket_id).collect();
        let statuses: HashMap<i64, String> = store::baskets::list_by_ids(c, &ids)?
            .into_iter()
            .map(|b| (b.id, b.status.as_str().to_string()))
            .collect();
        let v: Vec<views::CommandView> = page
            .rows
            .iter()
            .map(|r| {
                views::command_view(
                    r,
                    now,
                    r.basket_id
                        .and_then(|id| statuses.get(&id))
                        .map(String::as_str),
                )
            })
            .collect();
        Ok((st, v, page.next))
    })
    .await?;
    let mut ctx = base_ctx(state, s, &st);
    ctx.insert("page", "command_list");
    ctx.insert("commands", &cmds);
    ctx.insert("next", &next.as_ref().map(cursor_str));
    ctx.insert("first_page", &cursor.is_none());
    render(state, "command_list.html", &ctx)
}

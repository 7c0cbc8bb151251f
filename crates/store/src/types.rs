//! Text columns with a closed set of values, typed on the Rust side.
//!
//! The store's own enums (order status, command kind and status, event level)
//! map to `VARCHAR` columns directly; grid-core's enums (side, order type,
//! time in force, basket status, role) go through small local wrappers
//! (`Db*`) because of the orphan rule. An unknown string read from the
//! database is a deserialization error naming the value, never a guess.

use std::fmt;
use std::io::Write;
use std::str::FromStr;

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Text;
use grid_core::{BasketStatus, OrderType, Role, Side, TimeInForce};
use serde::{Deserialize, Serialize};

fn read_text(bytes: PgValue<'_>) -> deserialize::Result<String> {
    <String as FromSql<Text, Pg>>::from_sql(bytes)
}

macro_rules! store_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $v:ident => $s:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow, Serialize, Deserialize)]
        #[diesel(sql_type = Text)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $s)] $v),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$v),+];

            /// The value as stored in its column (and as serialized).
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($s => Ok($name::$v),)+
                    other => Err(format!(concat!("unknown ", stringify!($name), " `{}`"), other)),
                }
            }
        }

        impl FromSql<Text, Pg> for $name {
            fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
                Ok(read_text(bytes)?.parse()?)
            }
        }

        impl ToSql<Text, Pg> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                out.write_all(self.as_str().as_bytes())?;
                Ok(IsNull::No)
            }
        }
    };
}

store_enum!(
    /// The status of an `orders` row — not the exchange's order status
    /// (`binance_rest::OrderStatus`): Binance's final and live statuses, plus
    /// the bot's own `PENDING_NEW` (written before the request is sent; the
    /// exchange's `PENDING_NEW` is stored as `NEW`) and `UNKNOWN` (sent,
    /// outcome not known yet); `REJECTED` without an exchange id is the bot's
    /// "never arrived, given up".
    OrderRowStatus {
        /// Written ahead, request not (known to be) sent yet.
        PendingNew => "PENDING_NEW",
        /// Live on the exchange, nothing executed.
        New => "NEW",
        /// Live on the exchange, partly executed.
        PartiallyFilled => "PARTIALLY_FILLED",
        /// Fully executed (final).
        Filled => "FILLED",
        /// Canceled (final).
        Canceled => "CANCELED",
        /// Cancel requested, not confirmed yet.
        PendingCancel => "PENDING_CANCEL",
        /// Refused by the exchange, or given up as never arrived (final).
        Rejected => "REJECTED",
        /// Expired (final).
        Expired => "EXPIRED",
        /// Expired by self-trade prevention (final).
        ExpiredInMatch => "EXPIRED_IN_MATCH",
        /// Sent, outcome unknown: to be looked up by clientOrderId.
        Unknown => "UNKNOWN",
    }
);

impl OrderRowStatus {
    /// Statuses of an order that may still be (or become) live on the exchange.
    pub const OPEN: &'static [OrderRowStatus] = &[
        OrderRowStatus::PendingNew,
        OrderRowStatus::New,
        OrderRowStatus::PartiallyFilled,
        OrderRowStatus::PendingCancel,
        OrderRowStatus::Unknown,
    ];

    /// Final: the exchange will never change the order again.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            OrderRowStatus::Filled
                | OrderRowStatus::Canceled
                | OrderRowStatus::Rejected
                | OrderRowStatus::Expired
                | OrderRowStatus::ExpiredInMatch
        )
    }

    /// Not yet confirmed by the exchange: must be looked up by clientOrderId
    /// before anything is planned for its role.
    pub fn is_unconfirmed(self) -> bool {
        matches!(self, OrderRowStatus::PendingNew | OrderRowStatus::Unknown)
    }
}

store_enum!(
    /// What a `commands` row asks the daemon to do.
    CommandKind {
        /// Close every basket that may hold something (queues one `close_basket` each).
        CloseAll => "close_all",
        /// Close one basket: cancel its buys, sell its position.
        CloseBasket => "close_basket",
        /// Pause an active basket.
        Pause => "pause",
        /// Resume a paused basket, or one in error once it plans again.
        Resume => "resume",
        /// Close a basket whose position is dust and open a new one at a new anchor.
        Reanchor => "reanchor",
        /// Create a basket, validated like `bot-daemon basket create`.
        CreateBasket => "create_basket",
        /// Change a paused basket's config, validated like `basket create`.
        EditConfig => "edit_config",
    }
);

store_enum!(
    /// A command's progress.
    CommandStatus {
        /// Written, not claimed yet.
        Pending => "pending",
        /// Claimed by a worker (`claimed_by`), not finished.
        Running => "running",
        /// Finished; its result is stored.
        Done => "done",
        /// Finished with an error; the reason is stored.
        Failed => "failed",
    }
);

store_enum!(
    /// Severity of an `events` row.
    EventLevel {
        /// Something done as planned.
        Info => "info",
        /// Something that needs no action yet but may need attention.
        Warn => "warn",
        /// Something failed (pinned by retention when of a basket).
        Error => "error",
    }
);

/// Local wrappers for grid-core's string enums (orphan rule).
macro_rules! core_wrapper {
    ($wrapper:ident => $inner:ty) => {
        #[doc = concat!("`", stringify!($inner), "` as a `VARCHAR` column value (orphan-rule wrapper).")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression, FromSqlRow)]
        #[diesel(sql_type = Text)]
        pub struct $wrapper(pub $inner);

        impl From<$wrapper> for $inner {
            fn from(w: $wrapper) -> $inner {
                w.0
            }
        }

        impl From<$inner> for $wrapper {
            fn from(v: $inner) -> $wrapper {
                $wrapper(v)
            }
        }

        impl FromSql<Text, Pg> for $wrapper {
            fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
                let s = read_text(bytes)?;
                s.parse::<$inner>()
                    .map($wrapper)
                    .map_err(|e| format!("{e}").into())
            }
        }

        impl ToSql<Text, Pg> for $wrapper {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                write!(out, "{}", self.0)?;
                Ok(IsNull::No)
            }
        }
    };
}

core_wrapper!(DbSide => Side);
core_wrapper!(DbOrderType => OrderType);
core_wrapper!(DbTimeInForce => TimeInForce);
core_wrapper!(DbBasketStatus => BasketStatus);
core_wrapper!(DbRole => Role);

/// `Option<TimeInForce>` as a nullable `VARCHAR` column value (orphan-rule wrapper).
#[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
pub struct DbOptTif(pub Option<TimeInForce>);

impl From<DbOptTif> for Option<TimeInForce> {
    fn from(w: DbOptTif) -> Self {
        w.0
    }
}

impl From<Option<TimeInForce>> for DbOptTif {
    fn from(v: Option<TimeInForce>) -> Self {
        DbOptTif(v)
    }
}

impl FromSql<diesel::sql_types::Nullable<Text>, Pg> for DbOptTif {
    fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
        Ok(DbOptTif(Some(read_text(bytes)?.parse::<TimeInForce>()?)))
    }

    fn from_nullable_sql(bytes: Option<PgValue<'_>>) -> deserialize::Result<Self> {
        match bytes {
            Some(b) => Self::from_sql(b),
            None => Ok(DbOptTif(None)),
        }
    }
}

impl ToSql<diesel::sql_types::Nullable<Text>, Pg> for DbOptTif {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        match self.0 {
            Some(t) => {
                out.write_all(t.as_str().as_bytes())?;
                Ok(IsNull::No)
            }
            None => Ok(IsNull::Yes),
        }
    }
}

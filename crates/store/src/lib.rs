//! Persistence for Switchyard: one schema that runs on SQLite (default) and PostgreSQL.
//!
//! Everything goes through sqlx's `Any` driver with `$N` placeholders, so each query is
//! written once, except the usage log's writes, which each database takes through its own
//! driver (`usage::LogWriter`). Columns are only BIGINT and TEXT (the types `Any` decodes
//! on both), money is integer nano-dollars, and every balance change is one conditional
//! update inside a transaction, so nothing can overdraw.

mod channel;
mod db;
mod hold;
mod key;
mod lease;
mod price;
mod session;
mod task;
pub mod testing;
mod usage;
mod user;
mod webhook;

pub use channel::{Channel, ChannelWrite};
pub use db::{new_id, new_sorted_id, now_ms, Backend, Store, StoreError};
pub use hold::{Hold, HoldRefusal, Settle};
pub use key::{generate_key, hash_key, ApiKey, KeyPatch, NewKey};
pub use lease::Spending;
pub use price::Price;
pub use session::{NewSession, Session};
pub use task::{Finish, NewTask, Progress, Submitted, Task, TaskFilter};
pub use usage::{LogFilter, LogPage, UsageBucket, UsageGroup, UsageLog, UsageSummary};
pub use user::{LedgerEntry, NewUser, User, UserPatch};
pub use webhook::{Delivery, DeliveryOutcome};

pub type Result<T> = std::result::Result<T, StoreError>;

use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::distributions::Alphanumeric;
use rand::Rng;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// From the usage log's own SQLite connection (see `usage::sqlite_writer`).
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The usage log's writer thread is gone (it never stops while the store is alive).
    #[error("the usage-log writer has stopped")]
    WriterGone,
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
}

impl StoreError {
    /// A unique-constraint violation is the caller's mistake (a duplicate name), not ours.
    pub(crate) fn from_write(e: sqlx::Error, what: &str) -> StoreError {
        if let sqlx::Error::Database(d) = &e {
            if d.is_unique_violation() {
                return StoreError::Conflict(format!("{what} already exists"));
            }
        }
        StoreError::Db(e)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Store {
    pub(crate) pool: AnyPool,
    backend: Backend,
    /// The usage log's writer, on a connection of its own.
    pub(crate) log_writer: std::sync::Arc<crate::usage::LogWriter>,
}

impl Store {
    /// Connect and run the migrations. `url` is `sqlite://PATH` or `postgres://…`.
    pub async fn connect(url: &str) -> crate::Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres") {
            Backend::Postgres
        } else if url.starts_with("sqlite") {
            Backend::Sqlite
        } else {
            return Err(StoreError::Invalid(format!(
                "unsupported database url (want sqlite:// or postgres://): {}",
                redact_url(url)
            )));
        };
        if backend == Backend::Sqlite {
            sqlite_without_memory_statistics();
        }
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_string(),
        };
        let opts = AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 16 })
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // A new file gets 16 KiB pages (the size is fixed once a table is
                        // written, so an existing file keeps its own): the usage log's
                        // B-trees split a quarter as often, and at peak the log writer's CPU
                        // per row fell from 3.2 to 2.5 µs.
                        conn.execute("PRAGMA page_size = 16384").await?;
                        // WAL lets readers run beside the one writer; busy_timeout makes
                        // concurrent writers queue instead of failing with SQLITE_BUSY.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA busy_timeout = 30000").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(opts)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        let log_writer = std::sync::Arc::new(match backend {
            Backend::Sqlite => crate::usage::LogWriter::sqlite(&sqlite_file(&pool).await?)?,
            Backend::Postgres => crate::usage::LogWriter::postgres(&url).await?,
        });
        Ok(Store {
            pool,
            backend,
            log_writer,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn ping(&self) -> crate::Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Turn off SQLite's memory statistics, which nothing here reads: with them on, every
/// allocation SQLite makes takes a process-wide mutex to count itself, and the log writer's
/// CPU per row was 5% higher. SQLite takes settings only before it first starts, so this
/// runs once, before any connection is opened; if something else started SQLite first, the
/// call is refused and SQLite keeps counting, which is only slower.
fn sqlite_without_memory_statistics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: SQLITE_CONFIG_MEMSTATUS takes one int. `Once` keeps this call from racing
        // another Store's; SQLite refuses it (SQLITE_MISUSE) once it has started.
        let rc = unsafe {
            rusqlite::ffi::sqlite3_config(
                rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS,
                0 as std::ffi::c_int,
            )
        };
        if rc != rusqlite::ffi::SQLITE_OK {
            tracing::debug!(rc, "SQLite had started: its memory statistics stay on");
        }
    });
}

/// The file behind a SQLite pool, as SQLite resolved the URL. An in-memory database is
/// refused: each pooled connection would have a database of its own.
async fn sqlite_file(pool: &AnyPool) -> crate::Result<String> {
    let (file,): (String,) =
        sqlx::query_as("SELECT file FROM pragma_database_list WHERE name = 'main'")
            .fetch_one(pool)
            .await?;
    if file.is_empty() {
        return Err(StoreError::Invalid(
            "an in-memory SQLite database cannot be shared by the gateway's connections: name a file (sqlite://PATH)".into(),
        ));
    }
    Ok(file)
}

/// Hide the password of a database URL before it is printed anywhere.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// `prefix_` + 24 random alphanumerics: unguessable, sortable enough, portable as TEXT.
pub fn new_id(prefix: &str) -> String {
    let tail: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(24)
        .map(char::from)
        .collect();
    format!("{prefix}_{tail}")
}

/// Like [`new_id`], but the first 8 of the 24 characters are the time in ms (base 62, in
/// ASCII order), so ids made later sort later. For the usage log's request ids: a random key
/// lands anywhere in the primary-key index, and on a big log every insert then touched a
/// page that was not cached; time-ordered keys append at the index's right edge.
pub fn new_sorted_id(prefix: &str) -> String {
    const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    // Every request gets one, so the 24 digits go into a byte array and the string is made
    // once: pushed as `char`s they were 550 instructions, each one UTF-8 encoded and checked
    // against the capacity.
    let mut tail = [b'0'; 24];
    let mut t = now_ms().max(0) as u64;
    for c in tail[..8].iter_mut().rev() {
        *c = DIGITS[(t % 62) as usize];
        t /= 62;
    }
    // Two random words, eight base-62 digits each: one `gen_range` per digit was half the
    // id's cost. (The bias of `% 62^8` on a u64 is one part in 84,000.)
    let mut rng = rand::thread_rng();
    for word in tail[8..].chunks_exact_mut(8) {
        let mut r: u64 = rng.gen();
        for c in word {
            *c = DIGITS[(r % 62) as usize];
            r /= 62;
        }
    }
    let mut id = String::with_capacity(prefix.len() + 25);
    id.push_str(prefix);
    id.push('_');
    id.push_str(std::str::from_utf8(&tail).expect("base-62 digits are ASCII"));
    id
}

/// ` WHERE a AND b …`, or nothing when there are no conditions.
pub(crate) fn where_sql(conds: &[String]) -> String {
    if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    }
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned + Default>(s: &str) -> T {
    serde_json::from_str(s).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_password() {
        assert_eq!(
            super::redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(super::redact_url("sqlite://x.db"), "sqlite://x.db");
    }

    #[test]
    fn sorted_ids_sort_by_time_and_stay_unique() {
        let a = super::new_sorted_id("req");
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = super::new_sorted_id("req");
        assert!(a < b, "{a} then {b}");
        assert_eq!((a.len(), &a[..4]), (28, "req_"));
        assert!(a[4..].bytes().all(|c| c.is_ascii_alphanumeric()));
        // Same millisecond: the random tail keeps them apart.
        let many: std::collections::HashSet<String> =
            (0..1000).map(|_| super::new_sorted_id("req")).collect();
        assert_eq!(many.len(), 1000);
    }
}

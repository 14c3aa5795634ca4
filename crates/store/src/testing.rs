//! Fresh databases for tests: a temporary SQLite file, or a new PostgreSQL database on the
//! server named by `SWITCHYARD_TEST_PG` (default: this machine's 127.0.0.1:5432). PostgreSQL
//! tests fail, never skip, when the server is missing: CI must not pass without them.

use sqlx::{Connection, Executor};

use crate::db::new_id;

pub const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Which backends a test should cover: both, unless `SWITCHYARD_TEST_BACKENDS` narrows it.
pub fn backends() -> Vec<&'static str> {
    let want =
        std::env::var("SWITCHYARD_TEST_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    ["sqlite", "postgres"]
        .into_iter()
        .filter(|b| want.split(',').any(|w| w.trim() == *b))
        .collect()
}

/// A URL for a brand-new, empty database of the given backend.
pub async fn fresh_database(backend: &str) -> String {
    match backend {
        "sqlite" => {
            let dir = std::env::temp_dir().join("switchyard-tests");
            std::fs::create_dir_all(&dir).expect("temp dir");
            format!(
                "sqlite://{}",
                dir.join(format!("{}.db", new_id("t"))).display()
            )
        }
        "postgres" => {
            let admin = std::env::var("SWITCHYARD_TEST_PG").unwrap_or_else(|_| DEFAULT_PG.into());
            let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap_or_else(|e| {
                panic!("PostgreSQL for tests unreachable at {admin}: {e} (set SWITCHYARD_TEST_PG, or SWITCHYARD_TEST_BACKENDS=sqlite)")
            });
            let name = new_id("sy_t").to_lowercase();
            conn.execute(format!("CREATE DATABASE {name}").as_str())
                .await
                .expect("create test database");
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
            format!("{base}/{name}")
        }
        other => panic!("unknown backend {other}"),
    }
}

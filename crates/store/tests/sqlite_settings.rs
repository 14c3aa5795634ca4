//! Process-wide SQLite settings, in a test binary of their own: they hold only if the store
//! is the first to start SQLite, which other tests in the same process could not promise.

use switchyard_store::testing::fresh_database;
use switchyard_store::{Store, UsageLog};

#[tokio::test]
async fn sqlite_memory_statistics_are_off() {
    let store = Store::connect(&fresh_database("sqlite").await)
        .await
        .unwrap();
    let mut rows: Vec<UsageLog> = (0..100)
        .map(|i| UsageLog {
            id: format!("req_{i}"),
            ts: i,
            user_id: "u".into(),
            key_id: "k".into(),
            endpoint: "/v1/chat/completions".into(),
            model: "m".into(),
            status: 200,
            ..Default::default()
        })
        .collect();
    store.insert_logs(&mut rows).await.unwrap();
    // SQLite counts its memory in use only while the statistics are on; with them off, every
    // allocation skips the mutex the count is kept under, and the count stays 0.
    let used = unsafe { rusqlite::ffi::sqlite3_memory_used() };
    assert_eq!(used, 0, "SQLite is counting its memory: {used} bytes");
}

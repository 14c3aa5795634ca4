//! The usage log's writer on PostgreSQL: a batch is one `INSERT … SELECT FROM UNNEST` of
//! sixteen column arrays, on a native connection, in the transaction that adds its hourly
//! sums.
//!
//! Through sqlx's `Any` driver a batch was bound value by value, 16 per row (each string
//! copied into an `AnyValue` on the threads serving requests), into 500-row statements
//! that PostgreSQL parsed and planned with 8,000 parameters each. The arrays borrow the
//! rows' strings, and the statement, with its 16 parameters, is prepared once.

use std::sync::OnceLock;

use sqlx::postgres::{PgPool, PgPoolOptions};

use super::{hourly, UsageLog, ADD_HOURLY, LOG_COLS};

pub(crate) struct PgWriter {
    pool: PgPool,
}

/// The insert, in `LOG_COLS`' order, with each array typed as its column.
fn insert_sql() -> &'static str {
    static SQL: OnceLock<String> = OnceLock::new();
    SQL.get_or_init(|| {
        format!(
            "INSERT INTO usage_logs ({LOG_COLS}) SELECT * FROM UNNEST(\
             $1::text[], $2::int8[], $3::text[], $4::text[], $5::text[], $6::text[], \
             $7::text[], $8::int8[], $9::int8[], $10::int8[], $11::int8[], $12::int8[], \
             $13::int8[], $14::int8[], $15::int8[], $16::text[])"
        )
    })
}

impl PgWriter {
    /// Two connections: batches are written one at a time, and one may wait on a retry.
    pub(crate) async fn connect(url: &str) -> crate::Result<PgWriter> {
        let pool = PgPoolOptions::new().max_connections(2).connect(url).await?;
        Ok(PgWriter { pool })
    }

    pub(crate) async fn write(&self, rows: &[UsageLog]) -> crate::Result<()> {
        let text = |f: fn(&UsageLog) -> &str| rows.iter().map(f).collect::<Vec<_>>();
        let int = |f: fn(&UsageLog) -> i64| rows.iter().map(f).collect::<Vec<_>>();
        let mut tx = self.pool.begin().await?;
        sqlx::query(insert_sql())
            .bind(text(|r| &r.id))
            .bind(int(|r| r.ts))
            .bind(text(|r| &r.user_id))
            .bind(text(|r| &r.key_id))
            .bind(text(|r| &r.endpoint))
            .bind(text(|r| &r.model))
            .bind(
                rows.iter()
                    .map(|r| r.channel_id.as_deref())
                    .collect::<Vec<_>>(),
            )
            .bind(int(|r| r.stream))
            .bind(int(|r| r.tokens_in))
            .bind(int(|r| r.tokens_out))
            .bind(int(|r| r.tokens_cached))
            .bind(int(|r| r.cost))
            .bind(int(|r| r.latency_ms))
            .bind(rows.iter().map(|r| r.ttft_ms).collect::<Vec<_>>())
            .bind(int(|r| r.status))
            .bind(rows.iter().map(|r| r.error.as_deref()).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await?;
        for (k, a) in hourly(rows) {
            sqlx::query(ADD_HOURLY)
                .bind(k.0)
                .bind(k.1)
                .bind(k.2)
                .bind(k.3)
                .bind(k.4)
                .bind(a.requests)
                .bind(a.errors)
                .bind(a.tokens_in)
                .bind(a.tokens_out)
                .bind(a.cost)
                .bind(a.latency_sum)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

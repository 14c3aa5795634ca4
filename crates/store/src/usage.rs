//! The usage log: one row per request, written in batches off the request path.

use serde::{Deserialize, Serialize};

use crate::db::Store;

#[derive(Debug, Clone, Default, Serialize, Deserialize, sqlx::FromRow)]
pub struct UsageLog {
    /// The request id (also sent to the caller as `x-request-id`).
    pub id: String,
    /// Milliseconds since the epoch.
    pub ts: i64,
    pub user_id: String,
    pub key_id: String,
    pub endpoint: String,
    pub model: String,
    pub channel_id: Option<String>,
    #[serde(
        serialize_with = "crate::user::as_bool",
        deserialize_with = "crate::user::from_bool"
    )]
    pub stream: i64,
    pub tokens_in: i64,
    pub tokens_out: i64,
    pub tokens_cached: i64,
    #[serde(rename = "cost_nano")]
    pub cost: i64,
    pub latency_ms: i64,
    pub ttft_ms: Option<i64>,
    /// The HTTP status the caller got (or would have got, for a stream cut short: 499).
    pub status: i64,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct LogFilter {
    pub user_id: Option<String>,
    pub key_id: Option<String>,
    pub model: Option<String>,
    pub channel_id: Option<String>,
    /// `ok` (2xx), `error` (anything else), or an exact HTTP status.
    pub status: Option<String>,
    /// Milliseconds since the epoch, inclusive.
    pub since: Option<i64>,
    /// Milliseconds since the epoch, exclusive.
    pub until: Option<i64>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LogPage {
    pub data: Vec<UsageLog>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Debug, Clone, Default, Serialize, sqlx::FromRow)]
pub struct UsageSummary {
    pub requests: i64,
    pub tokens_in: i64,
    pub tokens_out: i64,
    #[serde(rename = "cost_nano")]
    pub cost: i64,
}

/// One slice of time (or one model, channel or user) of the usage log, for the dashboard.
#[derive(Debug, Clone, Default, Serialize, sqlx::FromRow)]
pub struct UsageBucket {
    /// The bucket's start (ms since the epoch) for a time series; the name for a breakdown.
    pub key: String,
    pub requests: i64,
    pub errors: i64,
    pub tokens_in: i64,
    pub tokens_out: i64,
    #[serde(rename = "cost_nano")]
    pub cost: i64,
    /// Mean latency, milliseconds.
    pub latency_ms: i64,
}

/// What a usage log can be broken down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageGroup {
    /// Buckets of this many milliseconds.
    Time(i64),
    Model,
    Channel,
    User,
    Key,
}

const BUCKET_AGGREGATES: &str = "COUNT(*) AS requests, \
     CAST(COALESCE(SUM(CASE WHEN status >= 200 AND status < 300 THEN 0 ELSE 1 END), 0) AS BIGINT) AS errors, \
     CAST(COALESCE(SUM(tokens_in), 0) AS BIGINT) AS tokens_in, \
     CAST(COALESCE(SUM(tokens_out), 0) AS BIGINT) AS tokens_out, \
     CAST(COALESCE(SUM(cost), 0) AS BIGINT) AS cost, \
     CAST(COALESCE(AVG(latency_ms), 0) AS BIGINT) AS latency_ms";

const LOG_COLS: &str = "id, ts, user_id, key_id, endpoint, model, channel_id, stream, tokens_in, \
     tokens_out, tokens_cached, cost, latency_ms, ttft_ms, status, error";
const LOG_FIELDS: usize = 16;

/// A WHERE clause and its bound values, built from a filter (all values are TEXT or BIGINT).
enum Arg {
    Text(String),
    Int(i64),
}

fn where_clause(f: &LogFilter) -> (String, Vec<Arg>) {
    let mut conds = Vec::new();
    let mut args = Vec::new();
    let mut push = |cond: &str, arg: Arg| {
        args.push(arg);
        conds.push(cond.replace('?', &format!("${}", args.len())));
    };
    for (col, v) in [
        ("user_id", &f.user_id),
        ("key_id", &f.key_id),
        ("model", &f.model),
        ("channel_id", &f.channel_id),
    ] {
        if let Some(v) = v {
            push(&format!("{col} = ?"), Arg::Text(v.clone()));
        }
    }
    if let Some(s) = f.since {
        push("ts >= ?", Arg::Int(s));
    }
    if let Some(u) = f.until {
        push("ts < ?", Arg::Int(u));
    }
    match f.status.as_deref() {
        Some("ok") => conds.push("status >= 200 AND status < 300".into()),
        Some("error") => conds.push("(status < 200 OR status >= 300)".into()),
        Some(code) => {
            if let Ok(c) = code.parse::<i64>() {
                push("status = ?", Arg::Int(c));
            }
        }
        None => {}
    }
    let sql = if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    };
    (sql, args)
}

fn bind_all<'q, O>(
    mut q: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    args: &'q [Arg],
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
    for a in args {
        q = match a {
            Arg::Text(s) => q.bind(s.as_str()),
            Arg::Int(i) => q.bind(*i),
        };
    }
    q
}

impl Store {
    /// Write a batch of log rows in one statement per chunk.
    pub async fn insert_logs(&self, rows: &[UsageLog]) -> crate::Result<()> {
        // Stay far below the bind-parameter limits of both databases. SQLite's driver looks up
        // every parameter by name among all of a statement's (quadratic in their number): a
        // 500-row statement cost more CPU than the requests it logged, so it gets small ones,
        // all in one transaction.
        let per = match self.backend() {
            crate::Backend::Sqlite => 16,
            _ => 500,
        };
        let mut tx = self.pool.begin().await?;
        for chunk in rows.chunks(per) {
            let mut sql = format!("INSERT INTO usage_logs ({LOG_COLS}) VALUES ");
            for i in 0..chunk.len() {
                let ps: Vec<String> = (1..=LOG_FIELDS)
                    .map(|j| format!("${}", i * LOG_FIELDS + j))
                    .collect();
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!("({})", ps.join(", ")));
            }
            let mut q = sqlx::query(&sql);
            for r in chunk {
                q = q
                    .bind(&r.id)
                    .bind(r.ts)
                    .bind(&r.user_id)
                    .bind(&r.key_id)
                    .bind(&r.endpoint)
                    .bind(&r.model)
                    .bind(&r.channel_id)
                    .bind(r.stream)
                    .bind(r.tokens_in)
                    .bind(r.tokens_out)
                    .bind(r.tokens_cached)
                    .bind(r.cost)
                    .bind(r.latency_ms)
                    .bind(r.ttft_ms)
                    .bind(r.status)
                    .bind(&r.error);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Newest first, filtered and paginated.
    pub async fn logs(&self, f: &LogFilter) -> crate::Result<LogPage> {
        let limit = f.limit.unwrap_or(50).clamp(1, 1000);
        let offset = f.offset.unwrap_or(0).max(0);
        let (wh, args) = where_clause(f);
        let sql = format!(
            "SELECT {LOG_COLS} FROM usage_logs{wh} ORDER BY ts DESC, id DESC LIMIT {limit} OFFSET {offset}"
        );
        let data = bind_all(sqlx::query_as::<_, UsageLog>(&sql), &args)
            .fetch_all(&self.pool)
            .await?;
        let count_sql = format!("SELECT COUNT(*) FROM usage_logs{wh}");
        let (total,) = bind_all(sqlx::query_as::<_, (i64,)>(&count_sql), &args)
            .fetch_one(&self.pool)
            .await?;
        Ok(LogPage {
            data,
            total,
            limit,
            offset,
        })
    }

    /// Totals over the rows a filter selects (limit/offset ignored).
    pub async fn usage_summary(&self, f: &LogFilter) -> crate::Result<UsageSummary> {
        let (wh, args) = where_clause(f);
        let sql = format!(
            "SELECT COUNT(*) AS requests, CAST(COALESCE(SUM(tokens_in), 0) AS BIGINT) AS tokens_in, \
             CAST(COALESCE(SUM(tokens_out), 0) AS BIGINT) AS tokens_out, \
             CAST(COALESCE(SUM(cost), 0) AS BIGINT) AS cost FROM usage_logs{wh}"
        );
        Ok(bind_all(sqlx::query_as::<_, UsageSummary>(&sql), &args)
            .fetch_one(&self.pool)
            .await?)
    }

    /// The filtered log grouped by time bucket (oldest first) or by a column (largest spend
    /// first, at most `top` groups). Runs on the `ts` indexes; no row leaves the database.
    pub async fn usage_grouped(
        &self,
        f: &LogFilter,
        by: UsageGroup,
        top: i64,
    ) -> crate::Result<Vec<UsageBucket>> {
        let (wh, args) = where_clause(f);
        let (key, order) = match by {
            UsageGroup::Time(ms) => {
                let ms = ms.max(1000);
                (format!("CAST((ts / {ms}) * {ms} AS TEXT)"), "MIN(ts)")
            }
            UsageGroup::Model => ("model".into(), "SUM(cost) DESC, COUNT(*) DESC"),
            UsageGroup::Channel => (
                "COALESCE(channel_id, '')".into(),
                "SUM(cost) DESC, COUNT(*) DESC",
            ),
            UsageGroup::User => ("user_id".into(), "SUM(cost) DESC, COUNT(*) DESC"),
            UsageGroup::Key => ("key_id".into(), "SUM(cost) DESC, COUNT(*) DESC"),
        };
        let sql = format!(
            "SELECT {key} AS key, {BUCKET_AGGREGATES} FROM usage_logs{wh} \
             GROUP BY {key} ORDER BY {order} LIMIT {}",
            top.max(1)
        );
        Ok(bind_all(sqlx::query_as::<_, UsageBucket>(&sql), &args)
            .fetch_all(&self.pool)
            .await?)
    }
}

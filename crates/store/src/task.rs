//! Durable tasks (video generation now; music and images later). A task row exists before
//! its id is shown to anyone; pollers take turns through leases (conditional updates, so
//! several processes on one database never poll a task at once); and a task finishes exactly
//! once: the state change and the settlement of its hold are one transaction.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::db::{new_id, now_ms, Store, StoreError};
use crate::hold::{settle_in, Settle};

pub const ACTIVE: &str = "('submitting', 'queued', 'running')";

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Task {
    pub id: String,
    pub user_id: String,
    pub key_id: String,
    pub kind: String,
    pub model: String,
    pub front: String,
    pub channel_id: Option<String>,
    pub provider: Option<String>,
    pub upstream_id: Option<String>,
    pub upstream_meta: String,
    pub state: String,
    pub progress: i64,
    pub request: String,
    pub result: Option<String>,
    pub raw: Option<String>,
    pub error: Option<String>,
    pub hold_id: Option<String>,
    pub cost_held: i64,
    pub cost_charged: i64,
    pub notify_hook: Option<String>,
    pub poll_failures: i64,
    pub next_poll_at: i64,
    pub lease_owner: Option<String>,
    pub lease_until: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
}

impl Task {
    pub fn is_active(&self) -> bool {
        matches!(self.state.as_str(), "submitting" | "queued" | "running")
    }
    pub fn request_json(&self) -> Value {
        serde_json::from_str(&self.request).unwrap_or(Value::Null)
    }
    pub fn result_json(&self) -> Value {
        self.result
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok())
            .unwrap_or(Value::Null)
    }
    pub fn meta_json(&self) -> Value {
        serde_json::from_str(&self.upstream_meta).unwrap_or(Value::Null)
    }
    pub fn raw_json(&self) -> Value {
        self.raw
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok())
            .unwrap_or(Value::Null)
    }
}

#[derive(Debug, Clone, Default)]
pub struct NewTask {
    pub user_id: String,
    pub key_id: String,
    pub kind: String,
    pub model: String,
    pub front: String,
    pub request: Value,
    pub hold_id: Option<String>,
    pub cost_held: i64,
    pub notify_hook: Option<String>,
}

/// What the provider said on submission.
#[derive(Debug, Clone, Default)]
pub struct Submitted {
    pub channel_id: String,
    pub provider: String,
    pub upstream_id: String,
    pub meta: Value,
    pub next_poll_at: i64,
}

/// A poll's news for a task still in progress.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    pub state: String,
    pub progress: i64,
    pub raw: Option<Value>,
    pub next_poll_at: i64,
    pub poll_failures: i64,
}

/// How a task ends.
#[derive(Debug, Clone)]
pub struct Finish {
    /// `succeeded`, `failed` or `cancelled`.
    pub state: String,
    pub result: Option<Value>,
    pub raw: Option<Value>,
    pub error: Option<String>,
    pub settle: Settle,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct TaskFilter {
    pub user_id: Option<String>,
    pub kind: Option<String>,
    pub state: Option<String>,
    pub model: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    /// Tasks created before this task id's creation (cursor paging, newest first).
    pub after: Option<String>,
}

const COLS: &str = "id, user_id, key_id, kind, model, front, channel_id, provider, upstream_id, \
    upstream_meta, state, progress, request, result, raw, error, hold_id, cost_held, cost_charged, \
    notify_hook, poll_failures, next_poll_at, lease_owner, lease_until, created_at, updated_at, finished_at";

fn json(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

impl Store {
    /// Record a task before anything else happens to it: its id is safe to hand out.
    pub async fn create_task(&self, t: &NewTask) -> crate::Result<Task> {
        let id = new_id("task");
        let now = now_ms();
        sqlx::query(
            "INSERT INTO tasks (id, user_id, key_id, kind, model, front, state, request, hold_id, \
             cost_held, notify_hook, next_poll_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'submitting', $7, $8, $9, $10, $11, $11, $11)",
        )
        .bind(&id)
        .bind(&t.user_id)
        .bind(&t.key_id)
        .bind(&t.kind)
        .bind(&t.model)
        .bind(&t.front)
        .bind(json(&t.request))
        .bind(&t.hold_id)
        .bind(t.cost_held)
        .bind(&t.notify_hook)
        .bind(now)
        .execute(&self.pool)
        .await?;
        self.task(&id).await?.ok_or(StoreError::NotFound("task"))
    }

    pub async fn task(&self, id: &str) -> crate::Result<Option<Task>> {
        Ok(
            sqlx::query_as(&format!("SELECT {COLS} FROM tasks WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// The provider accepted the task: remember where it lives.
    pub async fn task_submitted(&self, id: &str, s: &Submitted) -> crate::Result<bool> {
        let done = sqlx::query(
            "UPDATE tasks SET channel_id = $1, provider = $2, upstream_id = $3, upstream_meta = $4, \
             state = 'queued', next_poll_at = $5, updated_at = $6 WHERE id = $7 AND state = 'submitting'",
        )
        .bind(&s.channel_id)
        .bind(&s.provider)
        .bind(&s.upstream_id)
        .bind(json(&s.meta))
        .bind(s.next_poll_at)
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Lease up to `limit` tasks due for a poll to `owner` for `lease_ms`. Each lease is a
    /// conditional update, so two pollers never hold the same task.
    pub async fn claim_due_tasks(
        &self,
        owner: &str,
        lease_ms: i64,
        limit: i64,
    ) -> crate::Result<Vec<Task>> {
        let now = now_ms();
        let due: Vec<(String,)> = sqlx::query_as(&format!(
            "SELECT id FROM tasks WHERE state IN ('queued', 'running') AND next_poll_at <= $1 \
             AND lease_until < $1 ORDER BY next_poll_at LIMIT {}",
            limit.max(1)
        ))
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        let mut claimed = Vec::new();
        for (id,) in due {
            let got = sqlx::query(
                "UPDATE tasks SET lease_owner = $1, lease_until = $2 \
                 WHERE id = $3 AND lease_until < $4 AND state IN ('queued', 'running')",
            )
            .bind(owner)
            .bind(now + lease_ms)
            .bind(&id)
            .bind(now)
            .execute(&self.pool)
            .await?;
            if got.rows_affected() == 1 {
                if let Some(t) = self.task(&id).await? {
                    claimed.push(t);
                }
            }
        }
        Ok(claimed)
    }

    /// Record progress of a task still running and give up its lease. False if the task
    /// finished meanwhile (a cancel, another path): the news is stale then.
    pub async fn task_progress(&self, id: &str, p: &Progress) -> crate::Result<bool> {
        let done = sqlx::query(
            "UPDATE tasks SET state = $1, progress = $2, raw = COALESCE($3, raw), next_poll_at = $4, \
             poll_failures = $5, lease_owner = NULL, lease_until = 0, updated_at = $6 \
             WHERE id = $7 AND state IN ('queued', 'running')",
        )
        .bind(&p.state)
        .bind(p.progress.clamp(0, 100))
        .bind(p.raw.as_ref().map(json))
        .bind(p.next_poll_at)
        .bind(p.poll_failures)
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// End a task, exactly once: the state moves from active to final and its hold is settled
    /// in the same transaction. Returns the finished task, or `None` if it had already ended.
    pub async fn finish_task(&self, id: &str, f: &Finish) -> crate::Result<Option<Task>> {
        let mut tx = self.pool.begin().await?;
        let now = now_ms();
        let done = sqlx::query(&format!(
            "UPDATE tasks SET state = $1, result = COALESCE($2, result), raw = COALESCE($3, raw), \
             error = $4, progress = CASE WHEN $1 = 'succeeded' THEN 100 ELSE progress END, \
             finished_at = $5, updated_at = $5, lease_owner = NULL, lease_until = 0 \
             WHERE id = $6 AND state IN {ACTIVE}"
        ))
        .bind(&f.state)
        .bind(f.result.as_ref().map(json))
        .bind(f.raw.as_ref().map(json))
        .bind(&f.error)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(None);
        }
        let (hold_id,): (Option<String>,) =
            sqlx::query_as("SELECT hold_id FROM tasks WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
        let charged = match hold_id {
            Some(h) => settle_in(&mut tx, &h, f.settle).await?.unwrap_or(0),
            None => 0,
        };
        sqlx::query("UPDATE tasks SET cost_charged = $1 WHERE id = $2")
            .bind(charged)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.task(id).await
    }

    /// Active tasks created before `cutoff_ms`: past the timeout, to be failed and refunded.
    pub async fn overdue_tasks(&self, cutoff_ms: i64) -> crate::Result<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(&format!(
            "SELECT id FROM tasks WHERE state IN {ACTIVE} AND created_at < $1"
        ))
        .bind(cutoff_ms)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Tasks still `submitting` since before `cutoff_ms`: their process died mid-submit.
    pub async fn stuck_submissions(&self, cutoff_ms: i64) -> crate::Result<Vec<String>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT id FROM tasks WHERE state = 'submitting' AND created_at < $1")
                .bind(cutoff_ms)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Newest first.
    pub async fn tasks(&self, f: &TaskFilter) -> crate::Result<Vec<Task>> {
        let (wh, args) = task_where(f);
        let sql = format!(
            "SELECT {COLS} FROM tasks{wh} ORDER BY created_at DESC, id DESC LIMIT {} OFFSET {}",
            f.limit.unwrap_or(20).clamp(1, 100),
            f.offset.unwrap_or(0).max(0)
        );
        let mut q = sqlx::query_as(&sql);
        for a in &args {
            q = q.bind(a);
        }
        Ok(q.fetch_all(&self.pool).await?)
    }

    /// How many tasks the filter matches, all pages together.
    pub async fn task_count(&self, f: &TaskFilter) -> crate::Result<i64> {
        let (wh, args) = task_where(f);
        let sql = format!("SELECT COUNT(*) FROM tasks{wh}");
        let mut q = sqlx::query_scalar(&sql);
        for a in &args {
            q = q.bind(a);
        }
        Ok(q.fetch_one(&self.pool).await?)
    }
}

/// The WHERE clause of a task listing, and its bound values.
fn task_where(f: &TaskFilter) -> (String, Vec<String>) {
    let mut conds = Vec::new();
    let mut args: Vec<String> = Vec::new();
    for (col, v) in [
        ("user_id", &f.user_id),
        ("kind", &f.kind),
        ("state", &f.state),
        ("model", &f.model),
    ] {
        if let Some(v) = v {
            args.push(v.clone());
            conds.push(format!("{col} = ${}", args.len()));
        }
    }
    if let Some(after) = &f.after {
        args.push(after.clone());
        conds.push(format!(
            "created_at < (SELECT created_at FROM tasks WHERE id = ${})",
            args.len()
        ));
    }
    (crate::db::where_sql(&conds), args)
}

//! Webhook deliveries: each state change of a task with a `notify_hook` becomes a row, sent
//! and retried with backoff by the gateway, so a restart loses no notification, and the rows
//! double as the delivery log.

use serde::Serialize;

use crate::db::{new_id, now_ms, Store};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Delivery {
    pub id: String,
    pub task_id: String,
    pub user_id: String,
    pub url: String,
    pub event: String,
    pub body: String,
    pub status: String,
    pub attempts: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub next_attempt_at: i64,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub enum DeliveryOutcome {
    Delivered {
        status: i64,
    },
    /// Try again at this time.
    Retry {
        status: Option<i64>,
        error: String,
        at: i64,
    },
    /// Out of attempts (or refused for good, e.g. a private address).
    GaveUp {
        status: Option<i64>,
        error: String,
    },
}

const COLS: &str =
    "id, task_id, user_id, url, event, body, status, attempts, last_status, last_error, \
                    next_attempt_at, created_at, delivered_at";

impl Store {
    pub async fn enqueue_delivery(
        &self,
        task_id: &str,
        user_id: &str,
        url: &str,
        event: &str,
        body: &str,
    ) -> crate::Result<()> {
        let now = now_ms();
        sqlx::query(
            "INSERT INTO webhook_deliveries (id, task_id, user_id, url, event, body, status, next_attempt_at, created_at, seq) \
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $7, \
             (SELECT COALESCE(MAX(seq), 0) + 1 FROM webhook_deliveries WHERE task_id = $2))",
        )
        .bind(new_id("whd"))
        .bind(task_id)
        .bind(user_id)
        .bind(url)
        .bind(event)
        .bind(body)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Take up to `limit` due deliveries; each is pushed `lease_ms` into the future first (a
    /// conditional update), so two senders never send the same one at once. A task's
    /// notifications go out in order: one waits while an earlier one of its task is pending
    /// (including while that one waits for a retry), so no receiver sees `running` after
    /// `succeeded`.
    pub async fn claim_deliveries(
        &self,
        lease_ms: i64,
        limit: i64,
    ) -> crate::Result<Vec<Delivery>> {
        let now = now_ms();
        let due: Vec<Delivery> = sqlx::query_as(&format!(
            "SELECT {COLS} FROM webhook_deliveries d WHERE status = 'pending' AND next_attempt_at <= $1 \
             AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e WHERE e.task_id = d.task_id \
             AND e.status = 'pending' AND (e.created_at < d.created_at OR (e.created_at = d.created_at AND e.seq < d.seq))) \
             ORDER BY created_at LIMIT {}",
            limit.max(1)
        ))
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        let mut claimed = Vec::new();
        for d in due {
            let got = sqlx::query(
                "UPDATE webhook_deliveries SET next_attempt_at = $1, attempts = attempts + 1 \
                 WHERE id = $2 AND status = 'pending' AND next_attempt_at = $3",
            )
            .bind(now + lease_ms)
            .bind(&d.id)
            .bind(d.next_attempt_at)
            .execute(&self.pool)
            .await?;
            if got.rows_affected() == 1 {
                claimed.push(Delivery {
                    attempts: d.attempts + 1,
                    ..d
                });
            }
        }
        Ok(claimed)
    }

    pub async fn record_delivery(&self, id: &str, outcome: &DeliveryOutcome) -> crate::Result<()> {
        let now = now_ms();
        let (status, last_status, error, next, delivered) = match outcome {
            DeliveryOutcome::Delivered { status } => {
                ("delivered", Some(*status), None, now, Some(now))
            }
            DeliveryOutcome::Retry { status, error, at } => {
                ("pending", *status, Some(error.as_str()), *at, None)
            }
            DeliveryOutcome::GaveUp { status, error } => {
                ("failed", *status, Some(error.as_str()), now, None)
            }
        };
        sqlx::query(
            "UPDATE webhook_deliveries SET status = $1, last_status = $2, last_error = $3, \
             next_attempt_at = $4, delivered_at = $5 WHERE id = $6",
        )
        .bind(status)
        .bind(last_status)
        .bind(error)
        .bind(next)
        .bind(delivered)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn deliveries(&self, task_id: &str) -> crate::Result<Vec<Delivery>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLS} FROM webhook_deliveries WHERE task_id = $1 ORDER BY created_at, id"
        ))
        .bind(task_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The user's webhook signing secret, made on first use.
    pub async fn webhook_secret(&self, user_id: &str) -> crate::Result<String> {
        let fresh = format!("whsec_{}", &new_id("x")[2..]);
        sqlx::query(
            "UPDATE users SET webhook_secret = $1 WHERE id = $2 AND webhook_secret IS NULL",
        )
        .bind(&fresh)
        .bind(user_id)
        .execute(&self.pool)
        .await?;
        let (s,): (Option<String>,) =
            sqlx::query_as("SELECT webhook_secret FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_one(&self.pool)
                .await?;
        Ok(s.unwrap_or(fresh))
    }
}

//! Leases: a gateway process's in-memory budget for a (user, key), kept as a hold row that
//! the process owns. Taking a chunk is one transaction of conditional updates, like a hold,
//! so leases across any number of processes never exceed the balance (or the key's quota).

use crate::db::{now_ms, Store};
use crate::hold::HoldRefusal;

/// One budget's spending since the last flush.
#[derive(Debug, Clone)]
pub struct Spending {
    /// The lease row to take the spending from; empty when there is none (free requests).
    pub lease_id: String,
    pub user_id: String,
    pub key_id: String,
    pub spent: i64,
    /// Requests settled.
    pub count: i64,
}

impl Store {
    /// What a lease could take at most now: the user's balance, and the key's remaining quota
    /// when `key_limited` (a hint only: `lease` checks again).
    pub async fn lease_room(
        &self,
        user_id: &str,
        key_id: &str,
        key_limited: bool,
    ) -> crate::Result<(i64, Option<i64>)> {
        let balance: Option<(i64,)> =
            sqlx::query_as("SELECT balance FROM users WHERE id = $1 AND enabled = 1")
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
        let quota = if key_limited {
            let q: Option<(i64,)> =
                sqlx::query_as("SELECT quota_remaining FROM api_keys WHERE id = $1")
                    .bind(key_id)
                    .fetch_optional(&self.pool)
                    .await?;
            Some(q.map_or(0, |q| q.0))
        } else {
            None
        };
        Ok((balance.map_or(0, |b| b.0), quota))
    }

    /// Move `amount` from the user's balance (and the key's quota when limited) into lease
    /// `lease_id`, creating its row when `new`. All or nothing.
    pub async fn lease(
        &self,
        lease_id: &str,
        new: bool,
        user_id: &str,
        key_id: &str,
        key_limited: bool,
        amount: i64,
    ) -> crate::Result<Result<(), HoldRefusal>> {
        let mut tx = self.pool.begin().await?;
        let user = sqlx::query(
            "UPDATE users SET balance = balance - $1 WHERE id = $2 AND enabled = 1 AND balance >= $1",
        )
        .bind(amount)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        if user.rows_affected() != 1 {
            return Ok(Err(HoldRefusal::Balance));
        }
        if key_limited {
            let key = sqlx::query(
                "UPDATE api_keys SET quota_remaining = quota_remaining - $1 \
                 WHERE id = $2 AND quota_remaining >= $1",
            )
            .bind(amount)
            .bind(key_id)
            .execute(&mut *tx)
            .await?;
            if key.rows_affected() != 1 {
                return Ok(Err(HoldRefusal::KeyQuota));
            }
        }
        if new {
            sqlx::query(
                "INSERT INTO holds (id, user_id, key_id, amount, key_limited, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(lease_id)
            .bind(user_id)
            .bind(key_id)
            .bind(amount)
            .bind(key_limited as i64)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        } else {
            sqlx::query("UPDATE holds SET amount = amount + $1, created_at = $2 WHERE id = $3")
                .bind(amount)
                .bind(now_ms())
                .bind(lease_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Write spending of many budgets in one transaction: each lease shrinks by what was spent
    /// (and is touched, so the stale-hold sweep leaves it alone), users and keys count it.
    pub async fn record_spending(&self, batch: &[Spending]) -> crate::Result<()> {
        let mut tx = self.pool.begin().await?;
        let now = now_ms();
        for s in batch {
            if !s.lease_id.is_empty() {
                sqlx::query("UPDATE holds SET amount = amount - $1, created_at = $2 WHERE id = $3")
                    .bind(s.spent)
                    .bind(now)
                    .bind(&s.lease_id)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(
                "UPDATE users SET used = used + $1, request_count = request_count + $2 WHERE id = $3",
            )
            .bind(s.spent)
            .bind(s.count)
            .bind(&s.user_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE api_keys SET used = used + $1 WHERE id = $2")
                .bind(s.spent)
                .bind(&s.key_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Give `amount` of lease `lease_id` back to the user (and the key's quota when limited);
    /// with `close`, the lease row goes. Nothing happens when the row is gone already (the
    /// stale sweep released it, and with it everything it held).
    pub async fn return_lease(
        &self,
        lease_id: &str,
        user_id: &str,
        key_id: &str,
        key_limited: bool,
        amount: i64,
        close: bool,
    ) -> crate::Result<()> {
        let mut tx = self.pool.begin().await?;
        let row = if close {
            sqlx::query("DELETE FROM holds WHERE id = $1")
                .bind(lease_id)
                .execute(&mut *tx)
                .await?
        } else {
            sqlx::query("UPDATE holds SET amount = amount - $1, created_at = $2 WHERE id = $3")
                .bind(amount)
                .bind(now_ms())
                .bind(lease_id)
                .execute(&mut *tx)
                .await?
        };
        if row.rows_affected() != 1 {
            return Ok(());
        }
        sqlx::query("UPDATE users SET balance = balance + $1 WHERE id = $2")
            .bind(amount)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if key_limited {
            sqlx::query("UPDATE api_keys SET quota_remaining = quota_remaining + $1 WHERE id = $2")
                .bind(amount)
                .bind(key_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

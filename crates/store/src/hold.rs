//! Holds: money reserved from a user's balance (and the key's quota) before an upstream
//! call, settled to the real cost afterwards. Each step is one transaction of conditional
//! updates, so concurrent requests can never take more than the balance holds.

use sqlx::{Any, Transaction};

use crate::db::{new_id, now_ms, Store};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    /// `None` for a zero-amount hold (a free model): nothing was reserved, nothing to undo.
    pub id: Option<String>,
    pub user_id: String,
    pub key_id: String,
    pub amount: i64,
    pub key_limited: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldRefusal {
    /// The user's balance does not cover the worst-case cost.
    Balance,
    /// The key's own quota does not cover it.
    KeyQuota,
}

impl Store {
    /// Reserve `amount` nano-dollars, or say why it does not fit.
    pub async fn hold(
        &self,
        user_id: &str,
        key_id: &str,
        key_limited: bool,
        amount: i64,
    ) -> crate::Result<Result<Hold, HoldRefusal>> {
        let mut hold = Hold {
            id: None,
            user_id: user_id.into(),
            key_id: key_id.into(),
            amount: amount.max(0),
            key_limited,
        };
        if hold.amount == 0 {
            return Ok(Ok(hold));
        }
        let mut tx = self.pool.begin().await?;
        // The write comes first so SQLite takes its write lock at once (no upgrade deadlock).
        let user = sqlx::query(
            "UPDATE users SET balance = balance - $1 WHERE id = $2 AND enabled = 1 AND balance >= $1",
        )
        .bind(hold.amount)
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
            .bind(hold.amount)
            .bind(key_id)
            .execute(&mut *tx)
            .await?;
            if key.rows_affected() != 1 {
                return Ok(Err(HoldRefusal::KeyQuota));
            }
        }
        let id = new_id("hold");
        sqlx::query(
            "INSERT INTO holds (id, user_id, key_id, amount, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&id)
        .bind(user_id)
        .bind(key_id)
        .bind(hold.amount)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        hold.id = Some(id);
        Ok(Ok(hold))
    }

    /// Turn a hold into a charge of `actual` nano-dollars, exactly once: the hold row is
    /// deleted in the same transaction, so a second settle of the same hold does nothing.
    /// When the actual cost exceeds the hold, the extra is taken only as far as the balance
    /// goes (never below zero). Returns what was charged.
    pub async fn settle(&self, hold: &Hold, actual: i64) -> crate::Result<i64> {
        let actual = actual.max(0);
        let mut tx = self.pool.begin().await?;
        if let Some(id) = &hold.id {
            let gone = sqlx::query("DELETE FROM holds WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            if gone.rows_affected() != 1 {
                return Ok(0);
            }
        }
        let extra = actual - hold.amount;
        let charged = if extra > 0 {
            hold.amount + take_extra(&mut tx, &hold.user_id, extra).await?
        } else {
            actual
        };
        // Give back what was held beyond the charge, and count the use.
        sqlx::query(
            "UPDATE users SET balance = balance + $1, used = used + $2, \
             request_count = request_count + 1 WHERE id = $3",
        )
        .bind((hold.amount - charged).max(0))
        .bind(charged)
        .bind(&hold.user_id)
        .execute(&mut *tx)
        .await?;
        let key_refund = if hold.key_limited {
            hold.amount - charged
        } else {
            0
        };
        // The key's quota gets back what was held beyond the charge, floored at zero when
        // the charge exceeded the hold.
        sqlx::query(
            "UPDATE api_keys SET quota_remaining = CASE WHEN quota_limited = 0 THEN quota_remaining \
             WHEN quota_remaining + $1 < 0 THEN 0 ELSE quota_remaining + $1 END, \
             used = used + $2 WHERE id = $3",
        )
        .bind(key_refund)
        .bind(charged)
        .bind(&hold.key_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(charged)
    }

    /// Give a hold back in full (the upstream call failed before producing anything billable).
    pub async fn release(&self, hold: &Hold) -> crate::Result<()> {
        if hold.id.is_none() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        let gone = sqlx::query("DELETE FROM holds WHERE id = $1")
            .bind(hold.id.as_deref())
            .execute(&mut *tx)
            .await?;
        if gone.rows_affected() != 1 {
            return Ok(());
        }
        refund(
            &mut tx,
            &hold.user_id,
            &hold.key_id,
            hold.amount,
            hold.key_limited,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Release holds older than `max_age_ms`: left behind by a process that died mid-request.
    pub async fn release_stale_holds(&self, max_age_ms: i64) -> crate::Result<u64> {
        let rows: Vec<(String, String, String, i64)> =
            sqlx::query_as("SELECT id, user_id, key_id, amount FROM holds WHERE created_at < $1")
                .bind(now_ms() - max_age_ms)
                .fetch_all(&self.pool)
                .await?;
        let mut released = 0;
        for (id, user_id, key_id, amount) in rows {
            let limited =
                sqlx::query_as::<_, (i64,)>("SELECT quota_limited FROM api_keys WHERE id = $1")
                    .bind(&key_id)
                    .fetch_optional(&self.pool)
                    .await?
                    .is_some_and(|(l,)| l == 1);
            let hold = Hold {
                id: Some(id),
                user_id,
                key_id,
                amount,
                key_limited: limited,
            };
            self.release(&hold).await?;
            released += 1;
        }
        Ok(released)
    }

    /// Sum of money currently held for a user (for the balance endpoints).
    pub async fn held(&self, user_id: &str) -> crate::Result<i64> {
        let (sum,): (i64,) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM holds WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(sum)
    }
}

async fn refund(
    tx: &mut Transaction<'_, Any>,
    user_id: &str,
    key_id: &str,
    amount: i64,
    key_limited: bool,
) -> crate::Result<()> {
    sqlx::query("UPDATE users SET balance = balance + $1 WHERE id = $2")
        .bind(amount)
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    if key_limited {
        sqlx::query(
            "UPDATE api_keys SET quota_remaining = quota_remaining + $1 \
             WHERE id = $2 AND quota_limited = 1",
        )
        .bind(amount)
        .bind(key_id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Take up to `extra` beyond the hold, never driving the balance below zero.
async fn take_extra(
    tx: &mut Transaction<'_, Any>,
    user_id: &str,
    extra: i64,
) -> crate::Result<i64> {
    let full =
        sqlx::query("UPDATE users SET balance = balance - $1 WHERE id = $2 AND balance >= $1")
            .bind(extra)
            .bind(user_id)
            .execute(&mut **tx)
            .await?;
    if full.rows_affected() == 1 {
        return Ok(extra);
    }
    let (left,): (i64,) = sqlx::query_as("SELECT balance FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(&mut **tx)
        .await?;
    let part = left.clamp(0, extra);
    sqlx::query("UPDATE users SET balance = balance - $1 WHERE id = $2 AND balance >= $1")
        .bind(part)
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(part)
}

//! Holds: money reserved from a user's balance (and the key's quota) before an upstream
//! call, settled to the real cost afterwards. Each step is one transaction of conditional
//! updates, so concurrent requests can never take more than the balance holds, and a settle
//! deletes its hold row (`DELETE … RETURNING`) so it happens at most once.

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

/// How a hold ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settle {
    /// Charge this much (more than held is taken only as far as the balance goes).
    Charge(i64),
    /// Nothing billable happened: everything goes back.
    Release,
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
            "INSERT INTO holds (id, user_id, key_id, amount, key_limited, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(user_id)
        .bind(key_id)
        .bind(hold.amount)
        .bind(key_limited as i64)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        hold.id = Some(id);
        Ok(Ok(hold))
    }

    /// Turn a hold into a charge of `actual` nano-dollars, at most once. Returns what was
    /// charged (0 when the hold was already settled).
    pub async fn settle(&self, hold: &Hold, actual: i64) -> crate::Result<i64> {
        let Some(id) = &hold.id else {
            // Nothing was held (a free model): only count the use.
            let mut tx = self.pool.begin().await?;
            count_use(&mut tx, &hold.user_id, &hold.key_id, 0).await?;
            tx.commit().await?;
            return Ok(0);
        };
        let mut tx = self.pool.begin().await?;
        let charged = settle_in(&mut tx, id, Settle::Charge(actual)).await?;
        tx.commit().await?;
        Ok(charged.unwrap_or(0))
    }

    /// Give a hold back in full (the upstream call failed before producing anything billable).
    pub async fn release(&self, hold: &Hold) -> crate::Result<()> {
        if let Some(id) = &hold.id {
            let mut tx = self.pool.begin().await?;
            settle_in(&mut tx, id, Settle::Release).await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// Release holds older than `max_age_ms`: left behind by a process that died mid-request.
    /// Holds that belong to unfinished tasks are theirs to settle and are left alone.
    pub async fn release_stale_holds(&self, max_age_ms: i64) -> crate::Result<u64> {
        let ids: Vec<(String,)> = sqlx::query_as(
            "SELECT id FROM holds WHERE created_at < $1 AND id NOT IN \
             (SELECT hold_id FROM tasks WHERE hold_id IS NOT NULL \
              AND state IN ('submitting', 'queued', 'running'))",
        )
        .bind(now_ms() - max_age_ms)
        .fetch_all(&self.pool)
        .await?;
        let mut released = 0;
        for (id,) in ids {
            let mut tx = self.pool.begin().await?;
            if settle_in(&mut tx, &id, Settle::Release).await?.is_some() {
                released += 1;
            }
            tx.commit().await?;
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

/// Settle hold `id` inside `tx`. `None` if it was already settled by someone else.
pub(crate) async fn settle_in(
    tx: &mut Transaction<'_, Any>,
    id: &str,
    how: Settle,
) -> crate::Result<Option<i64>> {
    // Deleting first both claims the hold and takes SQLite's write lock.
    let row: Option<(String, String, i64, i64)> = sqlx::query_as(
        "DELETE FROM holds WHERE id = $1 RETURNING user_id, key_id, amount, key_limited",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some((user_id, key_id, held, key_limited)) = row else {
        return Ok(None);
    };
    let charged = match how {
        Settle::Release => 0,
        Settle::Charge(actual) if actual > held => {
            held + take_extra(tx, &user_id, actual - held).await?
        }
        Settle::Charge(actual) => actual.max(0),
    };
    let back = (held - charged).max(0);
    sqlx::query("UPDATE users SET balance = balance + $1 WHERE id = $2")
        .bind(back)
        .bind(&user_id)
        .execute(&mut **tx)
        .await?;
    if key_limited != 0 {
        // The key gets back what was held beyond the charge; a charge above the hold takes
        // the key's quota down to zero at most.
        sqlx::query(
            "UPDATE api_keys SET quota_remaining = CASE WHEN quota_remaining + $1 < 0 THEN 0 \
             ELSE quota_remaining + $1 END WHERE id = $2",
        )
        .bind(held - charged)
        .bind(&key_id)
        .execute(&mut **tx)
        .await?;
    }
    if how != Settle::Release {
        count_use(tx, &user_id, &key_id, charged).await?;
    }
    Ok(Some(charged))
}

async fn count_use(
    tx: &mut Transaction<'_, Any>,
    user_id: &str,
    key_id: &str,
    charged: i64,
) -> crate::Result<()> {
    sqlx::query(
        "UPDATE users SET used = used + $1, request_count = request_count + 1 WHERE id = $2",
    )
    .bind(charged)
    .bind(user_id)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE api_keys SET used = used + $1 WHERE id = $2")
        .bind(charged)
        .bind(key_id)
        .execute(&mut **tx)
        .await?;
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

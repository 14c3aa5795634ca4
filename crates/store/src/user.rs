use serde::{Deserialize, Serialize};

use crate::db::{new_id, now_ms, Store, StoreError};

#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
pub struct User {
    pub id: String,
    pub name: String,
    /// `root`, `admin` or `user`.
    pub role: String,
    #[sqlx(rename = "group_name")]
    #[serde(rename = "group")]
    pub group_name: String,
    /// Spendable balance, nano-dollars.
    #[serde(rename = "balance_nano")]
    pub balance: i64,
    /// Total ever charged, nano-dollars.
    #[serde(rename = "used_nano")]
    pub used: i64,
    pub request_count: i64,
    #[serde(serialize_with = "as_bool", deserialize_with = "from_bool")]
    pub enabled: i64,
    pub created_at: i64,
}

pub(crate) fn as_bool<S: serde::Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_bool(*v != 0)
}

pub(crate) fn from_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    Ok(bool::deserialize(d)? as i64)
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewUser {
    pub name: String,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub balance_nano: i64,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct UserPatch {
    pub name: Option<String>,
    pub role: Option<String>,
    pub group: Option<String>,
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct LedgerEntry {
    pub id: String,
    pub user_id: String,
    #[serde(rename = "amount_nano")]
    pub amount: i64,
    pub reason: String,
    pub actor: Option<String>,
    /// The acting admin's name (none without an actor, or once that user is gone).
    pub actor_name: Option<String>,
    pub created_at: i64,
}

const USER_COLS: &str =
    "id, name, role, group_name, balance, used, request_count, enabled, created_at";

pub(crate) fn valid_role(role: &str) -> bool {
    matches!(role, "root" | "admin" | "user")
}

impl Store {
    pub async fn create_user(&self, new: &NewUser) -> crate::Result<User> {
        let role = new.role.clone().unwrap_or_else(|| "user".into());
        if !valid_role(&role) {
            return Err(StoreError::Invalid(format!(
                "role must be root, admin or user, not {role:?}"
            )));
        }
        if new.name.trim().is_empty() {
            return Err(StoreError::Invalid("name must not be empty".into()));
        }
        if new.balance_nano < 0 {
            return Err(StoreError::Invalid("balance must not be negative".into()));
        }
        let id = new_id("usr");
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO users (id, name, role, group_name, balance, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(new.name.trim())
        .bind(&role)
        .bind(new.group.clone().unwrap_or_else(|| "default".into()))
        .bind(new.balance_nano)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::from_write(e, "a user with this name"))?;
        if new.balance_nano > 0 {
            insert_ledger(&mut tx, &id, new.balance_nano, "initial balance", None).await?;
        }
        tx.commit().await?;
        self.user(&id).await?.ok_or(StoreError::NotFound("user"))
    }

    pub async fn user(&self, id: &str) -> crate::Result<Option<User>> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE id = $1");
        Ok(sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn user_by_name(&self, name: &str) -> crate::Result<Option<User>> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE name = $1");
        Ok(sqlx::query_as(&sql)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn users(&self, limit: i64, offset: i64) -> crate::Result<Vec<User>> {
        let sql =
            format!("SELECT {USER_COLS} FROM users ORDER BY created_at, id LIMIT $1 OFFSET $2");
        Ok(sqlx::query_as(&sql)
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn update_user(&self, id: &str, p: &UserPatch) -> crate::Result<User> {
        let cur = self.user(id).await?.ok_or(StoreError::NotFound("user"))?;
        let role = p.role.clone().unwrap_or(cur.role);
        if !valid_role(&role) {
            return Err(StoreError::Invalid(format!(
                "role must be root, admin or user, not {role:?}"
            )));
        }
        sqlx::query(
            "UPDATE users SET name = $1, role = $2, group_name = $3, enabled = $4 WHERE id = $5",
        )
        .bind(p.name.clone().unwrap_or(cur.name))
        .bind(role)
        .bind(p.group.clone().unwrap_or(cur.group_name))
        .bind(p.enabled.map(i64::from).unwrap_or(cur.enabled))
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(|e| StoreError::from_write(e, "a user with this name"))?;
        self.user(id).await?.ok_or(StoreError::NotFound("user"))
    }

    /// Add (or, with a negative amount, take away) balance with a reason kept in the ledger.
    /// A deduction larger than the balance is refused rather than clipped.
    pub async fn adjust_balance(
        &self,
        user_id: &str,
        amount: i64,
        reason: &str,
        actor: Option<&str>,
    ) -> crate::Result<User> {
        if reason.trim().is_empty() {
            return Err(StoreError::Invalid("a reason is required".into()));
        }
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE users SET balance = balance + $1 WHERE id = $2 AND balance + $1 >= 0",
        )
        .bind(amount)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return match self.user(user_id).await? {
                None => Err(StoreError::NotFound("user")),
                Some(_) => Err(StoreError::Invalid(
                    "the deduction is larger than the balance".into(),
                )),
            };
        }
        insert_ledger(&mut tx, user_id, amount, reason, actor).await?;
        tx.commit().await?;
        self.user(user_id)
            .await?
            .ok_or(StoreError::NotFound("user"))
    }

    pub async fn ledger(&self, user_id: &str, limit: i64) -> crate::Result<Vec<LedgerEntry>> {
        Ok(sqlx::query_as(
            "SELECT l.id, l.user_id, l.amount, l.reason, l.actor, u.name AS actor_name, \
             l.created_at FROM ledger l LEFT JOIN users u ON u.id = l.actor \
             WHERE l.user_id = $1 ORDER BY l.created_at DESC, l.id LIMIT $2",
        )
        .bind(user_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}

async fn insert_ledger(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: &str,
    amount: i64,
    reason: &str,
    actor: Option<&str>,
) -> crate::Result<()> {
    sqlx::query(
        "INSERT INTO ledger (id, user_id, amount, reason, actor, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(new_id("led"))
    .bind(user_id)
    .bind(amount)
    .bind(reason)
    .bind(actor)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

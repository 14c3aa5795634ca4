//! Console sessions and passwords. The store keeps only hashes: the session token's SHA-256
//! (looked up on every console request) and the password's PHC string, which the gateway
//! makes and checks (the store never sees a password).

use serde::Serialize;

use crate::db::{now_ms, Store, StoreError};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Session {
    #[serde(skip)]
    pub token_hash: String,
    pub user_id: String,
    #[serde(skip)]
    pub csrf: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub user_id: &'a str,
    pub csrf: &'a str,
    pub expires_at: i64,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

impl Store {
    /// The PHC string of a user's password, if one is set.
    pub async fn password_hash(&self, user_id: &str) -> crate::Result<Option<String>> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT password_hash FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.and_then(|r| r.0))
    }

    /// Set (or with `None`, clear) a password. Every session of the user ends with it, so a
    /// changed password locks out whoever knew the old one.
    pub async fn set_password(&self, user_id: &str, phc: Option<&str>) -> crate::Result<()> {
        let mut tx = self.pool.begin().await?;
        let n = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(phc)
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound("user"));
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn create_session(&self, s: &NewSession<'_>) -> crate::Result<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at, ip, user_agent) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(s.token_hash)
        .bind(s.user_id)
        .bind(s.csrf)
        .bind(now_ms())
        .bind(s.expires_at)
        .bind(s.ip)
        .bind(s.user_agent)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A session that has not expired.
    pub async fn session(&self, token_hash: &str) -> crate::Result<Option<Session>> {
        Ok(sqlx::query_as(
            "SELECT token_hash, user_id, csrf, created_at, expires_at, ip, user_agent \
             FROM sessions WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Push a session's expiry out (sliding expiry for people who keep using the console).
    pub async fn extend_session(&self, token_hash: &str, expires_at: i64) -> crate::Result<()> {
        sqlx::query("UPDATE sessions SET expires_at = $1 WHERE token_hash = $2")
            .bind(expires_at)
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn delete_session(&self, token_hash: &str) -> crate::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Forget expired sessions; returns how many.
    pub async fn sweep_sessions(&self) -> crate::Result<u64> {
        Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now_ms())
            .execute(&self.pool)
            .await?
            .rows_affected())
    }
}

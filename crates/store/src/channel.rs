use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::db::{from_json, new_id, now_ms, to_json, Store, StoreError};

/// An upstream channel as stored. `keys_enc` holds the upstream keys encrypted by the
/// gateway; the store never sees them in the clear.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Channel {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub base_url: String,
    pub keys_enc: String,
    pub models: String,
    pub model_map: String,
    pub groups_json: String,
    pub priority: i64,
    pub weight: i64,
    /// `enabled`, `disabled` (by an admin) or `auto_disabled` (by the health check).
    pub status: String,
    pub status_reason: Option<String>,
    pub test_model: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The last test's result as JSON, kept so the console shows it after a reload.
    pub last_test: Option<String>,
    /// The provider's balance in nano-dollars when last asked (`balance_at`, ms).
    pub balance_nano: Option<i64>,
    pub balance_at: Option<i64>,
}

impl Channel {
    pub fn key_list(&self) -> Vec<String> {
        from_json(&self.keys_enc)
    }
    pub fn model_list(&self) -> Vec<String> {
        from_json(&self.models)
    }
    pub fn model_map(&self) -> BTreeMap<String, String> {
        from_json(&self.model_map)
    }
    pub fn groups(&self) -> Vec<String> {
        from_json(&self.groups_json)
    }
}

/// Everything an admin (or the TOML config) sets on a channel. Keys arrive already encrypted.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ChannelWrite {
    pub name: String,
    pub kind: String,
    pub base_url: String,
    pub keys_enc: Vec<String>,
    pub models: Vec<String>,
    pub model_map: BTreeMap<String, String>,
    pub groups: Vec<String>,
    pub priority: i64,
    pub weight: i64,
    pub enabled: bool,
    pub test_model: Option<String>,
}

/// The columns an admin writes; the checks (`last_test`, `balance_*`) are written on their own.
const WRITE_COLS: &str = "id, name, kind, base_url, keys_enc, models, model_map, groups_json, \
     priority, weight, status, status_reason, test_model, created_at, updated_at";
const CHANNEL_COLS: &str = "id, name, kind, base_url, keys_enc, models, model_map, groups_json, \
     priority, weight, status, status_reason, test_model, created_at, updated_at, last_test, \
     balance_nano, balance_at";

impl ChannelWrite {
    fn check(&self) -> crate::Result<()> {
        if self.name.trim().is_empty() {
            return Err(StoreError::Invalid("channel name must not be empty".into()));
        }
        if self.weight < 0 {
            return Err(StoreError::Invalid("weight must not be negative".into()));
        }
        if !(self.base_url.starts_with("http://") || self.base_url.starts_with("https://")) {
            return Err(StoreError::Invalid(
                "base_url must start with http:// or https://".into(),
            ));
        }
        Ok(())
    }
    fn status(&self) -> &'static str {
        if self.enabled {
            "enabled"
        } else {
            "disabled"
        }
    }
}

impl Store {
    pub async fn create_channel(&self, w: &ChannelWrite) -> crate::Result<Channel> {
        w.check()?;
        let id = new_id("ch");
        let now = now_ms();
        sqlx::query(&format!(
            "INSERT INTO channels ({WRITE_COLS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, $12, $13, $13)"
        ))
        .bind(&id)
        .bind(w.name.trim())
        .bind(&w.kind)
        .bind(w.base_url.trim_end_matches('/'))
        .bind(to_json(&w.keys_enc))
        .bind(to_json(&w.models))
        .bind(to_json(&w.model_map))
        .bind(to_json(&w.groups))
        .bind(w.priority)
        .bind(w.weight)
        .bind(w.status())
        .bind(&w.test_model)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(|e| StoreError::from_write(e, "a channel with this name"))?;
        self.channel(&id)
            .await?
            .ok_or(StoreError::NotFound("channel"))
    }

    /// Replace a channel's settings. Writing it resets an auto-disable: the admin has looked.
    pub async fn update_channel(&self, id: &str, w: &ChannelWrite) -> crate::Result<Channel> {
        w.check()?;
        let done = sqlx::query(
            "UPDATE channels SET name = $1, kind = $2, base_url = $3, keys_enc = $4, models = $5, \
             model_map = $6, groups_json = $7, priority = $8, weight = $9, status = $10, \
             status_reason = NULL, test_model = $11, updated_at = $12 WHERE id = $13",
        )
        .bind(w.name.trim())
        .bind(&w.kind)
        .bind(w.base_url.trim_end_matches('/'))
        .bind(to_json(&w.keys_enc))
        .bind(to_json(&w.models))
        .bind(to_json(&w.model_map))
        .bind(to_json(&w.groups))
        .bind(w.priority)
        .bind(w.weight)
        .bind(w.status())
        .bind(&w.test_model)
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(|e| StoreError::from_write(e, "a channel with this name"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("channel"));
        }
        self.channel(id)
            .await?
            .ok_or(StoreError::NotFound("channel"))
    }

    pub async fn set_channel_status(
        &self,
        id: &str,
        status: &str,
        reason: Option<&str>,
    ) -> crate::Result<()> {
        let done = sqlx::query(
            "UPDATE channels SET status = $1, status_reason = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(status)
        .bind(reason)
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("channel"));
        }
        Ok(())
    }

    /// Keep a test's result (JSON) for the console.
    pub async fn set_channel_test(&self, id: &str, result: &str) -> crate::Result<()> {
        let done = sqlx::query("UPDATE channels SET last_test = $1 WHERE id = $2")
            .bind(result)
            .bind(id)
            .execute(&self.pool)
            .await?;
        found(done.rows_affected())
    }

    /// Keep the provider's balance, as of now.
    pub async fn set_channel_balance(&self, id: &str, nano: i64) -> crate::Result<()> {
        let done =
            sqlx::query("UPDATE channels SET balance_nano = $1, balance_at = $2 WHERE id = $3")
                .bind(nano)
                .bind(now_ms())
                .bind(id)
                .execute(&self.pool)
                .await?;
        found(done.rows_affected())
    }

    pub async fn channel(&self, id: &str) -> crate::Result<Option<Channel>> {
        let sql = format!("SELECT {CHANNEL_COLS} FROM channels WHERE id = $1");
        Ok(sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn channel_by_name(&self, name: &str) -> crate::Result<Option<Channel>> {
        let sql = format!("SELECT {CHANNEL_COLS} FROM channels WHERE name = $1");
        Ok(sqlx::query_as(&sql)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn channels(&self) -> crate::Result<Vec<Channel>> {
        let sql = format!("SELECT {CHANNEL_COLS} FROM channels ORDER BY priority DESC, name");
        Ok(sqlx::query_as(&sql).fetch_all(&self.pool).await?)
    }

    pub async fn delete_channel(&self, id: &str) -> crate::Result<()> {
        let done = sqlx::query("DELETE FROM channels WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("channel"));
        }
        Ok(())
    }
}

fn found(rows: u64) -> crate::Result<()> {
    if rows == 0 {
        return Err(StoreError::NotFound("channel"));
    }
    Ok(())
}

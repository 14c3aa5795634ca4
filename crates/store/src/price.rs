use serde::{Deserialize, Serialize};

use crate::db::{now_ms, Store, StoreError};

/// A model's price. Token prices are nano-dollars per 1M tokens (so $0.15/1M is
/// 150_000_000); `per_call` is nano-dollars per request. Integers only: no float in money.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Price {
    pub model: String,
    #[serde(default, rename = "input_nano_per_mtok")]
    pub input_per_mtok: i64,
    #[serde(default, rename = "output_nano_per_mtok")]
    pub output_per_mtok: i64,
    /// Cached input tokens; `None` bills them as ordinary input.
    #[serde(default, rename = "cached_nano_per_mtok")]
    pub cached_per_mtok: Option<i64>,
    #[serde(default, rename = "per_call_nano")]
    pub per_call: i64,
    /// Served without charge. A model with no price row at all is refused instead.
    #[serde(
        default,
        serialize_with = "crate::user::as_bool",
        deserialize_with = "crate::user::from_bool"
    )]
    pub free: i64,
    #[serde(default)]
    pub updated_at: i64,
}

impl Store {
    pub async fn upsert_price(&self, p: &Price) -> crate::Result<Price> {
        let negative = [p.input_per_mtok, p.output_per_mtok, p.per_call]
            .into_iter()
            .chain(p.cached_per_mtok)
            .any(|v| v < 0);
        if negative || p.model.trim().is_empty() {
            return Err(StoreError::Invalid(
                "a price needs a model name and no negative amounts".into(),
            ));
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM prices WHERE model = $1")
            .bind(&p.model)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO prices (model, input_per_mtok, output_per_mtok, cached_per_mtok, \
             per_call, free, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(p.model.trim())
        .bind(p.input_per_mtok)
        .bind(p.output_per_mtok)
        .bind(p.cached_per_mtok)
        .bind(p.per_call)
        .bind(p.free)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.prices()
            .await?
            .into_iter()
            .find(|x| x.model == p.model.trim())
            .ok_or(StoreError::NotFound("price"))
    }

    pub async fn prices(&self) -> crate::Result<Vec<Price>> {
        Ok(sqlx::query_as(
            "SELECT model, input_per_mtok, output_per_mtok, cached_per_mtok, per_call, free, \
             updated_at FROM prices ORDER BY model",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn delete_price(&self, model: &str) -> crate::Result<()> {
        let done = sqlx::query("DELETE FROM prices WHERE model = $1")
            .bind(model)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("price"));
        }
        Ok(())
    }
}

use rand::distributions::Alphanumeric;
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::db::{from_json, new_id, now_ms, to_json, Store, StoreError};
use crate::user::{as_bool, from_bool};

/// An API key as stored: the secret itself is never kept, only its SHA-256.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
pub struct ApiKey {
    pub id: String,
    pub user_id: String,
    pub name: String,
    #[serde(skip)]
    pub key_hash: String,
    /// `sk-abcd…wxyz`, enough to recognise a key without revealing it.
    pub key_hint: String,
    #[serde(serialize_with = "as_bool", deserialize_with = "from_bool")]
    pub quota_limited: i64,
    #[serde(rename = "quota_remaining_nano")]
    pub quota_remaining: i64,
    #[serde(rename = "used_nano")]
    pub used: i64,
    pub expires_at: Option<i64>,
    #[serde(skip)]
    pub models: String,
    #[serde(skip)]
    pub ip_allow: String,
    #[serde(serialize_with = "as_bool", deserialize_with = "from_bool")]
    pub enabled: i64,
    pub created_at: i64,
}

impl ApiKey {
    pub fn model_list(&self) -> Vec<String> {
        from_json(&self.models)
    }
    pub fn ip_list(&self) -> Vec<String> {
        from_json(&self.ip_allow)
    }
    /// The shape shown to admins and owners: stored JSON columns as real arrays.
    pub fn to_view(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        v["models"] = serde_json::json!(self.model_list());
        v["ip_allow"] = serde_json::json!(self.ip_list());
        v
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewKey {
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// `None` = unlimited.
    #[serde(default)]
    pub quota_nano: Option<i64>,
    #[serde(default)]
    pub expires_at: Option<i64>,
    #[serde(default)]
    pub models: Vec<String>,
    #[serde(default)]
    pub ip_allow: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct KeyPatch {
    pub name: Option<String>,
    /// `Some(None)` makes the key unlimited.
    #[serde(default, with = "double_option")]
    pub quota_nano: Option<Option<i64>>,
    #[serde(default, with = "double_option")]
    pub expires_at: Option<Option<i64>>,
    pub models: Option<Vec<String>>,
    pub ip_allow: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

/// Distinguishes "field absent" from "field: null" in a PATCH body.
mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
        Ok(Some(Option::deserialize(d)?))
    }
}

/// `sk-` + 48 alphanumerics.
pub fn generate_key() -> String {
    let tail: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(48)
        .map(char::from)
        .collect();
    format!("sk-{tail}")
}

/// Keys are long random strings, so one SHA-256 is enough (no slow KDF needed).
pub fn hash_key(secret: &str) -> String {
    // Every request hashes its key: `hex::encode` builds the string a char at a time (1,600
    // instructions a key); into a buffer it is a few hundred. `from_utf8` checks the ASCII a
    // word at a time; `from_utf8_lossy` walked it a byte at a time (470 instructions).
    let mut out = [0u8; 64];
    hex::encode_to_slice(Sha256::digest(secret.as_bytes()), &mut out).expect("64 hex digits");
    std::str::from_utf8(&out).expect("hex is ASCII").to_owned()
}

fn hint(secret: &str) -> String {
    let n = secret.len();
    if n < 12 {
        return "sk-…".into();
    }
    format!("{}…{}", &secret[..7], &secret[n - 4..])
}

const KEY_COLS: &str = "id, user_id, name, key_hash, key_hint, quota_limited, quota_remaining, \
                        used, expires_at, models, ip_allow, enabled, created_at";

fn validate(new_quota: Option<i64>) -> crate::Result<()> {
    if new_quota.is_some_and(|q| q < 0) {
        return Err(StoreError::Invalid("quota must not be negative".into()));
    }
    Ok(())
}

impl Store {
    /// Create a key; returns the record and the secret, which is shown this once only.
    pub async fn create_key(&self, user_id: &str, new: &NewKey) -> crate::Result<(ApiKey, String)> {
        let secret = generate_key();
        let key = self.insert_key(user_id, new, &secret).await?;
        Ok((key, secret))
    }

    /// Make sure a key with exactly this secret exists for the user (`SWITCHYARD_ROOT_KEY`).
    pub async fn ensure_key(&self, user_id: &str, secret: &str) -> crate::Result<ApiKey> {
        if let Some(k) = self.key_by_secret(secret).await? {
            if k.user_id != user_id {
                return Err(StoreError::Conflict(
                    "this key already belongs to another user".into(),
                ));
            }
            return Ok(k);
        }
        let new = NewKey {
            name: Some("root key (from SWITCHYARD_ROOT_KEY)".into()),
            ..Default::default()
        };
        self.insert_key(user_id, &new, secret).await
    }

    async fn insert_key(&self, user_id: &str, new: &NewKey, secret: &str) -> crate::Result<ApiKey> {
        validate(new.quota_nano)?;
        let id = new_id("key");
        sqlx::query(
            "INSERT INTO api_keys (id, user_id, name, key_hash, key_hint, quota_limited, \
             quota_remaining, expires_at, models, ip_allow, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&id)
        .bind(user_id)
        .bind(new.name.clone().unwrap_or_else(|| "default".into()))
        .bind(hash_key(secret))
        .bind(hint(secret))
        .bind(new.quota_nano.is_some() as i64)
        .bind(new.quota_nano.unwrap_or(0))
        .bind(new.expires_at)
        .bind(to_json(&new.models))
        .bind(to_json(&new.ip_allow))
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(|e| StoreError::from_write(e, "this key"))?;
        self.key(&id).await?.ok_or(StoreError::NotFound("key"))
    }

    pub async fn key(&self, id: &str) -> crate::Result<Option<ApiKey>> {
        let sql = format!("SELECT {KEY_COLS} FROM api_keys WHERE id = $1");
        Ok(sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn key_by_secret(&self, secret: &str) -> crate::Result<Option<ApiKey>> {
        let sql = format!("SELECT {KEY_COLS} FROM api_keys WHERE key_hash = $1");
        Ok(sqlx::query_as(&sql)
            .bind(hash_key(secret))
            .fetch_optional(&self.pool)
            .await?)
    }

    /// All keys, or one user's.
    pub async fn keys(&self, user_id: Option<&str>) -> crate::Result<Vec<ApiKey>> {
        let filter = if user_id.is_some() {
            " WHERE user_id = $1"
        } else {
            ""
        };
        let sql = format!("SELECT {KEY_COLS} FROM api_keys{filter} ORDER BY created_at, id");
        let mut q = sqlx::query_as(&sql);
        if let Some(u) = user_id {
            q = q.bind(u);
        }
        Ok(q.fetch_all(&self.pool).await?)
    }

    pub async fn update_key(&self, id: &str, p: &KeyPatch) -> crate::Result<ApiKey> {
        let cur = self.key(id).await?.ok_or(StoreError::NotFound("key"))?;
        let (limited, remaining) = match p.quota_nano {
            None => (cur.quota_limited, cur.quota_remaining),
            Some(None) => (0, 0),
            Some(Some(q)) => {
                validate(Some(q))?;
                (1, q)
            }
        };
        sqlx::query(
            "UPDATE api_keys SET name = $1, quota_limited = $2, quota_remaining = $3, \
             expires_at = $4, models = $5, ip_allow = $6, enabled = $7 WHERE id = $8",
        )
        .bind(p.name.clone().unwrap_or(cur.name))
        .bind(limited)
        .bind(remaining)
        .bind(p.expires_at.unwrap_or(cur.expires_at))
        .bind(p.models.as_ref().map(to_json).unwrap_or(cur.models))
        .bind(p.ip_allow.as_ref().map(to_json).unwrap_or(cur.ip_allow))
        .bind(p.enabled.map(i64::from).unwrap_or(cur.enabled))
        .bind(id)
        .execute(&self.pool)
        .await?;
        self.key(id).await?.ok_or(StoreError::NotFound("key"))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn key_shape() {
        let k = super::generate_key();
        assert_eq!(k.len(), 51);
        assert!(k.starts_with("sk-"));
        assert!(k[3..].chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(k, super::generate_key());
        assert_eq!(super::hash_key(&k).len(), 64);
        assert!(!super::hint(&k).contains(&k[7..47]));
    }

    #[test]
    fn key_hash_is_hex_sha256() {
        // FIPS 180-2's example: keys hashed before a change must still be found after it.
        assert_eq!(
            super::hash_key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}

//! The TOML file: gateway settings plus channels and prices, applied at every start. Applying
//! is idempotent: a channel is matched by name and updated, a price by model and replaced.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context};
use serde::Deserialize;
use switchyard_store::{ChannelWrite, Price, Store};

use crate::price::usd_to_nano;
use crate::secret::MasterKey;
use crate::state::Settings;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub gateway: Settings,
    #[serde(default)]
    pub channels: Vec<ChannelConfig>,
    #[serde(default)]
    pub prices: Vec<PriceConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelConfig {
    pub name: String,
    #[serde(default = "default_kind")]
    pub kind: String,
    /// May be left out for a preset kind (`deepseek`, `qwen`, …): its URL is filled in.
    #[serde(default)]
    pub base_url: String,
    #[serde(default)]
    pub keys: Vec<String>,
    /// Name of an env var holding comma-separated keys (keeps secrets out of the file).
    pub keys_env: Option<String>,
    #[serde(default)]
    pub models: Vec<String>,
    #[serde(default)]
    pub model_map: BTreeMap<String, String>,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub priority: i64,
    #[serde(default = "one")]
    pub weight: i64,
    #[serde(default = "yes")]
    pub enabled: bool,
    pub test_model: Option<String>,
}

/// Prices in USD as people write them: per 1M tokens, or per call.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceConfig {
    pub model: String,
    #[serde(default)]
    pub input_per_mtok: f64,
    #[serde(default)]
    pub output_per_mtok: f64,
    pub cached_input_per_mtok: Option<f64>,
    #[serde(default)]
    pub per_call: f64,
    /// Per second of generated video.
    #[serde(default)]
    pub per_second: f64,
    #[serde(default)]
    pub free: bool,
}

fn default_kind() -> String {
    "openai".into()
}
fn one() -> i64 {
    1
}
fn yes() -> bool {
    true
}

impl FileConfig {
    pub fn read(path: &Path) -> anyhow::Result<FileConfig> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    pub async fn apply(&self, store: &Store, master: &MasterKey) -> anyhow::Result<()> {
        for c in &self.channels {
            apply_channel(store, master, c)
                .await
                .with_context(|| format!("channel {:?}", c.name))?;
        }
        for p in &self.prices {
            store
                .upsert_price(&p.to_price()?)
                .await
                .with_context(|| format!("price for {:?}", p.model))?;
        }
        Ok(())
    }
}

impl PriceConfig {
    pub fn to_price(&self) -> anyhow::Result<Price> {
        let n = |v: f64| usd_to_nano(v).map_err(anyhow::Error::msg);
        Ok(Price {
            model: self.model.clone(),
            input_per_mtok: n(self.input_per_mtok)?,
            output_per_mtok: n(self.output_per_mtok)?,
            cached_per_mtok: self.cached_input_per_mtok.map(n).transpose()?,
            per_call: n(self.per_call)?,
            per_second: n(self.per_second)?,
            free: self.free as i64,
            updated_at: 0,
        })
    }
}

async fn apply_channel(store: &Store, master: &MasterKey, c: &ChannelConfig) -> anyhow::Result<()> {
    let mut keys = c.keys.clone();
    if let Some(var) = &c.keys_env {
        let Ok(v) = std::env::var(var) else {
            bail!("keys_env names {var}, which is not set")
        };
        keys.extend(
            v.split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(String::from),
        );
    }
    if !crate::catalog::known_kind(&c.kind) {
        bail!(
            "kind {:?} is not one of {:?}",
            c.kind,
            crate::catalog::channel_kinds()
        );
    }
    let Some(base_url) = crate::catalog::base_url_or_preset(&c.kind, &c.base_url) else {
        bail!("base_url is required for kind {:?}", c.kind)
    };
    let write = ChannelWrite {
        name: c.name.clone(),
        kind: c.kind.clone(),
        base_url,
        keys_enc: keys.iter().map(|k| master.encrypt(k)).collect(),
        models: c.models.clone(),
        model_map: c.model_map.clone(),
        groups: if c.groups.is_empty() {
            vec!["default".into()]
        } else {
            c.groups.clone()
        },
        priority: c.priority,
        weight: c.weight,
        enabled: c.enabled,
        test_model: c.test_model.clone(),
    };
    match store.channel_by_name(&c.name).await? {
        Some(existing) => store.update_channel(&existing.id, &write).await?,
        None => store.create_channel(&write).await?,
    };
    Ok(())
}

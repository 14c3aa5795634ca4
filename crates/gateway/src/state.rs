//! What every handler shares.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use switchyard_store::Store;

use crate::catalog::Catalogs;
use crate::route::{Health, HealthSettings};
use crate::secret::MasterKey;
use crate::upstream::{Timeouts, Upstream};
use crate::usage_log::UsageLogger;

/// Tunables, from the `[gateway]` table of the TOML file (all optional).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Largest request body accepted, bytes.
    pub max_body_bytes: usize,
    /// How many further channels to try after the first fails (retryable failures only).
    pub retries: usize,
    pub connect_timeout_secs: u64,
    /// Time allowed for the provider's response headers (and so the first byte of a stream).
    pub first_byte_timeout_secs: u64,
    /// Longest pause between two chunks of a provider's answer.
    pub idle_timeout_secs: u64,
    /// Output tokens held for a request that sets no `max_tokens`.
    pub default_max_output_tokens: i64,
    /// Re-read keys, channels and prices from the database this often (multi-process setups).
    pub catalog_refresh_secs: u64,
    pub health: HealthSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_body_bytes: 32 * 1024 * 1024,
            retries: 2,
            connect_timeout_secs: 10,
            first_byte_timeout_secs: 120,
            idle_timeout_secs: 300,
            default_max_output_tokens: 4096,
            catalog_refresh_secs: 10,
            health: HealthSettings::default(),
        }
    }
}

impl Settings {
    pub fn timeouts(&self) -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(self.connect_timeout_secs),
            first_byte: Duration::from_secs(self.first_byte_timeout_secs),
            idle: Duration::from_secs(self.idle_timeout_secs),
        }
    }
}

pub struct Shared {
    pub store: Store,
    pub catalog: Catalogs,
    pub master: MasterKey,
    pub upstream: Upstream,
    pub health: Health,
    pub logger: UsageLogger,
    pub settings: Settings,
}

pub type AppState = Arc<Shared>;

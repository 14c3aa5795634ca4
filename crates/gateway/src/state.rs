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
    pub connect_timeout_secs: f64,
    /// Time allowed for the provider's response headers (and so the first byte of a stream).
    pub first_byte_timeout_secs: f64,
    /// Longest pause between two chunks of a provider's answer.
    pub idle_timeout_secs: f64,
    /// Output tokens held for a request that sets no `max_tokens`.
    pub default_max_output_tokens: i64,
    /// Re-read keys, channels and prices from the database this often (multi-process setups).
    pub catalog_refresh_secs: u64,
    pub health: HealthSettings,
    /// Behind a reverse proxy: take the caller's address (for key IP allow-lists) from the
    /// first `X-Forwarded-For` entry. Only turn on when the proxy sets that header itself.
    pub trust_forwarded_for: bool,
    /// The URL callers reach this gateway at, for links it hands out (video content).
    /// Default: `http://<listen address>`.
    pub public_url: Option<String>,
    pub tasks: TaskSettings,
    /// Money moved from a user's balance into this process's in-memory budget at a time,
    /// nano-dollars (never more than the balance or the key's quota holds).
    pub lease_nano: i64,
    /// How often budgets' spending is written to the database, milliseconds.
    pub budget_flush_ms: u64,
    /// A budget unused this long gives its lease back, seconds.
    pub budget_idle_secs: f64,
}

/// The `[gateway.tasks]` table: asynchronous tasks (video).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct TaskSettings {
    /// How often a running task's provider is asked for news.
    pub poll_interval_secs: f64,
    /// Polls that fail back off, doubling, up to this.
    pub max_backoff_secs: f64,
    /// A task not finished after this long is failed and refunded.
    pub timeout_secs: f64,
    /// How long a non-streamed chat request waits for its video before answering with the task id.
    pub chat_wait_secs: f64,
    /// Addresses (CIDR) the gateway may fetch from or deliver webhooks to although they are
    /// private or loopback. Empty: only public addresses.
    pub allow_private_networks: Vec<String>,
}

impl Default for TaskSettings {
    fn default() -> Self {
        TaskSettings {
            poll_interval_secs: 3.0,
            max_backoff_secs: 60.0,
            timeout_secs: 86_400.0,
            chat_wait_secs: 600.0,
            allow_private_networks: Vec::new(),
        }
    }
}

impl TaskSettings {
    pub fn poll_interval_ms(&self) -> i64 {
        (self.poll_interval_secs.max(0.05) * 1000.0) as i64
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_body_bytes: 32 * 1024 * 1024,
            retries: 2,
            connect_timeout_secs: 10.0,
            first_byte_timeout_secs: 120.0,
            idle_timeout_secs: 300.0,
            default_max_output_tokens: 4096,
            catalog_refresh_secs: 10,
            health: HealthSettings::default(),
            trust_forwarded_for: false,
            public_url: None,
            tasks: TaskSettings::default(),
            lease_nano: 1_000_000_000,
            budget_flush_ms: 100,
            budget_idle_secs: 30.0,
        }
    }
}

impl Settings {
    pub fn timeouts(&self) -> Timeouts {
        let secs =
            |s: f64| Duration::try_from_secs_f64(s.max(0.001)).unwrap_or(Duration::from_secs(3600));
        Timeouts {
            connect: secs(self.connect_timeout_secs),
            first_byte: secs(self.first_byte_timeout_secs),
            idle: secs(self.idle_timeout_secs),
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
    pub guard: crate::netguard::NetGuard,
    pub budgets: Arc<crate::budget::Budgets>,
    /// Failed console sign-ins, for throttling.
    pub logins: crate::session::Throttle,
}

impl Shared {
    /// The gateway's own base URL, without a trailing slash.
    pub fn public_url(&self) -> &str {
        self.settings
            .public_url
            .as_deref()
            .unwrap_or("")
            .trim_end_matches('/')
    }
}

pub type AppState = Arc<Shared>;

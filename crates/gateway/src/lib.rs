//! The Switchyard gateway: an OpenAI-compatible relay in front of many upstream channels,
//! with keys, quotas, prices, holds and a usage log.
//!
//! The path of a request: `listen` (the connection) → `app` (routes, request id, CORS) →
//! `auth` (key → principal) → `relay` (decode, hold, route, call the
//! provider through `upstream`, meter, settle, log) → the caller's format out. See
//! ARCHITECTURE.md for the picture.

pub mod admin;
pub mod app;
pub mod auth;
pub mod budget;
pub mod catalog;
pub mod config;
pub mod console;
pub mod demo;
pub mod error;
pub mod listen;
pub mod meter;
pub mod netguard;
pub mod price;
pub mod relay;
pub mod route;
pub mod secret;
pub mod session;
pub mod state;
pub mod task;
pub mod upstream;
pub mod usage_log;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use switchyard_store::{NewUser, Store};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::catalog::Catalogs;
use crate::config::FileConfig;
use crate::route::Health;
use crate::secret::MasterKey;
use crate::state::{AppState, Shared};
use crate::upstream::Upstream;
use crate::usage_log::UsageLogger;

/// How to start a gateway (the `serve` command's flags).
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub listen: String,
    pub data_dir: PathBuf,
    /// Default: SQLite in the data dir.
    pub database_url: Option<String>,
    pub config: Option<PathBuf>,
    pub demo: bool,
    /// Make sure a root user exists whose API key is exactly this.
    pub root_key: Option<String>,
    pub master_key: Option<String>,
}

pub struct Gateway {
    pub state: AppState,
    pub listener: TcpListener,
    pub addr: SocketAddr,
    /// A root key created on this start (shown once), when none was given.
    pub new_root_key: Option<String>,
}

/// Holds kept longer than this are from a process that died mid-request.
const STALE_HOLD_MS: i64 = 6 * 3600 * 1000;

impl Gateway {
    pub async fn build(opts: Options) -> anyhow::Result<Gateway> {
        std::fs::create_dir_all(&opts.data_dir)
            .with_context(|| format!("creating data dir {}", opts.data_dir.display()))?;
        let url = opts.database_url.clone().unwrap_or_else(|| {
            format!("sqlite://{}", opts.data_dir.join("switchyard.db").display())
        });
        let store = Store::connect(&url).await.context("opening the database")?;
        let master = MasterKey::load(opts.master_key.as_deref(), &opts.data_dir)
            .context("loading the master key")?;
        let file = match &opts.config {
            Some(p) => FileConfig::read(p)?,
            None => FileConfig::default(),
        };
        if opts.demo {
            demo::install(&store, &master)
                .await
                .context("starting the demo providers")?;
        }
        file.apply(&store, &master).await?;
        let new_root_key = ensure_root(&store, opts.root_key.as_deref(), opts.demo).await?;
        let released = store.release_stale_holds(STALE_HOLD_MS).await?;
        if released > 0 {
            tracing::warn!(released, "released holds left by an earlier process");
        }
        let listener = TcpListener::bind(&opts.listen)
            .await
            .with_context(|| format!("binding {}", opts.listen))?;
        let addr = listener.local_addr()?;
        let mut settings = file.gateway;
        settings
            .public_url
            .get_or_insert_with(|| format!("http://{addr}"));
        let (logger, _writer) = UsageLogger::start(store.clone());
        let state = Arc::new(Shared {
            catalog: Catalogs::new(store.clone(), master.clone()).await?,
            upstream: Upstream::new(settings.timeouts(), upstream::proxy_configured()),
            health: Health::new(settings.health),
            guard: netguard::NetGuard::new(&settings.tasks.allow_private_networks),
            budgets: Arc::new(budget::Budgets::new(
                store.clone(),
                settings.lease_nano,
                Duration::try_from_secs_f64(settings.budget_idle_secs.max(0.0))
                    .unwrap_or(Duration::from_secs(30)),
            )),
            store,
            master,
            logger,
            settings,
            logins: Default::default(),
        });
        Ok(Gateway {
            state,
            listener,
            addr,
            new_root_key,
        })
    }

    /// Serve until `shutdown` resolves, then finish in-flight requests and flush the log.
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        // Dropping this future (a crash, a test's kill) must stop the jobs too.
        let _jobs = AbortOnDrop(vec![
            spawn_background(self.state.clone()),
            task::engine::spawn(self.state.clone()),
            task::webhook::spawn(self.state.clone()),
            budget::spawn_flusher(
                self.state.budgets.clone(),
                Duration::from_millis(self.state.settings.budget_flush_ms.max(1)),
            ),
        ]);
        listen::serve(self.listener, app::service(self.state.clone()), shutdown).await;
        // Requests in flight have finished: write what they logged before exiting.
        let _ = tokio::time::timeout(Duration::from_secs(5), self.state.logger.flush()).await;
        // And write this process's spending, giving every unspent lease back.
        match tokio::time::timeout(Duration::from_secs(5), self.state.budgets.return_all()).await {
            Ok(Err(e)) => tracing::error!(error = %e, "returning budgets failed"),
            Err(_) => tracing::error!("returning budgets timed out"),
            Ok(Ok(())) => {}
        }
        Ok(())
    }
}

struct AbortOnDrop(Vec<JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.iter().for_each(JoinHandle::abort);
    }
}

/// Periodic work: re-read the catalog (other processes may have changed it) and release
/// holds abandoned by a crashed process.
fn spawn_background(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        let every = Duration::from_secs(state.settings.catalog_refresh_secs.max(1));
        let mut tick = tokio::time::interval(every);
        let mut n: u64 = 0;
        loop {
            tick.tick().await;
            n += 1;
            if let Err(e) = state.catalog.reload().await {
                tracing::error!(error = %e, "catalog refresh failed");
            }
            if n.is_multiple_of(360) {
                if let Err(e) = state.store.release_stale_holds(STALE_HOLD_MS).await {
                    tracing::error!(error = %e, "stale hold sweep failed");
                }
            }
        }
    })
}

/// Make sure there is a root user. With `root_key`, that exact key works for it; without,
/// the first start creates one key and returns it to be shown once.
async fn ensure_root(
    store: &Store,
    root_key: Option<&str>,
    demo: bool,
) -> anyhow::Result<Option<String>> {
    let existing = store
        .users(i64::MAX, 0)
        .await?
        .into_iter()
        .find(|u| u.role == "root");
    let (root, created) = match existing {
        Some(u) => (u, false),
        None => {
            // Demo users get play money, so the first chat works at once.
            let balance_nano = if demo { 100_000_000_000 } else { 0 };
            let new = NewUser {
                name: "root".into(),
                role: Some("root".into()),
                group: None,
                balance_nano,
            };
            (store.create_user(&new).await?, true)
        }
    };
    if let Some(secret) = root_key {
        if !secret.starts_with("sk-") {
            anyhow::bail!("SWITCHYARD_ROOT_KEY must start with sk-");
        }
        store.ensure_key(&root.id, secret).await?;
        return Ok(None);
    }
    if created {
        let new = switchyard_store::NewKey {
            name: Some("root key".into()),
            ..Default::default()
        };
        let (_, secret) = store.create_key(&root.id, &new).await?;
        return Ok(Some(secret));
    }
    Ok(None)
}

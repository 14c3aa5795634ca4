//! Switchyard simulator: a deterministic fake of upstream AI providers.
//!
//! Used by the gateway's tests, by `switchyard serve --demo` (in process) and
//! by `switchyard sim --listen ADDR`. Replies are derived from the request
//! only, and faults (errors, latency, cut streams, missing usage, failed
//! tasks) are driven by a spec set on the [`Sim`], the `x-sim-fault` header
//! or the model name.
//!
//! Besides the OpenAI routes it speaks the video-task APIs of Luma (official
//! and legacy relay), Runway, Kling, OpenAI Videos and Veo, whose tasks move
//! through their states on a clock ([`Sim::set_task_timing`]) and finish
//! with links to a real MP4 and JPEGs under `/sim/files/`. What the gateway
//! sent is kept for assertions ([`Sim::last_body`], [`Sim::last_header`]).

#[allow(clippy::result_large_err)]
mod anthropic;
mod assets;
mod assistant;
mod fault;
#[allow(clippy::result_large_err)]
mod gemini;
mod journal;
// Handlers return `Result<_, Response>` to early-return errors with `?`;
// boxing the Response would only add noise for no measurable gain.
#[allow(clippy::result_large_err)]
mod openai;
mod reply;
mod sse;
mod stats;
#[allow(clippy::result_large_err)]
mod video;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::serve::ListenerExt;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::net::TcpListener;

use fault::Faults;
use journal::Journal;
use stats::Stats;
use video::{Tasks, Timing};

pub use openai::{CHAT_CENTS, CREDIT_USD};
/// The secret the simulator verifies Kling JWTs with.
pub use video::KLING_SECRET;

/// Audio uploads can be large; the default 2 MB axum limit is too small.
const BODY_LIMIT: usize = 64 * 1024 * 1024;

/// Handle to one simulator: default faults and counters. Cheap to clone.
#[derive(Clone)]
pub struct Sim {
    shared: Arc<Shared>,
}

struct Shared {
    /// The default spec as given, and its parsed form.
    defaults: RwLock<(String, Faults)>,
    stats: Stats,
    journal: Journal,
    tasks: Tasks,
    next_id: AtomicU64,
}

impl Default for Sim {
    fn default() -> Self {
        Sim::new()
    }
}

impl Sim {
    pub fn new() -> Sim {
        let shared = Shared {
            defaults: RwLock::new((String::new(), Faults::default())),
            stats: Stats::default(),
            journal: Journal::default(),
            tasks: Tasks::default(),
            next_id: AtomicU64::new(1),
        };
        Sim {
            shared: Arc::new(shared),
        }
    }

    /// All routes, with state attached.
    pub fn router(&self) -> Router {
        Router::new()
            .merge(openai::routes())
            .merge(anthropic::routes())
            .merge(gemini::routes())
            .merge(video::routes())
            .route("/sim/faults", get(get_faults).post(post_faults))
            .route("/sim/stats", get(get_stats))
            .route("/sim/files/image.png", get(assets::image_png))
            .route("/sim/files/video.mp4", get(assets::video_mp4))
            .route("/sim/files/thumbnail.jpg", get(assets::thumbnail_jpg))
            .route("/sim/files/last_frame.jpg", get(assets::last_frame_jpg))
            .layer(middleware::from_fn_with_state(self.clone(), record_request))
            .layer(middleware::from_fn_with_state(self.clone(), count_request))
            .layer(DefaultBodyLimit::max(BODY_LIMIT))
            .with_state(self.clone())
    }

    /// Default fault spec applied to every request; `""` clears it.
    pub fn set_faults(&self, spec: &str) {
        let mut defaults = self
            .shared
            .defaults
            .write()
            .unwrap_or_else(|e| e.into_inner());
        *defaults = (spec.to_owned(), Faults::parse(spec));
    }

    /// The default fault spec as last set.
    pub fn faults(&self) -> String {
        self.defaults().0
    }

    /// How many requests hit `path` (e.g. `/v1/chat/completions`).
    pub fn requests(&self, path: &str) -> u64 {
        self.shared.stats.get(path)
    }

    /// Queued and running times (ms) of video tasks created from now on;
    /// the default is 1000/3000. A task's `task_ms=Q:R` fault overrides it.
    pub fn set_task_timing(&self, queued_ms: u64, running_ms: u64) {
        let timing = Timing {
            queued_ms,
            running_ms,
        };
        self.shared.tasks.set_timing(timing);
    }

    /// The most recent JSON body received on a path starting with
    /// `path_prefix`, e.g. `last_body("/v1/image_to_video")`. Multipart
    /// bodies come as an object of their fields, files as
    /// `{filename, content_type, size}`.
    pub fn last_body(&self, path_prefix: &str) -> Option<Value> {
        self.shared.journal.last_body(path_prefix)
    }

    /// A header of the most recent request on a path starting with
    /// `path_prefix` (`None` if that request did not send it).
    pub fn last_header(&self, path_prefix: &str, header: &str) -> Option<String> {
        self.shared.journal.last_header(path_prefix, header)
    }

    /// Effective faults for one request: defaults, then header, then model.
    pub(crate) fn faults_for(&self, header: Option<&str>, model: Option<&str>) -> Faults {
        let mut faults = self.defaults().1;
        for spec in [header, model].into_iter().flatten() {
            faults.merge(spec);
        }
        faults
    }

    pub(crate) fn tasks(&self) -> &Tasks {
        &self.shared.tasks
    }

    /// Unique, increasing number for response ids.
    pub(crate) fn next_id(&self) -> u64 {
        self.shared.next_id.fetch_add(1, Ordering::Relaxed)
    }

    fn defaults(&self) -> (String, Faults) {
        let defaults = self
            .shared
            .defaults
            .read()
            .unwrap_or_else(|e| e.into_inner());
        defaults.clone()
    }
}

/// Bind `addr`, serve in a background task and return the bound address.
pub async fn spawn(addr: &str) -> std::io::Result<(SocketAddr, Sim)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let sim = Sim::new();
    let app = sim.router();
    tokio::spawn(async move {
        if let Err(err) = run(listener, app).await {
            tracing::error!(%err, "sim server stopped");
        }
    });
    Ok((local, sim))
}

/// Serve a fresh simulator on `addr` until the process ends.
pub async fn serve(addr: &str) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    tracing::info!(addr = %listener.local_addr()?, "switchyard sim listening");
    run(listener, Sim::new().router()).await
}

async fn run(listener: TcpListener, app: Router) -> std::io::Result<()> {
    // Nagle would add latency to small SSE chunks and skew benchmarks.
    let listener = listener.tap_io(|tcp| {
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!(%err, "failed to set TCP_NODELAY");
        }
    });
    axum::serve(listener, app).await
}

async fn count_request(State(sim): State<Sim>, req: Request, next: Next) -> Response {
    sim.shared.stats.hit(req.uri().path());
    next.run(req).await
}

async fn record_request(State(sim): State<Sim>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let headers = req.headers().clone();
    match journal::capture(req, BODY_LIMIT).await {
        Ok((req, body)) => {
            sim.shared.journal.record(&path, &headers, body);
            next.run(req).await
        }
        Err(resp) => resp,
    }
}

#[derive(Deserialize)]
struct FaultsBody {
    #[serde(default)]
    spec: String,
}

async fn get_faults(State(sim): State<Sim>) -> Json<Value> {
    Json(json!({ "spec": sim.faults() }))
}

async fn post_faults(State(sim): State<Sim>, Json(body): Json<FaultsBody>) -> Json<Value> {
    sim.set_faults(&body.spec);
    Json(json!({ "spec": sim.faults() }))
}

async fn get_stats(State(sim): State<Sim>) -> Json<Value> {
    Json(json!(sim.shared.stats.snapshot()))
}

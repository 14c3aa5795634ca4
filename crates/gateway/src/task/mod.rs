//! Asynchronous generation (video now; music and images reuse it) as durable tasks.
//!
//! ```text
//! front door (chat, luma, runway, kling, openai, unified) ─▶ VideoRequest
//!   ─▶ submit: price, hold, task row (durable), provider.submit with failover
//! engine: lease due tasks ─▶ provider.poll ─▶ progress / finish (CAS + settle once) ─▶ webhook
//! ```
//! Every front door decodes into the provider-neutral `VideoRequest`, and every provider
//! encodes from it, so any front door reaches any video channel whose parameters map.

pub mod chat;
pub mod engine;
pub mod front;
pub mod provider;
pub mod submit;
pub mod webhook;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a caller asked for, in no provider's terms.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VideoRequest {
    pub prompt: String,
    /// Start frame: an http(s) URL or a `data:` URI, handed to the provider as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// End frame.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_end: Option<String>,
    /// Seconds of video.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<u32>,
    /// `16:9`, `9:16`, `1:1`…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aspect_ratio: Option<String>,
    /// `540p`, `720p`, `1080p`…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub loop_video: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub negative_prompt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
}

/// The states every provider's are mapped onto (see task-apis.md, "Unified state mapping").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskState {
    Submitting,
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl TaskState {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Submitting => "submitting",
            TaskState::Queued => "queued",
            TaskState::Running => "running",
            TaskState::Succeeded => "succeeded",
            TaskState::Failed => "failed",
            TaskState::Cancelled => "cancelled",
        }
    }
    pub fn parse(s: &str) -> TaskState {
        match s {
            "submitting" => TaskState::Submitting,
            "queued" => TaskState::Queued,
            "running" => TaskState::Running,
            "succeeded" => TaskState::Succeeded,
            "cancelled" => TaskState::Cancelled,
            _ => TaskState::Failed,
        }
    }
    pub fn is_final(self) -> bool {
        matches!(
            self,
            TaskState::Succeeded | TaskState::Failed | TaskState::Cancelled
        )
    }
}

/// A finished video, as every front door reports it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VideoResult {
    pub video_url: String,
    #[serde(default)]
    pub thumbnail_url: Option<String>,
    #[serde(default)]
    pub last_frame_url: Option<String>,
    #[serde(default)]
    pub width: Option<u32>,
    #[serde(default)]
    pub height: Option<u32>,
    /// Seconds.
    #[serde(default)]
    pub duration: Option<f64>,
}

/// What one poll of the provider found.
#[derive(Debug, Clone)]
pub struct Polled {
    pub state: TaskState,
    /// 0–100 where the provider tells.
    pub progress: Option<i64>,
    pub result: Option<VideoResult>,
    pub error: Option<String>,
    pub raw: Value,
}

/// The provider accepted a task.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub upstream_id: String,
    /// What polling needs besides the id (e.g. Kling's path family).
    pub meta: Value,
    pub raw: Value,
}

/// A stored task with its JSON columns decoded, for the renderers.
pub struct TaskView<'a> {
    pub task: &'a switchyard_store::Task,
    pub state: TaskState,
    pub request: VideoRequest,
    pub result: Option<VideoResult>,
}

impl<'a> TaskView<'a> {
    pub fn new(task: &'a switchyard_store::Task) -> Self {
        TaskView {
            task,
            state: TaskState::parse(&task.state),
            request: serde_json::from_str(&task.request).unwrap_or_default(),
            result: task
                .result
                .as_deref()
                .and_then(|r| serde_json::from_str(r).ok()),
        }
    }
}

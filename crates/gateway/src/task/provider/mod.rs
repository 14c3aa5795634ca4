//! The video providers behind task channels, one module each. Every provider encodes from the
//! neutral `VideoRequest`, says up front which parameters it cannot honour, and maps its own
//! states onto `TaskState`.

mod kling;
mod luma;
mod openai_video;
mod runway;
mod veo;

use serde_json::Value;

use super::{Accepted, Polled, VideoRequest};
use crate::catalog::ChannelEntry;
use crate::upstream::{Failure, Upstream};

/// Channel kinds that run video tasks.
pub const VIDEO_KINDS: &[&str] = &[
    "runway",
    "luma",
    "luma-legacy",
    "kling",
    "openai-video",
    "veo",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Runway,
    /// Luma's official Dream Machine API.
    Luma,
    /// The older relay format in front of Luma (`/luma/generations`).
    LumaLegacy,
    Kling,
    /// OpenAI's Videos API (Sora).
    OpenAiVideo,
    /// Google Veo through the Gemini API.
    Veo,
}

/// Where a provider call goes: the channel (base URL, keys) and the provider's model name.
pub struct Target<'a> {
    pub upstream: &'a Upstream,
    pub channel: &'a ChannelEntry,
    pub model: &'a str,
}

impl Target<'_> {
    pub fn url(&self, path: &str) -> String {
        crate::upstream::join_url(&self.channel.base_url, path)
    }
    pub fn key(&self) -> &str {
        self.channel
            .pick_key()
            .map(|k| k.expose())
            .unwrap_or_default()
    }
}

impl Provider {
    pub fn from_kind(kind: &str) -> Option<Provider> {
        Some(match kind {
            "runway" => Provider::Runway,
            "luma" => Provider::Luma,
            "luma-legacy" => Provider::LumaLegacy,
            "kling" => Provider::Kling,
            "openai-video" => Provider::OpenAiVideo,
            "veo" => Provider::Veo,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Provider::Runway => "Runway",
            Provider::Luma | Provider::LumaLegacy => "Luma",
            Provider::Kling => "Kling",
            Provider::OpenAiVideo => "OpenAI Videos",
            Provider::Veo => "Veo",
        }
    }

    /// Providers that take images as bytes: the gateway downloads (guarded) and inlines them.
    pub fn wants_inline_images(self) -> bool {
        matches!(self, Provider::OpenAiVideo | Provider::Veo)
    }

    /// Seconds of video made when the request does not say (what is held and charged).
    pub fn default_duration(self) -> u32 {
        match self {
            Provider::OpenAiVideo => 4,
            Provider::Veo => 8,
            _ => 5,
        }
    }

    /// A parameter this provider cannot honour, named, or `Ok`.
    pub fn check(self, r: &VideoRequest) -> Result<(), String> {
        match self {
            Provider::Runway => runway::check(r),
            Provider::Luma | Provider::LumaLegacy => luma::check(r),
            Provider::Kling => kling::check(r),
            Provider::OpenAiVideo => openai_video::check(r),
            Provider::Veo => veo::check(r),
        }
    }

    pub async fn submit(self, t: &Target<'_>, r: &VideoRequest) -> Result<Accepted, Failure> {
        match self {
            Provider::Runway => runway::submit(t, r).await,
            Provider::Luma => luma::submit_official(t, r).await,
            Provider::LumaLegacy => luma::submit_legacy(t, r).await,
            Provider::Kling => kling::submit(t, r).await,
            Provider::OpenAiVideo => openai_video::submit(t, r).await,
            Provider::Veo => veo::submit(t, r).await,
        }
    }

    pub async fn poll(self, t: &Target<'_>, id: &str, meta: &Value) -> Result<Polled, Failure> {
        match self {
            Provider::Runway => runway::poll(t, id).await,
            Provider::Luma => luma::poll_official(t, id).await,
            Provider::LumaLegacy => luma::poll_legacy(t, id).await,
            Provider::Kling => kling::poll(t, id, meta).await,
            Provider::OpenAiVideo => openai_video::poll(t, id).await,
            Provider::Veo => veo::poll(t, id).await,
        }
    }

    /// Check a channel's credentials without making anything: ask for a task that cannot
    /// exist. "Not found" means the key was accepted.
    pub async fn probe(self, t: &Target<'_>) -> Result<(), Failure> {
        let id = match self {
            Provider::Veo => format!("models/{}/operations/switchyard-probe", t.model),
            Provider::Kling | Provider::OpenAiVideo => "switchyard-probe".to_string(),
            _ => "00000000-0000-4000-8000-000000000000".to_string(),
        };
        match self
            .poll(t, &id, &serde_json::json!({"family": "text2video"}))
            .await
        {
            Err(f) if f.status == Some(axum::http::StatusCode::NOT_FOUND) => Ok(()),
            Err(f) => Err(f),
            Ok(_) => Ok(()),
        }
    }

    /// Ask the provider to stop, where it can; elsewhere the task is only dropped here.
    pub async fn cancel(self, t: &Target<'_>, id: &str) -> Result<(), Failure> {
        match self {
            Provider::Runway => runway::cancel(t, id).await,
            _ => Ok(()),
        }
    }

    /// Where the finished video can be fetched, when it needs the channel's credentials
    /// (the gateway then serves it at `/v1/videos/{task}/content`).
    pub fn content_request(
        self,
        t: &Target<'_>,
        id: &str,
        raw: &Value,
        variant: &str,
    ) -> Option<reqwest::RequestBuilder> {
        match self {
            Provider::OpenAiVideo => Some(openai_video::content(t, id, variant)),
            Provider::Veo => veo::content(t, raw),
            _ => None,
        }
    }
}

/// Send and read a JSON answer.
pub(crate) async fn json_call(
    t: &Target<'_>,
    req: reqwest::RequestBuilder,
) -> Result<Value, Failure> {
    let resp = t.upstream.execute(req).await?;
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| Failure::transport(format!("reading the provider's answer: {e}")))?;
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| Failure::transport(format!("the provider's answer is not JSON: {e}")))
}

/// The provider answered 2xx but said no (Kling's non-zero codes): the caller's problem.
pub(crate) fn refused(message: String, raw: Value) -> Failure {
    Failure {
        status: Some(axum::http::StatusCode::BAD_REQUEST),
        message,
        retryable: false,
        invalid_key: false,
        body: Some(raw),
    }
}

pub(crate) fn str_at<'a>(v: &'a Value, ptr: &str) -> Option<&'a str> {
    v.pointer(ptr).and_then(Value::as_str)
}

/// `16:9` → Runway's `1280:720` and friends: one table for the providers that want pixels.
pub(crate) fn ratio_pixels(aspect: &str) -> Option<(u32, u32)> {
    Some(match aspect {
        "16:9" => (1280, 720),
        "9:16" => (720, 1280),
        "1:1" => (960, 960),
        "4:3" => (1104, 832),
        "3:4" => (832, 1104),
        "21:9" => (1584, 672),
        _ => return None,
    })
}

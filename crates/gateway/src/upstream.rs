//! Calling a provider: one pooled HTTP client, the channel's base URL and key, and a verdict
//! on each failure (is it the channel's fault, and may the next channel be tried?).

use std::time::Duration;

use axum::http::StatusCode;
use bytes::Bytes;
use serde_json::Value;

#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    /// From sending the request to the response headers.
    pub first_byte: Duration,
    /// Between two chunks of a body.
    pub idle: Duration,
}

pub struct Upstream {
    client: reqwest::Client,
    timeouts: Timeouts,
}

/// How a provider takes its key (none is sent when the channel has none).
#[derive(Debug, Clone, Copy)]
pub enum Auth<'a> {
    /// `Authorization: Bearer KEY` (OpenAI and the compatible providers).
    Bearer(Option<&'a str>),
    /// A header of its own: `x-api-key` (Anthropic), `x-goog-api-key` (Gemini), `api-key` (Azure).
    Header(&'static str, Option<&'a str>),
}

/// A body ready to send; multipart forms are rebuilt per attempt (a form can be sent once).
pub enum Outgoing {
    Json(Bytes),
    Form(Vec<FormPart>),
}

#[derive(Clone)]
pub struct FormPart {
    pub name: String,
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub data: Bytes,
}

/// Why an attempt failed, and what that means for the next one.
#[derive(Debug, Clone)]
pub struct Failure {
    pub status: Option<StatusCode>,
    pub message: String,
    /// Another channel may well succeed (connect error, timeout, 429, 5xx, bad channel key).
    pub retryable: bool,
    /// The channel's key was refused: disable the channel until an admin looks.
    pub invalid_key: bool,
    /// The upstream's own error body, for passing a caller's mistake back as the provider said it.
    pub body: Option<Value>,
}

impl Upstream {
    pub fn new(timeouts: Timeouts) -> Self {
        let client = reqwest::Client::builder()
            .tcp_nodelay(true)
            .connect_timeout(timeouts.connect)
            .read_timeout(timeouts.idle)
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(256)
            .user_agent(concat!("switchyard/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("HTTP client");
        Upstream { client, timeouts }
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// A POST of `body` to `url` with the channel's credentials as the provider wants them.
    pub fn post(&self, url: &str, auth: Auth<'_>, body: &Outgoing) -> reqwest::RequestBuilder {
        let mut req = self.client.post(url);
        req = match auth {
            Auth::Bearer(Some(k)) => req.bearer_auth(k),
            Auth::Header(name, Some(k)) => req.header(name, k),
            Auth::Bearer(None) | Auth::Header(_, None) => req,
        };
        match body {
            Outgoing::Json(b) => req
                .header("content-type", "application/json")
                .body(b.clone()),
            Outgoing::Form(parts) => req.multipart(build_form(parts)),
        }
    }

    /// Send any request to a provider under the first-byte timeout, with the same verdict on
    /// failure. `Ok` means a 2xx; its body is still unread.
    pub async fn execute(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, Failure> {
        let resp = match tokio::time::timeout(self.timeouts.first_byte, req.send()).await {
            Err(_) => {
                return Err(Failure::transport(format!(
                    "no response from the provider within {:?}",
                    self.timeouts.first_byte
                )))
            }
            Ok(Err(e)) => return Err(Failure::transport(describe(&e))),
            Ok(Ok(r)) => r,
        };
        if resp.status().is_success() {
            return Ok(resp);
        }
        Err(Failure::from_status(resp).await)
    }
}

fn build_form(parts: &[FormPart]) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new();
    for p in parts {
        let mut part = reqwest::multipart::Part::bytes(p.data.to_vec());
        if let Some(f) = &p.file_name {
            part = part.file_name(f.clone());
        }
        if let Some(ct) = &p.content_type {
            if let Ok(with) = part.mime_str(ct) {
                part = with;
            } else {
                part = reqwest::multipart::Part::bytes(p.data.to_vec());
            }
        }
        form = form.part(p.name.clone(), part);
    }
    form
}

/// `https://api.x.com` + `/v1/chat` — and an operator's `https://api.x.com/v1` too, or a
/// provider's own version (`…/api/paas/v4`, `…/api/v3`) in place of `/v1`.
pub fn join_url(base: &str, path: &str) -> String {
    let base = base.trim_end_matches('/');
    let versioned = base
        .rsplit_once("/v")
        .is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    match (versioned, path.strip_prefix("/v1/")) {
        (true, Some(rest)) => format!("{base}/{rest}"),
        _ => format!("{base}{path}"),
    }
}

/// reqwest's errors name the URL; say what happened without it.
fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_connect() {
        "could not connect to the provider"
    } else if e.is_timeout() {
        "the provider timed out"
    } else {
        "the request to the provider failed"
    };
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut last = None;
    while let Some(s) = src {
        last = Some(s.to_string());
        src = s.source();
    }
    match last {
        Some(cause) => format!("{what}: {cause}"),
        None => what.to_string(),
    }
}

impl Failure {
    pub fn transport(message: String) -> Failure {
        Failure {
            status: None,
            message,
            retryable: true,
            invalid_key: false,
            body: None,
        }
    }

    async fn from_status(resp: reqwest::Response) -> Failure {
        let status = resp.status();
        let raw = read_capped(resp, 64 * 1024).await;
        let body: Option<Value> = serde_json::from_slice(&raw).ok();
        let message = body
            .as_ref()
            .and_then(error_message)
            .unwrap_or_else(|| String::from_utf8_lossy(&raw).chars().take(500).collect());
        let invalid_key = status == StatusCode::UNAUTHORIZED
            || (status == StatusCode::FORBIDDEN && message.to_lowercase().contains("key"))
            || body.as_ref().is_some_and(|b| {
                b.pointer("/error/code").and_then(Value::as_str) == Some("invalid_api_key")
                    || switchyard_wire::gemini::is_invalid_key(b)
            });
        let retryable = invalid_key
            || status == StatusCode::TOO_MANY_REQUESTS
            || status.is_server_error()
            || status == StatusCode::REQUEST_TIMEOUT;
        Failure {
            status: Some(status),
            message,
            retryable,
            invalid_key,
            body,
        }
    }
}

async fn read_capped(mut resp: reqwest::Response, cap: usize) -> Vec<u8> {
    let mut out = Vec::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        out.extend_from_slice(&chunk);
        if out.len() >= cap {
            out.truncate(cap);
            break;
        }
    }
    out
}

/// The message inside an OpenAI-style (`error.message`), Anthropic-style or `{detail}` error.
pub fn error_message(v: &Value) -> Option<String> {
    v.pointer("/error/message")
        .or_else(|| v.get("message"))
        .or_else(|| v.get("detail"))
        .or_else(|| v.get("error"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    #[test]
    fn joins() {
        assert_eq!(
            super::join_url("http://h:1/", "/v1/models"),
            "http://h:1/v1/models"
        );
        assert_eq!(
            super::join_url("http://h/v1", "/v1/models"),
            "http://h/v1/models"
        );
        assert_eq!(
            super::join_url("http://h/openai", "/v1/x"),
            "http://h/openai/v1/x"
        );
        assert_eq!(
            super::join_url(
                "https://open.bigmodel.cn/api/paas/v4/",
                "/v1/chat/completions"
            ),
            "https://open.bigmodel.cn/api/paas/v4/chat/completions"
        );
        assert_eq!(
            super::join_url("http://h/dev", "/v1/x"),
            "http://h/dev/v1/x"
        );
    }
}

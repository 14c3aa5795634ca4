//! One error type for the gateway. It knows whose fault an error is (and so whether another
//! channel might succeed) and renders itself as OpenAI's error JSON, or Anthropic's or
//! Google's for callers of those front doors.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use switchyard_store::StoreError;
use switchyard_wire::Format;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blame {
    /// The request itself is wrong; retrying it anywhere gives the same answer.
    Caller,
    /// A provider failed; another channel may succeed.
    Upstream,
    /// Our own fault.
    Internal,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    /// OpenAI's `type`: `invalid_request_error`, `insufficient_quota`, `server_error`, …
    pub kind: &'static str,
    pub code: Option<&'static str>,
    pub param: Option<String>,
    pub message: String,
    pub blame: Blame,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        kind: &'static str,
        code: Option<&'static str>,
        message: impl Into<String>,
    ) -> Self {
        let blame = if status.is_server_error() {
            Blame::Internal
        } else {
            Blame::Caller
        };
        ApiError {
            status,
            kind,
            code,
            param: None,
            message: message.into(),
            blame,
        }
    }

    pub fn with_param(mut self, p: &str) -> Self {
        self.param = Some(p.into());
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            None,
            message,
        )
    }

    pub fn invalid_json(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            Some("invalid_json"),
            message,
        )
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            Some("invalid_api_key"),
            message,
        )
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "invalid_request_error",
            Some("permission_denied"),
            message,
        )
    }

    pub fn model_not_allowed(model: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "invalid_request_error",
            Some("model_not_allowed"),
            format!("This API key is not allowed to use the model `{model}`."),
        )
        .with_param("model")
    }

    pub fn model_not_found(model: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            Some("model_not_found"),
            format!("The model `{model}` does not exist or you do not have access to it."),
        )
        .with_param("model")
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            Some("not_found"),
            format!("{what} not found"),
        )
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            Some("payload_too_large"),
            format!("Request body is larger than the limit of {limit} bytes."),
        )
    }

    pub fn rate_limited(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limit_error",
            Some("rate_limit_exceeded"),
            message,
        )
    }

    pub fn insufficient_quota(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "insufficient_quota",
            Some("insufficient_quota"),
            message,
        )
    }

    /// Every channel failed: the last upstream's message is kept when it is safe to show.
    pub fn upstream(status: StatusCode, message: impl Into<String>) -> Self {
        let mut e = Self::new(status, "server_error", Some("upstream_error"), message);
        e.blame = Blame::Upstream;
        e
    }

    pub fn no_channel(model: &str) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            Some("no_available_channel"),
            format!(
                "No channel is available for the model `{model}` right now; try again shortly."
            ),
        );
        e.blame = Blame::Upstream;
        e
    }

    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            Some("internal_error"),
            "The gateway hit an internal error; it has been logged.",
        )
    }

    pub fn body(&self) -> serde_json::Value {
        json!({"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}})
    }

    /// The error body in a caller's wire format: OpenAI's, Anthropic's
    /// `{"type":"error","error":{"type","message"}}` or Google's `{"error":{"code","message","status"}}`.
    pub fn body_in(&self, format: Format) -> serde_json::Value {
        let status = self.status.as_u16();
        match format {
            Format::OpenAi => self.body(),
            Format::Anthropic => switchyard_wire::anthropic::error_body(status, &self.message),
            Format::Gemini => switchyard_wire::gemini::error_body(status, &self.message),
        }
    }

    /// The response for a caller speaking `format`.
    pub fn render(self, format: Format) -> Response {
        let mut r = (self.status, axum::Json(self.body_in(format))).into_response();
        if self.status == StatusCode::TOO_MANY_REQUESTS && self.code != Some("insufficient_quota") {
            r.headers_mut()
                .insert("retry-after", HeaderValue::from_static("1"));
        }
        r
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.render(Format::OpenAi)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ApiError::not_found(what),
            StoreError::Conflict(m) => ApiError::new(
                StatusCode::CONFLICT,
                "invalid_request_error",
                Some("conflict"),
                m,
            ),
            StoreError::Invalid(m) => ApiError::bad_request(m),
            other => ApiError::internal(other),
        }
    }
}

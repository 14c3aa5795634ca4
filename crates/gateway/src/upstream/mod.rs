//! Calling a provider: pooled HTTP clients, the channel's base URL and key, and a verdict
//! on each failure (is it the channel's fault, and may the next channel be tried?).
//!
//! Relayed JSON requests go out on bare hyper connections from the relay's own pool
//! (`pool`), each driven by the request that holds it: reqwest parses the URL (with IDNA)
//! twice per request and runs redirect and retry layers, which together cost the relay about
//! a sixth of its CPU at peak, and a spawned task per connection cost two task hand-offs per
//! request and one `writev` per stream chunk. Everything else (forms, task providers,
//! balances), and every request when the environment names a proxy, goes through reqwest,
//! which honours `HTTPS_PROXY` and friends.

mod pool;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode};
use bytes::{Bytes, BytesMut};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::Value;
use tokio::time::Sleep;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A provider's 2xx answer on the relay path; its body is read as it arrives, and a body that
/// goes quiet for longer than the idle timeout ends in an error.
pub type Reply = axum::http::Response<ReplyBody>;
pub type ReplyBody = UnsyncBoxBody<Bytes, BoxError>;

type Direct = std::sync::Arc<pool::Pool>;

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
    /// The relay's own client; `None` when a proxy is configured (reqwest handles those).
    direct: Option<Direct>,
    timeouts: Timeouts,
}

/// One relayed request: where it goes, its credentials and extra headers, and its body.
pub struct Outbound {
    pub url: String,
    pub headers: HeaderMap,
    pub body: Outgoing,
}

impl Outbound {
    /// A POST of `body` to `url` with the channel's credentials as the provider wants them.
    pub fn post(url: String, auth: Auth<'_>, body: Outgoing) -> Outbound {
        let mut headers = HeaderMap::new();
        let (name, value) = match auth {
            // `concat`, not `format!`: this runs per relayed request, and the formatting
            // machinery costs several times the copy.
            Auth::Bearer(Some(k)) => (header::AUTHORIZATION, ["Bearer ", k].concat()),
            Auth::Header(name, Some(k)) => (HeaderName::from_static(name), k.to_string()),
            Auth::Bearer(None) | Auth::Header(_, None) => return Outbound { url, headers, body },
        };
        // A key that is not a valid header value is sent as nothing; the provider says 401.
        if let Ok(mut v) = HeaderValue::try_from(value) {
            v.set_sensitive(true);
            headers.insert(name, v);
        }
        Outbound { url, headers, body }
    }

    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Outbound {
        self.headers.append(name, value);
        self
    }
}

/// Whether the environment names a proxy for outbound requests (as reqwest reads it).
pub fn proxy_configured() -> bool {
    [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ]
    .iter()
    .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
}

fn direct_client(timeouts: &Timeouts) -> Direct {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(timeouts.connect));
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_webpki_roots(provider)
        .expect("TLS defaults")
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    pool::Pool::new(https)
}

const USER_AGENT: &str = concat!("switchyard/", env!("CARGO_PKG_VERSION"));

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
    /// `proxied`: the environment names a proxy, so every request goes through reqwest.
    pub fn new(timeouts: Timeouts, proxied: bool) -> Self {
        let client = reqwest::Client::builder()
            .tcp_nodelay(true)
            .connect_timeout(timeouts.connect)
            .read_timeout(timeouts.idle)
            .pool_idle_timeout(pool::IDLE_FOR)
            .pool_max_idle_per_host(pool::MAX_IDLE_PER_ORIGIN)
            .user_agent(USER_AGENT)
            .build()
            .expect("HTTP client");
        let direct = (!proxied).then(|| direct_client(&timeouts));
        Upstream {
            client,
            direct,
            timeouts,
        }
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Send one relayed request under the first-byte timeout. `Ok` means a 2xx; its body is
    /// still unread. The request is taken: its headers become the sent request's.
    pub async fn relay(&self, out: Outbound) -> Result<Reply, Failure> {
        let sent = match (&self.direct, out.body) {
            (Some(direct), Outgoing::Json(body)) => {
                self.send_direct(direct, &out.url, out.headers, body).await
            }
            (_, body) => {
                let out = Outbound { body, ..out };
                self.send_reqwest(out).await
            }
        };
        let reply = sent?;
        if reply.status().is_success() {
            return Ok(reply);
        }
        // Boxed: the rare path's future would otherwise be part of every relayed request's,
        // which is copied as it moves (see `relay::run`).
        Err(Box::pin(Failure::from_reply(reply)).await)
    }

    async fn send_direct(
        &self,
        direct: &Direct,
        url: &str,
        mut headers: HeaderMap,
        body: Bytes,
    ) -> Result<Reply, Failure> {
        // The channel's headers (credentials first) with ours added: one map, not a second
        // one built and filled from the first.
        headers.reserve(3);
        headers.insert(header::USER_AGENT, HeaderValue::from_static(USER_AGENT));
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        let mut req = Request::new(Full::new(body));
        *req.method_mut() = Method::POST;
        *req.headers_mut() = headers;
        // The exchange and its deadline polled where they lie: `tokio::time::timeout` moved
        // the exchange's future (920 bytes) into its own, then with it, twice a request.
        let mut sent = std::pin::pin!(direct.send(url, req));
        let mut deadline = std::pin::pin!(tokio::time::sleep(self.timeouts.first_byte));
        let first = std::future::poll_fn(|cx| match sent.as_mut().poll(cx) {
            Poll::Ready(r) => Poll::Ready(Some(r)),
            Poll::Pending => deadline.as_mut().poll(cx).map(|()| None),
        });
        let resp = match first.await {
            None => return Err(self.first_byte_timeout()),
            Some(Err(e)) => return Err(Failure::transport(describe_direct(&e))),
            Some(Ok(r)) => r,
        };
        let idle = self.timeouts.idle;
        Ok(resp.map(|b| IdleTimeout::new(b, idle).boxed_unsync()))
    }

    async fn send_reqwest(&self, out: Outbound) -> Result<Reply, Failure> {
        let mut req = self.client.post(&out.url).headers(out.headers);
        req = match out.body {
            Outgoing::Json(b) => req.header("content-type", "application/json").body(b),
            Outgoing::Form(parts) => req.multipart(build_form(&parts)),
        };
        Ok(reply_of(self.send(req).await?))
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<reqwest::Response, Failure> {
        match tokio::time::timeout(self.timeouts.first_byte, req.send()).await {
            Err(_) => Err(self.first_byte_timeout()),
            Ok(Err(e)) => Err(Failure::transport(describe(&e))),
            Ok(Ok(r)) => Ok(r),
        }
    }

    fn first_byte_timeout(&self) -> Failure {
        Failure::transport(format!(
            "no response from the provider within {:?}",
            self.timeouts.first_byte
        ))
    }

    /// Send any request to a provider under the first-byte timeout, with the same verdict on
    /// failure. `Ok` means a 2xx; its body is still unread.
    pub async fn execute(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, Failure> {
        let resp = self.send(req).await?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        Err(Failure::from_reply(reply_of(resp)).await)
    }
}

/// A reqwest answer as the relay's `Reply` (its body already under reqwest's read timeout).
fn reply_of(resp: reqwest::Response) -> Reply {
    axum::http::Response::<reqwest::Body>::from(resp)
        .map(|b| b.map_err(|e| Box::new(e) as BoxError).boxed_unsync())
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
    // The last segment is `v` and a number. Split at the last `/` (a byte search), not at
    // the last "/v" (a substring search, whose searcher is built on every call).
    let versioned = base.rsplit_once('/').is_some_and(|(_, last)| {
        last.strip_prefix('v')
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    });
    match (versioned, path.strip_prefix("/v1/")) {
        (true, Some(rest)) => [base, "/", rest].concat(),
        _ => [base, path].concat(),
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
    with_cause(what, e)
}

fn describe_direct(e: &pool::SendError) -> String {
    match e {
        pool::SendError::Url(why) => format!("the channel's URL is not valid: {why}"),
        pool::SendError::Connect(e) => with_cause("could not connect to the provider", &**e),
        // hyper's own errors name no URL; one without a cause says what happened itself.
        pool::SendError::Request(e) if std::error::Error::source(e).is_none() => {
            format!("the request to the provider failed: {e}")
        }
        pool::SendError::Request(e) => with_cause("the request to the provider failed", e),
    }
}

/// `what`, then the innermost cause (the one that says what really happened).
fn with_cause(what: &str, e: &dyn std::error::Error) -> String {
    let mut src: Option<&dyn std::error::Error> = e.source();
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

    async fn from_reply(resp: Reply) -> Failure {
        let status = resp.status();
        if status.is_redirection() {
            // Following would resend the body (and the key) wherever the provider points;
            // the operator should point the channel there instead. Where it points is not
            // said: this message can reach callers.
            return Failure::transport(format!(
                "the provider answered {status}, a redirect, which the gateway does not follow: set the channel's base URL to where it points"
            ));
        }
        let raw = read_capped(resp.into_body(), 64 * 1024).await;
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

async fn read_capped(mut body: ReplyBody, cap: usize) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(Ok(frame)) = body.frame().await {
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        out.extend_from_slice(&chunk);
        if out.len() >= cap {
            out.truncate(cap);
            break;
        }
    }
    out
}

/// A whole answer body (bodies on the relay path are answers the caller waits for). An
/// answer that came in one frame, as most do, is that frame's bytes as they are: `collect`
/// put it in a list of buffers first (800 instructions of a relayed chat's 98,000).
pub async fn read_all(mut body: ReplyBody) -> Result<Bytes, BoxError> {
    let mut first: Option<Bytes> = None;
    let mut joined = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame?.into_data() else {
            continue; // trailers
        };
        match &first {
            None => first = Some(data),
            Some(head) => {
                if joined.is_empty() {
                    joined.extend_from_slice(head);
                }
                joined.extend_from_slice(&data);
            }
        }
    }
    Ok(match first {
        Some(_) if !joined.is_empty() => joined.freeze(),
        head => head.unwrap_or_default(),
    })
}

/// A body that fails when the provider sends nothing for `idle`, as reqwest's read timeout.
/// The timer is armed only once the body has to wait, so answers already in hand cost none.
struct IdleTimeout<B> {
    inner: B,
    idle: Duration,
    timer: Option<Pin<Box<Sleep>>>,
}

impl<B> IdleTimeout<B> {
    fn new(inner: B, idle: Duration) -> Self {
        IdleTimeout {
            inner,
            idle,
            timer: None,
        }
    }
}

impl<B> HttpBody for IdleTimeout<B>
where
    B: HttpBody<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            if let Some(t) = this.timer.as_mut() {
                t.as_mut().reset(tokio::time::Instant::now() + this.idle);
            }
            return Poll::Ready(frame.map(|r| r.map_err(Into::into)));
        }
        let idle = this.idle;
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(format!(
                "the provider sent nothing for {idle:?}"
            )
            .into()))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
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
    use super::*;

    fn timeouts(idle_ms: u64) -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(2),
            first_byte: Duration::from_secs(5),
            idle: Duration::from_millis(idle_ms),
        }
    }

    fn chat(sim: std::net::SocketAddr, model: &str, stream: bool) -> Outbound {
        let body = serde_json::json!({"model": model, "stream": stream,
            "messages": [{"role": "user", "content": "hello"}]});
        Outbound::post(
            format!("http://{sim}/v1/chat/completions"),
            Auth::Bearer(Some("sk-sim-test")),
            Outgoing::Json(Bytes::from(body.to_string())),
        )
        .header(
            HeaderName::from_static("x-extra"),
            HeaderValue::from_static("1"),
        )
    }

    /// The bare client and reqwest (used when a proxy is configured) send the same request
    /// and read the same answer; a provider's refusal is the same verdict on both.
    #[tokio::test]
    async fn both_clients_relay_alike() {
        let (addr, sim) = switchyard_sim::spawn("127.0.0.1:0").await.unwrap();
        for proxied in [false, true] {
            let up = Upstream::new(timeouts(5_000), proxied);
            assert_eq!(up.direct.is_some(), !proxied);
            let reply = up.relay(chat(addr, "gpt-4o-mini", false)).await.unwrap();
            assert_eq!(reply.status(), 200);
            let body: Value =
                serde_json::from_slice(&read_all(reply.into_body()).await.unwrap()).unwrap();
            assert!(
                body["usage"]["prompt_tokens"].as_i64().unwrap() > 0,
                "{body}"
            );
            assert_eq!(
                sim.last_header("/v1/chat/completions", "authorization")
                    .as_deref(),
                Some("Bearer sk-sim-test")
            );
            assert_eq!(
                sim.last_header("/v1/chat/completions", "x-extra")
                    .as_deref(),
                Some("1")
            );
            assert_eq!(
                sim.last_header("/v1/chat/completions", "host"),
                Some(addr.to_string())
            );
            assert!(sim
                .last_header("/v1/chat/completions", "user-agent")
                .unwrap()
                .starts_with("switchyard/"));
            let refused = up
                .relay(chat(addr, "gpt-4o-mini@status=429", false))
                .await
                .unwrap_err();
            assert_eq!(refused.status, Some(StatusCode::TOO_MANY_REQUESTS));
            assert!(refused.retryable && !refused.invalid_key);
        }
    }

    /// A redirect is the channel's fault (another channel may serve), never followed.
    #[tokio::test]
    async fn redirects_are_not_followed() {
        use axum::response::Redirect;
        let app = axum::Router::new().route(
            "/v1/chat/completions",
            axum::routing::post(|| async { Redirect::permanent("http://127.0.0.1:9/elsewhere") }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let f = Upstream::new(timeouts(5_000), false)
            .relay(chat(addr, "gpt-4o-mini", false))
            .await
            .unwrap_err();
        assert!(f.retryable && !f.invalid_key);
        assert!(f.message.contains("308"), "{}", f.message);
        assert!(!f.message.contains("elsewhere"), "{}", f.message);
    }

    /// A body is read whole whatever its frames: one frame comes back as the same buffer,
    /// several are joined in order, trailers and empty frames add nothing.
    #[tokio::test]
    async fn bodies_are_read_whole() {
        let body = |frames: Vec<Frame<Bytes>>| -> ReplyBody {
            let frames = futures::stream::iter(frames.into_iter().map(Ok::<_, BoxError>));
            http_body_util::StreamBody::new(frames).boxed_unsync()
        };
        let one = Bytes::from_static(b"{\"id\":1}");
        let got = read_all(body(vec![Frame::data(one.clone())]))
            .await
            .unwrap();
        assert_eq!(got.as_ptr(), one.as_ptr(), "one frame is not copied");
        let mut trailers = HeaderMap::new();
        trailers.insert("x-t", HeaderValue::from_static("1"));
        let frames = vec![
            Frame::data(Bytes::from_static(b"ab")),
            Frame::data(Bytes::new()),
            Frame::data(Bytes::from_static(b"cd")),
            Frame::trailers(trailers),
            Frame::data(Bytes::from_static(b"e")),
        ];
        assert_eq!(read_all(body(frames)).await.unwrap(), "abcde");
        assert_eq!(read_all(body(vec![])).await.unwrap(), "");
    }

    /// A stream that goes quiet for longer than the idle timeout ends in an error rather
    /// than hanging; one that keeps talking is read to the end.
    #[tokio::test]
    async fn a_quiet_body_times_out() {
        let (addr, _sim) = switchyard_sim::spawn("127.0.0.1:0").await.unwrap();
        let up = Upstream::new(timeouts(150), false);
        let slow = up
            .relay(chat(addr, "gpt-4o-mini@chunk_delay_ms=600,words=3", true))
            .await
            .unwrap();
        let err = read_all(slow.into_body()).await.unwrap_err();
        assert!(err.to_string().contains("sent nothing for"), "{err}");
        let brisk = up
            .relay(chat(addr, "gpt-4o-mini@chunk_delay_ms=20,words=12", true))
            .await
            .unwrap();
        let text = read_all(brisk.into_body()).await.unwrap();
        assert!(text.ends_with(b"data: [DONE]\n\n"), "{text:?}");
    }

    /// An https channel really speaks TLS: against a plain-HTTP port the handshake fails,
    /// as a transport failure another channel may fix.
    #[tokio::test]
    async fn https_channels_speak_tls() {
        let (addr, _sim) = switchyard_sim::spawn("127.0.0.1:0").await.unwrap();
        let up = Upstream::new(timeouts(5_000), false);
        let mut out = chat(addr, "gpt-4o-mini", false);
        out.url = out.url.replace("http://", "https://");
        let f = up.relay(out).await.unwrap_err();
        assert_eq!(f.status, None);
        assert!(f.retryable, "{}", f.message);
        assert!(f.message.starts_with("could not connect"), "{}", f.message);
    }

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
        // Only a last segment of `v` and digits is a version.
        for base in [
            "http://h/v1beta",
            "http://h/vv1",
            "http://h/v",
            "http://h/x/v2a",
        ] {
            assert_eq!(super::join_url(base, "/v1/x"), format!("{base}/v1/x"));
        }
        assert_eq!(
            super::join_url("http://h/a/v10//", "/v1/x"),
            "http://h/a/v10/x"
        );
    }
}

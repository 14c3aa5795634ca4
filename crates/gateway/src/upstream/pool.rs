//! The relay's own pool of HTTP/1.1 connections to providers, each driven by the request
//! that holds it.
//!
//! hyper-util's pooled client spawns a task per connection: the request's task hands the
//! request to it through a channel, and every body chunk comes back through another, one
//! chunk per hand-off. So a stream whose chunks arrived in one read still went to the caller
//! one `writev` per chunk, and every request paid two task wake-ups. Here a request takes a
//! connection out of the pool and polls it itself, in its own task (the caller's connection
//! task, for a streamed body): the chunks one read brought are handed to the caller's side
//! in one poll and written together. A connection goes back to the pool once its answer has
//! been read to the end, and is dropped (closed) when the answer is dropped early.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use axum::http::{header, HeaderValue, Request, Response, Uri};
use bytes::Bytes;
use foldhash::HashMap;
use http_body_util::Full;
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper::client::conn::http1;
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioIo;
use parking_lot::Mutex;
use tokio::net::TcpStream;
use tower::ServiceExt;

type Connector = HttpsConnector<HttpConnector>;
type Conn = http1::Connection<MaybeHttpsStream<TokioIo<TcpStream>>, Full<Bytes>>;
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// An idle connection kept longer than this is closed rather than reused (reqwest's pool,
/// for the other requests, keeps the same two bounds).
pub(super) const IDLE_FOR: Duration = Duration::from_secs(90);
/// At most this many idle connections are kept per provider origin.
pub(super) const MAX_IDLE_PER_ORIGIN: usize = 256;
/// Parsed URLs kept (channels × endpoints, and models for the providers that name them in
/// the path); past this the cache starts again.
const MAX_TARGETS: usize = 4096;

pub struct Pool {
    connector: Connector,
    /// Idle connections by origin (`scheme://authority`), oldest first.
    idle: Mutex<HashMap<Arc<str>, Vec<Lease>>>,
    /// Each URL the relay sends to, parsed once: parsing it, and deriving its `Host` and
    /// origin, cost about 3% of a relayed request's instructions.
    targets: Mutex<HashMap<Box<str>, Arc<Target>>>,
}

/// Where a URL sends a request: the origin to connect to, and what the request names.
struct Target {
    uri: Uri,
    /// The path and query alone: what an HTTP/1.1 request line names.
    path: Uri,
    host: HeaderValue,
    origin: Arc<str>,
}

/// Why a request got no answer.
#[derive(Debug)]
pub enum SendError {
    /// The channel's URL cannot be sent to (the reason says why).
    Url(String),
    Connect(BoxError),
    Request(hyper::Error),
}

/// One connection, out of the pool or idle in it.
struct Lease {
    tx: http1::SendRequest<Full<Bytes>>,
    /// `None` once the connection has ended (closed or failed). Boxed: hyper's connection
    /// state is large, and a lease moves in and out of the pool with every request.
    conn: Option<Pin<Box<Conn>>>,
    origin: Arc<str>,
    since: Instant,
}

impl Lease {
    /// Let the connection do what it can (write, read, go idle); forget it once it ends.
    fn drive(&mut self, cx: &mut Context<'_>) {
        if let Some(conn) = self.conn.as_mut() {
            if conn.as_mut().poll(cx).is_ready() {
                self.conn = None;
            }
        }
    }

    /// Alive and waiting for a request (its last answer read to the end).
    fn reusable(&mut self) -> bool {
        self.drive(&mut Context::from_waker(Waker::noop()));
        self.conn.is_some() && self.tx.is_ready() && self.since.elapsed() < IDLE_FOR
    }
}

impl Pool {
    pub fn new(connector: Connector) -> Arc<Pool> {
        let pool = Arc::new(Pool {
            connector,
            idle: Mutex::new(HashMap::default()),
            targets: Mutex::new(HashMap::default()),
        });
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(sweep(Arc::downgrade(&pool)));
        }
        pool
    }

    /// Send `req` to `url` on an idle connection to its origin, or a new one; the request
    /// line and `Host` are set here. A request refused unsent by a reused connection (the
    /// provider closed it meanwhile) is sent again; nothing that may have reached the
    /// provider is.
    pub async fn send(
        self: &Arc<Pool>,
        url: &str,
        mut req: Request<Full<Bytes>>,
    ) -> Result<Response<Body>, SendError> {
        let target = self.target(url)?;
        *req.uri_mut() = target.path.clone();
        req.headers_mut().insert(header::HOST, target.host.clone());
        loop {
            let (mut lease, reused) = match self.checkout(&target.origin) {
                Some(lease) => (lease, true),
                // Boxed: a connection being set up (TLS state and all) is several kB, and
                // inline it would make every request's future that large, copied at each move.
                None => (Box::pin(self.connect(&target)).await?, false),
            };
            let mut answer = std::pin::pin!(lease.tx.try_send_request(req));
            let answered = poll_fn(|cx| {
                lease.drive(cx);
                answer.as_mut().poll(cx)
            })
            .await;
            match answered {
                Ok(resp) => {
                    return Ok(resp.map(|incoming| Body {
                        incoming,
                        lease: Some(lease),
                        pool: Arc::downgrade(self),
                    }))
                }
                Err(mut e) => match e.take_message() {
                    Some(unsent) if reused => req = unsent,
                    _ => return Err(SendError::Request(e.into_error())),
                },
            }
        }
    }

    fn target(&self, url: &str) -> Result<Arc<Target>, SendError> {
        if let Some(t) = self.targets.lock().get(url) {
            return Ok(t.clone());
        }
        let t = Arc::new(Target::parse(url)?);
        let mut targets = self.targets.lock();
        if targets.len() >= MAX_TARGETS {
            targets.clear();
        }
        targets.insert(url.into(), t.clone());
        Ok(t)
    }

    fn checkout(&self, origin: &str) -> Option<Lease> {
        loop {
            let mut lease = self.idle.lock().get_mut(origin)?.pop()?;
            if lease.reusable() {
                return Some(lease);
            }
        }
    }

    async fn connect(&self, target: &Target) -> Result<Lease, SendError> {
        let io = self
            .connector
            .clone()
            .oneshot(target.uri.clone())
            .await
            .map_err(SendError::Connect)?;
        let (tx, conn) = http1::handshake(io).await.map_err(SendError::Request)?;
        Ok(Lease {
            tx,
            conn: Some(Box::pin(conn)),
            origin: target.origin.clone(),
            since: Instant::now(),
        })
    }

    fn checkin(&self, mut lease: Lease) {
        lease.since = Instant::now();
        if !lease.reusable() {
            return;
        }
        let mut idle = self.idle.lock();
        let list = idle.entry(lease.origin.clone()).or_default();
        if list.len() < MAX_IDLE_PER_ORIGIN {
            list.push(lease);
        }
    }

    #[cfg(test)]
    pub fn idle_count(&self) -> usize {
        self.idle.lock().values().map(Vec::len).sum()
    }
}

impl Target {
    fn parse(url: &str) -> Result<Target, SendError> {
        let uri = Uri::try_from(url).map_err(|e| SendError::Url(e.to_string()))?;
        let host = host_header(&uri).ok_or_else(|| SendError::Url("it names no host".into()))?;
        let scheme = uri.scheme_str().unwrap_or("http");
        let authority = uri.authority().map_or("", |a| a.as_str());
        Ok(Target {
            path: origin_form(&uri),
            host,
            origin: Arc::from(format!("{scheme}://{authority}")),
            uri,
        })
    }
}

/// The `Host` an HTTP/1.1 request to `uri` carries: its host, and its port unless that is the
/// scheme's default (never the userinfo).
fn host_header(uri: &Uri) -> Option<HeaderValue> {
    let a = uri.authority()?;
    let host = match (uri.scheme_str(), a.port_u16()) {
        (Some("http"), Some(80)) | (Some("https"), Some(443)) | (_, None) => a.host().to_string(),
        (_, Some(port)) => format!("{}:{port}", a.host()),
    };
    HeaderValue::try_from(host).ok()
}

/// The path and query alone: what an HTTP/1.1 request line names.
fn origin_form(uri: &Uri) -> Uri {
    let mut parts = axum::http::uri::Parts::default();
    parts.path_and_query = Some(
        uri.path_and_query()
            .cloned()
            .unwrap_or_else(|| axum::http::uri::PathAndQuery::from_static("/")),
    );
    Uri::from_parts(parts).unwrap_or_default()
}

/// Every 30 s, close the idle connections that expired or that the provider closed.
async fn sweep(pool: Weak<Pool>) {
    let mut every = tokio::time::interval(Duration::from_secs(30));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let Some(pool) = pool.upgrade() else { return };
        let mut idle = pool.idle.lock();
        for list in idle.values_mut() {
            list.retain_mut(Lease::reusable);
        }
        idle.retain(|_, list| !list.is_empty());
    }
}

/// An answer's body, read by polling its connection too; the connection goes back to the
/// pool when the body has been read to the end.
pub struct Body {
    incoming: Incoming,
    lease: Option<Lease>,
    pool: Weak<Pool>,
}

impl Body {
    fn release(&mut self) {
        if let (Some(lease), Some(pool)) = (self.lease.take(), self.pool.upgrade()) {
            pool.checkin(lease);
        }
    }
}

impl HttpBody for Body {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = &mut *self;
        let mut frame = Pin::new(&mut this.incoming).poll_frame(cx);
        if frame.is_pending() {
            // Nothing decoded yet: let the connection read (or decode what it has buffered),
            // then look again.
            if let Some(lease) = this.lease.as_mut() {
                lease.drive(cx);
            }
            frame = Pin::new(&mut this.incoming).poll_frame(cx);
        }
        match &frame {
            Poll::Ready(None) => this.release(),
            Poll::Ready(Some(Ok(_))) if this.incoming.is_end_stream() => this.release(),
            Poll::Ready(Some(Err(_))) => this.lease = None,
            _ => {}
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.incoming.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.incoming.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use http_body_util::BodyExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;
    use crate::upstream::{read_all, Auth, Outbound, Outgoing, Timeouts, Upstream};

    /// How the test provider treats each connection.
    #[derive(Clone, Copy)]
    enum Provider {
        /// Answers every request on the connection, keeping it open.
        KeepAlive,
        /// Answers one request, then closes the connection (without saying so).
        CloseAfterOne,
        /// Sends the head and three chunks in one write, then never finishes.
        StallAfterChunks,
    }

    /// A provider on a raw socket, counting the connections it accepted and those it saw
    /// closed by the gateway.
    async fn provider(mode: Provider) -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/v1/chat/completions",
            listener.local_addr().unwrap()
        );
        let (accepted, closed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (a, c) = (accepted.clone(), closed.clone());
        tokio::spawn(async move {
            loop {
                let (mut sock, _) = listener.accept().await.unwrap();
                a.fetch_add(1, Ordering::SeqCst);
                let c = c.clone();
                tokio::spawn(async move {
                    while read_request(&mut sock).await {
                        let answer: &[u8] = match mode {
                            Provider::StallAfterChunks => b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n3\r\none\r\n3\r\ntwo\r\n5\r\nthree\r\n",
                            _ => b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{\"ok\":true}",
                        };
                        sock.write_all(answer).await.unwrap();
                        if let Provider::CloseAfterOne = mode {
                            return;
                        }
                    }
                    c.fetch_add(1, Ordering::SeqCst);
                });
            }
        });
        (url, accepted, closed)
    }

    /// Reads one request (head and `content-length` body); false at the end of the stream.
    async fn read_request(sock: &mut TcpStream) -> bool {
        let mut buf = Vec::new();
        let mut byte = [0u8; 1];
        while !buf.ends_with(b"\r\n\r\n") {
            match sock.read(&mut byte).await {
                Ok(1) => buf.push(byte[0]),
                _ => return false,
            }
        }
        let head = String::from_utf8_lossy(&buf).to_ascii_lowercase();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map_or(0, |v| v.trim().parse().unwrap());
        let mut body = vec![0u8; len];
        sock.read_exact(&mut body).await.is_ok()
    }

    fn upstream() -> Upstream {
        let t = Duration::from_secs(5);
        Upstream::new(
            Timeouts {
                connect: t,
                first_byte: t,
                idle: t,
            },
            false,
        )
    }

    fn chat(url: &str) -> Outbound {
        Outbound::post(
            url.to_string(),
            Auth::Bearer(Some("sk-test")),
            Outgoing::Json(Bytes::from_static(b"{\"model\":\"m\"}")),
        )
    }

    async fn ask(up: &Upstream, url: &str) -> Bytes {
        let reply = up.relay(chat(url)).await.unwrap();
        read_all(reply.into_body()).await.unwrap()
    }

    #[tokio::test]
    async fn requests_in_turn_share_one_connection() {
        let (url, accepted, _) = provider(Provider::KeepAlive).await;
        let up = upstream();
        for _ in 0..5 {
            assert_eq!(&ask(&up, &url).await[..], b"{\"ok\":true}");
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
        assert_eq!(up.direct.as_ref().unwrap().idle_count(), 1);
    }

    /// A provider may close an idle connection at any time; the next request notices and
    /// opens a new one instead of failing.
    #[tokio::test]
    async fn a_connection_the_provider_closed_is_not_reused() {
        let (url, accepted, _) = provider(Provider::CloseAfterOne).await;
        let up = upstream();
        for n in 1..=3 {
            assert_eq!(&ask(&up, &url).await[..], b"{\"ok\":true}");
            tokio::time::sleep(Duration::from_millis(50)).await;
            assert_eq!(accepted.load(Ordering::SeqCst), n);
        }
    }

    /// Chunks that arrived together are read together: the body drives its own connection,
    /// so no other task has to run between them. An answer dropped unread closes its
    /// connection rather than going back to the pool half-read.
    #[tokio::test]
    async fn chunks_that_came_together_are_read_together() {
        let (url, accepted, closed) = provider(Provider::StallAfterChunks).await;
        let up = upstream();
        let mut body = up.relay(chat(&url)).await.unwrap().into_body();
        let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
        let mut rest = Vec::new();
        let mut cx = Context::from_waker(Waker::noop());
        while let Poll::Ready(Some(Ok(f))) = Pin::new(&mut body).poll_frame(&mut cx) {
            rest.push(f.into_data().unwrap());
        }
        assert_eq!(first, "one");
        assert_eq!(rest, ["two", "three"]);
        drop(body);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            closed.load(Ordering::SeqCst),
            1,
            "the half-read connection was closed"
        );
        assert_eq!(up.direct.as_ref().unwrap().idle_count(), 0);
        let _ = up.relay(chat(&url)).await.unwrap();
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn origins() {
        let origin = |url: &str| Target::parse(url).map(|t| t.origin.to_string()).unwrap();
        assert_eq!(origin("http://h:1/v1/x?y"), "http://h:1");
        assert_eq!(origin("https://a.b"), "https://a.b");
        assert_eq!(origin("http://[::1]:8/v1"), "http://[::1]:8");
    }

    /// `Host` names the port only when it is not the scheme's default, and never the
    /// userinfo.
    #[test]
    fn hosts() {
        let host = |url: &str| Target::parse(url).map(|t| t.host).unwrap();
        assert_eq!(host("http://h:1/v1"), "h:1");
        assert_eq!(host("http://h:80/v1"), "h");
        assert_eq!(host("https://h:443"), "h");
        assert_eq!(host("https://u:p@h:8443/x"), "h:8443");
        assert_eq!(host("http://[::1]:8/v1"), "[::1]:8");
    }
}

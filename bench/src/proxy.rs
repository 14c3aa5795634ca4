//! The reference row: the least a proxy can do. An HTTP/1.1 server that forwards every
//! request as it is (method, path, headers, streamed body) to one upstream over a pooled
//! keep-alive client and streams the answer back, with TCP_NODELAY on both sides. No auth,
//! no parsing, no billing: what is left between it and a direct call is the machine's cost
//! of one more hop, which no gateway can avoid.
//!
//! It runs as its own process (`switchyard-bench --proxy-listen ADDR --proxy-upstream URL`),
//! on a multi-threaded runtime like the gateway's, so it competes for the cores the same way.

use std::convert::Infallible;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

type Upstream = Client<HttpConnector, Incoming>;

pub async fn serve(listen: &str, upstream: &str) -> anyhow::Result<()> {
    let upstream: Uri = upstream.parse()?;
    let authority = upstream
        .authority()
        .ok_or_else(|| anyhow::anyhow!("the upstream URL needs a host"))?
        .clone();
    let mut conn = HttpConnector::new();
    conn.set_nodelay(true);
    let client: Upstream = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(1024)
        .build(conn);
    let listener = TcpListener::bind(listen).await?;
    loop {
        let (tcp, _) = listener.accept().await?;
        let _ = tcp.set_nodelay(true);
        let (client, authority) = (client.clone(), authority.clone());
        tokio::spawn(async move {
            let svc = service_fn(move |req: Request<Incoming>| {
                let (client, authority) = (client.clone(), authority.clone());
                async move { Ok::<_, Infallible>(forward(&client, authority, req).await) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(tcp), svc)
                .await;
        });
    }
}

async fn forward(
    client: &Upstream,
    authority: hyper::http::uri::Authority,
    req: Request<Incoming>,
) -> Response<http_body_util::Either<Incoming, http_body_util::Full<bytes::Bytes>>> {
    use http_body_util::Either;
    let (mut parts, body) = req.into_parts();
    let mut uri = parts.uri.into_parts();
    uri.scheme = Some(hyper::http::uri::Scheme::HTTP);
    uri.authority = Some(authority);
    parts.uri = Uri::from_parts(uri).expect("upstream URI");
    parts.headers.remove(hyper::header::HOST);
    match client.request(Request::from_parts(parts, body)).await {
        Ok(resp) => resp.map(Either::Left),
        Err(e) => {
            let mut r = Response::new(Either::Right(http_body_util::Full::new(
                bytes::Bytes::from(format!("upstream failed: {e}")),
            )));
            *r.status_mut() = hyper::StatusCode::BAD_GATEWAY;
            r
        }
    }
}

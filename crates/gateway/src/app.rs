//! The HTTP application: every route, the layers around them, and the fallbacks, all
//! answering in OpenAI's error format.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tower::{Service, ServiceBuilder};
use tower_http::catch_panic::CatchPanicLayer;

use crate::admin;
use crate::error::ApiError;
use crate::relay::{self, RequestId};
use crate::state::AppState;

/// The whole application as one service: the request id and CORS (`Front`), the panic
/// catcher and the body limit wrap the router once. (`Router::layer` wraps every route
/// instead, and a request then clones one boxed copy of each layer: about 6% of the gateway's
/// instructions at peak.)
pub fn service(
    state: AppState,
) -> impl Service<Request, Response = Response, Error = Infallible, Future: Send>
       + Clone
       + Send
       + Sync
       + 'static {
    let limit = state.settings.max_body_bytes;
    let layers = || {
        ServiceBuilder::new()
            .layer(CatchPanicLayer::custom(|_| {
                ApiError::internal("a handler panicked").into_response()
            }))
            .layer(DefaultBodyLimit::max(limit))
    };
    Front {
        chat: layers().service(relay::chat_service(state.clone())),
        inner: layers().service(router(state)),
    }
}

/// Every route and the fallbacks, without the layers `service` puts around them.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .merge(crate::console::routes())
        .merge(relay::routes())
        .merge(crate::task::front::routes())
        .nest("/api", admin::routes().merge(crate::session::routes()))
        .fallback(unknown_route)
        .method_not_allowed_fallback(wrong_method)
        .with_state(state)
}

/// What every answer gets: an `x-request-id` (the same id names the request's usage-log row)
/// and open CORS, for browser apps calling with a key: any origin, and every header readable.
/// An `OPTIONS` request is a preflight, answered here: any method, any header.
///
/// It replaces axum's `from_fn` and tower-http's permissive `CorsLayer`, which together
/// cloned the inner stack and built a header map for every request (2% of the gateway's
/// instructions), to add the same few constant headers.
///
/// `POST /v1/chat/completions`, most of a relay's traffic, goes straight to its handler
/// (`chat`, under the same panic catcher and body limit as the router): the router's lookup
/// and the two extensions it inserts (the matched path and the URL's parameters, which
/// made the request's extension map grow a second time) cost about 3,200 instructions, 4–5%
/// of a relayed chat's. The router keeps the route, for anything that reaches it otherwise.
#[derive(Clone)]
pub struct Front<S, C> {
    inner: S,
    chat: C,
}

type Answer = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

impl<S, C, B, BC> Service<Request> for Front<S, C>
where
    S: Service<Request, Response = axum::http::Response<B>, Error = Infallible>,
    S::Future: Send + 'static,
    B: axum::body::HttpBody<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
    C: Service<Request, Response = axum::http::Response<BC>, Error = Infallible>,
    C::Future: Send + 'static,
    BC: axum::body::HttpBody<Data = bytes::Bytes> + Send + 'static,
    BC::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Answer;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        match (self.inner.poll_ready(cx), self.chat.poll_ready(cx)) {
            (Poll::Ready(Ok(())), Poll::Ready(Ok(()))) => Poll::Ready(Ok(())),
            _ => Poll::Pending,
        }
    }

    fn call(&mut self, mut req: Request) -> Answer {
        let id = switchyard_store::new_sorted_id("req");
        let id_header = HeaderValue::from_str(&id).ok();
        if req.method() == Method::OPTIONS {
            let mut resp = StatusCode::OK.into_response();
            cors_headers(resp.headers_mut(), true, id_header);
            return Box::pin(std::future::ready(Ok(resp)));
        }
        req.extensions_mut().insert(RequestId(id));
        let cross_origin = req.headers().contains_key(header::ORIGIN);
        if req.method() == Method::POST && req.uri().path() == relay::CHAT {
            let answer = self.chat.call(req);
            return Box::pin(async move { Ok(with_cors(answer.await?, cross_origin, id_header)) });
        }
        let answer = self.inner.call(req);
        Box::pin(async move { Ok(with_cors(answer.await?, cross_origin, id_header)) })
    }
}

/// An answer with the request id and, for a caller that sent `Origin` (a browser; an SDK
/// or `curl` sends none), CORS's two headers. Without `Origin` they would be bytes nobody
/// reads, and three header inserts on every request (about 600 instructions).
fn with_cors<B>(
    resp: axum::http::Response<B>,
    cross_origin: bool,
    id: Option<HeaderValue>,
) -> Response
where
    B: axum::body::HttpBody<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let mut resp = resp.map(axum::body::Body::new);
    let h = resp.headers_mut();
    if cross_origin {
        cors_headers(h, false, id);
    } else {
        // The answer depends on `Origin`, so a cache must key it by that.
        h.append(header::VARY, HeaderValue::from_static("origin"));
        if let Some(id) = id {
            h.insert(X_REQUEST_ID, id);
        }
    }
    resp
}

/// Named once: a `&str` name is parsed and checked again at every insert.
const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

fn cors_headers(h: &mut HeaderMap, preflight: bool, id: Option<HeaderValue>) {
    h.reserve(4);
    let any = HeaderValue::from_static("*");
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, any.clone());
    if preflight {
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, any.clone());
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, any);
    } else {
        h.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, any);
    }
    h.append(
        header::VARY,
        HeaderValue::from_static(
            "origin, access-control-request-method, access-control-request-headers",
        ),
    );
    if let Some(id) = id {
        h.insert(X_REQUEST_ID, id);
    }
}

/// 200 once the database answers.
async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("database unavailable: {e}"),
        )
            .into_response(),
    }
}

async fn unknown_route(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "invalid_request_error",
        Some("unknown_url"),
        format!("Unknown request URL: {method} {}.", uri.path()),
    )
}

async fn wrong_method(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "invalid_request_error",
        Some("method_not_allowed"),
        format!("{method} is not supported for {}.", uri.path()),
    )
}

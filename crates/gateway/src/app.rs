//! The HTTP application: every route, the layers around them, and the fallbacks, all
//! answering in OpenAI's error format.

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::convert::Infallible;
use tower::{Service, ServiceBuilder};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::CorsLayer;

use crate::admin;
use crate::error::ApiError;
use crate::relay::{self, RequestId};
use crate::state::AppState;

/// The whole application as one service: the request id, panic catcher, CORS and body
/// limit wrap the router once. (`Router::layer` wraps every route instead, and a request then
/// clones one boxed copy of each layer: about 6% of the gateway's instructions at peak.)
pub fn service(
    state: AppState,
) -> impl Service<Request, Response = Response, Error = Infallible, Future: Send>
       + Clone
       + Send
       + Sync
       + 'static {
    let limit = state.settings.max_body_bytes;
    ServiceBuilder::new()
        .layer(middleware::from_fn(request_id))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::internal("a handler panicked").into_response()
        }))
        .layer(CorsLayer::permissive())
        .layer(DefaultBodyLimit::max(limit))
        .service(router(state))
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

/// Every answer carries `x-request-id`; the same id names the request's usage-log row.
async fn request_id(mut req: Request, next: Next) -> Response {
    let id = switchyard_store::new_sorted_id("req");
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut resp = next.run(req).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
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

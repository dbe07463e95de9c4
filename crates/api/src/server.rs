//! The router (routes from the table plus layers) and the server loop.

use std::future::Future;
use std::time::Instant;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tokio::net::TcpListener;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::error::ApiError;
use crate::metrics::{self, UNMATCHED_ROUTE};
use crate::routes::ROUTES;
use crate::state::{AppState, CorsOrigins};

/// Every route of [`ROUTES`] with metrics, the request deadline, CORS and request logs.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for route in ROUTES {
        router = router.route(route.path, (route.handler)());
    }
    router
        .method_not_allowed_fallback(method_not_allowed)
        // Route layers run after matching, so the metrics see the route template.
        .route_layer(middleware::from_fn_with_state(state.clone(), deadline))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .fallback(unmatched)
        .layer(cors(&state.config.cors_origins))
        // One INFO line per response (method, URI, status, latency).
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state)
}

/// Serves until `shutdown` resolves, then finishes the requests in flight.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, store = state.store.backend(), "api listening");
    }
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// 504 with a JSON body when a request runs past the configured timeout.
async fn deadline(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let limit = state.config.request_timeout;
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "request timed out",
            json!({ "timeout_ms": limit.as_millis() as u64 }),
        )
        .into_response(),
    }
}

async fn method_not_allowed(request: Request) -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed",
        json!({ "method": request.method().as_str(), "allowed": ["GET", "HEAD"] }),
    )
    .into_response()
}

async fn unmatched(State(state): State<AppState>, request: Request) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let response = ApiError::not_found(
        "no such route",
        json!({ "path": request.uri().path().chars().take(200).collect::<String>(), "docs": "/docs" }),
    )
    .into_response();
    state.metrics.observe(
        &method,
        UNMATCHED_ROUTE,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

fn cors(origins: &CorsOrigins) -> CorsLayer {
    let layer = CorsLayer::new().allow_methods([Method::GET, Method::HEAD, Method::OPTIONS]);
    match origins {
        CorsOrigins::Any => layer.allow_origin(Any).allow_headers(Any),
        CorsOrigins::List(list) => {
            let origins: Vec<HeaderValue> = list
                .iter()
                .filter_map(|o| match HeaderValue::from_str(o) {
                    Ok(v) => Some(v),
                    Err(_) => {
                        tracing::warn!(origin = %o, "ignoring CORS origin that is not a header value");
                        None
                    }
                })
                .collect();
            layer.allow_origin(AllowOrigin::list(origins))
        }
    }
}

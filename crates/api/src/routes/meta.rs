//! Service endpoints: taxonomy, health, readiness, metrics, OpenAPI and its HTML page.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::openapi;
use crate::state::AppState;
use crate::taxonomy::TAXONOMY;

pub async fn classes() -> Json<Value> {
    let top_levels: Vec<Value> = TAXONOMY
        .iter()
        .map(|t| json!({ "name": t.name, "classes": t.classes }))
        .collect();
    let count: usize = TAXONOMY.iter().map(|t| t.classes.len()).sum();
    Json(json!({
        "taxonomy": "ALeRCE light-curve classifier (Sanchez-Saez et al. 2021, AJ 161, 141)",
        "count": count,
        "top_levels": top_levels,
    }))
}

pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => {
            Json(json!({ "status": "ready", "store": state.store.backend() })).into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "store unavailable",
                json!({ "store": state.store.backend(), "reason": e.to_string() }),
            )
            .into_response()
        }
    }
}

pub async fn metrics(State(state): State<AppState>) -> ApiResult<Response> {
    let text = state
        .metrics
        .render()
        .map_err(|e| ApiError::internal(format!("metrics: {e}")))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

pub async fn openapi(State(state): State<AppState>) -> Json<Value> {
    Json(openapi::document(&state.config))
}

pub async fn docs(State(state): State<AppState>) -> Html<String> {
    Html(openapi::html(&openapi::document(&state.config)))
}

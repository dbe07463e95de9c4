//! Every failure leaves as JSON `{"error": "...", "detail": ...}` with a status a client can act on.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use store::StoreError;

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    /// A short, stable description of the kind of failure.
    pub error: String,
    /// What exactly was wrong (the offending value, the accepted ones); `null` when nothing adds.
    pub detail: Value,
}

impl ApiError {
    pub fn new(status: StatusCode, error: impl Into<String>, detail: Value) -> Self {
        Self {
            status,
            error: error.into(),
            detail,
        }
    }

    pub fn bad_request(error: impl Into<String>, detail: Value) -> Self {
        Self::new(StatusCode::BAD_REQUEST, error, detail)
    }

    pub fn not_found(error: impl Into<String>, detail: Value) -> Self {
        Self::new(StatusCode::NOT_FOUND, error, detail)
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error",
            Value::String(detail.into()),
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match &e {
            StoreError::InvalidCursor(cursor) => {
                Self::bad_request("invalid cursor", json!({ "cursor": cursor }))
            }
            StoreError::UnknownObject { survey, object_id } => Self::not_found(
                "unknown object",
                json!({ "survey": survey, "object_id": object_id }),
            ),
            StoreError::NotMigrated { .. } | StoreError::Unreachable { .. } => {
                Self::unavailable(&e)
            }
            _ if e.is_transient() => Self::unavailable(&e),
            _ => {
                tracing::error!(error = %e, "store error");
                Self::internal("store error")
            }
        }
    }
}

impl ApiError {
    fn unavailable(e: &StoreError) -> Self {
        tracing::warn!(error = %e, "store unavailable");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store unavailable",
            Value::String(e.to_string()),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.error, "detail": self.detail });
        (self.status, Json(body)).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

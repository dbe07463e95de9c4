//! What every handler shares: the store, the configuration and the metrics registry.

use std::sync::Arc;
use std::time::Duration;

use store::{MAX_SEARCH_LIMIT, StateStore};

use crate::metrics::Metrics;

/// Which browser origins may call the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    /// `Access-Control-Allow-Origin: *`.
    Any,
    /// Exactly these origins (`https://host[:port]`); empty means no CORS headers at all.
    List(Vec<String>),
}

impl CorsOrigins {
    /// `*` means any origin; otherwise a comma-separated list of origins.
    pub fn parse(text: &str) -> Self {
        if text.trim() == "*" {
            return CorsOrigins::Any;
        }
        CorsOrigins::List(
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }
}

/// Limits and policies of the service.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiConfig {
    /// Largest `limit` a list endpoint accepts; larger asks are refused with 400.
    pub max_limit: u32,
    /// Page size when the caller gives no `limit`.
    pub default_limit: u32,
    pub cors_origins: CorsOrigins,
    /// Whole-request deadline; a request past it gets 504.
    pub request_timeout: Duration,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            max_limit: MAX_SEARCH_LIMIT,
            default_limit: 50,
            cors_origins: CorsOrigins::List(Vec::new()),
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// Cheap to clone: everything is behind `Arc`s.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn StateStore>,
    pub config: Arc<ApiConfig>,
    pub metrics: Arc<Metrics>,
}

impl AppState {
    /// A state with its own metrics registry.
    pub fn new(store: Arc<dyn StateStore>, config: ApiConfig) -> Self {
        Self {
            store,
            config: Arc::new(config),
            metrics: Arc::new(Metrics::new()),
        }
    }
}

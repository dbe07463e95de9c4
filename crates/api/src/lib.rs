//! The HTTP query service: objects, light curves (JSON, CSV, SVG, PNG), classification history,
//! search and anomalies, read from the [`store::StateStore`]; plus health, readiness, Prometheus
//! metrics and an OpenAPI document built from the same route table as the router.

mod error;
mod lightcurve;
mod metrics;
mod openapi;
mod params;
mod plot;
mod routes;
mod server;
mod spec;
mod state;
pub mod taxonomy;
mod views;

pub use error::ApiError;
pub use lightcurve::CSV_COLUMNS;
pub use metrics::Metrics;
/// The 8×8-font bitmap backend of the PNG plots, for other figures that should look the same.
pub use plot::glyph::GlyphBitmap;
pub use server::{router, serve};
pub use state::{ApiConfig, AppState, CorsOrigins};

/// Every route path, in the form the router and the OpenAPI document use (`/objects/{oid}`).
pub fn route_paths() -> Vec<&'static str> {
    routes::ROUTES.iter().map(|r| r.path).collect()
}

/// The OpenAPI document for a configuration.
pub fn openapi_document(config: &ApiConfig) -> serde_json::Value {
    openapi::document(config)
}

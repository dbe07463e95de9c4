//! `/objects/{oid}/lightcurve.svg` and `.png`.

use std::collections::HashMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::objects::{target, unknown};
use super::{OID, SURVEY};
use crate::error::{ApiError, ApiResult};
use crate::lightcurve::LightCurveView;
use crate::plot::{self, YAxis};
use crate::spec::{Kind, Location, Param};
use crate::state::AppState;

pub const PARAMS: &[Param] = &[
    OID,
    SURVEY,
    Param {
        name: "y",
        location: Location::Query,
        required: false,
        kind: Kind::OneOf(&["mag", "flux"]),
        description: "y axis: AB magnitude, brighter up (default), or difference flux in nJy",
    },
];

pub const DESCRIPTION: &str = "One colour per band; detections are filled circles with 1-sigma \
    error bars, forced photometry hollow circles, upper limits down-pointing triangles. x: MJD; \
    y: AB magnitude (inverted; points with flux <= 0 are left out) or flux in nJy with `?y=flux`. \
    The title names the latest class.";

enum Format {
    Svg,
    Png,
}

async fn render(
    state: AppState,
    oid: String,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
    format: Format,
) -> ApiResult<Response> {
    let (survey, id, params) = target(&oid, query, PARAMS)?;
    let axis = match params.str("y") {
        None | Some("mag") => YAxis::Magnitude,
        Some("flux") => YAxis::Flux,
        Some(other) => {
            return Err(ApiError::bad_request(
                "invalid y",
                json!({ "parameter": "y", "value": other, "expected": ["mag", "flux"] }),
            ));
        }
    };
    let (lc, summary) = tokio::join!(
        state.store.light_curve(survey, &id),
        state.store.object(survey, &id)
    );
    let lc = lc?.ok_or_else(|| unknown(survey, &id))?;
    let class = summary?.and_then(|s| s.latest_classification).map_or_else(
        || "unclassified".to_owned(),
        |c| format!("{} (p = {:.2})", c.class, c.probability),
    );
    // ASCII only: the PNG font has no other glyphs.
    let title: String = format!("{id} ({survey}) - {class}")
        .chars()
        .map(|c| if c.is_ascii() { c } else { '?' })
        .collect();
    let view = LightCurveView::from(lc);
    // Drawing is CPU work: keep it off the async workers.
    let rendered = tokio::task::spawn_blocking(move || match format {
        Format::Svg => {
            plot::svg(&view, axis, &title).map(|svg| ("image/svg+xml", svg.into_bytes()))
        }
        Format::Png => plot::png(&view, axis, &title).map(|png| ("image/png", png)),
    })
    .await
    .map_err(|e| ApiError::internal(format!("plot task: {e}")))?;
    let (content_type, body) = rendered.map_err(|e| ApiError::internal(format!("plot: {e}")))?;
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}

pub async fn svg(
    State(state): State<AppState>,
    Path(oid): Path<String>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> ApiResult<Response> {
    render(state, oid, query, Format::Svg).await
}

pub async fn png(
    State(state): State<AppState>,
    Path(oid): Path<String>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> ApiResult<Response> {
    render(state, oid, query, Format::Png).await
}

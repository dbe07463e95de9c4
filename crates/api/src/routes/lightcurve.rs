//! `/objects/{oid}/lightcurve`: JSON by default, CSV on request.

use std::collections::HashMap;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::objects::{target, unknown};
use super::{OID, SURVEY};
use crate::error::{ApiError, ApiResult};
use crate::lightcurve::{LightCurveView, to_csv};
use crate::spec::{Kind, Location, Param};
use crate::state::AppState;

pub const PARAMS: &[Param] = &[
    OID,
    SURVEY,
    Param {
        name: "format",
        location: Location::Query,
        required: false,
        kind: Kind::OneOf(&["json", "csv"]),
        description: "Overrides the Accept header",
    },
];

pub const DESCRIPTION: &str = "JSON: `detections`, `forced_photometry`, `upper_limits`, each a \
    list in MJD order of `{mjd, band, flux, flux_err, mag, mag_err, source_id}`; flux is the \
    difference flux in nJy, mag the AB magnitude of a positive flux (null when flux <= 0), \
    mag_err its first-order error. Upper limits give the 5-sigma limiting magnitude in `mag` and \
    its flux in `flux`, with null errors. CSV (`Accept: text/csv` or `?format=csv`): header \
    `kind,mjd,band,flux_njy,flux_err_njy,mag_ab,mag_err,source_id`, one row per point, `kind` \
    one of detection, forced, upper_limit; empty fields are nulls.";

/// `?format=` wins; otherwise CSV only when the Accept header prefers it to JSON.
fn wants_csv(format: Option<&str>, headers: &HeaderMap) -> ApiResult<bool> {
    match format {
        Some(f) if f.eq_ignore_ascii_case("csv") => Ok(true),
        Some(f) if f.eq_ignore_ascii_case("json") => Ok(false),
        Some(f) => Err(ApiError::bad_request(
            "invalid format",
            json!({ "parameter": "format", "value": f, "expected": ["json", "csv"] }),
        )),
        None => {
            let accept = headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let csv = accept.find("text/csv");
            let json = accept.find("application/json");
            Ok(match (csv, json) {
                (Some(c), Some(j)) => c < j,
                (Some(_), None) => true,
                _ => false,
            })
        }
    }
}

pub async fn light_curve(
    State(state): State<AppState>,
    Path(oid): Path<String>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (survey, id, params) = target(&oid, query, PARAMS)?;
    let csv = wants_csv(params.str("format"), &headers)?;
    let lc = state
        .store
        .light_curve(survey, &id)
        .await?
        .ok_or_else(|| unknown(survey, &id))?;
    let view = LightCurveView::from(lc);
    if csv {
        let name = format!("attachment; filename=\"{id}_lightcurve.csv\"");
        Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, name),
            ],
            to_csv(&view),
        )
            .into_response())
    } else {
        Ok(Json(view).into_response())
    }
}

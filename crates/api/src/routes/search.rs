//! `/objects` (search with keyset pagination) and `/anomalies`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde_json::json;
use store::SearchQuery;

use super::{LIMIT, SURVEY};
use crate::error::{ApiError, ApiResult};
use crate::params::{Params, encode_query_value};
use crate::spec::{Kind, Location, Param};
use crate::state::AppState;
use crate::taxonomy;
use crate::views::ObjectList;

/// Longest cursor accepted (the store's are ~50 characters).
const MAX_CURSOR_CHARS: usize = 256;

const fn query(name: &'static str, kind: Kind, description: &'static str) -> Param {
    Param {
        name,
        location: Location::Query,
        required: false,
        kind,
        description,
    }
}

pub const SEARCH_PARAMS: &[Param] = &[
    query(
        "class",
        Kind::String,
        "Latest predicted class, one of /classes (any letter case)",
    ),
    query(
        "min_probability",
        Kind::Number {
            min: Some(0.0),
            max: Some(1.0),
        },
        "Latest class probability at least this",
    ),
    query(
        "min_anomaly",
        Kind::Number {
            min: None,
            max: None,
        },
        "Latest anomaly score at least this",
    ),
    query(
        "since_mjd",
        Kind::Number {
            min: None,
            max: None,
        },
        "Last detection at or after this MJD",
    ),
    SURVEY,
    LIMIT,
    query("cursor", Kind::String, "`next_cursor` of the previous page"),
];

pub async fn search(
    State(state): State<AppState>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> ApiResult<Json<ObjectList>> {
    let params = Params::from_query(query, SEARCH_PARAMS)?;
    let class = params
        .str("class")
        .map(|name| {
            taxonomy::canonical_class(name).ok_or_else(|| {
                ApiError::bad_request(
                    "unknown class",
                    json!({ "class": name.chars().take(80).collect::<String>(),
                            "known": taxonomy::classes().collect::<Vec<_>>() }),
                )
            })
        })
        .transpose()?;
    let cursor = params.str("cursor").map(str::to_owned);
    if cursor.as_ref().is_some_and(|c| c.len() > MAX_CURSOR_CHARS) {
        return Err(ApiError::bad_request(
            "invalid cursor",
            json!("longer than any cursor this service hands out"),
        ));
    }
    let search = SearchQuery {
        survey: params.survey()?,
        class: class.map(str::to_owned),
        min_probability: params.f64("min_probability", Some((0.0, 1.0)))?,
        min_anomaly_score: params.f64("min_anomaly", None)?,
        since_mjd: params.f64("since_mjd", None)?,
        limit: params.limit(state.config.default_limit, state.config.max_limit)?,
        cursor,
    };
    let page = state.store.search(&search).await?;
    let next = page.next_cursor.as_deref().map(|c| next_link(&params, c));
    Ok(Json(ObjectList::new(page.objects, page.next_cursor, next)))
}

/// The same query with the new cursor.
fn next_link(params: &Params, cursor: &str) -> String {
    let mut parts: Vec<String> = SEARCH_PARAMS
        .iter()
        .filter(|p| p.name != "cursor")
        .filter_map(|p| {
            params
                .str(p.name)
                .map(|v| format!("{}={}", p.name, encode_query_value(v)))
        })
        .collect();
    parts.push(format!("cursor={}", encode_query_value(cursor)));
    format!("/objects?{}", parts.join("&"))
}

pub async fn anomalies(
    State(state): State<AppState>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> ApiResult<Json<ObjectList>> {
    let params = Params::from_query(query, &[LIMIT])?;
    let limit = params.limit(state.config.default_limit, state.config.max_limit)?;
    let objects = state.store.top_anomalies(limit).await?;
    Ok(Json(ObjectList::new(objects, None, None)))
}

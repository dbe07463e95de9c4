//! `/objects/{oid}` and its classification history.

use std::collections::HashMap;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use serde::Serialize;
use serde_json::json;

use super::OBJECT_PARAMS;
use crate::error::{ApiError, ApiResult};
use crate::params::{self, Params};
use crate::state::AppState;
use crate::views::{ClassificationView, ObjectView};
use alert_model::{ObjectId, Survey};

type QueryMap = Result<Query<HashMap<String, String>>, QueryRejection>;

/// The object named by the path and `?survey=`, checked against the route's parameters.
pub(super) fn target(
    oid: &str,
    query: QueryMap,
    spec: &[crate::spec::Param],
) -> ApiResult<(Survey, ObjectId, Params)> {
    let params = Params::from_query(query, spec)?;
    let (survey, id) = params::object_id(oid, params.survey()?)?;
    Ok((survey, id, params))
}

pub(super) fn unknown(survey: Survey, id: &ObjectId) -> ApiError {
    ApiError::not_found(
        "unknown object",
        json!({ "survey": survey, "object_id": id }),
    )
}

pub async fn object(
    State(state): State<AppState>,
    Path(oid): Path<String>,
    query: QueryMap,
) -> ApiResult<Json<ObjectView<ClassificationView>>> {
    let (survey, id, _) = target(&oid, query, OBJECT_PARAMS)?;
    // The row keeps only the latest class and score; the full record (probabilities,
    // uncertainty) is the newest entry of the history, read in the same query.
    let (summary, latest) = state
        .store
        .object_with_latest(survey, &id)
        .await?
        .ok_or_else(|| unknown(survey, &id))?;
    let latest = latest.map(ClassificationView::from);
    Ok(Json(ObjectView::new(summary, latest)))
}

#[derive(Serialize)]
pub struct History {
    survey: Survey,
    object_id: ObjectId,
    count: usize,
    classifications: Vec<ClassificationView>,
}

pub async fn classifications(
    State(state): State<AppState>,
    Path(oid): Path<String>,
    query: QueryMap,
) -> ApiResult<Json<History>> {
    let (survey, id, _) = target(&oid, query, OBJECT_PARAMS)?;
    let history = state.store.classifications(survey, &id).await?;
    // An empty history is either an unclassified object or an unknown one: ask which.
    if history.is_empty() && state.store.object(survey, &id).await?.is_none() {
        return Err(unknown(survey, &id));
    }
    let classifications: Vec<_> = history.into_iter().map(ClassificationView::from).collect();
    Ok(Json(History {
        count: classifications.len(),
        survey,
        object_id: id,
        classifications,
    }))
}

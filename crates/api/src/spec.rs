//! Descriptions of routes, parameters and responses: the router and the OpenAPI document are
//! both built from one table of these ([`crate::routes::ROUTES`]).

use axum::routing::MethodRouter;

use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Path,
    Query,
}

/// The JSON-schema type of a parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    String,
    /// An integer; a `None` maximum means the configured limit cap.
    Integer {
        min: i64,
        max: Option<i64>,
    },
    Number {
        min: Option<f64>,
        max: Option<f64>,
    },
    OneOf(&'static [&'static str]),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Param {
    pub name: &'static str,
    pub location: Location,
    pub required: bool,
    pub kind: Kind,
    pub description: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub description: &'static str,
    /// Media types of the body; the first is the default.
    pub content: &'static [&'static str],
}

pub const JSON: &[&str] = &["application/json"];

pub const BAD_REQUEST: Response = Response {
    status: 400,
    description: "Invalid parameter: `{\"error\", \"detail\"}`",
    content: JSON,
};
pub const NOT_FOUND: Response = Response {
    status: 404,
    description: "No such object",
    content: JSON,
};
pub const UNAVAILABLE: Response = Response {
    status: 503,
    description: "The store is unreachable or not migrated",
    content: JSON,
};
pub const TIMEOUT: Response = Response {
    status: 504,
    description: "The request took longer than the configured timeout",
    content: JSON,
};

pub struct Route {
    pub path: &'static str,
    pub operation_id: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    pub description: &'static str,
    pub params: &'static [Param],
    pub responses: &'static [Response],
    /// The GET handler.
    pub handler: fn() -> MethodRouter<AppState>,
}

/// Names of the query parameters in a parameter list.
pub fn query_names(params: &[Param]) -> Vec<&'static str> {
    params
        .iter()
        .filter(|p| p.location == Location::Query)
        .map(|p| p.name)
        .collect()
}

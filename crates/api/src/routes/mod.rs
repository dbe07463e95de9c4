//! The route table: every endpoint, its parameters and responses, and its handler.

mod lightcurve;
mod meta;
mod objects;
mod plot;
mod search;

use axum::routing::get;

use crate::spec::{
    BAD_REQUEST, JSON, Kind, Location, NOT_FOUND, Param, Response, Route, UNAVAILABLE,
};

const OID: Param = Param {
    name: "oid",
    location: Location::Path,
    required: true,
    kind: Kind::String,
    description: "Object id: a ZTF objectId (ZTF18adoojej) or a Rubin diaObjectId (integer)",
};
const SURVEY: Param = Param {
    name: "survey",
    location: Location::Query,
    required: false,
    kind: Kind::OneOf(&["ztf", "lsst"]),
    description: "Survey of the id; inferred from the id's shape when absent",
};
const LIMIT: Param = Param {
    name: "limit",
    location: Location::Query,
    required: false,
    kind: Kind::Integer { min: 1, max: None },
    description: "Page size (default 50); larger than the cap is refused",
};

/// Parameters of every `/objects/{oid}…` route.
const OBJECT_PARAMS: &[Param] = &[OID, SURVEY];

const OBJECT_RESPONSES: [Response; 3] = [BAD_REQUEST, NOT_FOUND, UNAVAILABLE];

pub const ROUTES: &[Route] = &[
    Route {
        path: "/objects",
        operation_id: "searchObjects",
        tag: "objects",
        summary: "Search objects by latest classification, anomaly score and recency",
        description: "Newest activity first (last detection MJD descending). Keyset pagination: \
            follow `next` (or pass `next_cursor` as `cursor`) until it is null.",
        params: search::SEARCH_PARAMS,
        responses: &[
            Response {
                status: 200,
                description: "A page of objects",
                content: JSON,
            },
            BAD_REQUEST,
            UNAVAILABLE,
        ],
        handler: || get(search::search),
    },
    Route {
        path: "/objects/{oid}",
        operation_id: "getObject",
        tag: "objects",
        summary: "One object: position, epochs, detections per band, latest classification",
        description: "`latest_classification` is null for an unclassified object; `links` point \
            to its light curve, plots and classification history.",
        params: OBJECT_PARAMS,
        responses: &[
            Response {
                status: 200,
                description: "The object",
                content: JSON,
            },
            OBJECT_RESPONSES[0],
            OBJECT_RESPONSES[1],
            OBJECT_RESPONSES[2],
        ],
        handler: || get(objects::object),
    },
    Route {
        path: "/objects/{oid}/lightcurve",
        operation_id: "getLightCurve",
        tag: "objects",
        summary: "Detections, forced photometry and upper limits",
        description: lightcurve::DESCRIPTION,
        params: lightcurve::PARAMS,
        responses: &[
            Response {
                status: 200,
                description: "The light curve",
                content: &["application/json", "text/csv"],
            },
            OBJECT_RESPONSES[0],
            OBJECT_RESPONSES[1],
            OBJECT_RESPONSES[2],
        ],
        handler: || get(lightcurve::light_curve),
    },
    Route {
        path: "/objects/{oid}/lightcurve.svg",
        operation_id: "plotLightCurveSvg",
        tag: "plots",
        summary: "Light-curve plot (SVG)",
        description: plot::DESCRIPTION,
        params: plot::PARAMS,
        responses: &[
            Response {
                status: 200,
                description: "The plot",
                content: &["image/svg+xml"],
            },
            OBJECT_RESPONSES[0],
            OBJECT_RESPONSES[1],
            OBJECT_RESPONSES[2],
        ],
        handler: || get(plot::svg),
    },
    Route {
        path: "/objects/{oid}/lightcurve.png",
        operation_id: "plotLightCurvePng",
        tag: "plots",
        summary: "Light-curve plot (PNG)",
        description: plot::DESCRIPTION,
        params: plot::PARAMS,
        responses: &[
            Response {
                status: 200,
                description: "The plot",
                content: &["image/png"],
            },
            OBJECT_RESPONSES[0],
            OBJECT_RESPONSES[1],
            OBJECT_RESPONSES[2],
        ],
        handler: || get(plot::png),
    },
    Route {
        path: "/objects/{oid}/classifications",
        operation_id: "getClassifications",
        tag: "objects",
        summary: "Classification history, newest first",
        description: "Every recorded classification: model, triggering source id, class and \
            top-level probabilities, uncertainty, anomaly score, creation time.",
        params: OBJECT_PARAMS,
        responses: &[
            Response {
                status: 200,
                description: "The history",
                content: JSON,
            },
            OBJECT_RESPONSES[0],
            OBJECT_RESPONSES[1],
            OBJECT_RESPONSES[2],
        ],
        handler: || get(objects::classifications),
    },
    Route {
        path: "/anomalies",
        operation_id: "topAnomalies",
        tag: "objects",
        summary: "Classified objects with the highest latest anomaly score",
        description: "Highest anomaly score first.",
        params: &[LIMIT],
        responses: &[
            Response {
                status: 200,
                description: "Objects",
                content: JSON,
            },
            BAD_REQUEST,
            UNAVAILABLE,
        ],
        handler: || get(search::anomalies),
    },
    Route {
        path: "/classes",
        operation_id: "listClasses",
        tag: "meta",
        summary: "The classification taxonomy",
        description: "ALeRCE's 15 light-curve classes grouped under Transient, Stochastic and \
            Periodic (Sánchez-Sáez et al. 2021).",
        params: &[],
        responses: &[Response {
            status: 200,
            description: "The taxonomy",
            content: JSON,
        }],
        handler: || get(meta::classes),
    },
    Route {
        path: "/healthz",
        operation_id: "health",
        tag: "meta",
        summary: "Liveness: the process answers",
        description: "Does not touch the store.",
        params: &[],
        responses: &[Response {
            status: 200,
            description: "Alive",
            content: JSON,
        }],
        handler: || get(meta::healthz),
    },
    Route {
        path: "/readyz",
        operation_id: "ready",
        tag: "meta",
        summary: "Readiness: the store answers and its schema is current",
        description: "503 while the store is down or not migrated.",
        params: &[],
        responses: &[
            Response {
                status: 200,
                description: "Ready",
                content: JSON,
            },
            UNAVAILABLE,
        ],
        handler: || get(meta::readyz),
    },
    Route {
        path: "/metrics",
        operation_id: "metrics",
        tag: "meta",
        summary: "Prometheus metrics (deeprubin_api_*)",
        description: "Request count and latency histogram per route template, method and status.",
        params: &[],
        responses: &[Response {
            status: 200,
            description: "Text exposition format 0.0.4",
            content: &["text/plain; version=0.0.4"],
        }],
        handler: || get(meta::metrics),
    },
    Route {
        path: "/openapi.json",
        operation_id: "openapi",
        tag: "meta",
        summary: "This API's OpenAPI 3.1 document",
        description: "Built from the same route table as the router.",
        params: &[],
        responses: &[Response {
            status: 200,
            description: "The document",
            content: JSON,
        }],
        handler: || get(meta::openapi),
    },
    Route {
        path: "/docs",
        operation_id: "docs",
        tag: "meta",
        summary: "Human-readable API documentation",
        description: "The OpenAPI document rendered as a self-contained HTML page.",
        params: &[],
        responses: &[Response {
            status: 200,
            description: "HTML",
            content: &["text/html"],
        }],
        handler: || get(meta::docs),
    },
];

//! The OpenAPI 3.1 document, generated from the route table, and a self-contained HTML rendering
//! of it for `/docs` (no scripts, no CDN).

use serde_json::{Map, Value, json};

use crate::routes::ROUTES;
use crate::spec::{Kind, Location, Param, TIMEOUT};
use crate::state::ApiConfig;

fn schema(kind: Kind, config: &ApiConfig) -> Value {
    match kind {
        Kind::String => json!({ "type": "string" }),
        Kind::Integer { min, max } => {
            json!({ "type": "integer", "minimum": min, "maximum": max.unwrap_or(i64::from(config.max_limit)) })
        }
        Kind::Number { min, max } => {
            let mut s = json!({ "type": "number" });
            if let Some(min) = min {
                s["minimum"] = json!(min);
            }
            if let Some(max) = max {
                s["maximum"] = json!(max);
            }
            s
        }
        Kind::OneOf(values) => json!({ "type": "string", "enum": values }),
    }
}

fn parameter(p: &Param, config: &ApiConfig) -> Value {
    json!({
        "name": p.name,
        "in": match p.location { Location::Path => "path", Location::Query => "query" },
        "required": p.required,
        "description": p.description,
        "schema": schema(p.kind, config),
    })
}

/// The document for a configuration (the limit cap appears in the schemas).
pub fn document(config: &ApiConfig) -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        let mut responses = Map::new();
        for r in route.responses.iter().chain([&TIMEOUT]) {
            let content: Map<String, Value> = r
                .content
                .iter()
                .map(|media| {
                    let schema = if *media == "application/json" && r.status >= 400 {
                        json!({ "$ref": "#/components/schemas/Error" })
                    } else {
                        json!({})
                    };
                    ((*media).to_owned(), json!({ "schema": schema }))
                })
                .collect();
            responses.insert(
                r.status.to_string(),
                json!({ "description": r.description, "content": content }),
            );
        }
        let params: Vec<Value> = route.params.iter().map(|p| parameter(p, config)).collect();
        paths.insert(
            route.path.to_owned(),
            json!({ "get": {
                "operationId": route.operation_id,
                "tags": [route.tag],
                "summary": route.summary,
                "description": route.description,
                "parameters": params,
                "responses": responses,
            }}),
        );
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "DeepRubin-Explorer API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Objects, light curves, classifications and anomalies from the ZTF and \
                Rubin/LSST alert streams. Times are MJD, fluxes difference fluxes in nJy, \
                magnitudes AB.",
        },
        "paths": paths,
        "components": { "schemas": { "Error": {
            "type": "object",
            "required": ["error", "detail"],
            "properties": {
                "error": { "type": "string", "description": "What kind of failure" },
                "detail": { "description": "The offending value and what was expected, or null" },
            },
        }}},
    })
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => escape(s),
        Value::Null => String::new(),
        other => escape(&other.to_string()),
    }
}

/// One section per path: summary, description, parameters table and responses.
pub fn html(doc: &Value) -> String {
    let mut body = String::new();
    let empty = Map::new();
    let paths = doc["paths"].as_object().unwrap_or(&empty);
    body.push_str("<nav><ul>");
    for path in paths.keys() {
        let anchor = escape(&path.replace(['/', '{', '}', '.'], "_"));
        body.push_str(&format!(
            "<li><a href=\"#{anchor}\"><code>GET {}</code></a></li>",
            escape(path)
        ));
    }
    body.push_str("</ul></nav>");
    for (path, item) in paths {
        let op = &item["get"];
        let anchor = escape(&path.replace(['/', '{', '}', '.'], "_"));
        body.push_str(&format!(
            "<section id=\"{anchor}\"><h2><code>GET {}</code></h2><p><b>{}</b></p><p>{}</p>",
            escape(path),
            text(&op["summary"]),
            text(&op["description"])
        ));
        if let Some(params) = op["parameters"].as_array().filter(|p| !p.is_empty()) {
            body.push_str(
                "<table><tr><th>parameter</th><th>in</th><th>required</th><th>schema</th><th>description</th></tr>",
            );
            for p in params {
                body.push_str(&format!(
                    "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
                    text(&p["name"]),
                    text(&p["in"]),
                    text(&p["required"]),
                    text(&p["schema"]),
                    text(&p["description"])
                ));
            }
            body.push_str("</table>");
        }
        body.push_str("<ul>");
        if let Some(responses) = op["responses"].as_object() {
            for (status, r) in responses {
                let media: Vec<String> = r["content"]
                    .as_object()
                    .map(|c| c.keys().map(|k| escape(k)).collect())
                    .unwrap_or_default();
                body.push_str(&format!(
                    "<li><b>{}</b> {} <small>({})</small></li>",
                    escape(status),
                    text(&r["description"]),
                    media.join(", ")
                ));
            }
        }
        body.push_str("</ul></section>");
    }
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <style>body{{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;line-height:1.4}}\
         table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}}\
         section{{border-top:1px solid #ddd;margin-top:1.5em}}</style></head><body>\
         <h1>{title} <small>{version}</small></h1><p>{description}</p>\
         <p>Machine-readable: <a href=\"/openapi.json\">/openapi.json</a> (OpenAPI {openapi}).</p>{body}</body></html>",
        title = text(&doc["info"]["title"]),
        version = text(&doc["info"]["version"]),
        description = text(&doc["info"]["description"]),
        openapi = text(&doc["openapi"]),
    )
}

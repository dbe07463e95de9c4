//! Registering the output event's schema with a Confluent-compatible schema registry, so events
//! can be framed with the id downstream consumers look up (`POST /subjects/{subject}/versions`).

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("schema registry at {url}: {reason}")]
    Failed { url: String, reason: String },
}

/// Registers `schema` under `subject` (by convention `<topic>-value`) and returns its id; the
/// registry answers with the existing id when the same schema is already registered.
pub fn register_schema(
    registry: &str,
    subject: &str,
    schema: &str,
    timeout: Duration,
) -> Result<u32, RegistryError> {
    let url = format!(
        "{}/subjects/{subject}/versions",
        registry.trim_end_matches('/')
    );
    let failed = |reason: String| RegistryError::Failed {
        url: url.clone(),
        reason,
    };
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .build()
        .new_agent();
    let body = serde_json::json!({ "schema": schema }).to_string();
    let mut response = agent
        .post(&url)
        .header("Content-Type", "application/vnd.schemaregistry.v1+json")
        .send(body.as_bytes())
        .map_err(|e| failed(e.to_string()))?;
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .with_config()
        .limit(1 << 20)
        .read_to_string()
        .map_err(|e| failed(format!("reading the answer: {e}")))?;
    if status != 200 {
        return Err(failed(format!(
            "HTTP {status}: {}",
            text.chars().take(200).collect::<String>()
        )));
    }
    #[derive(serde::Deserialize)]
    struct Registered {
        id: u32,
    }
    serde_json::from_str::<Registered>(&text)
        .map(|r| r.id)
        .map_err(|e| failed(format!("unexpected answer {text:?}: {e}")))
}

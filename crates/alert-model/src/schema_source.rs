//! Where Rubin writer schemas come from: a schema registry (`GET {url}/schemas/ids/{id}`) or a
//! directory laid out like `lsst-alert-packet` (`<major>/<minor>/lsst.v<major>_<minor>.*.avsc`,
//! id = major·100 + minor). Both cache what they load.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::DecodeError;
use crate::avro::Schema;

/// A source of writer schemas by Confluent schema id.
pub trait WriterSchemaSource: Send + Sync + std::fmt::Debug {
    fn schema(&self, id: u32) -> Result<Arc<Schema>, DecodeError>;
}

/// Schema version `major.minor` of a Rubin schema id.
pub fn lsst_version_of_id(id: u32) -> String {
    format!("{}.{}", id / 100, id % 100)
}

#[derive(Debug, Default)]
struct Cache(RwLock<HashMap<u32, Arc<Schema>>>);

impl Cache {
    fn get(&self, id: u32) -> Option<Arc<Schema>> {
        self.0
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .cloned()
    }

    fn put(&self, id: u32, schema: Schema) -> Arc<Schema> {
        let schema = Arc::new(schema);
        self.0
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, Arc::clone(&schema));
        schema
    }
}

/// Schemas read from a local copy of Rubin's `lsst-alert-packet` schema tree.
#[derive(Debug)]
pub struct SchemaDirectory {
    root: PathBuf,
    cache: Cache,
}

impl SchemaDirectory {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        SchemaDirectory {
            root: root.into(),
            cache: Cache::default(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn load(&self, id: u32) -> Result<Schema, DecodeError> {
        let (major, minor) = (id / 100, id % 100);
        let dir = self.root.join(major.to_string()).join(minor.to_string());
        let prefix = format!("lsst.v{major}_{minor}.");
        let entries = std::fs::read_dir(&dir).map_err(|_| DecodeError::UnknownSchemaId(id))?;
        let mut alert = None;
        let mut parts = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !(name.starts_with(&prefix) && name.ends_with(".avsc")) {
                continue;
            }
            let text = std::fs::read_to_string(entry.path()).map_err(|e| {
                DecodeError::InvalidSchema(format!("{}: {e}", entry.path().display()))
            })?;
            if name == format!("{prefix}alert.avsc") {
                alert = Some(text);
            } else {
                parts.push(text);
            }
        }
        let alert = alert.ok_or(DecodeError::UnknownSchemaId(id))?;
        let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
        Schema::parse_with_dependencies(&parts, &alert)
    }
}

impl WriterSchemaSource for SchemaDirectory {
    fn schema(&self, id: u32) -> Result<Arc<Schema>, DecodeError> {
        if let Some(s) = self.cache.get(id) {
            return Ok(s);
        }
        Ok(self.cache.put(id, self.load(id)?))
    }
}

/// A Confluent-compatible schema registry client with timeouts and a cache.
#[derive(Debug)]
pub struct SchemaRegistry {
    base_url: String,
    agent: ureq::Agent,
    cache: Cache,
}

impl SchemaRegistry {
    pub fn new(base_url: impl Into<String>, timeout: Duration) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .build()
            .new_agent();
        SchemaRegistry {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            agent,
            cache: Cache::default(),
        }
    }

    fn fetch(&self, id: u32) -> Result<Schema, DecodeError> {
        let url = format!("{}/schemas/ids/{id}", self.base_url);
        let unreachable = |reason: String| DecodeError::RegistryUnreachable {
            url: url.clone(),
            reason,
        };
        let mut response = self
            .agent
            .get(&url)
            .call()
            .map_err(|e| unreachable(e.to_string()))?;
        let status = response.status().as_u16();
        // Confluent: 404 with error_code 40403 = "Schema not found".
        if status == 404 {
            return Err(DecodeError::UnknownSchemaId(id));
        }
        let body = response
            .body_mut()
            .with_config()
            .limit(16 << 20)
            .read_to_string()
            .map_err(|e| unreachable(format!("reading the response: {e}")))?;
        if status != 200 {
            return Err(unreachable(format!(
                "HTTP {status}: {}",
                truncate(&body, 200)
            )));
        }
        #[derive(serde::Deserialize)]
        struct SchemaResponse {
            schema: String,
        }
        let parsed: SchemaResponse = serde_json::from_str(&body).map_err(|e| {
            DecodeError::InvalidSchema(format!("registry answer for id {id} is not a schema: {e}"))
        })?;
        Schema::parse(&parsed.schema)
    }
}

fn truncate(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

impl WriterSchemaSource for SchemaRegistry {
    fn schema(&self, id: u32) -> Result<Arc<Schema>, DecodeError> {
        if let Some(s) = self.cache.get(id) {
            return Ok(s);
        }
        Ok(self.cache.put(id, self.fetch(id)?))
    }
}

/// The project's own schemas (simulated Rubin alerts, id 99xx), known without any configuration.
#[derive(Debug, Default)]
pub struct BuiltinSchemas {
    cache: Cache,
}

impl WriterSchemaSource for BuiltinSchemas {
    fn schema(&self, id: u32) -> Result<Arc<Schema>, DecodeError> {
        if let Some(s) = self.cache.get(id) {
            return Ok(s);
        }
        match id {
            crate::encode::SIM_LSST_SCHEMA_ID => Ok(self
                .cache
                .put(id, Schema::parse(crate::encode::LSST_SIM_SCHEMA)?)),
            other => Err(DecodeError::UnknownSchemaId(other)),
        }
    }
}

/// Tries each source in order: e.g. the registry, then the published schema files when the
/// registry is down or does not know the id.
#[derive(Debug)]
pub struct FallbackSources(pub Vec<Box<dyn WriterSchemaSource>>);

impl WriterSchemaSource for FallbackSources {
    fn schema(&self, id: u32) -> Result<Arc<Schema>, DecodeError> {
        let mut last = DecodeError::UnknownSchemaId(id);
        for source in &self.0 {
            match source.schema(id) {
                Ok(s) => return Ok(s),
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}

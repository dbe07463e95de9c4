//! Compiled writer schemas keyed by their exact JSON bytes, so a stream of packets with the same
//! header parses the schema once.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use xxhash_rust::xxh3::xxh3_64;

use super::Schema;
use crate::DecodeError;

/// Distinct schemas kept; a stream sees a handful, so hitting this means garbage headers.
const DEFAULT_CAPACITY: usize = 256;

type Bucket = Vec<(Box<[u8]>, Arc<Schema>)>;

#[derive(Debug)]
pub struct SchemaCache {
    entries: RwLock<HashMap<u64, Bucket>>,
    capacity: usize,
}

impl Default for SchemaCache {
    fn default() -> Self {
        SchemaCache {
            entries: RwLock::new(HashMap::new()),
            capacity: DEFAULT_CAPACITY,
        }
    }
}

impl SchemaCache {
    pub fn get_or_parse(&self, json: &[u8]) -> Result<Arc<Schema>, DecodeError> {
        let hash = xxh3_64(json);
        if let Some(schema) = self.lookup(hash, json) {
            return Ok(schema);
        }
        let text = std::str::from_utf8(json)
            .map_err(|_| DecodeError::InvalidSchema("writer schema is not UTF-8".into()))?;
        let schema = Arc::new(Schema::parse(text)?);
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if entries.values().map(Vec::len).sum::<usize>() >= self.capacity {
            entries.clear();
        }
        entries
            .entry(hash)
            .or_default()
            .push((json.into(), Arc::clone(&schema)));
        Ok(schema)
    }

    fn lookup(&self, hash: u64, json: &[u8]) -> Option<Arc<Schema>> {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        entries
            .get(&hash)?
            .iter()
            .find(|(bytes, _)| &bytes[..] == json)
            .map(|(_, s)| Arc::clone(s))
    }

    pub fn len(&self) -> usize {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        entries.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_distinct_schema_once() {
        let cache = SchemaCache::default();
        let a = cache.get_or_parse(br#""long""#).unwrap();
        let b = cache.get_or_parse(br#""long""#).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        cache.get_or_parse(br#""int""#).unwrap();
        assert_eq!(cache.len(), 2);
        assert!(cache.get_or_parse(b"{").is_err());
    }
}

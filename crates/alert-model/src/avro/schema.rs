//! Writer schemas compiled into a node arena, with named references resolved once.
//!
//! Only what reading needs is kept: logical types read as their underlying type, docs and defaults
//! are dropped. Parsing follows the Avro 1.11 specification ("Schema Declaration", "Names").

use serde_json::Value;
use std::collections::HashMap;

use crate::DecodeError;

pub type NodeId = usize;

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    String,
    Fixed(usize),
    Enum(Vec<String>),
    Array(NodeId),
    Map(NodeId),
    Union(Vec<NodeId>),
    Record(Record),
    /// A named reference; replaced by the definition it names before the schema is used.
    Ref(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Full name, e.g. `ztf.alert` or `topLevelRecord`.
    pub name: String,
    pub fields: Vec<Field>,
    index: HashMap<String, usize>,
}

impl Record {
    /// Position of a field by name.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub node: NodeId,
}

/// A compiled writer schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    nodes: Vec<Node>,
    /// Minimum number of encoded bytes of each node: bounds array lengths against input size.
    min_sizes: Vec<usize>,
    root: NodeId,
}

/// Schemas deeper than this are refused (no alert schema comes close).
const MAX_SCHEMA_DEPTH: usize = 64;

impl Schema {
    /// Parses one JSON schema document.
    pub fn parse(json: &str) -> Result<Schema, DecodeError> {
        Self::parse_with_dependencies(&[], json)
    }

    /// Parses a schema whose named types are defined in other documents (Rubin's split `.avsc`
    /// files), in any order.
    pub fn parse_with_dependencies(
        dependencies: &[&str],
        json: &str,
    ) -> Result<Schema, DecodeError> {
        let mut builder = Builder::default();
        for dep in dependencies {
            let value = parse_json(dep)?;
            builder.node(&value, "", 0)?;
        }
        let value = parse_json(json)?;
        let root = builder.node(&value, "", 0)?;
        builder.finish(root)
    }

    pub fn root(&self) -> NodeId {
        self.root
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    pub(crate) fn min_size(&self, id: NodeId) -> usize {
        self.min_sizes[id]
    }

    /// The record at the root, if the root is a record.
    pub fn root_record(&self) -> Option<&Record> {
        match self.node(self.root) {
            Node::Record(r) => Some(r),
            _ => None,
        }
    }
}

fn parse_json(json: &str) -> Result<Value, DecodeError> {
    serde_json::from_str(json).map_err(|e| DecodeError::InvalidSchema(format!("not JSON: {e}")))
}

#[derive(Default)]
struct Builder {
    nodes: Vec<Node>,
    names: HashMap<String, NodeId>,
}

fn invalid(msg: impl Into<String>) -> DecodeError {
    DecodeError::InvalidSchema(msg.into())
}

fn full_name(name: &str, namespace: &str) -> String {
    if name.contains('.') || namespace.is_empty() {
        name.to_owned()
    } else {
        format!("{namespace}.{name}")
    }
}

impl Builder {
    fn push(&mut self, node: Node) -> NodeId {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    fn primitive(name: &str) -> Option<Node> {
        Some(match name {
            "null" => Node::Null,
            "boolean" => Node::Boolean,
            "int" => Node::Int,
            "long" => Node::Long,
            "float" => Node::Float,
            "double" => Node::Double,
            "bytes" => Node::Bytes,
            "string" => Node::String,
            _ => return None,
        })
    }

    fn node(
        &mut self,
        value: &Value,
        namespace: &str,
        depth: usize,
    ) -> Result<NodeId, DecodeError> {
        if depth > MAX_SCHEMA_DEPTH {
            return Err(invalid("schema nested too deeply"));
        }
        match value {
            Value::String(name) => Ok(match Self::primitive(name) {
                Some(node) => self.push(node),
                None => {
                    // A reference: resolved in `finish`, trying the enclosing namespace first.
                    let qualified = full_name(name, namespace);
                    self.push(Node::Ref(qualified))
                }
            }),
            Value::Array(branches) => {
                let ids = branches
                    .iter()
                    .map(|b| self.node(b, namespace, depth + 1))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(self.push(Node::Union(ids)))
            }
            Value::Object(obj) => {
                let ty = obj
                    .get("type")
                    .ok_or_else(|| invalid("object without \"type\""))?;
                let ty_name = match ty {
                    Value::String(s) => s.as_str(),
                    // {"type": {...}} or {"type": [...]}: a wrapped schema.
                    other => return self.node(other, namespace, depth + 1),
                };
                match ty_name {
                    "record" | "error" => self.record(obj, namespace, depth),
                    "enum" => {
                        let symbols = obj
                            .get("symbols")
                            .and_then(Value::as_array)
                            .ok_or_else(|| invalid("enum without symbols"))?
                            .iter()
                            .map(|s| s.as_str().map(str::to_owned))
                            .collect::<Option<Vec<_>>>()
                            .ok_or_else(|| invalid("enum symbol is not a string"))?;
                        let id = self.push(Node::Enum(symbols));
                        self.name(obj, namespace, id)?;
                        Ok(id)
                    }
                    "array" => {
                        let items = obj
                            .get("items")
                            .ok_or_else(|| invalid("array without items"))?;
                        let item = self.node(items, namespace, depth + 1)?;
                        Ok(self.push(Node::Array(item)))
                    }
                    "map" => {
                        let values = obj
                            .get("values")
                            .ok_or_else(|| invalid("map without values"))?;
                        let value = self.node(values, namespace, depth + 1)?;
                        Ok(self.push(Node::Map(value)))
                    }
                    "fixed" => {
                        let size = obj
                            .get("size")
                            .and_then(Value::as_u64)
                            .ok_or_else(|| invalid("fixed without size"))?;
                        let size = usize::try_from(size).map_err(|_| invalid("fixed too large"))?;
                        let id = self.push(Node::Fixed(size));
                        self.name(obj, namespace, id)?;
                        Ok(id)
                    }
                    // A primitive with attributes (logicalType, …) or a reference.
                    other => self.node(&Value::String(other.to_owned()), namespace, depth + 1),
                }
            }
            other => Err(invalid(format!("unexpected schema element {other}"))),
        }
    }

    /// Registers a named type; returns its full name and the namespace its children inherit.
    fn name(
        &mut self,
        obj: &serde_json::Map<String, Value>,
        namespace: &str,
        id: NodeId,
    ) -> Result<(String, String), DecodeError> {
        let name = obj
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("named type without a name"))?;
        let ns = obj
            .get("namespace")
            .and_then(Value::as_str)
            .unwrap_or(namespace);
        let full = full_name(name, ns);
        let child_ns = full
            .rsplit_once('.')
            .map(|(ns, _)| ns)
            .unwrap_or("")
            .to_owned();
        self.names.insert(full.clone(), id);
        Ok((full, child_ns))
    }

    fn record(
        &mut self,
        obj: &serde_json::Map<String, Value>,
        namespace: &str,
        depth: usize,
    ) -> Result<NodeId, DecodeError> {
        // Register the name before the fields, so a field may refer to its own record.
        let id = self.push(Node::Null);
        let (full, child_ns) = self.name(obj, namespace, id)?;
        let defs = obj
            .get("fields")
            .and_then(Value::as_array)
            .ok_or_else(|| invalid(format!("record {full} without fields")))?;
        let mut fields = Vec::with_capacity(defs.len());
        let mut index = HashMap::with_capacity(defs.len());
        for def in defs {
            let name = def
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid(format!("field without a name in {full}")))?;
            let ty = def
                .get("type")
                .ok_or_else(|| invalid(format!("field {name} without a type in {full}")))?;
            let node = self.node(ty, &child_ns, depth + 1)?;
            index.insert(name.to_owned(), fields.len());
            fields.push(Field {
                name: name.to_owned(),
                node,
            });
        }
        self.nodes[id] = Node::Record(Record {
            name: full,
            fields,
            index,
        });
        Ok(id)
    }

    fn resolve(&self, id: NodeId) -> Result<NodeId, DecodeError> {
        let mut id = id;
        // References may chain only through other references; bound the walk.
        for _ in 0..=self.nodes.len() {
            match &self.nodes[id] {
                Node::Ref(name) => {
                    id = self
                        .lookup(name)
                        .ok_or_else(|| invalid(format!("reference to undefined type {name:?}")))?;
                }
                _ => return Ok(id),
            }
        }
        Err(invalid("cyclic type references"))
    }

    fn lookup(&self, qualified: &str) -> Option<NodeId> {
        if let Some(&id) = self.names.get(qualified) {
            return Some(id);
        }
        // `ns.name` was qualified with the enclosing namespace; the writer may have meant a
        // top-level `name` (or a name defined in another namespace's file with the same tail).
        let short = qualified.rsplit('.').next()?;
        self.names.get(short).copied().or_else(|| {
            let mut hits = self
                .names
                .iter()
                .filter(|(k, _)| k.rsplit('.').next() == Some(short));
            let first = hits.next().map(|(_, &v)| v);
            if hits.next().is_some() { None } else { first }
        })
    }

    fn finish(mut self, root: NodeId) -> Result<Schema, DecodeError> {
        let resolved: Vec<NodeId> = (0..self.nodes.len())
            .map(|id| self.resolve(id))
            .collect::<Result<_, _>>()?;
        for node in &mut self.nodes {
            match node {
                Node::Array(child) | Node::Map(child) => *child = resolved[*child],
                Node::Union(branches) => branches.iter_mut().for_each(|b| *b = resolved[*b]),
                Node::Record(record) => record
                    .fields
                    .iter_mut()
                    .for_each(|f| f.node = resolved[f.node]),
                _ => {}
            }
        }
        let root = resolved[root];
        let min_sizes = min_sizes(&self.nodes);
        Ok(Schema {
            nodes: self.nodes,
            min_sizes,
            root,
        })
    }
}

/// Smallest encoding of each node, by fixed-point iteration (recursive records converge from 0).
fn min_sizes(nodes: &[Node]) -> Vec<usize> {
    let mut sizes = vec![0usize; nodes.len()];
    loop {
        let mut changed = false;
        for (id, node) in nodes.iter().enumerate() {
            let size = match node {
                Node::Null | Node::Ref(_) => 0,
                Node::Boolean | Node::Int | Node::Long | Node::Bytes | Node::String => 1,
                Node::Enum(_) | Node::Array(_) | Node::Map(_) => 1,
                Node::Float => 4,
                Node::Double => 8,
                Node::Fixed(n) => *n,
                Node::Union(branches) => 1 + branches.iter().map(|&b| sizes[b]).min().unwrap_or(0),
                Node::Record(r) => r
                    .fields
                    .iter()
                    .fold(0usize, |acc, f| acc.saturating_add(sizes[f.node]))
                    .min(1 << 20),
            };
            if size != sizes[id] {
                sizes[id] = size;
                changed = true;
            }
        }
        if !changed {
            return sizes;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_references_across_documents_and_namespaces() {
        let dep = r#"{"type":"record","name":"diaSource","namespace":"lsst.v7_4",
            "fields":[{"name":"psfFlux","type":["null","float"]}]}"#;
        let root = r#"{"type":"record","name":"alert","namespace":"lsst.v7_4","fields":[
            {"name":"diaSource","type":"lsst.v7_4.diaSource"},
            {"name":"prvDiaSources","type":["null",{"type":"array","items":"diaSource"}]}]}"#;
        let schema = Schema::parse_with_dependencies(&[dep], root).unwrap();
        let rec = schema.root_record().unwrap();
        assert_eq!(rec.name, "lsst.v7_4.alert");
        let Node::Record(src) = schema.node(rec.fields[0].node) else {
            panic!("diaSource not resolved")
        };
        assert_eq!(src.name, "lsst.v7_4.diaSource");
        assert_eq!(src.position("psfFlux"), Some(0));
    }

    #[test]
    fn recursive_record_terminates() {
        let s = r#"{"type":"record","name":"node","fields":[
            {"name":"next","type":["null","node"]}]}"#;
        let schema = Schema::parse(s).unwrap();
        assert_eq!(schema.min_size(schema.root()), 1);
    }

    #[test]
    fn rejects_bad_schemas() {
        assert!(Schema::parse("{").is_err());
        assert!(
            Schema::parse(r#"{"type":"record","name":"a","fields":[{"name":"x","type":"nope"}]}"#)
                .is_err()
        );
        assert!(Schema::parse(r#"{"type":"array"}"#).is_err());
        assert!(Schema::parse("42").is_err());
    }

    #[test]
    fn logical_types_read_as_their_base() {
        let s = Schema::parse(r#"{"type":"long","logicalType":"timestamp-millis"}"#).unwrap();
        assert_eq!(s.node(s.root()), &Node::Long);
    }
}

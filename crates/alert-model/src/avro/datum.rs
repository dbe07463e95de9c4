//! Schema-driven decoding of one datum into a borrowed tree.

use super::cursor::Cursor;
use super::schema::{Node, NodeId, Record, Schema};
use crate::DecodeError;

/// A decoded value. Strings and bytes borrow the input; records borrow their schema.
#[derive(Debug, Clone, PartialEq)]
pub enum Datum<'a> {
    Null,
    Bool(bool),
    Int(i32),
    Long(i64),
    Float(f32),
    Double(f64),
    Bytes(&'a [u8]),
    Str(&'a str),
    Enum(&'a str),
    Array(Vec<Datum<'a>>),
    Map(Vec<(&'a str, Datum<'a>)>),
    Record(&'a Record, Vec<Datum<'a>>),
}

impl<'a> Datum<'a> {
    /// A record's field by name (unions are already unwrapped to their branch).
    pub fn field(&self, name: &str) -> Option<&Datum<'a>> {
        match self {
            Datum::Record(schema, values) => schema.position(name).map(|i| &values[i]),
            _ => None,
        }
    }

    /// The first of several field names that is present and not null (fields renamed between
    /// schema versions, e.g. Rubin's `midPointTai` → `midpointMjdTai`).
    pub fn field_any(&self, names: &[&str]) -> Option<&Datum<'a>> {
        names
            .iter()
            .filter_map(|n| self.field(n))
            .find(|d| !d.is_null())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Datum::Null)
    }

    /// Numeric value as f64 (ints widen exactly up to 2^53).
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Datum::Double(v) => Some(v),
            Datum::Float(v) => Some(f64::from(v)),
            Datum::Int(v) => Some(f64::from(v)),
            Datum::Long(v) => Some(v as f64),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Datum::Long(v) => Some(v),
            Datum::Int(v) => Some(i64::from(v)),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&'a str> {
        match *self {
            Datum::Str(s) | Datum::Enum(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bytes(&self) -> Option<&'a [u8]> {
        match *self {
            Datum::Bytes(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Datum::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// Array items; a null (absent optional array) reads as empty.
    pub fn items(&self) -> &[Datum<'a>] {
        match self {
            Datum::Array(items) => items,
            _ => &[],
        }
    }
}

/// Nesting deeper than this in data is refused (recursive schemas could otherwise recurse forever).
const MAX_DATA_DEPTH: usize = 64;

/// Zero-byte items (nulls, empty records) are the only way a short input can claim many items.
const MAX_ZERO_SIZE_ITEMS: usize = 1 << 16;

/// Decodes one datum of `schema` from the front of `buf`; returns it and the bytes consumed.
pub fn decode_datum<'a>(
    schema: &'a Schema,
    buf: &'a [u8],
) -> Result<(Datum<'a>, usize), DecodeError> {
    let mut cursor = Cursor::new(buf);
    let datum = read(schema, schema.root(), &mut cursor, 0)?;
    Ok((datum, cursor.position()))
}

fn read<'a>(
    schema: &'a Schema,
    id: NodeId,
    c: &mut Cursor<'a>,
    depth: usize,
) -> Result<Datum<'a>, DecodeError> {
    if depth > MAX_DATA_DEPTH {
        return Err(DecodeError::Corrupt("data nested too deeply".into()));
    }
    Ok(match schema.node(id) {
        Node::Null => Datum::Null,
        Node::Boolean => match c.byte("boolean")? {
            0 => Datum::Bool(false),
            1 => Datum::Bool(true),
            b => return Err(DecodeError::Corrupt(format!("boolean byte {b}"))),
        },
        Node::Int => Datum::Int(c.int()?),
        Node::Long => Datum::Long(c.long()?),
        Node::Float => Datum::Float(c.f32()?),
        Node::Double => Datum::Double(c.f64()?),
        Node::Bytes => Datum::Bytes(c.bytes("bytes")?),
        Node::String => Datum::Str(c.str("string")?),
        Node::Fixed(n) => Datum::Bytes(c.take(*n, "fixed")?),
        Node::Enum(symbols) => {
            let i = c.long()?;
            let symbol = usize::try_from(i)
                .ok()
                .and_then(|i| symbols.get(i))
                .ok_or_else(|| DecodeError::Corrupt(format!("enum index {i} out of range")))?;
            Datum::Enum(symbol)
        }
        Node::Union(branches) => {
            let i = c.long()?;
            let branch = usize::try_from(i)
                .ok()
                .and_then(|i| branches.get(i))
                .ok_or_else(|| {
                    DecodeError::Corrupt(format!(
                        "union branch {i} out of range (union has {})",
                        branches.len()
                    ))
                })?;
            read(schema, *branch, c, depth + 1)?
        }
        Node::Record(record) => {
            let mut values = Vec::with_capacity(record.fields.len());
            for field in &record.fields {
                values.push(read(schema, field.node, c, depth + 1)?);
            }
            Datum::Record(record, values)
        }
        Node::Array(item) => {
            let mut items = Vec::new();
            read_blocks(schema, *item, c, |c| {
                items.push(read(schema, *item, c, depth + 1)?);
                Ok(())
            })?;
            Datum::Array(items)
        }
        Node::Map(value) => {
            let mut entries = Vec::new();
            read_blocks(schema, *value, c, |c| {
                let key = c.str("map key")?;
                entries.push((key, read(schema, *value, c, depth + 1)?));
                Ok(())
            })?;
            Datum::Map(entries)
        }
        Node::Ref(name) => {
            return Err(DecodeError::InvalidSchema(format!(
                "unresolved reference {name}"
            )));
        }
    })
}

/// Array and map blocks: a count (negative: followed by the block's byte size), items, until 0.
fn read_blocks<'a>(
    schema: &'a Schema,
    item: NodeId,
    c: &mut Cursor<'a>,
    mut each: impl FnMut(&mut Cursor<'a>) -> Result<(), DecodeError>,
) -> Result<(), DecodeError> {
    let min_item = schema.min_size(item);
    let mut zero_size_items = 0usize;
    loop {
        let count = c.long()?;
        if count == 0 {
            return Ok(());
        }
        let count = if count < 0 {
            c.long()?; // block size in bytes: only useful for skipping
            count.unsigned_abs()
        } else {
            count as u64
        };
        if let Some(max_items) = c.remaining().checked_div(min_item) {
            if count > max_items as u64 {
                return Err(DecodeError::Truncated(format!(
                    "block of {count} items, only {} bytes left",
                    c.remaining()
                )));
            }
        } else {
            zero_size_items = zero_size_items.saturating_add(count as usize);
            if zero_size_items > MAX_ZERO_SIZE_ITEMS {
                return Err(DecodeError::Corrupt(format!(
                    "{count} zero-size items claimed"
                )));
            }
        }
        for _ in 0..count {
            each(c)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(json: &str) -> Schema {
        Schema::parse(json).unwrap()
    }

    #[test]
    fn decodes_a_record_with_union_array_and_map() {
        let s = schema(
            r#"{"type":"record","name":"r","fields":[
            {"name":"id","type":"string"},
            {"name":"v","type":["null","double"]},
            {"name":"xs","type":{"type":"array","items":"int"}},
            {"name":"m","type":{"type":"map","values":"long"}}]}"#,
        );
        // "ab", union branch 1 → 1.5, array [1, -1] in one block, map {"k": 3}.
        let mut bytes = vec![0x04, b'a', b'b', 0x02];
        bytes.extend(1.5f64.to_le_bytes());
        bytes.extend([0x04, 0x02, 0x01, 0x00, 0x02, 0x02, b'k', 0x06, 0x00]);
        let (d, used) = decode_datum(&s, &bytes).unwrap();
        assert_eq!(used, bytes.len());
        assert_eq!(d.field("id").and_then(Datum::as_str), Some("ab"));
        assert_eq!(d.field("v").and_then(Datum::as_f64), Some(1.5));
        assert_eq!(d.field("xs").unwrap().items().len(), 2);
        assert_eq!(d.field("m"), Some(&Datum::Map(vec![("k", Datum::Long(3))])));
    }

    #[test]
    fn bad_union_index_is_an_error() {
        let s = schema(r#"["null","int"]"#);
        assert!(decode_datum(&s, &[0x04]).is_err());
        assert!(decode_datum(&s, &[0x01]).is_err());
    }

    #[test]
    fn huge_array_counts_are_refused_without_allocating() {
        let s = schema(r#"{"type":"array","items":"long"}"#);
        // count = 2^62 items of at least one byte each, with 0 bytes left.
        let bytes = [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
        assert!(matches!(
            decode_datum(&s, &bytes),
            Err(DecodeError::Truncated(_))
        ));
        let nulls = schema(r#"{"type":"array","items":"null"}"#);
        assert!(decode_datum(&nulls, &bytes).is_err());
    }
}

//! A small, total Avro reader built for the alert hot path.
//!
//! Writer schemas are compiled once into a node arena ([`Schema`]); datums decode into borrowed
//! [`Datum`] trees (strings and bytes point into the input), so a packet costs few allocations and
//! cutouts are never copied twice. Every length is checked against the bytes left, so no input can
//! panic the reader or make it allocate more than the input's size.

mod container;
mod cursor;
mod datum;
mod schema;
mod schema_cache;
mod wire;

pub use container::{Codec, ContainerFile};
pub use datum::{Datum, decode_datum};
pub use schema::{Field, Node, NodeId, Record, Schema};
pub use schema_cache::SchemaCache;
pub use wire::{CONFLUENT_MAGIC, WireMessage};

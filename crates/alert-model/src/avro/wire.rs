//! Confluent wire format: byte 0 = 0, a 4-byte big-endian schema id, then a schemaless Avro body.

use crate::DecodeError;

pub const CONFLUENT_MAGIC: u8 = 0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireMessage<'a> {
    pub schema_id: u32,
    pub body: &'a [u8],
}

impl<'a> WireMessage<'a> {
    /// Splits the frame; checks the length before reading any byte.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        match bytes {
            [] => Err(DecodeError::NotAvro("empty message".into())),
            [CONFLUENT_MAGIC, a, b, c, d, body @ ..] => Ok(WireMessage {
                schema_id: u32::from_be_bytes([*a, *b, *c, *d]),
                body,
            }),
            [CONFLUENT_MAGIC, ..] => Err(DecodeError::Truncated(format!(
                "Confluent frame of {} bytes has no room for a schema id",
                bytes.len()
            ))),
            [other, ..] => Err(DecodeError::NotAvro(format!(
                "first byte {other:#04x} is neither Confluent magic 0 nor an Avro container"
            ))),
        }
    }

    /// Frames a body (for producers and tests).
    pub fn encode(schema_id: u32, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(body.len() + 5);
        out.push(CONFLUENT_MAGIC);
        out.extend_from_slice(&schema_id.to_be_bytes());
        out.extend_from_slice(body);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_short_frames_fail() {
        let framed = WireMessage::encode(704, b"xyz");
        let m = WireMessage::parse(&framed).unwrap();
        assert_eq!((m.schema_id, m.body), (704, &b"xyz"[..]));
        assert!(WireMessage::parse(&[]).is_err());
        assert!(WireMessage::parse(&[0, 0, 2]).is_err());
        assert!(WireMessage::parse(&[7, 0, 0, 0, 1]).is_err());
    }
}

//! Avro Object Container Files (Avro 1.11 spec, "Object Container Files"): `Obj\x01`, a metadata
//! map with the writer schema and codec, a 16-byte sync marker, then blocks of datums.

use std::borrow::Cow;
use std::io::Read;

use super::cursor::Cursor;
use crate::DecodeError;

pub const CONTAINER_MAGIC: &[u8; 4] = b"Obj\x01";

/// Decompressed blocks are refused beyond this size (no alert block comes near it).
const MAX_BLOCK_BYTES: u64 = 256 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    Null,
    Deflate,
    Snappy,
    Zstandard,
}

/// A parsed container header and its undecoded blocks.
#[derive(Debug)]
pub struct ContainerFile<'a> {
    /// The writer schema's JSON, exactly as stored (the cache key for the compiled schema).
    pub schema_json: &'a [u8],
    pub codec: Codec,
    sync: &'a [u8],
    body: &'a [u8],
}

impl<'a> ContainerFile<'a> {
    pub fn is_container(bytes: &[u8]) -> bool {
        bytes.starts_with(CONTAINER_MAGIC)
    }

    pub fn parse(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        if !Self::is_container(bytes) {
            return Err(DecodeError::NotAvro(
                "no Avro container magic \"Obj\\x01\"".into(),
            ));
        }
        let mut c = Cursor::new(&bytes[4..]);
        let mut schema_json = None;
        let mut codec = Codec::Null;
        loop {
            let mut count = c.long()?;
            if count == 0 {
                break;
            }
            if count < 0 {
                c.long()?;
                count = -count;
            }
            for _ in 0..count {
                let key = c.str("metadata key")?;
                let value = c.bytes("metadata value")?;
                match key {
                    "avro.schema" => schema_json = Some(value),
                    "avro.codec" => {
                        codec = match value {
                            b"null" | b"" => Codec::Null,
                            b"deflate" => Codec::Deflate,
                            b"snappy" => Codec::Snappy,
                            b"zstandard" => Codec::Zstandard,
                            other => {
                                return Err(DecodeError::UnsupportedCodec(
                                    String::from_utf8_lossy(other).into_owned(),
                                ));
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        let schema_json = schema_json
            .ok_or_else(|| DecodeError::Corrupt("container header has no avro.schema".into()))?;
        let sync = c.take(16, "sync marker")?;
        let start = 4 + c.position();
        Ok(ContainerFile {
            schema_json,
            codec,
            sync,
            body: &bytes[start..],
        })
    }

    /// The blocks in order: (datum count, decompressed bytes).
    pub fn blocks(&self) -> Blocks<'a> {
        Blocks {
            cursor: Cursor::new(self.body),
            codec: self.codec,
            sync: self.sync,
        }
    }
}

pub struct Blocks<'a> {
    cursor: Cursor<'a>,
    codec: Codec,
    sync: &'a [u8],
}

impl<'a> Blocks<'a> {
    fn next_block(&mut self) -> Result<(u64, Cow<'a, [u8]>), DecodeError> {
        let c = &mut self.cursor;
        let count = c.long()?;
        if count < 0 {
            return Err(DecodeError::Corrupt(format!(
                "negative block count {count}"
            )));
        }
        let data = c.bytes("block")?;
        let sync = c.take(16, "block sync marker")?;
        if sync != self.sync {
            return Err(DecodeError::Corrupt(
                "block sync marker does not match the header".into(),
            ));
        }
        Ok((count as u64, decompress(self.codec, data)?))
    }
}

impl<'a> Iterator for Blocks<'a> {
    type Item = Result<(u64, Cow<'a, [u8]>), DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.cursor.is_empty() {
            return None;
        }
        let item = self.next_block();
        if item.is_err() {
            // Stop after the first error: the rest of the file cannot be framed.
            self.cursor = Cursor::new(&[]);
        }
        Some(item)
    }
}

fn decompress(codec: Codec, data: &[u8]) -> Result<Cow<'_, [u8]>, DecodeError> {
    let corrupt = |what: &str, e: std::io::Error| DecodeError::Corrupt(format!("{what}: {e}"));
    match codec {
        Codec::Null => Ok(Cow::Borrowed(data)),
        Codec::Deflate => {
            // Raw DEFLATE (RFC 1951), no zlib header.
            let mut out = Vec::with_capacity(data.len() * 3);
            flate2::read::DeflateDecoder::new(data)
                .take(MAX_BLOCK_BYTES + 1)
                .read_to_end(&mut out)
                .map_err(|e| corrupt("deflate block", e))?;
            check_block_size(out.len())?;
            Ok(Cow::Owned(out))
        }
        Codec::Snappy => {
            // Snappy-compressed block followed by the big-endian CRC32 of the uncompressed data.
            if data.len() < 4 {
                return Err(DecodeError::Truncated("snappy block without CRC".into()));
            }
            let (compressed, crc) = data.split_at(data.len() - 4);
            let len = snap::raw::decompress_len(compressed)
                .map_err(|e| DecodeError::Corrupt(format!("snappy block: {e}")))?;
            check_block_size(len)?;
            let out = snap::raw::Decoder::new()
                .decompress_vec(compressed)
                .map_err(|e| DecodeError::Corrupt(format!("snappy block: {e}")))?;
            let expected = u32::from_be_bytes([crc[0], crc[1], crc[2], crc[3]]);
            if crc32fast::hash(&out) != expected {
                return Err(DecodeError::Corrupt("snappy block CRC mismatch".into()));
            }
            Ok(Cow::Owned(out))
        }
        Codec::Zstandard => {
            let mut out = Vec::with_capacity(data.len() * 3);
            zstd::stream::read::Decoder::new(data)
                .map_err(|e| corrupt("zstandard block", e))?
                .take(MAX_BLOCK_BYTES + 1)
                .read_to_end(&mut out)
                .map_err(|e| corrupt("zstandard block", e))?;
            check_block_size(out.len())?;
            Ok(Cow::Owned(out))
        }
    }
}

fn check_block_size(len: usize) -> Result<(), DecodeError> {
    if len as u64 > MAX_BLOCK_BYTES {
        return Err(DecodeError::Corrupt(format!(
            "block decompresses to more than {MAX_BLOCK_BYTES} bytes"
        )));
    }
    Ok(())
}

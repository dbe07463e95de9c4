//! Bounds-checked reading of Avro's primitive encodings.

use crate::DecodeError;

pub(crate) struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Cursor { buf, pos: 0 }
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], DecodeError> {
        if n > self.remaining() {
            return Err(DecodeError::Truncated(format!(
                "{what} needs {n} bytes, {} left",
                self.remaining()
            )));
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    pub fn byte(&mut self, what: &str) -> Result<u8, DecodeError> {
        Ok(self.take(1, what)?[0])
    }

    /// Zig-zag variable-length long (Avro spec 1.11, "Binary Encoding").
    pub fn long(&mut self) -> Result<i64, DecodeError> {
        let mut value: u64 = 0;
        for i in 0..10 {
            let b = self.byte("varint")?;
            if i == 9 && b > 1 {
                return Err(DecodeError::Corrupt("varint overflows 64 bits".into()));
            }
            value |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(((value >> 1) as i64) ^ -((value & 1) as i64));
            }
        }
        Err(DecodeError::Corrupt("varint longer than 10 bytes".into()))
    }

    pub fn int(&mut self) -> Result<i32, DecodeError> {
        let v = self.long()?;
        i32::try_from(v).map_err(|_| DecodeError::Corrupt(format!("int {v} out of 32-bit range")))
    }

    /// A length prefix: non-negative and no larger than the bytes left.
    pub fn len(&mut self, what: &str) -> Result<usize, DecodeError> {
        let n = self.long()?;
        if n < 0 {
            return Err(DecodeError::Corrupt(format!("negative {what} length {n}")));
        }
        let n = n as u64;
        if n > self.remaining() as u64 {
            return Err(DecodeError::Truncated(format!(
                "{what} of {n} bytes, {} left",
                self.remaining()
            )));
        }
        Ok(n as usize)
    }

    pub fn bytes(&mut self, what: &str) -> Result<&'a [u8], DecodeError> {
        let n = self.len(what)?;
        self.take(n, what)
    }

    pub fn str(&mut self, what: &str) -> Result<&'a str, DecodeError> {
        let raw = self.bytes(what)?;
        std::str::from_utf8(raw).map_err(|_| DecodeError::Corrupt(format!("{what} is not UTF-8")))
    }

    pub fn f32(&mut self) -> Result<f32, DecodeError> {
        let b = self.take(4, "float")?;
        Ok(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn f64(&mut self) -> Result<f64, DecodeError> {
        let b = self.take(8, "double")?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(f64::from_le_bytes(a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zigzag() {
        for (bytes, v) in [
            (&[0x00][..], 0i64),
            (&[0x01], -1),
            (&[0x02], 1),
            (&[0x7f], -64),
            (&[0x80, 0x01], 64),
            (
                &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
                i64::MIN,
            ),
        ] {
            assert_eq!(Cursor::new(bytes).long().unwrap(), v);
        }
    }

    #[test]
    fn rejects_overlong_and_truncated_varints() {
        assert!(Cursor::new(&[0xff; 11]).long().is_err());
        assert!(Cursor::new(&[0x80]).long().is_err());
        assert!(Cursor::new(&[0x02]).bytes("x").is_err());
        assert!(Cursor::new(&[0x01]).bytes("x").is_err());
    }
}

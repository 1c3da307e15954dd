//! NTPv4 extension fields (RFC 7822) and the four that NTS defines (RFC 8915 §5.3–5.6).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! |          Field Type           |            Length             |
//! |                     Value (padded to 4 bytes) ...             |
//! ```
//!
//! `Length` counts the whole field, header and padding included: a multiple of 4, at least
//! 16 in a packet (RFC 7822 §3) and at least 4 inside the NTS Authenticator's ciphertext
//! (RFC 8915 §5.5 lets encrypted fields be short). [`fields`] walks a sequence and reports
//! the first framing error; [`push_field`] appends one field.

/// Field type 0x0104: Unique Identifier.
pub const UNIQUE_IDENTIFIER: u16 = 0x0104;
/// Field type 0x0204: NTS Cookie.
pub const NTS_COOKIE: u16 = 0x0204;
/// Field type 0x0304: NTS Cookie Placeholder.
pub const COOKIE_PLACEHOLDER: u16 = 0x0304;
/// Field type 0x0404: NTS Authenticator and Encrypted Extension Fields.
pub const AUTHENTICATOR: u16 = 0x0404;
/// Length of a field's header.
pub const FIELD_HEADER_LEN: usize = 4;
/// Shortest field in a packet (RFC 7822 §3).
pub const MIN_FIELD_LEN: usize = 16;
/// Shortest field inside the encrypted part of an Authenticator (RFC 8915 §5.5).
pub const MIN_ENCRYPTED_FIELD_LEN: usize = 4;

/// The name of a field type, for messages.
pub fn field_name(field_type: u16) -> String {
    match field_type {
        UNIQUE_IDENTIFIER => "Unique Identifier".into(),
        NTS_COOKIE => "NTS Cookie".into(),
        COOKIE_PLACEHOLDER => "NTS Cookie Placeholder".into(),
        AUTHENTICATOR => "NTS Authenticator".into(),
        t => format!("field type {t:#06x}"),
    }
}

/// One extension field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field<'a> {
    /// The field type.
    pub field_type: u16,
    /// Offset of the field's first byte within the sequence walked.
    pub offset: usize,
    /// The value, padding included (`Length` − 4 bytes).
    pub value: &'a [u8],
}

impl Field<'_> {
    /// The field's length on the wire.
    pub fn len(&self) -> usize {
        FIELD_HEADER_LEN + self.value.len()
    }

    /// Whether the value is empty (a 4-byte field).
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }
}

/// A sequence of extension fields that is not well framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, thiserror::Error)]
pub enum FieldError {
    /// Fewer than 4 bytes left for a field header.
    #[error("{left} stray bytes at offset {offset}, too short for an extension field header")]
    ShortHeader {
        /// Offset of the stray bytes.
        offset: usize,
        /// How many.
        left: usize,
    },
    /// The field's length is not a multiple of 4.
    #[error("extension field at offset {offset} has length {len}, not a multiple of 4")]
    Unaligned {
        /// Offset of the field.
        offset: usize,
        /// Its length.
        len: usize,
    },
    /// The field is shorter than the minimum where it is.
    #[error("extension field at offset {offset} has length {len}, below the minimum {min}")]
    TooShort {
        /// Offset of the field.
        offset: usize,
        /// Its length.
        len: usize,
        /// The minimum there.
        min: usize,
    },
    /// The field's length runs past the end of the data.
    #[error("extension field at offset {offset} has length {len}, past the end of the data ({left} bytes left)")]
    Overrun {
        /// Offset of the field.
        offset: usize,
        /// Its length.
        len: usize,
        /// Bytes left from its start.
        left: usize,
    },
}

/// Walks the fields of `bytes`, each at least `min_len` long; stops after the first error.
pub fn fields(bytes: &[u8], min_len: usize) -> Fields<'_> {
    Fields {
        bytes,
        at: 0,
        min_len,
        failed: false,
    }
}

/// The iterator of [`fields`].
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    bytes: &'a [u8],
    at: usize,
    min_len: usize,
    failed: bool,
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<Field<'a>, FieldError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.at >= self.bytes.len() {
            return None;
        }
        let offset = self.at;
        let rest = &self.bytes[offset..];
        let fail = |s: &mut Self, e| {
            s.failed = true;
            Some(Err(e))
        };
        if rest.len() < FIELD_HEADER_LEN {
            return fail(
                self,
                FieldError::ShortHeader {
                    offset,
                    left: rest.len(),
                },
            );
        }
        let field_type = u16::from_be_bytes([rest[0], rest[1]]);
        let len = u16::from_be_bytes([rest[2], rest[3]]) as usize;
        if len % 4 != 0 {
            return fail(self, FieldError::Unaligned { offset, len });
        }
        if len < self.min_len.max(FIELD_HEADER_LEN) {
            return fail(
                self,
                FieldError::TooShort {
                    offset,
                    len,
                    min: self.min_len.max(FIELD_HEADER_LEN),
                },
            );
        }
        if len > rest.len() {
            return fail(
                self,
                FieldError::Overrun {
                    offset,
                    len,
                    left: rest.len(),
                },
            );
        }
        self.at += len;
        Some(Ok(Field {
            field_type,
            offset,
            value: &rest[FIELD_HEADER_LEN..len],
        }))
    }
}

/// Rounds up to a multiple of 4.
pub fn padded(len: usize) -> usize {
    len.div_ceil(4) * 4
}

/// Appends a field of `field_type` holding `value`, zero-padded to a multiple of 4 and to at
/// least `min_len` bytes in all. Values that would make the field longer than 65532 bytes
/// are cut (no field skew sends comes near it).
pub fn push_field(out: &mut Vec<u8>, field_type: u16, value: &[u8], min_len: usize) {
    let value = &value[..value.len().min(u16::MAX as usize - 7)];
    let len = padded((FIELD_HEADER_LEN + value.len()).max(min_len));
    out.extend_from_slice(&field_type.to_be_bytes());
    out.extend_from_slice(&(len as u16).to_be_bytes());
    out.extend_from_slice(value);
    out.resize(out.len() + len - FIELD_HEADER_LEN - value.len(), 0);
}

/// Appends a field of `field_type` whose value is `zeros` zero bytes (a placeholder).
pub fn push_zero_field(out: &mut Vec<u8>, field_type: u16, zeros: usize, min_len: usize) {
    let zeros = zeros.min(u16::MAX as usize - 7);
    let len = padded((FIELD_HEADER_LEN + zeros).max(min_len));
    out.extend_from_slice(&field_type.to_be_bytes());
    out.extend_from_slice(&(len as u16).to_be_bytes());
    out.resize(out.len() + len - FIELD_HEADER_LEN, 0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_and_walk() {
        let mut b = Vec::new();
        push_field(&mut b, UNIQUE_IDENTIFIER, &[7; 32], MIN_FIELD_LEN);
        push_field(&mut b, NTS_COOKIE, &[1, 2, 3], MIN_FIELD_LEN);
        push_zero_field(&mut b, COOKIE_PLACEHOLDER, 3, MIN_FIELD_LEN);
        push_field(&mut b, 0x1234, &[9; 13], 0);
        assert_eq!(&b[..4], &[0x01, 0x04, 0, 36]);
        assert_eq!(
            &b[36..40],
            &[0x02, 0x04, 0, 16],
            "padded to the 16-byte minimum"
        );
        let f: Vec<Field> = fields(&b, MIN_FIELD_LEN).map(|f| f.unwrap()).collect();
        assert_eq!(f.len(), 4);
        assert_eq!(f[0].value, &[7; 32]);
        assert_eq!(f[1].value, &[1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(f[2].value, &[0; 12]);
        assert_eq!(f[2].offset, 52);
        assert_eq!(f[3].value.len(), 16);
        assert_eq!(f[3].len(), 20);
        assert_eq!(field_name(AUTHENTICATOR), "NTS Authenticator");
        assert_eq!(field_name(0x2005), "field type 0x2005");
    }

    #[test]
    fn framing_errors() {
        fn walk(b: &[u8], min: usize) -> Vec<Result<Field<'_>, FieldError>> {
            fields(b, min).collect()
        }
        assert_eq!(
            walk(&[1, 2, 0], 16),
            vec![Err(FieldError::ShortHeader { offset: 0, left: 3 })]
        );
        assert_eq!(
            walk(&[1, 2, 0, 18, 0, 0], 16),
            vec![Err(FieldError::Unaligned { offset: 0, len: 18 })]
        );
        assert_eq!(
            walk(&[1, 2, 0, 8, 0, 0, 0, 0], 16),
            vec![Err(FieldError::TooShort {
                offset: 0,
                len: 8,
                min: 16
            })]
        );
        assert_eq!(
            walk(&[1, 2, 0, 0], 0),
            vec![Err(FieldError::TooShort {
                offset: 0,
                len: 0,
                min: 4
            })]
        );
        assert_eq!(
            walk(&[1, 2, 0, 20, 0, 0, 0, 0], 16),
            vec![Err(FieldError::Overrun {
                offset: 0,
                len: 20,
                left: 8
            })]
        );
        // A good field, then garbage: the good one, the error, then nothing.
        let mut b = Vec::new();
        push_field(&mut b, NTS_COOKIE, &[1; 12], 16);
        b.extend_from_slice(&[9, 9]);
        let w = walk(&b, 16);
        assert_eq!(w.len(), 2);
        assert!(w[0].is_ok());
        assert_eq!(
            w[1],
            Err(FieldError::ShortHeader {
                offset: 16,
                left: 2
            })
        );
        assert!(walk(&[], 16).is_empty());
    }
}

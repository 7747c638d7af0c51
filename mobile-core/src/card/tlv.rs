//! BER-TLV headers (ISO 7816-4 / X.690), sans I/O.
//!
//! Just enough to learn how long a DER object is from its first bytes, so the reader
//! knows how much to READ BINARY. Lengths are never assumed to be one byte: short form
//! (`0x00..=0x7F`) and long form (`0x81 xx`, `0x82 xx xx`, up to four length bytes) are
//! both handled; the indefinite form (`0x80`) is not valid DER and is rejected.

/// Longest tag accepted, in bytes.
const MAX_TAG_LEN: usize = 4;
/// Most length bytes accepted after a `0x8n` length prefix.
const MAX_LENGTH_BYTES: usize = 4;

/// Why a TLV header could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TlvError {
    /// The input ends inside the header.
    #[error("TLV header truncated")]
    TruncatedHeader,
    /// The input ends before the value does.
    #[error("TLV value truncated: {missing} bytes missing")]
    TruncatedValue {
        /// Bytes the value still needs.
        missing: usize,
    },
    /// Indefinite length (`0x80`), not allowed in DER.
    #[error("indefinite TLV length")]
    IndefiniteLength,
    /// More than four length bytes, or a reserved length prefix.
    #[error("TLV length field too long")]
    LengthTooLong,
    /// A tag longer than four bytes.
    #[error("TLV tag too long")]
    TagTooLong,
    /// The object is longer than the caller allows.
    #[error("TLV object of {len} bytes exceeds {max}")]
    Oversized {
        /// Total length (header and value) announced.
        len: usize,
        /// Maximum the caller accepts.
        max: usize,
    },
}

/// A parsed TLV header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlvHeader {
    /// The tag bytes as a big-endian number, e.g. `0x30` or `0x5F24`.
    pub tag: u32,
    /// Bytes taken by tag and length.
    pub header_len: usize,
    /// Bytes of the value.
    pub value_len: usize,
}

impl TlvHeader {
    /// Header plus value length.
    pub fn total_len(&self) -> usize {
        // Cannot overflow: `parse_header` checked the sum.
        self.header_len + self.value_len
    }
}

/// Parses the tag and length at the start of `input`, which may hold only the header.
/// Rejects objects whose total length exceeds `max_total`.
pub fn parse_header(input: &[u8], max_total: usize) -> Result<TlvHeader, TlvError> {
    let (tag, tag_len) = parse_tag(input)?;
    let rest = &input[tag_len..];
    let (&first, rest) = rest.split_first().ok_or(TlvError::TruncatedHeader)?;
    let (value_len, len_len) = match first {
        0x00..=0x7F => (usize::from(first), 1),
        0x80 => return Err(TlvError::IndefiniteLength),
        _ => {
            let n = usize::from(first & 0x7F);
            if n > MAX_LENGTH_BYTES {
                return Err(TlvError::LengthTooLong);
            }
            let bytes = rest.get(..n).ok_or(TlvError::TruncatedHeader)?;
            let len = bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
            (
                usize::try_from(len).map_err(|_| TlvError::LengthTooLong)?,
                1 + n,
            )
        }
    };
    let header_len = tag_len + len_len;
    let len = header_len
        .checked_add(value_len)
        .ok_or(TlvError::LengthTooLong)?;
    if len > max_total {
        return Err(TlvError::Oversized {
            len,
            max: max_total,
        });
    }
    Ok(TlvHeader {
        tag,
        header_len,
        value_len,
    })
}

/// Parses one complete TLV object at the start of `input`: its header, its value, and
/// the bytes after it.
pub fn split(input: &[u8], max_total: usize) -> Result<(TlvHeader, &[u8], &[u8]), TlvError> {
    let header = parse_header(input, max_total)?;
    let total = header.total_len();
    if input.len() < total {
        return Err(TlvError::TruncatedValue {
            missing: total - input.len(),
        });
    }
    let (object, rest) = input.split_at(total);
    Ok((header, &object[header.header_len..], rest))
}

fn parse_tag(input: &[u8]) -> Result<(u32, usize), TlvError> {
    let (&first, rest) = input.split_first().ok_or(TlvError::TruncatedHeader)?;
    let mut tag = u32::from(first);
    if first & 0x1F != 0x1F {
        return Ok((tag, 1));
    }
    // Multi-byte tag: subsequent bytes follow while bit 8 is set.
    for (i, &b) in rest.iter().enumerate() {
        let len = i + 2;
        if len > MAX_TAG_LEN {
            return Err(TlvError::TagTooLong);
        }
        tag = (tag << 8) | u32::from(b);
        if b & 0x80 == 0 {
            return Ok((tag, len));
        }
    }
    Err(TlvError::TruncatedHeader)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 16 * 1024;

    fn check(input: &[u8], expected: Result<(u32, usize, usize), TlvError>) {
        let got = parse_header(input, MAX).map(|h| (h.tag, h.header_len, h.value_len));
        assert_eq!(got, expected, "input {input:02X?}");
    }

    #[test]
    fn header_lengths() {
        check(&[0x30, 0x00], Ok((0x30, 2, 0)));
        check(&[0x30, 0x7F], Ok((0x30, 2, 0x7F)));
        check(&[0x30, 0x81, 0x80], Ok((0x30, 3, 0x80)));
        check(&[0x30, 0x82, 0x01, 0x2C], Ok((0x30, 4, 300)));
        check(&[0x30, 0x82, 0x01, 0x2C, 0xAA, 0xBB], Ok((0x30, 4, 300)));
        check(&[0x30, 0x83, 0x00, 0x01, 0x00], Ok((0x30, 5, 256)));
        check(&[0x30, 0x84, 0x00, 0x00, 0x00, 0x10], Ok((0x30, 6, 16)));
        check(&[0x5F, 0x24, 0x03], Ok((0x5F24, 3, 3)));
        check(&[0x9F, 0x81, 0x01, 0x01], Ok((0x9F8101, 4, 1)));
    }

    #[test]
    fn header_rejections() {
        use TlvError::*;
        check(&[], Err(TruncatedHeader));
        check(&[0x30], Err(TruncatedHeader));
        check(&[0x30, 0x82, 0x01], Err(TruncatedHeader));
        check(&[0x30, 0x84, 0x00], Err(TruncatedHeader));
        check(&[0x5F], Err(TruncatedHeader));
        check(&[0x5F, 0x81], Err(TruncatedHeader));
        check(&[0x5F, 0x81, 0x81, 0x81, 0x01, 0x00], Err(TagTooLong));
        check(&[0x30, 0x80], Err(IndefiniteLength));
        check(&[0x30, 0x85, 0, 0, 0, 0, 1], Err(LengthTooLong));
        check(&[0x30, 0xFF], Err(LengthTooLong));
        check(
            &[0x30, 0x82, 0x40, 0x00],
            Err(Oversized {
                len: 0x4004,
                max: MAX,
            }),
        );
        check(
            &[0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF],
            Err(Oversized {
                len: 0xFFFF_FFFF + 6,
                max: MAX,
            }),
        );
    }

    #[test]
    fn split_needs_the_whole_value() {
        let (h, value, rest) = split(&[0x04, 0x02, 0xAA, 0xBB, 0xCC], MAX).unwrap();
        assert_eq!((h.tag, h.total_len()), (0x04, 4));
        assert_eq!(value, [0xAA, 0xBB]);
        assert_eq!(rest, [0xCC]);
        assert_eq!(
            split(&[0x30, 0x82, 0x01, 0x00, 0x00], MAX),
            Err(TlvError::TruncatedValue { missing: 255 })
        );
        assert_eq!(
            split(&[0x30, 0x03, 0x01], MAX),
            Err(TlvError::TruncatedValue { missing: 2 })
        );
    }
}

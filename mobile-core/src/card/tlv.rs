//! BER-TLV (ISO 7816-4 / X.690), sans I/O.
//!
//! Enough to learn how long an object is from its first bytes, so the reader knows how
//! much to READ BINARY ([`parse_header`]), to cut one complete object off a buffer
//! ([`split`]), and to list the children of a constructed object such as the
//! input-support AP's `FF 20 { DF 21 .. DF 25 }` ([`children`]). Lengths are never
//! assumed to be one byte: short form (`0x00..=0x7F`) and long form (`0x81 xx`,
//! `0x82 xx xx`, up to four length bytes) are both handled; the indefinite form (`0x80`)
//! is not valid DER and is rejected. [`encode`] writes DER (minimal lengths), for tests
//! and the software card.

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
    /// A constructed value holds more children than the caller allows.
    #[error("more than {max} TLV children")]
    TooManyChildren {
        /// Maximum the caller accepts.
        max: usize,
    },
    /// Bytes after the object that should have ended the input.
    #[error("{count} bytes after the TLV object")]
    TrailingBytes {
        /// How many.
        count: usize,
    },
}

/// One complete TLV object inside a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The tag bytes as a big-endian number, e.g. `0xDF22`.
    pub tag: u32,
    /// The value bytes.
    pub value: &'a [u8],
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

    /// True when the tag says the value is itself a sequence of TLV objects (bit 6 of
    /// the first tag byte), e.g. `0x30` or `0xFF20`.
    pub fn is_constructed(&self) -> bool {
        is_constructed(self.tag)
    }
}

fn is_constructed(tag: u32) -> bool {
    let first = tag.to_be_bytes().into_iter().find(|&b| b != 0);
    first.is_some_and(|b| b & 0x20 != 0)
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

/// Parses exactly one complete TLV object filling all of `input`; bytes after it are
/// [`TlvError::TrailingBytes`].
pub fn split_exact(input: &[u8], max_total: usize) -> Result<(TlvHeader, &[u8]), TlvError> {
    let (header, value, rest) = split(input, max_total)?;
    if !rest.is_empty() {
        return Err(TlvError::TrailingBytes { count: rest.len() });
    }
    Ok((header, value))
}

/// The children of a constructed object's `value`, in order.
///
/// Every byte of `value` must belong to a complete child: a child running past the end
/// is [`TlvError::TruncatedValue`] (or `TruncatedHeader`), and stray bytes at the end
/// fail the same way, since they cannot form a child. More than `max_children` children
/// is [`TlvError::TooManyChildren`]. Children are not descended into.
pub fn children(value: &[u8], max_children: usize) -> Result<Vec<Tlv<'_>>, TlvError> {
    let mut found = Vec::new();
    let mut rest = value;
    while !rest.is_empty() {
        if found.len() == max_children {
            return Err(TlvError::TooManyChildren { max: max_children });
        }
        // No size limit here: a child longer than what is left of its parent's value is
        // reported as truncated by `split`.
        let (header, child, after) = split(rest, usize::MAX)?;
        found.push(Tlv {
            tag: header.tag,
            value: child,
        });
        rest = after;
    }
    Ok(found)
}

/// DER length octets for `len`: the short form below 128, else the minimal long form.
pub fn encode_length(len: usize) -> Vec<u8> {
    if len < 0x80 {
        // Checked just above.
        return vec![len as u8];
    }
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    let significant = &bytes[skip..];
    let mut out = Vec::with_capacity(1 + significant.len());
    // At most `size_of::<usize>()` bytes, so the count fits in the low 7 bits.
    out.push(0x80 | significant.len() as u8);
    out.extend_from_slice(significant);
    out
}

/// One DER object: `tag` (its big-endian bytes, leading zero bytes dropped), the length
/// in minimal form, then `value`.
pub fn encode(tag: u32, value: &[u8]) -> Vec<u8> {
    let tag_bytes = tag.to_be_bytes();
    let skip = tag_bytes.iter().take_while(|&&b| b == 0).count().min(3);
    let mut out = tag_bytes[skip..].to_vec();
    out.extend(encode_length(value.len()));
    out.extend_from_slice(value);
    out
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
        assert_eq!(
            split_exact(&[0x04, 0x01, 0xAA, 0xCC], MAX),
            Err(TlvError::TrailingBytes { count: 1 })
        );
        assert_eq!(
            split_exact(&[0x04, 0x01, 0xAA], MAX).map(|(_, v)| v),
            Ok(&[0xAA][..])
        );
    }

    #[test]
    fn long_form_lengths_of_the_basic_facts_file() {
        // `FF 20 82 00 9F`: the input-support AP's constructed object, 159-byte value.
        let header = parse_header(&[0xFF, 0x20, 0x82, 0x00, 0x9F], MAX).unwrap();
        assert_eq!(
            (header.tag, header.header_len, header.value_len),
            (0xFF20, 5, 0x9F)
        );
        assert!(header.is_constructed());
        // `81 xx` and `82 xx xx` for children.
        check(&[0xDF, 0x22, 0x81, 0x80], Ok((0xDF22, 4, 0x80)));
        check(&[0xDF, 0x23, 0x82, 0x01, 0x00], Ok((0xDF23, 5, 0x100)));
        assert!(
            !parse_header(&[0xDF, 0x22, 0x00], MAX)
                .unwrap()
                .is_constructed()
        );
        assert!(parse_header(&[0x30, 0x00], MAX).unwrap().is_constructed());
        assert!(!parse_header(&[0x04, 0x00], MAX).unwrap().is_constructed());
    }

    #[test]
    fn children_of_a_constructed_value() {
        let name = [0x41u8; 0x80];
        let mut value = encode(0xDF21, &[1, 2]);
        value.extend(encode(0xDF22, &name));
        value.extend(encode(0xDF25, b"2"));
        assert_eq!(&value[5..9], [0xDF, 0x22, 0x81, 0x80]);
        let object = encode(0xFF20, &value);
        let (header, inner) = split_exact(&object, MAX).unwrap();
        assert_eq!(header.tag, 0xFF20);
        let found = children(inner, 8).unwrap();
        assert_eq!(
            found,
            [
                Tlv {
                    tag: 0xDF21,
                    value: &[1, 2]
                },
                Tlv {
                    tag: 0xDF22,
                    value: &name
                },
                Tlv {
                    tag: 0xDF25,
                    value: b"2"
                },
            ]
        );
        assert_eq!(children(&[], 8), Ok(vec![]));
        assert_eq!(
            children(inner, 2),
            Err(TlvError::TooManyChildren { max: 2 })
        );
    }

    #[test]
    fn children_reject_truncation_and_trailing_garbage() {
        let mut value = encode(0xDF22, b"abc");
        // A child announcing more than its parent holds.
        let mut long = value.clone();
        long.extend([0xDF, 0x23, 0x05, b'x']);
        assert_eq!(
            children(&long, 8),
            Err(TlvError::TruncatedValue { missing: 4 })
        );
        // A child whose long-form length is cut off.
        let mut cut = value.clone();
        cut.extend([0xDF, 0x23, 0x82, 0x01]);
        assert_eq!(children(&cut, 8), Err(TlvError::TruncatedHeader));
        // One stray byte after the last child.
        value.push(0x00);
        assert_eq!(children(&value, 8), Err(TlvError::TruncatedHeader));
        // Indefinite length inside.
        assert_eq!(
            children(&[0xDF, 0x22, 0x80, 0x00, 0x00], 8),
            Err(TlvError::IndefiniteLength)
        );
    }

    #[test]
    fn encoded_lengths_are_minimal() {
        assert_eq!(encode_length(0), [0x00]);
        assert_eq!(encode_length(0x7F), [0x7F]);
        assert_eq!(encode_length(0x80), [0x81, 0x80]);
        assert_eq!(encode_length(0xFF), [0x81, 0xFF]);
        assert_eq!(encode_length(0x100), [0x82, 0x01, 0x00]);
        assert_eq!(encode_length(0x9F), [0x81, 0x9F]);
        assert_eq!(encode_length(0x01_0000), [0x83, 0x01, 0x00, 0x00]);
        assert_eq!(encode(0x04, &[]), [0x04, 0x00]);
        assert_eq!(encode(0, &[]), [0x00, 0x00]);
        assert_eq!(encode(0x9F8101, &[7]), [0x9F, 0x81, 0x01, 0x01, 0x07]);
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    const MAX: usize = 64 * 1024;

    /// Tags as they appear on the card: one byte, or two with the `1F` escape.
    fn tag() -> impl Strategy<Value = u32> {
        prop_oneof![
            (0u32..=0xFF).prop_filter("single-byte", |t| t & 0x1F != 0x1F),
            (0u32..=0xFF, 0u32..=0x7F).prop_map(|(a, b)| ((a | 0x1F) << 8) | b),
        ]
    }

    proptest! {
        #[test]
        fn parsers_never_panic(input in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(header) = parse_header(&input, MAX) {
                prop_assert!(header.header_len <= input.len());
                prop_assert!(header.total_len() <= MAX);
            }
            if let Ok((header, value, rest)) = split(&input, MAX) {
                prop_assert!(header.header_len + header.value_len <= input.len());
                prop_assert_eq!(value.len(), header.value_len);
                prop_assert_eq!(rest.len(), input.len() - header.total_len());
            }
            if let Ok(found) = children(&input, 16) {
                prop_assert!(found.len() <= 16);
                let inner: usize = found.iter().map(|c| c.value.len()).sum();
                prop_assert!(inner <= input.len());
            }
            let _ = split_exact(&input, MAX);
        }

        #[test]
        fn lengths_round_trip(tag in tag(), len in prop_oneof![0usize..0x80, 0x80usize..=0xFFFF, any::<u32>().prop_map(|l| l as usize)]) {
            let mut header = encode(tag, &[]);
            header.truncate(header.len() - 1);
            header.extend(encode_length(len));
            let parsed = parse_header(&header, usize::MAX).unwrap();
            prop_assert_eq!(parsed.tag, tag);
            prop_assert_eq!(parsed.value_len, len);
            prop_assert_eq!(parsed.header_len, header.len());
            // Short form exactly below 128, else minimal long form.
            prop_assert_eq!(encode_length(len).len() == 1, len < 0x80);
        }

        #[test]
        fn objects_round_trip(
            parts in proptest::collection::vec((tag(), proptest::collection::vec(any::<u8>(), 0..300)), 0..6),
        ) {
            let value: Vec<u8> = parts.iter().flat_map(|(t, v)| encode(*t, v)).collect();
            let object = encode(0xFF20, &value);
            let (header, inner) = split_exact(&object, MAX).unwrap();
            prop_assert_eq!(header.tag, 0xFF20);
            let found = children(inner, 8).unwrap();
            prop_assert_eq!(found.len(), parts.len());
            for (child, (t, v)) in found.iter().zip(&parts) {
                prop_assert_eq!(child.tag, *t);
                prop_assert_eq!(child.value, &v[..]);
            }
            // Any cut of a non-empty object is truncated, never accepted or a panic.
            for cut in 0..object.len() {
                prop_assert!(split(&object[..cut], MAX).is_err());
            }
        }
    }
}

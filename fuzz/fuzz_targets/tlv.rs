//! BER-TLV: headers, splits and children of arbitrary bytes stay within the input and the
//! caller's bound; whatever parses re-encodes to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mobile_core::card::tlv::{children, encode, parse_header, split, split_exact};

const MAX: usize = 64 * 1024;

fuzz_target!(|data: &[u8]| {
    if let Ok(header) = parse_header(data, MAX) {
        assert!(header.header_len <= data.len());
        assert!(header.total_len() <= MAX);
    }
    if let Ok((header, value, rest)) = split(data, MAX) {
        assert_eq!(value.len(), header.value_len);
        assert_eq!(header.total_len() + rest.len(), data.len());
        // Re-encoding gives the same tag and value (the length may be shorter: the card
        // may use non-minimal long forms, we always write minimal ones).
        let again = encode(header.tag, value);
        let (h2, v2) = split_exact(&again, usize::MAX).expect("re-encoded object parses");
        assert_eq!((h2.tag, v2), (header.tag, value));
    }
    if let Ok(found) = children(data, 16) {
        assert!(found.len() <= 16);
        assert!(found.iter().map(|c| c.value.len()).sum::<usize>() <= data.len());
    }
    let _ = split_exact(data, MAX);
});

//! Base64 fields of the wire types: standard alphabet, with padding.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use crate::error::{Error, Result};

/// Decodes base64 field `field`.
pub(super) fn b64(field: &'static str, value: &str) -> Result<Vec<u8>> {
    B64.decode(value).map_err(|_| Error::Base64 { field })
}

/// Encodes bytes for a base64 field.
pub(super) fn to_b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

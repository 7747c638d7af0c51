//! The tamper-evident access log's proofs as JSON (`/v1/log/proof/…`), and the base64
//! form of proof hashes that every proof on the wire uses.

use serde::{Deserialize, Serialize};

/// `GET /v1/log/proof/consistency?from=&to=`: the tree of `to` entries extends that of `from`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ConsistencyProofDto {
    /// Older tree size.
    pub from: u64,
    /// Newer tree size.
    pub to: u64,
    /// Proof hashes, standard base64.
    pub hashes: Vec<String>,
}

/// Proof hashes from base64; any malformed hash refuses the whole proof.
pub fn proof_hashes(
    hashes: &[String],
) -> Result<Vec<crate::transparency::Hash>, crate::transparency::LogError> {
    if hashes.len() > crate::transparency::MAX_PROOF_HASHES {
        return Err(crate::transparency::LogError::ProofInvalid);
    }
    hashes
        .iter()
        .map(|h| crate::transparency::hash_from_base64(h))
        .collect()
}

/// Proof hashes as base64.
pub fn proof_strings(hashes: &[crate::transparency::Hash]) -> Vec<String> {
    hashes
        .iter()
        .map(crate::transparency::hash_to_base64)
        .collect()
}

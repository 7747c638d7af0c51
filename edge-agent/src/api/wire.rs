//! JSON types that only this server writes or reads: nobody else in the workspace
//! (tablet, hospital-view, simulations, tests) decodes them, so they live beside the
//! handlers rather than in `myna_domain::wire`, which holds the shared contract.
//!
//! - portal: the proof bundle of one history entry, the answer to a flag, the flag
//!   note's limit;
//! - review: the officer's note limit;
//! - log: the inclusion proof (also inside the portal's proof bundle).

use chrono::{DateTime, Utc};
use myna_domain::access::AccessRecordId;
use myna_domain::wire::ProofStatus;
use serde::{Deserialize, Serialize};

// Portal (`/portal/v1/history/…`).

/// `GET /portal/v1/history/{access_id}/proof`: everything a patient's own tool needs to
/// check an entry independently (with the log's verifier key from a trusted source).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PortalProof {
    /// The access record.
    pub access_id: AccessRecordId,
    /// Its leaf index.
    pub leaf_index: u64,
    /// The leaf hash (`SHA-256(0x00 || stored record text)`), standard base64. The stored
    /// text itself is not given to patients: it names the staff member and the tablet,
    /// which patients do not see; auditors replay it with `myna-log`.
    pub leaf_hash: String,
    /// The server's own check of the proof below.
    pub status: ProofStatus,
    /// The newest signed checkpoint (c2sp signed note) when it covers the entry.
    pub checkpoint: Option<String>,
    /// The inclusion proof against that checkpoint's tree size.
    pub proof: Option<InclusionProofDto>,
    /// The log's verifier key as this server states it (compare it with a copy from
    /// elsewhere: a key from the server being checked proves little).
    pub verifier_key: String,
}

/// Longest note accepted with a flag ([`myna_domain::wire::FlagRequest`]).
pub const MAX_FLAG_NOTE_CHARS: usize = 500;

/// Response to [`FlagRequest`](myna_domain::wire::FlagRequest): 201 when newly flagged, 200 when it already was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FlagResponse {
    /// The access record.
    pub access_id: AccessRecordId,
    /// When it was (first) flagged.
    pub flagged_at: DateTime<Utc>,
    /// It had been flagged before this request (the first note is kept).
    pub already_flagged: bool,
}

// Review queue (`/v1/review-queue/…`).

/// Longest note accepted with a review finding
/// ([`myna_domain::wire::ReviewOutcomeRequest`]).
pub const MAX_REVIEW_NOTE_CHARS: usize = 1000;

// Access log (`/v1/log/proof/…`).

/// `GET /v1/log/proof/inclusion?index=&tree_size=`: the audit path of one access-log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InclusionProofDto {
    /// Entry index (0-based position in the log).
    pub index: u64,
    /// Size of the tree the proof is for.
    pub tree_size: u64,
    /// Proof hashes, standard base64.
    pub hashes: Vec<String>,
}

//! The error of this crate: what can go wrong turning outside input (a certificate, a
//! request body) into domain values.

/// Errors raised while turning outside input into domain values.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// The card certificate could not be parsed as X.509 DER.
    #[error("card certificate is not valid X.509 DER: {0}")]
    CertificateMalformed(String),
    /// `Difficult` consent was asserted without saying why.
    #[error("consent marked difficult without a reason")]
    ConsentReasonMissing,
    /// A free-text reason was empty or too long.
    #[error("consent reason note must be 1 to {max} characters")]
    ConsentNoteInvalid {
        /// Maximum accepted length in characters.
        max: usize,
    },
    /// A base64 field could not be decoded.
    #[error("field `{field}` is not valid base64")]
    Base64 {
        /// Name of the offending field.
        field: &'static str,
    },
    /// The four basic facts are incomplete.
    #[error("basic facts incomplete: {0}")]
    BasicFactsIncomplete(&'static str),
    /// A card's signature does not verify against its certificate's RSA key.
    #[error("card signature does not verify")]
    SignatureInvalid,
}

/// Result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

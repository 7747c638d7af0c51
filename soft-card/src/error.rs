//! The crate's one error: what the card builder, the facts codec and the development issuer
//! refuse or fail at. Messages never hold PIN digits, key material or personal data.

/// What went wrong building a card, encoding its facts or issuing a certificate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A PIN setting the card cannot hold: not four ASCII digits, or more tries than
    /// [`crate::PIN_MAX_TRIES`]. `which` names the PIN, never its digits.
    #[error("{which}: {problem}")]
    PinSetting {
        /// Which PIN ("auth PIN", "card-info PIN").
        which: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// A name or address too long for EF `0002` (the template holds at most 65535 bytes).
    #[error("{0}")]
    FactsTooLong(&'static str),
    /// EF `0002` content not in the layout the card writes.
    #[error("malformed basic facts: {0}")]
    MalformedFacts(String),
    /// A certificate or CRL the issuer will not make (serial length, dates).
    #[error("{0}")]
    InvalidRequest(&'static str),
    /// The synthetic patient has no My Number card.
    #[error("this patient has no My Number card")]
    NoCard,
    /// RSA key generation failed.
    #[error("generating an RSA key")]
    KeyGeneration(#[source] rsa::Error),
    /// The RSA key could not be encoded as PKCS#8.
    #[error("encoding the RSA key")]
    KeyEncoding(#[source] rsa::pkcs8::Error),
    /// rcgen failed at `step` (importing the key, building, signing).
    #[cfg(feature = "issuer")]
    #[error("{step}")]
    Certificate {
        /// What the issuer was doing.
        step: &'static str,
        /// rcgen's error.
        #[source]
        source: rcgen::Error,
    },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `rcgen`'s error at `step`, for `map_err`.
#[cfg(feature = "issuer")]
pub(crate) fn certificate(step: &'static str) -> impl FnOnce(rcgen::Error) -> Error {
    move |source| Error::Certificate { step, source }
}

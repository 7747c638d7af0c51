//! The exported errors: [`MobileFfiError`], the one error every exported call throws, and
//! [`TransportError`], what the app's [`crate::CardTransport`] throws.
//!
//! [`MobileFfiError`] is flat: each variant carries only its message, which is
//! [`MobileError`]'s `Display`, written for the paramedic ("Card moved away: hold it flat
//! against the reader and try again"). The variant names are mobile-core's, and stable:
//! the app may switch on them (Kotlin `MobileFfiException.PinBlocked`, Swift
//! `MobileFfiError.PinBlocked`, Python `MobileFfiError.PinBlocked`). Details meant for logs
//! (`detail` fields) are not exported; no message holds personal data.

use mobile_core::{CardLinkError, MobileError};

/// Declares [`MobileFfiError`] with one variant per [`MobileError`] variant (same name)
/// and the exhaustive conversion, so a new `MobileError` variant fails to compile here
/// until it is exported.
macro_rules! exported_errors {
    ($($(#[$doc:meta])* $variant:ident,)*) => {
        /// Everything that can go wrong on the tablet, each with a message telling the
        /// crew what to do next (shown as is).
        #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
        #[uniffi(flat_error)]
        pub enum MobileFfiError {
            $(
                $(#[$doc])*
                #[error("{0}")]
                $variant(String),
            )*
            /// The app passed a value the core cannot use (a handoff id that is not one, a
            /// location off the map, a test card that cannot be built): an app bug. The
            /// only variant that is not mobile-core's.
            #[error("{0}")]
            InvalidArgument(String),
        }

        impl From<MobileError> for MobileFfiError {
            fn from(error: MobileError) -> Self {
                let message = error.to_string();
                match error {
                    $(MobileError::$variant { .. } => MobileFfiError::$variant(message),)*
                }
            }
        }
    };
}

exported_errors! {
    /// The card left the reader's field mid-read.
    CardLost,
    /// The card stopped answering.
    CardTimeout,
    /// The platform's NFC reader failed (also: the app's transport threw something other
    /// than a [`TransportError`]).
    CardReaderFailure,
    /// The smart-card service of a desktop reader is not running.
    ReaderServiceUnavailable,
    /// No card reader is connected.
    NoReader,
    /// No card on the reader.
    NoCard,
    /// Another application holds the card.
    CardInUse,
    /// The card is not a My Number card.
    NotAMyNumberCard,
    /// The PIN entered is not four digits; nothing was sent to the card.
    PinFormatInvalid,
    /// Only one PIN try is left: the PIN was not sent (use the face-photo check).
    PinGuard,
    /// Wrong PIN; the message says how many tries are left.
    WrongPin,
    /// The card's PIN is blocked (use the face-photo check).
    PinBlocked,
    /// The card answered something unexpected: read it again.
    CardUnreadable,
    /// The certificate read from the card is not valid X.509.
    CertificateUnreadable,
    /// Another card is on the reader than the one read at the start of the incident.
    DifferentCard,
    /// The card is on the JPKI revocation list (失効).
    CardRevoked,
    /// The card's certificate is not from the JPKI authority the edge trusts.
    CardUntrusted,
    /// The PIN check took too long (the edge's challenge expired): try the PIN again.
    ChallengeInvalid,
    /// The card's signature over the challenge did not verify.
    SignatureInvalid,
    /// The crew reported that the face photo does not match the patient.
    PhotoMismatch,
    /// A `Difficult` consent note is empty or too long.
    ConsentReasonInvalid,
    /// Not possible at the incident's current step (for example fetching records after a
    /// refusal). Nothing was sent to the edge.
    IllegalStep,
    /// No connection to the edge server: continue care, retry when signal returns.
    EdgeUnreachable,
    /// The edge server refused the request; the message says why.
    Rejected,
    /// The edge server's answer could not be read.
    EdgeResponseInvalid,
    /// The edge's access log is not signed with the expected key (tamper check).
    LogCheckpointInvalid,
    /// The edge's access log was altered (tamper check).
    LogInconsistent,
    /// The tablet's saved tamper-check record is unusable.
    LogWitnessStateUnusable,
    /// The tablet's own storage failed (full, damaged, opened with another key).
    LocalStorage,
    /// The summary copy on the tablet is gone (time limit): fetch it again.
    SummaryCopyGone,
    /// The incident is not open on this tablet (unknown or closed).
    IncidentNotOnTablet,
    /// The tablet is set up wrongly (edge address, device token).
    Configuration,
}

impl MobileFfiError {
    /// A [`MobileFfiError::InvalidArgument`] naming `what` was invalid (never its value).
    pub(crate) fn invalid_argument(what: &str) -> Self {
        MobileFfiError::InvalidArgument(format!(
            "The app sent the tablet core an invalid value ({what}): report this to support"
        ))
    }
}

/// Why the app's card link failed; thrown by the app's [`crate::CardTransport`]
/// (Kotlin `TransportException`, Swift `TransportError`, Python `TransportError`).
///
/// Android: `TagLostException` → `Lost`, other `IOException`s → `Io` with the exception's
/// message. iOS: `readerTransceiveErrorTagConnectionLost` / `…TagNotConnected` → `Lost`,
/// `readerSessionInvalidationErrorSessionTimeout` → `Timeout`, other `NFCReaderError`s →
/// `Io`. Never put APDU bytes in `message`.
///
/// A mirror of mobile-core's [`CardLinkError`], not a re-export: an error thrown by a
/// foreign callback must be declared in the crate that exports the callback trait (with
/// mobile-core's type, Python's bindings lifted a thrown `Lost` as an unexpected error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum TransportError {
    /// The card left the field (tag lost, card removed or moved).
    #[error("card link lost")]
    Lost,
    /// The card did not answer in time.
    #[error("card did not answer in time")]
    Timeout,
    /// Any other reader or platform failure.
    #[error("card reader I/O error: {message}")]
    Io {
        /// Platform description of the failure, for logs.
        message: String,
    },
}

/// A transport that threw something other than a [`TransportError`] (a bug in the app, or
/// an exception it did not map) failed with an I/O error rather than a panic.
impl From<uniffi::UnexpectedUniFFICallbackError> for TransportError {
    fn from(error: uniffi::UnexpectedUniFFICallbackError) -> Self {
        TransportError::Io {
            message: format!("unexpected error from the app's card transport: {error}"),
        }
    }
}

impl From<TransportError> for CardLinkError {
    fn from(error: TransportError) -> Self {
        match error {
            TransportError::Lost => CardLinkError::Lost,
            TransportError::Timeout => CardLinkError::Timeout,
            TransportError::Io { message } => CardLinkError::Io { message },
        }
    }
}

impl From<CardLinkError> for TransportError {
    fn from(error: CardLinkError) -> Self {
        match error {
            CardLinkError::Lost => TransportError::Lost,
            CardLinkError::Timeout => TransportError::Timeout,
            CardLinkError::Io { message } => TransportError::Io { message },
        }
    }
}

#[cfg(test)]
mod tests {
    use mobile_core::card::CardError;

    use super::*;

    fn check(error: impl Into<MobileError>, expected: MobileFfiError) {
        assert_eq!(MobileFfiError::from(error.into()), expected);
    }

    #[test]
    fn variants_and_messages_are_mobile_core_s() {
        check(
            CardError::Link(CardLinkError::from(TransportError::Lost)),
            MobileFfiError::CardLost(
                "Card moved away: hold it flat against the reader and try again".into(),
            ),
        );
        check(
            CardError::Status(mobile_core::StatusError::PinBlocked),
            MobileFfiError::PinBlocked("PIN blocked: use the face-photo check".into()),
        );
        check(
            MobileError::WrongPin { tries_left: 2 },
            MobileFfiError::WrongPin(
                "Wrong PIN, 2 tries left: do not guess; confirm identity with the face photo instead"
                    .into(),
            ),
        );
        // Details for logs stay behind: only the crew's message crosses.
        let reader = MobileFfiError::from(MobileError::CardReaderFailure {
            detail: "comm error 0x1f".into(),
        });
        assert!(matches!(&reader, MobileFfiError::CardReaderFailure(m) if !m.contains("0x1f")));
    }

    #[test]
    fn an_unexpected_callback_error_is_an_io_failure_not_a_panic() {
        let error = TransportError::from(uniffi::UnexpectedUniFFICallbackError::new(
            "RuntimeError: boom",
        ));
        assert!(matches!(&error, TransportError::Io { message } if message.contains("boom")));
        assert!(matches!(
            MobileFfiError::from(MobileError::from(CardError::Link(error.into()))),
            MobileFfiError::CardReaderFailure(_)
        ));
    }
}

//! The one flat error of the crate, worded for a paramedic.
//!
//! Every variant's message says what happened and what to do next. Messages never
//! contain personal data; the `detail` fields (for logs and support) hold only
//! transport or protocol descriptions.

use crate::card::error::CardError;
use crate::card::reader::ReaderError;
use crate::card::status::StatusError;
use crate::card::transport::CardLinkError;
use crate::edge::EdgeError;

/// Result type of this crate.
pub type Result<T, E = MobileError> = std::result::Result<T, E>;

/// Everything that can go wrong on the tablet during an incident.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MobileError {
    /// The card left the reader's field mid-read (removed or moved).
    #[error("Card moved away: hold it flat against the reader and try again")]
    CardLost,
    /// The card stopped answering.
    #[error("Card did not answer: hold it still against the tablet and try again")]
    CardTimeout,
    /// The platform's NFC reader failed.
    #[error("Card reader problem: try again; if it keeps failing, turn NFC off and on")]
    CardReaderFailure {
        /// Platform description, for logs.
        detail: String,
    },
    /// The smart-card service of a desktop reader is not running.
    #[error("Card reader service not running: restart the reader software, then try again")]
    ReaderServiceUnavailable,
    /// No card reader is connected (or not the one configured).
    #[error("No card reader found: connect the reader, then try again")]
    NoReader {
        /// Description, for logs (may name the reader asked for).
        detail: String,
    },
    /// No card on the reader.
    #[error("No card on the reader: place the card flat on the reader")]
    NoCard,
    /// Another application holds the card.
    #[error("The card is in use by another app: close it, then try again")]
    CardInUse,
    /// The card is not a My Number card (no JPKI application or another token).
    #[error("This is not a My Number card")]
    NotAMyNumberCard,
    /// The PIN entered is not four digits; nothing was sent to the card.
    #[error("Enter the 4-digit PIN (digits only)")]
    PinFormatInvalid,
    /// Only one PIN try is left: the PIN was not sent, so a typo cannot lock the card.
    #[error("Only one PIN try left: do not enter the PIN; use the face-photo check")]
    PinGuard {
        /// Tries the card reported.
        tries_left: u8,
    },
    /// The patient entered a wrong PIN.
    #[error(
        "Wrong PIN, {tries_left} tries left: do not guess; confirm identity with the face photo instead"
    )]
    WrongPin {
        /// Attempts left before the card locks.
        tries_left: u8,
    },
    /// The card's PIN is blocked.
    #[error("PIN blocked: use the face-photo check")]
    PinBlocked,
    /// The card answered something unexpected.
    #[error("The card gave an unexpected answer: read it again")]
    CardUnreadable {
        /// Protocol description, for logs.
        detail: String,
    },
    /// The certificate read from the card is not valid X.509.
    #[error("The card's certificate could not be read: identify the patient another way")]
    CertificateUnreadable {
        /// Parser description, for logs.
        detail: String,
    },
    /// The card on the reader is not the one read at the start of the incident (its
    /// certificate differs). Nothing was sent to it.
    #[error("A different card is on the reader: tap the patient's card again")]
    DifferentCard,
    /// The edge found the card's certificate on the JPKI revocation list (失効): the card
    /// no longer identifies anyone (edge code `certificate_revoked`).
    #[error("This card has been revoked: identify the patient another way")]
    CardRevoked,
    /// The card's certificate was not issued by the JPKI authority the edge trusts:
    /// possibly a forged card (edge code `certificate_untrusted`).
    #[error("The card's certificate is not from the JPKI authority: check the card")]
    CardUntrusted,
    /// The edge no longer accepts the challenge the card signed: it expired (the PIN check
    /// took too long) or was already used (edge code `challenge_invalid`). Trying again
    /// asks for a fresh one.
    #[error("The PIN check took too long: hold the card still and try the PIN again")]
    ChallengeInvalid,
    /// The card's signature over the challenge does not verify with its certificate: the
    /// chip does not hold the certificate's key (edge code `signature_invalid`).
    #[error("The card's PIN signature was not accepted: identify the patient another way")]
    SignatureInvalid,
    /// The crew reported that the card's face photo does not match the patient.
    #[error("Face photo does not match: identity not confirmed, records cannot be opened")]
    PhotoMismatch,
    /// A `Difficult` consent reason was missing or its note empty or too long.
    #[error("Choose why consent cannot be obtained (a note must be 1 to {max} characters)")]
    ConsentReasonInvalid {
        /// Longest note accepted.
        max: usize,
    },
    /// The action does not fit the incident's current step.
    #[error("Not possible now: cannot go from \"{from}\" to \"{to}\"")]
    IllegalStep {
        /// Current step.
        from: String,
        /// Requested step.
        to: String,
    },
    /// No connection to the edge server.
    #[error("No connection to the records service: continue care; retry when signal returns")]
    EdgeUnreachable {
        /// Transport description, for logs.
        detail: String,
    },
    /// The edge server refused the request.
    #[error("{}", rejection_message(.code))]
    Rejected {
        /// HTTP status.
        status: u16,
        /// Stable code from the server.
        code: String,
        /// The server's short message, for logs.
        message: String,
    },
    /// The edge server's answer could not be read.
    #[error(
        "The records service sent an answer the tablet cannot read: retry; report it if it repeats"
    )]
    EdgeResponseInvalid {
        /// Description, for logs.
        detail: String,
    },
    /// The edge's access-log checkpoint is not signed by the log key the tablet was
    /// provisioned with, names another log, or is not a checkpoint at all. The edge may
    /// be an impostor or its log key was replaced.
    #[error(
        "The records service failed its tamper check (its log is not signed with the expected key). Patient care can continue; report this to your supervisor."
    )]
    LogCheckpointInvalid {
        /// What was wrong with the checkpoint, for logs.
        detail: String,
    },
    /// The edge's access log does not extend the one the tablet saw before: entries were
    /// removed or rewritten (rollback, fork, or a consistency proof that fails).
    #[error(
        "The records service failed its tamper check (its access log was altered). Patient care can continue; report this to your supervisor."
    )]
    LogInconsistent {
        /// Entries in the checkpoint the tablet saw before.
        previous_size: u64,
        /// Entries in the edge's current checkpoint.
        size: u64,
        /// Which check failed, for logs.
        detail: String,
    },
    /// The tablet's saved last-seen checkpoint cannot be read (damaged, or from another
    /// log key) or saved. The app may reset it with `LogWitness::forget`.
    #[error(
        "The tablet's saved tamper-check record is damaged or cannot be saved. Patient care can continue; report this to your supervisor."
    )]
    LogWitnessStateUnusable {
        /// File-system or format description, for logs.
        detail: String,
    },
    /// The tablet's own storage failed (full, damaged, or opened with another key).
    #[error(
        "The tablet could not save its work: free up space or restart the app; patient care continues"
    )]
    LocalStorage {
        /// Storage description, for logs (no personal data).
        detail: String,
    },
    /// The summary copy on the tablet is gone: wiped after its time limit, or never
    /// fetched on this tablet.
    #[error("The summary is no longer on this tablet: fetch it again while there is signal")]
    SummaryCopyGone,
    /// The incident asked for is not on this tablet, or is closed.
    #[error("This incident is not open on this tablet: start a new incident")]
    IncidentNotOnTablet,
    /// The tablet is set up wrongly (server address, device token).
    #[error("Tablet is not set up for the records service: contact your supervisor")]
    Configuration {
        /// Description, for logs.
        detail: String,
    },
}

impl MobileError {
    /// True when trying the same action again may succeed (signal, card position).
    pub fn is_retryable(&self) -> bool {
        match self {
            MobileError::CardLost
            | MobileError::CardTimeout
            | MobileError::CardReaderFailure { .. }
            | MobileError::NoReader { .. }
            | MobileError::NoCard
            | MobileError::CardInUse
            | MobileError::CardUnreadable { .. }
            | MobileError::DifferentCard
            | MobileError::ChallengeInvalid
            | MobileError::EdgeUnreachable { .. }
            | MobileError::EdgeResponseInvalid { .. } => true,
            MobileError::Rejected { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

/// The paramedic-facing message for a server error code.
fn rejection_message(code: &str) -> String {
    let known = match code {
        "consent_refused" => "Patient refused consent: records are not available",
        "unknown_patient" => "No records found for this card",
        "consent_reason_required" => "Choose why consent cannot be obtained",
        "consent_not_recorded" => "Record the patient's consent decision first",
        "consent_already_recorded" => {
            "A different consent decision is already recorded for this patient"
        }
        "certificate_invalid" => {
            "The card's certificate was not accepted: identify the patient another way"
        }
        "certificate_not_valid_now" => {
            "This card has expired or is not yet valid: records cannot be opened with it"
        }
        "identity_method_not_accepted" => "This way of confirming identity is not accepted here",
        "outside_declared_disaster" => {
            "No disaster declared for this area now: identify the patient by card"
        }
        "photo_not_confirmed" => "Confirm the face photo on the card before opening records",
        "unauthorized" => {
            "This tablet is not registered with the records service: contact your supervisor"
        }
        "incident_not_found" => "The records service does not know this incident: start a new one",
        "incident_id_conflict" => "This incident id is already in use: start a new incident",
        "unknown_hospital" => "This hospital is not on the list: refresh the list and choose again",
        "chief_complaint_invalid" => "Enter a chief complaint (1 to 500 characters)",
        "eta_invalid" => "Enter an arrival time of at most 240 minutes",
        "handoff_open" => {
            "Already handed to a hospital: wait for its answer, or withdraw that handoff first"
        }
        "handoff_not_found" => "The records service does not know this handoff",
        "handoff_decided" => "The hospital already answered, or the handoff was withdrawn",
        "location_invalid" => {
            "The tablet's location is invalid: choose the hospital from the full list"
        }
        "crew_member_id_invalid" => "Crew member id is invalid: check the tablet sign-in",
        "storage_unavailable" => {
            "The records service is temporarily unavailable: continue care; retry shortly"
        }
        other => return format!("The records service refused the request ({other})"),
    };
    known.to_string()
}

impl From<CardError> for MobileError {
    fn from(error: CardError) -> Self {
        match error {
            CardError::Link(CardLinkError::Lost) => MobileError::CardLost,
            CardError::Link(CardLinkError::Timeout) => MobileError::CardTimeout,
            CardError::Link(CardLinkError::Io { message }) => {
                MobileError::CardReaderFailure { detail: message }
            }
            CardError::Reader(error) => error.into(),
            CardError::NotAMyNumberCard => MobileError::NotAMyNumberCard,
            CardError::PinFormat => MobileError::PinFormatInvalid,
            CardError::PinGuard { tries_left } => MobileError::PinGuard { tries_left },
            CardError::Status(StatusError::WrongPin { tries_left }) => {
                MobileError::WrongPin { tries_left }
            }
            CardError::Status(StatusError::PinBlocked) => MobileError::PinBlocked,
            other @ (CardError::Status(_)
            | CardError::Malformed(_)
            | CardError::Oversized { .. }
            | CardError::InvalidCommand(_)) => MobileError::CardUnreadable {
                detail: other.to_string(),
            },
        }
    }
}

impl From<ReaderError> for MobileError {
    fn from(error: ReaderError) -> Self {
        match error {
            ReaderError::ServiceUnavailable => MobileError::ReaderServiceUnavailable,
            ReaderError::NoReaders | ReaderError::ReaderNotFound { .. } => MobileError::NoReader {
                detail: error.to_string(),
            },
            // Waiting for a card ran out: the card is still not there.
            ReaderError::NoCard | ReaderError::Timeout => MobileError::NoCard,
            ReaderError::CardInUse => MobileError::CardInUse,
            ReaderError::Other { message } => MobileError::CardReaderFailure { detail: message },
        }
    }
}

impl From<EdgeError> for MobileError {
    fn from(error: EdgeError) -> Self {
        match error {
            EdgeError::Unreachable { message } => MobileError::EdgeUnreachable { detail: message },
            EdgeError::Rejected {
                status,
                code,
                message,
            } => match code.as_str() {
                // Refusals the app reacts to differently get their own variant.
                "certificate_revoked" => MobileError::CardRevoked,
                "certificate_untrusted" => MobileError::CardUntrusted,
                "challenge_invalid" => MobileError::ChallengeInvalid,
                "signature_invalid" => MobileError::SignatureInvalid,
                _ => MobileError::Rejected {
                    status,
                    code,
                    message,
                },
            },
            EdgeError::InvalidResponse { message } => {
                MobileError::EdgeResponseInvalid { detail: message }
            }
            EdgeError::Configuration { message } => MobileError::Configuration { detail: message },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(error: impl Into<MobileError>, expected: &str) {
        assert_eq!(error.into().to_string(), expected);
    }

    #[test]
    fn messages_tell_the_crew_what_to_do() {
        check(
            CardError::Link(CardLinkError::Lost),
            "Card moved away: hold it flat against the reader and try again",
        );
        check(CardError::NotAMyNumberCard, "This is not a My Number card");
        check(
            EdgeError::Unreachable {
                message: "cannot connect".into(),
            },
            "No connection to the records service: continue care; retry when signal returns",
        );
        let rejected = |code: &str| EdgeError::Rejected {
            status: 403,
            code: code.into(),
            message: "server text".into(),
        };
        check(
            rejected("consent_refused"),
            "Patient refused consent: records are not available",
        );
        check(
            rejected("unknown_patient"),
            "No records found for this card",
        );
        check(
            rejected("consent_reason_required"),
            "Choose why consent cannot be obtained",
        );
        check(
            rejected("something_new"),
            "The records service refused the request (something_new)",
        );
        check(
            MobileError::PhotoMismatch,
            "Face photo does not match: identity not confirmed, records cannot be opened",
        );
    }

    #[test]
    fn card_trust_and_pin_check_refusals_have_their_own_variants() {
        let rejected = |status: u16, code: &str| EdgeError::Rejected {
            status,
            code: code.into(),
            message: "server text".into(),
        };
        let cases = [
            (
                rejected(403, "certificate_revoked"),
                MobileError::CardRevoked,
                "This card has been revoked: identify the patient another way",
            ),
            (
                rejected(403, "certificate_untrusted"),
                MobileError::CardUntrusted,
                "The card's certificate is not from the JPKI authority: check the card",
            ),
            (
                rejected(409, "challenge_invalid"),
                MobileError::ChallengeInvalid,
                "The PIN check took too long: hold the card still and try the PIN again",
            ),
            (
                rejected(403, "signature_invalid"),
                MobileError::SignatureInvalid,
                "The card's PIN signature was not accepted: identify the patient another way",
            ),
        ];
        for (edge, expected, message) in cases {
            let mapped = MobileError::from(edge);
            assert_eq!(mapped, expected);
            assert_eq!(mapped.to_string(), message);
        }
        check(
            MobileError::DifferentCard,
            "A different card is on the reader: tap the patient's card again",
        );
        // Trying again helps after a timeout or a card swap, not for a bad card.
        assert!(MobileError::ChallengeInvalid.is_retryable());
        assert!(MobileError::DifferentCard.is_retryable());
        assert!(!MobileError::CardRevoked.is_retryable());
        assert!(!MobileError::CardUntrusted.is_retryable());
        assert!(!MobileError::SignatureInvalid.is_retryable());
    }

    #[test]
    fn card_errors_map_to_flat_variants() {
        let map = |e: CardError| MobileError::from(e);
        assert_eq!(
            map(CardError::Link(CardLinkError::Timeout)),
            MobileError::CardTimeout
        );
        assert_eq!(
            map(CardError::Status(StatusError::PinBlocked)),
            MobileError::PinBlocked
        );
        assert!(matches!(
            map(CardError::Status(StatusError::FileNotFound)),
            MobileError::CardUnreadable { .. }
        ));
        assert!(map(CardError::Link(CardLinkError::Lost)).is_retryable());
        assert!(!map(CardError::NotAMyNumberCard).is_retryable());
    }

    #[test]
    fn pin_errors_tell_the_crew_to_use_the_photo() {
        check(
            CardError::PinGuard { tries_left: 1 },
            "Only one PIN try left: do not enter the PIN; use the face-photo check",
        );
        check(
            CardError::Status(StatusError::PinBlocked),
            "PIN blocked: use the face-photo check",
        );
        check(
            CardError::Status(StatusError::WrongPin { tries_left: 2 }),
            "Wrong PIN, 2 tries left: do not guess; confirm identity with the face photo instead",
        );
        check(CardError::PinFormat, "Enter the 4-digit PIN (digits only)");
        let map = |e: CardError| MobileError::from(e);
        assert_eq!(
            map(CardError::PinGuard { tries_left: 1 }),
            MobileError::PinGuard { tries_left: 1 }
        );
        assert_eq!(
            map(CardError::Status(StatusError::WrongPin { tries_left: 2 })),
            MobileError::WrongPin { tries_left: 2 }
        );
        for pin_error in [
            CardError::PinGuard { tries_left: 1 },
            CardError::Status(StatusError::PinBlocked),
            CardError::Status(StatusError::WrongPin { tries_left: 2 }),
            CardError::PinFormat,
        ] {
            assert!(!map(pin_error).is_retryable());
        }
    }

    #[test]
    fn reader_errors_tell_the_crew_what_to_do() {
        let reader = |e: ReaderError| CardError::Reader(e);
        check(
            reader(ReaderError::NoReaders),
            "No card reader found: connect the reader, then try again",
        );
        check(
            reader(ReaderError::ReaderNotFound {
                name: "Virtual PCD 00 01".into(),
            }),
            "No card reader found: connect the reader, then try again",
        );
        check(
            reader(ReaderError::NoCard),
            "No card on the reader: place the card flat on the reader",
        );
        check(
            ReaderError::Timeout,
            "No card on the reader: place the card flat on the reader",
        );
        check(
            ReaderError::CardInUse,
            "The card is in use by another app: close it, then try again",
        );
        check(
            ReaderError::ServiceUnavailable,
            "Card reader service not running: restart the reader software, then try again",
        );
        assert_eq!(
            MobileError::from(ReaderError::Other {
                message: "comm error".into()
            }),
            MobileError::CardReaderFailure {
                detail: "comm error".into()
            }
        );
        assert_eq!(
            MobileError::from(ReaderError::ReaderNotFound { name: "r".into() }),
            MobileError::NoReader {
                detail: "card reader \"r\" not found".into()
            }
        );
        assert!(MobileError::from(ReaderError::NoCard).is_retryable());
        assert!(MobileError::from(ReaderError::CardInUse).is_retryable());
        assert!(!MobileError::from(ReaderError::ServiceUnavailable).is_retryable());
    }
}

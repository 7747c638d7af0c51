//! The consent decision (閲覧への同意) as exported enums, mapped one to one onto
//! [`myna_domain::consent`]. Validation (a `Difficult` note of 1 to 200 characters) stays in
//! the domain and mobile-core. These are mirrors: the domain's `DifficultyReason::Other` is
//! a tuple variant, which the apps would get as an unnamed field; here the note is named.

use myna_domain::consent::{ConsentState, DifficultyReason as DomainReason};

/// The patient's answer to "may we view your records?".
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum Consent {
    /// The patient agreed.
    Given,
    /// The patient said no: nothing is viewed; the crew works the normal way and can still
    /// hand the patient off (without records).
    Refused,
    /// Consent is difficult to obtain (同意取得困難); records may be viewed without it.
    Difficult {
        /// Why.
        reason: DifficultyReason,
    },
}

/// Why consent could not be obtained.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum DifficultyReason {
    /// Impaired consciousness (意識障害).
    Unconscious,
    /// Severe pain prevents a considered answer.
    SeverePain,
    /// Cannot communicate (language, hearing, cognition, intubation, ...).
    CannotCommunicate,
    /// Another reason, described by the crew (1 to 200 characters; no names).
    Other {
        /// The crew's note.
        note: String,
    },
}

impl From<Consent> for ConsentState {
    fn from(consent: Consent) -> Self {
        match consent {
            Consent::Given => ConsentState::Given,
            Consent::Refused => ConsentState::Refused,
            Consent::Difficult { reason } => ConsentState::Difficult {
                reason: reason.into(),
            },
        }
    }
}

impl From<ConsentState> for Consent {
    fn from(state: ConsentState) -> Self {
        match state {
            ConsentState::Given => Consent::Given,
            ConsentState::Refused => Consent::Refused,
            ConsentState::Difficult { reason } => Consent::Difficult {
                reason: reason.into(),
            },
        }
    }
}

impl From<DifficultyReason> for DomainReason {
    fn from(reason: DifficultyReason) -> Self {
        match reason {
            DifficultyReason::Unconscious => DomainReason::Unconscious,
            DifficultyReason::SeverePain => DomainReason::SeverePain,
            DifficultyReason::CannotCommunicate => DomainReason::CannotCommunicate,
            DifficultyReason::Other { note } => DomainReason::Other(note),
        }
    }
}

impl From<DomainReason> for DifficultyReason {
    fn from(reason: DomainReason) -> Self {
        match reason {
            DomainReason::Unconscious => DifficultyReason::Unconscious,
            DomainReason::SeverePain => DifficultyReason::SeverePain,
            DomainReason::CannotCommunicate => DifficultyReason::CannotCommunicate,
            DomainReason::Other(note) => DifficultyReason::Other { note },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consent_round_trips() {
        for consent in [
            Consent::Given,
            Consent::Refused,
            Consent::Difficult {
                reason: DifficultyReason::Unconscious,
            },
            Consent::Difficult {
                reason: DifficultyReason::SeverePain,
            },
            Consent::Difficult {
                reason: DifficultyReason::CannotCommunicate,
            },
            Consent::Difficult {
                reason: DifficultyReason::Other {
                    note: "intubated".into(),
                },
            },
        ] {
            assert_eq!(Consent::from(ConsentState::from(consent.clone())), consent);
        }
    }
}

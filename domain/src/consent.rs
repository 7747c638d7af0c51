//! Consent to view records (閲覧への同意). Never a bare bool.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Longest free-text note accepted for [`DifficultyReason::Other`].
pub const MAX_REASON_NOTE_CHARS: usize = 200;

/// The patient's answer to "may we view your records?".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum ConsentState {
    /// The patient agreed.
    Given,
    /// The patient said no: nothing is viewed, the crew works the normal way.
    Refused,
    /// Consent is difficult to obtain (同意取得困難); records may be viewed without it.
    Difficult {
        /// Why consent could not be obtained.
        reason: DifficultyReason,
    },
}

impl ConsentState {
    /// Builds a `Difficult` state, checking a free-text note if there is one.
    pub fn difficult(reason: DifficultyReason) -> Result<Self> {
        reason.validate()?;
        Ok(ConsentState::Difficult { reason })
    }

    /// True when records are viewed without the patient's consent (break-the-glass).
    pub fn is_without_consent(&self) -> bool {
        matches!(self, ConsentState::Difficult { .. })
    }

    /// Stable codes for exports: the state (`given`, `refused`, `difficult`) and, for
    /// `difficult`, [`DifficultyReason::code`]. No free text: the crew's note of
    /// [`DifficultyReason::Other`] may name people.
    pub fn codes(&self) -> (&'static str, Option<&'static str>) {
        match self {
            ConsentState::Given => ("given", None),
            ConsentState::Refused => ("refused", None),
            ConsentState::Difficult { reason } => ("difficult", Some(reason.code())),
        }
    }
}

/// Why consent could not be obtained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(
    rename_all = "snake_case",
    tag = "kind",
    content = "note",
    deny_unknown_fields
)]
pub enum DifficultyReason {
    /// Impaired consciousness (意識障害).
    Unconscious,
    /// Severe pain prevents a considered answer.
    SeverePain,
    /// Cannot communicate (language, hearing, cognition, intubation, ...).
    CannotCommunicate,
    /// Another reason, described by the crew.
    Other(String),
}

impl DifficultyReason {
    /// Checks the free-text note of [`DifficultyReason::Other`].
    pub fn validate(&self) -> Result<()> {
        if let DifficultyReason::Other(note) = self {
            let chars = note.trim().chars().count();
            if chars == 0 || chars > MAX_REASON_NOTE_CHARS {
                return Err(Error::ConsentNoteInvalid {
                    max: MAX_REASON_NOTE_CHARS,
                });
            }
        }
        Ok(())
    }

    /// Stable snake_case code (`other` for any free-text reason, whose note is not part
    /// of the code).
    pub fn code(&self) -> &'static str {
        match self {
            DifficultyReason::Unconscious => "unconscious",
            DifficultyReason::SeverePain => "severe_pain",
            DifficultyReason::CannotCommunicate => "cannot_communicate",
            DifficultyReason::Other(_) => "other",
        }
    }

    /// Short English label.
    pub fn label(&self) -> &str {
        match self {
            DifficultyReason::Unconscious => "unconscious",
            DifficultyReason::SeverePain => "severe pain",
            DifficultyReason::CannotCommunicate => "cannot communicate",
            DifficultyReason::Other(note) => note,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_reason_needs_a_note() {
        assert!(ConsentState::difficult(DifficultyReason::Other(" ".into())).is_err());
        let long = "x".repeat(MAX_REASON_NOTE_CHARS + 1);
        assert!(ConsentState::difficult(DifficultyReason::Other(long)).is_err());
        assert!(ConsentState::difficult(DifficultyReason::Other("intubated".into())).is_ok());
        assert!(ConsentState::difficult(DifficultyReason::Unconscious).is_ok());
    }

    #[test]
    fn json_shape_is_tagged() {
        let s = ConsentState::Difficult {
            reason: DifficultyReason::Unconscious,
        };
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"state":"difficult","reason":{"kind":"unconscious"}}"#
        );
        assert!(serde_json::from_str::<ConsentState>(r#"{"state":"difficult"}"#).is_err());
    }
}

//! Patient identity and how it was established (本人確認).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Internal patient identifier of the record system. Never the My Number itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct PatientId(pub String);

impl std::fmt::Display for PatientId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Sex as coded on the card (券面 DF25: '1' male, '2' female, '9' not applicable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// '1'
    Male,
    /// '2'
    Female,
    /// '9'
    NotApplicable,
}

impl Sex {
    /// The card's one-character code.
    pub fn card_code(self) -> char {
        match self {
            Sex::Male => '1',
            Sex::Female => '2',
            Sex::NotApplicable => '9',
        }
    }
}

/// The fourth basic fact: the address, or the insurer's name (住所 または 保険者名称).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(
    rename_all = "snake_case",
    tag = "kind",
    content = "value",
    deny_unknown_fields
)]
pub enum AddressOrInsurer {
    /// Address as printed on the card.
    Address(String),
    /// Name of the health insurer.
    Insurer(String),
}

/// The four basic facts (基本4情報): name, date of birth, sex, and address or insurer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BasicFacts {
    /// Full name.
    pub name: String,
    /// Date of birth.
    pub birth_date: NaiveDate,
    /// Sex.
    pub sex: Sex,
    /// Address or insurer name.
    pub address_or_insurer: AddressOrInsurer,
}

impl BasicFacts {
    /// Rejects facts that cannot identify anyone (empty name or address).
    pub fn validate(&self) -> Result<()> {
        if self.name.trim().is_empty() {
            return Err(Error::BasicFactsIncomplete("name is empty"));
        }
        let fourth = match &self.address_or_insurer {
            AddressOrInsurer::Address(a) | AddressOrInsurer::Insurer(a) => a,
        };
        if fourth.trim().is_empty() {
            return Err(Error::BasicFactsIncomplete("address or insurer is empty"));
        }
        Ok(())
    }
}

/// Id of a one-time identification challenge the edge issued to a tablet. The edge keeps
/// the challenge bytes; the tablet sends back only the id and the card's signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct ChallengeId(pub uuid::Uuid);

impl std::fmt::Display for ChallengeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The evidence a crew presents to identify the patient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityEvidence {
    /// The card's user-authentication certificate, read without a PIN, and the face
    /// photo on the card compared with the patient by eye (顔写真と照らして目視で本人確認).
    CardWithPhotoCheck {
        /// DER of the JPKI user-authentication certificate (EF 000A).
        certificate_der: Vec<u8>,
    },
    /// The card's certificate plus a signature by its key over a server challenge,
    /// made after the patient entered their 4-digit PIN.
    PinVerifiedCard {
        /// DER of the JPKI user-authentication certificate.
        certificate_der: Vec<u8>,
        /// The server challenge that was signed (the server holds its bytes).
        challenge_id: ChallengeId,
        /// The card's signature over the challenge bytes (RSASSA-PKCS1-v1_5, SHA-256).
        signature: Vec<u8>,
    },
    /// Only the four basic facts, e.g. told by family or read from the card face.
    BasicFacts(BasicFacts),
}

impl IdentityEvidence {
    /// The assurance this kind of evidence gives once it has been checked.
    pub fn assurance(&self) -> AssuranceLevel {
        match self {
            IdentityEvidence::CardWithPhotoCheck { .. } => AssuranceLevel::CardAndPhoto,
            IdentityEvidence::PinVerifiedCard { .. } => AssuranceLevel::PinVerified,
            IdentityEvidence::BasicFacts(_) => AssuranceLevel::BasicFactsOnly,
        }
    }
}

/// How strongly the patient's identity was established, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum), uniffi(name = "Assurance"))]
#[serde(rename_all = "snake_case")]
pub enum AssuranceLevel {
    /// Card signature made with the patient's PIN and verified against the certificate.
    PinVerified,
    /// Card certificate read without PIN, face photo checked by eye.
    CardAndPhoto,
    /// The four basic facts only.
    BasicFactsOnly,
}

/// A patient identity the edge has resolved from evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EstablishedIdentity {
    /// The patient.
    pub patient: PatientId,
    /// How it was established.
    pub assurance: AssuranceLevel,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(name: &str, fourth: &str) -> BasicFacts {
        BasicFacts {
            name: name.into(),
            birth_date: NaiveDate::from_ymd_opt(1940, 1, 2).unwrap(),
            sex: Sex::Female,
            address_or_insurer: AddressOrInsurer::Insurer(fourth.into()),
        }
    }

    #[test]
    fn basic_facts_need_name_and_fourth_fact() {
        assert!(facts("山田 花子", "協会けんぽ").validate().is_ok());
        assert!(facts("  ", "協会けんぽ").validate().is_err());
        assert!(facts("山田 花子", "").validate().is_err());
    }

    #[test]
    fn evidence_maps_to_assurance() {
        let card = IdentityEvidence::CardWithPhotoCheck {
            certificate_der: vec![],
        };
        assert_eq!(card.assurance(), AssuranceLevel::CardAndPhoto);
        let f = IdentityEvidence::BasicFacts(facts("a", "b"));
        assert_eq!(f.assurance(), AssuranceLevel::BasicFactsOnly);
    }
}

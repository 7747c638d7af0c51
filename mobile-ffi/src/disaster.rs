//! Disaster mode (災害時): identifying a patient by the four basic facts, without a card,
//! while a declared disaster covers the tablet's area. Mirrors of the domain's
//! `BasicFacts` and `DisasterDeclaration`, which do not derive uniffi's traits (dates as
//! text, the address-or-insurer choice as a flag); `Sex` is the domain's own.

use std::time::SystemTime;

use myna_domain::disaster::DisasterDeclaration;
use myna_domain::identity::{self as domain, AddressOrInsurer, Sex};

use crate::error::MobileFfiError;

/// The four basic facts (基本4情報), for disaster-mode identification without a card.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BasicFacts {
    /// Full name.
    pub name: String,
    /// Date of birth, `YYYY-MM-DD`.
    pub birth_date: String,
    /// Sex.
    pub sex: Sex,
    /// The address, or the insurer's name when `is_insurer`.
    pub address_or_insurer: String,
    /// `address_or_insurer` is the insurer's name.
    #[uniffi(default = false)]
    pub is_insurer: bool,
}

impl TryFrom<BasicFacts> for domain::BasicFacts {
    type Error = MobileFfiError;

    fn try_from(f: BasicFacts) -> Result<Self, Self::Error> {
        let birth_date = chrono::NaiveDate::parse_from_str(&f.birth_date, "%Y-%m-%d")
            .map_err(|_| MobileFfiError::invalid_argument("birth date, YYYY-MM-DD"))?;
        Ok(domain::BasicFacts {
            name: f.name,
            birth_date,
            sex: f.sex,
            address_or_insurer: if f.is_insurer {
                AddressOrInsurer::Insurer(f.address_or_insurer)
            } else {
                AddressOrInsurer::Address(f.address_or_insurer)
            },
        })
    }
}

/// A declared disaster covering the tablet's area: identification by the basic facts is
/// allowed while it lasts.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Disaster {
    /// Name.
    pub name: String,
    /// Area code (prefecture or municipality).
    pub area: String,
    /// Start.
    pub starts_at: SystemTime,
    /// End (exclusive).
    pub ends_at: SystemTime,
}

impl From<DisasterDeclaration> for Disaster {
    fn from(d: DisasterDeclaration) -> Self {
        Disaster {
            name: d.name,
            area: d.area.as_str().to_string(),
            starts_at: d.starts_at.into(),
            ends_at: d.ends_at.into(),
        }
    }
}

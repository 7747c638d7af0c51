//! Disaster mode (災害時): when the operator has declared a disaster for an area and a
//! period, ambulance crews in that area may identify a patient by the four basic facts
//! without a card (many people flee without their wallet). Outside that scope a crew's
//! basic-facts identification is refused. A declaration only widens *identification*;
//! consent is still asked, and every access is still logged.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Longest declared period: a declaration is renewed, not left open.
pub const MAX_DECLARATION_DAYS: i64 = 30;

/// A local-government area code (全国地方公共団体コード without its check digit): two
/// digits for a prefecture (`13` Tokyo) or five for a municipality (`13112` Setagaya). A
/// prefecture's code covers every municipality in it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "String", into = "String")]
pub struct AreaCode(String);

impl AreaCode {
    /// The code, if it is 2 or 5 ASCII digits with a prefecture from 01 to 47.
    pub fn parse(text: &str) -> Option<Self> {
        let digits = text.len() == 2 || text.len() == 5;
        if !digits || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let prefecture: u8 = text[..2].parse().ok()?;
        (1..=47)
            .contains(&prefecture)
            .then(|| AreaCode(text.to_string()))
    }

    /// Whether this area contains `other` (itself, or a municipality of this prefecture).
    pub fn covers(&self, other: &AreaCode) -> bool {
        other.0.starts_with(&self.0)
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AreaCode {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        AreaCode::parse(&text)
            .ok_or_else(|| "area code must be 2 or 5 digits (prefecture 01-47)".into())
    }
}

impl From<AreaCode> for String {
    fn from(code: AreaCode) -> String {
        code.0
    }
}

/// A declared disaster: an area and a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DisasterDeclaration {
    /// Declaration id.
    pub id: uuid::Uuid,
    /// Name, e.g. "令和8年 能登半島地震".
    pub name: String,
    /// The area it covers.
    pub area: AreaCode,
    /// Start of the period.
    pub starts_at: DateTime<Utc>,
    /// End of the period (exclusive).
    pub ends_at: DateTime<Utc>,
}

impl DisasterDeclaration {
    /// Whether a crew in `area` at `at` is within this declaration.
    pub fn covers(&self, area: &AreaCode, at: DateTime<Utc>) -> bool {
        self.area.covers(area) && self.starts_at <= at && at < self.ends_at
    }
}

/// `POST /v1/disasters` (operator).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DeclareDisasterRequest {
    /// Name, 1 to 200 characters.
    pub name: String,
    /// The area.
    pub area: AreaCode,
    /// Start of the period.
    pub starts_at: DateTime<Utc>,
    /// End of the period: after the start, at most [`MAX_DECLARATION_DAYS`] later.
    pub ends_at: DateTime<Utc>,
}

impl DeclareDisasterRequest {
    /// Checks the name and the period; says what is wrong.
    pub fn validate(&self) -> Result<(), &'static str> {
        let name = self.name.trim().chars().count();
        if name == 0 || name > 200 {
            return Err("name must be 1 to 200 characters");
        }
        if self.ends_at <= self.starts_at {
            return Err("the period must end after it starts");
        }
        if self.ends_at - self.starts_at > chrono::Duration::days(MAX_DECLARATION_DAYS) {
            return Err("a declaration lasts at most 30 days: renew it");
        }
        Ok(())
    }
}

/// `GET /v1/disasters` and `GET /v1/disasters/active`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DisasterList {
    /// Declarations, newest first.
    pub disasters: Vec<DisasterDeclaration>,
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn code(text: &str) -> AreaCode {
        AreaCode::parse(text).unwrap()
    }

    #[test]
    fn area_codes_are_prefectures_or_municipalities() {
        for bad in ["", "1", "131", "1311", "131123", "00", "48", "4a", "１３"] {
            assert!(AreaCode::parse(bad).is_none(), "{bad:?}");
        }
        assert!(code("13").covers(&code("13112")));
        assert!(code("13112").covers(&code("13112")));
        assert!(!code("13112").covers(&code("13")));
        assert!(!code("27").covers(&code("13112")));
        assert!(serde_json::from_str::<AreaCode>("\"99\"").is_err());
    }

    #[test]
    fn a_declaration_covers_its_area_and_period_only() {
        let at = |h| Utc.with_ymd_and_hms(2026, 11, 25, h, 0, 0).unwrap();
        let declared = DisasterDeclaration {
            id: uuid::Uuid::nil(),
            name: "地震".into(),
            area: code("13"),
            starts_at: at(1),
            ends_at: at(5),
        };
        assert!(declared.covers(&code("13112"), at(1)));
        assert!(declared.covers(&code("13112"), at(4)));
        assert!(
            !declared.covers(&code("13112"), at(5)),
            "the end is exclusive"
        );
        assert!(!declared.covers(&code("13112"), at(0)));
        assert!(!declared.covers(&code("27100"), at(2)));
    }

    #[test]
    fn requests_are_checked() {
        let at = |d| Utc.with_ymd_and_hms(2026, 11, d, 0, 0, 0).unwrap();
        let request = |name: &str, from, to| DeclareDisasterRequest {
            name: name.into(),
            area: code("13"),
            starts_at: from,
            ends_at: to,
        };
        assert!(request("地震", at(1), at(2)).validate().is_ok());
        assert!(request(" ", at(1), at(2)).validate().is_err());
        assert!(request("地震", at(2), at(2)).validate().is_err());
        assert!(
            request("地震", at(1), at(1) + chrono::Duration::days(31))
                .validate()
                .is_err()
        );
    }
}

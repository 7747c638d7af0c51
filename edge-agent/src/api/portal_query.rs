//! The history's query parameters (`before`, `limit`, `from`, `to`, `institution`, `lang`):
//! parsing into checked values, the store filter they mean (dates are days in Japan time),
//! and the query strings of links that keep them.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use myna_domain::time::jst;
use serde::Deserialize;

use super::error::AppError;
use crate::store::portal::HistoryFilter;

/// Entries per page unless `limit` says otherwise.
pub const DEFAULT_LIMIT: u32 = 20;
/// Most entries per page.
pub const MAX_LIMIT: u32 = 100;
/// Longest institution id accepted in a filter.
const MAX_INSTITUTION_ID: usize = 64;

/// The query as sent: every value is text, checked by [`HistoryParams::parse`] so a bad
/// value gets our error, not the extractor's. An empty value (an empty form field) is
/// the same as an absent one.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Only entries older than this cursor (the previous page's `next_before`).
    #[param(value_type = Option<u64>)]
    before: Option<String>,
    /// Entries per page, 1 to 100 (default 20).
    #[param(value_type = Option<u32>)]
    limit: Option<String>,
    /// First day, Japan time, inclusive (`YYYY-MM-DD`).
    #[param(value_type = Option<chrono::NaiveDate>)]
    from: Option<String>,
    /// Last day, Japan time, inclusive (`YYYY-MM-DD`).
    #[param(value_type = Option<chrono::NaiveDate>)]
    to: Option<String>,
    /// Only this institution's entries (an id from `institutions`).
    institution: Option<String>,
    /// Page language (`ja` or `en`).
    pub lang: Option<String>,
    /// Access id the patient just reported (the page confirms it).
    pub reported: Option<String>,
}

/// Checked history parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryParams {
    /// Only entries with a lower leaf index (the cursor).
    pub before: Option<u64>,
    /// Page size, 1 to [`MAX_LIMIT`].
    pub limit: u32,
    /// First day (Japan time), inclusive.
    pub from: Option<NaiveDate>,
    /// Last day (Japan time), inclusive.
    pub to: Option<NaiveDate>,
    /// Institution id.
    pub institution: Option<String>,
}

impl Default for HistoryParams {
    fn default() -> Self {
        HistoryParams {
            before: None,
            limit: DEFAULT_LIMIT,
            from: None,
            to: None,
            institution: None,
        }
    }
}

fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn date(value: &str) -> Result<NaiveDate, AppError> {
    let well_formed =
        value.len() == 10 && value.as_bytes()[4] == b'-' && value.as_bytes()[7] == b'-';
    well_formed
        .then(|| NaiveDate::parse_from_str(value, "%Y-%m-%d").ok())
        .flatten()
        .ok_or(AppError::Invalid(
            "invalid_date",
            "from and to must be dates as YYYY-MM-DD",
        ))
}

/// Midnight at the start of `day` in Japan, as UTC.
fn jst_midnight(day: NaiveDate) -> Option<DateTime<Utc>> {
    jst()
        .from_local_datetime(&day.and_hms_opt(0, 0, 0)?)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

impl HistoryParams {
    /// Checks every value; the first bad one is a 422 with a stable code.
    pub fn parse(query: &HistoryQuery) -> Result<Self, AppError> {
        let before = present(&query.before)
            .map(|b| {
                b.parse::<u64>().map_err(|_| {
                    AppError::Invalid("invalid_cursor", "before must be a next_before value")
                })
            })
            .transpose()?;
        let limit = present(&query.limit)
            .map(|l| {
                l.parse::<u32>()
                    .ok()
                    .filter(|l| (1..=MAX_LIMIT).contains(l))
                    .ok_or(AppError::Invalid(
                        "invalid_limit",
                        "limit must be a whole number from 1 to 100",
                    ))
            })
            .transpose()?
            .unwrap_or(DEFAULT_LIMIT);
        let from = present(&query.from).map(date).transpose()?;
        let to = present(&query.to).map(date).transpose()?;
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            return Err(AppError::Invalid(
                "invalid_date_range",
                "from must not be after to",
            ));
        }
        let institution = present(&query.institution)
            .map(|id| {
                let valid = id.len() <= MAX_INSTITUTION_ID
                    && id
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
                valid.then(|| id.to_string()).ok_or(AppError::Invalid(
                    "invalid_institution",
                    "institution must be an institution id",
                ))
            })
            .transpose()?;
        Ok(HistoryParams {
            before,
            limit,
            from,
            to,
            institution,
        })
    }

    /// The store filter: `from` 00:00 JST up to the day after `to`, 00:00 JST.
    pub fn filter(&self) -> Result<HistoryFilter, AppError> {
        let out_of_range = AppError::Invalid("invalid_date", "date out of range");
        let from = match self.from {
            Some(day) => Some(jst_midnight(day).ok_or(out_of_range)?),
            None => None,
        };
        let until = match self.to {
            Some(day) => Some(
                day.succ_opt()
                    .and_then(jst_midnight)
                    .ok_or(AppError::Invalid("invalid_date", "date out of range"))?,
            ),
            None => None,
        };
        Ok(HistoryFilter {
            before: self.before,
            from,
            until,
            institution: self.institution.clone(),
        })
    }

    /// Whether any filter (not the cursor) is set.
    pub fn filtered(&self) -> bool {
        self.from.is_some() || self.to.is_some() || self.institution.is_some()
    }

    /// A query string (without `?`) keeping `lang`, the filters and a non-default limit,
    /// with cursor `before`. Every value was checked to be URL-safe, so none is escaped.
    pub fn query_string(&self, lang: &str, before: Option<u64>) -> String {
        let mut parts = vec![format!("lang={lang}")];
        if let Some(from) = self.from {
            parts.push(format!("from={from}"));
        }
        if let Some(to) = self.to {
            parts.push(format!("to={to}"));
        }
        if let Some(institution) = &self.institution {
            parts.push(format!("institution={institution}"));
        }
        if self.limit != DEFAULT_LIMIT {
            parts.push(format!("limit={}", self.limit));
        }
        if let Some(before) = before {
            parts.push(format!("before={before}"));
        }
        parts.join("&")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> HistoryQuery {
        let mut q = HistoryQuery::default();
        for (key, value) in pairs {
            let value = Some(value.to_string());
            match *key {
                "before" => q.before = value,
                "limit" => q.limit = value,
                "from" => q.from = value,
                "to" => q.to = value,
                "institution" => q.institution = value,
                _ => unreachable!(),
            }
        }
        q
    }

    fn code(pairs: &[(&str, &str)]) -> &'static str {
        match HistoryParams::parse(&query(pairs)) {
            Err(AppError::Invalid(code, _)) => code,
            other => panic!("{pairs:?} gave {other:?}"),
        }
    }

    #[test]
    fn bad_values_get_their_own_codes() {
        assert_eq!(code(&[("before", "-1")]), "invalid_cursor");
        assert_eq!(code(&[("limit", "0")]), "invalid_limit");
        assert_eq!(code(&[("limit", "101")]), "invalid_limit");
        assert_eq!(code(&[("from", "2026-13-01")]), "invalid_date");
        assert_eq!(code(&[("to", "2026-1-5")]), "invalid_date");
        assert_eq!(
            code(&[("from", "2026-11-26"), ("to", "2026-11-25")]),
            "invalid_date_range"
        );
        assert_eq!(code(&[("institution", "fd tokyo")]), "invalid_institution");
    }

    #[test]
    fn empty_values_are_absent_and_limit_defaults() {
        let params = HistoryParams::parse(&query(&[("from", ""), ("institution", " ")])).unwrap();
        assert_eq!(params, HistoryParams::default());
    }

    #[test]
    fn days_are_japan_days() {
        let params =
            HistoryParams::parse(&query(&[("from", "2026-11-25"), ("to", "2026-11-25")])).unwrap();
        let filter = params.filter().unwrap();
        let utc = |d, h| Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0).unwrap();
        assert_eq!(filter.from, Some(utc(24, 15)));
        assert_eq!(filter.until, Some(utc(25, 15)));
    }

    #[test]
    fn links_keep_language_and_filters() {
        let params = HistoryParams::parse(&query(&[
            ("from", "2026-11-01"),
            ("institution", "fd-tokyo"),
            ("limit", "5"),
        ]))
        .unwrap();
        assert_eq!(
            params.query_string("en", Some(7)),
            "lang=en&from=2026-11-01&institution=fd-tokyo&limit=5&before=7"
        );
    }
}

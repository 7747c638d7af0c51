//! Japan Standard Time (日本標準時, UTC+9, no daylight saving): the one clock face in which
//! the crew, the ER and the edge count days and show times.
//!
//! Instants are stored and sent in UTC; a day (a summary's "as of" day, a patient's age,
//! which medications are current) is always the JST calendar day of the instant.

use chrono::{DateTime, FixedOffset, NaiveDate, Offset, Utc};

/// Japan Standard Time as a fixed offset (UTC+9).
pub fn jst() -> FixedOffset {
    // 9 h is within FixedOffset's ±24 h range, so the fallback is never taken.
    FixedOffset::east_opt(9 * 3600).unwrap_or(Utc.fix())
}

/// The JST calendar day of `instant`.
pub fn jst_day(instant: DateTime<Utc>) -> NaiveDate {
    instant.with_timezone(&jst()).date_naive()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn the_jst_day_turns_at_15_00_utc() {
        let check = |(h, m): (u32, u32), expected: (i32, u32, u32)| {
            let instant = Utc.with_ymd_and_hms(2026, 11, 25, h, m, 0).unwrap();
            let (y, mo, d) = expected;
            assert_eq!(
                jst_day(instant),
                NaiveDate::from_ymd_opt(y, mo, d).unwrap(),
                "{instant}"
            );
        };
        check((0, 0), (2026, 11, 25));
        check((14, 59), (2026, 11, 25));
        check((15, 0), (2026, 11, 26));
        check((23, 59), (2026, 11, 26));
        assert_eq!(jst().local_minus_utc(), 9 * 3600);
    }
}

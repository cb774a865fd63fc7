//! Business dates are dates in Asia/Shanghai (UTC+8 all year: China has kept no daylight
//! saving time since 1991), while instants are stored in UTC.

use time::{Date, OffsetDateTime, UtcOffset};

/// Asia/Shanghai's offset.
pub const SHANGHAI: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

/// The business date of an instant.
pub fn business_date(at: OffsetDateTime) -> Date {
    at.to_offset(SHANGHAI).date()
}

/// An instant from microseconds since the Unix epoch (the stored form).
pub fn from_unix_us(us: i64) -> OffsetDateTime {
    let nanos = i128::from(us) * 1000;
    OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Microseconds since the Unix epoch.
pub fn to_unix_us(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX)
}

/// `2026-11-28 20:08` in Shanghai time, for pages.
pub fn display_local(at: OffsetDateTime) -> String {
    let l = at.to_offset(SHANGHAI);
    format!("{:04}-{:02}-{:02} {:02}:{:02}", l.year(), u8::from(l.month()), l.day(), l.hour(), l.minute())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn late_evening_utc_is_next_day_in_shanghai() {
        let at = datetime!(2026-11-28 17:30 UTC);
        assert_eq!(business_date(at).to_string(), "2026-11-29");
        assert_eq!(display_local(at), "2026-11-29 01:30");
        assert_eq!(from_unix_us(to_unix_us(at)), at);
    }
}

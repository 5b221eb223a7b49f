//! A moment in UTC: when a version landed, a session expires, a delivery is due. Written as
//! RFC 3339 with microseconds always present, so two written times compare as text in the
//! order they happened (the database compares them that way).

use std::fmt;
use std::str::FromStr;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Duration, OffsetDateTime, UtcOffset};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    /// Now, to the microsecond (what is written keeps no more).
    pub fn now() -> Timestamp {
        let t = OffsetDateTime::now_utc();
        Timestamp(t.replace_nanosecond(t.microsecond() * 1_000).unwrap_or(t))
    }

    /// This moment `seconds` later (earlier when negative).
    pub fn plus_seconds(self, seconds: i64) -> Timestamp {
        Timestamp(self.0 + Duration::seconds(seconds))
    }

    /// Whole days from this moment to `later`.
    pub fn days_until(self, later: Timestamp) -> i64 {
        (later.0 - self.0).whole_days()
    }

    /// `YYYY-MM-DD`.
    pub fn date(self) -> String {
        self.0
            .format(format_description!("[year]-[month]-[day]"))
            .unwrap_or_default()
    }

    /// The day of this moment, in UTC.
    pub fn day(self) -> time::Date {
        self.0.date()
    }

    /// `YYYY-MM-DD HH:MM`, as people read a time in a list.
    pub fn to_minute(self) -> String {
        self.0
            .format(format_description!("[year]-[month]-[day] [hour]:[minute]"))
            .unwrap_or_default()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let written = self
            .0
            .format(format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
            ))
            .map_err(|_| fmt::Error)?;
        f.write_str(&written)
    }
}

impl FromStr for Timestamp {
    type Err = String;
    /// Any RFC 3339 time (earlier versions wrote the fraction with as many digits as it had).
    fn from_str(s: &str) -> Result<Timestamp, String> {
        OffsetDateTime::parse(s, &Rfc3339)
            .map(|t| Timestamp(t.to_offset(UtcOffset::UTC)))
            .map_err(|e| format!("{s:?} is not an RFC 3339 time: {e}"))
    }
}

crate::serde_as_text!(Timestamp);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_is_written_at_one_width_so_text_order_is_time_order() {
        let a: Timestamp = "2026-12-05T21:55:46Z".parse().unwrap();
        let b: Timestamp = "2026-12-05T21:55:46.5Z".parse().unwrap();
        let c: Timestamp = "2026-12-05T23:55:46.25+02:00".parse().unwrap();
        assert_eq!(a.to_string(), "2026-12-05T21:55:46.000000Z");
        assert_eq!(b.to_string(), "2026-12-05T21:55:46.500000Z");
        assert_eq!(c.to_string(), "2026-12-05T21:55:46.250000Z");
        assert!(a < c && c < b);
        assert!(a.to_string() < c.to_string() && c.to_string() < b.to_string());
        assert_eq!(a.to_string().parse::<Timestamp>().unwrap(), a);
        assert_eq!(a.plus_seconds(86_400 * 2).date(), "2026-12-07");
        assert_eq!(a.days_until(a.plus_seconds(86_400 * 2 + 5)), 2);
        assert_eq!(a.to_minute(), "2026-12-05 21:55");
        assert!("yesterday".parse::<Timestamp>().is_err());
    }
}

//! Reporting periods, written as people write them: `2026-03-14` (day), `2026-W11` (ISO
//! week), `2026-03` (month), `2026-Q1` (quarter), `2026` (year).

use serde::{Deserialize, Serialize};
use time::{Date, Duration, Month, Weekday};

/// How often a template is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Frequency {
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

impl Frequency {
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Day => "day",
            Frequency::Week => "week",
            Frequency::Month => "month",
            Frequency::Quarter => "quarter",
            Frequency::Year => "year",
        }
    }

    /// What a period of this frequency looks like, for messages.
    pub fn example(self) -> &'static str {
        match self {
            Frequency::Day => "2026-03-14",
            Frequency::Week => "2026-W11",
            Frequency::Month => "2026-03",
            Frequency::Quarter => "2026-Q1",
            Frequency::Year => "2026",
        }
    }
}

impl std::str::FromStr for Frequency {
    type Err = String;
    fn from_str(s: &str) -> Result<Frequency, String> {
        Ok(match s {
            "day" => Frequency::Day,
            "week" => Frequency::Week,
            "month" => Frequency::Month,
            "quarter" => Frequency::Quarter,
            "year" => Frequency::Year,
            _ => {
                return Err(format!(
                    "{s:?} is not a frequency (day, week, month, quarter or year)"
                ))
            }
        })
    }
}

/// One reporting period: its first and last day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    pub frequency: Frequency,
    pub first: Date,
    pub last: Date,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("period {text:?}: {reason}")]
pub struct PeriodError {
    pub text: String,
    pub reason: String,
}

fn month_of(n: u8) -> Option<Month> {
    Month::try_from(n).ok()
}

fn last_of_month(year: i32, month: Month) -> Date {
    Date::from_calendar_date(year, month, month.length(year)).expect("a month's last day")
}

impl Period {
    /// Reads a period of `frequency`, refusing one written for another.
    pub fn parse(frequency: Frequency, text: &str) -> Result<Period, PeriodError> {
        let bad = || PeriodError {
            text: text.to_string(),
            reason: format!(
                "a {} is written like {}",
                frequency.as_str(),
                frequency.example()
            ),
        };
        let t = text.trim();
        let year = |y: &str| -> Result<i32, PeriodError> {
            y.parse::<i32>()
                .ok()
                .filter(|y| (1900..=2200).contains(y))
                .ok_or_else(bad)
        };
        let (first, last) = match frequency {
            Frequency::Year => {
                if t.len() != 4 {
                    return Err(bad());
                }
                let y = year(t)?;
                (
                    Date::from_calendar_date(y, Month::January, 1).map_err(|_| bad())?,
                    Date::from_calendar_date(y, Month::December, 31).map_err(|_| bad())?,
                )
            }
            Frequency::Quarter => {
                let (y, q) = t.split_once("-Q").ok_or_else(bad)?;
                let y = year(y)?;
                let q: u8 = q
                    .parse()
                    .ok()
                    .filter(|q| (1..=4).contains(q))
                    .ok_or_else(bad)?;
                let first = month_of(3 * q - 2).ok_or_else(bad)?;
                let last = month_of(3 * q).ok_or_else(bad)?;
                (
                    Date::from_calendar_date(y, first, 1).map_err(|_| bad())?,
                    last_of_month(y, last),
                )
            }
            Frequency::Month => {
                let (y, m) = t.split_once('-').ok_or_else(bad)?;
                if m.len() != 2 {
                    return Err(bad());
                }
                let y = year(y)?;
                let m = m.parse().ok().and_then(month_of).ok_or_else(bad)?;
                (
                    Date::from_calendar_date(y, m, 1).map_err(|_| bad())?,
                    last_of_month(y, m),
                )
            }
            Frequency::Week => {
                let (y, w) = t.split_once("-W").ok_or_else(bad)?;
                let y = year(y)?;
                let w: u8 = w.parse().map_err(|_| bad())?;
                let first = Date::from_iso_week_date(y, w, Weekday::Monday).map_err(|_| bad())?;
                (first, first + Duration::days(6))
            }
            Frequency::Day => {
                let format = time::macros::format_description!("[year]-[month]-[day]");
                let d = Date::parse(t, &format).map_err(|_| bad())?;
                (d, d)
            }
        };
        Ok(Period {
            frequency,
            first,
            last,
        })
    }

    /// The period of `frequency` that holds `day`.
    pub fn containing(frequency: Frequency, day: Date) -> Period {
        let (first, last) = match frequency {
            Frequency::Day => (day, day),
            Frequency::Week => {
                let first =
                    day - Duration::days(i64::from(day.weekday().number_days_from_monday()));
                (first, first + Duration::days(6))
            }
            Frequency::Month => (
                day.replace_day(1).expect("the first of a month"),
                last_of_month(day.year(), day.month()),
            ),
            Frequency::Quarter => {
                let q = (u8::from(day.month()) - 1) / 3;
                let first = month_of(3 * q + 1).expect("a quarter's first month");
                let last = month_of(3 * q + 3).expect("a quarter's last month");
                (
                    Date::from_calendar_date(day.year(), first, 1).expect("a quarter's first day"),
                    last_of_month(day.year(), last),
                )
            }
            Frequency::Year => (
                Date::from_calendar_date(day.year(), Month::January, 1).expect("1 January"),
                Date::from_calendar_date(day.year(), Month::December, 31).expect("31 December"),
            ),
        };
        Period {
            frequency,
            first,
            last,
        }
    }

    /// The period after this one.
    pub fn next(self) -> Period {
        Period::containing(self.frequency, self.last + Duration::days(1))
    }

    /// The day returns for this period are due: `deadline_days` after its last day.
    pub fn deadline(self, deadline_days: u16) -> Date {
        self.last + Duration::days(i64::from(deadline_days))
    }

    /// Every period from `self` to `to`, both included (none when `to` comes first).
    pub fn through(self, to: Period) -> Vec<Period> {
        let mut out = Vec::new();
        let mut p = self;
        while p.first <= to.first {
            out.push(p);
            p = p.next();
        }
        out
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let d = self.first;
        match self.frequency {
            Frequency::Day => write!(
                f,
                "{:04}-{:02}-{:02}",
                d.year(),
                u8::from(d.month()),
                d.day()
            ),
            Frequency::Week => {
                let (y, w, _) = d.to_iso_week_date();
                write!(f, "{y:04}-W{w:02}")
            }
            Frequency::Month => write!(f, "{:04}-{:02}", d.year(), u8::from(d.month())),
            Frequency::Quarter => {
                write!(f, "{:04}-Q{}", d.year(), (u8::from(d.month()) - 1) / 3 + 1)
            }
            Frequency::Year => write!(f, "{:04}", d.year()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn each_frequency_reads_and_writes_its_periods_with_their_first_and_last_days() {
        for (f, text, first, last) in [
            (
                Frequency::Day,
                "2026-03-14",
                date!(2026 - 03 - 14),
                date!(2026 - 03 - 14),
            ),
            (
                Frequency::Week,
                "2026-W01",
                date!(2025 - 12 - 29),
                date!(2026 - 01 - 04),
            ),
            (
                Frequency::Month,
                "2024-02",
                date!(2024 - 02 - 01),
                date!(2024 - 02 - 29),
            ),
            (
                Frequency::Quarter,
                "2026-Q4",
                date!(2026 - 10 - 01),
                date!(2026 - 12 - 31),
            ),
            (
                Frequency::Year,
                "2026",
                date!(2026 - 01 - 01),
                date!(2026 - 12 - 31),
            ),
        ] {
            let p = Period::parse(f, text).unwrap();
            assert_eq!((p.first, p.last), (first, last), "{text}");
            assert_eq!(p.to_string(), text);
            assert_eq!(Period::containing(f, last), p);
        }
    }

    #[test]
    fn a_period_written_for_another_frequency_is_refused_with_the_form_expected() {
        let e = Period::parse(Frequency::Month, "2026-Q1").unwrap_err();
        assert_eq!(
            e.to_string(),
            "period \"2026-Q1\": a month is written like 2026-03"
        );
        assert!(Period::parse(Frequency::Month, "2026-13").is_err());
        assert!(Period::parse(Frequency::Week, "2026-W54").is_err());
        assert!(Period::parse(Frequency::Quarter, "2026-Q5").is_err());
    }

    #[test]
    fn deadlines_count_from_the_end_of_the_period_and_ranges_hold_every_period() {
        let jan = Period::parse(Frequency::Month, "2026-01").unwrap();
        assert_eq!(jan.deadline(17), date!(2026 - 02 - 17));
        let dec = Period::parse(Frequency::Month, "2025-12").unwrap();
        let all: Vec<String> = dec
            .through(jan.next())
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(all, ["2025-12", "2026-01", "2026-02"]);
        assert!(jan.through(dec).is_empty());
    }
}

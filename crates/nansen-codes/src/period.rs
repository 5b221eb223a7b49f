//! ISO 8601 periods: `2015`, `2015-Q3`, `2015-09`, `2015-W38`, `2015-09-14`.

use std::fmt;

/// A reporting period at one of five frequencies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Period {
    Year(i32),
    Quarter(i32, u8),
    Month(i32, u8),
    Week(i32, u8),
    Day(i32, u8, u8),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Frequency {
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

impl std::str::FromStr for Frequency {
    type Err = String;
    fn from_str(s: &str) -> Result<Frequency, String> {
        match s.to_ascii_lowercase().as_str() {
            "day" | "daily" | "d" => Ok(Frequency::Day),
            "week" | "weekly" | "w" => Ok(Frequency::Week),
            "month" | "monthly" | "m" => Ok(Frequency::Month),
            "quarter" | "quarterly" | "q" => Ok(Frequency::Quarter),
            "year" | "annual" | "yearly" | "a" | "y" => Ok(Frequency::Year),
            _ => Err(format!(
                "unknown frequency {s:?}: choose month, quarter or year"
            )),
        }
    }
}

impl fmt::Display for Frequency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Frequency::Day => "day",
            Frequency::Week => "week",
            Frequency::Month => "month",
            Frequency::Quarter => "quarter",
            Frequency::Year => "year",
        })
    }
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

fn num<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn year(s: &str) -> Option<i32> {
    if s.len() != 4 {
        return None;
    }
    num::<i32>(s).filter(|y| (1000..=2999).contains(y))
}

impl Period {
    /// Reads every period spelling the publishers use: ISO 8601, Eurostat's `2008M01` and
    /// `2015Q3`, timestamps (`2017-03-30T00:00:00` is a day), and `1 March 2015`.
    pub fn parse(text: &str) -> Option<Period> {
        let s = text.trim();
        if let Some(y) = year(s) {
            return Some(Period::Year(y));
        }
        // `get`, not slicing: the text may be anything, a multibyte character at byte 3 too.
        let starts_with_year = |d: &str| d.len() >= 6 && d.get(..4).and_then(year).is_some();
        let s = s
            .split(['T', ' '])
            .next()
            .filter(|d| starts_with_year(d))
            .unwrap_or(s);
        if starts_with_year(s) {
            let y = year(s.get(..4)?)?;
            let rest = s[4..].strip_prefix('-').unwrap_or(&s[4..]);
            let p = if let Some(q) = rest.strip_prefix('Q').or_else(|| rest.strip_prefix('q')) {
                Period::Quarter(y, num::<u8>(q).filter(|q| (1..=4).contains(q))?)
            } else if let Some(w) = rest.strip_prefix('W').or_else(|| rest.strip_prefix('w')) {
                let w = num::<u8>(w).filter(|w| *w >= 1 && *w <= weeks_in_year(y))?;
                Period::Week(y, w)
            } else if let Some(m) = rest.strip_prefix('M') {
                Period::Month(y, num::<u8>(m).filter(|m| (1..=12).contains(m))?)
            } else if rest.len() == 2 {
                Period::Month(y, num::<u8>(rest).filter(|m| (1..=12).contains(m))?)
            } else if rest.len() == 5 && rest.as_bytes()[2] == b'-' {
                let m = num::<u8>(&rest[..2]).filter(|m| (1..=12).contains(m))?;
                let d = num::<u8>(&rest[3..]).filter(|d| *d >= 1 && *d <= days_in_month(y, m))?;
                Period::Day(y, m, d)
            } else {
                return None;
            };
            return Some(p);
        }
        // `1 March 2015`, `March 2015`
        let words: Vec<&str> = text.split_whitespace().collect();
        let month_of = |w: &str| {
            let w = w.to_lowercase();
            MONTHS
                .iter()
                .position(|m| w.len() >= 3 && m.starts_with(&w))
                .map(|i| i as u8 + 1)
        };
        match words.as_slice() {
            [d, m, y] => {
                let (y, m, d) = (year(y)?, month_of(m)?, num::<u8>(d)?);
                (d >= 1 && d <= days_in_month(y, m)).then_some(Period::Day(y, m, d))
            }
            [m, y] => Some(Period::Month(year(y)?, month_of(m)?)),
            _ => None,
        }
    }

    pub fn frequency(&self) -> Frequency {
        match self {
            Period::Year(_) => Frequency::Year,
            Period::Quarter(..) => Frequency::Quarter,
            Period::Month(..) => Frequency::Month,
            Period::Week(..) => Frequency::Week,
            Period::Day(..) => Frequency::Day,
        }
    }

    /// First day, as days since 1970-01-01.
    pub fn start(&self) -> i64 {
        match *self {
            Period::Year(y) => days_from_civil(y, 1, 1),
            Period::Quarter(y, q) => days_from_civil(y, (q - 1) * 3 + 1, 1),
            Period::Month(y, m) => days_from_civil(y, m, 1),
            Period::Week(y, w) => week1_monday(y) + (w as i64 - 1) * 7,
            Period::Day(y, m, d) => days_from_civil(y, m, d),
        }
    }

    /// Last day, as days since 1970-01-01.
    pub fn end(&self) -> i64 {
        match *self {
            Period::Year(y) => days_from_civil(y + 1, 1, 1) - 1,
            Period::Quarter(y, 4) => days_from_civil(y + 1, 1, 1) - 1,
            Period::Quarter(y, q) => days_from_civil(y, q * 3 + 1, 1) - 1,
            Period::Month(y, 12) => days_from_civil(y + 1, 1, 1) - 1,
            Period::Month(y, m) => days_from_civil(y, m + 1, 1) - 1,
            Period::Week(..) => self.start() + 6,
            Period::Day(..) => self.start(),
        }
    }

    /// The period at a coarser frequency that holds this one (a week belongs where its
    /// Thursday falls); `None` when `to` is finer than this period.
    pub fn to_frequency(&self, to: Frequency) -> Option<Period> {
        if to < self.frequency() {
            return None;
        }
        let (y, m) = match *self {
            Period::Year(y) => return Some(Period::Year(y)),
            Period::Quarter(y, q) => (y, (q - 1) * 3 + 1),
            Period::Month(y, m) | Period::Day(y, m, _) => (y, m),
            Period::Week(..) => {
                let (y, m, d) = civil(self.start() + 3);
                return Period::Day(y, m, d).to_frequency(to);
            }
        };
        Some(match to {
            Frequency::Year => Period::Year(y),
            Frequency::Quarter => Period::Quarter(y, (m - 1) / 3 + 1),
            Frequency::Month => Period::Month(y, m),
            _ => *self,
        })
    }

    /// The same period a year earlier.
    pub fn year_earlier(&self) -> Period {
        match *self {
            Period::Year(y) => Period::Year(y - 1),
            Period::Quarter(y, q) => Period::Quarter(y - 1, q),
            Period::Month(y, m) => Period::Month(y - 1, m),
            Period::Week(y, w) => Period::Week(y - 1, w.min(weeks_in_year(y - 1))),
            Period::Day(y, m, d) => Period::Day(y - 1, m, d.min(days_in_month(y - 1, m))),
        }
    }

    /// The period just after this one, at the same frequency.
    pub fn next(&self) -> Period {
        match *self {
            Period::Year(y) => Period::Year(y + 1),
            Period::Quarter(y, 4) => Period::Quarter(y + 1, 1),
            Period::Quarter(y, q) => Period::Quarter(y, q + 1),
            Period::Month(y, 12) => Period::Month(y + 1, 1),
            Period::Month(y, m) => Period::Month(y, m + 1),
            Period::Week(y, w) if w >= weeks_in_year(y) => Period::Week(y + 1, 1),
            Period::Week(y, w) => Period::Week(y, w + 1),
            Period::Day(..) => {
                let (y, m, d) = civil(self.end() + 1);
                Period::Day(y, m, d)
            }
        }
    }

    /// The period just before this one, at the same frequency.
    pub fn previous(&self) -> Period {
        match *self {
            Period::Year(y) => Period::Year(y - 1),
            Period::Quarter(y, 1) => Period::Quarter(y - 1, 4),
            Period::Quarter(y, q) => Period::Quarter(y, q - 1),
            Period::Month(y, 1) => Period::Month(y - 1, 12),
            Period::Month(y, m) => Period::Month(y, m - 1),
            Period::Week(y, 1) => Period::Week(y - 1, weeks_in_year(y - 1)),
            Period::Week(y, w) => Period::Week(y, w - 1),
            Period::Day(..) => {
                let (y, m, d) = civil(self.start() - 1);
                Period::Day(y, m, d)
            }
        }
    }

    /// True when this period lies inside `[from, to]`, either bound open. An ISO week belongs
    /// to the year of its Thursday, so `2010..2010` holds 2010-W52 though it ends in 2011.
    pub fn within(&self, from: Option<&Period>, to: Option<&Period>) -> bool {
        let (start, end) = match self {
            Period::Week(..) => (self.start() + 3, self.start() + 3),
            _ => (self.start(), self.end()),
        };
        from.is_none_or(|f| start >= f.start()) && to.is_none_or(|t| end <= t.end())
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Year(y) => write!(f, "{y:04}"),
            Period::Quarter(y, q) => write!(f, "{y:04}-Q{q}"),
            Period::Month(y, m) => write!(f, "{y:04}-{m:02}"),
            Period::Week(y, w) => write!(f, "{y:04}-W{w:02}"),
            Period::Day(y, m, d) => write!(f, "{y:04}-{m:02}-{d:02}"),
        }
    }
}

/// A period range `FROM..TO` as a query writes it; either side may be empty.
pub fn parse_range(text: &str) -> Option<(Option<Period>, Option<Period>)> {
    let (a, b) = text.split_once("..").unwrap_or((text, text));
    let side = |s: &str| {
        if s.trim().is_empty() {
            Some(None)
        } else {
            Period::parse(s).map(Some)
        }
    };
    Some((side(a)?, side(b)?))
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i32, m: u8) -> u8 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Howard Hinnant's days-from-civil algorithm.
fn days_from_civil(y: i32, m: u8, d: u8) -> i64 {
    let y = if m <= 2 { y - 1 } else { y } as i64;
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// Days since 1970-01-01 as a civil date (Howard Hinnant's civil-from-days).
pub fn civil(days: i64) -> (i32, u8, u8) {
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let y = (yoe + era * 400 + i64::from(m <= 2)) as i32;
    (y, m, d)
}

/// Monday of ISO week 1: the week holding 4 January.
fn week1_monday(y: i32) -> i64 {
    let jan4 = days_from_civil(y, 1, 4);
    let weekday = (jan4 + 3).rem_euclid(7); // 0 = Monday (1970-01-01 was a Thursday)
    jan4 - weekday
}

fn weeks_in_year(y: i32) -> u8 {
    ((week1_monday(y + 1) - week1_monday(y)) / 7) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_text_is_read_or_refused_never_a_panic() {
        for text in [
            "00\u{10000}",
            "%\u{5cb70}\u{e6647}é{",
            "2015\u{e9}01",
            "201\u{e9}-01-01",
            "2015-\u{e9}1",
            "20150-01",
        ] {
            let _ = Period::parse(text);
        }
        assert_eq!(Period::parse("2015-Q3"), Some(Period::Quarter(2015, 3)));
    }

    #[test]
    fn reads_every_publisher_spelling_and_writes_iso() {
        for (input, iso) in [
            ("2015", "2015"),
            ("2015-Q3", "2015-Q3"),
            ("2015Q3", "2015-Q3"),
            ("2008M01", "2008-01"),
            ("2015-09", "2015-09"),
            ("2015-W38", "2015-W38"),
            ("2015W38", "2015-W38"),
            ("2015-09-14", "2015-09-14"),
            ("2017-03-30T00:00:00", "2017-03-30"),
            ("1 March 2015", "2015-03-01"),
        ] {
            assert_eq!(
                Period::parse(input).map(|p| p.to_string()).as_deref(),
                Some(iso),
                "{input}"
            );
        }
    }

    #[test]
    fn periods_move_to_coarser_frequencies_and_step_back() {
        let p = |s: &str| Period::parse(s).unwrap();
        assert_eq!(
            p("2015-11").to_frequency(Frequency::Quarter),
            Some(p("2015-Q4"))
        );
        assert_eq!(
            p("2015-11-30").to_frequency(Frequency::Year),
            Some(p("2015"))
        );
        assert_eq!(
            p("2015-W53").to_frequency(Frequency::Month),
            Some(p("2015-12")),
            "its Thursday is 31 December"
        );
        assert_eq!(p("2015").to_frequency(Frequency::Month), None);
        assert_eq!(p("2015-01").previous(), p("2014-12"));
        assert_eq!(p("2016-03-01").previous(), p("2016-02-29"));
        assert_eq!(p("2016-W01").previous(), p("2015-W53"));
        for s in [
            "2015",
            "2015-Q4",
            "2014-12",
            "2016-02-29",
            "2015-W53",
            "2015-06-30",
        ] {
            assert_eq!(p(s).next().previous(), p(s), "next then previous of {s}");
        }
        assert_eq!(p("2015-W53").next(), p("2016-W01"));
        assert_eq!(p("2016-Q1").year_earlier(), p("2015-Q1"));
    }

    #[test]
    fn refuses_impossible_periods() {
        for bad in [
            "2015-13",
            "2015-Q5",
            "2015-02-30",
            "2015-W54",
            "15",
            "soon",
            "",
            "2014-W53",
        ] {
            assert_eq!(Period::parse(bad), None, "{bad}");
        }
        assert!(Period::parse("2015-W53").is_some() && Period::parse("2020-W53").is_some());
    }

    #[test]
    fn a_coarse_range_covers_every_finer_period_inside_it() {
        let (from, to) = parse_range("2010..2010").unwrap();
        for p in [
            "2010-01",
            "2010-12",
            "2010-Q4",
            "2010-12-31",
            "2010-W52",
            "2010",
        ] {
            assert!(
                Period::parse(p).unwrap().within(from.as_ref(), to.as_ref()),
                "{p}"
            );
        }
        for p in ["2009-12", "2011-01-01", "2009-W53"] {
            assert!(
                !Period::parse(p).unwrap().within(from.as_ref(), to.as_ref()),
                "{p}"
            );
        }
    }
}

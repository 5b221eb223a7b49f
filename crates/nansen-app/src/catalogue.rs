//! What the catalogue shows of a dataset beyond its metadata: what it covers, whether it is
//! up to date, and a first look at its observations.

use crate::{App, Caller, Need, Result};
use nansen_codes::{Frequency, Period};
use nansen_model::{Cube, DatasetName, Table, Timestamp};
use serde::Serialize;
use std::collections::BTreeSet;
use std::sync::Arc;

/// The indicators, places, origins and periods a dataset's latest version holds. This is
/// descriptive metadata: a `listed` dataset shows it too, never its numbers.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Coverage {
    pub dims: Vec<String>,
    pub indicators: Vec<String>,
    /// Countries and areas of destination or residence (`geo`).
    pub places: Vec<String>,
    /// Countries of origin or citizenship (`origin`).
    pub origins: Vec<String>,
    /// Every other dimension with its codes (route, cause, sex, age, applicant type...), in
    /// the dataset's order: what Explore lets a person filter on.
    pub others: Vec<(String, Vec<String>)>,
    pub first_period: Option<String>,
    pub last_period: Option<String>,
    /// `year`, `quarter`, `month`, `week` or `day`: the finest the periods are given at.
    pub frequency: Option<String>,
    pub observations: u64,
}

/// Whether a dataset was updated as often as it says it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Freshness {
    Fresh,
    /// The next update is expected now.
    Due,
    /// An update is late by more than half a period.
    Overdue,
    /// No update frequency is given, or there is no version yet.
    Unknown,
}

impl Freshness {
    pub fn as_str(self) -> &'static str {
        match self {
            Freshness::Fresh => "fresh",
            Freshness::Due => "due",
            Freshness::Overdue => "overdue",
            Freshness::Unknown => "unknown",
        }
    }

    /// From the update frequency (as the metadata says it) and the days since the last version.
    pub fn of(update_frequency: &str, days_since_update: Option<i64>) -> Freshness {
        let period = match update_frequency.trim().parse::<Frequency>() {
            Ok(Frequency::Day) => 1,
            Ok(Frequency::Week) => 7,
            Ok(Frequency::Month) => 31,
            Ok(Frequency::Quarter) => 92,
            Ok(Frequency::Year) => 366,
            Err(_) => return Freshness::Unknown,
        };
        match days_since_update {
            None => Freshness::Unknown,
            Some(d) if d <= period => Freshness::Fresh,
            Some(d) if d <= period + period / 2 => Freshness::Due,
            Some(_) => Freshness::Overdue,
        }
    }
}

/// Whole days from a moment to now.
pub fn days_since(t: Timestamp) -> i64 {
    t.days_until(Timestamp::now())
}

fn distinct(cube: &Cube, dim: &str) -> Vec<String> {
    let Some(d) = cube.dim(dim) else {
        return Vec::new();
    };
    let col = &cube.columns[d];
    let mut used = vec![false; col.dict.len()];
    for &c in &col.codes {
        used[c as usize] = true;
    }
    let set: BTreeSet<&str> = col
        .dict
        .iter()
        .zip(used)
        .filter(|(_, u)| *u)
        .map(|(v, _)| v.as_str())
        .collect();
    set.into_iter().map(String::from).collect()
}

pub(crate) fn coverage_of(cube: &Cube) -> Coverage {
    let mut periods: Vec<Period> = distinct(cube, "period")
        .iter()
        .filter_map(|p| Period::parse(p))
        .collect();
    periods.sort();
    Coverage {
        dims: cube.dims.clone(),
        indicators: distinct(cube, "indicator"),
        places: distinct(cube, "geo"),
        origins: distinct(cube, "origin"),
        others: cube
            .dims
            .iter()
            .filter(|d| !matches!(d.as_str(), "indicator" | "period" | "geo" | "origin"))
            .map(|d| (d.clone(), distinct(cube, d)))
            .collect(),
        first_period: periods.first().map(|p| p.to_string()),
        last_period: periods.last().map(|p| p.to_string()),
        frequency: periods
            .iter()
            .map(|p| p.frequency())
            .min()
            .map(|f| f.to_string()),
        observations: cube.len() as u64,
    }
}

impl App {
    /// What the latest version covers; to anyone who may know the dataset exists.
    pub fn coverage(&self, who: &Caller, name: &DatasetName) -> Result<Coverage> {
        let (d, access) = self.authorize(who, name, Need::Metadata)?;
        // The protected cube for outside readers of a sensitive dataset: its codes are the same.
        let cube = self.cube_of(&d, access, None)?;
        if let Some((weak, cov)) = self.coverages.lock().expect("coverage cache").get(&d.id) {
            if weak.upgrade().is_some_and(|c| Arc::ptr_eq(&c, &cube)) {
                return Ok(cov.clone());
            }
        }
        let cov = coverage_of(&cube);
        self.coverages
            .lock()
            .expect("coverage cache")
            .insert(d.id, (Arc::downgrade(&cube), cov.clone()));
        Ok(cov)
    }

    /// The first `n` observations of the latest version, as the caller may see them.
    pub fn preview(&self, who: &Caller, name: &DatasetName, n: usize) -> Result<Table> {
        let (d, access) = self.authorize(who, name, Need::Data)?;
        let cube = self.cube_of(&d, access, None)?;
        let rows = (0..cube.len().min(n))
            .map(|r| nansen_model::Row {
                key: cube.key(r).into_iter().map(String::from).collect(),
                value: cube.value(r),
                flags: cube.flag(r).to_string(),
                ..Default::default()
            })
            .collect();
        Ok(Table {
            columns: cube.dims.clone(),
            rows,
            ..Table::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freshness_follows_the_update_frequency() {
        assert_eq!(Freshness::of("monthly", Some(10)), Freshness::Fresh);
        assert_eq!(Freshness::of("monthly", Some(40)), Freshness::Due);
        assert_eq!(Freshness::of("Monthly", Some(60)), Freshness::Overdue);
        assert_eq!(Freshness::of("annual", Some(300)), Freshness::Fresh);
        assert_eq!(Freshness::of("annual", Some(600)), Freshness::Overdue);
        assert_eq!(Freshness::of("", Some(1)), Freshness::Unknown);
        assert_eq!(Freshness::of("weekly", None), Freshness::Unknown);
    }

    #[test]
    fn coverage_lists_places_origins_and_the_period_range() {
        let mut c = Cube::new(vec![
            "indicator".into(),
            "period".into(),
            "geo".into(),
            "origin".into(),
        ]);
        c.push(
            &["asylum_applications", "2015-02", "DEU", "SYR"],
            Some(1.0),
            "",
        );
        c.push(
            &["asylum_applications", "2014-11", "SWE", "SYR"],
            Some(2.0),
            "",
        );
        c.push(&["asylum_applications", "2015-01", "DEU", "AFG"], None, "c");
        let cov = coverage_of(&c);
        assert_eq!(cov.places, ["DEU", "SWE"]);
        assert_eq!(cov.origins, ["AFG", "SYR"]);
        assert_eq!(cov.first_period.as_deref(), Some("2014-11"));
        assert_eq!(cov.last_period.as_deref(), Some("2015-02"));
        assert_eq!(cov.frequency.as_deref(), Some("month"));
        assert_eq!(cov.observations, 3);
    }
}

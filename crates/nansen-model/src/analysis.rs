//! Operations on a query's answer: rolling sums and changes over periods, shares of a total,
//! ratios of two answers. Each works on a table grouped by `period` (and anything else).

use crate::query::{Row, Table};
use nansen_codes::Period;
use std::collections::HashMap;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AnalysisError {
    #[error("{0} needs the answer grouped by period")]
    NeedsPeriod(&'static str),
}

/// The period column's position, and each row's key without it (the series it belongs to).
fn series(table: &Table, what: &'static str) -> Result<(usize, Vec<Vec<String>>), AnalysisError> {
    let p = table
        .columns
        .iter()
        .position(|c| c == "period")
        .ok_or(AnalysisError::NeedsPeriod(what))?;
    let keys = table
        .rows
        .iter()
        .map(|r| {
            r.key
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != p)
                .map(|(_, k)| k.clone())
                .collect()
        })
        .collect();
    Ok((p, keys))
}

/// Each value replaced by the sum of the last `n` periods of its series (this one included);
/// no value where any of those periods is missing, so a partial window never passes for a full one.
pub fn rolling_sum(mut table: Table, n: usize) -> Result<Table, AnalysisError> {
    let (p, keys) = series(&table, "a rolling sum")?;
    let index: HashMap<(Vec<String>, String), (Option<f64>, bool)> = table
        .rows
        .iter()
        .zip(&keys)
        .map(|(r, k)| ((k.clone(), r.key[p].clone()), (r.value, r.incomplete)))
        .collect();
    for (r, k) in table.rows.iter_mut().zip(&keys) {
        let mut period = Period::parse(&r.key[p]);
        let mut sum = Some(0.0);
        for _ in 0..n {
            let (v, incomplete) = period
                .and_then(|per| index.get(&(k.clone(), per.to_string())).copied())
                .unwrap_or((None, false));
            r.incomplete |= incomplete;
            sum = match (sum, v) {
                (Some(s), Some(v)) => Some(s + v),
                _ => None,
            };
            period = period.map(|per| per.previous());
        }
        r.value = sum;
    }
    Ok(table)
}

/// Which earlier period a change is measured against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Against {
    PreviousPeriod,
    YearEarlier,
}

impl std::fmt::Display for Against {
    /// As the CLI's `--change` writes it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Against::PreviousPeriod => "previous",
            Against::YearEarlier => "year",
        })
    }
}

impl std::str::FromStr for Against {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "previous" => Ok(Against::PreviousPeriod),
            "year" => Ok(Against::YearEarlier),
            _ => Err(format!("unknown change {s:?}: choose previous (the period before) or year (a year earlier)")),
        }
    }
}

/// Adds three columns: the earlier value, the change in numbers and the change in per cent.
pub fn change(mut table: Table, against: Against) -> Result<Table, AnalysisError> {
    let (p, keys) = series(&table, "a change")?;
    let index: HashMap<(Vec<String>, String), (Option<f64>, bool)> = table
        .rows
        .iter()
        .zip(&keys)
        .map(|(r, k)| ((k.clone(), r.key[p].clone()), (r.value, r.incomplete)))
        .collect();
    let label = match against {
        Against::PreviousPeriod => "previous",
        Against::YearEarlier => "year_earlier",
    };
    table
        .extra
        .extend([label.to_string(), "change".into(), "change_pct".into()]);
    for (r, k) in table.rows.iter_mut().zip(&keys) {
        let earlier = Period::parse(&r.key[p]).map(|per| match against {
            Against::PreviousPeriod => per.previous(),
            Against::YearEarlier => per.year_earlier(),
        });
        let (base, base_incomplete) = earlier
            .and_then(|e| index.get(&(k.clone(), e.to_string())).copied())
            .unwrap_or((None, false));
        // A change from or to a partly covered period is itself only partly meaningful.
        r.incomplete |= base_incomplete;
        let diff = r.value.zip(base).map(|(v, b)| v - b);
        let pct = diff
            .zip(base)
            .and_then(|(d, b)| (b != 0.0).then_some(d / b * 100.0));
        r.extra.extend([base, diff, pct]);
    }
    Ok(table)
}

/// Adds a column: each row's share, in per cent, of the total of the rows that share its
/// values of every group-by dimension except `over` (all rows when `over` is the only one).
/// The total is the dimension's own total row when the answer has one, else the sum of its
/// leaves: an aggregate (EU28 beside its members) is never added to the denominator.
pub fn share(mut table: Table, over: &str) -> Table {
    let pos = table.columns.iter().position(|c| c == over);
    let rest = |r: &Row| -> Vec<String> {
        r.key
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != pos)
            .map(|(_, k)| k.clone())
            .collect()
    };
    let total_code = nansen_codes::CodeLists::total_code(over);
    let mut leaves: HashMap<Vec<String>, f64> = HashMap::new();
    let mut totals: HashMap<Vec<String>, f64> = HashMap::new();
    for r in &table.rows {
        let Some(v) = r.value else { continue };
        match pos {
            Some(p) if r.key[p] == total_code => {
                totals.insert(rest(r), v);
            }
            Some(p) if table.is_aggregate(r, p) => {}
            _ => *leaves.entry(rest(r)).or_default() += v,
        }
    }
    push_shares(&mut table, rest, &totals, &leaves);
    table
}

/// Adds `share_pct`: each row over its group's denominator (matched on the row's key without
/// the share's dimension), the first map's when it has one, else the second's.
fn push_shares(
    table: &mut Table,
    rest: impl Fn(&Row) -> Vec<String>,
    first: &HashMap<Vec<String>, f64>,
    otherwise: &HashMap<Vec<String>, f64>,
) {
    table.extra.push("share_pct".into());
    for r in table.rows.iter_mut() {
        let k = rest(r);
        let t = first.get(&k).or(otherwise.get(&k)).copied().unwrap_or(0.0);
        let s = r.value.and_then(|v| (t != 0.0).then_some(v / t * 100.0));
        r.extra.push(s);
    }
}

/// Each member's share of an aggregate it belongs to (Germany's share of the EU28), as
/// publishers print it: the rows are the aggregate and its members, the denominator is the
/// aggregate's own row, or the sum of its members where the answer has no such row (said in
/// a warning). Refused when the aggregate's members are not known here.
pub fn share_of(mut table: Table, over: &str, aggregate: &str) -> Result<Table, String> {
    let codes = nansen_codes::CodeLists::get();
    let members = codes.aggregate_members(aggregate).ok_or_else(|| {
        format!(
            "{aggregate:?} is not an aggregate whose members Nansen knows (EU28, EU27_2020, EFTA, ...); \
             without them no share of it can be taken"
        )
    })?;
    let pos = table
        .columns
        .iter()
        .position(|c| c == over)
        .ok_or_else(|| format!("a share of {aggregate} needs a group-by on {over}"))?;
    table
        .rows
        .retain(|r| r.key[pos] == aggregate || members.iter().any(|m| *m == r.key[pos]));
    let rest = |r: &Row| -> Vec<String> {
        let mut k = r.key.clone();
        k.remove(pos);
        k
    };
    let mut own: HashMap<Vec<String>, f64> = HashMap::new();
    let mut summed: HashMap<Vec<String>, f64> = HashMap::new();
    for r in &table.rows {
        let Some(v) = r.value else { continue };
        if r.key[pos] == aggregate {
            own.insert(rest(r), v);
        } else {
            *summed.entry(rest(r)).or_default() += v;
        }
    }
    if own.is_empty() && !table.rows.is_empty() {
        table.warnings.push(format!(
            "share of {aggregate}: the answer has no {aggregate} row, so the sum of its members \
             present is the denominator"
        ));
    }
    push_shares(&mut table, rest, &own, &summed);
    Ok(table)
}

/// `numerator / denominator * factor`, matching rows on their group-by keys; a row whose
/// denominator is missing or zero has no value.
pub fn ratio(numerator: &Table, denominator: &Table, factor: f64) -> Table {
    let den: HashMap<&Vec<String>, &Row> = denominator.rows.iter().map(|r| (&r.key, r)).collect();
    let rows = numerator
        .rows
        .iter()
        .map(|r| {
            let d = den.get(&r.key);
            let value = r
                .value
                .zip(d.and_then(|d| d.value))
                .and_then(|(n, d)| (d != 0.0).then_some(n / d * factor));
            let mut flags: Vec<char> = r
                .flags
                .chars()
                .chain(d.map(|d| d.flags.as_str()).unwrap_or("").chars())
                .collect();
            flags.sort_unstable();
            flags.dedup();
            Row {
                key: r.key.clone(),
                value,
                flags: flags.into_iter().collect(),
                extra: Vec::new(),
                incomplete: r.incomplete || d.is_some_and(|d| d.incomplete),
            }
        })
        .collect();
    Table {
        columns: numerator.columns.clone(),
        rows,
        extra: Vec::new(),
        aggregates: numerator.aggregates.clone(),
        counted: numerator.counted.clone(),
        warnings: Vec::new(),
        provenance: numerator.provenance.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn monthly(values: &[(&str, f64)]) -> Table {
        Table {
            columns: vec!["geo".into(), "period".into()],
            rows: values
                .iter()
                .map(|(p, v)| Row {
                    key: vec!["DEU".into(), p.to_string()],
                    value: Some(*v),
                    flags: String::new(),
                    ..Row::default()
                })
                .collect(),
            ..Table::default()
        }
    }

    #[test]
    fn a_rolling_sum_needs_its_whole_window() {
        let months: Vec<(String, f64)> = (1..=14)
            .map(|m| {
                (
                    if m <= 12 {
                        format!("2015-{m:02}")
                    } else {
                        format!("2016-{:02}", m - 12)
                    },
                    m as f64,
                )
            })
            .collect();
        let t = monthly(
            &months
                .iter()
                .map(|(p, v)| (p.as_str(), *v))
                .collect::<Vec<_>>(),
        );
        let r = rolling_sum(t, 12).unwrap();
        assert_eq!(
            r.rows[10].value, None,
            "2015-11 has only 11 months behind it"
        );
        assert_eq!(r.rows[11].value, Some(78.0));
        assert_eq!(r.rows[13].value, Some(78.0 - 1.0 - 2.0 + 13.0 + 14.0));
    }

    #[test]
    fn changes_on_the_previous_period_and_a_year_earlier_in_numbers_and_per_cent() {
        let t = monthly(&[("2014-03", 50.0), ("2015-02", 80.0), ("2015-03", 100.0)]);
        let c = change(t.clone(), Against::PreviousPeriod).unwrap();
        assert_eq!(c.extra, vec!["previous", "change", "change_pct"]);
        assert_eq!(c.rows[2].extra, vec![Some(80.0), Some(20.0), Some(25.0)]);
        assert_eq!(c.rows[0].extra, vec![None, None, None]);
        let y = change(t, Against::YearEarlier).unwrap();
        assert_eq!(y.rows[2].extra, vec![Some(50.0), Some(50.0), Some(100.0)]);
        let no_period = Table {
            columns: vec!["geo".into()],
            rows: vec![],
            ..Table::default()
        };
        assert!(change(no_period, Against::YearEarlier).is_err());
    }

    #[test]
    fn shares_and_ratios() {
        let t = Table {
            columns: vec!["geo".into()],
            rows: vec![
                Row {
                    key: vec!["DEU".into()],
                    value: Some(75.0),
                    flags: String::new(),
                    ..Row::default()
                },
                Row {
                    key: vec!["FRA".into()],
                    value: Some(25.0),
                    flags: String::new(),
                    ..Row::default()
                },
            ],
            ..Table::default()
        };
        assert_eq!(share(t.clone(), "geo").rows[0].extra, vec![Some(75.0)]);
        let mut den = t.clone();
        den.rows[1].value = Some(0.0);
        let r = ratio(&t, &den, 100.0);
        assert_eq!((r.rows[0].value, r.rows[1].value), (Some(100.0), None));
    }

    #[test]
    fn a_share_of_an_aggregate_is_taken_of_its_own_row_over_its_members_only() {
        let row = |geo: &str, v: f64| Row {
            key: vec![geo.into()],
            value: Some(v),
            ..Row::default()
        };
        // Norway is in the file but not in the EU28; EU28's own row is the denominator.
        let t = Table {
            columns: vec!["geo".into()],
            rows: vec![
                row("DEU", 35.0),
                row("EU28", 100.0),
                row("FRA", 5.0),
                row("NOR", 50.0),
            ],
            ..Table::default()
        };
        let s = share_of(t.clone(), "geo", "EU28").unwrap();
        let got: Vec<(&str, Option<f64>)> = s
            .rows
            .iter()
            .map(|r| (r.key[0].as_str(), r.extra[0]))
            .collect();
        assert_eq!(
            got,
            vec![
                ("DEU", Some(35.0)),
                ("EU28", Some(100.0)),
                ("FRA", Some(5.0))
            ]
        );
        assert!(s.warnings.is_empty());
        // Without the aggregate's row, its members present make the denominator, said.
        let mut no_eu = t.clone();
        no_eu.rows.remove(1);
        let s = share_of(no_eu, "geo", "EU28").unwrap();
        assert_eq!(s.rows[0].extra[0], Some(35.0 / 40.0 * 100.0));
        assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
        // An aggregate defined by its publisher alone cannot be shared out.
        assert!(share_of(t, "geo", "EXT_EU28").is_err());
    }
}

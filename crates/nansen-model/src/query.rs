//! The meaning of a number: filters, a period range and a group-by over one cube.
//!
//! Every dimension a query neither filters nor groups by is held at its total when the
//! dataset carries one (`TOTAL`, `T` for sex) and summed over when it does not. Flows are
//! summed over periods; a stock takes its value at the latest period in the range.

use crate::cube::Cube;
use nansen_codes::{CodeError, CodeLists, IndicatorKind, Period};
use std::collections::HashMap;

#[derive(Clone, Debug, Default)]
pub struct Query {
    /// One entry per filtered dimension; any alias of a code is accepted.
    pub filters: Vec<(String, Vec<String>)>,
    pub from: Option<Period>,
    pub to: Option<Period>,
    pub group_by: Vec<String>,
}

impl Query {
    /// A query as the CLI and the API write it: `DIM=V[,V]` (or `DIM:V[,V]`) filters, a
    /// `FROM..TO` period range and a comma-separated group-by.
    pub fn parse(wheres: &[String], period: Option<&str>, group_by: Option<&str>) -> Result<Query, QueryError> {
        let mut q = Query::default();
        for w in wheres {
            let (dim, values) = w
                .split_once('=')
                .or_else(|| w.split_once(':'))
                .ok_or_else(|| QueryError::BadFilter(w.clone()))?;
            let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).collect();
            if dim.trim().is_empty() || values.is_empty() {
                return Err(QueryError::BadFilter(w.clone()));
            }
            q.filters.push((dim.trim().to_string(), values));
        }
        if let Some(p) = period.filter(|p| !p.trim().is_empty()) {
            let (from, to) = nansen_codes::parse_range(p).ok_or_else(|| QueryError::BadPeriod(p.to_string()))?;
            q.from = from;
            q.to = to;
        }
        if let Some(g) = group_by {
            q.group_by = g.split(',').map(|d| d.trim().to_string()).filter(|d| !d.is_empty()).collect();
        }
        Ok(q)
    }
}

/// One answer row: the group-by codes in the order asked, the value (absent when no
/// observation in the group had one, or when suppressed) and the union of flags.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub key: Vec<String>,
    pub value: Option<f64>,
    pub flags: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
}

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("the dataset has no dimension {dimension:?}; it has {}", .known.join(", "))]
    UnknownDimension { dimension: String, known: Vec<String> },
    #[error(transparent)]
    UnknownCode(#[from] CodeError),
    #[error("the dataset holds several indicators ({}); filter on one with indicator=CODE or group by indicator", .0.join(", "))]
    SeveralIndicators(Vec<String>),
    #[error("{0:?} is not a period (write 2015, 2015-Q3, 2015-09, 2015-W38 or 2015-09-14, or a range FROM..TO)")]
    BadPeriod(String),
    #[error("{0:?} is not a filter: write DIM=VALUE[,VALUE]")]
    BadFilter(String),
}

/// Dimension names partners write for the model's own (`citizen` is Eurostat's `origin`).
pub fn dimension_alias(name: &str) -> String {
    let lower = name.trim().to_lowercase();
    match lower.as_str() {
        "citizen" | "coo" | "coo_iso" | "citizenship" => "origin".into(),
        "coa" | "coa_iso" | "country" | "destination_country" => "geo".into(),
        "time" | "time_period" | "date" => "period".into(),
        "asyl_app" => "applicant".into(),
        _ => lower,
    }
}

fn canonical_filter_value(codes: &CodeLists, dim: &str, value: &str) -> Result<String, QueryError> {
    match dim {
        "indicator" => Ok(codes.indicator_code(value)?.code.clone()),
        "period" => Period::parse(value).map(|p| p.to_string()).ok_or_else(|| QueryError::BadPeriod(value.into())),
        _ => Ok(codes.canonical(dim, value)?),
    }
}

/// Which dictionary codes of each column a row may hold to count.
fn admitted(cube: &Cube, q: &Query, codes: &CodeLists) -> Result<Vec<Option<Vec<bool>>>, QueryError> {
    let mut allowed: Vec<Option<Vec<bool>>> = vec![None; cube.dims.len()];
    for (dim, values) in &q.filters {
        let i = col_index(cube, dim)?;
        let mut mask = vec![false; cube.columns[i].dict.len()];
        for v in values {
            let canonical = canonical_filter_value(codes, &cube.dims[i], v)?;
            if let Some(c) = cube.columns[i].lookup(&canonical) {
                mask[c as usize] = true;
            }
        }
        allowed[i] = Some(mask);
    }
    if let Some(p) = cube.dim("period") {
        if q.from.is_some() || q.to.is_some() {
            let mask: Vec<bool> = cube.columns[p]
                .dict
                .iter()
                .map(|d| Period::parse(d).is_some_and(|per| per.within(q.from.as_ref(), q.to.as_ref())))
                .collect();
            allowed[p] = Some(match allowed[p].take() {
                Some(m) => m.iter().zip(mask).map(|(a, b)| *a && b).collect(),
                None => mask,
            });
        }
    }
    for (i, dim) in cube.dims.iter().enumerate() {
        if allowed[i].is_some() || dim == "period" || dim == "indicator" || q.group_by.iter().any(|g| g == dim) {
            continue;
        }
        if let Some(total) = cube.columns[i].lookup(CodeLists::total_code(dim)) {
            let mut mask = vec![false; cube.columns[i].dict.len()];
            mask[total as usize] = true;
            allowed[i] = Some(mask);
        }
    }
    Ok(allowed)
}

fn col_index(cube: &Cube, dim: &str) -> Result<usize, QueryError> {
    let name = dimension_alias(dim);
    cube.dim(&name).ok_or_else(|| QueryError::UnknownDimension { dimension: dim.to_string(), known: cube.dims.clone() })
}

fn merge_flags(into: &mut String, flags: &str) {
    for ch in flags.chars() {
        if !into.contains(ch) {
            into.push(ch);
        }
    }
}

/// Runs a query over one cube.
pub fn run(cube: &Cube, q: &Query, codes: &CodeLists) -> Result<Table, QueryError> {
    let group: Vec<usize> = q.group_by.iter().map(|g| col_index(cube, g)).collect::<Result<_, _>>()?;
    let allowed = admitted(cube, q, codes)?;
    let ind = cube.dim("indicator");
    let indicators_left: Vec<String> = match ind {
        Some(i) => match &allowed[i] {
            Some(mask) => cube.columns[i].dict.iter().zip(mask).filter(|(_, m)| **m).map(|(d, _)| d.clone()).collect(),
            None => cube.columns[i].dict.clone(),
        },
        None => Vec::new(),
    };
    if indicators_left.len() > 1 && !group.iter().any(|&g| Some(g) == ind) {
        return Err(QueryError::SeveralIndicators(indicators_left));
    }
    // A stock's value over a range is its latest, so group by period too and pick later.
    let period = cube.dim("period");
    let is_stock: Vec<bool> = match ind {
        Some(i) => cube.columns[i]
            .dict
            .iter()
            .map(|d| codes.indicator(d).is_some_and(|x| x.kind == IndicatorKind::Stock))
            .collect(),
        None => Vec::new(),
    };
    let latest_only = period.filter(|p| !group.contains(p) && is_stock.iter().any(|s| *s));
    let mut key_cols = group.clone();
    key_cols.extend(latest_only);

    let checks: Vec<(usize, &Vec<bool>)> =
        allowed.iter().enumerate().filter_map(|(i, m)| m.as_ref().map(|m| (i, m))).collect();
    let mut groups: HashMap<Vec<u32>, (f64, bool, String)> = HashMap::new();
    let mut key = Vec::with_capacity(key_cols.len());
    'rows: for r in 0..cube.len() {
        for (i, mask) in &checks {
            if !mask[cube.columns[*i].codes[r] as usize] {
                continue 'rows;
            }
        }
        key.clear();
        key.extend(key_cols.iter().map(|&c| cube.columns[c].codes[r]));
        let entry = groups.entry(key.clone()).or_insert((0.0, false, String::new()));
        let v = cube.values[r];
        if !v.is_nan() {
            entry.0 += v;
            entry.1 = true;
        }
        merge_flags(&mut entry.2, cube.flag(r));
    }

    let mut out: HashMap<Vec<u32>, (f64, bool, String)> = HashMap::new();
    if let Some(p) = latest_only {
        // Keep, per group, only the entries at the latest period for stocks.
        let pdict = &cube.columns[p].dict;
        let order = |c: u32| Period::parse(&pdict[c as usize]).map(|x| x.end()).unwrap_or(i64::MIN);
        let mut latest: HashMap<Vec<u32>, i64> = HashMap::new();
        for k in groups.keys() {
            let (g, pc) = k.split_at(group.len());
            let e = latest.entry(g.to_vec()).or_insert(i64::MIN);
            *e = (*e).max(order(pc[0]));
        }
        for (k, (v, has, flags)) in groups {
            let (g, pc) = k.split_at(group.len());
            let stock = match ind.and_then(|i| group.iter().position(|&c| c == i)) {
                Some(pos) => is_stock[g[pos] as usize],
                None => indicators_left.first().and_then(|c| codes.indicator(c)).is_some_and(|x| x.kind == IndicatorKind::Stock),
            };
            if stock && order(pc[0]) != latest[g] {
                continue;
            }
            let e = out.entry(g.to_vec()).or_insert((0.0, false, String::new()));
            e.0 += v;
            e.1 |= has;
            merge_flags(&mut e.2, &flags);
        }
    } else {
        out = groups;
    }

    let mut rows: Vec<Row> = out
        .into_iter()
        .map(|(k, (v, has, mut flags))| {
            let mut f: Vec<char> = flags.chars().collect();
            f.sort_unstable();
            flags = f.into_iter().collect();
            Row {
                key: k.iter().zip(&group).map(|(c, &col)| cube.columns[col].dict[*c as usize].clone()).collect(),
                value: has.then_some(v),
                flags,
            }
        })
        .collect();
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    if group.is_empty() && rows.is_empty() {
        rows.push(Row { key: Vec::new(), value: None, flags: String::new() });
    }
    Ok(Table { columns: group.iter().map(|&g| cube.dims[g].clone()).collect(), rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cube() -> Cube {
        let mut c = Cube::new(["indicator", "period", "geo", "origin", "sex"].map(String::from).to_vec());
        for (period, geo, origin, sex, v) in [
            ("2015-01", "DEU", "SYR", "T", 10.0),
            ("2015-01", "DEU", "SYR", "F", 4.0),
            ("2015-01", "DEU", "SYR", "M", 6.0),
            ("2015-02", "DEU", "SYR", "T", 20.0),
            ("2015-02", "DEU", "AFG", "T", 3.0),
            ("2015-02", "FRA", "SYR", "T", 5.0),
            ("2016-01", "FRA", "SYR", "T", 7.0),
        ] {
            c.push(&["asylum_applications", period, geo, origin, sex], Some(v), "");
        }
        c
    }

    fn q(filters: &[(&str, &[&str])], range: &str, group: &[&str]) -> Query {
        let (from, to) = if range.is_empty() { (None, None) } else { nansen_codes::parse_range(range).unwrap() };
        Query {
            filters: filters.iter().map(|(d, v)| (d.to_string(), v.iter().map(|s| s.to_string()).collect())).collect(),
            from,
            to,
            group_by: group.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn values(t: &Table) -> Vec<(String, Option<f64>)> {
        t.rows.iter().map(|r| (r.key.join("/"), r.value)).collect()
    }

    #[test]
    fn dimensions_not_asked_about_are_held_at_their_total_or_summed() {
        let c = cube();
        let codes = CodeLists::get();
        // sex held at T (never adding F and M to T); origin summed (no TOTAL carried)
        let t = run(&c, &q(&[], "2015..2015", &["geo"]), codes).unwrap();
        assert_eq!(values(&t), vec![("DEU".into(), Some(33.0)), ("FRA".into(), Some(5.0))]);
        let t = run(&c, &q(&[("origin", &["Syria"])], "", &["sex"]), codes).unwrap();
        assert_eq!(values(&t), vec![("F".into(), Some(4.0)), ("M".into(), Some(6.0)), ("T".into(), Some(42.0))]);
    }

    #[test]
    fn filters_accept_aliases_and_ranges_cover_finer_periods() {
        let t = run(&cube(), &q(&[("geo", &["Germany", "FR"])], "2015..2015", &[]), CodeLists::get()).unwrap();
        assert_eq!(values(&t), vec![("".into(), Some(38.0))]);
        let t = run(&cube(), &q(&[("citizen", &["SY"])], "2016..", &["period"]), CodeLists::get()).unwrap();
        assert_eq!(values(&t), vec![("2016-01".into(), Some(7.0))]);
    }

    #[test]
    fn a_stock_over_a_range_is_its_latest_value_not_a_sum() {
        let mut c = Cube::new(["indicator", "period", "geo"].map(String::from).to_vec());
        c.push(&["refugees", "2014", "DEU"], Some(100.0), "");
        c.push(&["refugees", "2015", "DEU"], Some(150.0), "p");
        let t = run(&c, &q(&[], "", &["geo"]), CodeLists::get()).unwrap();
        assert_eq!(t.rows, vec![Row { key: vec!["DEU".into()], value: Some(150.0), flags: "p".into() }]);
    }

    #[test]
    fn several_indicators_are_never_added_together() {
        let mut c = cube();
        c.push(&["refugees", "2015-01", "DEU", "SYR", "T"], Some(1.0), "");
        assert!(matches!(run(&c, &Query::default(), CodeLists::get()), Err(QueryError::SeveralIndicators(_))));
        assert!(run(&c, &q(&[], "", &["indicator"]), CodeLists::get()).is_ok());
        assert!(matches!(run(&c, &q(&[], "", &["colour"]), CodeLists::get()), Err(QueryError::UnknownDimension { .. })));
    }
}

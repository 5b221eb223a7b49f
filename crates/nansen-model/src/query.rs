//! The meaning of a number: filters, a period range and a group-by over one cube.
//!
//! Every dimension a query neither filters nor groups by is held at its total when the
//! dataset carries one (`TOTAL`, `T` for sex) and summed over when it does not. Flows are
//! summed over periods; a stock takes, in each series, its value at that series' latest period
//! in the range (or in each quarter or year at a coarser frequency), and the series are added.

use crate::cube::Cube;
use nansen_codes::{CodeError, CodeLists, Frequency, IndicatorKind, Period};

#[derive(Clone, Debug, Default)]
pub struct Query {
    /// One entry per filtered dimension; any alias of a code is accepted.
    pub filters: Vec<(String, Vec<String>)>,
    pub from: Option<Period>,
    pub to: Option<Period>,
    pub group_by: Vec<String>,
    pub measure: Measure,
    /// Periods grouped at this coarser frequency (months to quarters or years).
    pub frequency: Option<Frequency>,
    /// Only the largest N groups, and one `OTHERS` row for the rest.
    pub top: Option<usize>,
}

/// What a group's number is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Measure {
    #[default]
    Sum,
    /// Observations with a value.
    Count,
    Min,
    Max,
}

impl std::str::FromStr for Measure {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "sum" => Ok(Measure::Sum),
            "count" => Ok(Measure::Count),
            "min" => Ok(Measure::Min),
            "max" => Ok(Measure::Max),
            _ => Err(format!(
                "unknown measure {s:?}: choose sum, count, min or max"
            )),
        }
    }
}

impl Query {
    /// A query as the CLI and the API write it: `DIM=V[,V]` (or `DIM:V[,V]`) filters, a
    /// `FROM..TO` period range and a comma-separated group-by.
    pub fn parse(
        wheres: &[String],
        period: Option<&str>,
        group_by: Option<&str>,
    ) -> Result<Query, QueryError> {
        let mut q = Query::default();
        for w in wheres {
            let (dim, values) = w
                .split_once('=')
                .or_else(|| w.split_once(':'))
                .ok_or_else(|| QueryError::BadFilter(w.clone()))?;
            let values: Vec<String> = values
                .split(',')
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect();
            if dim.trim().is_empty() || values.is_empty() {
                return Err(QueryError::BadFilter(w.clone()));
            }
            q.filters.push((dim.trim().to_string(), values));
        }
        if let Some(p) = period.filter(|p| !p.trim().is_empty()) {
            let (from, to) =
                nansen_codes::parse_range(p).ok_or_else(|| QueryError::BadPeriod(p.to_string()))?;
            q.from = from;
            q.to = to;
        }
        if let Some(g) = group_by {
            q.group_by = g
                .split(',')
                .map(|d| d.trim().to_string())
                .filter(|d| !d.is_empty())
                .collect();
        }
        Ok(q)
    }

    /// Sets the measure, the frequency and the top N as the CLI and the API write them.
    pub fn with_options(
        mut self,
        measure: Option<&str>,
        frequency: Option<&str>,
        top: Option<usize>,
    ) -> Result<Query, QueryError> {
        if let Some(m) = measure {
            self.measure = m.parse().map_err(QueryError::BadOption)?;
        }
        if let Some(f) = frequency {
            self.frequency = Some(f.parse().map_err(QueryError::BadOption)?);
        }
        if top == Some(0) {
            return Err(QueryError::BadOption("top must be at least 1".into()));
        }
        self.top = top;
        Ok(self)
    }
}

/// One answer row: the group-by codes in the order asked, the value (absent when no
/// observation in the group had one, or when suppressed) and the union of flags.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub key: Vec<String>,
    pub value: Option<f64>,
    pub flags: String,
    /// Values of the table's extra columns (changes, comparisons), in their order.
    pub extra: Vec<Option<f64>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// The group-by dimensions, in the order asked.
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
    /// Names of columns after `value` (empty for a plain query).
    pub extra: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("the dataset has no dimension {dimension:?}; it has {}", .known.join(", "))]
    UnknownDimension {
        dimension: String,
        known: Vec<String>,
    },
    #[error(transparent)]
    UnknownCode(#[from] CodeError),
    #[error("the dataset holds several indicators ({}); filter on one with indicator=CODE or group by indicator", .0.join(", "))]
    SeveralIndicators(Vec<String>),
    #[error("{0:?} is not a period (write 2015, 2015-Q3, 2015-09, 2015-W38 or 2015-09-14, or a range FROM..TO)")]
    BadPeriod(String),
    #[error("{0:?} is not a filter: write DIM=VALUE[,VALUE]")]
    BadFilter(String),
    #[error("too many groups: group by fewer dimensions")]
    TooManyGroups,
    #[error("{0}")]
    BadOption(String),
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
        "period" => Period::parse(value)
            .map(|p| p.to_string())
            .ok_or_else(|| QueryError::BadPeriod(value.into())),
        _ => Ok(codes.canonical(dim, value)?),
    }
}

/// Which dictionary codes of each column a row may hold to count.
fn admitted(
    cube: &Cube,
    q: &Query,
    codes: &CodeLists,
) -> Result<Vec<Option<Vec<bool>>>, QueryError> {
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
                .map(|d| {
                    Period::parse(d).is_some_and(|per| per.within(q.from.as_ref(), q.to.as_ref()))
                })
                .collect();
            allowed[p] = Some(match allowed[p].take() {
                Some(m) => m.iter().zip(mask).map(|(a, b)| *a && b).collect(),
                None => mask,
            });
        }
    }
    for (i, dim) in cube.dims.iter().enumerate() {
        if allowed[i].is_some()
            || dim == "period"
            || dim == "indicator"
            || q.group_by.iter().any(|g| g == dim)
        {
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
    cube.dim(&name).ok_or_else(|| QueryError::UnknownDimension {
        dimension: dim.to_string(),
        known: cube.dims.clone(),
    })
}

/// One group's running totals.
#[derive(Clone, Copy, Debug)]
struct Acc {
    sum: f64,
    min: f64,
    max: f64,
    /// Observations with a value.
    count: u32,
    /// Eurostat flags seen, one bit each.
    flags: u8,
}

impl Acc {
    const EMPTY: Acc = Acc {
        sum: 0.0,
        min: f64::INFINITY,
        max: f64::NEG_INFINITY,
        count: 0,
        flags: 0,
    };

    #[inline]
    fn add(&mut self, v: f64, flags: u8) {
        self.flags |= flags;
        if !v.is_nan() {
            self.sum += v;
            self.min = self.min.min(v);
            self.max = self.max.max(v);
            self.count += 1;
        }
    }

    fn merge(&mut self, o: &Acc) {
        self.sum += o.sum;
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
        self.count += o.count;
        self.flags |= o.flags;
    }

    fn seen(&self) -> bool {
        self.count > 0 || self.flags != 0
    }

    fn value(&self, m: Measure) -> Option<f64> {
        match m {
            Measure::Count => Some(self.count as f64),
            _ if self.count == 0 => None,
            Measure::Sum => Some(self.sum),
            Measure::Min => Some(self.min),
            Measure::Max => Some(self.max),
        }
    }
}

const FLAG_LETTERS: &str = "bcdepu";

fn flag_bits(flags: &str) -> u8 {
    flags
        .chars()
        .filter_map(|c| FLAG_LETTERS.find(c))
        .fold(0, |b, i| b | (1 << i))
}

fn flag_text(bits: u8) -> String {
    FLAG_LETTERS
        .chars()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, c)| c)
        .collect()
}

/// Groups as dense arrays when the key space is small, a hash map otherwise.
enum Groups {
    Dense(Vec<Acc>),
    Sparse(rustc_hash::FxHashMap<u64, Acc>),
}

impl Groups {
    fn new(space: u64) -> Groups {
        if space <= 1 << 20 {
            Groups::Dense(vec![Acc::EMPTY; space as usize])
        } else {
            Groups::Sparse(Default::default())
        }
    }

    #[inline]
    fn at(&mut self, k: u64) -> &mut Acc {
        match self {
            Groups::Dense(v) => &mut v[k as usize],
            Groups::Sparse(m) => m.entry(k).or_insert(Acc::EMPTY),
        }
    }

    fn merge(&mut self, other: Groups) {
        match other {
            Groups::Dense(v) => {
                for (k, a) in v.into_iter().enumerate() {
                    if a.seen() {
                        self.at(k as u64).merge(&a);
                    }
                }
            }
            Groups::Sparse(m) => {
                for (k, a) in m {
                    self.at(k).merge(&a);
                }
            }
        }
    }

    fn into_seen(self) -> Vec<(u64, Acc)> {
        match self {
            Groups::Dense(v) => v
                .into_iter()
                .enumerate()
                .filter(|(_, a)| a.seen())
                .map(|(k, a)| (k as u64, a))
                .collect(),
            Groups::Sparse(m) => m.into_iter().filter(|(_, a)| a.seen()).collect(),
        }
    }
}

/// How a column's codes enter the group key: through a map to a smaller set of buckets.
struct KeyPart {
    col: usize,
    /// Dictionary code to bucket.
    bucket: Vec<u32>,
    radix: u64,
}

/// Runs a query over one cube.
pub fn run(cube: &Cube, q: &Query, codes: &CodeLists) -> Result<Table, QueryError> {
    let group: Vec<usize> = q
        .group_by
        .iter()
        .map(|g| col_index(cube, g))
        .collect::<Result<_, _>>()?;
    let allowed = admitted(cube, q, codes)?;
    let ind = cube.dim("indicator");
    let indicators_left: Vec<String> = match ind {
        Some(i) => match &allowed[i] {
            Some(mask) => cube.columns[i]
                .dict
                .iter()
                .zip(mask)
                .filter(|(_, m)| **m)
                .map(|(d, _)| d.clone())
                .collect(),
            None => cube.columns[i].dict.clone(),
        },
        None => Vec::new(),
    };
    if indicators_left.len() > 1 && !group.iter().any(|&g| Some(g) == ind) {
        return Err(QueryError::SeveralIndicators(indicators_left));
    }
    let period = cube.dim("period");
    let stock_of = |code: &str| {
        codes
            .indicator(code)
            .is_some_and(|x| x.kind == IndicatorKind::Stock)
    };
    let is_stock: Vec<bool> = ind
        .map(|i| cube.columns[i].dict.iter().map(|d| stock_of(d)).collect())
        .unwrap_or_default();
    // Periods as grouped: each fine period's bucket (itself, or its quarter or year).
    let coarse: Vec<String> = match period {
        Some(p) => cube.columns[p]
            .dict
            .iter()
            .map(|d| match (q.frequency, Period::parse(d)) {
                (Some(f), Some(per)) => per
                    .to_frequency(f)
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| d.clone()),
                _ => d.clone(),
            })
            .collect(),
        None => Vec::new(),
    };
    let mut bucket_names: Vec<Vec<String>> = Vec::new();
    let mut parts: Vec<KeyPart> = Vec::new();
    for &g in &group {
        if Some(g) == period {
            let mut names: Vec<String> = Vec::new();
            let bucket = coarse
                .iter()
                .map(|c| match names.iter().position(|n| n == c) {
                    Some(i) => i as u32,
                    None => {
                        names.push(c.clone());
                        names.len() as u32 - 1
                    }
                })
                .collect();
            parts.push(KeyPart {
                col: g,
                bucket,
                radix: names.len().max(1) as u64,
            });
            bucket_names.push(names);
        } else {
            let n = cube.columns[g].dict.len();
            parts.push(KeyPart {
                col: g,
                bucket: (0..n as u32).collect(),
                radix: n.max(1) as u64,
            });
            bucket_names.push(cube.columns[g].dict.clone());
        }
    }
    // A stock takes, in each series (every dimension but the period), its value at the
    // series' latest period within the group (or bucket); the group adds up its series. Keep
    // the series and the fine period in the key, choose afterwards.
    let stocks_involved = is_stock.iter().any(|s| *s);
    let fine_period = period.filter(|_| stocks_involved);
    let group_parts = parts.len();
    if let Some(p) = fine_period {
        let with_series = |parts: &mut Vec<KeyPart>| {
            for (i, col) in cube.columns.iter().enumerate() {
                if group.contains(&i) || Some(i) == period {
                    continue;
                }
                // Only the codes the filters let through take room in the key.
                let mut next = 0u32;
                let bucket: Vec<u32> = (0..col.dict.len())
                    .map(|c| match &allowed[i] {
                        Some(mask) if !mask[c] => 0,
                        _ => {
                            next += 1;
                            next - 1
                        }
                    })
                    .collect();
                parts.push(KeyPart {
                    col: i,
                    bucket,
                    radix: next.max(1) as u64,
                });
            }
        };
        with_series(&mut parts);
        let n = cube.columns[p].dict.len();
        parts.push(KeyPart {
            col: p,
            bucket: (0..n as u32).collect(),
            radix: n.max(1) as u64,
        });
        if parts
            .iter()
            .try_fold(1u64, |acc, p| acc.checked_mul(p.radix))
            .is_none_or(|s| s >= u64::MAX / 2)
        {
            // Too many series to keep apart: the latest period of the whole group instead.
            parts.truncate(group_parts);
            parts.push(KeyPart {
                col: p,
                bucket: (0..n as u32).collect(),
                radix: n.max(1) as u64,
            });
        }
    }
    let series_parts = parts.len().saturating_sub(group_parts + 1);
    let space = parts
        .iter()
        .try_fold(1u64, |acc, p| acc.checked_mul(p.radix));
    let Some(space) = space.filter(|s| *s < u64::MAX / 2) else {
        return Err(QueryError::TooManyGroups);
    };

    let flag_bits_of: Vec<u8> = cube.flags.dict.iter().map(|f| flag_bits(f)).collect();
    let checks: Vec<(&[u32], &[bool])> = allowed
        .iter()
        .enumerate()
        .filter_map(|(i, m)| {
            m.as_ref()
                .map(|m| (cube.columns[i].codes.as_slice(), m.as_slice()))
        })
        .collect();
    let scan = |from: usize, to: usize| -> Groups {
        let mut groups = Groups::new(space);
        'rows: for r in from..to {
            for (codes, mask) in &checks {
                if !mask[codes[r] as usize] {
                    continue 'rows;
                }
            }
            let mut k = 0u64;
            for p in &parts {
                k = k * p.radix + p.bucket[cube.columns[p.col].codes[r] as usize] as u64;
            }
            groups
                .at(k)
                .add(cube.values[r], flag_bits_of[cube.flags.codes[r] as usize]);
        }
        groups
    };
    let n = cube.len();
    let threads = if n > 1 << 18 {
        std::thread::available_parallelism()
            .map(|t| t.get())
            .unwrap_or(1)
            .min(8)
    } else {
        1
    };
    let mut groups = if threads > 1 {
        let step = n.div_ceil(threads);
        let partials: Vec<Groups> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| s.spawn(move || scan(t * step, ((t + 1) * step).min(n))))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("query thread"))
                .collect()
        });
        let mut it = partials.into_iter();
        let mut first = it.next().unwrap_or_else(|| Groups::new(space));
        for g in it {
            first.merge(g);
        }
        first
    } else {
        scan(0, n)
    };

    // Decode keys; for stocks keep only the latest fine period of each group.
    let radices: Vec<u64> = parts.iter().map(|p| p.radix).collect();
    let decode = |mut k: u64| -> Vec<u32> {
        let mut out = vec![0u32; radices.len()];
        for i in (0..radices.len()).rev() {
            out[i] = (k % radices[i]) as u32;
            k /= radices[i];
        }
        out
    };
    let results: Vec<(Vec<u32>, Acc)>;
    let seen = std::mem::replace(&mut groups, Groups::Dense(Vec::new())).into_seen();
    if let Some(p) = fine_period {
        let order: Vec<i64> = cube.columns[p]
            .dict
            .iter()
            .map(|d| Period::parse(d).map(|x| x.end()).unwrap_or(i64::MIN))
            .collect();
        let ind_pos = ind.and_then(|i| group.iter().position(|&c| c == i));
        let single_stock = indicators_left.first().is_some_and(|c| stock_of(c));
        // Per group and series: (latest period, its values, everything).
        let mut by_series: rustc_hash::FxHashMap<Vec<u32>, (i64, Acc, Acc)> = Default::default();
        for (k, acc) in seen {
            let key = decode(k);
            let (gs, fine) = key.split_at(group.len() + series_parts);
            let e = by_series
                .entry(gs.to_vec())
                .or_insert((i64::MIN, Acc::EMPTY, Acc::EMPTY));
            e.2.merge(&acc);
            let o = order[fine[0] as usize];
            if o > e.0 {
                e.0 = o;
                e.1 = acc;
            } else if o == e.0 {
                e.1.merge(&acc);
            }
        }
        let mut by_group: rustc_hash::FxHashMap<Vec<u32>, Acc> = Default::default();
        for (gs, (_, latest, all)) in by_series {
            let g = &gs[..group.len()];
            let stock = match ind_pos {
                Some(pos) => {
                    is_stock[cube.columns[group[pos]]
                        .dict
                        .iter()
                        .position(|d| *d == bucket_names[pos][g[pos] as usize])
                        .unwrap_or(0)]
                }
                None => single_stock,
            };
            by_group
                .entry(g.to_vec())
                .or_insert(Acc::EMPTY)
                .merge(if stock { &latest } else { &all });
        }
        results = by_group.into_iter().collect();
    } else {
        results = seen.into_iter().map(|(k, a)| (decode(k), a)).collect();
    }

    let mut rows: Vec<Row> = results
        .into_iter()
        .map(|(k, a)| Row {
            key: k
                .iter()
                .enumerate()
                .map(|(i, c)| bucket_names[i][*c as usize].clone())
                .collect(),
            value: a.value(q.measure),
            flags: flag_text(a.flags),
            extra: Vec::new(),
        })
        .collect();
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    if group.is_empty() && rows.is_empty() {
        rows.push(Row {
            key: Vec::new(),
            value: if q.measure == Measure::Count {
                Some(0.0)
            } else {
                None
            },
            flags: String::new(),
            extra: Vec::new(),
        });
    }
    let mut table = Table {
        columns: group.iter().map(|&g| cube.dims[g].clone()).collect(),
        rows,
        extra: Vec::new(),
    };
    if let Some(n) = q.top {
        table = top(table, n, q.measure);
    }
    Ok(table)
}

/// The `n` largest rows, then one row `OTHERS` holding all the rest.
fn top(mut table: Table, n: usize, measure: Measure) -> Table {
    table.rows.sort_by(|a, b| {
        b.value
            .unwrap_or(f64::NEG_INFINITY)
            .total_cmp(&a.value.unwrap_or(f64::NEG_INFINITY))
            .then_with(|| a.key.cmp(&b.key))
    });
    if table.rows.len() > n {
        let rest = table.rows.split_off(n);
        let mut acc: Option<f64> = None;
        let mut flags = String::new();
        for r in &rest {
            if let Some(v) = r.value {
                acc = Some(match (acc, measure) {
                    (None, _) => v,
                    (Some(a), Measure::Min) => a.min(v),
                    (Some(a), Measure::Max) => a.max(v),
                    (Some(a), _) => a + v,
                });
            }
            flags.push_str(&r.flags);
        }
        table.rows.push(Row {
            key: vec![OTHERS.to_string(); table.columns.len()],
            value: acc,
            flags: flag_text(flag_bits(&flags)),
            extra: Vec::new(),
        });
    }
    table
}

/// The key of the row that gathers everything outside a top N.
pub const OTHERS: &str = "OTHERS";

#[cfg(test)]
mod tests {
    use super::*;

    fn cube() -> Cube {
        let mut c = Cube::new(
            ["indicator", "period", "geo", "origin", "sex"]
                .map(String::from)
                .to_vec(),
        );
        for (period, geo, origin, sex, v) in [
            ("2015-01", "DEU", "SYR", "T", 10.0),
            ("2015-01", "DEU", "SYR", "F", 4.0),
            ("2015-01", "DEU", "SYR", "M", 6.0),
            ("2015-02", "DEU", "SYR", "T", 20.0),
            ("2015-02", "DEU", "AFG", "T", 3.0),
            ("2015-02", "FRA", "SYR", "T", 5.0),
            ("2016-01", "FRA", "SYR", "T", 7.0),
        ] {
            c.push(
                &["asylum_applications", period, geo, origin, sex],
                Some(v),
                "",
            );
        }
        c
    }

    fn q(filters: &[(&str, &[&str])], range: &str, group: &[&str]) -> Query {
        let (from, to) = if range.is_empty() {
            (None, None)
        } else {
            nansen_codes::parse_range(range).unwrap()
        };
        Query {
            filters: filters
                .iter()
                .map(|(d, v)| (d.to_string(), v.iter().map(|s| s.to_string()).collect()))
                .collect(),
            from,
            to,
            group_by: group.iter().map(|s| s.to_string()).collect(),
            ..Query::default()
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
        assert_eq!(
            values(&t),
            vec![("DEU".into(), Some(33.0)), ("FRA".into(), Some(5.0))]
        );
        let t = run(&c, &q(&[("origin", &["Syria"])], "", &["sex"]), codes).unwrap();
        assert_eq!(
            values(&t),
            vec![
                ("F".into(), Some(4.0)),
                ("M".into(), Some(6.0)),
                ("T".into(), Some(42.0))
            ]
        );
    }

    #[test]
    fn filters_accept_aliases_and_ranges_cover_finer_periods() {
        let t = run(
            &cube(),
            &q(&[("geo", &["Germany", "FR"])], "2015..2015", &[]),
            CodeLists::get(),
        )
        .unwrap();
        assert_eq!(values(&t), vec![("".into(), Some(38.0))]);
        let t = run(
            &cube(),
            &q(&[("citizen", &["SY"])], "2016..", &["period"]),
            CodeLists::get(),
        )
        .unwrap();
        assert_eq!(values(&t), vec![("2016-01".into(), Some(7.0))]);
    }

    #[test]
    fn a_stock_over_a_range_is_its_latest_value_not_a_sum() {
        let mut c = Cube::new(["indicator", "period", "geo"].map(String::from).to_vec());
        c.push(&["refugees", "2014", "DEU"], Some(100.0), "");
        c.push(&["refugees", "2015", "DEU"], Some(150.0), "p");
        let t = run(&c, &q(&[], "", &["geo"]), CodeLists::get()).unwrap();
        assert_eq!(
            t.rows,
            vec![Row {
                key: vec!["DEU".into()],
                value: Some(150.0),
                flags: "p".into(),
                extra: vec![]
            }]
        );
    }

    #[test]
    fn several_indicators_are_never_added_together() {
        let mut c = cube();
        c.push(&["refugees", "2015-01", "DEU", "SYR", "T"], Some(1.0), "");
        assert!(matches!(
            run(&c, &Query::default(), CodeLists::get()),
            Err(QueryError::SeveralIndicators(_))
        ));
        assert!(run(&c, &q(&[], "", &["indicator"]), CodeLists::get()).is_ok());
        assert!(matches!(
            run(&c, &q(&[], "", &["colour"]), CodeLists::get()),
            Err(QueryError::UnknownDimension { .. })
        ));
    }

    #[test]
    fn count_min_max_and_top_n_with_all_others() {
        let codes = CodeLists::get();
        let mut by = q(&[], "", &["geo"]);
        by.measure = Measure::Count;
        assert_eq!(
            values(&run(&cube(), &by, codes).unwrap()),
            vec![("DEU".into(), Some(3.0)), ("FRA".into(), Some(2.0))]
        );
        by.measure = Measure::Max;
        assert_eq!(
            values(&run(&cube(), &by, codes).unwrap()),
            vec![("DEU".into(), Some(20.0)), ("FRA".into(), Some(7.0))]
        );
        let mut top = q(&[], "", &["period"]);
        top.top = Some(1);
        assert_eq!(
            values(&run(&cube(), &top, codes).unwrap()),
            vec![
                ("2015-02".into(), Some(28.0)),
                ("OTHERS".into(), Some(17.0))
            ]
        );
    }

    #[test]
    fn coarser_frequencies_sum_flows_and_take_the_last_value_of_stocks() {
        let codes = CodeLists::get();
        let mut yearly = q(&[], "", &["period"]);
        yearly.frequency = Some(Frequency::Year);
        assert_eq!(
            values(&run(&cube(), &yearly, codes).unwrap()),
            vec![("2015".into(), Some(38.0)), ("2016".into(), Some(7.0))]
        );
        let mut c = Cube::new(["indicator", "period", "geo"].map(String::from).to_vec());
        for (p, g, v) in [
            ("2015-01", "DEU", 10.0),
            ("2015-02", "DEU", 12.0),
            ("2015-03", "DEU", 11.0),
            ("2015-04", "DEU", 30.0),
            ("2015-02", "FRA", 5.0),
        ] {
            c.push(&["refugees", p, g], Some(v), "");
        }
        let mut quarterly = q(&[], "", &["period", "geo"]);
        // Per series: FRA's stock in Q1 is its February value, although DEU reported in March.
        let mut all = q(&[], "", &["period"]);
        all.frequency = Some(Frequency::Quarter);
        assert_eq!(
            values(&run(&c, &all, codes).unwrap()),
            vec![
                ("2015-Q1".into(), Some(16.0)),
                ("2015-Q2".into(), Some(30.0))
            ]
        );
        quarterly.frequency = Some(Frequency::Quarter);
        assert_eq!(
            values(&run(&c, &quarterly, codes).unwrap()),
            vec![
                ("2015-Q1/DEU".into(), Some(11.0)),
                ("2015-Q1/FRA".into(), Some(5.0)),
                ("2015-Q2/DEU".into(), Some(30.0))
            ]
        );
    }
}

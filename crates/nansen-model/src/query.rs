//! The meaning of a number: filters, a period range and a group-by over one cube.
//!
//! The rules of DESIGN section 4, "What a number means", in one place:
//! - a dimension the query does not name is held at its total when the dataset carries one
//!   (`TOTAL`, `T` for sex), and otherwise summed over its leaves: an aggregate of other codes
//!   present (EU28 beside its members, an admin-1 area beside its admin-2s) is never added;
//! - a filter that names an aggregate together with one of its members, without grouping by
//!   that dimension, is refused;
//! - over a range or a coarser period, flows are summed; a stock is its value at the latest
//!   period of the range (or of each quarter or year) for which the answer has data, one date
//!   for all its groups, never an older value carried forward;
//! - a period, or a range, that the data only partly covers is marked incomplete;
//! - top N ranks leaves, unless the query named the aggregates it wants.

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

    /// The question as the CLI writes it (`--where geo=DEU --period 2015..2015 --group-by
    /// origin`): what a download says made it.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self
            .filters
            .iter()
            .map(|(d, v)| format!("--where {d}={}", v.join(",")))
            .collect();
        if self.from.is_some() || self.to.is_some() {
            let end = |p: &Option<Period>| p.map(|p| p.to_string()).unwrap_or_default();
            parts.push(format!("--period {}..{}", end(&self.from), end(&self.to)));
        }
        if !self.group_by.is_empty() {
            parts.push(format!("--group-by {}", self.group_by.join(",")));
        }
        match self.measure {
            Measure::Sum => {}
            Measure::Count => parts.push("--measure count".into()),
            Measure::Min => parts.push("--measure min".into()),
            Measure::Max => parts.push("--measure max".into()),
        }
        if let Some(f) = self.frequency {
            parts.push(format!("--frequency {f}"));
        }
        if let Some(n) = self.top {
            parts.push(format!("--top {n}"));
        }
        parts.join(" ")
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
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Row {
    pub key: Vec<String>,
    pub value: Option<f64>,
    pub flags: String,
    /// Values of the table's extra columns (changes, comparisons), in their order.
    pub extra: Vec<Option<f64>>,
    /// The row's period (or the range asked for) is only partly covered by the data: five
    /// months of a year.
    pub incomplete: bool,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    /// The group-by dimensions, in the order asked.
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
    /// Names of columns after `value` (empty for a plain query).
    pub extra: Vec<String>,
    /// For each group-by dimension, its codes in the answer that are aggregates of other codes
    /// the dataset holds (`TOTAL`, `EU28` beside its members): drawn and ranked apart.
    pub aggregates: Vec<Vec<String>>,
    /// What the answer counts where a dimension changes it (persons, not cases; first-time
    /// applicants only), for the dimensions the answer holds at one such code.
    pub counted: Vec<Counted>,
    /// What a reader must know before setting these numbers side by side (definitions that
    /// differ between the datasets of a comparison).
    pub warnings: Vec<String>,
    pub provenance: Provenance,
}

/// Where an answer comes from and what it counts: every download of it carries this.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Provenance {
    /// `ORG/SLUG` (several, comma-separated, for a comparison).
    pub dataset: String,
    pub title: String,
    /// The version read; the latest when the question did not name one.
    pub version: Option<i64>,
    pub source: String,
    pub licence: String,
    /// The unit of the indicators in the answer (`persons`, `%`).
    pub unit: String,
    /// The question, as the CLI writes it: `--where geo=DEU --period 2015..2015`.
    pub query: String,
}

/// What an answer counts along a dimension that changes what is counted.
#[derive(Clone, Debug, PartialEq)]
pub struct Counted {
    pub dimension: String,
    pub code: String,
    /// In words: "persons", "first-time applicants only".
    pub meaning: String,
    /// Held because the query left the dimension unnamed.
    pub by_default: bool,
    /// What the dimension defines (`unit`, `applicants`): the same in every source.
    pub concept: String,
}

impl Counted {
    /// The sentence an analyst reads: "dec_pc not named: counting persons (dec_pc=P)".
    pub fn describe(&self) -> String {
        if self.by_default {
            format!(
                "{} not named: counting {} ({}={}); name {} to choose",
                self.dimension, self.meaning, self.dimension, self.code, self.dimension
            )
        } else {
            format!(
                "counting {} ({}={})",
                self.meaning, self.dimension, self.code
            )
        }
    }
}

impl Table {
    /// Whether the row's code in column `col` is an aggregate of other codes.
    pub fn is_aggregate(&self, row: &Row, col: usize) -> bool {
        self.aggregates
            .get(col)
            .is_some_and(|a| a.iter().any(|c| *c == row.key[col]))
    }

    /// Whether any of the row's codes is an aggregate.
    pub fn any_aggregate(&self, row: &Row) -> bool {
        (0..row.key.len()).any(|c| self.is_aggregate(row, c))
    }
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
    #[error("{dimension}={aggregate},{part} would count {part} twice: {aggregate} already holds it. Name one of them, or group by {dimension} to see them side by side")]
    AggregateWithPart {
        dimension: String,
        aggregate: String,
        part: String,
    },
    #[error("{dimension} counts different things ({}): they are never added together. Name one with {dimension}=CODE or group by {dimension}", .codes.join(", "))]
    DifferentThingsCounted {
        dimension: String,
        codes: Vec<String>,
    },
    #[error("{dimension} holds only aggregates that overlap ({}), so no total can be made without counting some twice: name one with {dimension}=CODE or group by {dimension}", .codes.join(", "))]
    OnlyOverlappingAggregates {
        dimension: String,
        codes: Vec<String>,
    },
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

/// Which dictionary codes of a column a row may hold to count; `None`: any.
type Mask = Option<Vec<bool>>;

/// Which dictionary codes of each column a row may hold to count.
fn admitted(
    cube: &Cube,
    q: &Query,
    codes: &CodeLists,
) -> Result<(Vec<Mask>, Vec<Counted>), QueryError> {
    let mut allowed: Vec<Mask> = vec![None; cube.dims.len()];
    let mut defaulted: Vec<usize> = Vec::new();
    for (dim, values) in &q.filters {
        let i = col_index(cube, dim)?;
        let mut mask = vec![false; cube.columns[i].dict.len()];
        let mut named: Vec<&str> = Vec::new();
        for v in values {
            let canonical = canonical_filter_value(codes, &cube.dims[i], v)?;
            if let Some(c) = cube.columns[i].lookup(&canonical) {
                mask[c as usize] = true;
                named.push(&cube.columns[i].dict[c as usize]);
            }
        }
        // Added together (not grouped), an aggregate and its part count the part twice.
        let name = &cube.dims[i];
        if name != "period" && !q.group_by.iter().any(|g| dimension_alias(g) == *name) {
            for a in &named {
                if let Some(b) = named
                    .iter()
                    .find(|b| crate::aggregates::overlaps(name, a, b, codes))
                {
                    let (aggregate, part) = if codes.is_aggregate(b) && !codes.is_aggregate(a)
                        || *b == CodeLists::total_code(name)
                    {
                        (b, a)
                    } else {
                        (a, b)
                    };
                    return Err(QueryError::AggregateWithPart {
                        dimension: name.clone(),
                        aggregate: aggregate.to_string(),
                        part: part.to_string(),
                    });
                }
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
            continue;
        }
        // Persons and cases are never added: the default (persons) is held, and said.
        let default = codes
            .definitions_of(dim)
            .find(|d| d.default)
            .and_then(|d| cube.columns[i].lookup(&d.code));
        if let (Some(c), true) = (default, cube.columns[i].dict.len() > 1) {
            let mut mask = vec![false; cube.columns[i].dict.len()];
            mask[c as usize] = true;
            allowed[i] = Some(mask);
            defaulted.push(i);
            continue;
        }
        // No total: the leaves, never an aggregate beside what it aggregates.
        let dict = &cube.columns[i].dict;
        let aggregate = crate::aggregates::aggregates_in(dim, dict, codes);
        if aggregate.iter().any(|a| *a) {
            if aggregate.iter().all(|a| *a) {
                return Err(QueryError::OnlyOverlappingAggregates {
                    dimension: dim.clone(),
                    codes: dict.clone(),
                });
            }
            allowed[i] = Some(aggregate.iter().map(|a| !a).collect());
        }
    }
    // What the answer counts where a dimension changes it; codes that count different things
    // are never added together.
    let mut counted = Vec::new();
    for (i, dim) in cube.dims.iter().enumerate() {
        if !codes.is_definitional(dim) || q.group_by.iter().any(|g| dimension_alias(g) == *dim) {
            continue;
        }
        let held: Vec<&String> = cube.columns[i]
            .dict
            .iter()
            .enumerate()
            .filter(|(c, _)| allowed[i].as_ref().is_none_or(|m| m[*c]))
            .map(|(_, d)| d)
            .collect();
        let meanings: Vec<_> = held.iter().map(|c| codes.definition(dim, c)).collect();
        if held.len() > 1 && !meanings.iter().all(|m| m.is_some_and(|m| m.adds)) {
            return Err(QueryError::DifferentThingsCounted {
                dimension: dim.clone(),
                codes: held
                    .iter()
                    .zip(&meanings)
                    .map(|(c, m)| match m {
                        Some(m) => format!("{c} ({})", m.meaning),
                        None => c.to_string(),
                    })
                    .collect(),
            });
        }
        // One code, or parts that add up (new and repeat applications): say what was counted.
        if !held.is_empty() && meanings.iter().all(|m| m.is_some()) {
            let unnamed = !q.filters.iter().any(|(d, _)| dimension_alias(d) == *dim);
            counted.push(Counted {
                dimension: dim.clone(),
                code: held
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join("+"),
                meaning: {
                    let mut said: Vec<&str> = Vec::new();
                    for m in meanings.iter().flatten() {
                        if !said.contains(&m.meaning.as_str()) {
                            said.push(&m.meaning);
                        }
                    }
                    said.join(", ")
                },
                concept: meanings
                    .iter()
                    .flatten()
                    .next()
                    .map(|m| m.concept.clone())
                    .unwrap_or_default(),
                by_default: defaulted.contains(&i) || (unnamed && held.len() > 1),
            });
        }
    }
    Ok((allowed, counted))
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

/// Eurostat's flags, and `r`: a published correction (a negative count kept on purpose).
const FLAG_LETTERS: &str = "bcdepru";

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
    let (allowed, counted) = admitted(cube, q, codes)?;
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
    // A stock is read at one date per period bucket (the latest with data, for all groups):
    // keep the fine period in the key, choose after the scan.
    let stocks_involved = is_stock.iter().any(|s| *s);
    let group_parts = parts.len();
    let fine_period = period.filter(|_| stocks_involved);
    if let Some(p) = fine_period {
        let n = cube.columns[p].dict.len();
        parts.push(KeyPart {
            col: p,
            bucket: (0..n as u32).collect(),
            radix: n.max(1) as u64,
        });
    }
    let space = parts
        .iter()
        .try_fold(1u64, |acc, p| acc.checked_mul(p.radix));
    let Some(space) = space.filter(|s| *s < u64::MAX / 2) else {
        return Err(QueryError::TooManyGroups);
    };

    // Which periods hold data, per indicator: the dates stocks are read at, and what the data
    // covers (for incomplete periods).
    let n_per = period.map_or(0, |p| cube.columns[p].dict.len());
    let n_ind = ind.map_or(1, |i| cube.columns[i].dict.len()).max(1);
    let track = period.is_some()
        && (stocks_involved || q.frequency.is_some() || q.from.is_some() || q.to.is_some());
    let per_codes: &[u32] = period.map_or(&[], |p| cube.columns[p].codes.as_slice());
    let ind_codes: Option<&[u32]> = ind.map(|i| cube.columns[i].codes.as_slice());

    let flag_bits_of: Vec<u8> = cube.flags.dict.iter().map(|f| flag_bits(f)).collect();
    let checks: Vec<(&[u32], &[bool])> = allowed
        .iter()
        .enumerate()
        .filter_map(|(i, m)| {
            m.as_ref()
                .map(|m| (cube.columns[i].codes.as_slice(), m.as_slice()))
        })
        .collect();
    let scan = |from: usize, to: usize| -> (Groups, Vec<bool>) {
        let mut groups = Groups::new(space);
        let mut seen = vec![false; if track { n_ind * n_per } else { 0 }];
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
            let (v, f) = (cube.values[r], flag_bits_of[cube.flags.codes[r] as usize]);
            groups.at(k).add(v, f);
            if track && (!v.is_nan() || f != 0) {
                let i = ind_codes.map_or(0, |c| c[r] as usize);
                seen[i * n_per + per_codes[r] as usize] = true;
            }
        }
        (groups, seen)
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
    let (groups, seen) = if threads > 1 {
        let step = n.div_ceil(threads);
        let partials: Vec<(Groups, Vec<bool>)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| s.spawn(move || scan(t * step, ((t + 1) * step).min(n))))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("query thread"))
                .collect()
        });
        let mut it = partials.into_iter();
        let (mut groups, mut seen) = it.next().unwrap_or_else(|| scan(0, 0));
        for (g, s) in it {
            groups.merge(g);
            seen.iter_mut().zip(s).for_each(|(a, b)| *a |= b);
        }
        (groups, seen)
    } else {
        scan(0, n)
    };

    let periods: Vec<Option<Period>> = period.map_or(Vec::new(), |p| {
        cube.columns[p]
            .dict
            .iter()
            .map(|d| Period::parse(d))
            .collect()
    });
    let period_pos = period.and_then(|p| group.iter().position(|&g| g == p));
    let bucket_of = |j: usize| period_pos.map_or(0, |pos| parts[pos].bucket[j]);
    // Per indicator: the first and last day its data covers, and the date a stock is read at
    // in each period bucket.
    let mut extent: Vec<Option<(i64, i64)>> = vec![None; n_ind];
    let mut stock_date: rustc_hash::FxHashMap<(usize, u32), i64> = Default::default();
    for (at, _) in seen.iter().enumerate().filter(|(_, s)| **s) {
        let (i, j) = (at / n_per, at % n_per);
        let Some(per) = periods[j] else { continue };
        let e = extent[i].get_or_insert((per.start(), per.end()));
        *e = (e.0.min(per.start()), e.1.max(per.end()));
        let d = stock_date.entry((i, bucket_of(j))).or_insert(i64::MIN);
        *d = (*d).max(per.end());
    }
    let ind_pos = ind.and_then(|i| group.iter().position(|&c| c == i));
    let single = ind
        .and_then(|i| {
            indicators_left
                .first()
                .and_then(|c| cube.columns[i].lookup(c))
        })
        .unwrap_or(0) as usize;
    let indicator_of = |key: &[u32]| ind_pos.map_or(single, |pos| key[pos] as usize);

    let radices: Vec<u64> = parts.iter().map(|p| p.radix).collect();
    let decode = |mut k: u64| -> Vec<u32> {
        let mut out = vec![0u32; radices.len()];
        for i in (0..radices.len()).rev() {
            out[i] = (k % radices[i]) as u32;
            k /= radices[i];
        }
        out
    };
    let seen_groups = groups.into_seen();
    let results: Vec<(Vec<u32>, Acc)> = if fine_period.is_some() {
        let mut by_group: rustc_hash::FxHashMap<Vec<u32>, Acc> = Default::default();
        for (k, acc) in seen_groups {
            let key = decode(k);
            let (g, fine) = key.split_at(group_parts);
            let i = indicator_of(g);
            if is_stock.get(i).copied().unwrap_or(false) {
                let j = fine[0] as usize;
                let end = periods[j].map(|p| p.end());
                if end != stock_date.get(&(i, bucket_of(j))).copied() {
                    continue;
                }
            }
            by_group.entry(g.to_vec()).or_insert(Acc::EMPTY).merge(&acc);
        }
        by_group.into_iter().collect()
    } else {
        seen_groups
            .into_iter()
            .map(|(k, a)| (decode(k), a))
            .collect()
    };

    // Incomplete: the row's period bucket (or the range asked, without one) reaches past what
    // the data covers; a stock only when the data stops before the bucket ends.
    let incomplete = |key: &[u32]| -> bool {
        let i = indicator_of(key);
        let Some((first, last)) = extent.get(i).copied().flatten() else {
            return false;
        };
        let stock = is_stock.get(i).copied().unwrap_or(false);
        let (from, to) = match period_pos {
            Some(pos) => match Period::parse(&bucket_names[pos][key[pos] as usize]) {
                Some(b) => (b.start(), b.end()),
                None => return false,
            },
            None => (
                q.from.map_or(first, |p| p.start()),
                q.to.map_or(last, |p| p.end()),
            ),
        };
        let cut_by_range = period_pos.is_some()
            && (q.from.is_some_and(|p| p.start() > from) || q.to.is_some_and(|p| p.end() < to));
        to > last || (!stock && (from < first || cut_by_range))
    };
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
            incomplete: track && incomplete(&k),
        })
        .collect();
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    if group.is_empty() && rows.is_empty() {
        rows.push(Row {
            value: (q.measure == Measure::Count).then_some(0.0),
            ..Row::default()
        });
    }
    let aggregates = group
        .iter()
        .map(|&g| {
            if Some(g) == period || Some(g) == ind {
                return Vec::new();
            }
            let dict = &cube.columns[g].dict;
            crate::aggregates::aggregates_in(&cube.dims[g], dict, codes)
                .into_iter()
                .zip(dict)
                .filter(|(a, _)| *a)
                .map(|(_, c)| c.clone())
                .collect()
        })
        .collect();
    let mut table = Table {
        columns: group.iter().map(|&g| cube.dims[g].clone()).collect(),
        rows,
        extra: Vec::new(),
        aggregates,
        counted,
        warnings: Vec::new(),
        provenance: Provenance {
            unit: {
                let mut units: Vec<&str> = Vec::new();
                for i in &indicators_left {
                    if let Some(u) = codes.indicator(i).map(|x| x.unit.as_str()) {
                        if !units.contains(&u) {
                            units.push(u);
                        }
                    }
                }
                units.join(", ")
            },
            query: q.describe(),
            ..Provenance::default()
        },
    };
    if let Some(n) = q.top {
        table = top_of(table, n, q);
    }
    Ok(table)
}

/// The query's `--top N` on an answer already made: for a share, which is ranked after its
/// denominator was taken over every row, not over the N kept.
pub fn top_of(table: Table, n: usize, q: &Query) -> Table {
    let named: Vec<bool> = table
        .columns
        .iter()
        .map(|c| q.filters.iter().any(|(d, _)| dimension_alias(d) == *c))
        .collect();
    top(table, n, q.measure, &named)
}

/// The `n` largest rows, then one row `OTHERS` holding all the rest. Rows of aggregates are
/// left out (they would rank first and count their members twice), except on a dimension
/// whose codes the query `named`.
fn top(mut table: Table, n: usize, measure: Measure, named: &[bool]) -> Table {
    let rows = std::mem::take(&mut table.rows);
    table.rows = rows
        .into_iter()
        .filter(|r| (0..r.key.len()).all(|c| named[c] || !table.is_aggregate(r, c)))
        .collect();
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
            incomplete: rest.iter().any(|r| r.incomplete),
            ..Row::default()
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
                ..Row::default()
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
        // One date per quarter for every group: March in Q1. FRA did not report then, so it
        // is absent; its February value is never carried forward.
        let mut all = q(&[], "", &["period"]);
        all.frequency = Some(Frequency::Quarter);
        let t = run(&c, &all, codes).unwrap();
        assert_eq!(
            values(&t),
            vec![
                ("2015-Q1".into(), Some(11.0)),
                ("2015-Q2".into(), Some(30.0))
            ]
        );
        assert!(
            !t.rows[0].incomplete && t.rows[1].incomplete,
            "the data stops in April, so Q2 is incomplete"
        );
        quarterly.frequency = Some(Frequency::Quarter);
        assert_eq!(
            values(&run(&c, &quarterly, codes).unwrap()),
            vec![
                ("2015-Q1/DEU".into(), Some(11.0)),
                ("2015-Q2/DEU".into(), Some(30.0))
            ]
        );
    }

    /// Eurostat's layout: member states, EU28 and TOTAL side by side, 2015 only.
    fn with_aggregates(total: bool) -> Cube {
        let mut c = Cube::new(["indicator", "period", "geo"].map(String::from).to_vec());
        let mut rows = vec![("DEU", 441875.0), ("HUN", 174415.0), ("NOR", 30470.0)];
        rows.push(("EU28", 441875.0 + 174415.0));
        if total {
            rows.push(("TOTAL", 441875.0 + 174415.0 + 30470.0));
        }
        for (g, v) in rows {
            c.push(&["asylum_applications", "2015", g], Some(v), "");
        }
        c
    }

    #[test]
    fn an_unnamed_dimension_sums_its_leaves_never_an_aggregate_beside_its_members() {
        let codes = CodeLists::get();
        let all = 441875.0 + 174415.0 + 30470.0;
        for total in [true, false] {
            let t = run(&with_aggregates(total), &q(&[], "", &[]), codes).unwrap();
            assert_eq!(
                values(&t),
                vec![("".into(), Some(all))],
                "TOTAL row: {total}"
            );
        }
        // Two countries are added; EU28 alone is a value like any other.
        let t = run(
            &with_aggregates(false),
            &q(&[("geo", &["DEU", "NOR"])], "", &[]),
            codes,
        );
        assert_eq!(
            values(&t.unwrap()),
            vec![("".into(), Some(441875.0 + 30470.0))]
        );
    }

    #[test]
    fn naming_an_aggregate_and_its_member_without_grouping_is_refused_naming_both() {
        let codes = CodeLists::get();
        let err = run(
            &with_aggregates(true),
            &q(&[("geo", &["DEU", "EU28"])], "", &[]),
            codes,
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("EU28") && msg.contains("DEU"), "{msg}");
        assert!(matches!(err, QueryError::AggregateWithPart { .. }));
        // Grouped by geo, they stand side by side.
        let t = run(
            &with_aggregates(true),
            &q(&[("geo", &["DEU", "EU28"])], "", &["geo"]),
            codes,
        )
        .unwrap();
        assert_eq!(t.rows.len(), 2);
        assert_eq!(
            t.aggregates,
            vec![vec!["EU28".to_string(), "TOTAL".to_string()]]
        );
    }

    #[test]
    fn top_n_ranks_leaves_unless_the_query_names_the_aggregates() {
        let codes = CodeLists::get();
        let mut top = q(&[], "", &["geo"]);
        top.top = Some(1);
        assert_eq!(
            values(&run(&with_aggregates(true), &top, codes).unwrap()),
            vec![
                ("DEU".into(), Some(441875.0)),
                ("OTHERS".into(), Some(174415.0 + 30470.0))
            ]
        );
        top.filters = vec![("geo".into(), vec!["EU28".into(), "NOR".into()])];
        assert_eq!(
            values(&run(&with_aggregates(true), &top, codes).unwrap())[0],
            ("EU28".into(), Some(441875.0 + 174415.0))
        );
    }

    #[test]
    fn a_stock_is_read_at_the_latest_date_with_data_and_old_series_are_not_carried_forward() {
        let codes = CodeLists::get();
        // UNHCR: refugees in Hong Kong last reported in 1966 are not part of 2025's figure.
        let mut c = Cube::new(["indicator", "period", "geo"].map(String::from).to_vec());
        c.push(&["refugees", "1966", "HKG"], Some(1_250_000.0), "");
        c.push(&["refugees", "2024", "DEU"], Some(2_600_000.0), "");
        c.push(&["refugees", "2025", "DEU"], Some(2_700_000.0), "");
        c.push(&["refugees", "2025", "TUR"], Some(2_500_000.0), "");
        assert_eq!(
            values(&run(&c, &q(&[], "", &[]), codes).unwrap()),
            vec![("".into(), Some(5_200_000.0))]
        );
        assert_eq!(
            values(&run(&c, &q(&[], "", &["geo"]), codes).unwrap()),
            vec![
                ("DEU".into(), Some(2_700_000.0)),
                ("TUR".into(), Some(2_500_000.0))
            ]
        );
        // DTM: survey rounds are dates; a year's figure is its last round, not their sum.
        let mut dtm = Cube::new(
            ["indicator", "period", "adm1", "round"]
                .map(String::from)
                .to_vec(),
        );
        for (date, adm1, round, v) in [
            ("2018-06-30", "AF15", "5", 100.0),
            ("2018-06-30", "AF16", "5", 50.0),
            ("2018-12-31", "AF15", "6", 120.0),
            ("2018-12-31", "AF16", "6", 40.0),
            ("2019-06-30", "AF15", "7", 130.0),
        ] {
            dtm.push(&["idps", date, adm1, round], Some(v), "");
        }
        assert_eq!(
            values(&run(&dtm, &q(&[], "2018..2018", &[]), codes).unwrap()),
            vec![("".into(), Some(160.0))]
        );
        let mut yearly = q(&[], "", &["period"]);
        yearly.frequency = Some(Frequency::Year);
        let t = run(&dtm, &yearly, codes).unwrap();
        assert_eq!(
            values(&t),
            vec![("2018".into(), Some(160.0)), ("2019".into(), Some(130.0))]
        );
        assert!(!t.rows[0].incomplete && t.rows[1].incomplete);
    }

    #[test]
    fn a_period_the_data_only_partly_covers_is_marked_incomplete() {
        let codes = CodeLists::get();
        // Monthly data from 2014-01 to 2015-05: 2015 is five months.
        let mut c = Cube::new(["indicator", "period", "geo"].map(String::from).to_vec());
        for m in 1..=17 {
            let p = if m <= 12 {
                format!("2014-{m:02}")
            } else {
                format!("2015-{:02}", m - 12)
            };
            c.push(&["asylum_applications", &p, "DEU"], Some(10.0), "");
        }
        let mut yearly = q(&[], "", &["period"]);
        yearly.frequency = Some(Frequency::Year);
        let t = run(&c, &yearly, codes).unwrap();
        assert_eq!(
            values(&t),
            vec![("2014".into(), Some(120.0)), ("2015".into(), Some(50.0))]
        );
        assert_eq!(
            t.rows.iter().map(|r| r.incomplete).collect::<Vec<_>>(),
            [false, true]
        );
        assert!(run(&c, &q(&[], "2015..2015", &[]), codes).unwrap().rows[0].incomplete);
        assert!(
            !run(&c, &q(&[], "2015-01..2015-05", &[]), codes)
                .unwrap()
                .rows[0]
                .incomplete
        );
        assert!(!run(&c, &q(&[], "2014..2014", &[]), codes).unwrap().rows[0].incomplete);
        assert!(!run(&c, &q(&[], "", &[]), codes).unwrap().rows[0].incomplete);
        // A range that cuts a year leaves that year's bucket incomplete too.
        let mut cut = q(&[], "2014-03..2014-12", &["period"]);
        cut.frequency = Some(Frequency::Year);
        assert!(run(&c, &cut, codes).unwrap().rows[0].incomplete);
    }

    #[test]
    fn persons_and_cases_are_never_added_and_persons_are_the_default_said_aloud() {
        let codes = CodeLists::get();
        let mut c = Cube::new(
            ["indicator", "period", "geo", "dec_pc"]
                .map(String::from)
                .to_vec(),
        );
        c.push(
            &["asylum_decisions_total", "2016", "DEU", "P"],
            Some(100.0),
            "",
        );
        c.push(
            &["asylum_decisions_total", "2016", "USA", "C"],
            Some(40.0),
            "",
        );
        let t = run(&c, &q(&[], "", &[]), codes).unwrap();
        assert_eq!(values(&t), vec![("".into(), Some(100.0))]);
        assert_eq!(t.counted.len(), 1);
        assert!(t.counted[0].by_default);
        assert!(t.counted[0]
            .describe()
            .contains("counting persons (dec_pc=P)"));
        let err = run(&c, &q(&[("dec_pc", &["P", "C"])], "", &[]), codes).unwrap_err();
        assert!(
            matches!(err, QueryError::DifferentThingsCounted { .. }),
            "{err}"
        );
        // Cases asked for by name: counted, and said without a note.
        let t = run(&c, &q(&[("dec_pc", &["C"])], "", &[]), codes).unwrap();
        assert_eq!(values(&t), vec![("".into(), Some(40.0))]);
        assert!(!t.counted[0].by_default);
        // Grouped, they stand side by side.
        assert_eq!(
            run(&c, &q(&[], "", &["dec_pc"]), codes).unwrap().rows.len(),
            2
        );
    }
}

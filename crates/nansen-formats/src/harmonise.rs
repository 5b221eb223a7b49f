//! From rows of text to harmonised observations: the one engine every layout feeds.

use crate::layouts::{self, Duplicates, Layout, Role};
use crate::rows::{self, Cells, Container, Rows};
use crate::{Format, ImportError, Mapping, Problem};
use nansen_codes::{AdminArea, CodeLists, DimensionKind, Frequency, Period};
use nansen_model::{canonical_order, Cube};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// How many problems are gathered before reading stops.
const MAX_PROBLEMS: usize = 50;

#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    pub format: Option<Format>,
    pub mapping: Option<Mapping>,
    /// The indicator of value columns that do not name one.
    pub indicator: Option<String>,
    pub sheet: Option<String>,
    /// The name the file had on the partner's machine: Eurostat's legacy files say only
    /// there which table they are.
    pub file_name: String,
    /// `(dimension, source value, code)`: a data manager's decision for this import.
    pub recode: Vec<(String, String, String)>,
    /// `(dimension, value)`: an unknown code accepted as it is, for this import.
    pub accept: Vec<(String, String)>,
}

/// A file read into observations.
#[derive(Debug)]
pub struct Imported {
    pub cube: Cube,
    pub format: Format,
    /// Data rows read from the file.
    pub rows: u64,
    pub warnings: Vec<String>,
}

pub fn read(path: &Path, options: &ImportOptions, progress: &mut dyn FnMut(u64)) -> Result<Imported, ImportError> {
    if std::fs::metadata(path)?.len() == 0 {
        return Err(ImportError::refused("the file is empty", vec![Problem::new(0, "", "", "the file is empty")]));
    }
    let wanted = options.format.unwrap_or(Format::Auto);
    let container = rows::container(path)?;
    let (rows, from_json) = match (wanted, container) {
        (Format::Parquet, _) | (Format::Auto, Container::Parquet) => {
            return Err(ImportError::refused(
                "Parquet import is not available in this build yet",
                vec![Problem::new(0, "", "", "Parquet import is not available in this build yet")],
            ))
        }
        (Format::Xlsx | Format::Xls, _) | (Format::Auto, Container::Zip | Container::Ole) => {
            (rows::spreadsheet(path, options.sheet.as_deref())?, false)
        }
        (Format::DtmJson | Format::Json, _) | (Format::Auto, Container::Json) => {
            let text = std::fs::read(path)?;
            let value: serde_json::Value = serde_json::from_slice(&text).map_err(|e| {
                ImportError::refused(
                    "the file is not valid JSON",
                    vec![Problem::new(e.line() as u64, "", "", format!("not valid JSON: {e}"))],
                )
            })?;
            (rows::json_records(value)?, true)
        }
        _ => (Rows::csv(path)?, false),
    };
    let head = rows.head(25)?;
    if head.is_empty() {
        return Err(ImportError::refused("the file is empty", vec![Problem::new(0, "", "", "the file is empty")]));
    }
    if matches!(rows, Rows::Csv { .. }) && head.iter().all(|r| r.len() <= 1 && !r.first().is_some_and(|c| c.starts_with('#'))) {
        let reason = "every row is a single column: the file's delimiter is not a comma, semicolon, tab or pipe";
        return Err(ImportError::refused(format!("the file is refused: {reason}"), vec![Problem::new(1, head[0].first().map(String::as_str).unwrap_or(""), "", reason)]));
    }
    let layout = layouts::recognise(&head, wanted, from_json, options)?;
    let mut engine = Engine::new(&layout, options);
    let mut seen = 0u64;
    let count = rows.each(layout.skip, &layout.header, &mut |row, cells| {
        seen += 1;
        if seen % 100_000 == 0 {
            progress(seen);
        }
        engine.row(row, cells)
    })?;
    if count == 0 {
        let p = Problem::new(layout.skip as u64, "", "", "the file has a header but no rows of data");
        return Err(ImportError::refused("the file has a header but no rows of data", vec![p]));
    }
    engine.finish(layout.format, count)
}

/// A value as partners write it: `18,420`, `:`, `1 022`, `12 p`; `None` when not available.
pub fn parse_value(text: &str) -> Result<(Option<f64>, String), String> {
    let t = text.trim();
    let (num, flags) = match t.rsplit_once(' ') {
        Some((n, f)) if !f.is_empty() && f.chars().all(|c| "pebcudsn".contains(c)) => (n.trim(), f.to_string()),
        _ => (t, String::new()),
    };
    if matches!(num, "" | ":" | ".." | "-" | "NA" | "N/A" | "n/a" | "null" | "None" | "nan" | "NaN") {
        return Ok((None, flags));
    }
    let cleaned: String = if looks_grouped(num) {
        num.chars().filter(|c| !matches!(c, ',' | ' ' | '\u{a0}' | '\u{202f}')).collect()
    } else {
        num.to_string()
    };
    let v: f64 = cleaned.parse().map_err(|_| "not a number".to_string())?;
    if !v.is_finite() {
        return Err("not a number".into());
    }
    if v < 0.0 {
        return Err("a count cannot be negative".into());
    }
    Ok((Some(v), flags))
}

/// `18,420`, `1 022 000`: digits grouped by three.
fn looks_grouped(s: &str) -> bool {
    let int = s.split('.').next().unwrap_or(s);
    let groups: Vec<&str> = int.split([',', ' ', '\u{a0}', '\u{202f}']).collect();
    groups.len() > 1
        && groups[0].len() <= 3
        && !groups[0].is_empty()
        && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit()))
        && groups[1..].iter().all(|g| g.len() == 3)
}

/// Eurostat-style flags: the letters we know, each once, in order.
fn clean_flags(text: &str) -> String {
    let mut out: Vec<char> = text.chars().filter(|c| "pebcud".contains(*c)).collect();
    out.sort_unstable();
    out.dedup();
    out.into_iter().collect()
}

type Cached = Result<String, String>;

struct Engine<'a> {
    layout: &'a Layout,
    codes: &'static CodeLists,
    options: &'a ImportOptions,
    cube: Cube,
    /// For each cube dimension, where its code comes from.
    slots: Vec<Slot>,
    caches: Vec<HashMap<String, Cached>>,
    period_cache: HashMap<String, Cached>,
    indicator_cache: HashMap<String, Cached>,
    problems: Vec<Problem>,
    unlisted: HashSet<String>,
    key: Vec<String>,
    /// Source row of each observation, for naming both rows of a duplicate.
    source_rows: Vec<u64>,
}

#[derive(Clone, Debug)]
enum Slot {
    Column(usize),
    Constant(String),
    Indicator,
    Period,
    /// Given by the value column (`f_0_4` is sex F); otherwise the total.
    FromValue(String),
}

impl<'a> Engine<'a> {
    fn new(layout: &'a Layout, options: &'a ImportOptions) -> Engine<'a> {
        let mut dims: Vec<String> = vec!["indicator".into(), "period".into()];
        let mut add = |d: &str| {
            if !dims.iter().any(|x| x == d) {
                dims.push(d.to_string());
            }
        };
        for r in &layout.roles {
            match r {
                Role::Dim(d) => add(d),
                Role::Value { extra, .. } => extra.iter().for_each(|(d, _)| add(d)),
                _ => {}
            }
        }
        for (d, _) in &layout.constants {
            add(d);
        }
        canonical_order(&mut dims);
        let slots = dims
            .iter()
            .map(|d| match d.as_str() {
                "indicator" => Slot::Indicator,
                "period" if !layout.roles.contains(&Role::Period) => match layout.constants.iter().find(|(x, _)| x == "period") {
                    Some((_, v)) => Slot::Constant(v.clone()),
                    None => Slot::Period,
                },
                "period" => Slot::Period,
                _ => {
                    if let Some(i) = layout.roles.iter().position(|r| matches!(r, Role::Dim(x) if x == d)) {
                        Slot::Column(i)
                    } else if let Some((_, v)) = layout.constants.iter().find(|(x, _)| x == d) {
                        Slot::Constant(v.clone())
                    } else {
                        Slot::FromValue(d.clone())
                    }
                }
            })
            .collect();
        Engine {
            layout,
            codes: CodeLists::get(),
            options,
            caches: vec![HashMap::new(); layout.roles.len()],
            cube: Cube::new(dims.clone()),
            key: vec![String::new(); dims.len()],
            slots,
            period_cache: HashMap::new(),
            indicator_cache: HashMap::new(),
            problems: Vec::new(),
            unlisted: HashSet::new(),
            source_rows: Vec::new(),
        }
    }

    fn problem(&mut self, row: u64, column: usize, value: &str, reason: String) -> Result<(), ImportError> {
        let col = self.layout.header.iter().nth(column).cloned().unwrap_or_default();
        self.problems.push(Problem::new(row, &col, value, reason));
        if self.problems.len() >= MAX_PROBLEMS {
            return Err(self.refusal());
        }
        Ok(())
    }

    fn refusal(&mut self) -> ImportError {
        let problems = std::mem::take(&mut self.problems);
        let more = if problems.len() >= MAX_PROBLEMS { format!(" (stopped after the first {MAX_PROBLEMS})") } else { String::new() };
        let first = problems.first().map(|p| p.to_string()).unwrap_or_default();
        ImportError::refused(format!("the file is refused: {} problem(s){more}; first: {first}", problems.len()), problems)
    }

    /// The canonical code of a dimension's cell, cached per column.
    fn code(&mut self, column: usize, dim: &str, raw: &str) -> Cached {
        if let Some(c) = self.caches[column].get(raw) {
            return c.clone();
        }
        let result = self.resolve(dim, raw);
        self.caches[column].insert(raw.to_string(), result.clone());
        result
    }

    fn resolve(&mut self, dim: &str, raw: &str) -> Cached {
        let value = raw.trim();
        if let Some((_, _, to)) = self.options.recode.iter().find(|(d, from, _)| d == dim && from == value) {
            return Ok(to.clone());
        }
        if self.options.accept.iter().any(|(d, v)| d == dim && v == value) {
            return Ok(value.to_string());
        }
        match self.codes.kind_of(dim) {
            DimensionKind::AdminArea => {
                if value.is_empty() {
                    return Ok("TOTAL".into());
                }
                if self.codes.country(value) == Some("XXX") {
                    return Ok("XXX".into());
                }
                match self.codes.admin_area(value) {
                    Ok(AdminArea::Known(c)) => Ok(c),
                    Ok(AdminArea::Unlisted(c)) => {
                        self.unlisted.insert(c.clone());
                        Ok(c)
                    }
                    Err(e) => Err(e.to_string()),
                }
            }
            DimensionKind::Open if value.is_empty() => Ok("UNK".into()),
            _ => self.codes.canonical(dim, value).map_err(|e| e.to_string() + mend_hint(dim, value)),
        }
    }

    fn period(&mut self, raw: &str) -> Cached {
        if let Some(c) = self.period_cache.get(raw) {
            return c.clone();
        }
        let result = match Period::parse(raw) {
            Some(p) => Ok(coarsen(p, self.layout.frequency).to_string()),
            None if raw.trim().is_empty() => Err("no period: this row has values but its date is empty".to_string()),
            None => Err("not a period: write 2015, 2015-Q3, 2015-09, 2015-W38 or 2015-09-14".to_string()),
        };
        self.period_cache.insert(raw.to_string(), result.clone());
        result
    }

    fn indicator(&mut self, raw: &str) -> Cached {
        if let Some(c) = self.indicator_cache.get(raw) {
            return c.clone();
        }
        let mapped = self.layout.indicator_map.iter().find(|(from, _)| from.eq_ignore_ascii_case(raw.trim())).map(|(_, to)| to.clone());
        let result = match mapped {
            Some(code) => Ok(code),
            None => match self.codes.indicator_code(raw) {
                Ok(i) => Ok(i.code.clone()),
                Err(e) if self.options.accept.iter().any(|(d, v)| d == "indicator" && v == raw) => {
                    let _ = e;
                    Ok(raw.to_string())
                }
                Err(e) => Err(e.to_string() + mend_hint("indicator", raw)),
            },
        };
        self.indicator_cache.insert(raw.to_string(), result.clone());
        result
    }

    fn row(&mut self, row: u64, cells: &dyn Cells) -> Result<(), ImportError> {
        let layout = self.layout;
        let cell = |i: usize| if layout.unneutralise { crate::export::unneutralise(cells.get(i)) } else { cells.get(i) };
        let flags = layout.roles.iter().position(|r| *r == Role::Flags).map(|i| clean_flags(cell(i))).unwrap_or_default();
        // Values first: a row with nothing to count is not an observation, whatever else it holds.
        let before = self.problems.len();
        let mut values: Vec<(usize, Option<f64>, String)> = Vec::new();
        for (i, role) in layout.roles.iter().enumerate() {
            if !matches!(role, Role::Value { .. }) {
                continue;
            }
            match parse_value(cell(i)) {
                Ok((value, cell_flags)) => {
                    let all = if cell_flags.is_empty() { flags.clone() } else { clean_flags(&(flags.clone() + &cell_flags)) };
                    if value.is_some() || !all.is_empty() {
                        values.push((i, value, all));
                    }
                }
                Err(reason) => self.problem(row, i, cell(i), reason)?,
            }
        }
        if values.is_empty() {
            return Ok(());
        }
        let mut period = String::new();
        let mut row_indicator: Option<String> = None;
        let mut dims: Vec<Option<String>> = vec![None; layout.roles.len()];
        for (i, role) in layout.roles.iter().enumerate() {
            let c = cell(i);
            match role {
                Role::Dim(d) => match self.code(i, d, c) {
                    Ok(code) => dims[i] = Some(code),
                    Err(reason) => self.problem(row, i, c, reason)?,
                },
                Role::Period => match self.period(c) {
                    Ok(p) => period = p,
                    Err(reason) => self.problem(row, i, c, reason)?,
                },
                Role::Indicator => match self.indicator(c) {
                    Ok(code) => row_indicator = Some(code),
                    Err(reason) => self.problem(row, i, c, reason)?,
                },
                _ => {}
            }
        }
        if self.problems.len() > before {
            return Ok(());
        }
        for (i, value, flags) in values {
            let Role::Value { indicator, extra } = &layout.roles[i] else { continue };
            let ind = match indicator.as_ref().or(row_indicator.as_ref()).or(layout.indicator.as_ref()) {
                Some(ind) => ind.clone(),
                None => {
                    let reason = "no indicator: the file does not say what it counts; name it with --indicator CODE or in the mapping".to_string();
                    return Err(ImportError::refused(reason.clone(), vec![Problem::new(row, &layout.header[i], "", reason)]));
                }
            };
            for (k, slot) in self.slots.iter().enumerate() {
                self.key[k] = match slot {
                    Slot::Column(c) => dims[*c].clone().unwrap_or_default(),
                    Slot::Constant(v) => v.clone(),
                    Slot::Indicator => ind.clone(),
                    Slot::Period => period.clone(),
                    Slot::FromValue(d) => extra
                        .iter()
                        .find(|(x, _)| x == d)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_else(|| CodeLists::total_code(d).to_string()),
                };
            }
            let key: Vec<&str> = self.key.iter().map(String::as_str).collect();
            self.cube.push(&key, value, &flags);
            self.source_rows.push(row);
        }
        Ok(())
    }

    fn finish(mut self, format: Format, rows: u64) -> Result<Imported, ImportError> {
        if !self.problems.is_empty() {
            return Err(self.refusal());
        }
        let cube = self.dedupe()?;
        let mut warnings = Vec::new();
        if !self.unlisted.is_empty() {
            let mut u: Vec<&String> = self.unlisted.iter().collect();
            u.sort();
            let shown: Vec<&str> = u.iter().take(10).map(|s| s.as_str()).collect();
            warnings.push(format!(
                "{} P-code(s) not in the bundled list, kept as written: {}{}",
                u.len(),
                shown.join(", "),
                if u.len() > 10 { ", ..." } else { "" }
            ));
        }
        if cube.is_empty() {
            let reason = "no observation: every value is empty or not available";
            return Err(ImportError::refused(reason, vec![Problem::new(0, "", "", reason)]));
        }
        Ok(Imported { cube, format, rows, warnings })
    }

    /// Two rows with the same key: an error in a statistics table, summed in an incident list.
    fn dedupe(&mut self) -> Result<Cube, ImportError> {
        let cube = std::mem::take(&mut self.cube);
        let n = cube.len();
        let widths: Vec<u32> = cube.columns.iter().map(|c| (c.dict.len().max(1) as f64).log2().ceil().max(1.0) as u32).collect();
        let mut order: Vec<(u128, u32)> = Vec::with_capacity(n);
        if widths.iter().sum::<u32>() <= 128 {
            for r in 0..n {
                let mut k: u128 = 0;
                for (c, w) in cube.columns.iter().zip(&widths) {
                    k = (k << w) | c.codes[r] as u128;
                }
                order.push((k, r as u32));
            }
        } else {
            // Too many distinct codes to pack a key: rank rows by their full key instead.
            let mut idx: Vec<u32> = (0..n as u32).collect();
            idx.sort_by(|&a, &b| cube.key(a as usize).cmp(&cube.key(b as usize)));
            let mut rank = 0u128;
            for (i, &r) in idx.iter().enumerate() {
                if i > 0 && cube.key(r as usize) != cube.key(idx[i - 1] as usize) {
                    rank += 1;
                }
                order.push((rank, r));
            }
        }
        order.sort_unstable();
        let dup_pairs: Vec<(u32, u32)> = order.windows(2).filter(|w| w[0].0 == w[1].0).map(|w| (w[0].1, w[1].1)).collect();
        if dup_pairs.is_empty() {
            return Ok(cube);
        }
        match self.layout.duplicates {
            Duplicates::Error => {
                let problems: Vec<Problem> = dup_pairs
                    .iter()
                    .take(MAX_PROBLEMS)
                    .map(|&(a, b)| {
                        let (ra, rb) = (self.source_rows[a as usize].min(self.source_rows[b as usize]), self.source_rows[a as usize].max(self.source_rows[b as usize]));
                        let key: Vec<String> = cube.dims.iter().zip(cube.key(b as usize)).map(|(d, v)| format!("{d}={v}")).collect();
                        Problem::new(rb, "", "", format!("the same observation as row {ra} ({}); a statistics table holds each observation once (an incident list sums them: say so in a mapping with duplicates = \"sum\")", key.join(", ")))
                    })
                    .collect();
                let first = problems[0].to_string();
                Err(ImportError::refused(format!("the file holds {} duplicate observation(s); first: {first}", dup_pairs.len()), problems))
            }
            Duplicates::Sum => {
                let mut out = Cube::new(cube.dims.clone());
                let mut i = 0;
                while i < order.len() {
                    let mut j = i;
                    let (mut sum, mut has, mut flags) = (0.0, false, String::new());
                    while j < order.len() && order[j].0 == order[i].0 {
                        let r = order[j].1 as usize;
                        if let Some(v) = cube.value(r) {
                            sum += v;
                            has = true;
                        }
                        flags.push_str(cube.flag(r));
                        j += 1;
                    }
                    let r = order[i].1 as usize;
                    out.push(&cube.key(r), has.then_some(sum), &clean_flags(&flags));
                    i = j;
                }
                Ok(out)
            }
        }
    }
}

fn mend_hint(dim: &str, value: &str) -> &'static str {
    let _ = (dim, value);
    " (map it with --recode DIM:VALUE=CODE, or accept it with --accept DIM:VALUE)"
}

fn coarsen(p: Period, to: Option<Frequency>) -> Period {
    let Some(to) = to else { return p };
    let (y, m) = match p {
        Period::Day(y, m, _) | Period::Month(y, m) => (y, m),
        _ => return p,
    };
    match to {
        Frequency::Month => Period::Month(y, m),
        Frequency::Quarter => Period::Quarter(y, (m - 1) / 3 + 1),
        Frequency::Year => Period::Year(y),
        _ => p,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_read_as_partners_write_them() {
        assert_eq!(parse_value("18,420").unwrap(), (Some(18420.0), String::new()));
        assert_eq!(parse_value("1 022").unwrap(), (Some(1022.0), String::new()));
        assert_eq!(parse_value(":").unwrap(), (None, String::new()));
        assert_eq!(parse_value("12 p").unwrap(), (Some(12.0), "p".into()));
        assert_eq!(parse_value(": c").unwrap(), (None, "c".into()));
        assert_eq!(parse_value("2.5").unwrap(), (Some(2.5), String::new()));
        assert!(parse_value("-3").unwrap_err().contains("negative"));
        assert!(parse_value("many").is_err());
        assert!(parse_value("1,02").is_err());
    }
}

//! From rows of text to harmonised observations: the one engine every layout feeds.

use crate::layouts::{self, Duplicates, Layout, Role};
use crate::rows::{self, Cells, Container, Rows};
use crate::spill::{Spill, CHUNK_ROWS};
use crate::{Format, ImportError, Mapping, Problem};
use nansen_codes::{AdminArea, CodeLists, DimensionKind, Frequency, Period};
use nansen_model::{canonical_order, Cube, Remedy};
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// How many problems are gathered before reading stops.
/// Distinct problems (column, value and reason) gathered before a file is refused; each counts
/// its rows, so a data manager sees every kind of problem in one round.
const MAX_PROBLEMS: usize = 1_000;
/// Rows named for each distinct problem.
const ROWS_NAMED: usize = 5;

#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
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
    /// Keep the rows that fail out of the import instead of refusing the file (`--set-aside`).
    pub set_aside: bool,
}

/// A row kept out of an import with `--set-aside`: where it was, why, and its cells as they came.
#[derive(Clone, Debug, PartialEq)]
pub struct SetAsideRow {
    pub row: u64,
    pub reasons: Vec<String>,
    pub cells: Vec<String>,
}

/// More rows than this set aside and the file is refused: it is the wrong file, not a few bad rows.
const MAX_SET_ASIDE: usize = 100_000;

/// A file read into observations, held in one cube.
#[derive(Debug)]
pub struct Imported {
    pub cube: Cube,
    pub format: Format,
    /// Data rows read from the file.
    pub rows: u64,
    pub warnings: Vec<String>,
    /// The layout's column names, then the rows set aside (empty without `set_aside`).
    pub header: Vec<String>,
    pub set_aside: Vec<SetAsideRow>,
}

impl Imported {
    /// The rows set aside as a CSV: `row`, `reason`, then the file's own columns as they came.
    pub fn set_aside_csv(&self) -> String {
        set_aside_csv(&self.header, &self.set_aside)
    }
}

/// A file read into observations kept in chunks ([`Spill`]), however large it is.
pub struct Spilled {
    pub observations: Spill,
    pub format: Format,
    /// Data rows read from the file.
    pub rows: u64,
    pub warnings: Vec<String>,
    /// The layout's column names, then the rows set aside (empty without `set_aside`).
    pub header: Vec<String>,
    pub set_aside: Vec<SetAsideRow>,
}

impl Spilled {
    /// The rows set aside as a CSV: `row`, `reason`, then the file's own columns as they came.
    pub fn set_aside_csv(&self) -> String {
        set_aside_csv(&self.header, &self.set_aside)
    }

    /// Every observation in one cube.
    pub fn into_imported(self) -> Result<Imported, ImportError> {
        Ok(Imported {
            cube: self.observations.into_cube()?,
            format: self.format,
            rows: self.rows,
            warnings: self.warnings,
            header: self.header,
            set_aside: self.set_aside,
        })
    }
}

fn set_aside_csv(header: &[String], set_aside: &[SetAsideRow]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut head = vec!["row".to_string(), "reason".to_string()];
    head.extend(header.iter().cloned());
    let _ = w.write_record(&head);
    for r in set_aside {
        let mut rec = vec![r.row.to_string(), r.reasons.join("; ")];
        rec.extend(r.cells.iter().cloned());
        let _ = w.write_record(&rec);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// Reads a file into observations; with `spill_to`, chunks beyond what memory should hold go
/// to a temporary file there while the rest is read.
pub fn read(
    path: &Path,
    options: &ImportOptions,
    progress: &mut dyn FnMut(u64),
    spill_to: Option<&Path>,
) -> Result<Spilled, ImportError> {
    if std::fs::metadata(path)?.len() == 0 {
        return Err(ImportError::refused(
            "the file is empty",
            vec![Problem::new(0, "", "", "the file is empty")],
        ));
    }
    let wanted = options.format.unwrap_or(Format::Auto);
    let container = rows::container(path)?;
    let (rows, from_json) = match (wanted, container) {
        (Format::Parquet, _) | (Format::Auto, Container::Parquet) => {
            (Rows::Parquet(path.to_path_buf()), false)
        }
        (Format::Xlsx | Format::Xls, _) | (Format::Auto, Container::Zip | Container::Ole) => {
            (rows::spreadsheet(path, options.sheet.as_deref())?, false)
        }
        (Format::DtmJson | Format::MissingMigrants | Format::Json, _)
        | (Format::Auto, Container::Json) => {
            let text = std::fs::read(path)?;
            let value: serde_json::Value = serde_json::from_slice(&text).map_err(|e| {
                ImportError::refused(
                    "the file is not valid JSON",
                    vec![Problem::new(
                        e.line() as u64,
                        "",
                        "",
                        format!("not valid JSON: {e}"),
                    )],
                )
            })?;
            (rows::json_records(value)?, true)
        }
        _ => (Rows::csv(path)?, false),
    };
    let head = rows.head(25)?;
    if head.is_empty() {
        return Err(ImportError::refused(
            "the file is empty",
            vec![Problem::new(0, "", "", "the file is empty")],
        ));
    }
    if matches!(rows, Rows::Csv { .. })
        && head
            .iter()
            .all(|r| r.len() <= 1 && !r.first().is_some_and(|c| c.starts_with('#')))
    {
        let reason = "every row is a single column: the file's delimiter is not a comma, semicolon, tab or pipe";
        return Err(ImportError::refused(
            format!("the file is refused: {reason}"),
            vec![Problem::new(
                1,
                head[0].first().map(String::as_str).unwrap_or(""),
                "",
                reason,
            )],
        ));
    }
    let mut layout = layouts::recognise(&head, wanted, from_json, options)?;
    if from_json || matches!(rows, Rows::Parquet(_)) {
        // Only text and spreadsheet exports carry the formula-neutralising mark.
        layout.unneutralise = false;
    }
    let mut engine = Engine::new(&layout, options, spill_to);
    let mut seen = 0u64;
    let count = rows.each(layout.skip, &layout.header, &mut |row, cells| {
        seen += 1;
        if seen.is_multiple_of(100_000) {
            progress(seen);
        }
        let done = engine.row(row, cells);
        engine.set_aside(row, cells)?;
        done
    })?;
    if count == 0 {
        let p = Problem::new(
            layout.skip as u64,
            "",
            "",
            "the file has a header but no rows of data",
        );
        return Err(ImportError::refused(
            "the file has a header but no rows of data",
            vec![p],
        ));
    }
    engine.finish(layout.format, count)
}

/// A value as partners write it: `18,420`, `:`, `1 022`, `12 p`; `None` when not available.
/// The flags written after the number come back as a slice of the cell.
pub fn parse_value(text: &str) -> Result<(Option<f64>, &str), String> {
    let b = text.as_bytes();
    // The common case, a plain count, without allocating.
    if !b.is_empty() && b.len() <= 15 && b.iter().all(u8::is_ascii_digit) {
        let v = b.iter().fold(0u64, |acc, d| acc * 10 + (d - b'0') as u64);
        return Ok((Some(v as f64), ""));
    }
    let t = text.trim();
    let (num, flags) = match t.rsplit_once(' ') {
        Some((n, f)) if !f.is_empty() && f.chars().all(|c| "pebcudsn".contains(c)) => (n.trim(), f),
        _ => (t, ""),
    };
    if matches!(
        num,
        "" | ":" | ".." | "-" | "NA" | "N/A" | "n/a" | "null" | "None" | "nan" | "NaN"
    ) {
        return Ok((None, flags));
    }
    let cleaned: String = if looks_grouped(num) {
        num.chars()
            .filter(|c| !matches!(c, ',' | ' ' | '\u{a0}' | '\u{202f}'))
            .collect()
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
    let mut groups = int.split([',', ' ', '\u{a0}', '\u{202f}']);
    let first = groups.next().unwrap_or("");
    let mut rest = 0;
    let digits = |g: &str| g.bytes().all(|b| b.is_ascii_digit());
    if first.is_empty() || first.len() > 3 || !digits(first) {
        return false;
    }
    for g in groups {
        if g.len() != 3 || !digits(g) {
            return false;
        }
        rest += 1;
    }
    rest > 0
}

/// Eurostat-style flags: the letters we know, each once, in order.
fn clean_flags(text: &str) -> String {
    let mut out: Vec<char> = text.chars().filter(|c| "pebcudr".contains(*c)).collect();
    out.sort_unstable();
    out.dedup();
    out.into_iter().collect()
}

/// A cell's meaning, decided once per distinct cell of a column: the code's index in the
/// cube's dictionary, or why it is refused.
type Cached = Result<u32, String>;

struct Engine<'a> {
    layout: &'a Layout,
    codes: &'static CodeLists,
    options: &'a ImportOptions,
    cube: Cube,
    /// For each layout column feeding a dimension (or the period, or the indicator): the
    /// cube dimension it feeds.
    target: Vec<Option<usize>>,
    caches: Vec<FxHashMap<Box<str>, Cached>>,
    /// For each cube dimension not fed by a column: its code for the whole file (a
    /// constant, or the total), interned on first use.
    defaults: Vec<Option<String>>,
    default_codes: Vec<Option<u32>>,
    /// For each value column: the (dimension, code) it implies, interned on first use.
    implied: Vec<Vec<(usize, String, Option<u32>)>>,
    indicator_dim: usize,
    flag_cache: FxHashMap<Box<str>, u32>,
    problems: Vec<Problem>,
    unlisted: HashSet<String>,
    /// Rows whose negative count was kept as the publisher's correction.
    corrected: Vec<u64>,
    /// Where each distinct problem stands in `problems`.
    problem_index: HashMap<(String, String, String), usize>,
    /// With `--set-aside`: the rows kept out, and why.
    set_aside: Option<Vec<SetAsideRow>>,
    key: Vec<u32>,
    /// Source row of each observation not yet in a chunk, for naming both rows of a repeat.
    source_rows: Vec<u32>,
    /// The chunks read so far.
    spill: Spill,
    /// A hash of each chunked observation's key, for finding repeats without holding keys.
    hashes: Vec<u64>,
}

impl<'a> Engine<'a> {
    fn new(layout: &'a Layout, options: &'a ImportOptions, spill_to: Option<&Path>) -> Engine<'a> {
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
        let pos = |name: &str| dims.iter().position(|d| d == name).unwrap_or(0);
        let target: Vec<Option<usize>> = layout
            .roles
            .iter()
            .map(|r| match r {
                Role::Dim(d) => Some(pos(d)),
                Role::Period => Some(pos("period")),
                Role::Indicator => Some(pos("indicator")),
                _ => None,
            })
            .collect();
        let defaults: Vec<Option<String>> = dims
            .iter()
            .enumerate()
            .map(|(k, d)| {
                if target.contains(&Some(k)) {
                    None
                } else if let Some((_, v)) = layout.constants.iter().find(|(x, _)| x == d) {
                    Some(v.clone())
                } else if d == "indicator" {
                    layout.indicator.clone()
                } else if d == "period" {
                    None
                } else {
                    Some(CodeLists::total_code(d).to_string())
                }
            })
            .collect();
        let implied = layout
            .roles
            .iter()
            .map(|r| match r {
                Role::Value { indicator, extra } => {
                    let mut v: Vec<(usize, String, Option<u32>)> = extra
                        .iter()
                        .map(|(d, c)| (pos(d), c.clone(), None))
                        .collect();
                    if let Some(i) = indicator {
                        v.push((pos("indicator"), i.clone(), None));
                    }
                    v
                }
                _ => Vec::new(),
            })
            .collect();
        Engine {
            layout,
            codes: CodeLists::get(),
            options,
            caches: vec![FxHashMap::default(); layout.roles.len()],
            key: vec![u32::MAX; dims.len()],
            default_codes: vec![None; dims.len()],
            indicator_dim: pos("indicator"),
            spill: Spill::new(dims.clone(), spill_to.map(Path::to_path_buf)),
            hashes: Vec::new(),
            cube: Cube::new(dims),
            target,
            defaults,
            implied,
            flag_cache: FxHashMap::default(),
            problems: Vec::new(),
            unlisted: HashSet::new(),
            corrected: Vec::new(),
            problem_index: HashMap::new(),
            set_aside: options.set_aside.then(Vec::new),
            source_rows: Vec::new(),
        }
    }

    fn problem(
        &mut self,
        row: u64,
        column: usize,
        value: &str,
        reason: String,
    ) -> Result<(), ImportError> {
        let col = <[String]>::get(&self.layout.header, column)
            .cloned()
            .unwrap_or_default();
        let mut p = Problem::new(row, &col, value, reason);
        // A code the lists do not know can be mapped or kept for this import.
        if matches!(
            self.layout.roles.get(column),
            Some(Role::Dim(_) | Role::Indicator)
        ) {
            p.remedy = Some(Remedy::MapOrAcceptCode);
        }
        if self.set_aside.is_none() {
            // The same problem in another row is counted, not listed again.
            let key = (p.column.clone(), p.value.clone(), p.reason.clone());
            if let Some(&i) = self.problem_index.get(&key) {
                let same = &mut self.problems[i];
                same.count += 1;
                if same.more_rows.len() < ROWS_NAMED - 1 && same.row != row {
                    same.more_rows.push(row);
                }
                return Ok(());
            }
            self.problem_index.insert(key, self.problems.len());
        }
        self.problems.push(p);
        if self.problems.len() >= MAX_PROBLEMS && self.set_aside.is_none() {
            return Err(self.refusal());
        }
        Ok(())
    }

    /// With `--set-aside`, the row's problems move it aside (cells as they came) instead of
    /// refusing the file.
    fn set_aside(&mut self, row: u64, cells: &dyn Cells) -> Result<(), ImportError> {
        let Some(aside) = self.set_aside.as_mut() else {
            return Ok(());
        };
        if self.problems.is_empty() {
            return Ok(());
        }
        let reasons = std::mem::take(&mut self.problems)
            .into_iter()
            .map(|p| {
                if p.column.is_empty() {
                    p.reason
                } else {
                    format!("{}: {}", p.column, p.reason)
                }
            })
            .collect();
        aside.push(SetAsideRow {
            row,
            reasons,
            cells: (0..self.layout.header.len())
                .map(|i| cells.get(i).to_string())
                .collect(),
        });
        if aside.len() > MAX_SET_ASIDE {
            let reason = format!(
                "more than {MAX_SET_ASIDE} rows would be set aside: this is not the file to import"
            );
            return Err(ImportError::refused(
                reason.clone(),
                vec![Problem::new(row, "", "", reason)],
            ));
        }
        Ok(())
    }

    fn refusal(&mut self) -> ImportError {
        let problems = std::mem::take(&mut self.problems);
        self.problem_index.clear();
        let more = if problems.len() >= MAX_PROBLEMS {
            format!(" (stopped after {MAX_PROBLEMS} different ones)")
        } else {
            String::new()
        };
        let rows: u64 = problems.iter().map(|p| p.count).sum();
        let first = problems.first().map(|p| p.to_string()).unwrap_or_default();
        let count = if problems.len() as u64 == rows {
            format!("{rows} problem(s)")
        } else {
            format!("{rows} problem(s) of {} kind(s)", problems.len())
        };
        ImportError::refused(
            format!("the file is refused: {count}{more}; first: {first}"),
            problems,
        )
    }

    /// What a cell of layout column `i` means, decided once per distinct cell.
    fn cell_code(&mut self, i: usize, raw: &str) -> Cached {
        if let Some(c) = self.caches[i].get(raw) {
            return c.clone();
        }
        let text = match &self.layout.roles[i] {
            Role::Dim(d) => self.resolve(&d.clone(), raw),
            Role::Period => self.period(raw),
            Role::Indicator => self.indicator(raw),
            _ => Err(String::new()),
        };
        let k = self.target[i].unwrap_or(0);
        let result = text.map(|t| self.cube.intern(k, &t));
        self.caches[i].insert(raw.into(), result.clone());
        result
    }

    fn resolve(&mut self, dim: &str, raw: &str) -> Result<String, String> {
        let value = raw.trim();
        if let Some((_, _, to)) = self
            .options
            .recode
            .iter()
            .find(|(d, from, _)| d == dim && from == value)
        {
            return Ok(to.clone());
        }
        if self
            .options
            .accept
            .iter()
            .any(|(d, v)| d == dim && v == value)
        {
            return Ok(value.to_string());
        }
        match self.codes.kind_of(dim) {
            DimensionKind::AdminArea => {
                if value.is_empty() || value.eq_ignore_ascii_case("TOTAL") {
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
            _ => self.codes.canonical(dim, value).map_err(|e| e.to_string()),
        }
    }

    fn period(&self, raw: &str) -> Result<String, String> {
        match Period::parse(raw) {
            Some(p) => Ok(coarsen(p, self.layout.frequency).to_string()),
            None if raw.trim().is_empty() => {
                Err("no period: this row has values but its date is empty".to_string())
            }
            None => Err(
                "not a period: write 2015, 2015-Q3, 2015-09, 2015-W38 or 2015-09-14".to_string(),
            ),
        }
    }

    fn indicator(&self, raw: &str) -> Result<String, String> {
        if let Some((_, to)) = self
            .layout
            .indicator_map
            .iter()
            .find(|(from, _)| from.eq_ignore_ascii_case(raw.trim()))
        {
            return Ok(to.clone());
        }
        match self.codes.indicator_code(raw) {
            Ok(i) => Ok(i.code.clone()),
            Err(_)
                if self
                    .options
                    .accept
                    .iter()
                    .any(|(d, v)| d == "indicator" && v == raw) =>
            {
                Ok(raw.to_string())
            }
            Err(e) => Err(e.to_string()),
        }
    }

    fn flag_code(&mut self, raw: &str) -> u32 {
        if let Some(&c) = self.flag_cache.get(raw) {
            return c;
        }
        let c = self.cube.intern_flag(&clean_flags(raw));
        self.flag_cache.insert(raw.into(), c);
        c
    }

    fn default_code(&mut self, k: usize) -> Option<u32> {
        if self.default_codes[k].is_none() {
            let text = self.defaults[k].clone()?;
            self.default_codes[k] = Some(self.cube.intern(k, &text));
        }
        self.default_codes[k]
    }

    fn row(&mut self, row: u64, cells: &dyn Cells) -> Result<(), ImportError> {
        let layout = self.layout;
        let cell = |i: usize| {
            if layout.unneutralise {
                crate::export::unneutralise(cells.get(i))
            } else {
                cells.get(i)
            }
        };
        let row_flags = layout
            .roles
            .iter()
            .position(|r| *r == Role::Flags)
            .map(cell)
            .unwrap_or("");
        // Values first: a row with nothing to count is not an observation, whatever else it holds.
        let before = self.problems.len();
        let mut values: [(usize, Option<f64>, u32); 32] = [(0, None, 0); 32];
        let mut n_values = 0;
        let mut overflow: Vec<(usize, Option<f64>, u32)> = Vec::new();
        for (i, role) in layout.roles.iter().enumerate() {
            if !matches!(role, Role::Value { .. }) {
                continue;
            }
            let text = cell(i);
            let negative = text.trim_start().starts_with('-');
            // A published correction is kept negative, flagged `r` and said on the version:
            // beside a total that is not negative (the layout says which), or already flagged
            // `r` (Nansen's own export of a correction kept before).
            let correction = negative
                && match layout.corrections.iter().find(|(c, _)| *c == i) {
                    Some(&(_, guard)) => parse_value(cell(guard)).is_ok_and(|(v, _)| v.is_some()),
                    None => row_flags.contains('r'),
                };
            let parsed = if correction {
                self.corrected.push(row);
                parse_value(text.trim_start().trim_start_matches('-'))
                    .map(|(v, f)| (v.map(|v| -v), f))
            } else {
                parse_value(text)
            };
            match parsed {
                Ok((value, cell_flags)) => {
                    let flag = match (row_flags.is_empty(), cell_flags.is_empty()) {
                        (true, true) => self.flag_code(""),
                        (false, true) => self.flag_code(row_flags),
                        (true, false) => self.flag_code(cell_flags),
                        (false, false) => self.flag_code(&format!("{row_flags}{cell_flags}")),
                    };
                    // Only a correction looks at its flags again; every other value passes.
                    let flag = if correction && !self.cube.flags.dict[flag as usize].contains('r') {
                        let marked = format!("{}r", self.cube.flags.dict[flag as usize]);
                        self.flag_code(&marked)
                    } else {
                        flag
                    };
                    if value.is_some() || !self.cube.flags.dict[flag as usize].is_empty() {
                        if n_values < values.len() {
                            values[n_values] = (i, value, flag);
                            n_values += 1;
                        } else {
                            overflow.push((i, value, flag));
                        }
                    }
                }
                Err(reason) => self.problem(row, i, cell(i), reason)?,
            }
        }
        if n_values == 0 {
            return Ok(());
        }
        for k in 0..self.key.len() {
            self.key[k] = self.default_code(k).unwrap_or(u32::MAX);
        }
        for i in 0..layout.roles.len() {
            let Some(k) = self.target[i] else { continue };
            let c = cell(i);
            match self.cell_code(i, c) {
                Ok(code) => self.key[k] = code,
                Err(reason) => self.problem(row, i, c, reason)?,
            }
        }
        if self.problems.len() > before {
            return Ok(());
        }
        let row32 = u32::try_from(row).unwrap_or(u32::MAX);
        let mut key = std::mem::take(&mut self.key);
        for &(i, value, flag) in values[..n_values].iter().chain(overflow.iter()) {
            if self.implied[i].is_empty() && key[self.indicator_dim] != u32::MAX {
                self.cube.push_codes(&key, value, flag);
                self.source_rows.push(row32);
                continue;
            }
            let base = key.clone();
            for j in 0..self.implied[i].len() {
                let (k, ref text, code) = self.implied[i][j];
                let code = match code {
                    Some(c) => c,
                    None => {
                        let c = self.cube.intern(k, &text.clone());
                        self.implied[i][j].2 = Some(c);
                        c
                    }
                };
                key[k] = code;
            }
            if key[self.indicator_dim] == u32::MAX {
                self.key = key;
                let reason = "no indicator: the file does not say what it counts".to_string();
                let problem = Problem::new(row, &layout.header[i], "", reason.clone())
                    .with_remedy(Remedy::NameIndicator);
                return Err(ImportError::refused(reason, vec![problem]));
            }
            self.cube.push_codes(&key, value, flag);
            self.source_rows.push(row32);
            key.copy_from_slice(&base);
        }
        self.key = key;
        // A statistics table goes into chunks as it is read; an incident list's repeats are
        // summed at the end, so it is held whole (such lists are small).
        if self.layout.duplicates == Duplicates::Error && self.cube.len() >= CHUNK_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    /// Moves the observations read since the last chunk into a chunk of their own, keeping a
    /// hash of each one's key to find repeats with.
    fn flush(&mut self) -> Result<(), ImportError> {
        let n = self.cube.len();
        self.hashes.reserve(n);
        for r in 0..n {
            self.hashes
                .push(key_hash(self.cube.columns.iter().map(|c| c.codes[r])));
        }
        let chunk = self.cube.take();
        let rows = std::mem::take(&mut self.source_rows);
        self.spill.push(chunk, rows)
    }

    fn finish(mut self, format: Format, rows: u64) -> Result<Spilled, ImportError> {
        if !self.problems.is_empty() {
            return Err(self.refusal());
        }
        match self.layout.duplicates {
            Duplicates::Error => {
                self.flush()?;
                self.refuse_repeats()?;
            }
            Duplicates::Sum => {
                let summed = self.summed();
                let mut start = 0;
                while start < summed.len() {
                    let end = (start + CHUNK_ROWS).min(summed.len());
                    self.spill.push(summed.slice(start, end), Vec::new())?;
                    start = end;
                }
            }
        }
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
        if !self.corrected.is_empty() {
            let shown: Vec<String> = self
                .corrected
                .iter()
                .take(10)
                .map(|r| r.to_string())
                .collect();
            warnings.push(format!(
                "{} published correction(s) kept: a negative count beside a total that is not negative (row {}{})",
                self.corrected.len(),
                shown.join(", "),
                if self.corrected.len() > 10 { ", ..." } else { "" }
            ));
        }
        if self.spill.is_empty() {
            let reason = "no observation: every value is empty or not available";
            return Err(ImportError::refused(
                reason,
                vec![Problem::new(0, "", "", reason)],
            ));
        }
        let set_aside = self.set_aside.take().unwrap_or_default();
        if !set_aside.is_empty() {
            // Why, grouped: "3 rows: number_of_survivors: a count cannot be negative".
            let mut why: Vec<(String, usize)> = Vec::new();
            for r in &set_aside {
                for reason in &r.reasons {
                    match why.iter_mut().find(|(w, _)| w == reason) {
                        Some((_, n)) => *n += 1,
                        None => why.push((reason.clone(), 1)),
                    }
                }
            }
            warnings.push(format!(
                "{} row(s) set aside ({}); download them with `nansen dataset set-aside`",
                set_aside.len(),
                why.iter()
                    .take(10)
                    .map(|(w, n)| format!("{n} × {w}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
        Ok(Spilled {
            observations: self.spill,
            format,
            rows,
            warnings,
            header: self.layout.header.clone(),
            set_aside,
        })
    }

    /// Bits per dimension to pack a key into one integer.
    fn widths(cube: &Cube) -> Vec<u32> {
        cube.columns
            .iter()
            .map(|c| (usize::BITS - c.dict.len().saturating_sub(1).leading_zeros()).max(1))
            .collect()
    }

    fn packed(cube: &Cube, widths: &[u32], r: usize) -> u128 {
        let mut k: u128 = 0;
        for (c, w) in cube.columns.iter().zip(widths) {
            k = (k << w) | c.codes[r] as u128;
        }
        k
    }

    /// Two rows with the same key are an error in a statistics table. The hashes of the keys
    /// find candidates; a second pass over the chunks compares the keys themselves, so a
    /// collision of hashes is never taken for a repeat.
    fn refuse_repeats(&mut self) -> Result<(), ImportError> {
        let mut hashes = std::mem::take(&mut self.hashes);
        hashes.sort_unstable();
        let candidates: FxHashSet<u64> = hashes
            .windows(2)
            .filter(|w| w[0] == w[1])
            .map(|w| w[0])
            .collect();
        drop(hashes);
        if candidates.is_empty() {
            return Ok(());
        }
        let globals = &self.cube.columns;
        let mut rows_of: FxHashMap<Vec<u32>, Vec<u32>> = FxHashMap::default();
        for chunk in self.spill.chunks_with_rows()? {
            let (cube, rows) = chunk?;
            // The chunk's codes as the whole file's dictionaries number them.
            let global: Vec<Vec<u32>> = cube
                .columns
                .iter()
                .zip(globals)
                .map(|(c, g)| {
                    c.dict
                        .iter()
                        .map(|d| g.lookup(d).unwrap_or(u32::MAX))
                        .collect()
                })
                .collect();
            for r in 0..cube.len() {
                let key: Vec<u32> = cube
                    .columns
                    .iter()
                    .zip(&global)
                    .map(|(c, g)| g[c.codes[r] as usize])
                    .collect();
                if candidates.contains(&key_hash(key.iter().copied())) {
                    rows_of.entry(key).or_default().push(rows[r]);
                }
            }
        }
        let mut repeats: Vec<(Vec<u32>, Vec<u32>)> = rows_of
            .into_iter()
            .filter(|(_, rows)| rows.len() > 1)
            .collect();
        if repeats.is_empty() {
            return Ok(());
        }
        repeats.sort_unstable_by_key(|(_, rows)| rows[0]);
        let total = repeats.iter().map(|(_, rows)| rows.len() - 1).sum();
        Err(self.duplicates_error(&repeats, total))
    }

    /// An incident list's observations, those with the same key summed into one.
    fn summed(&mut self) -> Cube {
        let cube = std::mem::take(&mut self.cube);
        let n = cube.len();
        let widths = Self::widths(&cube);
        let bits: u32 = widths.iter().sum();
        let mut order: Vec<(u128, u32)> = Vec::with_capacity(n);
        if bits <= 128 {
            order.extend((0..n).map(|r| (Self::packed(&cube, &widths, r), r as u32)));
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
        if order.windows(2).all(|w| w[0].0 != w[1].0) {
            return cube;
        }
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
        out
    }

    /// Each repeated key (as the whole file's codes) with the rows holding it, in file order.
    fn duplicates_error(&self, repeats: &[(Vec<u32>, Vec<u32>)], total: usize) -> ImportError {
        let problems: Vec<Problem> = repeats
            .iter()
            .take(MAX_PROBLEMS)
            .map(|(codes, rows)| {
                let (ra, rb) = (rows[0].min(rows[1]), rows[0].max(rows[1]));
                let key: Vec<String> = self
                    .cube
                    .dims
                    .iter()
                    .zip(codes.iter().zip(&self.cube.columns))
                    .map(|(d, (&c, col))| format!("{d}={}", col.dict[c as usize]))
                    .collect();
                Problem::new(rb as u64, "", "", format!("the same observation as row {ra} ({}); a statistics table holds each observation once (an incident list sums them: say so in a mapping with duplicates = \"sum\")", key.join(", ")))
            })
            .collect();
        let first = problems[0].to_string();
        ImportError::refused(
            format!("the file holds {total} duplicate observation(s); first: {first}"),
            problems,
        )
    }
}

/// A key's hash from its codes (splitmix64's finaliser after each code).
fn key_hash(codes: impl Iterator<Item = u32>) -> u64 {
    codes.fold(0x243F_6A88_85A3_08D3, |h, c| {
        let mut x = (h ^ c as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^ (x >> 31)
    })
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
        assert_eq!(parse_value("18,420").unwrap(), (Some(18420.0), ""));
        assert_eq!(parse_value("1 022").unwrap(), (Some(1022.0), ""));
        assert_eq!(parse_value("120").unwrap(), (Some(120.0), ""));
        assert_eq!(parse_value(":").unwrap(), (None, ""));
        assert_eq!(parse_value("12 p").unwrap(), (Some(12.0), "p"));
        assert_eq!(parse_value(": c").unwrap(), (None, "c"));
        assert_eq!(parse_value("2.5").unwrap(), (Some(2.5), ""));
        assert!(parse_value("-3").unwrap_err().contains("negative"));
        assert!(parse_value("many").is_err());
        assert!(parse_value("1,02").is_err());
    }
}

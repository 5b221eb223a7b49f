//! A return: what one reporter reported for one period, read from a CSV with the template's
//! dimension columns and one column per indicator. Every problem is named by its row, its
//! column and the reason, and a return with any problem is refused whole.

use crate::{Codes, Template};
use std::collections::HashMap;

/// One reported cell.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    /// The row's code for each dimension, in the template's order.
    pub key: Vec<String>,
    pub indicator: String,
    pub value: u64,
}

/// What is wrong with a return, and where: `row` counts from 1 with the header; `sheet`
/// names a workbook's sheet.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Problem {
    pub sheet: Option<String>,
    pub row: usize,
    pub column: String,
    pub reason: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(sheet) = &self.sheet {
            write!(f, "sheet {sheet}, ")?;
        }
        write!(
            f,
            "row {}, column {}: {}",
            self.row, self.column, self.reason
        )
    }
}

/// Rows as read from a file, each with its own row number; the first is the header.
pub type Rows = Vec<(usize, Vec<String>)>;

/// Reads a CSV return. `known(list, code)` answers whether a code belongs to a named code
/// list (as `countries`), which the caller knows; listed codes are checked here. Empty cells
/// are not reported; a count is a whole number from 0.
pub fn read_csv(
    template: &Template,
    text: &str,
    known: &dyn Fn(&str, &str) -> Option<String>,
) -> Result<Vec<Cell>, Vec<Problem>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut records = Vec::new();
    for (n, r) in reader.records().enumerate() {
        match r {
            // The file's own line, so a blank line between rows does not shift the count.
            Ok(r) => records.push((
                r.position().map_or(n + 1, |p| p.line() as usize),
                r.iter().map(str::to_string).collect(),
            )),
            Err(e) => {
                return Err(vec![Problem {
                    row: n + 1,
                    column: "-".into(),
                    reason: format!("the CSV cannot be read here: {e}"),
                    ..Problem::default()
                }])
            }
        }
    }
    read_rows(template, None, &records, known)
}

/// SDMX attributes an SDMX-CSV file may carry beside the observation; they are not kept.
const SDMX_ATTRIBUTES: &[&str] = &[
    "OBS_STATUS",
    "OBS_CONF",
    "OBS_COMMENT",
    "COMMENT",
    "UNIT_MEASURE",
    "UNIT_MULT",
    "DECIMALS",
];

/// What an SDMX-CSV return must agree with: the dataflow it answers and the period and
/// country it reports.
pub struct SdmxExpect<'a> {
    pub dataflow: &'a str,
    pub period: &'a str,
    pub country: &'a str,
}

/// Whether a text looks like SDMX-CSV (one observation per row, `OBS_VALUE`).
pub fn is_sdmx_csv(text: &str) -> bool {
    text.lines().next().is_some_and(|h| {
        h.split(',')
            .any(|c| c.trim().eq_ignore_ascii_case("OBS_VALUE"))
    })
}

/// Reads an SDMX-CSV return: a column per dimension (upper case, as the template's SDMX
/// structure names them), `INDICATOR`, `OBS_VALUE`, and optionally `DATAFLOW`,
/// `TIME_PERIOD`, `REF_AREA` and attributes. Its observations are gathered by key into the
/// template's rows and read as any return; a problem names the file's row.
pub fn read_sdmx_csv(
    template: &Template,
    text: &str,
    expect: &SdmxExpect<'_>,
    known: &dyn Fn(&str, &str) -> Option<String>,
) -> Result<Vec<Cell>, Vec<Problem>> {
    let problem = |row: usize, column: &str, reason: String| Problem {
        row,
        column: column.to_string(),
        reason,
        ..Problem::default()
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut records = Vec::new();
    for (n, r) in reader.records().enumerate() {
        let r = r.map_err(|e| {
            vec![problem(
                n + 1,
                "-",
                format!("the CSV cannot be read here: {e}"),
            )]
        })?;
        records.push((r.position().map_or(n + 1, |p| p.line() as usize), r));
    }
    let Some((_, header)) = records.first() else {
        return Err(vec![problem(1, "-", "the file is empty".into())]);
    };
    let header: Vec<String> = header.iter().map(|h| h.to_ascii_uppercase()).collect();
    let dims: Vec<String> = template
        .dimensions
        .iter()
        .map(|d| d.name.to_ascii_uppercase())
        .collect();
    let mut problems = Vec::new();
    let mut at = std::collections::HashMap::new();
    for (i, h) in header.iter().enumerate() {
        let known_column = dims.contains(h)
            || [
                "INDICATOR",
                "OBS_VALUE",
                "DATAFLOW",
                "TIME_PERIOD",
                "REF_AREA",
            ]
            .contains(&h.as_str())
            || SDMX_ATTRIBUTES.contains(&h.as_str());
        if !known_column {
            problems.push(problem(
                1,
                h,
                format!(
                    "the template's structure has no such column (it has {}, INDICATOR, OBS_VALUE)",
                    dims.join(", ")
                ),
            ));
        }
        at.insert(h.clone(), i);
    }
    for needed in dims
        .iter()
        .map(String::as_str)
        .chain(["INDICATOR", "OBS_VALUE"])
    {
        if !at.contains_key(needed) {
            problems.push(problem(
                1,
                needed,
                "the template asks for this column and the file has none".into(),
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut wide: Rows = vec![(
        1,
        template
            .dimensions
            .iter()
            .map(|d| d.name.clone())
            .chain(template.indicators.iter().cloned())
            .collect(),
    )];
    let mut by_key: HashMap<Vec<String>, usize> = HashMap::new();
    let mut seen: HashMap<(Vec<String>, String), usize> = HashMap::new();
    for (row, r) in records.iter().skip(1) {
        let row = *row;
        let get = |c: &str| at.get(c).and_then(|i| r.get(*i)).unwrap_or("");
        if r.iter().all(str::is_empty) {
            continue;
        }
        for (column, expected, what) in [
            ("TIME_PERIOD", expect.period, "period"),
            ("REF_AREA", expect.country, "country"),
        ] {
            let v = get(column);
            if at.contains_key(column) && !v.is_empty() && v != expected {
                problems.push(problem(
                    row,
                    column,
                    format!("{v:?} is not the {what} reported ({expected})"),
                ));
            }
        }
        let flow = get("DATAFLOW");
        if at.contains_key("DATAFLOW") && !flow.is_empty() && !flow.starts_with(expect.dataflow) {
            problems.push(problem(
                row,
                "DATAFLOW",
                format!(
                    "{flow:?} is not this template's dataflow ({})",
                    expect.dataflow
                ),
            ));
        }
        let indicator = get("INDICATOR");
        let Some(k) = template.indicators.iter().position(|i| i == indicator) else {
            problems.push(problem(
                row,
                "INDICATOR",
                format!(
                    "{indicator:?} is not one of the template's indicators ({})",
                    template.indicators.join(", ")
                ),
            ));
            continue;
        };
        let key: Vec<String> = dims.iter().map(|d| get(d).to_string()).collect();
        if let Some(first) = seen.insert((key.clone(), indicator.to_string()), row) {
            problems.push(problem(
                row,
                "-",
                format!(
                    "row {first} reports the same {}.{indicator} already",
                    key.join(".")
                ),
            ));
            continue;
        }
        let value = get("OBS_VALUE");
        if !value.is_empty() && value.parse::<u64>().is_err() {
            problems.push(problem(
                row,
                "OBS_VALUE",
                format!("{value:?} is not a count (a whole number from 0)"),
            ));
            continue;
        }
        let at_row = *by_key.entry(key.clone()).or_insert_with(|| {
            let mut cells = key.clone();
            cells.resize(dims.len() + template.indicators.len(), String::new());
            wide.push((row, cells));
            wide.len() - 1
        });
        wide[at_row].1[dims.len() + k] = value.to_string();
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    read_rows(template, None, &wide, known)
}

/// Reads a return's rows (the header first), from whatever file they came: the dimension
/// columns and one column per indicator, in any order. Problems name `sheet` when given.
pub fn read_rows(
    template: &Template,
    sheet: Option<&str>,
    records: &Rows,
    known: &dyn Fn(&str, &str) -> Option<String>,
) -> Result<Vec<Cell>, Vec<Problem>> {
    let problems = read_rows_unnamed(template, records, known);
    problems.map_err(|mut ps| {
        for p in &mut ps {
            p.sheet = sheet.map(str::to_string);
        }
        ps
    })
}

fn read_rows_unnamed(
    template: &Template,
    records: &Rows,
    known: &dyn Fn(&str, &str) -> Option<String>,
) -> Result<Vec<Cell>, Vec<Problem>> {
    let mut problems = Vec::new();
    let Some((_, header)) = records.first() else {
        return Err(vec![Problem {
            row: 1,
            column: "-".into(),
            reason: "the file is empty".into(),
            ..Problem::default()
        }]);
    };
    let header: Vec<String> = header.clone();
    let expected: Vec<&str> = template
        .dimensions
        .iter()
        .map(|d| d.name.as_str())
        .chain(template.indicators.iter().map(String::as_str))
        .collect();
    for name in &expected {
        if !header.iter().any(|h| h == name) {
            problems.push(Problem {
                row: 1,
                column: name.to_string(),
                reason: "the template asks for this column and the file has none".into(),
                ..Problem::default()
            });
        }
    }
    for h in &header {
        if !expected.contains(&h.as_str()) {
            problems.push(Problem {
                row: 1,
                column: h.clone(),
                reason: format!(
                    "the template has no such column (it has {})",
                    expected.join(", ")
                ),
                ..Problem::default()
            });
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let at: HashMap<&str, usize> = header
        .iter()
        .enumerate()
        .map(|(i, h)| (h.as_str(), i))
        .collect();
    let mut cells = Vec::new();
    let mut seen: HashMap<Vec<String>, usize> = HashMap::new();
    for (row, record) in records.iter().skip(1) {
        let row = *row;
        let values: Vec<&str> = record.iter().map(String::as_str).collect();
        if values.iter().all(|v| v.is_empty()) {
            continue;
        }
        if values.len() != header.len() {
            problems.push(Problem {
                row,
                column: "-".into(),
                reason: format!(
                    "{} cells where the header has {}",
                    values.len(),
                    header.len()
                ),
                ..Problem::default()
            });
            continue;
        }
        let mut key = Vec::new();
        for d in &template.dimensions {
            let v = values[at[d.name.as_str()]];
            let code = match &d.codes {
                Codes::Listed(codes) => codes.iter().find(|c| c.as_str() == v).cloned(),
                Codes::Named(list) => known(list, v),
            };
            match code {
                Some(c) => key.push(c),
                None => problems.push(Problem {
                    row,
                    column: d.name.clone(),
                    reason: match &d.codes {
                        Codes::Listed(codes) if codes.len() > 12 => format!(
                            "{v:?} is not one of the {} codes of {} (the template lists them)",
                            codes.len(),
                            d.name
                        ),
                        Codes::Listed(codes) => format!("{v:?} is not one of {}", codes.join(", ")),
                        Codes::Named(list) => format!("{v:?} is not in the code list {list}"),
                    },
                    ..Problem::default()
                }),
            }
        }
        if key.len() == template.dimensions.len() {
            if let Some(first) = seen.insert(key.clone(), row) {
                problems.push(Problem {
                    row,
                    column: "-".into(),
                    reason: format!("row {first} reports the same {} already", key.join(", ")),
                    ..Problem::default()
                });
                continue;
            }
        }
        let mut reported: HashMap<&str, f64> = HashMap::new();
        for ind in &template.indicators {
            let v = values[at[ind.as_str()]];
            if v.is_empty() {
                continue;
            }
            match v.parse::<u64>() {
                Ok(count) => {
                    reported.insert(ind.as_str(), count as f64);
                    cells.push(Cell {
                        key: key.clone(),
                        indicator: ind.clone(),
                        value: count,
                    });
                }
                Err(_) => problems.push(Problem {
                    row,
                    column: ind.clone(),
                    reason: format!("{v:?} is not a count (a whole number from 0)"),
                    ..Problem::default()
                }),
            }
        }
        for r in &template.rules {
            if r.holds(&reported) == Some(false) {
                problems.push(Problem {
                    row,
                    column: r.check.clone(),
                    reason: r.message.clone(),
                    ..Problem::default()
                });
            }
        }
    }
    check_totals(template, &cells, &seen, &mut problems);
    if problems.is_empty() {
        Ok(cells)
    } else {
        problems.sort_by_key(|p| p.row);
        Err(problems)
    }
}

/// The totals checks (`sum(sex) == sex:T`): for each indicator and each combination of the
/// other dimensions, the parts reported add up to the total reported. A total without any
/// part reported, or parts without a total, are not checked.
fn check_totals(
    template: &Template,
    cells: &[Cell],
    rows: &HashMap<Vec<String>, usize>,
    problems: &mut Vec<Problem>,
) {
    for rule in &template.rules {
        let Some((dimension, total)) = rule.total() else {
            continue;
        };
        let Some(d) = template.dimensions.iter().position(|x| x.name == dimension) else {
            continue;
        };
        // (the other codes, indicator) -> (the total and its row, the parts' sum, how many)
        type Group = (Option<(u64, usize)>, u64, usize);
        let mut groups: std::collections::BTreeMap<(Vec<String>, &str), Group> = Default::default();
        for c in cells {
            let mut others = c.key.clone();
            let code = others.remove(d);
            let g = groups.entry((others, c.indicator.as_str())).or_default();
            if code == total {
                g.0 = Some((c.value, rows.get(&c.key).copied().unwrap_or(0)));
            } else {
                g.1 += c.value;
                g.2 += 1;
            }
        }
        for ((_, indicator), (t, sum, parts)) in groups {
            if let Some((value, row)) = t {
                if parts > 0 && sum != value {
                    problems.push(Problem {
                        row,
                        column: indicator.to_string(),
                        reason: format!(
                            "{} (its parts by {dimension} add up to {sum}, the total says {value})",
                            rule.message
                        ),
                        ..Problem::default()
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> Template {
        Template::from_toml(
            r#"
title = "EPS"
frequency = "month"
deadline_days = 17
reporters = ["deu"]
[dimensions]
origin = "countries"
sex = ["F", "M", "UNK"]
[[indicators]]
name = "asylum_applications"
[[indicators]]
name = "asylum_applications_first_time"
[[rules]]
check = "asylum_applications_first_time <= asylum_applications"
message = "first-time applicants cannot outnumber all applicants"
"#,
        )
        .unwrap()
    }

    fn countries(list: &str, code: &str) -> Option<String> {
        (list == "countries" && ["SYR", "AFG"].contains(&code)).then(|| code.to_string())
    }

    #[test]
    fn a_good_return_gives_its_cells_with_their_keys() {
        let cells = read_csv(
            &template(),
            "origin,sex,asylum_applications,asylum_applications_first_time\nSYR,F,100,90\n\nAFG,M,40,\n",
            &countries,
        )
        .unwrap();
        assert_eq!(
            cells.len(),
            3,
            "an empty cell is not reported, a blank line skipped"
        );
        assert_eq!(
            cells[0],
            Cell {
                key: vec!["SYR".into(), "F".into()],
                indicator: "asylum_applications".into(),
                value: 100
            }
        );
    }

    #[test]
    fn an_sdmx_csv_return_is_gathered_by_key_and_checked_as_any_other() {
        let expect = SdmxExpect {
            dataflow: "EUAA:EPS",
            period: "2026-01",
            country: "DEU",
        };
        let cells = read_sdmx_csv(
            &template(),
            "DATAFLOW,REF_AREA,TIME_PERIOD,ORIGIN,SEX,INDICATOR,OBS_VALUE,OBS_STATUS\n\
             EUAA:EPS(1.0),DEU,2026-01,SYR,F,asylum_applications,100,\n\
             EUAA:EPS(1.0),DEU,2026-01,SYR,F,asylum_applications_first_time,90,P\n\
             EUAA:EPS(1.0),DEU,2026-01,AFG,M,asylum_applications,4,\n",
            &expect,
            &countries,
        )
        .unwrap();
        assert_eq!(cells.len(), 3);
        let said: Vec<String> = read_sdmx_csv(
            &template(),
            "REF_AREA,TIME_PERIOD,ORIGIN,SEX,INDICATOR,OBS_VALUE\n\
             FRA,2026-02,SYR,F,asylum_applications,100\n\
             DEU,2026-01,AFG,F,asylum_applications,1.5\n\
             DEU,2026-01,SYR,M,asylum_applications,5\n\
             DEU,2026-01,SYR,M,asylum_applications,6\n\
             DEU,2026-01,SYR,M,refugees,6\n",
            &expect,
            &countries,
        )
        .unwrap_err()
        .iter()
        .map(|p| p.to_string())
        .collect();
        assert_eq!(
            said,
            [
                "row 2, column TIME_PERIOD: \"2026-02\" is not the period reported (2026-01)",
                "row 2, column REF_AREA: \"FRA\" is not the country reported (DEU)",
                "row 3, column OBS_VALUE: \"1.5\" is not a count (a whole number from 0)",
                "row 5, column -: row 4 reports the same SYR.M.asylum_applications already",
                "row 6, column INDICATOR: \"refugees\" is not one of the template's indicators (asylum_applications, asylum_applications_first_time)",
            ]
        );
        let broken = read_sdmx_csv(
            &template(),
            "ORIGIN,SEX,INDICATOR,OBS_VALUE\nSYR,F,asylum_applications,10\nSYR,F,asylum_applications_first_time,20\n",
            &expect,
            &countries,
        )
        .unwrap_err();
        assert_eq!(broken[0].to_string(), "row 2, column asylum_applications_first_time <= asylum_applications: first-time applicants cannot outnumber all applicants");
    }

    #[test]
    fn a_total_that_does_not_add_up_is_refused_on_its_row() {
        let t = Template::from_toml(
            r#"
title = "EPS"
frequency = "month"
deadline_days = 17
reporters = ["deu"]
[dimensions]
origin = "countries"
sex = ["F", "M", "T"]
[[indicators]]
name = "asylum_applications"
[[rules]]
check = "sum(sex) == sex:T"
message = "women and men add up to the total"
"#,
        )
        .unwrap();
        let text = "origin,sex,asylum_applications\nSYR,F,6\nSYR,M,4\nSYR,T,10\nAFG,F,1\nAFG,T,3\n";
        let said: Vec<String> = read_csv(&t, text, &countries)
            .unwrap_err()
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(said, ["row 6, column asylum_applications: women and men add up to the total (its parts by sex add up to 1, the total says 3)"]);
        assert!(read_csv(&t, &text.replace("AFG,T,3", "AFG,T,1"), &countries).is_ok());
    }

    #[test]
    fn every_problem_is_named_by_row_column_and_reason() {
        let problems = read_csv(
            &template(),
            "origin,sex,asylum_applications,asylum_applications_first_time\n\
             SYR,F,100,120\n\
             XXY,F,1,1\n\
             AFG,Q,1,1\n\
             AFG,M,-3,1.5\n\
             SYR,F,1,1\n",
            &countries,
        )
        .unwrap_err();
        let said: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            said,
            [
                "row 2, column asylum_applications_first_time <= asylum_applications: first-time applicants cannot outnumber all applicants",
                "row 3, column origin: \"XXY\" is not in the code list countries",
                "row 4, column sex: \"Q\" is not one of F, M, UNK",
                "row 5, column asylum_applications: \"-3\" is not a count (a whole number from 0)",
                "row 5, column asylum_applications_first_time: \"1.5\" is not a count (a whole number from 0)",
                "row 6, column -: row 2 reports the same SYR, F already",
            ]
        );
        let header = read_csv(&template(), "origin,sex,applications\n", &countries).unwrap_err();
        let said: Vec<String> = header.iter().map(|p| p.to_string()).collect();
        assert_eq!(said[0], "row 1, column asylum_applications: the template asks for this column and the file has none");
        assert!(said
            .iter()
            .any(|s| s.starts_with("row 1, column applications: the template has no such column")));
    }
}

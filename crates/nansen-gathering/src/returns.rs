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

/// What is wrong with a return, and where: `row` counts from 1 with the header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub row: usize,
    pub column: String,
    pub reason: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "row {}, column {}: {}",
            self.row, self.column, self.reason
        )
    }
}

/// Reads a CSV return. `known(list, code)` answers whether a code belongs to a named code
/// list (as `countries`), which the caller knows; listed codes are checked here. Empty cells
/// are not reported; a count is a whole number from 0.
pub fn read_csv(
    template: &Template,
    text: &str,
    known: &dyn Fn(&str, &str) -> Option<String>,
) -> Result<Vec<Cell>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut records = Vec::new();
    for (n, r) in reader.records().enumerate() {
        match r {
            // The file's own line, so a blank line between rows does not shift the count.
            Ok(r) => records.push((r.position().map_or(n + 1, |p| p.line() as usize), r)),
            Err(e) => {
                return Err(vec![Problem {
                    row: n + 1,
                    column: "-".into(),
                    reason: format!("the CSV cannot be read here: {e}"),
                }])
            }
        }
    }
    let Some((_, header)) = records.first() else {
        return Err(vec![Problem {
            row: 1,
            column: "-".into(),
            reason: "the file is empty".into(),
        }]);
    };
    let header: Vec<String> = header.iter().map(str::to_string).collect();
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
        let values: Vec<&str> = record.iter().collect();
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
                        Codes::Listed(codes) => format!("{v:?} is not one of {}", codes.join(", ")),
                        Codes::Named(list) => format!("{v:?} is not in the code list {list}"),
                    },
                }),
            }
        }
        if key.len() == template.dimensions.len() {
            if let Some(first) = seen.insert(key.clone(), row) {
                problems.push(Problem {
                    row,
                    column: "-".into(),
                    reason: format!("row {first} reports the same {} already", key.join(", ")),
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
                }),
            }
        }
        for r in &template.rules {
            if r.holds(&reported) == Some(false) {
                problems.push(Problem {
                    row,
                    column: r.check.clone(),
                    reason: r.message.clone(),
                });
            }
        }
    }
    if problems.is_empty() {
        Ok(cells)
    } else {
        Err(problems)
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

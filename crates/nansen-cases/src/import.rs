//! Bulk registration: a table with one row per person (CSV, XLSX), grouped into households by
//! a column, becomes cases. Every problem is named by its row, its column and the reason; the
//! caller decides whether any problem refuses the whole file or sets its household aside.

use crate::case::{CaseFile, Consent, Member};
use crate::{ConsentPurpose, Relationship, Sex};
use std::collections::BTreeMap;

/// The columns a registration table has, by their names in this crate; a mapping file may
/// give each another header.
pub const COLUMNS: &[(&str, &str)] = &[
    (
        "household",
        "rows with the same value are one case (required)",
    ),
    ("given_name", "required"),
    ("family_name", "required"),
    ("birth_date", "YYYY-MM-DD (required)"),
    ("birth_date_estimated", "yes or no"),
    ("sex", "F, M, X or UNK (required)"),
    ("nationality", "a country code or name (required)"),
    ("languages", "ISO 639 codes separated by ;"),
    ("relationship", "to the principal applicant (required)"),
    (
        "needs",
        "specific-needs codes separated by ; (on any row of the household)",
    ),
    (
        "consents",
        "purpose:partner separated by ; as referral:iom;reporting",
    ),
    ("medical", "the medical section's notes"),
];

/// Where a problem is: a row of the file (counted from 1, the header being row 1) and a column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowProblem {
    pub row: usize,
    pub column: String,
    pub reason: String,
}

impl std::fmt::Display for RowProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "row {}, column {}: {}",
            self.row, self.column, self.reason
        )
    }
}

/// A household read from the table: its case, the rows it came from, and what is wrong with it.
#[derive(Clone, Debug)]
pub struct Household {
    pub key: String,
    pub rows: Vec<usize>,
    pub case: CaseFile,
    pub problems: Vec<RowProblem>,
}

/// Reads a table's header and rows into households. `headers` maps this crate's column names
/// to the file's (from a mapping file); a column left out of the mapping is looked up by its
/// own name. A required column missing from the header is a problem of row 1.
pub fn households(
    header: &[String],
    rows: impl Iterator<Item = (usize, Vec<String>)>,
    headers: &BTreeMap<String, String>,
) -> Result<Vec<Household>, Vec<RowProblem>> {
    let position = |name: &str| {
        let wanted = headers.get(name).map(String::as_str).unwrap_or(name);
        header
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(wanted.trim()))
    };
    let mut at = BTreeMap::new();
    let mut missing = Vec::new();
    for (name, what) in COLUMNS {
        match position(name) {
            Some(i) => {
                at.insert(*name, i);
            }
            None if what.contains("required") => missing.push(RowProblem {
                row: 1,
                column: headers
                    .get(*name)
                    .cloned()
                    .unwrap_or_else(|| name.to_string()),
                reason: format!("the header has no such column ({name}: {what})"),
            }),
            None => {}
        }
    }
    if !missing.is_empty() {
        return Err(missing);
    }
    let mut order: Vec<String> = Vec::new();
    let mut found: BTreeMap<String, Household> = BTreeMap::new();
    for (row, cells) in rows {
        let cell = |name: &str| -> String {
            at.get(name)
                .and_then(|&c| cells.get(c))
                .map(|s| s.trim().to_string())
                .unwrap_or_default()
        };
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let key = cell("household");
        let mut problems = Vec::new();
        let mut problem = |column: &str, reason: String| {
            problems.push(RowProblem {
                row,
                column: column.to_string(),
                reason,
            })
        };
        if key.is_empty() {
            problem(
                "household",
                "empty: which household is this person in?".into(),
            );
        }
        let sex = cell("sex").parse::<Sex>().unwrap_or_else(|e| {
            problem("sex", e);
            Sex::Unknown
        });
        let relationship = cell("relationship")
            .parse::<Relationship>()
            .unwrap_or_else(|e| {
                problem("relationship", e);
                Relationship::OtherRelative
            });
        let estimated = match cell("birth_date_estimated").to_ascii_lowercase().as_str() {
            "" | "no" | "false" | "0" => false,
            "yes" | "true" | "1" => true,
            other => {
                problem(
                    "birth_date_estimated",
                    format!("{other:?} is not yes or no"),
                );
                false
            }
        };
        let list = |name: &str| -> Vec<String> {
            cell(name)
                .split(';')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let mut consents = Vec::new();
        for item in list("consents") {
            let (purpose, partner) = match item.split_once(':') {
                Some((p, o)) => (p.trim(), Some(o.trim().to_string())),
                None => (item.as_str(), None),
            };
            match purpose.parse::<ConsentPurpose>() {
                Ok(purpose) => consents.push(Consent { purpose, partner }),
                Err(e) => problem("consents", e),
            }
        }
        let member = Member {
            given_name: cell("given_name"),
            family_name: cell("family_name"),
            birth_date: cell("birth_date"),
            birth_date_estimated: estimated,
            sex,
            nationality: cell("nationality"),
            languages: list("languages"),
            relationship,
            documents: Vec::new(),
        };
        let medical = cell("medical");
        let h = found.entry(key.clone()).or_insert_with(|| {
            order.push(key.clone());
            Household {
                key: key.clone(),
                rows: Vec::new(),
                case: CaseFile::default(),
                problems: Vec::new(),
            }
        });
        h.rows.push(row);
        h.case.members.push(member);
        for n in list("needs") {
            if !h.case.needs.contains(&n) {
                h.case.needs.push(n);
            }
        }
        for c in consents {
            if !h.case.consents.contains(&c) {
                h.case.consents.push(c);
            }
        }
        if !medical.is_empty() {
            let notes = h.case.medical.get_or_insert_with(String::new);
            if !notes.is_empty() {
                notes.push('\n');
            }
            notes.push_str(&medical);
        }
        h.problems.extend(problems);
    }
    Ok(order.into_iter().filter_map(|k| found.remove(&k)).collect())
}

/// A mapping file: `[columns]` naming, for each of this crate's columns, the file's header.
///
/// ```toml
/// [columns]
/// household = "Family ID"
/// given_name = "First name"
/// ```
pub fn mapping(text: &str) -> Result<BTreeMap<String, String>, String> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        columns: BTreeMap<String, String>,
    }
    let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
    for name in file.columns.keys() {
        if !COLUMNS.iter().any(|(c, _)| c == name) {
            let known: Vec<&str> = COLUMNS.iter().map(|(c, _)| *c).collect();
            return Err(format!(
                "[columns] names {name:?}, which is not a column of a registration table: {}",
                known.join(", ")
            ));
        }
    }
    Ok(file.columns)
}

/// The row and column a problem of a household's case comes from: `members[2].birth_date` is
/// the household's third row's `birth_date`; a problem of the whole case is its first row's.
pub fn locate(h: &Household, field: &str, reason: &str) -> RowProblem {
    let (row, column) = match field
        .strip_prefix("members[")
        .and_then(|rest| rest.split_once("]."))
    {
        Some((i, column)) => {
            let i: usize = i.parse().unwrap_or(0);
            (
                h.rows.get(i).copied().unwrap_or(h.rows[0]),
                column.to_string(),
            )
        }
        None => {
            let column = field.split('[').next().unwrap_or(field).to_string();
            (h.rows[0], column)
        }
    };
    RowProblem {
        row,
        column,
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> (Vec<String>, Vec<(usize, Vec<String>)>) {
        let mut lines = text
            .lines()
            .map(|l| l.split(',').map(str::to_string).collect::<Vec<_>>());
        (
            lines.next().unwrap(),
            lines.enumerate().map(|(i, r)| (i + 2, r)).collect(),
        )
    }

    #[test]
    fn rows_become_households_and_each_fault_names_its_row_and_column() {
        let (header, rows) = table(
            "Household,given_name,family_name,birth_date,sex,nationality,relationship,needs,consents\n\
             h1,Amina,Haddad,1990-04-02,F,SYR,principal,SM-CI,referral:iom\n\
             h1,Omar,Haddad,2015-01-20,M,SYR,child,,\n\
             h2,Yonas,Tesfay,1995-02-03,Q,ERI,principal,,maybe\n",
        );
        let hs = households(&header, rows.into_iter(), &BTreeMap::new()).unwrap();
        assert_eq!(hs.len(), 2);
        assert_eq!((hs[0].key.as_str(), hs[0].rows.clone()), ("h1", vec![2, 3]));
        assert_eq!(hs[0].case.members.len(), 2);
        assert_eq!(hs[0].case.needs, vec!["SM-CI"]);
        assert!(hs[0].problems.is_empty());
        let said: Vec<String> = hs[1].problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            said,
            vec![
                "row 4, column sex: a member's sex is F, M, X or UNK, not \"Q\"",
                "row 4, column consents: a consent's purpose is referral, submission or reporting, not \"maybe\"",
            ]
        );
        let p = locate(&hs[0], "members[1].birth_date", "in the future");
        assert_eq!((p.row, p.column.as_str()), (3, "birth_date"));
        let (header, rows) = table("household,given,family_name\nh1,A,B\n");
        let mapped = BTreeMap::from([("given_name".to_string(), "given".to_string())]);
        let missing = households(&header, rows.into_iter(), &mapped).unwrap_err();
        let columns: Vec<&str> = missing.iter().map(|p| p.column.as_str()).collect();
        assert_eq!(
            columns,
            vec!["birth_date", "sex", "nationality", "relationship"]
        );
    }
}

#[cfg(test)]
mod mapping_tests {
    #[test]
    fn a_mapping_names_only_columns_a_registration_table_has() {
        let m = super::mapping("[columns]\nhousehold = \"Family ID\"\n").unwrap();
        assert_eq!(m["household"], "Family ID");
        let e = super::mapping("[columns]\nsurname = \"Name\"\n").unwrap_err();
        assert!(e.starts_with("[columns] names \"surname\""), "{e}");
    }
}

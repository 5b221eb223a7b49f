//! The period's workbook: what a reporter downloads, fills in Excel or LibreOffice, and
//! uploads. Three sheets:
//!
//! - `Return`, the grid: the dimension columns, prefilled with every combination of codes when
//!   there are at most [`MAX_PREFILLED_ROWS`], then blank rows; each dimension a drop-down of
//!   its codes, each indicator a whole number from 0, with the template's rules as Excel data
//!   validation on the indicators they name. Only its header is locked.
//! - `About`, locked: what the workbook is for (template, version, period, reporter, due
//!   date), then how to fill it, the dimensions, indicators and rules explained.
//! - `Codes`, locked: each dimension's codes with their labels, the drop-downs' source.
//!
//! Reading one back checks that it is this template's, at its current version, for this
//! period and reporter, and that the locked sheets are as Nansen wrote them, before its rows
//! are read as any return is; every problem names its sheet, row and column.

use crate::returns::{read_rows, Cell, Problem, Rows};
use crate::{Codes, Template};
use rust_xlsxwriter::{
    DataValidation, DataValidationErrorStyle, DataValidationRule, Format, Formula,
    ProtectionOptions, Workbook, Worksheet, XlsxError,
};

pub const RETURN: &str = "Return";
pub const ABOUT: &str = "About";
pub const CODES: &str = "Codes";
/// Most rows prefilled with the dimensions' combinations; beyond, the grid starts blank.
pub const MAX_PREFILLED_ROWS: usize = 20_000;
/// Blank rows after the prefilled ones, with the same drop-downs and validation.
pub const BLANK_ROWS: usize = 500;

/// What one workbook is for.
#[derive(Clone, Debug)]
pub struct Heading {
    /// `ORG/SLUG`
    pub template: String,
    pub version: i64,
    pub reporter: String,
    pub country: String,
    pub period: String,
    /// The deadline, `YYYY-MM-DD`.
    pub due: String,
}

impl Heading {
    fn rows(&self, title: &str) -> [(&'static str, String); 7] {
        [
            ("Template", self.template.clone()),
            ("Version", self.version.to_string()),
            ("Period", self.period.clone()),
            ("Reporter", self.reporter.clone()),
            ("Country", self.country.clone()),
            ("Due", self.due.clone()),
            ("Title", title.to_string()),
        ]
    }
}

/// The codes of each dimension (in the template's order) with their labels, and each
/// indicator's label: the caller knows the named code lists and the indicators.
#[derive(Clone, Debug, Default)]
pub struct Labels {
    pub codes: Vec<Vec<(String, String)>>,
    pub indicators: Vec<String>,
}

/// The labels of listed codes are the codes themselves; named lists the caller fills.
pub fn listed_codes(t: &Template, named: &dyn Fn(&str) -> Vec<(String, String)>) -> Labels {
    Labels {
        codes: t
            .dimensions
            .iter()
            .map(|d| match &d.codes {
                Codes::Listed(codes) => codes.iter().map(|c| (c.clone(), c.clone())).collect(),
                Codes::Named(list) => named(list),
            })
            .collect(),
        indicators: Vec::new(),
    }
}

/// Excel's name for a column, from 0.
fn column_name(mut i: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Excel caps a validation message at 255 characters.
fn short(text: &str) -> String {
    text.chars().take(250).collect()
}

/// Writes the period's workbook.
pub fn write_workbook(t: &Template, h: &Heading, labels: &Labels) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let open = Format::new().set_unlocked();
    let dims = t.dimensions.len();

    // The grid.
    let grid = book.add_worksheet().set_name(RETURN)?;
    for (i, name) in t
        .dimensions
        .iter()
        .map(|d| d.name.as_str())
        .chain(t.indicators.iter().map(String::as_str))
        .enumerate()
    {
        grid.write_string_with_format(0, i as u16, name, &bold)?;
        grid.set_column_width(i as u16, 16)?;
    }
    let combinations = labels
        .codes
        .iter()
        .try_fold(1usize, |n, c| n.checked_mul(c.len()))
        .filter(|n| *n <= MAX_PREFILLED_ROWS)
        .unwrap_or(0);
    let mut row = 1u32;
    let mut at = vec![0usize; dims];
    for _ in 0..combinations {
        for (d, i) in at.iter().enumerate() {
            grid.write_string_with_format(row, d as u16, &labels.codes[d][*i].0, &open)?;
        }
        for j in 0..t.indicators.len() {
            grid.write_blank(row, (dims + j) as u16, &open)?;
        }
        row += 1;
        // The next combination, the last dimension turning fastest.
        for d in (0..dims).rev() {
            at[d] += 1;
            if at[d] < labels.codes[d].len() {
                break;
            }
            at[d] = 0;
        }
    }
    let last = row + BLANK_ROWS as u32 - 1;
    for r in row..=last {
        for c in 0..dims + t.indicators.len() {
            grid.write_blank(r, c as u16, &open)?;
        }
    }
    for (d, dimension) in t.dimensions.iter().enumerate() {
        let col = column_name(2 * d);
        let source = format!("={CODES}!${col}$2:${col}${}", labels.codes[d].len() + 1);
        let v = DataValidation::new()
            .allow_list_formula(Formula::new(source))
            .set_error_title("Not a code")?
            .set_error_message(short(&format!(
                "{} takes one of the codes in the sheet {CODES}.",
                dimension.name
            )))?;
        grid.add_data_validation(1, d as u16, last, d as u16, &v)?;
    }
    for (j, indicator) in t.indicators.iter().enumerate() {
        let col = dims + j;
        let cell = |name: &str| {
            let k = t.indicators.iter().position(|i| i == name).unwrap_or(j);
            format!("{}2", column_name(dims + k))
        };
        let me = cell(indicator);
        let rules: Vec<_> = t
            .rules
            .iter()
            .filter(|r| r.indicators().any(|i| i == indicator))
            .collect();
        let mut formula = format!("=AND(ISNUMBER({me}),{me}>=0,INT({me})={me}");
        for r in &rules {
            formula.push(',');
            formula.push_str(&r.excel(&cell));
        }
        formula.push(')');
        let message = std::iter::once(format!("{indicator} is a count: a whole number from 0."))
            .chain(rules.iter().map(|r| r.message.clone()))
            .collect::<Vec<_>>()
            .join(" ");
        let v = if rules.is_empty() {
            DataValidation::new().allow_whole_number(DataValidationRule::GreaterThanOrEqualTo(0))
        } else {
            DataValidation::new().allow_custom(Formula::new(formula))
        }
        .set_error_style(DataValidationErrorStyle::Stop)
        .set_error_title("Not accepted")?
        .set_error_message(short(&message))?;
        grid.add_data_validation(1, col as u16, last, col as u16, &v)?;
    }
    grid.set_freeze_panes(1, 0)?;
    grid.protect_with_options(&ProtectionOptions {
        insert_rows: true,
        delete_rows: true,
        sort: true,
        use_autofilter: true,
        format_columns: true,
        ..ProtectionOptions::default()
    });
    grid.set_active(true);

    // What it is for, and how to fill it.
    let about = book.add_worksheet().set_name(ABOUT)?;
    about.set_column_width(0, 22)?;
    about.set_column_width(1, 90)?;
    let mut r = 0u32;
    for (label, value) in h.rows(&t.title) {
        about.write_string_with_format(r, 0, label, &bold)?;
        about.write_string(r, 1, &value)?;
        r += 1;
    }
    let mut line = |sheet: &mut Worksheet, a: &str, b: &str, f: Option<&Format>| {
        r += 1;
        match f {
            Some(f) => sheet.write_string_with_format(r, 0, a, f).map(|_| ()),
            None => sheet.write_string(r, 0, a).map(|_| ()),
        }?;
        sheet.write_string(r, 1, b).map(|_| ())
    };
    line(about, "How to fill it", &format!(
        "Report {}'s figures for {} in the sheet {RETURN}, one row per combination of {}, one column per indicator. Leave a cell empty when the figure is not reported; write 0 for none. Counts are whole numbers from 0. Due {}. Upload the workbook on Nansen, or send it with: nansen submit {} --period {} --file WORKBOOK.xlsx",
        h.reporter, h.period, t.dimensions.iter().map(|d| d.name.as_str()).collect::<Vec<_>>().join(", "), h.due, h.template, h.period
    ), Some(&bold))?;
    line(about, "Locked", &format!("This sheet and {CODES} are locked: a workbook whose locked sheets were changed is refused. Rows may be added, removed and sorted in {RETURN}."), None)?;
    line(about, "", "", None)?;
    for (d, dimension) in t.dimensions.iter().enumerate() {
        let source = match &dimension.codes {
            Codes::Named(list) => format!("the code list {list}"),
            Codes::Listed(_) => "the codes listed".to_string(),
        };
        line(
            about,
            &format!("Dimension {}", dimension.name),
            &format!(
                "{} codes, {source}: sheet {CODES}, column {}",
                labels.codes[d].len(),
                column_name(2 * d)
            ),
            None,
        )?;
    }
    for (j, indicator) in t.indicators.iter().enumerate() {
        let label = labels.indicators.get(j).map(String::as_str).unwrap_or("");
        line(about, &format!("Indicator {indicator}"), label, None)?;
    }
    for rule in &t.rules {
        line(about, &format!("Rule {}", rule.check), &rule.message, None)?;
    }
    about.protect();

    // The code lists behind the drop-downs.
    let codes = book.add_worksheet().set_name(CODES)?;
    for (d, dimension) in t.dimensions.iter().enumerate() {
        let c = (2 * d) as u16;
        codes.write_string_with_format(0, c, &dimension.name, &bold)?;
        codes.write_string_with_format(0, c + 1, "label", &bold)?;
        codes.set_column_width(c + 1, 28)?;
        for (i, (code, label)) in labels.codes[d].iter().enumerate() {
            codes.write_string(i as u32 + 1, c, code)?;
            codes.write_string(i as u32 + 1, c + 1, label)?;
        }
    }
    codes.protect();
    book.save_to_buffer()
}

/// The sheets of an uploaded workbook, each as a grid of text, by name.
pub type Sheets<'a> = &'a dyn Fn(&str) -> Option<Vec<Vec<String>>>;

/// Reads an uploaded workbook against the template at its current version, the heading it
/// must carry and the codes it was written with. Refused whole, naming sheet, row, column
/// and reason.
pub fn read_workbook(
    t: &Template,
    h: &Heading,
    labels: &Labels,
    sheets: Sheets<'_>,
) -> Result<Vec<Cell>, Vec<Problem>> {
    let problem = |sheet: &str, row: usize, column: &str, reason: String| Problem {
        sheet: Some(sheet.to_string()),
        row,
        column: column.to_string(),
        reason,
    };
    let missing = |sheet: &str| {
        vec![problem(
            sheet,
            1,
            "A",
            format!("the workbook has no sheet {sheet}: upload the workbook Nansen made for the period, or a CSV"),
        )]
    };
    let about = sheets(ABOUT).ok_or_else(|| missing(ABOUT))?;
    let cell = |grid: &Vec<Vec<String>>, r: usize, c: usize| -> String {
        grid.get(r)
            .and_then(|row| row.get(c))
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    for (i, (label, expected)) in h.rows(&t.title).iter().enumerate() {
        let found = cell(&about, i, 1);
        if found == *expected {
            continue;
        }
        let reason = match *label {
            "Template" => format!("this workbook is for {found:?}, not {}", h.template),
            "Version" => format!(
                "this workbook is for version {found} of {}, which is at version {} now: download the period's workbook again",
                h.template, h.version
            ),
            "Period" => format!("this workbook is for the period {found:?}, not {}", h.period),
            "Reporter" => format!("this workbook is {found:?}'s, not {}'s", h.reporter),
            _ => format!(
                "{found:?} is not what Nansen wrote ({expected:?}); the sheet is locked: download the period's workbook again"
            ),
        };
        return Err(vec![problem(ABOUT, i + 1, "B", reason)]);
    }
    let codes = sheets(CODES).ok_or_else(|| missing(CODES))?;
    for (d, list) in labels.codes.iter().enumerate() {
        for (i, (code, label)) in std::iter::once((&t.dimensions[d].name, &"label".to_string()))
            .chain(list.iter().map(|(c, l)| (c, l)))
            .enumerate()
        {
            for (k, expected) in [code, label].into_iter().enumerate() {
                let found = cell(&codes, i, 2 * d + k);
                if found != expected.trim() {
                    return Err(vec![problem(
                        CODES,
                        i + 1,
                        &column_name(2 * d + k),
                        format!("{found:?} is not what Nansen wrote ({expected:?}); the sheet is locked: download the period's workbook again"),
                    )]);
                }
            }
        }
    }
    let grid = sheets(RETURN).ok_or_else(|| missing(RETURN))?;
    let rows: Rows = grid
        .into_iter()
        .enumerate()
        .map(|(i, r)| (i + 1, r))
        .collect();
    let known = |list: &str, code: &str| -> Option<String> {
        let d = t
            .dimensions
            .iter()
            .position(|d| matches!(&d.codes, Codes::Named(l) if l == list))?;
        labels.codes[d]
            .iter()
            .find(|(c, _)| c == code)
            .map(|(c, _)| c.clone())
    };
    read_rows(t, Some(RETURN), &trimmed(rows), &known)
}

/// A grid's trailing empty cells dropped, so blank columns past the header do not count.
fn trimmed(rows: Rows) -> Rows {
    let width = rows.first().map_or(0, |(_, h)| {
        h.iter()
            .rposition(|c| !c.trim().is_empty())
            .map_or(0, |i| i + 1)
    });
    rows.into_iter()
        .map(|(n, mut r)| {
            r.resize(width, String::new());
            (n, r)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Reader};

    fn template() -> Template {
        Template::from_toml(
            r#"
title = "EPS"
frequency = "month"
deadline_days = 17
reporters = ["deu"]
[dimensions]
origin = "countries"
sex = ["F", "M"]
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

    fn heading() -> Heading {
        Heading {
            template: "euaa/eps".into(),
            version: 1,
            reporter: "deu".into(),
            country: "DEU".into(),
            period: "2026-01".into(),
            due: "2026-02-17".into(),
        }
    }

    fn labels(t: &Template) -> Labels {
        listed_codes(t, &|_| {
            vec![
                ("SYR".into(), "Syria".into()),
                ("AFG".into(), "Afghanistan".into()),
            ]
        })
    }

    type Grids = std::collections::HashMap<String, Vec<Vec<String>>>;

    /// The workbook's sheets as text grids, as an upload is read.
    fn sheets(bytes: &[u8]) -> Grids {
        let mut book: calamine::Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
        let mut out = std::collections::HashMap::new();
        for name in book.sheet_names() {
            let range = book.worksheet_range(&name).unwrap();
            let grid = range
                .rows()
                .map(|r| {
                    r.iter()
                        .map(|c| match c {
                            Data::Empty => String::new(),
                            Data::Float(f) => f.to_string(),
                            other => other.to_string(),
                        })
                        .collect()
                })
                .collect();
            out.insert(name, grid);
        }
        out
    }

    fn read(t: &Template, h: &Heading, grids: &Grids) -> Result<Vec<Cell>, Vec<String>> {
        read_workbook(t, h, &labels(t), &|name: &str| grids.get(name).cloned())
            .map_err(|ps| ps.iter().map(|p| p.to_string()).collect())
    }

    #[test]
    fn a_filled_workbook_reads_back_as_its_cells() {
        let t = template();
        let bytes = write_workbook(&t, &heading(), &labels(&t)).unwrap();
        let mut grids = sheets(&bytes);
        let grid = &grids[RETURN];
        assert_eq!(
            grid[0],
            [
                "origin",
                "sex",
                "asylum_applications",
                "asylum_applications_first_time"
            ]
        );
        assert_eq!(grid[1][..2], ["SYR", "F"], "every combination is prefilled");
        assert_eq!(grid[4][..2], ["AFG", "M"]);
        assert_eq!(grids[CODES][2], ["AFG", "Afghanistan", "M", "M"]);
        assert_eq!(grids[ABOUT][1], ["Version", "1"]);
        assert!(
            read(&t, &heading(), &grids).unwrap().is_empty(),
            "nothing filled, nothing reported"
        );
        let grid = grids.get_mut(RETURN).unwrap();
        grid[1][2] = "100".into();
        grid[1][3] = "90".into();
        grid[2][2] = "5".into();
        let cells = read(&t, &heading(), &grids).unwrap();
        assert_eq!(cells.len(), 3);
        assert_eq!(
            (cells[2].key.clone(), cells[2].value),
            (vec!["SYR".to_string(), "M".to_string()], 5)
        );
    }

    #[test]
    fn a_workbook_for_another_period_version_or_altered_is_refused_naming_sheet_row_and_column() {
        let t = template();
        let good = sheets(&write_workbook(&t, &heading(), &labels(&t)).unwrap());
        let refused = |edit: &dyn Fn(&mut Grids), h: &Heading| {
            let mut g = good.clone();
            edit(&mut g);
            read(&t, h, &g).unwrap_err()
        };
        let h = heading();
        assert_eq!(
            refused(&|_| {}, &Heading { period: "2026-02".into(), ..h.clone() }),
            ["sheet About, row 3, column B: this workbook is for the period \"2026-01\", not 2026-02"]
        );
        assert_eq!(
            refused(&|_| {}, &Heading { version: 2, ..h.clone() }),
            ["sheet About, row 2, column B: this workbook is for version 1 of euaa/eps, which is at version 2 now: download the period's workbook again"]
        );
        assert_eq!(
            refused(&|g| g.get_mut(CODES).unwrap()[2][0] = "IRQ".into(), &h),
            ["sheet Codes, row 3, column A: \"IRQ\" is not what Nansen wrote (\"AFG\"); the sheet is locked: download the period's workbook again"]
        );
        let said = refused(
            &|g| {
                let r = g.get_mut(RETURN).unwrap();
                r[1][0] = "XXX".into();
                r[2][2] = "1.5".into();
                r[3][2] = "4".into();
                r[3][3] = "9".into();
                r[4] = r[3].clone();
            },
            &h,
        );
        assert_eq!(
            said,
            [
                "sheet Return, row 2, column origin: \"XXX\" is not in the code list countries",
                "sheet Return, row 3, column asylum_applications: \"1.5\" is not a count (a whole number from 0)",
                "sheet Return, row 4, column asylum_applications_first_time <= asylum_applications: first-time applicants cannot outnumber all applicants",
                "sheet Return, row 5, column -: row 4 reports the same AFG, F already",
            ]
        );
        let mut no_about = good.clone();
        no_about.remove(ABOUT);
        assert!(read(&t, &h, &no_about).unwrap_err()[0]
            .starts_with("sheet About, row 1, column A: the workbook has no sheet About"));
    }

    #[test]
    fn columns_are_named_as_excel_names_them() {
        assert_eq!(
            [0, 25, 26, 51, 52, 701, 702].map(column_name),
            ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"]
        );
    }
}

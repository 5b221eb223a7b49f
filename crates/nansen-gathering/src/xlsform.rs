//! The template as an XLSForm, for field collection (KoboToolbox, ODK): a `survey` sheet with a
//! `select_one` question per dimension and an `integer` one per indicator (counts from 0, the
//! template's rules as constraints), a `choices` sheet with each dimension's codes, and a
//! `settings` sheet. And back: an XLSForm's `survey` and `choices` sheets give a template's
//! dimensions and code lists, written as the template's TOML.

use crate::{Labels, Template};
use rust_xlsxwriter::{Format, Workbook, XlsxError};

/// Survey types that carry no reported figure (metadata and layout), passed over on import.
const PASSED_OVER: &[&str] = &[
    "start",
    "end",
    "today",
    "deviceid",
    "username",
    "phonenumber",
    "audit",
    "note",
    "begin group",
    "end group",
    "begin_group",
    "end_group",
    "calculate",
    "hidden",
];

/// The template as an XLSForm workbook.
pub fn write_xlsform(
    t: &Template,
    form_id: &str,
    version: i64,
    labels: &Labels,
) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let survey = book.add_worksheet().set_name("survey")?;
    let header = [
        "type",
        "name",
        "label",
        "required",
        "constraint",
        "constraint_message",
    ];
    for (c, h) in header.iter().enumerate() {
        survey.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    let mut row = 1u32;
    for d in &t.dimensions {
        survey.write_string(row, 0, format!("select_one {}", d.name))?;
        survey.write_string(row, 1, &d.name)?;
        survey.write_string(row, 2, &d.name)?;
        survey.write_string(row, 3, "yes")?;
        row += 1;
    }
    for (i, indicator) in t.indicators.iter().enumerate() {
        // Each rule is checked on the last of its indicators the form asks for.
        let rules: Vec<_> = t
            .rules
            .iter()
            .filter(|r| {
                r.indicators()
                    .filter_map(|n| t.indicators.iter().position(|x| x == n))
                    .max()
                    == Some(i)
            })
            .collect();
        let mut constraint = ". >= 0".to_string();
        let mut message = format!("{indicator} is a count: a whole number from 0.");
        for r in &rules {
            constraint.push_str(&format!(" and ({})", xpath(r)));
            message.push(' ');
            message.push_str(&r.message);
        }
        let label = labels
            .indicators
            .get(i)
            .filter(|l| !l.is_empty())
            .unwrap_or(indicator);
        survey.write_string(row, 0, "integer")?;
        survey.write_string(row, 1, indicator)?;
        survey.write_string(row, 2, label)?;
        survey.write_string(row, 4, &constraint)?;
        survey.write_string(row, 5, &message)?;
        row += 1;
    }
    let choices = book.add_worksheet().set_name("choices")?;
    for (c, h) in ["list_name", "name", "label"].iter().enumerate() {
        choices.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    let mut row = 1u32;
    for (d, dimension) in t.dimensions.iter().enumerate() {
        for (code, label) in labels.codes.get(d).into_iter().flatten() {
            choices.write_string(row, 0, &dimension.name)?;
            choices.write_string(row, 1, code)?;
            choices.write_string(row, 2, label)?;
            row += 1;
        }
    }
    let settings = book.add_worksheet().set_name("settings")?;
    for (c, (h, v)) in [
        ("form_title", t.title.clone()),
        ("form_id", form_id.to_string()),
        ("version", version.to_string()),
    ]
    .iter()
    .enumerate()
    {
        settings.write_string_with_format(0, c as u16, *h, &bold)?;
        settings.write_string(1, c as u16, v)?;
    }
    book.save_to_buffer()
}

/// A rule as an XPath constraint, true when a field it names is empty.
fn xpath(r: &crate::Rule) -> String {
    let excel = r.excel(&|name| format!("${{{name}}}"));
    // The Excel form's shape: OR(A="",B="",comparison), `=` and `<>` as Excel writes them.
    let inner = excel
        .strip_prefix("OR(")
        .and_then(|s| s.strip_suffix(')'))
        .unwrap_or(&excel);
    inner
        .split(',')
        .map(|part| match part.strip_suffix("=\"\"") {
            Some(field) => format!("string-length({field}) = 0"),
            None => part
                .replace("<>", " != ")
                .replace("<=", " <= ")
                .replace(">=", " >= "),
        })
        .collect::<Vec<_>>()
        .join(" or ")
}

/// What is wrong with an XLSForm, and where.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("sheet {sheet}, row {row}, column {column}: {reason}")]
pub struct XlsFormError {
    pub sheet: String,
    pub row: usize,
    pub column: String,
    pub reason: String,
}

/// What an XLSForm gives a template: its title, and its dimensions (each with its codes) and
/// indicators, in the survey's order.
#[derive(Debug, PartialEq)]
pub struct FormParts {
    pub title: Option<String>,
    pub dimensions: Vec<(String, Vec<String>)>,
    pub indicators: Vec<String>,
}

/// Reads an XLSForm's `survey` and `choices` sheets (and `settings`' title when there is one),
/// given as grids of text with their header rows.
pub fn read_xlsform(
    survey: &[Vec<String>],
    choices: &[Vec<String>],
    settings: Option<&[Vec<String>]>,
) -> Result<FormParts, XlsFormError> {
    let err = |sheet: &str, row: usize, column: &str, reason: String| XlsFormError {
        sheet: sheet.into(),
        row,
        column: column.into(),
        reason,
    };
    let column = |grid: &[Vec<String>], sheet: &str, name: &str| -> Result<usize, XlsFormError> {
        grid.first()
            .and_then(|h| h.iter().position(|c| c.trim().eq_ignore_ascii_case(name)))
            .ok_or_else(|| err(sheet, 1, name, "the sheet has no such column".into()))
    };
    let cell =
        |row: &Vec<String>, i: usize| row.get(i).map(|v| v.trim().to_string()).unwrap_or_default();
    let (list_col, cname_col) = (
        column(choices, "choices", "list_name")?,
        column(choices, "choices", "name")?,
    );
    let (type_col, name_col) = (
        column(survey, "survey", "type")?,
        column(survey, "survey", "name")?,
    );
    let mut parts = FormParts {
        title: None,
        dimensions: Vec::new(),
        indicators: Vec::new(),
    };
    for (i, row) in survey.iter().enumerate().skip(1) {
        let (kind, name) = (cell(row, type_col), cell(row, name_col));
        let kind_words: Vec<&str> = kind.split_whitespace().collect();
        match kind_words.as_slice() {
            [] => continue,
            ["select_one", list] | ["select_one", list, ..] => {
                let codes: Vec<String> = choices
                    .iter()
                    .skip(1)
                    .filter(|c| cell(c, list_col) == *list)
                    .map(|c| cell(c, cname_col))
                    .filter(|c| !c.is_empty())
                    .collect();
                if codes.is_empty() {
                    return Err(err("survey", i + 1, "type", format!("the list {list} has no choice in the sheet choices")));
                }
                parts.dimensions.push((name, codes));
            }
            ["integer"] => parts.indicators.push(name),
            _ if PASSED_OVER.contains(&kind.as_str()) => continue,
            _ => {
                return Err(err(
                    "survey",
                    i + 1,
                    "type",
                    format!("{kind:?} is neither a dimension (select_one) nor a count (integer), and a template has nothing else"),
                ))
            }
        }
    }
    if let Some(settings) = settings {
        if let Ok(c) = column(settings, "settings", "form_title") {
            parts.title = settings
                .get(1)
                .map(|r| cell(r, c))
                .filter(|t| !t.is_empty());
        }
    }
    Ok(parts)
}

/// A template's TOML from an XLSForm's parts and what a form does not say.
pub fn template_toml(
    parts: &FormParts,
    title: &str,
    frequency: &str,
    deadline_days: u16,
    reporters: &[String],
) -> String {
    let mut doc = toml_edit::DocumentMut::new();
    doc["title"] = toml_edit::value(title);
    doc["frequency"] = toml_edit::value(frequency);
    doc["deadline_days"] = toml_edit::value(i64::from(deadline_days));
    doc["reporters"] = toml_edit::value(reporters.iter().collect::<toml_edit::Array>());
    let mut dims = toml_edit::Table::new();
    for (name, codes) in &parts.dimensions {
        dims[name.as_str()] = toml_edit::value(codes.iter().collect::<toml_edit::Array>());
    }
    doc["dimensions"] = toml_edit::Item::Table(dims);
    let mut indicators = toml_edit::ArrayOfTables::new();
    for name in &parts.indicators {
        let mut t = toml_edit::Table::new();
        t["name"] = toml_edit::value(name.as_str());
        indicators.push(t);
    }
    doc["indicators"] = toml_edit::Item::ArrayOfTables(indicators);
    doc.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(rows: &[&[&str]]) -> Vec<Vec<String>> {
        rows.iter()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect()
    }

    #[test]
    fn an_xlsform_gives_dimensions_from_select_one_and_indicators_from_integers() {
        let survey = grid(&[
            &["type", "name", "label"],
            &["start", "start", ""],
            &["select_one points", "point", "Flow monitoring point"],
            &["select_one sex", "sex", "Sex"],
            &["integer", "arrivals_land", "Arrivals"],
        ]);
        let choices = grid(&[
            &["list_name", "name", "label"],
            &["points", "FMP-001", "Border crossing 1"],
            &["points", "FMP-002", "Bus station"],
            &["sex", "F", "Female"],
            &["sex", "M", "Male"],
        ]);
        let settings = grid(&[&["form_title", "form_id"], &["Daily flows", "flows"]]);
        let parts = read_xlsform(&survey, &choices, Some(&settings)).unwrap();
        assert_eq!(parts.title.as_deref(), Some("Daily flows"));
        assert_eq!(
            parts.dimensions[0],
            (
                "point".to_string(),
                vec!["FMP-001".to_string(), "FMP-002".to_string()]
            )
        );
        assert_eq!(parts.indicators, ["arrivals_land"]);
        let toml = template_toml(&parts, "Daily flows", "day", 2, &["iom".into()]);
        let t = Template::from_toml(&toml).unwrap();
        assert_eq!(t.dimensions.len(), 2);
        assert_eq!(t.dimensions[0].name, "point", "the survey's order is kept");
        let bad = grid(&[&["type", "name"], &["decimal", "share"]]);
        assert_eq!(
            read_xlsform(&bad, &choices, None).unwrap_err().to_string(),
            "sheet survey, row 2, column type: \"decimal\" is neither a dimension (select_one) nor a count (integer), and a template has nothing else"
        );
    }

    #[test]
    fn a_rule_becomes_an_xpath_constraint() {
        let t = Template::from_toml(
            "title = \"x\"\nfrequency = \"month\"\ndeadline_days = 1\nreporters = [\"a\"]\n[dimensions]\nsex = [\"F\"]\n[[indicators]]\nname = \"a\"\n[[indicators]]\nname = \"b\"\n[[rules]]\ncheck = \"b <= a\"\nmessage = \"m\"\n",
        )
        .unwrap();
        assert_eq!(
            xpath(&t.rules[0]),
            "string-length(${b}) = 0 or string-length(${a}) = 0 or ${b} <= ${a}"
        );
    }
}

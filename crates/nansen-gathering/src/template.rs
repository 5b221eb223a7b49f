//! A reporting template as its owner writes it in TOML (`docs/gathering.md`):
//!
//! ```toml
//! title = "Monthly asylum applications (EPS)"
//! frequency = "month"
//! deadline_days = 17
//! reporters = ["deu", "fra", "ita"]
//! [dimensions]
//! origin = "countries"
//! sex = ["F", "M", "UNK"]
//! [[indicators]]
//! name = "asylum_applications"
//! [[rules]]
//! check = "asylum_applications_first_time <= asylum_applications"
//! message = "first-time applicants cannot outnumber all applicants"
//! ```
//!
//! Every problem is named by its field; the dimensions keep the order they are written in.

use crate::{Frequency, Rule};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The codes a dimension takes: listed in the template, or a code list Nansen knows (as
/// `countries`), which the application resolves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Codes {
    Listed(Vec<String>),
    Named(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dimension {
    pub name: String,
    pub codes: Codes,
}

/// A flow monitoring point: where movements are counted. A template that lists points has a
/// dimension naming the code list `points`.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    pub code: String,
    pub name: String,
    pub latitude: f64,
    pub longitude: f64,
    /// The admin area it lies in, as a P-code (`GR51`).
    pub admin_area: Option<String>,
    /// As `border crossing`, `bus station`, `transit centre`.
    pub kind: String,
}

/// The code list a dimension names to take the template's own points.
pub const POINTS: &str = "points";

#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    pub title: String,
    pub frequency: Frequency,
    /// Days after a period's last day that its returns are due.
    pub deadline_days: u16,
    /// Days before the deadline that reporters who have sent nothing are first reminded
    /// (0: only on the deadline and when overdue).
    pub remind_days_before: u16,
    /// Organisations (slugs) that report, each for its own country.
    pub reporters: Vec<String>,
    pub dimensions: Vec<Dimension>,
    pub indicators: Vec<String>,
    pub rules: Vec<Rule>,
    /// Flow monitoring points, for a dimension that names `points`.
    pub points: Vec<Point>,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct TemplateError {
    /// As `dimensions.sex` or `rules[1].check`.
    pub field: String,
    pub reason: String,
}

fn problem(field: impl Into<String>, reason: impl Into<String>) -> TemplateError {
    TemplateError {
        field: field.into(),
        reason: reason.into(),
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawCodes {
    Named(String),
    Listed(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndicator {
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    check: String,
    message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPoint {
    code: String,
    name: String,
    latitude: f64,
    longitude: f64,
    admin_area: Option<String>,
    #[serde(rename = "type", default)]
    kind: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    title: String,
    frequency: String,
    deadline_days: i64,
    #[serde(default = "default_remind_days_before")]
    remind_days_before: i64,
    reporters: Vec<String>,
    dimensions: BTreeMap<String, RawCodes>,
    indicators: Vec<RawIndicator>,
    #[serde(default)]
    rules: Vec<RawRule>,
    #[serde(default)]
    points: Vec<RawPoint>,
}

/// A number of days from 0 to `most`, or the problem with `field`.
fn days(field: &str, value: i64, most: u16) -> Result<u16, TemplateError> {
    u16::try_from(value)
        .ok()
        .filter(|d| *d <= most)
        .ok_or_else(|| {
            problem(
                field,
                format!("{value} is not a number of days from 0 to {most}"),
            )
        })
}

fn default_remind_days_before() -> i64 {
    3
}

/// A code as a template writes it: a cell is written `CODE.CODE.indicator` and kept as CSV.
fn is_code(c: &str) -> bool {
    !c.trim().is_empty()
        && c.len() <= 64
        && !c
            .chars()
            .any(|ch| matches!(ch, ',' | '.' | '"') || ch.is_control())
}

/// Lower-case letters, digits and `_`, starting with a letter: a name that reads the same in
/// a CSV header, a workbook and a rule.
fn is_name(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && s.len() <= 64
}

impl Template {
    pub fn from_toml(text: &str) -> Result<Template, TemplateError> {
        let raw: Raw = toml::from_str(text).map_err(|e| {
            let field = e
                .span()
                .and_then(|s| text.get(..s.start))
                .map(|before| format!("line {}", before.lines().count().max(1)))
                .unwrap_or_else(|| "template".into());
            problem(field, e.message().to_string())
        })?;
        // The order the dimensions are written in, which serde's map does not keep.
        let order: Vec<String> = text
            .parse::<toml_edit::DocumentMut>()
            .ok()
            .and_then(|d| {
                d.get("dimensions")
                    .and_then(|t| t.as_table_like())
                    .map(|t| t.iter().map(|(k, _)| k.to_string()).collect())
            })
            .unwrap_or_default();
        if raw.title.trim().is_empty() || raw.title.len() > 300 {
            return Err(problem(
                "title",
                "a template has a title of at most 300 characters",
            ));
        }
        let frequency: Frequency = raw.frequency.parse().map_err(|e| problem("frequency", e))?;
        let deadline_days = days("deadline_days", raw.deadline_days, 366)?;
        let remind_days_before = days("remind_days_before", raw.remind_days_before, 60)?;
        if raw.reporters.is_empty() {
            return Err(problem(
                "reporters",
                "a template names at least one reporter",
            ));
        }
        for (i, r) in raw.reporters.iter().enumerate() {
            if raw.reporters[..i].contains(r) {
                return Err(problem(
                    format!("reporters[{i}]"),
                    format!("{r:?} is named twice"),
                ));
            }
        }
        if raw.dimensions.is_empty() {
            return Err(problem(
                "dimensions",
                "a template has at least one dimension",
            ));
        }
        let mut dimensions = Vec::new();
        let mut names: Vec<&String> = raw.dimensions.keys().collect();
        names.sort_by_key(|n| order.iter().position(|o| o == *n).unwrap_or(usize::MAX));
        for name in names {
            let field = format!("dimensions.{name}");
            if !is_name(name) {
                return Err(problem(field, "a dimension's name is lower-case letters, digits and _, starting with a letter"));
            }
            let codes = match &raw.dimensions[name] {
                RawCodes::Named(list) => Codes::Named(list.clone()),
                RawCodes::Listed(codes) => {
                    if codes.is_empty() {
                        return Err(problem(field, "lists no code"));
                    }
                    for (i, c) in codes.iter().enumerate() {
                        if !is_code(c) {
                            return Err(problem(
                                format!("{field}[{i}]"),
                                format!(
                                    "{c:?} is not a code (at most 64 characters, none of , . \" )"
                                ),
                            ));
                        }
                        if codes[..i].contains(c) {
                            return Err(problem(
                                format!("{field}[{i}]"),
                                format!("{c:?} is listed twice"),
                            ));
                        }
                    }
                    Codes::Listed(codes.clone())
                }
            };
            dimensions.push(Dimension {
                name: name.clone(),
                codes,
            });
        }
        if raw.indicators.is_empty() {
            return Err(problem(
                "indicators",
                "a template asks for at least one indicator",
            ));
        }
        let mut indicators: Vec<String> = Vec::new();
        for (i, ind) in raw.indicators.iter().enumerate() {
            let field = format!("indicators[{i}].name");
            if !is_name(&ind.name) {
                return Err(problem(field, format!("{:?}: an indicator's name is lower-case letters, digits and _, starting with a letter", ind.name)));
            }
            if indicators.contains(&ind.name) || raw.dimensions.contains_key(&ind.name) {
                return Err(problem(field, format!("{:?} is named twice", ind.name)));
            }
            indicators.push(ind.name.clone());
        }
        let rules = raw
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let listed: Vec<(&str, &[String])> = dimensions
                    .iter()
                    .map(|d: &Dimension| match &d.codes {
                        Codes::Listed(c) => (d.name.as_str(), c.as_slice()),
                        Codes::Named(_) => (d.name.as_str(), &[][..]),
                    })
                    .collect();
                Rule::parse(&r.check, &r.message, &indicators, &listed)
                    .map_err(|e| problem(format!("rules[{i}].check"), e.reason))
            })
            .collect::<Result<_, _>>()?;
        let points = read_points(raw.points)?;
        let names_points = dimensions
            .iter()
            .any(|d| d.codes == Codes::Named(POINTS.to_string()));
        match (names_points, points.is_empty()) {
            (true, true) => {
                return Err(problem(
                    "points",
                    "a dimension takes the template's points, and it lists none ([[points]] with code, name, latitude, longitude)",
                ))
            }
            (false, false) => {
                return Err(problem(
                    "points",
                    "no dimension takes them: name the code list \"points\" for one (point = \"points\")",
                ))
            }
            _ => {}
        }
        Ok(Template {
            title: raw.title.trim().to_string(),
            frequency,
            deadline_days,
            remind_days_before,
            reporters: raw.reporters,
            dimensions,
            indicators,
            rules,
            points,
        })
    }
}

fn read_points(raw: Vec<RawPoint>) -> Result<Vec<Point>, TemplateError> {
    let mut points: Vec<Point> = Vec::new();
    for (i, p) in raw.into_iter().enumerate() {
        let field = |f: &str| format!("points[{i}].{f}");
        if !is_code(&p.code) {
            return Err(problem(
                field("code"),
                format!(
                    "{:?} is not a code (at most 64 characters, none of , . \" )",
                    p.code
                ),
            ));
        }
        if points.iter().any(|q| q.code == p.code) {
            return Err(problem(
                field("code"),
                format!("{:?} is listed twice", p.code),
            ));
        }
        if p.name.trim().is_empty() {
            return Err(problem(field("name"), "a point has a name"));
        }
        if !(-90.0..=90.0).contains(&p.latitude) {
            return Err(problem(
                field("latitude"),
                format!("{} is not a latitude (from -90 to 90)", p.latitude),
            ));
        }
        if !(-180.0..=180.0).contains(&p.longitude) {
            return Err(problem(
                field("longitude"),
                format!("{} is not a longitude (from -180 to 180)", p.longitude),
            ));
        }
        points.push(Point {
            code: p.code,
            name: p.name.trim().to_string(),
            latitude: p.latitude,
            longitude: p.longitude,
            admin_area: p
                .admin_area
                .map(|a| a.trim().to_string())
                .filter(|a| !a.is_empty()),
            kind: p.kind.trim().to_string(),
        });
    }
    Ok(points)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A flow monitoring template, as docs/gathering.md shows it.
    const FLOWS: &str = r#"
title = "Daily flows at flow monitoring points"
frequency = "day"
deadline_days = 2
reporters = ["iom-grc"]
[dimensions]
point = "points"
sex = ["F", "M"]
[[indicators]]
name = "arrivals_land"
[[points]]
code = "FMP-001"
name = "Kipoi border crossing"
latitude = 40.98
longitude = 26.30
admin_area = "GR51"
type = "border crossing"
[[points]]
code = "FMP-002"
name = "Thessaloniki bus station"
latitude = 40.65
longitude = 22.93
type = "bus station"
"#;

    #[test]
    fn a_flow_monitoring_template_names_its_points_with_coordinates() {
        let t = Template::from_toml(FLOWS).unwrap();
        assert_eq!(t.points.len(), 2);
        assert_eq!(t.points[0].admin_area.as_deref(), Some("GR51"));
        assert_eq!(t.points[1].kind, "bus station");
        let e = |text: String| Template::from_toml(&text).unwrap_err().to_string();
        assert_eq!(
            e(FLOWS.replace("latitude = 40.65", "latitude = 140.65")),
            "points[1].latitude: 140.65 is not a latitude (from -90 to 90)"
        );
        assert_eq!(
            e(FLOWS.replace("FMP-002", "FMP-001")),
            "points[1].code: \"FMP-001\" is listed twice"
        );
        assert!(e(FLOWS.replace("point = \"points\"\n", ""))
            .starts_with("points: no dimension takes them"));
    }

    const EPS: &str = r#"
title = "Monthly asylum applications (EPS)"
frequency = "month"            # day, week, month, quarter, year
deadline_days = 17             # after the end of the period
reporters = ["deu", "fra", "ita"]
[dimensions]
origin = "countries"
sex = ["F", "M", "UNK"]
age = ["Y_LT14", "Y14-17", "Y18-34", "Y35-64", "Y_GE65", "UNK"]
[[indicators]]
name = "asylum_applications"
[[indicators]]
name = "asylum_applications_first_time"
[[rules]]
check = "asylum_applications_first_time <= asylum_applications"
message = "first-time applicants cannot outnumber all applicants"
"#;

    #[test]
    fn the_issue_s_example_reads_with_its_dimensions_in_the_order_written() {
        let t = Template::from_toml(EPS).unwrap();
        assert_eq!(t.frequency, Frequency::Month);
        assert_eq!(t.deadline_days, 17);
        let names: Vec<&str> = t.dimensions.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["origin", "sex", "age"]);
        assert_eq!(t.dimensions[0].codes, Codes::Named("countries".into()));
        assert_eq!(t.indicators.len(), 2);
        assert_eq!(
            t.rules[0].message,
            "first-time applicants cannot outnumber all applicants"
        );
    }

    #[test]
    fn each_problem_is_named_by_its_field() {
        for (change, field, reason) in [
            (("\"month\"", "\"fortnight\""), "frequency", "\"fortnight\" is not a frequency (day, week, month, quarter or year)"),
            (("deadline_days = 17", "deadline_days = -1"), "deadline_days", "-1 is not a number of days from 0 to 366"),
            (("[\"F\", \"M\", \"UNK\"]", "[\"F\", \"F\"]"), "dimensions.sex[1]", "\"F\" is listed twice"),
            (("asylum_applications_first_time <= asylum_applications", "asylum_applications_first_time <= refugees"), "rules[0].check", "\"refugees\" is neither a number nor one of the template's indicators (asylum_applications, asylum_applications_first_time)"),
            (("name = \"asylum_applications\"", "name = \"Asylum applications\""), "indicators[0].name", "\"Asylum applications\": an indicator's name is lower-case letters, digits and _, starting with a letter"),
            (("[\"deu\", \"fra\", \"ita\"]", "[\"deu\", \"deu\"]"), "reporters[1]", "\"deu\" is named twice"),
        ] {
            let e = Template::from_toml(&EPS.replacen(change.0, change.1, 1)).unwrap_err();
            assert_eq!((e.field.as_str(), e.reason.as_str()), (field, reason));
        }
        let e = Template::from_toml("title = \"x\"\nfrequency = 3\n").unwrap_err();
        assert_eq!(e.field, "line 2", "{e}");
    }
}

//! Mapping files: what each column of a file that does not carry its own meaning is.
//! See docs/mapping.md for the format and examples.

use crate::layouts::{Duplicates, Layout, Role};
use crate::{Format, ImportError, Problem};
use nansen_codes::{CodeLists, Frequency};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// "error" (a statistics table: the same observation twice is a mistake) or "sum" (an
    /// incident list: rows that share every dimension are added up).
    #[serde(default = "default_duplicates")]
    pub duplicates: String,
    /// Dates finer than this are counted in their month, quarter or year.
    pub frequency: Option<String>,
    /// The 1-based row holding the column names.
    #[serde(default = "one")]
    pub header_row: usize,
    /// The indicator of value columns that do not name one.
    pub indicator: Option<String>,
    /// Source column = what it is: "period", "indicator", "flags", "ignore" or a dimension.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// Source column = the indicator it counts, or `{ indicator = "...", sex = "F" }`.
    #[serde(default)]
    pub values: BTreeMap<String, ValueColumn>,
    /// Dimensions with one value for the whole file.
    #[serde(default)]
    pub constants: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub enum ValueColumn {
    Indicator(String),
    Detailed {
        indicator: String,
        #[serde(flatten)]
        dimensions: BTreeMap<String, String>,
    },
}

fn default_duplicates() -> String {
    "error".into()
}
fn one() -> usize {
    1
}

fn refuse(reason: String) -> ImportError {
    ImportError::refused(
        format!("the mapping cannot be used: {reason}"),
        vec![Problem::new(0, "", "", reason)],
    )
}

impl Mapping {
    pub fn parse(text: &str) -> Result<Mapping, ImportError> {
        let m: Mapping =
            toml::from_str(text).map_err(|e| refuse(format!("not a valid mapping file: {e}")))?;
        if !matches!(m.duplicates.as_str(), "error" | "sum") {
            return Err(refuse(format!(
                "duplicates = {:?}: write \"error\" or \"sum\"",
                m.duplicates
            )));
        }
        if m.values.is_empty() {
            return Err(refuse(
                "no [values] section: name at least one column of numbers and its indicator".into(),
            ));
        }
        if !m.columns.values().any(|v| v == "period") && !m.constants.contains_key("period") {
            return Err(refuse("no column is the period: add `COLUMN = \"period\"` under [columns], or period under [constants]".into()));
        }
        Ok(m)
    }

    pub(crate) fn layout(
        &self,
        head: &[Vec<String>],
        wanted: Format,
    ) -> Result<Layout, ImportError> {
        let codes = CodeLists::get();
        let h = self.header_row.saturating_sub(1);
        let header = head.get(h).ok_or_else(|| {
            refuse(format!(
                "header_row = {} but the file has fewer rows",
                self.header_row
            ))
        })?;
        let position = |name: &str| {
            header.iter().position(|c| c.trim() == name).or_else(|| {
                header
                    .iter()
                    .position(|c| c.trim().eq_ignore_ascii_case(name))
            })
        };
        let mut roles = vec![Role::Ignore; header.len()];
        let missing = |name: &str| {
            refuse(format!(
                "column {name:?} is not in the file; its columns are {}",
                header
                    .iter()
                    .map(|c| format!("{:?}", c.trim()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        };
        let resolve_indicator = |ind: &str| {
            codes
                .indicator_code(ind)
                .map(|i| i.code.clone())
                .map_err(|e| refuse(e.to_string()))
        };
        for (col, what) in &self.columns {
            let i = position(col).ok_or_else(|| missing(col))?;
            roles[i] = match what.trim().to_lowercase().as_str() {
                "period" => Role::Period,
                "indicator" => Role::Indicator,
                "flags" => Role::Flags,
                "ignore" => Role::Ignore,
                dim => Role::Dim(nansen_model::query::dimension_alias(dim)),
            };
        }
        for (col, v) in &self.values {
            let i = position(col).ok_or_else(|| missing(col))?;
            roles[i] = match v {
                ValueColumn::Indicator(ind) => Role::Value {
                    indicator: Some(resolve_indicator(ind)?),
                    extra: vec![],
                },
                ValueColumn::Detailed {
                    indicator,
                    dimensions,
                } => {
                    let extra = dimensions
                        .iter()
                        .map(|(d, c)| {
                            codes
                                .canonical(d, c)
                                .map(|c| (d.clone(), c))
                                .map_err(|e| refuse(e.to_string()))
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    Role::Value {
                        indicator: Some(resolve_indicator(indicator)?),
                        extra,
                    }
                }
            };
        }
        let mut constants = Vec::new();
        for (d, v) in &self.constants {
            let dim = nansen_model::query::dimension_alias(d);
            let code = match dim.as_str() {
                "period" => nansen_codes::Period::parse(v)
                    .map(|p| p.to_string())
                    .ok_or_else(|| refuse(format!("{v:?} is not a period")))?,
                _ => codes
                    .canonical(&dim, v)
                    .map_err(|e| refuse(e.to_string()))?,
            };
            constants.push((dim, code));
        }
        let frequency = match self.frequency.as_deref() {
            None => None,
            Some("month") => Some(Frequency::Month),
            Some("quarter") => Some(Frequency::Quarter),
            Some("year") => Some(Frequency::Year),
            Some(f) => {
                return Err(refuse(format!(
                    "frequency = {f:?}: write \"month\", \"quarter\" or \"year\""
                )))
            }
        };
        let mut layout = crate::layouts::mapped(
            wanted,
            h + 1,
            header.iter().map(|c| c.trim().to_string()).collect(),
            roles,
        );
        layout.constants = constants;
        layout.indicator = self
            .indicator
            .as_deref()
            .map(resolve_indicator)
            .transpose()?;
        layout.duplicates = if self.duplicates == "sum" {
            Duplicates::Sum
        } else {
            Duplicates::Error
        };
        layout.frequency = frequency;
        Ok(layout)
    }
}

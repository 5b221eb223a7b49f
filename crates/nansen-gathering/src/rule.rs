//! A template's rules over one reported row: a comparison of two sums of indicators and
//! numbers, as `asylum_applications_first_time <= asylum_applications` or
//! `decisions_positive + decisions_negative == decisions`. A row missing an indicator the rule
//! names is not checked by it (the missing cell is reported as such elsewhere).

use std::collections::HashMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Compare {
    Le,
    Lt,
    Ge,
    Gt,
    Eq,
    Ne,
}

impl Compare {
    fn holds(self, a: f64, b: f64) -> bool {
        match self {
            Compare::Le => a <= b,
            Compare::Lt => a < b,
            Compare::Ge => a >= b,
            Compare::Gt => a > b,
            Compare::Eq => a == b,
            Compare::Ne => a != b,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Term {
    Indicator(String),
    Number(f64),
}

/// A rule: `left compare right`, each side a sum of signed terms, and what a reporter is told
/// when a row breaks it; or a totals check over a dimension, `sum(sex) == sex:T`: for each
/// indicator, the cells of the dimension's other codes add up to its total code's.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub check: String,
    pub message: String,
    left: Vec<(f64, Term)>,
    compare: Compare,
    right: Vec<(f64, Term)>,
    /// The dimension and its total code, for a totals check.
    total: Option<(String, String)>,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("rule {check:?}: {reason}")]
pub struct RuleError {
    pub check: String,
    pub reason: String,
}

fn side(
    text: &str,
    known: &[String],
    bad: &dyn Fn(String) -> RuleError,
) -> Result<Vec<(f64, Term)>, RuleError> {
    let mut terms = Vec::new();
    let mut sign = 1.0;
    let mut expecting_term = true;
    for token in text
        .replace('+', " + ")
        .replace('-', " - ")
        .split_whitespace()
    {
        match token {
            "+" | "-" if expecting_term => {
                if token == "-" {
                    sign = -sign;
                }
            }
            "+" | "-" => {
                sign = if token == "-" { -1.0 } else { 1.0 };
                expecting_term = true;
            }
            _ if !expecting_term => {
                return Err(bad(format!("{token:?} follows a term without + or -")))
            }
            _ => {
                let term = match token.parse::<f64>() {
                    Ok(n) if n.is_finite() => Term::Number(n),
                    _ if known.iter().any(|k| k == token) => Term::Indicator(token.to_string()),
                    _ => {
                        return Err(bad(format!(
                        "{token:?} is neither a number nor one of the template's indicators ({})",
                        known.join(", ")
                    )))
                    }
                };
                terms.push((sign, term));
                sign = 1.0;
                expecting_term = false;
            }
        }
    }
    if terms.is_empty() || expecting_term {
        return Err(bad(
            "a side of the comparison is empty or ends with + or -".into()
        ));
    }
    Ok(terms)
}

impl Rule {
    /// Reads a rule over the template's `indicators`, or a totals check over one of its
    /// `dimensions` (each with the codes it lists; none when it names a code list).
    pub fn parse(
        check: &str,
        message: &str,
        indicators: &[String],
        dimensions: &[(&str, &[String])],
    ) -> Result<Rule, RuleError> {
        let bad = |reason: String| RuleError {
            check: check.to_string(),
            reason,
        };
        if check.contains("sum(") {
            return Rule::parse_total(check, message, dimensions);
        }
        let operators = [
            ("<=", Compare::Le),
            (">=", Compare::Ge),
            ("==", Compare::Eq),
            ("!=", Compare::Ne),
            ("<", Compare::Lt),
            (">", Compare::Gt),
        ];
        let (at, op, compare) = operators
            .iter()
            .filter_map(|(op, c)| check.find(op).map(|at| (at, *op, *c)))
            .min_by_key(|(at, op, _)| (*at, std::cmp::Reverse(op.len())))
            .ok_or_else(|| bad("it compares nothing: write <=, <, >=, >, == or !=".into()))?;
        let (left, right) = (&check[..at], &check[at + op.len()..]);
        if operators.iter().any(|(o, _)| right.contains(o)) {
            return Err(bad("it compares more than once".into()));
        }
        if message.trim().is_empty() {
            return Err(bad("it has no message to tell the reporter".into()));
        }
        Ok(Rule {
            check: check.trim().to_string(),
            message: message.trim().to_string(),
            left: side(left, indicators, &bad)?,
            compare,
            right: side(right, indicators, &bad)?,
            total: None,
        })
    }

    /// `sum(DIM) == DIM:CODE` (either way round).
    fn parse_total(
        check: &str,
        message: &str,
        dimensions: &[(&str, &[String])],
    ) -> Result<Rule, RuleError> {
        let bad = |reason: String| RuleError {
            check: check.to_string(),
            reason,
        };
        let shape =
            || bad("a totals check is written sum(DIMENSION) == DIMENSION:TOTAL_CODE".into());
        let (a, b) = check.split_once("==").ok_or_else(shape)?;
        let (a, b) = (a.trim(), b.trim());
        let (sum, total) = if a.starts_with("sum(") {
            (a, b)
        } else {
            (b, a)
        };
        let summed = sum
            .strip_prefix("sum(")
            .and_then(|s| s.strip_suffix(')'))
            .map(str::trim)
            .ok_or_else(shape)?;
        let (dimension, code) = total.split_once(':').ok_or_else(shape)?;
        let (dimension, code) = (dimension.trim(), code.trim());
        if dimension != summed {
            return Err(bad(format!(
                "it sums {summed} but compares with a code of {dimension}"
            )));
        }
        let codes = dimensions
            .iter()
            .find(|(d, _)| *d == dimension)
            .map(|(_, c)| *c)
            .ok_or_else(|| {
                bad(format!(
                    "{dimension:?} is not one of the template's dimensions"
                ))
            })?;
        if !codes.iter().any(|c| c == code) {
            return Err(bad(format!(
                "{code:?} is not one of the codes {dimension} lists, so it cannot be its total"
            )));
        }
        if codes.len() < 2 {
            return Err(bad(format!("{dimension} lists no code besides its total")));
        }
        if message.trim().is_empty() {
            return Err(bad("it has no message to tell the reporter".into()));
        }
        Ok(Rule {
            check: check.trim().to_string(),
            message: message.trim().to_string(),
            left: Vec::new(),
            compare: Compare::Eq,
            right: Vec::new(),
            total: Some((dimension.to_string(), code.to_string())),
        })
    }

    /// For a totals check, the dimension and its total code.
    pub fn total(&self) -> Option<(&str, &str)> {
        self.total.as_ref().map(|(d, c)| (d.as_str(), c.as_str()))
    }

    /// Whether a row keeps the rule: None when it lacks an indicator the rule names, or the
    /// rule is a totals check (which looks across rows).
    pub fn holds(&self, row: &HashMap<&str, f64>) -> Option<bool> {
        if self.total.is_some() {
            return None;
        }
        let sum = |terms: &[(f64, Term)]| -> Option<f64> {
            terms
                .iter()
                .map(|(sign, t)| match t {
                    Term::Number(n) => Some(sign * n),
                    Term::Indicator(name) => row.get(name.as_str()).map(|v| sign * v),
                })
                .sum()
        };
        Some(self.compare.holds(sum(&self.left)?, sum(&self.right)?))
    }

    /// The indicators the rule names.
    pub fn indicators(&self) -> impl Iterator<Item = &str> {
        self.left
            .iter()
            .chain(&self.right)
            .filter_map(|(_, t)| match t {
                Term::Indicator(name) => Some(name.as_str()),
                Term::Number(_) => None,
            })
    }

    /// The rule as an Excel formula over one row, `cell(indicator)` naming each indicator's
    /// cell; true, as here, when a cell it names is empty.
    pub fn excel(&self, cell: &dyn Fn(&str) -> String) -> String {
        let side = |terms: &[(f64, Term)]| -> String {
            let mut out = String::new();
            for (i, (sign, t)) in terms.iter().enumerate() {
                let term = match t {
                    Term::Number(n) => n.to_string(),
                    Term::Indicator(name) => cell(name),
                };
                match (i, *sign < 0.0) {
                    (0, true) => out.push('-'),
                    (0, false) => {}
                    (_, true) => out.push('-'),
                    (_, false) => out.push('+'),
                }
                out.push_str(&term);
            }
            out
        };
        let op = match self.compare {
            Compare::Le => "<=",
            Compare::Lt => "<",
            Compare::Ge => ">=",
            Compare::Gt => ">",
            Compare::Eq => "=",
            Compare::Ne => "<>",
        };
        let blanks: Vec<String> = self
            .indicators()
            .map(|name| format!("{}=\"\"", cell(name)))
            .collect();
        let comparison = format!("{}{op}{}", side(&self.left), side(&self.right));
        if blanks.is_empty() {
            comparison
        } else {
            format!("OR({},{comparison})", blanks.join(","))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn indicators() -> Vec<String> {
        [
            "applications",
            "first_time",
            "positive",
            "negative",
            "decisions",
        ]
        .map(String::from)
        .to_vec()
    }

    #[test]
    fn a_rule_compares_sums_of_indicators_and_skips_a_row_without_them() {
        let r = Rule::parse(
            "first_time <= applications",
            "first-time applicants cannot outnumber all applicants",
            &indicators(),
            &[],
        )
        .unwrap();
        let row = |pairs: &[(&'static str, f64)]| pairs.iter().copied().collect::<HashMap<_, _>>();
        assert_eq!(
            r.holds(&row(&[("applications", 10.0), ("first_time", 8.0)])),
            Some(true)
        );
        assert_eq!(
            r.holds(&row(&[("applications", 10.0), ("first_time", 12.0)])),
            Some(false)
        );
        assert_eq!(r.holds(&row(&[("applications", 10.0)])), None);
        let sum = Rule::parse(
            "positive + negative == decisions",
            "decisions add up",
            &indicators(),
            &[],
        )
        .unwrap();
        assert_eq!(
            sum.holds(&row(&[
                ("positive", 3.0),
                ("negative", 4.0),
                ("decisions", 7.0)
            ])),
            Some(true)
        );
        let minus = Rule::parse("decisions - positive >= 0", "x", &indicators(), &[]).unwrap();
        assert_eq!(
            minus.holds(&row(&[("positive", 3.0), ("decisions", 2.0)])),
            Some(false)
        );
    }

    #[test]
    fn a_rule_becomes_an_excel_formula_that_lets_empty_cells_pass() {
        let r = Rule::parse(
            "positive + negative == decisions - 0",
            "m",
            &indicators(),
            &[],
        )
        .unwrap();
        let col = |name: &str| match name {
            "positive" => "C2".to_string(),
            "negative" => "D2".to_string(),
            _ => "E2".to_string(),
        };
        assert_eq!(r.excel(&col), "OR(C2=\"\",D2=\"\",E2=\"\",C2+D2=E2-0)");
    }

    #[test]
    fn a_rule_that_cannot_be_read_is_refused_saying_why() {
        let sexes = ["F", "M", "T"].map(String::from);
        let dims: [(&str, &[String]); 1] = [("sex", &sexes)];
        let e = |check: &str| {
            Rule::parse(check, "m", &indicators(), &dims)
                .unwrap_err()
                .reason
        };
        assert!(e("sum(sex) == sex:X").contains("\"X\" is not one of the codes sex lists"));
        assert!(e("sum(age) == age:T").contains("\"age\" is not one of the template's dimensions"));
        assert!(e("sum(sex) == age:T").contains("sums sex but compares with a code of age"));
        let total = Rule::parse("sex:T == sum(sex)", "m", &indicators(), &dims).unwrap();
        assert_eq!(total.total(), Some(("sex", "T")));
        assert!(e("applications").contains("compares nothing"));
        assert!(e("refugees <= applications")
            .contains("\"refugees\" is neither a number nor one of the template's indicators"));
        assert!(e("0 <= applications <= 5").contains("more than once"));
        assert!(e("applications + <= 5").contains("ends with + or -"));
        assert!(e("applications first_time <= 5").contains("follows a term"));
        assert_eq!(
            Rule::parse("applications >= 0", " ", &indicators(), &[])
                .unwrap_err()
                .reason,
            "it has no message to tell the reporter"
        );
    }
}

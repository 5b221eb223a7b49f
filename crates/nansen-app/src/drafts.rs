//! The web's grid form for a return: one row per combination of codes, one column per
//! indicator. What the reporter types is kept as typed, problems and all, as the period's
//! draft (one per reporter and period) until it is submitted; it is checked by the same
//! rules as any return, each problem pinned to its row and column.

use crate::gathering::{known_code, reported_period};
use crate::{App, AppError, Caller, Result, SubmissionView};
use nansen_gathering::{Period, Template};
use nansen_model::{DatasetName, Timestamp};
use serde::Serialize;

/// The most rows a form holds; beyond it, the workbook is the tool.
pub const MAX_FORM_ROWS: usize = 5_000;
/// A template with at most this many combinations of codes gets them all as rows.
const PREFILLED_FORM_ROWS: usize = 1_000;
/// Blank rows offered when the combinations are too many to list.
const BLANK_ROWS: usize = 20;

/// A problem in the form, at its row (from 1) and column.
#[derive(Clone, Debug, Serialize)]
pub struct FormProblem {
    pub row: usize,
    /// A column's name, or the rule broken when it spans several.
    pub column: String,
    pub reason: String,
}

/// A period's return as the grid form shows it.
#[derive(Clone, Debug, Serialize)]
pub struct ReturnForm {
    pub template: DatasetName,
    pub title: String,
    pub period: String,
    pub reporter: String,
    pub deadline: String,
    /// The dimensions, then the indicators.
    pub columns: Vec<String>,
    /// How many of the columns are dimensions.
    pub dimensions: usize,
    /// Each dimension's codes with their labels.
    pub codes: Vec<Vec<(String, String)>>,
    pub rows: Vec<Vec<String>>,
    pub problems: Vec<FormProblem>,
    /// Who last saved the draft, and when (none: nothing saved yet).
    pub saved_by: Option<String>,
    pub saved_at: Option<Timestamp>,
    /// The reporter's returns for the period so far.
    pub submitted: Vec<SubmissionView>,
}

/// A draft kept for a period, as a reporter's list shows it.
#[derive(Clone, Debug, Serialize)]
pub struct DraftView {
    pub reporter: String,
    pub period: String,
    /// Always `draft`: not yet submitted, seen by the reporter alone.
    pub status: &'static str,
    pub saved_by: String,
    pub saved_at: Timestamp,
}

/// What submitting the form came to.
#[derive(Clone, Debug)]
pub enum FormOutcome {
    Submitted(SubmissionView),
    /// Refused: the form with its problems; the draft is kept.
    Refused(ReturnForm),
}

/// A filled form: its template, the reporter it is for, the period and the rows as typed.
struct FilledForm {
    record: nansen_store::TemplateRecord,
    template: Template,
    org: nansen_store::OrgRecord,
    period: Period,
    rows: Vec<Vec<String>>,
}

/// The grid's rows with numbers from 1 and the header first, as returns are read.
fn numbered(t: &Template, rows: &[Vec<String>]) -> nansen_gathering::Rows {
    let header: Vec<String> = t
        .dimensions
        .iter()
        .map(|d| d.name.clone())
        .chain(t.indicators.iter().cloned())
        .collect();
    std::iter::once((0, header))
        .chain(
            rows.iter()
                .enumerate()
                .map(|(i, r)| (i + 1, r.iter().map(|c| c.trim().to_string()).collect())),
        )
        .collect()
}

impl App {
    /// The caller's own organisations' drafts for a template: a draft is the reporter's until
    /// it is submitted, so reviewers do not see it.
    pub fn drafts(&self, who: &Caller, name: &DatasetName) -> Result<Vec<DraftView>> {
        let (r, _, _) = self.template_for(who, name)?;
        Ok(self
            .store
            .drafts(r.id)?
            .into_iter()
            .filter(|d| who.principal.role_in(&d.reporter).is_some())
            .map(|d| DraftView {
                reporter: d.reporter,
                period: d.period,
                status: "draft",
                saved_by: d.saved_by,
                saved_at: d.saved_at,
            })
            .collect())
    }

    fn checked(
        &self,
        t: &Template,
        rows: &[Vec<String>],
    ) -> std::result::Result<Vec<nansen_gathering::Cell>, Vec<FormProblem>> {
        let known = |list: &str, code: &str| known_code(t, list, code);
        nansen_gathering::read_rows(t, None, &numbered(t, rows), &known).map_err(|ps| {
            ps.into_iter()
                .map(|p| FormProblem {
                    row: p.row,
                    column: p.column,
                    reason: p.reason,
                })
                .collect()
        })
    }

    fn form_rows(t: &Template, labels: &nansen_gathering::Labels) -> Vec<Vec<String>> {
        let combinations = labels
            .codes
            .iter()
            .try_fold(1usize, |n, c| n.checked_mul(c.len().max(1)));
        let blank = vec![String::new(); t.dimensions.len() + t.indicators.len()];
        match combinations {
            Some(n) if n <= PREFILLED_FORM_ROWS => {
                let mut rows = vec![Vec::new()];
                for codes in &labels.codes {
                    rows = rows
                        .into_iter()
                        .flat_map(|r: Vec<String>| {
                            codes.iter().map(move |(c, _)| {
                                let mut r = r.clone();
                                r.push(c.clone());
                                r
                            })
                        })
                        .collect();
                }
                rows.into_iter()
                    .map(|mut r| {
                        r.extend(std::iter::repeat_n(String::new(), t.indicators.len()));
                        r
                    })
                    .collect()
            }
            _ => vec![blank; BLANK_ROWS],
        }
    }

    /// The grid form of a reporter's return for a period: its draft when one is kept (with
    /// its problems), else the combinations of codes to fill. Only the reporter's editors
    /// and admins open it.
    pub fn return_form(
        &self,
        who: &Caller,
        name: &DatasetName,
        period: &str,
        reporter: Option<&str>,
    ) -> Result<ReturnForm> {
        let (r, t, _) = self.template_for(who, name)?;
        let org = self.reporting_org(who, name, &t, reporter)?;
        let period = reported_period(&t, period)?;
        let labels = self.labels(&t);
        let draft = self.store.draft(r.id, org.id, &period.to_string())?;
        let (rows, problems, saved_by, saved_at) = match draft {
            Some(d) => {
                let rows: Vec<Vec<String>> = serde_json::from_str(&d.grid).map_err(|e| {
                    AppError::Store(nansen_store::StoreError::Corrupt(format!("a draft: {e}")))
                })?;
                let problems = self.checked(&t, &rows).err().unwrap_or_default();
                (rows, problems, Some(d.saved_by), Some(d.saved_at))
            }
            None => (Self::form_rows(&t, &labels), Vec::new(), None, None),
        };
        self.form_view(
            who, name, &t, &org.slug, period, labels, rows, problems, saved_by, saved_at,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn form_view(
        &self,
        who: &Caller,
        name: &DatasetName,
        t: &Template,
        reporter: &str,
        period: Period,
        labels: nansen_gathering::Labels,
        rows: Vec<Vec<String>>,
        problems: Vec<FormProblem>,
        saved_by: Option<String>,
        saved_at: Option<Timestamp>,
    ) -> Result<ReturnForm> {
        let period_text = period.to_string();
        Ok(ReturnForm {
            template: name.clone(),
            title: t.title.clone(),
            period: period_text.clone(),
            reporter: reporter.to_string(),
            deadline: period.deadline(t.deadline_days).to_string(),
            columns: t
                .dimensions
                .iter()
                .map(|d| d.name.clone())
                .chain(t.indicators.iter().cloned())
                .collect(),
            dimensions: t.dimensions.len(),
            codes: labels.codes,
            rows,
            problems,
            saved_by,
            saved_at,
            submitted: self
                .submissions(who, name, Some(&period_text))?
                .into_iter()
                .filter(|s| s.reporter == reporter)
                .collect(),
        })
    }

    fn form_grid(t: &Template, rows: Vec<Vec<String>>) -> Result<Vec<Vec<String>>> {
        let width = t.dimensions.len() + t.indicators.len();
        if rows.len() > MAX_FORM_ROWS {
            return Err(AppError::TooLarge(format!(
                "a form holds at most {MAX_FORM_ROWS} rows; this one has {} (use the workbook)",
                rows.len()
            )));
        }
        if let Some((i, r)) = rows.iter().enumerate().find(|(_, r)| r.len() != width) {
            return Err(AppError::BadRequest(format!(
                "row {}: {} cells where the template has {width} columns",
                i + 1,
                r.len()
            )));
        }
        if let Some((i, _)) = rows
            .iter()
            .enumerate()
            .find(|(_, r)| r.iter().any(|c| c.len() > 200))
        {
            return Err(AppError::BadRequest(format!(
                "row {}: a cell is longer than 200 characters",
                i + 1
            )));
        }
        Ok(rows)
    }

    /// What both doors of a filled form start from: the template, the reporter the caller
    /// reports for, the period, and the grid within bounds.
    fn filled_form(
        &self,
        who: &Caller,
        name: &DatasetName,
        period: &str,
        reporter: Option<&str>,
        rows: Vec<Vec<String>>,
    ) -> Result<FilledForm> {
        let (r, t, _) = self.template_for(who, name)?;
        let org = self.reporting_org(who, name, &t, reporter)?;
        let period = reported_period(&t, period)?;
        let rows = Self::form_grid(&t, rows)?;
        Ok(FilledForm {
            record: r,
            template: t,
            org,
            period,
            rows,
        })
    }

    /// Keeps `rows` as the reporter's draft for the period and answers the form with them and
    /// their `problems`.
    fn draft_form(
        &self,
        who: &Caller,
        name: &DatasetName,
        FilledForm {
            record: r,
            template: t,
            org,
            period,
            rows,
        }: FilledForm,
        problems: Vec<FormProblem>,
    ) -> Result<ReturnForm> {
        let grid = serde_json::to_string(&rows).map_err(|e| AppError::BadRequest(e.to_string()))?;
        let saved_at = self.store.write(|tx| {
            let at = tx.save_draft(r.id, org.id, &period.to_string(), &grid, &who.label)?;
            tx.audit(
                &who.label,
                "submission.draft",
                &name.to_string(),
                &serde_json::json!({ "reporter": org.slug, "period": period.to_string(), "rows": rows.len() }).to_string(),
            )?;
            Ok::<_, AppError>(at)
        })?;
        let labels = self.labels(&t);
        self.form_view(
            who,
            name,
            &t,
            &org.slug,
            period,
            labels,
            rows,
            problems,
            Some(who.label.clone()),
            Some(saved_at),
        )
    }

    /// Keeps what the reporter typed as the period's draft, as typed, and answers the form
    /// with its problems.
    pub fn save_return_draft(
        &self,
        who: &Caller,
        name: &DatasetName,
        period: &str,
        reporter: Option<&str>,
        rows: Vec<Vec<String>>,
    ) -> Result<ReturnForm> {
        let form = self.filled_form(who, name, period, reporter, rows)?;
        let problems = self
            .checked(&form.template, &form.rows)
            .err()
            .unwrap_or_default();
        self.draft_form(who, name, form, problems)
    }

    /// Submits what the reporter typed: checked as any return, it becomes the next revision
    /// and the draft goes; refused, it is kept as the draft and the form comes back with its
    /// problems.
    pub fn submit_return_form(
        &self,
        who: &Caller,
        name: &DatasetName,
        period: &str,
        reporter: Option<&str>,
        rows: Vec<Vec<String>>,
    ) -> Result<FormOutcome> {
        let form = self.filled_form(who, name, period, reporter, rows)?;
        Ok(match self.checked(&form.template, &form.rows) {
            Ok(cells) if cells.is_empty() => {
                let nothing = FormProblem {
                    row: 1,
                    column: "-".into(),
                    reason: "nothing is filled in: a return reports at least one count".into(),
                };
                FormOutcome::Refused(self.draft_form(who, name, form, vec![nothing])?)
            }
            Ok(cells) => FormOutcome::Submitted(self.keep_return(
                who,
                name,
                &form.record,
                &form.template,
                &form.org,
                form.period,
                &cells,
            )?),
            Err(problems) => FormOutcome::Refused(self.draft_form(who, name, form, problems)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::gathering::tests::people;
    use crate::test_support::apps;
    use crate::*;
    use nansen_model::{DatasetName, Timestamp};

    const SMALL: &str = r#"
title = "Monthly asylum applications"
frequency = "month"
deadline_days = 17
reporters = ["deu", "fra"]
[dimensions]
sex = ["F", "M", "UNK"]
[[indicators]]
name = "asylum_applications"
[[indicators]]
name = "asylum_applications_first_time"
[[rules]]
check = "asylum_applications_first_time <= asylum_applications"
message = "first-time applicants cannot outnumber all applicants"
"#;

    fn row(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn a_draft_is_kept_as_typed_with_its_problems_until_it_is_submitted() {
        for (_t, app) in apps() {
            let who = people(&app);
            let name: DatasetName = "euaa/eps".parse().unwrap();
            app.add_template(&who["admin"], &name, SMALL).unwrap();
            let period = nansen_gathering::Period::containing(
                nansen_gathering::Frequency::Month,
                Timestamp::now().day(),
            )
            .to_string();
            let blank = app
                .return_form(&who["reporter"], &name, &period, None)
                .unwrap();
            assert_eq!(blank.reporter, "deu");
            assert_eq!(
                blank.rows,
                vec![
                    row(&["F", "", ""]),
                    row(&["M", "", ""]),
                    row(&["UNK", "", ""])
                ],
                "every combination of codes, prefilled"
            );
            assert!(blank.saved_by.is_none());

            let typed = vec![
                row(&["F", "12", "15"]),
                row(&["M", "-3", ""]),
                row(&["UNK", "", ""]),
            ];
            let form = app
                .save_return_draft(&who["reporter"], &name, &period, None, typed.clone())
                .unwrap();
            assert_eq!(form.rows, typed, "kept as typed");
            assert_eq!(form.saved_by.as_deref(), Some("stats@bamf.de"));
            let said: Vec<(usize, &str)> = form
                .problems
                .iter()
                .map(|p| (p.row, p.column.as_str()))
                .collect();
            assert_eq!(
                said,
                vec![
                    (1, "asylum_applications_first_time <= asylum_applications"),
                    (2, "asylum_applications")
                ]
            );
            assert_eq!(
                app.return_form(&who["reporter"], &name, &period, None)
                    .unwrap()
                    .rows,
                typed,
                "the draft comes back"
            );
            assert!(
                app.submissions(&who["admin"], &name, None)
                    .unwrap()
                    .is_empty(),
                "a draft is not a submission"
            );
            let drafts = app.drafts(&who["reporter"], &name).unwrap();
            assert_eq!(
                (drafts.len(), drafts[0].status, drafts[0].period.as_str()),
                (1, "draft", period.as_str())
            );
            assert!(
                app.drafts(&who["admin"], &name).unwrap().is_empty(),
                "a draft is the reporter's until it is submitted"
            );
            let refused = app
                .submit_return_form(&who["reporter"], &name, &period, None, typed)
                .unwrap();
            assert!(matches!(refused, FormOutcome::Refused(f) if f.problems.len() == 2));

            let fixed = vec![
                row(&["F", "12", "10"]),
                row(&["M", "3", ""]),
                row(&["UNK", "", ""]),
            ];
            let FormOutcome::Submitted(s) = app
                .submit_return_form(&who["reporter"], &name, &period, Some("deu"), fixed)
                .unwrap()
            else {
                panic!("the fixed return is submitted")
            };
            assert_eq!((s.status.as_str(), s.cells), ("submitted", 3));
            let after = app
                .return_form(&who["reporter"], &name, &period, None)
                .unwrap();
            assert!(
                after.saved_by.is_none(),
                "the draft went with the submission"
            );
            assert_eq!(after.submitted.len(), 1);

            // Only the reporter's editors and admins open its form.
            assert!(matches!(
                app.return_form(&who["reporter"], &name, &period, Some("fra")),
                Err(AppError::Forbidden(_))
            ));
            assert!(matches!(
                app.return_form(&who["editor"], &name, &period, None),
                Err(AppError::Forbidden(_))
            ));
            assert!(matches!(
                app.return_form(&who["outsider"], &name, &period, None),
                Err(AppError::NotFound(_))
            ));
            assert!(matches!(
                app.save_return_draft(&who["fra"], &name, &period, None, vec![row(&["F", "1"])]),
                Err(AppError::BadRequest(m)) if m.contains("row 1: 2 cells where the template has 3 columns")
            ));
        }
    }
}

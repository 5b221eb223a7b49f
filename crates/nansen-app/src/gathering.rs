//! Data gathering (issue 17): reporting templates. A template belongs to an organisation;
//! its admins define it (each change a new version); its editors review returns; the
//! organisations it names as reporters see it and report for their own country. To anyone
//! else it does not exist. Its returns land in the dataset of the same name, created with
//! the template's first version.

use crate::{App, AppError, Caller, Result};
use nansen_gathering::{timeliness, Codes, Period, Review, Template};
use nansen_model::{DatasetName, Principal, Role, Timestamp};
use nansen_store::{StoreError, TemplateRecord};
use serde::Serialize;

/// The code lists a template's dimension may name instead of listing its codes.
pub const NAMED_CODE_LISTS: &[&str] = &["countries", nansen_gathering::POINTS];

/// A dimension as a template shows it.
#[derive(Clone, Debug, Serialize)]
pub struct DimensionView {
    pub name: String,
    /// The codes listed, or none when the dimension names a code list.
    pub codes: Vec<String>,
    pub code_list: Option<String>,
}

/// A flow monitoring point of a template.
#[derive(Clone, Debug, Serialize)]
pub struct PointView {
    pub code: String,
    pub name: String,
    pub latitude: f64,
    pub longitude: f64,
    pub admin_area: Option<String>,
    pub kind: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct RuleView {
    pub check: String,
    pub message: String,
}

/// A template as a caller sees it.
#[derive(Clone, Debug, Serialize)]
pub struct TemplateView {
    pub name: DatasetName,
    pub version: i64,
    pub title: String,
    pub frequency: String,
    pub deadline_days: u16,
    pub reporters: Vec<String>,
    pub dimensions: Vec<DimensionView>,
    pub indicators: Vec<String>,
    pub rules: Vec<RuleView>,
    /// Its flow monitoring points, when a dimension takes them.
    pub points: Vec<PointView>,
    pub created_by: String,
    pub created_at: Timestamp,
    /// May change it (its owner's admins).
    pub may_administer: bool,
    /// Reviews and decides on its returns (its owner's admins and editors).
    pub may_review: bool,
}

/// A submission as a caller sees it.
#[derive(Clone, Debug, Serialize)]
pub struct SubmissionView {
    pub id: String,
    pub template: DatasetName,
    pub template_version: i64,
    pub reporter: String,
    pub period: String,
    /// 1 for the first, one more for each resubmission.
    pub revision: i64,
    pub status: String,
    pub cells: usize,
    pub submitted_by: String,
    pub submitted_at: Timestamp,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<Timestamp>,
    /// The version of the template's dataset its approval landed as.
    pub dataset_version: Option<i64>,
}

pub(crate) fn submission_view(
    name: &DatasetName,
    s: nansen_store::SubmissionRecord,
) -> SubmissionView {
    SubmissionView {
        id: s.reference,
        template: name.clone(),
        template_version: s.template_version,
        reporter: s.reporter,
        period: s.period,
        revision: s.revision,
        status: s.status,
        cells: s.cells_count.max(0) as usize,
        submitted_by: s.submitted_by,
        submitted_at: s.submitted_at,
        reviewed_by: s.reviewed_by,
        reviewed_at: s.reviewed_at,
        dataset_version: s.dataset_version,
    }
}

/// One reporter and period in the completeness matrix.
#[derive(Clone, Debug, Serialize)]
pub struct CompletenessRow {
    pub reporter: String,
    pub period: String,
    /// `approved`, `submitted`, `has-issues`, `overdue` or `open`.
    pub status: String,
    /// When the first revision came.
    pub submitted_at: Option<Timestamp>,
    /// Days from the deadline to the first submission, 0 when on time.
    pub days_late: Option<i64>,
}

/// What an XLSForm does not say about a template.
#[derive(Clone, Debug)]
pub struct XlsFormImport {
    pub title: Option<String>,
    pub frequency: String,
    pub deadline_days: u16,
    pub reporters: Vec<String>,
}

/// Largest return one submission carries (a workbook, SDMX-CSV or CSV).
pub const MAX_RETURN_BYTES: usize = 20 << 20;

/// Most periods one completeness matrix spans.
pub const MAX_COMPLETENESS_PERIODS: usize = 1000;

/// A code of a named code list, as the template keeps it: a country by any of its names (not
/// an aggregate), or one of the template's own flow monitoring points.
/// A period a return may be submitted for: one of the template's that has begun.
pub(crate) fn reported_period(t: &Template, period: &str) -> Result<Period> {
    let period =
        Period::parse(t.frequency, period).map_err(|e| AppError::BadRequest(e.to_string()))?;
    if period.first > Timestamp::now().day() {
        return Err(AppError::BadRequest(format!(
            "period {period}: it has not begun"
        )));
    }
    Ok(period)
}

pub(crate) fn known_code(t: &Template, list: &str, code: &str) -> Option<String> {
    let codes = nansen_codes::CodeLists::get();
    match list {
        "countries" => codes
            .country(code)
            .filter(|c| !codes.is_aggregate(c))
            .map(str::to_string),
        nansen_gathering::POINTS => t
            .points
            .iter()
            .find(|p| p.code == code)
            .map(|p| p.code.clone()),
        _ => None,
    }
}

pub(crate) fn read(r: &TemplateRecord) -> Result<Template> {
    Template::from_toml(&r.definition).map_err(|e| {
        AppError::Store(StoreError::Corrupt(format!(
            "template {}/{} version {}: {e}",
            r.org, r.slug, r.version
        )))
    })
}

impl App {
    /// Whether the caller sees the template: its owner's members who define or review it,
    /// and members of its reporting organisations; and whether they administer it.
    fn template_standing(&self, who: &Caller, r: &TemplateRecord, t: &Template) -> Option<bool> {
        if who.principal == Principal::Operator {
            return Some(true);
        }
        match who.principal.role_in(&r.org) {
            Some(Role::Admin) => return Some(true),
            Some(Role::Editor) => return Some(false),
            _ => {}
        }
        t.reporters
            .iter()
            .any(|o| who.principal.role_in(o).is_some())
            .then_some(false)
    }

    /// The template at its latest version and whether the caller administers it; not found
    /// for anyone it does not concern.
    pub(crate) fn template_for(
        &self,
        who: &Caller,
        name: &DatasetName,
    ) -> Result<(TemplateRecord, Template, bool)> {
        let not_found = || AppError::NotFound(format!("template {name}"));
        let r = self
            .store
            .template(&name.org, &name.slug)?
            .ok_or_else(not_found)?;
        let t = read(&r)?;
        let administers = self.template_standing(who, &r, &t).ok_or_else(not_found)?;
        Ok((r, t, administers))
    }

    /// Whether the caller reviews the template's returns: its owner's admins and editors.
    pub(crate) fn reviews(&self, who: &Caller, r: &TemplateRecord) -> bool {
        who.principal == Principal::Operator
            || matches!(
                who.principal.role_in(&r.org),
                Some(Role::Admin | Role::Editor)
            )
    }

    fn template_view(
        &self,
        who: &Caller,
        r: TemplateRecord,
        t: Template,
        administers: bool,
    ) -> TemplateView {
        let may_review = self.reviews(who, &r);
        TemplateView {
            name: DatasetName::new(r.org, r.slug),
            version: r.version,
            title: t.title,
            frequency: t.frequency.as_str().to_string(),
            deadline_days: t.deadline_days,
            reporters: t.reporters,
            dimensions: t
                .dimensions
                .into_iter()
                .map(|d| match d.codes {
                    Codes::Listed(codes) => DimensionView {
                        name: d.name,
                        codes,
                        code_list: None,
                    },
                    Codes::Named(list) => DimensionView {
                        name: d.name,
                        codes: Vec::new(),
                        code_list: Some(list),
                    },
                })
                .collect(),
            indicators: t.indicators,
            rules: t
                .rules
                .into_iter()
                .map(|r| RuleView {
                    check: r.check,
                    message: r.message,
                })
                .collect(),
            points: t
                .points
                .into_iter()
                .map(|p| PointView {
                    code: p.code,
                    name: p.name,
                    latitude: p.latitude,
                    longitude: p.longitude,
                    admin_area: p.admin_area,
                    kind: p.kind,
                })
                .collect(),
            created_by: r.created_by,
            created_at: r.created_at,
            may_administer: administers,
            may_review,
        }
    }

    /// Adds a template, or its next version, from its TOML definition (its organisation's
    /// admins). Refused whole, naming the field, when anything is wrong: the template's own
    /// rules, a reporter that is no organisation or speaks for no country, a code list or
    /// indicator Nansen does not know, a dataset of the same name that is not the template's.
    pub fn add_template(
        &self,
        who: &Caller,
        name: &DatasetName,
        definition: &str,
    ) -> Result<TemplateView> {
        let org = self
            .store
            .org(&name.org)?
            .ok_or_else(|| AppError::NotFound(format!("organisation {}", name.org)))?;
        match who.principal.role_in(&org.slug) {
            _ if who.principal == Principal::Operator => {}
            Some(Role::Admin) => {}
            // To anyone outside the organisation its templates do not exist.
            None => return Err(AppError::NotFound(format!("template {name}"))),
            Some(_) => {
                return Err(AppError::Forbidden(format!(
                    "only admins of {} define its templates",
                    org.slug
                )))
            }
        }
        crate::identity::check_slug(&name.slug, "template name")?;
        let t = Template::from_toml(definition).map_err(|e| AppError::BadRequest(e.to_string()))?;
        for (i, r) in t.reporters.iter().enumerate() {
            let reporter = self.store.org(r)?.ok_or_else(|| {
                AppError::BadRequest(format!("reporters[{i}]: no organisation {r}"))
            })?;
            if reporter.country.is_none() {
                return Err(AppError::BadRequest(format!(
                    "reporters[{i}]: {r} speaks for no country, and each reporter reports for its own (nansen org add ... --country)"
                )));
            }
        }
        let codes = nansen_codes::CodeLists::get();
        for d in &t.dimensions {
            if let Codes::Named(list) = &d.codes {
                if !NAMED_CODE_LISTS.contains(&list.as_str()) {
                    return Err(AppError::BadRequest(format!(
                        "dimensions.{}: {list:?} is not a code list Nansen knows ({})",
                        d.name,
                        NAMED_CODE_LISTS.join(", ")
                    )));
                }
            }
            if ["geo", "period", "indicator", "value", "flags"].contains(&d.name.as_str()) {
                return Err(AppError::BadRequest(format!(
                    "dimensions.{}: Nansen fills {} itself (the reporter's country and the period)",
                    d.name, d.name
                )));
            }
        }
        for (i, p) in t.points.iter().enumerate() {
            if let Some(area) = &p.admin_area {
                codes
                    .admin_area(area)
                    .map_err(|e| AppError::BadRequest(format!("points[{i}].admin_area: {e}")))?;
            }
        }
        for (i, rule) in t.rules.iter().enumerate() {
            if let Some((dimension, total)) = rule.total() {
                let nansen = nansen_codes::CodeLists::total_code(dimension);
                if total != nansen {
                    return Err(AppError::BadRequest(format!(
                        "rules[{i}].check: Nansen writes the total of {dimension} {nansen}, so that a total is never added to its parts: list {nansen} in dimensions.{dimension} and check sum({dimension}) == {dimension}:{nansen}"
                    )));
                }
            }
        }
        for (i, ind) in t.indicators.iter().enumerate() {
            if codes.indicator(ind).is_none_or(|known| known.code != *ind) {
                return Err(AppError::BadRequest(format!(
                    "indicators[{i}].name: {ind:?} is not an indicator Nansen knows by that code (GET /api/v1/vocabularies/indicators)"
                )));
            }
        }
        let existing = self.store.template(&name.org, &name.slug)?;
        let dataset = self.store.dataset(&name.org, &name.slug)?;
        if existing.is_none() && dataset.is_some() {
            return Err(AppError::Conflict(format!(
                "a dataset {name} exists already: a template's returns land in the dataset of its name, so choose another"
            )));
        }
        let record = nansen_store::DatasetRecord {
            description: format!(
                "Reported by {} through the template {name}, {} by {}, due {} days after each period.",
                t.reporters.join(", "),
                t.frequency.as_str(),
                t.frequency.as_str(),
                t.deadline_days
            ),
            ..nansen_store::DatasetRecord::new(org.id, &name.slug, &t.title)
        };
        self.store.write(|tx| {
            let version = tx.add_template_version(org.id, &name.slug, definition, &who.label)?;
            if version == 1 {
                tx.insert_dataset(&record)?;
                tx.audit(
                    &who.label,
                    "dataset.create",
                    &name.to_string(),
                    &serde_json::json!({ "sharing": record.sharing, "template": name.to_string() })
                        .to_string(),
                )?;
            }
            tx.audit(
                &who.label,
                "template.add",
                &name.to_string(),
                &serde_json::json!({ "version": version, "reporters": t.reporters }).to_string(),
            )?;
            Ok::<_, StoreError>(())
        })?;
        self.template(who, name)
    }

    /// A template at its latest version; not found for anyone it does not concern.
    pub fn template(&self, who: &Caller, name: &DatasetName) -> Result<TemplateView> {
        let (r, t, administers) = self.template_for(who, name)?;
        Ok(self.template_view(who, r, t, administers))
    }

    /// The templates the caller defines, reviews or reports to.
    pub fn templates(&self, who: &Caller) -> Result<Vec<TemplateView>> {
        let mut out = Vec::new();
        for r in self.store.templates()? {
            let t = read(&r)?;
            if let Some(administers) = self.template_standing(who, &r, &t) {
                out.push(self.template_view(who, r, t, administers));
            }
        }
        Ok(out)
    }
}

impl App {
    /// Submits a reporter's return for a period, as its next revision: the period's workbook
    /// filled, an SDMX-CSV file, or a CSV with the template's dimension columns and one column
    /// per indicator (told apart by their content). An editor or admin of a reporting
    /// organisation submits for it. Refused whole, each problem named by sheet or row,
    /// column and reason.
    pub fn submit(
        &self,
        who: &Caller,
        name: &DatasetName,
        period: &str,
        file: impl AsRef<[u8]>,
    ) -> Result<SubmissionView> {
        let file = file.as_ref();
        if file.len() > MAX_RETURN_BYTES {
            return Err(AppError::TooLarge(format!(
                "a return is at most {} MB; this one is {} MB",
                MAX_RETURN_BYTES >> 20,
                file.len() >> 20
            )));
        }
        let (r, t, _) = self.template_for(who, name)?;
        let reporter = self.reporting_org(who, name, &t, None)?;
        let period = reported_period(&t, period)?;
        let known = |list: &str, code: &str| known_code(&t, list, code);
        let refused = |problems: Vec<nansen_gathering::Problem>| {
            AppError::BadRequest(
                problems
                    .iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        };
        let country = reporter.country.clone().unwrap_or_default();
        let cells = if file.starts_with(b"PK\x03\x04") {
            let heading = self.heading(&r, &t, &reporter.slug, &country, period);
            let path = self
                .uploads_dir()?
                .join(format!("return-{}.xlsx", nansen_store::new_reference()));
            std::fs::write(&path, file)
                .map_err(|e| AppError::BadRequest(format!("cannot keep the upload: {e}")))?;
            let sheets = nansen_formats::workbook_sheets(&path);
            let _ = std::fs::remove_file(&path);
            let sheets = sheets?;
            nansen_gathering::read_workbook(&t, &heading, &self.labels(&t), &|name: &str| {
                sheets
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, g)| g.clone())
            })
            .map_err(refused)?
        } else {
            let text = std::str::from_utf8(file).map_err(|_| {
                AppError::BadRequest(
                    "the file is neither a workbook (XLSX) nor UTF-8 text (CSV)".into(),
                )
            })?;
            let text = text.trim_start_matches('\u{feff}');
            if nansen_gathering::is_sdmx_csv(text) {
                let dataflow = nansen_gathering::sdmx::dataflow_ref(&r.org, &r.slug);
                let period_text = period.to_string();
                let expect = nansen_gathering::SdmxExpect {
                    dataflow: &dataflow,
                    period: &period_text,
                    country: &country,
                };
                nansen_gathering::read_sdmx_csv(&t, text, &expect, &known).map_err(refused)?
            } else {
                nansen_gathering::read_csv(&t, text, &known).map_err(refused)?
            }
        };
        self.keep_return(who, name, &r, &t, &reporter, period, &cells)
    }

    /// The reporter a caller submits for: `reporter` when given, else the first of the
    /// template's reporters whose editor or admin the caller is.
    pub(crate) fn reporting_org(
        &self,
        who: &Caller,
        name: &DatasetName,
        t: &Template,
        reporter: Option<&str>,
    ) -> Result<nansen_store::OrgRecord> {
        let edits = |o: &str| {
            who.principal
                .role_in(o)
                .is_some_and(|role| matches!(role, Role::Admin | Role::Editor))
        };
        let reporter = t
            .reporters
            .iter()
            .find(|o| reporter.is_none_or(|r| r == o.as_str()) && edits(o))
            .ok_or_else(|| {
                AppError::Forbidden(match reporter {
                    Some(r) if !t.reporters.iter().any(|o| o == r) => {
                        format!(
                            "{r} is not one of {name}'s reporters ({})",
                            t.reporters.join(", ")
                        )
                    }
                    Some(r) => format!("only editors and admins of {r} submit its returns"),
                    None => format!(
                        "only editors and admins of its reporters ({}) submit to {name}",
                        t.reporters.join(", ")
                    ),
                })
            })?;
        self.store
            .org(reporter)?
            .ok_or_else(|| AppError::NotFound(format!("organisation {reporter}")))
    }

    /// Keeps checked cells as the reporter's next revision for the period; a draft of the
    /// same return goes in the same transaction, as the return is now submitted.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn keep_return(
        &self,
        who: &Caller,
        name: &DatasetName,
        r: &TemplateRecord,
        t: &Template,
        reporter: &nansen_store::OrgRecord,
        period: Period,
        cells: &[nansen_gathering::Cell],
    ) -> Result<SubmissionView> {
        let mut kept = t
            .dimensions
            .iter()
            .map(|d| d.name.as_str())
            .chain(["indicator", "value"])
            .collect::<Vec<_>>()
            .join(",");
        kept.push('\n');
        for c in cells {
            kept.push_str(&format!(
                "{},{},{}\n",
                c.key.join(","),
                c.indicator,
                c.value
            ));
        }
        let period_text = period.to_string();
        let (reference, _) = self.store.write(|tx| {
            let (reference, revision) =
                tx.insert_submission(r, reporter.id, &period_text, &kept, cells.len(), &who.label)?;
            tx.delete_draft(r.id, reporter.id, &period_text)?;
            tx.audit(
                &who.label,
                "submission.add",
                &reference,
                &serde_json::json!({ "template": name.to_string(), "reporter": reporter.slug, "period": period_text, "revision": revision, "cells": cells.len() })
                    .to_string(),
            )?;
            Ok::<_, StoreError>((reference, revision))
        })?;
        self.submissions(who, name, Some(&period_text))?
            .into_iter()
            .find(|s| s.id == reference)
            .ok_or_else(|| {
                AppError::Store(StoreError::Corrupt(
                    "a submission just kept vanished".into(),
                ))
            })
    }

    /// A template's submissions: every reporter's to its owner's admins and editors, a
    /// reporter's own to it.
    pub fn submissions(
        &self,
        who: &Caller,
        name: &DatasetName,
        period: Option<&str>,
    ) -> Result<Vec<SubmissionView>> {
        let (r, t, _) = self.template_for(who, name)?;
        let reviews = self.reviews(who, &r);
        let period = period
            .map(|p| Period::parse(t.frequency, p).map(|p| p.to_string()))
            .transpose()
            .map_err(|e| AppError::BadRequest(e.to_string()))?;
        Ok(self
            .store
            .submissions(r.id, period.as_deref(), false)?
            .into_iter()
            .filter(|s| reviews || who.principal.role_in(&s.reporter).is_some())
            .map(|s| submission_view(name, s))
            .collect())
    }
}

impl App {
    /// Each dimension's codes with their labels, and each indicator's label, for a workbook.
    pub(crate) fn labels(&self, t: &Template) -> nansen_gathering::Labels {
        let codes = nansen_codes::CodeLists::get();
        let mut labels = nansen_gathering::workbook::listed_codes(t, &|list| match list {
            "countries" => codes
                .countries()
                .into_iter()
                .map(|(c, n)| (c.to_string(), n.to_string()))
                .collect(),
            nansen_gathering::POINTS => t
                .points
                .iter()
                .map(|p| (p.code.clone(), p.name.clone()))
                .collect(),
            _ => Vec::new(),
        });
        labels.indicators = t
            .indicators
            .iter()
            .map(|i| {
                codes
                    .indicator(i)
                    .map(|k| k.label.clone())
                    .unwrap_or_default()
            })
            .collect();
        labels
    }

    fn heading(
        &self,
        r: &TemplateRecord,
        t: &Template,
        reporter: &str,
        country: &str,
        period: Period,
    ) -> nansen_gathering::Heading {
        nansen_gathering::Heading {
            template: format!("{}/{}", r.org, r.slug),
            version: r.version,
            reporter: reporter.to_string(),
            country: country.to_string(),
            period: period.to_string(),
            due: period.deadline(t.deadline_days).to_string(),
        }
    }

    /// The period's workbook (XLSX) for a reporter: the caller's own reporting organisation,
    /// or, for reviewers, the one named. Answers its file name and bytes.
    pub fn workbook(
        &self,
        who: &Caller,
        name: &DatasetName,
        period: &str,
        reporter: Option<&str>,
    ) -> Result<(String, Vec<u8>)> {
        let (r, t, _) = self.template_for(who, name)?;
        let reviews = self.reviews(who, &r);
        let reporter = match reporter {
            Some(o)
                if t.reporters.iter().any(|x| x == o)
                    && (reviews || who.principal.role_in(o).is_some()) =>
            {
                o.to_string()
            }
            Some(o) => {
                return Err(AppError::BadRequest(format!(
                    "reporter: {o} is not one of yours among {name}'s reporters ({})",
                    t.reporters.join(", ")
                )))
            }
            None => t
                .reporters
                .iter()
                .find(|o| who.principal.role_in(o).is_some())
                .cloned()
                .ok_or_else(|| {
                    AppError::BadRequest(format!(
                        "reporter: name the reporter whose workbook this is ({})",
                        t.reporters.join(", ")
                    ))
                })?,
        };
        let period =
            Period::parse(t.frequency, period).map_err(|e| AppError::BadRequest(e.to_string()))?;
        let country = self
            .store
            .org(&reporter)?
            .and_then(|o| o.country)
            .unwrap_or_default();
        let heading = self.heading(&r, &t, &reporter, &country, period);
        let bytes = nansen_gathering::write_workbook(&t, &heading, &self.labels(&t))
            .map_err(|e| AppError::BadRequest(format!("the workbook cannot be made: {e}")))?;
        Ok((
            format!("{}-{}-{reporter}-{period}.xlsx", r.org, r.slug),
            bytes,
        ))
    }

    /// The template in another tool's terms: an SDMX-ML 2.1 structure message (`sdmx`) or an
    /// XLSForm for field collection (`xlsform`). Answers a file name, its media type and bytes.
    pub fn export_template(
        &self,
        who: &Caller,
        name: &DatasetName,
        format: &str,
    ) -> Result<(String, &'static str, Vec<u8>)> {
        let (r, t, _) = self.template_for(who, name)?;
        let labels = self.labels(&t);
        match format {
            "sdmx" => {
                let codes = nansen_codes::CodeLists::get();
                let mut countries = Vec::new();
                for o in &t.reporters {
                    if let Some(c) = self.store.org(o)?.and_then(|o| o.country) {
                        let label = codes.country_name(&c).unwrap_or(&c).to_string();
                        countries.push((c, label));
                    }
                }
                let prepared = Timestamp::now().to_string();
                let xml = nansen_gathering::sdmx::structure(
                    &t,
                    &nansen_gathering::sdmx::Structure {
                        org: &r.org,
                        slug: &r.slug,
                        version: r.version,
                        labels: &labels,
                        countries: &countries,
                        prepared: prepared.get(..19).unwrap_or(&prepared),
                    },
                );
                Ok((
                    format!("{}-{}-structure.xml", r.org, r.slug),
                    "application/xml",
                    xml.into_bytes(),
                ))
            }
            "xlsform" => {
                let bytes = nansen_gathering::xlsform::write_xlsform(
                    &t,
                    &format!("{}_{}", r.org, r.slug).replace('-', "_"),
                    r.version,
                    &labels,
                )
                .map_err(|e| AppError::BadRequest(format!("the XLSForm cannot be made: {e}")))?;
                Ok((
                    format!("{}-{}-xlsform.xlsx", r.org, r.slug),
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    bytes,
                ))
            }
            other => Err(AppError::BadRequest(format!(
                "format: {other:?} is not one Nansen exports a template as (sdmx or xlsform)"
            ))),
        }
    }

    /// Defines a template (or its next version) from an XLSForm: each `select_one` question is
    /// a dimension with its list's choices as codes, each `integer` one an indicator; what a
    /// form does not say (how often, when due, who reports) the caller gives.
    pub fn import_xlsform(
        &self,
        who: &Caller,
        name: &DatasetName,
        form: &[u8],
        imported: &XlsFormImport,
    ) -> Result<TemplateView> {
        let path = self
            .uploads_dir()?
            .join(format!("xlsform-{}.xlsx", nansen_store::new_reference()));
        std::fs::write(&path, form)
            .map_err(|e| AppError::BadRequest(format!("cannot keep the upload: {e}")))?;
        let sheets = nansen_formats::workbook_sheets(&path);
        let _ = std::fs::remove_file(&path);
        let sheets = sheets?;
        let sheet = |n: &str| {
            sheets
                .iter()
                .find(|(s, _)| s == n)
                .map(|(_, g)| g.as_slice())
        };
        let missing = |n: &str| {
            AppError::BadRequest(format!(
                "sheet {n}: an XLSForm has one, and this file has none"
            ))
        };
        let parts = nansen_gathering::xlsform::read_xlsform(
            sheet("survey").ok_or_else(|| missing("survey"))?,
            sheet("choices").ok_or_else(|| missing("choices"))?,
            sheet("settings"),
        )
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
        let title = imported
            .title
            .clone()
            .or_else(|| parts.title.clone())
            .unwrap_or_else(|| name.slug.clone());
        let toml = nansen_gathering::xlsform::template_toml(
            &parts,
            &title,
            &imported.frequency,
            imported.deadline_days,
            &imported.reporters,
        );
        self.add_template(who, name, &toml)
    }

    /// Who reported which period on time: each reporter by each period from `from` to `to`
    /// (by default the template's first period to the current one). Its owner's admins and
    /// editors see every reporter; a reporter sees its own row.
    pub fn completeness(
        &self,
        who: &Caller,
        name: &DatasetName,
        range: Option<(&str, &str)>,
    ) -> Result<Vec<CompletenessRow>> {
        let (r, t, _) = self.template_for(who, name)?;
        let today = Timestamp::now().day();
        let submissions = self.store.submissions(r.id, None, false)?;
        let bad = |e: nansen_gathering::PeriodError| AppError::BadRequest(e.to_string());
        let (from, to) = match range {
            Some((a, b)) => (
                Period::parse(t.frequency, a).map_err(bad)?,
                Period::parse(t.frequency, b).map_err(bad)?,
            ),
            // The template's first period: when it was made, or the earliest a return was
            // sent for, as returns may be sent for periods before the template existed.
            None => (
                submissions
                    .iter()
                    .filter_map(|s| Period::parse(t.frequency, &s.period).ok())
                    .fold(
                        Period::containing(t.frequency, r.first_created_at.day()),
                        |first, p| if p.first < first.first { p } else { first },
                    ),
                Period::containing(t.frequency, today),
            ),
        };
        let periods = from.through(to);
        if periods.len() > MAX_COMPLETENESS_PERIODS {
            return Err(AppError::BadRequest(format!(
                "period: {} periods from {from} to {to}; a matrix spans at most {MAX_COMPLETENESS_PERIODS}",
                periods.len()
            )));
        }
        let reviews = self.reviews(who, &r);
        let mut by: std::collections::HashMap<(String, String), (Timestamp, String)> =
            Default::default();
        let mut approved = std::collections::HashSet::new();
        for s in submissions {
            let key = (s.reporter.clone(), s.period.clone());
            if s.status == "approved" {
                approved.insert(key.clone());
            }
            // Revisions come oldest first: the first gives the day, the last the status,
            // except that rejecting a later revision leaves an earlier approval standing.
            let status = if s.status == "rejected" && approved.contains(&key) {
                "approved".to_string()
            } else {
                s.status
            };
            by.entry(key)
                .and_modify(|e| e.1 = status.clone())
                .or_insert((s.submitted_at, status));
        }
        let mut out = Vec::new();
        for reporter in t
            .reporters
            .iter()
            .filter(|o| reviews || who.principal.role_in(o).is_some())
        {
            for p in &periods {
                let key = (reporter.clone(), p.to_string());
                let first = by.get(&key);
                let latest = first.map(|(_, status)| match status.as_str() {
                    "approved" => Review::Approved,
                    "has-issues" => Review::HasIssues,
                    "rejected" => Review::Rejected,
                    _ => Review::Submitted,
                });
                let first_day = first.map(|(at, _)| at.day());
                let standing = timeliness(today, p.deadline(t.deadline_days), first_day, latest);
                out.push(CompletenessRow {
                    reporter: reporter.clone(),
                    period: p.to_string(),
                    status: standing.status.as_str().to_string(),
                    submitted_at: first.map(|(at, _)| *at),
                    days_late: standing.days_late,
                });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::test_support::apps;
    use crate::*;
    use nansen_model::Role;

    pub(crate) const EPS: &str = r#"
title = "Monthly asylum applications (EPS)"
frequency = "month"
deadline_days = 17
reporters = ["deu", "fra"]
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
"#;

    /// The owner euaa (an admin and an editor), reporters deu and fra (an editor each), and
    /// unhcr (an admin) whom no template concerns.
    pub(crate) fn people(app: &App) -> std::collections::HashMap<&'static str, Caller> {
        let op = Caller::operator();
        for (slug, country) in [
            ("euaa", None),
            ("deu", Some("DEU")),
            ("fra", Some("FRA")),
            ("unhcr", None),
        ] {
            app.add_org_of(&op, slug, slug, country).unwrap();
        }
        let mut who = std::collections::HashMap::new();
        for (name, email, org, role) in [
            ("admin", "admin@euaa.eu", "euaa", Role::Admin),
            ("editor", "editor@euaa.eu", "euaa", Role::Editor),
            ("reporter", "stats@bamf.de", "deu", Role::Editor),
            ("fra", "stats@ofpra.fr", "fra", Role::Editor),
            ("outsider", "x@unhcr.org", "unhcr", Role::Admin),
        ] {
            app.add_user(&op, email, org, role, "a long enough password")
                .unwrap();
            who.insert(name, app.sign_in(email, "a long enough password").unwrap());
        }
        who
    }

    #[test]
    fn a_template_is_defined_by_its_owner_s_admins_versioned_and_seen_only_by_those_it_concerns() {
        for (_t, app) in apps() {
            let who = people(&app);
            let name: nansen_model::DatasetName = "euaa/eps".parse().unwrap();
            assert!(matches!(
                app.add_template(&who["editor"], &name, EPS),
                Err(AppError::Forbidden(_))
            ));
            let t = app.add_template(&who["admin"], &name, EPS).unwrap();
            assert_eq!(
                (t.version, t.frequency.as_str(), t.deadline_days),
                (1, "month", 17)
            );
            assert_eq!(t.dimensions[0].code_list.as_deref(), Some("countries"));
            assert!(
                app.dataset(&who["admin"], &name).is_ok(),
                "its returns' dataset exists"
            );
            let t2 = app
                .add_template(
                    &who["admin"],
                    &name,
                    &EPS.replace("deadline_days = 17", "deadline_days = 20"),
                )
                .unwrap();
            assert_eq!((t2.version, t2.deadline_days), (2, 20));
            assert!(!app.template(&who["editor"], &name).unwrap().may_administer);
            assert!(app.template(&who["reporter"], &name).is_ok());
            assert!(matches!(
                app.template(&who["outsider"], &name),
                Err(AppError::NotFound(_))
            ));
            assert_eq!(app.templates(&who["outsider"]).unwrap().len(), 0);
            assert_eq!(app.templates(&who["reporter"]).unwrap().len(), 1);
            for (bad, message) in [
                (EPS.replace("\"deu\", \"fra\"", "\"deu\", \"unhcr\""), "reporters[1]: unhcr speaks for no country, and each reporter reports for its own (nansen org add ... --country)"),
                (EPS.replace("\"countries\"", "\"planets\""), "dimensions.origin: \"planets\" is not a code list Nansen knows (countries, points)"),
                (EPS.replace("name = \"asylum_applications\"\n", "name = \"asylum_apps\"\n").replace("<= asylum_applications\"", "<= asylum_apps\""), "indicators[0].name: \"asylum_apps\" is not an indicator Nansen knows by that code (GET /api/v1/vocabularies/indicators)"),
                (EPS.replace("frequency = \"month\"", "frequency = \"fortnight\""), "frequency: \"fortnight\" is not a frequency (day, week, month, quarter or year)"),
                (EPS.replace("\"UNK\"]", "\"UNK\", \"ALL\"]") + "[[rules]]\ncheck = \"sum(sex) == sex:ALL\"\nmessage = \"m\"\n", "rules[1].check: Nansen writes the total of sex T, so that a total is never added to its parts: list T in dimensions.sex and check sum(sex) == sex:T"),
            ] {
                let e = app.add_template(&who["admin"], &name, &bad).unwrap_err();
                assert_eq!(e.to_string(), message);
            }
            assert_eq!(
                app.template(&who["admin"], &name).unwrap().version,
                2,
                "a refused version changes nothing"
            );
        }
    }

    #[test]
    fn the_completeness_matrix_says_on_time_late_overdue_open_and_has_issues_and_a_reporter_sees_its_own(
    ) {
        for (_t, app) in apps() {
            let who = people(&app);
            let name: nansen_model::DatasetName = "euaa/eps".parse().unwrap();
            app.add_template(&who["admin"], &name, EPS).unwrap();
            let today = nansen_model::Timestamp::now().day();
            let this_month = format!("{}-{:02}", today.year(), today.month() as u8);
            let csv = "origin,sex,asylum_applications,asylum_applications_first_time\nSYR,F,10,9\n";
            // 2025-10 was due on 2025-11-17: deu reports it today, late; fra never does.
            let late = app.submit(&who["reporter"], &name, "2025-10", csv).unwrap();
            // The current month is not due yet: deu reports on time, fra has time left.
            app.submit(&who["reporter"], &name, &this_month, csv)
                .unwrap();
            app.comment_submission(&who["editor"], &late.id, None, "please check")
                .unwrap();
            let rows = app
                .completeness(&who["editor"], &name, Some(("2025-10", &this_month)))
                .unwrap();
            let at = |reporter: &str, period: &str| {
                rows.iter()
                    .find(|r| r.reporter == reporter && r.period == period)
                    .map(|r| (r.status.clone(), r.days_late))
                    .unwrap()
            };
            let due =
                nansen_gathering::Period::parse(nansen_gathering::Frequency::Month, "2025-10")
                    .unwrap()
                    .deadline(17);
            assert_eq!(
                at("deu", "2025-10"),
                ("has-issues".into(), Some((today - due).whole_days()))
            );
            assert_eq!(at("fra", "2025-10"), ("overdue".into(), None));
            assert_eq!(at("deu", &this_month), ("submitted".into(), Some(0)));
            assert_eq!(at("fra", &this_month), ("open".into(), None));
            let periods = rows.len() / 2;
            assert!(
                periods >= 2 && rows.len() == 2 * periods,
                "every reporter by every period"
            );
            let own = app
                .completeness(&who["reporter"], &name, Some(("2025-10", &this_month)))
                .unwrap();
            assert!(own.iter().all(|r| r.reporter == "deu") && own.len() == periods);
            let default = app.completeness(&who["editor"], &name, None).unwrap();
            assert_eq!(
                (default.first().map(|r| r.period.as_str()), default.len()),
                (Some("2025-10"), rows.len()),
                "by default from the earliest period a return was sent for, though the template is younger"
            );
            assert!(matches!(
                app.completeness(&who["outsider"], &name, None),
                Err(AppError::NotFound(_))
            ));
            let e = app
                .completeness(&who["editor"], &name, Some(("1900-01", &this_month)))
                .unwrap_err();
            assert!(e.to_string().contains("a matrix spans at most 1000"), "{e}");
        }
    }

    #[test]
    fn a_flow_monitoring_template_takes_its_points_and_refuses_another_or_a_bad_admin_area() {
        for (_t, app) in apps() {
            let who = people(&app);
            let op = Caller::operator();
            app.add_org_of(&op, "iom-grc", "IOM Greece", Some("GRC"))
                .unwrap();
            app.add_user(
                &op,
                "dtm@iom.int",
                "iom-grc",
                Role::Editor,
                "a long enough password",
            )
            .unwrap();
            let dtm = app
                .sign_in("dtm@iom.int", "a long enough password")
                .unwrap();
            let flows = "title = \"Daily flows\"\nfrequency = \"day\"\ndeadline_days = 2\nreporters = [\"iom-grc\"]\n[dimensions]\npoint = \"points\"\nsex = [\"F\", \"M\"]\n[[indicators]]\nname = \"arrivals_land\"\n[[points]]\ncode = \"FMP-001\"\nname = \"Kipoi border crossing\"\nlatitude = 40.98\nlongitude = 26.30\nadmin_area = \"GR51\"\ntype = \"border crossing\"\n";
            let name: nansen_model::DatasetName = "euaa/flows".parse().unwrap();
            let bad = app
                .add_template(&who["admin"], &name, &flows.replace("GR51", "51GR"))
                .unwrap_err();
            assert!(
                bad.to_string().starts_with("points[0].admin_area:"),
                "{bad}"
            );
            let t = app.add_template(&who["admin"], &name, flows).unwrap();
            assert_eq!(
                (t.points.len(), t.points[0].kind.as_str()),
                (1, "border crossing")
            );
            let e = app
                .submit(
                    &dtm,
                    &name,
                    "2026-11-30",
                    "point,sex,arrivals_land\nFMP-009,F,3\n",
                )
                .unwrap_err();
            assert_eq!(
                e.to_string(),
                "row 2, column point: \"FMP-009\" is not in the code list points"
            );
            let s = app
                .submit(
                    &dtm,
                    &name,
                    "2026-11-30",
                    "point,sex,arrivals_land\nFMP-001,F,3\nFMP-001,M,5\n",
                )
                .unwrap();
            assert_eq!(s.cells, 2);
            let a = app.approve_submission(&who["editor"], &s.id).unwrap();
            assert_eq!((a.version, a.added), (Some(1), 2));
        }
    }
}

//! Review of returns (issue 17): comments pinned to cells, approval and rejection, one by one
//! or of what a filter selects, and the difference between revisions. Approving lands the
//! return as a version of the template's dataset that replaces only that reporter's cells for
//! that period (the reporter's country as `geo`), in the same transaction as the decision, so
//! an approval is whole or is not at all.

use crate::gathering::{submission_view, SubmissionView};
use crate::{App, AppError, Caller, Result};
use nansen_gathering::{Codes, Period, Template};
use nansen_model::{canonical_order, Cube, DatasetName, Role, Timestamp, VersionMode};
use nansen_store::{HookSubject, StoreError, SubmissionComment, SubmissionRecord, TemplateRecord};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The statuses a reviewer may still decide.
const UNDECIDED: &[&str] = &["submitted", "has-issues"];

/// How one cell differs from the previous revision.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CellChange {
    /// The cell's key: its dimension codes in the template's order, then the indicator.
    pub cell: String,
    pub before: Option<u64>,
    pub after: Option<u64>,
}

/// One revision with its comments and what it changed.
#[derive(Clone, Debug, Serialize)]
pub struct SubmissionDetail {
    #[serde(flatten)]
    pub submission: SubmissionView,
    pub comments: Vec<SubmissionComment>,
    /// The revision it is compared with, when there is one.
    pub previous_revision: Option<i64>,
    pub changes: Vec<CellChange>,
    /// A later revision of the same reporter and period supersedes it.
    pub superseded_by: Option<i64>,
}

/// What approving landed.
#[derive(Clone, Debug, Serialize)]
pub struct Approval {
    pub template: DatasetName,
    /// The submissions approved.
    pub approved: Vec<String>,
    /// The dataset version they landed as; the latest one when nothing changed.
    pub version: Option<i64>,
    /// Whether a new version was made (no cell changed otherwise).
    pub new_version: bool,
    pub added: u64,
    pub changed: u64,
    pub removed: u64,
    /// Earlier approved revisions whose cells this approval replaced, as `reporter period
    /// revision N`.
    pub replaced: Vec<String>,
}

/// What a bulk approval selects: the latest revisions at `submitted` of these.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    pub period: Option<String>,
    pub reporter: Option<String>,
}

/// A cell's key as comments and differences write it.
fn cell_key(key: &[&str], indicator: &str) -> String {
    let mut parts = key.to_vec();
    parts.push(indicator);
    parts.join(".")
}

/// A revision's cells by key, read from the CSV it is kept as.
fn cells_of(s: &SubmissionRecord) -> Result<BTreeMap<String, u64>> {
    let corrupt = |why: String| {
        AppError::Store(StoreError::Corrupt(format!(
            "submission {}: {why}",
            s.reference
        )))
    };
    let mut out = BTreeMap::new();
    let mut lines = s.cells.lines();
    lines.next();
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        let Some((value, rest)) = fields.split_last() else {
            continue;
        };
        let Some((indicator, key)) = rest.split_last() else {
            return Err(corrupt(format!("the line {line:?} has no indicator")));
        };
        let value = value
            .parse()
            .map_err(|_| corrupt(format!("{value:?} is not a count")))?;
        out.insert(cell_key(key, indicator), value);
    }
    Ok(out)
}

impl App {
    /// A revision, the template at the version it answered (kept and read), and whether the
    /// caller reviews it; not found for anyone who is neither a reviewer nor a member of its
    /// reporter.
    fn submission_for(
        &self,
        who: &Caller,
        id: &str,
    ) -> Result<(SubmissionRecord, TemplateRecord, Template, bool)> {
        let not_found = || AppError::NotFound(format!("submission {id}"));
        let s = self.store.submission(id)?.ok_or_else(not_found)?;
        let at = self
            .store
            .template_at(s.template_id, s.template_version)?
            .ok_or_else(not_found)?;
        let name = DatasetName::new(&at.org, &at.slug);
        let (r, _, _) = self.template_for(who, &name).map_err(|e| match e {
            AppError::NotFound(_) => not_found(),
            e => e,
        })?;
        let reviews = self.reviews(who, &r);
        if !reviews && who.principal.role_in(&s.reporter).is_none() {
            return Err(not_found());
        }
        let t = crate::gathering::read(&at)?;
        Ok((s, at, t, reviews))
    }

    /// One revision with its comments and its difference from the revision before.
    pub fn submission(&self, who: &Caller, id: &str) -> Result<SubmissionDetail> {
        let (s, at, _, _) = self.submission_for(who, id)?;
        let name = DatasetName::new(&at.org, &at.slug);
        let revisions = self.revisions_of(&s)?;
        let previous = revisions.iter().rfind(|o| o.revision < s.revision);
        let superseded_by = revisions
            .iter()
            .filter(|o| o.revision > s.revision)
            .map(|o| o.revision)
            .max();
        let after = cells_of(&s)?;
        let changes = match previous {
            None => Vec::new(),
            Some(p) => {
                let p = self
                    .store
                    .submission(&p.reference)?
                    .ok_or_else(|| AppError::NotFound(format!("submission {}", p.reference)))?;
                let before = cells_of(&p)?;
                let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
                keys.sort();
                keys.dedup();
                keys.into_iter()
                    .filter(|k| before.get(*k) != after.get(*k))
                    .map(|k| CellChange {
                        cell: k.clone(),
                        before: before.get(k).copied(),
                        after: after.get(k).copied(),
                    })
                    .collect()
            }
        };
        Ok(SubmissionDetail {
            comments: self.store.submission_comments(s.id)?,
            previous_revision: previous.map(|p| p.revision),
            changes,
            superseded_by,
            submission: submission_view(&name, s),
        })
    }

    /// Every revision of the same reporter's return for the same period, oldest first, without
    /// their cells.
    fn revisions_of(&self, s: &SubmissionRecord) -> Result<Vec<SubmissionRecord>> {
        Ok(self
            .store
            .submissions(s.template_id, Some(&s.period), false)?
            .into_iter()
            .filter(|o| o.reporter_id == s.reporter_id)
            .collect())
    }

    /// The latest revision, for a decision on it: a superseded one is refused by name.
    fn latest_for_decision(&self, s: &SubmissionRecord) -> Result<()> {
        let later = self
            .revisions_of(s)?
            .into_iter()
            .filter(|o| o.revision > s.revision)
            .map(|o| o.revision)
            .max();
        match later {
            Some(n) => Err(AppError::Conflict(format!(
                "submission {}: revision {} of {} for {} is superseded by revision {n}; decide on that one",
                s.reference, s.revision, s.reporter, s.period
            ))),
            None => Ok(()),
        }
    }

    /// Comments on a revision, pinned to a cell by its key (`SYR.F.asylum_applications`: the
    /// dimension codes in the template's order, then the indicator) or to the whole return.
    /// Reviewers and the reporter's editors and admins comment; a reviewer's comment on a
    /// submitted revision marks it `has-issues`.
    pub fn comment_submission(
        &self,
        who: &Caller,
        id: &str,
        cell: Option<&str>,
        text: &str,
    ) -> Result<SubmissionDetail> {
        let (s, _, t, reviews) = self.submission_for(who, id)?;
        if !reviews
            && !matches!(
                who.principal.role_in(&s.reporter),
                Some(Role::Admin | Role::Editor)
            )
        {
            return Err(AppError::Forbidden(format!(
                "only reviewers and editors of {} comment on its returns",
                s.reporter
            )));
        }
        let text = text.trim();
        if text.is_empty() || text.chars().count() > 2000 {
            return Err(AppError::BadRequest(
                "text: a comment is from 1 to 2,000 characters".into(),
            ));
        }
        let cell = match cell.map(str::trim).filter(|c| !c.is_empty()) {
            None => String::new(),
            Some(c) => self.check_cell(&t, c)?,
        };
        self.store.write(|tx| {
            tx.insert_submission_comment(s.id, &cell, text, &who.label, reviews)?;
            let marked = reviews
                && tx.set_submission_status(
                    s.id,
                    &["submitted"],
                    "has-issues",
                    &who.label,
                    None,
                )?;
            tx.audit(
                &who.label,
                "submission.comment",
                &s.reference,
                &serde_json::json!({ "cell": cell, "has_issues": marked }).to_string(),
            )?;
            Ok::<_, StoreError>(())
        })?;
        self.submission(who, id)
    }

    /// A cell key checked against the template: its codes and indicator, named when wrong.
    fn check_cell(&self, t: &Template, cell: &str) -> Result<String> {
        let parts: Vec<&str> = cell.split('.').collect();
        let shape = || {
            t.dimensions
                .iter()
                .map(|d| d.name.as_str())
                .chain(["indicator"])
                .collect::<Vec<_>>()
                .join(".")
        };
        if parts.len() != t.dimensions.len() + 1 {
            return Err(AppError::BadRequest(format!(
                "cell: {cell:?} is not a cell of this template, written {}",
                shape()
            )));
        }
        for (d, code) in t.dimensions.iter().zip(&parts) {
            let known = match &d.codes {
                Codes::Listed(list) => list.iter().any(|c| c == code),
                Codes::Named(list) => {
                    crate::gathering::known_code(t, list, code).as_deref() == Some(*code)
                }
            };
            if !known {
                return Err(AppError::BadRequest(format!(
                    "cell: {code:?} is not a code of {} (cells are written {})",
                    d.name,
                    shape()
                )));
            }
        }
        let indicator = parts[parts.len() - 1];
        if !t.indicators.iter().any(|i| i == indicator) {
            return Err(AppError::BadRequest(format!(
                "cell: {indicator:?} is not one of the template's indicators ({})",
                t.indicators.join(", ")
            )));
        }
        Ok(cell.to_string())
    }

    /// Rejects a revision (reviewers), with the reason kept as a comment on the whole return.
    pub fn reject_submission(
        &self,
        who: &Caller,
        id: &str,
        reason: &str,
    ) -> Result<SubmissionDetail> {
        let (s, _, _, reviews) = self.submission_for(who, id)?;
        if !reviews {
            return Err(AppError::Forbidden(
                "only the template's admins and editors decide on returns".into(),
            ));
        }
        self.latest_for_decision(&s)?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(AppError::BadRequest(
                "reason: say why the return is rejected, so its reporter can mend it".into(),
            ));
        }
        self.store.write(|tx| {
            if !tx.set_submission_status(s.id, UNDECIDED, "rejected", &who.label, None)? {
                return Err(AppError::Conflict(format!(
                    "submission {id} is {} already",
                    s.status
                )));
            }
            tx.insert_submission_comment(s.id, "", reason, &who.label, true)?;
            tx.audit(
                &who.label,
                "submission.reject",
                &s.reference,
                &serde_json::json!({ "reason": reason }).to_string(),
            )?;
            Ok(())
        })?;
        self.submission(who, id)
    }

    /// Approves one revision into the template's dataset.
    pub fn approve_submission(&self, who: &Caller, id: &str) -> Result<Approval> {
        let (s, at, _, reviews) = self.submission_for(who, id)?;
        if !reviews {
            return Err(AppError::Forbidden(
                "only the template's admins and editors decide on returns".into(),
            ));
        }
        self.latest_for_decision(&s)?;
        if !UNDECIDED.contains(&s.status.as_str()) {
            return Err(AppError::Conflict(format!(
                "submission {id} is {} already",
                s.status
            )));
        }
        self.land(who, &DatasetName::new(&at.org, &at.slug), vec![s])
    }

    /// Approves, in one version, the latest revision of each reporter and period that the
    /// selection names and that is `submitted` (returns with issues are decided one by one).
    pub fn approve_submissions(
        &self,
        who: &Caller,
        name: &DatasetName,
        selection: &Selection,
    ) -> Result<Approval> {
        let (r, t, _) = self.template_for(who, name)?;
        if !self.reviews(who, &r) {
            return Err(AppError::Forbidden(
                "only the template's admins and editors decide on returns".into(),
            ));
        }
        let period = selection
            .period
            .as_deref()
            .map(|p| Period::parse(t.frequency, p).map(|p| p.to_string()))
            .transpose()
            .map_err(|e| AppError::BadRequest(e.to_string()))?;
        if let Some(reporter) = &selection.reporter {
            if !t.reporters.contains(reporter) {
                return Err(AppError::BadRequest(format!(
                    "reporter: {reporter} does not report to {name} ({})",
                    t.reporters.join(", ")
                )));
            }
        }
        let mut latest: BTreeMap<(String, String), SubmissionRecord> = BTreeMap::new();
        for s in self.store.submissions(r.id, period.as_deref(), false)? {
            // Oldest revision first: the last one written is the latest.
            latest.insert((s.reporter.clone(), s.period.clone()), s);
        }
        // Read whole (with their cells) only once chosen.
        let chosen = latest
            .into_values()
            .filter(|s| s.status == "submitted")
            .filter(|s| selection.reporter.as_ref().is_none_or(|o| *o == s.reporter))
            .map(|s| {
                self.store
                    .submission(&s.reference)?
                    .ok_or_else(|| AppError::NotFound(format!("submission {}", s.reference)))
            })
            .collect::<Result<Vec<SubmissionRecord>>>()?;
        if chosen.is_empty() {
            return Err(AppError::BadRequest(
                "nothing to approve: no latest revision the selection names is submitted".into(),
            ));
        }
        self.land(who, name, chosen)
    }

    /// Lands approved revisions as one version of the template's dataset. Each replaces its
    /// reporter's cells for its period and nothing else. Retried when another version lands
    /// at the same moment; refused whole when any of them was decided meanwhile.
    fn land(
        &self,
        who: &Caller,
        name: &DatasetName,
        chosen: Vec<SubmissionRecord>,
    ) -> Result<Approval> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.land_once(who, name, &chosen) {
                Err(AppError::Conflict(m)) if m.starts_with(RACED) && attempts < 5 => continue,
                other => return other,
            }
        }
    }

    fn land_once(
        &self,
        who: &Caller,
        name: &DatasetName,
        chosen: &[SubmissionRecord],
    ) -> Result<Approval> {
        let dataset = self
            .store
            .dataset(&name.org, &name.slug)?
            .ok_or_else(|| AppError::NotFound(format!("dataset {name}")))?;
        let versions = self.store.versions(dataset.id)?;
        let latest = versions.iter().rposition(|v| v.redacted_at.is_none());
        let empty = Arc::new(Cube::default());
        let previous = match latest {
            Some(i) => self.cached_content(dataset.id, &versions, i)?,
            None => empty,
        };
        let mut upserts: Option<Cube> = None;
        let mut removals: Option<Cube> = None;
        let mut replaced = Vec::new();
        let mut sha = String::new();
        for s in chosen {
            let at = self
                .store
                .template_at(s.template_id, s.template_version)?
                .ok_or_else(|| AppError::NotFound(format!("template of {}", s.reference)))?;
            let t = crate::gathering::read(&at)?;
            let country = self
                .store
                .org(&s.reporter)?
                .and_then(|o| o.country)
                .ok_or_else(|| {
                    AppError::BadRequest(format!(
                        "{} speaks for no country any more, so its cells have no geo",
                        s.reporter
                    ))
                })?;
            let slice = return_cube(&t, &country, s)?;
            if !previous.is_empty() && previous.dims != slice.dims {
                return Err(AppError::Conflict(format!(
                    "{name} holds the dimensions {}, and revision {} of {} for {} answers version {} of the template with {}: import {name} afresh with the new dimensions, or keep the template's earlier ones",
                    previous.dims.join(", "),
                    s.revision,
                    s.reporter,
                    s.period,
                    s.template_version,
                    slice.dims.join(", ")
                )));
            }
            let before = slice_of(&previous, &slice.dims, &country, &s.period);
            let d = before.diff(&slice);
            match (&mut upserts, &mut removals) {
                (Some(u), Some(r)) => {
                    u.extend(&d.upserts);
                    r.extend(&d.removals);
                }
                _ => {
                    upserts = Some(d.upserts);
                    removals = Some(d.removals);
                }
            }
            if let Some(earlier) = self
                .revisions_of(s)?
                .into_iter()
                .rfind(|o| o.revision < s.revision && o.status == "approved")
            {
                replaced.push(format!(
                    "{} {} revision {}",
                    earlier.reporter, earlier.period, earlier.revision
                ));
            }
            sha.push_str(&s.cells);
        }
        let upserts = upserts.unwrap_or_default();
        let removals = removals.unwrap_or_default();
        // Nothing before (an empty dataset has no dimensions yet): everything is added.
        let (added, changed, removed) = if previous.is_empty() {
            (upserts.len() as u64, 0, 0)
        } else {
            let d = previous.diff_append(&upserts);
            (d.added, d.changed, removals.len() as u64)
        };
        let new_version = added + changed + removed > 0;
        let expected = latest.map(|i| versions[i].number);
        let ids: Vec<&str> = chosen.iter().map(|s| s.reference.as_str()).collect();
        let number = self.store.write(|tx| {
            if tx.latest_version_number(dataset.id)? != expected {
                return Err(AppError::Conflict(format!(
                    "{RACED}: another version of {name} landed meanwhile"
                )));
            }
            let number = if new_version {
                let number = tx.next_version_number(dataset.id)?;
                let vid = tx.insert_version(&nansen_store::VersionRecord {
                    id: 0,
                    dataset_id: dataset.id,
                    number,
                    created_by: who.label.clone(),
                    created_at: Timestamp::now(),
                    file_name: match chosen {
                        [s] => format!("{} {} revision {}", s.reporter, s.period, s.revision),
                        many => format!("{} returns approved together", many.len()),
                    },
                    file_sha256: crate::sha256_hex(sha.as_bytes()),
                    format: "return".into(),
                    mode: VersionMode::Replace,
                    rows: chosen.iter().map(|s| s.cells_count).sum(),
                    observations: (previous.len() as u64 + added - removed) as i64,
                    added: added as i64,
                    changed: changed as i64,
                    removed: removed as i64,
                    warnings: Vec::new(),
                    redacted_at: None,
                })?;
                tx.insert_chunks(vid, "upsert", &upserts, &mut |_| {})?;
                tx.insert_chunks(vid, "remove", &removals, &mut |_| {})?;
                let event = serde_json::json!({ "event": "version.created", "dataset": name.to_string(), "version": number, "added": added, "changed": changed, "removed": removed, "created_by": who.label });
                tx.queue_deliveries(HookSubject::Dataset(dataset.id), None, "version.created", &event.to_string())?;
                Some(number)
            } else {
                expected
            };
            for s in chosen {
                if !tx.set_submission_status(s.id, UNDECIDED, "approved", &who.label, number)? {
                    return Err(AppError::Conflict(format!(
                        "submission {} was decided by someone else meanwhile; nothing was approved",
                        s.reference
                    )));
                }
                tx.audit(
                    &who.label,
                    "submission.approve",
                    &s.reference,
                    &serde_json::json!({ "template": name.to_string(), "reporter": s.reporter, "period": s.period, "revision": s.revision, "version": number }).to_string(),
                )?;
            }
            Ok::<_, AppError>(number)
        })
        .map_err(|e| match e {
            AppError::Store(StoreError::Db(db)) if db.is_conflict() => {
                AppError::Conflict(format!("{RACED}: another version of {name} landed meanwhile"))
            }
            e => e,
        })?;
        if new_version {
            if let Some(n) = number {
                let after = if previous.is_empty() {
                    upserts
                } else {
                    previous.apply(&upserts, &removals)
                };
                self.remember((dataset.id, n, 0), Arc::new(after));
            }
        }
        Ok(Approval {
            template: name.clone(),
            approved: ids.iter().map(|s| s.to_string()).collect(),
            version: number,
            new_version,
            added,
            changed,
            removed,
            replaced,
        })
    }
}

/// How a lost race to the next version starts its message (the approval is tried again).
const RACED: &str = "approval raced";

/// A revision's cells as observations: `indicator`, `period`, `geo` and the template's
/// dimensions, in the model's order.
fn return_cube(t: &Template, country: &str, s: &SubmissionRecord) -> Result<Cube> {
    let mut dims: Vec<String> = ["indicator", "period", "geo"]
        .into_iter()
        .map(String::from)
        .chain(t.dimensions.iter().map(|d| d.name.clone()))
        .collect();
    canonical_order(&mut dims);
    // Where each of the cube's dimensions comes from in a kept line: the template's
    // dimensions first, then the indicator; period and geo are the return's own.
    let from: Vec<Option<usize>> = dims
        .iter()
        .map(|d| match d.as_str() {
            "indicator" => Some(t.dimensions.len()),
            "period" | "geo" => None,
            _ => t.dimensions.iter().position(|x| x.name == *d),
        })
        .collect();
    let mut cube = Cube::new(dims.clone());
    for (key, value) in cells_of(s)? {
        let parts: Vec<&str> = key.split('.').collect();
        let row: Vec<&str> = dims
            .iter()
            .zip(&from)
            .map(|(d, f)| match (d.as_str(), f) {
                ("period", _) => s.period.as_str(),
                ("geo", _) => country,
                (_, Some(i)) => parts[*i],
                (_, None) => "",
            })
            .collect();
        cube.push(&row, Some(value as f64), "");
    }
    Ok(cube)
}

/// The observations of one country and period (none when the content has other dimensions).
fn slice_of(content: &Cube, dims: &[String], country: &str, period: &str) -> Cube {
    let mut out = Cube::new(dims.to_vec());
    let (Some(g), Some(p)) = (content.dim("geo"), content.dim("period")) else {
        return out;
    };
    if content.dims != dims {
        return out;
    }
    let (Some(gc), Some(pc)) = (
        content.columns[g].lookup(country),
        content.columns[p].lookup(period),
    ) else {
        return out;
    };
    for r in 0..content.len() {
        if content.columns[g].codes[r] == gc && content.columns[p].codes[r] == pc {
            out.push(&content.key(r), content.value(r), content.flag(r));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::gathering::tests::{people, EPS};
    use crate::test_support::apps;
    use crate::*;

    const HEADER: &str = "origin,sex,asylum_applications,asylum_applications_first_time\n";

    /// The dataset's observations of one country, as `origin.sex.indicator=value`, sorted.
    fn cells_of(app: &App, geo: &str) -> Vec<String> {
        let d = app.store.dataset("euaa", "eps").unwrap().unwrap();
        let versions = app.store.versions(d.id).unwrap();
        let cube = app
            .store
            .content(&versions, versions.len() - 1, None)
            .unwrap();
        let at = |n: &str| cube.dim(n).unwrap();
        let mut out: Vec<String> = (0..cube.len())
            .filter(|&r| cube.key(r)[at("geo")] == geo)
            .map(|r| {
                let k = cube.key(r);
                format!(
                    "{}.{}.{}={}",
                    k[at("origin")],
                    k[at("sex")],
                    k[at("indicator")],
                    cube.value(r).unwrap()
                )
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn review_pins_comments_to_cells_and_approval_replaces_only_that_reporter_s_cells_for_that_period(
    ) {
        for (_t, app) in apps() {
            let who = people(&app);
            let name: nansen_model::DatasetName = "euaa/eps".parse().unwrap();
            app.add_template(&who["admin"], &name, EPS).unwrap();
            let deu1 = app
                .submit(
                    &who["reporter"],
                    &name,
                    "2026-01",
                    format!("{HEADER}SYR,F,100,90\nAFG,M,40,\n"),
                )
                .unwrap();
            let fra1 = app
                .submit(
                    &who["fra"],
                    &name,
                    "2026-01",
                    format!("{HEADER}SYR,F,50,\n"),
                )
                .unwrap();

            // Comments: pinned to a cell by its key, checked against the template.
            let bad = app
                .comment_submission(
                    &who["editor"],
                    &deu1.id,
                    Some("SYR.X.asylum_applications"),
                    "?",
                )
                .unwrap_err();
            assert_eq!(
                bad.to_string(),
                "cell: \"X\" is not a code of sex (cells are written origin.sex.indicator)"
            );
            let d = app
                .comment_submission(
                    &who["editor"],
                    &deu1.id,
                    Some("SYR.F.asylum_applications"),
                    "100 is twice last month's",
                )
                .unwrap();
            assert_eq!(d.submission.status, "has-issues");
            assert_eq!(d.comments[0].cell, "SYR.F.asylum_applications");
            let d = app
                .comment_submission(
                    &who["reporter"],
                    &deu1.id,
                    Some("SYR.F.asylum_applications"),
                    "A new reception centre opened",
                )
                .unwrap();
            assert_eq!((d.comments.len(), d.comments[1].reviewer), (2, false));
            for (caller, expected) in [("fra", "not found"), ("outsider", "not found")] {
                let e = app.submission(&who[caller], &deu1.id).unwrap_err();
                assert!(e.to_string().contains(expected), "{caller}: {e}");
            }
            assert!(matches!(
                app.approve_submission(&who["reporter"], &deu1.id),
                Err(AppError::Forbidden(_))
            ));

            // Bulk approval takes what is submitted, not what has issues.
            let bulk = app
                .approve_submissions(
                    &who["editor"],
                    &name,
                    &Selection {
                        period: Some("2026-01".into()),
                        reporter: None,
                    },
                )
                .unwrap();
            assert_eq!(
                (bulk.approved.clone(), bulk.version, bulk.added),
                (vec![fra1.id.clone()], Some(1), 1)
            );
            assert_eq!(cells_of(&app, "FRA"), ["SYR.F.asylum_applications=50"]);
            assert!(cells_of(&app, "DEU").is_empty());

            // A revision shows what changed; the superseded one can no longer be decided.
            let deu2 = app
                .submit(
                    &who["reporter"],
                    &name,
                    "2026-01",
                    format!("{HEADER}SYR,F,110,90\nIRQ,F,5,5\n"),
                )
                .unwrap();
            assert_eq!(deu2.revision, 2);
            let changes = app.submission(&who["editor"], &deu2.id).unwrap().changes;
            let said: Vec<String> = changes
                .iter()
                .map(|c| format!("{} {:?}->{:?}", c.cell, c.before, c.after))
                .collect();
            assert_eq!(
                said,
                [
                    "AFG.M.asylum_applications Some(40)->None",
                    "IRQ.F.asylum_applications None->Some(5)",
                    "IRQ.F.asylum_applications_first_time None->Some(5)",
                    "SYR.F.asylum_applications Some(100)->Some(110)",
                ]
            );
            assert!(app
                .approve_submission(&who["editor"], &deu1.id)
                .unwrap_err()
                .to_string()
                .contains("is superseded by revision 2"));
            let a = app.approve_submission(&who["editor"], &deu2.id).unwrap();
            assert_eq!(
                (a.version, a.added, a.removed, a.replaced.len()),
                (Some(2), 4, 0, 0)
            );
            assert_eq!(
                cells_of(&app, "DEU"),
                [
                    "IRQ.F.asylum_applications=5",
                    "IRQ.F.asylum_applications_first_time=5",
                    "SYR.F.asylum_applications=110",
                    "SYR.F.asylum_applications_first_time=90",
                ]
            );

            // A revision after approval makes a new version, says so, and touches only its
            // reporter's period.
            app.submit(
                &who["reporter"],
                &name,
                "2026-02",
                format!("{HEADER}SYR,F,7,7\n"),
            )
            .unwrap();
            app.approve_submissions(
                &who["admin"],
                &name,
                &Selection {
                    period: Some("2026-02".into()),
                    reporter: Some("deu".into()),
                },
            )
            .unwrap();
            let deu3 = app
                .submit(
                    &who["reporter"],
                    &name,
                    "2026-01",
                    format!("{HEADER}SYR,F,120,90\n"),
                )
                .unwrap();
            let a = app.approve_submission(&who["editor"], &deu3.id).unwrap();
            assert_eq!(
                (a.version, a.changed, a.removed, a.replaced.clone()),
                (Some(4), 1, 2, vec!["deu 2026-01 revision 2".to_string()])
            );
            assert_eq!(
                cells_of(&app, "DEU"),
                [
                    "SYR.F.asylum_applications=120",
                    "SYR.F.asylum_applications=7",
                    "SYR.F.asylum_applications_first_time=7",
                    "SYR.F.asylum_applications_first_time=90",
                ]
            );
            assert_eq!(
                cells_of(&app, "FRA"),
                ["SYR.F.asylum_applications=50"],
                "another reporter's cells stay"
            );
            assert_eq!(
                app.submission(&who["editor"], &deu3.id)
                    .unwrap()
                    .submission
                    .dataset_version,
                Some(4)
            );

            // Rejection needs a reason, and leaves the earlier approval standing.
            let deu4 = app
                .submit(
                    &who["reporter"],
                    &name,
                    "2026-01",
                    format!("{HEADER}SYR,F,1,1\n"),
                )
                .unwrap();
            assert!(matches!(
                app.reject_submission(&who["editor"], &deu4.id, " "),
                Err(AppError::BadRequest(_))
            ));
            let r = app
                .reject_submission(&who["editor"], &deu4.id, "a hundredfold drop")
                .unwrap();
            assert_eq!(
                (r.submission.status.as_str(), r.comments[0].text.as_str()),
                ("rejected", "a hundredfold drop")
            );
            assert!(app
                .approve_submission(&who["editor"], &deu4.id)
                .unwrap_err()
                .to_string()
                .contains("is rejected already"));
            let row = app
                .completeness(&who["editor"], &name, Some(("2026-01", "2026-01")))
                .unwrap()
                .into_iter()
                .find(|r| r.reporter == "deu")
                .unwrap();
            assert_eq!(row.status, "approved");
            assert_eq!(
                cells_of(&app, "DEU").len(),
                4,
                "a rejection changes no cell"
            );
        }
    }

    #[test]
    fn reporters_submitting_and_reviewers_approving_at_the_same_moment_lose_nothing() {
        for (_t, app) in apps() {
            let who = people(&app);
            let name: nansen_model::DatasetName = "euaa/eps".parse().unwrap();
            app.add_template(&who["admin"], &name, EPS).unwrap();
            let (deu, fra) = std::thread::scope(|s| {
                let a = s.spawn(|| {
                    app.submit(
                        &who["reporter"],
                        &name,
                        "2026-01",
                        format!("{HEADER}SYR,F,10,9\n"),
                    )
                });
                let b = s.spawn(|| {
                    app.submit(
                        &who["fra"],
                        &name,
                        "2026-01",
                        format!("{HEADER}AFG,M,4,4\n"),
                    )
                });
                (a.join().unwrap().unwrap(), b.join().unwrap().unwrap())
            });
            let (a, b) = std::thread::scope(|s| {
                let a = s.spawn(|| app.approve_submission(&who["editor"], &deu.id));
                let b = s.spawn(|| app.approve_submission(&who["admin"], &fra.id));
                (a.join().unwrap().unwrap(), b.join().unwrap().unwrap())
            });
            let mut versions = vec![a.version, b.version];
            versions.sort();
            assert_eq!(versions, [Some(1), Some(2)], "one version each, none lost");
            assert_eq!(cells_of(&app, "DEU").len(), 2);
            assert_eq!(cells_of(&app, "FRA").len(), 2);
            // The same return approved twice at once: one lands, the other is told.
            let again = app
                .submit(
                    &who["reporter"],
                    &name,
                    "2026-01",
                    format!("{HEADER}SYR,F,11,9\n"),
                )
                .unwrap();
            let results = std::thread::scope(|s| {
                let a = s.spawn(|| app.approve_submission(&who["editor"], &again.id));
                let b = s.spawn(|| app.approve_submission(&who["admin"], &again.id));
                [a.join().unwrap(), b.join().unwrap()]
            });
            assert_eq!(
                results.iter().filter(|r| r.is_ok()).count(),
                1,
                "{results:?}"
            );
            assert!(matches!(
                results.iter().find(|r| r.is_err()),
                Some(Err(AppError::Conflict(_)))
            ));
            let d = app.store.dataset("euaa", "eps").unwrap().unwrap();
            assert_eq!(app.store.versions(d.id).unwrap().len(), 3);
        }
    }
}

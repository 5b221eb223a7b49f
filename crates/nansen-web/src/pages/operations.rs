//! The operations on the web: programmes and their dashboards, pledges, a caseworker's list
//! of cases, the case page with the sections the reader may see and the moves they may make,
//! and the referral inbox. What each reader sees is decided by the application, as for the
//! API: a page shows what it is given and offers what the case says the reader may do.

use super::{blocking, see_other, Address};
use crate::error::WebError;
use crate::layout::{self, csrf, number, place, when, Section};
use crate::session::{Posted, Viewer};
use crate::WebState;
use axum::extract::{Path, Query};
use axum::response::Response;
use maud::{html, Markup};
use nansen_app::{
    AppError, CaseQuery, CaseRow, CaseView, Dashboard, PledgeInput, PledgeView, ProgrammeView,
    ReferralRequest, ReferralView,
};
use nansen_cases::{Consent, ConsentPurpose, ReferralStatus};
use nansen_model::ProgrammeName;
use serde::Deserialize;

pub(super) fn programme_name(org: &str, slug: &str) -> Result<ProgrammeName, WebError> {
    format!("{org}/{slug}").parse().map_err(WebError::Form)
}

pub(super) fn programme_href(name: &ProgrammeName) -> String {
    format!("/programmes/{}/{}", name.org, name.slug)
}

/// Words for a stage's machine name: `ready-for-matching` as "ready for matching".
fn stage_label(stage: &str) -> String {
    stage.replace('-', " ")
}

fn days(d: Option<i64>) -> String {
    match d {
        None => "–".into(),
        Some(1) => "1 day".into(),
        Some(d) => format!("{} days", number(Some(d as f64))),
    }
}

/// The tabs of a programme's pages; matching for its admins.
pub(super) fn tabs(p: &ProgrammeView, current: &str) -> Markup {
    let base = programme_href(&p.name);
    let item = |href: String, label: &str| {
        let here = href == current;
        html! { li { a href=(href) aria-current=[here.then_some("page")] { (label) } } }
    };
    html! {
        nav aria-label="Programme" { ul.inline {
            (item(base.clone(), "Dashboard"))
            (item(format!("{base}/cases"), "Cases"))
            (item(format!("{base}/pledges"), "Pledges"))
            @if p.may_administer { (item(format!("{base}/matching"), "Matching")) }
        } }
    }
}

pub(super) fn programme_head(p: &ProgrammeView) -> Markup {
    html! {
        p { a href="/programmes" { "← Programmes" } }
        h1 { (p.title) }
        p.meta { code { (p.name) } " · " (stage_label(p.kind.as_str())) " · partners: "
            @if p.partners.is_empty() { "none" }
            @for (i, partner) in p.partners.iter().enumerate() {
                @if i > 0 { ", " } (partner.org) " (" (partner.part.as_str()) ")"
            }
        }
    }
}

/// The programmes the reader works in.
pub async fn programmes(web: WebState, viewer: Viewer) -> Result<Markup, WebError> {
    viewer.require("/programmes")?;
    let who = viewer.who.clone();
    let list = blocking(&web.app, move |app| app.programmes(&who)).await?;
    let body = html! {
        h1 { "Operations" }
        p { "Resettlement, humanitarian admission, relocation, return and family reunification programmes you work in. "
            a href="/referrals" { "Referrals sent to your organisations" } "." }
        @if list.is_empty() {
            p { "You work in no programme. An admin of an organisation creates one with "
                code { "nansen programme add" } " or the API." }
        } @else {
            div.table-wrap tabindex="0" role="region" aria-label="Programmes" {
                table {
                    caption { "Programmes" }
                    thead { tr { th scope="col" { "Programme" } th scope="col" { "Type" } th scope="col" { "Name" } th scope="col" { "Since" } } }
                    tbody { @for p in &list { tr {
                        td { a href=(programme_href(&p.name)) { (p.title) } }
                        td { (stage_label(p.kind.as_str())) }
                        td { code { (p.name) } }
                        td { (p.starts_on.as_deref().unwrap_or("–")) }
                    } } }
                }
            }
        }
    };
    Ok(layout::page(
        &viewer,
        "Operations",
        Section::Operations,
        body,
    ))
}

/// A programme's dashboard: each receiving state's pledge beside its people by stage, how
/// long stays in each stage last, and where cases wait longest.
pub async fn programme(
    web: WebState,
    viewer: Viewer,
    Path((org, slug)): Path<(String, String)>,
) -> Result<Markup, WebError> {
    let name = programme_name(&org, &slug)?;
    let href = programme_href(&name);
    viewer.require(&href)?;
    let who = viewer.who.clone();
    let n = name.clone();
    let (p, dashboard) = blocking(&web.app, move |app| {
        let p = app.programme(&who, &n)?;
        let d = match app.dashboard(&who, &n) {
            Ok(d) => Ok(d),
            Err(AppError::Forbidden(m)) => Err(m),
            Err(e) => return Err(e),
        };
        Ok((p, d))
    })
    .await?;
    let body = html! {
        (programme_head(&p))
        (tabs(&p, &href))
        @match &dashboard {
            Err(why) => { p.notice role="status" { (why) "." } }
            Ok(d) => { (dashboard_body(d, &p)) }
        }
        h2 { "Stages" }
        ol { @for s in &p.stages.stages {
            li { (stage_label(&s.name))
                @if s.approval { " · needs a supervisor's approval" }
                @if s.exit { " · leaves the workflow" } }
        } }
    };
    Ok(layout::page(&viewer, &p.title, Section::Operations, body))
}

fn dashboard_body(d: &Dashboard, p: &ProgrammeView) -> Markup {
    let ordinary: Vec<(usize, &String)> = d
        .stages
        .iter()
        .enumerate()
        .filter(|(i, _)| p.stages.stages.get(*i).is_some_and(|s| !s.exit))
        .collect();
    let state_name = |s: &Option<String>| match s {
        Some(code) => place(code),
        None => "Not matched yet".to_string(),
    };
    let waits_longest = d
        .times
        .iter()
        .filter(|t| t.waiting > 0)
        .max_by_key(|t| (t.waiting_median_days, t.waiting));
    let pipeline = nansen_model::DatasetName::new(
        &p.name.org,
        format!("{}{}", p.name.slug, nansen_app::PIPELINE),
    );
    html! {
        section aria-labelledby="by-state" {
            h2 #by-state { "Pledges and progress by receiving state" }
            p.hint { "Persons whose case is now at a stage or a later one. Withdrawn and closed cases are counted apart, under their own columns. "
                "Counts by month, nationality, sex and age are in the dataset " a href=(format!("/datasets/{}", pipeline)) { code { (pipeline) } } "." }
            div.table-wrap tabindex="0" role="region" aria-label="Progress by receiving state" {
                table {
                    caption { "Persons reaching each stage, by receiving state" }
                    thead { tr {
                        th scope="col" { "Receiving state" }
                        th scope="col" .num { "Places pledged" }
                        @for (_, s) in &ordinary { th scope="col" .num { (stage_label(s)) } }
                        @for (i, s) in d.stages.iter().enumerate() { @if !ordinary.iter().any(|(j, _)| *j == i) { th scope="col" .num { (stage_label(s)) } } }
                    } }
                    tbody {
                        @for r in d.states.iter().chain(std::iter::once(&d.total)) {
                            @let total = std::ptr::eq(r, &d.total);
                            tr {
                                th scope="row" { @if total { "All" } @else { (state_name(&r.state)) } }
                                td.num { (r.pledged.map(|x| number(Some(x[0] as f64))).unwrap_or("–".into())) }
                                @for (i, _) in &ordinary { td.num { (number(Some(r.reached[*i] as f64))) } }
                                @for (i, _) in d.stages.iter().enumerate() { @if !ordinary.iter().any(|(j, _)| *j == i) { td.num { (number(Some(r.now_at[i] as f64))) } } }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="times" {
            h2 #times { "Time in each stage" }
            @if let Some(t) = waits_longest {
                p.lead { "Cases wait longest at " strong { (stage_label(&t.stage)) } ": "
                    (t.waiting) " waiting, half of them for " (days(t.waiting_median_days)) " or more, the longest " (days(t.waiting_longest_days)) "." }
            }
            div.table-wrap tabindex="0" role="region" aria-label="Time in each stage" {
                table {
                    caption { "Stays that ended, and cases waiting now, by stage (whole days)" }
                    thead { tr {
                        th scope="col" { "Stage" }
                        th scope="col" .num { "Stays ended" }
                        th scope="col" .num { "Median stay" }
                        th scope="col" .num { "90th percentile" }
                        th scope="col" .num { "Waiting now" }
                        th scope="col" .num { "Median wait so far" }
                        th scope="col" .num { "Longest wait" }
                    } }
                    tbody { @for t in &d.times { tr {
                        th scope="row" { (stage_label(&t.stage)) }
                        td.num { (number(Some(t.stays_ended as f64))) }
                        td.num { (days(t.median_days)) }
                        td.num { (days(t.p90_days)) }
                        td.num { (number(Some(t.waiting as f64))) }
                        td.num { (days(t.waiting_median_days)) }
                        td.num { (days(t.waiting_longest_days)) }
                    } } }
                }
            }
        }
        @if !d.longest_waiting.is_empty() {
            section aria-labelledby="waiting" {
                h2 #waiting { "Cases waiting longest" }
                (case_table(&d.longest_waiting, "Cases waiting longest in their stage"))
            }
        }
    }
}

fn case_table(rows: &[CaseRow], caption: &str) -> Markup {
    html! {
        div.table-wrap tabindex="0" role="region" aria-label=(caption) {
            table {
                caption { (caption) }
                thead { tr {
                    th scope="col" { "Case" } th scope="col" { "Principal applicant" } th scope="col" .num { "Persons" }
                    th scope="col" { "Stage" } th scope="col" { "Since" } th scope="col" { "State" } th scope="col" { "Assigned to" }
                } }
                tbody { @for c in rows { tr {
                    td { a href=(format!("/cases/{}", c.id)) { code { (c.id) } } }
                    td { (c.principal.as_deref().unwrap_or("–")) }
                    td.num { (c.persons) }
                    td { (c.stage.as_deref().map(stage_label).unwrap_or("–".into()))
                        @if let Some(p) = &c.pending_stage { " → " (stage_label(p)) " (waits for approval)" } }
                    td { (c.stage_since.as_ref().map(|t| t.date()).unwrap_or("–".into())) }
                    td { (c.state.as_deref().unwrap_or("–")) }
                    td { (c.assignee.as_deref().unwrap_or("nobody")) }
                } } }
            }
        }
    }
}

#[derive(Deserialize, Default)]
pub struct ListFilter {
    #[serde(default)]
    stage: String,
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    needs_category: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    born: String,
    #[serde(default)]
    order: String,
    #[serde(default)]
    offset: i64,
}

pub(super) fn given(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

const PAGE: i64 = 50;

/// A caseworker's list: the cases of a programme they work on, filtered.
pub async fn cases(
    web: WebState,
    viewer: Viewer,
    Path((org, slug)): Path<(String, String)>,
    Query(f): Query<ListFilter>,
) -> Result<Markup, WebError> {
    let name = programme_name(&org, &slug)?;
    let href = format!("{}/cases", programme_href(&name));
    viewer.require(&href)?;
    let who = viewer.who.clone();
    let n = name.clone();
    let me = viewer.email().to_string();
    let assignee = match f.assignee.trim() {
        "me" => Some(me.clone()),
        a => given(a),
    };
    let query = CaseQuery {
        stage: given(&f.stage),
        assignee,
        needs_category: given(&f.needs_category),
        name: given(&f.name),
        born: given(&f.born),
        state: given(&f.state),
        longest_waiting: f.order == "waiting",
        limit: Some(PAGE),
        offset: Some(f.offset.max(0)),
    };
    let (p, pledges, list) = blocking(&web.app, move |app| {
        let p = app.programme(&who, &n)?;
        let pledges = app.pledges(&who, &n)?;
        let list = app.cases(&who, &n, &query);
        Ok((p, pledges, list))
    })
    .await?;
    let list = list.map_err(WebError::App)?;
    let page_link = |offset: i64| {
        let mut q: Vec<(&str, String)> = vec![
            ("stage", f.stage.clone()),
            ("assignee", f.assignee.clone()),
            ("needs_category", f.needs_category.clone()),
            ("state", f.state.clone()),
            ("name", f.name.clone()),
            ("born", f.born.clone()),
            ("order", f.order.clone()),
        ];
        q.retain(|(_, v)| !v.is_empty());
        q.push(("offset", offset.to_string()));
        format!(
            "{href}?{}",
            serde_urlencoded::to_string(q).unwrap_or_default()
        )
    };
    let body = html! {
        (programme_head(&p))
        (tabs(&p, &href))
        form.filters method="get" action=(href) aria-label="Filter the cases" {
            div.field { label for="f-stage" { "Stage" }
                select #f-stage name="stage" { option value="" { "any" }
                    @for s in &p.stages.stages { option value=(s.name) selected[f.stage == s.name] { (stage_label(&s.name)) } } } }
            div.field { label for="f-assignee" { "Assigned to (e-mail, or “me”)" }
                input #f-assignee type="text" name="assignee" value=(f.assignee); }
            div.field { label for="f-needs" { "Specific needs" }
                select #f-needs name="needs_category" { option value="" { "any" }
                    @for c in nansen_cases::NEEDS.categories() { option value=(c) selected[f.needs_category == c] { (c) } } } }
            div.field { label for="f-state" { "Receiving state" }
                select #f-state name="state" { option value="" { "any" }
                    @for pl in &pledges { option value=(pl.state) selected[f.state == pl.state] { (place(&pl.state)) } } } }
            div.field { label for="f-name" { "Name (any spelling)" } input #f-name type="text" name="name" value=(f.name); }
            div.field { label for="f-born" { "Born (YYYY-MM-DD)" } input #f-born type="text" name="born" value=(f.born) inputmode="numeric"; }
            div.field { label for="f-order" { "Order" }
                select #f-order name="order" {
                    option value="" { "last changed first" }
                    option value="waiting" selected[f.order == "waiting"] { "waiting longest first" } } }
            button type="submit" { "Show" }
        }
        p role="status" { @if !list.total_exact { "More than " } (number(Some(list.total as f64))) " cases" @if list.total > PAGE { ", " (f.offset.max(0) + 1) " to " (f.offset.max(0) + list.cases.len() as i64) " shown" } }
        @if !list.cases.is_empty() { (case_table(&list.cases, "Cases")) }
        nav aria-label="Pages" { ul.inline {
            @if f.offset > 0 { li { a href=(page_link((f.offset - PAGE).max(0))) { "← Previous" } } }
            @if f.offset.max(0) + PAGE < list.total { li { a href=(page_link(f.offset.max(0) + PAGE)) { "Next →" } } }
        } }
        @if p.may_register {
            p.hint { "Register households with " code { "nansen case add" } " or " code { "nansen case import" } " (docs/cases.md), or the API." }
        }
    };
    Ok(layout::page(
        &viewer,
        &format!("Cases of {}", p.title),
        Section::Operations,
        body,
    ))
}

/// The pledges of a programme, each with its history, and a form to record one.
pub async fn pledges(
    web: WebState,
    viewer: Viewer,
    Path((org, slug)): Path<(String, String)>,
) -> Result<Markup, WebError> {
    let name = programme_name(&org, &slug)?;
    let href = format!("{}/pledges", programme_href(&name));
    viewer.require(&href)?;
    let who = viewer.who.clone();
    let n = name.clone();
    let (p, list) = blocking(&web.app, move |app| {
        Ok((app.programme(&who, &n)?, app.pledges(&who, &n)?))
    })
    .await?;
    let total = |f: fn(&PledgeView) -> i64| number(Some(list.iter().map(f).sum::<i64>() as f64));
    let body = html! {
        (programme_head(&p))
        (tabs(&p, &href))
        @if list.is_empty() { p { "No state has pledged places yet." } } @else {
            div.table-wrap tabindex="0" role="region" aria-label="Pledges" {
                table {
                    caption { "Places pledged by receiving state (persons)" }
                    thead { tr { th scope="col" { "State" } th scope="col" .num { "Places" } th scope="col" .num { "For unaccompanied children" }
                        th scope="col" .num { "For medical cases" } th scope="col" { "From" } th scope="col" { "Until" } th scope="col" { "For matching" } th scope="col" { "Changes" } } }
                    tbody {
                        @for pl in &list { tr {
                            th scope="row" { (place(&pl.state)) }
                            td.num { (number(Some(pl.places as f64))) }
                            td.num { (number(Some(pl.uam_places as f64))) }
                            td.num { (number(Some(pl.medical_places as f64))) }
                            td { (pl.starts_on.as_deref().unwrap_or("–")) }
                            td { (pl.ends_on.as_deref().unwrap_or("–")) }
                            td {
                                @if !pl.languages.is_empty() { "languages " (pl.languages.join(", ")) }
                                @if !pl.prefers.is_empty() { "; prefers " (pl.prefers.join(", ")) }
                                @if !pl.excludes.is_empty() { "; does not receive " (pl.excludes.join(", ")) }
                            }
                            td { ul { @for h in &pl.history { li {
                                (when(&h.at)) ": " (number(Some(h.places as f64))) " (" (h.uam_places) " UAM, " (h.medical_places) " medical) by " (h.by)
                                @if !h.note.is_empty() { " — " (h.note) }
                            } } } }
                        } }
                        tr { th scope="row" { "All states" } td.num { (total(|p| p.places)) } td.num { (total(|p| p.uam_places)) } td.num { (total(|p| p.medical_places)) } td {} td {} td {} td {} }
                    }
                }
            }
        }
        @if p.may_administer {
            section aria-labelledby="new-pledge" {
                h2 #new-pledge { "Record or change a pledge" }
                form.stack method="post" action=(href) {
                    (csrf(&viewer))
                    label for="pl-state" { "Receiving state (code or name)" }
                    input #pl-state type="text" name="state" required;
                    label for="pl-places" { "Places (persons)" }
                    input #pl-places type="number" name="places" min="0" required;
                    label for="pl-uam" { "Of which for unaccompanied children" }
                    input #pl-uam type="number" name="uam_places" min="0" value="0";
                    label for="pl-medical" { "Of which for medical cases" }
                    input #pl-medical type="number" name="medical_places" min="0" value="0";
                    label for="pl-languages" { "Languages its reception works in (ISO 639 codes, separated by commas)" }
                    input #pl-languages type="text" name="languages" placeholder="de, en, ar";
                    label for="pl-prefers" { "Nationalities it prefers (codes or names, separated by commas)" }
                    input #pl-prefers type="text" name="prefers";
                    label for="pl-excludes" { "Nationalities it does not receive" }
                    input #pl-excludes type="text" name="excludes";
                    label for="pl-note" { "Why (kept in its history)" }
                    input #pl-note type="text" name="note";
                    button type="submit" { "Save the pledge" }
                }
            }
        }
    };
    Ok(layout::page(
        &viewer,
        &format!("Pledges of {}", p.title),
        Section::Operations,
        body,
    ))
}

#[derive(Deserialize)]
pub struct PledgeForm {
    state: String,
    places: i64,
    #[serde(default)]
    uam_places: i64,
    #[serde(default)]
    medical_places: i64,
    #[serde(default)]
    languages: String,
    #[serde(default)]
    prefers: String,
    #[serde(default)]
    excludes: String,
    #[serde(default)]
    note: String,
}

/// A list typed as words separated by commas.
fn words(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

pub async fn set_pledge(
    web: WebState,
    Path((org, slug)): Path<(String, String)>,
    Posted { viewer, form: f }: Posted<PledgeForm>,
) -> Result<Response, WebError> {
    let name = programme_name(&org, &slug)?;
    let href = format!("{}/pledges", programme_href(&name));
    let who = viewer.who.clone();
    blocking(&web.app, move |app| {
        app.set_pledge(
            &who,
            &name,
            PledgeInput {
                languages: words(&f.languages),
                prefers: words(&f.prefers),
                excludes: words(&f.excludes),
                state: f.state,
                places: f.places,
                uam_places: f.uam_places,
                medical_places: f.medical_places,
                starts_on: None,
                ends_on: None,
                note: f.note,
            },
        )
    })
    .await?;
    Ok(see_other(&href))
}

/// A case with the sections the reader may see, and the moves they may make.
pub async fn case(
    web: WebState,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Markup, WebError> {
    viewer.require(&format!("/cases/{id}"))?;
    let who = viewer.who.clone();
    let (c, pledges) = blocking(&web.app, move |app| {
        let c = app.case(&who, &id)?;
        // Those who may match it read the programme's pledges; others are not offered to.
        let pledges = if c.may_change {
            app.pledges(&who, &c.programme).unwrap_or_default()
        } else {
            Vec::new()
        };
        Ok((c, pledges))
    })
    .await?;
    let title = format!("Case {}", c.id);
    let body = case_body(&viewer, &c, &pledges);
    Ok(layout::page(&viewer, &title, Section::Operations, body))
}

fn case_body(viewer: &Viewer, c: &CaseView, pledges: &[PledgeView]) -> Markup {
    let action = |what: &str| format!("/cases/{}/{what}", c.id);
    let shown: Vec<&str> = c.sections.iter().map(|s| s.as_str()).collect();
    html! {
        p { a href=(format!("{}/cases", programme_href(&c.programme))) { "← Cases of " (c.programme) } }
        h1 { "Case " code { (c.id) } }
        p.meta { (c.persons) @if c.persons == 1 { " person · " } @else { " persons · " } (c.org) " · registered " (when(&c.created_at)) " · revision " (c.revision) }
        @if let Some(at) = &c.erased_at { p.warning role="status" { "This case was erased on " (when(at)) ": nothing of it can be read again." } }
        p.hint { "You see: " (shown.join(", ")) ". Reading this page is recorded in the audit log." }
        @if let Some(members) = &c.identity {
            section aria-labelledby="identity" {
                h2 #identity { "Identity" }
                div.table-wrap tabindex="0" role="region" aria-label="Members" {
                    table {
                        caption { "Members" }
                        thead { tr { th scope="col" { "Name" } th scope="col" { "Born" } th scope="col" { "Sex" } th scope="col" { "Nationality" } th scope="col" { "Documents" }
                            @if c.household.is_some() { th scope="col" { "Relationship" } th scope="col" { "Languages" } } } }
                        tbody { @for (i, m) in members.iter().enumerate() { tr {
                            td { (m.given_name) " " (m.family_name) }
                            td { (m.birth_date) @if m.birth_date_estimated { " (estimated)" } }
                            td { (m.sex.as_str()) }
                            td { (place(&m.nationality)) }
                            td { @for d in &m.documents { (d.kind) " " (d.number) " " } }
                            @if let Some(h) = &c.household { @if let Some(hm) = h.members.get(i) {
                                td { (hm.relationship.as_str()) } td { (hm.languages.join(", ")) }
                            } @else { td {} td {} } }
                        } } }
                    }
                }
            }
        } @else if let Some(h) = &c.household {
            section aria-labelledby="household" {
                h2 #household { "Household" }
                ul { @for m in &h.members { li { (m.relationship.as_str()) @if !m.languages.is_empty() { ", speaks " (m.languages.join(", ")) } } } }
            }
        }
        @if let Some(h) = &c.household { @if !h.family_abroad.is_empty() {
            h3 { "Family in receiving states" }
            ul { @for f in &h.family_abroad { li { (f.relationship) " in " (place(&f.state)) } } }
        } }
        @if let Some(p) = &c.process {
            section aria-labelledby="process" {
                h2 #process { "Process" }
                dl.facts {
                    dt { "Stage" } dd { strong { (stage_label(&p.stage)) } " since " (when(&p.stage_since)) }
                    @if let Some(pending) = &p.pending_stage { dt { "Waiting for approval" } dd { "a move to " (stage_label(pending)) } }
                    dt { "Assigned to" } dd { (p.assignee.as_deref().unwrap_or("nobody")) }
                    dt { "Receiving state" } dd { (p.state.as_deref().map(place).unwrap_or("not matched".into())) }
                    @if let Some(cat) = &p.submission_category { dt { "Submission category" } dd { (cat.as_str()) } }
                    @if let Some(pr) = &p.priority { dt { "Priority" } dd { (pr.as_str()) } }
                    @if !p.links.is_empty() { dt { "Travels with" } dd { @for l in &p.links { a href=(format!("/cases/{l}")) { code { (l) } } " " } } }
                }
                @if c.may_approve { @if let Some(pending) = &p.pending_stage {
                    form.inline method="post" action=(action("approval")) {
                        (csrf(viewer))
                        label for="approval-note" { "Note" }
                        input #approval-note type="text" name="note";
                        button type="submit" name="refuse" value="false" { "Approve the move to " (stage_label(pending)) }
                        button.secondary type="submit" name="refuse" value="true" { "Turn it down" }
                    }
                } }
                @if !c.moves.is_empty() {
                    h3 { "Move the case" }
                    @let forward: Vec<_> = c.moves.iter().filter(|m| !m.needs_note).collect();
                    @for m in &forward {
                        form.inline method="post" action=(action("move")) {
                            (csrf(viewer))
                            input type="hidden" name="to" value=(m.to);
                            input type="hidden" name="revision" value=(c.revision);
                            button type="submit" { "Move to " (stage_label(&m.to)) @if m.needs_approval { " (needs approval)" } }
                        }
                    }
                    form.stack method="post" action=(action("move")) {
                        (csrf(viewer))
                        input type="hidden" name="revision" value=(c.revision);
                        label for="move-to" { "Or move back or out of the workflow, saying why" }
                        select #move-to name="to" { @for m in c.moves.iter().filter(|m| m.needs_note) { option value=(m.to) { (stage_label(&m.to)) } } }
                        label for="move-note" { "Why" }
                        input #move-note type="text" name="note" required;
                        button.secondary type="submit" { "Move" }
                    }
                }
                @if c.may_change {
                    h3 { "Assign and match" }
                    form.inline method="post" action=(action("assignee")) {
                        (csrf(viewer))
                        label for="assign-to" { "Assign to (e-mail)" }
                        input #assign-to type="email" name="assignee" value=(p.assignee.as_deref().unwrap_or(""));
                        button type="submit" { "Assign" }
                    }
                    @if p.assignee.as_deref() != Some(viewer.email()) {
                        form.inline method="post" action=(action("assignee")) {
                            (csrf(viewer))
                            input type="hidden" name="assignee" value=(viewer.email());
                            button.secondary type="submit" { "Take the case" }
                        }
                    }
                    @if !pledges.is_empty() {
                        form.inline method="post" action=(action("match")) {
                            (csrf(viewer))
                            label for="match-state" { "Receiving state" }
                            select #match-state name="state" {
                                option value="" { "not matched" }
                                @for pl in pledges { option value=(pl.state) selected[p.state.as_deref() == Some(pl.state.as_str())] { (place(&pl.state)) } }
                            }
                            button type="submit" { "Match" }
                        }
                    }
                }
                @if !p.follow_ups.is_empty() || (c.may_change && c.follow_ups_allowed) {
                    h3 #follow-ups { "Reintegration follow-ups" }
                    @if !p.follow_ups.is_empty() {
                        div.table-wrap tabindex="0" role="region" aria-label="Follow-up surveys" {
                            table {
                                caption { "Follow-up surveys: scores from 0 to 1 on each dimension of IOM's Reintegration Sustainability Survey" }
                                thead { tr { th scope="col" { "Interview" } th scope="col" .num { "Economic" } th scope="col" .num { "Social" }
                                    th scope="col" .num { "Psychosocial" } th scope="col" { "Note" } th scope="col" { "By" } } }
                                tbody { @for f in &p.follow_ups { tr {
                                    td { (f.on) } td.num { (number(Some(f.economic))) } td.num { (number(Some(f.social))) }
                                    td.num { (number(Some(f.psychosocial))) } td { (f.note) } td { (f.by) }
                                } } }
                            }
                        }
                    }
                    @if c.may_change && c.follow_ups_allowed {
                        form.stack method="post" action=(action("follow-ups")) {
                            (csrf(viewer))
                            label for="fu-on" { "Day of the interview (YYYY-MM-DD)" }
                            input #fu-on type="text" name="on" required inputmode="numeric";
                            label for="fu-economic" { "Economic score (0 to 1)" }
                            input #fu-economic type="number" name="economic" min="0" max="1" step="0.01" required;
                            label for="fu-social" { "Social score (0 to 1)" }
                            input #fu-social type="number" name="social" min="0" max="1" step="0.01" required;
                            label for="fu-psychosocial" { "Psychosocial score (0 to 1)" }
                            input #fu-psychosocial type="number" name="psychosocial" min="0" max="1" step="0.01" required;
                            label for="fu-note" { "What the interview found" }
                            input #fu-note type="text" name="note";
                            button type="submit" { "Record the follow-up" }
                        }
                    }
                }
                h3 { "History" }
                div.table-wrap tabindex="0" role="region" aria-label="History" {
                    table {
                        caption { "What happened to the case, oldest first" }
                        thead { tr { th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "What" } th scope="col" { "Note" } } }
                        tbody { @for e in &p.history { tr {
                            td { (when(&e.at)) } td { (e.by) }
                            td { (e.kind) @if let Some(from) = &e.from { " from " (stage_label(from)) } @if let Some(to) = &e.to { " to " (stage_label(to)) } }
                            td { (e.note.as_deref().unwrap_or("")) }
                        } } }
                    }
                }
                @if !p.referrals.is_empty() {
                    h3 { "Referrals" }
                    (referral_list(viewer, &p.referrals, false))
                }
                @if c.may_change {
                    h3 { "Refer the case" }
                    form.stack method="post" action=(action("referrals")) {
                        (csrf(viewer))
                        label for="refer-to" { "To organisation" }
                        input #refer-to type="text" name="to" required;
                        fieldset { legend { "Sections to send" }
                            @for s in nansen_cases::Section::ALL { label.check { input type="checkbox" name="sections" value=(s.as_str()); " " (s.as_str()) } } }
                        label for="refer-reason" { "Reason" }
                        input #refer-reason type="text" name="reason" required;
                        label.check { input type="checkbox" name="override_consent" value="true"; " Send without the household's consent (supervisors, for the reason given; audited and shown on the case)" }
                        button type="submit" { "Refer" }
                    }
                }
            }
        }
        @if let Some(needs) = &c.needs {
            section aria-labelledby="needs" {
                h2 #needs { "Specific needs" }
                @if needs.is_empty() { p { "None recorded." } }
                ul { @for n in needs { li { code { (n.code) } " " (n.label) " · " (n.category) } } }
            }
        }
        @if let Some(m) = &c.medical { section aria-labelledby="medical" { h2 #medical { "Medical" } p { (m) } } }
        @if let Some(b) = &c.best_interests { section aria-labelledby="best-interests" { h2 #best-interests { "Best interests" } p { (b) } } }
        @if !c.documents.is_empty() || c.may_change {
            section aria-labelledby="documents" {
                h2 #documents { "Documents" }
                @if c.documents.is_empty() { p { "None you may read." } } @else {
                    ul { @for d in &c.documents { li {
                        a href=(format!("/cases/{}/documents/{}", c.id, d.id)) { (d.file_name) }
                        " · " (d.section.as_str()) " · " (number(Some(d.bytes as f64))) " bytes · added by " (d.added_by) " " (when(&d.added_at))
                    } } }
                }
                @if c.may_change {
                    form.stack method="post" action=(action("documents")) enctype="multipart/form-data" {
                        (csrf(viewer))
                        label for="doc-section" { "File under the section (only its readers read it)" }
                        select #doc-section name="section" { @for s in &c.sections { option value=(s.as_str()) { (s.as_str()) } } }
                        label for="doc-file" { "PDF, JPEG, PNG, DOCX or ODT, up to " (nansen_app::MAX_CASE_DOCUMENT_BYTES >> 20) " MB" }
                        input #doc-file type="file" name="file" required;
                        button type="submit" { "Attach" }
                    }
                }
            }
        }
        @if let Some(consents) = &c.consent {
            section aria-labelledby="consent" {
                h2 #consent { "Consent" }
                @if consents.is_empty() { p { "None given." } }
                ul { @for k in consents { li { (k.purpose.as_str()) @if let Some(p) = &k.partner { ": " (p) } } } }
                @if c.may_change {
                    form.inline method="post" action=(action("consents")) {
                        (csrf(viewer))
                        label for="consent-purpose" { "Purpose" }
                        select #consent-purpose name="purpose" { @for p in ConsentPurpose::ALL { option value=(p.as_str()) { (p.as_str()) } } }
                        label for="consent-partner" { "Partner or state" }
                        input #consent-partner type="text" name="partner";
                        button type="submit" { "Record the consent" }
                    }
                }
            }
        }
    }
}

fn referral_list(viewer: &Viewer, list: &[ReferralView], decide: bool) -> Markup {
    html! {
        div.table-wrap tabindex="0" role="region" aria-label="Referrals" {
            table {
                caption { "Referrals" }
                thead { tr { th scope="col" { "Case" } th scope="col" { "From" } th scope="col" { "To" } th scope="col" { "Sections" }
                    th scope="col" { "Reason" } th scope="col" { "Sent" } th scope="col" { "Status" } } }
                tbody { @for r in list { tr {
                    td { a href=(format!("/cases/{}", r.case)) { code { (r.case) } } }
                    td { (r.from) } td { (r.to) }
                    td { (r.sections.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")) }
                    td { (r.reason.as_deref().unwrap_or("–")) @if r.consent_overridden { strong { " Sent without consent." } } }
                    td { (when(&r.created_at)) " by " (r.created_by) }
                    td {
                        (r.status.as_str())
                        @if let (Some(by), Some(at)) = (&r.decided_by, &r.decided_at) { " by " (by) " " (when(at)) }
                        @if decide && r.status == ReferralStatus::Pending && viewer.who.principal.role_in(&r.to).is_some() {
                            form.inline method="post" action=(format!("/referrals/{}/accept", r.id)) {
                                (csrf(viewer))
                                button type="submit" aria-label=(format!("Accept the referral of case {}", r.case)) { "Accept" }
                            }
                            form.inline method="post" action=(format!("/referrals/{}/decline", r.id)) {
                                (csrf(viewer))
                                label.visually-hidden for=(format!("decline-{}", r.id)) { "Why decline" }
                                input id=(format!("decline-{}", r.id)) type="text" name="note" placeholder="why";
                                button.secondary type="submit" aria-label=(format!("Decline the referral of case {}", r.case)) { "Decline" }
                            }
                        }
                    }
                } } }
            }
        }
    }
}

/// Referrals sent to the reader's organisations and by them.
pub async fn referrals(web: WebState, viewer: Viewer) -> Result<Markup, WebError> {
    viewer.require("/referrals")?;
    let who = viewer.who.clone();
    let list = blocking(&web.app, move |app| app.referrals(&who)).await?;
    let (incoming, sent): (Vec<ReferralView>, Vec<ReferralView>) = list
        .into_iter()
        .partition(|r| viewer.who.principal.role_in(&r.to).is_some());
    let waiting = incoming
        .iter()
        .filter(|r| r.status == ReferralStatus::Pending)
        .count();
    let body = html! {
        p { a href="/programmes" { "← Operations" } }
        h1 { "Referrals" }
        section aria-labelledby="incoming" {
            h2 #incoming { "Sent to your organisations" }
            p role="status" { (waiting) " waiting for a decision" }
            @if incoming.is_empty() { p { "None." } } @else { (referral_list(&viewer, &incoming, true)) }
        }
        section aria-labelledby="sent" {
            h2 #sent { "Sent by your organisations" }
            @if sent.is_empty() { p { "None." } } @else { (referral_list(&viewer, &sent, false)) }
        }
    };
    Ok(layout::page(
        &viewer,
        "Referrals",
        Section::Operations,
        body,
    ))
}

#[derive(Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    note: String,
}

pub async fn accept_referral(
    web: WebState,
    Path(id): Path<String>,
    Posted { viewer, form: f }: Posted<NoteForm>,
) -> Result<Response, WebError> {
    decide(web, id, viewer, true, f.note).await
}

pub async fn decline_referral(
    web: WebState,
    Path(id): Path<String>,
    Posted { viewer, form: f }: Posted<NoteForm>,
) -> Result<Response, WebError> {
    decide(web, id, viewer, false, f.note).await
}

async fn decide(
    web: WebState,
    id: String,
    viewer: Viewer,
    accept: bool,
    note: String,
) -> Result<Response, WebError> {
    let who = viewer.who.clone();
    blocking(&web.app, move |app| {
        app.decide_referral(&who, &id, accept, given(&note).as_deref())
    })
    .await?;
    Ok(see_other("/referrals"))
}

#[derive(Deserialize)]
pub struct MoveForm {
    to: String,
    #[serde(default)]
    note: String,
    revision: Option<i64>,
}

pub async fn move_case(
    web: WebState,
    Path(id): Path<String>,
    Posted { viewer, form: f }: Posted<MoveForm>,
) -> Result<Response, WebError> {
    let who = viewer.who.clone();
    let back = format!("/cases/{id}#process");
    blocking(&web.app, move |app| {
        app.move_case(&who, &id, &f.to, given(&f.note).as_deref(), f.revision)
    })
    .await?;
    Ok(see_other(&back))
}

#[derive(Deserialize)]
pub struct ApprovalForm {
    #[serde(default)]
    refuse: bool,
    #[serde(default)]
    note: String,
}

pub async fn approve(
    web: WebState,
    Path(id): Path<String>,
    Posted { viewer, form: f }: Posted<ApprovalForm>,
) -> Result<Response, WebError> {
    let who = viewer.who.clone();
    let back = format!("/cases/{id}#process");
    blocking(&web.app, move |app| {
        app.approve_move(&who, &id, f.refuse, given(&f.note).as_deref())
    })
    .await?;
    Ok(see_other(&back))
}

#[derive(Deserialize)]
pub struct AssignForm {
    #[serde(default)]
    assignee: String,
}

pub async fn assign(
    web: WebState,
    Path(id): Path<String>,
    Posted { viewer, form: f }: Posted<AssignForm>,
) -> Result<Response, WebError> {
    let who = viewer.who.clone();
    let back = format!("/cases/{id}#process");
    blocking(&web.app, move |app| {
        app.assign_case(&who, &id, given(&f.assignee).as_deref())
    })
    .await?;
    Ok(see_other(&back))
}

#[derive(Deserialize)]
pub struct MatchForm {
    #[serde(default)]
    state: String,
}

pub async fn match_case(
    web: WebState,
    Path(id): Path<String>,
    Posted { viewer, form: f }: Posted<MatchForm>,
) -> Result<Response, WebError> {
    let who = viewer.who.clone();
    let back = format!("/cases/{id}#process");
    blocking(&web.app, move |app| {
        app.match_case(&who, &id, given(&f.state).as_deref(), None)
    })
    .await?;
    Ok(see_other(&back))
}

/// A referral form: its sections come as one field each.
pub async fn refer(
    web: WebState,
    Path(id): Path<String>,
    Posted { viewer, form }: Posted<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let sections = form
        .iter()
        .filter(|(k, _)| k == "sections")
        .map(|(_, v)| v.parse().map_err(WebError::Form))
        .collect::<Result<Vec<_>, _>>()?;
    let request = ReferralRequest {
        to: field("to"),
        sections,
        reason: field("reason"),
        override_consent: field("override_consent") == "true",
    };
    let who = viewer.who.clone();
    let back = format!("/cases/{id}#process");
    blocking(&web.app, move |app| app.refer_case(&who, &id, request)).await?;
    Ok(see_other(&back))
}

/// A document attached on the web: the form's section, then its file.
pub async fn attach(
    web: WebState,
    viewer: Viewer,
    Address(address): Address,
    Path(id): Path<String>,
    parts: axum::extract::Multipart,
) -> Result<Response, WebError> {
    viewer.require(&format!("/cases/{id}"))?;
    let (fields, file_name, bytes, permit) = super::documents::read_form(
        &web,
        &viewer,
        address,
        super::documents::Sending::CaseDocument(id.clone()),
        parts,
    )
    .await?;
    let section: nansen_cases::Section = super::dataset::field(&fields, "section")
        .unwrap_or("")
        .parse()
        .map_err(WebError::Form)?;
    let who = viewer.who.clone();
    let back = format!("/cases/{id}#documents");
    blocking(&web.app, move |app| {
        let _permit = permit;
        app.attach_case_document(&who, &id, section, &file_name, &bytes)
    })
    .await?;
    Ok(see_other(&back))
}

/// A document of a case, for the readers of its section.
pub async fn document(
    web: WebState,
    viewer: Viewer,
    Path((id, document)): Path<(String, String)>,
) -> Result<Response, WebError> {
    viewer.require(&format!("/cases/{id}"))?;
    let who = viewer.who.clone();
    let (_, file) = blocking(&web.app, move |app| app.case_document(&who, &id, &document)).await?;
    Ok(super::documents::document_attachment(file))
}

#[derive(Deserialize)]
pub struct FollowUpForm {
    on: String,
    economic: f64,
    social: f64,
    psychosocial: f64,
    #[serde(default)]
    note: String,
}

pub async fn follow_up(
    web: WebState,
    Path(id): Path<String>,
    Posted { viewer, form: f }: Posted<FollowUpForm>,
) -> Result<Response, WebError> {
    let who = viewer.who.clone();
    let back = format!("/cases/{id}#follow-ups");
    blocking(&web.app, move |app| {
        app.add_follow_up(
            &who,
            &id,
            nansen_app::FollowUp {
                on: f.on,
                economic: f.economic,
                social: f.social,
                psychosocial: f.psychosocial,
                note: f.note,
                by: String::new(),
            },
        )
    })
    .await?;
    Ok(see_other(&back))
}

#[derive(Deserialize)]
pub struct ConsentForm {
    purpose: String,
    #[serde(default)]
    partner: String,
}

pub async fn consent(
    web: WebState,
    Path(id): Path<String>,
    Posted { viewer, form: f }: Posted<ConsentForm>,
) -> Result<Response, WebError> {
    let purpose: ConsentPurpose = f.purpose.parse().map_err(WebError::Form)?;
    let who = viewer.who.clone();
    let back = format!("/cases/{id}#consent");
    blocking(&web.app, move |app| {
        app.add_consent(
            &who,
            &id,
            Consent {
                purpose,
                partner: given(&f.partner),
            },
        )
    })
    .await?;
    Ok(see_other(&back))
}

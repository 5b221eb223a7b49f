//! Administration: organisations, members and their roles, access requests waiting for a
//! decision, and the audit log with the result of verifying its chain.

use super::{blocking, see_other};
use crate::error::WebError;
use crate::layout::{self, csrf, when, Section};
use crate::session::{Posted, Viewer};
use crate::WebState;
use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use nansen_app::{AccessRequestRecord, AuditEntry, MemberRecord, OrgRecord};
use nansen_model::{RequestStatus, Role};
use serde::Deserialize;

struct Overview {
    orgs: Vec<OrgRecord>,
    administered: Vec<OrgRecord>,
    members: Vec<MemberRecord>,
    requests: Vec<AccessRequestRecord>,
}

async fn overview(
    web: &WebState,
    viewer: &Viewer,
    notice: Option<Markup>,
) -> Result<Response, WebError> {
    viewer.require("/admin")?;
    let who = viewer.who.clone();
    let o = blocking(&web.app, move |app| {
        let administered = app.administered_orgs(&who)?;
        if administered.is_empty() {
            return Err(nansen_app::AppError::Forbidden(
                "administration is for administrators of an organisation".into(),
            ));
        }
        Ok(Overview {
            orgs: app.organisations(&who)?,
            members: app.members(&who)?,
            requests: app.access_requests(&who)?,
            administered,
        })
    })
    .await?;
    let me = viewer.email().to_string();
    let pending: Vec<&AccessRequestRecord> = o
        .requests
        .iter()
        .filter(|r| r.status == RequestStatus::Pending && r.user_email != me)
        .collect();
    let decided: Vec<&AccessRequestRecord> = o
        .requests
        .iter()
        .filter(|r| r.status != RequestStatus::Pending)
        .collect();
    let body = html! {
        h1 { "Administration" }
        @if let Some(n) = notice { (n) }
        nav aria-label="Administration" { ul.inline {
            li { a href="#requests" { "Access requests (" (pending.len()) ")" } }
            li { a href="#members" { "Members" } }
            li { a href="#organisations" { "Organisations" } }
            li { a href="/admin/audit" { "Audit log" } }
        } }
        section aria-labelledby="requests" {
            h2 #requests { "Access requests waiting for a decision" }
            @if pending.is_empty() { p { "None waiting." } } @else {
                @for r in &pending { (request_article(viewer, r)) }
            }
            @if !decided.is_empty() {
                details {
                    summary { "Decided requests (" (decided.len()) ")" }
                    table {
                        caption { "Decided access requests; an approval can be revoked" }
                        thead { tr { th scope="col" { "Dataset or document" } th scope="col" { "Organisation" } th scope="col" { "Asked by" } th scope="col" { "Decision" } th scope="col" { "By" } th scope="col" { "Revoke" } } }
                        tbody {
                            @for r in &decided { (decided_row(viewer, r)) }
                        }
                    }
                }
            }
        }
        section aria-labelledby="members" {
            h2 #members { "Members and roles" }
            div.table-wrap tabindex="0" role="region" aria-label="Members" {
                table {
                    caption { "Members of the organisations you administer" }
                    thead { tr { th scope="col" { "E-mail" } th scope="col" { "Organisation" } th scope="col" { "Role" } th scope="col" { "Remove" } } }
                    tbody {
                        @for (i, m) in o.members.iter().enumerate() {
                            tr {
                                td { (m.email) }
                                td { (m.org) }
                                td {
                                    form.inline method="post" action="/admin/members" {
                                        (csrf(viewer))
                                        input type="hidden" name="email" value=(m.email);
                                        input type="hidden" name="org" value=(m.org);
                                        label.visually-hidden for=(format!("role-{i}")) { "Role of " (m.email) " in " (m.org) }
                                        select id=(format!("role-{i}")) name="role" {
                                            @for r in Role::ALL { option value=(r.to_string()) selected[m.role == *r] { (r.to_string()) } }
                                        }
                                        label.check { input type="checkbox" name="supervisor" value="true" checked[m.supervisor]; " supervisor" }
                                        button type="submit" aria-label=(format!("Save the role of {} in {}", m.email, m.org)) { "Save" }
                                    }
                                }
                                td {
                                    @if m.email != me {
                                        form.inline method="post" action="/admin/members/remove" {
                                            (csrf(viewer))
                                            input type="hidden" name="email" value=(m.email);
                                            input type="hidden" name="org" value=(m.org);
                                            button.secondary type="submit" aria-label=(format!("Remove {} from {}", m.email, m.org)) { "Remove" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h3 { "Add a member" }
            form.row method="post" action="/admin/members" {
                (csrf(viewer))
                label for="m-email" { "E-mail" }
                input #m-email type="email" name="email" required;
                label for="m-org" { "Organisation" }
                select #m-org name="org" { @for org in &o.administered { option value=(org.slug) { (org.slug) } } }
                label for="m-role" { "Role" }
                select #m-role name="role" { @for r in Role::ALL { option value=(r.to_string()) selected[*r == Role::Analyst] { (r.to_string()) } } }
                label.check { input type="checkbox" name="supervisor" value="true"; " supervisor (a caseworker or admin who approves moves)" }
                button type="submit" { "Add" }
            }
        }
        section aria-labelledby="organisations" {
            h2 #organisations { "Organisations" }
            table {
                caption { "Organisations on this platform" }
                thead { tr { th scope="col" { "Short name" } th scope="col" { "Name" } } }
                tbody { @for org in &o.orgs { tr { td { (org.slug) } td { (org.name) } } } }
            }
            @if viewer.operator {
                h3 { "Add an organisation" }
                form.row method="post" action="/admin/organisations" {
                    (csrf(viewer))
                    label for="o-slug" { "Short name" }
                    input #o-slug type="text" name="slug" required pattern="[a-z0-9_\\-]{1,64}";
                    label for="o-name" { "Name" }
                    input #o-name type="text" name="name" required;
                    button type="submit" { "Add" }
                }
            } @else {
                p.hint { "Organisations are added by a platform operator." }
            }
        }
    };
    Ok(layout::page(viewer, "Administration", Section::Admin, body).into_response())
}

pub async fn page(web: WebState, viewer: Viewer) -> Result<Response, WebError> {
    overview(&web, &viewer, None).await
}

#[derive(Deserialize)]
pub struct NewOrg {
    slug: String,
    name: String,
}

pub async fn add_org(
    web: WebState,
    Posted { viewer, form: f }: Posted<NewOrg>,
) -> Result<Response, WebError> {
    let who = viewer.who.clone();
    blocking(&web.app, move |app| {
        app.add_org(&who, f.slug.trim(), &f.name)
    })
    .await?;
    Ok(see_other("/admin#organisations"))
}

#[derive(Deserialize)]
pub struct Member {
    email: String,
    org: String,
    #[serde(default)]
    role: String,
    /// Ticked: a caseworker or admin who approves moves of the organisation's cases.
    #[serde(default)]
    supervisor: bool,
}

pub async fn set_member(
    web: WebState,
    Posted { viewer, form: f }: Posted<Member>,
) -> Result<Response, WebError> {
    let role: Role = f.role.parse().map_err(WebError::Form)?;
    let who = viewer.who.clone();
    let (email, org) = (f.email.trim().to_lowercase(), f.org.clone());
    let password = blocking(&web.app, move |app| {
        app.set_member(&who, &email, &org, (role, f.supervisor))
    })
    .await?;
    match password {
        // A new account: its first password is shown here, once, to hand over.
        Some(p) => {
            let notice = html! {
                div.notice role="status" {
                    p { "Account " strong { (f.email.trim().to_lowercase()) } " made, " (role) " of " (f.org) ". Its password, shown only now:" }
                    label for="new-password" { "Password" }
                    input #new-password type="text" readonly value=(p);
                }
            };
            overview(&web, &viewer, Some(notice)).await
        }
        None => Ok(see_other("/admin#members")),
    }
}

pub async fn remove_member(
    web: WebState,
    Posted { viewer, form: f }: Posted<Member>,
) -> Result<Response, WebError> {
    let who = viewer.who.clone();
    blocking(&web.app, move |app| {
        app.remove_member(&who, &f.email, &f.org)
    })
    .await?;
    Ok(see_other("/admin#members"))
}

#[derive(Deserialize)]
pub struct Decision {
    decision: String,
    #[serde(default)]
    note: String,
}

/// The subject of a request, linked to its page.
fn subject(r: &AccessRequestRecord) -> Markup {
    html! {
        @if r.kind == "document" {
            "the document " a href=(format!("/documents/{}", r.subject_id)) { (r.subject) }
        } @else {
            a href=(format!("/datasets/{}", r.subject)) { (r.subject) }
        }
    }
}

/// A request waiting for a decision, with the form that decides it.
fn request_article(viewer: &Viewer, r: &AccessRequestRecord) -> Markup {
    html! {
        article.request {
            h3 { (r.org) " asks for " (subject(r)) }
            p { "By " (r.user_email) ", " (when(&r.created_at)) ": “" (r.reason) "”" }
            form.row method="post" action=(format!("/admin/access-requests/{}", r.id)) {
                (csrf(viewer))
                label for=(format!("note-{}", r.id)) { "Note to the requester" }
                input id=(format!("note-{}", r.id)) type="text" name="note";
                button type="submit" name="decision" value="approve" { "Approve" }
                button.secondary type="submit" name="decision" value="refuse" { "Refuse" }
            }
        }
    }
}

/// A decided request; an approved one has the form that revokes it.
fn decided_row(viewer: &Viewer, r: &AccessRequestRecord) -> Markup {
    html! {
        tr {
            td { (subject(r)) } td { (r.org) } td { (r.user_email) } td { (r.status) } td { (r.decided_by.as_deref().unwrap_or("")) }
            td {
                @if r.status == RequestStatus::Approved {
                    form.inline method="post" action=(format!("/admin/access-requests/{}", r.id)) {
                        (csrf(viewer))
                        button.secondary type="submit" name="decision" value="revoke" aria-label=(format!("Revoke the access of {}", r.org)) { "Revoke" }
                    }
                }
            }
        }
    }
}

impl Decision {
    /// Some(approve) for a decision on a pending request, None to revoke an approved one.
    fn choice(&self) -> Result<Option<bool>, WebError> {
        match self.decision.as_str() {
            "approve" => Ok(Some(true)),
            "refuse" => Ok(Some(false)),
            "revoke" => Ok(None),
            d => Err(WebError::Form(format!(
                "decide approve, refuse or revoke, not {d:?}"
            ))),
        }
    }
}

pub async fn decide(
    web: WebState,
    Path(id): Path<i64>,
    Posted { viewer, form: f }: Posted<Decision>,
) -> Result<Response, WebError> {
    let choice = f.choice()?;
    let who = viewer.who.clone();
    blocking(&web.app, move |app| match choice {
        Some(approve) => app.decide_access(&who, id, approve, &f.note),
        None => app.revoke_access(&who, id, &f.note),
    })
    .await?;
    Ok(see_other("/admin#requests"))
}

#[derive(Deserialize, Default)]
pub struct AuditFilters {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    page: usize,
}

const PAGE: usize = 100;

pub async fn audit(
    web: WebState,
    viewer: Viewer,
    Query(f): Query<AuditFilters>,
) -> Result<Markup, WebError> {
    viewer.require("/admin/audit")?;
    let who = viewer.who.clone();
    let (entries, verified): (
        Vec<AuditEntry>,
        Result<nansen_app::AuditReport, nansen_app::AuditBroken>,
    ) = blocking(&web.app, move |app| {
        Ok((app.audit_log(&who)?, app.verify_audit()?))
    })
    .await?;
    let has = |field: &str, want: &str| {
        want.is_empty() || field.to_lowercase().contains(&want.trim().to_lowercase())
    };
    let shown: Vec<&AuditEntry> = entries
        .iter()
        .rev()
        .filter(|e| {
            has(&e.actor, &f.actor) && has(&e.action, &f.action) && has(&e.target, &f.target)
        })
        .collect();
    let pages = shown.len().div_ceil(PAGE).max(1);
    let page = f.page.min(pages - 1);
    let link = |p: usize| {
        format!(
            "/admin/audit?{}",
            serde_urlencoded::to_string([
                ("actor", f.actor.as_str()),
                ("action", &f.action),
                ("target", &f.target),
                ("page", &p.to_string())
            ])
            .unwrap_or_default()
        )
    };
    let body = html! {
        p.crumbs { a href="/admin" { "Administration" } " › Audit log" }
        h1 { "Audit log" }
        @match &verified {
            Ok(r) => { p.ok role="status" #verify { "The chain is intact: " (r.entries) " entries, head " code { (r.head.get(..16).unwrap_or(&r.head)) } "…" } }
            Err(b) => { p.error role="alert" #verify { "The chain is broken at entry " (b.seq) ": " (b.reason) } }
        }
        form.filters method="get" action="/admin/audit" aria-label="Filter the audit log" {
            div.field { label for="a-actor" { "Who" } input #a-actor type="text" name="actor" value=(f.actor); }
            div.field { label for="a-action" { "Action" } input #a-action type="text" name="action" value=(f.action) placeholder="dataset.export"; }
            div.field { label for="a-target" { "About" } input #a-target type="text" name="target" value=(f.target) placeholder="euaa/"; }
            div.field { button type="submit" { "Filter" } }
        }
        p role="status" { (shown.len()) " entries" @if pages > 1 { ", page " (page + 1) " of " (pages) } }
        div.table-wrap tabindex="0" role="region" aria-label="Audit entries" {
            table.data {
                caption { "Newest first" }
                thead { tr { th scope="col" class="num" { "#" } th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "Action" } th scope="col" { "About" } th scope="col" { "Detail" } } }
                tbody { @for e in shown.iter().skip(page * PAGE).take(PAGE) { tr { td.num { (e.seq) } td { @if let Ok(t) = e.at.parse() { (when(&t)) } @else { (e.at) } } td { (e.actor) } td { (e.action) } td { (e.target) } td { code.detail { (e.detail) } } } } }
            }
        }
        nav aria-label="Pages" { ul.inline {
            @if page > 0 { li { a href=(link(page - 1)) { "Newer" } } }
            @if page + 1 < pages { li { a href=(link(page + 1)) { "Older" } } }
        } }
    };
    Ok(layout::page(&viewer, "Audit log", Section::Admin, body))
}

//! Matching on the web, for a programme's admins: the proposals and a form to make one, a
//! proposal's page (a map of the states with the persons proposed to each, the states'
//! table beside their pledges, every case with its explanation, accepting a case or all,
//! and a what-if form that starts from it). The receiving state decides in its referrals.

use super::operations::{given, programme_head, programme_href, programme_name, tabs};
use super::{admitted, blocking, see_other, Address};
use crate::charts;
use crate::error::WebError;
use crate::layout::{self, csrf, number, place, when, Section};
use crate::session::{Posted, Viewer};
use crate::WebState;
use axum::extract::Path;
use axum::response::Response;
use maud::{html, Markup};
use nansen_app::{Acceptance, ProposalRequest, ProposalView, ProposedCaseView};
use serde::Deserialize;

fn proposal_href(id: &str) -> String {
    format!("/proposals/{id}")
}

fn share(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

/// One `CASE=STATE` per line (or separated by commas).
fn pairs(text: &str) -> Vec<String> {
    text.split(['\n', ','])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The form that makes a proposal, or a what-if from `from`.
fn propose_form(viewer: &Viewer, action: &str, from: Option<&str>) -> Markup {
    let title = if from.is_some() {
        "What if: solve again from this proposal"
    } else {
        "Propose a matching"
    };
    html! {
        section aria-labelledby="propose" {
            h2 #propose { (title) }
            p { "The cases at ready for matching and the places each pledge has left are matched to give every household its best chance; nothing changes until you accept." }
            form.stack method="post" action=(action) {
                (csrf(viewer))
                @if let Some(id) = from { input type="hidden" name="from" value=(id); }
                label for="pins" { "Keep these pairs (one CASE=STATE per line)" }
                textarea #pins name="pins" rows="2" {}
                label for="forbids" { "Never these pairs (one CASE=STATE per line)" }
                textarea #forbids name="forbids" rows="2" {}
                label for="time-limit" { "Seconds to search (at most 60)" }
                input #time-limit type="number" name="time_limit" min="1" max="60" step="1" value=(if from.is_some() { "1" } else { "10" });
                button type="submit" { (if from.is_some() { "Solve again" } else { "Propose" }) }
            }
        }
    }
}

/// A programme's proposals and the form to make one.
pub async fn matching(
    web: WebState,
    viewer: Viewer,
    Path((org, slug)): Path<(String, String)>,
) -> Result<Markup, WebError> {
    let name = programme_name(&org, &slug)?;
    let href = format!("{}/matching", programme_href(&name));
    viewer.require(&href)?;
    let who = viewer.who.clone();
    let n = name.clone();
    let (p, list, settings) = blocking(&web.app, move |app| {
        Ok((
            app.programme(&who, &n)?,
            app.proposals(&who, &n)?,
            app.match_settings(&who, &n)?,
        ))
    })
    .await?;
    let w = &settings.weights;
    let body = html! {
        (programme_head(&p))
        (tabs(&p, &href))
        (propose_form(&viewer, &format!("{href}/proposals"), None))
        p.meta {
            @if settings.scores.is_some() { "Scores come from the programme's uploaded score matrix." } @else {
                "The default score: base " (w.base) ", shared language " (w.language) ", family in the state " (w.family)
                ", the state's preference " (w.state_preference) ", the household's own choice " (w.household_preference)
                " (docs/matching.md)."
            }
        }
        h2 { "Proposals" }
        @if list.is_empty() { p { "None yet." } } @else {
            div.table-wrap tabindex="0" role="region" aria-label="Proposals" {
                table {
                    caption { "Proposals, newest first" }
                    thead { tr { th scope="col" { "Proposal" } th scope="col" { "Made" } th scope="col" .num { "Objective" }
                        th scope="col" .num { "Gap to the bound" } th scope="col" .num { "Cases" } th scope="col" .num { "Assigned" } th scope="col" .num { "Accepted" } } }
                    tbody { @for item in &list { tr {
                        th scope="row" { a href=(proposal_href(&item.id)) { code { (item.id) } } }
                        td { (when(&item.created_at)) " by " (item.created_by) }
                        td.num { (format!("{:.2}", item.objective)) }
                        td.num { (format!("{:.3}%", item.gap * 100.0)) }
                        td.num { (item.cases) } td.num { (item.assigned_cases) } td.num { (item.accepted_cases) }
                    } } }
                }
            }
        }
    };
    Ok(layout::page(
        &viewer,
        &format!("Matching in {}", p.title),
        Section::Operations,
        body,
    ))
}

#[derive(Deserialize)]
pub struct ProposeForm {
    #[serde(default)]
    pins: String,
    #[serde(default)]
    forbids: String,
    #[serde(default)]
    time_limit: String,
    #[serde(default)]
    from: String,
}

pub async fn propose(
    web: WebState,
    Address(address): Address,
    Path((org, slug)): Path<(String, String)>,
    Posted { viewer, form: f }: Posted<ProposeForm>,
) -> Result<Response, WebError> {
    let name = programme_name(&org, &slug)?;
    let time_limit = match given(&f.time_limit) {
        None => None,
        Some(t) => Some(
            t.parse::<f64>()
                .map_err(|_| WebError::Form(format!("seconds to search: {t:?} is not a number")))?,
        ),
    };
    let who = viewer.who.clone();
    let request = ProposalRequest {
        pins: pairs(&f.pins),
        forbids: pairs(&f.forbids),
        time_limit,
        dry_run: false,
        from: given(&f.from),
    };
    let permit = web.app.admit(&who, address, nansen_app::Work::Matching)?;
    let p = admitted(&web.app, permit, move |app, _| {
        app.propose(&who, &name, request)
    })
    .await?;
    Ok(see_other(&proposal_href(p.id.as_deref().unwrap_or(""))))
}

fn case_row(viewer: &Viewer, id: &str, c: &ProposedCaseView) -> Markup {
    html! {
        tr {
            th scope="row" { a href=(format!("/cases/{}", c.case)) { code { (c.case) } } }
            td.num { (c.persons) }
            td { @match &c.state { Some(s) => (place(s)), None => em { "unassigned" } } }
            td.num { (c.score.map_or("–".into(), |v| format!("{v:.2}"))) }
            td {
                @if let Some(p) = &c.parts {
                    "base " (p.base)
                    @if p.language > 0.0 { ", language " (p.language) }
                    @if p.family > 0.0 { ", family " (p.family) }
                    @if p.state_preference > 0.0 { ", state's preference " (p.state_preference) }
                    @if p.household_preference > 0.0 { ", household's choice " (format!("{:.3}", p.household_preference)) }
                }
            }
            td {
                @if let Some(u) = &c.unassigned_because { (u) }
                @if let Some(n) = &c.next_best { "next best " (place(&n.state)) " (" (format!("{:.2}", n.score)) "), would cost " (format!("{:.3}", n.cost)) }
                @if !c.stopped.is_empty() { ul { @for s in &c.stopped { li { "not " (s.state) ": " (s.because) } } } }
                @if !c.travels_with.is_empty() { p.meta { "travels with " (c.travels_with.join(", ")) } }
            }
            td {
                @match (&c.decision, &c.state) {
                    (Some(d), _) => { (d) @if let Some(r) = &c.referral { ", referral " code { (r) } } }
                    (None, Some(_)) => {
                        form.inline method="post" action=(format!("{}/accept", proposal_href(id))) {
                            (csrf(viewer))
                            input type="hidden" name="case" value=(c.case);
                            button type="submit" aria-label=(format!("Accept case {}", c.case)) { "Accept" }
                        }
                    }
                    (None, None) => { "–" }
                }
            }
        }
    }
}

fn proposal_body(viewer: &Viewer, p: &ProposalView) -> Markup {
    let s = &p.summary;
    let id = p.id.as_deref().unwrap_or("");
    let map: Vec<(String, String, f64)> = s
        .states
        .iter()
        .map(|st| (st.state.clone(), place(&st.state), st.persons as f64))
        .collect();
    let undecided = p
        .cases
        .iter()
        .filter(|c| c.state.is_some() && c.decision.is_none())
        .count();
    html! {
        dl.figures {
            dt { "Objective" } dd { (format!("{:.2}", s.objective)) }
            dt { "Proven bound" } dd { (format!("{:.2}", s.bound)) " (no assignment reaches more)" }
            dt { "Gap" } dd { (format!("{:.3}%", s.gap * 100.0)) }
            dt { "Assigned" } dd { (s.assigned_cases) " of " (s.taking_part) " cases, " (number(Some(s.assigned_persons as f64))) " persons" }
            dt { "Solved in" } dd { (format!("{:.2} s", s.seconds)) }
            dt { "Score" } dd { (s.score) }
        }
        @if !s.pins.is_empty() || !s.forbids.is_empty() {
            p { "Kept: " (s.pins.join(", ")) @if s.pins.is_empty() { "none" } "; never: " (s.forbids.join(", ")) @if s.forbids.is_empty() { "none" } }
        }
        @if let Some(prev) = &s.previous {
            section aria-labelledby="moved" {
                h2 #moved { "What moved since " a href=(proposal_href(prev)) { code { (prev) } } }
                @if s.moved.is_empty() { p { "Nothing moved." } } @else {
                    ul { @for m in &s.moved { li { code { (m.case) } ": " (m.from.as_deref().map(place).unwrap_or("unassigned".into())) " → " (m.to.as_deref().map(place).unwrap_or("unassigned".into())) } } }
                }
            }
        }
        (charts::map("proposal-map", "Persons proposed to each receiving state", "europe", &map))
        div.table-wrap tabindex="0" role="region" aria-label="States" {
            table {
                caption { "Each state: places available when proposed, what it would receive, its share of the persons beside its share of the places" }
                thead { tr { th scope="col" { "State" } th scope="col" .num { "Places" } th scope="col" .num { "Persons" } th scope="col" .num { "Cases" }
                    th scope="col" .num { "Unaccompanied children (places)" } th scope="col" .num { "Medical cases (places)" }
                    th scope="col" .num { "Share of persons" } th scope="col" .num { "Share of places" } th scope="col" { "Languages" } th scope="col" { "Nationalities" } } }
                tbody { @for st in &s.states { tr {
                    th scope="row" { (place(&st.state)) }
                    td.num { (number(Some(st.places as f64))) } td.num { (number(Some(st.persons as f64))) } td.num { (st.cases) }
                    td.num { (st.unaccompanied_children) " (" (st.uam_places) ")" } td.num { (st.medical_cases) " (" (st.medical_places) ")" }
                    td.num { (share(st.share_of_persons)) } td.num { (share(st.share_of_places)) }
                    td { (st.languages.iter().map(|(l, n)| format!("{l} {n}")).collect::<Vec<_>>().join(", ")) }
                    td { (st.nationalities.iter().map(|(l, n)| format!("{l} {n}")).collect::<Vec<_>>().join(", ")) }
                } } }
            }
        }
        @if !s.waiting.is_empty() {
            h2 { "Waiting" }
            ul { @for w in &s.waiting { li { code { (w.case) } ": " (w.because) } } }
        }
        h2 { "Cases" }
        @if undecided > 0 && p.id.is_some() {
            form method="post" action=(format!("{}/accept", proposal_href(id))) {
                (csrf(viewer))
                button type="submit" { "Accept all " (undecided) " proposed cases" }
            }
        }
        div.table-wrap tabindex="0" role="region" aria-label="Cases" {
            table {
                caption { "Every case: where it goes, the parts of its score, and why not elsewhere" }
                thead { tr { th scope="col" { "Case" } th scope="col" .num { "Persons" } th scope="col" { "State" } th scope="col" .num { "Score" }
                    th scope="col" { "Score parts" } th scope="col" { "Why" } th scope="col" { "Decision" } } }
                tbody { @for c in &p.cases { (case_row(viewer, id, c)) } }
            }
        }
    }
}

/// A proposal, explained, with what the admin may decide.
pub async fn proposal(
    web: WebState,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Markup, WebError> {
    let href = proposal_href(&id);
    viewer.require(&href)?;
    let who = viewer.who.clone();
    let (p, programme) = blocking(&web.app, move |app| {
        let p = app.proposal(&who, &id)?;
        let name = p
            .summary
            .programme
            .parse()
            .map_err(nansen_app::AppError::BadRequest)?;
        let programme = app.programme(&who, &name)?;
        Ok((p, programme))
    })
    .await?;
    let matching = format!("{}/matching", programme_href(&programme.name));
    let body = html! {
        (programme_head(&programme))
        (tabs(&programme, &matching))
        h2 { "Proposal " code { (p.id.as_deref().unwrap_or("")) } }
        p.meta { "Made " (when(&p.created_at)) " by " (p.created_by) ". Nothing changes until a case is accepted; an accepted case moves on, matched to its state, and is referred to the state's receiving partner." }
        (proposal_body(&viewer, &p))
        (propose_form(&viewer, &format!("{matching}/proposals"), p.id.as_deref()))
    };
    Ok(layout::page(
        &viewer,
        "Matching proposal",
        Section::Operations,
        body,
    ))
}

#[derive(Deserialize)]
pub struct AcceptForm {
    #[serde(default)]
    case: String,
}

/// Accepts one case (with those it travels with) or, with none named, every proposed case;
/// answers what was accepted and what skipped, with why.
pub async fn accept(
    web: WebState,
    Path(id): Path<String>,
    Posted { viewer, form: f }: Posted<AcceptForm>,
) -> Result<Markup, WebError> {
    let who = viewer.who.clone();
    let only: Vec<String> = given(&f.case).into_iter().collect();
    let i = id.clone();
    let a: Acceptance = blocking(&web.app, move |app| app.accept_proposal(&who, &i, &only)).await?;
    let body = html! {
        p { a href=(proposal_href(&id)) { "← The proposal" } }
        h1 { "Accepted " (a.accepted.len()) ", skipped " (a.skipped.len()) }
        p role="status" { (a.accepted.len()) " cases matched and moved on; " (a.skipped.len()) " skipped." }
        @if !a.accepted.is_empty() {
            ul { @for c in &a.accepted { li {
                a href=(format!("/cases/{}", c.case)) { code { (c.case) } } " → " (place(&c.state))
                @match &c.referral { Some(r) => { ", referred (" code { (r) } ")" }, None => { ", no receiving partner speaks for this state: no referral" } }
            } } }
        }
        @if !a.skipped.is_empty() {
            h2 { "Skipped" }
            ul { @for c in &a.skipped { li { a href=(format!("/cases/{}", c.case)) { code { (c.case) } } ": " (c.because) } } }
        }
    };
    Ok(layout::page(
        &viewer,
        "Proposal accepted",
        Section::Operations,
        body,
    ))
}

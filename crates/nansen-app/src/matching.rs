//! Matching in a programme (issue 16): the cases at its ready-for-matching stage and the
//! pledges with places left become an allocation instance; the solver's answer, with its
//! proven bound and an explanation for every case and state, is kept as a proposal that
//! changes nothing until a programme admin accepts it, wholly or case by case. An accepted
//! case moves to the next stage matched to its state and is referred to the receiving
//! partner that speaks for that state; a declined referral returns it to matching.
//!
//! The instance is read from sealed sections (languages, family, preferences, needs), so
//! only the programme's admins propose and read proposals, and a reason that would say a
//! case has a specific need is shown only to those who see its needs.

use crate::{App, AppError, Caller, Result};
use nansen_cases::{Consent, ConsentPurpose, Relationship, Section, NEEDS};
use nansen_match::score::{default_score, Household as Profile, Parts, Receiving, Weights};
use nansen_match::{CaseExplanation, Instance, NextBest, StateSummary};
use nansen_model::{ProgrammeName, Timestamp};
use nansen_store::{CaseRecord, PledgeRecord, ProgrammeRecord, ProposalRecord, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

/// The stage matching takes cases from.
pub const READY: &str = "ready-for-matching";
/// Most cases one proposal takes: the solver's figures were measured to 20,000.
pub const MAX_MATCHING_CASES: usize = 20_000;
/// The longest a proposal may search.
pub const MAX_MATCHING_SECONDS: f64 = 60.0;

/// The needs codes and categories that count against a state's special places.
const UNACCOMPANIED: &str = "SC-UC";
const MEDICAL: &str = "Serious medical condition";
const DISABILITY: &str = "Disability";

/// A programme's matching settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MatchSettings {
    pub weights: Weights,
    /// The sections an accepted match sends to the receiving state.
    pub referral_sections: Vec<Section>,
    /// An uploaded score matrix, case id to state to score (0 to 1), used instead of the
    /// default score; states' exclusions still hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scores: Option<BTreeMap<String, BTreeMap<String, f64>>>,
}

impl Default for MatchSettings {
    fn default() -> MatchSettings {
        MatchSettings {
            weights: Weights::default(),
            referral_sections: vec![Section::Identity, Section::Household],
            scores: None,
        }
    }
}

/// What a programme admin changes in the settings; what is absent stays.
#[derive(Clone, Debug, Default)]
pub struct MatchSettingsChange {
    pub weights: Option<Weights>,
    pub referral_sections: Option<Vec<Section>>,
}

/// What a proposal is asked for.
#[derive(Clone, Debug, Default)]
pub struct ProposalRequest {
    /// `CASE=STATE` pairs that must hold.
    pub pins: Vec<String>,
    /// `CASE=STATE` pairs that must not.
    pub forbids: Vec<String>,
    /// Seconds the search may take (1 by default after `from`, 10 otherwise).
    pub time_limit: Option<f64>,
    /// Answer without keeping the proposal.
    pub dry_run: bool,
    /// An earlier proposal to start from, and to say what moved since.
    pub from: Option<String>,
}

/// A case that moved between two proposals.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MovedCase {
    pub case: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// A case at the ready stage that could not take part, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WaitingCase {
    pub case: String,
    pub because: String,
}

/// A proposal's figures and per-state table: kept in the open, as they name no person.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProposalSummary {
    pub programme: String,
    pub objective: f64,
    /// No assignment of these cases to these places reaches more.
    pub bound: f64,
    /// `(bound - objective) / bound`.
    pub gap: f64,
    pub seconds: f64,
    /// Cases that took part, and of them those assigned.
    pub taking_part: usize,
    pub assigned_cases: usize,
    pub assigned_persons: i64,
    /// `default` (the weights below) or `uploaded` (the programme's score matrix).
    pub score: String,
    pub weights: Weights,
    pub pins: Vec<String>,
    pub forbids: Vec<String>,
    /// The proposal it started from, and what moved since.
    pub previous: Option<String>,
    pub moved: Vec<MovedCase>,
    pub states: Vec<StateSummary>,
    pub waiting: Vec<WaitingCase>,
}

/// One case of a proposal: where it goes and why, and what people decided.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProposedCaseView {
    pub case: String,
    pub persons: i64,
    pub state: Option<String>,
    pub score: Option<f64>,
    /// The parts of its score in that state (the default score only).
    pub parts: Option<Parts>,
    /// What it adds to the objective; hidden from those who do not see its needs, as its
    /// weight tells them.
    pub value: Option<f64>,
    pub travels_with: Vec<String>,
    pub next_best: Option<NextBest>,
    pub stopped: Vec<nansen_match::Stopped>,
    pub unassigned_because: Option<String>,
    /// That reason names places for a specific need: shown only to those who see its needs.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unassigned_needs_based: bool,
    /// `accepted`, or none while undecided.
    #[serde(default)]
    pub decision: Option<String>,
    #[serde(default)]
    pub decided_by: Option<String>,
    /// The referral its acceptance sent.
    #[serde(default)]
    pub referral: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ProposalView {
    /// None for a dry run.
    pub id: Option<String>,
    pub created_by: String,
    pub created_at: Timestamp,
    #[serde(flatten)]
    pub summary: ProposalSummary,
    pub cases: Vec<ProposedCaseView>,
}

/// A proposal in a programme's list.
#[derive(Clone, Debug, Serialize)]
pub struct ProposalItem {
    pub id: String,
    pub created_by: String,
    pub created_at: Timestamp,
    pub objective: f64,
    pub gap: f64,
    pub cases: usize,
    pub assigned_cases: usize,
    pub accepted_cases: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct AcceptedCase {
    pub case: String,
    pub state: String,
    /// The referral sent to the receiving partner for the state, when the programme has one.
    pub referral: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SkippedCase {
    pub case: String,
    pub because: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Acceptance {
    pub proposal: String,
    pub accepted: Vec<AcceptedCase>,
    pub skipped: Vec<SkippedCase>,
}

/// The cases and states of a programme as the solver sees them.
struct Pool {
    instance: Instance,
    cases: Vec<CaseRecord>,
    /// The default score's parts, by case and state (none with an uploaded matrix).
    parts: Vec<Vec<Option<Parts>>>,
    waiting: Vec<WaitingCase>,
}

/// What a case's sealed sections tell matching.
#[derive(Default)]
struct Facts {
    nationality: String,
    languages: Vec<String>,
    family_in: Vec<String>,
    preferred: Vec<String>,
    unaccompanied_child: bool,
    medical: bool,
    disability: bool,
}

fn settings_of(p: &ProgrammeRecord) -> Result<MatchSettings> {
    serde_json::from_str(&p.matching).map_err(|e| {
        AppError::Store(StoreError::Corrupt(format!(
            "programme {}/{}: its matching settings: {e}",
            p.org, p.slug
        )))
    })
}

fn summary_of(p: &ProposalRecord) -> Result<ProposalSummary> {
    serde_json::from_str(&p.summary).map_err(|e| {
        AppError::Store(StoreError::Corrupt(format!(
            "proposal {}: {e}",
            p.reference
        )))
    })
}

fn pair(field: &str, text: &str) -> Result<(String, String)> {
    match text.split_once('=') {
        Some((c, s)) if !c.trim().is_empty() && !s.trim().is_empty() => {
            Ok((c.trim().to_string(), s.trim().to_string()))
        }
        _ => Err(AppError::BadRequest(format!(
            "{field}: {text:?} is not CASE=STATE"
        ))),
    }
}

/// Places a kind of need takes: persons, unaccompanied children, medical cases.
fn needs_of(c: &CaseRecord, f: &Facts) -> [i64; 3] {
    [
        c.persons,
        i64::from(f.unaccompanied_child),
        i64::from(f.medical),
    ]
}

impl App {
    /// The programme, for its admins only (anyone else outside it: not found).
    fn programme_to_match(
        &self,
        who: &Caller,
        name: &ProgrammeName,
    ) -> Result<(ProgrammeRecord, MatchSettings)> {
        let (p, s) = self.programme_for(who, name)?;
        if !s.administers {
            return Err(AppError::Forbidden(format!(
                "only admins of {} match cases in {name}",
                p.org
            )));
        }
        let settings = settings_of(&p)?;
        Ok((p, settings))
    }

    /// What the programme's sealed sections say of each case, for matching.
    fn facts(&self, cases: &[CaseRecord], full: bool) -> Result<HashMap<i64, Facts>> {
        let needs = self.store.open_section_of_each(cases, Section::Needs)?;
        let (identity, household) = if full {
            (
                self.store.open_section_of_each(cases, Section::Identity)?,
                self.store.open_section_of_each(cases, Section::Household)?,
            )
        } else {
            Default::default()
        };
        let mut out = HashMap::new();
        for c in cases {
            let mut f = Facts::default();
            if let Some(b) = needs.get(&c.id) {
                let codes: Vec<String> = crate::cases::read(Section::Needs, b)?;
                for code in &codes {
                    let category = NEEDS.get(code).map(|n| n.category.as_str());
                    f.unaccompanied_child |= code == UNACCOMPANIED;
                    f.medical |= category == Some(MEDICAL);
                    f.disability |= category == Some(DISABILITY);
                }
            }
            if let Some(b) = household.get(&c.id) {
                let h: crate::Household = crate::cases::read(Section::Household, b)?;
                for m in &h.members {
                    for l in &m.languages {
                        if !f.languages.contains(l) {
                            f.languages.push(l.clone());
                        }
                    }
                }
                f.family_in = h.family_abroad.iter().map(|a| a.state.clone()).collect();
                f.preferred = h.preferred_states;
                if let Some(b) = identity.get(&c.id) {
                    let members: Vec<crate::IdentityMember> =
                        crate::cases::read(Section::Identity, b)?;
                    let principal = h
                        .members
                        .iter()
                        .position(|m| m.relationship == Relationship::Principal)
                        .unwrap_or(0);
                    f.nationality = members
                        .get(principal)
                        .or(members.first())
                        .map(|m| m.nationality.clone())
                        .unwrap_or_default();
                }
            }
            out.insert(c.id, f);
        }
        Ok(out)
    }

    /// What each pledging state has left: its places less those of the cases matched to it
    /// that are still in the workflow (a case that left it gives its place back).
    fn places_left(&self, p: &ProgrammeRecord) -> Result<Vec<(PledgeRecord, [i64; 3])>> {
        let in_workflow: Vec<String> = p
            .workflow
            .stages
            .iter()
            .filter(|s| !s.exit)
            .map(|s| s.name.clone())
            .collect();
        let matched = self.store.cases_at(p.id, &in_workflow, true)?;
        let facts = self.facts(&matched, false)?;
        let mut taken: HashMap<&str, [i64; 3]> = HashMap::new();
        for c in &matched {
            let t = taken.entry(c.state.as_deref().unwrap_or("")).or_default();
            let n = needs_of(c, &facts[&c.id]);
            for k in 0..3 {
                t[k] += n[k];
            }
        }
        Ok(self
            .store
            .pledges(p.id)?
            .into_iter()
            .map(|pledge| {
                let t = taken
                    .get(pledge.state.as_str())
                    .copied()
                    .unwrap_or_default();
                let left = [
                    pledge.places - t[0],
                    pledge.uam_places - t[1],
                    pledge.medical_places - t[2],
                ]
                .map(|v| v.max(0));
                (pledge, left)
            })
            .collect())
    }

    /// The instance of a programme now: its ready cases (less those waiting for a case they
    /// travel with) and the pledges with places left.
    fn pool(&self, p: &ProgrammeRecord, settings: &MatchSettings) -> Result<Pool> {
        let name = format!("{}/{}", p.org, p.slug);
        if p.workflow.stage(READY).is_none() {
            return Err(AppError::BadRequest(format!(
                "{name}'s workflow has no {READY} stage, which matching takes its cases from"
            )));
        }
        let pledges = self.places_left(p)?;
        if pledges.is_empty() {
            return Err(AppError::BadRequest(format!(
                "no state has pledged places in {name}"
            )));
        }
        let pledges: Vec<_> = pledges.into_iter().filter(|(_, l)| l[0] > 0).collect();
        if pledges.is_empty() {
            return Err(AppError::BadRequest(format!(
                "no pledge in {name} has places left"
            )));
        }
        let ready = self.store.cases_at(p.id, &[READY.to_string()], false)?;
        if ready.len() > MAX_MATCHING_CASES {
            return Err(AppError::BadRequest(format!(
                "{} cases are at {READY} in {name}; a proposal takes at most {MAX_MATCHING_CASES}",
                ready.len()
            )));
        }
        // Links: a case travels with its linked cases; one linked to a case still in the
        // workflow but not ready waits for it, one linked to a matched case may only go
        // where that one goes.
        let ids: Vec<i64> = ready.iter().map(|c| c.id).collect();
        let links = self.store.links_of(&ids)?;
        let ready_ids: HashSet<i64> = ids.iter().copied().collect();
        let outside: Vec<i64> = links
            .iter()
            .map(|(_, l)| *l)
            .filter(|l| !ready_ids.contains(l))
            .collect();
        let outside: HashMap<i64, CaseRecord> = self
            .store
            .cases_by_id(&outside)?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let exits: HashSet<&str> = p
            .workflow
            .stages
            .iter()
            .filter(|s| s.exit)
            .map(|s| s.name.as_str())
            .collect();
        let mut waiting: HashMap<i64, String> = HashMap::new();
        let mut bound_to: HashMap<i64, String> = HashMap::new();
        for (case, linked) in &links {
            let Some(o) = outside.get(linked) else {
                continue;
            };
            if o.erased_at.is_some() || exits.contains(o.stage.as_str()) {
                continue;
            }
            match &o.state {
                Some(s) => {
                    bound_to.insert(*case, s.clone());
                }
                None => {
                    waiting.insert(
                        *case,
                        format!("it travels with {}, which is at {}", o.reference, o.stage),
                    );
                }
            }
        }
        // Waiting spreads to every case linked to a waiting one.
        loop {
            let mut spread = Vec::new();
            for (case, linked) in &links {
                if ready_ids.contains(linked)
                    && waiting.contains_key(linked)
                    && !waiting.contains_key(case)
                {
                    let r = ready
                        .iter()
                        .find(|c| c.id == *linked)
                        .map(|c| c.reference.clone());
                    spread.push((
                        *case,
                        format!("it travels with {}, which waits", r.unwrap_or_default()),
                    ));
                }
            }
            if spread.is_empty() {
                break;
            }
            waiting.extend(spread);
        }
        let (taking, left_out): (Vec<CaseRecord>, Vec<CaseRecord>) = ready
            .into_iter()
            .partition(|c| !waiting.contains_key(&c.id));
        let waiting: Vec<WaitingCase> = left_out
            .iter()
            .map(|c| WaitingCase {
                case: c.reference.clone(),
                because: waiting[&c.id].clone(),
            })
            .collect();
        if taking.is_empty() {
            return Err(AppError::BadRequest(format!(
                "no case of {name} is at {READY} and free to be matched{}",
                if waiting.is_empty() {
                    ""
                } else {
                    " (each waits for a case it travels with)"
                }
            )));
        }
        let facts = self.facts(&taking, true)?;
        let reference: HashMap<i64, &str> = taking
            .iter()
            .map(|c| (c.id, c.reference.as_str()))
            .collect();
        let state_index: HashMap<&str, usize> = pledges
            .iter()
            .enumerate()
            .map(|(j, (pl, _))| (pl.state.as_str(), j))
            .collect();
        let states: Vec<nansen_match::State> = pledges
            .iter()
            .map(|(pl, left)| nansen_match::State {
                id: pl.state.clone(),
                places: left[0],
                uam_places: left[1],
                medical_places: left[2],
                languages: pl.languages.clone(),
                prefers: pl.prefers.clone(),
                excludes: pl.excludes.clone(),
            })
            .collect();
        let receiving: Vec<Receiving> = pledges
            .iter()
            .map(|(pl, _)| Receiving {
                state: pl.state.clone(),
                languages: pl.languages.clone(),
                prefers: pl.prefers.clone(),
                excludes: pl.excludes.clone(),
            })
            .collect();
        let mut cases = Vec::with_capacity(taking.len());
        let mut score = Vec::with_capacity(taking.len());
        let mut parts = Vec::with_capacity(taking.len());
        for c in &taking {
            let f = &facts[&c.id];
            let profile = Profile {
                nationality: f.nationality.clone(),
                languages: f.languages.clone(),
                family_in: f.family_in.clone(),
                preferred: f.preferred.clone(),
            };
            let mut row = Vec::with_capacity(states.len());
            let mut row_parts = Vec::with_capacity(states.len());
            for r in &receiving {
                let excluded = r.excludes.contains(&f.nationality)
                    || bound_to.get(&c.id).is_some_and(|s| *s != r.state);
                let (v, part) = match &settings.scores {
                    _ if excluded => (-1.0, None),
                    Some(matrix) => {
                        let v = matrix
                            .get(&c.reference)
                            .and_then(|row| row.get(&r.state))
                            .copied()
                            .ok_or_else(|| {
                                AppError::BadRequest(format!(
                                    "the programme's score matrix has no score for case {} in {}: upload one covering every case at {READY} and every state with places left, or clear it to use the default score",
                                    c.reference, r.state
                                ))
                            })?;
                        (v, None)
                    }
                    None => match default_score(&settings.weights, &profile, r) {
                        Ok(p) => (p.total(), Some(p)),
                        Err(_) => (-1.0, None),
                    },
                };
                row.push(v);
                row_parts.push(part);
            }
            score.push(row);
            parts.push(row_parts);
            cases.push(nansen_match::Case {
                id: c.reference.clone(),
                size: c.persons,
                nationality: f.nationality.clone(),
                languages: f.languages.clone(),
                unaccompanied_child: f.unaccompanied_child,
                medical: f.medical,
                disability: f.disability,
                family_ties: f
                    .family_in
                    .iter()
                    .filter_map(|s| state_index.get(s.as_str()).copied())
                    .collect(),
                linked: links
                    .iter()
                    .filter(|(a, _)| *a == c.id)
                    .filter_map(|(_, b)| reference.get(b).map(|r| r.to_string()))
                    .collect(),
            });
        }
        Ok(Pool {
            instance: Instance {
                states,
                cases,
                score,
            },
            cases: taking,
            parts,
            waiting,
        })
    }

    /// Proposes an assignment of the programme's ready cases to the places left, with its
    /// proven bound and an explanation of every case and state; kept unless a dry run.
    pub fn propose(
        &self,
        who: &Caller,
        name: &ProgrammeName,
        req: ProposalRequest,
    ) -> Result<ProposalView> {
        let (p, settings) = self.programme_to_match(who, name)?;
        let seconds = req
            .time_limit
            .unwrap_or(if req.from.is_some() { 1.0 } else { 10.0 });
        if !(0.1..=MAX_MATCHING_SECONDS).contains(&seconds) {
            return Err(AppError::BadRequest(format!(
                "time_limit: {seconds} s is not between 0.1 and {MAX_MATCHING_SECONDS} s"
            )));
        }
        let previous = match &req.from {
            None => None,
            Some(id) => {
                let (proposal, programme) = self.proposal_record(who, id)?;
                if programme.id != p.id {
                    return Err(AppError::BadRequest(format!(
                        "from: proposal {id} is of another programme"
                    )));
                }
                Some(proposal)
            }
        };
        let pool = self.pool(&p, &settings)?;
        let index = pool.instance.case_index();
        let state_index: HashMap<&str, usize> = pool
            .instance
            .states
            .iter()
            .enumerate()
            .map(|(j, s)| (s.id.as_str(), j))
            .collect();
        let resolve = |field: &str, text: &str| -> Result<(usize, usize)> {
            let (c, s) = pair(field, text)?;
            let code = crate::cases::state_code(field, &s)?;
            let ci = *index.get(c.as_str()).ok_or_else(|| {
                AppError::BadRequest(format!(
                    "{field} {text}: case {c} is not among the cases taking part (at {READY}, not waiting for another)"
                ))
            })?;
            let si = *state_index.get(code.as_str()).ok_or_else(|| {
                AppError::BadRequest(format!(
                    "{field} {text}: {code} has no places left in {name}"
                ))
            })?;
            Ok((ci, si))
        };
        let pins = req
            .pins
            .iter()
            .map(|t| resolve("pin", t))
            .collect::<Result<Vec<_>>>()?;
        let forbids = req
            .forbids
            .iter()
            .map(|t| resolve("forbid", t))
            .collect::<Result<Vec<_>>>()?;
        if let Some((c, s)) = pins.iter().find(|p| forbids.contains(p)) {
            return Err(AppError::BadRequest(format!(
                "pin and forbid: {}={} is both pinned and forbidden",
                pool.instance.cases[*c].id, pool.instance.states[*s].id
            )));
        }
        let before: HashMap<i64, Option<String>> = match &previous {
            None => HashMap::new(),
            Some(prev) => self
                .store
                .proposed_cases(prev.id)?
                .into_iter()
                .map(|c| (c.case_id, c.state))
                .collect(),
        };
        let start: Vec<Option<usize>> = pool
            .cases
            .iter()
            .map(|c| {
                before
                    .get(&c.id)
                    .cloned()
                    .flatten()
                    .and_then(|s| state_index.get(s.as_str()).copied())
            })
            .collect();
        let solution = nansen_match::solve(
            &pool.instance,
            &nansen_match::Options {
                time_limit: Duration::from_secs_f64(seconds),
                pins: pins.clone(),
                forbids: forbids.clone(),
                start,
            },
        )
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
        let explanation = nansen_match::explain(&pool.instance, &solution, &forbids);
        let states = &pool.instance.states;
        let moved: Vec<MovedCase> = match &previous {
            None => Vec::new(),
            Some(_) => pool
                .cases
                .iter()
                .zip(&solution.assignment)
                .filter_map(|(c, at)| {
                    let now = at.map(|j| states[j].id.clone());
                    let was = before.get(&c.id).cloned().flatten();
                    (now != was).then(|| MovedCase {
                        case: c.reference.clone(),
                        from: was,
                        to: now,
                    })
                })
                .collect(),
        };
        let assigned: Vec<usize> = (0..pool.cases.len())
            .filter(|&i| solution.assignment[i].is_some())
            .collect();
        let round = |x: f64| (x * 1e4).round() / 1e4;
        let summary = ProposalSummary {
            programme: name.to_string(),
            objective: round(solution.objective),
            bound: round(solution.bound),
            gap: solution.gap,
            seconds: round(solution.seconds),
            taking_part: pool.cases.len(),
            assigned_cases: assigned.len(),
            assigned_persons: assigned.iter().map(|&i| pool.cases[i].persons).sum(),
            score: if settings.scores.is_some() {
                "uploaded"
            } else {
                "default"
            }
            .into(),
            weights: settings.weights.clone(),
            pins: req.pins.clone(),
            forbids: req.forbids.clone(),
            previous: previous.as_ref().map(|p| p.reference.clone()),
            moved,
            states: explanation.states,
            waiting: pool.waiting,
        };
        let views: Vec<ProposedCaseView> = explanation
            .cases
            .into_iter()
            .enumerate()
            .map(|(i, e)| case_view(e, pool.cases[i].persons, &pool.parts[i], states))
            .collect();
        let created_at = Timestamp::now();
        let id = if req.dry_run {
            None
        } else {
            let summary_json = serde_json::to_string(&summary).expect("a summary serialises");
            let sealed: Vec<(&CaseRecord, Option<&str>, Vec<u8>)> = pool
                .cases
                .iter()
                .zip(&views)
                .map(|(c, v)| {
                    (
                        c,
                        v.state.as_deref(),
                        serde_json::to_vec(v).expect("an explanation serialises"),
                    )
                })
                .collect();
            let reference = self.store.write(|tx| {
                let (_, reference) =
                    tx.insert_proposal(p.id, &who.label, &summary_json, &sealed)?;
                tx.audit(
                    &who.label,
                    "proposal.add",
                    &reference,
                    &serde_json::json!({
                        "programme": name.to_string(),
                        "cases": summary.taking_part,
                        "assigned_cases": summary.assigned_cases,
                        "objective": summary.objective,
                        "gap": summary.gap,
                        "pins": summary.pins,
                        "forbids": summary.forbids,
                        "from": summary.previous,
                    })
                    .to_string(),
                )?;
                Ok::<_, StoreError>(reference)
            })?;
            Some(reference)
        };
        let sections = self.visible(who, pool.cases)?;
        Ok(ProposalView {
            id,
            created_by: who.label.clone(),
            created_at,
            summary,
            cases: views
                .into_iter()
                .zip(&sections)
                .map(|(v, (_, seen))| redact(v, seen))
                .collect(),
        })
    }

    /// The proposal and its programme, for the programme's admins; else not found (to
    /// anyone outside the programme) or forbidden.
    fn proposal_record(&self, who: &Caller, id: &str) -> Result<(ProposalRecord, ProgrammeRecord)> {
        let not_found = || AppError::NotFound(format!("proposal {id}"));
        let proposal = self
            .store
            .proposal_by_reference(id)?
            .ok_or_else(not_found)?;
        let p = self
            .store
            .programme_by_id(proposal.programme_id)?
            .ok_or_else(not_found)?;
        let standing = self.standing(who, &p).ok_or_else(not_found)?;
        if !standing.administers {
            return Err(AppError::Forbidden(format!(
                "only admins of {} read its matching proposals",
                p.org
            )));
        }
        Ok((proposal, p))
    }

    /// A proposal with every case's explanation and decision.
    pub fn proposal(&self, who: &Caller, id: &str) -> Result<ProposalView> {
        let (proposal, _) = self.proposal_record(who, id)?;
        let summary = summary_of(&proposal)?;
        let proposed = self.store.proposed_cases(proposal.id)?;
        let cases = self.proposed_case_views(who, &proposal, &proposed)?;
        Ok(ProposalView {
            id: Some(proposal.reference),
            created_by: proposal.created_by,
            created_at: proposal.created_at,
            summary,
            cases,
        })
    }

    /// The given cases of a proposal, each with its explanation (opened with its key) and
    /// decision, as the caller may see them; an erased case is left out.
    fn proposed_case_views(
        &self,
        who: &Caller,
        proposal: &ProposalRecord,
        proposed: &[nansen_store::ProposedCase],
    ) -> Result<Vec<ProposedCaseView>> {
        let id = &proposal.reference;
        let ids: Vec<i64> = proposed.iter().map(|c| c.case_id).collect();
        let records = self.store.cases_by_id(&ids)?;
        let explanations = self.store.proposal_explanations(proposal, &records)?;
        let decisions: HashMap<i64, &nansen_store::ProposedCase> =
            proposed.iter().map(|c| (c.case_id, c)).collect();
        let mut cases = Vec::with_capacity(records.len());
        for (c, seen) in self.visible(who, records)? {
            let Some(bytes) = explanations.get(&c.id) else {
                continue; // erased since
            };
            let mut v: ProposedCaseView = serde_json::from_slice(bytes).map_err(|e| {
                AppError::Store(StoreError::Corrupt(format!(
                    "proposal {id}, case {}: {e}",
                    c.reference
                )))
            })?;
            let d = decisions[&c.id];
            v.decision = d.decision.clone();
            v.decided_by = d.decided_by.clone();
            v.referral = d.referral.clone();
            cases.push(redact(v, &seen));
        }
        Ok(cases)
    }

    /// One case of a proposal, explained: only its explanation is opened.
    pub fn explain_proposed_case(
        &self,
        who: &Caller,
        id: &str,
        case: &str,
    ) -> Result<ProposedCaseView> {
        let not_found = || AppError::NotFound(format!("case {case} in proposal {id}"));
        let (proposal, _) = self.proposal_record(who, id)?;
        let c = self.store.case_by_reference(case)?.ok_or_else(not_found)?;
        let proposed: Vec<_> = self
            .store
            .proposed_cases(proposal.id)?
            .into_iter()
            .filter(|p| p.case_id == c.id)
            .collect();
        self.proposed_case_views(who, &proposal, &proposed)?
            .pop()
            .ok_or_else(not_found)
    }

    /// A programme's proposals, newest first (the last 100).
    pub fn proposals(&self, who: &Caller, name: &ProgrammeName) -> Result<Vec<ProposalItem>> {
        let (p, _) = self.programme_to_match(who, name)?;
        self.store
            .proposals_of(p.id, 100)?
            .into_iter()
            .map(|r| {
                let s = summary_of(&r)?;
                let accepted = self
                    .store
                    .proposed_cases(r.id)?
                    .iter()
                    .filter(|c| c.decision.is_some())
                    .count();
                Ok(ProposalItem {
                    id: r.reference,
                    created_by: r.created_by,
                    created_at: r.created_at,
                    objective: s.objective,
                    gap: s.gap,
                    cases: s.taking_part,
                    assigned_cases: s.assigned_cases,
                    accepted_cases: accepted,
                })
            })
            .collect()
    }

    /// Accepts a proposal, wholly or the cases named (with the cases they travel with).
    /// Each case accepted moves to the stage after ready-for-matching, matched to its state,
    /// and is referred to the receiving partner that speaks for that state with the
    /// sections the programme names, when the household consented; a case that changed
    /// since, no longer fits the places left, or lacks that consent is skipped with the
    /// reason, and nothing else is accepted by accident.
    pub fn accept_proposal(&self, who: &Caller, id: &str, only: &[String]) -> Result<Acceptance> {
        let (proposal, p) = self.proposal_record(who, id)?;
        let settings = settings_of(&p)?;
        let name = format!("{}/{}", p.org, p.slug);
        let ready_at = p
            .workflow
            .stages
            .iter()
            .position(|s| s.name == READY)
            .ok_or_else(|| {
                AppError::BadRequest(format!("{name}'s workflow has no {READY} stage"))
            })?;
        let next = p
            .workflow
            .stages
            .get(ready_at + 1)
            .filter(|s| !s.exit)
            .map(|s| s.name.clone())
            .ok_or_else(|| {
                AppError::BadRequest(format!("{name}'s workflow has no stage after {READY}"))
            })?;
        let proposed = self.store.proposed_cases(proposal.id)?;
        let ids: Vec<i64> = proposed.iter().map(|c| c.case_id).collect();
        let records: HashMap<i64, CaseRecord> = self
            .store
            .cases_by_id(&ids)?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let by_ref: HashMap<&str, i64> = records
            .values()
            .map(|c| (c.reference.as_str(), c.id))
            .collect();
        let state_of: HashMap<i64, Option<&str>> = proposed
            .iter()
            .map(|c| (c.case_id, c.state.as_deref()))
            .collect();
        let mut chosen: Vec<i64> = Vec::new();
        if only.is_empty() {
            chosen.extend(
                proposed
                    .iter()
                    .filter(|c| c.state.is_some() && c.decision.is_none())
                    .map(|c| c.case_id),
            );
        } else {
            for r in only {
                let cid = *by_ref.get(r.as_str()).ok_or_else(|| {
                    AppError::BadRequest(format!("case {r} is not in proposal {id}"))
                })?;
                if state_of[&cid].is_none() {
                    return Err(AppError::BadRequest(format!(
                        "case {r} is not assigned in proposal {id}, so there is nothing to accept"
                    )));
                }
                if !chosen.contains(&cid) {
                    chosen.push(cid);
                }
            }
        }
        // A case goes with those it travels with: they are accepted or skipped together.
        let mut linked: HashMap<i64, Vec<i64>> = HashMap::new();
        for (a, b) in self.store.links_of(&ids)? {
            linked.entry(a).or_default().push(b);
        }
        let mut groups: Vec<Vec<i64>> = Vec::new();
        let mut grouped: HashSet<i64> = HashSet::new();
        for &c in &chosen {
            if grouped.contains(&c) {
                continue;
            }
            let mut group = vec![c];
            let mut k = 0;
            while k < group.len() {
                for &b in linked.get(&group[k]).into_iter().flatten() {
                    if state_of.contains_key(&b) && !group.contains(&b) {
                        group.push(b);
                    }
                }
                k += 1;
            }
            grouped.extend(group.iter().copied());
            groups.push(group);
        }
        let mut skipped = Vec::new();
        let all: Vec<CaseRecord> = groups
            .iter()
            .flatten()
            .filter_map(|c| records.get(c).cloned())
            .collect();
        let facts = self.facts(&all, false)?;
        let consents = self.store.open_section_of_each(&all, Section::Consent)?;
        let seen: HashMap<i64, Vec<Section>> = self
            .visible(who, all.clone())?
            .into_iter()
            .map(|(c, s)| (c.id, s))
            .collect();
        let mut left: HashMap<String, [i64; 3]> = self
            .places_left(&p)?
            .into_iter()
            .map(|(pl, l)| (pl.state, l))
            .collect();
        let receivers = self.receivers(&p)?;
        let decided: HashSet<i64> = proposed
            .iter()
            .filter(|c| c.decision.is_some())
            .map(|c| c.case_id)
            .collect();
        // `(case, state, receiving organisation)` for each case to accept.
        let mut accept: Vec<(CaseRecord, String, Option<nansen_store::OrgRecord>)> = Vec::new();
        for group in &groups {
            let mut why: Option<(String, String)> = None;
            let mut need = [0i64; 3];
            let mut state = None;
            for cid in group {
                let Some(c) = records.get(cid) else {
                    why.get_or_insert((String::new(), "it was erased".into()));
                    continue;
                };
                let Some(s) = state_of[cid] else {
                    why.get_or_insert((
                        c.reference.clone(),
                        "it travels with a case the proposal leaves unassigned".into(),
                    ));
                    continue;
                };
                state = Some(s.to_string());
                let reason = if decided.contains(cid) {
                    Some("it was accepted already".to_string())
                } else if c.erased_at.is_some() {
                    Some("it was erased".into())
                } else if c.stage != READY {
                    Some(format!("it is at {} now", c.stage))
                } else if let Some(s) = &c.state {
                    Some(format!("it was matched to {s} meanwhile"))
                } else if let Some(r) = receivers.get(s) {
                    let consented = match consents.get(cid) {
                        Some(b) => crate::cases::read::<Vec<Consent>>(Section::Consent, b)?
                            .iter()
                            .any(|k| {
                                k.purpose == ConsentPurpose::Referral
                                    && k.partner.as_deref() == Some(r.slug.as_str())
                            }),
                        None => false,
                    };
                    let missing = settings
                        .referral_sections
                        .iter()
                        .find(|sec| !seen.get(cid).is_some_and(|v| v.contains(sec)));
                    if !consented {
                        Some(format!(
                            "the household has not consented to referral to {}, which receives for {s}: record the consent, then accept it",
                            r.slug
                        ))
                    } else {
                        missing.map(|sec| {
                            format!("you may not see its {sec} section, which the programme's matches refer")
                        })
                    }
                } else {
                    None
                };
                if let Some(reason) = reason {
                    why.get_or_insert((c.reference.clone(), reason));
                }
                let n = needs_of(c, &facts[cid]);
                for k in 0..3 {
                    need[k] += n[k];
                }
            }
            let Some(state) = state else { continue };
            if why.is_none() {
                let room = left.get(&state).copied().unwrap_or_default();
                if let Some(k) = (0..3).find(|&k| room[k] < need[k]) {
                    why = Some((
                        String::new(),
                        format!(
                            "{state} has {} {} places left, {} needed",
                            room[k],
                            ["persons", "unaccompanied children", "medical cases"][k],
                            need[k]
                        ),
                    ));
                } else if let Some(room) = left.get_mut(&state) {
                    for k in 0..3 {
                        room[k] -= need[k];
                    }
                }
            }
            match why {
                Some((culprit, reason)) => {
                    for cid in group {
                        let Some(c) = records.get(cid) else { continue };
                        let because = if culprit.is_empty() || culprit == c.reference {
                            reason.clone()
                        } else {
                            format!("it travels with {culprit}: {reason}")
                        };
                        skipped.push(SkippedCase {
                            case: c.reference.clone(),
                            because,
                        });
                    }
                }
                None => {
                    for cid in group {
                        let c = records[cid].clone();
                        accept.push((c, state.clone(), receivers.get(state.as_str()).cloned()));
                    }
                }
            }
        }
        let sections = settings.referral_sections.clone();
        let accepted = self.store.write(|tx| {
            let mut accepted = Vec::new();
            let mut entries: Vec<(String, String)> = Vec::new();
            for (c, state, receiver) in &accept {
                if !tx.place_case(c, &next, Some(state))? {
                    return Err(AppError::Conflict(format!(
                        "case {} changed while the proposal was being accepted; nothing was accepted",
                        c.reference
                    )));
                }
                let note = format!("proposal {id}");
                tx.case_event(c, &who.label, "matched", (Some(&c.stage), Some(&next)), Some(&note))?;
                let referral = match receiver {
                    Some(r) => {
                        let reason = format!("matched to {state} by proposal {id}");
                        let reference = tx.insert_referral(c, r.id, &sections, &reason, false, &who.label)?;
                        tx.case_event(c, &who.label, "referred", (None, None), Some(&reason))?;
                        Some(reference)
                    }
                    None => None,
                };
                if !tx.accept_proposed_case(proposal.id, c.id, &who.label, referral.as_deref())? {
                    return Err(AppError::Conflict(format!(
                        "case {} of proposal {id} was accepted meanwhile; nothing was accepted",
                        c.reference
                    )));
                }
                entries.push((
                    c.reference.clone(),
                    serde_json::json!({ "proposal": id, "state": state, "to": next, "referral": referral, "to_org": receiver.as_ref().map(|r| &r.slug) })
                        .to_string(),
                ));
                accepted.push(AcceptedCase {
                    case: c.reference.clone(),
                    state: state.clone(),
                    referral,
                });
            }
            let mut all: Vec<(&str, &str, &str, &str)> = entries
                .iter()
                .map(|(r, d)| (who.label.as_str(), "case.match", r.as_str(), d.as_str()))
                .collect();
            let detail = serde_json::json!({ "accepted": accepted.len(), "skipped": skipped.len() }).to_string();
            all.push((&who.label, "proposal.accept", id, &detail));
            tx.audit_all(&all)?;
            Ok(accepted)
        })?;
        Ok(Acceptance {
            proposal: id.to_string(),
            accepted,
            skipped,
        })
    }

    /// The programme's receiving partners by the state each speaks for.
    fn receivers(&self, p: &ProgrammeRecord) -> Result<HashMap<String, nansen_store::OrgRecord>> {
        let mut out = HashMap::new();
        for (slug, part) in &p.partners {
            if part != crate::PartnerPart::Receiving.as_str() {
                continue;
            }
            if let Some(org) = self.store.org(slug)? {
                if let Some(c) = org.country.clone() {
                    out.insert(c, org);
                }
            }
        }
        Ok(out)
    }

    /// A programme's matching settings (its admins').
    pub fn match_settings(&self, who: &Caller, name: &ProgrammeName) -> Result<MatchSettings> {
        Ok(self.programme_to_match(who, name)?.1)
    }

    /// Changes a programme's score weights or the sections its matches refer.
    pub fn set_match_settings(
        &self,
        who: &Caller,
        name: &ProgrammeName,
        change: MatchSettingsChange,
    ) -> Result<MatchSettings> {
        let (p, mut settings) = self.programme_to_match(who, name)?;
        if let Some(w) = change.weights {
            w.validate().map_err(AppError::BadRequest)?;
            settings.weights = w;
        }
        if let Some(sections) = change.referral_sections {
            if sections.is_empty() {
                return Err(AppError::BadRequest(
                    "referral_sections: a match refers at least one section".into(),
                ));
            }
            settings.referral_sections = sections;
        }
        self.save_settings(who, &p, &settings, "matching.settings")?;
        Ok(settings)
    }

    /// Sets the programme's score matrix from a CSV (`case` then one column per state, each
    /// score from 0 to 1), or clears it (`None`) to use the default score again.
    pub fn set_match_scores(
        &self,
        who: &Caller,
        name: &ProgrammeName,
        csv: Option<&str>,
    ) -> Result<MatchSettings> {
        let (p, mut settings) = self.programme_to_match(who, name)?;
        settings.scores = match csv {
            None => None,
            Some(text) => Some(self.read_scores(&p, text)?),
        };
        self.save_settings(who, &p, &settings, "matching.scores")?;
        Ok(settings)
    }

    fn read_scores(
        &self,
        p: &ProgrammeRecord,
        text: &str,
    ) -> Result<BTreeMap<String, BTreeMap<String, f64>>> {
        let bad = |m: String| AppError::BadRequest(m);
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(true)
            .from_reader(text.as_bytes());
        let header = reader
            .headers()
            .map_err(|e| bad(format!("the score matrix: {e}")))?
            .clone();
        if header.get(0) != Some("case") || header.len() < 2 {
            return Err(bad(
                "the score matrix's header is `case` then one column per receiving state".into(),
            ));
        }
        let pledged: HashSet<String> = self
            .store
            .pledges(p.id)?
            .into_iter()
            .map(|pl| pl.state)
            .collect();
        let mut states = Vec::new();
        for (i, h) in header.iter().enumerate().skip(1) {
            let code = crate::cases::state_code(&format!("column {}", i + 1), h)?;
            if !pledged.contains(&code) {
                return Err(bad(format!(
                    "column {} ({h}): {code} has pledged no places in this programme",
                    i + 1
                )));
            }
            if states.contains(&code) {
                return Err(bad(format!("column {} ({h}): {code} appears twice", i + 1)));
            }
            states.push(code);
        }
        let mut out = BTreeMap::new();
        for (n, row) in reader.records().enumerate() {
            let line = n + 2;
            let row = row.map_err(|e| bad(format!("row {line}: {e}")))?;
            if row.len() != header.len() {
                return Err(bad(format!(
                    "row {line}: {} cells where the header has {}",
                    row.len(),
                    header.len()
                )));
            }
            let case = row[0].to_string();
            let known = self
                .store
                .case_by_reference(&case)?
                .is_some_and(|c| c.programme_id == p.id && c.erased_at.is_none());
            if !known {
                return Err(bad(format!(
                    "row {line}, column case: {case:?} is no case of this programme"
                )));
            }
            let mut scores = BTreeMap::new();
            for (k, state) in states.iter().enumerate() {
                let cell = &row[k + 1];
                let v: f64 = cell
                    .parse()
                    .ok()
                    .filter(|v: &f64| v.is_finite())
                    .ok_or_else(|| {
                        bad(format!(
                            "row {line}, column {state}: {cell:?} is not a number"
                        ))
                    })?;
                if !(0.0..=1.0).contains(&v) {
                    return Err(bad(format!(
                        "row {line}, column {state}: {v} is outside 0 to 1"
                    )));
                }
                scores.insert(state.clone(), v);
            }
            if out.insert(case.clone(), scores).is_some() {
                return Err(bad(format!("row {line}: case {case} appears twice")));
            }
        }
        if out.is_empty() {
            return Err(bad("the score matrix has no row".into()));
        }
        Ok(out)
    }

    fn save_settings(
        &self,
        who: &Caller,
        p: &ProgrammeRecord,
        settings: &MatchSettings,
        action: &str,
    ) -> Result<()> {
        let json = serde_json::to_string(settings).expect("settings serialise");
        let detail = serde_json::json!({
            "weights": settings.weights,
            "referral_sections": settings.referral_sections,
            "scores": settings.scores.as_ref().map(|s| s.len()),
        })
        .to_string();
        self.store.write(|tx| {
            tx.set_matching(p.id, &json)?;
            tx.audit(
                &who.label,
                action,
                &format!("{}/{}", p.org, p.slug),
                &detail,
            )?;
            Ok::<_, StoreError>(())
        })?;
        Ok(())
    }

    /// When a receiving state declines a match a proposal made, the case returns to
    /// matching, unmatched, with the reason: in the decline's transaction. A case that moved
    /// on since stays where it is.
    pub(crate) fn return_to_matching(
        &self,
        tx: &mut nansen_store::Tx,
        who: &Caller,
        case: &CaseRecord,
        reason: &str,
    ) -> Result<()> {
        let placed_at = self
            .store
            .programme_by_id(case.programme_id)?
            .and_then(|p| {
                let i = p.workflow.stages.iter().position(|s| s.name == READY)?;
                p.workflow.stages.get(i + 1).map(|s| s.name.clone())
            });
        if case.state.is_none() || placed_at.as_deref() != Some(case.stage.as_str()) {
            return Ok(());
        }
        if !tx.place_case(case, READY, None)? {
            return Err(AppError::Conflict(format!(
                "case {} changed meanwhile",
                case.reference
            )));
        }
        tx.case_event(
            case,
            &who.label,
            "returned-to-matching",
            (Some(&case.stage), Some(READY)),
            Some(reason),
        )?;
        tx.audit(
            &who.label,
            "case.match",
            &case.reference,
            &serde_json::json!({ "from": case.state, "to": null, "returned_to": READY })
                .to_string(),
        )?;
        Ok(())
    }
}

/// A case's explanation as kept: the solver's, with the score's parts in its state.
fn case_view(
    e: CaseExplanation,
    persons: i64,
    parts: &[Option<Parts>],
    states: &[nansen_match::State],
) -> ProposedCaseView {
    let at = e
        .state
        .as_ref()
        .and_then(|s| states.iter().position(|x| x.id == *s));
    ProposedCaseView {
        case: e.case,
        persons,
        parts: at.and_then(|j| parts[j].clone()),
        state: e.state,
        score: e.score,
        value: Some(e.value),
        travels_with: e.travels_with,
        next_best: e.next_best,
        stopped: e.stopped,
        unassigned_because: e.unassigned_because,
        unassigned_needs_based: e.unassigned_needs_based,
        decision: None,
        decided_by: None,
        referral: None,
    }
}

/// Hides what would tell a caller who does not see a case's needs that it has one.
fn redact(mut v: ProposedCaseView, seen: &[Section]) -> ProposedCaseView {
    let sees_needs = seen.contains(&Section::Needs);
    if !sees_needs {
        v.value = None;
        for s in &mut v.stopped {
            if s.needs_based {
                s.because = format!("{}'s places for specific needs are taken", s.state);
            }
        }
    }
    if v.unassigned_needs_based && !sees_needs {
        v.unassigned_because = Some("the places it needs are taken or too few".into());
        v.unassigned_needs_based = false;
    }
    for s in &mut v.stopped {
        s.needs_based &= sees_needs;
    }
    v
}

#[cfg(test)]
mod tests {
    use crate::test_support::apps;
    use crate::*;
    use nansen_cases::{CaseFile, ProgrammeKind};
    use nansen_model::{ProgrammeName, Role};
    use std::collections::HashMap;

    const PASSWORD: &str = "correct horse battery";

    fn programme() -> ProgrammeName {
        "euaa/relocation".parse().unwrap()
    }

    /// EUAA runs a relocation with IOM implementing; BAMF receives for Germany, OFII for
    /// France. Germany works in German and Arabic and has 4 places; France works in French,
    /// has 3 places and does not receive Eritreans.
    fn world(app: &App) -> HashMap<&'static str, Caller> {
        let op = Caller::operator();
        for (slug, name, country) in [
            ("euaa", "EUAA", None),
            ("iom", "IOM", None),
            ("bamf", "BAMF", Some("DEU")),
            ("ofii", "OFII", Some("FRA")),
            ("unhcr", "UNHCR", None),
        ] {
            app.add_org_of(&op, slug, name, country).unwrap();
        }
        let mut out = HashMap::new();
        for (who, email, org, role, sup) in [
            ("admin", "admin@euaa.eu", "euaa", Role::Admin, false),
            ("supervisor", "sup@euaa.eu", "euaa", Role::Caseworker, true),
            ("bamf", "cw@bamf.de", "bamf", Role::Caseworker, false),
            ("outsider", "x@unhcr.org", "unhcr", Role::Admin, false),
        ] {
            app.add_user_as(&op, email, org, (role, sup), PASSWORD)
                .unwrap();
            out.insert(who, app.sign_in(email, PASSWORD).unwrap());
        }
        app.add_programme(
            &out["admin"],
            NewProgramme {
                name: programme(),
                kind: ProgrammeKind::Relocation,
                title: "Relocation from Greece".into(),
                partners: vec!["iom".into()],
                receiving: vec!["bamf".into(), "ofii".into()],
                starts_on: None,
                ends_on: None,
                retention_days: None,
            },
        )
        .unwrap();
        for (state, places, languages, excludes) in [
            ("DEU", 4, vec!["de", "ar"], vec![]),
            ("FRA", 3, vec!["fr"], vec!["ERI"]),
        ] {
            app.set_pledge(
                &out["admin"],
                &programme(),
                PledgeInput {
                    state: state.into(),
                    places,
                    uam_places: 1,
                    medical_places: 1,
                    starts_on: None,
                    ends_on: None,
                    languages: languages.into_iter().map(String::from).collect(),
                    prefers: vec![],
                    excludes: excludes.into_iter().map(String::from).collect(),
                    note: String::new(),
                },
            )
            .unwrap();
        }
        out
    }

    /// A household of `size` speaking `language`, consenting to referral to `consents`.
    fn household(
        name: &str,
        size: usize,
        nationality: &str,
        language: &str,
        consents: &[&str],
        extra: &str,
    ) -> CaseFile {
        let members: Vec<String> = (0..size)
            .map(|i| {
                format!(
                    r#"{{"given_name": "{name}{i}", "family_name": "{name}", "birth_date": "199{i}-01-01", "sex": "F", "nationality": "{nationality}", "languages": ["{language}"], "relationship": "{}"}}"#,
                    if i == 0 { "principal" } else { "sibling" }
                )
            })
            .collect();
        let consents: Vec<String> = consents
            .iter()
            .map(|o| format!(r#"{{"purpose": "referral", "partner": "{o}"}}"#))
            .collect();
        CaseFile::from_json(&format!(
            r#"{{"members": [{}], "consents": [{}]{extra}}}"#,
            members.join(", "),
            consents.join(", ")
        ))
        .unwrap()
    }

    /// Registers a household and moves it to `stage`.
    fn case_at(app: &App, who: &HashMap<&str, Caller>, file: CaseFile, stage: &str) -> String {
        let id = app
            .add_case(&who["supervisor"], &programme(), file)
            .unwrap()
            .id;
        for s in ["assessed", READY] {
            app.move_case(&who["supervisor"], &id, s, None, None)
                .unwrap();
            if s == stage {
                break;
            }
        }
        id
    }

    /// Amal (2, Arabic) belongs in Germany; Bruno (2, French) in France; Desta (1, Eritrean,
    /// Arabic) travels with Ezana, not yet assessed; Farah (5) fits nowhere.
    fn cases(app: &App, who: &HashMap<&str, Caller>) -> HashMap<&'static str, String> {
        let mut out = HashMap::new();
        out.insert(
            "amal",
            case_at(
                app,
                who,
                household("Amal", 2, "SYR", "ar", &["bamf", "ofii"], ""),
                READY,
            ),
        );
        out.insert(
            "bruno",
            case_at(app, who, household("Bruno", 2, "COD", "fr", &[], ""), READY),
        );
        let ezana = app
            .add_case(
                &who["supervisor"],
                &programme(),
                household("Ezana", 1, "ERI", "ti", &[], ""),
            )
            .unwrap()
            .id;
        out.insert("ezana", ezana.clone());
        out.insert(
            "desta",
            case_at(
                app,
                who,
                household(
                    "Desta",
                    1,
                    "ERI",
                    "ar",
                    &[],
                    &format!(r#", "links": ["{ezana}"]"#),
                ),
                READY,
            ),
        );
        out.insert(
            "farah",
            case_at(app, who, household("Farah", 5, "SYR", "ar", &[], ""), READY),
        );
        out
    }

    fn find<'a>(p: &'a ProposalView, id: &str) -> &'a ProposedCaseView {
        p.cases.iter().find(|c| c.case == id).unwrap()
    }

    #[test]
    fn a_proposal_places_ready_cases_within_the_places_left_explains_each_and_changes_nothing() {
        for (_t, app) in apps() {
            let who = world(&app);
            let c = cases(&app, &who);
            let p = app
                .propose(&who["admin"], &programme(), ProposalRequest::default())
                .unwrap();
            assert!(p.id.is_some());
            assert_eq!(p.summary.taking_part, 3, "Desta waits for Ezana");
            assert_eq!(
                p.summary.waiting,
                vec![WaitingCase {
                    case: c["desta"].clone(),
                    because: format!("it travels with {}, which is at identified", c["ezana"]),
                }]
            );
            let amal = find(&p, &c["amal"]);
            assert_eq!(amal.state.as_deref(), Some("DEU"));
            let parts = amal.parts.as_ref().unwrap();
            assert_eq!((parts.base, parts.language), (0.25, 0.35));
            assert_eq!(amal.score, Some(0.6));
            assert_eq!(amal.next_best.as_ref().unwrap().state, "FRA");
            assert_eq!(find(&p, &c["bruno"]).state.as_deref(), Some("FRA"));
            let farah = find(&p, &c["farah"]);
            assert_eq!(farah.state, None);
            assert_eq!(
                farah.unassigned_because.as_deref(),
                Some("it needs 5 persons places, more than any state that may receive it has")
            );
            assert!(p.summary.objective <= p.summary.bound + 1e-9);
            assert!(p.summary.gap <= 1e-4, "{}", p.summary.gap);
            assert_eq!(
                (p.summary.assigned_cases, p.summary.assigned_persons),
                (2, 4)
            );
            let deu = &p.summary.states[0];
            assert_eq!((deu.state.as_str(), deu.places, deu.persons), ("DEU", 4, 2));
            assert_eq!(deu.nationalities, vec![("SYR".to_string(), 1)]);
            // Read back as kept, and nothing changed in the cases.
            let again = app
                .proposal(&who["admin"], p.id.as_deref().unwrap())
                .unwrap();
            assert_eq!(find(&again, &c["amal"]), amal);
            let v = app.case(&who["admin"], &c["amal"]).unwrap();
            let process = v.process.unwrap();
            assert_eq!((process.stage.as_str(), process.state), (READY, None));
            // A dry run keeps nothing.
            let dry = app
                .propose(
                    &who["admin"],
                    &programme(),
                    ProposalRequest {
                        dry_run: true,
                        ..Default::default()
                    },
                )
                .unwrap();
            assert_eq!(dry.id, None);
            assert_eq!(app.proposals(&who["admin"], &programme()).unwrap().len(), 1);
            // Erasing a case erases its explanation with it.
            app.erase_case(&who["admin"], &c["farah"], "the person asked")
                .unwrap();
            let after = app
                .proposal(&who["admin"], p.id.as_deref().unwrap())
                .unwrap();
            assert!(after.cases.iter().all(|x| x.case != c["farah"]));
            assert_eq!(after.cases.len(), 2);
        }
    }

    #[test]
    fn only_the_programme_s_admins_propose_and_read_proposals_and_outsiders_find_nothing() {
        for (_t, app) in apps() {
            let who = world(&app);
            cases(&app, &who);
            let id = app
                .propose(&who["admin"], &programme(), ProposalRequest::default())
                .unwrap()
                .id
                .unwrap();
            for (w, forbidden) in [("supervisor", true), ("bamf", true), ("outsider", false)] {
                let propose = app.propose(&who[w], &programme(), ProposalRequest::default());
                let read = app.proposal(&who[w], &id);
                let accept = app.accept_proposal(&who[w], &id, &[]);
                for (what, r) in [
                    ("propose", propose.map(|_| ())),
                    ("read", read.map(|_| ())),
                    ("accept", accept.map(|_| ())),
                ] {
                    match r {
                        Err(AppError::Forbidden(_)) if forbidden => {}
                        Err(AppError::NotFound(_)) if !forbidden => {}
                        other => panic!("{w} {what}: {other:?}"),
                    }
                }
            }
            assert!(matches!(
                app.proposal(&who["admin"], "0000000000000000"),
                Err(AppError::NotFound(_))
            ));
        }
    }

    #[test]
    fn accepting_matches_and_refers_consenting_cases_and_a_decline_returns_the_case_to_matching() {
        for (_t, app) in apps() {
            let who = world(&app);
            let c = cases(&app, &who);
            let id = app
                .propose(&who["admin"], &programme(), ProposalRequest::default())
                .unwrap()
                .id
                .unwrap();
            let a = app.accept_proposal(&who["admin"], &id, &[]).unwrap();
            assert_eq!(a.accepted.len(), 1, "{a:?}");
            assert_eq!(a.accepted[0].case, c["amal"]);
            assert_eq!(a.accepted[0].state, "DEU");
            let referral = a.accepted[0].referral.clone().unwrap();
            assert_eq!(a.skipped.len(), 1);
            assert_eq!(a.skipped[0].case, c["bruno"]);
            assert_eq!(
                a.skipped[0].because,
                "the household has not consented to referral to ofii, which receives for FRA: record the consent, then accept it"
            );
            let amal = app
                .case(&who["admin"], &c["amal"])
                .unwrap()
                .process
                .unwrap();
            assert_eq!(
                (amal.stage.as_str(), amal.state.as_deref()),
                ("matched", Some("DEU"))
            );
            let bruno = app
                .case(&who["admin"], &c["bruno"])
                .unwrap()
                .process
                .unwrap();
            assert_eq!((bruno.stage.as_str(), bruno.state), (READY, None));
            // Accepting again accepts nothing twice.
            let again = app
                .accept_proposal(&who["admin"], &id, &[c["amal"].clone()])
                .unwrap();
            assert!(again.accepted.is_empty());
            assert_eq!(again.skipped[0].because, "it was accepted already");
            let shown = app.proposal(&who["admin"], &id).unwrap();
            assert_eq!(
                find(&shown, &c["amal"]).decision.as_deref(),
                Some("accepted")
            );
            assert_eq!(
                find(&shown, &c["amal"]).referral.as_deref(),
                Some(referral.as_str())
            );
            // Germany's places left fall by Amal's two.
            let next = app
                .propose(
                    &who["admin"],
                    &programme(),
                    ProposalRequest {
                        dry_run: true,
                        ..Default::default()
                    },
                )
                .unwrap();
            assert_eq!(next.summary.states[0].places, 2);
            // The receiving state sees the referral; declining it says why and returns Amal.
            assert!(app
                .referrals(&who["bamf"])
                .unwrap()
                .iter()
                .any(|r| r.id == referral));
            assert!(matches!(
                app.decide_referral(&who["bamf"], &referral, false, None),
                Err(AppError::BadRequest(_))
            ));
            app.decide_referral(
                &who["bamf"],
                &referral,
                false,
                Some("no housing for a family of two in May"),
            )
            .unwrap();
            let amal = app
                .case(&who["admin"], &c["amal"])
                .unwrap()
                .process
                .unwrap();
            assert_eq!((amal.stage.as_str(), amal.state), (READY, None));
            let last = amal.history.last().unwrap();
            assert_eq!(last.kind, "returned-to-matching");
            assert_eq!(
                last.note.as_deref(),
                Some("bamf declined: no housing for a family of two in May")
            );
        }
    }

    #[test]
    fn pins_forbids_and_a_what_if_from_an_earlier_proposal_show_what_moved() {
        for (_t, app) in apps() {
            let who = world(&app);
            let c = cases(&app, &who);
            let first = app
                .propose(&who["admin"], &programme(), ProposalRequest::default())
                .unwrap();
            let what_if = app
                .propose(
                    &who["admin"],
                    &programme(),
                    ProposalRequest {
                        forbids: vec![format!("{}=DEU", c["amal"])],
                        from: first.id.clone(),
                        ..Default::default()
                    },
                )
                .unwrap();
            assert_eq!(what_if.summary.previous, first.id);
            assert_eq!(
                what_if.summary.moved,
                vec![MovedCase {
                    case: c["amal"].clone(),
                    from: Some("DEU".into()),
                    to: None,
                }],
                "France's three places hold Bruno's two, not Amal's as well"
            );
            let amal = find(&what_if, &c["amal"]);
            let because = |state: &str| {
                amal.stopped
                    .iter()
                    .find(|s| s.state == state)
                    .unwrap()
                    .because
                    .clone()
            };
            assert_eq!(
                because("DEU"),
                format!("the pair {}=DEU is forbidden in this proposal", c["amal"])
            );
            assert_eq!(
                because("FRA"),
                "FRA's persons places are taken (1 left, 2 needed)"
            );
            for (pins, forbids, message) in [
                (
                    vec![format!("{}=DEU", c["farah"])],
                    vec![],
                    format!("pin {}=DEU: the pins take more persons than DEU's 4 places", c["farah"]),
                ),
                (
                    vec![format!("{}=FRA", c["desta"])],
                    vec![],
                    format!("pin {}=FRA: case {} is not among the cases taking part (at ready-for-matching, not waiting for another)", c["desta"], c["desta"]),
                ),
                (
                    vec![format!("{}=ITA", c["amal"])],
                    vec![],
                    format!("pin {}=ITA: ITA has no places left in euaa/relocation", c["amal"]),
                ),
                (
                    vec![format!("{}", c["amal"])],
                    vec![],
                    format!("pin: \"{}\" is not CASE=STATE", c["amal"]),
                ),
            ] {
                let e = app
                    .propose(
                        &who["admin"],
                        &programme(),
                        ProposalRequest {
                            pins,
                            forbids,
                            ..Default::default()
                        },
                    )
                    .unwrap_err();
                assert_eq!(e.to_string(), message);
            }
        }
    }

    #[test]
    fn a_score_matrix_is_used_when_uploaded_and_refused_when_its_shape_or_values_are_wrong() {
        for (_t, app) in apps() {
            let who = world(&app);
            let c = cases(&app, &who);
            let admin = &who["admin"];
            let (a, b, f) = (&c["amal"], &c["bruno"], &c["farah"]);
            for (csv, message) in [
                ("case,DEU\n", "the score matrix has no row".to_string()),
                (
                    "id,DEU\nx,1\n",
                    "the score matrix's header is `case` then one column per receiving state"
                        .into(),
                ),
                (
                    &*format!("case,ITA\n{a},1\n"),
                    "column 2 (ITA): ITA has pledged no places in this programme".into(),
                ),
                (
                    &*format!("case,DEU,FRA\n{a},1.5,0\n"),
                    "row 2, column DEU: 1.5 is outside 0 to 1".into(),
                ),
                (
                    &*format!("case,DEU,FRA\n{a},0.5\n"),
                    "row 2: 2 cells where the header has 3".into(),
                ),
                (
                    "case,DEU,FRA\nnobody,0.5,0.5\n",
                    "row 2, column case: \"nobody\" is no case of this programme".into(),
                ),
            ] {
                let e = app
                    .set_match_scores(admin, &programme(), Some(csv))
                    .unwrap_err();
                assert_eq!(e.to_string(), message, "{csv}");
            }
            // A matrix that leaves out a case taking part is refused when proposing.
            app.set_match_scores(
                admin,
                &programme(),
                Some(&format!("case,DEU,FRA\n{a},0.1,0.9\n{b},0.9,0.1\n")),
            )
            .unwrap();
            let e = app
                .propose(admin, &programme(), ProposalRequest::default())
                .unwrap_err();
            assert!(
                e.to_string()
                    .contains(&format!("no score for case {f} in DEU")),
                "{e}"
            );
            app.set_match_scores(
                admin,
                &programme(),
                Some(&format!(
                    "case,DEU,FRA\n{a},0.1,0.9\n{b},0.9,0.1\n{f},0.5,0.5\n"
                )),
            )
            .unwrap();
            let p = app
                .propose(admin, &programme(), ProposalRequest::default())
                .unwrap();
            assert_eq!(p.summary.score, "uploaded");
            assert_eq!(find(&p, a).state.as_deref(), Some("FRA"));
            assert_eq!(find(&p, b).state.as_deref(), Some("DEU"));
            assert_eq!(find(&p, a).parts, None);
            app.set_match_scores(admin, &programme(), None).unwrap();
            let p = app
                .propose(admin, &programme(), ProposalRequest::default())
                .unwrap();
            assert_eq!(p.summary.score, "default");
        }
    }
}

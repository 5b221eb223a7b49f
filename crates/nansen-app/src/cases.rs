//! Cases: households registered in a programme, moved through its stages, assigned, referred
//! to other organisations, read section by section. Which sections a caller sees is decided
//! once, by `nansen_cases::case_sections`; a case a caller may not see is not found, exactly
//! as one that does not exist, whatever the shape of its id. Every read is audited with the
//! sections it showed. Personal and protection data reaches the store only to be sealed.

use crate::{App, AppError, Caller, Result};
use nansen_cases::case::{age_on, IdDocument};
use nansen_cases::names::{alike, skeletons};
use nansen_cases::{
    case_sections, AgeBand, CaseFacts, CaseFile, Consent, ConsentPurpose, FamilyAbroad, Move,
    Priority, ReferralStatus, Relationship, Section, Sex, SubmissionCategory, NEEDS,
};
use nansen_model::{Principal, ProgrammeName, Role, Timestamp};
use nansen_store::{
    CaseFilter, CaseRecord, NewCase, OrgRecord, ProgrammeRecord, ReferralRecord, StoreError,
};
use serde::{Deserialize, Serialize};

/// One member as the identity section holds them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IdentityMember {
    pub given_name: String,
    pub family_name: String,
    pub birth_date: String,
    #[serde(default)]
    pub birth_date_estimated: bool,
    pub sex: Sex,
    pub nationality: String,
    #[serde(default)]
    pub documents: Vec<IdDocument>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HouseholdMember {
    pub relationship: Relationship,
    pub languages: Vec<String>,
}

/// What the household section holds: each member's place in it (in the identity section's
/// order) and family in receiving states.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Household {
    pub members: Vec<HouseholdMember>,
    pub family_abroad: Vec<FamilyAbroad>,
    /// Receiving states it would go to, first choice first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preferred_states: Vec<String>,
}

/// The part of the process section that is sealed with the case.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct ProcessSealed {
    submission_category: Option<SubmissionCategory>,
    priority: Option<Priority>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    follow_ups: Vec<FollowUp>,
}

/// A reintegration follow-up survey of a returned household, after IOM's Reintegration
/// Sustainability Survey: a score from 0 to 1 on each of its three dimensions, as the
/// survey's own scoring gives them. No composite is made here: its weights are the survey's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowUp {
    /// The day of the interview, `YYYY-MM-DD`.
    pub on: String,
    pub economic: f64,
    pub social: f64,
    pub psychosocial: f64,
    #[serde(default)]
    pub note: String,
    /// Who recorded it; set by Nansen.
    #[serde(default)]
    pub by: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct CaseEventView {
    pub at: Timestamp,
    pub by: String,
    pub kind: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub note: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ReferralView {
    pub id: String,
    pub case: String,
    pub from: String,
    pub to: String,
    pub sections: Vec<Section>,
    pub status: ReferralStatus,
    /// Sent without the household's consent, on a supervisor's authority.
    pub consent_overridden: bool,
    pub reason: Option<String>,
    pub created_by: String,
    pub created_at: Timestamp,
    pub decided_by: Option<String>,
    pub decided_at: Option<Timestamp>,
}

/// The process section: where the case stands and how it got there.
#[derive(Clone, Debug, Serialize)]
pub struct Process {
    pub stage: String,
    pub stage_since: Timestamp,
    /// A move waiting for a supervisor's approval.
    pub pending_stage: Option<String>,
    pub assignee: Option<String>,
    /// The receiving state it is matched to.
    pub state: Option<String>,
    /// Cases it travels with.
    pub links: Vec<String>,
    pub submission_category: Option<SubmissionCategory>,
    pub priority: Option<Priority>,
    /// Reintegration follow-up surveys (return programmes), oldest first.
    pub follow_ups: Vec<FollowUp>,
    pub history: Vec<CaseEventView>,
    pub referrals: Vec<ReferralView>,
}

/// A stage a case may be moved to from where it stands.
#[derive(Clone, Debug, Serialize)]
pub struct MoveOption {
    pub to: String,
    /// A move back, out or from `withdrawn` says why.
    pub needs_note: bool,
    /// The move waits for a supervisor, unless the mover is one.
    pub needs_approval: bool,
}

/// A case as one caller may see it: the sections they may see, and a list naming them.
#[derive(Clone, Debug, Serialize)]
pub struct CaseView {
    pub id: String,
    pub programme: ProgrammeName,
    pub org: String,
    pub persons: i64,
    /// Goes up with every change; a change sent with an older one is refused.
    pub revision: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub erased_at: Option<Timestamp>,
    pub sections: Vec<Section>,
    pub identity: Option<Vec<IdentityMember>>,
    pub household: Option<Household>,
    pub process: Option<Process>,
    pub needs: Option<Vec<nansen_cases::Need>>,
    pub medical: Option<String>,
    pub best_interests: Option<String>,
    pub consent: Option<Vec<Consent>>,
    /// Whether the caller may change it (its organisation's caseworkers and admins).
    pub may_change: bool,
    /// Whether the caller may approve the move it waits for.
    pub may_approve: bool,
    /// Where the caller may move it, in the workflow's order.
    pub moves: Vec<MoveOption>,
    /// Whether it takes reintegration follow-up surveys (a case of a return programme).
    pub follow_ups_allowed: bool,
    /// Its documents filed under the sections shown.
    pub documents: Vec<crate::CaseDocumentView>,
}

/// A member of an existing case who may be the same person as one being registered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PossibleDuplicate {
    pub case: String,
    /// The member of the case being registered, counted from 0.
    pub member: usize,
    /// The member of the existing case.
    pub matched_member: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Registered {
    pub id: String,
    pub possible_duplicates: Vec<PossibleDuplicate>,
}

/// A row of a caseworker's list.
#[derive(Clone, Debug, Serialize)]
pub struct CaseRow {
    pub id: String,
    pub org: String,
    pub persons: i64,
    /// With the process section.
    pub stage: Option<String>,
    pub pending_stage: Option<String>,
    /// Since when it is at its stage, with the process section.
    pub stage_since: Option<Timestamp>,
    pub assignee: Option<String>,
    /// The receiving state it is matched to, with the process section.
    pub state: Option<String>,
    /// The principal applicant's name, with the identity section.
    pub principal: Option<String>,
    pub updated_at: Timestamp,
    pub sections: Vec<Section>,
}

#[derive(Clone, Debug, Serialize)]
pub struct CaseList {
    /// How many cases the filter selects, counted up to 10,000.
    pub total: i64,
    /// False when the filter selects more than `total`.
    pub total_exact: bool,
    pub cases: Vec<CaseRow>,
}

/// What a caseworker's list is filtered by.
#[derive(Clone, Debug, Default)]
pub struct CaseQuery {
    pub stage: Option<String>,
    /// An e-mail address.
    pub assignee: Option<String>,
    /// A specific-needs category, for those who may see needs.
    pub needs_category: Option<String>,
    /// A name, matched across transliterations.
    pub name: Option<String>,
    /// A date of birth, `YYYY-MM-DD`.
    pub born: Option<String>,
    /// The receiving state the cases are matched to, a country code or name.
    pub state: Option<String>,
    /// The cases waiting longest in their stage first (withdrawn and closed ones left out),
    /// instead of the last changed first.
    pub longest_waiting: bool,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// Most rows one page of a list shows.
pub const MAX_CASE_PAGE: i64 = 500;

/// What a stage move did.
#[derive(Clone, Debug, Serialize)]
pub struct Moved {
    pub id: String,
    pub stage: String,
    /// Set when the move waits for a supervisor.
    pub pending_stage: Option<String>,
    pub revision: i64,
}

/// A referral as its sender asks for it.
#[derive(Clone, Debug)]
pub struct ReferralRequest {
    pub to: String,
    pub sections: Vec<Section>,
    pub reason: String,
    /// Send without the household's consent, as a supervisor, for the reason given.
    pub override_consent: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct ReferralCreated {
    pub id: String,
    pub status: ReferralStatus,
}

/// Index tokens: what finding a person looks for, hashed by the store.
fn dob_token(date: &str) -> String {
    format!("dob:{date}")
}
fn name_token(skeleton: &str) -> String {
    format!("name:{skeleton}")
}
fn need_token(category: &str) -> String {
    format!("need:{category}")
}
/// The member number of tokens about the whole case.
const WHOLE_CASE: i64 = -1;

fn json<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("a section serialises")
}

pub(crate) fn read<T: for<'de> Deserialize<'de>>(section: Section, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes)
        .map_err(|e| AppError::Store(StoreError::Corrupt(format!("the {section} section: {e}"))))
}

fn note_of(note: Option<&str>) -> Option<&str> {
    note.map(str::trim).filter(|n| !n.is_empty())
}

fn works_on_cases(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Caseworker)
}

impl App {
    /// The case and the sections the caller sees of it; not found when they see none.
    pub(crate) fn case_for(&self, who: &Caller, id: &str) -> Result<(CaseRecord, Vec<Section>)> {
        let not_found = || AppError::NotFound(format!("case {id}"));
        let c = self.store.case_by_reference(id)?.ok_or_else(not_found)?;
        self.visible(who, vec![c])?.pop().ok_or_else(not_found)
    }

    /// The case, for a change only the case's own admins and caseworkers make.
    pub(crate) fn case_to_change(
        &self,
        who: &Caller,
        id: &str,
    ) -> Result<(CaseRecord, Vec<Section>)> {
        let (c, sections) = self.case_for(who, id)?;
        let own = who.principal == Principal::Operator
            || who.principal.role_in(&c.org).is_some_and(works_on_cases);
        if !own {
            return Err(AppError::Forbidden(format!(
                "only caseworkers and admins of {} change its cases",
                c.org
            )));
        }
        if c.erased_at.is_some() {
            return Err(AppError::Conflict(format!("case {id} was erased")));
        }
        Ok((c, sections))
    }

    fn is_supervisor(&self, who: &Caller, org: &str) -> bool {
        match &who.principal {
            Principal::Operator => true,
            Principal::User { memberships, .. } => memberships
                .iter()
                .any(|m| m.org == org && m.supervisor && works_on_cases(m.role)),
            Principal::Anonymous => false,
        }
    }

    fn programme_of(&self, c: &CaseRecord) -> Result<ProgrammeRecord> {
        self.store.programme_by_id(c.programme_id)?.ok_or_else(|| {
            AppError::Store(StoreError::Corrupt(format!(
                "case {} belongs to no programme",
                c.reference
            )))
        })
    }

    /// The programme and the organisation a caller registers cases for in it: the owner when
    /// they may, else the first implementing partner they work for; refused to anyone else.
    fn registrar(
        &self,
        who: &Caller,
        name: &ProgrammeName,
    ) -> Result<(ProgrammeRecord, OrgRecord)> {
        let (p, standing) = self.programme_for(who, name)?;
        let org = if who.principal == Principal::Operator {
            Some(p.org.as_str())
        } else {
            std::iter::once(p.org.as_str())
                .chain(
                    p.partners
                        .iter()
                        .filter(|(_, part)| part == crate::PartnerPart::Implementing.as_str())
                        .map(|(o, _)| o.as_str()),
                )
                .find(|o| who.principal.role_in(o).is_some_and(works_on_cases))
        };
        let org = org.filter(|_| standing.registers).ok_or_else(|| {
            AppError::Forbidden(format!(
                "only caseworkers and admins of {name}'s organisation or its implementing partners register cases"
            ))
        })?;
        let org = self
            .store
            .org(org)?
            .ok_or_else(|| AppError::NotFound(format!("organisation {org}")))?;
        Ok((p, org))
    }

    /// Stores registered cases, each with the cases it travels with, and their audit entries,
    /// in the caller's transaction; answers their ids in order.
    fn save_cases(
        &self,
        tx: &mut nansen_store::Tx,
        who: &Caller,
        (p, org): (&ProgrammeRecord, &OrgRecord),
        cases: &[(&Prepared, &[i64])],
    ) -> Result<Vec<String>, StoreError> {
        let new: Vec<NewCase> = cases
            .iter()
            .map(|(prepared, links)| NewCase {
                programme_id: p.id,
                org_id: org.id,
                stage: p.workflow.first(),
                persons: prepared.persons,
                created_by: &who.label,
                sections: &prepared.sections,
                index: &prepared.index,
                people: &prepared.people,
                links,
            })
            .collect();
        let stored = tx.insert_cases(&new)?;
        let programme = format!("{}/{}", p.org, p.slug);
        let details: Vec<String> = cases
            .iter()
            .map(|(prepared, _)| {
                serde_json::json!({ "programme": programme, "org": org.slug, "persons": prepared.persons })
                    .to_string()
            })
            .collect();
        let entries: Vec<(&str, &str, &str, &str)> = stored
            .iter()
            .zip(&details)
            .map(|((_, reference), detail)| {
                (
                    who.label.as_str(),
                    "case.add",
                    reference.as_str(),
                    detail.as_str(),
                )
            })
            .collect();
        tx.audit_all(&entries)?;
        Ok(stored.into_iter().map(|(_, reference)| reference).collect())
    }

    /// Registers a household in a programme. Refused whole, naming each field and reason,
    /// when anything is wrong; answers its id and the visible cases that may hold the same
    /// people.
    pub fn add_case(
        &self,
        who: &Caller,
        name: &ProgrammeName,
        mut file: CaseFile,
    ) -> Result<Registered> {
        let (p, org) = self.registrar(who, name)?;
        let today = Timestamp::now().day();
        if let Err(problems) = file.check(today) {
            let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
            return Err(AppError::BadRequest(format!(
                "the case was not registered: {}",
                list.join("; ")
            )));
        }
        let mut links = Vec::new();
        for (i, l) in file.links.iter().enumerate() {
            let linked = self
                .store
                .case_by_reference(l)?
                .filter(|c| c.programme_id == p.id && c.erased_at.is_none())
                .filter(|c| {
                    !case_sections(
                        &who.principal,
                        &CaseFacts {
                            org: c.org.clone(),
                            assignee: c.assignee_id,
                            referred_to: Vec::new(),
                        },
                    )
                    .is_empty()
                })
                .ok_or_else(|| {
                    AppError::BadRequest(format!(
                        "links[{i}]: no case {l:?} in {name} to travel with"
                    ))
                })?;
            links.push(linked.id);
        }
        let prepared = Prepared::of(&file, today);
        let possible_duplicates = self.possible_duplicates(who, &[&prepared])?.remove(0);
        let id = self
            .store
            .write(|tx| self.save_cases(tx, who, (&p, &org), &[(&prepared, &links)]))?
            .remove(0);
        Ok(Registered {
            id,
            possible_duplicates,
        })
    }

    /// For each new household, the members of cases the caller sees with the birth date of
    /// one of its members and a name alike across transliterations: one read for the people
    /// under all the birth dates, one for their cases.
    fn possible_duplicates(
        &self,
        who: &Caller,
        new: &[&Prepared],
    ) -> Result<Vec<Vec<PossibleDuplicate>>> {
        let dates: std::collections::BTreeSet<&str> = new
            .iter()
            .flat_map(|p| p.people_tokens.iter().map(|(dob, _)| dob.as_str()))
            .collect();
        let dates: Vec<&str> = dates.into_iter().collect();
        let under = self.store.people_like(&dates)?;
        // `(household, member, case id, their member)` of every person alike.
        let mut alike_people = Vec::new();
        for (household, prepared) in new.iter().enumerate() {
            for (member, (dob, names)) in prepared.people_tokens.iter().enumerate() {
                let dob_hash = self.store.index_hash(dob);
                let mine: Vec<String> = names.iter().map(|n| self.store.index_hash(n)).collect();
                for (case_id, their_member, hashes) in under.get(&dob_hash).into_iter().flatten() {
                    let theirs: Vec<String> =
                        hashes.iter().filter(|h| **h != dob_hash).cloned().collect();
                    if alike(&mine, &theirs) {
                        alike_people.push((household, member, *case_id, *their_member));
                    }
                }
            }
        }
        // Their cases, read once, and only those the caller sees named.
        let ids: std::collections::BTreeSet<i64> = alike_people.iter().map(|p| p.2).collect();
        let ids: Vec<i64> = ids.into_iter().collect();
        let visible: std::collections::HashMap<i64, String> = self
            .visible(who, self.store.cases_by_id(&ids)?)?
            .into_iter()
            .map(|(c, _)| (c.id, c.reference))
            .collect();
        let mut found = vec![Vec::new(); new.len()];
        for (household, member, case_id, matched_member) in alike_people {
            if let Some(case) = visible.get(&case_id) {
                found[household].push(PossibleDuplicate {
                    case: case.clone(),
                    member,
                    matched_member,
                });
            }
        }
        Ok(found)
    }

    /// The cases of `records` the caller sees, with the sections they see of each; their
    /// referrals read in one go.
    pub(crate) fn visible(
        &self,
        who: &Caller,
        records: Vec<CaseRecord>,
    ) -> Result<Vec<(CaseRecord, Vec<Section>)>> {
        let ids: Vec<i64> = records.iter().map(|c| c.id).collect();
        let mut referred = self.store.accepted_referrals_of(&ids)?;
        Ok(records
            .into_iter()
            .filter_map(|c| {
                let facts = CaseFacts {
                    org: c.org.clone(),
                    assignee: c.assignee_id,
                    referred_to: referred.remove(&c.id).unwrap_or_default(),
                };
                let sections = case_sections(&who.principal, &facts);
                (!sections.is_empty()).then_some((c, sections))
            })
            .collect())
    }

    /// A case with the sections the caller may see; the read is audited with them.
    pub fn case(&self, who: &Caller, id: &str) -> Result<CaseView> {
        let (c, sections) = self.case_for(who, id)?;
        // An erased case is a tombstone: who erased it and when are in the audit log.
        let sections = if c.erased_at.is_some() {
            Vec::new()
        } else {
            sections
        };
        let p = self.programme_of(&c)?;
        let opened = self.store.open_sections(&c, &sections)?;
        let get = |s: Section| {
            opened
                .iter()
                .find(|(x, _)| *x == s)
                .map(|(_, b)| b.as_slice())
        };
        let process = if sections.contains(&Section::Process) {
            let sealed: ProcessSealed = match get(Section::Process) {
                Some(b) => read(Section::Process, b)?,
                None => ProcessSealed::default(),
            };
            let links = self
                .store
                .cases_by_id(&self.store.case_links(c.id)?)?
                .into_iter()
                .map(|l| l.reference)
                .collect();
            Some(Process {
                stage: c.stage.clone(),
                stage_since: c.stage_since,
                pending_stage: c.pending_stage.clone(),
                assignee: c.assignee.clone(),
                state: c.state.clone(),
                links,
                submission_category: sealed.submission_category,
                priority: sealed.priority,
                follow_ups: sealed.follow_ups,
                history: self
                    .store
                    .case_events(&c)?
                    .into_iter()
                    .map(|e| CaseEventView {
                        at: e.at,
                        by: e.actor,
                        kind: e.kind,
                        from: e.from_stage,
                        to: e.to_stage,
                        note: e.note,
                    })
                    .collect(),
                referrals: self
                    .store
                    .referrals_of(c.id)?
                    .into_iter()
                    .map(|r| self.referral_view(r, &c, true))
                    .collect::<Result<_>>()?,
            })
        } else {
            None
        };
        let needs = get(Section::Needs)
            .map(|b| read::<Vec<String>>(Section::Needs, b))
            .transpose()?
            .map(|codes| codes.iter().filter_map(|c| NEEDS.get(c).cloned()).collect());
        let may_change = c.erased_at.is_none()
            && (who.principal == Principal::Operator
                || who.principal.role_in(&c.org).is_some_and(works_on_cases));
        let moves = if may_change && c.pending_stage.is_none() {
            p.workflow
                .stages
                .iter()
                .filter_map(|s| {
                    let m = p.workflow.check(&c.stage, &s.name, true).ok()?;
                    Some(MoveOption {
                        to: s.name.clone(),
                        needs_note: m == Move::WithNote,
                        needs_approval: s.approval,
                    })
                })
                .collect()
        } else {
            Vec::new()
        };
        let documents = self.documents_shown(&c, &sections)?;
        let view = CaseView {
            documents,
            follow_ups_allowed: p.kind == nansen_cases::ProgrammeKind::Return,
            may_change,
            may_approve: may_change && c.pending_stage.is_some() && self.is_supervisor(who, &c.org),
            moves,
            id: c.reference.clone(),
            programme: ProgrammeName::new(p.org, p.slug),
            org: c.org.clone(),
            persons: c.persons,
            revision: c.revision,
            created_at: c.created_at,
            updated_at: c.updated_at,
            erased_at: c.erased_at,
            identity: get(Section::Identity)
                .map(|b| read(Section::Identity, b))
                .transpose()?,
            household: get(Section::Household)
                .map(|b| read(Section::Household, b))
                .transpose()?,
            process,
            needs,
            medical: get(Section::Medical)
                .map(|b| read(Section::Medical, b))
                .transpose()?,
            best_interests: get(Section::BestInterests)
                .map(|b| read(Section::BestInterests, b))
                .transpose()?,
            consent: get(Section::Consent)
                .map(|b| read(Section::Consent, b))
                .transpose()?,
            sections: sections.clone(),
        };
        self.store.write(|tx| {
            tx.audit(
                &who.label,
                "case.read",
                &c.reference,
                &serde_json::json!({ "sections": sections }).to_string(),
            )?;
            Ok::<_, StoreError>(())
        })?;
        Ok(view)
    }

    fn referral_view(
        &self,
        r: ReferralRecord,
        c: &CaseRecord,
        with_reason: bool,
    ) -> Result<ReferralView> {
        let reason = if with_reason {
            self.store.referral_reason(&r, c)?
        } else {
            None
        };
        Ok(ReferralView {
            id: r.reference,
            case: r.case_reference,
            from: r.from_org,
            to: r.to_org,
            sections: r.sections,
            status: r.status,
            consent_overridden: r.consent_overridden,
            reason,
            created_by: r.created_by,
            created_at: r.created_at,
            decided_by: r.decided_by,
            decided_at: r.decided_at,
        })
    }

    /// The cases of a programme the caller works on, filtered; the list is audited with
    /// the cases it named.
    pub fn cases(&self, who: &Caller, name: &ProgrammeName, q: &CaseQuery) -> Result<CaseList> {
        let (p, _) = self.programme_for(who, name)?;
        let programme_orgs: Vec<&str> = std::iter::once(p.org.as_str())
            .chain(p.partners.iter().map(|(o, _)| o.as_str()))
            .collect();
        let operator = who.principal == Principal::Operator;
        let mut own = Vec::new();
        let mut protection = Vec::new();
        let mut receiving = Vec::new();
        for org in self.store.orgs()? {
            let role = if operator {
                Some(Role::Admin)
            } else {
                who.principal.role_in(&org.slug)
            };
            let Some(role) = role else { continue };
            if !matches!(role, Role::Admin | Role::Caseworker | Role::Protection) {
                continue;
            }
            if programme_orgs.contains(&org.slug.as_str()) {
                own.push(org.id);
                if role == Role::Protection || operator {
                    protection.push(org.id);
                }
            }
            receiving.push(org.id);
        }
        if own.is_empty() && receiving.is_empty() {
            return Err(AppError::Forbidden(format!(
                "analysts and viewers see {name}'s statistics, not its cases"
            )));
        }
        let mut filter = CaseFilter {
            programme_id: p.id,
            orgs: own,
            referred_to: receiving,
            limit: q.limit.unwrap_or(50).clamp(1, MAX_CASE_PAGE),
            offset: q.offset.unwrap_or(0).max(0),
            ..Default::default()
        };
        if let Some(stage) = &q.stage {
            if p.workflow.stage(stage).is_none() {
                return Err(AppError::BadRequest(format!(
                    "{name} has no stage {stage:?}"
                )));
            }
            filter.stage = Some(stage.clone());
        }
        if let Some(email) = &q.assignee {
            match self.store.user_by_email(&email.trim().to_lowercase())? {
                Some(u) => filter.assignee_id = Some(u.id),
                None => {
                    return Ok(CaseList {
                        total: 0,
                        total_exact: true,
                        cases: Vec::new(),
                    })
                }
            }
        }
        if let Some(category) = &q.needs_category {
            if !NEEDS.categories().contains(&category.as_str()) {
                return Err(AppError::BadRequest(format!(
                    "{category:?} is not a category of specific needs"
                )));
            }
            // Needs are seen by protection officers and, on their own cases, by the assigned
            // caseworker: the filter reaches no further.
            if !protection.is_empty() {
                filter.orgs = protection;
                filter.referred_to.clear();
            } else if let Some(me) = who.user_id() {
                filter.assignee_id = Some(me);
            }
            filter.tokens.push(need_token(category));
        }
        if let Some(n) = &q.name {
            filter
                .tokens
                .extend(skeletons(n).iter().map(|s| name_token(s)));
        }
        if let Some(born) = &q.born {
            crate::programmes::check_date("born", &Some(born.clone()))?;
            // A birth date is the rarest token: it goes first (see `CaseFilter::tokens`).
            filter.tokens.insert(0, dob_token(born));
        }
        if let Some(state) = &q.state {
            filter.state = Some(state_code("state", state)?);
        }
        if q.longest_waiting {
            filter.longest_waiting = true;
            filter.not_stages = p
                .workflow
                .stages
                .iter()
                .filter(|s| s.exit)
                .map(|s| s.name.clone())
                .collect();
        }
        let (records, total) = self.store.cases(&filter)?;
        // Three reads for the whole page, whatever its length: the cases, their referrals,
        // and the identity sections of those whose identity the caller sees.
        let seen = self.visible(who, records)?;
        let named: Vec<CaseRecord> = seen
            .iter()
            .filter(|(_, s)| s.contains(&Section::Identity))
            .map(|(c, _)| c.clone())
            .collect();
        let identities = self.store.open_section_of_each(&named, Section::Identity)?;
        let mut rows = Vec::new();
        for (c, sections) in seen {
            let principal = match identities.get(&c.id) {
                Some(b) => {
                    let members: Vec<IdentityMember> = read(Section::Identity, b)?;
                    members.first().map(|m| {
                        format!("{} {}", m.given_name, m.family_name)
                            .trim()
                            .to_string()
                    })
                }
                None => None,
            };
            let process = sections.contains(&Section::Process);
            rows.push(CaseRow {
                id: c.reference,
                org: c.org,
                persons: c.persons,
                stage: process.then_some(c.stage),
                pending_stage: if process { c.pending_stage } else { None },
                stage_since: process.then_some(c.stage_since),
                assignee: if process { c.assignee } else { None },
                state: if process { c.state } else { None },
                principal,
                updated_at: c.updated_at,
                sections,
            });
        }
        if !rows.is_empty() {
            let shown: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
            self.store.write(|tx| {
                tx.audit(
                    &who.label,
                    "case.list",
                    &name.to_string(),
                    &serde_json::json!({ "cases": shown, "sections": ["identity", "process"] })
                        .to_string(),
                )?;
                Ok::<_, StoreError>(())
            })?;
        }
        Ok(CaseList {
            total: total.min(nansen_store::MAX_COUNTED),
            total_exact: total <= nansen_store::MAX_COUNTED,
            cases: rows,
        })
    }

    /// Moves a case to a stage, as the workflow allows. A stage that needs approval waits for
    /// a supervisor unless the mover is one. `revision`, when given, must be the case's.
    pub fn move_case(
        &self,
        who: &Caller,
        id: &str,
        to: &str,
        note: Option<&str>,
        revision: Option<i64>,
    ) -> Result<Moved> {
        let (c, _) = self.case_to_change(who, id)?;
        check_revision(&c, revision)?;
        let p = self.programme_of(&c)?;
        let note = note_of(note);
        let kind = p
            .workflow
            .check(&c.stage, to, note.is_some())
            .map_err(|e| AppError::BadRequest(format!("case {id}: {e}")))?;
        let needs_approval =
            p.workflow.stage(to).is_some_and(|s| s.approval) && !self.is_supervisor(who, &c.org);
        let (stage, pending, event) = if needs_approval {
            (c.stage.clone(), Some(to), "move-requested")
        } else {
            (to.to_string(), None, "moved")
        };
        self.store.write(|tx| {
            if !tx.update_case(&c, &stage, pending, c.assignee_id)? {
                return Err(changed(id));
            }
            tx.case_event(&c, &who.label, event, (Some(&c.stage), Some(to)), note)?;
            tx.audit(
                &who.label,
                if needs_approval {
                    "case.move-request"
                } else {
                    "case.move"
                },
                id,
                &serde_json::json!({ "from": c.stage, "to": to, "back": kind == Move::WithNote })
                    .to_string(),
            )?;
            Ok(())
        })?;
        Ok(Moved {
            id: id.to_string(),
            stage,
            pending_stage: pending.map(str::to_string),
            revision: c.revision + 1,
        })
    }

    /// Matches a case to a receiving state with a pledge in its programme, or (`None`)
    /// unmatches it. The people it counts into stages from now on count under that state.
    pub fn match_case(
        &self,
        who: &Caller,
        id: &str,
        state: Option<&str>,
        revision: Option<i64>,
    ) -> Result<Moved> {
        let (c, _) = self.case_to_change(who, id)?;
        check_revision(&c, revision)?;
        let state = match state {
            None => None,
            Some(s) => {
                let code = state_code("state", s)?;
                if !self
                    .store
                    .pledges(c.programme_id)?
                    .iter()
                    .any(|p| p.state == code)
                {
                    return Err(AppError::BadRequest(format!(
                        "state: {code} has pledged no places in this programme"
                    )));
                }
                Some(code)
            }
        };
        self.store.write(|tx| {
            if !tx.set_case_state(&c, state.as_deref())? {
                return Err(changed(id));
            }
            tx.case_event(
                &c,
                &who.label,
                "matched",
                (c.state.as_deref(), state.as_deref()),
                None,
            )?;
            tx.audit(
                &who.label,
                "case.match",
                id,
                &serde_json::json!({ "from": c.state, "to": state }).to_string(),
            )?;
            Ok(())
        })?;
        Ok(Moved {
            id: id.to_string(),
            stage: c.stage,
            pending_stage: c.pending_stage,
            revision: c.revision + 1,
        })
    }

    /// Records a reintegration follow-up survey of a case in a return programme.
    pub fn add_follow_up(
        &self,
        who: &Caller,
        id: &str,
        mut survey: FollowUp,
    ) -> Result<Vec<FollowUp>> {
        let (c, _) = self.case_to_change(who, id)?;
        let p = self.programme_of(&c)?;
        if p.kind != nansen_cases::ProgrammeKind::Return {
            return Err(AppError::BadRequest(format!(
                "follow-up surveys are for return programmes; {}/{} is a {} programme",
                p.org, p.slug, p.kind
            )));
        }
        let Some(day) = nansen_cases::case::parse_date(&survey.on) else {
            return Err(AppError::BadRequest(format!(
                "on: {:?} is not a date written YYYY-MM-DD",
                survey.on
            )));
        };
        if day > Timestamp::now().day() {
            return Err(AppError::BadRequest(format!(
                "on: {} is in the future",
                survey.on
            )));
        }
        for (field, v) in [
            ("economic", survey.economic),
            ("social", survey.social),
            ("psychosocial", survey.psychosocial),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(AppError::BadRequest(format!(
                    "{field}: {v} is not a score from 0 to 1"
                )));
            }
        }
        survey.note = survey.note.trim().to_string();
        survey.by = who.label.clone();
        let opened = self.store.open_sections(&c, &[Section::Process])?;
        let mut sealed: ProcessSealed = match opened.first() {
            Some((_, b)) => read(Section::Process, b)?,
            None => ProcessSealed::default(),
        };
        sealed.follow_ups.push(survey);
        sealed.follow_ups.sort_by(|a, b| a.on.cmp(&b.on));
        self.store.write(|tx| {
            if !tx.replace_section(&c, Section::Process, &json(&sealed))? {
                return Err(changed(id));
            }
            tx.case_event(&c, &who.label, "follow-up", (None, None), None)?;
            tx.audit(&who.label, "case.follow-up", id, "{}")?;
            Ok(())
        })?;
        Ok(sealed.follow_ups)
    }

    /// A supervisor approves (or, with `refuse`, turns down) the move a case waits for.
    pub fn approve_move(
        &self,
        who: &Caller,
        id: &str,
        refuse: bool,
        note: Option<&str>,
    ) -> Result<Moved> {
        let (c, _) = self.case_to_change(who, id)?;
        if !self.is_supervisor(who, &c.org) {
            return Err(AppError::Forbidden(format!(
                "only supervisors of {} approve moves of its cases",
                c.org
            )));
        }
        let Some(pending) = c.pending_stage.clone() else {
            return Err(AppError::Conflict(format!(
                "case {id} waits for no approval"
            )));
        };
        let stage = if refuse {
            c.stage.clone()
        } else {
            pending.clone()
        };
        self.store.write(|tx| {
            if !tx.update_case(&c, &stage, None, c.assignee_id)? {
                return Err(changed(id));
            }
            let kind = if refuse {
                "move-refused"
            } else {
                "move-approved"
            };
            tx.case_event(
                &c,
                &who.label,
                kind,
                (Some(&c.stage), Some(&pending)),
                note_of(note),
            )?;
            tx.audit(
                &who.label,
                &format!("case.{kind}"),
                id,
                &serde_json::json!({ "to": pending }).to_string(),
            )?;
            Ok(())
        })?;
        Ok(Moved {
            id: id.to_string(),
            stage,
            pending_stage: None,
            revision: c.revision + 1,
        })
    }

    /// Assigns a case to a caseworker (or admin) of its organisation, or unassigns it. Admins
    /// and supervisors assign anyone; a caseworker may take an unassigned case.
    pub fn assign_case(&self, who: &Caller, id: &str, assignee: Option<&str>) -> Result<Moved> {
        let (c, _) = self.case_to_change(who, id)?;
        let target = match assignee {
            None => None,
            Some(email) => {
                let email = email.trim().to_lowercase();
                let member = self
                    .store
                    .members(Some(std::slice::from_ref(&c.org)))?
                    .into_iter()
                    .find(|m| m.email == email && works_on_cases(m.role))
                    .ok_or_else(|| {
                        AppError::BadRequest(format!(
                            "{email} is no caseworker or admin of {}",
                            c.org
                        ))
                    })?;
                Some(member)
            }
        };
        let manages =
            self.is_supervisor(who, &c.org) || who.principal.role_in(&c.org) == Some(Role::Admin);
        let takes_it = c.assignee_id.is_none()
            && target
                .as_ref()
                .is_some_and(|t| Some(t.user_id) == who.user_id());
        if !manages && !takes_it {
            return Err(AppError::Forbidden(format!(
                "admins and supervisors of {} assign its cases; a caseworker may take an unassigned one",
                c.org
            )));
        }
        let target_id = target.as_ref().map(|t| t.user_id);
        let target_email = target.map(|t| t.email);
        self.store.write(|tx| {
            if !tx.update_case(&c, &c.stage, c.pending_stage.as_deref(), target_id)? {
                return Err(changed(id));
            }
            tx.case_event(
                &c,
                &who.label,
                "assigned",
                (None, None),
                target_email.as_deref(),
            )?;
            tx.audit(
                &who.label,
                "case.assign",
                id,
                &serde_json::json!({ "assignee": target_email }).to_string(),
            )?;
            Ok(())
        })?;
        Ok(Moved {
            id: id.to_string(),
            stage: c.stage,
            pending_stage: c.pending_stage,
            revision: c.revision + 1,
        })
    }

    /// Records a consent the household gave.
    pub fn add_consent(&self, who: &Caller, id: &str, consent: Consent) -> Result<Vec<Consent>> {
        let (c, _) = self.case_to_change(who, id)?;
        let needs_partner = consent.purpose != ConsentPurpose::Reporting;
        if needs_partner
            && consent
                .partner
                .as_deref()
                .is_none_or(|p| p.trim().is_empty())
        {
            return Err(AppError::BadRequest(format!(
                "partner: a {} consent names the partner it allows",
                consent.purpose
            )));
        }
        if consent.purpose == ConsentPurpose::Referral {
            let partner = consent.partner.as_deref().unwrap_or_default();
            if self.store.org(partner)?.is_none() {
                return Err(AppError::BadRequest(format!(
                    "partner: no organisation {partner} to consent to referrals to"
                )));
            }
        }
        let opened = self.store.open_sections(&c, &[Section::Consent])?;
        let mut consents: Vec<Consent> = match opened.first() {
            Some((_, b)) => read(Section::Consent, b)?,
            None => Vec::new(),
        };
        if !consents.contains(&consent) {
            consents.push(consent.clone());
        }
        self.store.write(|tx| {
            if !tx.replace_section(&c, Section::Consent, &json(&consents))? {
                return Err(changed(id));
            }
            tx.case_event(&c, &who.label, "consent", (None, None), None)?;
            tx.audit(
                &who.label,
                "case.consent",
                id,
                &serde_json::to_string(&consent).expect("serialises"),
            )?;
            Ok(())
        })?;
        Ok(consents)
    }

    /// Sends a case to another organisation with the sections named. Needs the household's
    /// consent to referral to that organisation, which only a supervisor may override, with
    /// the reason given; the override is audited and shown on the case.
    pub fn refer_case(
        &self,
        who: &Caller,
        id: &str,
        r: ReferralRequest,
    ) -> Result<ReferralCreated> {
        let (c, seen) = self.case_to_change(who, id)?;
        let to = self
            .store
            .org(&r.to)?
            .ok_or_else(|| AppError::BadRequest(format!("to: no organisation {}", r.to)))?;
        if to.slug == c.org {
            return Err(AppError::BadRequest(format!(
                "to: case {id} belongs to {} already",
                c.org
            )));
        }
        if r.sections.is_empty() {
            return Err(AppError::BadRequest(
                "sections: a referral sends at least one section".into(),
            ));
        }
        if let Some(s) = r.sections.iter().find(|s| !seen.contains(s)) {
            return Err(AppError::Forbidden(format!(
                "sections: you may not see the {s} section of case {id}, so you may not send it"
            )));
        }
        if r.reason.trim().is_empty() {
            return Err(AppError::BadRequest(
                "reason: a referral says why it is made".into(),
            ));
        }
        let consents: Vec<Consent> =
            match self.store.open_sections(&c, &[Section::Consent])?.first() {
                Some((_, b)) => read(Section::Consent, b)?,
                None => Vec::new(),
            };
        let consented = consents.iter().any(|k| {
            k.purpose == ConsentPurpose::Referral && k.partner.as_deref() == Some(to.slug.as_str())
        });
        if !consented && !r.override_consent {
            return Err(AppError::BadRequest(format!(
                "the household has not consented to referral to {}: record the consent first, or a supervisor may override it with a reason",
                to.slug
            )));
        }
        let overridden = !consented && r.override_consent;
        if overridden && !self.is_supervisor(who, &c.org) {
            return Err(AppError::Forbidden(format!(
                "only supervisors of {} may refer a case without consent",
                c.org
            )));
        }
        let sections = r.sections.clone();
        let reference = self.store.write(|tx| {
            let reference = tx.insert_referral(&c, to.id, &sections, r.reason.trim(), overridden, &who.label)?;
            let kind = if overridden { "referred-without-consent" } else { "referred" };
            tx.case_event(&c, &who.label, kind, (None, None), Some(r.reason.trim()))?;
            tx.audit(
                &who.label,
                if overridden { "case.refer-override" } else { "case.refer" },
                id,
                &serde_json::json!({ "referral": reference, "to": to.slug, "sections": sections, "consent_overridden": overridden })
                    .to_string(),
            )?;
            Ok::<_, StoreError>(reference)
        })?;
        Ok(ReferralCreated {
            id: reference,
            status: ReferralStatus::Pending,
        })
    }

    /// The referral, if the caller's organisation sent or received it (as an admin,
    /// caseworker or protection officer); else not found.
    fn referral_for(&self, who: &Caller, id: &str) -> Result<(ReferralRecord, CaseRecord)> {
        let not_found = || AppError::NotFound(format!("referral {id}"));
        let r = self
            .store
            .referral_by_reference(id)?
            .ok_or_else(not_found)?;
        let party = who.principal == Principal::Operator
            || [&r.from_org, &r.to_org].iter().any(|o| {
                who.principal
                    .role_in(o)
                    .is_some_and(|role| works_on_cases(role) || role == Role::Protection)
            });
        if !party {
            return Err(not_found());
        }
        let c = self
            .store
            .cases_by_id(&[r.case_id])?
            .into_iter()
            .next()
            .ok_or_else(not_found)?;
        Ok((r, c))
    }

    /// The receiving organisation's admin or caseworker accepts or declines a referral.
    pub fn decide_referral(
        &self,
        who: &Caller,
        id: &str,
        accept: bool,
        note: Option<&str>,
    ) -> Result<ReferralView> {
        let (r, c) = self.referral_for(who, id)?;
        let receiver = who.principal == Principal::Operator
            || who.principal.role_in(&r.to_org).is_some_and(works_on_cases);
        if !receiver {
            return Err(AppError::Forbidden(format!(
                "only caseworkers and admins of {} decide on referrals to it",
                r.to_org
            )));
        }
        if r.status != ReferralStatus::Pending {
            return Err(AppError::Conflict(format!(
                "referral {id} was {} already",
                r.status
            )));
        }
        let status = if accept {
            ReferralStatus::Accepted
        } else {
            ReferralStatus::Declined
        };
        let a_match = self.store.proposal_of_referral(r.id)?.is_some();
        if a_match && !accept && note_of(note).is_none() {
            return Err(AppError::BadRequest(
                "note: declining a match says why, so matching can take it into account".into(),
            ));
        }
        self.store.write(|tx| {
            if !tx.decide_referral(&r, &c, status, &who.label, note_of(note))? {
                return Err(AppError::Conflict(format!(
                    "referral {id} was decided meanwhile"
                )));
            }
            tx.case_event(
                &c,
                &who.label,
                &format!("referral-{status}"),
                (None, None),
                note_of(note),
            )?;
            if a_match && !accept {
                let reason = format!("{} declined: {}", r.to_org, note_of(note).unwrap_or(""));
                self.return_to_matching(tx, who, &c, &reason)?;
            }

            tx.audit(
                &who.label,
                &format!("referral.{}", if accept { "accept" } else { "decline" }),
                id,
                &serde_json::json!({ "case": c.reference }).to_string(),
            )?;
            Ok(())
        })?;
        let (r, c) = self.referral_for(who, id)?;
        self.referral_view(r, &c, true)
    }

    /// Referrals sent to or by the caller's organisations, newest first.
    pub fn referrals(&self, who: &Caller) -> Result<Vec<ReferralView>> {
        let mut orgs = Vec::new();
        for org in self.store.orgs()? {
            let party = who.principal == Principal::Operator
                || who
                    .principal
                    .role_in(&org.slug)
                    .is_some_and(|role| works_on_cases(role) || role == Role::Protection);
            if party {
                orgs.push(org.id);
            }
        }
        let mut out = Vec::new();
        for r in self.store.referrals_for(&orgs)? {
            if let Some(c) = self.store.cases_by_id(&[r.case_id])?.into_iter().next() {
                out.push(self.referral_view(r, &c, true)?);
            }
        }
        Ok(out)
    }

    /// Erases a case (admins of its organisation): its key is destroyed, so nothing sealed
    /// with it can be read again, here or in any copy of the database, once the case keys
    /// are rotated, which follows at once. A tombstone and the programme's counts remain.
    pub fn erase_case(&self, who: &Caller, id: &str, reason: &str) -> Result<Erased> {
        let (c, _) = self.case_for(who, id)?;
        let admin = who.principal == Principal::Operator
            || who.principal.role_in(&c.org) == Some(Role::Admin);
        if !admin {
            return Err(AppError::Forbidden(format!(
                "only admins of {} erase its cases",
                c.org
            )));
        }
        if reason.trim().is_empty() {
            return Err(AppError::BadRequest(
                "reason: an erasure says why (a request of the person, the retention period)"
                    .into(),
            ));
        }
        self.erase(&who.label, &c, reason.trim())?;
        let rotation = self.store.rotate_case_keys(&who.label, &mut |_, _| {})?;
        Ok(Erased {
            id: c.reference,
            rewrapped: rotation.rewrapped,
        })
    }

    fn erase(&self, actor: &str, c: &CaseRecord, reason: &str) -> Result<()> {
        self.store.write(|tx| {
            if !tx.erase_case(c, actor, reason)? {
                return Err(AppError::Conflict(format!(
                    "case {} was erased already",
                    c.reference
                )));
            }
            tx.audit(
                actor,
                "case.erase",
                &c.reference,
                &serde_json::json!({ "reason": reason }).to_string(),
            )?;
            Ok(())
        })
    }

    /// Moves every case key to a new generation of the case key file and destroys the old
    /// ones (platform operators). `progress` hears how many keys of how many are done.
    pub fn rotate_case_keys(
        &self,
        who: &Caller,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<nansen_store::Rotation> {
        self.require_operator(who)?;
        Ok(self.store.rotate_case_keys(&who.label, progress)?)
    }

    /// The retention job: erases every case that has been out of its programme's workflow
    /// (an exit stage) for longer than the programme keeps cases, then rotates the case keys
    /// once, and finishes a rotation an erasure still owes. Returns the cases erased.
    pub fn run_retention(&self) -> Result<Vec<String>> {
        let now = Timestamp::now();
        let mut erased = Vec::new();
        for p in self.store.programmes()? {
            let Some(days) = p.retention_days else {
                continue;
            };
            let exits: Vec<String> = p
                .workflow
                .stages
                .iter()
                .filter(|s| s.exit)
                .map(|s| s.name.clone())
                .collect();
            for c in self
                .store
                .cases_at_since(p.id, &exits, now.plus_seconds(-days * 86_400))?
            {
                let reason = format!(
                    "{} kept cases {days} days after they left the workflow",
                    p.slug
                );
                match self.erase("retention", &c, &reason) {
                    Ok(()) => erased.push(c.reference),
                    Err(AppError::Conflict(_)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        if self.store.rotation_due()? {
            self.store.rotate_case_keys("retention", &mut |_, _| {})?;
        }
        Ok(erased)
    }
}

/// A household an import set aside, with its rows and what is wrong with it.
#[derive(Clone, Debug, Serialize)]
pub struct SetAsideHousehold {
    pub household: String,
    pub rows: Vec<usize>,
    pub problems: Vec<String>,
}

/// What a bulk registration did.
#[derive(Clone, Debug, Serialize)]
pub struct CaseImport {
    /// The new cases' ids, in the file's order of households.
    pub registered: Vec<String>,
    /// Households kept out with `set_aside`.
    pub set_aside: Vec<SetAsideHousehold>,
    /// `(household, possible duplicate)`: members of visible cases who may be the same people.
    pub possible_duplicates: Vec<(String, PossibleDuplicate)>,
}

/// How far a bulk registration has gone.
#[derive(Clone, Copy, Debug)]
pub enum ImportStep {
    /// Households checked so far, of all.
    Checked(usize, usize),
    /// The one transaction that stores them all has begun.
    Saving(usize),
}

/// Most households one file registers.
pub const MAX_IMPORT_HOUSEHOLDS: usize = 200_000;

impl App {
    /// Registers the households of a CSV or XLSX table (one row per person; docs/cases.md) in
    /// one transaction: all or nothing, each problem named by row and column; with
    /// `set_aside`, households with problems are kept out and reported instead.
    pub fn import_cases(
        &self,
        who: &Caller,
        name: &ProgrammeName,
        file: &std::path::Path,
        mapping: Option<&str>,
        set_aside: bool,
        progress: &mut dyn FnMut(ImportStep),
    ) -> Result<CaseImport> {
        use nansen_cases::import::{households, locate, RowProblem};
        use nansen_formats::{ImportError, Problem};
        let (p, org) = self.registrar(who, name)?;
        let headers = match mapping {
            Some(text) => nansen_cases::import::mapping(text)
                .map_err(|e| AppError::BadRequest(format!("the mapping: {e}")))?,
            None => Default::default(),
        };
        let refused = |problems: Vec<RowProblem>| {
            let list: Vec<Problem> = problems
                .iter()
                .map(|p| Problem::new(p.row as u64, &p.column, "", p.reason.clone()))
                .collect();
            AppError::Import(ImportError::refused(
                format!(
                    "the file was not imported, nothing was stored: {} problems",
                    list.len()
                ),
                list,
            ))
        };
        let mut rows = Vec::new();
        let header = nansen_formats::table(file, &mut |row, cells| {
            rows.push((row as usize, cells));
            Ok(())
        })?;
        let found = households(&header, rows.into_iter(), &headers).map_err(refused)?;
        if found.len() > MAX_IMPORT_HOUSEHOLDS {
            return Err(AppError::TooLarge(format!(
                "{} households: one file registers at most {MAX_IMPORT_HOUSEHOLDS}",
                found.len()
            )));
        }
        let today = Timestamp::now().day();
        let total = found.len();
        let mut ready = Vec::new();
        let mut kept_out = Vec::new();
        let mut problems = Vec::new();
        for (i, mut h) in found.into_iter().enumerate() {
            let mut mine = std::mem::take(&mut h.problems);
            if let Err(ps) = h.case.check(today) {
                mine.extend(ps.iter().map(|p| locate(&h, &p.field, &p.reason)));
            }
            if mine.is_empty() {
                ready.push(h);
            } else if set_aside {
                kept_out.push(SetAsideHousehold {
                    household: h.key.clone(),
                    rows: h.rows.clone(),
                    problems: mine.iter().map(ToString::to_string).collect(),
                });
            } else {
                problems.extend(mine);
            }
            if (i + 1) % 500 == 0 || i + 1 == total {
                progress(ImportStep::Checked(i + 1, total));
            }
        }
        if !problems.is_empty() {
            return Err(refused(problems));
        }
        let prepared: Vec<Prepared> = ready.iter().map(|h| Prepared::of(&h.case, today)).collect();
        let mut possible_duplicates = Vec::new();
        for (households, preps) in ready.chunks(500).zip(prepared.chunks(500)) {
            let preps: Vec<&Prepared> = preps.iter().collect();
            for (h, found) in households
                .iter()
                .zip(self.possible_duplicates(who, &preps)?)
            {
                possible_duplicates.extend(found.into_iter().map(|d| (h.key.clone(), d)));
            }
        }
        progress(ImportStep::Saving(ready.len()));
        let registered = self.store.write(|tx| {
            let cases: Vec<(&Prepared, &[i64])> =
                prepared.iter().map(|prep| (prep, &[][..])).collect();
            self.save_cases(tx, who, (&p, &org), &cases)
        })?;
        if registered.len() >= 500 {
            self.store.refresh_case_statistics()?;
        }
        Ok(CaseImport {
            registered,
            set_aside: kept_out,
            possible_duplicates,
        })
    }
}

/// What erasing a case did.
#[derive(Clone, Debug, Serialize)]
pub struct Erased {
    pub id: String,
    /// Keys of other cases moved to the new generation.
    pub rewrapped: usize,
}

/// A country of the code list (not an aggregate), by code or name, or a refusal naming the field.
pub(crate) fn state_code(field: &str, value: &str) -> Result<String> {
    let codes = nansen_codes::CodeLists::get();
    codes
        .country(value)
        .filter(|c| !codes.is_aggregate(c))
        .map(str::to_string)
        .ok_or_else(|| {
            AppError::BadRequest(format!(
                "{field}: {value:?} is not a country in the code list"
            ))
        })
}

fn check_revision(c: &CaseRecord, revision: Option<i64>) -> Result<()> {
    match revision {
        Some(r) if r != c.revision => Err(changed(&c.reference)),
        _ => Ok(()),
    }
}

pub(crate) fn changed(id: &str) -> AppError {
    AppError::Conflict(format!(
        "case {id} changed since you read it: read it again and redo your change"
    ))
}

/// A case made ready for the store: its sections in plain form, its index tokens and the
/// figures the pipeline counts.
struct Prepared {
    persons: i64,
    sections: Vec<(Section, Vec<u8>)>,
    index: Vec<(i64, String)>,
    people: Vec<nansen_store::Person>,
    /// Per member: the birth-date token and the name tokens.
    people_tokens: Vec<(String, Vec<String>)>,
}

impl Prepared {
    fn of(file: &CaseFile, today: nansen_cases::case::Date) -> Prepared {
        let identity: Vec<IdentityMember> = file
            .members
            .iter()
            .map(|m| IdentityMember {
                given_name: m.given_name.trim().to_string(),
                family_name: m.family_name.trim().to_string(),
                birth_date: m.birth_date.clone(),
                birth_date_estimated: m.birth_date_estimated,
                sex: m.sex,
                nationality: m.nationality.clone(),
                documents: m.documents.clone(),
            })
            .collect();
        let household = Household {
            members: file
                .members
                .iter()
                .map(|m| HouseholdMember {
                    relationship: m.relationship,
                    languages: m.languages.clone(),
                })
                .collect(),
            family_abroad: file.family_abroad.clone(),
            preferred_states: file.preferred_states.clone(),
        };
        let process = ProcessSealed {
            submission_category: file.submission_category,
            priority: file.priority,
            follow_ups: Vec::new(),
        };
        let mut sections = vec![
            (Section::Identity, json(&identity)),
            (Section::Household, json(&household)),
            (Section::Process, json(&process)),
            (Section::Needs, json(&file.needs)),
            (Section::Consent, json(&file.consents)),
        ];
        if let Some(m) = &file.medical {
            sections.push((Section::Medical, json(m)));
        }
        if let Some(b) = &file.best_interests {
            sections.push((Section::BestInterests, json(b)));
        }
        let mut index = Vec::new();
        let mut people = Vec::new();
        let mut people_tokens = Vec::new();
        for (i, m) in file.members.iter().enumerate() {
            let member = i as i64;
            let dob = dob_token(&m.birth_date);
            let names: Vec<String> = skeletons(&format!("{} {}", m.given_name, m.family_name))
                .iter()
                .map(|s| name_token(s))
                .collect();
            index.push((member, dob.clone()));
            index.extend(names.iter().map(|n| (member, n.clone())));
            people_tokens.push((dob, names));
            let band = m
                .birth()
                .map(|b| AgeBand::of_age(age_on(b, today)).as_str())
                .unwrap_or("UNK");
            people.push(nansen_store::Person {
                member,
                nationality: m.nationality.clone(),
                sex: m.sex.statistics_code().to_string(),
                age_band: band.to_string(),
                principal: m.relationship == Relationship::Principal,
            });
        }
        for category in file.need_categories() {
            index.push((WHOLE_CASE, need_token(&category)));
        }
        Prepared {
            persons: file.persons() as i64,
            sections,
            index,
            people,
            people_tokens,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::apps;
    use crate::*;
    use nansen_cases::{CaseFile, ProgrammeKind, Section};
    use nansen_model::{ProgrammeName, Role};

    const PASSWORD: &str = "correct horse battery";

    /// EUAA runs a relocation with IOM implementing and BAMF receiving; each person named by
    /// their role.
    fn world(app: &App) -> std::collections::HashMap<&'static str, Caller> {
        let op = Caller::operator();
        for (slug, name) in [("euaa", "EUAA"), ("iom", "IOM"), ("bamf", "BAMF")] {
            app.add_org(&op, slug, name).unwrap();
        }
        let people = [
            ("admin", "admin@euaa.eu", "euaa", Role::Admin, false),
            ("cw", "cw@euaa.eu", "euaa", Role::Caseworker, false),
            ("cw2", "cw2@euaa.eu", "euaa", Role::Caseworker, false),
            ("supervisor", "sup@euaa.eu", "euaa", Role::Caseworker, true),
            ("protection", "po@euaa.eu", "euaa", Role::Protection, false),
            ("analyst", "analyst@euaa.eu", "euaa", Role::Analyst, false),
            ("iom", "cw@iom.int", "iom", Role::Caseworker, false),
            ("bamf", "admin@bamf.de", "bamf", Role::Admin, false),
        ];
        let mut out = std::collections::HashMap::new();
        for (who, email, org, role, sup) in people {
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
                receiving: vec!["bamf".into()],
                starts_on: Some("2020-04-01".into()),
                ends_on: None,
                retention_days: Some(365),
            },
        )
        .unwrap();
        out
    }

    fn programme() -> ProgrammeName {
        "euaa/relocation".parse().unwrap()
    }

    fn household(given: &str, family: &str, born: &str) -> CaseFile {
        CaseFile::from_json(&format!(
            r#"{{"members": [
                {{"given_name": "{given}", "family_name": "{family}", "birth_date": "{born}", "sex": "F", "nationality": "AFG", "languages": ["fa"], "relationship": "principal"}},
                {{"given_name": "Omid", "family_name": "{family}", "birth_date": "2012-03-04", "sex": "M", "nationality": "AFG", "relationship": "child"}}
            ], "needs": ["SM-CI"], "consents": [{{"purpose": "referral", "partner": "iom"}}], "medical": "insulin twice a day"}}"#
        ))
        .unwrap()
    }

    fn sections(v: &CaseView) -> Vec<&'static str> {
        v.sections.iter().map(|s| s.as_str()).collect()
    }

    #[test]
    fn each_role_sees_the_sections_it_may_and_everyone_else_no_case_at_all() {
        for (_t, app) in apps() {
            let who = world(&app);
            let id = app
                .add_case(
                    &who["cw"],
                    &programme(),
                    household("Zarifa", "Ahmadi", "1990-04-02"),
                )
                .unwrap()
                .id;
            let everyday = vec!["identity", "household", "process", "consent"];
            let cw = app.case(&who["cw"], &id).unwrap();
            assert_eq!(sections(&cw), everyday, "a caseworker not assigned");
            assert!(cw.medical.is_none() && cw.needs.is_none());
            assert_eq!(cw.identity.as_ref().unwrap()[0].given_name, "Zarifa");
            assert_eq!(cw.process.as_ref().unwrap().stage, "identified");
            assert_eq!(
                cw.process.as_ref().unwrap().assignee,
                None,
                "unassigned until assigned"
            );
            let po = app.case(&who["protection"], &id).unwrap();
            assert_eq!(po.sections.len(), Section::ALL.len());
            assert_eq!(po.medical.as_deref(), Some("insulin twice a day"));
            assert_eq!(
                po.needs.as_ref().unwrap()[0].category,
                "Serious medical condition"
            );
            app.assign_case(&who["admin"], &id, Some("cw@euaa.eu"))
                .unwrap();
            assert_eq!(
                app.case(&who["cw"], &id).unwrap().sections.len(),
                Section::ALL.len(),
                "the assigned caseworker"
            );
            assert_eq!(sections(&app.case(&who["cw2"], &id).unwrap()), everyday);
            let unknown = app
                .case(&who["analyst"], "no-such-case")
                .unwrap_err()
                .to_string();
            for outsider in ["analyst", "iom", "bamf"] {
                let e = app.case(&who[outsider], &id).unwrap_err();
                assert!(matches!(e, AppError::NotFound(_)), "{outsider}: {e}");
                assert_eq!(
                    e.to_string().replace(&id, "X"),
                    unknown.replace("no-such-case", "X")
                );
            }
            for odd in ["", "../../etc/passwd", "1 OR 1=1", &"x".repeat(5000)] {
                assert!(matches!(
                    app.case(&who["cw"], odd),
                    Err(AppError::NotFound(_))
                ));
            }
            let reads: Vec<(String, String)> = app
                .audit_log(&Caller::operator())
                .unwrap()
                .into_iter()
                .filter(|e| e.action == "case.read" && e.target == id)
                .map(|e| (e.actor, e.detail))
                .collect();
            assert_eq!(reads.len(), 4);
            assert_eq!(reads[1].0, "po@euaa.eu");
            assert!(reads[1].1.contains("\"medical\""), "{}", reads[1].1);
            assert!(!reads[0].1.contains("\"medical\""));
            assert!(matches!(
                app.cases(&who["analyst"], &programme(), &CaseQuery::default()),
                Err(AppError::Forbidden(_))
            ));
        }
    }

    #[test]
    fn a_case_moves_as_its_workflow_allows_with_approvals_and_no_lost_update() {
        for (_t, app) in apps() {
            let who = world(&app);
            let id = app
                .add_case(
                    &who["cw"],
                    &programme(),
                    household("Zarifa", "Ahmadi", "1990-04-02"),
                )
                .unwrap()
                .id;
            let e = app
                .move_case(&who["cw"], &id, "matched", None, None)
                .unwrap_err();
            assert!(
                e.to_string().contains("moves on to assessed, not matched"),
                "{e}"
            );
            let moved = app
                .move_case(&who["cw"], &id, "assessed", None, Some(1))
                .unwrap();
            assert_eq!((moved.stage.as_str(), moved.revision), ("assessed", 2));
            let stale = app
                .move_case(&who["cw2"], &id, "ready-for-matching", None, Some(1))
                .unwrap_err();
            assert!(matches!(stale, AppError::Conflict(_)), "{stale}");
            let asked = app
                .move_case(&who["cw"], &id, "ready-for-matching", None, None)
                .unwrap();
            assert_eq!(
                (asked.stage.as_str(), asked.pending_stage.as_deref()),
                ("assessed", Some("ready-for-matching")),
                "waits for a supervisor"
            );
            assert!(matches!(
                app.approve_move(&who["cw2"], &id, false, None),
                Err(AppError::Forbidden(_))
            ));
            let approved = app
                .approve_move(&who["supervisor"], &id, false, Some("files complete"))
                .unwrap();
            assert_eq!(approved.stage, "ready-for-matching");
            assert!(
                app.move_case(&who["cw"], &id, "assessed", None, None)
                    .is_err(),
                "back needs a note"
            );
            app.move_case(&who["cw"], &id, "withdrawn", Some("the family left"), None)
                .unwrap();
            let history = app.case(&who["cw"], &id).unwrap().process.unwrap().history;
            let kinds: Vec<&str> = history.iter().map(|h| h.kind.as_str()).collect();
            assert_eq!(
                kinds,
                vec![
                    "registered",
                    "moved",
                    "move-requested",
                    "move-approved",
                    "moved"
                ]
            );
            assert_eq!(history[4].note.as_deref(), Some("the family left"));
            assert!(matches!(
                app.move_case(&who["analyst"], &id, "identified", Some("x"), None),
                Err(AppError::NotFound(_))
            ));
        }
    }

    #[test]
    fn a_referral_needs_consent_or_a_supervisors_reasoned_override_and_shows_only_its_sections() {
        for (_t, app) in apps() {
            let who = world(&app);
            let id = app
                .add_case(
                    &who["cw"],
                    &programme(),
                    household("Zarifa", "Ahmadi", "1990-04-02"),
                )
                .unwrap()
                .id;
            let to_bamf = |override_consent| ReferralRequest {
                to: "bamf".into(),
                sections: vec![Section::Identity, Section::Household],
                reason: "pre-departure orientation".into(),
                override_consent,
            };
            let e = app.refer_case(&who["cw"], &id, to_bamf(false)).unwrap_err();
            assert!(
                e.to_string()
                    .contains("has not consented to referral to bamf"),
                "{e}"
            );
            assert!(matches!(
                app.refer_case(&who["cw"], &id, to_bamf(true)),
                Err(AppError::Forbidden(_))
            ));
            let sent = app
                .refer_case(&who["supervisor"], &id, to_bamf(true))
                .unwrap();
            assert_eq!(sent.status, nansen_cases::ReferralStatus::Pending);
            assert!(
                matches!(app.case(&who["bamf"], &id), Err(AppError::NotFound(_))),
                "not before acceptance"
            );
            let inbox = app.referrals(&who["bamf"]).unwrap();
            assert_eq!(inbox.len(), 1);
            assert!(inbox[0].consent_overridden);
            assert!(matches!(
                app.decide_referral(&who["iom"], &sent.id, true, None),
                Err(AppError::NotFound(_))
            ));
            let decided = app
                .decide_referral(&who["bamf"], &sent.id, true, None)
                .unwrap();
            assert_eq!(decided.status, nansen_cases::ReferralStatus::Accepted);
            let seen = app.case(&who["bamf"], &id).unwrap();
            assert_eq!(sections(&seen), vec!["identity", "household"]);
            assert!(seen.process.is_none() && seen.medical.is_none());
            let shown = app.case(&who["cw"], &id).unwrap().process.unwrap();
            assert!(
                shown.referrals[0].consent_overridden,
                "the override is shown on the case"
            );
            assert!(app
                .audit_log(&Caller::operator())
                .unwrap()
                .iter()
                .any(|e| e.action == "case.refer-override" && e.actor == "sup@euaa.eu"));
            // With consent, a caseworker refers without anyone's override.
            let to_iom = ReferralRequest {
                to: "iom".into(),
                sections: vec![Section::Medical],
                reason: "medical escort".into(),
                override_consent: false,
            };
            assert!(
                matches!(
                    app.refer_case(&who["cw"], &id, to_iom.clone()),
                    Err(AppError::Forbidden(_))
                ),
                "cannot send a section one may not see"
            );
            app.assign_case(&who["admin"], &id, Some("cw@euaa.eu"))
                .unwrap();
            app.refer_case(&who["cw"], &id, to_iom).unwrap();
        }
    }

    #[test]
    fn registering_lists_visible_cases_that_may_hold_the_same_person_across_spellings() {
        for (_t, app) in apps() {
            let who = world(&app);
            let first = app
                .add_case(
                    &who["cw"],
                    &programme(),
                    household("Mohammed", "Haidari", "1985-07-01"),
                )
                .unwrap();
            assert!(first.possible_duplicates.is_empty());
            let again = app
                .add_case(
                    &who["cw2"],
                    &programme(),
                    household("Muhammad", "Haydari", "1985-07-01"),
                )
                .unwrap();
            assert!(again.possible_duplicates.contains(&PossibleDuplicate {
                case: first.id.clone(),
                member: 0,
                matched_member: 0
            }));
            assert!(
                again.possible_duplicates.iter().any(|d| d.member == 1),
                "the child, same name and birth date, too"
            );
            let other_day = app
                .add_case(
                    &who["cw"],
                    &programme(),
                    household("Mohammed", "Haidari", "1985-07-02"),
                )
                .unwrap();
            assert!(other_day.possible_duplicates.iter().all(|d| d.member != 0));
            // IOM registers in the same programme: EUAA's cases are not IOM's to see.
            let iom = app
                .add_case(
                    &who["iom"],
                    &programme(),
                    household("Mohamad", "Haidari", "1985-07-01"),
                )
                .unwrap();
            assert!(
                iom.possible_duplicates.is_empty(),
                "{:?}",
                iom.possible_duplicates
            );
            let found = app
                .cases(
                    &who["cw"],
                    &programme(),
                    &CaseQuery {
                        name: Some("Muhamad Haidary".into()),
                        born: Some("1985-07-01".into()),
                        ..Default::default()
                    },
                )
                .unwrap();
            assert_eq!(found.total, 2, "found by name and birth date, only EUAA's");
        }
    }

    #[test]
    fn a_refused_registration_names_field_and_reason_and_stores_nothing() {
        for (_t, app) in apps() {
            let who = world(&app);
            let mut bad = household("Zarifa", "Ahmadi", "2999-01-01");
            bad.needs.push("XX-YY".into());
            let e = app
                .add_case(&who["cw"], &programme(), bad)
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("members[0].birth_date: 2999-01-01 is in the future"),
                "{e}"
            );
            assert!(
                e.contains("needs[1]: \"XX-YY\" is not in UNHCR's specific-needs vocabulary"),
                "{e}"
            );
            let mut linked = household("Zarifa", "Ahmadi", "1990-01-01");
            linked.links.push("nonexistent".into());
            let e = app
                .add_case(&who["cw"], &programme(), linked)
                .unwrap_err()
                .to_string();
            assert!(e.contains("links[0]: no case \"nonexistent\""), "{e}");
            assert_eq!(
                app.cases(&who["cw"], &programme(), &CaseQuery::default())
                    .unwrap()
                    .total,
                0
            );
            assert!(matches!(
                app.add_case(
                    &who["analyst"],
                    &programme(),
                    household("A", "B", "1990-01-01")
                ),
                Err(AppError::Forbidden(_))
            ));
            assert!(matches!(
                app.add_case(
                    &who["bamf"],
                    &programme(),
                    household("A", "B", "1990-01-01")
                ),
                Err(AppError::Forbidden(_))
            ));
        }
    }

    fn pipeline_query(
        app: &App,
        who: &Caller,
        filters: &[(&str, &str)],
        group_by: &[&str],
    ) -> Result<Vec<(Vec<String>, Option<f64>)>> {
        let q = nansen_model::Query {
            filters: filters
                .iter()
                .map(|(d, v)| (d.to_string(), vec![v.to_string()]))
                .collect(),
            group_by: group_by.iter().map(|g| g.to_string()).collect(),
            ..Default::default()
        };
        let t = app.query(who, &"euaa/relocation-pipeline".parse().unwrap(), None, &q)?;
        Ok(t.rows.into_iter().map(|r| (r.key, r.value)).collect())
    }

    #[test]
    fn the_pipeline_is_a_dataset_counted_in_each_change_and_read_by_partners_through_disclosure_control(
    ) {
        for (_t, app) in apps() {
            let who = world(&app);
            let mut ids = Vec::new();
            for i in 0..7 {
                ids.push(
                    app.add_case(
                        &who["cw"],
                        &programme(),
                        household("Zarifa", "Ahmadi", &format!("1990-04-{:02}", i + 1)),
                    )
                    .unwrap()
                    .id,
                );
            }
            for id in &ids[..6] {
                app.move_case(&who["cw"], id, "assessed", None, None)
                    .unwrap();
            }
            app.set_pledge(
                &who["admin"],
                &programme(),
                PledgeInput {
                    languages: Vec::new(),
                    prefers: Vec::new(),
                    excludes: Vec::new(),
                    state: "DEU".into(),
                    places: 500,
                    uam_places: 20,
                    medical_places: 30,
                    starts_on: None,
                    ends_on: None,
                    note: String::new(),
                },
            )
            .unwrap();
            let persons = |who: &Caller| {
                pipeline_query(
                    &app,
                    who,
                    &[("indicator", "persons_entered_stage")],
                    &["stage"],
                )
                .unwrap()
            };
            assert_eq!(
                persons(&who["analyst"]),
                vec![
                    (vec!["assessed".to_string()], Some(12.0)),
                    (vec!["identified".to_string()], Some(14.0))
                ],
                "seven households of two entered, six moved on; the owner's analysts read it"
            );
            let cases = pipeline_query(
                &app,
                &who["admin"],
                &[
                    ("indicator", "cases_entered_stage"),
                    ("stage", "identified"),
                ],
                &["origin"],
            )
            .unwrap();
            assert_eq!(
                cases,
                vec![
                    (vec!["AFG".to_string()], Some(7.0)),
                    (vec!["TOTAL".to_string()], Some(7.0))
                ]
            );
            let unnamed = pipeline_query(
                &app,
                &who["admin"],
                &[("indicator", "persons_entered_stage")],
                &[],
            )
            .unwrap_err()
            .to_string();
            assert!(
                unnamed.contains("stage"),
                "entries into different stages are never added: {unnamed}"
            );
            let pledged = |who: &Caller| {
                let q = nansen_model::Query {
                    filters: vec![("indicator".into(), vec!["pledged_places_uam".into()])],
                    group_by: vec!["geo".into()],
                    ..Default::default()
                };
                let t = app
                    .query(who, &"euaa/relocation-pledges".parse().unwrap(), None, &q)
                    .unwrap();
                t.rows
                    .into_iter()
                    .map(|r| (r.key, r.value))
                    .collect::<Vec<_>>()
            };
            assert_eq!(
                pledged(&who["admin"]),
                vec![
                    (vec!["DEU".to_string()], Some(20.0)),
                    (vec!["TOTAL".to_string()], Some(20.0))
                ]
            );
            assert_eq!(
                pledged(&who["bamf"]),
                pledged(&who["admin"]),
                "a receiving partner reads the pledges"
            );
            // IOM, a partner, reads it disclosure-controlled: the counts below the threshold hidden.
            let partner = pipeline_query(
                &app,
                &who["iom"],
                &[
                    ("indicator", "persons_entered_stage"),
                    ("stage", "identified"),
                ],
                &["sex"],
            )
            .unwrap();
            assert!(
                !partner.is_empty() && partner.iter().all(|(_, v)| v.is_none_or(|v| v >= 5.0)),
                "{partner:?}"
            );
            // An erasure leaves the counts as they were.
            app.erase_case(&who["admin"], &ids[6], "asked").unwrap();
            assert_eq!(persons(&who["admin"])[1].1, Some(14.0));
            assert!(
                !pipeline_query(
                    &app,
                    &who["bamf"],
                    &[
                        ("indicator", "persons_entered_stage"),
                        ("stage", "assessed")
                    ],
                    &["origin"]
                )
                .unwrap()
                .is_empty(),
                "a receiving partner reads it too"
            );
            let outsider = Caller::anonymous();
            assert!(matches!(
                pipeline_query(&app, &outsider, &[], &[]),
                Err(AppError::NotFound(_))
            ));
        }
    }

    #[test]
    fn a_pledge_keeps_its_history_and_only_admins_set_it() {
        for (_t, app) in apps() {
            let who = world(&app);
            let pledge = |places| PledgeInput {
                languages: Vec::new(),
                prefers: Vec::new(),
                excludes: Vec::new(),
                state: "Germany".into(),
                places,
                uam_places: 20,
                medical_places: 30,
                starts_on: None,
                ends_on: None,
                note: "cabinet decision".into(),
            };
            assert!(matches!(
                app.set_pledge(&who["cw"], &programme(), pledge(500)),
                Err(AppError::Forbidden(_))
            ));
            app.set_pledge(&who["admin"], &programme(), pledge(500))
                .unwrap();
            let v = app
                .set_pledge(&who["bamf"], &programme(), pledge(650))
                .unwrap();
            assert_eq!((v.state.as_str(), v.places), ("DEU", 650));
            assert_eq!(
                v.history.iter().map(|h| h.places).collect::<Vec<_>>(),
                vec![500, 650]
            );
            assert!(
                app.set_pledge(&who["admin"], &programme(), pledge(10))
                    .is_err(),
                "sub-quotas within the places"
            );
            let outsider = app.add_org(&Caller::operator(), "unhcr", "UNHCR");
            assert!(outsider.is_ok());
            assert!(matches!(
                app.pledges(&Caller::anonymous(), &programme()),
                Err(AppError::NotFound(_))
            ));
        }
    }

    #[test]
    fn a_returned_households_follow_up_surveys_are_kept_sealed_in_its_process_section() {
        for (_t, app) in apps() {
            let who = world(&app);
            let relocation_case = app
                .add_case(
                    &who["cw"],
                    &programme(),
                    household("Zarifa", "Ahmadi", "1990-04-02"),
                )
                .unwrap()
                .id;
            let survey = |on: &str, economic: f64| FollowUp {
                on: on.into(),
                economic,
                social: 0.5,
                psychosocial: 0.75,
                note: " found work ".into(),
                by: String::new(),
            };
            let refused = app
                .add_follow_up(&who["cw"], &relocation_case, survey("2026-01-05", 0.4))
                .unwrap_err()
                .to_string();
            assert!(refused.contains("for return programmes"), "{refused}");
            let avrr: ProgrammeName = "euaa/return".parse().unwrap();
            app.add_programme(
                &who["admin"],
                NewProgramme {
                    name: avrr.clone(),
                    kind: ProgrammeKind::Return,
                    title: "Return".into(),
                    partners: vec![],
                    receiving: vec![],
                    starts_on: None,
                    ends_on: None,
                    retention_days: None,
                },
            )
            .unwrap();
            let id = app
                .add_case(
                    &who["cw"],
                    &avrr,
                    household("Dawit", "Tesfay", "1988-01-01"),
                )
                .unwrap()
                .id;
            for (bad, field) in [
                (survey("2026-01-05", 1.5), "economic: 1.5 is not a score"),
                (survey("2999-01-01", 0.4), "on: 2999-01-01 is in the future"),
                (survey("5 January", 0.4), "on: \"5 January\" is not a date"),
            ] {
                let e = app
                    .add_follow_up(&who["cw"], &id, bad)
                    .unwrap_err()
                    .to_string();
                assert!(e.contains(field), "{e}");
            }
            assert!(
                app.add_follow_up(&who["analyst"], &id, survey("2026-01-05", 0.4))
                    .is_err(),
                "an analyst records no survey"
            );
            app.add_follow_up(&who["cw"], &id, survey("2026-03-05", 0.6))
                .unwrap();
            let all = app
                .add_follow_up(&who["cw"], &id, survey("2026-01-05", 0.4))
                .unwrap();
            assert_eq!(
                all.iter().map(|f| f.on.as_str()).collect::<Vec<_>>(),
                ["2026-01-05", "2026-03-05"],
                "kept in the order of the interviews"
            );
            let process = app.case(&who["cw"], &id).unwrap().process.unwrap();
            assert_eq!(process.follow_ups[1].economic, 0.6);
            assert_eq!(process.follow_ups[0].note, "found work");
            assert_eq!(process.follow_ups[0].by, "cw@euaa.eu");
            assert!(process.history.iter().any(|e| e.kind == "follow-up"));
        }
    }

    #[test]
    fn the_dashboard_shows_each_states_pledge_beside_its_people_by_stage_and_how_long_cases_wait() {
        for (t, app) in apps() {
            let who = world(&app);
            let pledge = |state: &str, places| PledgeInput {
                languages: Vec::new(),
                prefers: Vec::new(),
                excludes: Vec::new(),
                state: state.into(),
                places,
                uam_places: 0,
                medical_places: 0,
                starts_on: None,
                ends_on: None,
                note: String::new(),
            };
            app.set_pledge(&who["admin"], &programme(), pledge("DEU", 100))
                .unwrap();
            let ids: Vec<String> = ["Zarifa", "Mariam", "Shirin"]
                .iter()
                .map(|n| {
                    app.add_case(
                        &who["cw"],
                        &programme(),
                        household(n, "Ahmadi", "1990-04-02"),
                    )
                    .unwrap()
                    .id
                })
                .collect();
            let refused = app
                .match_case(&who["cw"], &ids[0], Some("FRA"), None)
                .unwrap_err()
                .to_string();
            assert!(
                refused.contains("state: FRA has pledged no places"),
                "{refused}"
            );
            app.match_case(&who["cw"], &ids[0], Some("Germany"), None)
                .unwrap();
            app.move_case(&who["cw"], &ids[0], "assessed", None, None)
                .unwrap();
            app.move_case(&who["cw"], &ids[2], "withdrawn", Some("left Greece"), None)
                .unwrap();
            // Mariam's case has waited 40 days, as the database would say had time passed: in
            // the case and in the waits kept beside it.
            let forty_days_ago = nansen_model::Timestamp::now().plus_seconds(-40 * 86_400);
            t.store
                .query(
                    "UPDATE cases SET stage_since = ? WHERE ref = ?",
                    &[forty_days_ago.into(), ids[1].as_str().into()],
                )
                .unwrap();
            t.store
                .query(
                    "UPDATE stage_waits SET since = ? WHERE stage = 'identified' AND cases = 1",
                    &[forty_days_ago.date().into()],
                )
                .unwrap();
            assert_positions_as_counted(&t.store);

            let d = app.dashboard(&who["analyst"], &programme()).unwrap();
            let at = |s: &str| d.stages.iter().position(|x| x == s).unwrap();
            let deu = &d.states[0];
            assert_eq!(deu.state.as_deref(), Some("DEU"));
            assert_eq!(deu.pledged, Some([100, 0, 0]));
            assert_eq!(deu.now_at[at("assessed")], 2, "Zarifa and her son");
            assert_eq!(deu.reached[at("identified")], 2, "past identified");
            assert_eq!(deu.reached[at("matched")], 0);
            let unmatched = &d.states[1];
            assert_eq!(unmatched.state, None);
            assert_eq!(unmatched.now_at[at("identified")], 2);
            assert_eq!(unmatched.now_at[at("withdrawn")], 2);
            assert_eq!(
                unmatched.reached[at("identified")],
                2,
                "a withdrawn case reaches no stage"
            );
            assert_eq!(d.total.now_at.iter().sum::<i64>(), 6);
            assert_eq!(d.total.pledged, Some([100, 0, 0]));
            let identified = &d.times[at("identified")];
            assert_eq!(
                identified.stays_ended, 2,
                "Zarifa's and Shirin's cases left it"
            );
            assert_eq!(identified.median_days, Some(0));
            assert_eq!(identified.waiting, 1);
            assert_eq!(identified.waiting_longest_days, Some(40));
            assert!(
                d.longest_waiting.is_empty(),
                "an analyst sees figures, not cases"
            );
            let cw = app.dashboard(&who["cw"], &programme()).unwrap();
            assert_eq!(
                cw.longest_waiting.first().map(|c| c.id.as_str()),
                Some(ids[1].as_str()),
                "Mariam's case waits longest; the withdrawn one waits for nothing"
            );
            assert_eq!(cw.longest_waiting.len(), 2);
            let partner = app.dashboard(&who["bamf"], &programme()).unwrap_err();
            assert!(
                matches!(partner, AppError::Forbidden(ref m) if m.contains("relocation-pipeline")),
                "{partner}"
            );
            let deu_cases = app
                .cases(
                    &who["cw"],
                    &programme(),
                    &CaseQuery {
                        state: Some("DEU".into()),
                        ..Default::default()
                    },
                )
                .unwrap();
            assert_eq!(deu_cases.total, 1);
            assert_eq!(deu_cases.cases[0].state.as_deref(), Some("DEU"));

            // Unmatching, erasing and a bulk registration keep the positions as the cases say.
            app.match_case(&who["cw"], &ids[0], None, None).unwrap();
            app.erase_case(&who["admin"], &ids[1], "asked to be forgotten")
                .unwrap();
            let dir = tempfile::tempdir().unwrap();
            let table = dir.path().join("households.csv");
            std::fs::write(
                &table,
                "household,given_name,family_name,birth_date,sex,nationality,relationship\n\
                 h1,Amina,Haddad,1990-04-02,F,SYR,principal\n\
                 h1,Omar,Haddad,2015-02-03,M,SYR,child\n\
                 h2,Yonas,Tesfay,1988-01-01,M,ERI,principal\n",
            )
            .unwrap();
            app.import_cases(&who["cw"], &programme(), &table, None, false, &mut |_| {})
                .unwrap();
            assert_positions_as_counted(&t.store);
            let d = app.dashboard(&who["admin"], &programme()).unwrap();
            assert_eq!(d.states[1].state, None);
            assert_eq!(
                d.states[1].now_at[at("identified")],
                3,
                "Mariam's erased case left, the two imported households came"
            );
            assert_eq!(d.states[1].now_at[at("assessed")], 2, "Zarifa's, unmatched");
            assert_eq!(
                d.states[0].now_at.iter().sum::<i64>(),
                0,
                "none in Germany now"
            );
        }
    }

    /// The positions and waits kept beside the cases are what counting the cases gives.
    fn assert_positions_as_counted(store: &nansen_store::Store) {
        let read = |sql: &str| -> Vec<(String, String, i64, i64)> {
            store
                .query(sql, &[])
                .unwrap()
                .iter()
                .map(|r| {
                    let n = |c: &str| r.get::<Option<i64>>(c).unwrap().unwrap_or(0);
                    (
                        r.get("stage").unwrap(),
                        r.get("place").unwrap(),
                        n("cases"),
                        n("persons"),
                    )
                })
                .collect()
        };
        assert_eq!(
            read("SELECT stage, state AS place, cases, persons FROM stage_positions WHERE cases <> 0 ORDER BY stage, place"),
            read("SELECT stage, COALESCE(state, '') AS place, COUNT(*) AS cases, CAST(SUM(persons) AS BIGINT) AS persons FROM cases WHERE erased_at IS NULL GROUP BY stage, COALESCE(state, '') ORDER BY stage, place"),
        );
        assert_eq!(
            read("SELECT stage, since AS place, cases, NULL AS persons FROM stage_waits WHERE cases <> 0 ORDER BY stage, place"),
            read("SELECT stage, substr(stage_since, 1, 10) AS place, COUNT(*) AS cases, NULL AS persons FROM cases WHERE erased_at IS NULL GROUP BY stage, substr(stage_since, 1, 10) ORDER BY stage, place"),
        );
    }
}

#[cfg(test)]
mod at_rest {
    use crate::test_support::apps;
    use crate::*;
    use nansen_cases::CaseFile;

    /// Every byte of every file under `dir`.
    fn files(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(files(&path));
            } else {
                out.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
        out
    }

    fn holds(bytes: &[u8], needle: &str) -> bool {
        bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
    }

    #[test]
    fn a_name_written_into_a_case_is_nowhere_in_the_database_a_dump_or_the_data_directory() {
        for (t, app) in apps() {
            let op = Caller::operator();
            app.add_org(&op, "euaa", "EUAA").unwrap();
            app.add_programme(
                &op,
                NewProgramme {
                    name: "euaa/relocation".parse().unwrap(),
                    kind: nansen_cases::ProgrammeKind::Relocation,
                    // A canary the scan must find, so that finding nothing means something.
                    title: "Canaryprogrammetitle".into(),
                    partners: vec![],
                    receiving: vec![],
                    starts_on: None,
                    ends_on: None,
                    retention_days: None,
                },
            )
            .unwrap();
            let secrets = [
                "Quetzalwyn",
                "Oxtravelle",
                "1987-11-23",
                "insulinewhisper",
                "P9Q8R7",
            ];
            let file = CaseFile::from_json(&format!(
                r#"{{"members": [{{"given_name": "{}", "family_name": "{}", "birth_date": "{}", "sex": "F", "nationality": "ERI", "relationship": "principal", "documents": [{{"kind": "passport", "number": "{}"}}]}}],
                    "medical": "{}", "needs": ["SV-VA"]}}"#,
                secrets[0], secrets[1], secrets[2], secrets[4], secrets[3]
            ))
            .unwrap();
            let id = app
                .add_case(&op, &"euaa/relocation".parse().unwrap(), file)
                .unwrap()
                .id;
            let id2 = app.add_case(&op, &"euaa/relocation".parse().unwrap(), CaseFile::from_json(r#"{"members": [{"given_name": "A", "family_name": "B", "birth_date": "2000-01-01", "sex": "M", "nationality": "SYR", "relationship": "principal"}]}"#).unwrap()).unwrap().id;
            app.move_case(
                &op,
                &id,
                "withdrawn",
                Some("Quetzalwyn moved to her aunt"),
                None,
            )
            .unwrap();
            // A scan attached under the medical section, its name and content naming her.
            app.attach_case_document(
                &op,
                &id,
                nansen_cases::Section::Medical,
                "Oxtravelle-report.pdf",
                b"%PDF-1.4 Quetzalwyn Oxtravelle insulinewhisper",
            )
            .unwrap();
            let read = app.case(&op, &id).unwrap();
            assert_eq!(
                read.identity.unwrap()[0].given_name,
                secrets[0],
                "readable through Nansen"
            );
            assert_eq!(read.documents[0].file_name, "Oxtravelle-report.pdf");
            let (_, file) = app.case_document(&op, &id, &read.documents[0].id).unwrap();
            assert!(file.bytes.ends_with(b"insulinewhisper"));
            let _ = app
                .cases(
                    &op,
                    &"euaa/relocation".parse().unwrap(),
                    &CaseQuery {
                        name: Some("Quetzalwyn".into()),
                        ..Default::default()
                    },
                )
                .unwrap();
            assert!(!id2.is_empty());
            drop(app);
            let mut everything = files(t.dir.path());
            if let Some(url) = &t.database_url {
                let out = std::process::Command::new("pg_dump")
                    .args(["--dbname", url])
                    .output()
                    .expect("pg_dump runs (PostgreSQL's client tools)");
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                everything.push(("pg_dump".into(), out.stdout));
            }
            assert!(
                everything
                    .iter()
                    .any(|(_, b)| holds(b, "Canaryprogrammetitle")),
                "{}: the scan finds what is stored in clear",
                t.name
            );
            for (path, bytes) in &everything {
                for s in secrets {
                    assert!(
                        !holds(bytes, s),
                        "{}: {s} is readable in {}",
                        t.name,
                        path.display()
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod erasure {
    use crate::test_support::apps;
    use crate::*;
    use nansen_cases::CaseFile;

    fn case(given: &str) -> CaseFile {
        CaseFile::from_json(&format!(r#"{{"members": [{{"given_name": "{given}", "family_name": "Tesfay", "birth_date": "1995-02-03", "sex": "M", "nationality": "ERI", "relationship": "principal"}}], "medical": "{given} needs dialysis"}}"#)).unwrap()
    }

    #[test]
    fn an_erased_case_opens_nowhere_again_not_even_from_a_backup_taken_before() {
        for (t, app) in apps() {
            let op = Caller::operator();
            app.add_org(&op, "euaa", "EUAA").unwrap();
            let name: nansen_model::ProgrammeName = "euaa/resettlement".parse().unwrap();
            app.add_programme(
                &op,
                NewProgramme {
                    name: name.clone(),
                    kind: nansen_cases::ProgrammeKind::Resettlement,
                    title: "Resettlement".into(),
                    partners: vec![],
                    receiving: vec![],
                    starts_on: None,
                    ends_on: None,
                    retention_days: Some(30),
                },
            )
            .unwrap();
            let gone = app.add_case(&op, &name, case("Yonas")).unwrap().id;
            let kept = app.add_case(&op, &name, case("Dawit")).unwrap().id;
            let backups = tempfile::tempdir().unwrap();
            app.backup(&op, &backups.path().join("before")).unwrap();

            assert!(
                app.erase_case(&op, &gone, " ").is_err(),
                "an erasure says why"
            );
            let erased = app.erase_case(&op, &gone, "the person asked").unwrap();
            assert_eq!(
                erased.rewrapped, 1,
                "the other case moved to the new generation"
            );
            let tomb = app.case(&op, &gone).unwrap();
            assert!(
                tomb.erased_at.is_some() && tomb.sections.is_empty() && tomb.identity.is_none()
            );
            assert_eq!(
                app.case(&op, &kept).unwrap().medical.as_deref(),
                Some("Dawit needs dialysis")
            );
            assert!(matches!(
                app.erase_case(&op, &gone, "again"),
                Err(AppError::Conflict(_))
            ));
            assert_eq!(
                app.cases(&op, &name, &CaseQuery::default()).unwrap().total,
                1
            );
            assert!(app
                .audit_log(&op)
                .unwrap()
                .iter()
                .any(|e| e.action == "keys.rotate"));

            // The backup taken before holds the erased case's key, wrapped by a generation the
            // case key file no longer has: restored beside it, the case cannot be opened.
            let target = tempfile::tempdir().unwrap();
            let fresh = nansen_store::testing::fresh_postgres();
            let url = t
                .database_url
                .as_ref()
                .and(fresh.as_ref().map(|d| d.url.clone()));
            if t.database_url.is_some() && url.is_none() {
                continue;
            }
            std::fs::copy(
                t.dir.path().join("case-keys"),
                target.path().join("case-keys"),
            )
            .unwrap();
            App::restore(
                &backups.path().join("before"),
                target.path(),
                url.as_deref(),
                &mut |_| {},
            )
            .unwrap();
            let restored = App::open(target.path(), url.as_deref()).unwrap();
            let e = restored.case(&op, &gone).unwrap_err().to_string();
            assert!(
                e.contains("no longer holds generation 1"),
                "{}: {e}",
                t.name
            );

            // Without its case key file, a database holding case keys does not start.
            let bare = tempfile::tempdir().unwrap();
            let fresh2 = nansen_store::testing::fresh_postgres();
            let url2 = t
                .database_url
                .as_ref()
                .and(fresh2.as_ref().map(|d| d.url.clone()));
            let e = App::restore(
                &backups.path().join("before"),
                bare.path(),
                url2.as_deref(),
                &mut |_| {},
            )
            .map(|_| ())
            .and_then(|_| App::open(bare.path(), url2.as_deref()).map(|_| ()))
            .unwrap_err()
            .to_string();
            assert!(e.contains("no case key file"), "{e}");
        }
    }

    #[test]
    fn the_retention_job_erases_what_left_the_workflow_long_enough_ago_and_rotation_keeps_the_rest()
    {
        for (t, app) in apps() {
            let op = Caller::operator();
            app.add_org(&op, "iom", "IOM").unwrap();
            let name: nansen_model::ProgrammeName = "iom/avrr".parse().unwrap();
            app.add_programme(
                &op,
                NewProgramme {
                    name: name.clone(),
                    kind: nansen_cases::ProgrammeKind::Return,
                    title: "Assisted voluntary return".into(),
                    partners: vec![],
                    receiving: vec![],
                    starts_on: None,
                    ends_on: None,
                    retention_days: Some(30),
                },
            )
            .unwrap();
            let old = app.add_case(&op, &name, case("Yonas")).unwrap().id;
            let recent = app.add_case(&op, &name, case("Dawit")).unwrap().id;
            let open = app.add_case(&op, &name, case("Selam")).unwrap().id;
            for id in [&old, &recent] {
                app.move_case(&op, id, "closed", Some("returned and reintegrated"), None)
                    .unwrap();
            }
            // Closed 40 days ago, as the database would say had time passed.
            t.store
                .query(
                    "UPDATE cases SET stage_since = ? WHERE ref = ?",
                    &[
                        nansen_model::Timestamp::now()
                            .plus_seconds(-40 * 86_400)
                            .into(),
                        old.as_str().into(),
                    ],
                )
                .unwrap();
            assert_eq!(app.run_retention().unwrap(), vec![old.clone()]);
            assert!(app.case(&op, &old).unwrap().erased_at.is_some());
            for id in [&recent, &open] {
                assert!(app.case(&op, id).unwrap().identity.is_some());
            }
            assert!(app.run_retention().unwrap().is_empty(), "once");
            let r = app.rotate_case_keys(&op, &mut |_, _| {}).unwrap();
            assert_eq!((r.rewrapped, r.retired.len()), (2, 1));
            assert_eq!(
                app.case(&op, &open).unwrap().identity.unwrap()[0].given_name,
                "Selam"
            );
            let keys = std::fs::read_to_string(t.dir.path().join("case-keys")).unwrap();
            assert_eq!(
                keys.lines().filter(|l| l.starts_with("generation")).count(),
                1
            );
        }
    }
}

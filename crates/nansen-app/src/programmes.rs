//! Programmes of operations and the places states pledge in them. A programme belongs to an
//! organisation; its partners (implementing and receiving organisations) work in it. Members
//! of those organisations see it; its owner's admins run it; to anyone else it does not exist.

use crate::{App, AppError, Caller, Result};
use nansen_cases::{ProgrammeKind, Workflow};
use nansen_model::{Principal, ProgrammeName, Role, Timestamp};
use nansen_store::{PledgeChange, PledgeRecord, ProgrammeRecord, StoreError};

nansen_model::vocabulary! {
    /// What a partner organisation does in a programme.
    pub enum PartnerPart("a partner's part") {
        /// Registers and runs cases (IOM in a relocation, UNHCR in a resettlement).
        Implementing = "implementing",
        /// Receives people: a Member State's administration.
        Receiving = "receiving",
    }
}

/// A programme as its creator describes it.
#[derive(Clone, Debug)]
pub struct NewProgramme {
    pub name: ProgrammeName,
    pub kind: ProgrammeKind,
    pub title: String,
    /// Organisations that register and run cases.
    pub partners: Vec<String>,
    /// Organisations that receive people.
    pub receiving: Vec<String>,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    /// Days after a case is closed or withdrawn before it is erased.
    pub retention_days: Option<i64>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Partner {
    pub org: String,
    pub part: PartnerPart,
}

/// A programme as a caller sees it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ProgrammeView {
    pub name: ProgrammeName,
    pub kind: ProgrammeKind,
    pub title: String,
    pub partners: Vec<Partner>,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    pub retention_days: Option<i64>,
    pub stages: Workflow,
    pub created_at: Timestamp,
    /// May change its stages, pledges and accept matching proposals.
    pub may_administer: bool,
    /// May register cases in it.
    pub may_register: bool,
}

/// A state's pledge as given or changed.
#[derive(Clone, Debug)]
pub struct PledgeInput {
    /// The receiving state, a country code or name.
    pub state: String,
    pub places: i64,
    pub uam_places: i64,
    pub medical_places: i64,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    /// Languages its services work in (ISO 639 codes), for matching.
    pub languages: Vec<String>,
    /// Nationalities it prefers to receive, and those it does not receive (country codes or
    /// names).
    pub prefers: Vec<String>,
    pub excludes: Vec<String>,
    pub note: String,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct PledgeView {
    pub state: String,
    pub places: i64,
    pub uam_places: i64,
    pub medical_places: i64,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    pub languages: Vec<String>,
    pub prefers: Vec<String>,
    pub excludes: Vec<String>,
    pub updated_at: Timestamp,
    /// Every figure it had, oldest first, with who set it and why.
    pub history: Vec<PledgeChangeView>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct PledgeChangeView {
    pub at: Timestamp,
    pub by: String,
    pub places: i64,
    pub uam_places: i64,
    pub medical_places: i64,
    pub note: String,
}

impl From<PledgeChange> for PledgeChangeView {
    fn from(c: PledgeChange) -> Self {
        PledgeChangeView {
            at: c.at,
            by: c.actor,
            places: c.places,
            uam_places: c.uam_places,
            medical_places: c.medical_places,
            note: c.note,
        }
    }
}

/// What a caller is to a programme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Standing {
    /// An admin of the owner organisation (or the operator).
    pub administers: bool,
    /// An admin or caseworker of the owner or an implementing partner.
    pub registers: bool,
}

/// A date written `YYYY-MM-DD`, or a refusal naming the field.
pub(crate) fn check_date(field: &str, value: &Option<String>) -> Result<()> {
    if let Some(v) = value {
        if nansen_cases::case::parse_date(v).is_none() {
            return Err(AppError::BadRequest(format!(
                "{field}: {v:?} is not a date written YYYY-MM-DD"
            )));
        }
    }
    Ok(())
}

/// The organisations a programme names, with the part each plays (the owner first).
fn parts(p: &ProgrammeRecord) -> impl Iterator<Item = (&str, Option<&str>)> {
    std::iter::once((p.org.as_str(), None)).chain(
        p.partners
            .iter()
            .map(|(o, part)| (o.as_str(), Some(part.as_str()))),
    )
}

impl App {
    /// The programme and what the caller is to it; not found for anyone outside it.
    pub(crate) fn programme_for(
        &self,
        who: &Caller,
        name: &ProgrammeName,
    ) -> Result<(ProgrammeRecord, Standing)> {
        let not_found = || AppError::NotFound(format!("programme {name}"));
        let p = self
            .store
            .programme(&name.org, &name.slug)?
            .ok_or_else(not_found)?;
        let standing = self.standing(who, &p).ok_or_else(not_found)?;
        Ok((p, standing))
    }

    /// What the caller is to a programme; none when they are no member of any of its
    /// organisations.
    pub(crate) fn standing(&self, who: &Caller, p: &ProgrammeRecord) -> Option<Standing> {
        if who.principal == Principal::Operator {
            return Some(Standing {
                administers: true,
                registers: true,
            });
        }
        let mut seen = false;
        let mut standing = Standing {
            administers: false,
            registers: false,
        };
        for (org, part) in parts(p) {
            let Some(role) = who.principal.role_in(org) else {
                continue;
            };
            seen = true;
            let runs_cases = part.is_none() || part == Some(PartnerPart::Implementing.as_str());
            if part.is_none() && role == Role::Admin {
                standing.administers = true;
            }
            if runs_cases && matches!(role, Role::Admin | Role::Caseworker) {
                standing.registers = true;
            }
        }
        seen.then_some(standing)
    }

    fn programme_view(&self, p: ProgrammeRecord, s: Standing) -> ProgrammeView {
        ProgrammeView {
            partners: p
                .partners
                .iter()
                .filter_map(|(org, part)| {
                    Some(Partner {
                        org: org.clone(),
                        part: part.parse().ok()?,
                    })
                })
                .collect(),
            name: ProgrammeName::new(p.org, p.slug),
            kind: p.kind,
            title: p.title,
            starts_on: p.starts_on,
            ends_on: p.ends_on,
            retention_days: p.retention_days,
            stages: p.workflow,
            created_at: p.created_at,
            may_administer: s.administers,
            may_register: s.registers,
        }
    }

    /// Creates a programme with its type's default workflow. Its organisation's admins may.
    pub fn add_programme(&self, who: &Caller, new: NewProgramme) -> Result<ProgrammeView> {
        let name = &new.name;
        let org = self
            .store
            .org(&name.org)?
            .ok_or_else(|| AppError::NotFound(format!("organisation {}", name.org)))?;
        if who.principal.role_in(&org.slug) != Some(Role::Admin) {
            return Err(AppError::Forbidden(format!(
                "only admins of {} may create its programmes",
                org.slug
            )));
        }
        crate::identity::check_slug(&name.slug, "programme slug")?;
        if name.slug.len() + crate::PIPELINE.len() > 64 {
            return Err(AppError::BadRequest(format!(
                "programme slug {:?}: at most {} characters, so its pipeline dataset's name fits",
                name.slug,
                64 - crate::PIPELINE.len()
            )));
        }
        if new.title.trim().is_empty() || new.title.len() > 300 {
            return Err(AppError::BadRequest(
                "title: a programme has a title of at most 300 characters".into(),
            ));
        }
        check_date("starts_on", &new.starts_on)?;
        check_date("ends_on", &new.ends_on)?;
        if new
            .retention_days
            .is_some_and(|d| !(1..=36_500).contains(&d))
        {
            return Err(AppError::BadRequest(
                "retention_days: between 1 and 36500 days".into(),
            ));
        }
        let mut partners = Vec::new();
        for (list, part) in [
            (&new.partners, PartnerPart::Implementing),
            (&new.receiving, PartnerPart::Receiving),
        ] {
            for o in list {
                if self.store.org(o)?.is_none() {
                    return Err(AppError::BadRequest(format!(
                        "no organisation {o} to work with"
                    )));
                }
                if o == &org.slug || partners.iter().any(|(p, _)| p == o) {
                    return Err(AppError::BadRequest(format!(
                        "{o} is named twice among the programme's organisations"
                    )));
                }
                partners.push((o.clone(), part.as_str().to_string()));
            }
        }
        let record = ProgrammeRecord {
            id: 0,
            org_id: org.id,
            org: org.slug.clone(),
            slug: name.slug.clone(),
            kind: new.kind,
            title: new.title.trim().to_string(),
            starts_on: new.starts_on,
            ends_on: new.ends_on,
            retention_days: new.retention_days,
            workflow: Workflow::default_for(new.kind),
            created_by: who.label.clone(),
            created_at: Timestamp::now(),
            partners,
            matching: "{}".into(),
        };
        // Its statistics, as datasets shared with its partners: the pipeline sensitive (read
        // through disclosure control), the pledges not.
        let partners: Vec<String> = record.partners.iter().map(|(o, _)| o.clone()).collect();
        let sharing = if partners.is_empty() {
            nansen_model::Sharing::Private
        } else {
            nansen_model::Sharing::Partners(partners)
        };
        let pipeline = crate::pipeline_dataset(&record);
        let pledges = crate::pledges_dataset(&record);
        let datasets = [
            nansen_store::DatasetRecord {
                sharing: sharing.clone(),
                sensitive: true,
                description: format!(
                    "Persons and cases entering each stage of {name} by month, receiving state, nationality, sex and age band: kept by Nansen from the programme's cases."
                ),
                ..nansen_store::DatasetRecord::new(org.id, &pipeline.slug, &format!("{}: pipeline", record.title))
            },
            nansen_store::DatasetRecord {
                sharing,
                description: format!(
                    "Places pledged in {name} by receiving state and month, of which for unaccompanied children and for medical cases: kept by Nansen from the pledges."
                ),
                ..nansen_store::DatasetRecord::new(org.id, &pledges.slug, &format!("{}: pledges", record.title))
            },
        ];
        self.store
            .write(|tx| {
                tx.insert_programme(&record)?;
                for d in &datasets {
                    tx.insert_dataset(d)?;
                    tx.audit(
                        &who.label,
                        "dataset.create",
                        &format!("{}/{}", name.org, d.slug),
                        &serde_json::json!({ "sharing": d.sharing, "sensitive": d.sensitive })
                            .to_string(),
                    )?;
                }
                tx.audit(
                    &who.label,
                    "programme.add",
                    &name.to_string(),
                    &serde_json::json!({ "type": record.kind, "partners": record.partners })
                        .to_string(),
                )?;
                Ok::<_, StoreError>(())
            })
            .map_err(|e| match &e {
                StoreError::Db(db) if db.is_conflict() => {
                    AppError::Conflict(format!("programme {name} exists already"))
                }
                _ => AppError::Store(e),
            })?;
        self.programme(who, name)
    }

    pub fn programme(&self, who: &Caller, name: &ProgrammeName) -> Result<ProgrammeView> {
        let (p, s) = self.programme_for(who, name)?;
        Ok(self.programme_view(p, s))
    }

    /// The programmes the caller works in.
    pub fn programmes(&self, who: &Caller) -> Result<Vec<ProgrammeView>> {
        Ok(self
            .store
            .programmes()?
            .into_iter()
            .filter_map(|p| {
                let s = self.standing(who, &p)?;
                Some(self.programme_view(p, s))
            })
            .collect())
    }

    /// Replaces a programme's workflow; a stage where cases are cannot go.
    pub fn set_stages(
        &self,
        who: &Caller,
        name: &ProgrammeName,
        workflow: Workflow,
    ) -> Result<ProgrammeView> {
        let (p, s) = self.programme_for(who, name)?;
        if !s.administers {
            return Err(AppError::Forbidden(format!(
                "only admins of {} may change the stages of {name}",
                p.org
            )));
        }
        workflow
            .validate(&self.store.stages_in_use(p.id)?)
            .map_err(AppError::BadRequest)?;
        self.store.write(|tx| {
            tx.set_stages(p.id, &workflow)?;
            tx.audit(
                &who.label,
                "programme.stages",
                &name.to_string(),
                &serde_json::to_string(&workflow).expect("stages serialise"),
            )?;
            Ok::<_, StoreError>(())
        })?;
        self.programme(who, name)
    }

    /// Adds a state's pledge or changes it (its history kept). The programme's admins may,
    /// and the admins of a receiving partner.
    pub fn set_pledge(
        &self,
        who: &Caller,
        name: &ProgrammeName,
        pledge: PledgeInput,
    ) -> Result<PledgeView> {
        let (p, s) = self.programme_for(who, name)?;
        let receiving_admin = p.partners.iter().any(|(org, part)| {
            part == PartnerPart::Receiving.as_str()
                && who.principal.role_in(org) == Some(Role::Admin)
        });
        if !s.administers && !receiving_admin {
            return Err(AppError::Forbidden(format!(
                "only admins of {} or of a receiving partner may record pledges in {name}",
                p.org
            )));
        }
        let state = crate::cases::state_code("state", &pledge.state)?;
        for (field, v) in [
            ("places", pledge.places),
            ("uam_places", pledge.uam_places),
            ("medical_places", pledge.medical_places),
        ] {
            if !(0..=10_000_000).contains(&v) {
                return Err(AppError::BadRequest(format!(
                    "{field}: {v} is not a number of places (0 to 10,000,000)"
                )));
            }
        }
        if pledge.uam_places > pledge.places || pledge.medical_places > pledge.places {
            return Err(AppError::BadRequest(format!(
                "uam_places and medical_places are part of the {} places, so neither is more",
                pledge.places
            )));
        }
        check_date("starts_on", &pledge.starts_on)?;
        check_date("ends_on", &pledge.ends_on)?;
        let mut languages = Vec::new();
        for l in &pledge.languages {
            let l = l.trim().to_lowercase();
            if !(2..=3).contains(&l.len()) || !l.bytes().all(|b| b.is_ascii_lowercase()) {
                return Err(AppError::BadRequest(format!(
                    "languages: {l:?} is not an ISO 639 language code"
                )));
            }
            if !languages.contains(&l) {
                languages.push(l);
            }
        }
        let nationalities = |field: &str, list: &[String]| -> Result<Vec<String>> {
            let mut out: Vec<String> = Vec::new();
            for n in list {
                let code = crate::cases::state_code(field, n)?;
                if !out.contains(&code) {
                    out.push(code);
                }
            }
            Ok(out)
        };
        let prefers = nationalities("prefers", &pledge.prefers)?;
        let excludes = nationalities("excludes", &pledge.excludes)?;
        if let Some(n) = prefers.iter().find(|n| excludes.contains(n)) {
            return Err(AppError::BadRequest(format!(
                "prefers and excludes: {n} is in both"
            )));
        }
        let record = PledgeRecord {
            id: 0,
            state: state.clone(),
            places: pledge.places,
            uam_places: pledge.uam_places,
            medical_places: pledge.medical_places,
            starts_on: pledge.starts_on,
            ends_on: pledge.ends_on,
            languages,
            prefers,
            excludes,
            created_by: who.label.clone(),
            updated_at: Timestamp::now(),
        };
        self.store.write(|tx| {
            tx.set_pledge(p.id, &record, pledge.note.trim())?;
            tx.audit(
                &who.label,
                "pledge.set",
                &format!("{name} {state}"),
                &serde_json::json!({
                    "places": record.places,
                    "uam_places": record.uam_places,
                    "medical_places": record.medical_places,
                    "languages": record.languages,
                    "prefers": record.prefers,
                    "excludes": record.excludes,
                })
                .to_string(),
            )?;
            Ok::<_, StoreError>(())
        })?;
        self.pledges(who, name)?
            .into_iter()
            .find(|v| v.state == state)
            .ok_or_else(|| {
                AppError::Store(StoreError::Corrupt("a pledge just set vanished".into()))
            })
    }

    /// The pledges of a programme, by state, each with its history.
    pub fn pledges(&self, who: &Caller, name: &ProgrammeName) -> Result<Vec<PledgeView>> {
        let (p, _) = self.programme_for(who, name)?;
        self.store
            .pledges(p.id)?
            .into_iter()
            .map(|r| {
                Ok(PledgeView {
                    history: self
                        .store
                        .pledge_changes(r.id)?
                        .into_iter()
                        .map(Into::into)
                        .collect(),
                    state: r.state,
                    places: r.places,
                    uam_places: r.uam_places,
                    medical_places: r.medical_places,
                    starts_on: r.starts_on,
                    ends_on: r.ends_on,
                    languages: r.languages,
                    prefers: r.prefers,
                    excludes: r.excludes,
                    updated_at: r.updated_at,
                })
            })
            .collect()
    }
}

//! `nansen programme`, `nansen pledge`, `nansen case`: the operations, as the caller (`--as`)
//! may run them.

use super::Ctx;
use crate::output::{said, Failure, Outcome, TextFormat};
use anyhow::Context;
use clap::Subcommand;
use nansen_app::{CaseQuery, CaseView, NewProgramme, PledgeInput, ReferralRequest};
use nansen_cases::{CaseFile, Consent, ConsentPurpose, ProgrammeKind, Section, Workflow};
use nansen_model::ProgrammeName;
use std::path::PathBuf;

pub(super) fn programme_name(name: &str) -> Result<ProgrammeName, Failure> {
    name.parse().map_err(said)
}

#[derive(Subcommand)]
pub enum ProgrammeCommand {
    /// Create a programme (admins of its organisation) with its type's default stages.
    Add {
        /// ORG/SLUG
        name: String,
        /// relocation, resettlement, humanitarian-admission, return or family-reunification
        #[arg(long = "type")]
        kind: ProgrammeKind,
        /// What people call it
        #[arg(long)]
        title: String,
        /// An implementing partner: registers and runs cases (repeat for several)
        #[arg(long = "partner")]
        partners: Vec<String>,
        /// A receiving partner: a receiving state's administration (repeat for several)
        #[arg(long)]
        receiving: Vec<String>,
        /// YYYY-MM-DD
        #[arg(long)]
        starts: Option<String>,
        /// YYYY-MM-DD
        #[arg(long)]
        ends: Option<String>,
        /// Days after a case is closed before it is erased
        #[arg(long)]
        retention_days: Option<i64>,
    },
    /// A programme: its type, partners and stages, as JSON.
    Show {
        /// ORG/SLUG
        name: String,
    },
    /// The programmes the caller works in: name, type, title.
    List,
    /// A programme's pipeline: each receiving state's pledge beside the persons now at each
    /// stage, then how long stays in each stage last (its owner and implementing partners).
    Pipeline {
        /// ORG/SLUG
        name: String,
        /// How to print: text for people, json for scripts
        #[arg(long, value_enum, default_value_t = TextFormat::Text)]
        format: TextFormat,
    },
    /// A programme's stages in order (`*` needs a supervisor's approval, `exit` leaves the
    /// workflow); with --file, replace them (its admins).
    Stages {
        /// ORG/SLUG
        name: String,
        /// A JSON list of stages: [{"name": "applied"}, {"name": "decided", "approval": true},
        /// {"name": "closed", "exit": true}]
        #[arg(long)]
        file: Option<PathBuf>,
    },
}

impl ProgrammeCommand {
    pub fn exec(self, ctx: Ctx) -> Outcome {
        let Ctx { app, who, out } = ctx;
        match self {
            ProgrammeCommand::Add {
                name,
                kind,
                title,
                partners,
                receiving,
                starts,
                ends,
                retention_days,
            } => {
                let p = app.add_programme(
                    who,
                    NewProgramme {
                        name: programme_name(&name)?,
                        kind,
                        title,
                        partners,
                        receiving,
                        starts_on: starts,
                        ends_on: ends,
                        retention_days,
                    },
                )?;
                writeln!(out, "{}", p.name)?;
            }
            ProgrammeCommand::Show { name } => {
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&app.programme(who, &programme_name(&name)?)?)?
                )?;
            }
            ProgrammeCommand::List => {
                for p in app.programmes(who)? {
                    writeln!(out, "{}\t{}\t{}", p.name, p.kind, p.title)?;
                }
            }
            ProgrammeCommand::Pipeline { name, format } => {
                let d = app.dashboard(who, &programme_name(&name)?)?;
                match format {
                    TextFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&d)?)?,
                    TextFormat::Text => pipeline(out, &d)?,
                }
            }
            ProgrammeCommand::Stages { name, file } => {
                let name = programme_name(&name)?;
                let p = match file {
                    Some(f) => {
                        let text = std::fs::read_to_string(&f)
                            .with_context(|| format!("cannot read {}", f.display()))?;
                        let workflow: Workflow = serde_json::from_str(&text)
                            .map_err(|e| said(format!("{}: {e}", f.display())))?;
                        app.set_stages(who, &name, workflow)?
                    }
                    None => app.programme(who, &name)?,
                };
                for s in &p.stages.stages {
                    let mark = match (s.approval, s.exit) {
                        (true, _) => "\t* approval",
                        (_, true) => "\texit",
                        _ => "",
                    };
                    writeln!(out, "{}{mark}", s.name)?;
                }
            }
        }
        Ok(())
    }
}

#[derive(Subcommand)]
pub enum PledgeCommand {
    /// Record a receiving state's pledge in a programme, or change it (its history is kept).
    Add {
        /// The programme, ORG/SLUG
        programme: String,
        /// The receiving state: a country code or name
        #[arg(long)]
        state: String,
        /// Places, in persons
        #[arg(long)]
        places: i64,
        /// Of which for unaccompanied children
        #[arg(long, default_value_t = 0)]
        uam_places: i64,
        /// Of which for medical cases
        #[arg(long, default_value_t = 0)]
        medical_places: i64,
        /// From when, YYYY-MM-DD
        #[arg(long)]
        starts: Option<String>,
        /// Until when, YYYY-MM-DD
        #[arg(long)]
        ends: Option<String>,
        /// Languages its services work in, ISO 639 codes separated by commas (matching weighs a shared language)
        #[arg(long, value_delimiter = ',')]
        languages: Vec<String>,
        /// Nationalities it prefers to receive, separated by commas
        #[arg(long, value_delimiter = ',')]
        prefers: Vec<String>,
        /// Nationalities it does not receive, separated by commas (never proposed to it)
        #[arg(long, value_delimiter = ',')]
        excludes: Vec<String>,
        /// Why it was given or changed
        #[arg(long, default_value = "")]
        note: String,
    },
    /// A programme's pledges: state, places, of which unaccompanied children, medical cases.
    List {
        /// The programme, ORG/SLUG
        programme: String,
    },
}

impl PledgeCommand {
    pub fn exec(self, ctx: Ctx) -> Outcome {
        let Ctx { app, who, out } = ctx;
        match self {
            PledgeCommand::Add {
                programme,
                state,
                places,
                uam_places,
                medical_places,
                starts,
                ends,
                languages,
                prefers,
                excludes,
                note,
            } => {
                let p = app.set_pledge(
                    who,
                    &programme_name(&programme)?,
                    PledgeInput {
                        state,
                        places,
                        uam_places,
                        medical_places,
                        starts_on: starts,
                        ends_on: ends,
                        languages,
                        prefers,
                        excludes,
                        note,
                    },
                )?;
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}",
                    p.state, p.places, p.uam_places, p.medical_places
                )?;
            }
            PledgeCommand::List { programme } => {
                for p in app.pledges(who, &programme_name(&programme)?)? {
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}",
                        p.state, p.places, p.uam_places, p.medical_places
                    )?;
                }
            }
        }
        Ok(())
    }
}

#[derive(Subcommand)]
pub enum CaseCommand {
    /// Register a household from a case file (docs/cases.md); prints possible duplicates,
    /// then the new case's id on the last line.
    Add {
        /// The programme, ORG/SLUG
        programme: String,
        /// The case, as JSON
        #[arg(long)]
        file: PathBuf,
    },
    /// Register many households from a CSV or XLSX table, one row per person (docs/cases.md):
    /// all or nothing, each problem named by row and column. Prints the new ids.
    Import {
        /// The programme, ORG/SLUG
        programme: String,
        /// The table
        file: PathBuf,
        /// A TOML file naming the table's header for each column ([columns] given_name = "First name")
        #[arg(long)]
        mapping: Option<PathBuf>,
        /// Keep households with problems out (listed on stderr) and register the rest
        #[arg(long)]
        set_aside: bool,
    },
    /// A case with the sections the caller may see (the read is audited).
    Show {
        /// The case's id
        id: String,
        /// How to print: text for people, json for scripts
        #[arg(long, value_enum, default_value_t = TextFormat::Text)]
        format: TextFormat,
    },
    /// The cases of a programme the caller works on: id, stage, assignee, persons, principal.
    List {
        /// The programme, ORG/SLUG
        programme: String,
        /// Only cases at this stage
        #[arg(long)]
        stage: Option<String>,
        /// An e-mail address
        #[arg(long)]
        assignee: Option<String>,
        /// A category of specific needs (for those who may see needs)
        #[arg(long)]
        needs_category: Option<String>,
        /// A name, found across its spellings
        #[arg(long)]
        name: Option<String>,
        /// A date of birth, YYYY-MM-DD
        #[arg(long)]
        born: Option<String>,
        /// Only cases matched to this receiving state
        #[arg(long)]
        state: Option<String>,
        /// The cases waiting longest in their stage first (withdrawn and closed left out)
        #[arg(long)]
        waiting: bool,
        /// At most this many (up to 500), most recently changed first
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Record a reintegration follow-up survey of a returned household (return programmes):
    /// a score from 0 to 1 on each dimension of IOM's Reintegration Sustainability Survey.
    FollowUp {
        /// The case's id
        id: String,
        /// The day of the interview, YYYY-MM-DD
        #[arg(long)]
        on: String,
        /// The economic dimension's score, 0 to 1
        #[arg(long)]
        economic: f64,
        /// The social dimension's score, 0 to 1
        #[arg(long)]
        social: f64,
        /// The psychosocial dimension's score, 0 to 1
        #[arg(long)]
        psychosocial: f64,
        /// What the interview found
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Attach a document (PDF, JPEG, PNG, DOCX or ODT, up to 20 MB) to a case under a
    /// section: only that section's readers read it. Prints its id.
    Attach {
        /// The case's id
        id: String,
        /// The file
        file: PathBuf,
        /// identity, household, process, needs, medical, best-interests or consent
        #[arg(long)]
        section: Section,
    },
    /// Write a document of a case to a file (the read is audited).
    Document {
        /// The case's id
        id: String,
        /// The document's id
        document: String,
        /// Where to write it
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Match a case by hand to a receiving state with a pledge in its programme, or unmatch
    /// it with --nobody.
    Match {
        /// The case's id
        id: String,
        /// The receiving state, a country code or name
        #[arg(long, required_unless_present = "nobody")]
        state: Option<String>,
        /// Unmatch it
        #[arg(long, conflicts_with = "state")]
        nobody: bool,
    },
    /// Move a case to a stage, as its workflow allows (back, out or from withdrawn: with a note).
    Move {
        /// The case's id
        id: String,
        /// The stage to move it to
        #[arg(long)]
        to: String,
        /// Why: needed to move back, out of the workflow or from withdrawn
        #[arg(long)]
        note: Option<String>,
    },
    /// Assign a case to a caseworker of its organisation, or unassign it with --nobody.
    Assign {
        /// The case's id
        id: String,
        /// The caseworker's e-mail address
        #[arg(long, required_unless_present = "nobody")]
        to: Option<String>,
        /// Unassign it
        #[arg(long, conflicts_with = "to")]
        nobody: bool,
    },
    /// Approve the move a case waits for (supervisors), or turn it down with --refuse.
    Approve {
        /// The case's id
        id: String,
        /// Turn the move down: the case stays where it is
        #[arg(long)]
        refuse: bool,
        /// Why, for the case's history
        #[arg(long)]
        note: Option<String>,
    },
    /// Refer a case to another organisation with the sections named.
    Refer {
        /// The case's id
        id: String,
        /// The receiving organisation
        #[arg(long)]
        to: String,
        /// A section to send (repeat): identity, household, process, needs, medical,
        /// best-interests, consent
        #[arg(long = "section", required = true)]
        sections: Vec<Section>,
        /// Why it is referred
        #[arg(long)]
        reason: String,
        /// Send without the household's consent (supervisors; audited, shown on the case)
        #[arg(long)]
        override_consent: bool,
    },
    /// Referrals sent to or by the caller's organisations: id, case, from, to, status, sections.
    Referrals,
    /// Accept a referral (caseworkers and admins of the receiving organisation).
    Accept {
        /// The referral's id
        id: String,
        /// For the case's history
        #[arg(long)]
        note: Option<String>,
    },
    /// Decline a referral.
    Decline {
        /// The referral's id
        id: String,
        /// Why, for the sender
        #[arg(long)]
        note: Option<String>,
    },
    /// Erase a case (admins of its organisation): its key is destroyed and the case keys
    /// rotated, so nothing of it opens again, backups included; a tombstone and the counts stay.
    Erase {
        /// The case's id
        id: String,
        /// Why (a request of the person, a court order)
        #[arg(long)]
        reason: String,
    },
    /// Record a consent the household gave.
    Consent {
        /// The case's id
        id: String,
        /// referral, submission or reporting
        #[arg(long)]
        purpose: ConsentPurpose,
        /// The organisation (referral) or state (submission) it allows
        #[arg(long)]
        partner: Option<String>,
    },
}

impl CaseCommand {
    pub fn wants_json(&self) -> bool {
        matches!(
            self,
            CaseCommand::Show {
                format: TextFormat::Json,
                ..
            }
        )
    }

    pub fn exec(self, ctx: Ctx) -> Outcome {
        let Ctx { app, who, out } = ctx;
        match self {
            CaseCommand::Add { programme, file } => {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                let case = CaseFile::from_json(&text)
                    .map_err(|p| said(format!("{}: {p}", file.display())))?;
                let registered = app.add_case(who, &programme_name(&programme)?, case)?;
                for d in &registered.possible_duplicates {
                    eprintln!(
                        "member {} may be member {} of case {}",
                        d.member, d.matched_member, d.case
                    );
                }
                writeln!(out, "{}", registered.id)?;
            }
            CaseCommand::Import {
                programme,
                file,
                mapping,
                set_aside,
            } => {
                let mapping = mapping
                    .map(|m| {
                        std::fs::read_to_string(&m)
                            .with_context(|| format!("cannot read {}", m.display()))
                    })
                    .transpose()?;
                let shown = crate::output::Progress::new();
                let imported = app.import_cases(
                    who,
                    &programme_name(&programme)?,
                    &file,
                    mapping.as_deref(),
                    set_aside,
                    &mut |step| match step {
                        nansen_app::ImportStep::Checked(done, total) => {
                            shown.show(&format!("checked {done} of {total} households"), false)
                        }
                        nansen_app::ImportStep::Saving(n) => {
                            shown.show(&format!("saving {n} cases"), true)
                        }
                    },
                )?;
                shown.done();
                for h in &imported.set_aside {
                    eprintln!(
                        "set aside household {}: {}",
                        h.household,
                        h.problems.join("; ")
                    );
                }
                for (household, d) in &imported.possible_duplicates {
                    eprintln!(
                        "household {household}: member {} may be member {} of case {}",
                        d.member, d.matched_member, d.case
                    );
                }
                for id in &imported.registered {
                    writeln!(out, "{id}")?;
                }
                eprintln!(
                    "registered {} cases, set aside {}",
                    imported.registered.len(),
                    imported.set_aside.len()
                );
            }
            CaseCommand::Show { id, format } => {
                let case = app.case(who, &id)?;
                match format {
                    TextFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&case)?)?,
                    TextFormat::Text => show(out, &case)?,
                }
            }
            CaseCommand::List {
                programme,
                stage,
                assignee,
                needs_category,
                name,
                born,
                state,
                waiting,
                limit,
            } => {
                let list = app.cases(
                    who,
                    &programme_name(&programme)?,
                    &CaseQuery {
                        stage,
                        assignee,
                        needs_category,
                        name,
                        born,
                        state,
                        longest_waiting: waiting,
                        limit: Some(limit),
                        offset: None,
                    },
                )?;
                for c in &list.cases {
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}\t{}",
                        c.id,
                        c.stage.as_deref().unwrap_or("-"),
                        c.assignee.as_deref().unwrap_or("-"),
                        c.persons,
                        c.principal.as_deref().unwrap_or("-")
                    )?;
                }
                let more = if list.total_exact { "" } else { "more than " };
                eprintln!("{} of {more}{} cases", list.cases.len(), list.total);
            }
            CaseCommand::Move { id, to, note } => {
                let m = app.move_case(who, &id, &to, note.as_deref(), None)?;
                match m.pending_stage {
                    Some(p) => writeln!(out, "{} waits for a supervisor to approve {p}", m.id)?,
                    None => writeln!(out, "{} is at {}", m.id, m.stage)?,
                }
            }
            CaseCommand::FollowUp {
                id,
                on,
                economic,
                social,
                psychosocial,
                note,
            } => {
                let all = app.add_follow_up(
                    who,
                    &id,
                    nansen_app::FollowUp {
                        on,
                        economic,
                        social,
                        psychosocial,
                        note,
                        by: String::new(),
                    },
                )?;
                writeln!(out, "{id} has {} follow-up surveys", all.len())?;
            }
            CaseCommand::Attach { id, file, section } => {
                let content = std::fs::read(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                let name = file
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let d = app.attach_case_document(who, &id, section, &name, &content)?;
                writeln!(out, "{}", d.id)?;
            }
            CaseCommand::Document {
                id,
                document,
                output,
            } => {
                let (_, f) = app.case_document(who, &id, &document)?;
                std::fs::write(&output, &f.bytes)
                    .with_context(|| format!("cannot write {}", output.display()))?;
                eprintln!(
                    "{} ({} bytes) written to {}",
                    f.file_name,
                    f.bytes.len(),
                    output.display()
                );
            }
            CaseCommand::Match { id, state, nobody } => {
                let state = if nobody { None } else { state };
                app.match_case(who, &id, state.as_deref(), None)?;
            }
            CaseCommand::Assign { id, to, nobody } => {
                let target = if nobody { None } else { to };
                app.assign_case(who, &id, target.as_deref())?;
            }
            CaseCommand::Approve { id, refuse, note } => {
                let m = app.approve_move(who, &id, refuse, note.as_deref())?;
                writeln!(out, "{} is at {}", m.id, m.stage)?;
            }
            CaseCommand::Refer {
                id,
                to,
                sections,
                reason,
                override_consent,
            } => {
                let r = app.refer_case(
                    who,
                    &id,
                    ReferralRequest {
                        to,
                        sections,
                        reason,
                        override_consent,
                    },
                )?;
                writeln!(out, "{}", r.id)?;
            }
            CaseCommand::Referrals => {
                for r in app.referrals(who)? {
                    let sections: Vec<&str> = r.sections.iter().map(|s| s.as_str()).collect();
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}\t{}\t{}",
                        r.id,
                        r.case,
                        r.from,
                        r.to,
                        r.status,
                        sections.join(",")
                    )?;
                }
            }
            CaseCommand::Accept { id, note } => {
                app.decide_referral(who, &id, true, note.as_deref())?;
            }
            CaseCommand::Decline { id, note } => {
                app.decide_referral(who, &id, false, note.as_deref())?;
            }
            CaseCommand::Erase { id, reason } => {
                let e = app.erase_case(who, &id, &reason)?;
                writeln!(
                    out,
                    "{} erased; {} other case keys moved to a new generation",
                    e.id, e.rewrapped
                )?;
            }
            CaseCommand::Consent {
                id,
                purpose,
                partner,
            } => {
                app.add_consent(who, &id, Consent { purpose, partner })?;
            }
        }
        Ok(())
    }
}

/// A case for people: each section the caller sees, in order.
fn show(out: &mut dyn std::io::Write, c: &CaseView) -> Outcome {
    writeln!(
        out,
        "case {}\t{}\t{}\tpersons {}\trevision {}",
        c.id, c.programme, c.org, c.persons, c.revision
    )?;
    let names: Vec<&str> = c.sections.iter().map(|s| s.as_str()).collect();
    writeln!(out, "sections: {}", names.join(", "))?;
    if let Some(members) = &c.identity {
        writeln!(out, "identity:")?;
        for (i, m) in members.iter().enumerate() {
            writeln!(
                out,
                "  {i}\t{} {}\t{}{}\t{}\t{}",
                m.given_name,
                m.family_name,
                m.birth_date,
                if m.birth_date_estimated {
                    " (estimated)"
                } else {
                    ""
                },
                m.sex,
                m.nationality
            )?;
        }
    }
    if let Some(h) = &c.household {
        writeln!(out, "household:")?;
        for (i, m) in h.members.iter().enumerate() {
            writeln!(out, "  {i}\t{}\t{}", m.relationship, m.languages.join(","))?;
        }
        for f in &h.family_abroad {
            writeln!(out, "  family in {}: {}", f.state, f.relationship)?;
        }
        if !h.preferred_states.is_empty() {
            writeln!(out, "  would go to {}", h.preferred_states.join(", "))?;
        }
    }
    if let Some(p) = &c.process {
        writeln!(
            out,
            "process: at {} since {}{}; assignee {}",
            p.stage,
            p.stage_since.to_minute(),
            p.pending_stage
                .as_ref()
                .map(|s| format!(", waiting for approval of {s}"))
                .unwrap_or_default(),
            p.assignee.as_deref().unwrap_or("none")
        )?;
        if let Some(state) = &p.state {
            writeln!(out, "  matched to {state}")?;
        }
        for f in &p.follow_ups {
            writeln!(
                out,
                "  follow-up {}: economic {}, social {}, psychosocial {}{}",
                f.on,
                f.economic,
                f.social,
                f.psychosocial,
                if f.note.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", f.note)
                }
            )?;
        }
        for d in &c.documents {
            writeln!(
                out,
                "  document {} ({}): {} {} bytes",
                d.id, d.section, d.file_name, d.bytes
            )?;
        }
        for e in &p.history {
            writeln!(
                out,
                "  {}\t{}\t{}\t{}\t{}",
                e.at.to_minute(),
                e.by,
                e.kind,
                e.to.as_deref().unwrap_or(""),
                e.note.as_deref().unwrap_or("")
            )?;
        }
        for r in &p.referrals {
            writeln!(
                out,
                "  referral {} to {}: {}{}",
                r.id,
                r.to,
                r.status,
                if r.consent_overridden {
                    " (without consent, on a supervisor's authority)"
                } else {
                    ""
                }
            )?;
        }
    }
    if let Some(needs) = &c.needs {
        writeln!(out, "needs:")?;
        for n in needs {
            writeln!(out, "  {}\t{}\t{}", n.code, n.label, n.category)?;
        }
    }
    if let Some(m) = &c.medical {
        writeln!(out, "medical: {m}")?;
    }
    if let Some(b) = &c.best_interests {
        writeln!(out, "best interests: {b}")?;
    }
    if let Some(consents) = &c.consent {
        writeln!(out, "consent:")?;
        for k in consents {
            writeln!(
                out,
                "  {}\t{}",
                k.purpose,
                k.partner.as_deref().unwrap_or("")
            )?;
        }
    }
    Ok(())
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Move every case key to a new generation of the case key file and destroy the old ones
    /// (platform operators). Safe to stop and run again.
    Rotate,
}

impl KeysCommand {
    pub fn exec(self, ctx: Ctx) -> Outcome {
        let Ctx { app, who, out } = ctx;
        match self {
            KeysCommand::Rotate => {
                let shown = crate::output::Progress::new();
                let r = app.rotate_case_keys(who, &mut |done, total| {
                    shown.show(&format!("rewrapped {done} of {total} case keys"), false)
                })?;
                shown.done();
                let retired: Vec<String> = r.retired.iter().map(i64::to_string).collect();
                writeln!(
                    out,
                    "case keys at generation {}: {} rewrapped, generation {} destroyed",
                    r.generation,
                    r.rewrapped,
                    retired.join(", ")
                )?;
            }
        }
        Ok(())
    }
}

/// The pipeline as two tables: persons by state and stage, then the time spent in each stage.
fn pipeline(out: &mut dyn std::io::Write, d: &nansen_app::Dashboard) -> anyhow::Result<()> {
    writeln!(out, "state\tpledged\t{}", d.stages.join("\t"))?;
    for r in d.states.iter().chain(std::iter::once(&d.total)) {
        let name = match (&r.state, std::ptr::eq(r, &d.total)) {
            (_, true) => "all",
            (Some(s), _) => s.as_str(),
            (None, _) => "not matched",
        };
        let pledged = r.pledged.map(|p| p[0].to_string()).unwrap_or("-".into());
        let counts: Vec<String> = r.now_at.iter().map(i64::to_string).collect();
        writeln!(out, "{name}\t{pledged}\t{}", counts.join("\t"))?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "stage\tstays ended\tmedian days\twaiting\tlongest wait (days)"
    )?;
    let days = |d: Option<i64>| d.map(|d| d.to_string()).unwrap_or("-".into());
    for t in &d.times {
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}",
            t.stage,
            t.stays_ended,
            days(t.median_days),
            t.waiting,
            days(t.waiting_longest_days)
        )?;
    }
    Ok(())
}

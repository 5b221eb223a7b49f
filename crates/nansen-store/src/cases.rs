//! Programmes, pledges, cases and referrals. A case's personal and protection data enters
//! and leaves this module in plain form and is stored only sealed with the case's own key
//! (see `case_keys.rs`); so are the notes of its history and the reasons of its referrals.

use crate::case_keys::CaseKey;
use crate::{now, DbError, Result, Row, Store, StoreError, Tx, Value};
use nansen_cases::{ProgrammeKind, ReferralStatus, Section, Workflow};
use nansen_model::Timestamp;

/// A new opaque reference for a case or a referral: 16 characters of Crockford's base32 from
/// 80 random bits, which say nothing of the record.
pub fn new_reference() -> String {
    use rand::RngCore;
    const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
    let mut bytes = [0u8; 10];
    rand::thread_rng().fill_bytes(&mut bytes);
    let mut bits: u128 = 0;
    for b in bytes {
        bits = (bits << 8) | b as u128;
    }
    (0..16)
        .rev()
        .map(|i| ALPHABET[((bits >> (i * 5)) & 31) as usize] as char)
        .collect()
}

#[derive(Clone, Debug)]
pub struct ProgrammeRecord {
    pub id: i64,
    pub org_id: i64,
    pub org: String,
    pub slug: String,
    pub kind: ProgrammeKind,
    pub title: String,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    /// Days after a case closes before the retention job erases it.
    pub retention_days: Option<i64>,
    pub workflow: Workflow,
    pub created_by: String,
    pub created_at: Timestamp,
    /// Partner organisations by slug, with their part (`implementing`, `receiving`).
    pub partners: Vec<(String, String)>,
    /// Its matching settings, as the app writes them (JSON).
    pub matching: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PledgeRecord {
    pub id: i64,
    pub state: String,
    pub places: i64,
    pub uam_places: i64,
    pub medical_places: i64,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    /// What the state states for matching: languages its services work in, nationalities it
    /// prefers to receive and those it does not receive.
    pub languages: Vec<String>,
    pub prefers: Vec<String>,
    pub excludes: Vec<String>,
    pub created_by: String,
    pub updated_at: Timestamp,
}

/// A pledge's figures at one moment of its history.
#[derive(Clone, Debug, PartialEq)]
pub struct PledgeChange {
    pub at: Timestamp,
    pub actor: String,
    pub places: i64,
    pub uam_places: i64,
    pub medical_places: i64,
    pub note: String,
}

#[derive(Clone, Debug)]
pub struct CaseRecord {
    pub id: i64,
    /// The id people and the API use.
    pub reference: String,
    pub programme_id: i64,
    pub org_id: i64,
    pub org: String,
    pub stage: String,
    pub stage_since: Timestamp,
    /// A move waiting for a supervisor's approval.
    pub pending_stage: Option<String>,
    pub assignee_id: Option<i64>,
    pub assignee: Option<String>,
    /// Goes up with every change, so two changes made from the same view cannot both land.
    pub revision: i64,
    pub persons: i64,
    /// The receiving state the case is matched to, once it is.
    pub state: Option<String>,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub erased_at: Option<Timestamp>,
}

/// What a new case is stored with.
pub struct NewCase<'a> {
    pub programme_id: i64,
    pub org_id: i64,
    pub stage: &'a str,
    pub persons: i64,
    pub created_by: &'a str,
    /// Each section's content, in plain form; sealed here.
    pub sections: &'a [(Section, Vec<u8>)],
    /// `(member, token)`: what finding the case by a person's name or birth date looks for.
    pub index: &'a [(i64, String)],
    /// What the pipeline counts of each person; no name, no date.
    pub people: &'a [Person],
    /// Cases of the same programme it travels with.
    pub links: &'a [i64],
}

/// A person as the pipeline counts them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    pub member: i64,
    pub nationality: String,
    /// `F`, `M` or `UNK`.
    pub sex: String,
    pub age_band: String,
    /// The household's principal applicant: a case is counted with them.
    pub principal: bool,
}

/// People entering stages, grouped by the pipeline's cell first: a statement may not change
/// the same row twice.
type PipelineCell = (i64, String, String, String, String, String);

#[derive(Default)]
struct Entries {
    /// `(programme, stage, geo, origin, sex, age)` to `(persons, cases)`.
    cells: std::collections::BTreeMap<PipelineCell, (i64, i64)>,
    programmes: std::collections::BTreeSet<i64>,
}

impl Entries {
    fn add(&mut self, programme_id: i64, stage: &str, state: Option<&str>, people: &[Person]) {
        let geo = state.unwrap_or(NO_STATE_YET);
        for p in people {
            let cell = self
                .cells
                .entry((
                    programme_id,
                    stage.to_string(),
                    geo.to_string(),
                    p.nationality.clone(),
                    p.sex.clone(),
                    p.age_band.clone(),
                ))
                .or_default();
            cell.0 += 1;
            cell.1 += i64::from(p.principal);
        }
        self.programmes.insert(programme_id);
    }
}

/// A person of the index: `(case id, member, every hash indexed for them)`.
pub type PersonIndexed = (i64, i64, Vec<String>);

/// Cases arriving at and leaving their places: by programme, stage and receiving state ('' while
/// not matched) as `(cases, persons)`, and by programme, stage and the day they entered it.
#[derive(Default)]
struct Positions {
    at: std::collections::BTreeMap<(i64, String, String), (i64, i64)>,
    since: std::collections::BTreeMap<(i64, String, String), i64>,
}

impl Positions {
    fn enter(
        &mut self,
        programme_id: i64,
        stage: &str,
        state: Option<&str>,
        since: Timestamp,
        persons: i64,
    ) {
        self.shift(programme_id, stage, state, since, persons, 1);
    }

    fn leave(
        &mut self,
        programme_id: i64,
        stage: &str,
        state: Option<&str>,
        since: Timestamp,
        persons: i64,
    ) {
        self.shift(programme_id, stage, state, since, persons, -1);
    }

    fn shift(
        &mut self,
        programme_id: i64,
        stage: &str,
        state: Option<&str>,
        since: Timestamp,
        persons: i64,
        by: i64,
    ) {
        let at = self
            .at
            .entry((
                programme_id,
                stage.to_string(),
                state.unwrap_or("").to_string(),
            ))
            .or_default();
        at.0 += by;
        at.1 += by * persons;
        *self
            .since
            .entry((programme_id, stage.to_string(), since.date()))
            .or_default() += by;
    }
}

/// Entries into a stage in a month, by receiving state, nationality, sex and age band.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PipelineCount {
    pub month: String,
    pub stage: String,
    pub geo: String,
    pub origin: String,
    pub sex: String,
    pub age: String,
    pub persons: i64,
    pub cases: i64,
}

/// A document attached to a case, as listed (its content is read apart).
#[derive(Clone, Debug, PartialEq)]
pub struct CaseDocument {
    pub reference: String,
    /// The section whose readers may read it.
    pub section: Section,
    pub name: String,
    pub media_type: String,
    pub bytes: i64,
    pub added_by: String,
    pub added_at: Timestamp,
}

/// How many cases and people are at a stage for a receiving state (none before matching).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StagePosition {
    pub state: Option<String>,
    pub stage: String,
    pub cases: i64,
    pub persons: i64,
}

/// An organisation that accepted a case's referral, with the sections sent to it.
pub type Referred = (String, Vec<Section>);

/// How far a list's count of the cases a filter selects goes.
pub const MAX_COUNTED: i64 = 10_000;

/// Where a case is counted before a receiving state is known: ISO's code for "unknown".
pub const NO_STATE_YET: &str = "XXX";

/// One entry of a case's history, its note opened.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseEvent {
    pub at: Timestamp,
    pub actor: String,
    /// `registered`, `moved`, `move-requested`, `move-approved`, `assigned`, `consent`,
    /// `referred`, `referral-accepted`, `referral-declined`, `erased`.
    pub kind: String,
    pub from_stage: Option<String>,
    pub to_stage: Option<String>,
    pub note: Option<String>,
}

#[derive(Clone, Debug)]
pub struct ReferralRecord {
    pub id: i64,
    pub reference: String,
    pub case_id: i64,
    pub case_reference: String,
    pub from_org: String,
    pub to_org: String,
    pub sections: Vec<Section>,
    pub consent_overridden: bool,
    pub status: ReferralStatus,
    pub created_by: String,
    pub created_at: Timestamp,
    pub decided_by: Option<String>,
    pub decided_at: Option<Timestamp>,
}

/// Which cases a list shows.
#[derive(Clone, Debug, Default)]
pub struct CaseFilter {
    pub programme_id: i64,
    /// Cases of these organisations...
    pub orgs: Vec<i64>,
    /// ... and cases whose referral these organisations accepted.
    pub referred_to: Vec<i64>,
    pub stage: Option<String>,
    pub assignee_id: Option<i64>,
    /// Cases matched to this receiving state.
    pub state: Option<String>,
    /// The longest in their stage first, instead of the last changed first.
    pub longest_waiting: bool,
    /// Cases at none of these stages.
    pub not_stages: Vec<String>,
    /// Index tokens every case listed must hold (a needs category, a name, a birth date), the
    /// one fewest cases hold first.
    pub tokens: Vec<String>,
    pub limit: i64,
    pub offset: i64,
}

const PROGRAMME_COLUMNS: &str = "p.id, p.org_id, o.slug AS org, p.slug, p.kind, p.title, p.starts_on, p.ends_on, p.retention_days, p.stages, p.created_by, p.created_at, p.matching";
const CASE_COLUMNS: &str = "c.id, c.ref, c.programme_id, c.org_id, o.slug AS org, c.stage, c.stage_since, c.pending_stage, c.assignee_id, u.email AS assignee, c.revision, c.persons, c.state, c.created_by, c.created_at, c.updated_at, c.erased_at";
/// What a case's row is read with, after `cases c`.
macro_rules! case_joins {
    () => {
        "JOIN orgs o ON o.id = c.org_id LEFT JOIN users u ON u.id = c.assignee_id"
    };
}
const CASE_JOINS: &str = case_joins!();
const CASE_FROM: &str = concat!("FROM cases c ", case_joins!());
const REFERRAL_SELECT: &str = "SELECT r.id, r.ref, r.case_id, c.ref AS case_ref, fo.slug AS from_org, t.slug AS to_org, r.sections, r.consent_overridden, r.status, r.created_by, r.created_at, r.decided_by, r.decided_at \
     FROM referrals r JOIN cases c ON c.id = r.case_id JOIN orgs fo ON fo.id = r.from_org_id JOIN orgs t ON t.id = r.to_org_id";

fn corrupt(what: String) -> StoreError {
    StoreError::Corrupt(what)
}

/// A list kept as comma-separated words.
fn list(joined: String) -> Vec<String> {
    joined
        .split(',')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

fn programme_from(r: &Row) -> Result<ProgrammeRecord> {
    let id: i64 = r.get("id")?;
    let stages: String = r.get("stages")?;
    Ok(ProgrammeRecord {
        id,
        org_id: r.get("org_id")?,
        org: r.get("org")?,
        slug: r.get("slug")?,
        kind: r.word("kind")?,
        title: r.get("title")?,
        starts_on: r.get("starts_on")?,
        ends_on: r.get("ends_on")?,
        retention_days: r.get("retention_days")?,
        workflow: serde_json::from_str(&stages)
            .map_err(|e| corrupt(format!("programme {id}: its stages: {e}")))?,
        created_by: r.get("created_by")?,
        created_at: r.get("created_at")?,
        partners: Vec::new(),
        matching: r.get("matching")?,
    })
}

fn case_from(r: &Row) -> Result<CaseRecord, DbError> {
    Ok(CaseRecord {
        id: r.get("id")?,
        reference: r.get("ref")?,
        programme_id: r.get("programme_id")?,
        org_id: r.get("org_id")?,
        org: r.get("org")?,
        stage: r.get("stage")?,
        stage_since: r.get("stage_since")?,
        pending_stage: r.get("pending_stage")?,
        assignee_id: r.get("assignee_id")?,
        assignee: r.get("assignee")?,
        revision: r.get("revision")?,
        persons: r.get("persons")?,
        state: r.get("state")?,
        created_by: r.get("created_by")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
        erased_at: r.get("erased_at")?,
    })
}

fn sections_from(text: &str) -> Result<Vec<Section>> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .map_err(|e: String| corrupt(format!("referral sections: {e}")))
        })
        .collect()
}

fn referral_from(r: &Row) -> Result<ReferralRecord> {
    Ok(ReferralRecord {
        id: r.get("id")?,
        reference: r.get("ref")?,
        case_id: r.get("case_id")?,
        case_reference: r.get("case_ref")?,
        from_org: r.get("from_org")?,
        to_org: r.get("to_org")?,
        sections: sections_from(&r.get::<String>("sections")?)?,
        consent_overridden: r.get("consent_overridden")?,
        status: r.word("status")?,
        created_by: r.get("created_by")?,
        created_at: r.get("created_at")?,
        decided_by: r.get("decided_by")?,
        decided_at: r.get("decided_at")?,
    })
}

/// What a sealed piece of a case is bound to.
pub(crate) fn sealed_as(case: &str, what: &str) -> String {
    format!("case {case} {what}")
}

impl Tx<'_> {
    pub fn insert_programme(&mut self, p: &ProgrammeRecord) -> Result<i64> {
        let stages = serde_json::to_string(&p.workflow).expect("stages serialise");
        let r = self.conn.query(
            "INSERT INTO programmes (org_id, slug, kind, title, starts_on, ends_on, retention_days, stages, created_by, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            &[
                p.org_id.into(),
                (&p.slug).into(),
                p.kind.as_str().into(),
                (&p.title).into(),
                p.starts_on.clone().into(),
                p.ends_on.clone().into(),
                p.retention_days.into(),
                stages.into(),
                (&p.created_by).into(),
                p.created_at.into(),
            ],
        )?;
        let id: i64 = r[0].get("id")?;
        for (org, part) in &p.partners {
            self.conn.execute(
                "INSERT INTO programme_partners (programme_id, org_id, part) SELECT ?, id, ? FROM orgs WHERE slug = ?",
                &[id.into(), part.into(), org.into()],
            )?;
        }
        Ok(id)
    }

    pub fn set_stages(&mut self, programme_id: i64, workflow: &Workflow) -> Result<()> {
        self.conn.execute(
            "UPDATE programmes SET stages = ? WHERE id = ?",
            &[
                serde_json::to_string(workflow)
                    .expect("stages serialise")
                    .into(),
                programme_id.into(),
            ],
        )?;
        Ok(())
    }

    /// Adds a state's pledge or changes it, keeping its history.
    pub fn set_pledge(&mut self, programme_id: i64, p: &PledgeRecord, note: &str) -> Result<i64> {
        let at = now();
        let existing = self.conn.query_one(
            "SELECT id FROM pledges WHERE programme_id = ? AND state = ?",
            &[programme_id.into(), (&p.state).into()],
        )?;
        let id = match existing {
            Some(r) => {
                let id: i64 = r.get("id")?;
                self.conn.execute(
                    "UPDATE pledges SET places = ?, uam_places = ?, medical_places = ?, starts_on = ?, ends_on = ?, languages = ?, prefers = ?, excludes = ?, updated_at = ? WHERE id = ?",
                    &[p.places.into(), p.uam_places.into(), p.medical_places.into(), p.starts_on.clone().into(), p.ends_on.clone().into(), p.languages.join(",").into(), p.prefers.join(",").into(), p.excludes.join(",").into(), at.into(), id.into()],
                )?;
                id
            }
            None => self.conn.query(
                "INSERT INTO pledges (programme_id, state, places, uam_places, medical_places, starts_on, ends_on, languages, prefers, excludes, created_by, created_at, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                &[programme_id.into(), (&p.state).into(), p.places.into(), p.uam_places.into(), p.medical_places.into(), p.starts_on.clone().into(), p.ends_on.clone().into(), p.languages.join(",").into(), p.prefers.join(",").into(), p.excludes.join(",").into(), (&p.created_by).into(), at.into(), at.into()],
            )?[0]
                .get("id")?,
        };
        self.conn.execute(
            "INSERT INTO pledge_changes (pledge_id, at, actor, places, uam_places, medical_places, note) VALUES (?, ?, ?, ?, ?, ?, ?)",
            &[id.into(), at.into(), (&p.created_by).into(), p.places.into(), p.uam_places.into(), p.medical_places.into(), note.into()],
        )?;
        self.pipeline_changed(programme_id)?;
        Ok(id)
    }

    /// Registers cases, each with its key, sections, index, people, links, first event and
    /// pipeline entry, in multi-row statements: a bulk registration costs a few round trips
    /// per hundred cases rather than a dozen per case. Answers `(id, reference)` in order.
    pub fn insert_cases(&mut self, cases: &[NewCase]) -> Result<Vec<(i64, String)>> {
        let at = now();
        let references: Vec<String> = cases.iter().map(|_| new_reference()).collect();
        let mut ids: std::collections::HashMap<String, i64> = Default::default();
        for (batch, refs) in cases.chunks(100).zip(references.chunks(100)) {
            let one = "(?, ?, ?, ?, ?, ?, ?, ?, ?)";
            let sql = format!(
                "INSERT INTO cases (ref, programme_id, org_id, stage, stage_since, persons, created_by, created_at, updated_at) \
                 VALUES {} RETURNING id, ref",
                vec![one; batch.len()].join(", ")
            );
            let params: Vec<Value> = batch
                .iter()
                .zip(refs)
                .flat_map(|(c, r)| -> [Value; 9] {
                    [
                        r.into(),
                        c.programme_id.into(),
                        c.org_id.into(),
                        c.stage.into(),
                        at.into(),
                        c.persons.into(),
                        c.created_by.into(),
                        at.into(),
                        at.into(),
                    ]
                })
                .collect();
            for r in self.conn.query(&sql, &params)? {
                ids.insert(r.get("ref")?, r.get("id")?);
            }
        }
        let stored: Vec<(i64, String)> = references
            .into_iter()
            .map(|r| {
                Ok((
                    *ids.get(&r)
                        .ok_or_else(|| corrupt(format!("case {r} was not stored")))?,
                    r,
                ))
            })
            .collect::<Result<_>>()?;
        let (mut keys, mut sections, mut index, mut people, mut links, mut events) =
            (vec![], vec![], vec![], vec![], vec![], vec![]);
        let mut entries = Entries::default();
        let mut positions = Positions::default();
        let generation = self.wrapping_generation()?;
        for (c, (id, reference)) in cases.iter().zip(&stored) {
            let id = *id;
            let key = CaseKey::new();
            let wrapped = self.wrap_case_key(generation, &key, reference)?;
            keys.push(vec![id.into(), generation.into(), wrapped.into()]);
            for (section, plain) in c.sections {
                let sealed = key.seal(&sealed_as(reference, section.as_str()), plain);
                sections.push(vec![id.into(), section.as_str().into(), sealed.into()]);
            }
            for (member, token) in c.index {
                index.push(vec![
                    id.into(),
                    (*member).into(),
                    self.case_keys.index(token).into(),
                ]);
            }
            for p in c.people {
                people.push(vec![
                    id.into(),
                    p.member.into(),
                    (&p.nationality).into(),
                    (&p.sex).into(),
                    (&p.age_band).into(),
                    p.principal.into(),
                ]);
            }
            entries.add(c.programme_id, c.stage, None, c.people);
            positions.enter(c.programme_id, c.stage, None, at, c.persons);
            for linked in c.links {
                links.push(vec![id.into(), (*linked).into()]);
                links.push(vec![(*linked).into(), id.into()]);
            }
            let none: Option<&str> = None;
            events.push(vec![
                id.into(),
                at.into(),
                c.created_by.into(),
                "registered".into(),
                none.into(),
                c.stage.into(),
                none.into(),
            ]);
        }
        self.insert_rows("case_keys (case_id, generation, wrapped)", keys)?;
        self.insert_rows("case_sections (case_id, section, sealed)", sections)?;
        self.insert_rows("case_index (case_id, member, hash)", index)?;
        self.insert_rows(
            "case_people (case_id, member, nationality, sex, age_band, principal)",
            people,
        )?;
        self.insert_rows("case_links (case_id, linked_id)", links)?;
        self.insert_rows(
            "case_events (case_id, at, actor, kind, from_stage, to_stage, note)",
            events,
        )?;
        self.count_entries(entries)?;
        self.shift_positions(positions)?;
        Ok(stored)
    }

    /// Inserts rows into `table (columns)` in statements of up to 2,000 values: one round trip
    /// for what would be hundreds.
    pub(crate) fn insert_rows(&mut self, table: &str, rows: Vec<Vec<Value>>) -> Result<()> {
        self.insert_rows_then(table, &rows, "")
    }

    /// As [`Tx::insert_rows`], each statement ending with `then` (an `ON CONFLICT` clause).
    fn insert_rows_then(&mut self, table: &str, rows: &[Vec<Value>], then: &str) -> Result<()> {
        let Some(width) = rows.first().map(Vec::len) else {
            return Ok(());
        };
        let one = format!("({})", vec!["?"; width].join(", "));
        for batch in rows.chunks((2000 / width).max(1)) {
            let sql = format!(
                "INSERT INTO {table} VALUES {}{then}",
                vec![one.as_str(); batch.len()].join(", ")
            );
            let params: Vec<Value> = batch.iter().flatten().cloned().collect();
            self.conn.execute(&sql, &params)?;
        }
        Ok(())
    }

    /// The generation new case keys are wrapped by: the one a rotation moved to, read under a
    /// lock the rotation's switch waits for, so no key is wrapped by a generation being retired.
    fn wrapping_generation(&mut self) -> Result<i64> {
        let lock = if self.conn.dialect() == crate::Dialect::Postgres {
            " FOR SHARE"
        } else {
            ""
        };
        self.conn
            .query_one(
                &format!("SELECT generation FROM case_key_state WHERE id = 1{lock}"),
                &[],
            )?
            .ok_or_else(|| corrupt("case_key_state has no row".into()))?
            .get("generation")
            .map_err(Into::into)
    }

    /// Wraps a new case key by `generation`, reading the key file again when this process
    /// does not hold that generation yet (another node rotated).
    fn wrap_case_key(
        &mut self,
        generation: i64,
        key: &CaseKey,
        reference: &str,
    ) -> Result<Vec<u8>> {
        if let Some(w) = self.case_keys.wrap(generation, key, reference) {
            return Ok(w);
        }
        self.case_keys = self.case_keys.reload()?;
        self.case_keys.wrap(generation, key, reference).ok_or_else(|| {
            corrupt(format!(
                "the case key file {} holds no generation {generation}, which the database says wraps new case keys",
                self.case_keys.path.display()
            ))
        })
    }

    /// Destroys a case's key and everything sealed with it, keeping a tombstone (who erased
    /// it, when, why) and its figures, so the programme's counts stay as they were. Owes a
    /// rotation of the case keys, so that copies of the database taken before cannot open
    /// it either. False when it was erased already.
    pub fn erase_case(&mut self, case: &CaseRecord, actor: &str, reason: &str) -> Result<bool> {
        // Where the case is as the update finds it, not as the caller read it: its place
        // in the positions is given up from there.
        let Some(was) = self
            .conn
            .query(
                "UPDATE cases SET erased_at = ?, erased_by = ?, erase_reason = ?, pending_stage = NULL, revision = revision + 1, updated_at = ? WHERE id = ? AND erased_at IS NULL \
                 RETURNING programme_id, stage, state, stage_since, persons",
                &[now().into(), actor.into(), reason.into(), now().into(), case.id.into()],
            )?
            .into_iter()
            .next()
        else {
            return Ok(false);
        };
        let mut positions = Positions::default();
        positions.leave(
            was.get("programme_id")?,
            &was.get::<String>("stage")?,
            was.get::<Option<String>>("state")?.as_deref(),
            was.get("stage_since")?,
            was.get("persons")?,
        );
        self.shift_positions(positions)?;
        // `true`: the statement blanks a sealed column first.
        for (sql, blanks) in [
            ("DELETE FROM case_keys WHERE case_id = ?", false),
            ("DELETE FROM case_sections WHERE case_id = ?", false),
            ("DELETE FROM case_documents WHERE case_id = ?", false),
            ("DELETE FROM case_index WHERE case_id = ?", false),
            (
                "UPDATE case_events SET note = NULL WHERE case_id = ?",
                false,
            ),
            (
                "UPDATE referrals SET reason = ?, decision_note = NULL WHERE case_id = ?",
                true,
            ),
            (
                "UPDATE proposal_cases SET explanation = ? WHERE case_id = ?",
                true,
            ),
        ] {
            let params: Vec<Value> = if blanks {
                vec![Vec::<u8>::new().into(), case.id.into()]
            } else {
                vec![case.id.into()]
            };
            self.conn.execute(sql, &params)?;
        }
        self.conn.execute(
            "INSERT INTO case_events (case_id, at, actor, kind) VALUES (?, ?, ?, 'erased')",
            &[case.id.into(), now().into(), actor.into()],
        )?;
        self.conn.execute(
            "UPDATE case_key_state SET rotation_due = 1 WHERE id = 1",
            &[],
        )?;
        Ok(true)
    }

    /// The key of a case, for sealing what is added to it.
    /// The keys of several cases, by id, in one read (an erased case has none).
    pub(crate) fn case_keys_of(
        &mut self,
        cases: &[(i64, &str)],
    ) -> Result<std::collections::HashMap<i64, CaseKey>> {
        let mut out = std::collections::HashMap::new();
        if cases.is_empty() {
            return Ok(out);
        }
        let refs: std::collections::HashMap<i64, &str> = cases.iter().copied().collect();
        let marks = vec!["?"; cases.len()].join(", ");
        let params: Vec<Value> = cases.iter().map(|(id, _)| Value::from(*id)).collect();
        for row in self.conn.query(
            &format!(
                "SELECT case_id, generation, wrapped FROM case_keys WHERE case_id IN ({marks})"
            ),
            &params,
        )? {
            let id: i64 = row.get("case_id")?;
            let reference = refs[&id];
            let key = self
                .case_keys
                .unwrap(row.get("generation")?, &row.get::<Vec<u8>>("wrapped")?, reference)?
                .ok_or_else(|| {
                    corrupt(format!(
                        "case {reference}: the case key file no longer holds the generation its key was wrapped by"
                    ))
                })?;
            out.insert(id, key);
        }
        Ok(out)
    }

    fn case_key(&mut self, case_id: i64, reference: &str) -> Result<CaseKey> {
        let row = self
            .conn
            .query_one(
                "SELECT generation, wrapped FROM case_keys WHERE case_id = ?",
                &[case_id.into()],
            )?
            .ok_or_else(|| corrupt(format!("case {reference} has no key: it was erased")))?;
        self.case_keys
            .unwrap(row.get("generation")?, &row.get::<Vec<u8>>("wrapped")?, reference)?
            .ok_or_else(|| {
                corrupt(format!(
                    "case {reference}: the case key file no longer holds the generation its key was wrapped by"
                ))
            })
    }

    #[allow(clippy::too_many_arguments)]
    fn add_case_event(
        &mut self,
        case_id: i64,
        reference: &str,
        key: &CaseKey,
        actor: &str,
        kind: &str,
        from: Option<&str>,
        to: Option<&str>,
        note: Option<&str>,
    ) -> Result<()> {
        let sealed = note.map(|n| key.seal(&sealed_as(reference, "note"), n.as_bytes()));
        self.conn.execute(
            "INSERT INTO case_events (case_id, at, actor, kind, from_stage, to_stage, note) VALUES (?, ?, ?, ?, ?, ?, ?)",
            &[case_id.into(), now().into(), actor.into(), kind.into(), from.into(), to.into(), sealed.into()],
        )?;
        Ok(())
    }

    /// Records something that happened to a case, its note sealed.
    pub fn case_event(
        &mut self,
        case: &CaseRecord,
        actor: &str,
        kind: &str,
        stages: (Option<&str>, Option<&str>),
        note: Option<&str>,
    ) -> Result<()> {
        let key = self.case_key(case.id, &case.reference)?;
        self.add_case_event(
            case.id,
            &case.reference,
            &key,
            actor,
            kind,
            stages.0,
            stages.1,
            note,
        )
    }

    /// Changes a case as seen at `revision`: false when someone changed it since. Leaving a
    /// stage counts the days spent in it; entering one counts the case's people into it.
    pub fn update_case(
        &mut self,
        case: &CaseRecord,
        stage: &str,
        pending_stage: Option<&str>,
        assignee_id: Option<i64>,
    ) -> Result<bool> {
        self.change_case(
            case,
            stage,
            pending_stage,
            assignee_id,
            case.state.as_deref(),
        )
    }

    /// Moves a case to a stage and matches it to a state (or unmatches it) at once, as seen
    /// at its revision: a match accepted, or returned to matching.
    pub fn place_case(
        &mut self,
        case: &CaseRecord,
        stage: &str,
        state: Option<&str>,
    ) -> Result<bool> {
        self.change_case(case, stage, None, case.assignee_id, state)
    }

    /// Matches a case to a receiving state (or unmatches it), as seen at its revision.
    pub fn set_case_state(&mut self, case: &CaseRecord, state: Option<&str>) -> Result<bool> {
        self.change_case(
            case,
            &case.stage,
            case.pending_stage.as_deref(),
            case.assignee_id,
            state,
        )
    }

    fn change_case(
        &mut self,
        case: &CaseRecord,
        stage: &str,
        pending_stage: Option<&str>,
        assignee_id: Option<i64>,
        state: Option<&str>,
    ) -> Result<bool> {
        let at = now();
        let stage_since = if stage == case.stage {
            case.stage_since
        } else {
            at
        };
        let n = self.conn.execute(
            "UPDATE cases SET stage = ?, stage_since = ?, pending_stage = ?, assignee_id = ?, state = ?, revision = revision + 1, updated_at = ? \
             WHERE id = ? AND revision = ? AND erased_at IS NULL",
            &[stage.into(), stage_since.into(), pending_stage.into(), assignee_id.into(), state.into(), at.into(), case.id.into(), case.revision.into()],
        )?;
        if n == 1 && (stage != case.stage || state != case.state.as_deref()) {
            let mut positions = Positions::default();
            positions.leave(
                case.programme_id,
                &case.stage,
                case.state.as_deref(),
                case.stage_since,
                case.persons,
            );
            positions.enter(case.programme_id, stage, state, stage_since, case.persons);
            self.shift_positions(positions)?;
        }
        if n == 1 && stage != case.stage {
            let days = case.stage_since.days_until(at).max(0);
            self.conn.execute(
                "INSERT INTO stage_stays (programme_id, stage, days, stays) VALUES (?, ?, ?, 1) \
                 ON CONFLICT (programme_id, stage, days) DO UPDATE SET stays = stage_stays.stays + 1",
                &[case.programme_id.into(), (&case.stage).into(), days.into()],
            )?;
            self.count_entry(case.programme_id, case.id, stage, state)?;
        }
        Ok(n == 1)
    }

    /// Counts a case's people into the stage they entered this month, under its receiving
    /// state, and marks the programme's pipeline dataset as behind: in the transaction of the
    /// change itself.
    fn count_entry(
        &mut self,
        programme_id: i64,
        case_id: i64,
        stage: &str,
        state: Option<&str>,
    ) -> Result<()> {
        let people: Vec<Person> = self
            .conn
            .query(
                "SELECT member, nationality, sex, age_band, principal FROM case_people WHERE case_id = ?",
                &[case_id.into()],
            )?
            .iter()
            .map(|p| {
                Ok(Person {
                    member: p.get("member")?,
                    nationality: p.get("nationality")?,
                    sex: p.get("sex")?,
                    age_band: p.get("age_band")?,
                    principal: p.get("principal")?,
                })
            })
            .collect::<Result<_>>()?;
        let mut entries = Entries::default();
        entries.add(programme_id, stage, state, &people);
        self.count_entries(entries)
    }

    /// Adds entries to the pipeline counts in one upsert per couple of hundred cells, and marks each
    /// programme's pipeline dataset as behind.
    fn count_entries(&mut self, entries: Entries) -> Result<()> {
        let month = now().date()[..7].to_string();
        let rows: Vec<Vec<Value>> = entries
            .cells
            .into_iter()
            .map(
                |((programme_id, stage, geo, origin, sex, age), (persons, cases))| {
                    vec![
                        programme_id.into(),
                        (&month).into(),
                        stage.into(),
                        geo.into(),
                        origin.into(),
                        sex.into(),
                        age.into(),
                        persons.into(),
                        cases.into(),
                    ]
                },
            )
            .collect();
        self.insert_rows_then(
            "pipeline_counts (programme_id, month, stage, geo, origin, sex, age, persons, cases)",
            &rows,
            " ON CONFLICT (programme_id, month, stage, geo, origin, sex, age) DO UPDATE SET persons = pipeline_counts.persons + excluded.persons, cases = pipeline_counts.cases + excluded.cases",
        )?;
        for programme_id in entries.programmes {
            self.pipeline_changed(programme_id)?;
        }
        Ok(())
    }

    /// Moves cases in the kept positions and waits: one upsert for each.
    fn shift_positions(&mut self, p: Positions) -> Result<()> {
        let rows: Vec<Vec<Value>> =
            p.at.into_iter()
                .map(|((programme_id, stage, state), (cases, persons))| {
                    vec![
                        programme_id.into(),
                        stage.into(),
                        state.into(),
                        cases.into(),
                        persons.into(),
                    ]
                })
                .collect();
        self.insert_rows_then(
            "stage_positions (programme_id, stage, state, cases, persons)",
            &rows,
            " ON CONFLICT (programme_id, stage, state) DO UPDATE SET cases = stage_positions.cases + excluded.cases, persons = stage_positions.persons + excluded.persons",
        )?;
        let rows: Vec<Vec<Value>> = p
            .since
            .into_iter()
            .map(|((programme_id, stage, since), cases)| {
                vec![
                    programme_id.into(),
                    stage.into(),
                    since.into(),
                    cases.into(),
                ]
            })
            .collect();
        self.insert_rows_then(
            "stage_waits (programme_id, stage, since, cases)",
            &rows,
            " ON CONFLICT (programme_id, stage, since) DO UPDATE SET cases = stage_waits.cases + excluded.cases",
        )
    }

    /// Marks a programme's pipeline dataset as behind what the database holds.
    fn pipeline_changed(&mut self, programme_id: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE programmes SET pipeline_changes = pipeline_changes + 1 WHERE id = ?",
            &[programme_id.into()],
        )?;
        Ok(())
    }

    /// Records that the pipeline dataset now shows the programme as of `changes`.
    pub fn pipeline_seen(&mut self, programme_id: i64, changes: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE programmes SET pipeline_seen = ? WHERE id = ? AND pipeline_seen < ?",
            &[changes.into(), programme_id.into(), changes.into()],
        )?;
        Ok(())
    }

    /// Replaces one section's content (sealed) of a case as seen at its revision.
    pub fn replace_section(
        &mut self,
        case: &CaseRecord,
        section: Section,
        plain: &[u8],
    ) -> Result<bool> {
        let key = self.case_key(case.id, &case.reference)?;
        let n = self.conn.execute(
            "UPDATE cases SET revision = revision + 1, updated_at = ? WHERE id = ? AND revision = ? AND erased_at IS NULL",
            &[now().into(), case.id.into(), case.revision.into()],
        )?;
        if n != 1 {
            return Ok(false);
        }
        self.conn.execute(
            "DELETE FROM case_sections WHERE case_id = ? AND section = ?",
            &[case.id.into(), section.as_str().into()],
        )?;
        self.conn.execute(
            "INSERT INTO case_sections (case_id, section, sealed) VALUES (?, ?, ?)",
            &[
                case.id.into(),
                section.as_str().into(),
                key.seal(&sealed_as(&case.reference, section.as_str()), plain)
                    .into(),
            ],
        )?;
        Ok(true)
    }

    /// Attaches a document to a case under one of its sections, its name and content sealed
    /// with the case's key; returns its reference. Counts as a change of the case.
    pub fn insert_case_document(
        &mut self,
        case: &CaseRecord,
        section: Section,
        name: &str,
        media_type: &str,
        content: &[u8],
        actor: &str,
    ) -> Result<Option<String>> {
        let key = self.case_key(case.id, &case.reference)?;
        let n = self.conn.execute(
            "UPDATE cases SET revision = revision + 1, updated_at = ? WHERE id = ? AND revision = ? AND erased_at IS NULL",
            &[now().into(), case.id.into(), case.revision.into()],
        )?;
        if n != 1 {
            return Ok(None);
        }
        let reference = new_reference();
        let what = format!("document {reference}");
        self.conn.execute(
            "INSERT INTO case_documents (ref, case_id, section, name, content, media_type, bytes, added_by, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            &[
                (&reference).into(),
                case.id.into(),
                section.as_str().into(),
                key.seal(&sealed_as(&case.reference, &format!("{what} name")), name.as_bytes()).into(),
                key.seal(&sealed_as(&case.reference, &what), content).into(),
                media_type.into(),
                (content.len() as i64).into(),
                actor.into(),
                now().into(),
            ],
        )?;
        Ok(Some(reference))
    }

    pub fn insert_referral(
        &mut self,
        case: &CaseRecord,
        to_org_id: i64,
        sections: &[Section],
        reason: &str,
        consent_overridden: bool,
        actor: &str,
    ) -> Result<String> {
        let key = self.case_key(case.id, &case.reference)?;
        let reference = new_reference();
        let list: Vec<&str> = sections.iter().map(|s| s.as_str()).collect();
        self.conn.execute(
            "INSERT INTO referrals (ref, case_id, from_org_id, to_org_id, sections, reason, consent_overridden, status, created_by, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            &[
                (&reference).into(),
                case.id.into(),
                case.org_id.into(),
                to_org_id.into(),
                list.join(",").into(),
                key.seal(&sealed_as(&case.reference, &format!("referral {reference}")), reason.as_bytes()).into(),
                consent_overridden.into(),
                ReferralStatus::Pending.as_str().into(),
                actor.into(),
                now().into(),
            ],
        )?;
        Ok(reference)
    }

    /// Accepts or declines a pending referral: false when it was decided meanwhile.
    pub fn decide_referral(
        &mut self,
        referral: &ReferralRecord,
        case: &CaseRecord,
        status: ReferralStatus,
        actor: &str,
        note: Option<&str>,
    ) -> Result<bool> {
        let key = self.case_key(case.id, &case.reference)?;
        let sealed = note.map(|n| {
            key.seal(
                &sealed_as(&case.reference, &format!("decision {}", referral.reference)),
                n.as_bytes(),
            )
        });
        let n = self.conn.execute(
            "UPDATE referrals SET status = ?, decided_by = ?, decided_at = ?, decision_note = ? WHERE id = ? AND status = ?",
            &[status.as_str().into(), actor.into(), now().into(), sealed.into(), referral.id.into(), ReferralStatus::Pending.as_str().into()],
        )?;
        Ok(n == 1)
    }
}

/// What a rotation of the case keys did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rotation {
    pub generation: i64,
    pub rewrapped: usize,
    pub retired: Vec<i64>,
}

impl Store {
    /// How many changes a programme's pipeline has had, and how many its dataset shows.
    pub fn pipeline_state(&self, programme_id: i64) -> Result<(i64, i64)> {
        let r = self
            .query(
                "SELECT pipeline_changes, pipeline_seen FROM programmes WHERE id = ?",
                &[programme_id.into()],
            )?
            .into_iter()
            .next()
            .ok_or_else(|| corrupt(format!("programme {programme_id} vanished")))?;
        Ok((r.get("pipeline_changes")?, r.get("pipeline_seen")?))
    }

    /// Every count of a programme's pipeline.
    pub fn pipeline_counts(&self, programme_id: i64) -> Result<Vec<PipelineCount>> {
        self.query(
            "SELECT month, stage, geo, origin, sex, age, persons, cases FROM pipeline_counts WHERE programme_id = ? ORDER BY month, stage, geo, origin, sex, age",
            &[programme_id.into()],
        )?
        .iter()
        .map(|r| {
            Ok(PipelineCount {
                month: r.get("month")?,
                stage: r.get("stage")?,
                geo: r.get("geo")?,
                origin: r.get("origin")?,
                sex: r.get("sex")?,
                age: r.get("age")?,
                persons: r.get("persons")?,
                cases: r.get("cases")?,
            })
        })
        .collect()
    }

    /// Where a programme's cases are now: `(receiving state, stage, cases, persons)`, erased
    /// cases left out.
    pub fn stage_positions(&self, programme_id: i64) -> Result<Vec<StagePosition>> {
        self.query(
            "SELECT state, stage, cases, persons FROM stage_positions \
             WHERE programme_id = ? AND cases > 0 ORDER BY state, stage",
            &[programme_id.into()],
        )?
        .iter()
        .map(|r| {
            let state: String = r.get("state")?;
            Ok(StagePosition {
                state: (!state.is_empty()).then_some(state),
                stage: r.get("stage")?,
                cases: r.get("cases")?,
                persons: r.get("persons")?,
            })
        })
        .collect()
    }

    /// How long the stays in each stage that ended lasted: `(stage, whole days, stays)`.
    pub fn stage_stays(&self, programme_id: i64) -> Result<Vec<(String, i64, i64)>> {
        self.query(
            "SELECT stage, days, stays FROM stage_stays WHERE programme_id = ? ORDER BY stage, days",
            &[programme_id.into()],
        )?
        .iter()
        .map(|r| Ok((r.get("stage")?, r.get("days")?, r.get("stays")?)))
        .collect()
    }

    /// Since which day the cases in each stage wait: `(stage, YYYY-MM-DD, cases)`, erased
    /// cases left out.
    pub fn stage_waits(&self, programme_id: i64) -> Result<Vec<(String, String, i64)>> {
        self.query(
            "SELECT stage, since, cases FROM stage_waits WHERE programme_id = ? AND cases > 0 ORDER BY stage, since",
            &[programme_id.into()],
        )?
        .iter()
        .map(|r| Ok((r.get("stage")?, r.get("since")?, r.get("cases")?)))
        .collect()
    }

    /// Each pledge's figures as they changed: `(state, when, [places, of which for
    /// unaccompanied children, for medical cases])`, oldest first.
    pub fn pledge_history(&self, programme_id: i64) -> Result<Vec<(String, Timestamp, [i64; 3])>> {
        self.query(
            "SELECT p.state, c.at, c.places, c.uam_places, c.medical_places FROM pledge_changes c JOIN pledges p ON p.id = c.pledge_id WHERE p.programme_id = ? ORDER BY c.id",
            &[programme_id.into()],
        )?
        .iter()
        .map(|r| {
            Ok((
                r.get("state")?,
                r.get("at")?,
                [r.get("places")?, r.get("uam_places")?, r.get("medical_places")?],
            ))
        })
        .collect()
    }

    /// Whether an erasure owes a rotation of the case keys.
    pub fn rotation_due(&self) -> Result<bool> {
        Ok(self
            .query("SELECT rotation_due FROM case_key_state WHERE id = 1", &[])?
            .first()
            .map(|r| r.get::<bool>("rotation_due"))
            .transpose()?
            .unwrap_or(false))
    }

    /// Moves every case key to a new generation of the case key file, then destroys the old
    /// generations. Safe to stop at any point: the file keeps the old generations until no
    /// key needs them, and running it again finishes the rotation begun. `progress` is told
    /// how many keys are rewrapped of how many.
    pub fn rotate_case_keys(
        &self,
        actor: &str,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Rotation> {
        let mut keys = self.case_keys().reload()?;
        let named: i64 = self
            .query("SELECT generation FROM case_key_state WHERE id = 1", &[])?
            .first()
            .ok_or_else(|| corrupt("case_key_state has no row".into()))?
            .get("generation")?;
        // A rotation stopped half way left its new generation in the file: finish it.
        let target = if keys.current() > named {
            keys.current()
        } else {
            keys.begin_rotation()?
        };
        *self.case_keys.write().unwrap_or_else(|p| p.into_inner()) = keys.clone();
        self.write(|tx| {
            tx.conn.execute(
                "UPDATE case_key_state SET generation = ? WHERE id = 1",
                &[target.into()],
            )?;
            Ok::<_, StoreError>(())
        })?;
        let total: i64 = self
            .query(
                "SELECT COUNT(*) AS n FROM case_keys WHERE generation <> ?",
                &[target.into()],
            )?
            .first()
            .map(|r| r.get("n"))
            .transpose()?
            .unwrap_or(0);
        let mut done = 0usize;
        loop {
            let rows = self.query(
                "SELECT k.case_id, c.ref, k.generation, k.wrapped FROM case_keys k JOIN cases c ON c.id = k.case_id WHERE k.generation <> ? ORDER BY k.case_id LIMIT 500",
                &[target.into()],
            )?;
            if rows.is_empty() {
                break;
            }
            self.write(|tx| {
                for r in &rows {
                    let reference: String = r.get("ref")?;
                    let generation: i64 = r.get("generation")?;
                    let key = keys
                        .unwrap(generation, &r.get::<Vec<u8>>("wrapped")?, &reference)?
                        .ok_or_else(|| {
                            corrupt(format!(
                                "case {reference}: its key is wrapped by generation {generation}, which the case key file no longer holds"
                            ))
                        })?;
                    let wrapped = keys
                        .wrap(target, &key, &reference)
                        .expect("the target generation is in the file");
                    tx.conn.execute(
                        "UPDATE case_keys SET generation = ?, wrapped = ? WHERE case_id = ? AND generation = ?",
                        &[target.into(), wrapped.into(), r.get::<i64>("case_id")?.into(), generation.into()],
                    )?;
                }
                Ok::<_, StoreError>(())
            })?;
            done += rows.len();
            progress(done, total as usize);
        }
        let retired = keys.retire_old()?;
        *self.case_keys.write().unwrap_or_else(|p| p.into_inner()) = keys;
        let rotation = Rotation {
            generation: target,
            rewrapped: done,
            retired,
        };
        self.write(|tx| {
            tx.conn.execute(
                "UPDATE case_key_state SET rotation_due = 0 WHERE id = 1",
                &[],
            )?;
            tx.audit(
                actor,
                "keys.rotate",
                "case keys",
                &format!(
                    "{{\"generation\": {}, \"rewrapped\": {}, \"retired\": {:?}}}",
                    rotation.generation, rotation.rewrapped, rotation.retired
                ),
            )?;
            Ok::<_, StoreError>(())
        })?;
        Ok(rotation)
    }

    /// The cases of a programme at the given stages: `matched` true for those matched to a
    /// state, false for those not.
    pub fn cases_at(
        &self,
        programme_id: i64,
        stages: &[String],
        matched: bool,
    ) -> Result<Vec<CaseRecord>> {
        let state = if matched { "IS NOT NULL" } else { "IS NULL" };
        self.cases_at_where(programme_id, stages, &format!("c.state {state}"), None)
    }

    /// Cases of a programme at one of `stages` since before `before`, not yet erased.
    pub fn cases_at_since(
        &self,
        programme_id: i64,
        stages: &[String],
        before: Timestamp,
    ) -> Result<Vec<CaseRecord>> {
        self.cases_at_where(
            programme_id,
            stages,
            "c.stage_since < ?",
            Some(before.into()),
        )
    }

    /// Cases of a programme at one of `stages`, not erased, meeting `condition` (with its
    /// one parameter, if any).
    fn cases_at_where(
        &self,
        programme_id: i64,
        stages: &[String],
        condition: &str,
        param: Option<Value>,
    ) -> Result<Vec<CaseRecord>> {
        if stages.is_empty() {
            return Ok(Vec::new());
        }
        let marks = vec!["?"; stages.len()].join(", ");
        let mut params: Vec<Value> = vec![programme_id.into()];
        params.extend(stages.iter().map(Value::from));
        params.extend(param);
        Ok(self
            .query(
                &format!("SELECT {CASE_COLUMNS} {CASE_FROM} WHERE c.programme_id = ? AND c.stage IN ({marks}) AND {condition} AND c.erased_at IS NULL ORDER BY c.id"),
                &params,
            )?
            .iter()
            .map(case_from)
            .collect::<Result<_, _>>()?)
    }

    fn with_partners(&self, mut p: ProgrammeRecord) -> Result<ProgrammeRecord> {
        p.partners = self
            .query(
                "SELECT o.slug, pp.part FROM programme_partners pp JOIN orgs o ON o.id = pp.org_id WHERE pp.programme_id = ? ORDER BY o.slug",
                &[p.id.into()],
            )?
            .iter()
            .map(|r| Ok((r.get("slug")?, r.get("part")?)))
            .collect::<Result<_>>()?;
        Ok(p)
    }

    pub fn programme(&self, org: &str, slug: &str) -> Result<Option<ProgrammeRecord>> {
        let rows = self.query(
            &format!("SELECT {PROGRAMME_COLUMNS} FROM programmes p JOIN orgs o ON o.id = p.org_id WHERE o.slug = ? AND p.slug = ?"),
            &[org.into(), slug.into()],
        )?;
        rows.first()
            .map(|r| self.with_partners(programme_from(r)?))
            .transpose()
    }

    pub fn programme_by_id(&self, id: i64) -> Result<Option<ProgrammeRecord>> {
        let rows = self.query(
            &format!("SELECT {PROGRAMME_COLUMNS} FROM programmes p JOIN orgs o ON o.id = p.org_id WHERE p.id = ?"),
            &[id.into()],
        )?;
        rows.first()
            .map(|r| self.with_partners(programme_from(r)?))
            .transpose()
    }

    pub fn programmes(&self) -> Result<Vec<ProgrammeRecord>> {
        self.query(
            &format!("SELECT {PROGRAMME_COLUMNS} FROM programmes p JOIN orgs o ON o.id = p.org_id ORDER BY o.slug, p.slug"),
            &[],
        )?
        .iter()
        .map(|r| self.with_partners(programme_from(r)?))
        .collect()
    }

    /// The stages cases of a programme are at, or wait to move to.
    pub fn stages_in_use(&self, programme_id: i64) -> Result<Vec<String>> {
        self.query(
            "SELECT DISTINCT stage FROM cases WHERE programme_id = ? UNION SELECT DISTINCT pending_stage AS stage FROM cases WHERE programme_id = ? AND pending_stage IS NOT NULL",
            &[programme_id.into(), programme_id.into()],
        )?
        .iter()
        .map(|r| Ok(r.get("stage")?))
        .collect()
    }

    pub fn pledges(&self, programme_id: i64) -> Result<Vec<PledgeRecord>> {
        self.query(
            "SELECT id, state, places, uam_places, medical_places, starts_on, ends_on, languages, prefers, excludes, created_by, updated_at FROM pledges WHERE programme_id = ? ORDER BY state",
            &[programme_id.into()],
        )?
        .iter()
        .map(|r| {
            Ok(PledgeRecord {
                id: r.get("id")?,
                state: r.get("state")?,
                places: r.get("places")?,
                uam_places: r.get("uam_places")?,
                medical_places: r.get("medical_places")?,
                starts_on: r.get("starts_on")?,
                ends_on: r.get("ends_on")?,
                languages: list(r.get("languages")?),
                prefers: list(r.get("prefers")?),
                excludes: list(r.get("excludes")?),
                created_by: r.get("created_by")?,
                updated_at: r.get("updated_at")?,
            })
        })
        .collect()
    }

    pub fn pledge_changes(&self, pledge_id: i64) -> Result<Vec<PledgeChange>> {
        self.query(
            "SELECT at, actor, places, uam_places, medical_places, note FROM pledge_changes WHERE pledge_id = ? ORDER BY id",
            &[pledge_id.into()],
        )?
        .iter()
        .map(|r| {
            Ok(PledgeChange {
                at: r.get("at")?,
                actor: r.get("actor")?,
                places: r.get("places")?,
                uam_places: r.get("uam_places")?,
                medical_places: r.get("medical_places")?,
                note: r.get("note")?,
            })
        })
        .collect()
    }

    /// A case by its reference; any reference not stored is simply none.
    pub fn case_by_reference(&self, reference: &str) -> Result<Option<CaseRecord>> {
        Ok(self
            .query(
                &format!("SELECT {CASE_COLUMNS} {CASE_FROM} WHERE c.ref = ?"),
                &[reference.into()],
            )?
            .first()
            .map(case_from)
            .transpose()?)
    }

    pub fn cases_by_id(&self, ids: &[i64]) -> Result<Vec<CaseRecord>> {
        let mut out = Vec::with_capacity(ids.len());
        for batch in ids.chunks(1000) {
            let marks = vec!["?"; batch.len()].join(", ");
            let params: Vec<Value> = batch.iter().map(|i| (*i).into()).collect();
            for r in self.query(
                &format!("SELECT {CASE_COLUMNS} {CASE_FROM} WHERE c.id IN ({marks})"),
                &params,
            )? {
                out.push(case_from(&r)?);
            }
        }
        out.sort_by_key(|c| c.id);
        Ok(out)
    }

    /// The organisations that accepted a referral of each of the cases, with the sections
    /// sent to each, in one read, by case id.
    pub fn accepted_referrals_of(
        &self,
        case_ids: &[i64],
    ) -> Result<std::collections::HashMap<i64, Vec<Referred>>> {
        let mut out: std::collections::HashMap<i64, Vec<Referred>> =
            std::collections::HashMap::new();
        if case_ids.is_empty() {
            return Ok(out);
        }
        let marks = vec!["?"; case_ids.len()].join(", ");
        let params: Vec<Value> = case_ids.iter().map(|i| Value::from(*i)).collect();
        for r in self.query(
            &format!("SELECT r.case_id, o.slug, r.sections FROM referrals r JOIN orgs o ON o.id = r.to_org_id WHERE r.case_id IN ({marks}) AND r.status = 'accepted' ORDER BY r.id"),
            &params,
        )? {
            out.entry(r.get("case_id")?).or_default().push((
                r.get("slug")?,
                sections_from(&r.get::<String>("sections")?)?,
            ));
        }
        Ok(out)
    }

    /// Refreshes the planner's statistics of the case tables, after a bulk registration
    /// changed them wholesale: until then PostgreSQL plans for the tables as they were.
    pub fn refresh_case_statistics(&self) -> Result<()> {
        let mut conn = self.conn()?;
        for table in [
            "cases",
            "case_index",
            "case_people",
            "case_sections",
            "case_keys",
        ] {
            conn.batch(&format!("ANALYZE {table}"))?;
        }
        Ok(())
    }

    /// The cases a filter selects, most recently changed first, and how many it selects (up
    /// to [`MAX_COUNTED`] and one more, which says there are more).
    pub fn cases(&self, f: &CaseFilter) -> Result<(Vec<CaseRecord>, i64)> {
        if f.orgs.is_empty() && f.referred_to.is_empty() {
            return Ok((Vec::new(), 0));
        }
        let mut sql = String::from("WHERE c.programme_id = ? AND c.erased_at IS NULL AND (");
        let mut params: Vec<Value> = vec![f.programme_id.into()];
        let mut reach = Vec::new();
        if !f.orgs.is_empty() {
            reach.push(format!(
                "c.org_id IN ({})",
                vec!["?"; f.orgs.len()].join(", ")
            ));
            params.extend(f.orgs.iter().map(|o| Value::from(*o)));
        }
        if !f.referred_to.is_empty() {
            reach.push(format!(
                "c.id IN (SELECT case_id FROM referrals WHERE status = 'accepted' AND to_org_id IN ({}))",
                vec!["?"; f.referred_to.len()].join(", ")
            ));
            params.extend(f.referred_to.iter().map(|o| Value::from(*o)));
        }
        sql.push_str(&reach.join(" OR "));
        sql.push(')');
        if let Some(stage) = &f.stage {
            sql.push_str(" AND c.stage = ?");
            params.push(stage.into());
        }
        if let Some(a) = f.assignee_id {
            sql.push_str(" AND c.assignee_id = ?");
            params.push(a.into());
        }
        if let Some(state) = &f.state {
            sql.push_str(" AND c.state = ?");
            params.push(state.into());
        }
        if !f.not_stages.is_empty() {
            sql.push_str(&format!(
                " AND c.stage NOT IN ({})",
                vec!["?"; f.not_stages.len()].join(", ")
            ));
            params.extend(f.not_stages.iter().map(Value::from));
        }
        // The first token selects the candidates; each other one is looked up per candidate,
        // so a common name costs nothing beside a rare birth date put first.
        for (i, token) in f.tokens.iter().enumerate() {
            sql.push_str(if i == 0 {
                " AND c.id IN (SELECT case_id FROM case_index WHERE hash = ?)"
            } else {
                " AND EXISTS (SELECT 1 FROM case_index j WHERE j.hash = ? AND j.case_id = c.id)"
            });
            params.push(self.case_keys().index(token).into());
        }
        // Counting stops past MAX_COUNTED: a count of every case at a busy stage would cost
        // more than the page it heads.
        let total: i64 = self
            .query(
                &format!(
                    "SELECT COUNT(*) AS n FROM (SELECT 1 FROM cases c {sql} LIMIT {}) t",
                    MAX_COUNTED + 1
                ),
                &params,
            )?
            .first()
            .map(|r| r.get("n"))
            .transpose()?
            .unwrap_or(0);
        params.push(f.limit.into());
        params.push(f.offset.into());
        let order = if f.longest_waiting {
            "c.stage_since, c.id"
        } else {
            "c.updated_at DESC, c.id DESC"
        };
        // The page's ids first, from the narrow rows the order's index gives, and only then
        // what the page shows: joining first made the planner sort every selected case.
        let rows = self.query(
            &format!(
                "SELECT {CASE_COLUMNS} FROM (SELECT c.id FROM cases c {sql} ORDER BY {order} LIMIT ? OFFSET ?) page \
                 JOIN cases c ON c.id = page.id {CASE_JOINS} ORDER BY {order}"
            ),
            &params,
        )?;
        Ok((rows.iter().map(case_from).collect::<Result<_, _>>()?, total))
    }

    /// Every person indexed under each of `tokens` (up to 1,000 a token, erased cases left
    /// out), by the token's hash, each as `(case id, member, every hash indexed for them)`: one
    /// read per 500 tokens.
    pub fn people_like(
        &self,
        tokens: &[&str],
    ) -> Result<std::collections::HashMap<String, Vec<PersonIndexed>>> {
        let mut out: std::collections::HashMap<String, Vec<PersonIndexed>> = Default::default();
        for batch in tokens.chunks(500) {
            let hashes: Vec<Value> = batch
                .iter()
                .map(|t| self.case_keys().index(t).into())
                .collect();
            let rows = self.query(
                &format!(
                    "SELECT p.token, j.case_id, j.member, j.hash FROM \
                     (SELECT token, case_id, member FROM \
                       (SELECT token, case_id, member, ROW_NUMBER() OVER (PARTITION BY token ORDER BY case_id, member) AS n FROM \
                         (SELECT DISTINCT i.hash AS token, i.case_id, i.member FROM case_index i JOIN cases c ON c.id = i.case_id \
                          WHERE i.hash IN ({}) AND c.erased_at IS NULL) d) r \
                      WHERE n <= 1000) p \
                     JOIN case_index j ON j.case_id = p.case_id AND j.member = p.member ORDER BY p.token, j.case_id, j.member",
                    vec!["?"; hashes.len()].join(", ")
                ),
                &hashes,
            )?;
            for r in rows {
                let token: String = r.get("token")?;
                let (case_id, member): (i64, i64) = (r.get("case_id")?, r.get("member")?);
                let hash: String = r.get("hash")?;
                let people = out.entry(token).or_default();
                match people.last_mut() {
                    Some((c, m, hashes)) if *c == case_id && *m == member => hashes.push(hash),
                    _ => people.push((case_id, member, vec![hash])),
                }
            }
        }
        Ok(out)
    }

    /// The keyed hash the index holds for a token.
    pub fn index_hash(&self, token: &str) -> String {
        self.case_keys().index(token)
    }

    fn open_case_key(&self, case: &CaseRecord) -> Result<Option<CaseKey>> {
        let Some(row) = self
            .query(
                "SELECT generation, wrapped FROM case_keys WHERE case_id = ?",
                &[case.id.into()],
            )?
            .into_iter()
            .next()
        else {
            return Ok(None);
        };
        self.unwrap_case_key(
            &case.reference,
            row.get("generation")?,
            &row.get::<Vec<u8>>("wrapped")?,
        )
        .map(Some)
    }

    pub(crate) fn unwrap_case_key(
        &self,
        reference: &str,
        generation: i64,
        wrapped: &[u8],
    ) -> Result<CaseKey> {
        if let Some(key) = self.case_keys().unwrap(generation, wrapped, reference)? {
            return Ok(key);
        }
        // Another node may have rotated the keys since this one read the file.
        self.reload_case_keys()?;
        self.case_keys()
            .unwrap(generation, wrapped, reference)?
            .ok_or_else(|| {
                corrupt(format!(
                    "case {reference}: the case key file no longer holds generation {generation}, which its key was wrapped by"
                ))
            })
    }

    /// One section of each of many cases, opened, in one read: what a list shows.
    pub fn open_section_of_each(
        &self,
        cases: &[CaseRecord],
        section: Section,
    ) -> Result<std::collections::HashMap<i64, Vec<u8>>> {
        self.open_each(
            cases,
            "SELECT k.case_id, k.generation, k.wrapped, s.sealed FROM case_keys k JOIN case_sections s ON s.case_id = k.case_id AND s.section = ? WHERE k.case_id IN ({marks})",
            section.as_str().into(),
            |c| sealed_as(&c.reference, section.as_str()),
        )
    }

    /// One sealed value of each case, opened with the case's key (an erased case has none):
    /// `sql` selects `case_id, generation, wrapped, sealed`, takes `first` and then the ids
    /// in `{marks}`; `sealed_as` says what each value was sealed as.
    pub(crate) fn open_each(
        &self,
        cases: &[CaseRecord],
        sql: &str,
        first: Value,
        sealed_as: impl Fn(&CaseRecord) -> String,
    ) -> Result<std::collections::HashMap<i64, Vec<u8>>> {
        let mut out = std::collections::HashMap::new();
        let by_id: std::collections::HashMap<i64, &CaseRecord> =
            cases.iter().map(|c| (c.id, c)).collect();
        for batch in cases.chunks(1000) {
            let marks = vec!["?"; batch.len()].join(", ");
            let mut params: Vec<Value> = vec![first.clone()];
            params.extend(batch.iter().map(|c| Value::from(c.id)));
            for r in self.query(&sql.replace("{marks}", &marks), &params)? {
                let c = by_id[&r.get::<i64>("case_id")?];
                let key = self.unwrap_case_key(
                    &c.reference,
                    r.get("generation")?,
                    &r.get::<Vec<u8>>("wrapped")?,
                )?;
                out.insert(c.id, key.open(&sealed_as(c), &r.get::<Vec<u8>>("sealed")?)?);
            }
        }
        Ok(out)
    }

    /// The links among cases: `(case, linked)` for each of the given cases.
    pub fn links_of(&self, case_ids: &[i64]) -> Result<Vec<(i64, i64)>> {
        let mut out = Vec::new();
        for batch in case_ids.chunks(1000) {
            let marks = vec!["?"; batch.len()].join(", ");
            let params: Vec<Value> = batch.iter().map(|i| Value::from(*i)).collect();
            for r in self.query(
                &format!("SELECT case_id, linked_id FROM case_links WHERE case_id IN ({marks}) ORDER BY case_id, linked_id"),
                &params,
            )? {
                out.push((r.get("case_id")?, r.get("linked_id")?));
            }
        }
        Ok(out)
    }

    /// The plain content of the named sections of a case (an erased case has none).
    pub fn open_sections(
        &self,
        case: &CaseRecord,
        which: &[Section],
    ) -> Result<Vec<(Section, Vec<u8>)>> {
        let Some(key) = self.open_case_key(case)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for r in self.query(
            "SELECT section, sealed FROM case_sections WHERE case_id = ?",
            &[case.id.into()],
        )? {
            let section: Section = r.word("section")?;
            if which.contains(&section) {
                let plain = key.open(
                    &sealed_as(&case.reference, section.as_str()),
                    &r.get::<Vec<u8>>("sealed")?,
                )?;
                out.push((section, plain));
            }
        }
        out.sort_by_key(|(s, _)| Section::ALL.iter().position(|x| x == s));
        Ok(out)
    }

    /// The documents of a case, their names opened, without their content; none once erased.
    pub fn case_documents(&self, case: &CaseRecord) -> Result<Vec<CaseDocument>> {
        let Some(key) = self.open_case_key(case)? else {
            return Ok(Vec::new());
        };
        self.query(
            "SELECT ref, section, name, media_type, bytes, added_by, added_at FROM case_documents WHERE case_id = ? ORDER BY id",
            &[case.id.into()],
        )?
        .iter()
        .map(|r| {
            let reference: String = r.get("ref")?;
            let name = key.open(
                &sealed_as(&case.reference, &format!("document {reference} name")),
                &r.get::<Vec<u8>>("name")?,
            )?;
            Ok(CaseDocument {
                section: r.word("section")?,
                name: String::from_utf8_lossy(&name).into_owned(),
                media_type: r.get("media_type")?,
                bytes: r.get("bytes")?,
                added_by: r.get("added_by")?,
                added_at: r.get("added_at")?,
                reference,
            })
        })
        .collect()
    }

    /// A document's content, opened; none when the case holds no such document.
    pub fn case_document_content(
        &self,
        case: &CaseRecord,
        reference: &str,
    ) -> Result<Option<Vec<u8>>> {
        let Some(key) = self.open_case_key(case)? else {
            return Ok(None);
        };
        let rows = self.query(
            "SELECT content FROM case_documents WHERE case_id = ? AND ref = ?",
            &[case.id.into(), reference.into()],
        )?;
        rows.first()
            .map(|r| {
                key.open(
                    &sealed_as(&case.reference, &format!("document {reference}")),
                    &r.get::<Vec<u8>>("content")?,
                )
            })
            .transpose()
    }

    /// A case's history, oldest first, its notes opened (none once erased).
    pub fn case_events(&self, case: &CaseRecord) -> Result<Vec<CaseEvent>> {
        let key = self.open_case_key(case)?;
        self.query(
            "SELECT at, actor, kind, from_stage, to_stage, note FROM case_events WHERE case_id = ? ORDER BY id",
            &[case.id.into()],
        )?
        .iter()
        .map(|r| {
            let note: Option<Vec<u8>> = r.get("note")?;
            let note = match (note, &key) {
                (Some(sealed), Some(k)) => Some(
                    String::from_utf8_lossy(&k.open(&sealed_as(&case.reference, "note"), &sealed)?)
                        .into_owned(),
                ),
                _ => None,
            };
            Ok(CaseEvent {
                at: r.get("at")?,
                actor: r.get("actor")?,
                kind: r.get("kind")?,
                from_stage: r.get("from_stage")?,
                to_stage: r.get("to_stage")?,
                note,
            })
        })
        .collect()
    }

    /// Cases linked to this one (they travel together), by id.
    pub fn case_links(&self, case_id: i64) -> Result<Vec<i64>> {
        self.query(
            "SELECT linked_id FROM case_links WHERE case_id = ? ORDER BY linked_id",
            &[case_id.into()],
        )?
        .iter()
        .map(|r| Ok(r.get("linked_id")?))
        .collect()
    }

    pub fn referral_by_reference(&self, reference: &str) -> Result<Option<ReferralRecord>> {
        self.query(
            &format!("{REFERRAL_SELECT} WHERE r.ref = ?"),
            &[reference.into()],
        )?
        .first()
        .map(referral_from)
        .transpose()
    }

    /// Referrals of a case, oldest first.
    pub fn referrals_of(&self, case_id: i64) -> Result<Vec<ReferralRecord>> {
        self.query(
            &format!("{REFERRAL_SELECT} WHERE r.case_id = ? ORDER BY r.id"),
            &[case_id.into()],
        )?
        .iter()
        .map(referral_from)
        .collect()
    }

    /// Referrals sent to or from these organisations, newest first.
    pub fn referrals_for(&self, org_ids: &[i64]) -> Result<Vec<ReferralRecord>> {
        if org_ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks = vec!["?"; org_ids.len()].join(", ");
        let mut params: Vec<Value> = org_ids.iter().map(|o| (*o).into()).collect();
        params.extend(org_ids.iter().map(|o| Value::from(*o)));
        self.query(
            &format!("{REFERRAL_SELECT} WHERE r.to_org_id IN ({marks}) OR r.from_org_id IN ({marks}) ORDER BY r.id DESC LIMIT 500"),
            &params,
        )?
        .iter()
        .map(referral_from)
        .collect()
    }

    /// The reason a referral gives, opened with its case's key.
    pub fn referral_reason(
        &self,
        referral: &ReferralRecord,
        case: &CaseRecord,
    ) -> Result<Option<String>> {
        let Some(key) = self.open_case_key(case)? else {
            return Ok(None);
        };
        let row = self
            .query(
                "SELECT reason FROM referrals WHERE id = ?",
                &[referral.id.into()],
            )?
            .into_iter()
            .next()
            .ok_or_else(|| corrupt(format!("referral {} vanished", referral.reference)))?;
        let plain = key.open(
            &sealed_as(&case.reference, &format!("referral {}", referral.reference)),
            &row.get::<Vec<u8>>("reason")?,
        )?;
        Ok(Some(String::from_utf8_lossy(&plain).into_owned()))
    }
}

//! Matching proposals: a programme's proposed assignment of cases to receiving states, kept
//! until people decide on it case by case. The proposal's figures and per-state table hold
//! no person and are kept in the open; each case's explanation is sealed with the case's
//! own key, as everything else about the case.

use crate::cases::{new_reference, sealed_as, CaseRecord};
use crate::{now, Result, Row, Store, StoreError, Tx, Value};
use nansen_model::Timestamp;

#[derive(Clone, Debug)]
pub struct ProposalRecord {
    pub id: i64,
    /// The id people and the API use.
    pub reference: String,
    pub programme_id: i64,
    pub created_by: String,
    pub created_at: Timestamp,
    /// Its figures and per-state table, as the app writes them (JSON).
    pub summary: String,
}

/// A case in a proposal, and what people decided about it.
#[derive(Clone, Debug, PartialEq)]
pub struct ProposedCase {
    pub case_id: i64,
    pub state: Option<String>,
    /// `accepted`, or None while undecided.
    pub decision: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<Timestamp>,
    /// The referral the acceptance sent to the receiving state, by its reference.
    pub referral: Option<String>,
}

fn proposal_from(r: &Row) -> Result<ProposalRecord> {
    Ok(ProposalRecord {
        id: r.get("id")?,
        reference: r.get("ref")?,
        programme_id: r.get("programme_id")?,
        created_by: r.get("created_by")?,
        created_at: r.get("created_at")?,
        summary: r.get("summary")?,
    })
}

fn explanation_seal(case: &CaseRecord, proposal: &str) -> String {
    sealed_as(&case.reference, &format!("proposal {proposal}"))
}

impl Tx<'_> {
    /// Keeps a proposal: its summary, and for each case its state (or none) and its
    /// explanation, sealed with the case's key. Answers its reference.
    pub fn insert_proposal(
        &mut self,
        programme_id: i64,
        actor: &str,
        summary: &str,
        cases: &[(&CaseRecord, Option<&str>, Vec<u8>)],
    ) -> Result<(i64, String)> {
        let reference = new_reference();
        let id: i64 = self.conn.query(
            "INSERT INTO proposals (ref, programme_id, created_by, created_at, summary) VALUES (?, ?, ?, ?, ?) RETURNING id",
            &[(&reference).into(), programme_id.into(), actor.into(), now().into(), summary.into()],
        )?[0]
            .get("id")?;
        for batch in cases.chunks(200) {
            let ids: Vec<(i64, &str)> = batch
                .iter()
                .map(|(c, _, _)| (c.id, c.reference.as_str()))
                .collect();
            let keys = self.case_keys_of(&ids)?;
            let mut params: Vec<Value> = Vec::with_capacity(batch.len() * 4);
            for (c, state, explanation) in batch {
                let key = keys.get(&c.id).ok_or_else(|| {
                    StoreError::Corrupt(format!("case {} has no key: it was erased", c.reference))
                })?;
                params.push(id.into());
                params.push(c.id.into());
                params.push((*state).into());
                params.push(
                    key.seal(&explanation_seal(c, &reference), explanation)
                        .into(),
                );
            }
            let sql = format!(
                "INSERT INTO proposal_cases (proposal_id, case_id, state, explanation) VALUES {}",
                vec!["(?, ?, ?, ?)"; batch.len()].join(", ")
            );
            self.conn.execute(&sql, &params)?;
        }
        Ok((id, reference))
    }

    /// Records the acceptance of a proposed case: false when it was decided meanwhile.
    pub fn accept_proposed_case(
        &mut self,
        proposal_id: i64,
        case_id: i64,
        actor: &str,
        referral: Option<&str>,
    ) -> Result<bool> {
        let n = self.conn.execute(
            "UPDATE proposal_cases SET decision = 'accepted', decided_by = ?, decided_at = ?, \
             referral_id = (SELECT id FROM referrals WHERE ref = ?) \
             WHERE proposal_id = ? AND case_id = ? AND decision IS NULL",
            &[
                actor.into(),
                now().into(),
                referral.into(),
                proposal_id.into(),
                case_id.into(),
            ],
        )?;
        Ok(n == 1)
    }

    /// Sets a programme's matching settings (JSON, as the app writes them).
    pub fn set_matching(&mut self, programme_id: i64, settings: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE programmes SET matching = ? WHERE id = ?",
            &[settings.into(), programme_id.into()],
        )?;
        Ok(())
    }
}

impl Store {
    pub fn proposal_by_reference(&self, reference: &str) -> Result<Option<ProposalRecord>> {
        self.query(
            "SELECT id, ref, programme_id, created_by, created_at, summary FROM proposals WHERE ref = ?",
            &[reference.into()],
        )?
        .first()
        .map(proposal_from)
        .transpose()
    }

    /// A programme's proposals, newest first, at most `limit`.
    pub fn proposals_of(&self, programme_id: i64, limit: i64) -> Result<Vec<ProposalRecord>> {
        self.query(
            "SELECT id, ref, programme_id, created_by, created_at, summary FROM proposals WHERE programme_id = ? ORDER BY id DESC LIMIT ?",
            &[programme_id.into(), limit.into()],
        )?
        .iter()
        .map(proposal_from)
        .collect()
    }

    /// The cases of a proposal with their states and decisions, in the order kept.
    pub fn proposed_cases(&self, proposal_id: i64) -> Result<Vec<ProposedCase>> {
        self.query(
            "SELECT p.case_id, p.state, p.decision, p.decided_by, p.decided_at, r.ref AS referral FROM proposal_cases p \
             LEFT JOIN referrals r ON r.id = p.referral_id WHERE p.proposal_id = ? ORDER BY p.case_id",
            &[proposal_id.into()],
        )?
        .iter()
        .map(|r| {
            Ok(ProposedCase {
                case_id: r.get("case_id")?,
                state: r.get("state")?,
                decision: r.get("decision")?,
                decided_by: r.get("decided_by")?,
                decided_at: r.get("decided_at")?,
                referral: r.get("referral")?,
            })
        })
        .collect()
    }

    /// The plain explanations of the given cases of a proposal (none for an erased case).
    pub fn proposal_explanations(
        &self,
        proposal: &ProposalRecord,
        cases: &[CaseRecord],
    ) -> Result<std::collections::HashMap<i64, Vec<u8>>> {
        self.open_each(
            cases,
            "SELECT p.case_id, k.generation, k.wrapped, p.explanation AS sealed FROM proposal_cases p JOIN case_keys k ON k.case_id = p.case_id WHERE p.proposal_id = ? AND p.case_id IN ({marks})",
            proposal.id.into(),
            |c| explanation_seal(c, &proposal.reference),
        )
    }

    /// The proposal and case a referral was sent for, when an accepted proposal sent it.
    pub fn proposal_of_referral(&self, referral_id: i64) -> Result<Option<(i64, i64)>> {
        self.query(
            "SELECT proposal_id, case_id FROM proposal_cases WHERE referral_id = ?",
            &[referral_id.into()],
        )?
        .first()
        .map(|r| Ok((r.get("proposal_id")?, r.get("case_id")?)))
        .transpose()
    }
}

//! Requests for access to a listed subject (a dataset, a document; cases, templates and
//! projects next): one table, and who may see which request decided in its SQL.

use crate::{now, Result, Store, Tx, SEARCH_DATASET, SEARCH_DOCUMENT};
use nansen_model::{RequestStatus, Timestamp};

/// What a request asks for. Stored as its name.
pub const DATASET: &str = "dataset";
pub const DOCUMENT: &str = "document";

#[derive(Clone, Debug)]
pub struct AccessRequestRecord {
    pub id: i64,
    /// `dataset` or `document`.
    pub kind: String,
    /// The dataset's or the document's id.
    pub subject_id: i64,
    /// The subject as people name it: `ORG/SLUG` for a dataset, a document's title.
    pub subject: String,
    /// The organisation that owns the subject and decides.
    pub owner: String,
    /// The organisation asking.
    pub org: String,
    pub user_email: String,
    pub reason: String,
    pub status: RequestStatus,
    pub created_at: Timestamp,
    pub decided_by: Option<String>,
}

/// Whose requests a caller sees: everyone's, or those they made and those on subjects of the
/// organisations they administer.
pub enum Visible<'a> {
    All,
    To {
        user_id: i64,
        admin_of: &'a [String],
    },
}

const SELECT: &str = "SELECT r.id, r.kind, r.subject_id, \
     CASE r.kind WHEN 'dataset' THEN so.slug || '/' || d.slug ELSE doc.title END AS subject, \
     so.slug AS owner, o.slug AS org, u.email, r.reason, r.status, r.created_at, r.decided_by \
     FROM requests r \
     JOIN orgs so ON so.id = r.subject_org_id \
     JOIN orgs o ON o.id = r.org_id \
     JOIN users u ON u.id = r.user_id \
     LEFT JOIN datasets d ON r.kind = 'dataset' AND d.id = r.subject_id \
     LEFT JOIN documents doc ON r.kind = 'document' AND doc.id = r.subject_id";

/// A request as stored; a status the model does not know is an error naming the column.
fn record(r: &crate::Row) -> Result<AccessRequestRecord> {
    Ok(AccessRequestRecord {
        id: r.get("id")?,
        kind: r.get("kind")?,
        subject_id: r.get("subject_id")?,
        subject: r.get("subject")?,
        owner: r.get("owner")?,
        org: r.get("org")?,
        user_email: r.get("email")?,
        reason: r.get("reason")?,
        status: r.word("status")?,
        created_at: r.get("created_at")?,
        decided_by: r.get("decided_by")?,
    })
}

impl Tx<'_> {
    /// The pending request of an organisation for a subject, if it has one.
    pub fn pending_request(
        &mut self,
        kind: &str,
        subject_id: i64,
        org_id: i64,
    ) -> Result<Option<i64>> {
        let r = self.conn.query(
            "SELECT id FROM requests WHERE kind = ? AND subject_id = ? AND org_id = ? AND status = ?",
            &[
                kind.into(),
                subject_id.into(),
                org_id.into(),
                RequestStatus::Pending.as_str().into(),
            ],
        )?;
        Ok(r.first().map(|row| row.get("id")).transpose()?)
    }

    pub fn insert_request(
        &mut self,
        kind: &str,
        subject_id: i64,
        subject_org_id: i64,
        org_id: i64,
        user_id: i64,
        reason: &str,
    ) -> Result<i64> {
        let r = self.conn.query(
            "INSERT INTO requests (kind, subject_id, subject_org_id, org_id, user_id, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            &[
                kind.into(),
                subject_id.into(),
                subject_org_id.into(),
                org_id.into(),
                user_id.into(),
                reason.into(),
                now().into(),
            ],
        )?;
        Ok(r[0].get("id")?)
    }

    /// Moves a request from status `from` to `status` (approve or refuse a pending one, revoke
    /// an approved one); false if it was not in `from`. An approval or a revocation changes
    /// who reads the subject, so the search index is told.
    pub fn decide_request(
        &mut self,
        id: i64,
        from: RequestStatus,
        status: RequestStatus,
        by: &str,
        note: &str,
    ) -> Result<bool> {
        // The subject comes back with the update, for the search outbox.
        let moved = self.conn.query_one(
            "UPDATE requests SET status = ?, decided_by = ?, decided_at = ?, note = ? WHERE id = ? AND status = ? RETURNING kind, subject_id",
            &[
                status.as_str().into(),
                by.into(),
                now().into(),
                note.into(),
                id.into(),
                from.as_str().into(),
            ],
        )?;
        let done = moved.is_some();
        if let Some(r) = moved {
            let outbox = if r.get::<String>("kind")? == DOCUMENT {
                SEARCH_DOCUMENT
            } else {
                SEARCH_DATASET
            };
            self.search_outbox(outbox, r.get("subject_id")?)?;
        }
        Ok(done)
    }
}

impl Store {
    pub fn request(&self, id: i64) -> Result<Option<AccessRequestRecord>> {
        self.query(&format!("{SELECT} WHERE r.id = ?"), &[id.into()])?
            .first()
            .map(record)
            .transpose()
    }

    /// The requests `visible` lets a caller see, oldest first, in one query.
    pub fn requests(&self, visible: Visible) -> Result<Vec<AccessRequestRecord>> {
        let rows = match visible {
            Visible::All => self.query(&format!("{SELECT} ORDER BY r.id"), &[])?,
            Visible::To { user_id, admin_of } => {
                let mut params = vec![user_id.into()];
                params.extend(admin_of.iter().map(|o| o.as_str().into()));
                let owned = if admin_of.is_empty() {
                    String::new()
                } else {
                    format!(" OR so.slug IN ({})", vec!["?"; admin_of.len()].join(", "))
                };
                self.query(
                    &format!("{SELECT} WHERE r.user_id = ?{owned} ORDER BY r.id"),
                    &params,
                )?
            }
        };
        rows.iter().map(record).collect()
    }

    /// Organisations whose request for one subject was approved.
    pub(crate) fn approved(&self, kind: &str, subject_id: i64) -> Result<Vec<String>> {
        Ok(self
            .query(
                "SELECT DISTINCT o.slug FROM requests r JOIN orgs o ON o.id = r.org_id WHERE r.kind = ? AND r.subject_id = ? AND r.status = 'approved' ORDER BY o.slug",
                &[kind.into(), subject_id.into()],
            )?
            .iter()
            .map(|r| r.get("slug"))
            .collect::<Result<_, _>>()?)
    }
}

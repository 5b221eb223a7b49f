//! Proving the audit chain unbroken, untruncated and not rewritten.

use crate::{App, AppError, Caller, Result};
use nansen_model::{Principal, Role};
use nansen_store::AuditEntry;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct AuditReport {
    pub entries: i64,
    pub head: String,
}

/// The first entry at which the chain stops being what was written.
#[derive(Debug, thiserror::Error, Serialize)]
#[error("audit chain broken at entry {seq}: {reason}")]
pub struct AuditBroken {
    pub seq: i64,
    pub reason: String,
}

/// Entries read at a time while verifying: memory stays flat however long the chain.
const VERIFY_PAGE: i64 = 10_000;

impl App {
    /// Recomputes every hash; compares the tail with the head kept in the database and in
    /// the data directory.
    pub fn verify_audit(&self) -> Result<Result<AuditReport, AuditBroken>> {
        // The heads first (the file is written after each commit, so it is never ahead): the
        // chain is verified up to them, while writers go on appending after.
        let file_head = self.store.read_head_file();
        let (db_seq, db_hash) = self.store.audit_head()?;
        let mut prev = String::new();
        let mut last = 0i64;
        let mut file_hash_seen: Option<String> = None;
        while last < db_seq {
            let page = self
                .store
                .audit_page(last, VERIFY_PAGE.min(db_seq - last))?;
            if page.is_empty() {
                break;
            }
            for e in &page {
                let expected_seq = last + 1;
                if e.seq != expected_seq {
                    return Ok(Err(AuditBroken {
                        seq: expected_seq,
                        reason: format!("entry {expected_seq} is missing (next is {})", e.seq),
                    }));
                }
                if e.prev_hash != prev {
                    return Ok(Err(AuditBroken {
                        seq: e.seq,
                        reason: "it does not follow from the entry before it".into(),
                    }));
                }
                if self.store.audit_hash(e) != e.hash {
                    return Ok(Err(AuditBroken {
                        seq: e.seq,
                        reason: "its content was changed after it was written".into(),
                    }));
                }
                if file_head.as_ref().is_some_and(|(s, _)| *s == e.seq) {
                    file_hash_seen = Some(e.hash.clone());
                }
                prev = e.hash.clone();
                last = e.seq;
            }
        }
        if db_seq != last || db_hash != prev {
            return Ok(Err(AuditBroken { seq: last + 1, reason: format!("the chain ends at entry {last} but the database's head says {db_seq}: entries were removed from the end") }));
        }
        if !self.store.head_file_is_genuine() {
            return Ok(Err(AuditBroken { seq: last, reason: "the head file in the data directory is not signed with this installation's key: it was written by someone else".into() }));
        }
        if let Some((file_seq, file_hash)) = file_head {
            if file_seq > last {
                return Ok(Err(AuditBroken { seq: last + 1, reason: format!("the chain ends at entry {last} but the head file in the data directory says {file_seq}: entries were removed from the end") }));
            }
            if file_hash_seen.is_some_and(|h| h != file_hash) {
                return Ok(Err(AuditBroken {
                    seq: file_seq,
                    reason: "it differs from the head recorded in the data directory".into(),
                }));
            }
        }
        Ok(Ok(AuditReport {
            entries: last,
            head: prev,
        }))
    }

    /// The chain's head now: the last entry's number and hash, for export manifests.
    pub fn audit_head(&self) -> Result<(i64, String)> {
        Ok(self.store.audit_head()?)
    }

    /// A page of the audit log as the caller may read it (as [`App::audit_log`]): up to
    /// `limit` entries after entry `after`, the filter applied by the database.
    pub fn audit_log_page(&self, who: &Caller, after: i64, limit: i64) -> Result<Vec<AuditEntry>> {
        if self.is_operator(who)? || matches!(who.principal, Principal::Operator) {
            return Ok(self.store.audit_page(after, limit)?);
        }
        Ok(self
            .store
            .audit_page_about(&self.audit_scope(who)?, after, limit)?)
    }

    /// The organisations whose entries the caller reads: those they administer.
    fn audit_scope(&self, who: &Caller) -> Result<Vec<String>> {
        match &who.principal {
            Principal::User { memberships, .. } => {
                let admin_of: Vec<String> = memberships
                    .iter()
                    .filter(|m| m.role == Role::Admin)
                    .map(|m| m.org.clone())
                    .collect();
                if admin_of.is_empty() {
                    return Err(AppError::Forbidden(
                        "the audit log is for administrators".into(),
                    ));
                }
                Ok(admin_of)
            }
            _ => Err(AppError::Unauthorized),
        }
    }

    /// The audit log as the caller may read it: everything for the operator, entries about
    /// their organisations' datasets for an organisation's admins.
    pub fn audit_log(&self, who: &Caller) -> Result<Vec<AuditEntry>> {
        self.audit_log_page(who, 0, i64::MAX)
    }
}

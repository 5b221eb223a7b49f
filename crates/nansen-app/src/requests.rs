//! Requests for access to a listed subject, for every kind of subject alike: a signed-in
//! person asks, the owner's admins approve, refuse or later revoke, and each step is audited.
//! Datasets and documents now; cases, templates and projects take the same path.

use crate::{App, AppError, Caller, Need, Result};
use nansen_model::{Access, DatasetName, Principal, RequestStatus, Role};
use nansen_store::{AccessRequestRecord, StoreError, Visible};

/// What a request asks to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    Dataset(DatasetName),
    Document(i64),
}

/// A subject found and checked: what the store and the audit need of it.
struct Found {
    kind: &'static str,
    id: i64,
    owner_id: i64,
    /// As the audit names it: `ORG/SLUG`, `document N`.
    name: String,
    access: Access,
}

/// What an owner's admin does with an access request.
#[derive(Clone, Copy)]
enum Decision {
    Approve,
    Refuse,
    Revoke,
}

impl Decision {
    /// The status a request must have for this decision.
    fn from(self) -> RequestStatus {
        match self {
            Decision::Approve | Decision::Refuse => RequestStatus::Pending,
            Decision::Revoke => RequestStatus::Approved,
        }
    }
    fn status(self) -> RequestStatus {
        match self {
            Decision::Approve => RequestStatus::Approved,
            Decision::Refuse => RequestStatus::Refused,
            Decision::Revoke => RequestStatus::Revoked,
        }
    }
    fn verb(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Refuse => "refuse",
            Decision::Revoke => "revoke",
        }
    }
}

/// The audit's word for requests of a kind (kept from before the kinds shared one table).
fn audit_prefix(kind: &str) -> &'static str {
    if kind == nansen_store::requests::DOCUMENT {
        "document"
    } else {
        "access"
    }
}

impl App {
    /// The subject, if `who` may have `need` of it, as the subject's own rule decides.
    fn request_subject(&self, who: &Caller, subject: &Subject, need: Need) -> Result<Found> {
        Ok(match subject {
            Subject::Dataset(name) => {
                let (d, access) = self.authorize(who, name, need)?;
                Found {
                    kind: nansen_store::requests::DATASET,
                    id: d.id,
                    owner_id: d.org_id,
                    name: name.to_string(),
                    access,
                }
            }
            Subject::Document(id) => {
                let (d, access) = self.authorize_document(who, *id, need)?;
                Found {
                    kind: nansen_store::requests::DOCUMENT,
                    id: d.id,
                    owner_id: d.org_id,
                    name: format!("document {id}"),
                    access,
                }
            }
        })
    }

    /// A signed-in person asks the owner of a listed subject to let their organisation read it.
    pub fn request_access(&self, who: &Caller, subject: &Subject, reason: &str) -> Result<i64> {
        let found = self.request_subject(who, subject, Need::Metadata)?;
        let Principal::User {
            id, memberships, ..
        } = &who.principal
        else {
            return Err(AppError::Unauthorized);
        };
        if found.access != Access::Metadata {
            return Err(AppError::Conflict(format!(
                "you can already read {}",
                found.name
            )));
        }
        if reason.trim().len() < 10 {
            return Err(AppError::BadRequest(
                "say why you need it (at least 10 characters)".into(),
            ));
        }
        let my_org = memberships
            .first()
            .map(|m| m.org.clone())
            .ok_or_else(|| AppError::Forbidden("you belong to no organisation".into()))?;
        let org_id = self
            .store
            .org(&my_org)?
            .map(|o| o.id)
            .ok_or_else(|| AppError::NotFound(format!("organisation {my_org}")))?;
        let rid = self.store.write(|tx| {
            // One question at a time: the owner answers an organisation once.
            if tx.pending_request(found.kind, found.id, org_id)?.is_some() {
                return Err(AppError::Conflict(format!(
                    "{my_org} already asked for {}; the request is waiting for its answer",
                    found.name
                )));
            }
            let rid = tx.insert_request(
                found.kind,
                found.id,
                found.owner_id,
                org_id,
                *id,
                reason.trim(),
            )?;
            tx.audit(
                &who.label,
                &format!("{}.request", audit_prefix(found.kind)),
                &found.name,
                &serde_json::json!({ "request": rid, "for": my_org, "reason": reason.trim() })
                    .to_string(),
            )?;
            Ok::<_, AppError>(rid)
        })?;
        Ok(rid)
    }

    /// The requests the caller made, and those they may decide (on subjects of organisations
    /// they administer); every request for an operator at the console. One query.
    pub fn access_requests(&self, who: &Caller) -> Result<Vec<AccessRequestRecord>> {
        match &who.principal {
            Principal::Operator => Ok(self.store.requests(Visible::All)?),
            Principal::User {
                id, memberships, ..
            } => {
                let admin_of: Vec<String> = memberships
                    .iter()
                    .filter(|m| m.role == Role::Admin)
                    .map(|m| m.org.clone())
                    .collect();
                Ok(self.store.requests(Visible::To {
                    user_id: *id,
                    admin_of: &admin_of,
                })?)
            }
            Principal::Anonymous => Ok(Vec::new()),
        }
    }

    /// Approves or refuses a pending request (the owner's admins).
    pub fn decide_access(
        &self,
        who: &Caller,
        request_id: i64,
        approve: bool,
        note: &str,
    ) -> Result<()> {
        let decision = if approve {
            Decision::Approve
        } else {
            Decision::Refuse
        };
        self.move_request(who, request_id, decision, note)
    }

    /// Takes back an approved request: the organisation reads the subject no more.
    pub fn revoke_access(&self, who: &Caller, request_id: i64, note: &str) -> Result<()> {
        self.move_request(who, request_id, Decision::Revoke, note)
    }

    fn move_request(
        &self,
        who: &Caller,
        request_id: i64,
        decision: Decision,
        note: &str,
    ) -> Result<()> {
        let not_found = || AppError::NotFound(format!("access request {request_id}"));
        let r = self.store.request(request_id)?.ok_or_else(not_found)?;
        let subject = if r.kind == nansen_store::requests::DOCUMENT {
            Subject::Document(r.subject_id)
        } else {
            let d = self
                .store
                .dataset_by_id(r.subject_id)?
                .ok_or_else(not_found)?;
            Subject::Dataset(DatasetName::new(d.org, d.slug))
        };
        // Whoever may not administer the subject learns nothing of its requests.
        let found = match self.request_subject(who, &subject, Need::Admin) {
            Ok(found) => found,
            Err(AppError::Forbidden(_)) | Err(AppError::NotFound(_)) => return Err(not_found()),
            Err(e) => return Err(e),
        };
        let done = self.store.write(|tx| {
            let done = tx.decide_request(
                request_id,
                decision.from(),
                decision.status(),
                &who.label,
                note,
            )?;
            if done {
                tx.audit(
                    &who.label,
                    &format!("{}.{}", audit_prefix(found.kind), decision.verb()),
                    &found.name,
                    &serde_json::json!({ "request": request_id, "org": r.org }).to_string(),
                )?;
            }
            Ok::<_, StoreError>(done)
        })?;
        if !done {
            let what = format!("access request {request_id}");
            return Err(AppError::Conflict(match decision {
                Decision::Revoke => {
                    format!("{what} is not approved: only an approved request can be revoked")
                }
                _ => format!("{what} was already decided"),
            }));
        }
        Ok(())
    }
}

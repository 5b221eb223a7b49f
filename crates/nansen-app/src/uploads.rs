//! Staged uploads: a file is validated and compared with the dataset first, the person
//! looks at what would change, and only a confirmation saves it. The web's upload page and
//! the API's `uploads` resource both work this way.
//!
//! A staged upload is kept in the database, its file too (in parts, until it lands, is
//! refused or discarded), so any node of a deployment shows, confirms or discards what another
//! received. `DATA_DIR/uploads/ID` is this node's copy of the file, made when it needs one.

use crate::{App, AppError, Caller, ImportReport, ImportRequest, Progress, Result};
use nansen_formats::{ImportError, Problem};
use nansen_model::Timestamp;
use nansen_store::StagedUploadRecord;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

/// Where a staged upload is.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum UploadState {
    /// Being read and compared; rows read so far.
    Validating {
        rows: u64,
    },
    /// Nothing can be saved: the reasons, by row and column.
    Refused {
        message: String,
        problems: Vec<Problem>,
    },
    /// Valid: what it would add, change and remove.
    Ready {
        report: ImportReport,
    },
    /// Confirmed and being saved.
    Saving {
        done: u64,
        total: u64,
    },
    Landed {
        report: ImportReport,
    },
    /// Could not be validated or saved for a reason other than the file's content.
    Failed {
        message: String,
    },
}

impl UploadState {
    fn status(&self) -> &'static str {
        match self {
            UploadState::Validating { .. } => "validating",
            UploadState::Refused { .. } => "refused",
            UploadState::Ready { .. } => "ready",
            UploadState::Saving { .. } => "saving",
            UploadState::Landed { .. } => "landed",
            UploadState::Failed { .. } => "failed",
        }
    }

    fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Upload {
    pub id: String,
    pub dataset: String,
    pub file_name: String,
    /// Who staged it; nobody else sees it.
    pub owner: String,
    #[serde(flatten)]
    pub state: UploadState,
    #[serde(skip)]
    request: ImportRequest,
}

/// A staged upload nobody confirmed is forgotten, with its file, after a day.
const KEEP: Duration = Duration::from_secs(24 * 3600);
/// Staged uploads one person may keep waiting for a decision: each holds a file.
pub const MAX_STAGED_PER_PERSON: usize = 5;
/// Work under way that no node has moved on for this long was cut short (its node stopped):
/// longer than the largest upload takes to validate or save.
const SILENT: Duration = Duration::from_secs(6 * 3600);

fn failed(e: AppError) -> UploadState {
    match e {
        AppError::Import(ImportError::Refused { message, problems }) => {
            UploadState::Refused { message, problems }
        }
        e => UploadState::Failed {
            message: e.to_string(),
        },
    }
}

/// How far the work this node is doing on an upload has gone. Kept in memory: saving runs
/// inside the import's transaction, which a progress write to the database would wait on.
/// Other nodes show the state the database holds, without the counts.
#[derive(Default)]
pub(crate) struct UnderWay(Mutex<HashMap<String, UploadState>>);

impl UnderWay {
    fn set(&self, id: &str, state: UploadState) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.to_string(), state);
    }

    fn get(&self, id: &str) -> Option<UploadState> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    fn end(&self, id: &str) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
    }
}

impl App {
    /// Stages a file already written to `path` (under the data directory's `uploads`), after
    /// checking that the caller may import into the dataset. Validation is
    /// [`App::validate_upload`], which a caller runs where a long job may run.
    pub fn stage_upload(
        &self,
        who: &Caller,
        request: ImportRequest,
        path: PathBuf,
    ) -> Result<Upload> {
        let staged = self.record_upload(who, request, &path);
        let _ = std::fs::remove_file(&path);
        staged
    }

    fn record_upload(
        &self,
        who: &Caller,
        request: ImportRequest,
        path: &PathBuf,
    ) -> Result<Upload> {
        self.import_target(who, &request)?;
        let before = Timestamp::now().plus_seconds(-(KEEP.as_secs() as i64));
        self.store.purge_staged_uploads(before)?;
        self.sweep_upload_copies()?;
        let waiting = self
            .store
            .staged_uploads_in(&who.label, &["validating", "ready"])?;
        if waiting >= MAX_STAGED_PER_PERSON as i64 {
            return Err(AppError::Limit {
                message: format!("at most {MAX_STAGED_PER_PERSON} staged uploads wait for confirmation per person; confirm or discard one first"),
                retry_after: self.limits().retry_after,
            });
        }
        let mut raw = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut raw);
        let upload = Upload {
            id: hex::encode(raw),
            dataset: format!("{}/{}", request.org, request.slug),
            file_name: request.file_name.clone(),
            owner: who.label.clone(),
            state: UploadState::Validating { rows: 0 },
            request,
        };
        let now = Timestamp::now();
        let record = StagedUploadRecord {
            id: upload.id.clone(),
            owner: upload.owner.clone(),
            dataset: upload.dataset.clone(),
            file_name: upload.file_name.clone(),
            request: serde_json::to_string(&upload.request).unwrap_or_default(),
            status: upload.state.status().into(),
            state: upload.state.json(),
            staged_at: now,
            updated_at: now,
        };
        self.store.insert_staged_upload(&record, path)?;
        // This node's copy, so its validation does not read the file back from the database.
        let _ = std::fs::hard_link(path, self.uploads_dir()?.join(&upload.id));
        Ok(upload)
    }

    /// Removes this node's copies of files no upload needs any more (landed, refused,
    /// discarded or forgotten, here or on another node).
    fn sweep_upload_copies(&self) -> Result<()> {
        let dir = self.uploads_dir()?;
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Ok(());
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            // Copies are named by the upload's id; files being received have other names.
            if name.len() != 32 || !name.bytes().all(|b| b.is_ascii_hexdigit()) {
                continue;
            }
            let needed = self
                .store
                .staged_upload(&name)?
                .is_some_and(|r| matches!(r.status.as_str(), "validating" | "ready" | "saving"));
            if !needed {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(())
    }

    /// This node's copy of an upload's file, made from the database when it has none.
    fn upload_file(&self, id: &str) -> Result<PathBuf> {
        let local = self.uploads_dir()?.join(id);
        if local.exists() {
            return Ok(local);
        }
        let part = self.uploads_dir()?.join(format!("{id}.part"));
        if !self.store.staged_upload_file(id, &part)? {
            return Err(AppError::Conflict(format!(
                "upload {id} has no file any more"
            )));
        }
        std::fs::rename(&part, &local).map_err(|e| {
            AppError::Store(nansen_store::StoreError::DataDir {
                path: local.clone(),
                source: e,
            })
        })?;
        Ok(local)
    }

    /// Frees an upload's file, here and in the database, once it needs it no more.
    fn drop_upload_file(&self, id: &str) -> Result<()> {
        let _ = std::fs::remove_file(self.uploads_dir()?.join(id));
        Ok(self.store.drop_staged_upload_file(id)?)
    }

    /// Records where an upload ends up; the work on it is no longer under way here.
    fn set_upload(&self, id: &str, state: &UploadState) -> Result<()> {
        self.under_way.end(id);
        Ok(self
            .store
            .set_staged_upload_state(id, state.status(), &state.json())?)
    }

    /// Reads and compares a staged file without saving anything.
    pub fn validate_upload(&self, who: &Caller, id: &str) -> Result<Upload> {
        let u = self.upload(who, id)?;
        let mut req = u.request.clone();
        req.dry_run = true;
        let state = match self.upload_file(id).and_then(|path| {
            self.import(who, &req, &path, &|p| {
                if let Progress::Reading { rows } = p {
                    self.under_way.set(id, UploadState::Validating { rows });
                }
            })
        }) {
            Ok(report) => UploadState::Ready { report },
            Err(e) => failed(e),
        };
        self.set_upload(id, &state)?;
        if !matches!(state, UploadState::Ready { .. }) {
            self.drop_upload_file(id)?;
        }
        self.upload(who, id)
    }

    /// A staged upload, to the person who staged it; to anyone else it does not exist.
    pub fn upload(&self, who: &Caller, id: &str) -> Result<Upload> {
        let not_found = || AppError::NotFound(format!("upload {id}"));
        let r = self
            .store
            .staged_upload(id)?
            .filter(|r| r.owner == who.label)
            .ok_or_else(not_found)?;
        let mut state: UploadState = serde_json::from_str(&r.state).map_err(|_| not_found())?;
        let request = serde_json::from_str(&r.request).map_err(|_| not_found())?;
        let working = matches!(
            state,
            UploadState::Validating { .. } | UploadState::Saving { .. }
        );
        // Work whose node stopped says nothing more; say so instead of waiting for ever.
        let silent = Timestamp::now().plus_seconds(-(SILENT.as_secs() as i64));
        if let Some(live) = self.under_way.get(id).filter(|_| working) {
            state = live;
        } else if working && r.updated_at < silent {
            state = UploadState::Failed {
                message: "the server stopped while working on this upload; upload the file again"
                    .into(),
            };
        }
        Ok(Upload {
            id: r.id,
            dataset: r.dataset,
            file_name: r.file_name,
            owner: r.owner,
            state,
            request,
        })
    }

    /// Saves a validated upload as a new version; from whichever node the person reaches.
    pub fn confirm_upload(&self, who: &Caller, id: &str) -> Result<ImportReport> {
        let u = self.upload(who, id)?;
        let saving = UploadState::Saving { done: 0, total: 0 };
        // One confirmation wins, whichever node each reached.
        if !self
            .store
            .move_staged_upload(id, "ready", saving.status(), &saving.json())?
        {
            return Err(AppError::Conflict(format!(
                "upload {id} is not ready to confirm"
            )));
        }
        let result = self.upload_file(id).and_then(|path| {
            self.import(who, &u.request, &path, &|p| {
                if let Progress::Saving { done, total } = p {
                    self.under_way.set(id, UploadState::Saving { done, total });
                }
            })
        });
        let state = match &result {
            Ok(report) => UploadState::Landed {
                report: report.clone(),
            },
            Err(e) => UploadState::Failed {
                message: e.to_string(),
            },
        };
        // The state first, so the work is never left under way here if freeing the file fails.
        self.set_upload(id, &state)?;
        self.drop_upload_file(id)?;
        result
    }

    /// Forgets a staged upload and its file.
    pub fn discard_upload(&self, who: &Caller, id: &str) -> Result<()> {
        self.upload(who, id)?;
        let _ = std::fs::remove_file(self.uploads_dir()?.join(id));
        Ok(self.store.delete_staged_upload(id)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What one node writes, another reads: every state survives the database.
    #[test]
    fn every_upload_state_reads_back_as_written() {
        let problem = Problem::new(3, "geo", "Atlantis", "unknown country")
            .with_remedy(nansen_model::Remedy::MapOrAcceptCode);
        for state in [
            UploadState::Validating { rows: 7 },
            UploadState::Refused {
                message: "refused".into(),
                problems: vec![problem, Problem::new(0, "", "", "empty")],
            },
            UploadState::Saving { done: 1, total: 2 },
            UploadState::Failed {
                message: "stopped".into(),
            },
        ] {
            let back: UploadState = serde_json::from_str(&state.json()).unwrap();
            assert_eq!(back.json(), state.json());
            assert_eq!(back.status(), state.status());
        }
    }
}

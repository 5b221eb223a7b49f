//! Staged uploads: a file is validated and compared with the dataset first, the person
//! looks at what would change, and only a confirmation saves it. The web's upload page and
//! the API's `uploads` resource both work this way.
//!
//! A staged upload lives in this process's memory, its file under `DATA_DIR/uploads`:
//! it is a moment's work, not a record. A restart forgets it (the person uploads again).

use crate::{App, AppError, Caller, ImportReport, ImportRequest, Progress, Result};
use nansen_formats::{ImportError, Problem};
use rand::RngCore;
use serde::Serialize;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Where a staged upload is.
#[derive(Clone, Debug, Serialize)]
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
    #[serde(skip)]
    path: PathBuf,
    #[serde(skip)]
    staged_at: Instant,
}

/// A staged upload nobody confirmed is forgotten, with its file, after a day.
const KEEP: Duration = Duration::from_secs(24 * 3600);
/// Staged uploads one person may keep waiting for a decision: each holds a file on disk.
pub const MAX_STAGED_PER_PERSON: usize = 5;

#[derive(Default)]
pub(crate) struct Uploads(Mutex<HashMap<String, Upload>>);

impl Uploads {
    fn set(&self, id: &str, state: UploadState) {
        if let Some(u) = self.0.lock().expect("uploads lock").get_mut(id) {
            u.state = state;
        }
    }
}

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
        if let Err(e) = self.import_target(who, &request) {
            let _ = std::fs::remove_file(&path);
            return Err(e);
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
            path,
            staged_at: Instant::now(),
        };
        let mut all = self.uploads.0.lock().expect("uploads lock");
        all.retain(|_, u| {
            let keep = u.staged_at.elapsed() < KEEP;
            if !keep {
                let _ = std::fs::remove_file(&u.path);
            }
            keep
        });
        let waiting = all
            .values()
            .filter(|u| {
                u.owner == upload.owner
                    && matches!(
                        u.state,
                        UploadState::Validating { .. } | UploadState::Ready { .. }
                    )
            })
            .count();
        if waiting >= MAX_STAGED_PER_PERSON {
            let _ = std::fs::remove_file(&upload.path);
            return Err(AppError::Limit {
                message: format!("at most {MAX_STAGED_PER_PERSON} staged uploads wait for confirmation per person; confirm or discard one first"),
                retry_after: self.limits().retry_after,
            });
        }
        all.insert(upload.id.clone(), upload.clone());
        Ok(upload)
    }

    /// Reads and compares a staged file without saving anything.
    pub fn validate_upload(&self, who: &Caller, id: &str) -> Result<Upload> {
        let u = self.upload(who, id)?;
        let mut req = u.request.clone();
        req.dry_run = true;
        let state = match self.import(who, &req, &u.path, &|p| {
            if let Progress::Reading { rows } = p {
                self.uploads.set(id, UploadState::Validating { rows });
            }
        }) {
            Ok(report) => UploadState::Ready { report },
            Err(e) => {
                let _ = std::fs::remove_file(&u.path);
                failed(e)
            }
        };
        self.uploads.set(id, state);
        self.upload(who, id)
    }

    /// A staged upload, to the person who staged it; to anyone else it does not exist.
    pub fn upload(&self, who: &Caller, id: &str) -> Result<Upload> {
        self.uploads
            .0
            .lock()
            .expect("uploads lock")
            .get(id)
            .filter(|u| u.owner == who.label)
            .cloned()
            .ok_or_else(|| AppError::NotFound(format!("upload {id}")))
    }

    /// Saves a validated upload as a new version.
    pub fn confirm_upload(&self, who: &Caller, id: &str) -> Result<ImportReport> {
        let u = self.upload(who, id)?;
        if !matches!(u.state, UploadState::Ready { .. }) {
            return Err(AppError::Conflict(format!(
                "upload {id} is not ready to confirm"
            )));
        }
        self.uploads
            .set(id, UploadState::Saving { done: 0, total: 0 });
        let result = self.import(who, &u.request, &u.path, &|p| {
            if let Progress::Saving { done, total } = p {
                self.uploads.set(id, UploadState::Saving { done, total });
            }
        });
        let _ = std::fs::remove_file(&u.path);
        match result {
            Ok(report) => {
                self.uploads.set(
                    id,
                    UploadState::Landed {
                        report: report.clone(),
                    },
                );
                Ok(report)
            }
            Err(e) => {
                self.uploads.set(
                    id,
                    UploadState::Failed {
                        message: e.to_string(),
                    },
                );
                Err(e)
            }
        }
    }

    /// Forgets a staged upload and its file.
    pub fn discard_upload(&self, who: &Caller, id: &str) -> Result<()> {
        let u = self.upload(who, id)?;
        let _ = std::fs::remove_file(&u.path);
        self.uploads.0.lock().expect("uploads lock").remove(id);
        Ok(())
    }
}

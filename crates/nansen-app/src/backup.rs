//! Backups of a running installation, and restoring one (DESIGN's "nothing committed is lost"
//! reaches past the machine).

use crate::{App, AppError, AuditReport, Caller, Result};
use nansen_model::Principal;
use nansen_store::BackupManifest;
use std::path::Path;

/// What a restore found: the backup, the chain verified, and the index rebuilt.
#[derive(Debug)]
pub struct Restored {
    pub manifest: BackupManifest,
    pub audit: AuditReport,
    pub indexed: usize,
}

impl App {
    /// Copies the database, keys and audit head into `dir` while the system runs; the
    /// operator on the server's own machine only, and audited.
    pub fn backup(&self, who: &Caller, dir: &Path) -> Result<BackupManifest> {
        if !matches!(who.principal, Principal::Operator) {
            return Err(AppError::Forbidden(
                "backups are made by the operator on the server's machine".into(),
            ));
        }
        let manifest = self.store.backup(dir)?;
        self.store.write(|tx| tx.audit(&who.label, "backup", "installation", &serde_json::json!({ "folder": dir.display().to_string(), "audit_entry": manifest.audit_entry }).to_string()).map(|_| ()))?;
        Ok(manifest)
    }

    /// Restores a backup into a fresh data directory (and, for a PostgreSQL backup, into the
    /// empty database at `database_url`), then proves the chain intact and rebuilds the index.
    pub fn restore(
        backup: &Path,
        data_dir: &Path,
        database_url: Option<&str>,
        progress: &mut dyn FnMut(usize),
    ) -> Result<Restored> {
        let manifest = nansen_store::restore(backup, data_dir, database_url)?;
        let app = App::open(data_dir, database_url)?;
        let audit = app.verify_audit()?.map_err(|b| {
            AppError::Conflict(format!("the restored audit chain is not intact: {b}"))
        })?;
        if audit.entries < manifest.audit_entry {
            return Err(AppError::Conflict(format!(
                "the backup's manifest names audit entry {} but the restored chain ends at {}",
                manifest.audit_entry, audit.entries
            )));
        }
        let indexed = app.reindex(progress)?;
        Ok(Restored {
            manifest,
            audit,
            indexed,
        })
    }
}

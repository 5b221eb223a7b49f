//! Backups taken while the system runs, and restoring one into a fresh data directory.
//!
//! A backup folder holds the database (SQLite: a copy made with SQLite's online backup API in
//! one step, so it is one consistent moment; PostgreSQL: a `pg_dump` archive, one snapshot),
//! the key file, the audit head file and `backup.json`. The search index is not kept: it is
//! rebuilt from the database on restore.

use crate::{key_file, owner_only, Location, Result, Store, StoreError};
use nansen_model::Timestamp;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct BackupManifest {
    pub taken_at: Timestamp,
    /// "sqlite" or "postgres".
    pub database: String,
    /// The audit chain's head when the backup began: the copy holds at least this.
    pub audit_entry: i64,
    pub audit_hash: String,
}

const MANIFEST: &str = "backup.json";
const SQLITE_COPY: &str = "nansen.sqlite";
const POSTGRES_DUMP: &str = "database.dump";

fn io(path: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |e| StoreError::DataDir {
        path: path.to_path_buf(),
        source: e,
    }
}

/// Runs a PostgreSQL client tool; its own words when it fails.
fn run(tool: &str, args: &[&str]) -> Result<()> {
    let out = std::process::Command::new(tool)
        .args(args)
        .output()
        .map_err(|e| StoreError::Corrupt(format!("{tool} could not be started ({e}); install PostgreSQL's client tools to back up or restore a PostgreSQL database")))?;
    if !out.status.success() {
        return Err(StoreError::Corrupt(format!(
            "{tool} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

impl Store {
    /// Copies everything needed to restore into `dir` (made, and kept owner-only); refuses a
    /// folder that already holds a backup.
    pub fn backup(&self, dir: &Path) -> Result<BackupManifest> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        owner_only(dir, true).map_err(io(dir))?;
        if dir.join(MANIFEST).exists() {
            return Err(StoreError::Corrupt(format!(
                "{} already holds a backup; choose an empty folder",
                dir.display()
            )));
        }
        // The head file first: it is never ahead of the database, so the copy taken after it
        // holds at least the entries it names.
        let head_file = self.data_dir.join("audit-head");
        if head_file.exists() {
            std::fs::copy(&head_file, dir.join("audit-head")).map_err(io(&head_file))?;
        }
        let (audit_entry, audit_hash) = self.audit_head()?;
        let database = match &self.location {
            Location::Sqlite(path) => {
                let to = dir.join(SQLITE_COPY);
                let from = rusqlite::Connection::open(path).map_err(crate::DbError::from)?;
                let mut copy = rusqlite::Connection::open(&to).map_err(crate::DbError::from)?;
                {
                    let backup = rusqlite::backup::Backup::new(&from, &mut copy)
                        .map_err(crate::DbError::from)?;
                    // All pages in one step, under one read transaction: one consistent moment,
                    // however busy the writers.
                    backup.step(-1).map_err(crate::DbError::from)?;
                }
                drop(copy);
                owner_only(&to, false).map_err(io(&to))?;
                "sqlite"
            }
            Location::Postgres(url) => {
                let to = dir.join(POSTGRES_DUMP);
                run(
                    "pg_dump",
                    &[
                        "--format=custom",
                        "--no-owner",
                        "--file",
                        &to.to_string_lossy(),
                        url,
                    ],
                )?;
                owner_only(&to, false).map_err(io(&to))?;
                "postgres"
            }
        };
        let keys = &self.keys().path;
        std::fs::copy(keys, dir.join("keys")).map_err(io(keys))?;
        owner_only(&dir.join("keys"), false).map_err(io(dir))?;
        let manifest = BackupManifest {
            taken_at: crate::now(),
            database: database.into(),
            audit_entry,
            audit_hash,
        };
        let text = serde_json::to_string_pretty(&manifest).expect("serialisable");
        std::fs::write(dir.join(MANIFEST), text).map_err(io(dir))?;
        Ok(manifest)
    }
}

/// Puts a backup back: into `data_dir` (which must hold no database yet) and, for a
/// PostgreSQL backup, into the empty database at `database_url`. The caller then opens the
/// store, verifies the chain and rebuilds the search index.
pub fn restore(
    backup: &Path,
    data_dir: &Path,
    database_url: Option<&str>,
) -> Result<BackupManifest> {
    let text = std::fs::read_to_string(backup.join(MANIFEST)).map_err(io(backup))?;
    let manifest: BackupManifest = serde_json::from_str(&text)
        .map_err(|e| StoreError::Corrupt(format!("{}: {e}", backup.join(MANIFEST).display())))?;
    std::fs::create_dir_all(data_dir).map_err(io(data_dir))?;
    owner_only(data_dir, true).map_err(io(data_dir))?;
    let keys = key_file(data_dir);
    for taken in [data_dir.join("nansen.sqlite"), keys.clone()] {
        if taken.exists() {
            return Err(StoreError::Corrupt(format!(
                "{} already exists: restore into a fresh data directory",
                taken.display()
            )));
        }
    }
    match (manifest.database.as_str(), database_url) {
        ("sqlite", None) => {
            let to = data_dir.join("nansen.sqlite");
            std::fs::copy(backup.join(SQLITE_COPY), &to).map_err(io(backup))?;
            owner_only(&to, false).map_err(io(&to))?;
        }
        ("postgres", Some(url)) if url.starts_with("postgres") => {
            run(
                "pg_restore",
                &[
                    "--no-owner",
                    "--exit-on-error",
                    "--dbname",
                    url,
                    &backup.join(POSTGRES_DUMP).to_string_lossy(),
                ],
            )?;
        }
        (kind, _) => {
            return Err(StoreError::Corrupt(format!(
                "this is a {kind} backup: restore it {}",
                if kind == "postgres" {
                    "with --database-url naming an empty PostgreSQL database"
                } else {
                    "without --database-url, into the embedded database"
                }
            )))
        }
    }
    std::fs::copy(backup.join("keys"), &keys).map_err(io(backup))?;
    owner_only(&keys, false).map_err(io(&keys))?;
    let head: PathBuf = backup.join("audit-head");
    if head.exists() {
        std::fs::copy(&head, data_dir.join("audit-head")).map_err(io(&head))?;
    }
    Ok(manifest)
}

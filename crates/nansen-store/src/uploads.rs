//! Staged uploads: the file and where its validation stands, kept in the database so that any
//! node of a deployment can show, confirm or discard what another node received.

use crate::{now, Result, Store};
use nansen_model::Timestamp;
use std::io::{Read, Write};
use std::path::Path;

/// A staged upload as stored; the request and the state are the app's JSON.
#[derive(Clone, Debug, PartialEq)]
pub struct StagedUploadRecord {
    pub id: String,
    pub owner: String,
    pub dataset: String,
    pub file_name: String,
    pub request: String,
    /// The state's name (`validating`, `ready`, ...), for counting without reading the JSON.
    pub status: String,
    pub state: String,
    pub staged_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The file is kept in parts of this size, so no statement carries a whole upload.
const PART: usize = 8 << 20;

const COLUMNS: &str =
    "id, owner, dataset, file_name, request, status, state, staged_at, updated_at";

fn record(r: &crate::Row) -> Result<StagedUploadRecord, crate::DbError> {
    Ok(StagedUploadRecord {
        id: r.get("id")?,
        owner: r.get("owner")?,
        dataset: r.get("dataset")?,
        file_name: r.get("file_name")?,
        request: r.get("request")?,
        status: r.get("status")?,
        state: r.get("state")?,
        staged_at: r.get("staged_at")?,
        updated_at: r.get("updated_at")?,
    })
}

impl Store {
    /// Records a staged upload and copies its file into the database, part by part; the row
    /// comes first, so a copy cut short is an upload whose file is incomplete, never a file
    /// that belongs to nobody.
    pub fn insert_staged_upload(&self, u: &StagedUploadRecord, file: &Path) -> Result<()> {
        let mut conn = self.conn()?;
        conn.execute(
            &format!("INSERT INTO staged_uploads ({COLUMNS}, complete) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)"),
            &[
                u.id.as_str().into(),
                u.owner.as_str().into(),
                u.dataset.as_str().into(),
                u.file_name.as_str().into(),
                u.request.as_str().into(),
                u.status.as_str().into(),
                u.state.as_str().into(),
                u.staged_at.into(),
                u.updated_at.into(),
            ],
        )?;
        let mut f = std::fs::File::open(file).map_err(|e| crate::StoreError::DataDir {
            path: file.to_path_buf(),
            source: e,
        })?;
        let mut buf = vec![0u8; PART];
        for seq in 0i64.. {
            let mut filled = 0;
            while filled < PART {
                let n = f
                    .read(&mut buf[filled..])
                    .map_err(|e| crate::StoreError::DataDir {
                        path: file.to_path_buf(),
                        source: e,
                    })?;
                if n == 0 {
                    break;
                }
                filled += n;
            }
            if filled == 0 && seq > 0 {
                break;
            }
            conn.execute(
                "INSERT INTO staged_upload_parts (upload_id, seq, data) VALUES (?, ?, ?)",
                &[
                    u.id.as_str().into(),
                    seq.into(),
                    buf[..filled].to_vec().into(),
                ],
            )?;
            if filled < PART {
                break;
            }
        }
        conn.execute(
            "UPDATE staged_uploads SET complete = 1 WHERE id = ?",
            &[u.id.as_str().into()],
        )?;
        Ok(())
    }

    /// The upload, if its file was stored whole.
    pub fn staged_upload(&self, id: &str) -> Result<Option<StagedUploadRecord>> {
        Ok(self
            .query(
                &format!("SELECT {COLUMNS} FROM staged_uploads WHERE id = ? AND complete = 1"),
                &[id.into()],
            )?
            .first()
            .map(record)
            .transpose()?)
    }

    /// How many of `owner`'s uploads are in one of `statuses`.
    pub fn staged_uploads_in(&self, owner: &str, statuses: &[&str]) -> Result<i64> {
        let marks = vec!["?"; statuses.len()].join(", ");
        let mut params = vec![owner.into()];
        params.extend(statuses.iter().map(|s| (*s).into()));
        Ok(self
            .query(
                &format!(
                    "SELECT COUNT(*) AS n FROM staged_uploads WHERE owner = ? AND status IN ({marks})"
                ),
                &params,
            )?
            .first()
            .map(|r| r.get("n"))
            .transpose()?
            .unwrap_or(0))
    }

    /// Moves an upload from `from` to `status`, if it is still in `from`; false when another
    /// request (on this node or another) moved it first.
    pub fn move_staged_upload(
        &self,
        id: &str,
        from: &str,
        status: &str,
        state: &str,
    ) -> Result<bool> {
        let moved = self.conn()?.execute(
            "UPDATE staged_uploads SET status = ?, state = ?, updated_at = ? WHERE id = ? AND status = ?",
            &[status.into(), state.into(), now().into(), id.into(), from.into()],
        )?;
        Ok(moved == 1)
    }

    pub fn set_staged_upload_state(&self, id: &str, status: &str, state: &str) -> Result<()> {
        self.conn()?.execute(
            "UPDATE staged_uploads SET status = ?, state = ?, updated_at = ? WHERE id = ?",
            &[status.into(), state.into(), now().into(), id.into()],
        )?;
        Ok(())
    }

    /// Writes the upload's file to `to`; false when its parts are gone (landed, refused or
    /// discarded).
    pub fn staged_upload_file(&self, id: &str, to: &Path) -> Result<bool> {
        let fail = |e: std::io::Error| crate::StoreError::DataDir {
            path: to.to_path_buf(),
            source: e,
        };
        let mut out = None;
        for seq in 0i64.. {
            let rows = self.query(
                "SELECT data FROM staged_upload_parts WHERE upload_id = ? AND seq = ?",
                &[id.into(), seq.into()],
            )?;
            let Some(part) = rows.first() else { break };
            if out.is_none() {
                out = Some(std::fs::File::create(to).map_err(fail)?);
            }
            if let Some(f) = out.as_mut() {
                f.write_all(&part.get::<Vec<u8>>("data")?).map_err(fail)?;
            }
        }
        match out {
            Some(f) => {
                f.sync_all().map_err(fail)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Frees the file of an upload that needs it no more; its record stays to be shown.
    pub fn drop_staged_upload_file(&self, id: &str) -> Result<()> {
        self.conn()?.execute(
            "DELETE FROM staged_upload_parts WHERE upload_id = ?",
            &[id.into()],
        )?;
        Ok(())
    }

    pub fn delete_staged_upload(&self, id: &str) -> Result<()> {
        self.drop_staged_upload_file(id)?;
        self.conn()?
            .execute("DELETE FROM staged_uploads WHERE id = ?", &[id.into()])?;
        Ok(())
    }

    /// Forgets uploads staged before `before` (an RFC 3339 time), with their files; their ids.
    pub fn purge_staged_uploads(&self, before: Timestamp) -> Result<Vec<String>> {
        let old: Vec<String> = self
            .query(
                "SELECT id FROM staged_uploads WHERE staged_at < ?",
                &[before.into()],
            )?
            .iter()
            .map(|r| r.get("id"))
            .collect::<Result<_, _>>()?;
        for id in &old {
            self.delete_staged_upload(id)?;
        }
        Ok(old)
    }
}

//! The one source of truth. SQLite in a data directory by default, PostgreSQL when given a
//! `postgres://` URL; the same statements on both. Observations are stored per version as
//! compressed columnar chunks: a version keeps only what it added, changed or removed.

mod backup;
mod case_keys;
mod cases;
mod db;
mod documents;
mod keys;
mod proposals;
pub mod requests;
mod schema;
mod templates;
pub mod testing;
mod uploads;
mod warning;

pub use backup::{restore, BackupManifest};
pub use case_keys::{case_key_file, CaseKeys};
pub use cases::{
    new_reference, CaseDocument, CaseEvent, CaseFilter, CaseRecord, NewCase, Person, PipelineCount,
    PledgeChange, PledgeRecord, ProgrammeRecord, ReferralRecord, Rotation, StagePosition,
    MAX_COUNTED, NO_STATE_YET,
};
pub use db::{Connection, DbError, Dialect, Row, Value};
pub use documents::{
    DocumentRecord, DocumentVersionRecord, OutboxEntry, SEARCH_DATASET, SEARCH_DOCUMENT,
};
pub use keys::{key_file, Keys};
pub use proposals::{ProposalRecord, ProposedCase};
pub use requests::{AccessRequestRecord, Visible};
pub use templates::{
    DraftRecord, DraftSummary, NewReminder, ReminderRecord, SubmissionComment, SubmissionRecord,
    TemplateRecord,
};
pub use uploads::StagedUploadRecord;
pub use warning::{
    AlertRecord, CommentRecord, DeliveryRecord, HookSubject, PlanRecord, WatchRecord, WebhookRecord,
};

use db::{Pool, Pooled};
use nansen_model::{Cube, Membership, Role, Sharing, Timestamp, VersionMode};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Observations per stored chunk.
pub const CHUNK: usize = 65_536;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("cannot use the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("stored observations are unreadable: {0}")]
    Corrupt(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

fn user_from(r: &Row) -> Result<UserRecord, DbError> {
    Ok(UserRecord {
        id: r.get("id")?,
        email: r.get("email")?,
        password_hash: r.get("password_hash")?,
        operator: r.get("operator")?,
    })
}

fn now() -> Timestamp {
    Timestamp::now()
}

#[derive(Clone, Debug)]
pub struct OrgRecord {
    pub id: i64,
    pub slug: String,
    pub name: String,
    /// The state it speaks for (ISO 3166 alpha-3), when it is a state's administration.
    pub country: Option<String>,
}

#[derive(Clone, Debug)]
pub struct UserRecord {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
    /// A platform operator: may add organisations and users of any organisation.
    pub operator: bool,
}

/// A member of an organisation, as its administrators see them.
#[derive(Clone, Debug)]
pub struct MemberRecord {
    pub user_id: i64,
    pub email: String,
    pub org: String,
    pub role: Role,
    pub supervisor: bool,
}

#[derive(Clone, Debug)]
pub struct SessionRecord {
    pub user_id: i64,
    pub csrf: String,
    pub expires_at: Timestamp,
}

#[derive(Clone, Debug)]
pub struct TokenRecord {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

#[derive(Clone, Debug)]
pub struct DatasetRecord {
    pub id: i64,
    pub org_id: i64,
    pub org: String,
    pub slug: String,
    pub title: String,
    pub description: String,
    pub source: String,
    pub methodology: String,
    pub licence: String,
    pub update_frequency: String,
    pub tags: Vec<String>,
    pub sharing: Sharing,
    pub sensitive: bool,
    pub threshold: i64,
    pub created_at: Timestamp,
    /// Organisations whose access request the owner approved.
    pub approved: Vec<String>,
}

impl DatasetRecord {
    /// A new dataset of an organisation, described by its slug and title only, private, with
    /// the default disclosure threshold.
    pub fn new(org_id: i64, slug: &str, title: &str) -> DatasetRecord {
        DatasetRecord {
            id: 0,
            org_id,
            org: String::new(),
            slug: slug.to_string(),
            title: title.to_string(),
            description: String::new(),
            source: String::new(),
            methodology: String::new(),
            licence: String::new(),
            update_frequency: String::new(),
            tags: Vec::new(),
            sharing: Sharing::Private,
            sensitive: false,
            threshold: 5,
            created_at: Timestamp::now(),
            approved: Vec::new(),
        }
    }
}

/// One immutable version of a dataset, as the API shows it too (without internal ids).
#[derive(Clone, Debug, serde::Serialize)]
pub struct VersionRecord {
    #[serde(skip)]
    pub id: i64,
    #[serde(skip)]
    pub dataset_id: i64,
    pub number: i64,
    pub created_by: String,
    pub created_at: Timestamp,
    pub file_name: String,
    pub file_sha256: String,
    pub format: String,
    pub mode: VersionMode,
    pub rows: i64,
    pub observations: i64,
    pub added: i64,
    pub changed: i64,
    pub removed: i64,
    pub warnings: Vec<String>,
    pub redacted_at: Option<Timestamp>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AuditEntry {
    pub seq: i64,
    /// As written: the entry's hash covers this text.
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEntry {
    fn parts(&self) -> [String; 7] {
        [
            self.prev_hash.clone(),
            self.seq.to_string(),
            self.at.clone(),
            self.actor.clone(),
            self.action.clone(),
            self.target.clone(),
            self.detail.clone(),
        ]
    }

    /// The hash that chains this entry to the one before it: an HMAC under the installation's
    /// audit key, or, for entries written before the installation had keys, a bare SHA-256.
    pub fn compute_hash_with(&self, keys: &Keys) -> String {
        if self.seq < keys.keyed_from {
            return self.compute_hash();
        }
        let parts = self.parts();
        keys.audit_mac(&parts.iter().map(String::as_str).collect::<Vec<_>>())
    }

    /// The bare SHA-256 chain of entries written before keys.
    pub fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
        for part in [
            &self.prev_hash,
            &self.seq.to_string(),
            &self.at,
            &self.actor,
            &self.action,
            &self.target,
            &self.detail,
        ] {
            h.update(part.as_bytes());
            h.update([0x1f]);
        }
        hex::encode(h.finalize())
    }
}

pub struct Store {
    pool: Pool,
    dialect: Dialect,
    data_dir: PathBuf,
    /// One writer of the head file at a time in this process; the rename makes it atomic
    /// for readers and other processes.
    head_file_lock: std::sync::Mutex<()>,
    keys: Keys,
    /// Re-read when a case key's generation is not among them (another node rotated).
    case_keys: std::sync::RwLock<CaseKeys>,
    location: Location,
}

/// Where the database is.
#[derive(Clone, Debug)]
pub enum Location {
    Sqlite(PathBuf),
    Postgres(String),
}

const DATASET_COLUMNS: &str =
    "d.id, d.org_id, o.slug AS org, d.slug, d.title, d.description, d.source, d.methodology, d.licence, \
     d.update_frequency, d.tags, d.sharing, d.sensitive, d.threshold, d.created_at";
const VERSION_COLUMNS: &str = "id, dataset_id, number, created_by, created_at, file_name, file_sha256, format, mode, rows_read, \
     observations, added, changed, removed, warnings, redacted_at";

fn org_from(r: &Row) -> Result<OrgRecord, DbError> {
    Ok(OrgRecord {
        id: r.get("id")?,
        slug: r.get("slug")?,
        name: r.get("name")?,
        country: r.get("country")?,
    })
}

fn dataset_from(r: &Row) -> Result<DatasetRecord, DbError> {
    Ok(DatasetRecord {
        id: r.get("id")?,
        org_id: r.get("org_id")?,
        org: r.get("org")?,
        slug: r.get("slug")?,
        title: r.get("title")?,
        description: r.get("description")?,
        source: r.get("source")?,
        methodology: r.get("methodology")?,
        licence: r.get("licence")?,
        update_frequency: r.get("update_frequency")?,
        tags: r
            .get::<String>("tags")?
            .split(',')
            .filter(|t| !t.is_empty())
            .map(String::from)
            .collect(),
        sharing: r.word("sharing")?,
        sensitive: r.get("sensitive")?,
        threshold: r.get("threshold")?,
        created_at: r.get("created_at")?,
        approved: Vec::new(),
    })
}

const AUDIT_COLUMNS: &str = "seq, at, actor, action, target, detail, prev_hash, hash";

fn audit_entry_from(r: &Row) -> Result<AuditEntry, DbError> {
    Ok(AuditEntry {
        seq: r.get("seq")?,
        at: r.get("at")?,
        actor: r.get("actor")?,
        action: r.get("action")?,
        target: r.get("target")?,
        detail: r.get("detail")?,
        prev_hash: r.get("prev_hash")?,
        hash: r.get("hash")?,
    })
}

fn version_from(r: &Row) -> Result<VersionRecord, StoreError> {
    let id = r.get("id")?;
    let warnings = r.get::<String>("warnings")?;
    Ok(VersionRecord {
        id,
        dataset_id: r.get("dataset_id")?,
        number: r.get("number")?,
        created_by: r.get("created_by")?,
        created_at: r.get("created_at")?,
        file_name: r.get("file_name")?,
        file_sha256: r.get("file_sha256")?,
        format: r.get("format")?,
        mode: r.word("mode")?,
        rows: r.get("rows_read")?,
        observations: r.get("observations")?,
        added: r.get("added")?,
        changed: r.get("changed")?,
        removed: r.get("removed")?,
        warnings: serde_json::from_str(&warnings)
            .map_err(|e| StoreError::Corrupt(format!("version {id}: its warnings: {e}")))?,
        redacted_at: r.get("redacted_at")?,
    })
}

/// A write in progress: everything it does commits together, audit entries included.
pub struct Tx<'a> {
    conn: &'a mut Connection,
    head: Option<(i64, String)>,
    keys: &'a Keys,
    case_keys: CaseKeys,
}

impl Tx<'_> {
    pub fn conn(&mut self) -> &mut Connection {
        self.conn
    }

    /// Appends one entry to the hash chain, inside this transaction.
    pub fn audit(
        &mut self,
        actor: &str,
        action: &str,
        target: &str,
        detail: &str,
    ) -> Result<AuditEntry> {
        let mut entries = self.audit_all(&[(actor, action, target, detail)])?;
        Ok(entries.remove(0))
    }

    /// Appends `(actor, action, target, detail)` entries to the chain in order: the head read
    /// and moved once, the entries written in multi-row statements.
    pub fn audit_all(&mut self, entries: &[(&str, &str, &str, &str)]) -> Result<Vec<AuditEntry>> {
        let lock = if self.conn.dialect() == Dialect::Postgres {
            " FOR UPDATE"
        } else {
            ""
        };
        let head = self.conn.query_one(
            &format!("SELECT seq, hash FROM audit_head WHERE id = 1{lock}"),
            &[],
        )?;
        let (mut seq, mut prev): (i64, String) = match head {
            Some(r) => (r.get("seq")?, r.get("hash")?),
            None => (0, String::new()),
        };
        let at = now().to_string();
        let mut written = Vec::with_capacity(entries.len());
        for (actor, action, target, detail) in entries {
            seq += 1;
            let mut e = AuditEntry {
                seq,
                at: at.clone(),
                actor: (*actor).into(),
                action: (*action).into(),
                target: (*target).into(),
                detail: (*detail).into(),
                prev_hash: prev,
                hash: String::new(),
            };
            e.hash = e.compute_hash_with(self.keys);
            prev = e.hash.clone();
            written.push(e);
        }
        let rows: Vec<Vec<Value>> = written
            .iter()
            .map(|e| {
                vec![
                    e.seq.into(),
                    (&e.at).into(),
                    (&e.actor).into(),
                    (&e.action).into(),
                    (&e.target).into(),
                    (&e.detail).into(),
                    (&e.prev_hash).into(),
                    (&e.hash).into(),
                ]
            })
            .collect();
        self.insert_rows(
            "audit (seq, at, actor, action, target, detail, prev_hash, hash)",
            rows,
        )?;
        if !written.is_empty() {
            self.conn.execute(
                "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1",
                &[seq.into(), (&prev).into()],
            )?;
            self.head = Some((seq, prev));
        }
        Ok(written)
    }

    pub fn insert_org(&mut self, slug: &str, name: &str) -> Result<i64> {
        self.insert_org_of(slug, name, None)
    }

    /// An organisation that speaks for a state (`country`, ISO 3166 alpha-3).
    pub fn insert_org_of(&mut self, slug: &str, name: &str, country: Option<&str>) -> Result<i64> {
        let r = self.conn.query(
            "INSERT INTO orgs (slug, name, country, created_at) VALUES (?, ?, ?, ?) RETURNING id",
            &[slug.into(), name.into(), country.into(), now().into()],
        )?;
        Ok(r[0].get("id")?)
    }

    pub fn insert_user(&mut self, email: &str, password_hash: &str) -> Result<i64> {
        let r = self.conn.query(
            "INSERT INTO users (email, password_hash, created_at) VALUES (?, ?, ?) RETURNING id",
            &[email.into(), password_hash.into(), now().into()],
        )?;
        Ok(r[0].get("id")?)
    }

    pub fn insert_session(
        &mut self,
        id_hash: &str,
        user_id: i64,
        csrf: &str,
        expires_at: Timestamp,
    ) -> Result<()> {
        // Expired sessions go whenever a new one starts.
        self.conn.execute(
            "DELETE FROM sessions WHERE expires_at <= ?",
            &[now().into()],
        )?;
        self.conn.execute(
            "INSERT INTO sessions (id_hash, user_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
            &[id_hash.into(), user_id.into(), csrf.into(), now().into(), expires_at.into()],
        )?;
        Ok(())
    }

    pub fn delete_session(&mut self, id_hash: &str) -> Result<bool> {
        Ok(self
            .conn
            .execute("DELETE FROM sessions WHERE id_hash = ?", &[id_hash.into()])?
            == 1)
    }

    pub fn set_operator(&mut self, user_id: i64, operator: bool) -> Result<()> {
        self.conn.execute(
            "UPDATE users SET operator = ? WHERE id = ?",
            &[(operator as i64).into(), user_id.into()],
        )?;
        Ok(())
    }

    pub fn remove_membership(&mut self, user_id: i64, org_id: i64) -> Result<bool> {
        Ok(self.conn.execute(
            "DELETE FROM memberships WHERE user_id = ? AND org_id = ?",
            &[user_id.into(), org_id.into()],
        )? == 1)
    }

    pub fn set_membership(
        &mut self,
        user_id: i64,
        org_id: i64,
        role: Role,
        supervisor: bool,
    ) -> Result<()> {
        self.conn.execute(
            "DELETE FROM memberships WHERE user_id = ? AND org_id = ?",
            &[user_id.into(), org_id.into()],
        )?;
        self.conn.execute(
            "INSERT INTO memberships (user_id, org_id, role, supervisor) VALUES (?, ?, ?, ?)",
            &[
                user_id.into(),
                org_id.into(),
                role.to_string().into(),
                supervisor.into(),
            ],
        )?;
        Ok(())
    }

    pub fn insert_token(&mut self, user_id: i64, name: &str, token_hash: &str) -> Result<i64> {
        let r = self.conn.query(
            "INSERT INTO tokens (user_id, name, token_hash, created_at) VALUES (?, ?, ?, ?) RETURNING id",
            &[user_id.into(), name.into(), token_hash.into(), now().into()],
        )?;
        Ok(r[0].get("id")?)
    }

    pub fn revoke_token(&mut self, user_id: i64, token_id: i64) -> Result<bool> {
        Ok(self.conn.execute(
            "UPDATE tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL",
            &[now().into(), token_id.into(), user_id.into()],
        )? == 1)
    }

    pub fn insert_dataset(&mut self, d: &DatasetRecord) -> Result<i64> {
        let r = self.conn.query(
            "INSERT INTO datasets (org_id, slug, title, description, source, methodology, licence, update_frequency, tags, sharing, sensitive, threshold, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            &[
                d.org_id.into(), (&d.slug).into(), (&d.title).into(), (&d.description).into(), (&d.source).into(), (&d.methodology).into(),
                (&d.licence).into(), (&d.update_frequency).into(), d.tags.join(",").into(), d.sharing.to_string().into(), d.sensitive.into(),
                d.threshold.into(), d.created_at.into(),
            ],
        )?;
        let id = r[0].get("id")?;
        self.search_outbox(SEARCH_DATASET, id)?;
        Ok(id)
    }

    /// Changes a dataset's record as it is now, inside this transaction, so a change made by
    /// someone else meanwhile (sharing during a long import) is kept; `change` sees the
    /// current record and edits it. Returns the record as written.
    pub fn update_dataset(
        &mut self,
        id: i64,
        change: impl FnOnce(&mut DatasetRecord),
    ) -> Result<DatasetRecord> {
        let lock = if self.conn.dialect() == Dialect::Postgres {
            " FOR UPDATE OF d"
        } else {
            ""
        };
        let row = self
            .conn
            .query_one(&format!("SELECT {DATASET_COLUMNS} FROM datasets d JOIN orgs o ON o.id = d.org_id WHERE d.id = ?{lock}"), &[id.into()])?
            .ok_or_else(|| StoreError::Corrupt(format!("dataset {id} is not there")))?;
        let mut d = dataset_from(&row)?;
        change(&mut d);
        self.conn.execute(
            "UPDATE datasets SET title = ?, description = ?, source = ?, methodology = ?, licence = ?, update_frequency = ?, tags = ?, \
             sharing = ?, sensitive = ?, threshold = ? WHERE id = ?",
            &[
                (&d.title).into(), (&d.description).into(), (&d.source).into(), (&d.methodology).into(), (&d.licence).into(),
                (&d.update_frequency).into(), d.tags.join(",").into(), d.sharing.to_string().into(), d.sensitive.into(), d.threshold.into(), d.id.into(),
            ],
        )?;
        self.search_outbox(SEARCH_DATASET, d.id)?;
        Ok(d)
    }

    pub fn insert_version(&mut self, v: &VersionRecord) -> Result<i64> {
        let r = self.conn.query(
            "INSERT INTO versions (dataset_id, number, created_by, created_at, file_name, file_sha256, format, mode, rows_read, observations, added, changed, removed, warnings) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            &[
                v.dataset_id.into(), v.number.into(), (&v.created_by).into(), v.created_at.into(), (&v.file_name).into(), (&v.file_sha256).into(),
                (&v.format).into(), v.mode.as_str().into(), v.rows.into(), v.observations.into(), v.added.into(), v.changed.into(), v.removed.into(),
                serde_json::to_string(&v.warnings).unwrap_or_else(|_| "[]".into()).into(),
            ],
        )?;
        self.search_outbox(SEARCH_DATASET, v.dataset_id)?;
        Ok(r[0].get("id")?)
    }

    /// Stores a cube as compressed chunks of one kind ("upsert" or "remove").
    pub fn insert_chunks(
        &mut self,
        version_id: i64,
        kind: &str,
        cube: &Cube,
        progress: &mut dyn FnMut(usize),
    ) -> Result<()> {
        let mut start = 0;
        let mut seq = 0i64;
        while start < cube.len() {
            let end = (start + CHUNK).min(cube.len());
            if start == 0 && end == cube.len() {
                self.insert_chunk(version_id, kind, seq, cube)?;
            } else {
                self.insert_chunk(version_id, kind, seq, &cube.slice(start, end))?;
            }
            seq += 1;
            start = end;
            progress(end);
        }
        Ok(())
    }

    /// Stores chunk `seq` of a version's observations of one kind; a chunk holds at most
    /// [`CHUNK`] observations, and its dictionaries only the codes they use.
    pub fn insert_chunk(
        &mut self,
        version_id: i64,
        kind: &str,
        seq: i64,
        chunk: &Cube,
    ) -> Result<()> {
        self.insert_chunk_bytes(version_id, kind, seq, chunk.len() as u64, chunk.to_chunk())
    }

    /// As [`Tx::insert_chunk`], the chunk already in its stored form ([`Cube::to_chunk`]).
    pub fn insert_chunk_bytes(
        &mut self,
        version_id: i64,
        kind: &str,
        seq: i64,
        observations: u64,
        bytes: Vec<u8>,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO chunks (version_id, kind, seq, observations, data) VALUES (?, ?, ?, ?, ?)",
            &[
                version_id.into(),
                kind.into(),
                seq.into(),
                (observations as i64).into(),
                bytes.into(),
            ],
        )?;
        Ok(())
    }

    /// The number of the dataset's latest version that is not redacted.
    pub fn latest_version_number(&mut self, dataset_id: i64) -> Result<Option<i64>> {
        Ok(self
            .conn
            .query_one(
                "SELECT MAX(number) AS number FROM versions WHERE dataset_id = ? AND redacted_at IS NULL",
                &[dataset_id.into()],
            )?
            .map(|r| r.get("number"))
            .transpose()?
            .flatten())
    }

    /// The number the dataset's next version takes: redacted numbers are never reused.
    pub fn next_version_number(&mut self, dataset_id: i64) -> Result<i64> {
        let next = self.conn.query_one(
            "SELECT COALESCE(MAX(number), 0) + 1 AS next FROM versions WHERE dataset_id = ?",
            &[dataset_id.into()],
        )?;
        Ok(next.map(|r| r.get("next")).transpose()?.unwrap_or(1))
    }

    /// A version whose chunks now hold its whole cube, not a difference from the one before.
    pub fn make_base(&mut self, version_id: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE versions SET mode = ? WHERE id = ?",
            &[VersionMode::Base.as_str().into(), version_id.into()],
        )?;
        Ok(())
    }

    pub fn delete_chunks(&mut self, version_id: i64) -> Result<()> {
        self.conn.execute(
            "DELETE FROM chunks WHERE version_id = ?",
            &[version_id.into()],
        )?;
        Ok(())
    }

    /// Keeps the rows an import set aside, as a CSV of the rows as they came.
    pub fn insert_set_aside(&mut self, version_id: i64, rows: i64, csv: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO set_aside (version_id, row_count, content) VALUES (?, ?, ?)",
            &[version_id.into(), rows.into(), csv.into()],
        )?;
        Ok(())
    }

    pub fn mark_redacted(&mut self, version_id: i64, by: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE versions SET redacted_at = ?, redacted_by = ?, warnings = '[]' WHERE id = ?",
            &[now().into(), by.into(), version_id.into()],
        )?;
        // The rows set aside are the version's data too.
        self.conn.execute(
            "DELETE FROM set_aside WHERE version_id = ?",
            &[version_id.into()],
        )?;
        if let Some(r) = self.conn.query_one(
            "SELECT dataset_id FROM versions WHERE id = ?",
            &[version_id.into()],
        )? {
            self.search_outbox(SEARCH_DATASET, r.get("dataset_id")?)?;
        }
        Ok(())
    }
}

/// Makes a file or folder of the data directory readable by its owner only: the data
/// directory holds personal data and keys.
pub fn owner_only(path: &Path, folder: bool) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            path,
            std::fs::Permissions::from_mode(if folder { 0o700 } else { 0o600 }),
        )?;
    }
    #[cfg(not(unix))]
    let _ = (path, folder);
    Ok(())
}

impl Store {
    /// Opens (creating if needed) the database: a `postgres://` URL, or SQLite in `data_dir`.
    pub fn open(data_dir: &Path, database_url: Option<&str>) -> Result<Store> {
        std::fs::create_dir_all(data_dir).map_err(|e| StoreError::DataDir {
            path: data_dir.into(),
            source: e,
        })?;
        owner_only(data_dir, true).map_err(|e| StoreError::DataDir {
            path: data_dir.into(),
            source: e,
        })?;
        let (pool, dialect, location) = match database_url {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                let location = Location::Postgres(url.to_string());
                let url = url.to_string();
                let open = move || -> Result<Connection, DbError> {
                    Ok(Connection::Postgres(db::Pg::new(
                        postgres::Client::connect(&url, postgres::NoTls)?,
                    )))
                };
                (Pool::new(8, Box::new(open)), Dialect::Postgres, location)
            }
            other => {
                let path = match other {
                    Some(p) => PathBuf::from(p.trim_start_matches("sqlite://")),
                    None => data_dir.join("nansen.sqlite"),
                };
                let location = Location::Sqlite(path.clone());
                let open = move || -> Result<Connection, DbError> {
                    let c = rusqlite::Connection::open(&path)?;
                    c.busy_timeout(std::time::Duration::from_secs(30))?;
                    // WAL with full sync: a commit is on disk before it is acknowledged.
                    c.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
                    Ok(Connection::Sqlite(c))
                };
                (Pool::new(8, Box::new(open)), Dialect::Sqlite, location)
            }
        };
        let mut conn = pool.get()?;
        schema::migrate(&mut conn)?;
        let next_entry = conn
            .query_one("SELECT seq FROM audit_head WHERE id = 1", &[])?
            .map(|r| r.get::<i64>("seq"))
            .transpose()?
            .unwrap_or(0)
            + 1;
        drop(conn);
        let keys = Keys::load_or_make(&key_file(data_dir), next_entry)?;
        let case_key_path = case_key_file(data_dir);
        if !case_key_path.exists() {
            // A database that holds case keys without the file that opens them was restored
            // or moved without it: making a new file would leave every case unreadable.
            let mut conn = pool.get()?;
            let keys_held: i64 = conn
                .query_one("SELECT COUNT(*) AS n FROM case_keys", &[])?
                .map(|r| r.get("n"))
                .transpose()?
                .unwrap_or(0);
            if keys_held > 0 {
                return Err(StoreError::Corrupt(format!(
                    "the database holds {keys_held} case keys but there is no case key file at {}: put it there (or name it with NANSEN_CASE_KEY_FILE) before starting",
                    case_key_path.display()
                )));
            }
        }
        let case_keys = CaseKeys::load_or_make(&case_key_path)?;
        let store = Store {
            pool,
            dialect,
            data_dir: data_dir.to_path_buf(),
            head_file_lock: Default::default(),
            keys,
            case_keys: std::sync::RwLock::new(case_keys),
            location,
        };
        store.seal_clear_secrets()?;
        store.follow_case_key_file()?;
        for suffix in ["", "-wal", "-shm"] {
            let f = store.data_dir.join(format!("nansen.sqlite{suffix}"));
            if f.exists() {
                owner_only(&f, false).map_err(|e| StoreError::DataDir {
                    path: f.clone(),
                    source: e,
                })?;
            }
        }
        Ok(store)
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// A folder of the data directory (made if needed) that only this account may enter.
    pub fn private_dir(&self, name: &str) -> Result<PathBuf> {
        let dir = self.data_dir.join(name);
        let io = |e| StoreError::DataDir {
            path: dir.clone(),
            source: e,
        };
        std::fs::create_dir_all(&dir).map_err(io)?;
        owner_only(&dir, true).map_err(io)?;
        Ok(dir)
    }

    fn conn(&self) -> Result<Pooled<'_>> {
        Ok(self.pool.get()?)
    }

    /// Runs `f` in one transaction; on success, commits and moves the audit head file.
    pub fn write<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut Tx) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let mut conn = self.conn()?;
        let begin = if self.dialect == Dialect::Sqlite {
            "BEGIN IMMEDIATE"
        } else {
            "BEGIN"
        };
        conn.batch(begin).map_err(StoreError::from)?;
        let mut tx = Tx {
            conn: &mut conn,
            head: None,
            keys: &self.keys,
            case_keys: self.case_keys(),
        };
        match f(&mut tx) {
            Ok(v) => {
                let head = tx.head.take();
                conn.batch("COMMIT").map_err(StoreError::from)?;
                // The write has committed: it must not be reported as failed. A head file left
                // behind is still a prefix of the chain, which `audit verify` accepts.
                if let Some((seq, hash)) = head {
                    if let Err(e) = self.write_head_file(seq, &hash) {
                        eprintln!("audit head file: {e}");
                    }
                }
                Ok(v)
            }
            Err(e) => {
                let _ = conn.batch("ROLLBACK");
                Err(e)
            }
        }
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    fn head_file(&self) -> PathBuf {
        self.data_dir.join("audit-head")
    }

    /// The chain's head, kept outside the database too, so a truncated chain is noticed.
    fn write_head_file(&self, seq: i64, hash: &str) -> Result<()> {
        let path = self.head_file();
        let _one_writer = self
            .head_file_lock
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        // Several writers may race: only move the head forward.
        if let Some((old, _)) = self.read_head_file() {
            if old >= seq {
                return Ok(());
            }
        }
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let io = |e| StoreError::DataDir {
            path: path.clone(),
            source: e,
        };
        let signature = self.keys.audit_mac(&["head", &seq.to_string(), hash]);
        std::fs::write(&tmp, format!("{seq} {hash} {signature}\n")).map_err(io)?;
        owner_only(&tmp, false).map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)?;
        Ok(())
    }

    pub fn read_head_file(&self) -> Option<(i64, String)> {
        let text = std::fs::read_to_string(self.head_file()).ok()?;
        let mut parts = text.split_whitespace();
        Some((parts.next()?.parse().ok()?, parts.next()?.to_string()))
    }

    /// Whether the head file was written by this installation: signed with its audit key (a
    /// head from before the installation had keys is unsigned, and taken as it is).
    pub fn head_file_is_genuine(&self) -> bool {
        let Ok(text) = std::fs::read_to_string(self.head_file()) else {
            return true;
        };
        let parts: Vec<&str> = text.split_whitespace().collect();
        match parts[..] {
            [seq, hash, signature] => self.keys.audit_mac(&["head", seq, hash]) == signature,
            [seq, _] => seq.parse::<i64>().is_ok_and(|s| s < self.keys.keyed_from),
            _ => false,
        }
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// The case keys as this node last read them.
    pub fn case_keys(&self) -> CaseKeys {
        self.case_keys
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// New case keys are wrapped by the generation the database names; when the case key
    /// file does not hold it (a database restored beside a newer file, a file made anew), the
    /// file's newest generation is named instead.
    fn follow_case_key_file(&self) -> Result<()> {
        let keys = self.case_keys();
        let named: i64 = self
            .query("SELECT generation FROM case_key_state WHERE id = 1", &[])?
            .first()
            .map(|r| r.get("generation"))
            .transpose()?
            .unwrap_or(0);
        if !keys.generations().contains(&named) {
            self.write(|tx| {
                tx.conn().execute(
                    "UPDATE case_key_state SET generation = ? WHERE id = 1",
                    &[keys.current().into()],
                )?;
                Ok::<_, StoreError>(())
            })?;
        }
        Ok(())
    }

    /// Reads the case key file again.
    pub fn reload_case_keys(&self) -> Result<()> {
        let fresh = self.case_keys().reload()?;
        *self.case_keys.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        Ok(())
    }

    /// The hash an entry must have, as this installation computes it.
    pub fn audit_hash(&self, e: &AuditEntry) -> String {
        e.compute_hash_with(&self.keys)
    }

    pub fn query(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        Ok(self.conn()?.query(sql, params)?)
    }

    pub fn org(&self, slug: &str) -> Result<Option<OrgRecord>> {
        Ok(self
            .query(
                "SELECT id, slug, name, country FROM orgs WHERE slug = ?",
                &[slug.into()],
            )?
            .first()
            .map(org_from)
            .transpose()?)
    }

    pub fn orgs(&self) -> Result<Vec<OrgRecord>> {
        Ok(self
            .query(
                "SELECT id, slug, name, country FROM orgs ORDER BY slug",
                &[],
            )?
            .iter()
            .map(org_from)
            .collect::<Result<_, _>>()?)
    }

    pub fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>> {
        Ok(self
            .query(
                "SELECT id, email, password_hash, operator FROM users WHERE email = ?",
                &[email.into()],
            )?
            .first()
            .map(user_from)
            .transpose()?)
    }

    pub fn user(&self, id: i64) -> Result<Option<UserRecord>> {
        Ok(self
            .query(
                "SELECT id, email, password_hash, operator FROM users WHERE id = ?",
                &[id.into()],
            )?
            .first()
            .map(user_from)
            .transpose()?)
    }

    /// Members of the given organisations (all when `orgs` is none), by organisation and e-mail.
    pub fn members(&self, orgs: Option<&[String]>) -> Result<Vec<MemberRecord>> {
        let rows = self.query(
            "SELECT u.id, u.email, o.slug AS org, m.role, m.supervisor FROM memberships m JOIN users u ON u.id = m.user_id JOIN orgs o ON o.id = m.org_id ORDER BY o.slug, u.email",
            &[],
        )?;
        let mut members = Vec::new();
        for r in &rows {
            let m = MemberRecord {
                user_id: r.get("id")?,
                email: r.get("email")?,
                org: r.get("org")?,
                role: r.word("role")?,
                supervisor: r.get("supervisor")?,
            };
            if orgs.is_none_or(|o| o.contains(&m.org)) {
                members.push(m);
            }
        }
        Ok(members)
    }

    /// The live session with this hash.
    pub fn session(&self, id_hash: &str) -> Result<Option<SessionRecord>> {
        Ok(self
            .query("SELECT user_id, csrf, expires_at FROM sessions WHERE id_hash = ? AND expires_at > ?", &[id_hash.into(), now().into()])?
            .first()
            .map(|r| -> Result<_, DbError> {
                Ok(SessionRecord {
                    user_id: r.get("user_id")?,
                    csrf: r.get("csrf")?,
                    expires_at: r.get("expires_at")?,
                })
            })
            .transpose()?)
    }

    /// Each organisation a user belongs to, with the role held there.
    pub fn memberships(&self, user_id: i64) -> Result<Vec<Membership>> {
        self
            .query(
                "SELECT o.slug, m.role, m.supervisor FROM memberships m JOIN orgs o ON o.id = m.org_id WHERE m.user_id = ? ORDER BY o.slug",
                &[user_id.into()],
            )?
            .iter()
            .map(|r| {
                Ok(Membership {
                    org: r.get("slug")?,
                    role: r.word("role")?,
                    supervisor: r.get("supervisor")?,
                })
            })
            .collect::<Result<_>>()
    }

    /// The live token with this hash, stamping its last use.
    pub fn use_token(&self, token_hash: &str) -> Result<Option<i64>> {
        let rows = self.query(
            "SELECT id, user_id FROM tokens WHERE token_hash = ? AND revoked_at IS NULL",
            &[token_hash.into()],
        )?;
        let Some(r) = rows.first() else {
            return Ok(None);
        };
        self.conn()?.execute(
            "UPDATE tokens SET last_used_at = ? WHERE id = ?",
            &[now().into(), r.get::<i64>("id")?.into()],
        )?;
        Ok(Some(r.get("user_id")?))
    }

    pub fn tokens(&self, user_id: i64) -> Result<Vec<TokenRecord>> {
        Ok(self
            .query("SELECT id, user_id, name, created_at, last_used_at, revoked_at FROM tokens WHERE user_id = ? ORDER BY id", &[user_id.into()])?
            .iter()
            .map(|r| {
                Ok(TokenRecord {
                    id: r.get("id")?,
                    user_id: r.get("user_id")?,
                    name: r.get("name")?,
                    created_at: r.get("created_at")?,
                    last_used_at: r.get("last_used_at")?,
                    revoked_at: r.get("revoked_at")?,
                })
            })
            .collect::<Result<_, DbError>>()?)
    }

    fn with_approvals(&self, mut d: DatasetRecord) -> Result<DatasetRecord> {
        d.approved = self.approved(requests::DATASET, d.id)?;
        Ok(d)
    }

    pub fn dataset(&self, org: &str, slug: &str) -> Result<Option<DatasetRecord>> {
        let rows = self.query(
            &format!("SELECT {DATASET_COLUMNS} FROM datasets d JOIN orgs o ON o.id = d.org_id WHERE o.slug = ? AND d.slug = ?"),
            &[org.into(), slug.into()],
        )?;
        rows.first()
            .map(|r| self.with_approvals(dataset_from(r)?))
            .transpose()
    }

    pub fn dataset_by_id(&self, id: i64) -> Result<Option<DatasetRecord>> {
        let rows = self.query(&format!("SELECT {DATASET_COLUMNS} FROM datasets d JOIN orgs o ON o.id = d.org_id WHERE d.id = ?"), &[id.into()])?;
        rows.first()
            .map(|r| self.with_approvals(dataset_from(r)?))
            .transpose()
    }

    pub fn datasets(&self) -> Result<Vec<DatasetRecord>> {
        let rows = self.query(&format!("SELECT {DATASET_COLUMNS} FROM datasets d JOIN orgs o ON o.id = d.org_id ORDER BY o.slug, d.slug"), &[])?;
        rows.iter()
            .map(|r| self.with_approvals(dataset_from(r)?))
            .collect()
    }

    /// The rows a version's import set aside (a CSV), when it set any aside.
    pub fn set_aside(&self, version_id: i64) -> Result<Option<String>> {
        Ok(self
            .query(
                "SELECT content FROM set_aside WHERE version_id = ?",
                &[version_id.into()],
            )?
            .first()
            .map(|r| r.get("content"))
            .transpose()?)
    }

    pub fn versions(&self, dataset_id: i64) -> Result<Vec<VersionRecord>> {
        self.query(
            &format!("SELECT {VERSION_COLUMNS} FROM versions WHERE dataset_id = ? ORDER BY number"),
            &[dataset_id.into()],
        )?
        .iter()
        .map(version_from)
        .collect::<Result<_>>()
    }

    /// One version's own chunks of one kind, gathered into one cube (or none if it has none),
    /// decoding one chunk at a time.
    pub fn chunks(&self, version_id: i64, kind: &str) -> Result<Option<Cube>> {
        let rows = self.query(
            "SELECT data FROM chunks WHERE version_id = ? AND kind = ? ORDER BY seq",
            &[version_id.into(), kind.into()],
        )?;
        let mut out: Option<Cube> = None;
        for r in rows {
            let c = Cube::from_chunk(&r.get::<Vec<u8>>("data")?)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            match out.as_mut() {
                Some(o) => o.extend(&c),
                None => out = Some(c),
            }
        }
        Ok(out)
    }

    /// The whole content of a dataset as of `versions[..=upto]`: each version's changes
    /// applied over the previous content. Redacted versions hold nothing.
    pub fn content(
        &self,
        versions: &[VersionRecord],
        upto: usize,
        dims: Option<Vec<String>>,
    ) -> Result<Cube> {
        let mut content: Option<Cube> = None;
        for v in versions.iter().take(upto + 1) {
            if v.redacted_at.is_some() {
                continue;
            }
            let upserts = self.chunks(v.id, "upsert")?;
            let removals = self.chunks(v.id, "remove")?;
            if v.mode == VersionMode::Base {
                // A replacement whose dimensions differ: it stands alone.
                content = None;
            }
            content = match (content.take(), upserts, removals) {
                (None, u, _) => u,
                (Some(c), u, r) => {
                    let empty = Cube::new(c.dims.clone());
                    Some(c.apply(u.as_ref().unwrap_or(&empty), r.as_ref().unwrap_or(&empty)))
                }
            };
        }
        Ok(content.unwrap_or_else(|| Cube::new(dims.unwrap_or_default())))
    }

    pub fn audit_entries(&self) -> Result<Vec<AuditEntry>> {
        self.audit_page(0, i64::MAX)
    }

    /// As [`Store::audit_page`], only entries about these organisations (the organisation
    /// itself, or anything under `ORG/`).
    pub fn audit_page_about(
        &self,
        orgs: &[String],
        after: i64,
        limit: i64,
    ) -> Result<Vec<AuditEntry>> {
        if orgs.is_empty() {
            return Ok(Vec::new());
        }
        let about = vec!["(target = ? OR substr(target, 1, ?) = ?)"; orgs.len()].join(" OR ");
        let mut params: Vec<Value> = vec![after.into()];
        for o in orgs {
            let prefix = format!("{o}/");
            params.extend([o.into(), (prefix.len() as i64).into(), prefix.into()]);
        }
        params.push(limit.into());
        Ok(self
            .query(&format!("SELECT {AUDIT_COLUMNS} FROM audit WHERE seq > ? AND ({about}) ORDER BY seq LIMIT ?"), &params)?
            .iter()
            .map(audit_entry_from)
            .collect::<Result<_, _>>()?)
    }

    /// Up to `limit` entries after entry `after`, oldest first: the chain read a page at a
    /// time, in constant memory.
    pub fn audit_page(&self, after: i64, limit: i64) -> Result<Vec<AuditEntry>> {
        Ok(self
            .query(
                &format!("SELECT {AUDIT_COLUMNS} FROM audit WHERE seq > ? ORDER BY seq LIMIT ?"),
                &[after.into(), limit.into()],
            )?
            .iter()
            .map(audit_entry_from)
            .collect::<Result<_, _>>()?)
    }

    /// The database's own record of the chain head.
    pub fn audit_head(&self) -> Result<(i64, String)> {
        let rows = self.query("SELECT seq, hash FROM audit_head WHERE id = 1", &[])?;
        Ok(match rows.first() {
            Some(r) => (r.get("seq")?, r.get("hash")?),
            None => (0, String::new()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_audit_entry_chains_to_the_one_before_and_moves_the_head_file() {
        for t in testing::stores() {
            let s = &t.store;
            s.write(|tx| -> Result<()> {
                tx.insert_org("euaa", "EU Asylum Agency")?;
                tx.audit("operator", "org.add", "euaa", "{}")?;
                tx.audit("operator", "org.add", "iom", "{}")?;
                Ok(())
            })
            .unwrap();
            let entries = s.audit_entries().unwrap();
            assert_eq!(entries.len(), 2, "{}", t.name);
            assert_eq!(entries[1].prev_hash, entries[0].hash);
            assert_eq!(entries[1].hash, s.audit_hash(&entries[1]));
            assert_eq!(
                s.read_head_file(),
                Some((2, entries[1].hash.clone())),
                "{}",
                t.name
            );
        }
    }

    /// A row is read by column name as the type its reader expects; a missing or doubled
    /// name, a NULL where a value must be, or a value of another type is an error naming the
    /// column, never a zero or an empty string.
    #[test]
    fn a_row_read_by_a_wrong_name_or_type_is_an_error_naming_the_column() {
        for t in testing::stores() {
            let s = &t.store;
            let rows = s
                .query(
                    "SELECT 7 AS n, 'seven' AS word, NULL AS absent, 1 AS twice, 2 AS twice",
                    &[],
                )
                .unwrap();
            let r = &rows[0];
            assert_eq!(r.get::<i64>("n").unwrap(), 7, "{}", t.name);
            assert_eq!(r.get::<String>("word").unwrap(), "seven", "{}", t.name);
            assert_eq!(r.get::<Option<i64>>("absent").unwrap(), None, "{}", t.name);
            assert_eq!(r.get::<Option<i64>>("n").unwrap(), Some(7), "{}", t.name);
            for (e, says) in [
                (r.get::<i64>("number").unwrap_err(), "column number: the statement gives no such column (it gives n, word, absent, twice, twice)"),
                (r.get::<i64>("word").unwrap_err(), "column word: holds text where an integer was expected"),
                (r.get::<String>("n").unwrap_err(), "column n: holds an integer where text was expected"),
                (r.get::<String>("absent").unwrap_err(), "column absent: holds NULL where text was expected"),
                (r.get::<i64>("twice").unwrap_err(), "column twice: the statement gives two columns of that name"),
                (r.get::<bool>("n").unwrap_err(), "column n: holds an integer where a flag (0 or 1) was expected"),
            ] {
                assert_eq!(e.to_string(), says, "{}", t.name);
            }
        }
    }

    #[test]
    fn a_failed_write_leaves_nothing_behind() {
        for t in testing::stores() {
            let s = &t.store;
            let r: Result<()> = s.write(|tx| {
                tx.insert_org("iom", "IOM")?;
                tx.audit("operator", "org.add", "iom", "{}")?;
                tx.insert_org("iom", "IOM again")?; // unique slug: fails
                Ok(())
            });
            assert!(
                matches!(&r, Err(StoreError::Db(e)) if e.is_conflict()),
                "{}: {r:?}",
                t.name
            );
            assert!(s.orgs().unwrap().is_empty(), "{}", t.name);
            assert!(s.audit_entries().unwrap().is_empty(), "{}", t.name);
            assert_eq!(s.audit_head().unwrap().0, 0);
        }
    }

    #[test]
    fn chunks_give_back_the_cube_and_versions_apply_in_order() {
        for t in testing::stores() {
            let s = &t.store;
            let mut v1 = Cube::new(vec!["indicator".into(), "period".into(), "geo".into()]);
            for i in 0..(CHUNK + 10) {
                v1.push(
                    &[
                        "refugees",
                        &format!("{}", 1900 + i % 120),
                        &format!("G{}", i / 120),
                    ],
                    Some(i as f64),
                    "",
                );
            }
            let mut v2 = v1.slice(0, 100);
            v2.values[0] = -1.0;
            let d = v1.diff(&v2);
            let (id1, id2) = s
                .write(|tx| -> Result<(i64, i64)> {
                    let org = tx.insert_org("euaa", "EUAA")?;
                    let ds = tx.insert_dataset(&DatasetRecord::new(org, "x", "X"))?;
                    let mk = |n| VersionRecord {
                        id: 0,
                        dataset_id: ds,
                        number: n,
                        created_by: "t".into(),
                        created_at: Timestamp::now(),
                        file_name: "f".into(),
                        file_sha256: "0".into(),
                        format: "csv".into(),
                        mode: VersionMode::Replace,
                        rows: 0,
                        observations: 0,
                        added: 0,
                        changed: 0,
                        removed: 0,
                        warnings: Vec::new(),
                        redacted_at: None,
                    };
                    let a = tx.insert_version(&mk(1))?;
                    tx.insert_chunks(a, "upsert", &v1, &mut |_| {})?;
                    let b = tx.insert_version(&mk(2))?;
                    tx.insert_chunks(b, "upsert", &d.upserts, &mut |_| {})?;
                    tx.insert_chunks(b, "remove", &d.removals, &mut |_| {})?;
                    Ok((a, b))
                })
                .unwrap();
            let stored = s
                .query(
                    "SELECT COUNT(*) AS n FROM chunks WHERE version_id = ? AND kind = 'upsert'",
                    &[id1.into()],
                )
                .unwrap();
            assert_eq!(
                stored[0].get::<i64>("n").unwrap(),
                2,
                "{}: two chunks",
                t.name
            );
            assert_eq!(
                s.chunks(id1, "upsert").unwrap().unwrap().len(),
                CHUNK + 10,
                "{}",
                t.name
            );
            assert_eq!(
                s.chunks(id2, "upsert").unwrap().unwrap().len(),
                1,
                "{}: only the changed observation is stored",
                t.name
            );
            let versions = s
                .versions(s.dataset("euaa", "x").unwrap().unwrap().id)
                .unwrap();
            let c1 = s.content(&versions, 0, None).unwrap();
            let c2 = s.content(&versions, 1, None).unwrap();
            assert_eq!(c1.len(), CHUNK + 10);
            assert_eq!(c2.len(), 100);
            assert_eq!(c2.values.iter().filter(|v| **v == -1.0).count(), 1);
        }
    }
}

//! Datasets and their versions: import, query, export, sharing, redaction, access requests.

use crate::catalogue::{days_since, Freshness};
use crate::identity::check_slug;
use crate::{App, AppError, Caller, Need, Result};
use nansen_codes::CodeLists;
use nansen_formats::{ExportFormat, ImportOptions};
use nansen_model::{
    disclosure, Access, Cube, DatasetName, DatasetReach, Query, Remedy, Role, Sharing, Table,
    Timestamp, VersionMode,
};
use nansen_store::{DatasetRecord, HookSubject, StoreError, VersionRecord};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

/// An import as a data manager asks for it.
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize)]
pub struct ImportRequest {
    pub org: String,
    pub slug: String,
    /// The name the file had where it came from (shown in versions; Eurostat files say there what they are).
    pub file_name: String,
    pub options: ImportOptions,
    pub append: bool,
    pub dry_run: bool,
    pub share: Option<Sharing>,
    pub title: Option<String>,
    pub sensitive: Option<bool>,
}

impl ImportRequest {
    /// The dataset the file goes to. Its two parts stay apart in the request, which is kept
    /// as JSON with a staged upload.
    pub fn dataset(&self) -> DatasetName {
        DatasetName::new(&self.org, &self.slug)
    }
}

/// Descriptive metadata to change; `None` leaves a field as it is.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct Metadata {
    pub title: Option<String>,
    pub description: Option<String>,
    pub source: Option<String>,
    pub methodology: Option<String>,
    pub licence: Option<String>,
    pub update_frequency: Option<String>,
    pub tags: Option<Vec<String>>,
}

/// Where a long import is, for a progress bar.
#[derive(Clone, Debug, PartialEq)]
pub enum Progress {
    Reading { rows: u64 },
    Comparing { observations: u64 },
    Saving { done: u64, total: u64 },
}

#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct ImportReport {
    pub dataset: String,
    /// The new version's number; none on a dry run.
    pub version: Option<i64>,
    pub format: String,
    pub rows: u64,
    /// Observations in the dataset after this import.
    pub observations: u64,
    pub added: u64,
    pub changed: u64,
    pub removed: u64,
    pub warnings: Vec<String>,
    /// Rows kept out with `--set-aside` (downloadable with the version).
    pub set_aside: u64,
    pub dry_run: bool,
    /// On a dry run, the dimensions and a few of the observations it would add, change and
    /// remove, to look at before confirming.
    pub dims: Vec<String>,
    pub sample: Vec<Change>,
}

/// An export, ready to send.
pub struct ExportFile {
    pub bytes: Vec<u8>,
    pub file_name: String,
    pub media_type: &'static str,
    /// `SEQ HASH` of the audit chain just after the export was recorded.
    pub audit_head: String,
    /// The dataset, version, source and licence the file carries beside it.
    pub provenance: nansen_model::Provenance,
}

/// One observation an import would add, change or remove.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq)]
pub struct Change {
    /// `added`, `changed` or `removed`.
    pub kind: String,
    pub key: Vec<String>,
    pub old: Option<f64>,
    pub new: Option<f64>,
}

/// What a new version saves.
enum Stored {
    /// Every observation read (a first version, or one whose dimensions differ).
    Whole,
    /// What changed against the content before, and the content after.
    Difference(Box<Difference>),
}

struct Difference {
    upserts: Cube,
    removals: Cube,
    /// The content after, for the cache; none when the file was too large to hold.
    content: Option<Arc<Cube>>,
    /// How many observations the content after holds.
    observations: u64,
}

// The chunks a file is read into are saved as they are.
const _: () = assert!(nansen_formats::CHUNK_ROWS == nansen_store::CHUNK);

/// How many of each kind of change a dry run shows.
const SAMPLE: usize = 10;

/// A few of the changes from `previous` to the new content, of each kind.
fn sample_changes(previous: Option<&Cube>, upserts: &Cube, removals: &Cube) -> Vec<Change> {
    let owned = |k: Vec<&str>| k.into_iter().map(String::from).collect::<Vec<_>>();
    let mut out = Vec::new();
    let first = (0..upserts.len().min(SAMPLE * 4)).collect::<Vec<_>>();
    let keys: Vec<Vec<&str>> = first.iter().map(|&r| upserts.key(r)).collect();
    let old_rows = match previous {
        Some(p) if p.dims == upserts.dims => p.find(&keys),
        _ => vec![None; keys.len()],
    };
    let (mut added, mut changed) = (0, 0);
    for (&r, old) in first.iter().zip(old_rows) {
        let (kind, n) = if old.is_some() {
            ("changed", &mut changed)
        } else {
            ("added", &mut added)
        };
        if *n < SAMPLE {
            *n += 1;
            out.push(Change {
                kind: kind.into(),
                key: owned(upserts.key(r)),
                old: old.and_then(|o| previous.and_then(|p| p.value(o))),
                new: upserts.value(r),
            });
        }
    }
    let gone: Vec<Vec<&str>> = (0..removals.len().min(SAMPLE))
        .map(|r| removals.key(r))
        .collect();
    let old_rows = previous
        .map(|p| p.find(&gone))
        .unwrap_or_else(|| vec![None; gone.len()]);
    for (k, old) in gone.into_iter().zip(old_rows) {
        out.push(Change {
            kind: "removed".into(),
            key: owned(k),
            old: old.and_then(|o| previous.and_then(|p| p.value(o))),
            new: None,
        });
    }
    out
}

/// A version as callers see it.
pub type VersionView = VersionRecord;

#[derive(Clone, Debug, Serialize)]
pub struct DatasetView {
    pub name: String,
    pub org: String,
    pub slug: String,
    pub title: String,
    pub description: String,
    pub source: String,
    pub methodology: String,
    pub licence: String,
    pub update_frequency: String,
    pub tags: Vec<String>,
    /// The sharing level; the partner list only for the owner.
    pub sharing: String,
    pub sensitive: bool,
    /// What the caller may do.
    pub access: DatasetReach,
    /// When the latest version landed, and whether that is as often as promised.
    pub updated_at: Option<Timestamp>,
    pub freshness: Freshness,
    pub versions: Vec<VersionView>,
    /// Whether the caller may share it, redact its versions and answer requests for it.
    pub may_administer: bool,
    /// Its disclosure threshold, for those who administer it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<i64>,
}

/// The SHA-256 of some bytes, in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn sha256_of(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// The sharing level as a caller may see it: outside the owner, partners without the list.
pub(crate) fn shown_sharing(access: Access, sharing: &Sharing) -> String {
    match (access, sharing) {
        (Access::Owner(_), _) => sharing.to_string(),
        (_, Sharing::Partners(_)) => "partners".into(),
        _ => sharing.to_string(),
    }
}

impl App {
    fn view(&self, d: &DatasetRecord, access: Access) -> Result<DatasetView> {
        let sharing = shown_sharing(access, &d.sharing);
        let versions = self.store.versions(d.id)?;
        let updated_at = versions
            .iter()
            .rev()
            .find(|v| v.redacted_at.is_none())
            .map(|v| v.created_at);
        Ok(DatasetView {
            freshness: Freshness::of(&d.update_frequency, updated_at.map(days_since)),
            updated_at,
            name: format!("{}/{}", d.org, d.slug),
            org: d.org.clone(),
            slug: d.slug.clone(),
            title: d.title.clone(),
            description: d.description.clone(),
            source: d.source.clone(),
            methodology: d.methodology.clone(),
            licence: d.licence.clone(),
            update_frequency: d.update_frequency.clone(),
            tags: d.tags.clone(),
            sharing,
            sensitive: d.sensitive,
            access: access.into(),
            versions,
            may_administer: Need::Admin.met_by(access),
            threshold: Need::Admin.met_by(access).then_some(d.threshold),
        })
    }

    /// Every dataset the caller may know of.
    pub fn list_datasets(&self, who: &Caller) -> Result<Vec<DatasetView>> {
        let mut out = Vec::new();
        for d in self.store.datasets()? {
            let access = self.access(&who.principal, &d);
            if access >= Access::Metadata {
                out.push(self.view(&d, access)?);
            }
        }
        Ok(out)
    }

    pub fn dataset(&self, who: &Caller, name: &DatasetName) -> Result<DatasetView> {
        let (d, access) = self.authorize(who, name, Need::Metadata)?;
        self.view(&d, access)
    }

    /// The observations of a version (the latest when `number` is none) as this caller may
    /// see them: disclosure-controlled outside the owner when the dataset is sensitive.
    pub(crate) fn cube_of(
        &self,
        d: &DatasetRecord,
        access: Access,
        number: Option<i64>,
    ) -> Result<Arc<Cube>> {
        self.cube_read(d, access, number).map(|(c, _)| c)
    }

    /// As [`App::cube_of`], with the number of the version the cube holds (none for a dataset
    /// without one): what an answer's provenance names, from the read itself.
    fn cube_read(
        &self,
        d: &DatasetRecord,
        access: Access,
        number: Option<i64>,
    ) -> Result<(Arc<Cube>, Option<i64>)> {
        let _ = self.fresh_pipeline(&d.org, &d.slug);
        let versions = self.store.versions(d.id)?;
        let idx = match number {
            Some(n) => {
                let i = versions.iter().position(|v| v.number == n).ok_or_else(|| {
                    AppError::NotFound(format!("version {n} of {}/{}", d.org, d.slug))
                })?;
                if versions[i].redacted_at.is_some() {
                    return Err(AppError::NotFound(format!(
                        "version {n} of {}/{} (it was redacted)",
                        d.org, d.slug
                    )));
                }
                Some(i)
            }
            None => versions.iter().rposition(|v| v.redacted_at.is_none()),
        };
        let Some(idx) = idx else {
            return Ok((
                Arc::new(Cube::new(vec!["indicator".into(), "period".into()])),
                None,
            ));
        };
        let protect = d.sensitive && !matches!(access, Access::Owner(_));
        // The threshold is part of the key: another node may change it at any time.
        let key = (
            d.id,
            versions[idx].number,
            if protect { d.threshold } else { 0 },
        );
        // While the latest version is built, others read the one before it (each answer is
        // one version or the other); a version asked for by number is waited for.
        let served = if !protect {
            self.cube_once(key, number.is_none(), || {
                Ok(Arc::new(self.store.content(&versions, idx, None)?))
            })?
        } else {
            self.cube_once(key, number.is_none(), || {
                let raw = self.cached_content(d.id, &versions, idx)?;
                Ok(Arc::new(disclosure::protect(
                    &raw,
                    d.threshold as f64,
                    CodeLists::get(),
                )))
            })?
        };
        Ok((served.0, Some(served.1)))
    }

    pub(crate) fn cached_content(
        &self,
        dataset_id: i64,
        versions: &[VersionRecord],
        idx: usize,
    ) -> Result<Arc<Cube>> {
        self.cube_once((dataset_id, versions[idx].number, 0), false, || {
            Ok(Arc::new(self.store.content(versions, idx, None)?))
        })
        .map(|(c, _)| c)
    }

    /// The cube under `key`, built once however many ask at the same moment: one builds, the
    /// others wait for it, or with `earlier_ok` read the newest earlier version in memory.
    /// Returns the cube and the number of the version it holds. `build` must not ask for the
    /// same key (it would wait for itself).
    fn cube_once(
        &self,
        key: (i64, i64, i64),
        earlier_ok: bool,
        build: impl FnOnce() -> Result<Arc<Cube>>,
    ) -> Result<(Arc<Cube>, i64)> {
        let cached = |k: &(i64, i64, i64)| self.cubes.lock().ok().and_then(|c| c.get(k).cloned());
        if let Some(c) = cached(&key) {
            return Ok((c, key.1));
        }
        let slot = self
            .building
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key)
            .or_default()
            .clone();
        let _builder = match slot.try_lock() {
            Ok(g) => g,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => {
                let earlier = self.cubes.lock().ok().and_then(|c| {
                    c.iter()
                        .filter(|(k, _)| k.0 == key.0 && k.2 == key.2 && k.1 < key.1)
                        .max_by_key(|(k, _)| k.1)
                        .map(|(k, c)| (c.clone(), k.1))
                });
                match earlier.filter(|_| earlier_ok) {
                    Some(served) => return Ok(served),
                    None => slot.lock().unwrap_or_else(|p| p.into_inner()),
                }
            }
        };
        if let Some(c) = cached(&key) {
            return Ok((c, key.1));
        }
        let built = build();
        if let Ok(c) = &built {
            self.remember(key, c.clone());
        }
        self.building
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&key);
        built.map(|c| (c, key.1))
    }

    pub(crate) fn remember(&self, key: (i64, i64, i64), cube: Arc<Cube>) {
        if let Ok(mut cache) = self.cubes.lock() {
            // Keep the newest version of each dataset; older ones are rebuilt on demand.
            cache.retain(|k, _| k.0 != key.0 || k.1 >= key.1);
            cache.insert(key, cube);
        }
    }

    fn forget(&self, dataset_id: i64) {
        if let Ok(mut cache) = self.cubes.lock() {
            cache.retain(|k, _| k.0 != dataset_id);
        }
    }

    fn audit_read(
        &self,
        who: &Caller,
        d: &DatasetRecord,
        action: &str,
        detail: serde_json::Value,
    ) -> Result<()> {
        self.audit_read_of(
            who,
            &d.sharing,
            action,
            &format!("{}/{}", d.org, d.slug),
            detail,
        )
    }

    /// Audits a read of a dataset or document; reads of public ones are not audited.
    pub(crate) fn audit_read_of(
        &self,
        who: &Caller,
        sharing: &Sharing,
        action: &str,
        target: &str,
        detail: serde_json::Value,
    ) -> Result<()> {
        if *sharing == Sharing::Public {
            return Ok(());
        }
        self.store.write(|tx| {
            tx.audit(&who.label, action, target, &detail.to_string())
                .map(|_| ())
        })?;
        Ok(())
    }

    /// Runs a query over one dataset, as the caller may see it.
    pub fn query(
        &self,
        who: &Caller,
        name: &DatasetName,
        version: Option<i64>,
        q: &Query,
    ) -> Result<Table> {
        self.query_view(who, name, version, q, false)
    }

    /// As [`App::query`]; `protected` asks for the disclosure-controlled view whoever asks.
    pub(crate) fn query_view(
        &self,
        who: &Caller,
        name: &DatasetName,
        version: Option<i64>,
        q: &Query,
        protected: bool,
    ) -> Result<Table> {
        let (d, access) = self.authorize(who, name, Need::Data)?;
        let access = if protected { Access::Data } else { access };
        let (cube, read) = self.cube_read(&d, access, version)?;
        let mut table = nansen_model::run_query(&cube, q, CodeLists::get())?;
        table.provenance = nansen_model::Provenance {
            unit: std::mem::take(&mut table.provenance.unit),
            query: std::mem::take(&mut table.provenance.query),
            ..Self::provenance_of(&d, read)
        };
        self.audit_read(
            who,
            &d,
            "dataset.query",
            serde_json::json!({ "version": version, "filters": q.filters, "group_by": q.group_by, "rows": table.rows.len() }),
        )?;
        Ok(table)
    }

    /// Where a dataset's numbers come from: what every download of them carries. `version`
    /// is the version the answer was read from.
    fn provenance_of(d: &DatasetRecord, version: Option<i64>) -> nansen_model::Provenance {
        nansen_model::Provenance {
            dataset: format!("{}/{}", d.org, d.slug),
            title: d.title.clone(),
            version,
            source: d.source.clone(),
            licence: d.licence.clone(),
            ..Default::default()
        }
    }

    /// A version as a file to hand over: its bytes, a name, its media type, and the audit
    /// chain's head after this export (for the recipient's manifest).
    pub fn export_file(
        &self,
        who: &Caller,
        name: &DatasetName,
        version: Option<i64>,
        format: ExportFormat,
    ) -> Result<ExportFile> {
        let (org, slug) = (name.org.as_str(), name.slug.as_str());
        let mut bytes = Vec::new();
        let provenance = self.write_export(who, name, version, format, &mut bytes)?;
        let (seq, hash) = self.audit_head()?;
        Ok(ExportFile {
            bytes,
            file_name: format!("{org}-{slug}.{}", format.extension()),
            media_type: format.media_type(),
            audit_head: format!("{seq} {hash}"),
            provenance,
        })
    }

    /// Writes a version's observations in an export format.
    pub fn export(
        &self,
        who: &Caller,
        name: &DatasetName,
        version: Option<i64>,
        format: ExportFormat,
        out: &mut dyn std::io::Write,
    ) -> Result<()> {
        self.write_export(who, name, version, format, out)
            .map(|_| ())
    }

    /// Writes an export and says where it comes from (the version it was read from).
    fn write_export(
        &self,
        who: &Caller,
        name: &DatasetName,
        version: Option<i64>,
        format: ExportFormat,
        out: &mut dyn std::io::Write,
    ) -> Result<nansen_model::Provenance> {
        let (d, access) = self.authorize(who, name, Need::Data)?;
        let (cube, read) = self.cube_read(&d, access, version)?;
        self.audit_read(
            who,
            &d,
            "dataset.export",
            serde_json::json!({ "version": version, "format": format.extension() }),
        )?;
        let p = nansen_model::Provenance {
            query: format!("nansen dataset export {name}"),
            ..Self::provenance_of(&d, read)
        };
        let about = [
            ("dataset", p.dataset.clone()),
            ("title", p.title.clone()),
            (
                "version",
                p.version.map(|v| v.to_string()).unwrap_or_default(),
            ),
            ("source", p.source.clone()),
            ("licence", p.licence.clone()),
            ("query", p.query.clone()),
        ];
        nansen_formats::write(&cube, format, &about, out).map_err(|e| match e.kind() {
            std::io::ErrorKind::Unsupported => AppError::BadRequest(e.to_string()),
            _ => AppError::Store(StoreError::DataDir {
                path: "export".into(),
                source: e,
            }),
        })?;
        Ok(p)
    }

    /// The rows a version's import set aside (`--set-aside`), as they came, with why: a CSV.
    /// Only editors and admins of the owner read them (they are the file as sent, before any
    /// check or disclosure control); every read is audited.
    pub fn set_aside_rows(
        &self,
        who: &Caller,
        name: &DatasetName,
        version: Option<i64>,
    ) -> Result<String> {
        let (d, _) = self.authorize(who, name, Need::Write)?;
        let versions = self.store.versions(d.id)?;
        let v = match version {
            Some(n) => versions.iter().find(|v| v.number == n),
            None => versions.last(),
        }
        .ok_or_else(|| AppError::NotFound(format!("version {version:?} of {name}")))?;
        let csv = self.store.set_aside(v.id)?.ok_or_else(|| {
            AppError::NotFound(format!(
                "rows set aside by version {} of {name}: it set none aside{}",
                v.number,
                if v.redacted_at.is_some() {
                    " (or they were destroyed with the version)"
                } else {
                    ""
                }
            ))
        })?;
        self.store.write(|tx| {
            tx.audit(
                &who.label,
                "dataset.set_aside.read",
                &name.to_string(),
                &serde_json::json!({ "version": v.number }).to_string(),
            )
            .map(|_| ())
        })?;
        Ok(csv)
    }

    /// Whether the caller may make this import at all: asked before its file is received.
    pub fn may_import(&self, who: &Caller, req: &ImportRequest) -> Result<()> {
        self.import_target(who, req).map(|_| ())
    }

    /// The dataset an import goes into (none when it creates one), once the caller may.
    pub(crate) fn import_target(
        &self,
        who: &Caller,
        req: &ImportRequest,
    ) -> Result<Option<DatasetRecord>> {
        let existing = self.store.dataset(&req.org, &req.slug)?;
        let dataset = match &existing {
            Some(_) => Some(self.authorize(who, &req.dataset(), Need::Write)?.0),
            None => {
                // A new dataset: the caller must be an editor or admin of the organisation.
                // To anyone else the answer is the one a hidden dataset gets.
                let hidden = || AppError::NotFound(format!("dataset {}/{}", req.org, req.slug));
                let org = self.store.org(&req.org)?.ok_or_else(hidden)?;
                match who.principal.role_in(&org.slug) {
                    Some(Role::Editor | Role::Admin) => check_slug(&req.slug, "dataset slug")?,
                    Some(_) => {
                        return Err(AppError::Forbidden(format!(
                            "only editors and admins of {} may create datasets",
                            org.slug
                        )))
                    }
                    None => return Err(hidden()),
                }
                None
            }
        };
        let admin = who.principal.role_in(&req.org) == Some(Role::Admin);
        if req.share.is_some() && !admin {
            return Err(AppError::Forbidden(format!(
                "only admins of {} may change who sees {}/{}",
                req.org, req.org, req.slug
            )));
        }
        // Disclosure control protects people: an editor may turn it on, only an admin off
        // (as through sharing).
        if req.sensitive == Some(false) && !admin && dataset.as_ref().is_some_and(|d| d.sensitive) {
            return Err(AppError::Forbidden(format!(
                "only admins of {} may turn disclosure control off for {}/{}",
                req.org, req.org, req.slug
            )));
        }
        self.check_partners(req.share.as_ref())?;
        Ok(dataset)
    }

    /// Reads a file into a new version, all or nothing.
    pub fn import(
        &self,
        who: &Caller,
        req: &ImportRequest,
        path: &Path,
        progress: &dyn Fn(Progress),
    ) -> Result<ImportReport> {
        let started = std::time::Instant::now();
        let result = self.import_file(who, req, path, progress);
        self.counters.import(&result, started.elapsed());
        result
    }

    fn import_file(
        &self,
        who: &Caller,
        req: &ImportRequest,
        path: &Path,
        progress: &dyn Fn(Progress),
    ) -> Result<ImportReport> {
        let dataset = self.import_target(who, req)?;
        let mut options = req.options.clone();
        if options.file_name.is_empty() {
            options.file_name = req.file_name.clone();
        }
        let hasher = {
            let p = path.to_path_buf();
            std::thread::spawn(move || sha256_of(&p))
        };
        // Read in chunks that go to disk once they outgrow memory: a first version is saved
        // from them a chunk at a time, whatever the file's size.
        let mut imported = nansen_formats::read_in_chunks(
            path,
            &options,
            &mut |rows| progress(Progress::Reading { rows }),
            &self.uploads_dir()?,
        )?;
        let sha = hasher
            .join()
            .map_err(|_| AppError::BadRequest("cannot hash the file".into()))?
            .map_err(nansen_formats::ImportError::from)?;

        let versions = match &dataset {
            Some(d) => self.store.versions(d.id)?,
            None => Vec::new(),
        };
        let latest = versions.iter().rposition(|v| v.redacted_at.is_none());
        let previous = match (&dataset, latest) {
            (Some(d), Some(i)) => Some(self.cached_content(d.id, &versions, i)?),
            _ => None,
        };
        // Rows kept out with --set-aside, kept with the version as they came.
        let set_aside = (!imported.set_aside.is_empty())
            .then(|| (imported.set_aside.len() as i64, imported.set_aside_csv()));
        let dims = imported.observations.dims().to_vec();
        let read = imported.observations.len();
        progress(Progress::Comparing { observations: read });
        let same_dims = previous.as_ref().is_some_and(|p| p.dims == dims);
        if req.append && previous.as_ref().is_some_and(|p| !p.is_empty()) && !same_dims {
            return Err(AppError::needs(
                format!(
                    "rows added to a dataset need its dimensions ({}); this file has {}",
                    previous
                        .as_ref()
                        .map(|p| p.dims.join(", "))
                        .unwrap_or_default(),
                    dims.join(", ")
                ),
                Remedy::ReplaceContent,
            ));
        }
        // What the version stores: the whole file, read back a chunk at a time, when there is
        // nothing to compare with; else its difference from the content before.
        let (mode, added, changed, removed, stored) = match previous
            .as_ref()
            .filter(|p| !p.is_empty())
        {
            None => (VersionMode::Replace, read, 0, 0, Stored::Whole),
            Some(p) if !same_dims => (VersionMode::Base, read, 0, p.len() as u64, Stored::Whole),
            Some(p) => {
                // The file is compared a chunk at a time with the content in memory.
                let diff = p.diff_chunks(imported.observations.chunks()?, req.append)?;
                // The content after, for the cache, unless the file was too large to hold.
                let content = if imported.observations.on_disk() {
                    None
                } else if req.append {
                    Some(Arc::new(p.apply(&diff.upserts, &Cube::new(p.dims.clone()))))
                } else {
                    Some(Arc::new(
                        std::mem::take(&mut imported.observations).into_cube()?,
                    ))
                };
                (
                    if req.append {
                        VersionMode::Append
                    } else {
                        VersionMode::Replace
                    },
                    diff.added,
                    diff.changed,
                    diff.removed,
                    Stored::Difference(Box::new(Difference {
                        observations: p.len() as u64 + diff.added - diff.removed,
                        upserts: diff.upserts,
                        removals: diff.removals,
                        content,
                    })),
                )
            }
        };
        let observations = match &stored {
            Stored::Whole => read,
            Stored::Difference(d) => d.observations,
        };
        let name = req.dataset().to_string();
        let mut report = ImportReport {
            dataset: name.clone(),
            version: None,
            format: imported.format.to_string(),
            rows: imported.rows,
            observations,
            added,
            changed,
            removed,
            warnings: imported.warnings.clone(),
            set_aside: set_aside.as_ref().map_or(0, |(n, _)| *n as u64),
            dry_run: req.dry_run,
            dims: Vec::new(),
            sample: Vec::new(),
        };
        if req.dry_run {
            report.sample = match &stored {
                Stored::Difference(d) => {
                    sample_changes(previous.as_deref(), &d.upserts, &d.removals)
                }
                // Everything is new (or replaces content of other dimensions, which is all removed).
                Stored::Whole => {
                    sample_changes(None, imported.observations.head(), &Cube::new(dims.clone()))
                }
            };
            report.dims = dims;
            return Ok(report);
        }
        let total = match &stored {
            Stored::Whole => read,
            Stored::Difference(d) => (d.upserts.len() + d.removals.len()) as u64,
        };
        let expected_latest = latest.map(|i| versions[i].number);
        let may_unprotect = who.principal.role_in(&req.org) == Some(Role::Admin);
        let (dataset_id, number) = self.store.write(|tx| {
            let dataset_id = match &dataset {
                Some(d) => {
                    if req.share.is_some() || req.title.is_some() || req.sensitive.is_some() {
                        // Only what this import names changes; the rest stays as it is now.
                        let d = tx.update_dataset(d.id, |d| {
                            if let Some(s) = &req.share {
                                d.sharing = s.clone();
                            }
                            if let Some(t) = &req.title {
                                d.title = t.clone();
                            }
                            if let Some(s) = req.sensitive {
                                // Even if an admin turned it on during this import.
                                d.sensitive = s || (d.sensitive && !may_unprotect);
                            }
                        })?;
                        tx.audit(&who.label, "dataset.update", &name, &serde_json::json!({ "sharing": d.sharing, "title": d.title, "sensitive": d.sensitive }).to_string())?;
                    }
                    d.id
                }
                None => {
                    let org = self.store.org(&req.org)?.ok_or_else(|| AppError::NotFound(format!("organisation {}", req.org)))?;
                    let rec = DatasetRecord {
                        sharing: req.share.clone().unwrap_or_default(),
                        sensitive: req.sensitive.unwrap_or(false),
                        ..DatasetRecord::new(org.id, &req.slug, req.title.as_deref().unwrap_or(&req.slug))
                    };
                    let id = tx.insert_dataset(&rec)?;
                    tx.audit(&who.label, "dataset.create", &name, &serde_json::json!({ "sharing": rec.sharing, "sensitive": rec.sensitive }).to_string())?;
                    id
                }
            };
            // The version compared against must still be the latest.
            let latest_now = tx.latest_version_number(dataset_id)?;
            if latest_now != expected_latest {
                return Err(AppError::Conflict(format!("another version of {name} landed during this import; import again")));
            }
            let number = tx.next_version_number(dataset_id)?;
            let v = VersionRecord {
                id: 0,
                dataset_id,
                number,
                created_by: who.label.clone(),
                created_at: Timestamp::now(),
                file_name: req.file_name.clone(),
                file_sha256: sha.clone(),
                format: imported.format.to_string(),
                mode,
                rows: imported.rows as i64,
                observations: observations as i64,
                added: added as i64,
                changed: changed as i64,
                removed: removed as i64,
                warnings: imported.warnings.clone(),
                redacted_at: None,
            };
            let vid = tx.insert_version(&v)?;
            let saving = |done: u64| progress(Progress::Saving { done, total });
            match &stored {
                Stored::Whole => {
                    let mut done = 0;
                    for (seq, chunk) in imported.observations.stored_chunks()?.enumerate() {
                        let (observations, bytes) = chunk?;
                        tx.insert_chunk_bytes(vid, "upsert", seq as i64, observations, bytes)?;
                        done += observations;
                        saving(done);
                    }
                }
                Stored::Difference(d) => {
                    tx.insert_chunks(vid, "upsert", &d.upserts, &mut |done| saving(done as u64))?;
                    tx.insert_chunks(vid, "remove", &d.removals, &mut |_| {})?;
                }
            }
            if let Some((n, csv)) = &set_aside {
                tx.insert_set_aside(vid, *n, csv)?;
            }
            tx.audit(
                &who.label,
                "dataset.import",
                &name,
                &serde_json::json!({ "version": number, "file": req.file_name, "sha256": sha, "added": added, "changed": changed, "removed": removed, "set_aside": set_aside.as_ref().map_or(0, |(n, _)| *n) }).to_string(),
            )?;
            // Subscribers hear of it through the outbox, written with the version itself.
            let event = serde_json::json!({ "event": "version.created", "dataset": name, "version": number, "added": added, "changed": changed, "removed": removed, "created_by": who.label });
            tx.queue_deliveries(HookSubject::Dataset(dataset_id), None, "version.created", &event.to_string())?;
            Ok::<_, AppError>((dataset_id, number))
        })
        .map_err(|e| match e {
            // Two first imports of one dataset at once: the other one made it.
            AppError::Store(StoreError::Db(db)) if db.is_conflict() => AppError::Conflict(format!("another import created or changed {name} at the same moment; import again")),
            e => e,
        })?;
        // The content just saved is the one queries will ask for: kept when it is the
        // difference's result, or a file small enough to have stayed in memory.
        match stored {
            Stored::Difference(d) => {
                if let Some(content) = d.content {
                    self.remember((dataset_id, number, 0), content);
                }
            }
            Stored::Whole if !imported.observations.on_disk() => {
                let content = Arc::new(imported.observations.into_cube()?);
                self.remember((dataset_id, number, 0), content);
            }
            Stored::Whole => {}
        }
        report.version = Some(number);
        Ok(report)
    }

    /// Changes who sees a dataset, and its disclosure control.
    pub fn share(
        &self,
        who: &Caller,
        name: &DatasetName,
        sharing: Sharing,
        sensitive: Option<bool>,
        threshold: Option<i64>,
    ) -> Result<()> {
        let (d, _) = self.authorize(who, name, Need::Admin)?;
        self.check_partners(Some(&sharing))?;
        if threshold.is_some_and(|t| !(1..=1000).contains(&t)) {
            return Err(AppError::BadRequest(
                "the disclosure threshold is a count from 1 to 1000".into(),
            ));
        }
        self.store.write(|tx| {
            let d = tx.update_dataset(d.id, |d| {
                d.sharing = sharing.clone();
                if let Some(s) = sensitive {
                    d.sensitive = s;
                }
                if let Some(t) = threshold {
                    d.threshold = t;
                }
            })?;
            tx.audit(&who.label, "dataset.share", &name.to_string(), &serde_json::json!({ "sharing": d.sharing, "sensitive": d.sensitive, "threshold": d.threshold }).to_string())?;
            Ok::<_, StoreError>(())
        })?;
        self.forget(d.id);
        Ok(())
    }

    /// Updates what a dataset says about itself; fields left `None` stay as they are.
    /// Sharing is changed only through [`App::share`], by an admin.
    pub fn set_metadata(&self, who: &Caller, name: &DatasetName, m: &Metadata) -> Result<()> {
        const FREQUENCIES: [&str; 7] = [
            "daily",
            "weekly",
            "monthly",
            "quarterly",
            "annual",
            "irregular",
            "",
        ];
        let (d, _) = self.authorize(who, name, Need::Write)?;
        if let Some(f) = &m.update_frequency {
            if !FREQUENCIES.contains(&f.as_str()) {
                return Err(AppError::BadRequest(format!("update frequency {f:?}: choose daily, weekly, monthly, quarterly, annual or irregular")));
            }
        }
        if m.title.as_deref().is_some_and(|t| t.trim().is_empty()) {
            return Err(AppError::BadRequest("a dataset needs a title".into()));
        }
        let set = |field: &mut String, v: &Option<String>| {
            if let Some(v) = v {
                *field = v.trim().to_string();
            }
        };
        self.store.write(|tx| {
            let d = tx.update_dataset(d.id, |d| {
                set(&mut d.title, &m.title);
                set(&mut d.description, &m.description);
                set(&mut d.source, &m.source);
                set(&mut d.methodology, &m.methodology);
                set(&mut d.licence, &m.licence);
                set(&mut d.update_frequency, &m.update_frequency);
                if let Some(t) = &m.tags {
                    d.tags = t.clone();
                }
            })?;
            tx.audit(
                &who.label,
                "dataset.describe",
                &name.to_string(),
                &serde_json::json!({ "title": d.title }).to_string(),
            )?;
            Ok::<_, StoreError>(())
        })?;
        Ok(())
    }

    /// Destroys one version's data (personal data uploaded by mistake); its metadata and
    /// audit entries stay, and later versions keep exactly the content they had.
    pub fn redact(&self, who: &Caller, name: &DatasetName, number: i64) -> Result<()> {
        let (d, _) = self.authorize(who, name, Need::Admin)?;
        let versions = self.store.versions(d.id)?;
        let k = versions
            .iter()
            .position(|v| v.number == number)
            .ok_or_else(|| AppError::NotFound(format!("version {number} of {name}")))?;
        if versions[k].redacted_at.is_some() {
            return Err(AppError::Conflict(format!(
                "version {number} of {name} is already redacted"
            )));
        }
        // The next live version stored only its changes against this one: restate them
        // against the version before, so its content survives.
        let next = versions
            .iter()
            .enumerate()
            .skip(k + 1)
            .find(|(_, v)| v.redacted_at.is_none())
            .map(|(i, _)| i);
        let rewrite = match next {
            Some(j) if versions[j].mode != VersionMode::Base => {
                let after = self.store.content(&versions, j, None)?;
                let before_idx = versions[..k].iter().rposition(|v| v.redacted_at.is_none());
                let before = match before_idx {
                    Some(i) => self.store.content(&versions, i, None)?,
                    None => Cube::new(after.dims.clone()),
                };
                if before.dims == after.dims || before.is_empty() {
                    let diff = if before.is_empty() {
                        None
                    } else {
                        Some(before.diff(&after))
                    };
                    Some((versions[j].id, diff, after))
                } else {
                    Some((versions[j].id, None, after))
                }
            }
            _ => None,
        };
        self.store.write(|tx| {
            if let Some((vid, diff, after)) = &rewrite {
                tx.delete_chunks(*vid)?;
                match diff {
                    Some(d) => {
                        tx.insert_chunks(*vid, "upsert", &d.upserts, &mut |_| {})?;
                        tx.insert_chunks(*vid, "remove", &d.removals, &mut |_| {})?;
                    }
                    None => {
                        tx.insert_chunks(*vid, "upsert", after, &mut |_| {})?;
                        tx.make_base(*vid)?;
                    }
                }
            }
            tx.delete_chunks(versions[k].id)?;
            tx.mark_redacted(versions[k].id, &who.label)?;
            tx.audit(
                &who.label,
                "version.redact",
                &name.to_string(),
                &serde_json::json!({ "version": number }).to_string(),
            )?;
            Ok::<_, StoreError>(())
        })?;
        self.forget(d.id);
        Ok(())
    }
}

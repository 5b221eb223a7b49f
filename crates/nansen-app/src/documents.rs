//! Documents: reports, methodologies, country-of-origin information, minutes, training
//! material and agreements, under the same sharing levels, access requests, audit and
//! not-found rules as datasets. Each version keeps its file and the text read out of it.

use crate::datasets::sha256_hex;
use crate::{App, AppError, Caller, Need, Result};
use nansen_codes::CodeLists;
use nansen_extract::{ExtractError, Format, Limits};
use nansen_model::{
    dataset_access, Access, DocumentReach, DocumentType, Principal, Role, Sharing, Timestamp,
};
use nansen_store::{DocumentRecord, DocumentVersionRecord, OrgRecord, StoreError};
use serde::Serialize;

/// The largest file taken, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 100 << 20;

/// A document type as people read it; a word that is not one (a search hit's `dataset`) as
/// it is.
pub fn document_type_label(code: &str) -> &str {
    code.parse::<DocumentType>().map_or(code, |t| t.label())
}

/// What is said about a document when it is added; what is not said is read from the file.
#[derive(Clone, Debug, Default)]
pub struct NewDocument {
    pub org: String,
    pub title: Option<String>,
    pub doc_type: Option<String>,
    pub countries: Vec<String>,
    pub themes: Vec<String>,
    /// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; today when not given.
    pub date: Option<String>,
    pub language: Option<String>,
    pub summary: String,
    pub share: Option<Sharing>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DocumentView {
    pub id: i64,
    pub org: String,
    pub title: String,
    #[serde(rename = "type")]
    pub doc_type: DocumentType,
    pub countries: Vec<String>,
    pub themes: Vec<String>,
    pub date: Option<String>,
    pub language: String,
    pub summary: String,
    /// The sharing level; outside the owner, `partners` without the list.
    pub sharing: String,
    pub access: DocumentReach,
    pub created_by: String,
    pub created_at: Timestamp,
    pub versions: Vec<DocumentVersionRecord>,
}

/// A change to what is said about a document; what is none stays as it is.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct DocumentMetadata {
    pub title: Option<String>,
    #[serde(rename = "type")]
    pub doc_type: Option<String>,
    pub countries: Option<Vec<String>>,
    pub themes: Option<Vec<String>>,
    pub date: Option<String>,
    pub language: Option<String>,
    pub summary: Option<String>,
}

/// The text of one version, page by page, for reading in place of the file.
#[derive(Clone, Debug, Serialize)]
pub struct DocumentText {
    pub version: i64,
    pub pages: Vec<String>,
    pub no_text: Option<String>,
}

/// A version's file, to hand over.
pub struct DocumentFile {
    pub file_name: String,
    pub media_type: &'static str,
    pub bytes: Vec<u8>,
}

fn check_date(date: &str) -> Result<String> {
    let parts: Vec<&str> = date.trim().split('-').collect();
    let ok = match parts.as_slice() {
        [y] => y.len() == 4 && y.parse::<u32>().is_ok(),
        [y, m] => {
            y.len() == 4
                && y.parse::<u32>().is_ok()
                && m.parse::<u32>().is_ok_and(|m| (1..=12).contains(&m))
        }
        [y, m, d] => {
            y.len() == 4
                && y.parse::<u32>().is_ok()
                && m.parse::<u32>().is_ok_and(|m| (1..=12).contains(&m))
                && d.parse::<u32>().is_ok_and(|d| (1..=31).contains(&d))
        }
        _ => false,
    };
    if !ok {
        return Err(AppError::BadRequest(format!(
            "date {date:?}: write it as YYYY, YYYY-MM or YYYY-MM-DD"
        )));
    }
    Ok(date.trim().to_string())
}

fn check_countries(countries: &[String]) -> Result<Vec<String>> {
    let codes = CodeLists::get();
    countries
        .iter()
        .flat_map(|c| c.split(','))
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| codes.country(c).map(String::from).ok_or_else(|| AppError::BadRequest(format!("country {c:?} is not a country code or name we know; use ISO 3166 alpha-3, as SYR"))))
        .collect()
}

fn check_language(code: &str) -> Result<String> {
    let c = code.trim().to_ascii_lowercase();
    if (c.len() == 2 || c.len() == 3) && c.bytes().all(|b| b.is_ascii_lowercase()) {
        Ok(c)
    } else {
        Err(AppError::BadRequest(format!(
            "language {code:?}: give an ISO 639-1 code, as en, fr, es or ar"
        )))
    }
}

fn check_type(t: &str) -> Result<DocumentType> {
    let t = t.trim().to_ascii_lowercase();
    if t == "country-of-origin" || t == "country-of-origin-information" {
        return Ok(DocumentType::Coi);
    }
    t.parse().map_err(|_| {
        AppError::BadRequest(format!(
            "type {t:?}: choose one of {}",
            DocumentType::ALL
                .iter()
                .map(|d| d.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

impl From<ExtractError> for AppError {
    fn from(e: ExtractError) -> AppError {
        AppError::BadRequest(e.to_string())
    }
}

impl App {
    pub(crate) fn document_access(&self, who: &Principal, d: &DocumentRecord) -> Access {
        dataset_access(who, &d.org, &d.sharing, &d.approved)
    }

    /// The one rule for documents, as [`App::authorize`] is for datasets: NotFound for anything
    /// the caller may not know exists.
    pub fn authorize_document(
        &self,
        who: &Caller,
        id: i64,
        need: Need,
    ) -> Result<(DocumentRecord, Access)> {
        let not_found = || AppError::NotFound(format!("document {id}"));
        let d = self.store.document(id)?.ok_or_else(not_found)?;
        let access = self.document_access(&who.principal, &d);
        if need.met_by(access) {
            return Ok((d, access));
        }
        if access == Access::None {
            return Err(not_found());
        }
        Err(AppError::Forbidden(match need {
            Need::Data => format!(
                "document {id} is listed: its text is shared on request; ask {} for access",
                d.org
            ),
            Need::Write => format!(
                "only editors and admins of {} may change document {id}",
                d.org
            ),
            _ => format!("only admins of {} may do this to document {id}", d.org),
        }))
    }

    /// Reads a file, refusing it with the reason when it is hostile or not what it claims.
    fn read_document_file(
        &self,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<(Format, nansen_extract::Extracted)> {
        if bytes.len() > MAX_DOCUMENT_BYTES {
            return Err(AppError::BadRequest(format!(
                "{file_name} is {} MB; documents may be up to {} MB",
                bytes.len() >> 20,
                MAX_DOCUMENT_BYTES >> 20
            )));
        }
        if bytes.is_empty() {
            return Err(AppError::BadRequest(format!("{file_name} is empty")));
        }
        let format = Format::detect(file_name, bytes)?;
        let extracted = nansen_extract::extract(format, bytes, &Limits::default())
            .map_err(|e| AppError::BadRequest(format!("{file_name}: {e}")))?;
        Ok((format, extracted))
    }

    /// Whether the caller may add this document: asked before its file is received.
    pub fn may_add_document(&self, who: &Caller, new: &NewDocument) -> Result<OrgRecord> {
        let hidden = || AppError::NotFound(format!("organisation {}", new.org));
        let org = self.store.org(&new.org)?.ok_or_else(hidden)?;
        match who.principal.role_in(&org.slug) {
            Some(Role::Editor | Role::Admin) => {}
            Some(_) => {
                return Err(AppError::Forbidden(format!(
                    "only editors and admins of {} may add documents",
                    org.slug
                )))
            }
            None => return Err(hidden()),
        }
        if new.share.is_some() && who.principal.role_in(&org.slug) != Some(Role::Admin) {
            return Err(AppError::Forbidden(format!(
                "only admins of {} may choose who sees its documents",
                org.slug
            )));
        }
        self.check_partners(new.share.as_ref())?;
        Ok(org)
    }

    /// Whether the caller may add a version to a document: asked before its file is received.
    pub fn may_add_document_version(&self, who: &Caller, id: i64) -> Result<()> {
        self.authorize_document(who, id, Need::Write).map(|_| ())
    }

    /// Adds a document with its first version; editors and admins of the organisation may.
    pub fn add_document(
        &self,
        who: &Caller,
        new: &NewDocument,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<DocumentView> {
        let file_name = &plain_file_name(file_name)?;
        let org = self.may_add_document(who, new)?;
        let doc_type = check_type(new.doc_type.as_deref().unwrap_or("report"))?;
        let countries = check_countries(&new.countries)?;
        let date = match &new.date {
            Some(d) if !d.trim().is_empty() => Some(check_date(d)?),
            _ => Some(Timestamp::now().date()),
        };
        let given_language = new
            .language
            .as_deref()
            .filter(|l| !l.trim().is_empty())
            .map(check_language)
            .transpose()?;
        let (format, extracted) = self.read_document_file(file_name, bytes)?;
        let title = new
            .title
            .clone()
            .filter(|t| !t.trim().is_empty())
            .or_else(|| extracted.title.clone())
            .unwrap_or_else(|| {
                file_name
                    .rsplit_once('.')
                    .map(|(s, _)| s)
                    .unwrap_or(file_name)
                    .replace(['_', '-'], " ")
            });
        let record = DocumentRecord {
            id: 0,
            org_id: org.id,
            org: org.slug.clone(),
            title: title.trim().to_string(),
            doc_type,
            countries,
            themes: new
                .themes
                .iter()
                .flat_map(|t| t.split(','))
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .collect(),
            date,
            language: given_language
                .or_else(|| extracted.language.clone())
                .unwrap_or_default(),
            summary: new.summary.trim().to_string(),
            sharing: new.share.clone().unwrap_or_default(),
            created_by: who.label.clone(),
            created_at: Timestamp::now(),
            // Nobody has asked for access yet.
            approved: Vec::new(),
        };
        let sha = sha256_hex(bytes);
        let id = self.store.write(|tx| {
            let id = tx.insert_document(&record)?;
            tx.put_file(&sha, bytes)?;
            tx.insert_document_version(&version_record(id, file_name, format, bytes.len(), &sha, &extracted, &who.label))?;
            tx.audit(
                &who.label,
                "document.add",
                &format!("document {id}"),
                &serde_json::json!({ "title": record.title, "org": record.org, "file": file_name, "sha256": sha, "sharing": record.sharing, "no_text": extracted.no_text }).to_string(),
            )?;
            Ok::<_, StoreError>(id)
        })?;
        self.document(who, id)
    }

    /// A new version of a document's file; its metadata stays.
    pub fn add_document_version(
        &self,
        who: &Caller,
        id: i64,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<DocumentVersionRecord> {
        self.authorize_document(who, id, Need::Write)?;
        let file_name = &plain_file_name(file_name)?;
        let (format, extracted) = self.read_document_file(file_name, bytes)?;
        let sha = sha256_hex(bytes);
        let number = self.store.write(|tx| {
            tx.put_file(&sha, bytes)?;
            let number = tx.insert_document_version(&version_record(
                id,
                file_name,
                format,
                bytes.len(),
                &sha,
                &extracted,
                &who.label,
            ))?;
            tx.audit(
                &who.label,
                "document.version",
                &format!("document {id}"),
                &serde_json::json!({ "version": number, "file": file_name, "sha256": sha })
                    .to_string(),
            )?;
            Ok::<_, StoreError>(number)
        })?;
        self.store
            .document_version(id, Some(number))?
            .ok_or_else(|| AppError::NotFound(format!("version {number} of document {id}")))
    }

    /// Changes who sees a document; admins of its organisation may.
    pub fn share_document(&self, who: &Caller, id: i64, sharing: Sharing) -> Result<()> {
        let (mut d, _) = self.authorize_document(who, id, Need::Admin)?;
        self.check_partners(Some(&sharing))?;
        let before = std::mem::replace(&mut d.sharing, sharing);
        self.store.write(|tx| {
            tx.update_document(&d)?;
            tx.audit(
                &who.label,
                "document.share",
                &format!("document {id}"),
                &serde_json::json!({ "from": before, "to": d.sharing }).to_string(),
            )?;
            Ok::<_, StoreError>(())
        })?;
        Ok(())
    }

    /// Changes what is said about a document; editors and admins of its organisation may.
    pub fn describe_document(
        &self,
        who: &Caller,
        id: i64,
        m: &DocumentMetadata,
    ) -> Result<DocumentView> {
        let (mut d, _) = self.authorize_document(who, id, Need::Write)?;
        let before = (
            d.title.clone(),
            d.doc_type,
            d.countries.clone(),
            d.themes.clone(),
            d.date.clone(),
            d.language.clone(),
            d.summary.clone(),
        );
        if let Some(t) = &m.title {
            if t.trim().is_empty() {
                return Err(AppError::BadRequest("a document needs a title".into()));
            }
            d.title = t.trim().to_string();
        }
        if let Some(t) = &m.doc_type {
            d.doc_type = check_type(t)?;
        }
        if let Some(c) = &m.countries {
            d.countries = check_countries(c)?;
        }
        if let Some(t) = &m.themes {
            d.themes = t
                .iter()
                .flat_map(|t| t.split(','))
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .collect();
        }
        if let Some(date) = &m.date {
            d.date = Some(check_date(date)?);
        }
        if let Some(l) = &m.language {
            d.language = check_language(l)?;
        }
        if let Some(s) = &m.summary {
            d.summary = s.trim().to_string();
        }
        let after = (
            d.title.clone(),
            d.doc_type,
            d.countries.clone(),
            d.themes.clone(),
            d.date.clone(),
            d.language.clone(),
            d.summary.clone(),
        );
        if after != before {
            self.store.write(|tx| {
                tx.update_document(&d)?;
                tx.audit(
                    &who.label,
                    "document.describe",
                    &format!("document {id}"),
                    &serde_json::json!({ "title": d.title, "type": d.doc_type, "countries": d.countries, "themes": d.themes, "date": d.date, "language": d.language }).to_string(),
                )?;
                Ok::<_, StoreError>(())
            })?;
        }
        self.document(who, id)
    }

    fn document_view(&self, d: &DocumentRecord, access: Access) -> Result<DocumentView> {
        let sharing = crate::datasets::shown_sharing(access, &d.sharing);
        Ok(DocumentView {
            id: d.id,
            org: d.org.clone(),
            title: d.title.clone(),
            doc_type: d.doc_type,
            countries: d.countries.clone(),
            themes: d.themes.clone(),
            date: d.date.clone(),
            language: d.language.clone(),
            summary: d.summary.clone(),
            sharing,
            access: access.into(),
            created_by: d.created_by.clone(),
            created_at: d.created_at,
            versions: self.store.document_versions(d.id)?,
        })
    }

    pub fn document(&self, who: &Caller, id: i64) -> Result<DocumentView> {
        let (d, access) = self.authorize_document(who, id, Need::Metadata)?;
        self.document_view(&d, access)
    }

    /// Every document the caller may know of, newest first.
    pub fn documents(&self, who: &Caller) -> Result<Vec<DocumentView>> {
        let mut out = Vec::new();
        for d in self.store.documents()?.into_iter().rev() {
            let access = self.document_access(&who.principal, &d);
            if access >= Access::Metadata {
                out.push(self.document_view(&d, access)?);
            }
        }
        Ok(out)
    }

    fn audit_document_read(
        &self,
        who: &Caller,
        d: &DocumentRecord,
        action: &str,
        version: i64,
    ) -> Result<()> {
        self.audit_read_of(
            who,
            &d.sharing,
            action,
            &format!("document {}", d.id),
            serde_json::json!({ "version": version }),
        )
    }

    fn version_of(&self, d: &DocumentRecord, number: Option<i64>) -> Result<DocumentVersionRecord> {
        self.store
            .document_version(d.id, number)?
            .ok_or_else(|| match number {
                Some(n) => AppError::NotFound(format!("version {n} of document {}", d.id)),
                None => AppError::NotFound(format!("a version of document {}", d.id)),
            })
    }

    /// A version's file (the latest when `number` is none), to those who may read the document.
    pub fn document_file(
        &self,
        who: &Caller,
        id: i64,
        number: Option<i64>,
    ) -> Result<DocumentFile> {
        let (d, _) = self.authorize_document(who, id, Need::Data)?;
        let v = self.version_of(&d, number)?;
        let bytes = self.store.file(&v.file_sha256)?.ok_or_else(|| {
            AppError::Store(StoreError::Corrupt(format!(
                "the file of document {id} version {} is missing",
                v.number
            )))
        })?;
        self.audit_document_read(who, &d, "document.download", v.number)?;
        let format = Format::ALL
            .into_iter()
            .find(|f| f.as_str() == v.format)
            .unwrap_or(Format::Text);
        Ok(DocumentFile {
            file_name: v.file_name,
            media_type: format.media_type(),
            bytes,
        })
    }

    /// A version's text, page by page, to those who may read the document.
    pub fn document_text(
        &self,
        who: &Caller,
        id: i64,
        number: Option<i64>,
    ) -> Result<DocumentText> {
        let (d, _) = self.authorize_document(who, id, Need::Data)?;
        let v = self.version_of(&d, number)?;
        self.audit_document_read(who, &d, "document.read", v.number)?;
        Ok(DocumentText {
            version: v.number,
            pages: v.text.split('\x0c').map(|p| p.trim().to_string()).collect(),
            no_text: v.no_text,
        })
    }
}

/// A document's file name as kept: its last part only, never a path, since readers save the
/// file under it (`nansen doc get`, a browser's download).
pub fn plain_file_name(given: &str) -> Result<String> {
    let last = given.rsplit(['/', '\\']).next().unwrap_or_default();
    let name: String = last
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .trim_start_matches('.')
        .to_string();
    if name.is_empty() {
        return Err(AppError::BadRequest(format!(
            "file name {given:?}: give the file's own name, such as report.pdf"
        )));
    }
    if name.len() > 255 {
        return Err(AppError::BadRequest(format!(
            "file name {:?}…: at most 255 bytes",
            name.chars().take(40).collect::<String>()
        )));
    }
    Ok(name)
}

fn version_record(
    document_id: i64,
    file_name: &str,
    format: Format,
    size: usize,
    sha: &str,
    e: &nansen_extract::Extracted,
    by: &str,
) -> DocumentVersionRecord {
    DocumentVersionRecord {
        id: 0,
        document_id,
        // The store numbers it.
        number: 0,
        file_name: file_name.to_string(),
        format: format.as_str().into(),
        size: size as i64,
        file_sha256: sha.to_string(),
        text: e.text.clone(),
        pages: if e.text.is_empty() {
            0
        } else {
            e.text.matches('\x0c').count() as i64 + 1
        },
        no_text: e.no_text.clone(),
        created_by: by.to_string(),
        created_at: Timestamp::now(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_checked_field_by_field() {
        assert_eq!(check_date("2025-03").unwrap(), "2025-03");
        assert!(check_date("2025-13-01")
            .unwrap_err()
            .to_string()
            .contains("YYYY-MM-DD"));
        assert_eq!(
            check_countries(&["syr, Afghanistan".into()]).unwrap(),
            ["SYR", "AFG"]
        );
        assert!(check_countries(&["Atlantis".into()])
            .unwrap_err()
            .to_string()
            .contains("\"Atlantis\""));
        assert_eq!(check_type("Country-of-origin").unwrap(), DocumentType::Coi);
        assert!(check_type("novel")
            .unwrap_err()
            .to_string()
            .contains("choose one of report"));
        assert!(check_language("english").is_err());
    }
}

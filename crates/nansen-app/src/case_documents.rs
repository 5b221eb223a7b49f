//! Documents attached to a case (a passport scan, a medical report, a best-interests
//! assessment): each filed under one of the case's sections, read only by those who read
//! that section, sealed with the case's key like the section itself (its name too), never
//! indexed for search, and gone with the case's key when the case is erased.

use crate::{App, AppError, Caller, Result};
use nansen_cases::Section;
use nansen_model::Timestamp;
use nansen_store::StoreError;
use serde::Serialize;

/// The largest document a case takes.
pub const MAX_CASE_DOCUMENT_BYTES: usize = 20 << 20;

/// A document of a case as listed.
#[derive(Clone, Debug, Serialize)]
pub struct CaseDocumentView {
    pub id: String,
    pub section: Section,
    pub file_name: String,
    pub media_type: String,
    pub bytes: i64,
    pub added_by: String,
    pub added_at: Timestamp,
}

impl From<nansen_store::CaseDocument> for CaseDocumentView {
    fn from(d: nansen_store::CaseDocument) -> Self {
        CaseDocumentView {
            id: d.reference,
            section: d.section,
            file_name: d.name,
            media_type: d.media_type,
            bytes: d.bytes,
            added_by: d.added_by,
            added_at: d.added_at,
        }
    }
}

const TYPES: [&str; 5] = [
    "application/pdf",
    "image/jpeg",
    "image/png",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.oasis.opendocument.text",
];

/// What a file is, from its first bytes: only what caseworkers attach (scans and reports) is
/// taken, so nothing a browser would run is ever served back.
fn media_type(file_name: &str, bytes: &[u8]) -> Result<&'static str> {
    let ext = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    if bytes.starts_with(b"%PDF-") {
        Ok(TYPES[0])
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Ok(TYPES[1])
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Ok(TYPES[2])
    } else if bytes.starts_with(b"PK\x03\x04") && ext == "docx" {
        Ok(TYPES[3])
    } else if bytes.starts_with(b"PK\x03\x04") && ext == "odt" {
        Ok(TYPES[4])
    } else {
        Err(AppError::BadRequest(format!(
            "{file_name} is not a PDF, JPEG, PNG, DOCX or ODT file (by its content); attach one of those"
        )))
    }
}

/// The name a document is kept under: its last path part, without control characters.
fn clean_name(file_name: &str) -> Result<String> {
    let base = file_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>();
    let base = base.trim();
    if base.is_empty() || base.chars().count() > 200 {
        return Err(AppError::BadRequest(format!(
            "file_name: {file_name:?} is not a file name of 1 to 200 characters"
        )));
    }
    Ok(base.to_string())
}

impl App {
    /// Whether the caller may attach a document to the case under the section: asked before
    /// the file is received.
    pub fn may_attach_case_document(&self, who: &Caller, id: &str, section: Section) -> Result<()> {
        self.case_to_attach(who, id, section).map(|_| ())
    }

    /// The case a caller attaches to under `section`, with the sections they read of it.
    fn case_to_attach(
        &self,
        who: &Caller,
        id: &str,
        section: Section,
    ) -> Result<(nansen_store::CaseRecord, Vec<Section>)> {
        let (c, sections) = self.case_to_change(who, id)?;
        if !sections.contains(&section) {
            return Err(AppError::Forbidden(format!(
                "you do not read the {section} section of case {id}, so you file nothing under it"
            )));
        }
        Ok((c, sections))
    }

    /// Attaches a document to a case under a section the caller reads; the case's caseworkers
    /// and admins may.
    pub fn attach_case_document(
        &self,
        who: &Caller,
        id: &str,
        section: Section,
        file_name: &str,
        content: &[u8],
    ) -> Result<CaseDocumentView> {
        let (c, sections) = self.case_to_attach(who, id, section)?;
        if content.len() > MAX_CASE_DOCUMENT_BYTES {
            return Err(AppError::TooLarge(format!(
                "a case's document may be up to {} MB",
                MAX_CASE_DOCUMENT_BYTES >> 20
            )));
        }
        let name = clean_name(file_name)?;
        let media = media_type(&name, content)?;
        let reference = self.store.write(|tx| {
            let Some(reference) =
                tx.insert_case_document(&c, section, &name, media, content, &who.label)?
            else {
                return Err(crate::cases::changed(id));
            };
            tx.case_event(&c, &who.label, "document", (None, None), None)?;
            tx.audit(
                &who.label,
                "case.document.add",
                id,
                &serde_json::json!({ "document": reference, "section": section, "bytes": content.len() })
                    .to_string(),
            )?;
            Ok(reference)
        })?;
        self.documents_shown(&c, &sections)?
            .into_iter()
            .find(|d| d.id == reference)
            .ok_or_else(|| {
                AppError::Store(StoreError::Corrupt(format!(
                    "document {reference} vanished"
                )))
            })
    }

    /// The documents of a case filed under the sections shown.
    pub(crate) fn documents_shown(
        &self,
        c: &nansen_store::CaseRecord,
        sections: &[Section],
    ) -> Result<Vec<CaseDocumentView>> {
        Ok(self
            .store
            .case_documents(c)?
            .into_iter()
            .filter(|d| sections.contains(&d.section))
            .map(Into::into)
            .collect())
    }

    /// A document of a case with its content, for those who read its section; any other
    /// reader, and any unknown id, is told it does not exist. The read is audited.
    pub fn case_document(
        &self,
        who: &Caller,
        id: &str,
        document: &str,
    ) -> Result<(CaseDocumentView, crate::DocumentFile)> {
        let not_found = || AppError::NotFound(format!("document {document} of case {id}"));
        let (c, sections) = self.case_for(who, id)?;
        let view = self
            .documents_shown(&c, &sections)?
            .into_iter()
            .find(|d| d.id == document)
            .ok_or_else(not_found)?;
        let content = self
            .store
            .case_document_content(&c, document)?
            .ok_or_else(not_found)?;
        self.store.write(|tx| {
            tx.audit(
                &who.label,
                "case.document.read",
                id,
                &serde_json::json!({ "document": document, "section": view.section }).to_string(),
            )?;
            Ok::<_, StoreError>(())
        })?;
        let file = crate::DocumentFile {
            file_name: view.file_name.clone(),
            media_type: TYPES
                .iter()
                .find(|t| **t == view.media_type)
                .copied()
                .unwrap_or("application/octet-stream"),
            bytes: content,
        };
        Ok((view, file))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_document_is_taken_by_what_its_first_bytes_say_not_by_its_name() {
        assert_eq!(
            super::media_type("scan.pdf", b"%PDF-1.7 ...").unwrap(),
            "application/pdf"
        );
        assert_eq!(
            super::media_type("passport.jpg", &[0xFF, 0xD8, 0xFF, 0xE0]).unwrap(),
            "image/jpeg"
        );
        let e = super::media_type("report.pdf", b"<html><script>")
            .unwrap_err()
            .to_string();
        assert!(e.contains("report.pdf is not a PDF"), "{e}");
        assert_eq!(
            super::clean_name("C:\\Users\\me\\passport\u{7}.pdf").unwrap(),
            "passport.pdf"
        );
        assert!(super::clean_name("../").is_err());
    }
}

//! Rows of documents, their versions and files, access requests for them, and the search
//! outbox that tells each node's index what changed.

use crate::db::{DbError, Dialect, Row, Value};
use crate::{now, Result, Store, Tx};
use nansen_model::{DocumentType, Sharing, Timestamp};

#[derive(Clone, Debug, PartialEq)]
pub struct DocumentRecord {
    pub id: i64,
    pub org_id: i64,
    pub org: String,
    pub title: String,
    pub doc_type: DocumentType,
    pub countries: Vec<String>,
    pub themes: Vec<String>,
    /// `YYYY-MM-DD`, when the document says it was issued.
    pub date: Option<String>,
    pub language: String,
    pub summary: String,
    pub sharing: Sharing,
    pub created_by: String,
    pub created_at: Timestamp,
    /// Organisations whose access request the owner approved.
    pub approved: Vec<String>,
}

/// One immutable version of a document: the file, and the text read out of it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct DocumentVersionRecord {
    #[serde(skip)]
    pub id: i64,
    #[serde(skip)]
    pub document_id: i64,
    pub number: i64,
    pub file_name: String,
    pub format: String,
    pub size: i64,
    pub file_sha256: String,
    #[serde(skip)]
    pub text: String,
    pub pages: i64,
    /// Why the file's text could not be read, when it could not.
    pub no_text: Option<String>,
    pub created_by: String,
    pub created_at: Timestamp,
}

/// What kind of thing a search outbox entry is about.
pub const SEARCH_DOCUMENT: &str = "document";
pub const SEARCH_DATASET: &str = "dataset";

/// One entry of the search outbox: something changed, and the index must read it again.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboxEntry {
    pub seq: i64,
    pub kind: String,
    pub id: i64,
}

const DOCUMENT_COLUMNS: &str = "d.id, d.org_id, o.slug AS org, d.title, d.doc_type, d.countries, d.themes, d.doc_date, d.language, d.summary, d.sharing, d.created_by, d.created_at";

fn list(s: String) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(String::from)
        .collect()
}

fn document_from(r: &Row) -> Result<DocumentRecord, DbError> {
    Ok(DocumentRecord {
        id: r.get("id")?,
        org_id: r.get("org_id")?,
        org: r.get("org")?,
        title: r.get("title")?,
        doc_type: r.word("doc_type")?,
        countries: list(r.get("countries")?),
        themes: list(r.get("themes")?),
        date: r.get("doc_date")?,
        language: r.get("language")?,
        summary: r.get("summary")?,
        sharing: r.word("sharing")?,
        created_by: r.get("created_by")?,
        created_at: r.get("created_at")?,
        approved: Vec::new(),
    })
}

const VERSION_COLUMNS: &str = "id, document_id, number, file_name, format, size, file_sha256, text, pages, no_text, created_by, created_at";

fn version_from(r: &Row) -> Result<DocumentVersionRecord, DbError> {
    Ok(DocumentVersionRecord {
        id: r.get("id")?,
        document_id: r.get("document_id")?,
        number: r.get("number")?,
        file_name: r.get("file_name")?,
        format: r.get("format")?,
        size: r.get("size")?,
        file_sha256: r.get("file_sha256")?,
        text: r.get("text")?,
        pages: r.get("pages")?,
        no_text: r.get("no_text")?,
        created_by: r.get("created_by")?,
        created_at: r.get("created_at")?,
    })
}

impl Tx<'_> {
    /// Tells every node's search index that `kind` `id` changed, in this transaction, so the
    /// change and its outbox entry commit or vanish together.
    pub fn search_outbox(&mut self, kind: &str, id: i64) -> Result<i64> {
        if self.conn.dialect() == Dialect::Postgres {
            // Sequence numbers must commit in order, or a follower could pass a gap that a
            // slower transaction fills later: one writer at a time, until commit.
            self.conn
                .batch("LOCK TABLE search_outbox IN EXCLUSIVE MODE")?;
        }
        let next = self
            .conn
            .query_one(
                "SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM search_outbox",
                &[],
            )?
            .map(|r| r.get("next"))
            .transpose()?
            .unwrap_or(1);
        self.conn.execute(
            "INSERT INTO search_outbox (seq, kind, ref, created_at) VALUES (?, ?, ?, ?)",
            &[next.into(), kind.into(), id.into(), now().into()],
        )?;
        Ok(next)
    }

    /// Keeps a file's bytes once, whatever number of versions name them.
    pub fn put_file(&mut self, sha256: &str, data: &[u8]) -> Result<()> {
        if self
            .conn
            .query_one("SELECT 1 FROM files WHERE sha256 = ?", &[sha256.into()])?
            .is_none()
        {
            self.conn.execute(
                "INSERT INTO files (sha256, size, data, created_at) VALUES (?, ?, ?, ?)",
                &[
                    sha256.into(),
                    (data.len() as i64).into(),
                    data.to_vec().into(),
                    now().into(),
                ],
            )?;
        }
        Ok(())
    }

    pub fn insert_document(&mut self, d: &DocumentRecord) -> Result<i64> {
        let r = self.conn.query(
            "INSERT INTO documents (org_id, title, doc_type, countries, themes, doc_date, language, summary, sharing, created_by, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            &[
                d.org_id.into(), (&d.title).into(), d.doc_type.as_str().into(), d.countries.join(",").into(), d.themes.join(",").into(),
                d.date.clone().map(Value::Text).unwrap_or(Value::Null), (&d.language).into(), (&d.summary).into(), d.sharing.to_string().into(),
                (&d.created_by).into(), d.created_at.into(),
            ],
        )?;
        let id = r[0].get("id")?;
        self.search_outbox(SEARCH_DOCUMENT, id)?;
        Ok(id)
    }

    pub fn update_document(&mut self, d: &DocumentRecord) -> Result<()> {
        self.conn.execute(
            "UPDATE documents SET title = ?, doc_type = ?, countries = ?, themes = ?, doc_date = ?, language = ?, summary = ?, sharing = ? WHERE id = ?",
            &[
                (&d.title).into(), d.doc_type.as_str().into(), d.countries.join(",").into(), d.themes.join(",").into(),
                d.date.clone().map(Value::Text).unwrap_or(Value::Null), (&d.language).into(), (&d.summary).into(), d.sharing.to_string().into(), d.id.into(),
            ],
        )?;
        self.search_outbox(SEARCH_DOCUMENT, d.id)?;
        Ok(())
    }

    /// Adds the next version of a document; its number is one more than the last.
    pub fn insert_document_version(&mut self, v: &DocumentVersionRecord) -> Result<i64> {
        let number = self
            .conn
            .query_one(
                "SELECT COALESCE(MAX(number), 0) + 1 AS next FROM document_versions WHERE document_id = ?",
                &[v.document_id.into()],
            )?
            .map(|r| r.get("next"))
            .transpose()?
            .unwrap_or(1);
        self.conn.execute(
            "INSERT INTO document_versions (document_id, number, file_name, format, size, file_sha256, text, pages, no_text, created_by, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            &[
                v.document_id.into(), number.into(), (&v.file_name).into(), (&v.format).into(), v.size.into(), (&v.file_sha256).into(),
                (&v.text).into(), v.pages.into(), v.no_text.clone().map(Value::Text).unwrap_or(Value::Null), (&v.created_by).into(), v.created_at.into(),
            ],
        )?;
        self.search_outbox(SEARCH_DOCUMENT, v.document_id)?;
        Ok(number)
    }
}

impl Store {
    /// The last outbox position committed.
    pub fn search_outbox_head(&self) -> Result<i64> {
        Ok(self
            .query(
                "SELECT COALESCE(MAX(seq), 0) AS seq FROM search_outbox",
                &[],
            )?
            .first()
            .map(|r| r.get("seq"))
            .transpose()?
            .unwrap_or(0))
    }

    /// Outbox entries after `seq`, up to and including `upto`, in order.
    pub fn search_outbox_between(&self, seq: i64, upto: i64) -> Result<Vec<OutboxEntry>> {
        Ok(self
            .query(
                "SELECT seq, kind, ref FROM search_outbox WHERE seq > ? AND seq <= ? ORDER BY seq",
                &[seq.into(), upto.into()],
            )?
            .iter()
            .map(|r| {
                Ok(OutboxEntry {
                    seq: r.get("seq")?,
                    kind: r.get("kind")?,
                    id: r.get("ref")?,
                })
            })
            .collect::<Result<_, DbError>>()?)
    }

    pub fn file(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .query("SELECT data FROM files WHERE sha256 = ?", &[sha256.into()])?
            .first()
            .map(|r| r.get("data"))
            .transpose()?)
    }

    pub fn document(&self, id: i64) -> Result<Option<DocumentRecord>> {
        let rows = self.query(&format!("SELECT {DOCUMENT_COLUMNS} FROM documents d JOIN orgs o ON o.id = d.org_id WHERE d.id = ?"), &[id.into()])?;
        rows.first()
            .map(|r| self.with_document_approvals(document_from(r)?))
            .transpose()
    }

    pub fn documents(&self) -> Result<Vec<DocumentRecord>> {
        let rows = self.query(&format!("SELECT {DOCUMENT_COLUMNS} FROM documents d JOIN orgs o ON o.id = d.org_id ORDER BY d.id"), &[])?;
        rows.iter()
            .map(|r| self.with_document_approvals(document_from(r)?))
            .collect()
    }

    fn with_document_approvals(&self, mut d: DocumentRecord) -> Result<DocumentRecord> {
        d.approved = self.approved(crate::requests::DOCUMENT, d.id)?;
        Ok(d)
    }

    /// A document's versions, oldest first, without their text.
    pub fn document_versions(&self, document_id: i64) -> Result<Vec<DocumentVersionRecord>> {
        let columns = VERSION_COLUMNS.replace(" text,", " '' AS text,");
        Ok(self
            .query(
                &format!(
                    "SELECT {columns} FROM document_versions WHERE document_id = ? ORDER BY number"
                ),
                &[document_id.into()],
            )?
            .iter()
            .map(version_from)
            .collect::<Result<_, _>>()?)
    }

    /// One version with its text; the latest when `number` is none.
    pub fn document_version(
        &self,
        document_id: i64,
        number: Option<i64>,
    ) -> Result<Option<DocumentVersionRecord>> {
        let rows = match number {
            Some(n) => self.query(&format!("SELECT {VERSION_COLUMNS} FROM document_versions WHERE document_id = ? AND number = ?"), &[document_id.into(), n.into()])?,
            None => self.query(
                &format!("SELECT {VERSION_COLUMNS} FROM document_versions WHERE document_id = ? ORDER BY number DESC LIMIT 1"),
                &[document_id.into()],
            )?,
        };
        Ok(rows.first().map(version_from).transpose()?)
    }
}

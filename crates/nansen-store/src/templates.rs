//! Reporting templates (issue 17): each version's definition kept as its owner wrote it.

use crate::{now, Result, Row, Store, Tx};
use nansen_model::Timestamp;

/// A template at one version.
#[derive(Clone, Debug)]
pub struct TemplateRecord {
    pub id: i64,
    pub org_id: i64,
    pub org: String,
    pub slug: String,
    pub version: i64,
    /// The definition, TOML, as written.
    pub definition: String,
    pub created_by: String,
    pub created_at: Timestamp,
    /// When its first version was made.
    pub first_created_at: Timestamp,
}

const TEMPLATE: &str = "SELECT t.id, t.org_id, o.slug AS org, t.slug, v.version, v.definition, v.created_by, v.created_at, t.created_at AS first_created_at \
     FROM templates t JOIN orgs o ON o.id = t.org_id JOIN template_versions v ON v.template_id = t.id";

fn template_from(r: &Row) -> Result<TemplateRecord> {
    Ok(TemplateRecord {
        id: r.get("id")?,
        org_id: r.get("org_id")?,
        org: r.get("org")?,
        slug: r.get("slug")?,
        version: r.get("version")?,
        definition: r.get("definition")?,
        created_by: r.get("created_by")?,
        created_at: r.get("created_at")?,
        first_created_at: r.get("first_created_at")?,
    })
}

impl Tx<'_> {
    /// Adds a template's next version (its first creates it); answers the version's number.
    pub fn add_template_version(
        &mut self,
        org_id: i64,
        slug: &str,
        definition: &str,
        actor: &str,
    ) -> Result<i64> {
        let at = now();
        let id: i64 = match self.conn.query_one(
            "SELECT id FROM templates WHERE org_id = ? AND slug = ?",
            &[org_id.into(), slug.into()],
        )? {
            Some(r) => r.get("id")?,
            None => self.conn.query(
                "INSERT INTO templates (org_id, slug, created_by, created_at) VALUES (?, ?, ?, ?) RETURNING id",
                &[org_id.into(), slug.into(), actor.into(), at.into()],
            )?[0]
                .get("id")?,
        };
        let version: i64 = self
            .conn
            .query_one(
                "SELECT COALESCE(MAX(version), 0) + 1 AS next FROM template_versions WHERE template_id = ?",
                &[id.into()],
            )?
            .map(|r| r.get("next"))
            .transpose()?
            .unwrap_or(1);
        self.conn.execute(
            "INSERT INTO template_versions (template_id, version, definition, created_by, created_at) VALUES (?, ?, ?, ?, ?)",
            &[id.into(), version.into(), definition.into(), actor.into(), at.into()],
        )?;
        Ok(version)
    }
}

impl Store {
    /// A template at its latest version.
    pub fn template(&self, org: &str, slug: &str) -> Result<Option<TemplateRecord>> {
        self.query(
            &format!("{TEMPLATE} WHERE o.slug = ? AND t.slug = ? ORDER BY v.version DESC LIMIT 1"),
            &[org.into(), slug.into()],
        )?
        .first()
        .map(template_from)
        .transpose()
    }

    /// Every template at its latest version, by organisation and name.
    pub fn templates(&self) -> Result<Vec<TemplateRecord>> {
        self.query(
            &format!("{TEMPLATE} WHERE v.version = (SELECT MAX(version) FROM template_versions WHERE template_id = t.id) ORDER BY o.slug, t.slug"),
            &[],
        )?
        .iter()
        .map(template_from)
        .collect()
    }
}

/// One revision of a reporter's return for a period.
#[derive(Clone, Debug)]
pub struct SubmissionRecord {
    pub id: i64,
    pub reference: String,
    pub template_id: i64,
    pub template_version: i64,
    pub reporter: String,
    pub period: String,
    pub revision: i64,
    pub status: String,
    /// The cells, CSV: the dimensions' codes, `indicator`, `value`.
    pub cells: String,
    pub submitted_by: String,
    pub submitted_at: Timestamp,
}

const SUBMISSION: &str = "SELECT s.id, s.ref, s.template_id, s.template_version, o.slug AS reporter, s.period, s.revision, s.status, s.cells, s.submitted_by, s.submitted_at \
     FROM submissions s JOIN orgs o ON o.id = s.reporter_id";

fn submission_from(r: &Row) -> Result<SubmissionRecord> {
    Ok(SubmissionRecord {
        id: r.get("id")?,
        reference: r.get("ref")?,
        template_id: r.get("template_id")?,
        template_version: r.get("template_version")?,
        reporter: r.get("reporter")?,
        period: r.get("period")?,
        revision: r.get("revision")?,
        status: r.get("status")?,
        cells: r.get("cells")?,
        submitted_by: r.get("submitted_by")?,
        submitted_at: r.get("submitted_at")?,
    })
}

impl Tx<'_> {
    /// Keeps a reporter's return for a period as its next revision, `submitted`; answers
    /// `(reference, revision)`. Two reporters at once each get their own; the same reporter
    /// twice at once, one of them a conflict (the revision is unique).
    pub fn insert_submission(
        &mut self,
        template: &TemplateRecord,
        reporter_id: i64,
        period: &str,
        cells: &str,
        actor: &str,
    ) -> Result<(String, i64)> {
        let revision: i64 = self
            .conn
            .query_one(
                "SELECT COALESCE(MAX(revision), 0) + 1 AS next FROM submissions WHERE template_id = ? AND reporter_id = ? AND period = ?",
                &[template.id.into(), reporter_id.into(), period.into()],
            )?
            .map(|r| r.get("next"))
            .transpose()?
            .unwrap_or(1);
        let reference = crate::cases::new_reference();
        self.conn.execute(
            "INSERT INTO submissions (ref, template_id, template_version, reporter_id, period, revision, status, cells, submitted_by, submitted_at) \
             VALUES (?, ?, ?, ?, ?, ?, 'submitted', ?, ?, ?)",
            &[(&reference).into(), template.id.into(), template.version.into(), reporter_id.into(), period.into(), revision.into(), cells.into(), actor.into(), now().into()],
        )?;
        Ok((reference, revision))
    }
}

impl Store {
    /// A template's submissions, newest revision last, of one period or all.
    pub fn submissions(
        &self,
        template_id: i64,
        period: Option<&str>,
    ) -> Result<Vec<SubmissionRecord>> {
        let mut params = vec![template_id.into()];
        let only = match period {
            Some(p) => {
                params.push(p.into());
                " AND s.period = ?"
            }
            None => "",
        };
        self.query(
            &format!(
                "{SUBMISSION} WHERE s.template_id = ?{only} ORDER BY s.period, o.slug, s.revision"
            ),
            &params,
        )?
        .iter()
        .map(submission_from)
        .collect()
    }
}

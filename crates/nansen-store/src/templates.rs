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

    /// A template at its latest version, by its id.
    pub fn template_by_id(&self, id: i64) -> Result<Option<TemplateRecord>> {
        self.query(
            &format!("{TEMPLATE} WHERE t.id = ? ORDER BY v.version DESC LIMIT 1"),
            &[id.into()],
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
    pub reporter_id: i64,
    pub reporter: String,
    pub period: String,
    pub revision: i64,
    pub status: String,
    /// The cells, CSV: the dimensions' codes, `indicator`, `value` (empty when a list was
    /// read without them).
    pub cells: String,
    pub cells_count: i64,
    pub submitted_by: String,
    pub submitted_at: Timestamp,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<Timestamp>,
    /// The version of the template's dataset its approval landed as.
    pub dataset_version: Option<i64>,
}

/// A submission's columns; `{cells}` is `s.cells`, or `''` for lists that need no cells.
const SUBMISSION: &str = "SELECT s.id, s.ref, s.template_id, s.template_version, s.reporter_id, o.slug AS reporter, s.period, s.revision, s.status, {cells} AS cells, s.cells_count, s.submitted_by, s.submitted_at, s.reviewed_by, s.reviewed_at, s.dataset_version \
     FROM submissions s JOIN orgs o ON o.id = s.reporter_id";

fn submission_query(with_cells: bool) -> String {
    SUBMISSION.replace("{cells}", if with_cells { "s.cells" } else { "''" })
}

fn submission_from(r: &Row) -> Result<SubmissionRecord> {
    Ok(SubmissionRecord {
        id: r.get("id")?,
        reference: r.get("ref")?,
        template_id: r.get("template_id")?,
        template_version: r.get("template_version")?,
        reporter_id: r.get("reporter_id")?,
        reporter: r.get("reporter")?,
        period: r.get("period")?,
        revision: r.get("revision")?,
        status: r.get("status")?,
        cells: r.get("cells")?,
        cells_count: r.get("cells_count")?,
        submitted_by: r.get("submitted_by")?,
        submitted_at: r.get("submitted_at")?,
        reviewed_by: r.get("reviewed_by")?,
        reviewed_at: r.get("reviewed_at")?,
        dataset_version: r.get("dataset_version")?,
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
        cells_count: usize,
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
            "INSERT INTO submissions (ref, template_id, template_version, reporter_id, period, revision, status, cells, cells_count, submitted_by, submitted_at) \
             VALUES (?, ?, ?, ?, ?, ?, 'submitted', ?, ?, ?, ?)",
            &[(&reference).into(), template.id.into(), template.version.into(), reporter_id.into(), period.into(), revision.into(), cells.into(), (cells_count as i64).into(), actor.into(), now().into()],
        )?;
        Ok((reference, revision))
    }
}

impl Store {
    /// A template's submissions, newest revision last, of one period or all; their cells
    /// only when asked for.
    pub fn submissions(
        &self,
        template_id: i64,
        period: Option<&str>,
        with_cells: bool,
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
                "{} WHERE s.template_id = ?{only} ORDER BY s.period, o.slug, s.revision",
                submission_query(with_cells)
            ),
            &params,
        )?
        .iter()
        .map(submission_from)
        .collect()
    }
}

/// A comment on a return, pinned to a cell by its key (`SYR.F.asylum_applications`) or,
/// with an empty cell, to the whole return.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SubmissionComment {
    pub cell: String,
    pub text: String,
    pub author: String,
    /// Written by a reviewer (else by the reporter).
    pub reviewer: bool,
    pub created_at: Timestamp,
}

impl Tx<'_> {
    /// Moves a revision from one of `from` to `to`, answering whether it was in one of them
    /// (a concurrent decision makes it false, and nothing changes).
    pub fn set_submission_status(
        &mut self,
        id: i64,
        from: &[&str],
        to: &str,
        actor: &str,
        dataset_version: Option<i64>,
    ) -> Result<bool> {
        let marks = vec!["?"; from.len()].join(", ");
        let mut params: Vec<crate::Value> = vec![
            to.into(),
            actor.into(),
            now().into(),
            dataset_version.into(),
            id.into(),
        ];
        params.extend(from.iter().map(|s| (*s).into()));
        Ok(self.conn.execute(
            &format!("UPDATE submissions SET status = ?, reviewed_by = ?, reviewed_at = ?, dataset_version = COALESCE(?, dataset_version) WHERE id = ? AND status IN ({marks})"),
            &params,
        )? == 1)
    }

    pub fn insert_submission_comment(
        &mut self,
        submission_id: i64,
        cell: &str,
        text: &str,
        author: &str,
        reviewer: bool,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO submission_comments (submission_id, cell, text, author, reviewer, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            &[submission_id.into(), cell.into(), text.into(), author.into(), reviewer.into(), now().into()],
        )?;
        Ok(())
    }
}

impl Store {
    /// One revision by its reference.
    pub fn submission(&self, reference: &str) -> Result<Option<SubmissionRecord>> {
        self.query(
            &format!("{} WHERE s.ref = ?", submission_query(true)),
            &[reference.into()],
        )?
        .first()
        .map(submission_from)
        .transpose()
    }

    /// A template by its id, at the version given.
    pub fn template_at(&self, template_id: i64, version: i64) -> Result<Option<TemplateRecord>> {
        self.query(
            &format!("{TEMPLATE} WHERE t.id = ? AND v.version = ?"),
            &[template_id.into(), version.into()],
        )?
        .first()
        .map(template_from)
        .transpose()
    }

    /// A revision's comments, oldest first.
    pub fn submission_comments(&self, submission_id: i64) -> Result<Vec<SubmissionComment>> {
        self.query(
            "SELECT cell, text, author, reviewer, created_at FROM submission_comments WHERE submission_id = ? ORDER BY id",
            &[submission_id.into()],
        )?
        .iter()
        .map(|r| {
            Ok(SubmissionComment {
                cell: r.get("cell")?,
                text: r.get("text")?,
                author: r.get("author")?,
                reviewer: r.get("reviewer")?,
                created_at: r.get("created_at")?,
            })
        })
        .collect()
    }
}

/// A reminder to a reporter, kept so that no event is sent twice.
#[derive(Clone, Debug)]
pub struct ReminderRecord {
    pub id: i64,
    pub template_id: i64,
    pub reporter_id: i64,
    pub reporter: String,
    pub period: String,
    /// `before`, `due` or `overdue`.
    pub event: String,
    pub deadline: String,
    /// The addresses it went to, comma-separated.
    pub recipients: String,
    /// `pending`, `sending`, `sent`, `failed`, or `none` (no SMTP server or no contact).
    pub email: String,
    pub email_error: String,
    pub email_attempts: i64,
    /// Webhook deliveries queued for it.
    pub webhooks: i64,
    pub created_at: Timestamp,
    pub emailed_at: Option<Timestamp>,
}

const REMINDER: &str = "SELECT r.id, r.template_id, r.reporter_id, o.slug AS reporter, r.period, r.event, r.deadline, r.recipients, r.email, r.email_error, r.email_attempts, r.webhooks, r.created_at, r.emailed_at \
     FROM reminders r JOIN orgs o ON o.id = r.reporter_id";

fn reminder_from(r: &Row) -> Result<ReminderRecord> {
    Ok(ReminderRecord {
        id: r.get("id")?,
        template_id: r.get("template_id")?,
        reporter_id: r.get("reporter_id")?,
        reporter: r.get("reporter")?,
        period: r.get("period")?,
        event: r.get("event")?,
        deadline: r.get("deadline")?,
        recipients: r.get("recipients")?,
        email: r.get("email")?,
        email_error: r.get("email_error")?,
        email_attempts: r.get("email_attempts")?,
        webhooks: r.get("webhooks")?,
        created_at: r.get("created_at")?,
        emailed_at: r.get("emailed_at")?,
    })
}

/// What a new reminder records.
pub struct NewReminder<'a> {
    pub template_id: i64,
    pub reporter_id: i64,
    pub period: &'a str,
    pub event: &'a str,
    pub deadline: &'a str,
    pub recipients: &'a str,
    /// `pending` when it is to be e-mailed, else `none`.
    pub email: &'a str,
}

impl Tx<'_> {
    /// Records a reminder unless the same event was recorded before; answers its id when it
    /// is new. The unique key makes two servers at once record it once.
    pub fn claim_reminder(&mut self, r: &NewReminder) -> Result<Option<i64>> {
        let rows = self.conn.query(
            "INSERT INTO reminders (template_id, reporter_id, period, event, deadline, recipients, email, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (template_id, reporter_id, period, event) DO NOTHING RETURNING id",
            &[r.template_id.into(), r.reporter_id.into(), r.period.into(), r.event.into(), r.deadline.into(), r.recipients.into(), r.email.into(), now().into()],
        )?;
        rows.first()
            .map(|row| row.get("id"))
            .transpose()
            .map_err(Into::into)
    }

    pub fn set_reminder_webhooks(&mut self, id: i64, webhooks: usize) -> Result<()> {
        self.conn.execute(
            "UPDATE reminders SET webhooks = ? WHERE id = ?",
            &[(webhooks as i64).into(), id.into()],
        )?;
        Ok(())
    }

    /// Takes a reminder's e-mail to send, answering whether this caller has it (one that
    /// another is sending, or that went, is not taken).
    pub fn take_reminder_email(&mut self, id: i64) -> Result<bool> {
        Ok(self.conn.execute(
            "UPDATE reminders SET email = 'sending', email_attempts = email_attempts + 1 WHERE id = ? AND email IN ('pending', 'failed')",
            &[id.into()],
        )? == 1)
    }

    /// Records how sending a reminder's e-mail went.
    pub fn reminder_emailed(&mut self, id: i64, error: Option<&str>) -> Result<()> {
        match error {
            None => self.conn.execute(
                "UPDATE reminders SET email = 'sent', email_error = '', emailed_at = ? WHERE id = ?",
                &[now().into(), id.into()],
            )?,
            Some(e) => self.conn.execute(
                "UPDATE reminders SET email = 'failed', email_error = ? WHERE id = ?",
                &[e.into(), id.into()],
            )?,
        };
        Ok(())
    }
}

impl Store {
    /// A template's reminders, newest first.
    pub fn reminders(&self, template_id: i64) -> Result<Vec<ReminderRecord>> {
        self.query(
            &format!("{REMINDER} WHERE r.template_id = ? ORDER BY r.id DESC"),
            &[template_id.into()],
        )?
        .iter()
        .map(reminder_from)
        .collect()
    }

    pub fn reminders_by_id(&self, id: i64) -> Result<Option<ReminderRecord>> {
        self.query(&format!("{REMINDER} WHERE r.id = ?"), &[id.into()])?
            .first()
            .map(reminder_from)
            .transpose()
    }

    /// Reminders whose e-mail failed and may be tried again.
    pub fn reminders_to_retry(&self, max_attempts: i64) -> Result<Vec<ReminderRecord>> {
        self.query(
            &format!("{REMINDER} WHERE r.email = 'failed' AND r.email_attempts < ? ORDER BY r.id"),
            &[max_attempts.into()],
        )?
        .iter()
        .map(reminder_from)
        .collect()
    }
}

/// What a reporter typed into the web's grid form for a period, kept as typed until it is
/// submitted.
#[derive(Clone, Debug)]
pub struct DraftRecord {
    /// JSON: the grid's rows, each a list of cells as typed.
    pub grid: String,
    pub saved_by: String,
    pub saved_at: Timestamp,
}

impl Tx<'_> {
    /// Keeps a reporter's draft for a period, replacing the one before; answers when it was
    /// saved.
    pub fn save_draft(
        &mut self,
        template_id: i64,
        reporter_id: i64,
        period: &str,
        grid: &str,
        by: &str,
    ) -> Result<Timestamp> {
        let at = now();
        self.conn.execute(
            "INSERT INTO return_drafts (template_id, reporter_id, period, grid, saved_by, saved_at) VALUES (?, ?, ?, ?, ?, ?) \
             ON CONFLICT (template_id, reporter_id, period) DO UPDATE SET grid = excluded.grid, saved_by = excluded.saved_by, saved_at = excluded.saved_at",
            &[template_id.into(), reporter_id.into(), period.into(), grid.into(), by.into(), at.into()],
        )?;
        Ok(at)
    }

    pub fn delete_draft(&mut self, template_id: i64, reporter_id: i64, period: &str) -> Result<()> {
        self.conn.execute(
            "DELETE FROM return_drafts WHERE template_id = ? AND reporter_id = ? AND period = ?",
            &[template_id.into(), reporter_id.into(), period.into()],
        )?;
        Ok(())
    }
}

/// A draft as a list shows it: whose, for which period, last saved by whom and when.
#[derive(Clone, Debug)]
pub struct DraftSummary {
    pub reporter: String,
    pub period: String,
    pub saved_by: String,
    pub saved_at: Timestamp,
}

impl Store {
    /// A template's drafts, by period then reporter.
    pub fn drafts(&self, template_id: i64) -> Result<Vec<DraftSummary>> {
        self.query(
            "SELECT o.slug AS reporter, d.period, d.saved_by, d.saved_at FROM return_drafts d JOIN orgs o ON o.id = d.reporter_id WHERE d.template_id = ? ORDER BY d.period, o.slug",
            &[template_id.into()],
        )?
        .iter()
        .map(|r| {
            Ok(DraftSummary {
                reporter: r.get("reporter")?,
                period: r.get("period")?,
                saved_by: r.get("saved_by")?,
                saved_at: r.get("saved_at")?,
            })
        })
        .collect()
    }

    pub fn draft(
        &self,
        template_id: i64,
        reporter_id: i64,
        period: &str,
    ) -> Result<Option<DraftRecord>> {
        self.query(
            "SELECT grid, saved_by, saved_at FROM return_drafts WHERE template_id = ? AND reporter_id = ? AND period = ?",
            &[template_id.into(), reporter_id.into(), period.into()],
        )?
        .first()
        .map(|r| {
            Ok(DraftRecord {
                grid: r.get("grid")?,
                saved_by: r.get("saved_by")?,
                saved_at: r.get("saved_at")?,
            })
        })
        .transpose()
    }
}

//! Rows of early warning: watches, alerts and their comments, webhook subscriptions and the
//! deliveries waiting to go out, contingency plans. What they mean is the app's business.

use crate::db::{DbError, Row};
use crate::{now, Keys, Result, Store, Tx};
use nansen_model::{DeliveryStatus, Timestamp};

#[derive(Clone, Debug, PartialEq)]
pub struct WatchRecord {
    pub id: i64,
    pub org_id: i64,
    pub org: String,
    pub user_id: i64,
    pub created_by: String,
    pub dataset_id: i64,
    pub name: String,
    /// The series and rules, as JSON.
    pub spec: String,
    /// Organisations that may follow it, besides its own.
    pub partners: Vec<String>,
    pub created_at: Timestamp,
    /// The dataset version last checked, 0 before the first check.
    pub checked_version: i64,
    pub checked_at: Option<Timestamp>,
    /// The latest forecast, as JSON.
    pub outlook: String,
    /// Why the last check could not run, if it could not.
    pub problem: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AlertRecord {
    pub id: i64,
    pub watch_id: i64,
    pub series: String,
    pub period: String,
    pub rule: String,
    /// Observed, expected, limits and the chart, as JSON.
    pub detail: String,
    pub version: i64,
    pub status: String,
    pub assignee: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CommentRecord {
    pub id: i64,
    pub alert_id: i64,
    pub author: String,
    pub body: String,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq)]
pub struct WebhookRecord {
    pub id: i64,
    pub org_id: i64,
    pub org: String,
    pub watch_id: Option<i64>,
    pub dataset_id: Option<i64>,
    /// A reporting template, whose reminders it hears.
    pub template_id: Option<i64>,
    pub url: String,
    pub secret: String,
    pub created_by: String,
    pub created_at: Timestamp,
}

/// What a webhook follows, by id.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HookSubject {
    Watch(i64),
    Dataset(i64),
    /// A reporting template's reminders.
    Template(i64),
}

#[derive(Clone, Debug, PartialEq)]
pub struct DeliveryRecord {
    pub id: i64,
    pub webhook_id: i64,
    pub event: String,
    pub payload: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub next_at: Timestamp,
    pub last_error: String,
    pub created_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PlanRecord {
    pub id: i64,
    pub org_id: i64,
    pub org: String,
    pub title: String,
    pub scenario: String,
    /// Triggers and actions, as JSON.
    pub spec: String,
    pub created_by: String,
    pub created_at: Timestamp,
    pub triggered_since: Option<Timestamp>,
    /// Each trigger's state at the last evaluation, as JSON.
    pub reason: String,
    pub checked_at: Option<Timestamp>,
}

const WATCH: &str = "SELECT w.id, w.org_id, o.slug AS org, w.user_id, u.email, w.dataset_id, w.name, w.spec, w.partners, w.created_at, \
     w.checked_version, w.checked_at, w.outlook, w.problem FROM watches w JOIN orgs o ON o.id = w.org_id JOIN users u ON u.id = w.user_id";
const ALERT: &str = "SELECT id, watch_id, series, period, rule, detail, version, status, assignee, created_at, updated_at FROM alerts";
const WEBHOOK: &str = "SELECT h.id, h.org_id, o.slug AS org, h.watch_id, h.dataset_id, h.template_id, h.url, h.secret, h.created_by, h.created_at \
     FROM webhooks h JOIN orgs o ON o.id = h.org_id WHERE h.removed_at IS NULL";
const DELIVERY: &str = "SELECT id, webhook_id, event, payload, status, attempts, next_at, last_error, created_at, delivered_at FROM deliveries";
const PLAN: &str = "SELECT p.id, p.org_id, o.slug AS org, p.title, p.scenario, p.spec, p.created_by, p.created_at, p.triggered_since, p.reason, p.checked_at \
     FROM plans p JOIN orgs o ON o.id = p.org_id";

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|t| !t.is_empty())
        .map(String::from)
        .collect()
}

fn watch_from(r: &Row) -> Result<WatchRecord, DbError> {
    Ok(WatchRecord {
        id: r.get("id")?,
        org_id: r.get("org_id")?,
        org: r.get("org")?,
        user_id: r.get("user_id")?,
        created_by: r.get("email")?,
        dataset_id: r.get("dataset_id")?,
        name: r.get("name")?,
        spec: r.get("spec")?,
        partners: list(&r.get::<String>("partners")?),
        created_at: r.get("created_at")?,
        checked_version: r.get("checked_version")?,
        checked_at: r.get("checked_at")?,
        outlook: r.get("outlook")?,
        problem: r.get("problem")?,
    })
}

fn alert_from(r: &Row) -> Result<AlertRecord, DbError> {
    Ok(AlertRecord {
        id: r.get("id")?,
        watch_id: r.get("watch_id")?,
        series: r.get("series")?,
        period: r.get("period")?,
        rule: r.get("rule")?,
        detail: r.get("detail")?,
        version: r.get("version")?,
        status: r.get("status")?,
        assignee: r.get("assignee")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
    })
}

fn webhook_from(r: &Row) -> Result<WebhookRecord, DbError> {
    Ok(WebhookRecord {
        id: r.get("id")?,
        org_id: r.get("org_id")?,
        org: r.get("org")?,
        watch_id: r.get("watch_id")?,
        dataset_id: r.get("dataset_id")?,
        template_id: r.get("template_id")?,
        url: r.get("url")?,
        secret: r.get("secret")?,
        created_by: r.get("created_by")?,
        created_at: r.get("created_at")?,
    })
}

fn delivery_from(r: &Row) -> Result<DeliveryRecord, DbError> {
    Ok(DeliveryRecord {
        id: r.get("id")?,
        webhook_id: r.get("webhook_id")?,
        event: r.get("event")?,
        payload: r.get("payload")?,
        status: r.word("status")?,
        attempts: r.get("attempts")?,
        next_at: r.get("next_at")?,
        last_error: r.get("last_error")?,
        created_at: r.get("created_at")?,
        delivered_at: r.get("delivered_at")?,
    })
}

fn plan_from(r: &Row) -> Result<PlanRecord, DbError> {
    Ok(PlanRecord {
        id: r.get("id")?,
        org_id: r.get("org_id")?,
        org: r.get("org")?,
        title: r.get("title")?,
        scenario: r.get("scenario")?,
        spec: r.get("spec")?,
        created_by: r.get("created_by")?,
        created_at: r.get("created_at")?,
        triggered_since: r.get("triggered_since")?,
        reason: r.get("reason")?,
        checked_at: r.get("checked_at")?,
    })
}

impl Tx<'_> {
    pub fn insert_watch(
        &mut self,
        org_id: i64,
        user_id: i64,
        dataset_id: i64,
        name: &str,
        spec: &str,
        partners: &[String],
    ) -> Result<i64> {
        let r = self.conn.query(
            "INSERT INTO watches (org_id, user_id, dataset_id, name, spec, partners, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            &[org_id.into(), user_id.into(), dataset_id.into(), name.into(), spec.into(), partners.join(",").into(), now().into()],
        )?;
        Ok(r[0].get("id")?)
    }

    pub fn update_watch(
        &mut self,
        id: i64,
        name: &str,
        spec: &str,
        partners: &[String],
    ) -> Result<()> {
        // A changed watch is checked again from scratch.
        self.conn.execute(
            "UPDATE watches SET name = ?, spec = ?, partners = ?, checked_version = 0 WHERE id = ?",
            &[
                name.into(),
                spec.into(),
                partners.join(",").into(),
                id.into(),
            ],
        )?;
        Ok(())
    }

    pub fn mark_watch_checked(
        &mut self,
        id: i64,
        version: i64,
        outlook: &str,
        problem: &str,
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE watches SET checked_version = ?, checked_at = ?, outlook = ?, problem = ? WHERE id = ?",
            &[version.into(), now().into(), outlook.into(), problem.into(), id.into()],
        )?;
        Ok(())
    }

    /// Raises an alert unless the same rule already flagged that period of that series;
    /// returns the new alert's id.
    pub fn insert_alert(
        &mut self,
        watch_id: i64,
        series: &str,
        period: &str,
        rule: &str,
        detail: &str,
        version: i64,
    ) -> Result<Option<i64>> {
        let exists = self.conn.query_one(
            "SELECT id FROM alerts WHERE watch_id = ? AND series = ? AND period = ? AND rule = ?",
            &[watch_id.into(), series.into(), period.into(), rule.into()],
        )?;
        if exists.is_some() {
            return Ok(None);
        }
        let at = now();
        let r = self.conn.query(
            "INSERT INTO alerts (watch_id, series, period, rule, detail, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            &[watch_id.into(), series.into(), period.into(), rule.into(), detail.into(), version.into(), at.into(), at.into()],
        )?;
        Ok(Some(r[0].get("id")?))
    }

    pub fn update_alert(&mut self, id: i64, status: &str, assignee: Option<&str>) -> Result<()> {
        self.conn.execute(
            "UPDATE alerts SET status = ?, assignee = ?, updated_at = ? WHERE id = ?",
            &[status.into(), assignee.into(), now().into(), id.into()],
        )?;
        Ok(())
    }

    pub fn insert_comment(&mut self, alert_id: i64, author: &str, body: &str) -> Result<i64> {
        let r = self.conn.query(
            "INSERT INTO alert_comments (alert_id, author, body, created_at) VALUES (?, ?, ?, ?) RETURNING id",
            &[alert_id.into(), author.into(), body.into(), now().into()],
        )?;
        Ok(r[0].get("id")?)
    }

    pub fn insert_webhook(
        &mut self,
        org_id: i64,
        subject: HookSubject,
        url: &str,
        secret: &str,
        by: &str,
    ) -> Result<i64> {
        let (watch_id, dataset_id, template_id) = match subject {
            HookSubject::Watch(id) => (Some(id), None, None),
            HookSubject::Dataset(id) => (None, Some(id), None),
            HookSubject::Template(id) => (None, None, Some(id)),
        };
        let r = self.conn.query(
            "INSERT INTO webhooks (org_id, watch_id, dataset_id, template_id, url, secret, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            &[org_id.into(), watch_id.into(), dataset_id.into(), template_id.into(), url.into(), self.keys.seal(secret).into(), by.into(), now().into()],
        )?;
        Ok(r[0].get("id")?)
    }

    pub fn remove_webhook(&mut self, id: i64) -> Result<bool> {
        Ok(self.conn.execute(
            "UPDATE webhooks SET removed_at = ? WHERE id = ? AND removed_at IS NULL",
            &[now().into(), id.into()],
        )? == 1)
    }

    /// Queues one event for every live subscription to `subject`; with `orgs`, only for the
    /// subscriptions of those organisations (a reminder goes to its template's owner and to
    /// its reporter, not to the other reporters).
    pub fn queue_deliveries(
        &mut self,
        subject: HookSubject,
        orgs: Option<&[i64]>,
        event: &str,
        payload: &str,
    ) -> Result<usize> {
        let (column, id) = match subject {
            HookSubject::Watch(id) => ("watch_id", id),
            HookSubject::Dataset(id) => ("dataset_id", id),
            HookSubject::Template(id) => ("template_id", id),
        };
        let hooks = self.conn.query(
            &format!("SELECT id, org_id FROM webhooks WHERE {column} = ? AND removed_at IS NULL"),
            &[id.into()],
        )?;
        let at = now();
        let mut queued = 0;
        for h in &hooks {
            let org: i64 = h.get("org_id")?;
            if orgs.is_some_and(|o| !o.contains(&org)) {
                continue;
            }
            self.conn.execute(
                "INSERT INTO deliveries (webhook_id, event, payload, next_at, created_at) VALUES (?, ?, ?, ?, ?)",
                &[h.get::<i64>("id")?.into(), event.into(), payload.into(), at.into(), at.into()],
            )?;
            queued += 1;
        }
        Ok(queued)
    }

    pub fn update_delivery(
        &mut self,
        id: i64,
        status: DeliveryStatus,
        attempts: i64,
        next_at: Timestamp,
        error: &str,
    ) -> Result<()> {
        let delivered = (status == DeliveryStatus::Delivered).then(now);
        self.conn.execute(
            "UPDATE deliveries SET status = ?, attempts = ?, next_at = ?, last_error = ?, delivered_at = ? WHERE id = ?",
            &[status.as_str().into(), attempts.into(), next_at.into(), error.into(), delivered.into(), id.into()],
        )?;
        Ok(())
    }

    pub fn insert_plan(
        &mut self,
        org_id: i64,
        title: &str,
        scenario: &str,
        spec: &str,
        by: &str,
    ) -> Result<i64> {
        let r = self.conn.query(
            "INSERT INTO plans (org_id, title, scenario, spec, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            &[org_id.into(), title.into(), scenario.into(), spec.into(), by.into(), now().into()],
        )?;
        Ok(r[0].get("id")?)
    }

    pub fn update_plan_spec(&mut self, id: i64, spec: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE plans SET spec = ? WHERE id = ?",
            &[spec.into(), id.into()],
        )?;
        Ok(())
    }

    pub fn mark_plan_checked(
        &mut self,
        id: i64,
        triggered_since: Option<Timestamp>,
        reason: &str,
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE plans SET triggered_since = ?, reason = ?, checked_at = ? WHERE id = ?",
            &[
                triggered_since.into(),
                reason.into(),
                now().into(),
                id.into(),
            ],
        )?;
        Ok(())
    }
}

impl Store {
    pub fn watches(&self) -> Result<Vec<WatchRecord>> {
        Ok(self
            .query(&format!("{WATCH} ORDER BY w.id"), &[])?
            .iter()
            .map(watch_from)
            .collect::<Result<_, _>>()?)
    }

    pub fn watch(&self, id: i64) -> Result<Option<WatchRecord>> {
        Ok(self
            .query(&format!("{WATCH} WHERE w.id = ?"), &[id.into()])?
            .first()
            .map(watch_from)
            .transpose()?)
    }

    /// Alerts of some watches, newest first.
    pub fn alerts(&self, watch_ids: &[i64]) -> Result<Vec<AlertRecord>> {
        if watch_ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = watch_ids
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        Ok(self
            .query(
                &format!("{ALERT} WHERE watch_id IN ({ids}) ORDER BY id DESC"),
                &[],
            )?
            .iter()
            .map(alert_from)
            .collect::<Result<_, _>>()?)
    }

    pub fn alert(&self, id: i64) -> Result<Option<AlertRecord>> {
        Ok(self
            .query(&format!("{ALERT} WHERE id = ?"), &[id.into()])?
            .first()
            .map(alert_from)
            .transpose()?)
    }

    pub fn comments(&self, alert_id: i64) -> Result<Vec<CommentRecord>> {
        Ok(self
            .query("SELECT id, alert_id, author, body, created_at FROM alert_comments WHERE alert_id = ? ORDER BY id", &[alert_id.into()])?
            .iter()
            .map(|r| {
                Ok(CommentRecord {
                    id: r.get("id")?,
                    alert_id: r.get("alert_id")?,
                    author: r.get("author")?,
                    body: r.get("body")?,
                    created_at: r.get("created_at")?,
                })
            })
            .collect::<Result<_, DbError>>()?)
    }

    /// A subscription with its signing secret unsealed.
    fn opened(&self, mut h: WebhookRecord) -> Result<WebhookRecord> {
        h.secret = self.keys.unseal(&h.secret)?;
        Ok(h)
    }

    /// Seals the webhook secrets stored in clear before the installation had keys.
    pub(crate) fn seal_clear_secrets(&self) -> Result<()> {
        for r in self.query("SELECT id, secret FROM webhooks", &[])? {
            let (id, secret): (i64, String) = (r.get("id")?, r.get("secret")?);
            if !Keys::is_sealed(&secret) {
                self.query(
                    "UPDATE webhooks SET secret = ? WHERE id = ? RETURNING id",
                    &[self.keys.seal(&secret).into(), id.into()],
                )?;
            }
        }
        Ok(())
    }

    pub fn webhooks(&self) -> Result<Vec<WebhookRecord>> {
        self.query(&format!("{WEBHOOK} ORDER BY h.id"), &[])?
            .iter()
            .map(|r| self.opened(webhook_from(r)?))
            .collect()
    }

    pub fn webhook(&self, id: i64) -> Result<Option<WebhookRecord>> {
        self.query(&format!("{WEBHOOK} AND h.id = ?"), &[id.into()])?
            .first()
            .map(|r| self.opened(webhook_from(r)?))
            .transpose()
    }

    /// Pending deliveries due by `at`, oldest first.
    pub fn due_deliveries(&self, at: Timestamp) -> Result<Vec<DeliveryRecord>> {
        let rows = self.query(
            &format!("{DELIVERY} WHERE status = ? AND next_at <= ? ORDER BY id"),
            &[DeliveryStatus::Pending.as_str().into(), at.into()],
        )?;
        Ok(rows
            .iter()
            .map(delivery_from)
            .collect::<Result<_, DbError>>()?)
    }

    pub fn deliveries(&self, webhook_id: i64) -> Result<Vec<DeliveryRecord>> {
        let rows = self.query(
            &format!("{DELIVERY} WHERE webhook_id = ? ORDER BY id"),
            &[webhook_id.into()],
        )?;
        Ok(rows
            .iter()
            .map(delivery_from)
            .collect::<Result<_, DbError>>()?)
    }

    /// Changes whenever anything a plan's trigger reads may have changed: a new version, an
    /// alert raised or moved on, a watch checked, a plan written or ticked.
    pub fn early_warning_state(&self) -> Result<String> {
        let r = self.query(
            "SELECT (SELECT COALESCE(MAX(id), 0) FROM versions) AS version, (SELECT COALESCE(MAX(updated_at), '') FROM alerts) AS alert, \
             (SELECT COALESCE(MAX(checked_at), '') FROM watches) AS watch, (SELECT COUNT(*) FROM plans) AS plans, (SELECT COALESCE(MAX(id), 0) FROM plans) AS plan",
            &[],
        )?;
        let r = &r[0];
        Ok(format!(
            "{} {} {} {} {}",
            r.get::<i64>("version")?,
            r.get::<String>("alert")?,
            r.get::<String>("watch")?,
            r.get::<i64>("plans")?,
            r.get::<i64>("plan")?
        ))
    }

    pub fn plans(&self) -> Result<Vec<PlanRecord>> {
        Ok(self
            .query(&format!("{PLAN} ORDER BY p.id"), &[])?
            .iter()
            .map(plan_from)
            .collect::<Result<_, _>>()?)
    }

    pub fn plan(&self, id: i64) -> Result<Option<PlanRecord>> {
        Ok(self
            .query(&format!("{PLAN} WHERE p.id = ?"), &[id.into()])?
            .first()
            .map(plan_from)
            .transpose()?)
    }
}

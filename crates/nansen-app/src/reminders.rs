//! Reminders to reporters that have sent nothing for a period: some days before the
//! deadline (the template's `remind_days_before`), on the deadline, and once overdue. Each
//! event is recorded before anything goes out, under a unique key, so it is sent once even
//! with several servers; the record is what the template's page and `nansen remind` show.
//! E-mail goes to the reporter's editors and admins through the operator's SMTP server;
//! signed webhooks go to the template's subscribers (its owner and that reporter) from the
//! same outbox as every other event.

use crate::gathering::read;
use crate::{App, Caller, Result};
use nansen_gathering::{reminders_on, Period, ReminderEvent, Template};
use nansen_mail::{Mail, Mailer};
use nansen_model::{DatasetName, Role, Timestamp};
use nansen_store::{HookSubject, NewReminder, ReminderRecord, TemplateRecord};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use time::Date;

/// How reminders go out; the operator's to set.
#[derive(Clone, Debug, Default)]
pub struct ReminderSettings {
    /// The SMTP server; without one, reminders go by webhook alone.
    pub mailer: Option<Mailer>,
    /// Where Nansen is reached, for the links in an e-mail (`https://nansen.euaa.europa.eu`).
    pub public_url: String,
}

/// Tries of a reminder's e-mail before it is left as failed.
const MAX_EMAIL_ATTEMPTS: i64 = 3;

/// A reminder as its template's page and `nansen remind` show it.
#[derive(Clone, Debug, Serialize)]
pub struct ReminderView {
    pub template: DatasetName,
    pub reporter: String,
    pub period: String,
    /// `before`, `due` or `overdue`.
    pub event: String,
    pub deadline: String,
    pub recipients: Vec<String>,
    /// `sent`, `failed`, `sending`, `pending`, or `none` (no SMTP server or no contact).
    pub email: String,
    pub email_error: String,
    /// Webhook deliveries queued for it.
    pub webhooks: i64,
    pub created_at: Timestamp,
}

fn recipients(r: &ReminderRecord) -> Vec<String> {
    r.recipients
        .split(',')
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

fn view(name: &DatasetName, r: ReminderRecord) -> ReminderView {
    ReminderView {
        recipients: recipients(&r),
        template: name.clone(),
        reporter: r.reporter,
        period: r.period,
        event: r.event,
        deadline: r.deadline,
        email: r.email,
        email_error: r.email_error,
        webhooks: r.webhooks,
        created_at: r.created_at,
    }
}

/// The link a reporter follows to fill in a period's return.
pub fn form_link(public_url: &str, name: &DatasetName, period: &str, reporter: &str) -> String {
    format!(
        "{}/templates/{}/{}/form?period={period}&reporter={reporter}",
        public_url.trim_end_matches('/'),
        name.org,
        name.slug
    )
}

fn mail(settings: &ReminderSettings, name: &DatasetName, t: &Template, r: &ReminderRecord) -> Mail {
    let event = ReminderEvent::parse(&r.event).unwrap_or(ReminderEvent::Due);
    let (subject, when) = match event {
        ReminderEvent::Before => (
            format!(
                "Reminder: {} for {} is due on {}",
                t.title, r.period, r.deadline
            ),
            format!("is due on {}", r.deadline),
        ),
        ReminderEvent::Due => (
            format!("Due today: {} for {}", t.title, r.period),
            "is due today".to_string(),
        ),
        ReminderEvent::Overdue => (
            format!("Overdue: {} for {} (due {})", t.title, r.period, r.deadline),
            format!("was due on {} and has not been received", r.deadline),
        ),
    };
    let link = form_link(&settings.public_url, name, &r.period, &r.reporter);
    let body = format!(
        "Dear colleague,\n\n\
         {reporter}'s return \"{title}\" for {period} {when}.\n\n\
         Fill it in on the web (a draft is kept until you submit it):\n{link}\n\n\
         Or download the period's workbook from the template's page, or send the workbook,\n\
         SDMX-CSV or CSV with `nansen submit {name} --period {period} --file FILE`.\n\n\
         Nothing has been received from {reporter} for {period}; once a return is submitted,\n\
         no further reminder is sent for it.\n\n\
         -- Nansen, for {owner}\n",
        reporter = r.reporter,
        title = t.title,
        period = r.period,
        owner = name.org,
    );
    Mail {
        to: recipients(r),
        subject,
        body,
    }
}

impl App {
    pub fn set_reminders(&self, settings: ReminderSettings) {
        *self.reminders.write().expect("not poisoned") = settings;
    }

    fn reminder_settings(&self) -> ReminderSettings {
        self.reminders.read().expect("not poisoned").clone()
    }

    /// Sends the reminders owed on `today` that have not gone before, and tries again the
    /// e-mails that failed; answers what it sent.
    pub fn send_reminders(&self, today: Date) -> Result<Vec<ReminderView>> {
        let settings = self.reminder_settings();
        let mut out = Vec::new();
        let mut templates: HashMap<i64, (TemplateRecord, Template)> = HashMap::new();
        for r in self.store.templates()? {
            let t = read(&r)?;
            let first = Period::containing(t.frequency, r.first_created_at.day());
            let owed = reminders_on(
                today,
                t.frequency,
                t.deadline_days,
                t.remind_days_before,
                first,
            );
            if !owed.is_empty() {
                out.extend(self.remind_template(&settings, &r, &t, &owed)?);
            }
            templates.insert(r.id, (r, t));
        }
        for failed in self.store.reminders_to_retry(MAX_EMAIL_ATTEMPTS)? {
            if let Some((r, t)) = templates.get(&failed.template_id) {
                let name = DatasetName::new(r.org.clone(), r.slug.clone());
                self.email_reminder(&settings, &name, t, failed.id)?;
            }
        }
        Ok(out)
    }

    fn remind_template(
        &self,
        settings: &ReminderSettings,
        r: &TemplateRecord,
        t: &Template,
        owed: &[(Period, ReminderEvent)],
    ) -> Result<Vec<ReminderView>> {
        let name = DatasetName::new(r.org.clone(), r.slug.clone());
        let members = self.store.members(Some(&t.reporters))?;
        // Each reporter that exists, with the editors and admins it is e-mailed at.
        let mut reporters = Vec::new();
        for reporter in &t.reporters {
            if let Some(org) = self.store.org(reporter)? {
                let contacts: Vec<&str> = members
                    .iter()
                    .filter(|m| &m.org == reporter && matches!(m.role, Role::Admin | Role::Editor))
                    .map(|m| m.email.as_str())
                    .collect();
                reporters.push((reporter, org, contacts));
            }
        }
        let mut sent = Vec::new();
        for (p, event) in owed {
            let period = p.to_string();
            let reported: HashSet<String> = self
                .store
                .submissions(r.id, Some(&period), false)?
                .into_iter()
                .map(|s| s.reporter)
                .collect();
            for (reporter, org, contacts) in
                reporters.iter().filter(|(o, _, _)| !reported.contains(*o))
            {
                let deadline = p.deadline(t.deadline_days).to_string();
                let emailed = settings.mailer.is_some() && !contacts.is_empty();
                let new = NewReminder {
                    template_id: r.id,
                    reporter_id: org.id,
                    period: &period,
                    event: event.as_str(),
                    deadline: &deadline,
                    recipients: &contacts.join(","),
                    email: if emailed { "pending" } else { "none" },
                };
                let kind = format!("reminder.{}", event.as_str());
                let payload = serde_json::json!({
                    "event": kind,
                    "template": name.to_string(),
                    "title": t.title,
                    "reporter": reporter,
                    "period": period,
                    "deadline": deadline,
                    "link": form_link(&settings.public_url, &name, &period, reporter),
                })
                .to_string();
                let claimed = self.store.write(|tx| {
                    let Some(id) = tx.claim_reminder(&new)? else {
                        return Ok::<_, crate::AppError>(None);
                    };
                    let hooks =
                        tx.queue_deliveries(HookSubject::Template(r.id), Some(&[org.id, r.org_id]), &kind, &payload)?;
                    tx.set_reminder_webhooks(id, hooks)?;
                    tx.audit(
                        "nansen (reminders)",
                        &kind,
                        &name.to_string(),
                        &serde_json::json!({ "reporter": reporter, "period": period, "recipients": contacts, "webhooks": hooks }).to_string(),
                    )?;
                    Ok(Some(id))
                })?;
                let Some(id) = claimed else { continue };
                if emailed {
                    self.email_reminder(settings, &name, t, id)?;
                }
                if let Some(rec) = self.store.reminders_by_id(id)? {
                    sent.push(view(&name, rec));
                }
            }
        }
        Ok(sent)
    }

    /// Sends a recorded reminder's e-mail, if no one else is, and records how it went.
    fn email_reminder(
        &self,
        settings: &ReminderSettings,
        name: &DatasetName,
        t: &Template,
        id: i64,
    ) -> Result<()> {
        let Some(mailer) = &settings.mailer else {
            return Ok(());
        };
        if !self.store.write(|tx| tx.take_reminder_email(id))? {
            return Ok(());
        }
        let Some(rec) = self.store.reminders_by_id(id)? else {
            return Ok(());
        };
        let error = mailer
            .send(&mail(settings, name, t, &rec))
            .err()
            .map(|e| e.to_string());
        self.store
            .write(|tx| tx.reminder_emailed(id, error.as_deref()))?;
        Ok(())
    }

    /// A template's reminders, newest first: all of them for its reviewers, a reporter's
    /// own for a reporter; to anyone else the template does not exist.
    pub fn reminders(&self, who: &Caller, name: &DatasetName) -> Result<Vec<ReminderView>> {
        let (r, _, _) = self.template_for(who, name)?;
        let all = self.reviews(who, &r);
        Ok(self
            .store
            .reminders(r.id)?
            .into_iter()
            .filter(|x| all || who.principal.role_in(&x.reporter).is_some())
            .map(|x| view(name, x))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use crate::gathering::tests::{people, EPS};
    use crate::test_support::apps;
    use crate::*;
    use nansen_gathering::Period;
    use nansen_mail::testing::SmtpServer;
    use nansen_model::{DatasetName, Timestamp};
    use std::collections::HashMap;
    use std::time::Duration;

    fn settings(url: &str) -> ReminderSettings {
        ReminderSettings {
            mailer: Some(
                Mailer::new(
                    url,
                    "Nansen <nansen@euaa.europa.eu>",
                    Duration::from_secs(5),
                )
                .unwrap(),
            ),
            public_url: "https://nansen.example.org".into(),
        }
    }

    /// The EPS template of euaa, reported by deu and fra, made this month: this month is its
    /// first period, due 17 days after it ends.
    fn eps(app: &App) -> (HashMap<&'static str, Caller>, DatasetName, Period) {
        let who = people(app);
        let name: DatasetName = "euaa/eps".parse().unwrap();
        app.add_template(&who["admin"], &name, EPS).unwrap();
        let period = Period::containing(nansen_gathering::Frequency::Month, Timestamp::now().day());
        (who, name, period)
    }

    fn events(sent: &[ReminderView]) -> Vec<(String, String, String)> {
        sent.iter()
            .map(|r| (r.reporter.clone(), r.period.clone(), r.event.clone()))
            .collect()
    }

    #[test]
    fn a_reporter_that_sent_nothing_is_reminded_before_on_and_after_the_deadline_once_each() {
        for (_t, app) in apps() {
            let (who, name, period) = eps(&app);
            let deadline = period.deadline(17);
            let p = period.to_string();
            app.set_webhook_policy(WebhookPolicy {
                allow_private: true,
                ..Default::default()
            });
            app.subscribe(
                &who["admin"],
                "euaa",
                &HookTarget::Template("euaa/eps".into()),
                "http://127.0.0.1:9/hooks",
            )
            .unwrap();
            assert!(
                matches!(
                    app.subscribe(
                        &who["outsider"],
                        "unhcr",
                        &HookTarget::Template("euaa/eps".into()),
                        "http://127.0.0.1:9/hooks",
                    ),
                    Err(AppError::NotFound(_))
                ),
                "a template one is not concerned by does not exist"
            );
            let smtp = SmtpServer::start();
            app.set_reminders(settings(&smtp.url));

            // deu reports; fra does not.
            app.submit(
                &who["reporter"],
                &name,
                &p,
                "origin,sex,asylum_applications,asylum_applications_first_time\nSYR,F,10,8\n",
            )
            .unwrap();
            assert!(
                app.send_reminders(deadline - time::Duration::days(4))
                    .unwrap()
                    .is_empty(),
                "four days before, nothing is owed"
            );
            let before = app
                .send_reminders(deadline - time::Duration::days(3))
                .unwrap();
            assert_eq!(
                events(&before),
                vec![("fra".into(), p.clone(), "before".into())]
            );
            assert_eq!(before[0].recipients, vec!["stats@ofpra.fr"]);
            assert_eq!((before[0].email.as_str(), before[0].webhooks), ("sent", 1));
            assert!(
                app.send_reminders(deadline - time::Duration::days(2))
                    .unwrap()
                    .is_empty(),
                "the same event is never sent twice"
            );
            let due = app.send_reminders(deadline).unwrap();
            assert_eq!(events(&due), vec![("fra".into(), p.clone(), "due".into())]);
            let overdue = app
                .send_reminders(deadline + time::Duration::days(1))
                .unwrap();
            assert_eq!(
                events(&overdue),
                vec![("fra".into(), p.clone(), "overdue".into())]
            );
            assert!(app
                .send_reminders(deadline + time::Duration::days(2))
                .unwrap()
                .is_empty());

            let mails = smtp.received();
            assert_eq!(mails.len(), 3, "one e-mail per event");
            assert!(mails.iter().all(|m| m.to == vec!["stats@ofpra.fr"]));
            let subjects: Vec<String> = mails.iter().filter_map(|m| m.header("Subject")).collect();
            assert!(subjects[0].starts_with("Reminder: Monthly asylum applications (EPS)"));
            assert!(subjects[1].starts_with("Due today"), "{subjects:?}");
            assert!(subjects[2].starts_with("Overdue"), "{subjects:?}");
            let link = format!(
                "https://nansen.example.org/templates/euaa/eps/form?period={p}&reporter=fra"
            );
            assert!(mails[0].text().contains(&link), "{}", mails[0].text());

            // Recorded: the owner sees all, a reporter its own, in the audit log too.
            let all = app.reminders(&who["editor"], &name).unwrap();
            assert_eq!(all.len(), 3);
            assert_eq!(app.reminders(&who["reporter"], &name).unwrap().len(), 0);
            assert_eq!(app.reminders(&who["fra"], &name).unwrap().len(), 3);
            assert!(matches!(
                app.reminders(&who["outsider"], &name),
                Err(AppError::NotFound(_))
            ));
            let audited: Vec<String> = app
                .audit_log(&Caller::operator())
                .unwrap()
                .into_iter()
                .filter(|e| e.action.starts_with("reminder."))
                .map(|e| e.action)
                .collect();
            assert_eq!(
                audited,
                vec!["reminder.before", "reminder.due", "reminder.overdue"]
            );
            // The owner's webhook heard each, signed and sent from the outbox.
            let hooks = app.webhooks(&who["admin"]).unwrap();
            let mut heard: Vec<&str> = hooks[0]
                .deliveries
                .iter()
                .map(|d| d.event.as_str())
                .collect();
            heard.sort();
            assert_eq!(
                heard,
                vec!["reminder.before", "reminder.due", "reminder.overdue"]
            );
        }
    }

    #[test]
    fn a_reminder_whose_e_mail_failed_is_tried_again_and_never_sent_twice() {
        for (_t, app) in apps() {
            let (who, name, period) = eps(&app);
            let deadline = period.deadline(17);
            // Nothing listens on this port: the SMTP server is down.
            let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let down = format!("smtp://{}", closed.local_addr().unwrap());
            drop(closed);
            app.set_reminders(settings(&down));
            let sent = app.send_reminders(deadline).unwrap();
            assert_eq!(sent.len(), 2, "deu and fra");
            assert!(sent
                .iter()
                .all(|r| r.email == "failed" && !r.email_error.is_empty()));

            let smtp = SmtpServer::start();
            app.set_reminders(settings(&smtp.url));
            assert!(
                app.send_reminders(deadline).unwrap().is_empty(),
                "no new event"
            );
            let mails = smtp.received();
            assert_eq!(mails.len(), 2, "each failed e-mail went on the next round");
            let all = app.reminders(&who["admin"], &name).unwrap();
            assert!(all.iter().all(|r| r.email == "sent"), "{all:?}");
            app.send_reminders(deadline).unwrap();
            assert_eq!(smtp.received().len(), 2, "and only once");
        }
    }

    #[test]
    fn without_an_smtp_server_a_reminder_is_recorded_for_the_webhooks_alone() {
        for (_t, app) in apps() {
            let (_, _, period) = eps(&app);
            let sent = app.send_reminders(period.deadline(17)).unwrap();
            assert_eq!(sent.len(), 2);
            assert!(sent.iter().all(|r| r.email == "none"));
            assert!(app.send_reminders(period.deadline(17)).unwrap().is_empty());
        }
    }
}

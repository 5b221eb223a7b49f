//! Webhook subscriptions and their delivery. An organisation's admins subscribe it to a watch
//! it may read (alerts) or to a dataset it may see (new versions). Events wait in the
//! `deliveries` outbox, written in the transaction of the change; [`App::deliver_webhooks`]
//! sends what is due, retrying failures with exponential back-off until the attempts run out.
//! Whether the subscriber may still see what it subscribed to is checked again before each
//! send.

use crate::dataset_name;
use crate::{App, AppError, Caller, Need, Result};
use nansen_model::{DatasetName, DeliveryStatus, Remedy, Role, Timestamp};
use nansen_store::{DeliveryRecord, HookSubject, StoreError, WebhookRecord};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

/// How webhooks go out; the operator's to set.
#[derive(Clone, Debug)]
pub struct WebhookPolicy {
    /// Allow targets on loopback and private addresses (a test or an internal deployment).
    pub allow_private: bool,
    /// The wait after the first failure; it doubles after each.
    pub backoff: Duration,
    pub max_attempts: i64,
    pub timeout: Duration,
}

impl Default for WebhookPolicy {
    fn default() -> Self {
        WebhookPolicy {
            allow_private: false,
            backoff: Duration::from_secs(30),
            max_attempts: 8,
            timeout: Duration::from_secs(10),
        }
    }
}

/// What a subscription follows.
#[derive(Clone, Debug, PartialEq)]
pub enum HookTarget {
    Watch(i64),
    /// `ORG/SLUG`.
    Dataset(String),
    /// A reporting template `ORG/SLUG`, whose reminders its owner and each reporter hear
    /// (a reporter only its own).
    Template(String),
}

#[derive(Clone, Debug, Serialize)]
pub struct WebhookView {
    pub id: i64,
    pub org: String,
    pub watch: Option<i64>,
    pub dataset: Option<String>,
    /// A reporting template, for its reminders.
    pub template: Option<String>,
    pub url: String,
    pub created_by: String,
    pub created_at: Timestamp,
    pub deliveries: Vec<DeliveryView>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DeliveryView {
    pub id: i64,
    pub event: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub next_at: Timestamp,
    pub last_error: String,
    pub delivered_at: Option<Timestamp>,
}

impl From<DeliveryRecord> for DeliveryView {
    fn from(d: DeliveryRecord) -> Self {
        DeliveryView {
            id: d.id,
            event: d.event,
            status: d.status,
            attempts: d.attempts,
            next_at: d.next_at,
            last_error: d.last_error,
            delivered_at: d.delivered_at,
        }
    }
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct DeliveryReport {
    pub delivered: usize,
    pub retrying: usize,
    pub failed: usize,
}

/// A URL without its user part, query and fragment, which may carry credentials.
fn url_without_secrets(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    format!("{scheme}://{host}/{path}")
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl App {
    pub fn set_webhook_policy(&self, policy: WebhookPolicy) {
        *self.webhook_policy.write().expect("not poisoned") = policy;
    }

    fn policy(&self) -> WebhookPolicy {
        self.webhook_policy.read().expect("not poisoned").clone()
    }

    fn require_org_admin(who: &Caller, org: &str) -> Result<()> {
        if who.principal.role_in(org) != Some(Role::Admin) {
            return Err(AppError::Forbidden(format!(
                "only admins of {org} may manage its webhooks"
            )));
        }
        Ok(())
    }

    /// Subscribes organisation `org` to a watch or a dataset. Returns the subscription and its
    /// signing secret, shown this once.
    pub fn subscribe(
        &self,
        who: &Caller,
        org: &str,
        target: &HookTarget,
        url: &str,
    ) -> Result<(WebhookView, String)> {
        Self::require_org_admin(who, org)?;
        let by = who.email().ok_or_else(|| {
            AppError::needs("a webhook is set up by a person", Remedy::ActAsPerson)
        })?;
        let org_rec = self
            .store
            .org(org)?
            .ok_or_else(|| AppError::NotFound(format!("organisation {org}")))?;
        let url = url.trim();
        nansen_webhooks::check_target(url, self.policy().allow_private)
            .map_err(|e| AppError::BadRequest(format!("webhook target refused: {e}")))?;
        let (follows, subject) = match target {
            HookTarget::Watch(id) => {
                self.watch(who, *id)?;
                (HookSubject::Watch(*id), format!("watch:{id}"))
            }
            HookTarget::Dataset(name) => {
                let (d, _) = self.authorize(who, &dataset_name(name)?, Need::Metadata)?;
                (HookSubject::Dataset(d.id), name.clone())
            }
            HookTarget::Template(name) => {
                let (r, t, _) = self.template_for(who, &dataset_name(name)?)?;
                if r.org != org && !t.reporters.iter().any(|o| o == org) {
                    return Err(AppError::BadRequest(format!(
                        "{org} neither owns template {name} nor reports to it, so it has no reminders to hear"
                    )));
                }
                (HookSubject::Template(r.id), name.clone())
            }
        };
        let secret = crate::identity::random_hex(32);
        let id = self.store.write(|tx| {
            let id = tx.insert_webhook(org_rec.id, follows, url, &secret, by)?;
            // Under the subscribing organisation, not the dataset's owner, and without what a URL
            // may carry in its user part or query (tokens): the owner's admins read their log.
            tx.audit(&who.label, "webhook.subscribe", org, &serde_json::json!({ "webhook": id, "to": subject, "url": url_without_secrets(url) }).to_string())?;
            Ok::<_, AppError>(id)
        })?;
        let view = self
            .webhooks(who)?
            .into_iter()
            .find(|h| h.id == id)
            .ok_or_else(|| AppError::NotFound(format!("webhook {id}")))?;
        Ok((view, secret))
    }

    /// The subscriptions of the organisations the caller administers, with their deliveries.
    pub fn webhooks(&self, who: &Caller) -> Result<Vec<WebhookView>> {
        let mut out = Vec::new();
        for h in self.store.webhooks()? {
            if who.principal.role_in(&h.org) != Some(Role::Admin) {
                continue;
            }
            let dataset = match h.dataset_id {
                Some(id) => self
                    .store
                    .dataset_by_id(id)?
                    .map(|d| format!("{}/{}", d.org, d.slug)),
                None => None,
            };
            let template = match h.template_id {
                Some(id) => self
                    .store
                    .template_by_id(id)?
                    .map(|t| format!("{}/{}", t.org, t.slug)),
                None => None,
            };
            let deliveries = self
                .store
                .deliveries(h.id)?
                .into_iter()
                .map(DeliveryView::from)
                .collect();
            out.push(WebhookView {
                id: h.id,
                org: h.org,
                watch: h.watch_id,
                dataset,
                template,
                url: h.url,
                created_by: h.created_by,
                created_at: h.created_at,
                deliveries,
            });
        }
        Ok(out)
    }

    pub fn unsubscribe(&self, who: &Caller, id: i64) -> Result<()> {
        let h = self
            .store
            .webhook(id)?
            .ok_or_else(|| AppError::NotFound(format!("webhook {id}")))?;
        if who.principal.role_in(&h.org) != Some(Role::Admin) {
            return Err(AppError::NotFound(format!("webhook {id}")));
        }
        self.store.write(|tx| {
            tx.remove_webhook(id)?;
            tx.audit(&who.label, "webhook.remove", &format!("webhook:{id}"), "{}")?;
            Ok::<_, AppError>(())
        })
    }

    /// Whether the subscriber may still see what it subscribed to, as the admin who set it up.
    fn still_allowed(&self, h: &WebhookRecord) -> Result<bool> {
        let Some(u) = self.store.user_by_email(&h.created_by)? else {
            return Ok(false);
        };
        let who = self.caller_for(u.id, &format!("webhook {}", h.id))?;
        if who.principal.role_in(&h.org) != Some(Role::Admin) {
            return Ok(false);
        }
        Ok(match (h.watch_id, h.dataset_id, h.template_id) {
            (Some(w), _, _) => self.watch(&who, w).is_ok(),
            (None, Some(d), _) => match self.store.dataset_by_id(d)? {
                Some(d) => self
                    .authorize(&who, &DatasetName::new(d.org, d.slug), Need::Metadata)
                    .is_ok(),
                None => false,
            },
            (None, None, Some(t)) => match self.store.template_by_id(t)? {
                Some(r) => self
                    .template_for(&who, &DatasetName::new(r.org, r.slug))
                    .is_ok_and(|(r, t, _)| r.org == h.org || t.reporters.contains(&h.org)),
                None => false,
            },
            _ => false,
        })
    }

    /// Sends every delivery that is due; a failure waits `backoff * 2^(attempts - 1)` before
    /// the next try, and after `max_attempts` the delivery is marked failed and audited.
    /// Each subscription's deliveries go in order, subscriptions side by side (at most
    /// [`SENDERS`] at once), so a slow target delays only its own subscriber.
    pub fn deliver_webhooks(&self) -> Result<DeliveryReport> {
        let policy = self.policy();
        let mut by_hook: BTreeMap<i64, Vec<DeliveryRecord>> = BTreeMap::new();
        for d in self.store.due_deliveries(Timestamp::now())? {
            by_hook.entry(d.webhook_id).or_default().push(d);
        }
        let queue = Mutex::new(by_hook.into_values().collect::<Vec<_>>());
        let report = Mutex::new(DeliveryReport::default());
        let first_error = Mutex::new(None);
        std::thread::scope(|scope| {
            for _ in 0..SENDERS {
                scope.spawn(|| loop {
                    let Some(group) = queue.lock().unwrap_or_else(|p| p.into_inner()).pop() else {
                        return;
                    };
                    for d in group {
                        if let Err(e) = self.deliver_one(&d, &policy, &report) {
                            first_error
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .get_or_insert(e);
                            return;
                        }
                    }
                });
            }
        });
        if let Some(e) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
            return Err(e);
        }
        Ok(report.into_inner().unwrap_or_else(|p| p.into_inner()))
    }

    fn deliver_one(
        &self,
        d: &DeliveryRecord,
        policy: &WebhookPolicy,
        report: &Mutex<DeliveryReport>,
    ) -> Result<()> {
        let hook = self.store.webhook(d.webhook_id)?;
        let attempts = d.attempts + 1;
        // The error, and whether trying again could help.
        let outcome: Result<(), (String, bool)> = match &hook {
            None => Err(("the subscription was removed".to_string(), false)),
            Some(h) if !self.still_allowed(h)? => Err((
                format!("{} may no longer see what it subscribed to", h.org),
                false,
            )),
            Some(h) => {
                let send = nansen_webhooks::Delivery {
                    url: &h.url,
                    secret: &h.secret,
                    event: &d.event,
                    id: d.id,
                    body: &d.payload,
                    timestamp: unix_now(),
                };
                nansen_webhooks::send(&send, policy.allow_private, policy.timeout)
                    .map(|_| ())
                    .map_err(|e| (e.to_string(), true))
            }
        };
        self.store.write(|tx| {
            let mut report = report.lock().unwrap_or_else(|p| p.into_inner());
            match &outcome {
                Ok(()) => {
                    tx.update_delivery(d.id, DeliveryStatus::Delivered, attempts, d.next_at, "")?;
                    report.delivered += 1;
                }
                Err((e, retry)) if !retry || attempts >= policy.max_attempts => {
                    tx.update_delivery(d.id, DeliveryStatus::Failed, attempts, d.next_at, e)?;
                    tx.audit(
                        "nansen (webhooks)",
                        "webhook.failed",
                        &format!("webhook:{}", d.webhook_id),
                        &serde_json::json!({ "delivery": d.id, "attempts": attempts, "error": e })
                            .to_string(),
                    )?;
                    report.failed += 1;
                }
                Err((e, _)) => {
                    let wait = policy.backoff.as_secs_f64() * 2f64.powi(attempts as i32 - 1);
                    tx.update_delivery(
                        d.id,
                        DeliveryStatus::Pending,
                        attempts,
                        Timestamp::now().plus_seconds(wait.ceil() as i64),
                        e,
                    )?;
                    report.retrying += 1;
                }
            }
            Ok::<_, StoreError>(())
        })?;
        Ok(())
    }
}

/// Subscriptions served at once by one delivery round.
pub const SENDERS: usize = 8;

#[cfg(test)]
mod tests {
    #[test]
    fn a_webhook_url_is_audited_without_credentials() {
        assert_eq!(
            super::url_without_secrets("https://user:pw@hooks.iom.int/nansen?token=s3cret#x"),
            "https://hooks.iom.int/nansen"
        );
        assert_eq!(
            super::url_without_secrets("https://hooks.iom.int"),
            "https://hooks.iom.int/"
        );
    }
}

//! Contingency plans: a scenario, triggers tied to watches' forecasts and alerts, and actions
//! with owners and a checklist. A plan is triggered when any of its triggers fires; it keeps
//! the time it became so and why, and both changes are audited. Plans are evaluated as the
//! person who wrote them, with the permissions they have at that moment.

use crate::dataset_name;
use crate::warning::still_open;
use crate::{App, AppError, Caller, Need, Result};
use nansen_model::{Query, Remedy, Role, Timestamp};
use nansen_store::{PlanRecord, StoreError};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct PlanSpec {
    pub triggers: Vec<Trigger>,
    #[serde(default)]
    pub actions: Vec<Action>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Trigger {
    /// A watch's forecast over its next `periods` periods goes above a capacity.
    Forecast {
        watch: i64,
        /// The series, by its dimension values; empty: any series of the watch.
        #[serde(default)]
        series: Vec<String>,
        #[serde(default = "default_periods")]
        periods: usize,
        /// `hi` (the interval's upper bound) or `mean`.
        #[serde(default = "default_bound")]
        bound: String,
        above: Capacity,
    },
    /// Open alerts (new or acknowledged) of a watch on at least `series` of its series.
    Alerts {
        watch: i64,
        /// Only this rule's alerts; none: any rule.
        #[serde(default)]
        rule: Option<String>,
        #[serde(default = "default_series")]
        series: usize,
    },
}

/// A trigger's defaults, for every door that reads a plan's spec.
pub fn default_periods() -> usize {
    2
}
pub fn default_series() -> usize {
    1
}
pub fn default_bound() -> String {
    "hi".into()
}

/// A capacity: a number, or the latest value of a dataset's series.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Capacity {
    Number(f64),
    Dataset {
        dataset: String,
        #[serde(default)]
        wheres: Vec<String>,
    },
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Action {
    pub what: String,
    pub owner: String,
    #[serde(default)]
    pub done: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TriggerState {
    pub fired: bool,
    pub why: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct PlanView {
    pub id: i64,
    pub org: String,
    pub title: String,
    pub scenario: String,
    pub spec: PlanSpec,
    pub created_by: String,
    pub created_at: Timestamp,
    pub triggered_since: Option<Timestamp>,
    pub reason: String,
    pub checked_at: Option<Timestamp>,
    pub triggers: Vec<TriggerState>,
    pub may_change: bool,
}

fn fmt(v: f64) -> String {
    let n = v.round() as i64;
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

impl App {
    fn plan_record(&self, who: &Caller, id: i64) -> Result<(PlanRecord, PlanSpec, bool)> {
        let not_found = || AppError::NotFound(format!("plan {id}"));
        let p = self.store.plan(id)?.ok_or_else(not_found)?;
        let role = who.principal.role_in(&p.org).ok_or_else(not_found)?;
        let spec = serde_json::from_str(&p.spec).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok((p, spec, role.edits_data()))
    }

    /// A plan as last evaluated (the evaluation reads data as its author: it is the job's to
    /// do, audited as such, not every reader's).
    fn plan_view(&self, p: PlanRecord, spec: PlanSpec, may_change: bool) -> PlanView {
        let triggers: Vec<TriggerState> = serde_json::from_str(&p.reason).unwrap_or_default();
        let reason = triggers
            .iter()
            .filter(|t| t.fired)
            .map(|t| t.why.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        PlanView {
            id: p.id,
            org: p.org,
            title: p.title,
            scenario: p.scenario,
            spec,
            created_by: p.created_by,
            created_at: p.created_at,
            triggered_since: p.triggered_since,
            reason,
            checked_at: p.checked_at,
            triggers,
            may_change,
        }
    }

    /// Writes a plan for organisation `org`; it is evaluated at once.
    pub fn create_plan(
        &self,
        who: &Caller,
        org: &str,
        title: &str,
        scenario: &str,
        spec: PlanSpec,
    ) -> Result<PlanView> {
        let org_rec = self
            .store
            .org(org)?
            .ok_or_else(|| AppError::NotFound(format!("organisation {org}")))?;
        if !who.principal.role_in(org).is_some_and(Role::edits_data) {
            return Err(AppError::Forbidden(format!(
                "only editors and admins of {org} may write its plans"
            )));
        }
        let Some(author) = who.email() else {
            return Err(AppError::needs(
                "a plan is written by a person",
                Remedy::ActAsPerson,
            ));
        };
        if title.trim().is_empty() || spec.triggers.is_empty() {
            return Err(AppError::BadRequest(
                "a plan needs a title and at least one trigger".into(),
            ));
        }
        for (i, t) in spec.triggers.iter().enumerate() {
            let watch = match t {
                Trigger::Forecast {
                    watch,
                    bound,
                    periods,
                    above,
                    ..
                } => {
                    if bound != "hi" && bound != "mean" {
                        return Err(AppError::BadRequest(format!(
                            "trigger {}: bound is hi or mean, not {bound:?}",
                            i + 1
                        )));
                    }
                    if *periods == 0 {
                        return Err(AppError::BadRequest(format!(
                            "trigger {}: periods must be at least 1",
                            i + 1
                        )));
                    }
                    if let Capacity::Dataset { dataset, wheres } = above {
                        self.authorize(who, &dataset_name(dataset)?, Need::Data)?;
                        Query::parse(wheres, None, None)?;
                    }
                    watch
                }
                Trigger::Alerts { watch, series, .. } => {
                    if *series == 0 {
                        return Err(AppError::BadRequest(format!(
                            "trigger {}: series must be at least 1",
                            i + 1
                        )));
                    }
                    watch
                }
            };
            let w = self.watch(who, *watch).map_err(|_| {
                AppError::BadRequest(format!(
                    "trigger {}: no watch {watch} that you may read",
                    i + 1
                ))
            })?;
            if w.org != org && !w.partners.iter().any(|p| p == org) {
                return Err(AppError::BadRequest(format!(
                    "trigger {}: watch {watch} is neither {org}'s nor shared with it",
                    i + 1
                )));
            }
        }
        let json = serde_json::to_string(&spec).expect("serialisable");
        let id = self.store.write(|tx| {
            let id = tx.insert_plan(org_rec.id, title.trim(), scenario.trim(), &json, author)?;
            tx.audit(
                &who.label,
                "plan.create",
                &format!("plan:{id}"),
                &serde_json::json!({ "org": org, "title": title.trim() }).to_string(),
            )?;
            Ok::<_, AppError>(id)
        })?;
        self.evaluate_plan(id)?;
        self.plan(who, id)
    }

    pub fn plans(&self, who: &Caller) -> Result<Vec<PlanView>> {
        let mut out = Vec::new();
        for p in self.store.plans()? {
            if let Ok((p, spec, may_change)) = self.plan_record(who, p.id) {
                out.push(self.plan_view(p, spec, may_change));
            }
        }
        Ok(out)
    }

    pub fn plan(&self, who: &Caller, id: i64) -> Result<PlanView> {
        let (p, spec, may_change) = self.plan_record(who, id)?;
        Ok(self.plan_view(p, spec, may_change))
    }

    /// Ticks an action of a plan's checklist, or unticks it; audited.
    pub fn set_action_done(
        &self,
        who: &Caller,
        id: i64,
        action: usize,
        done: bool,
    ) -> Result<PlanView> {
        let (_, mut spec, may_change) = self.plan_record(who, id)?;
        if !may_change {
            return Err(AppError::Forbidden(
                "only editors and admins may tick a plan's actions".into(),
            ));
        }
        let a = spec
            .actions
            .get_mut(action)
            .ok_or_else(|| AppError::NotFound(format!("action {} of plan {id}", action + 1)))?;
        a.done = done;
        let what = a.what.clone();
        let json = serde_json::to_string(&spec).expect("serialisable");
        self.store.write(|tx| {
            tx.update_plan_spec(id, &json)?;
            tx.audit(
                &who.label,
                "plan.action",
                &format!("plan:{id}"),
                &serde_json::json!({ "action": action + 1, "what": what, "done": done })
                    .to_string(),
            )?;
            Ok::<_, AppError>(())
        })?;
        self.plan(who, id)
    }

    /// Evaluates every plan when anything a trigger reads has changed since the last time
    /// (a version, an alert, a plan, a watch's forecast); records and audits the plans that
    /// became triggered or stopped being so, and returns them.
    pub fn evaluate_plans(&self) -> Result<Vec<i64>> {
        let now = self.store.early_warning_state()?;
        let mut last = self.plans_seen.lock().expect("not poisoned");
        if last.as_deref() == Some(now.as_str()) {
            return Ok(Vec::new());
        }
        let mut changed = Vec::new();
        for p in self.store.plans()? {
            if self.evaluate_plan(p.id)? {
                changed.push(p.id);
            }
        }
        *last = Some(now);
        Ok(changed)
    }

    /// Evaluates one plan as its author; writes its state only when it changed. Returns
    /// whether it became triggered or stopped being so.
    fn evaluate_plan(&self, id: i64) -> Result<bool> {
        let Some(p) = self.store.plan(id)? else {
            return Ok(false);
        };
        let spec: PlanSpec =
            serde_json::from_str(&p.spec).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let states: Vec<TriggerState> = match self.store.user_by_email(&p.created_by)? {
            Some(u) => {
                let as_author = self.caller_for(u.id, &format!("plan {id}"))?;
                spec.triggers
                    .iter()
                    .map(|t| self.evaluate(&as_author, t))
                    .collect()
            }
            None => spec
                .triggers
                .iter()
                .map(|_| TriggerState {
                    fired: false,
                    why: "the plan's author no longer has an account".into(),
                })
                .collect(),
        };
        let reason: Vec<&str> = states
            .iter()
            .filter(|s| s.fired)
            .map(|s| s.why.as_str())
            .collect();
        let fired = !reason.is_empty();
        let since = match (&p.triggered_since, fired) {
            (None, true) => Some(Timestamp::now()),
            (Some(_), false) => None,
            (s, _) => *s,
        };
        let became = since.is_some() && p.triggered_since.is_none();
        let cleared = since.is_none() && p.triggered_since.is_some();
        let json = serde_json::to_string(&states).expect("serialisable");
        if json == p.reason && !became && !cleared {
            return Ok(false);
        }
        let actor = format!("nansen (plan {id})");
        self.store.write(|tx| {
            tx.mark_plan_checked(id, since, &json)?;
            if became {
                tx.audit(
                    &actor,
                    "plan.triggered",
                    &format!("plan:{id}"),
                    &serde_json::json!({ "why": reason.join("; ") }).to_string(),
                )?;
            }
            if cleared {
                tx.audit(&actor, "plan.cleared", &format!("plan:{id}"), "{}")?;
            }
            Ok::<_, AppError>(())
        })?;
        Ok(became || cleared)
    }

    /// Whether one trigger fires now, and why in words.
    fn evaluate(&self, who: &Caller, t: &Trigger) -> TriggerState {
        let r = (|| -> Result<TriggerState> {
            match t {
                Trigger::Forecast {
                    watch,
                    series,
                    periods,
                    bound,
                    above,
                } => {
                    let w = self.watch(who, *watch)?;
                    let Some(outlook) = &w.outlook else {
                        return Ok(TriggerState {
                            fired: false,
                            why: format!("watch {watch} has no forecast yet"),
                        });
                    };
                    let (capacity, from) = match above {
                        Capacity::Number(n) => (*n, "a fixed capacity".to_string()),
                        Capacity::Dataset { dataset, wheres } => {
                            let name = dataset_name(dataset)?;
                            let mut q = Query::parse(wheres, None, None)?;
                            q.group_by = vec!["period".into()];
                            let table = self.query(who, &name, None, &q)?;
                            let latest = table
                                .rows
                                .iter()
                                .filter(|r| r.value.is_some())
                                .max_by(|a, b| a.key[0].cmp(&b.key[0]));
                            let Some(row) = latest else {
                                return Ok(TriggerState {
                                    fired: false,
                                    why: format!("{dataset} holds no capacity for these filters"),
                                });
                            };
                            (
                                row.value.unwrap_or(0.0),
                                format!("{dataset}, {}", row.key[0]),
                            )
                        }
                    };
                    let label = if bound == "mean" {
                        "mean forecast".to_string()
                    } else {
                        format!("upper {:.0}% bound", outlook.level)
                    };
                    let mut worst: Option<(f64, String, String)> = None;
                    for s in outlook
                        .series
                        .iter()
                        .filter(|s| series.is_empty() || &s.key == series)
                    {
                        for p in s.forecast.iter().take(*periods) {
                            let v = if bound == "mean" { p.mean } else { p.hi };
                            if worst.as_ref().is_none_or(|(b, _, _)| v > *b) {
                                worst = Some((v, s.key.join(" · "), p.period.clone()));
                            }
                        }
                    }
                    let Some((v, key, period)) = worst else {
                        return Ok(TriggerState {
                            fired: false,
                            why: format!("watch {watch} forecasts no such series"),
                        });
                    };
                    let name = if key.is_empty() {
                        w.name.clone()
                    } else {
                        format!("{} ({key})", w.name)
                    };
                    let fired = v > capacity;
                    let verb = if fired { "exceeds" } else { "is within" };
                    Ok(TriggerState { fired, why: format!("{label} of {name} in {period} is {}, which {verb} capacity {} ({from})", fmt(v), fmt(capacity)) })
                }
                Trigger::Alerts {
                    watch,
                    rule,
                    series,
                } => {
                    // Readable as a whole or not at all: its alerts need no check of their own.
                    let w = self.watch(who, *watch)?;
                    let mut keys: Vec<String> = self
                        .store
                        .alerts(&[*watch])?
                        .into_iter()
                        .filter(|a| still_open(a) && rule.as_ref().is_none_or(|r| r == &a.rule))
                        .map(|a| crate::Panel::key(&a.series).join(" · "))
                        .collect();
                    keys.sort();
                    keys.dedup();
                    let which = rule
                        .as_deref()
                        .map(|r| format!("{r} alerts"))
                        .unwrap_or_else(|| "alerts".into());
                    let fired = keys.len() >= *series;
                    let list = if keys.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", keys.join(", "))
                    };
                    Ok(TriggerState {
                        fired,
                        why: format!(
                            "open {which} of {} on {} series (trigger at {series}){list}",
                            w.name,
                            keys.len()
                        ),
                    })
                }
            }
        })();
        r.unwrap_or_else(|e| TriggerState {
            fired: false,
            why: format!("cannot evaluate: {e}"),
        })
    }
}

//! Early warning: watched series, the alerts their rules raise, and the check that runs when
//! a new version of a watched dataset lands.
//!
//! A watch belongs to an organisation; its editors and admins change it and its alerts, its
//! other members and the partner organisations it names read them. Anyone reading a watch
//! must also be able to read the dataset's data, checked each time. A watch is checked as the
//! person who set it up, with the permissions they have at that moment.

use crate::{dataset_name, App, AppError, Caller, Need, Result};
use nansen_forecast::detect::{Judgement, OneStep, Rule};
use nansen_forecast::{Budget, Model, Options};
use nansen_model::{Access, DatasetName, Query, Remedy, Role, Timestamp};
use nansen_store::{AlertRecord, CommentRecord, HookSubject, StoreError, WatchRecord};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// The periods of history kept with a forecast or an alert, for its chart.
const HISTORY: usize = 36;

/// What a watch follows and how it judges it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct WatchSpec {
    /// `ORG/SLUG`.
    pub dataset: String,
    /// Filters, as `DIM=V[,V]`.
    #[serde(default)]
    pub wheres: Vec<String>,
    #[serde(default)]
    pub frequency: Option<String>,
    /// One series per combination of these dimensions' values (none: one series).
    #[serde(default)]
    pub series_by: Vec<String>,
    pub rules: Vec<Rule>,
    /// Periods forecast ahead.
    #[serde(default = "default_horizon")]
    pub horizon: usize,
    /// How many of the latest periods the rules judge at each check.
    #[serde(default = "default_lookback")]
    pub lookback: usize,
    /// The forecast interval's level, in per cent.
    #[serde(default = "default_level")]
    pub level: f64,
}

/// A watch's defaults, for every door that reads a watch's spec.
pub fn default_horizon() -> usize {
    3
}
pub fn default_lookback() -> usize {
    3
}
pub fn default_level() -> f64 {
    80.0
}

/// The latest forecast of each series of a watch, with its recent history.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Outlook {
    pub level: f64,
    pub version: i64,
    /// Computed on the disclosure-controlled view (see `App::watch_view_protected`).
    #[serde(default)]
    pub protected: bool,
    pub series: Vec<SeriesOutlook>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SeriesOutlook {
    pub key: Vec<String>,
    pub history: Vec<(String, Option<f64>)>,
    pub forecast: Vec<Point>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Point {
    pub period: String,
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
}

/// What an alert says: the series, what was seen against what was expected, the rule and
/// its parameters, and the history around it for the chart.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AlertDetail {
    pub key: Vec<String>,
    pub observed: f64,
    pub expected: f64,
    /// The value above which the rule alarms.
    pub upper: f64,
    pub statistic: f64,
    pub params: BTreeMap<String, f64>,
    pub history: Vec<(String, Option<f64>)>,
    /// In words, for the inbox and webhooks.
    pub why: String,
    /// Computed on the disclosure-controlled view.
    #[serde(default)]
    pub protected: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct WatchView {
    pub id: i64,
    pub org: String,
    pub name: String,
    pub created_by: String,
    pub created_at: Timestamp,
    pub spec: WatchSpec,
    pub partners: Vec<String>,
    pub checked_version: i64,
    pub checked_at: Option<Timestamp>,
    pub outlook: Option<Outlook>,
    pub problem: String,
    pub open_alerts: usize,
    /// Whether the caller may change it and its alerts.
    pub may_change: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct AlertView {
    pub id: i64,
    pub watch_id: i64,
    pub watch: String,
    pub org: String,
    pub dataset: String,
    pub series: String,
    pub period: String,
    pub rule: String,
    pub status: AlertStatus,
    pub assignee: Option<String>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub detail: AlertDetail,
    pub may_change: bool,
}

/// The states an alert moves through, written as the store, the API and the CLI spell them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AlertStatus {
    New,
    Acknowledged,
    Resolved,
    FalseAlarm,
}

impl AlertStatus {
    pub const ALL: [AlertStatus; 4] = [
        AlertStatus::New,
        AlertStatus::Acknowledged,
        AlertStatus::Resolved,
        AlertStatus::FalseAlarm,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::New => "new",
            AlertStatus::Acknowledged => "acknowledged",
            AlertStatus::Resolved => "resolved",
            AlertStatus::FalseAlarm => "false_alarm",
        }
    }

    /// Whether an alert in this state still wants handling.
    pub fn is_open(self) -> bool {
        matches!(self, AlertStatus::New | AlertStatus::Acknowledged)
    }
}

/// Whether a stored alert still wants handling.
pub(crate) fn still_open(a: &AlertRecord) -> bool {
    a.status.parse().is_ok_and(AlertStatus::is_open)
}

impl std::fmt::Display for AlertStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for AlertStatus {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        AlertStatus::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| {
                format!("an alert is new, acknowledged, resolved or false_alarm, not {s:?}")
            })
    }
}

impl Serialize for AlertStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for AlertStatus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// A change to an alert: its status, its assignee (`Some(None)` unassigns), or both.
#[derive(Clone, Debug, Default)]
pub struct AlertChange {
    pub status: Option<AlertStatus>,
    pub assignee: Option<Option<String>>,
}

/// What one check of one watch did.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CheckReport {
    pub watch: i64,
    pub version: i64,
    pub alerts: Vec<i64>,
    pub problem: String,
}

#[derive(Clone, Copy, PartialEq, PartialOrd)]
enum WatchAccess {
    None,
    Read,
    Change,
}

impl WatchSpec {
    fn check(&self) -> Result<()> {
        dataset_name(&self.dataset)?;
        if self.rules.is_empty() {
            return Err(AppError::BadRequest(
                "a watch needs at least one rule: c1, c2, c3, farrington or cusum".into(),
            ));
        }
        for r in &self.rules {
            r.check().map_err(|e| AppError::BadRequest(e.to_string()))?;
        }
        if !(1..=24).contains(&self.horizon) || !(1..=60).contains(&self.lookback) {
            return Err(AppError::BadRequest(
                "horizon must be 1 to 24 periods and lookback 1 to 60".into(),
            ));
        }
        if !(1.0..=99.0).contains(&self.level) {
            return Err(AppError::BadRequest(format!(
                "the interval level must be between 1 and 99, not {}",
                self.level
            )));
        }
        self.query()?;
        Ok(())
    }

    pub(crate) fn query(&self) -> Result<Query> {
        Ok(Query::parse(&self.wheres, None, None)
            .and_then(|q| q.with_options(None, self.frequency.as_deref(), None))?)
    }
}

/// Which series to judge, by which rules, from which period on.
#[derive(Clone, Debug, Default)]
pub struct DetectRequest {
    pub query: Query,
    pub series_by: Vec<String>,
    pub rules: Vec<Rule>,
    /// The first period judged; none: the last period only.
    pub from: Option<String>,
}

/// An alarm found by a check: the rule, what it says, the series' name and the period.
type Alarm = (Rule, AlertDetail, String, String);

/// What a rule said of one period of one series.
#[derive(Clone, Debug, Serialize)]
pub struct Detection {
    pub key: Vec<String>,
    pub period: String,
    pub rule: Rule,
    pub judgement: Judgement,
}

/// Runs `rules` over the last `lookback` periods of every series of a panel. Gaps are filled
/// for the baselines (see `nansen_forecast::prepare`), but a period that was not reported is
/// never judged. CUSUM judges the residuals of one-step `auto` forecasts, each made from the
/// history before its period only.
pub(crate) fn judge_panel(
    panel: &crate::Panel,
    rules: &[Rule],
    lookback: usize,
    budget: &Budget,
) -> Result<Vec<Detection>> {
    let mut one_step: HashMap<(String, String), OneStep> = HashMap::new();
    if rules.iter().any(Rule::needs_forecasts) {
        let longest = panel
            .series
            .iter()
            .map(|s| s.values.iter().filter(|v| v.is_some()).count())
            .max()
            .unwrap_or(0);
        // Twelve periods more than judged, so the sum has a run-up; never more than the history allows.
        let windows = (lookback + 12).min(longest.saturating_sub(5)).max(1);
        let o = Options {
            season: panel.season,
            horizon: 1,
            level: 80.0,
        };
        match nansen_forecast::backtest(
            &panel.series,
            &[Model::Auto],
            windows,
            o,
            &|i| panel.period(i),
            budget,
        ) {
            Ok(r) => {
                for d in r.details {
                    one_step.insert(
                        (d.series, d.period),
                        OneStep {
                            mean: d.mean,
                            lo80: d.lo80,
                            hi80: d.hi80,
                        },
                    );
                }
            }
            Err(e @ nansen_forecast::ForecastError::Stopped(_)) => return Err(e.into()),
            // Series too short for one-step forecasts: CUSUM has nothing to judge.
            Err(_) => {}
        }
    }
    let mut out = Vec::new();
    for s in &panel.series {
        let key = crate::Panel::key(&s.name);
        let (y, first) = nansen_forecast::prepare(&s.values);
        if y.is_empty() {
            continue;
        }
        let steps: Vec<Option<OneStep>> = (0..y.len())
            .map(|i| {
                one_step
                    .get(&(s.name.clone(), panel.period(first + i)))
                    .copied()
            })
            .collect();
        let from = y.len().saturating_sub(lookback);
        for rule in rules {
            for j in rule.run(&y, panel.season, from, &steps) {
                if s.values[first + j.index].is_none() {
                    continue;
                }
                out.push(Detection {
                    key: key.clone(),
                    period: panel.period(first + j.index),
                    rule: rule.clone(),
                    judgement: j,
                });
            }
        }
    }
    Ok(out)
}

/// How long one watch's check may compute, so one watch cannot hold up the round.
const WATCH_CHECK_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

fn why(rule: &Rule, j: &Judgement) -> String {
    let name = match rule.name.as_str() {
        "c1" => "EARS C1",
        "c2" => "EARS C2",
        "c3" => "EARS C3",
        "farrington" => "Farrington flexible",
        _ => "CUSUM of forecast residuals",
    };
    format!(
        "{name}: observed {:.0}, expected {:.0}, alarm above {:.0}",
        j.observed, j.expected, j.upper
    )
}

impl App {
    /// The person a watch, plan or webhook acts as: its creator, with their permissions now.
    /// `what` names the job in the audit log, as "nansen (watch 3) as ana@euaa.europa.eu".
    pub(crate) fn caller_for(&self, user_id: i64, what: &str) -> Result<Caller> {
        let u = self
            .store
            .user(user_id)?
            .ok_or_else(|| AppError::NotFound(format!("user {user_id}")))?;
        Ok(Caller {
            principal: self.principal_of(u.id, &u.email)?,
            label: format!("nansen ({what}) as {}", u.email),
        })
    }

    /// How the caller may use a watch, and whether they read its dataset disclosure-controlled.
    fn watch_access(&self, who: &Caller, w: &WatchRecord, spec: &WatchSpec) -> (WatchAccess, bool) {
        let own = match who.principal.role_in(&w.org) {
            Some(r) if r >= Role::Editor => WatchAccess::Change,
            Some(_) => WatchAccess::Read,
            None if who
                .principal
                .orgs()
                .iter()
                .any(|o| w.partners.iter().any(|p| p == o)) =>
            {
                WatchAccess::Read
            }
            None => WatchAccess::None,
        };
        if own == WatchAccess::None {
            return (own, true);
        }
        // Alerts carry values: whoever reads them must be able to read the data now.
        match dataset_name(&spec.dataset).and_then(|name| self.authorize(who, &name, Need::Data)) {
            Ok((d, access)) => (own, d.sensitive && !matches!(access, Access::Owner(_))),
            Err(_) => (WatchAccess::None, true),
        }
    }

    /// Whether a watch is computed on the disclosure-controlled view: when its dataset is
    /// sensitive and anyone who reads the watch (its organisation, its partners) is outside
    /// the dataset's owner, since alerts and forecasts are shown to all of them alike.
    fn watch_view_protected(&self, w: &WatchRecord) -> Result<bool> {
        let d = self
            .store
            .dataset_by_id(w.dataset_id)?
            .ok_or_else(|| AppError::NotFound(format!("dataset of watch {}", w.id)))?;
        Ok(d.sensitive && (w.org != d.org || w.partners.iter().any(|p| *p != d.org)))
    }

    /// A watch the caller may read (and how), or NotFound.
    fn visible_watch(
        &self,
        who: &Caller,
        id: i64,
    ) -> Result<(WatchRecord, WatchSpec, WatchAccess, bool)> {
        let not_found = || AppError::NotFound(format!("watch {id}"));
        let w = self.store.watch(id)?.ok_or_else(not_found)?;
        let spec: WatchSpec =
            serde_json::from_str(&w.spec).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        match self.watch_access(who, &w, &spec) {
            (WatchAccess::None, _) => Err(not_found()),
            (a, protect) => Ok((w, spec, a, protect)),
        }
    }

    /// `protect`: the reader sees the dataset disclosure-controlled, so an outlook computed on
    /// the unsuppressed view (before the dataset became sensitive) is withheld.
    fn watch_view(
        &self,
        w: WatchRecord,
        spec: WatchSpec,
        access: WatchAccess,
        protect: bool,
        open: usize,
    ) -> WatchView {
        let outlook = serde_json::from_str::<Outlook>(&w.outlook)
            .ok()
            .filter(|o| o.protected || !protect);
        WatchView {
            id: w.id,
            org: w.org,
            name: w.name,
            created_by: w.created_by,
            created_at: w.created_at,
            spec,
            partners: w.partners,
            checked_version: w.checked_version,
            checked_at: w.checked_at,
            outlook,
            problem: w.problem,
            open_alerts: open,
            may_change: access == WatchAccess::Change,
        }
    }

    /// Starts watching a series for organisation `org`, and checks it at once.
    pub fn create_watch(
        &self,
        who: &Caller,
        org: &str,
        name: &str,
        spec: WatchSpec,
        partners: &[String],
    ) -> Result<WatchView> {
        let org_rec = self
            .store
            .org(org)?
            .ok_or_else(|| AppError::NotFound(format!("organisation {org}")))?;
        if who.principal.role_in(org).is_none_or(|r| r < Role::Editor) {
            return Err(AppError::Forbidden(format!(
                "only editors and admins of {org} may watch series for it"
            )));
        }
        let user_id = who
            .user_id()
            .ok_or_else(|| AppError::needs("a watch is set up by a person", Remedy::ActAsPerson))?;
        if name.trim().is_empty() {
            return Err(AppError::BadRequest("a watch needs a name".into()));
        }
        spec.check()?;
        for p in partners {
            if self.store.org(p)?.is_none() {
                return Err(AppError::BadRequest(format!(
                    "unknown partner organisation {p:?}"
                )));
            }
        }
        let dataset = dataset_name(&spec.dataset)?;
        let (d, _) = self.authorize(who, &dataset, Need::Data)?;
        // The series must exist before anyone relies on the watch.
        let panel = self.panel(who, &dataset, &spec.query()?, &spec.series_by)?;
        if panel.series.is_empty() {
            return Err(AppError::BadRequest(format!(
                "{} has no series for these filters",
                spec.dataset
            )));
        }
        let json = serde_json::to_string(&spec).expect("serialisable");
        let id = self.store.write(|tx| {
            let id = tx.insert_watch(org_rec.id, user_id, d.id, name.trim(), &json, partners)?;
            tx.audit(&who.label, "watch.create", &format!("watch:{id}"), &serde_json::json!({ "org": org, "name": name.trim(), "spec": spec, "partners": partners }).to_string())?;
            Ok::<_, AppError>(id)
        })?;
        let w = self
            .store
            .watch(id)?
            .ok_or_else(|| AppError::NotFound(format!("watch {id}")))?;
        self.check_watch(&w, self.latest_version(d.id)?)?;
        self.watch(who, id)
    }

    /// Runs detection rules over a dataset's series as the caller may see them, judging every
    /// period from `r.from` on (default: the last one).
    pub fn detect(
        &self,
        who: &Caller,
        name: &DatasetName,
        r: &DetectRequest,
        budget: &Budget,
    ) -> Result<(crate::Panel, Vec<Detection>)> {
        for rule in &r.rules {
            rule.check()
                .map_err(|e| AppError::BadRequest(e.to_string()))?;
        }
        let panel = self.panel(who, name, &r.query, &r.series_by)?;
        let len = panel.series.first().map_or(0, |s| s.values.len());
        let lookback = match r.from.as_deref() {
            Some(p) => {
                len - panel.index_of(p).ok_or_else(|| {
                    AppError::BadRequest(format!("{p} is not a period of these series"))
                })?
            }
            None => 1,
        };
        let found = judge_panel(&panel, &r.rules, lookback, budget)?;
        Ok((panel, found))
    }

    /// The watches the caller may read.
    pub fn watches(&self, who: &Caller) -> Result<Vec<WatchView>> {
        let mut out = Vec::new();
        for w in self.store.watches()? {
            let Ok(spec) = serde_json::from_str::<WatchSpec>(&w.spec) else {
                continue;
            };
            let (access, protect) = self.watch_access(who, &w, &spec);
            if access != WatchAccess::None {
                let open = self
                    .store
                    .alerts(&[w.id])?
                    .iter()
                    .filter(|a| still_open(a))
                    .count();
                out.push(self.watch_view(w, spec, access, protect, open));
            }
        }
        Ok(out)
    }

    pub fn watch(&self, who: &Caller, id: i64) -> Result<WatchView> {
        let (w, spec, access, protect) = self.visible_watch(who, id)?;
        let open = self
            .store
            .alerts(&[w.id])?
            .iter()
            .filter(|a| still_open(a))
            .count();
        Ok(self.watch_view(w, spec, access, protect, open))
    }

    /// Checks every watch whose dataset has a version it has not seen; returns what each did.
    pub fn run_watches(&self) -> Result<Vec<CheckReport>> {
        let mut out = Vec::new();
        for w in self.store.watches()? {
            let latest = self.latest_version(w.dataset_id)?;
            if latest > w.checked_version {
                out.push(self.check_watch(&w, latest)?);
            }
        }
        Ok(out)
    }

    fn latest_version(&self, dataset_id: i64) -> Result<i64> {
        Ok(self
            .store
            .versions(dataset_id)?
            .last()
            .map_or(0, |v| v.number))
    }

    /// Recomputes a watch's forecast on `version` and runs its rules over its latest periods,
    /// raising an alert (and queueing its webhooks) for each alarm not raised before.
    fn check_watch(&self, w: &WatchRecord, version: i64) -> Result<CheckReport> {
        let mut report = CheckReport {
            watch: w.id,
            version,
            alerts: Vec::new(),
            problem: String::new(),
        };
        let found = (|| -> Result<(Outlook, Vec<Alarm>)> {
            let spec: WatchSpec =
                serde_json::from_str(&w.spec).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let who = self.caller_for(w.user_id, &format!("watch {}", w.id))?;
            let name = dataset_name(&spec.dataset)?;
            let protected = self.watch_view_protected(w)?;
            let panel = self.panel_as(&who, &name, &spec.query()?, &spec.series_by, protected)?;
            let opts = Options {
                season: panel.season,
                horizon: spec.horizon,
                level: spec.level,
            };
            let label = |i: usize| panel.period(i);
            let budget = Budget::lasting(WATCH_CHECK_LIMIT);
            let forecast = match nansen_forecast::forecast(
                &panel.series,
                Model::Auto,
                opts,
                &label,
                &budget,
            ) {
                Err(e @ nansen_forecast::ForecastError::Stopped(_)) => return Err(e.into()),
                other => other.unwrap_or_default(),
            };
            let mut outlook = Outlook {
                level: spec.level,
                version,
                protected,
                series: Vec::new(),
            };
            for s in &panel.series {
                let history: Vec<(String, Option<f64>)> = (0..s.values.len())
                    .map(|i| (panel.period(i), s.values[i]))
                    .collect();
                let recent = history[history.len().saturating_sub(HISTORY)..].to_vec();
                let points = forecast
                    .iter()
                    .filter(|f| f.series == s.name)
                    .map(|f| Point {
                        period: f.period.clone(),
                        mean: f.mean,
                        lo: f.lo,
                        hi: f.hi,
                    })
                    .collect();
                outlook.series.push(SeriesOutlook {
                    key: crate::Panel::key(&s.name),
                    history: recent,
                    forecast: points,
                });
            }
            let alarms = judge_panel(&panel, &spec.rules, spec.lookback, &budget)?
                .into_iter()
                .filter(|d| d.judgement.alarm)
                .map(|d| {
                    let series = panel
                        .series
                        .iter()
                        .find(|s| crate::Panel::key(&s.name) == d.key)
                        .expect("judged");
                    let end = panel
                        .index_of(&d.period)
                        .map_or(series.values.len(), |i| i + 1);
                    let history = (end.saturating_sub(HISTORY)..series.values.len())
                        .map(|i| (panel.period(i), series.values[i]))
                        .collect();
                    let detail = AlertDetail {
                        key: d.key.clone(),
                        observed: d.judgement.observed,
                        expected: d.judgement.expected,
                        upper: d.judgement.upper,
                        statistic: d.judgement.statistic,
                        params: d.rule.params.clone(),
                        history,
                        why: why(&d.rule, &d.judgement),
                        protected,
                    };
                    (d.rule, detail, series.name.clone(), d.period)
                })
                .collect();
            Ok((outlook, alarms))
        })();
        let (outlook, alarms) = match found {
            Ok(v) => v,
            Err(e) => {
                report.problem = e.to_string();
                (Outlook::default(), Vec::new())
            }
        };
        let actor = format!("nansen (watch {})", w.id);
        report.alerts = self.store.write(|tx| {
            let mut raised = Vec::new();
            for (rule, detail, series, period) in &alarms {
                let json = serde_json::to_string(detail).expect("serialisable");
                if let Some(id) = tx.insert_alert(w.id, series, period, &rule.name, &json, version)? {
                    let key = detail.key.join(" · ");
                    tx.audit(&actor, "alert.raise", &format!("alert:{id}"), &serde_json::json!({ "watch": w.id, "series": key, "period": period, "rule": rule.name, "why": detail.why }).to_string())?;
                    let event = serde_json::json!({
                        "event": "alert.raised", "alert": id, "watch": w.id, "watch_name": w.name, "series": detail.key, "period": period,
                        "rule": rule.name, "observed": detail.observed, "expected": detail.expected, "upper": detail.upper, "why": detail.why,
                    });
                    tx.queue_deliveries(HookSubject::Watch(w.id), None, "alert.raised", &event.to_string())?;
                    raised.push(id);
                }
            }
            let outlook = if outlook.series.is_empty() { String::new() } else { serde_json::to_string(&outlook).expect("serialisable") };
            tx.mark_watch_checked(w.id, version, &outlook, &report.problem)?;
            Ok::<_, AppError>(raised)
        })?;
        Ok(report)
    }

    /// `protect` as for [`App::watch_view`]: an alert raised on unsuppressed values is shown
    /// to a reader of the disclosure-controlled view without its numbers.
    fn alert_view(
        &self,
        a: AlertRecord,
        w: &WatchRecord,
        spec: &WatchSpec,
        access: WatchAccess,
        protect: bool,
    ) -> Result<AlertView> {
        let mut detail: AlertDetail =
            serde_json::from_str(&a.detail).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        if protect && !detail.protected {
            detail = AlertDetail {
                key: detail.key,
                params: detail.params,
                why: "the values are withheld: this alert was raised before the dataset was disclosure-controlled".into(),
                protected: true,
                observed: f64::NAN,
                expected: f64::NAN,
                upper: f64::NAN,
                statistic: f64::NAN,
                history: Vec::new(),
            };
        }
        Ok(AlertView {
            id: a.id,
            watch_id: w.id,
            watch: w.name.clone(),
            org: w.org.clone(),
            dataset: spec.dataset.clone(),
            series: detail.key.join(" · "),
            period: a.period,
            rule: a.rule,
            status: a.status.parse().map_err(|e: String| {
                AppError::Store(nansen_store::StoreError::Corrupt(format!(
                    "alert {}: {e}",
                    a.id
                )))
            })?,
            assignee: a.assignee,
            version: a.version,
            created_at: a.created_at,
            updated_at: a.updated_at,
            detail,
            may_change: access == WatchAccess::Change,
        })
    }

    /// The alerts of every watch the caller may read, newest first; `status` narrows them.
    pub fn alerts(&self, who: &Caller, status: Option<AlertStatus>) -> Result<Vec<AlertView>> {
        let mut out = Vec::new();
        for w in self.store.watches()? {
            let Ok(spec) = serde_json::from_str::<WatchSpec>(&w.spec) else {
                continue;
            };
            let (access, protect) = self.watch_access(who, &w, &spec);
            if access == WatchAccess::None {
                continue;
            }
            for a in self.store.alerts(&[w.id])? {
                if status.is_none_or(|s| s.as_str() == a.status) {
                    out.push(self.alert_view(a, &w, &spec, access, protect)?);
                }
            }
        }
        out.sort_by_key(|a| std::cmp::Reverse(a.id));
        Ok(out)
    }

    /// One alert and its comments.
    pub fn alert(&self, who: &Caller, id: i64) -> Result<(AlertView, Vec<CommentRecord>)> {
        let not_found = || AppError::NotFound(format!("alert {id}"));
        let a = self.store.alert(id)?.ok_or_else(not_found)?;
        let (w, spec, access, protect) = self
            .visible_watch(who, a.watch_id)
            .map_err(|_| not_found())?;
        let comments = self.store.comments(id)?;
        Ok((self.alert_view(a, &w, &spec, access, protect)?, comments))
    }

    /// Who an alert may be assigned to: the members of its organisation, for those who may
    /// change it; nobody for the others.
    pub fn assignees(&self, who: &Caller, alert: &AlertView) -> Result<Vec<String>> {
        if !alert.may_change {
            return Ok(Vec::new());
        }
        // Asked again, so that a view built for someone else gives nothing away.
        let (a, _) = self.alert(who, alert.id)?;
        if !a.may_change {
            return Ok(Vec::new());
        }
        Ok(self
            .store
            .members(Some(std::slice::from_ref(&a.org)))?
            .into_iter()
            .map(|m| m.email)
            .collect())
    }

    /// Moves an alert on or assigns it; audited.
    pub fn update_alert(&self, who: &Caller, id: i64, change: &AlertChange) -> Result<AlertView> {
        let (view, _) = self.alert(who, id)?;
        if !view.may_change {
            return Err(AppError::Forbidden(format!(
                "only editors and admins of {} may change its alerts",
                view.org
            )));
        }
        let status = change.status.unwrap_or(view.status);
        if status == AlertStatus::New && view.status != AlertStatus::New {
            return Err(AppError::BadRequest(
                "an alert moves to acknowledged, resolved or false_alarm, not back to new".into(),
            ));
        }
        let assignee = match &change.assignee {
            None => view.assignee.clone(),
            Some(None) => None,
            Some(Some(email)) => {
                let email = email.trim().to_lowercase();
                let members = self.store.members(Some(std::slice::from_ref(&view.org)))?;
                if !members.iter().any(|m| m.email == email) {
                    return Err(AppError::BadRequest(format!("{email} is not a member of {}; alerts are assigned within the watching organisation", view.org)));
                }
                Some(email)
            }
        };
        self.store.write(|tx| {
            tx.update_alert(id, status.as_str(), assignee.as_deref())?;
            let detail =
                serde_json::json!({ "from": view.status, "to": status, "assignee": assignee });
            tx.audit(
                &who.label,
                "alert.update",
                &format!("alert:{id}"),
                &detail.to_string(),
            )?;
            Ok::<_, AppError>(())
        })?;
        Ok(self.alert(who, id)?.0)
    }

    /// Adds a comment to an alert; anyone who may read it may comment.
    pub fn comment_alert(&self, who: &Caller, id: i64, body: &str) -> Result<CommentRecord> {
        self.alert(who, id)?;
        let body = body.trim();
        if body.is_empty() || body.len() > 10_000 {
            return Err(AppError::BadRequest(
                "a comment has 1 to 10,000 characters".into(),
            ));
        }
        let cid = self.store.write(|tx| {
            let cid = tx.insert_comment(id, &who.label, body)?;
            tx.audit(
                &who.label,
                "alert.comment",
                &format!("alert:{id}"),
                &serde_json::json!({ "comment": cid }).to_string(),
            )?;
            Ok::<_, AppError>(cid)
        })?;
        Ok(self
            .store
            .comments(id)?
            .into_iter()
            .find(|c| c.id == cid)
            .expect("just written"))
    }
}

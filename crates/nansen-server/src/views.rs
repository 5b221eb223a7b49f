//! What the API sends and takes, owned here: the wire stays as documented when a type of the
//! application or the store changes, and the OpenAPI document is derived from these types.
//! Each view is built from the application's answer by an exhaustive conversion, so a field
//! added there is a decision here, not a leak.

use nansen_app as app;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// `[period, value]`, the value null where none was observed.
type HistoryPoint = (String, Option<f64>);

fn history(h: Vec<HistoryPoint>) -> Vec<Vec<serde_json::Value>> {
    h.into_iter()
        .map(|(p, v)| vec![p.into(), v.map_or(serde_json::Value::Null, Into::into)])
        .collect()
}

/// A moment: RFC 3339 in UTC, always with microseconds.
#[derive(Serialize)]
pub struct When(nansen_model::Timestamp);

impl utoipa::PartialSchema for When {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .examples(["2026-12-05T09:30:00.000000Z"])
            .into()
    }
}

impl ToSchema for When {}

impl From<nansen_model::Timestamp> for When {
    fn from(t: nansen_model::Timestamp) -> Self {
        When(t)
    }
}

/// An optional moment, as its view.
fn when(t: Option<nansen_model::Timestamp>) -> Option<When> {
    t.map(When)
}

// ---------------------------------------------------------------- errors and health

/// Every failure: `{"error": {...}}`.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

impl ErrorBody {
    /// A refusal with no remedy or details.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        ErrorBody {
            error: ErrorDetail {
                code: code.to_string(),
                message: message.into(),
                remedy: None,
                details: None,
            },
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable code from the table in `docs/errors.md`.
    #[schema(example = "not_found")]
    pub code: String,
    #[schema(example = "dataset euaa/asylum-monthly not found")]
    pub message: String,
    /// What the caller can do about it, when something other than correcting the request helps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remedy: Option<RemedyView>,
    /// A refused file's problems, by row and column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Vec<ProblemView>>,
}

#[derive(Serialize, ToSchema)]
pub struct RemedyView {
    #[schema(example = "map_or_accept_code")]
    pub code: String,
    pub message: String,
}

/// One problem of a refused file.
#[derive(Serialize, ToSchema)]
pub struct ProblemView {
    /// 1-based row of the file (the header is row 1 in a CSV); 0 when about the whole file.
    pub row: u64,
    pub column: String,
    pub value: String,
    pub reason: String,
    /// Rows with this same problem, `row` included.
    pub count: u64,
    /// The first few of them after `row`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub more_rows: Vec<u64>,
    /// The remedy's code (see `error.remedy` and `docs/errors.md`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remedy: Option<String>,
}

impl From<nansen_formats::Problem> for ProblemView {
    fn from(p: nansen_formats::Problem) -> Self {
        let nansen_formats::Problem {
            row,
            column,
            value,
            reason,
            count,
            more_rows,
            remedy,
        } = p;
        ProblemView {
            row,
            column,
            value,
            reason,
            count,
            more_rows,
            remedy: remedy.map(|r| r.code().to_string()),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: String,
    #[schema(example = "0.1.0")]
    pub version: String,
}

// ---------------------------------------------------------------- datasets

/// Whether a dataset was updated as often as it says it is.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Freshness {
    Fresh,
    Due,
    Overdue,
    Unknown,
}

impl From<app::Freshness> for Freshness {
    fn from(f: app::Freshness) -> Self {
        match f {
            app::Freshness::Fresh => Freshness::Fresh,
            app::Freshness::Due => Freshness::Due,
            app::Freshness::Overdue => Freshness::Overdue,
            app::Freshness::Unknown => Freshness::Unknown,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Dataset {
    #[schema(example = "euaa/asylum-monthly")]
    pub name: String,
    pub org: String,
    pub slug: String,
    pub title: String,
    pub description: String,
    pub source: String,
    pub methodology: String,
    pub licence: String,
    pub update_frequency: String,
    pub tags: Vec<String>,
    /// The sharing level; the partner list only for the owner.
    #[schema(example = "partners:iom")]
    pub sharing: String,
    pub sensitive: bool,
    /// What the caller may do: `owner` (everything), `data` or `metadata` (may ask for access).
    #[schema(schema_with = crate::openapi::dataset_reach)]
    pub access: String,
    /// When the latest version landed.
    pub updated_at: Option<When>,
    pub freshness: Freshness,
    pub versions: Vec<Version>,
    /// Whether the caller may share it, redact its versions and answer requests for it.
    pub may_administer: bool,
    /// Its disclosure threshold, for those who administer it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<i64>,
}

impl From<app::DatasetView> for Dataset {
    fn from(d: app::DatasetView) -> Self {
        let app::DatasetView {
            name,
            org,
            slug,
            title,
            description,
            source,
            methodology,
            licence,
            update_frequency,
            tags,
            sharing,
            sensitive,
            access,
            updated_at,
            freshness,
            versions,
            may_administer,
            threshold,
        } = d;
        Dataset {
            name,
            org,
            slug,
            title,
            description,
            source,
            methodology,
            licence,
            update_frequency,
            tags,
            sharing,
            sensitive,
            access: access.to_string(),
            updated_at: when(updated_at),
            freshness: freshness.into(),
            versions: versions.into_iter().map(Into::into).collect(),
            may_administer,
            threshold,
        }
    }
}

/// One version of a dataset.
#[derive(Serialize, ToSchema)]
pub struct Version {
    pub number: i64,
    pub created_by: String,
    pub created_at: When,
    pub file_name: String,
    pub file_sha256: String,
    pub format: String,
    pub mode: VersionMode,
    pub rows: i64,
    pub observations: i64,
    pub added: i64,
    pub changed: i64,
    pub removed: i64,
    pub warnings: Vec<String>,
    pub redacted_at: Option<When>,
}

/// How a version relates to the one before.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum VersionMode {
    /// Its observations replaced those before.
    Replace,
    /// Its observations were added to those before.
    Append,
    /// Its dimensions are new: it stands alone.
    Base,
}

impl From<nansen_model::VersionMode> for VersionMode {
    fn from(m: nansen_model::VersionMode) -> Self {
        match m {
            nansen_model::VersionMode::Replace => VersionMode::Replace,
            nansen_model::VersionMode::Append => VersionMode::Append,
            nansen_model::VersionMode::Base => VersionMode::Base,
        }
    }
}

impl From<app::VersionView> for Version {
    fn from(v: app::VersionView) -> Self {
        Version {
            number: v.number,
            created_by: v.created_by,
            created_at: v.created_at.into(),
            file_name: v.file_name,
            file_sha256: v.file_sha256,
            format: v.format,
            mode: v.mode.into(),
            rows: v.rows,
            observations: v.observations,
            added: v.added,
            changed: v.changed,
            removed: v.removed,
            warnings: v.warnings,
            redacted_at: when(v.redacted_at),
        }
    }
}

/// What an import did, or on a dry run would do.
#[derive(Serialize, ToSchema)]
pub struct ImportReport {
    #[schema(example = "euaa/asylum-monthly")]
    pub dataset: String,
    /// The new version's number; none on a dry run.
    pub version: Option<i64>,
    #[schema(example = "sdmx-csv")]
    pub format: String,
    pub rows: u64,
    /// Observations in the dataset after this import.
    pub observations: u64,
    pub added: u64,
    pub changed: u64,
    pub removed: u64,
    pub warnings: Vec<String>,
    /// Rows kept out with `set_aside` (downloadable with the version).
    pub set_aside: u64,
    pub dry_run: bool,
    /// On a dry run, the dimensions and a few of the changes.
    pub dims: Vec<String>,
    pub sample: Vec<Change>,
}

impl From<app::ImportReport> for ImportReport {
    fn from(r: app::ImportReport) -> Self {
        let app::ImportReport {
            dataset,
            version,
            format,
            rows,
            observations,
            added,
            changed,
            removed,
            warnings,
            set_aside,
            dry_run,
            dims,
            sample,
        } = r;
        ImportReport {
            dataset,
            version,
            format,
            rows,
            observations,
            added,
            changed,
            removed,
            warnings,
            set_aside,
            dry_run,
            dims,
            sample: sample.into_iter().map(Into::into).collect(),
        }
    }
}

/// One observation an import adds, changes or removes.
#[derive(Serialize, ToSchema)]
pub struct Change {
    /// `added`, `changed` or `removed`.
    pub kind: String,
    pub key: Vec<String>,
    pub old: Option<f64>,
    pub new: Option<f64>,
}

impl From<app::Change> for Change {
    fn from(c: app::Change) -> Self {
        Change {
            kind: c.kind,
            key: c.key,
            old: c.old,
            new: c.new,
        }
    }
}

/// A staged upload; only the person who staged it sees it.
#[derive(Serialize, ToSchema)]
pub struct Upload {
    #[schema(example = "8a434ffd3d7f7d9e09bb129729e1fcdc")]
    pub id: String,
    pub dataset: String,
    pub file_name: String,
    pub owner: String,
    #[serde(flatten)]
    pub state: UploadState,
}

/// Where a staged upload stands, in `status`.
#[derive(Serialize, ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum UploadState {
    /// Being read and compared; rows read so far.
    Validating {
        rows: u64,
    },
    /// Nothing can be saved: the reasons, by row and column.
    Refused {
        message: String,
        problems: Vec<ProblemView>,
    },
    /// Valid: what it would add, change and remove.
    Ready {
        report: ImportReport,
    },
    /// Confirmed and being saved.
    Saving {
        done: u64,
        total: u64,
    },
    Landed {
        report: ImportReport,
    },
    /// Could not be validated or saved for a reason other than the file's content.
    Failed {
        message: String,
    },
}

impl From<app::Upload> for Upload {
    fn from(u: app::Upload) -> Self {
        let state = match u.state {
            app::UploadState::Validating { rows } => UploadState::Validating { rows },
            app::UploadState::Refused { message, problems } => UploadState::Refused {
                message,
                problems: problems.into_iter().map(Into::into).collect(),
            },
            app::UploadState::Ready { report } => UploadState::Ready {
                report: report.into(),
            },
            app::UploadState::Saving { done, total } => UploadState::Saving { done, total },
            app::UploadState::Landed { report } => UploadState::Landed {
                report: report.into(),
            },
            app::UploadState::Failed { message } => UploadState::Failed { message },
        };
        Upload {
            id: u.id,
            dataset: u.dataset,
            file_name: u.file_name,
            owner: u.owner,
            state,
        }
    }
}

/// Nodes and links for a Sankey diagram.
#[derive(Serialize, ToSchema)]
pub struct Flows {
    pub nodes: Vec<FlowNode>,
    pub links: Vec<FlowLink>,
}

#[derive(Serialize, ToSchema)]
pub struct FlowNode {
    #[schema(example = "origin:SYR")]
    pub id: String,
    #[schema(example = "Syria")]
    pub label: String,
    /// 0 origin, 1 transit (when there is one), then destination.
    pub column: usize,
}

#[derive(Serialize, ToSchema)]
pub struct FlowLink {
    pub source: String,
    pub target: String,
    pub value: f64,
}

impl From<app::Flows> for Flows {
    fn from(f: app::Flows) -> Self {
        Flows {
            nodes: f
                .nodes
                .into_iter()
                .map(|n| FlowNode {
                    id: n.id,
                    label: n.label,
                    column: n.column,
                })
                .collect(),
            links: f
                .links
                .into_iter()
                .map(|l| FlowLink {
                    source: l.source,
                    target: l.target,
                    value: l.value,
                })
                .collect(),
        }
    }
}

/// A query's answer as JSON (the CLI's `--format json` writes the same). Each row holds the
/// group-by columns by name, then `value`, any `extra` columns, `flags` and `incomplete`.
#[derive(ToSchema)]
#[allow(dead_code)] // documents `nansen_formats::table_json`, which all doors share
pub struct QueryAnswer {
    columns: Vec<String>,
    extra: Vec<String>,
    #[schema(value_type = Vec<Object>)]
    rows: Vec<serde_json::Value>,
    /// For each group-by column, its codes that are aggregates of others in the answer.
    #[schema(value_type = Object)]
    aggregates: serde_json::Value,
    /// What the answer counts along a dimension that changes what is counted.
    #[schema(value_type = Vec<Object>)]
    counted: Vec<serde_json::Value>,
    warnings: Vec<String>,
    #[schema(value_type = Object)]
    provenance: serde_json::Value,
}

// ---------------------------------------------------------------- forecasts and backtests

#[derive(Serialize, ToSchema)]
pub struct ForecastAnswer {
    pub series_by: Vec<String>,
    pub level: f64,
    pub rows: Vec<ForecastRow>,
}

#[derive(Serialize, ToSchema)]
pub struct ForecastRow {
    /// The series' values of `series_by`, in order.
    pub series: Vec<String>,
    #[schema(example = "2015-05")]
    pub period: String,
    #[schema(example = "auto")]
    pub model: String,
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
}

impl ForecastAnswer {
    pub fn new(series_by: Vec<String>, level: f64, rows: nansen_forecast::Forecast) -> Self {
        ForecastAnswer {
            series_by,
            level,
            rows: rows
                .into_iter()
                .map(|r| ForecastRow {
                    series: app::Panel::key(&r.series),
                    period: r.period,
                    model: r.model.to_string(),
                    mean: r.mean,
                    lo: r.lo,
                    hi: r.hi,
                })
                .collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct BacktestAnswer {
    pub series_by: Vec<String>,
    /// One per series and model.
    pub scores: Vec<Score>,
    /// One per model over every series (`series` empty).
    pub overall: Vec<OverallScore>,
    /// Series left out: too short for the windows and horizon asked.
    pub skipped: Vec<Vec<String>>,
    /// Every forecast made, with `details=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Vec<BacktestDetail>>,
}

#[derive(Serialize, ToSchema)]
pub struct Score {
    pub series: Vec<String>,
    pub model: String,
    pub mase: f64,
    pub smape: f64,
    /// The share (0 to 1) of actual values inside the 80% interval.
    pub coverage80: f64,
    pub msis: f64,
    pub forecasts: usize,
}

#[derive(Serialize, ToSchema)]
pub struct OverallScore {
    pub series: String,
    pub model: String,
    pub mase: f64,
    pub smape: f64,
    pub coverage80: f64,
    pub msis: f64,
    pub forecasts: usize,
}

#[derive(Serialize, ToSchema)]
pub struct BacktestDetail {
    pub series: String,
    pub model: String,
    pub origin: String,
    pub horizon: usize,
    pub period: String,
    pub actual: f64,
    pub mean: f64,
    pub lo80: f64,
    pub hi80: f64,
}

impl BacktestAnswer {
    pub fn new(series_by: Vec<String>, r: nansen_forecast::BacktestReport, details: bool) -> Self {
        BacktestAnswer {
            series_by,
            scores: r
                .scores
                .into_iter()
                .map(|s| Score {
                    series: app::Panel::key(&s.series),
                    model: s.model.to_string(),
                    mase: s.mase,
                    smape: s.smape,
                    coverage80: s.coverage80,
                    msis: s.msis,
                    forecasts: s.forecasts,
                })
                .collect(),
            overall: r
                .overall
                .into_iter()
                .map(|s| OverallScore {
                    series: s.series,
                    model: s.model.to_string(),
                    mase: s.mase,
                    smape: s.smape,
                    coverage80: s.coverage80,
                    msis: s.msis,
                    forecasts: s.forecasts,
                })
                .collect(),
            skipped: r.skipped.iter().map(|s| app::Panel::key(s)).collect(),
            details: details.then(|| {
                r.details
                    .into_iter()
                    .map(|d| BacktestDetail {
                        series: d.series,
                        model: d.model.to_string(),
                        origin: d.origin,
                        horizon: d.horizon,
                        period: d.period,
                        actual: d.actual,
                        mean: d.mean,
                        lo80: d.lo80,
                        hi80: d.hi80,
                    })
                    .collect()
            }),
        }
    }
}

// ---------------------------------------------------------------- watches, alerts, webhooks, plans

/// What a watch follows and how it judges it; sent when creating one, shown with it.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct WatchSpec {
    /// `ORG/SLUG`.
    #[schema(example = "euaa/asylum-monthly")]
    pub dataset: String,
    /// Filters, as `DIM=V[,V]`.
    #[serde(default)]
    #[schema(example = json!(["citizen=SYR"]))]
    pub wheres: Vec<String>,
    #[serde(default)]
    pub frequency: Option<String>,
    /// One series per combination of these dimensions' values (none: one series).
    #[serde(default)]
    #[schema(example = json!(["geo"]))]
    pub series_by: Vec<String>,
    pub rules: Vec<Rule>,
    /// Periods forecast ahead.
    #[serde(default = "app::default_horizon")]
    pub horizon: usize,
    /// How many of the latest periods the rules judge at each check.
    #[serde(default = "app::default_lookback")]
    pub lookback: usize,
    /// The forecast interval's level, in per cent.
    #[serde(default = "app::default_level")]
    pub level: f64,
}

/// A detection rule (`farrington`, `c2`, `cusum`, ...) and the parameters that differ from
/// its defaults.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Rule {
    #[schema(example = "farrington")]
    pub name: String,
    #[serde(default)]
    pub params: BTreeMap<String, f64>,
}

impl From<app::WatchSpec> for WatchSpec {
    fn from(s: app::WatchSpec) -> Self {
        let app::WatchSpec {
            dataset,
            wheres,
            frequency,
            series_by,
            rules,
            horizon,
            lookback,
            level,
        } = s;
        WatchSpec {
            dataset,
            wheres,
            frequency,
            series_by,
            rules: rules
                .into_iter()
                .map(|r| Rule {
                    name: r.name,
                    params: r.params,
                })
                .collect(),
            horizon,
            lookback,
            level,
        }
    }
}

impl From<WatchSpec> for app::WatchSpec {
    fn from(s: WatchSpec) -> Self {
        app::WatchSpec {
            dataset: s.dataset,
            wheres: s.wheres,
            frequency: s.frequency,
            series_by: s.series_by,
            rules: s
                .rules
                .into_iter()
                .map(|r| nansen_forecast::detect::Rule {
                    name: r.name,
                    params: r.params,
                })
                .collect(),
            horizon: s.horizon,
            lookback: s.lookback,
            level: s.level,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Watch {
    pub id: i64,
    pub org: String,
    pub name: String,
    pub created_by: String,
    pub created_at: When,
    pub spec: WatchSpec,
    pub partners: Vec<String>,
    pub checked_version: i64,
    pub checked_at: Option<When>,
    pub outlook: Option<Outlook>,
    /// Why the last check could not run, if it could not.
    pub problem: String,
    pub open_alerts: usize,
    /// Whether the caller may change it and its alerts.
    pub may_change: bool,
}

/// The latest forecast of each series of a watch, with its recent history.
#[derive(Serialize, ToSchema)]
pub struct Outlook {
    pub level: f64,
    pub version: i64,
    /// Computed on the disclosure-controlled view.
    pub protected: bool,
    pub series: Vec<SeriesOutlook>,
}

#[derive(Serialize, ToSchema)]
pub struct SeriesOutlook {
    pub key: Vec<String>,
    /// `[period, value]` pairs, oldest first.
    #[schema(value_type = Vec<Vec<Object>>, example = json!([["2015-07", 37531.0]]))]
    pub history: Vec<Vec<serde_json::Value>>,
    pub forecast: Vec<Point>,
}

#[derive(Serialize, ToSchema)]
pub struct Point {
    pub period: String,
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
}

impl From<app::WatchView> for Watch {
    fn from(w: app::WatchView) -> Self {
        let app::WatchView {
            id,
            org,
            name,
            created_by,
            created_at,
            spec,
            partners,
            checked_version,
            checked_at,
            outlook,
            problem,
            open_alerts,
            may_change,
        } = w;
        Watch {
            id,
            org,
            name,
            created_by,
            created_at: created_at.into(),
            spec: spec.into(),
            partners,
            checked_version,
            checked_at: when(checked_at),
            outlook: outlook.map(|o| Outlook {
                level: o.level,
                version: o.version,
                protected: o.protected,
                series: o
                    .series
                    .into_iter()
                    .map(|s| SeriesOutlook {
                        key: s.key,
                        history: history(s.history),
                        forecast: s
                            .forecast
                            .into_iter()
                            .map(|p| Point {
                                period: p.period,
                                mean: p.mean,
                                lo: p.lo,
                                hi: p.hi,
                            })
                            .collect(),
                    })
                    .collect(),
            }),
            problem,
            open_alerts,
            may_change,
        }
    }
}

/// The states an alert moves through.
#[derive(Serialize, Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    New,
    Acknowledged,
    Resolved,
    FalseAlarm,
}

impl From<app::AlertStatus> for AlertStatus {
    fn from(s: app::AlertStatus) -> Self {
        match s {
            app::AlertStatus::New => AlertStatus::New,
            app::AlertStatus::Acknowledged => AlertStatus::Acknowledged,
            app::AlertStatus::Resolved => AlertStatus::Resolved,
            app::AlertStatus::FalseAlarm => AlertStatus::FalseAlarm,
        }
    }
}

impl From<AlertStatus> for app::AlertStatus {
    fn from(s: AlertStatus) -> Self {
        match s {
            AlertStatus::New => app::AlertStatus::New,
            AlertStatus::Acknowledged => app::AlertStatus::Acknowledged,
            AlertStatus::Resolved => app::AlertStatus::Resolved,
            AlertStatus::FalseAlarm => app::AlertStatus::FalseAlarm,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Alert {
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
    pub created_at: When,
    pub updated_at: When,
    pub detail: AlertDetail,
    pub may_change: bool,
}

/// What an alert says: what was seen against what was expected, and why.
#[derive(Serialize, ToSchema)]
pub struct AlertDetail {
    pub key: Vec<String>,
    pub observed: f64,
    pub expected: f64,
    /// The value above which the rule alarms.
    pub upper: f64,
    pub statistic: f64,
    pub params: BTreeMap<String, f64>,
    #[schema(value_type = Vec<Vec<Object>>)]
    pub history: Vec<Vec<serde_json::Value>>,
    /// In words.
    #[schema(example = "Farrington flexible: observed 36505, expected 18120, alarm above 22733")]
    pub why: String,
    pub protected: bool,
}

impl From<app::AlertView> for Alert {
    fn from(a: app::AlertView) -> Self {
        let app::AlertView {
            id,
            watch_id,
            watch,
            org,
            dataset,
            series,
            period,
            rule,
            status,
            assignee,
            version,
            created_at,
            updated_at,
            detail,
            may_change,
        } = a;
        let app::AlertDetail {
            key,
            observed,
            expected,
            upper,
            statistic,
            params,
            history: h,
            why,
            protected,
        } = detail;
        Alert {
            id,
            watch_id,
            watch,
            org,
            dataset,
            series,
            period,
            rule,
            status: status.into(),
            assignee,
            version,
            created_at: created_at.into(),
            updated_at: updated_at.into(),
            detail: AlertDetail {
                key,
                observed,
                expected,
                upper,
                statistic,
                params,
                history: history(h),
                why,
                protected,
            },
            may_change,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AlertWithComments {
    pub alert: Alert,
    pub comments: Vec<Comment>,
}

#[derive(Serialize, ToSchema)]
pub struct Comment {
    pub id: i64,
    pub author: String,
    pub body: String,
    pub created_at: When,
}

impl From<app::CommentRecord> for Comment {
    fn from(c: app::CommentRecord) -> Self {
        Comment {
            id: c.id,
            author: c.author,
            body: c.body,
            created_at: c.created_at.into(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Webhook {
    pub id: i64,
    pub org: String,
    pub watch: Option<i64>,
    pub dataset: Option<String>,
    /// A reporting template, for its reminders.
    pub template: Option<String>,
    pub url: String,
    pub created_by: String,
    pub created_at: When,
    pub deliveries: Vec<Delivery>,
}

#[derive(Serialize, ToSchema)]
pub struct Delivery {
    pub id: i64,
    pub event: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub next_at: When,
    pub last_error: String,
    pub delivered_at: Option<When>,
}

/// Where one delivery stands: waiting (or waiting to be tried again), delivered, or given up.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

impl From<nansen_model::DeliveryStatus> for DeliveryStatus {
    fn from(s: nansen_model::DeliveryStatus) -> Self {
        match s {
            nansen_model::DeliveryStatus::Pending => DeliveryStatus::Pending,
            nansen_model::DeliveryStatus::Delivered => DeliveryStatus::Delivered,
            nansen_model::DeliveryStatus::Failed => DeliveryStatus::Failed,
        }
    }
}

impl From<app::WebhookView> for Webhook {
    fn from(w: app::WebhookView) -> Self {
        Webhook {
            id: w.id,
            org: w.org,
            watch: w.watch,
            dataset: w.dataset,
            template: w.template,
            url: w.url,
            created_by: w.created_by,
            created_at: w.created_at.into(),
            deliveries: w
                .deliveries
                .into_iter()
                .map(|d| Delivery {
                    id: d.id,
                    event: d.event,
                    status: d.status.into(),
                    attempts: d.attempts,
                    next_at: d.next_at.into(),
                    last_error: d.last_error,
                    delivered_at: when(d.delivered_at),
                })
                .collect(),
        }
    }
}

/// A new subscription and its signing secret, shown once.
#[derive(Serialize, ToSchema)]
pub struct Subscribed {
    pub webhook: Webhook,
    #[schema(example = "5f0c…")]
    pub secret: String,
}

/// A plan's triggers and checklist; sent when writing one, shown with it.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct PlanSpec {
    pub triggers: Vec<Trigger>,
    #[serde(default)]
    pub actions: Vec<Action>,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Trigger {
    /// A watch's forecast over its next `periods` periods goes above a capacity.
    Forecast {
        watch: i64,
        /// The series, by its dimension values; empty: any series of the watch.
        #[serde(default)]
        series: Vec<String>,
        #[serde(default = "app::default_periods")]
        periods: usize,
        /// `hi` (the interval's upper bound) or `mean`.
        #[serde(default = "app::default_bound")]
        bound: String,
        above: Capacity,
    },
    /// Open alerts (new or acknowledged) of a watch on at least `series` of its series.
    Alerts {
        watch: i64,
        /// Only this rule's alerts; none: any rule.
        #[serde(default)]
        rule: Option<String>,
        #[serde(default = "app::default_series")]
        series: usize,
    },
}

/// A capacity: a number, or the latest value of a dataset's series.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Capacity {
    Number(f64),
    Dataset {
        dataset: String,
        #[serde(default)]
        wheres: Vec<String>,
    },
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Action {
    pub what: String,
    pub owner: String,
    #[serde(default)]
    pub done: bool,
}

impl From<app::PlanSpec> for PlanSpec {
    fn from(s: app::PlanSpec) -> Self {
        PlanSpec {
            triggers: s
                .triggers
                .into_iter()
                .map(|t| match t {
                    app::Trigger::Forecast {
                        watch,
                        series,
                        periods,
                        bound,
                        above,
                    } => Trigger::Forecast {
                        watch,
                        series,
                        periods,
                        bound,
                        above: match above {
                            app::Capacity::Number(n) => Capacity::Number(n),
                            app::Capacity::Dataset { dataset, wheres } => {
                                Capacity::Dataset { dataset, wheres }
                            }
                        },
                    },
                    app::Trigger::Alerts {
                        watch,
                        rule,
                        series,
                    } => Trigger::Alerts {
                        watch,
                        rule,
                        series,
                    },
                })
                .collect(),
            actions: s
                .actions
                .into_iter()
                .map(|a| Action {
                    what: a.what,
                    owner: a.owner,
                    done: a.done,
                })
                .collect(),
        }
    }
}

impl From<PlanSpec> for app::PlanSpec {
    fn from(s: PlanSpec) -> Self {
        app::PlanSpec {
            triggers: s
                .triggers
                .into_iter()
                .map(|t| match t {
                    Trigger::Forecast {
                        watch,
                        series,
                        periods,
                        bound,
                        above,
                    } => app::Trigger::Forecast {
                        watch,
                        series,
                        periods,
                        bound,
                        above: match above {
                            Capacity::Number(n) => app::Capacity::Number(n),
                            Capacity::Dataset { dataset, wheres } => {
                                app::Capacity::Dataset { dataset, wheres }
                            }
                        },
                    },
                    Trigger::Alerts {
                        watch,
                        rule,
                        series,
                    } => app::Trigger::Alerts {
                        watch,
                        rule,
                        series,
                    },
                })
                .collect(),
            actions: s
                .actions
                .into_iter()
                .map(|a| app::Action {
                    what: a.what,
                    owner: a.owner,
                    done: a.done,
                })
                .collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Plan {
    pub id: i64,
    pub org: String,
    pub title: String,
    pub scenario: String,
    pub spec: PlanSpec,
    pub created_by: String,
    pub created_at: When,
    /// Since when any trigger fires; none while none does.
    pub triggered_since: Option<When>,
    pub reason: String,
    pub checked_at: Option<When>,
    /// Each trigger's state, in the spec's order.
    pub triggers: Vec<TriggerState>,
    pub may_change: bool,
}

#[derive(Serialize, ToSchema)]
pub struct TriggerState {
    pub fired: bool,
    pub why: String,
}

impl From<app::PlanView> for Plan {
    fn from(p: app::PlanView) -> Self {
        let app::PlanView {
            id,
            org,
            title,
            scenario,
            spec,
            created_by,
            created_at,
            triggered_since,
            reason,
            checked_at,
            triggers,
            may_change,
        } = p;
        Plan {
            id,
            org,
            title,
            scenario,
            spec: spec.into(),
            created_by,
            created_at: created_at.into(),
            triggered_since: when(triggered_since),
            reason,
            checked_at: when(checked_at),
            triggers: triggers
                .into_iter()
                .map(|t| TriggerState {
                    fired: t.fired,
                    why: t.why,
                })
                .collect(),
            may_change,
        }
    }
}

// ---------------------------------------------------------------- documents and search

#[derive(Serialize, ToSchema)]
pub struct Document {
    pub id: i64,
    pub org: String,
    pub title: String,
    #[serde(rename = "type")]
    #[schema(schema_with = crate::openapi::document_types)]
    pub doc_type: String,
    pub countries: Vec<String>,
    pub themes: Vec<String>,
    pub date: Option<String>,
    pub language: String,
    pub summary: String,
    /// The sharing level; outside the owner, `partners` without the list.
    pub sharing: String,
    /// `owner`, `text` (may read and download) or `metadata` (may ask for access).
    #[schema(schema_with = crate::openapi::document_reach)]
    pub access: String,
    pub created_by: String,
    pub created_at: When,
    pub versions: Vec<DocumentVersion>,
}

#[derive(Serialize, ToSchema)]
pub struct DocumentVersion {
    pub number: i64,
    pub file_name: String,
    pub format: String,
    pub size: i64,
    pub file_sha256: String,
    pub pages: i64,
    /// Why the file's text could not be read, when it could not.
    pub no_text: Option<String>,
    pub created_by: String,
    pub created_at: When,
}

impl From<app::DocumentVersionRecord> for DocumentVersion {
    fn from(v: app::DocumentVersionRecord) -> Self {
        DocumentVersion {
            number: v.number,
            file_name: v.file_name,
            format: v.format,
            size: v.size,
            file_sha256: v.file_sha256,
            pages: v.pages,
            no_text: v.no_text,
            created_by: v.created_by,
            created_at: v.created_at.into(),
        }
    }
}

impl From<app::DocumentView> for Document {
    fn from(d: app::DocumentView) -> Self {
        let app::DocumentView {
            id,
            org,
            title,
            doc_type,
            countries,
            themes,
            date,
            language,
            summary,
            sharing,
            access,
            created_by,
            created_at,
            versions,
        } = d;
        Document {
            id,
            org,
            title,
            doc_type: doc_type.to_string(),
            countries,
            themes,
            date,
            language,
            summary,
            sharing,
            access: access.to_string(),
            created_by,
            created_at: created_at.into(),
            versions: versions.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DocumentText {
    pub version: i64,
    /// The text, page by page.
    pub pages: Vec<String>,
    pub no_text: Option<String>,
}

impl From<app::DocumentText> for DocumentText {
    fn from(t: app::DocumentText) -> Self {
        DocumentText {
            version: t.version,
            pages: t.pages,
            no_text: t.no_text,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SearchResults {
    pub total: usize,
    pub hits: Vec<Hit>,
    /// For each facet (type, org, country, year, language), each value with its count.
    pub facets: BTreeMap<String, Vec<FacetCount>>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HitKind {
    Document,
    Dataset,
}

#[derive(Serialize, ToSchema)]
pub struct Hit {
    pub kind: HitKind,
    pub id: String,
    pub title: String,
    /// A passage, plain text on one line.
    pub snippet: String,
    /// The words found in the snippet: `[start, end)` byte offsets into its UTF-8 text.
    #[schema(example = json!([[4, 13]]))]
    pub highlights: Vec<[usize; 2]>,
    #[serde(rename = "type")]
    pub doc_type: String,
    pub org: String,
    pub countries: Vec<String>,
    pub language: String,
    pub date: Option<String>,
    pub score: f32,
}

#[derive(Serialize, ToSchema)]
pub struct FacetCount {
    pub value: String,
    pub count: u64,
}

impl From<app::SearchResults> for SearchResults {
    fn from(r: app::SearchResults) -> Self {
        SearchResults {
            total: r.total,
            hits: r
                .hits
                .into_iter()
                .map(|h| Hit {
                    kind: match h.kind {
                        app::HitKind::Document => HitKind::Document,
                        app::HitKind::Dataset => HitKind::Dataset,
                    },
                    id: h.id,
                    title: h.title,
                    snippet: h.snippet,
                    highlights: h.highlights,
                    doc_type: h.doc_type,
                    org: h.org,
                    countries: h.countries,
                    language: h.language,
                    date: h.date,
                    score: h.score,
                })
                .collect(),
            facets: r
                .facets
                .into_iter()
                .map(|(k, v)| {
                    (
                        k,
                        v.into_iter()
                            .map(|f| FacetCount {
                                value: f.value,
                                count: f.count,
                            })
                            .collect(),
                    )
                })
                .collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Reindexed {
    /// Entries in the rebuilt index.
    pub entries: usize,
}

// ---------------------------------------------------------------- access, audit, tokens

/// Where a request for access stands.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RequestStatus {
    Pending,
    Approved,
    Refused,
    Revoked,
}

impl From<nansen_model::RequestStatus> for RequestStatus {
    fn from(s: nansen_model::RequestStatus) -> Self {
        match s {
            nansen_model::RequestStatus::Pending => RequestStatus::Pending,
            nansen_model::RequestStatus::Approved => RequestStatus::Approved,
            nansen_model::RequestStatus::Refused => RequestStatus::Refused,
            nansen_model::RequestStatus::Revoked => RequestStatus::Revoked,
        }
    }
}

/// A request for access, after it was made, decided or revoked.
#[derive(Serialize, ToSchema)]
pub struct RequestState {
    pub id: i64,
    pub status: RequestStatus,
}

/// A request for access to a dataset or a document.
#[derive(Serialize, ToSchema)]
pub struct AccessRequest {
    pub id: i64,
    /// `dataset` or `document`.
    pub kind: String,
    /// The subject as people name it: `ORG/SLUG` for a dataset, a document's title.
    pub subject: String,
    /// The dataset, as `ORG/SLUG`, when the subject is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    /// The document's id, when the subject is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<i64>,
    /// The organisation that owns the subject and decides.
    pub owner: String,
    /// The organisation asking.
    pub org: String,
    pub user: String,
    pub reason: String,
    pub status: RequestStatus,
    pub created_at: When,
    pub decided_by: Option<String>,
}

impl From<app::AccessRequestRecord> for AccessRequest {
    fn from(r: app::AccessRequestRecord) -> Self {
        let document = r.kind == "document";
        AccessRequest {
            id: r.id,
            dataset: (!document).then(|| r.subject.clone()),
            document: document.then_some(r.subject_id),
            kind: r.kind,
            subject: r.subject,
            owner: r.owner,
            org: r.org,
            user: r.user_email,
            reason: r.reason,
            status: r.status.into(),
            created_at: r.created_at.into(),
            decided_by: r.decided_by,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    /// What changed, as the action recorded it.
    pub detail: serde_json::Value,
    pub hash: String,
}

impl From<app::AuditEntry> for AuditEntry {
    fn from(e: app::AuditEntry) -> Self {
        AuditEntry {
            seq: e.seq,
            at: e.at,
            actor: e.actor,
            action: e.action,
            target: e.target,
            detail: serde_json::from_str(&e.detail).unwrap_or(serde_json::Value::String(e.detail)),
            hash: e.hash,
        }
    }
}

/// Whether the audit chain is intact: its length and head when it is, the first entry that
/// breaks it when not.
#[derive(Serialize, ToSchema)]
pub struct AuditCheck {
    pub intact: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entries: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_bad_entry: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl From<Result<app::AuditReport, app::AuditBroken>> for AuditCheck {
    fn from(r: Result<app::AuditReport, app::AuditBroken>) -> Self {
        match r {
            Ok(r) => AuditCheck {
                intact: true,
                entries: Some(r.entries),
                head: Some(r.head),
                first_bad_entry: None,
                reason: None,
            },
            Err(b) => AuditCheck {
                intact: false,
                entries: None,
                head: None,
                first_bad_entry: Some(b.seq),
                reason: Some(b.reason),
            },
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Token {
    pub id: i64,
    pub name: String,
    pub created_at: When,
    pub last_used_at: Option<When>,
    pub revoked_at: Option<When>,
}

impl From<app::TokenRecord> for Token {
    fn from(t: app::TokenRecord) -> Self {
        Token {
            id: t.id,
            name: t.name,
            created_at: t.created_at.into(),
            last_used_at: when(t.last_used_at),
            revoked_at: when(t.revoked_at),
        }
    }
}

/// A new token, shown once.
#[derive(Serialize, ToSchema)]
pub struct NewTokenSecret {
    pub token: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenRevoked {
    pub id: i64,
    pub revoked: bool,
}

/// Converts each element of a list.
pub fn all<A, B: From<A>>(v: Vec<A>) -> Vec<B> {
    v.into_iter().map(Into::into).collect()
}

// ---------------------------------------------------------------- operations

/// A new programme.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProgramme {
    #[schema(example = "euaa/relocation-greece")]
    pub name: String,
    #[serde(rename = "type")]
    #[schema(schema_with = crate::openapi::programme_kinds)]
    pub kind: nansen_cases::ProgrammeKind,
    #[schema(example = "Voluntary relocation from Greece")]
    pub title: String,
    /// Implementing partners: organisations that register and run cases.
    #[serde(default)]
    #[schema(example = json!(["iom"]))]
    pub partners: Vec<String>,
    /// Receiving partners: the administrations of the states that receive people.
    #[serde(default)]
    pub receiving: Vec<String>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub starts_on: Option<String>,
    #[serde(default)]
    pub ends_on: Option<String>,
    /// Days after a case is closed before it is erased.
    #[serde(default)]
    pub retention_days: Option<i64>,
}

impl NewProgramme {
    pub fn into_app(self) -> Result<app::NewProgramme, app::AppError> {
        let NewProgramme {
            name,
            kind,
            title,
            partners,
            receiving,
            starts_on,
            ends_on,
            retention_days,
        } = self;
        Ok(app::NewProgramme {
            name: name.parse().map_err(app::AppError::BadRequest)?,
            kind,
            title,
            partners,
            receiving,
            starts_on,
            ends_on,
            retention_days,
        })
    }
}

/// A stage of a programme's workflow.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    #[schema(example = "ready-for-matching")]
    pub name: String,
    /// A case enters it only once a supervisor approves.
    #[serde(default)]
    pub approval: bool,
    /// A way out of the workflow (`withdrawn`, `closed`).
    #[serde(default)]
    pub exit: bool,
}

impl From<nansen_cases::Stage> for Stage {
    fn from(s: nansen_cases::Stage) -> Self {
        let nansen_cases::Stage {
            name,
            approval,
            exit,
        } = s;
        Stage {
            name,
            approval,
            exit,
        }
    }
}

impl From<Stage> for nansen_cases::Stage {
    fn from(s: Stage) -> Self {
        nansen_cases::Stage {
            name: s.name,
            approval: s.approval,
            exit: s.exit,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Partner {
    pub org: String,
    #[schema(schema_with = crate::openapi::partner_parts)]
    pub part: app::PartnerPart,
}

#[derive(Serialize, ToSchema)]
pub struct Programme {
    #[schema(example = "euaa/relocation-greece")]
    pub name: String,
    #[serde(rename = "type")]
    #[schema(schema_with = crate::openapi::programme_kinds)]
    pub kind: nansen_cases::ProgrammeKind,
    pub title: String,
    pub partners: Vec<Partner>,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    pub retention_days: Option<i64>,
    /// The workflow, in order, the exits last.
    pub stages: Vec<Stage>,
    pub created_at: When,
    /// May change its stages and pledges.
    pub may_administer: bool,
    /// May register cases in it.
    pub may_register: bool,
}

impl From<app::ProgrammeView> for Programme {
    fn from(p: app::ProgrammeView) -> Self {
        let app::ProgrammeView {
            name,
            kind,
            title,
            partners,
            starts_on,
            ends_on,
            retention_days,
            stages,
            created_at,
            may_administer,
            may_register,
        } = p;
        Programme {
            name: name.to_string(),
            kind,
            title,
            partners: partners
                .into_iter()
                .map(|p| Partner {
                    org: p.org,
                    part: p.part,
                })
                .collect(),
            starts_on,
            ends_on,
            retention_days,
            stages: all(stages.stages),
            created_at: created_at.into(),
            may_administer,
            may_register,
        }
    }
}

/// A state's places in a programme, given or changed.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPledge {
    /// The receiving state: a country code or name.
    #[schema(example = "DEU")]
    pub state: String,
    /// Persons.
    #[schema(example = 500)]
    pub places: i64,
    /// Of which for unaccompanied children.
    #[serde(default)]
    #[schema(example = 20)]
    pub uam_places: i64,
    /// Of which for medical cases.
    #[serde(default)]
    #[schema(example = 30)]
    pub medical_places: i64,
    #[serde(default)]
    pub starts_on: Option<String>,
    #[serde(default)]
    pub ends_on: Option<String>,
    /// Languages its services work in (ISO 639 codes): matching weighs a shared language.
    #[serde(default)]
    #[schema(example = json!(["de", "en"]))]
    pub languages: Vec<String>,
    /// Nationalities it prefers to receive.
    #[serde(default)]
    pub prefers: Vec<String>,
    /// Nationalities it does not receive: matching never proposes them to it.
    #[serde(default)]
    pub excludes: Vec<String>,
    /// Why it was given or changed.
    #[serde(default)]
    pub note: String,
}

impl From<NewPledge> for app::PledgeInput {
    fn from(p: NewPledge) -> Self {
        let NewPledge {
            state,
            places,
            uam_places,
            medical_places,
            starts_on,
            ends_on,
            languages,
            prefers,
            excludes,
            note,
        } = p;
        app::PledgeInput {
            state,
            places,
            uam_places,
            medical_places,
            starts_on,
            ends_on,
            languages,
            prefers,
            excludes,
            note,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PledgeChange {
    pub at: When,
    pub by: String,
    pub places: i64,
    pub uam_places: i64,
    pub medical_places: i64,
    pub note: String,
}

#[derive(Serialize, ToSchema)]
pub struct Pledge {
    pub state: String,
    pub places: i64,
    pub uam_places: i64,
    pub medical_places: i64,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    pub languages: Vec<String>,
    pub prefers: Vec<String>,
    pub excludes: Vec<String>,
    pub updated_at: When,
    /// Every figure it had, oldest first.
    pub history: Vec<PledgeChange>,
}

impl From<app::PledgeView> for Pledge {
    fn from(p: app::PledgeView) -> Self {
        let app::PledgeView {
            state,
            places,
            uam_places,
            medical_places,
            starts_on,
            ends_on,
            languages,
            prefers,
            excludes,
            updated_at,
            history,
        } = p;
        Pledge {
            state,
            places,
            uam_places,
            medical_places,
            starts_on,
            ends_on,
            languages,
            prefers,
            excludes,
            updated_at: updated_at.into(),
            history: history
                .into_iter()
                .map(|c| PledgeChange {
                    at: c.at.into(),
                    by: c.by,
                    places: c.places,
                    uam_places: c.uam_places,
                    medical_places: c.medical_places,
                    note: c.note,
                })
                .collect(),
        }
    }
}

/// An identity document of a member.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdDocument {
    /// `passport`, `national-id`, `birth-certificate`, `travel-document`,
    /// `residence-permit` or `other`.
    #[schema(example = "passport")]
    pub kind: String,
    pub number: String,
}

impl From<IdDocument> for nansen_cases::case::IdDocument {
    fn from(d: IdDocument) -> Self {
        nansen_cases::case::IdDocument {
            kind: d.kind,
            number: d.number,
        }
    }
}

impl From<nansen_cases::case::IdDocument> for IdDocument {
    fn from(d: nansen_cases::case::IdDocument) -> Self {
        IdDocument {
            kind: d.kind,
            number: d.number,
        }
    }
}

/// A member of a household being registered.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    #[schema(example = "Amina")]
    pub given_name: String,
    #[schema(example = "Haddad")]
    pub family_name: String,
    /// `YYYY-MM-DD`, not in the future.
    #[schema(example = "1990-04-02")]
    pub birth_date: String,
    /// Only the year or an age was known.
    #[serde(default)]
    pub birth_date_estimated: bool,
    #[schema(schema_with = crate::openapi::sexes)]
    pub sex: nansen_cases::Sex,
    /// A country code (or name) from the country list.
    #[schema(example = "SYR")]
    pub nationality: String,
    /// ISO 639 codes.
    #[serde(default)]
    #[schema(example = json!(["ar"]))]
    pub languages: Vec<String>,
    #[schema(schema_with = crate::openapi::relationships)]
    pub relationship: nansen_cases::Relationship,
    #[serde(default)]
    pub documents: Vec<IdDocument>,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Consent {
    #[schema(schema_with = crate::openapi::consent_purposes)]
    pub purpose: nansen_cases::ConsentPurpose,
    /// The organisation (referral) or state (submission) it allows; none for reporting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "iom")]
    pub partner: Option<String>,
}

impl From<Consent> for nansen_cases::Consent {
    fn from(c: Consent) -> Self {
        nansen_cases::Consent {
            purpose: c.purpose,
            partner: c.partner,
        }
    }
}

impl From<nansen_cases::Consent> for Consent {
    fn from(c: nansen_cases::Consent) -> Self {
        Consent {
            purpose: c.purpose,
            partner: c.partner,
        }
    }
}

/// Family in a receiving state.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FamilyAbroad {
    #[schema(example = "DEU")]
    pub state: String,
    #[schema(schema_with = crate::openapi::relationships)]
    pub relationship: nansen_cases::Relationship,
}

impl From<FamilyAbroad> for nansen_cases::FamilyAbroad {
    fn from(f: FamilyAbroad) -> Self {
        nansen_cases::FamilyAbroad {
            state: f.state,
            relationship: f.relationship,
        }
    }
}

impl From<nansen_cases::FamilyAbroad> for FamilyAbroad {
    fn from(f: nansen_cases::FamilyAbroad) -> Self {
        FamilyAbroad {
            state: f.state,
            relationship: f.relationship,
        }
    }
}

/// A household's registration, as `docs/cases.md` describes it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCase {
    pub members: Vec<NewMember>,
    /// Specific-needs codes (`/api/v1/vocabularies/specific-needs`).
    #[serde(default)]
    #[schema(example = json!(["SM-CI"]))]
    pub needs: Vec<String>,
    #[serde(default)]
    pub consents: Vec<Consent>,
    /// Ids of cases of the same programme it must travel with.
    #[serde(default)]
    pub links: Vec<String>,
    #[serde(default)]
    pub family_abroad: Vec<FamilyAbroad>,
    /// Receiving states the household would go to, first choice first: matching weighs them.
    #[serde(default)]
    #[schema(example = json!(["DEU", "FRA"]))]
    pub preferred_states: Vec<String>,
    #[serde(default)]
    #[schema(schema_with = crate::openapi::submission_categories)]
    pub submission_category: Option<nansen_cases::SubmissionCategory>,
    #[serde(default)]
    #[schema(schema_with = crate::openapi::priorities)]
    pub priority: Option<nansen_cases::Priority>,
    /// The medical section's notes.
    #[serde(default)]
    pub medical: Option<String>,
    /// Best-interests assessments and determinations of the household's children.
    #[serde(default)]
    pub best_interests: Option<String>,
}

impl From<NewCase> for nansen_cases::CaseFile {
    fn from(c: NewCase) -> Self {
        let NewCase {
            members,
            needs,
            consents,
            links,
            family_abroad,
            preferred_states,
            submission_category,
            priority,
            medical,
            best_interests,
        } = c;
        nansen_cases::CaseFile {
            members: members
                .into_iter()
                .map(|m| nansen_cases::Member {
                    given_name: m.given_name,
                    family_name: m.family_name,
                    birth_date: m.birth_date,
                    birth_date_estimated: m.birth_date_estimated,
                    sex: m.sex,
                    nationality: m.nationality,
                    languages: m.languages,
                    relationship: m.relationship,
                    documents: all(m.documents),
                })
                .collect(),
            needs,
            consents: all(consents),
            links,
            family_abroad: all(family_abroad),
            preferred_states,
            submission_category,
            priority,
            medical,
            best_interests,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PossibleDuplicate {
    /// A case the caller sees.
    pub case: String,
    /// The member of the new case, counted from 0.
    pub member: usize,
    /// Its member who may be the same person.
    pub matched_member: i64,
}

#[derive(Serialize, ToSchema)]
pub struct Registered {
    /// The new case's id.
    pub id: String,
    pub possible_duplicates: Vec<PossibleDuplicate>,
}

impl From<app::Registered> for Registered {
    fn from(r: app::Registered) -> Self {
        Registered {
            id: r.id,
            possible_duplicates: r
                .possible_duplicates
                .into_iter()
                .map(|d| PossibleDuplicate {
                    case: d.case,
                    member: d.member,
                    matched_member: d.matched_member,
                })
                .collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct IdentityMember {
    pub given_name: String,
    pub family_name: String,
    pub birth_date: String,
    pub birth_date_estimated: bool,
    #[schema(schema_with = crate::openapi::sexes)]
    pub sex: nansen_cases::Sex,
    pub nationality: String,
    pub documents: Vec<IdDocument>,
}

#[derive(Serialize, ToSchema)]
pub struct HouseholdMember {
    #[schema(schema_with = crate::openapi::relationships)]
    pub relationship: nansen_cases::Relationship,
    pub languages: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Household {
    /// In the identity section's order.
    pub members: Vec<HouseholdMember>,
    pub family_abroad: Vec<FamilyAbroad>,
    /// Receiving states it would go to, first choice first.
    pub preferred_states: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CaseEvent {
    pub at: When,
    pub by: String,
    /// `registered`, `moved`, `move-requested`, `move-approved`, `move-refused`, `assigned`,
    /// `consent`, `referred`, `referred-without-consent`, `referral-accepted`,
    /// `referral-declined`.
    pub kind: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub note: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Referral {
    pub id: String,
    pub case: String,
    pub from: String,
    pub to: String,
    #[schema(schema_with = crate::openapi::section_list)]
    pub sections: Vec<nansen_cases::Section>,
    #[schema(schema_with = crate::openapi::referral_statuses)]
    pub status: nansen_cases::ReferralStatus,
    /// Sent without the household's consent, on a supervisor's authority.
    pub consent_overridden: bool,
    pub reason: Option<String>,
    pub created_by: String,
    pub created_at: When,
    pub decided_by: Option<String>,
    pub decided_at: Option<When>,
}

impl From<app::ReferralView> for Referral {
    fn from(r: app::ReferralView) -> Self {
        let app::ReferralView {
            id,
            case,
            from,
            to,
            sections,
            status,
            consent_overridden,
            reason,
            created_by,
            created_at,
            decided_by,
            decided_at,
        } = r;
        Referral {
            id,
            case,
            from,
            to,
            sections,
            status,
            consent_overridden,
            reason,
            created_by,
            created_at: created_at.into(),
            decided_by,
            decided_at: when(decided_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Process {
    pub stage: String,
    pub stage_since: When,
    /// A move waiting for a supervisor.
    pub pending_stage: Option<String>,
    pub assignee: Option<String>,
    /// The receiving state it is matched to.
    #[schema(example = "DEU")]
    pub state: Option<String>,
    /// Cases it travels with.
    pub links: Vec<String>,
    #[schema(schema_with = crate::openapi::submission_categories)]
    pub submission_category: Option<nansen_cases::SubmissionCategory>,
    #[schema(schema_with = crate::openapi::priorities)]
    pub priority: Option<nansen_cases::Priority>,
    /// Reintegration follow-up surveys (return programmes), oldest first.
    pub follow_ups: Vec<FollowUp>,
    pub history: Vec<CaseEvent>,
    pub referrals: Vec<Referral>,
}

/// A specific need, from UNHCR's vocabulary.
#[derive(Serialize, ToSchema)]
pub struct SpecificNeed {
    #[schema(example = "SM-CI")]
    pub code: String,
    #[schema(example = "Chronic illness")]
    pub label: String,
    #[schema(example = "Serious medical condition")]
    pub category: String,
}

impl From<nansen_cases::Need> for SpecificNeed {
    fn from(n: nansen_cases::Need) -> Self {
        SpecificNeed {
            code: n.code,
            label: n.label,
            category: n.category,
        }
    }
}

/// A case with the sections the caller may see, each present only when `sections` names it.
#[derive(Serialize, ToSchema)]
pub struct Case {
    pub id: String,
    #[schema(example = "euaa/relocation-greece")]
    pub programme: String,
    pub org: String,
    pub persons: i64,
    /// Send it back with a change; a change made on an older one is refused (409).
    pub revision: i64,
    pub created_at: When,
    pub updated_at: When,
    pub erased_at: Option<When>,
    #[schema(schema_with = crate::openapi::section_list)]
    pub sections: Vec<nansen_cases::Section>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<Vec<IdentityMember>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub household: Option<Household>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process: Option<Process>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub needs: Option<Vec<SpecificNeed>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub medical: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub best_interests: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent: Option<Vec<Consent>>,
    /// Whether the caller may change it.
    pub may_change: bool,
    /// Whether the caller may approve the move it waits for.
    pub may_approve: bool,
    /// Where the caller may move it.
    pub moves: Vec<MoveOption>,
    /// Whether it takes reintegration follow-up surveys (a case of a return programme).
    pub follow_ups_allowed: bool,
    /// Its documents filed under the sections shown.
    pub documents: Vec<CaseDocument>,
}

/// A document attached to a case.
#[derive(Serialize, ToSchema)]
pub struct CaseDocument {
    pub id: String,
    /// Read only by the readers of this section.
    #[schema(value_type = String, example = "medical")]
    pub section: nansen_cases::Section,
    pub file_name: String,
    #[schema(example = "application/pdf")]
    pub media_type: String,
    pub bytes: i64,
    pub added_by: String,
    pub added_at: When,
}

impl From<app::CaseDocumentView> for CaseDocument {
    fn from(d: app::CaseDocumentView) -> Self {
        CaseDocument {
            id: d.id,
            section: d.section,
            file_name: d.file_name,
            media_type: d.media_type,
            bytes: d.bytes,
            added_by: d.added_by,
            added_at: d.added_at.into(),
        }
    }
}

/// A reintegration follow-up survey: a score from 0 to 1 on each of the three dimensions of
/// IOM's Reintegration Sustainability Survey.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUp {
    /// The day of the interview.
    #[schema(example = "2026-03-05")]
    pub on: String,
    #[schema(minimum = 0, maximum = 1, example = 0.6)]
    pub economic: f64,
    #[schema(minimum = 0, maximum = 1, example = 0.5)]
    pub social: f64,
    #[schema(minimum = 0, maximum = 1, example = 0.75)]
    pub psychosocial: f64,
    #[serde(default)]
    pub note: String,
    /// Who recorded it (set by Nansen; ignored when sent).
    #[serde(default)]
    pub by: String,
}

impl From<app::FollowUp> for FollowUp {
    fn from(f: app::FollowUp) -> Self {
        FollowUp {
            on: f.on,
            economic: f.economic,
            social: f.social,
            psychosocial: f.psychosocial,
            note: f.note,
            by: f.by,
        }
    }
}

impl From<FollowUp> for app::FollowUp {
    fn from(f: FollowUp) -> Self {
        app::FollowUp {
            on: f.on,
            economic: f.economic,
            social: f.social,
            psychosocial: f.psychosocial,
            note: f.note,
            by: f.by,
        }
    }
}

/// A stage a case may be moved to from where it stands.
#[derive(Serialize, ToSchema)]
pub struct MoveOption {
    #[schema(example = "assessed")]
    pub to: String,
    /// A move back, out or from `withdrawn` says why.
    pub needs_note: bool,
    /// The move waits for a supervisor, unless the mover is one.
    pub needs_approval: bool,
}

impl From<app::MoveOption> for MoveOption {
    fn from(m: app::MoveOption) -> Self {
        MoveOption {
            to: m.to,
            needs_note: m.needs_note,
            needs_approval: m.needs_approval,
        }
    }
}

impl From<app::CaseView> for Case {
    fn from(c: app::CaseView) -> Self {
        let app::CaseView {
            id,
            programme,
            org,
            persons,
            revision,
            created_at,
            updated_at,
            erased_at,
            sections,
            identity,
            household,
            process,
            needs,
            medical,
            best_interests,
            consent,
            may_change,
            may_approve,
            moves,
            follow_ups_allowed,
            documents,
        } = c;
        Case {
            follow_ups_allowed,
            documents: all(documents),
            may_change,
            may_approve,
            moves: all(moves),
            id,
            programme: programme.to_string(),
            org,
            persons,
            revision,
            created_at: created_at.into(),
            updated_at: updated_at.into(),
            erased_at: when(erased_at),
            sections,
            identity: identity.map(|m| {
                m.into_iter()
                    .map(|m| IdentityMember {
                        given_name: m.given_name,
                        family_name: m.family_name,
                        birth_date: m.birth_date,
                        birth_date_estimated: m.birth_date_estimated,
                        sex: m.sex,
                        nationality: m.nationality,
                        documents: all(m.documents),
                    })
                    .collect()
            }),
            household: household.map(|h| Household {
                members: h
                    .members
                    .into_iter()
                    .map(|m| HouseholdMember {
                        relationship: m.relationship,
                        languages: m.languages,
                    })
                    .collect(),
                family_abroad: all(h.family_abroad),
                preferred_states: h.preferred_states,
            }),
            process: process.map(|p| Process {
                stage: p.stage,
                stage_since: p.stage_since.into(),
                pending_stage: p.pending_stage,
                assignee: p.assignee,
                state: p.state,
                links: p.links,
                submission_category: p.submission_category,
                priority: p.priority,
                follow_ups: all(p.follow_ups),
                history: p
                    .history
                    .into_iter()
                    .map(|e| CaseEvent {
                        at: e.at.into(),
                        by: e.by,
                        kind: e.kind,
                        from: e.from,
                        to: e.to,
                        note: e.note,
                    })
                    .collect(),
                referrals: all(p.referrals),
            }),
            needs: needs.map(all),
            medical,
            best_interests,
            consent: consent.map(all),
        }
    }
}

/// A row of a caseworker's list.
#[derive(Serialize, ToSchema)]
pub struct CaseRow {
    pub id: String,
    pub org: String,
    pub persons: i64,
    /// With the process section.
    pub stage: Option<String>,
    pub pending_stage: Option<String>,
    /// Since when it is at its stage, with the process section.
    pub stage_since: Option<When>,
    pub assignee: Option<String>,
    /// The receiving state it is matched to, with the process section.
    pub state: Option<String>,
    /// The principal applicant's name, with the identity section.
    pub principal: Option<String>,
    pub updated_at: When,
    #[schema(schema_with = crate::openapi::section_list)]
    pub sections: Vec<nansen_cases::Section>,
}

#[derive(Serialize, ToSchema)]
pub struct CaseList {
    /// How many cases the filter selects, counted up to 10,000.
    pub total: i64,
    /// False when the filter selects more than `total`.
    pub total_exact: bool,
    pub cases: Vec<CaseRow>,
}

impl From<app::CaseRow> for CaseRow {
    fn from(r: app::CaseRow) -> Self {
        CaseRow {
            id: r.id,
            org: r.org,
            persons: r.persons,
            stage: r.stage,
            pending_stage: r.pending_stage,
            stage_since: r.stage_since.map(Into::into),
            assignee: r.assignee,
            state: r.state,
            principal: r.principal,
            updated_at: r.updated_at.into(),
            sections: r.sections,
        }
    }
}

impl From<app::CaseList> for CaseList {
    fn from(l: app::CaseList) -> Self {
        CaseList {
            total: l.total,
            total_exact: l.total_exact,
            cases: all(l.cases),
        }
    }
}

/// The people of one receiving state's cases, stage by stage.
#[derive(Serialize, ToSchema)]
pub struct StateProgress {
    /// Null for the cases not matched to a state yet (and for the whole programme).
    #[schema(example = "DEU")]
    pub state: Option<String>,
    /// Places pledged, of which for unaccompanied children and for medical cases; null
    /// without a pledge.
    pub pledged: Option<[i64; 3]>,
    /// Persons whose case is now at each stage, in the order of `stages`.
    pub now_at: Vec<i64>,
    /// Persons whose case is now at each stage or a later one, withdrawn and closed cases
    /// left out.
    pub reached: Vec<i64>,
    pub cases: i64,
}

impl From<app::StateProgress> for StateProgress {
    fn from(r: app::StateProgress) -> Self {
        StateProgress {
            state: r.state,
            pledged: r.pledged,
            now_at: r.now_at,
            reached: r.reached,
            cases: r.cases,
        }
    }
}

/// How long cases stay in a stage, in whole days.
#[derive(Serialize, ToSchema)]
pub struct StageTime {
    pub stage: String,
    /// Stays in it that ended, with their median and 90th percentile.
    pub stays_ended: i64,
    pub median_days: Option<i64>,
    pub p90_days: Option<i64>,
    /// Cases in it now, with the median and longest wait so far.
    pub waiting: i64,
    pub waiting_median_days: Option<i64>,
    pub waiting_longest_days: Option<i64>,
}

impl From<app::StageTime> for StageTime {
    fn from(t: app::StageTime) -> Self {
        StageTime {
            stage: t.stage,
            stays_ended: t.stays_ended,
            median_days: t.median_days,
            p90_days: t.p90_days,
            waiting: t.waiting,
            waiting_median_days: t.waiting_median_days,
            waiting_longest_days: t.waiting_longest_days,
        }
    }
}

/// A programme's pipeline: each receiving state's pledge beside its people by stage, how
/// long stays last, and where cases wait longest.
#[derive(Serialize, ToSchema)]
pub struct Pipeline {
    #[schema(value_type = String, example = "euaa/relocation-greece")]
    pub programme: nansen_model::ProgrammeName,
    pub stages: Vec<String>,
    /// By receiving state, the cases not matched yet last.
    pub states: Vec<StateProgress>,
    pub total: StateProgress,
    pub times: Vec<StageTime>,
    /// The cases waiting longest in their stage that the caller may open.
    pub longest_waiting: Vec<CaseRow>,
}

impl From<app::Dashboard> for Pipeline {
    fn from(d: app::Dashboard) -> Self {
        Pipeline {
            programme: d.programme,
            stages: d.stages,
            states: all(d.states),
            total: d.total.into(),
            times: all(d.times),
            longest_waiting: all(d.longest_waiting),
        }
    }
}

/// Where a case stands after a move, an approval or an assignment.
#[derive(Serialize, ToSchema)]
pub struct Moved {
    pub id: String,
    pub stage: String,
    /// Set when the move waits for a supervisor's approval.
    pub pending_stage: Option<String>,
    pub revision: i64,
}

impl From<app::Moved> for Moved {
    fn from(m: app::Moved) -> Self {
        Moved {
            id: m.id,
            stage: m.stage,
            pending_stage: m.pending_stage,
            revision: m.revision,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ReferralCreated {
    pub id: String,
    /// `pending` until the receiving organisation decides.
    #[schema(schema_with = crate::openapi::referral_statuses)]
    pub status: nansen_cases::ReferralStatus,
}

/// The default score's weights, each from 0 to 1; the score is their sum, capped at 1.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchWeights {
    /// Every permitted pair starts with it.
    #[schema(example = 0.25)]
    pub base: f64,
    /// A member speaks one of the state's languages.
    #[schema(example = 0.35)]
    pub language: f64,
    /// Family in the state.
    #[schema(example = 0.25)]
    pub family: f64,
    /// The state prefers the household's nationality.
    #[schema(example = 0.1)]
    pub state_preference: f64,
    /// The household ranked the state: all of it for the first choice, less for each later.
    #[schema(example = 0.15)]
    pub household_preference: f64,
}

impl From<app::ScoreWeights> for MatchWeights {
    fn from(w: app::ScoreWeights) -> Self {
        MatchWeights {
            base: w.base,
            language: w.language,
            family: w.family,
            state_preference: w.state_preference,
            household_preference: w.household_preference,
        }
    }
}

impl From<MatchWeights> for app::ScoreWeights {
    fn from(w: MatchWeights) -> Self {
        app::ScoreWeights {
            base: w.base,
            language: w.language,
            family: w.family,
            state_preference: w.state_preference,
            household_preference: w.household_preference,
        }
    }
}

/// A programme's matching settings.
#[derive(Serialize, ToSchema)]
pub struct MatchSettings {
    pub weights: MatchWeights,
    /// The sections an accepted match refers to the receiving state.
    #[schema(schema_with = crate::openapi::section_list)]
    pub referral_sections: Vec<nansen_cases::Section>,
    /// Cases in the uploaded score matrix, when one is used instead of the default score.
    pub score_matrix_cases: Option<usize>,
}

impl From<app::MatchSettings> for MatchSettings {
    fn from(s: app::MatchSettings) -> Self {
        MatchSettings {
            weights: s.weights.into(),
            referral_sections: s.referral_sections,
            score_matrix_cases: s.scores.map(|m| m.len()),
        }
    }
}

/// What changes in a programme's matching settings; what is absent stays.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchSettingsChange {
    #[serde(default)]
    pub weights: Option<MatchWeights>,
    #[serde(default)]
    #[schema(schema_with = crate::openapi::section_list)]
    pub referral_sections: Option<Vec<nansen_cases::Section>>,
}

/// What a proposal is asked for.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct NewProposal {
    /// `CASE=STATE` pairs that must hold.
    #[serde(default)]
    pub pins: Vec<String>,
    /// `CASE=STATE` pairs that must not.
    #[serde(default)]
    pub forbids: Vec<String>,
    /// Seconds the search may take, at most 60 (10 by default, 1 with `from`).
    #[serde(default)]
    pub time_limit: Option<f64>,
    /// Solve and answer, keeping nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// An earlier proposal to start from; the answer says what moved since.
    #[serde(default)]
    pub from: Option<String>,
}

/// What the parts of a case's default score in a state are.
#[derive(Serialize, ToSchema)]
pub struct ScoreParts {
    pub base: f64,
    pub language: f64,
    pub family: f64,
    pub state_preference: f64,
    pub household_preference: f64,
}

/// The best other state a case may go to, and what choosing it would cost the objective
/// (read from the relaxation's prices of places).
#[derive(Serialize, ToSchema)]
pub struct NextBestState {
    pub state: String,
    pub score: f64,
    pub cost: f64,
}

/// A state the case would score higher in, and what stopped it.
#[derive(Serialize, ToSchema)]
pub struct StoppedState {
    pub state: String,
    pub score: f64,
    pub because: String,
}

/// One case of a proposal.
#[derive(Serialize, ToSchema)]
pub struct ProposedCase {
    pub case: String,
    pub persons: i64,
    pub state: Option<String>,
    pub score: Option<f64>,
    /// The default score's parts in that state (none with an uploaded matrix).
    pub parts: Option<ScoreParts>,
    /// What it adds to the objective; shown only to those who see the case's needs.
    pub value: Option<f64>,
    pub travels_with: Vec<String>,
    pub next_best: Option<NextBestState>,
    /// States it would score higher in, best first.
    pub stopped: Vec<StoppedState>,
    pub unassigned_because: Option<String>,
    /// `accepted`, or null while undecided.
    pub decision: Option<String>,
    pub decided_by: Option<String>,
    /// The referral its acceptance sent to the receiving state.
    pub referral: Option<String>,
}

impl From<app::ProposedCaseView> for ProposedCase {
    fn from(c: app::ProposedCaseView) -> Self {
        ProposedCase {
            case: c.case,
            persons: c.persons,
            state: c.state,
            score: c.score,
            parts: c.parts.map(|p| ScoreParts {
                base: p.base,
                language: p.language,
                family: p.family,
                state_preference: p.state_preference,
                household_preference: p.household_preference,
            }),
            value: c.value,
            travels_with: c.travels_with,
            next_best: c.next_best.map(|n| NextBestState {
                state: n.state,
                score: n.score,
                cost: n.cost,
            }),
            stopped: c
                .stopped
                .into_iter()
                .map(|s| StoppedState {
                    state: s.state,
                    score: s.score,
                    because: s.because,
                })
                .collect(),
            unassigned_because: c.unassigned_because,
            decision: c.decision,
            decided_by: c.decided_by,
            referral: c.referral,
        }
    }
}

/// A count of households by a language or nationality.
#[derive(Serialize, ToSchema)]
pub struct Counted {
    pub code: String,
    pub households: i64,
}

/// What a state was pledged (its places left when the proposal was made) and receives.
#[derive(Serialize, ToSchema)]
pub struct ProposalState {
    pub state: String,
    pub places: i64,
    pub uam_places: i64,
    pub medical_places: i64,
    pub persons: i64,
    pub cases: i64,
    pub unaccompanied_children: i64,
    pub medical_cases: i64,
    /// Its share of the persons assigned, beside its share of the places.
    pub share_of_persons: f64,
    pub share_of_places: f64,
    pub languages: Vec<Counted>,
    pub nationalities: Vec<Counted>,
    /// What one more place is worth here: persons, unaccompanied children, medical cases.
    pub prices: Vec<f64>,
}

#[derive(Serialize, ToSchema)]
pub struct MovedCase {
    pub case: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// A case at the ready stage that could not take part, and why.
#[derive(Serialize, ToSchema)]
pub struct WaitingCase {
    pub case: String,
    pub because: String,
}

/// A matching proposal: its proven figures, every case explained, the states' table.
#[derive(Serialize, ToSchema)]
pub struct Proposal {
    /// Null for a dry run.
    pub id: Option<String>,
    pub programme: String,
    pub created_by: String,
    pub created_at: When,
    pub objective: f64,
    /// No assignment of these cases to these places reaches more.
    pub bound: f64,
    pub gap: f64,
    pub seconds: f64,
    pub taking_part: usize,
    pub assigned_cases: usize,
    pub assigned_persons: i64,
    /// `default` or `uploaded`.
    pub score: String,
    pub weights: MatchWeights,
    pub pins: Vec<String>,
    pub forbids: Vec<String>,
    pub previous: Option<String>,
    pub moved: Vec<MovedCase>,
    pub states: Vec<ProposalState>,
    pub waiting: Vec<WaitingCase>,
    pub cases: Vec<ProposedCase>,
}

impl From<app::ProposalView> for Proposal {
    fn from(p: app::ProposalView) -> Self {
        let s = p.summary;
        let counted = |v: Vec<(String, i64)>| {
            v.into_iter()
                .map(|(code, households)| Counted { code, households })
                .collect()
        };
        Proposal {
            id: p.id,
            programme: s.programme,
            created_by: p.created_by,
            created_at: p.created_at.into(),
            objective: s.objective,
            bound: s.bound,
            gap: s.gap,
            seconds: s.seconds,
            taking_part: s.taking_part,
            assigned_cases: s.assigned_cases,
            assigned_persons: s.assigned_persons,
            score: s.score,
            weights: s.weights.into(),
            pins: s.pins,
            forbids: s.forbids,
            previous: s.previous,
            moved: s
                .moved
                .into_iter()
                .map(|m| MovedCase {
                    case: m.case,
                    from: m.from,
                    to: m.to,
                })
                .collect(),
            states: s
                .states
                .into_iter()
                .map(|st| ProposalState {
                    state: st.state,
                    places: st.places,
                    uam_places: st.uam_places,
                    medical_places: st.medical_places,
                    persons: st.persons,
                    cases: st.cases,
                    unaccompanied_children: st.unaccompanied_children,
                    medical_cases: st.medical_cases,
                    share_of_persons: st.share_of_persons,
                    share_of_places: st.share_of_places,
                    languages: counted(st.languages),
                    nationalities: counted(st.nationalities),
                    prices: st.prices.to_vec(),
                })
                .collect(),
            waiting: s
                .waiting
                .into_iter()
                .map(|w| WaitingCase {
                    case: w.case,
                    because: w.because,
                })
                .collect(),
            cases: p.cases.into_iter().map(Into::into).collect(),
        }
    }
}

/// A proposal in a programme's list.
#[derive(Serialize, ToSchema)]
pub struct ProposalItem {
    pub id: String,
    pub created_by: String,
    pub created_at: When,
    pub objective: f64,
    pub gap: f64,
    pub taking_part: usize,
    pub assigned_cases: usize,
    pub accepted_cases: usize,
}

impl From<app::ProposalItem> for ProposalItem {
    fn from(p: app::ProposalItem) -> Self {
        ProposalItem {
            id: p.id,
            created_by: p.created_by,
            created_at: p.created_at.into(),
            objective: p.objective,
            gap: p.gap,
            taking_part: p.cases,
            assigned_cases: p.assigned_cases,
            accepted_cases: p.accepted_cases,
        }
    }
}

/// The cases to accept; none names every undecided case the proposal assigns.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct AcceptProposal {
    #[serde(default)]
    pub cases: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AcceptedCase {
    pub case: String,
    pub state: String,
    /// The referral sent to the state's receiving partner, when the programme has one.
    pub referral: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SkippedCase {
    pub case: String,
    pub because: String,
}

/// What an acceptance did: the cases matched and referred, and those skipped with why.
#[derive(Serialize, ToSchema)]
pub struct Acceptance {
    pub proposal: String,
    pub accepted: Vec<AcceptedCase>,
    pub skipped: Vec<SkippedCase>,
}

impl From<app::Acceptance> for Acceptance {
    fn from(a: app::Acceptance) -> Self {
        Acceptance {
            proposal: a.proposal,
            accepted: a
                .accepted
                .into_iter()
                .map(|c| AcceptedCase {
                    case: c.case,
                    state: c.state,
                    referral: c.referral,
                })
                .collect(),
            skipped: a
                .skipped
                .into_iter()
                .map(|c| SkippedCase {
                    case: c.case,
                    because: c.because,
                })
                .collect(),
        }
    }
}

/// A dimension of a reporting template: its codes listed, or a code list Nansen knows.
#[derive(Serialize, ToSchema)]
pub struct TemplateDimension {
    #[schema(example = "sex")]
    pub name: String,
    pub codes: Vec<String>,
    #[schema(example = "countries")]
    pub code_list: Option<String>,
}

/// A rule a reported row keeps, and what its reporter is told when it does not.
#[derive(Serialize, ToSchema)]
pub struct TemplateRule {
    #[schema(example = "asylum_applications_first_time <= asylum_applications")]
    pub check: String,
    pub message: String,
}

/// A flow monitoring point: where movements are counted.
#[derive(Serialize, ToSchema)]
pub struct TemplatePoint {
    #[schema(example = "FMP-001")]
    pub code: String,
    #[schema(example = "Kipoi border crossing")]
    pub name: String,
    pub latitude: f64,
    pub longitude: f64,
    /// The admin area's P-code.
    #[schema(example = "GR51")]
    pub admin_area: Option<String>,
    #[schema(example = "border crossing")]
    pub kind: String,
}

/// A reporting template at its latest version.
#[derive(Serialize, ToSchema)]
pub struct Template {
    #[schema(example = "euaa/eps")]
    pub name: String,
    pub version: i64,
    pub title: String,
    /// day, week, month, quarter or year
    #[schema(example = "month")]
    pub frequency: String,
    /// Days after a period's end its returns are due.
    pub deadline_days: u16,
    /// The reporting organisations, each for its own country.
    pub reporters: Vec<String>,
    pub dimensions: Vec<TemplateDimension>,
    pub indicators: Vec<String>,
    pub rules: Vec<TemplateRule>,
    /// Its flow monitoring points, when a dimension takes them.
    pub points: Vec<TemplatePoint>,
    pub created_by: String,
    pub created_at: When,
    /// Whether the caller may change it (its organisation's admins).
    pub may_administer: bool,
}

impl From<app::TemplateView> for Template {
    fn from(t: app::TemplateView) -> Self {
        Template {
            name: t.name.to_string(),
            version: t.version,
            title: t.title,
            frequency: t.frequency,
            deadline_days: t.deadline_days,
            reporters: t.reporters,
            dimensions: t
                .dimensions
                .into_iter()
                .map(|d| TemplateDimension {
                    name: d.name,
                    codes: d.codes,
                    code_list: d.code_list,
                })
                .collect(),
            indicators: t.indicators,
            rules: t
                .rules
                .into_iter()
                .map(|r| TemplateRule {
                    check: r.check,
                    message: r.message,
                })
                .collect(),
            points: t
                .points
                .into_iter()
                .map(|p| TemplatePoint {
                    code: p.code,
                    name: p.name,
                    latitude: p.latitude,
                    longitude: p.longitude,
                    admin_area: p.admin_area,
                    kind: p.kind,
                })
                .collect(),
            created_by: t.created_by,
            created_at: t.created_at.into(),
            may_administer: t.may_administer,
        }
    }
}

/// One revision of a reporter's return for a period.
#[derive(Serialize, ToSchema)]
pub struct Submission {
    #[schema(example = "4r1p6mfczyqkpt2f")]
    pub id: String,
    #[schema(example = "euaa/eps")]
    pub template: String,
    pub template_version: i64,
    #[schema(example = "deu")]
    pub reporter: String,
    #[schema(example = "2026-01")]
    pub period: String,
    /// 1 for the first, one more for each resubmission.
    pub revision: i64,
    /// submitted, has-issues, approved or rejected
    #[schema(example = "submitted")]
    pub status: String,
    pub cells: usize,
    pub submitted_by: String,
    pub submitted_at: When,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<When>,
    /// The version of the template's dataset its approval landed as.
    pub dataset_version: Option<i64>,
}

impl From<app::SubmissionView> for Submission {
    fn from(s: app::SubmissionView) -> Self {
        Submission {
            id: s.id,
            template: s.template.to_string(),
            template_version: s.template_version,
            reporter: s.reporter,
            period: s.period,
            revision: s.revision,
            status: s.status,
            cells: s.cells,
            submitted_by: s.submitted_by,
            submitted_at: s.submitted_at.into(),
            reviewed_by: s.reviewed_by,
            reviewed_at: when(s.reviewed_at),
            dataset_version: s.dataset_version,
        }
    }
}

/// A comment on a return, pinned to a cell or (with an empty cell) to the whole return.
#[derive(Serialize, ToSchema)]
pub struct SubmissionComment {
    /// The dimension codes in the template's order, then the indicator.
    #[schema(example = "SYR.F.asylum_applications")]
    pub cell: String,
    pub text: String,
    pub author: String,
    /// Written by a reviewer, else by the reporter.
    pub reviewer: bool,
    pub created_at: When,
}

/// How one cell differs from the previous revision.
#[derive(Serialize, ToSchema)]
pub struct CellChange {
    #[schema(example = "SYR.F.asylum_applications")]
    pub cell: String,
    pub before: Option<u64>,
    pub after: Option<u64>,
}

/// One revision with its comments and what changed since the revision before.
#[derive(Serialize, ToSchema)]
pub struct SubmissionDetail {
    #[serde(flatten)]
    pub submission: Submission,
    pub comments: Vec<SubmissionComment>,
    pub previous_revision: Option<i64>,
    pub changes: Vec<CellChange>,
    /// A later revision of the same reporter and period supersedes it.
    pub superseded_by: Option<i64>,
}

impl From<app::SubmissionDetail> for SubmissionDetail {
    fn from(d: app::SubmissionDetail) -> Self {
        SubmissionDetail {
            submission: d.submission.into(),
            comments: d
                .comments
                .into_iter()
                .map(|c| SubmissionComment {
                    cell: c.cell,
                    text: c.text,
                    author: c.author,
                    reviewer: c.reviewer,
                    created_at: c.created_at.into(),
                })
                .collect(),
            previous_revision: d.previous_revision,
            changes: d
                .changes
                .into_iter()
                .map(|c| CellChange {
                    cell: c.cell,
                    before: c.before,
                    after: c.after,
                })
                .collect(),
            superseded_by: d.superseded_by,
        }
    }
}

/// What an approval landed in the template's dataset.
#[derive(Serialize, ToSchema)]
pub struct Approval {
    #[schema(example = "euaa/eps")]
    pub template: String,
    /// The submissions approved.
    pub approved: Vec<String>,
    /// The dataset version they landed as (the latest one when no cell changed).
    pub version: Option<i64>,
    pub new_version: bool,
    pub added: u64,
    pub changed: u64,
    pub removed: u64,
    /// Earlier approved revisions whose cells this approval replaced.
    pub replaced: Vec<String>,
}

impl From<app::Approval> for Approval {
    fn from(a: app::Approval) -> Self {
        Approval {
            template: a.template.to_string(),
            approved: a.approved,
            version: a.version,
            new_version: a.new_version,
            added: a.added,
            changed: a.changed,
            removed: a.removed,
            replaced: a.replaced,
        }
    }
}

/// A comment on a return.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubmissionComment {
    /// The cell: its dimension codes in the template's order, then the indicator; none for
    /// the whole return.
    #[schema(example = "SYR.F.asylum_applications")]
    pub cell: Option<String>,
    #[schema(example = "Twice last month's figure: please confirm")]
    pub text: String,
}

/// Why a return is rejected.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rejection {
    #[schema(example = "The totals do not match the national release")]
    pub reason: String,
}

/// What a bulk approval selects: the latest revisions at submitted, of a period and a
/// reporter when named.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct BulkApproval {
    #[schema(example = "2026-01")]
    pub period: Option<String>,
    #[schema(example = "deu")]
    pub reporter: Option<String>,
}

/// A reporter and period in the completeness matrix.
#[derive(Serialize, ToSchema)]
pub struct Completeness {
    #[schema(example = "deu")]
    pub reporter: String,
    #[schema(example = "2026-01")]
    pub period: String,
    /// approved, submitted, has-issues, overdue or open
    #[schema(example = "approved")]
    pub status: String,
    /// When its first revision came.
    pub submitted_at: Option<When>,
    /// Days from the deadline to the first submission, 0 when on time.
    pub days_late: Option<i64>,
}

/// A reminder sent to a reporter that had sent nothing.
#[derive(Serialize, ToSchema)]
pub struct Reminder {
    #[schema(example = "bamf")]
    pub reporter: String,
    #[schema(example = "2026-11")]
    pub period: String,
    /// before, due or overdue
    #[schema(example = "before")]
    pub event: String,
    #[schema(example = "2026-12-17")]
    pub deadline: String,
    /// The reporter's editors and admins it was e-mailed to.
    pub recipients: Vec<String>,
    /// sent, failed, sending, pending, or none (no SMTP server or no contact)
    #[schema(example = "sent")]
    pub email: String,
    pub email_error: String,
    /// Webhook deliveries queued for it.
    pub webhooks: i64,
    pub created_at: When,
}

impl From<app::ReminderView> for Reminder {
    fn from(r: app::ReminderView) -> Self {
        Reminder {
            reporter: r.reporter,
            period: r.period,
            event: r.event,
            deadline: r.deadline,
            recipients: r.recipients,
            email: r.email,
            email_error: r.email_error,
            webhooks: r.webhooks,
            created_at: r.created_at.into(),
        }
    }
}

impl From<app::CompletenessRow> for Completeness {
    fn from(r: app::CompletenessRow) -> Self {
        Completeness {
            reporter: r.reporter,
            period: r.period,
            status: r.status,
            submitted_at: when(r.submitted_at),
            days_late: r.days_late,
        }
    }
}

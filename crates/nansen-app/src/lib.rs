//! What Nansen does, for whoever asks.
//!
//! Every operation takes the [`Caller`] and goes through [`App::authorize`], the one place
//! that decides what a caller may see or change. A dataset the caller may not see is
//! [`AppError::NotFound`], exactly as one that does not exist. The CLI and the HTTP server
//! are thin shells over this crate.

mod analysis;
mod audit;
mod backup;
mod case_documents;
mod cases;
mod catalogue;
mod dashboard;
mod datasets;
mod documents;
mod drafts;
mod figures;
mod forecasting;
mod gathering;
mod identity;
mod limits;
mod matching;
mod pipeline;
mod plans;
mod programmes;
mod reminders;
mod requests;
mod review;
mod search;
mod tables;
mod uploads;
mod warning;
mod webhooks;

pub use analysis::{FlowLink, FlowNode, Flows, Question};
pub use audit::{AuditBroken, AuditReport};
pub use backup::Restored;
pub use case_documents::{CaseDocumentView, MAX_CASE_DOCUMENT_BYTES};
pub use cases::{
    CaseEventView, CaseImport, CaseList, CaseQuery, CaseRow, CaseView, Erased, FollowUp, Household,
    HouseholdMember, IdentityMember, ImportStep, MoveOption, Moved, PossibleDuplicate, Process,
    ReferralCreated, ReferralRequest, ReferralView, Registered, SetAsideHousehold, MAX_CASE_PAGE,
    MAX_IMPORT_HOUSEHOLDS,
};
pub use catalogue::{days_since, Coverage, Freshness};
pub use dashboard::{Dashboard, StageTime, StateProgress};
pub use datasets::{
    sha256_hex, Change, DatasetView, ExportFile, ImportReport, ImportRequest, Metadata, Progress,
    VersionView,
};
pub use documents::{
    document_type_label, plain_file_name, DocumentFile, DocumentMetadata, DocumentText,
    DocumentView, NewDocument, MAX_DOCUMENT_BYTES,
};
pub use drafts::{DraftView, FormOutcome, FormProblem, ReturnForm, MAX_FORM_ROWS};
pub use figures::{Job, JobFigures, OperatingFigures};
pub use forecasting::{season_of, Panel, SeriesRequest, KEY_SEPARATOR, MAX_HORIZON, MAX_WINDOWS};
pub use gathering::{
    CompletenessRow, DimensionView, PointView, RuleView, SubmissionView, TemplateView,
    XlsFormImport, MAX_COMPLETENESS_PERIODS, MAX_RETURN_BYTES, NAMED_CODE_LISTS,
};
pub use identity::{generate_password, Caller, SESSION_SECONDS};
pub use limits::{Limits, Permit, Work, WorkLimit};
pub use matching::{
    Acceptance, AcceptedCase, MatchSettings, MatchSettingsChange, MovedCase, ProposalItem,
    ProposalRequest, ProposalSummary, ProposalView, ProposedCaseView, SkippedCase, WaitingCase,
    MAX_MATCHING_CASES, MAX_MATCHING_SECONDS, READY,
};
pub use nansen_forecast::{Budget, Stopped};
pub use nansen_mail::Mailer;
pub use nansen_match::score::Weights as ScoreWeights;
pub use nansen_search::{
    FacetCount, Hit, Kind as HitKind, Request as SearchRequest, Results as SearchResults,
    Sort as SearchSort, FACETS,
};
pub use nansen_store::{
    AccessRequestRecord, AuditEntry, CommentRecord, DocumentRecord, DocumentVersionRecord,
    MemberRecord, OrgRecord, StoreError, TokenRecord,
};
pub use nansen_store::{BackupManifest, Rotation};
pub use pipeline::{pipeline_dataset, pledges_dataset, PIPELINE, PLEDGES};
pub use plans::{
    default_bound, default_periods, default_series, Action, Capacity, PlanSpec, PlanView, Trigger,
    TriggerState,
};
pub use programmes::{
    NewProgramme, Partner, PartnerPart, PledgeChangeView, PledgeInput, PledgeView, ProgrammeView,
};
pub use reminders::{form_link, ReminderSettings, ReminderView};
pub use requests::Subject;
pub use review::{Approval, CellChange, Selection, SubmissionDetail};
pub use search::{MAX_SEARCH_PAGE, MAX_SEARCH_WINDOW};
pub use tables::{number, Tabular};
pub use uploads::{Upload, UploadState};
pub use warning::{
    default_horizon, default_level, default_lookback, AlertChange, AlertDetail, AlertStatus,
    AlertView, CheckReport, DetectRequest, Detection, Outlook, Point, SeriesOutlook, WatchSpec,
    WatchView,
};
pub use webhooks::{DeliveryReport, DeliveryView, HookTarget, WebhookPolicy, WebhookView};

pub use nansen_model::Remedy;
use nansen_model::{dataset_access, Access, DatasetName, Principal, Sharing};
use nansen_store::{DatasetRecord, Store};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("sign in first")]
    Unauthorized,
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Import(#[from] nansen_formats::ImportError),
    #[error(transparent)]
    Query(#[from] nansen_model::QueryError),
    #[error(transparent)]
    Forecast(#[from] nansen_forecast::ForecastError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Search(#[from] nansen_search::SearchError),
    /// A request body larger than the route takes.
    #[error("{0}")]
    TooLarge(String),
    /// Over a limit on work at once or on time: try again after `retry_after` seconds.
    #[error("{message}")]
    Limit { message: String, retry_after: u64 },
    /// Refused until the person does what `remedy` names (each door words it its own way).
    #[error("{message}")]
    Needs { message: String, remedy: Remedy },
}

impl From<nansen_model::analysis::AnalysisError> for AppError {
    fn from(e: nansen_model::analysis::AnalysisError) -> Self {
        match e {
            nansen_model::analysis::AnalysisError::NeedsPeriod(_) => {
                AppError::needs(e.to_string(), Remedy::GroupByPeriod)
            }
        }
    }
}

impl AppError {
    pub fn needs(message: impl Into<String>, remedy: Remedy) -> AppError {
        AppError::Needs {
            message: message.into(),
            remedy,
        }
    }

    /// What the person can do about it, beyond correcting what they sent.
    pub fn remedy(&self) -> Option<Remedy> {
        match self {
            AppError::Needs { remedy, .. } => Some(*remedy),
            AppError::Import(e) => e.remedy(),
            _ => None,
        }
    }

    /// A short stable code for API errors.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound(_) => "not_found",
            AppError::Forbidden(_) => "forbidden",
            AppError::Unauthorized => "unauthorized",
            AppError::BadRequest(_) => "bad_request",
            AppError::Conflict(_) => "conflict",
            AppError::Import(_) => "import_refused",
            AppError::Query(_) => "bad_query",
            AppError::Forecast(nansen_forecast::ForecastError::Stopped(_)) => "limit",
            AppError::Forecast(_) => "bad_request",
            AppError::Store(_) | AppError::Search(_) => "internal",
            AppError::Limit { .. } => "limit",
            AppError::TooLarge(_) => "too_large",
            AppError::Needs {
                remedy: Remedy::ActAsPerson,
                ..
            } => "forbidden",
            AppError::Needs { .. } => "bad_request",
        }
    }

    /// For an answer that a limit stopped: how many seconds to wait before trying again.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            AppError::Limit { retry_after, .. } => Some(*retry_after),
            AppError::Forecast(nansen_forecast::ForecastError::Stopped(_)) => Some(60),
            _ => None,
        }
    }
}

pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// What an operation needs of a dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// To know it exists and read its metadata.
    Metadata,
    /// To read its observations.
    Data,
    /// To import new versions and change its metadata.
    Write,
    /// To share it, redact versions and answer access requests.
    Admin,
}

impl Need {
    /// Whether this access is enough; the same for datasets and documents.
    pub fn met_by(self, access: Access) -> bool {
        match self {
            Need::Metadata => access >= Access::Metadata,
            Need::Data => access.sees_data(),
            Need::Write => access.may_import(),
            Need::Admin => access.is_owner_admin(),
        }
    }
}

/// Cubes of dataset versions, as the query engine reads them, by dataset id, version number
/// and disclosure threshold (0: unsuppressed); rebuilt from the database.
type CubeCache = Mutex<HashMap<CubeKey, Arc<nansen_model::Cube>>>;
/// A cube's dataset id, version number and disclosure threshold.
type CubeKey = (i64, i64, i64);
/// One lock per cube being built.
type BuildLocks = Mutex<HashMap<CubeKey, Arc<Mutex<()>>>>;

pub struct App {
    store: Store,
    cubes: CubeCache,
    /// Cubes being built now, one lock each, so a landing version is built once.
    building: BuildLocks,
    /// What each dataset's cube covers, kept while that very cube is the one in use.
    coverages: Mutex<HashMap<i64, (std::sync::Weak<nansen_model::Cube>, Coverage)>>,
    webhook_policy: std::sync::RwLock<WebhookPolicy>,
    reminders: std::sync::RwLock<ReminderSettings>,
    /// What the plans were last evaluated against (see `Store::early_warning_state`).
    plans_seen: Mutex<Option<String>>,
    /// This node's search index, opened on first use.
    search: std::sync::OnceLock<nansen_search::SearchIndex>,
    limits: std::sync::RwLock<Limits>,
    running: Arc<Mutex<limits::Running>>,
    trusted_proxies: std::sync::RwLock<Vec<std::net::IpAddr>>,
    /// Addresses that read `/metrics` without signing in (see `set_metrics_readers`).
    metrics_readers: std::sync::RwLock<Vec<std::net::IpAddr>>,
    counters: figures::Counters,
    /// Staged uploads this node is validating or saving, with how far each has gone.
    under_way: uploads::UnderWay,
}

/// What one round of early-warning work did.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct WarningRound {
    pub checks: Vec<CheckReport>,
    /// Plans that became triggered or stopped being so.
    pub plans_changed: Vec<i64>,
    pub deliveries: DeliveryReport,
}

impl App {
    pub fn open(data_dir: &Path, database_url: Option<&str>) -> Result<App> {
        Ok(App {
            store: Store::open(data_dir, database_url)?,
            cubes: Mutex::new(HashMap::new()),
            building: Default::default(),
            coverages: Default::default(),
            webhook_policy: Default::default(),
            reminders: Default::default(),
            plans_seen: Default::default(),
            search: Default::default(),
            limits: Default::default(),
            running: Default::default(),
            trusted_proxies: Default::default(),
            metrics_readers: Default::default(),
            counters: Default::default(),
            under_way: Default::default(),
        })
    }

    /// Where request bodies wait while they are received and read: `DATA_DIR/uploads`, which
    /// only this account may enter.
    pub fn uploads_dir(&self) -> Result<std::path::PathBuf> {
        Ok(self.store.private_dir("uploads")?)
    }

    /// Forgets what earlier runs left in `DATA_DIR/uploads`: files being received when the
    /// process stopped, and this node's copies of staged uploads, which the database keeps
    /// and which are copied again when needed.
    pub fn clear_uploads(&self) -> Result<usize> {
        let dir = self.uploads_dir()?;
        let mut n = 0;
        for entry in std::fs::read_dir(&dir)
            .map_err(|e| StoreError::DataDir {
                path: dir.clone(),
                source: e,
            })?
            .flatten()
        {
            if std::fs::remove_file(entry.path()).is_ok() {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Addresses of reverse proxies whose `X-Forwarded-For` is believed.
    pub fn set_trusted_proxies(&self, proxies: Vec<std::net::IpAddr>) {
        *self
            .trusted_proxies
            .write()
            .unwrap_or_else(|p| p.into_inner()) = proxies;
    }

    pub fn trusts_proxy(&self, peer: std::net::IpAddr) -> bool {
        self.trusted_proxies
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&peer)
    }

    /// The job run after a new version lands, and periodically by the server: checks the
    /// watches that have not seen their dataset's latest version, evaluates the plans, and
    /// sends the webhooks that are due. Work left by a crash is simply done next round.
    pub fn run_early_warning(&self) -> Result<WarningRound> {
        self.refresh_pipelines()?;
        let checks = self.run_watches()?;
        let plans_changed = self.evaluate_plans()?;
        let deliveries = self.deliver_webhooks()?;
        Ok(WarningRound {
            checks,
            plans_changed,
            deliveries,
        })
    }

    /// The one rule, applied under every handler: may `who` have `need` of `ORG/SLUG`?
    /// Answers NotFound for anything the caller may not know exists.
    pub fn authorize(
        &self,
        who: &Caller,
        name: &DatasetName,
        need: Need,
    ) -> Result<(DatasetRecord, Access)> {
        let not_found = || AppError::NotFound(format!("dataset {name}"));
        let d = self
            .store
            .dataset(&name.org, &name.slug)?
            .ok_or_else(not_found)?;
        let access = self.access(&who.principal, &d);
        if need.met_by(access) {
            return Ok((d, access));
        }
        if access == Access::None {
            return Err(not_found());
        }
        Err(AppError::Forbidden(match need {
            Need::Data => {
                format!("{name} is listed: its data is shared on request; ask the owner for access")
            }
            Need::Write => format!("only editors and admins of {} may change {name}", name.org),
            _ => format!("only admins of {} may do this to {name}", name.org),
        }))
    }

    /// Refuses partner sharing with an organisation that does not exist (datasets and documents).
    pub(crate) fn check_partners(&self, share: Option<&Sharing>) -> Result<()> {
        if let Some(Sharing::Partners(orgs)) = share {
            for o in orgs {
                if self.store.org(o)?.is_none() {
                    return Err(AppError::BadRequest(format!(
                        "no organisation {o} to share with"
                    )));
                }
            }
        }
        Ok(())
    }

    fn access(&self, who: &Principal, d: &DatasetRecord) -> Access {
        dataset_access(who, &d.org, &d.sharing, &d.approved)
    }
}

/// A dataset named in a request or a stored spec, as `ORG/SLUG`.
pub(crate) fn dataset_name(name: &str) -> Result<DatasetName> {
    name.parse().map_err(AppError::BadRequest)
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;
    use nansen_store::testing;

    /// One app per database this machine can run, with the store kept alive beside it.
    pub fn apps() -> Vec<(testing::TestStore, App)> {
        testing::stores()
            .into_iter()
            .map(|t| {
                let app = App::open(t.dir.path(), t.database_url.as_deref()).expect("open app");
                (t, app)
            })
            .collect()
    }
}

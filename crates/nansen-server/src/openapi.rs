//! The OpenAPI 3.1 document served at `/api/v1/openapi.json`, derived from the handlers'
//! `#[utoipa::path]` annotations and the view types: the routes the router serves are the
//! ones the document lists, because both are built from the same list (`routes::api`).

use crate::views::ErrorBody;
use std::sync::OnceLock;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Nansen API",
        description = "Exchange of data between the EU asylum agency, IOM and their partners. Authenticate with `Authorization: Bearer TOKEN` (create one with `nansen token create EMAIL`). A dataset the caller may not see answers 404, exactly as one that does not exist. Every error answers `{\"error\": {\"code\", \"message\"}}` with a code from the table in docs/errors.md."
    ),
    servers((url = "/")),
    security((), ("bearer" = [])),
    components(schemas(ErrorBody)),
    modifiers(&Bearer),
    tags(
        (name = "datasets", description = "Datasets, their versions, imports and staged uploads"),
        (name = "analysis", description = "Queries, flows and comparisons"),
        (name = "early warning", description = "Forecasts, backtests, watches, alerts, webhooks and contingency plans"),
        (name = "documents", description = "Documents and search"),
        (name = "access", description = "Requests for access, the audit log and tokens"),
        (name = "operations", description = "Programmes, pledges, cases and referrals: resettlement, humanitarian admission, relocation, return and family reunification"),
        (name = "gathering", description = "Reporting templates, the period's workbook, returns reviewed cell by cell and approved into the template's dataset, and who reported on time"),
        (name = "matching", description = "Proposals of cases to pledged places, with a proven bound and every case explained, decided by a programme's admins"),
        (name = "service", description = "Health and this document")
    )
)]
pub struct ApiDoc;

struct Bearer;

impl utoipa::Modify for Bearer {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        doc.components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "bearer",
                SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
            );
    }
}

/// The document, built once from the routes.
pub fn document() -> &'static serde_json::Value {
    static DOC: OnceLock<serde_json::Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let (_, doc) = crate::routes::api().split_for_parts();
        serde_json::to_value(doc).expect("the OpenAPI document serialises")
    })
}

/// The refusals an operation documents, each `{"error": ...}`; listed by status in each
/// handler's `responses(...)`.
macro_rules! refusal {
    ($name:ident, $status:literal, $description:literal) => {
        #[derive(utoipa::IntoResponses)]
        #[response(status = $status, description = $description)]
        #[allow(dead_code)]
        pub struct $name(ErrorBody);
    };
}

refusal!(
    BadRequest,
    400,
    "The request is malformed: a parameter or the body, named in the message"
);
refusal!(
    Unauthorized,
    401,
    "Sign in first: no valid bearer token, or one that names no person"
);
refusal!(Forbidden, 403, "Visible, but not for this caller to do");
refusal!(
    NotFound,
    404,
    "Not found, or not visible to the caller (the two are indistinguishable)"
);
refusal!(Conflict, 409, "In conflict with the current state");
refusal!(TooLarge, 413, "The body is larger than this route takes");
refusal!(
    NotJson,
    415,
    "The body is not JSON (send Content-Type: application/json)"
);
refusal!(
    FileRefused,
    422,
    "The file is refused; details name row, column, value and reason"
);
refusal!(
    BadBody,
    422,
    "The JSON body lacks a field this route needs, or has one of the wrong type"
);

/// Over a limit on work at once or on time, named in the message.
#[derive(utoipa::IntoResponses)]
#[response(
    status = 429,
    description = "Over a limit on work at once or on time, named in the message; try again after Retry-After seconds",
    headers(("Retry-After" = u64, description = "Seconds to wait"))
)]
#[allow(dead_code)]
pub struct Limited(ErrorBody);

/// A string parameter that takes one of `values`.
fn one_of(values: impl IntoIterator<Item = String>) -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(values))
        .build()
}

fn words(values: &[&str]) -> utoipa::openapi::Object {
    one_of(values.iter().map(|v| v.to_string()))
}

pub fn frequencies() -> utoipa::openapi::Object {
    words(&["day", "week", "month", "quarter", "year"])
}

pub fn table_formats() -> utoipa::openapi::Object {
    words(&["json", "csv"])
}

pub fn measures() -> utoipa::openapi::Object {
    words(&["sum", "count", "min", "max"])
}

pub fn changes() -> utoipa::openapi::Object {
    words(&["previous", "year"])
}

pub fn export_formats() -> utoipa::openapi::Object {
    one_of(
        nansen_formats::ExportFormat::ALL
            .iter()
            .map(|f| f.name().to_string()),
    )
}

pub fn import_formats() -> utoipa::openapi::Object {
    one_of(
        std::iter::once("auto".to_string())
            .chain(nansen_formats::Format::ALL.iter().map(|f| f.to_string())),
    )
}

/// The forecasting models, and `all` where a backtest compares them.
fn models(all: bool) -> utoipa::openapi::Object {
    one_of(
        nansen_forecast::MODELS
            .iter()
            .map(|m| m.name().to_string())
            .chain(all.then(|| "all".to_string())),
    )
}

pub fn forecast_models() -> utoipa::openapi::Object {
    models(false)
}

pub fn backtest_models() -> utoipa::openapi::Object {
    models(true)
}

pub fn alert_statuses() -> utoipa::openapi::Object {
    one_of(
        nansen_app::AlertStatus::ALL
            .iter()
            .map(|s| s.as_str().to_string()),
    )
}

pub fn dataset_reach() -> utoipa::openapi::Object {
    one_of(
        nansen_model::DatasetReach::ALL
            .iter()
            .map(|r| r.to_string()),
    )
}

pub fn document_reach() -> utoipa::openapi::Object {
    one_of(
        nansen_model::DocumentReach::ALL
            .iter()
            .map(|r| r.to_string()),
    )
}

pub fn document_types() -> utoipa::openapi::Object {
    one_of(
        nansen_model::DocumentType::ALL
            .iter()
            .map(|t| t.to_string()),
    )
}

/// The schema of a closed list of the operations' words, from the list itself.
macro_rules! vocabulary_schema {
    ($($name:ident: $t:ty),+ $(,)?) => {
        $(pub fn $name() -> utoipa::openapi::Object {
            one_of(<$t>::ALL.iter().map(|v| v.to_string()))
        })+
    };
}

vocabulary_schema!(
    programme_kinds: nansen_cases::ProgrammeKind,
    partner_parts: nansen_app::PartnerPart,
    sections: nansen_cases::Section,
    sexes: nansen_cases::Sex,
    relationships: nansen_cases::Relationship,
    consent_purposes: nansen_cases::ConsentPurpose,
    submission_categories: nansen_cases::SubmissionCategory,
    priorities: nansen_cases::Priority,
    referral_statuses: nansen_cases::ReferralStatus,
);

/// A list of sections of a case.
pub fn section_list() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(sections())
        .build()
}

pub fn hit_kinds() -> utoipa::openapi::Object {
    words(&["document", "dataset"])
}

pub fn search_sorts() -> utoipa::openapi::Object {
    words(&["relevance", "newest"])
}

use super::{admitted, blocking, Address, AppState, DatasetPath, Who};
use crate::error::{bad_request, ApiError};
use crate::openapi::{
    BadBody, BadRequest, Conflict, FileRefused, Forbidden, Limited, NotFound, NotJson, TooLarge,
    Unauthorized,
};
use crate::views::{self, Dataset, Flows, QueryAnswer};
use axum::body::Body;
use axum::extract::{Path, Query as QueryString, RawQuery};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use nansen_app::{App, Caller, ImportRequest, Permit, Question, UploadState, Work};
use nansen_formats::{ExportFormat, Format, Mapping};
use nansen_model::{DatasetName, Query, Sharing};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::IntoParams;

/// Every dataset the caller may know of.
#[utoipa::path(get, path = "/api/v1/datasets", tag = "datasets", operation_id = "listDatasets",
    responses((status = 200, description = "Datasets", body = Vec<Dataset>), Unauthorized))]
pub async fn list(state: AppState, Who(who): Who) -> Result<Json<Vec<Dataset>>, ApiError> {
    let app = state.0.clone();
    Ok(Json(views::all(
        blocking(move || app.list_datasets(&who)).await?,
    )))
}

/// A dataset's metadata and versions.
#[utoipa::path(get, path = "/api/v1/datasets/{org}/{slug}", tag = "datasets", operation_id = "getDataset",
    params(DatasetPath),
    responses((status = 200, description = "The dataset", body = Dataset), Unauthorized, NotFound))]
pub async fn show(
    state: AppState,
    Who(who): Who,
    Path(DatasetPath { org, slug }): Path<DatasetPath>,
) -> Result<Json<Dataset>, ApiError> {
    let app = state.0.clone();
    Ok(Json(
        blocking(move || app.dataset(&who, &DatasetName::new(&org, &slug)))
            .await?
            .into(),
    ))
}

#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// The file's format; `auto` (the default) recognises it.
    #[param(schema_with = crate::openapi::import_formats)]
    format: Option<String>,
    #[param(example = "migr_asyappctzm.csv")]
    file_name: Option<String>,
    /// What the file counts, when it does not say.
    #[param(example = "asylum_applications")]
    indicator: Option<String>,
    /// The sheet of a workbook to read.
    sheet: Option<String>,
    /// Add to the dataset's content instead of replacing it.
    append: Option<bool>,
    /// Show what the import would do, saving nothing.
    dry_run: Option<bool>,
    /// Who sees the dataset: private, listed, partners:ORG[,ORG] or public (admins).
    #[param(example = "partners:iom")]
    share: Option<String>,
    title: Option<String>,
    /// Disclosure control: small counts are hidden from those who may not see them.
    sensitive: Option<bool>,
    /// A mapping file (TOML), for files that do not carry their own meaning.
    mapping: Option<String>,
    /// Keep the rows that fail out of the import instead of refusing the file; the version
    /// records how many and why.
    set_aside: Option<bool>,
}

/// The largest upload the API takes; larger files go through the CLI on the server.
const MAX_UPLOAD: u64 = 4 << 30;

/// Reads the import's parameters, checks that the caller may make it and has a place to
/// upload, and only then streams the request body (the file) to disk.
async fn receive(
    app: &Arc<App>,
    who: &Caller,
    address: Option<std::net::IpAddr>,
    org: String,
    slug: String,
    p: ImportParams,
    body: Body,
) -> Result<(tempfile::NamedTempFile, ImportRequest, Permit), ApiError> {
    let req = import_request(org, slug, p)?;
    let (check, asker, asked) = (app.clone(), who.clone(), req.clone());
    blocking(move || check.may_import(&asker, &asked)).await?;
    let permit = app.admit(who, address, Work::Upload)?;
    let file = super::receive_file(app, body, MAX_UPLOAD, |max| {
        format!(
            "the file is larger than {} GiB; import it with the CLI on the server",
            max >> 30
        )
    })
    .await?;
    Ok((file, req, permit))
}

fn import_request(org: String, slug: String, p: ImportParams) -> Result<ImportRequest, ApiError> {
    let mut req = ImportRequest {
        org,
        slug,
        file_name: p.file_name.unwrap_or_else(|| "upload".into()),
        append: p.append.unwrap_or(false),
        dry_run: p.dry_run.unwrap_or(false),
        title: p.title,
        sensitive: p.sensitive,
        ..Default::default()
    };
    req.options.set_aside = p.set_aside.unwrap_or(false);
    if let Some(f) = p.format.filter(|f| f != "auto") {
        req.options.format = Some(f.parse::<Format>().map_err(bad_request)?);
    }
    if let Some(s) = p.share {
        req.share = Some(s.parse::<Sharing>().map_err(bad_request)?);
    }
    if let Some(m) = p.mapping {
        req.options.mapping = Some(Mapping::parse(&m).map_err(|e| ApiError(e.into()))?);
    }
    req.options.indicator = p.indicator;
    req.options.sheet = p.sheet;
    Ok(req)
}

/// Import a file as a new version (all or nothing); creates the dataset on first import.
///
/// The request body is the file, streamed to disk before it is read.
#[utoipa::path(post, path = "/api/v1/datasets/{org}/{slug}/versions", tag = "datasets", operation_id = "importVersion",
    params(DatasetPath, ImportParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        example = "indicator,period,geo,origin,value,flags\nasylum_applications,2015-09,DEU,SYR,12345,\n"),
    responses(
        (status = 201, description = "The new version", body = views::ImportReport),
        (status = 200, description = "A dry run: what the import would add, change and remove", body = views::ImportReport),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, TooLarge, FileRefused, Limited))]
pub async fn import(
    state: AppState,
    Who(who): Who,
    Address(address): Address,
    Path(DatasetPath { org, slug }): Path<DatasetPath>,
    QueryString(p): QueryString<ImportParams>,
    body: Body,
) -> Result<(axum::http::StatusCode, Json<views::ImportReport>), ApiError> {
    let app = state.0.clone();
    let (file, req, permit) = receive(&app, &who, address, org, slug, p, body).await?;
    // An import runs to its end once received: a client that leaves does not half-land it.
    let report = blocking(move || {
        let r = app.import(&who, &req, file.path(), &|_| {});
        drop((file, permit));
        r
    })
    .await?;
    let status = if report.dry_run {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::CREATED
    };
    Ok((status, Json(report.into())))
}

/// Stage a file: validate it and show what it would add, change and remove, saving nothing
/// until confirmed.
///
/// The answer says what confirming would add, change and remove (201), or why the file is
/// refused (422).
#[utoipa::path(post, path = "/api/v1/datasets/{org}/{slug}/uploads", tag = "datasets", operation_id = "stageUpload",
    params(DatasetPath, ImportParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        example = "indicator,period,geo,origin,value,flags\nasylum_applications,2015-09,DEU,SYR,12345,\n"),
    responses(
        (status = 201, description = "Valid: the staged upload with its counts and a sample of the changes (status ready)", body = views::Upload),
        (status = 422, description = "Refused: the staged upload with the problems by row and column (status refused), or, before anything is staged, a mapping that cannot be used", body = StageRefused),
        BadRequest, Unauthorized, Forbidden, NotFound, TooLarge, Limited))]
pub async fn stage(
    state: AppState,
    Who(who): Who,
    Address(address): Address,
    Path(DatasetPath { org, slug }): Path<DatasetPath>,
    QueryString(p): QueryString<ImportParams>,
    body: Body,
) -> Result<(axum::http::StatusCode, Json<views::Upload>), ApiError> {
    let app = state.0.clone();
    let (file, req, permit) = receive(&app, &who, address, org, slug, p, body).await?;
    let path = file
        .into_temp_path()
        .keep()
        .map_err(|e| bad_request(format!("cannot keep the upload: {e}")))?;
    let upload = blocking(move || {
        let _permit = permit;
        let staged = app.stage_upload(&who, req, path)?;
        app.validate_upload(&who, &staged.id)
    })
    .await?;
    let status = match upload.state {
        UploadState::Refused { .. } => axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        _ => axum::http::StatusCode::CREATED,
    };
    Ok((status, Json(upload.into())))
}

/// A refused stage: the upload with its problems, or the error when the request could not
/// be staged at all.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // documents `stage`'s two answers under 422
enum StageRefused {
    Staged(views::Upload),
    NotStaged(views::ErrorBody),
}

/// A staged upload's id.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UploadPath {
    #[param(example = "8a434ffd3d7f7d9e09bb129729e1fcdc")]
    id: String,
}

/// A staged upload (only to the person who staged it).
#[utoipa::path(get, path = "/api/v1/uploads/{id}", tag = "datasets", operation_id = "showUpload",
    params(UploadPath),
    responses((status = 200, description = "The staged upload", body = views::Upload), Unauthorized, NotFound))]
pub async fn upload(
    state: AppState,
    Who(who): Who,
    Path(UploadPath { id }): Path<UploadPath>,
) -> Result<Json<views::Upload>, ApiError> {
    let app = state.0.clone();
    Ok(Json(blocking(move || app.upload(&who, &id)).await?.into()))
}

/// Save a staged, valid upload as a new version.
#[utoipa::path(post, path = "/api/v1/uploads/{id}/confirm", tag = "datasets", operation_id = "confirmUpload",
    params(UploadPath),
    responses((status = 201, description = "The new version", body = views::ImportReport),
        Unauthorized, NotFound, Conflict, FileRefused))]
pub async fn confirm(
    state: AppState,
    Who(who): Who,
    Path(UploadPath { id }): Path<UploadPath>,
) -> Result<(axum::http::StatusCode, Json<views::ImportReport>), ApiError> {
    let app = state.0.clone();
    Ok((
        axum::http::StatusCode::CREATED,
        Json(
            blocking(move || app.confirm_upload(&who, &id))
                .await?
                .into(),
        ),
    ))
}

/// Discard a staged upload and its file.
#[utoipa::path(delete, path = "/api/v1/uploads/{id}", tag = "datasets", operation_id = "discardUpload",
    params(UploadPath),
    responses((status = 204, description = "Discarded"), Unauthorized, NotFound))]
pub async fn discard(
    state: AppState,
    Who(who): Who,
    Path(UploadPath { id }): Path<UploadPath>,
) -> Result<axum::http::StatusCode, ApiError> {
    let app = state.0.clone();
    blocking(move || app.discard_upload(&who, &id)).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// The parameters every query takes. Query routes read their query string themselves (`where`
/// repeats), so this type documents them; a test holds it to what `parse_query` accepts.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(crate) struct QueryParams {
    /// `dim:v1,v2` (repeat, one dimension each; aliases accepted).
    #[serde(rename = "where")]
    #[param(style = Form, explode, example = json!(["origin:SY", "geo:Germany,FR"]))]
    wheres: Option<Vec<String>>,
    /// A period or a range.
    #[param(example = "2015..2015")]
    period: Option<String>,
    /// Dimensions, comma-separated; those not named are held at their total or summed.
    #[param(example = "geo,period")]
    group_by: Option<String>,
    /// Group periods at a coarser frequency: flows are summed, stocks take the period's last
    /// value.
    #[param(schema_with = crate::openapi::frequencies)]
    frequency: Option<String>,
    #[param(schema_with = crate::openapi::table_formats)]
    format: Option<String>,
}

/// The parameters every query takes, as [`QueryParams`] documents them.
pub(crate) const QUERY_PARAMS: [&str; 5] = ["where", "period", "group_by", "frequency", "format"];

/// A query as the API's parameters write it (`where` repeats, one dimension each).
pub(crate) struct Asked {
    pub question: Question,
    pub format: Option<String>,
    pub version: Option<i64>,
    pub via: Option<String>,
    pub datasets: Vec<String>,
    /// The route's own parameters beyond the query's.
    pub extra: std::collections::BTreeMap<String, String>,
}

/// Reads repeated `where=dim:v1,v2` and the other query parameters; `allowed` names the
/// parameters beyond the query's own that this route takes.
pub(crate) fn parse_query(raw: &str, allowed: &[&str]) -> Result<Asked, ApiError> {
    let mut wheres = Vec::new();
    let (mut period, mut group_by, mut measure, mut frequency, mut top) =
        (None, None, None, None, None);
    let mut asked = Asked {
        question: Question::default(),
        format: None,
        version: None,
        via: None,
        datasets: Vec::new(),
        extra: Default::default(),
    };
    let number = |k: &str, v: &str| {
        v.parse::<i64>()
            .map_err(|_| bad_request(format!("{k} {v:?} is not a number")))
    };
    for (k, v) in form_pairs(raw)? {
        if !QUERY_PARAMS.contains(&k.as_str()) && !allowed.contains(&k.as_str()) {
            let mut all = QUERY_PARAMS.to_vec();
            all.extend_from_slice(allowed);
            return Err(bad_request(format!(
                "unknown parameter {k:?}: use {}",
                all.join(", ")
            )));
        }
        match k.as_str() {
            "where" => wheres.push(v),
            "period" => period = Some(v),
            "group_by" => group_by = Some(v),
            "format" => asked.format = Some(v),
            "version" => asked.version = Some(number("version", &v)?),
            "measure" => measure = Some(v),
            "frequency" => frequency = Some(v),
            "top" => top = Some(number("top", &v)?.max(0) as usize),
            "rolling" => {
                asked.question.rolling = Some(number("rolling", &v)?.clamp(1, 1000) as usize)
            }
            "change" => asked.question.change = Some(v.parse().map_err(bad_request)?),
            "derived" => asked.question.derived = Some(v),
            "per_capita" => asked.question.per_capita = Some(v),
            "share_of" => asked.question.share_of = Some(v),
            "via" => asked.via = Some(v),
            "dataset" => asked.datasets.push(v),
            _ => {
                asked.extra.insert(k, v);
            }
        }
    }
    asked.question.query = Query::parse(&wheres, period.as_deref(), group_by.as_deref())
        .and_then(|q| q.with_options(measure.as_deref(), frequency.as_deref(), top))
        .map_err(|e| ApiError(e.into()))?;
    Ok(asked)
}

pub(crate) fn table_response(
    table: &nansen_model::Table,
    format: Option<&str>,
) -> Result<Response, ApiError> {
    match format.unwrap_or("json") {
        "json" => Ok(Json(nansen_formats::table_json(table)).into_response()),
        "csv" => {
            let mut out = Vec::new();
            nansen_formats::table_csv(table, false, &mut out)
                .map_err(|e| bad_request(e.to_string()))?;
            // The body keeps its shape; where it comes from travels in headers beside it.
            let mut headers = vec![(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string())];
            headers.extend(nansen_web::provenance_headers(&table.provenance));
            Ok(nansen_web::with_headers(headers, out))
        }
        other => Err(bad_request(format!(
            "unknown format {other:?}: choose csv or json"
        ))),
    }
}

fn form_pairs(raw: &str) -> Result<Vec<(String, String)>, ApiError> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            Ok((decode(k)?, decode(v)?))
        })
        .collect()
}

/// Percent-decoding of one parameter: a `%` not followed by two hex digits, or bytes that
/// are not UTF-8, answer 400 rather than being guessed at.
fn decode(s: &str) -> Result<String, ApiError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            ) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 2;
                }
                _ => {
                    return Err(bad_request(format!(
                        "the query string has a malformed percent-encoding at {:?}",
                        String::from_utf8_lossy(&bytes[i..bytes.len().min(i + 3)])
                    )))
                }
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out)
        .map_err(|_| bad_request("the query string decodes to bytes that are not UTF-8"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn malformed_percent_encoding_is_refused_not_a_panic() {
        assert_eq!(super::decode("syr%C3%A9+x").ok().as_deref(), Some("syré x"));
        for bad in ["%é", "%", "%4", "%zz", "%C3", "a%\u{1F600}"] {
            assert!(super::decode(bad).is_err(), "{bad:?}");
        }
    }
}

/// What a query of observations takes beyond every query's parameters.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(crate) struct ObservationParams {
    /// A version number; the latest without it.
    version: Option<i64>,
    #[param(schema_with = crate::openapi::measures)]
    measure: Option<String>,
    /// Only the N largest groups, then one OTHERS row.
    #[param(minimum = 1, example = 10)]
    top: Option<i64>,
    /// Each value becomes the sum of its last N periods (needs period in group_by; no value
    /// where the window is incomplete).
    #[param(minimum = 1, example = 12)]
    rolling: Option<i64>,
    /// Adds the earlier value, the change and the change in per cent (needs period in
    /// group_by).
    #[param(schema_with = crate::openapi::changes)]
    change: Option<String>,
    /// A derived indicator from the vocabulary (derived.tsv), with its formula.
    #[param(example = "recognition_rate")]
    derived: Option<String>,
    /// The population dataset for rate_per_100k, as ORG/SLUG.
    #[param(example = "euaa/population")]
    per_capita: Option<String>,
    /// The dimension share_of_total divides by its total.
    #[param(example = "geo")]
    share_of: Option<String>,
}

pub(crate) const OBSERVATION_PARAMS: [&str; 8] = [
    "version",
    "measure",
    "top",
    "rolling",
    "change",
    "derived",
    "per_capita",
    "share_of",
];

/// Query: filters, a period range and a group-by; dimensions not named are held at their
/// total or summed.
#[utoipa::path(get, path = "/api/v1/datasets/{org}/{slug}/observations", tag = "analysis", operation_id = "queryObservations",
    params(DatasetPath, QueryParams, ObservationParams),
    responses((status = 200, description = "One row per group", content(
        (QueryAnswer = "application/json"),
        (String = "text/csv", example = "geo,value\nDEU,476510\n"))),
        BadRequest, Unauthorized, Forbidden, NotFound))]
pub async fn observations(
    state: AppState,
    Who(who): Who,
    Path(DatasetPath { org, slug }): Path<DatasetPath>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let asked = parse_query(raw.as_deref().unwrap_or(""), &OBSERVATION_PARAMS)?;
    let app = state.0.clone();
    let (question, version) = (asked.question, asked.version);
    let table =
        blocking(move || app.ask(&who, &DatasetName::new(&org, &slug), version, &question)).await?;
    table_response(&table, asked.format.as_deref())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(crate) struct FlowParams {
    version: Option<i64>,
    /// A transit or route dimension.
    #[param(example = "route")]
    via: Option<String>,
}

pub(crate) const FLOW_PARAMS: [&str; 2] = ["version", "via"];

/// Flows from origin (through a transit or route dimension) to destination, as nodes and
/// links for a Sankey diagram.
#[utoipa::path(get, path = "/api/v1/datasets/{org}/{slug}/flows", tag = "analysis", operation_id = "flows",
    params(DatasetPath, QueryParams, FlowParams),
    responses((status = 200, description = "Nodes and links", body = Flows),
        BadRequest, Unauthorized, Forbidden, NotFound))]
pub async fn flows(
    state: AppState,
    Who(who): Who,
    Path(DatasetPath { org, slug }): Path<DatasetPath>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Flows>, ApiError> {
    let asked = parse_query(raw.as_deref().unwrap_or(""), &FLOW_PARAMS)?;
    let app = state.0.clone();
    Ok(Json(
        blocking(move || {
            app.flows(
                &who,
                &DatasetName::new(org, slug),
                asked.version,
                &asked.question.query,
                asked.via.as_deref(),
            )
        })
        .await?
        .into(),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(crate) struct CompareParams {
    /// ORG/SLUG, two or more; the first is the reference.
    #[param(style = Form, explode, example = json!(["euaa/asylum-applicants-monthly", "euaa/unhcr-asylum-applications"]))]
    dataset: Vec<String>,
}

pub(crate) const COMPARE_PARAMS: [&str; 1] = ["dataset"];

/// The same indicator for the same places and periods from several datasets side by side,
/// with the differences.
#[utoipa::path(get, path = "/api/v1/compare", tag = "analysis", operation_id = "compareSources",
    params(CompareParams, QueryParams),
    responses((status = 200, description = "The first dataset's value, then each other's value, difference and difference in per cent", content(
        (QueryAnswer = "application/json"),
        (String = "text/csv", example = "geo,period,value,euaa/unhcr-asylum-applications,difference euaa/unhcr-asylum-applications,difference_pct euaa/unhcr-asylum-applications\nDEU,2015,476510,441900,-34610,-7.263226\n"))),
        BadRequest, Unauthorized, Forbidden, NotFound))]
pub async fn compare(
    state: AppState,
    Who(who): Who,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let asked = parse_query(raw.as_deref().unwrap_or(""), &COMPARE_PARAMS)?;
    let app = state.0.clone();
    let (datasets, query) = (asked.datasets, asked.question.query);
    let table = blocking(move || app.compare(&who, &datasets, &query)).await?;
    table_response(&table, asked.format.as_deref())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// The file format; CSV without it.
    #[param(schema_with = crate::openapi::export_formats)]
    format: Option<String>,
    /// A version number; the latest without it.
    version: Option<i64>,
}

/// Download a version in an export format.
#[utoipa::path(get, path = "/api/v1/datasets/{org}/{slug}/export", tag = "datasets", operation_id = "exportDataset",
    params(DatasetPath, ExportParams),
    responses((status = 200, description = "The file, in the format asked for", content(
        (Vec<Object> = "application/json"),
        (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (Vec<u8> = "application/vnd.apache.parquet"),
        (String = "text/csv", example = "indicator,period,geo,origin,value,flags\nasylum_applications,2015-09,DEU,SYR,12345,\n"))),
        BadRequest, Unauthorized, Forbidden, NotFound, Limited))]
pub async fn export(
    state: AppState,
    Who(who): Who,
    Address(address): Address,
    Path(DatasetPath { org, slug }): Path<DatasetPath>,
    QueryString(p): QueryString<ExportParams>,
) -> Result<Response, ApiError> {
    let format: ExportFormat = p
        .format
        .as_deref()
        .unwrap_or("csv")
        .parse()
        .map_err(bad_request)?;
    let app = state.0.clone();
    let permit = app.admit(&who, address, Work::Export)?;
    Ok(nansen_web::attachment(
        admitted(&state.0, permit, move |app, _| {
            app.export_file(&who, &DatasetName::new(&org, &slug), p.version, format)
        })
        .await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionParams {
    /// A version number; the latest without it.
    version: Option<i64>,
}

/// The rows an import set aside, as they came, with the reason (editors and admins of the
/// owner).
#[utoipa::path(get, path = "/api/v1/datasets/{org}/{slug}/set-aside", tag = "datasets", operation_id = "setAsideRows",
    params(DatasetPath, VersionParams),
    responses((status = 200, description = "The rows, CSV: row, reason, then the file's columns",
        content_type = "text/csv", body = String, example = "row,reason,reported_date,number_dead\n1833,reported_date: no period,,2\n"),
        BadRequest, Unauthorized, Forbidden, NotFound))]
pub async fn set_aside(
    state: AppState,
    Who(who): Who,
    Path(DatasetPath { org, slug }): Path<DatasetPath>,
    QueryString(p): QueryString<VersionParams>,
) -> Result<Response, ApiError> {
    let app = state.0.clone();
    let csv = blocking(move || app.set_aside_rows(&who, &DatasetName::new(&org, &slug), p.version))
        .await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        csv,
    )
        .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ShareBody {
    /// private, listed, partners:ORG[,ORG] or public.
    #[schema(example = "partners:iom,unhcr")]
    sharing: String,
    /// Turn disclosure control on or off.
    sensitive: Option<bool>,
    /// The smallest count shown where disclosure control is on.
    #[schema(example = 5)]
    threshold: Option<i64>,
}

/// Change who sees a dataset (admins of the owner).
#[utoipa::path(post, path = "/api/v1/datasets/{org}/{slug}/sharing", tag = "datasets", operation_id = "shareDataset",
    params(DatasetPath), request_body = ShareBody,
    responses((status = 200, description = "The dataset", body = Dataset),
        BadRequest, Unauthorized, Forbidden, NotFound, NotJson, BadBody))]
pub async fn share(
    state: AppState,
    Who(who): Who,
    Path(DatasetPath { org, slug }): Path<DatasetPath>,
    Json(b): Json<ShareBody>,
) -> Result<Json<Dataset>, ApiError> {
    let sharing: Sharing = b.sharing.parse().map_err(bad_request)?;
    let app = state.0.clone();
    Ok(Json(
        blocking(move || {
            let name = DatasetName::new(org, slug);
            app.share(&who, &name, sharing, b.sensitive, b.threshold)?;
            app.dataset(&who, &name)
        })
        .await?
        .into(),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct VersionPath {
    #[param(example = "euaa")]
    org: String,
    #[param(example = "asylum-monthly")]
    slug: String,
    #[param(example = 2)]
    number: i64,
}

/// Destroy one version's data (admins of the owner).
#[utoipa::path(post, path = "/api/v1/datasets/{org}/{slug}/versions/{number}/redact", tag = "datasets", operation_id = "redactVersion",
    params(VersionPath),
    responses((status = 200, description = "The dataset after redaction", body = Dataset),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict))]
pub async fn redact(
    state: AppState,
    Who(who): Who,
    Path(VersionPath { org, slug, number }): Path<VersionPath>,
) -> Result<Json<Dataset>, ApiError> {
    let app = state.0.clone();
    Ok(Json(
        blocking(move || {
            let name = DatasetName::new(org, slug);
            app.redact(&who, &name, number)?;
            app.dataset(&who, &name)
        })
        .await?
        .into(),
    ))
}

/// What describes a dataset; only the fields sent change.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct MetadataBody {
    title: Option<String>,
    description: Option<String>,
    source: Option<String>,
    methodology: Option<String>,
    licence: Option<String>,
    /// daily, weekly, monthly, quarterly or annual.
    #[schema(example = "monthly")]
    update_frequency: Option<String>,
    tags: Option<Vec<String>>,
}

/// Describe a dataset: title, description, source, methodology, licence, update frequency,
/// tags (editors and admins of the owner).
#[utoipa::path(post, path = "/api/v1/datasets/{org}/{slug}/metadata", tag = "datasets", operation_id = "describeDataset",
    params(DatasetPath), request_body = MetadataBody,
    responses((status = 200, description = "The dataset", body = Dataset),
        BadRequest, Unauthorized, Forbidden, NotFound, NotJson, BadBody))]
pub async fn describe(
    state: AppState,
    Who(who): Who,
    Path(DatasetPath { org, slug }): Path<DatasetPath>,
    Json(m): Json<MetadataBody>,
) -> Result<Json<Dataset>, ApiError> {
    let m = nansen_app::Metadata {
        title: m.title,
        description: m.description,
        source: m.source,
        methodology: m.methodology,
        licence: m.licence,
        update_frequency: m.update_frequency,
        tags: m.tags,
    };
    let app = state.0.clone();
    Ok(Json(
        blocking(move || {
            let name = DatasetName::new(org, slug);
            app.set_metadata(&who, &name, &m)?;
            app.dataset(&who, &name)
        })
        .await?
        .into(),
    ))
}

use super::{admitted, blocking, Address, AppState, Who};
use crate::error::{bad_request, ApiError};
use axum::body::Body;
use axum::extract::{Path, Query as QueryString, RawQuery};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use nansen_app::{
    App, Caller, DatasetView, ImportReport, ImportRequest, Permit, Question, Upload, UploadState,
    Work,
};
use nansen_formats::{ExportFormat, Format, Mapping};
use nansen_model::{Query, Sharing};
use serde::Deserialize;
use std::sync::Arc;

pub async fn list(state: AppState, Who(who): Who) -> Result<Json<Vec<DatasetView>>, ApiError> {
    let app = state.0.clone();
    Ok(Json(blocking(move || app.list_datasets(&who)).await?))
}

pub async fn show(
    state: AppState,
    Who(who): Who,
    Path((org, slug)): Path<(String, String)>,
) -> Result<Json<DatasetView>, ApiError> {
    let app = state.0.clone();
    Ok(Json(
        blocking(move || app.dataset(&who, &org, &slug)).await?,
    ))
}

#[derive(Deserialize, Default)]
pub struct ImportParams {
    format: Option<String>,
    file_name: Option<String>,
    indicator: Option<String>,
    sheet: Option<String>,
    append: Option<bool>,
    dry_run: Option<bool>,
    share: Option<String>,
    title: Option<String>,
    sensitive: Option<bool>,
    /// A mapping file's text (TOML), for files that do not carry their own meaning.
    mapping: Option<String>,
    /// Keep failing rows out instead of refusing the file.
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

/// The request body is the file, streamed to disk before it is read.
pub async fn import(
    state: AppState,
    Who(who): Who,
    Address(address): Address,
    Path((org, slug)): Path<(String, String)>,
    QueryString(p): QueryString<ImportParams>,
    body: Body,
) -> Result<(axum::http::StatusCode, Json<ImportReport>), ApiError> {
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
    Ok((status, Json(report)))
}

/// Stages a file: validated and compared with the dataset, nothing saved. The answer says
/// what confirming would add, change and remove (201), or why the file is refused (422).
pub async fn stage(
    state: AppState,
    Who(who): Who,
    Address(address): Address,
    Path((org, slug)): Path<(String, String)>,
    QueryString(p): QueryString<ImportParams>,
    body: Body,
) -> Result<(axum::http::StatusCode, Json<Upload>), ApiError> {
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
    Ok((status, Json(upload)))
}

pub async fn upload(
    state: AppState,
    Who(who): Who,
    Path(id): Path<String>,
) -> Result<Json<Upload>, ApiError> {
    let app = state.0.clone();
    Ok(Json(blocking(move || app.upload(&who, &id)).await?))
}

pub async fn confirm(
    state: AppState,
    Who(who): Who,
    Path(id): Path<String>,
) -> Result<(axum::http::StatusCode, Json<ImportReport>), ApiError> {
    let app = state.0.clone();
    Ok((
        axum::http::StatusCode::CREATED,
        Json(blocking(move || app.confirm_upload(&who, &id)).await?),
    ))
}

pub async fn discard(
    state: AppState,
    Who(who): Who,
    Path(id): Path<String>,
) -> Result<axum::http::StatusCode, ApiError> {
    let app = state.0.clone();
    blocking(move || app.discard_upload(&who, &id)).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

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
        if !["where", "period", "group_by", "format", "frequency"].contains(&k.as_str())
            && !allowed.contains(&k.as_str())
        {
            let mut all = vec!["where", "period", "group_by", "frequency", "format"];
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

pub async fn observations(
    state: AppState,
    Who(who): Who,
    Path((org, slug)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let asked = parse_query(
        raw.as_deref().unwrap_or(""),
        &[
            "version",
            "measure",
            "top",
            "rolling",
            "change",
            "derived",
            "per_capita",
            "share_of",
        ],
    )?;
    let app = state.0.clone();
    let (question, version) = (asked.question, asked.version);
    let table = blocking(move || app.ask(&who, &org, &slug, version, &question)).await?;
    table_response(&table, asked.format.as_deref())
}

pub async fn flows(
    state: AppState,
    Who(who): Who,
    Path((org, slug)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Json<nansen_app::Flows>, ApiError> {
    let asked = parse_query(raw.as_deref().unwrap_or(""), &["version", "via"])?;
    let app = state.0.clone();
    Ok(Json(
        blocking(move || {
            app.flows(
                &who,
                &org,
                &slug,
                asked.version,
                &asked.question.query,
                asked.via.as_deref(),
            )
        })
        .await?,
    ))
}

/// `GET /api/v1/compare?dataset=ORG/SLUG&dataset=ORG/SLUG&...`
pub async fn compare(
    state: AppState,
    Who(who): Who,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let asked = parse_query(raw.as_deref().unwrap_or(""), &["dataset"])?;
    let app = state.0.clone();
    let (datasets, query) = (asked.datasets, asked.question.query);
    let table = blocking(move || app.compare(&who, &datasets, &query)).await?;
    table_response(&table, asked.format.as_deref())
}

#[derive(Deserialize)]
pub struct ExportParams {
    format: Option<String>,
    version: Option<i64>,
}

pub async fn export(
    state: AppState,
    Who(who): Who,
    Address(address): Address,
    Path((org, slug)): Path<(String, String)>,
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
            app.export_file(&who, &org, &slug, p.version, format)
        })
        .await?,
    ))
}

#[derive(Deserialize)]
pub struct VersionParams {
    version: Option<i64>,
}

/// `GET /api/v1/datasets/{org}/{slug}/set-aside`: the rows an import set aside, as CSV.
pub async fn set_aside(
    state: AppState,
    Who(who): Who,
    Path((org, slug)): Path<(String, String)>,
    QueryString(p): QueryString<VersionParams>,
) -> Result<Response, ApiError> {
    let app = state.0.clone();
    let csv = blocking(move || app.set_aside_rows(&who, &org, &slug, p.version)).await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        csv,
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct ShareBody {
    sharing: String,
    sensitive: Option<bool>,
    threshold: Option<i64>,
}

pub async fn share(
    state: AppState,
    Who(who): Who,
    Path((org, slug)): Path<(String, String)>,
    Json(b): Json<ShareBody>,
) -> Result<Json<DatasetView>, ApiError> {
    let sharing: Sharing = b.sharing.parse().map_err(bad_request)?;
    let app = state.0.clone();
    Ok(Json(
        blocking(move || {
            app.share(&who, &org, &slug, sharing, b.sensitive, b.threshold)?;
            app.dataset(&who, &org, &slug)
        })
        .await?,
    ))
}

pub async fn redact(
    state: AppState,
    Who(who): Who,
    Path((org, slug, number)): Path<(String, String, i64)>,
) -> Result<Json<DatasetView>, ApiError> {
    let app = state.0.clone();
    Ok(Json(
        blocking(move || {
            app.redact(&who, &org, &slug, number)?;
            app.dataset(&who, &org, &slug)
        })
        .await?,
    ))
}

pub async fn describe(
    state: AppState,
    Who(who): Who,
    Path((org, slug)): Path<(String, String)>,
    Json(m): Json<nansen_app::Metadata>,
) -> Result<Json<DatasetView>, ApiError> {
    let app = state.0.clone();
    Ok(Json(
        blocking(move || {
            app.set_metadata(&who, &org, &slug, &m)?;
            app.dataset(&who, &org, &slug)
        })
        .await?,
    ))
}

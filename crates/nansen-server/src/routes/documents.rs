use super::{admitted, blocking, Address, AppState, Who};
use crate::error::{bad_request, ApiError};
use axum::body::Body;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use nansen_app::{
    App, AppError, Caller, DocumentText, DocumentVersionRecord, DocumentView, NewDocument, Permit,
    SearchRequest, SearchResults, SearchSort, Work, MAX_DOCUMENT_BYTES,
};
use nansen_model::Sharing;
use serde::Deserialize;
use std::sync::Arc;

fn list_of(s: Option<String>) -> Vec<String> {
    s.map(|s| {
        s.split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect()
    })
    .unwrap_or_default()
}

pub async fn list(state: AppState, Who(who): Who) -> Result<Json<Vec<DocumentView>>, ApiError> {
    let app = state.0.clone();
    Ok(Json(blocking(move || app.documents(&who)).await?))
}

#[derive(Deserialize)]
pub struct AddParams {
    org: String,
    file_name: String,
    title: Option<String>,
    #[serde(rename = "type")]
    doc_type: Option<String>,
    /// Comma-separated ISO 3166 alpha-3 codes.
    countries: Option<String>,
    themes: Option<String>,
    date: Option<String>,
    language: Option<String>,
    summary: Option<String>,
    share: Option<String>,
}

/// Checks the caller may send a document and has a place to, then receives it to disk.
async fn receive_document(
    app: &Arc<App>,
    who: &Caller,
    address: Option<std::net::IpAddr>,
    body: Body,
) -> Result<(tempfile::NamedTempFile, Permit), ApiError> {
    let permit = app.admit(who, address, Work::Upload)?;
    let file = super::receive_file(app, body, MAX_DOCUMENT_BYTES as u64, |max| {
        format!(
            "the file is larger than {} MB, the most a document may be",
            max >> 20
        )
    })
    .await?;
    Ok((file, permit))
}

fn read_received(file: tempfile::NamedTempFile) -> Result<Vec<u8>, AppError> {
    std::fs::read(file.path()).map_err(|e| {
        AppError::Store(nansen_app::StoreError::DataDir {
            path: file.path().into(),
            source: e,
        })
    })
}

/// The file is the request body; what is said about it, the query string.
pub async fn add(
    state: AppState,
    Who(who): Who,
    Address(address): Address,
    Query(p): Query<AddParams>,
    body: Body,
) -> Result<(StatusCode, Json<DocumentView>), ApiError> {
    let new = NewDocument {
        org: p.org,
        title: p.title,
        doc_type: p.doc_type,
        countries: list_of(p.countries),
        themes: list_of(p.themes),
        date: p.date,
        language: p.language,
        summary: p.summary.unwrap_or_default(),
        share: p
            .share
            .as_deref()
            .map(str::parse::<Sharing>)
            .transpose()
            .map_err(bad_request)?,
    };
    let app = state.0.clone();
    let (check, asker, asked) = (app.clone(), who.clone(), new.clone());
    blocking(move || check.may_add_document(&asker, &asked).map(|_| ())).await?;
    let (file, permit) = receive_document(&app, &who, address, body).await?;
    let doc = blocking(move || {
        let _permit = permit;
        app.add_document(&who, &new, &p.file_name, &read_received(file)?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(doc)))
}

pub async fn show(
    state: AppState,
    Who(who): Who,
    Path(id): Path<i64>,
) -> Result<Json<DocumentView>, ApiError> {
    let app = state.0.clone();
    Ok(Json(blocking(move || app.document(&who, id)).await?))
}

#[derive(Deserialize)]
pub struct VersionParams {
    file_name: String,
}

pub async fn add_version(
    state: AppState,
    Who(who): Who,
    Address(address): Address,
    Path(id): Path<i64>,
    Query(p): Query<VersionParams>,
    body: Body,
) -> Result<(StatusCode, Json<DocumentVersionRecord>), ApiError> {
    let app = state.0.clone();
    let (check, asker) = (app.clone(), who.clone());
    blocking(move || check.may_add_document_version(&asker, id)).await?;
    let (file, permit) = receive_document(&app, &who, address, body).await?;
    let version = blocking(move || {
        let _permit = permit;
        app.add_document_version(&who, id, &p.file_name, &read_received(file)?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(version)))
}

#[derive(Deserialize)]
pub struct VersionChoice {
    version: Option<i64>,
}

pub async fn file(
    state: AppState,
    Who(who): Who,
    Path(id): Path<i64>,
    Query(p): Query<VersionChoice>,
) -> Result<Response, ApiError> {
    let app = state.0.clone();
    Ok(nansen_web::document_attachment(
        blocking(move || app.document_file(&who, id, p.version)).await?,
    ))
}

pub async fn text(
    state: AppState,
    Who(who): Who,
    Path(id): Path<i64>,
    Query(p): Query<VersionChoice>,
) -> Result<Json<DocumentText>, ApiError> {
    let app = state.0.clone();
    Ok(Json(
        blocking(move || app.document_text(&who, id, p.version)).await?,
    ))
}

pub async fn describe(
    state: AppState,
    Who(who): Who,
    Path(id): Path<i64>,
    Json(m): Json<nansen_app::DocumentMetadata>,
) -> Result<Json<DocumentView>, ApiError> {
    let app = state.0.clone();
    Ok(Json(
        blocking(move || app.describe_document(&who, id, &m)).await?,
    ))
}

#[derive(Deserialize)]
pub struct ShareBody {
    sharing: String,
}

pub async fn share(
    state: AppState,
    Who(who): Who,
    Path(id): Path<i64>,
    Json(b): Json<ShareBody>,
) -> Result<Json<DocumentView>, ApiError> {
    let sharing: Sharing = b.sharing.parse().map_err(bad_request)?;
    let app = state.0.clone();
    Ok(Json(
        blocking(move || {
            app.share_document(&who, id, sharing)?;
            app.document(&who, id)
        })
        .await?,
    ))
}

#[derive(Deserialize, Default)]
pub struct SearchParams {
    q: Option<String>,
    #[serde(rename = "type")]
    doc_type: Option<String>,
    org: Option<String>,
    country: Option<String>,
    year: Option<String>,
    language: Option<String>,
    kind: Option<String>,
    sort: Option<String>,
    offset: Option<usize>,
    limit: Option<usize>,
}

impl SearchParams {
    pub fn request(self) -> Result<SearchRequest, ApiError> {
        Ok(SearchRequest {
            text: self.q.unwrap_or_default(),
            doc_type: self.doc_type.filter(|s| !s.is_empty()),
            org: self.org.filter(|s| !s.is_empty()),
            country: self
                .country
                .filter(|s| !s.is_empty())
                .map(|c| c.to_uppercase()),
            year: self.year.filter(|s| !s.is_empty()),
            language: self.language.filter(|s| !s.is_empty()),
            kind: match self.kind.as_deref() {
                None | Some("") => None,
                Some("document") => Some(nansen_app::HitKind::Document),
                Some("dataset") => Some(nansen_app::HitKind::Dataset),
                Some(other) => {
                    return Err(bad_request(format!(
                        "kind {other:?}: choose document or dataset"
                    )))
                }
            },
            sort: match self.sort.as_deref() {
                None | Some("") | Some("relevance") => SearchSort::Relevance,
                Some("newest") => SearchSort::Newest,
                Some(other) => {
                    return Err(bad_request(format!(
                        "sort {other:?}: choose relevance or newest"
                    )))
                }
            },
            offset: self.offset.unwrap_or(0),
            limit: self.limit.unwrap_or(20),
        })
    }
}

pub async fn search(
    state: AppState,
    Who(who): Who,
    Address(address): Address,
    Query(p): Query<SearchParams>,
) -> Result<Json<SearchResults>, ApiError> {
    let request = p.request()?;
    let app = state.0.clone();
    let permit = app.admit(&who, address, Work::Search)?;
    Ok(Json(
        admitted(&state.0, permit, move |app, _| app.search(&who, &request)).await?,
    ))
}

/// Rebuilds this node's index; platform operators only.
pub async fn reindex(state: AppState, Who(who): Who) -> Result<Json<serde_json::Value>, ApiError> {
    let app = state.0.clone();
    let n = blocking(move || {
        if !app.is_operator(&who)? {
            return Err(AppError::NotFound("this address".into()));
        }
        app.reindex(&mut |_| {})
    })
    .await?;
    Ok(Json(serde_json::json!({ "entries": n })))
}

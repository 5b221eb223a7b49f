use super::{admitted, blocking, Address, AppState, IdPath, Who};
use crate::error::{bad_request, ApiError};
use crate::openapi::{
    BadBody, BadRequest, Forbidden, Limited, NotFound, NotJson, TooLarge, Unauthorized,
};
use crate::views::{self, Document, DocumentText, DocumentVersion, Reindexed, SearchResults};
use axum::body::Body;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use nansen_app::{
    App, AppError, Caller, NewDocument, Permit, SearchRequest, SearchSort, Work, MAX_DOCUMENT_BYTES,
};
use nansen_model::Sharing;
use serde::Deserialize;
use std::sync::Arc;
use utoipa::IntoParams;

fn list_of(s: Option<String>) -> Vec<String> {
    s.map(|s| {
        s.split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect()
    })
    .unwrap_or_default()
}

/// The documents the caller may know of, newest first.
#[utoipa::path(get, path = "/api/v1/documents", tag = "documents", operation_id = "listDocuments",
    responses((status = 200, description = "Documents", body = Vec<Document>), Unauthorized))]
pub async fn list(state: AppState, Who(who): Who) -> Result<Json<Vec<Document>>, ApiError> {
    let app = state.0.clone();
    Ok(Json(views::all(
        blocking(move || app.documents(&who)).await?,
    )))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AddParams {
    /// The organisation it belongs to.
    #[param(example = "euaa")]
    org: String,
    #[param(example = "reception-report.pdf")]
    file_name: String,
    /// Without it, the file's own title or its name.
    title: Option<String>,
    #[serde(rename = "type")]
    #[param(schema_with = crate::openapi::document_types)]
    doc_type: Option<String>,
    /// ISO 3166 alpha-3, comma-separated.
    #[param(example = "ITA,GRC")]
    countries: Option<String>,
    /// Comma-separated.
    themes: Option<String>,
    /// YYYY, YYYY-MM or YYYY-MM-DD.
    #[param(example = "2025-06")]
    date: Option<String>,
    /// ISO 639-1; read from the text without it.
    language: Option<String>,
    summary: Option<String>,
    /// private, listed, public or partners:SLUG[,SLUG] (admins).
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

/// Add a document: the file is the body (PDF, DOCX, ODT, HTML, Markdown or text, up to
/// 100 MB); its text is read at once.
///
/// What is said about it goes in the query string. A hostile or malformed file is refused
/// with the reason; a file without text is kept and marked.
#[utoipa::path(post, path = "/api/v1/documents", tag = "documents", operation_id = "addDocument",
    params(AddParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", example = "# Minutes\n\nThe committee met on reception capacity."),
    responses((status = 201, description = "The document", body = Document),
        BadRequest, Unauthorized, Forbidden, NotFound, TooLarge, Limited))]
pub async fn add(
    state: AppState,
    Who(who): Who,
    Address(address): Address,
    Query(p): Query<AddParams>,
    body: Body,
) -> Result<(StatusCode, Json<Document>), ApiError> {
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
    Ok((StatusCode::CREATED, Json(doc.into())))
}

/// A document's metadata and versions.
#[utoipa::path(get, path = "/api/v1/documents/{id}", tag = "documents", operation_id = "document",
    params(IdPath),
    responses((status = 200, description = "The document", body = Document), BadRequest, Unauthorized, NotFound))]
pub async fn show(
    state: AppState,
    Who(who): Who,
    Path(IdPath { id }): Path<IdPath>,
) -> Result<Json<Document>, ApiError> {
    let app = state.0.clone();
    Ok(Json(blocking(move || app.document(&who, id)).await?.into()))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionParams {
    #[param(example = "reception-report-v2.pdf")]
    file_name: String,
}

/// A new version of the document's file; versions never change.
#[utoipa::path(post, path = "/api/v1/documents/{id}/versions", tag = "documents", operation_id = "addDocumentVersion",
    params(IdPath, VersionParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, description = "The version", body = DocumentVersion),
        BadRequest, Unauthorized, Forbidden, NotFound, TooLarge, Limited))]
pub async fn add_version(
    state: AppState,
    Who(who): Who,
    Address(address): Address,
    Path(IdPath { id }): Path<IdPath>,
    Query(p): Query<VersionParams>,
    body: Body,
) -> Result<(StatusCode, Json<DocumentVersion>), ApiError> {
    let app = state.0.clone();
    let (check, asker) = (app.clone(), who.clone());
    blocking(move || check.may_add_document_version(&asker, id)).await?;
    let (file, permit) = receive_document(&app, &who, address, body).await?;
    let version = blocking(move || {
        let _permit = permit;
        app.add_document_version(&who, id, &p.file_name, &read_received(file)?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(version.into())))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionChoice {
    /// A version number; the latest without it.
    version: Option<i64>,
}

/// Download a version's file.
#[utoipa::path(get, path = "/api/v1/documents/{id}/file", tag = "documents", operation_id = "documentFile",
    params(IdPath, VersionChoice),
    responses((status = 200, description = "The file, as uploaded", content_type = "*/*", body = Vec<u8>),
        BadRequest, Unauthorized, Forbidden, NotFound))]
pub async fn file(
    state: AppState,
    Who(who): Who,
    Path(IdPath { id }): Path<IdPath>,
    Query(p): Query<VersionChoice>,
) -> Result<Response, ApiError> {
    let app = state.0.clone();
    Ok(nansen_web::document_attachment(
        blocking(move || app.document_file(&who, id, p.version)).await?,
    ))
}

/// The text read out of a version, page by page.
#[utoipa::path(get, path = "/api/v1/documents/{id}/text", tag = "documents", operation_id = "documentText",
    params(IdPath, VersionChoice),
    responses((status = 200, description = "Pages", body = DocumentText),
        BadRequest, Unauthorized, Forbidden, NotFound))]
pub async fn text(
    state: AppState,
    Who(who): Who,
    Path(IdPath { id }): Path<IdPath>,
    Query(p): Query<VersionChoice>,
) -> Result<Json<DocumentText>, ApiError> {
    let app = state.0.clone();
    Ok(Json(
        blocking(move || app.document_text(&who, id, p.version))
            .await?
            .into(),
    ))
}

/// What is said about a document; only the fields sent change.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct DocumentMetadataBody {
    title: Option<String>,
    #[serde(rename = "type")]
    #[schema(example = "minutes")]
    doc_type: Option<String>,
    /// ISO 3166 alpha-3.
    countries: Option<Vec<String>>,
    themes: Option<Vec<String>>,
    /// YYYY, YYYY-MM or YYYY-MM-DD.
    date: Option<String>,
    /// ISO 639-1.
    language: Option<String>,
    #[schema(example = "Monitoring visits in June.")]
    summary: Option<String>,
}

/// Change what is said about a document (editors and admins of its organisation); fields
/// left out stay.
#[utoipa::path(post, path = "/api/v1/documents/{id}/metadata", tag = "documents", operation_id = "describeDocument",
    params(IdPath), request_body = DocumentMetadataBody,
    responses((status = 200, description = "The document", body = Document),
        BadRequest, Unauthorized, Forbidden, NotFound, NotJson, BadBody))]
pub async fn describe(
    state: AppState,
    Who(who): Who,
    Path(IdPath { id }): Path<IdPath>,
    Json(m): Json<DocumentMetadataBody>,
) -> Result<Json<Document>, ApiError> {
    let m = nansen_app::DocumentMetadata {
        title: m.title,
        doc_type: m.doc_type,
        countries: m.countries,
        themes: m.themes,
        date: m.date,
        language: m.language,
        summary: m.summary,
    };
    let app = state.0.clone();
    Ok(Json(
        blocking(move || app.describe_document(&who, id, &m))
            .await?
            .into(),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ShareBody {
    /// private, listed, partners:ORG[,ORG] or public.
    #[schema(example = "listed")]
    sharing: String,
}

/// Change who sees the document (admins of its organisation).
#[utoipa::path(post, path = "/api/v1/documents/{id}/sharing", tag = "documents", operation_id = "shareDocument",
    params(IdPath), request_body = ShareBody,
    responses((status = 200, description = "The document", body = Document),
        BadRequest, Unauthorized, Forbidden, NotFound, NotJson, BadBody))]
pub async fn share(
    state: AppState,
    Who(who): Who,
    Path(IdPath { id }): Path<IdPath>,
    Json(b): Json<ShareBody>,
) -> Result<Json<Document>, ApiError> {
    let sharing: Sharing = b.sharing.parse().map_err(bad_request)?;
    let app = state.0.clone();
    Ok(Json(
        blocking(move || {
            app.share_document(&who, id, sharing)?;
            app.document(&who, id)
        })
        .await?
        .into(),
    ))
}

#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Words; empty for everything the caller may see.
    #[param(example = "Lampedusa reception")]
    q: Option<String>,
    /// A document type, or `dataset`.
    #[serde(rename = "type")]
    doc_type: Option<String>,
    org: Option<String>,
    /// ISO 3166 alpha-3.
    #[param(example = "ITA")]
    country: Option<String>,
    year: Option<String>,
    language: Option<String>,
    #[param(schema_with = crate::openapi::hit_kinds)]
    kind: Option<String>,
    #[param(schema_with = crate::openapi::search_sorts)]
    sort: Option<String>,
    offset: Option<usize>,
    #[param(maximum = 200)]
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

/// One search over documents and datasets, as the caller may see them: ranked hits with
/// their snippets and the words found in them, and facet counts.
#[utoipa::path(get, path = "/api/v1/search", tag = "documents", operation_id = "search",
    params(SearchParams),
    responses((status = 200, description = "Results", body = SearchResults),
        BadRequest, Unauthorized, Limited))]
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
        admitted(&state.0, permit, move |app, _| app.search(&who, &request))
            .await?
            .into(),
    ))
}

/// Rebuild this node's search index from the database (platform operators).
#[utoipa::path(post, path = "/api/v1/search/reindex", tag = "documents", operation_id = "reindex",
    responses((status = 200, description = "Rebuilt", body = Reindexed), Unauthorized, NotFound))]
pub async fn reindex(state: AppState, Who(who): Who) -> Result<Json<Reindexed>, ApiError> {
    let app = state.0.clone();
    let n = blocking(move || {
        if !app.is_operator(&who)? {
            return Err(AppError::NotFound("this address".into()));
        }
        app.reindex(&mut |_| {})
    })
    .await?;
    Ok(Json(Reindexed { entries: n }))
}

//! Search over documents and datasets, a document's page, and adding a document.

use super::dataset::{access_request_form, chosen_sharing, field, sharing_fields};
use super::{admitted, blocking, see_other, Address};
use crate::error::WebError;
use crate::layout::{self, csrf, place, when, Section};
use crate::session::{Posted, Viewer};
use crate::WebState;
use axum::extract::{Multipart, Path, Query as QueryString};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use nansen_app::{
    document_type_label, DocumentFile, DocumentText, DocumentView, HitKind, OrgRecord,
    SearchRequest, SearchResults, SearchSort, FACETS,
};
use nansen_model::{DocumentReach, DocumentType, Role};
use serde::Deserialize;

/// A document's file as a download; the name is kept safe for the header.
pub fn document_attachment(f: DocumentFile) -> Response {
    let ascii: String = f
        .file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_ ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded = encode(&f.file_name);
    (
        [
            (header::CONTENT_TYPE, f.media_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"),
            ),
        ],
        f.bytes,
    )
        .into_response()
}

#[derive(Deserialize, Default, Clone)]
pub struct SearchForm {
    #[serde(default)]
    q: String,
    #[serde(default, rename = "type")]
    doc_type: String,
    #[serde(default)]
    org: String,
    #[serde(default)]
    country: String,
    #[serde(default)]
    year: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    page: usize,
}

const PAGE: usize = 20;

impl SearchForm {
    fn get(&self, facet: &str) -> &str {
        match facet {
            "type" => &self.doc_type,
            "org" => &self.org,
            "country" => &self.country,
            "year" => &self.year,
            "language" => &self.language,
            _ => "",
        }
    }

    /// This search's address with one facet set to `value` (or cleared with an empty one).
    fn with(&self, facet: &str, value: &str) -> String {
        let mut pairs: Vec<(&str, String)> = vec![("q", self.q.clone())];
        for f in FACETS {
            let v = if f == facet {
                value.to_string()
            } else {
                self.get(f).to_string()
            };
            pairs.push((f, v));
        }
        pairs.push(("sort", self.sort.clone()));
        let query: Vec<String> = pairs
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", encode(&v)))
            .collect();
        format!("/search?{}", query.join("&"))
    }
}

/// Percent-encoded for a URL or a header, all but letters, digits and `-_.`.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn facet_title(facet: &str) -> &'static str {
    match facet {
        "type" => "Type",
        "org" => "Organisation",
        "country" => "Country",
        "year" => "Year",
        _ => "Language",
    }
}

fn facet_value(facet: &str, value: &str) -> String {
    match facet {
        "type" if value == "dataset" => "Dataset".into(),
        "type" => document_type_label(value).to_string(),
        "country" => place(value),
        "language" => language_name(value).to_string(),
        _ => value.to_string(),
    }
}

fn language_name(code: &str) -> &str {
    match code {
        "en" => "English",
        "fr" => "French",
        "es" => "Spanish",
        "ar" => "Arabic",
        "de" => "German",
        "it" => "Italian",
        "pt" => "Portuguese",
        "ru" => "Russian",
        "uk" => "Ukrainian",
        "tr" => "Turkish",
        "fa" => "Persian",
        other => other,
    }
}

pub async fn search(
    web: WebState,
    viewer: Viewer,
    Address(address): Address,
    QueryString(form): QueryString<SearchForm>,
) -> Result<Markup, WebError> {
    let who = viewer.who.clone();
    let request = SearchRequest {
        text: form.q.clone(),
        doc_type: Some(form.doc_type.clone()).filter(|s| !s.is_empty()),
        org: Some(form.org.clone()).filter(|s| !s.is_empty()),
        country: Some(form.country.clone()).filter(|s| !s.is_empty()),
        year: Some(form.year.clone()).filter(|s| !s.is_empty()),
        language: Some(form.language.clone()).filter(|s| !s.is_empty()),
        kind: None,
        sort: if form.sort == "newest" {
            SearchSort::Newest
        } else {
            SearchSort::Relevance
        },
        offset: form.page.saturating_mul(PAGE),
        limit: PAGE,
    };
    let permit = web.app.admit(&who, address, nansen_app::Work::Search)?;
    let results = admitted(&web.app, permit, move |app, _| app.search(&who, &request)).await?;
    let title = if form.q.trim().is_empty() {
        "Search".to_string()
    } else {
        format!("{} – search", form.q.trim())
    };
    Ok(layout::page(
        &viewer,
        &title,
        Section::Search,
        search_body(&viewer, &form, &results),
    ))
}

fn search_body(viewer: &Viewer, form: &SearchForm, r: &SearchResults) -> Markup {
    html! {
        h1 { "Search documents and datasets" }
        form.search role="search" method="get" action="/search" {
            label for="q" { "Words, \"a phrase\", or -a word to leave out" }
            div.row {
                input #q type="search" name="q" value=(form.q) autofocus;
                @for f in FACETS {
                    @if !form.get(f).is_empty() { input type="hidden" name=(f) value=(form.get(f)); }
                }
                label for="sort" { "Order" }
                select #sort name="sort" {
                    option value="relevance" selected[form.sort != "newest"] { "Most relevant" }
                    option value="newest" selected[form.sort == "newest"] { "Newest first" }
                }
                button type="submit" { "Search" }
            }
        }
        @if viewer.signed_in() { p { a href="/documents/new" { "Add a document" } } }
        div.results-layout {
            aside aria-label="Refine" {
                @for f in FACETS {
                    @let values = r.facets.get(f).cloned().unwrap_or_default();
                    @if !values.is_empty() || !form.get(f).is_empty() {
                        section.facet {
                            h2 { (facet_title(f)) }
                            ul {
                                @if !form.get(f).is_empty() { li { a href=(form.with(f, "")) { "Any " (facet_title(f).to_lowercase()) } } }
                                @for v in values.iter().take(12) {
                                    li {
                                        @if form.get(f) == v.value {
                                            strong aria-current="true" { (facet_value(f, &v.value)) } " (" (v.count) ")"
                                        } @else {
                                            a href=(form.with(f, &v.value)) { (facet_value(f, &v.value)) } " (" (v.count) ")"
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            section aria-labelledby="found" {
                h2 #found role="status" { (r.total) @if r.total == 1 { " result" } @else { " results" } }
                ol.hits start=(form.page * PAGE + 1) {
                    @for h in &r.hits {
                        li.hit {
                            @let href = match h.kind { HitKind::Dataset => format!("/datasets/{}", h.id), HitKind::Document => format!("/documents/{}", h.id) };
                            h3 { a href=(href) { (h.title) } }
                            p.meta {
                                span.badge { (if h.kind == HitKind::Dataset { "Dataset".to_string() } else { document_type_label(&h.doc_type).to_string() }) }
                                " " (h.org)
                                @if let Some(d) = &h.date { " · " (d) }
                                @if !h.countries.is_empty() { " · " (h.countries.iter().take(6).map(|c| place(c)).collect::<Vec<_>>().join(", ")) }
                                @if !h.language.is_empty() && h.kind == HitKind::Document { " · " (language_name(&h.language)) }
                            }
                            // Plain text from the search, escaped here, the words found marked.
                            p.snippet lang=[(!h.language.is_empty()).then_some(h.language.as_str())] {
                                @for (text, found) in h.snippet_parts() { @if found { mark { (text) } } @else { (text) } }
                            }
                        }
                    }
                }
                nav.pages aria-label="Result pages" {
                    @if form.page > 0 { a href=(format!("{}&page={}", form.with("", ""), form.page - 1)) { "Previous" } " " }
                    @if (form.page + 1) * PAGE < r.total.min(nansen_app::MAX_SEARCH_WINDOW) { a href=(format!("{}&page={}", form.with("", ""), form.page + 1)) { "Next" } }
                }
            }
        }
    }
}

struct DocumentPage {
    d: DocumentView,
    text: Option<DocumentText>,
    orgs: Vec<OrgRecord>,
    admin: bool,
    editor: bool,
}

/// How many pages of text the document page shows; the rest is a click away.
const PREVIEW_PAGES: usize = 10;

#[derive(Deserialize, Default)]
pub struct DocumentParams {
    version: Option<i64>,
    #[serde(default)]
    all: bool,
}

pub async fn page(
    web: WebState,
    viewer: Viewer,
    Path(id): Path<i64>,
    QueryString(p): QueryString<DocumentParams>,
) -> Result<Markup, WebError> {
    let who = viewer.who.clone();
    let version = p.version;
    let page = blocking(&web.app, move |app| {
        let d = app.document(&who, id)?;
        let text = if d.access != DocumentReach::Metadata {
            Some(app.document_text(&who, id, version)?)
        } else {
            None
        };
        let role = who.principal.role_in(&d.org);
        let admin = d.access == DocumentReach::Owner
            && (role == Some(Role::Admin) || app.is_operator(&who)?);
        let editor =
            d.access == DocumentReach::Owner && matches!(role, Some(Role::Editor | Role::Admin));
        let orgs = if admin {
            app.organisations(&who)?
        } else {
            Vec::new()
        };
        Ok(DocumentPage {
            d,
            text,
            orgs,
            admin,
            editor,
        })
    })
    .await?;
    let title = page.d.title.clone();
    Ok(layout::page(
        &viewer,
        &title,
        Section::Search,
        document_body(&viewer, &page, p.all),
    ))
}

fn document_body(viewer: &Viewer, p: &DocumentPage, all: bool) -> Markup {
    let d = &p.d;
    html! {
        p.crumbs { a href="/search" { "Search" } " › " (d.doc_type.label()) }
        h1 lang=[(!d.language.is_empty()).then_some(d.language.as_str())] { (d.title) }
        dl.facts {
            dt { "Type" } dd { (d.doc_type.label()) }
            dt { "Organisation" } dd { (d.org) }
            @if let Some(date) = &d.date { dt { "Date" } dd { (date) } }
            @if !d.countries.is_empty() { dt { "Countries" } dd { (d.countries.iter().map(|c| place(c)).collect::<Vec<_>>().join(", ")) } }
            @if !d.themes.is_empty() { dt { "Themes" } dd { (d.themes.join(", ")) } }
            @if !d.language.is_empty() { dt { "Language" } dd { (language_name(&d.language)) } }
            dt { "Sharing" } dd { (crate::pages::catalogue::sharing_label(&d.sharing)) }
        }
        @if !d.summary.is_empty() { p.summary { (d.summary) } }
        @if d.access == DocumentReach::Metadata { (access_request_form(viewer, "document", "text", &d.org, &format!("/documents/{}", d.id))) }
        section aria-labelledby="versions" {
            h2 #versions { "Versions" }
            table {
                thead { tr { th scope="col" { "Version" } th scope="col" { "File" } th scope="col" { "Pages" } th scope="col" { "Added" } th scope="col" { "Text" } } }
                tbody {
                    @for v in d.versions.iter().rev() {
                        tr {
                            td { (v.number) }
                            td {
                                @if d.access != DocumentReach::Metadata { a href=(format!("/documents/{}/file?version={}", d.id, v.number)) download { (v.file_name) } }
                                @else { (v.file_name) }
                                " (" (v.format.to_uppercase()) ", " (kilobytes(v.size)) ")"
                            }
                            td { (v.pages) }
                            td { (when(&v.created_at)) " by " (v.created_by) }
                            td { @match &v.no_text { Some(why) => { span.warning { "No text: " (why) } } None => { a href=(format!("/documents/{}?version={}#text", d.id, v.number)) { "Read" } } } }
                        }
                    }
                }
            }
        }
        @if let Some(text) = &p.text {
            section aria-labelledby="text" {
                h2 #text { "Text of version " (text.version) }
                @if let Some(why) = &text.no_text {
                    p.warning role="note" { "This file's text could not be read: " (why) ". It can still be downloaded." }
                } @else {
                    @let shown = if all { text.pages.len() } else { text.pages.len().min(PREVIEW_PAGES) };
                    div.document-text lang=[(!d.language.is_empty()).then_some(d.language.as_str())] dir=[(d.language == "ar").then_some("rtl")] {
                        @for (i, page) in text.pages.iter().take(shown).enumerate() {
                            @if text.pages.len() > 1 { h3.page-number { "Page " (i + 1) } }
                            @for para in page.split("\n\n") { p { (para) } }
                        }
                    }
                    @if shown < text.pages.len() {
                        p { a href=(format!("/documents/{}?version={}&all=true#text", d.id, text.version)) { "Show all " (text.pages.len()) " pages" } }
                    }
                }
            }
        }
        @if p.editor {
            section aria-labelledby="describe" {
                h2 #describe { "Describe" }
                form.stack method="post" action=(format!("/documents/{}/metadata", d.id)) {
                    (csrf(viewer))
                    label for="meta-title" { "Title" }
                    input #meta-title type="text" name="title" value=(d.title) required;
                    label for="meta-type" { "Type" }
                    select #meta-type name="type" { @for t in DocumentType::ALL { option value=(t.as_str()) selected[d.doc_type == *t] { (t.label()) } } }
                    label for="meta-countries" { "Countries " span.hint { "(ISO codes or names, comma-separated)" } }
                    input #meta-countries type="text" name="countries" value=(d.countries.join(", "));
                    label for="meta-themes" { "Themes " span.hint { "(comma-separated)" } }
                    input #meta-themes type="text" name="themes" value=(d.themes.join(", "));
                    label for="meta-date" { "Date " span.hint { "(YYYY, YYYY-MM or YYYY-MM-DD)" } }
                    input #meta-date type="text" name="date" value=(d.date.as_deref().unwrap_or(""));
                    label for="meta-language" { "Language " span.hint { "(ISO 639-1)" } }
                    input #meta-language type="text" name="language" size="3" value=(d.language);
                    label for="meta-summary" { "Summary" }
                    textarea #meta-summary name="summary" rows="3" { (d.summary) }
                    button type="submit" { "Save description" }
                }
            }
            section aria-labelledby="new-version" {
                h2 #new-version { "Add a version" }
                form.stack method="post" action=(format!("/documents/{}/versions", d.id)) enctype="multipart/form-data" {
                    (csrf(viewer))
                    label for="version-file" { "File" }
                    input #version-file type="file" name="file" required accept=".pdf,.docx,.odt,.html,.htm,.md,.txt";
                    button type="submit" { "Add version" }
                }
            }
        }
        @if p.admin {
            section aria-labelledby="sharing" {
                h2 #sharing { "Sharing" }
                form.stack method="post" action=(format!("/documents/{}/sharing", d.id)) {
                    (csrf(viewer))
                    (sharing_fields("document", &d.sharing, &d.org, &p.orgs))
                    button type="submit" { "Save sharing" }
                }
            }
        }
    }
}

fn kilobytes(size: i64) -> String {
    if size >= 1 << 20 {
        format!("{:.1} MB", size as f64 / (1 << 20) as f64)
    } else {
        format!("{} KB", (size + 1023) / 1024)
    }
}

pub async fn download(
    web: WebState,
    viewer: Viewer,
    Path(id): Path<i64>,
    QueryString(p): QueryString<DocumentParams>,
) -> Result<Response, WebError> {
    let who = viewer.who.clone();
    Ok(document_attachment(
        blocking(&web.app, move |app| app.document_file(&who, id, p.version)).await?,
    ))
}

pub async fn share(
    web: WebState,
    Path(id): Path<i64>,
    Posted {
        viewer,
        form: fields,
    }: Posted<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let sharing = chosen_sharing(&fields)?;
    let who = viewer.who.clone();
    blocking(&web.app, move |app| app.share_document(&who, id, sharing)).await?;
    Ok(see_other(&format!("/documents/{id}#sharing")))
}

#[derive(Deserialize)]
pub struct DescribeForm {
    #[serde(default)]
    title: String,
    #[serde(default, rename = "type")]
    doc_type: String,
    #[serde(default)]
    countries: String,
    #[serde(default)]
    themes: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    summary: String,
}

pub async fn describe(
    web: WebState,
    Path(id): Path<i64>,
    Posted { viewer, form: f }: Posted<DescribeForm>,
) -> Result<Response, WebError> {
    let given = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
    let m = nansen_app::DocumentMetadata {
        title: Some(f.title.clone()),
        doc_type: given(&f.doc_type),
        countries: Some(vec![f.countries.clone()]),
        themes: Some(vec![f.themes.clone()]),
        date: given(&f.date),
        language: given(&f.language),
        summary: Some(f.summary.clone()),
    };
    let who = viewer.who.clone();
    blocking(&web.app, move |app| app.describe_document(&who, id, &m)).await?;
    Ok(see_other(&format!("/documents/{id}")))
}

#[derive(Deserialize)]
pub struct AccessForm {
    reason: String,
}

pub async fn request_access(
    web: WebState,
    Path(id): Path<i64>,
    Posted { viewer, form: f }: Posted<AccessForm>,
) -> Result<Markup, WebError> {
    let who = viewer.who.clone();
    blocking(&web.app, move |app| {
        app.request_access(&who, &nansen_app::Subject::Document(id), &f.reason)
    })
    .await?;
    let body = html! {
        h1 { "Access requested" }
        p role="status" { "Your request was sent to the document's administrators." }
        p { a href=(format!("/documents/{id}")) { "Back to the document" } }
    };
    Ok(layout::page(
        &viewer,
        "Access requested",
        Section::Search,
        body,
    ))
}

/// What a document form's file is for: checked before a byte of the file is taken.
pub(crate) enum Sending {
    NewDocument,
    Version(i64),
    /// A document of a case, filed under the form's `section`.
    CaseDocument(String),
}

impl Sending {
    fn max_bytes(&self) -> usize {
        match self {
            Sending::CaseDocument(_) => nansen_app::MAX_CASE_DOCUMENT_BYTES,
            _ => nansen_app::MAX_DOCUMENT_BYTES,
        }
    }
}

/// The parts of a document form: its fields, and the file's name and bytes, with the place
/// the upload holds until it is read.
pub(crate) async fn read_form(
    web: &WebState,
    viewer: &Viewer,
    address: Option<std::net::IpAddr>,
    sending: Sending,
    mut parts: Multipart,
) -> Result<(Vec<(String, String)>, String, Vec<u8>, nansen_app::Permit), WebError> {
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut file: Option<(String, Vec<u8>, nansen_app::Permit)> = None;
    let bad = |e: String| WebError::Form(format!("the upload did not arrive whole: {e}"));
    while let Some(mut part) = parts.next_field().await.map_err(|e| bad(e.to_string()))? {
        let name = part.name().unwrap_or("").to_string();
        if name == "file" && file.is_none() {
            // The form token and what is said of the document come before the file.
            viewer.check(field(&fields, "csrf").unwrap_or(""))?;
            let who = viewer.who.clone();
            match sending {
                Sending::NewDocument => {
                    let new = new_document(&fields)?;
                    blocking(&web.app, move |app| {
                        app.may_add_document(&who, &new).map(|_| ())
                    })
                    .await?
                }
                Sending::Version(id) => {
                    blocking(&web.app, move |app| app.may_add_document_version(&who, id)).await?
                }
                Sending::CaseDocument(ref case) => {
                    let section: nansen_cases::Section = field(&fields, "section")
                        .unwrap_or("")
                        .parse()
                        .map_err(WebError::Form)?;
                    let case = case.clone();
                    blocking(&web.app, move |app| {
                        app.may_attach_case_document(&who, &case, section)
                    })
                    .await?
                }
            }
            let permit = web
                .app
                .admit(&viewer.who, address, nansen_app::Work::Upload)?;
            let file_name = part.file_name().unwrap_or("document").to_string();
            let mut bytes = Vec::new();
            while let Some(chunk) = part.chunk().await.map_err(|e| bad(e.to_string()))? {
                if bytes.len() + chunk.len() > sending.max_bytes() {
                    return Err(WebError::App(nansen_app::AppError::TooLarge(format!(
                        "documents may be up to {} MB",
                        sending.max_bytes() >> 20
                    ))));
                }
                bytes.extend_from_slice(&chunk);
            }
            file = Some((file_name, bytes, permit));
        } else {
            fields.push((name, super::text_field(part).await?));
        }
        if fields.len() > super::MAX_FIELDS {
            return Err(WebError::Form(
                "the form has more fields than this page sends".into(),
            ));
        }
    }
    viewer.check(field(&fields, "csrf").unwrap_or(""))?;
    match file {
        Some((file_name, bytes, permit)) if !file_name.is_empty() && !bytes.is_empty() => {
            Ok((fields, file_name, bytes, permit))
        }
        _ => Err(WebError::Form(
            "choose a file to upload; the one sent was empty".into(),
        )),
    }
}

/// What the form says of a new document.
fn new_document(fields: &[(String, String)]) -> Result<nansen_app::NewDocument, WebError> {
    let get = |k: &str| {
        field(fields, k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let share = if field(fields, "level").is_some() {
        Some(chosen_sharing(fields)?)
    } else {
        None
    };
    Ok(nansen_app::NewDocument {
        org: get("org").unwrap_or_default(),
        title: get("title"),
        doc_type: get("type"),
        countries: get("countries").into_iter().collect(),
        themes: get("themes").into_iter().collect(),
        date: get("date"),
        language: get("language"),
        summary: get("summary").unwrap_or_default(),
        // Private is what an editor's document is anyway; only a different choice needs an admin.
        share: share.filter(|s| *s != nansen_model::Sharing::Private),
    })
}

pub async fn add_version(
    web: WebState,
    viewer: Viewer,
    Address(address): Address,
    Path(id): Path<i64>,
    parts: Multipart,
) -> Result<Response, WebError> {
    viewer.require(&format!("/documents/{id}"))?;
    let (_, file_name, bytes, permit) =
        read_form(&web, &viewer, address, Sending::Version(id), parts).await?;
    let who = viewer.who.clone();
    blocking(&web.app, move |app| {
        let _permit = permit;
        app.add_document_version(&who, id, &file_name, &bytes)
    })
    .await?;
    Ok(see_other(&format!("/documents/{id}#versions")))
}

pub async fn new_form(web: WebState, viewer: Viewer) -> Result<Markup, WebError> {
    viewer.require("/documents/new")?;
    let who = viewer.who.clone();
    let orgs = blocking(&web.app, move |app| app.organisations(&who)).await?;
    let mine: Vec<(String, Role)> = orgs
        .iter()
        .filter_map(|o| {
            viewer
                .who
                .principal
                .role_in(&o.slug)
                .filter(|r| *r >= Role::Editor)
                .map(|r| (o.slug.clone(), r))
        })
        .collect();
    let admin = mine.iter().any(|(_, r)| *r == Role::Admin);
    let body = html! {
        h1 { "Add a document" }
        @if mine.is_empty() {
            p { "Only editors and admins of an organisation may add its documents." }
        } @else {
            p { "PDF, Word (DOCX), OpenDocument (ODT), HTML, Markdown or plain text, up to " (nansen_app::MAX_DOCUMENT_BYTES >> 20) " MB. Its text is read at once, so it can be searched; a file whose text cannot be read is kept and marked." }
            form.stack method="post" action="/documents/new" enctype="multipart/form-data" data-progress="upload-progress" {
                (csrf(&viewer))
                label for="org" { "Organisation" }
                select #org name="org" { @for (o, _) in &mine { option value=(o) { (o) } } }
                label for="title" { "Title " span.hint { "(without it, the file's own title)" } }
                input #title type="text" name="title";
                label for="type" { "Type" }
                select #type name="type" { @for t in DocumentType::ALL { option value=(t.as_str()) { (t.label()) } } }
                label for="countries" { "Countries " span.hint { "(ISO codes or names, comma-separated)" } }
                input #countries type="text" name="countries" placeholder="SYR, AFG";
                label for="themes" { "Themes " span.hint { "(comma-separated)" } }
                input #themes type="text" name="themes";
                label for="date" { "Date " span.hint { "(YYYY, YYYY-MM or YYYY-MM-DD; today without it)" } }
                input #date type="text" name="date" inputmode="numeric";
                label for="language" { "Language " span.hint { "(ISO 639-1, as en, fr, es, ar; read from the text without it)" } }
                input #language type="text" name="language" size="3";
                label for="summary" { "Summary" }
                textarea #summary name="summary" rows="3" {}
                @if admin { (sharing_fields("document", "private", "", &orgs)) }
                label for="file" { "File" }
                input #file type="file" name="file" required accept=".pdf,.docx,.odt,.html,.htm,.md,.txt";
                button type="submit" { "Add document" }
                progress #upload-progress max="100" value="0" hidden aria-label="Upload progress" {}
                p #upload-status role="status" {}
            }
        }
    };
    Ok(layout::page(
        &viewer,
        "Add a document",
        Section::Upload,
        body,
    ))
}

pub async fn add(
    web: WebState,
    viewer: Viewer,
    Address(address): Address,
    parts: Multipart,
) -> Result<Response, WebError> {
    viewer.require("/documents/new")?;
    let (fields, file_name, bytes, permit) =
        read_form(&web, &viewer, address, Sending::NewDocument, parts).await?;
    let new = new_document(&fields)?;
    let who = viewer.who.clone();
    let d = blocking(&web.app, move |app| {
        let _permit = permit;
        app.add_document(&who, &new, &file_name, &bytes)
    })
    .await?;
    Ok(see_other(&format!("/documents/{}", d.id)))
}

//! Operations: programmes, pledges, cases and referrals. Case and referral ids are opaque
//! strings; any id the caller may not see, whatever its shape, answers 404. Case bodies are
//! small JSON read in memory, never staged on disk: a name sent here reaches the store only
//! to be sealed.

use super::{blocking, AppState, SignedIn, Who};
use crate::error::ApiError;
use crate::openapi::{
    BadBody, BadRequest, Conflict, Forbidden, NotFound, NotJson, TooLarge, Unauthorized,
};
use crate::views::{self, Case, CaseList, Moved, Pledge, Programme, Referral, Registered};
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::Json;
use nansen_model::ProgrammeName;
use serde::Deserialize;
use utoipa::IntoParams;

/// A programme, `ORG/SLUG`, in a route's path.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ProgrammePath {
    #[param(example = "euaa")]
    pub org: String,
    #[param(example = "relocation-greece")]
    pub slug: String,
}

impl ProgrammePath {
    pub(super) fn name(self) -> ProgrammeName {
        ProgrammeName::new(self.org, self.slug)
    }
}

/// A case or referral, by its opaque id.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct RefPath {
    #[param(example = "7kq2m9x4a1b3c5d6")]
    pub id: String,
}

/// Create a programme (admins of its organisation), with its type's default stages.
#[utoipa::path(post, path = "/api/v1/programmes", tag = "operations", operation_id = "addProgramme",
    request_body = views::NewProgramme,
    responses((status = 201, description = "The new programme", body = Programme),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, NotJson, BadBody))]
pub async fn add_programme(
    state: AppState,
    SignedIn(who): SignedIn,
    Json(b): Json<views::NewProgramme>,
) -> Result<(StatusCode, Json<Programme>), ApiError> {
    let app = state.0.clone();
    let new = b.into_app().map_err(ApiError)?;
    let p = blocking(move || app.add_programme(&who, new)).await?;
    Ok((StatusCode::CREATED, Json(p.into())))
}

/// The programmes the caller's organisations work in.
#[utoipa::path(get, path = "/api/v1/programmes", tag = "operations", operation_id = "listProgrammes",
    responses((status = 200, description = "Programmes", body = Vec<Programme>), Unauthorized))]
pub async fn programmes(
    state: AppState,
    SignedIn(who): SignedIn,
) -> Result<Json<Vec<Programme>>, ApiError> {
    let app = state.0.clone();
    Ok(Json(views::all(
        blocking(move || app.programmes(&who)).await?,
    )))
}

/// A programme, to members of its organisations.
#[utoipa::path(get, path = "/api/v1/programmes/{org}/{slug}", tag = "operations", operation_id = "getProgramme",
    params(ProgrammePath),
    responses((status = 200, description = "The programme", body = Programme), Unauthorized, NotFound))]
pub async fn programme(
    state: AppState,
    Who(who): Who,
    Path(p): Path<ProgrammePath>,
) -> Result<Json<Programme>, ApiError> {
    let app = state.0.clone();
    let name = p.name();
    Ok(Json(
        blocking(move || app.programme(&who, &name)).await?.into(),
    ))
}

/// Replace a programme's stages (its admins); a stage where cases are must stay.
#[utoipa::path(put, path = "/api/v1/programmes/{org}/{slug}/stages", tag = "operations", operation_id = "setStages",
    params(ProgrammePath), request_body = Vec<views::Stage>,
    responses((status = 200, description = "The programme with its new stages", body = Programme),
        BadRequest, Unauthorized, Forbidden, NotFound, NotJson, BadBody))]
pub async fn set_stages(
    state: AppState,
    Who(who): Who,
    Path(p): Path<ProgrammePath>,
    Json(stages): Json<Vec<views::Stage>>,
) -> Result<Json<Programme>, ApiError> {
    let app = state.0.clone();
    let name = p.name();
    let workflow = nansen_cases::Workflow {
        stages: views::all(stages),
    };
    Ok(Json(
        blocking(move || app.set_stages(&who, &name, workflow))
            .await?
            .into(),
    ))
}

/// The pledges of a programme, each with its history.
#[utoipa::path(get, path = "/api/v1/programmes/{org}/{slug}/pledges", tag = "operations", operation_id = "listPledges",
    params(ProgrammePath),
    responses((status = 200, description = "Pledges by state", body = Vec<Pledge>), Unauthorized, NotFound))]
pub async fn pledges(
    state: AppState,
    Who(who): Who,
    Path(p): Path<ProgrammePath>,
) -> Result<Json<Vec<Pledge>>, ApiError> {
    let app = state.0.clone();
    let name = p.name();
    Ok(Json(views::all(
        blocking(move || app.pledges(&who, &name)).await?,
    )))
}

/// Record a state's pledge, or change it (the programme's admins, a receiving partner's).
#[utoipa::path(post, path = "/api/v1/programmes/{org}/{slug}/pledges", tag = "operations", operation_id = "setPledge",
    params(ProgrammePath), request_body = views::NewPledge,
    responses((status = 201, description = "The pledge as it now stands", body = Pledge),
        BadRequest, Unauthorized, Forbidden, NotFound, NotJson, BadBody))]
pub async fn set_pledge(
    state: AppState,
    Who(who): Who,
    Path(p): Path<ProgrammePath>,
    Json(b): Json<views::NewPledge>,
) -> Result<(StatusCode, Json<Pledge>), ApiError> {
    let app = state.0.clone();
    let name = p.name();
    let pledge = blocking(move || app.set_pledge(&who, &name, b.into())).await?;
    Ok((StatusCode::CREATED, Json(pledge.into())))
}

/// Register a household (caseworkers and admins of the programme's organisation or its
/// implementing partners). Refused whole, naming each field and reason.
#[utoipa::path(post, path = "/api/v1/programmes/{org}/{slug}/cases", tag = "operations", operation_id = "addCase",
    params(ProgrammePath), request_body = views::NewCase,
    responses((status = 201, description = "The case's id, and the visible cases that may hold the same people", body = Registered),
        BadRequest, Unauthorized, Forbidden, NotFound, NotJson, BadBody))]
pub async fn add_case(
    state: AppState,
    Who(who): Who,
    Path(p): Path<ProgrammePath>,
    Json(b): Json<views::NewCase>,
) -> Result<(StatusCode, Json<Registered>), ApiError> {
    let app = state.0.clone();
    let name = p.name();
    let registered = blocking(move || app.add_case(&who, &name, b.into())).await?;
    Ok((StatusCode::CREATED, Json(registered.into())))
}

#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseParams {
    #[param(example = "ready-for-matching")]
    stage: Option<String>,
    /// An e-mail address.
    assignee: Option<String>,
    /// A category of specific needs; only for those who may see needs.
    #[param(example = "Serious medical condition")]
    needs_category: Option<String>,
    /// A name, found across its spellings.
    name: Option<String>,
    /// A date of birth, `YYYY-MM-DD`.
    born: Option<String>,
    /// The receiving state the cases are matched to.
    #[param(example = "DEU")]
    state: Option<String>,
    /// `waiting`: the cases waiting longest in their stage first, withdrawn and closed ones
    /// left out; `changed` (the default): the last changed first.
    #[param(example = "waiting")]
    order: Option<String>,
    offset: Option<i64>,
    #[param(maximum = 500)]
    limit: Option<i64>,
}

/// The cases of a programme the caller works on, most recently changed first.
#[utoipa::path(get, path = "/api/v1/programmes/{org}/{slug}/cases", tag = "operations", operation_id = "listCases",
    params(ProgrammePath, CaseParams),
    responses((status = 200, description = "A page of cases", body = CaseList),
        BadRequest, Unauthorized, Forbidden, NotFound))]
pub async fn cases(
    state: AppState,
    Who(who): Who,
    Path(p): Path<ProgrammePath>,
    Query(q): Query<CaseParams>,
) -> Result<Json<CaseList>, ApiError> {
    let app = state.0.clone();
    let name = p.name();
    let longest_waiting = match q.order.as_deref() {
        None | Some("changed") => false,
        Some("waiting") => true,
        Some(o) => {
            return Err(crate::error::bad_request(format!(
                "order: {o:?} is neither \"changed\" nor \"waiting\""
            )))
        }
    };
    let query = nansen_app::CaseQuery {
        stage: q.stage,
        assignee: q.assignee,
        needs_category: q.needs_category,
        name: q.name,
        born: q.born,
        state: q.state,
        longest_waiting,
        limit: q.limit,
        offset: q.offset,
    };
    Ok(Json(
        blocking(move || app.cases(&who, &name, &query))
            .await?
            .into(),
    ))
}

/// A case, with the sections the caller may see and a list naming them. The read is audited.
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "operations", operation_id = "getCase",
    params(RefPath),
    responses((status = 200, description = "The case", body = Case), Unauthorized, NotFound))]
pub async fn case(
    state: AppState,
    Who(who): Who,
    Path(RefPath { id }): Path<RefPath>,
) -> Result<Json<Case>, ApiError> {
    let app = state.0.clone();
    Ok(Json(blocking(move || app.case(&who, &id)).await?.into()))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    #[schema(example = "assessed")]
    to: String,
    /// Needed for a move back, out of the workflow or from withdrawn.
    #[serde(default)]
    note: Option<String>,
    /// The case's revision as the caller last read it: refused (409) if it changed since.
    #[serde(default)]
    revision: Option<i64>,
}

/// Move a case to a stage, as its workflow allows; a stage needing approval waits for a supervisor.
#[utoipa::path(post, path = "/api/v1/cases/{id}/transitions", tag = "operations", operation_id = "moveCase",
    params(RefPath), request_body = Transition,
    responses((status = 200, description = "Where the case now stands", body = Moved),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, NotJson, BadBody))]
pub async fn transition(
    state: AppState,
    SignedIn(who): SignedIn,
    Path(RefPath { id }): Path<RefPath>,
    Json(t): Json<Transition>,
) -> Result<Json<Moved>, ApiError> {
    let app = state.0.clone();
    Ok(Json(
        blocking(move || app.move_case(&who, &id, &t.to, t.note.as_deref(), t.revision))
            .await?
            .into(),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Matching {
    /// A receiving state with a pledge in the programme; null to unmatch.
    #[schema(example = "DEU")]
    state: Option<String>,
    /// The case's revision as the caller last read it: refused (409) if it changed since.
    #[serde(default)]
    revision: Option<i64>,
}

/// Match a case to a receiving state by hand; its people count under that state from then on.
#[utoipa::path(post, path = "/api/v1/cases/{id}/match", tag = "operations", operation_id = "matchCase",
    params(RefPath), request_body = Matching,
    responses((status = 200, description = "Where the case now stands", body = Moved),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, NotJson, BadBody))]
pub async fn match_case(
    state: AppState,
    SignedIn(who): SignedIn,
    Path(RefPath { id }): Path<RefPath>,
    Json(m): Json<Matching>,
) -> Result<Json<Moved>, ApiError> {
    let app = state.0.clone();
    Ok(Json(
        blocking(move || app.match_case(&who, &id, m.state.as_deref(), m.revision))
            .await?
            .into(),
    ))
}

/// A programme's pipeline, with exact figures: for its owner's members and the partners who
/// run its cases (receiving partners read the pipeline dataset, disclosure-controlled).
#[utoipa::path(get, path = "/api/v1/programmes/{org}/{slug}/pipeline", tag = "operations", operation_id = "getPipeline",
    params(ProgrammePath),
    responses((status = 200, description = "The pipeline", body = views::Pipeline),
        Unauthorized, Forbidden, NotFound))]
pub async fn pipeline(
    state: AppState,
    Who(who): Who,
    Path(p): Path<ProgrammePath>,
) -> Result<Json<views::Pipeline>, ApiError> {
    let app = state.0.clone();
    let name = p.name();
    Ok(Json(
        blocking(move || app.dashboard(&who, &name)).await?.into(),
    ))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    /// Turn the move down instead.
    #[serde(default)]
    refuse: bool,
    #[serde(default)]
    note: Option<String>,
}

/// A supervisor approves, or turns down, the move a case waits for.
#[utoipa::path(post, path = "/api/v1/cases/{id}/approval", tag = "operations", operation_id = "approveMove",
    params(RefPath), request_body = Approval,
    responses((status = 200, description = "Where the case now stands", body = Moved),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, NotJson, BadBody))]
pub async fn approve(
    state: AppState,
    SignedIn(who): SignedIn,
    Path(RefPath { id }): Path<RefPath>,
    Json(a): Json<Approval>,
) -> Result<Json<Moved>, ApiError> {
    let app = state.0.clone();
    Ok(Json(
        blocking(move || app.approve_move(&who, &id, a.refuse, a.note.as_deref()))
            .await?
            .into(),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    /// A caseworker's or admin's e-mail address; null to unassign.
    #[schema(example = "caseworker@euaa.europa.eu")]
    assignee: Option<String>,
}

/// Assign a case (admins and supervisors; a caseworker may take an unassigned case).
#[utoipa::path(post, path = "/api/v1/cases/{id}/assignee", tag = "operations", operation_id = "assignCase",
    params(RefPath), request_body = Assignment,
    responses((status = 200, description = "Where the case now stands", body = Moved),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, NotJson, BadBody))]
pub async fn assign(
    state: AppState,
    SignedIn(who): SignedIn,
    Path(RefPath { id }): Path<RefPath>,
    Json(a): Json<Assignment>,
) -> Result<Json<Moved>, ApiError> {
    let app = state.0.clone();
    Ok(Json(
        blocking(move || app.assign_case(&who, &id, a.assignee.as_deref()))
            .await?
            .into(),
    ))
}

/// Record a consent the household gave.
#[utoipa::path(post, path = "/api/v1/cases/{id}/consents", tag = "operations", operation_id = "addConsent",
    params(RefPath), request_body = views::Consent,
    responses((status = 200, description = "The case's consents", body = Vec<views::Consent>),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, NotJson, BadBody))]
pub async fn consent(
    state: AppState,
    SignedIn(who): SignedIn,
    Path(RefPath { id }): Path<RefPath>,
    Json(c): Json<views::Consent>,
) -> Result<Json<Vec<views::Consent>>, ApiError> {
    let app = state.0.clone();
    Ok(Json(views::all(
        blocking(move || app.add_consent(&who, &id, c.into())).await?,
    )))
}

/// Record a reintegration follow-up survey of a case in a return programme.
#[utoipa::path(post, path = "/api/v1/cases/{id}/follow-ups", tag = "operations", operation_id = "addFollowUp",
    params(RefPath), request_body = views::FollowUp,
    responses((status = 200, description = "The case's follow-up surveys", body = Vec<views::FollowUp>),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, NotJson, BadBody))]
pub async fn follow_up(
    state: AppState,
    SignedIn(who): SignedIn,
    Path(RefPath { id }): Path<RefPath>,
    Json(f): Json<views::FollowUp>,
) -> Result<Json<Vec<views::FollowUp>>, ApiError> {
    let app = state.0.clone();
    Ok(Json(views::all(
        blocking(move || app.add_follow_up(&who, &id, f.into())).await?,
    )))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AttachParams {
    /// The section whose readers may read it (one the sender reads).
    #[param(example = "medical")]
    section: String,
    #[param(example = "medical-report.pdf")]
    file_name: String,
}

/// Attach a document to a case: the file is the body (PDF, JPEG, PNG, DOCX or ODT, up to
/// 20 MB), sealed with the case's key and read only by the readers of its section.
#[utoipa::path(post, path = "/api/v1/cases/{id}/documents", tag = "operations", operation_id = "attachCaseDocument",
    params(RefPath, AttachParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, description = "The document", body = views::CaseDocument),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, TooLarge))]
pub async fn attach(
    state: AppState,
    SignedIn(who): SignedIn,
    Path(RefPath { id }): Path<RefPath>,
    Query(p): Query<AttachParams>,
    body: axum::body::Body,
) -> Result<(StatusCode, Json<views::CaseDocument>), ApiError> {
    let section: nansen_cases::Section = p.section.parse().map_err(crate::error::bad_request)?;
    let app = state.0.clone();
    let (w, i) = (who.clone(), id.clone());
    blocking(move || app.may_attach_case_document(&w, &i, section)).await?;
    // Held in memory, never staged on disk: a case's documents exist only sealed.
    let max = nansen_app::MAX_CASE_DOCUMENT_BYTES;
    let content = axum::body::to_bytes(body, max + 1).await.map_err(|_| {
        ApiError::from(nansen_app::AppError::TooLarge(format!(
            "a case's document may be up to {} MB",
            max >> 20
        )))
    })?;
    let app = state.0.clone();
    let doc =
        blocking(move || app.attach_case_document(&who, &id, section, &p.file_name, &content))
            .await?;
    Ok((StatusCode::CREATED, Json(doc.into())))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CaseDocumentPath {
    /// The case's id.
    pub id: String,
    /// The document's id.
    pub document: String,
}

/// A document of a case, for the readers of its section; the read is audited.
#[utoipa::path(get, path = "/api/v1/cases/{id}/documents/{document}", tag = "operations", operation_id = "getCaseDocument",
    params(CaseDocumentPath),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"),
        Unauthorized, NotFound))]
pub async fn case_document(
    state: AppState,
    Who(who): Who,
    Path(CaseDocumentPath { id, document }): Path<CaseDocumentPath>,
) -> Result<axum::response::Response, ApiError> {
    let app = state.0.clone();
    let (_, file) = blocking(move || app.case_document(&who, &id, &document)).await?;
    Ok(nansen_web::document_attachment(file))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReferral {
    /// The receiving organisation.
    #[schema(example = "iom")]
    to: String,
    #[schema(schema_with = crate::openapi::section_list)]
    sections: Vec<nansen_cases::Section>,
    #[schema(example = "medical escort for departure")]
    reason: String,
    /// Send without the household's consent: supervisors only, audited and shown on the case.
    #[serde(default)]
    override_consent: bool,
}

/// Refer a case to another organisation with the sections named; it needs the household's
/// consent to referral there, or a supervisor's override.
#[utoipa::path(post, path = "/api/v1/cases/{id}/referrals", tag = "operations", operation_id = "referCase",
    params(RefPath), request_body = NewReferral,
    responses((status = 201, description = "The referral, pending", body = views::ReferralCreated),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, NotJson, BadBody))]
pub async fn refer(
    state: AppState,
    SignedIn(who): SignedIn,
    Path(RefPath { id }): Path<RefPath>,
    Json(r): Json<NewReferral>,
) -> Result<(StatusCode, Json<views::ReferralCreated>), ApiError> {
    let app = state.0.clone();
    let request = nansen_app::ReferralRequest {
        to: r.to,
        sections: r.sections,
        reason: r.reason,
        override_consent: r.override_consent,
    };
    let created = blocking(move || app.refer_case(&who, &id, request)).await?;
    Ok((
        StatusCode::CREATED,
        Json(views::ReferralCreated {
            id: created.id,
            status: created.status,
        }),
    ))
}

/// Referrals sent to or by the caller's organisations, newest first.
#[utoipa::path(get, path = "/api/v1/referrals", tag = "operations", operation_id = "listReferrals",
    responses((status = 200, description = "Referrals", body = Vec<Referral>), Unauthorized))]
pub async fn referrals(
    state: AppState,
    SignedIn(who): SignedIn,
) -> Result<Json<Vec<Referral>>, ApiError> {
    let app = state.0.clone();
    Ok(Json(views::all(
        blocking(move || app.referrals(&who)).await?,
    )))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralDecision {
    #[serde(default)]
    note: Option<String>,
}

/// Accept a referral (caseworkers and admins of the receiving organisation).
#[utoipa::path(post, path = "/api/v1/referrals/{id}/accept", tag = "operations", operation_id = "acceptReferral",
    params(RefPath), request_body = ReferralDecision,
    responses((status = 200, description = "The referral, accepted", body = Referral),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, NotJson, BadBody))]
pub async fn accept(
    state: AppState,
    SignedIn(who): SignedIn,
    Path(RefPath { id }): Path<RefPath>,
    Json(d): Json<ReferralDecision>,
) -> Result<Json<Referral>, ApiError> {
    let app = state.0.clone();
    Ok(Json(
        blocking(move || app.decide_referral(&who, &id, true, d.note.as_deref()))
            .await?
            .into(),
    ))
}

/// Decline a referral (caseworkers and admins of the receiving organisation).
#[utoipa::path(post, path = "/api/v1/referrals/{id}/decline", tag = "operations", operation_id = "declineReferral",
    params(RefPath), request_body = ReferralDecision,
    responses((status = 200, description = "The referral, declined", body = Referral),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, NotJson, BadBody))]
pub async fn decline(
    state: AppState,
    SignedIn(who): SignedIn,
    Path(RefPath { id }): Path<RefPath>,
    Json(d): Json<ReferralDecision>,
) -> Result<Json<Referral>, ApiError> {
    let app = state.0.clone();
    Ok(Json(
        blocking(move || app.decide_referral(&who, &id, false, d.note.as_deref()))
            .await?
            .into(),
    ))
}

/// UNHCR's specific-needs vocabulary, with its categories.
#[utoipa::path(get, path = "/api/v1/vocabularies/specific-needs", tag = "operations", operation_id = "specificNeeds",
    responses((status = 200, description = "Every code, in the vocabulary's order", body = Vec<views::SpecificNeed>)))]
pub async fn specific_needs() -> Json<Vec<views::SpecificNeed>> {
    Json(views::all(nansen_cases::NEEDS.all().to_vec()))
}

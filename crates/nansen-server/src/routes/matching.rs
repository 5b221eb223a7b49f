//! Matching: proposals of cases to pledged places, explained, and decided by a programme's
//! admins. Proposal ids are opaque; a proposal outside the caller's programmes answers 404.

use super::cases::ProgrammePath;
use super::{admitted, blocking, Address, AppState, Who};
use crate::error::ApiError;
use crate::openapi::{
    BadBody, BadRequest, Conflict, Forbidden, Limited, NotFound, NotJson, Unauthorized,
};
use crate::views::{self, Acceptance, MatchSettings, Proposal, ProposalItem, ProposedCase};
use axum::extract::Path;
use axum::http::StatusCode;
use axum::Json;
use nansen_app::{ProposalRequest, Work};
use serde::Deserialize;
use utoipa::IntoParams;

/// A proposal, by its opaque id.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ProposalPath {
    #[param(example = "4r1p6mfczyqkpt2f")]
    pub id: String,
}

/// A case of a proposal.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ProposedCasePath {
    #[param(example = "4r1p6mfczyqkpt2f")]
    pub id: String,
    #[param(example = "7kq2m9x4a1b3c5d6")]
    pub case: String,
}

/// Propose an assignment of the programme's cases at ready-for-matching to the places its
/// pledges have left (its admins): the objective, a proven bound, every case and state
/// explained. Changes no case; a dry run keeps nothing.
#[utoipa::path(post, path = "/api/v1/programmes/{org}/{slug}/proposals", tag = "matching", operation_id = "propose",
    params(ProgrammePath), request_body = views::NewProposal,
    responses((status = 201, description = "The proposal, kept", body = Proposal),
        (status = 200, description = "A dry run's proposal, not kept", body = Proposal),
        BadRequest, Unauthorized, Forbidden, NotFound, Limited, NotJson, BadBody))]
pub async fn propose(
    state: AppState,
    Who(who): Who,
    Address(address): Address,
    Path(p): Path<ProgrammePath>,
    Json(b): Json<views::NewProposal>,
) -> Result<(StatusCode, Json<Proposal>), ApiError> {
    let name = p.name();
    // Whether the caller may propose here at all, before a permit is taken.
    let (app, asker, asked) = (state.0.clone(), who.clone(), name.clone());
    blocking(move || app.match_settings(&asker, &asked)).await?;
    let permit = state.0.admit(&who, address, Work::Matching)?;
    let request = ProposalRequest {
        pins: b.pins,
        forbids: b.forbids,
        time_limit: b.time_limit,
        dry_run: b.dry_run,
        from: b.from,
    };
    let dry = request.dry_run;
    let p = admitted(&state.0, permit, move |app, _| {
        app.propose(&who, &name, request)
    })
    .await?;
    let status = if dry {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(p.into())))
}

/// A programme's proposals, newest first (its admins).
#[utoipa::path(get, path = "/api/v1/programmes/{org}/{slug}/proposals", tag = "matching", operation_id = "listProposals",
    params(ProgrammePath),
    responses((status = 200, description = "The last 100 proposals", body = Vec<ProposalItem>),
        Unauthorized, Forbidden, NotFound))]
pub async fn proposals(
    state: AppState,
    Who(who): Who,
    Path(p): Path<ProgrammePath>,
) -> Result<Json<Vec<ProposalItem>>, ApiError> {
    let app = state.0.clone();
    let name = p.name();
    let list = blocking(move || app.proposals(&who, &name)).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// A proposal with every case's explanation and decision (the programme's admins).
#[utoipa::path(get, path = "/api/v1/proposals/{id}", tag = "matching", operation_id = "getProposal",
    params(ProposalPath),
    responses((status = 200, description = "The proposal", body = Proposal),
        Unauthorized, Forbidden, NotFound))]
pub async fn proposal(
    state: AppState,
    Who(who): Who,
    Path(ProposalPath { id }): Path<ProposalPath>,
) -> Result<Json<Proposal>, ApiError> {
    let app = state.0.clone();
    Ok(Json(
        blocking(move || app.proposal(&who, &id)).await?.into(),
    ))
}

/// Why a case of a proposal goes where it goes.
#[utoipa::path(get, path = "/api/v1/proposals/{id}/cases/{case}", tag = "matching", operation_id = "explainProposedCase",
    params(ProposedCasePath),
    responses((status = 200, description = "The case, explained", body = ProposedCase),
        Unauthorized, Forbidden, NotFound))]
pub async fn proposed_case(
    state: AppState,
    Who(who): Who,
    Path(ProposedCasePath { id, case }): Path<ProposedCasePath>,
) -> Result<Json<ProposedCase>, ApiError> {
    let app = state.0.clone();
    Ok(Json(
        blocking(move || app.explain_proposed_case(&who, &id, &case))
            .await?
            .into(),
    ))
}

/// Accept a proposal, wholly or the cases named with those they travel with: each moves on
/// matched to its state and is referred to the state's receiving partner; a case that
/// changed, no longer fits or lacks consent is skipped with the reason.
#[utoipa::path(post, path = "/api/v1/proposals/{id}/accept", tag = "matching", operation_id = "acceptProposal",
    params(ProposalPath), request_body = views::AcceptProposal,
    responses((status = 200, description = "What was accepted and what skipped", body = Acceptance),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, NotJson, BadBody))]
pub async fn accept(
    state: AppState,
    Who(who): Who,
    Path(ProposalPath { id }): Path<ProposalPath>,
    Json(b): Json<views::AcceptProposal>,
) -> Result<Json<Acceptance>, ApiError> {
    let app = state.0.clone();
    Ok(Json(
        blocking(move || app.accept_proposal(&who, &id, &b.cases))
            .await?
            .into(),
    ))
}

/// A programme's matching settings (its admins).
#[utoipa::path(get, path = "/api/v1/programmes/{org}/{slug}/matching", tag = "matching", operation_id = "getMatchSettings",
    params(ProgrammePath),
    responses((status = 200, description = "The settings", body = MatchSettings),
        Unauthorized, Forbidden, NotFound))]
pub async fn settings(
    state: AppState,
    Who(who): Who,
    Path(p): Path<ProgrammePath>,
) -> Result<Json<MatchSettings>, ApiError> {
    let app = state.0.clone();
    let name = p.name();
    Ok(Json(
        blocking(move || app.match_settings(&who, &name))
            .await?
            .into(),
    ))
}

/// Change a programme's score weights or the sections its matches refer.
#[utoipa::path(put, path = "/api/v1/programmes/{org}/{slug}/matching", tag = "matching", operation_id = "setMatchSettings",
    params(ProgrammePath), request_body = views::MatchSettingsChange,
    responses((status = 200, description = "The settings", body = MatchSettings),
        BadRequest, Unauthorized, Forbidden, NotFound, NotJson, BadBody))]
pub async fn set_settings(
    state: AppState,
    Who(who): Who,
    Path(p): Path<ProgrammePath>,
    Json(b): Json<views::MatchSettingsChange>,
) -> Result<Json<MatchSettings>, ApiError> {
    let app = state.0.clone();
    let name = p.name();
    let change = nansen_app::MatchSettingsChange {
        weights: b.weights.map(Into::into),
        referral_sections: b.referral_sections,
    };
    Ok(Json(
        blocking(move || app.set_match_settings(&who, &name, change))
            .await?
            .into(),
    ))
}

/// Use a score matrix instead of the default score: CSV, `case` then one column per state,
/// each score from 0 to 1. Refused whole, naming the row and column, when anything is wrong.
#[utoipa::path(put, path = "/api/v1/programmes/{org}/{slug}/matching/scores", tag = "matching", operation_id = "setMatchScores",
    params(ProgrammePath), request_body(content = String, content_type = "text/csv"),
    responses((status = 200, description = "The settings", body = MatchSettings),
        BadRequest, Unauthorized, Forbidden, NotFound))]
pub async fn set_scores(
    state: AppState,
    Who(who): Who,
    Path(p): Path<ProgrammePath>,
    csv: String,
) -> Result<Json<MatchSettings>, ApiError> {
    let app = state.0.clone();
    let name = p.name();
    Ok(Json(
        blocking(move || app.set_match_scores(&who, &name, Some(&csv)))
            .await?
            .into(),
    ))
}

/// Go back to the default score.
#[utoipa::path(delete, path = "/api/v1/programmes/{org}/{slug}/matching/scores", tag = "matching", operation_id = "clearMatchScores",
    params(ProgrammePath),
    responses((status = 200, description = "The settings", body = MatchSettings),
        Unauthorized, Forbidden, NotFound))]
pub async fn clear_scores(
    state: AppState,
    Who(who): Who,
    Path(p): Path<ProgrammePath>,
) -> Result<Json<MatchSettings>, ApiError> {
    let app = state.0.clone();
    let name = p.name();
    Ok(Json(
        blocking(move || app.set_match_scores(&who, &name, None))
            .await?
            .into(),
    ))
}

//! Every failure answers JSON: `{"error": {"code", "message", "details"?}}`.

use crate::views::{ErrorBody, ErrorDetail, RemedyView};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use nansen_app::{AppError, Remedy};

/// What to do about a refusal, in the API's parameters.
pub fn remedy(r: Remedy) -> &'static str {
    match r {
        Remedy::NameIndicator => {
            "name what the file counts with the indicator parameter, or in a mapping"
        }
        Remedy::DescribeColumns => {
            "send a mapping saying what each column is (the mapping parameter; docs/mapping.md)"
        }
        Remedy::MapOrAcceptCode => {
            "correct the code, or name its column's meaning in a mapping; a data manager can map or accept a code for one import"
        }
        Remedy::GroupByPeriod => "add period to group_by",
        Remedy::NamePopulation => "name the population dataset with per_capita=ORG/SLUG",
        Remedy::ChooseFrequency => "choose one with frequency=month, quarter or year",
        Remedy::ActAsPerson => "use a person's token",
        Remedy::ReplaceContent => "send it with append=false to replace the content",
    }
}

pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> ApiError {
        ApiError(e)
    }
}

pub fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError(AppError::BadRequest(message.into()))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        if let Some(seconds) = e.retry_after() {
            let body = ErrorBody::new("limit", format!("{e}; try again in {seconds} s"));
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [(axum::http::header::RETRY_AFTER, seconds.to_string())],
                Json(body),
            )
                .into_response();
        }
        let status = match &e {
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::BadRequest(_) | AppError::Query(_) | AppError::Forecast(_) => {
                StatusCode::BAD_REQUEST
            }
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Import(nansen_formats::ImportError::Io(_)) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            AppError::Import(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Store(_) | AppError::Search(_) => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::Limit { .. } => StatusCode::TOO_MANY_REQUESTS,
            // Which remedies forbid is decided once, in `AppError::code`.
            AppError::Needs { .. } if e.code() == "forbidden" => StatusCode::FORBIDDEN,
            AppError::Needs { .. } => StatusCode::BAD_REQUEST,
        };
        let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %e, "internal error");
            "something went wrong on the server; it has been logged".to_string()
        } else {
            e.to_string()
        };
        let details = match &e {
            AppError::Import(ie) => Some(ie.problems().iter().cloned().map(Into::into).collect()),
            _ => None,
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: e.code().to_string(),
                message,
                remedy: e.remedy().map(|r| RemedyView {
                    code: r.code().to_string(),
                    message: remedy(r).to_string(),
                }),
                details,
            },
        };
        (status, Json(body)).into_response()
    }
}

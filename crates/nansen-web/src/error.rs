//! What a page says when something is wrong: the same words the API uses, as a page.

use crate::layout::{self, Section};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::html;
use nansen_app::{AppError, Remedy};

/// What to do about a refusal, in the words of the web's forms.
pub fn remedy(r: Remedy) -> &'static str {
    match r {
        Remedy::NameIndicator => {
            "add an indicator column to the file, or ask a data manager to import it with a mapping"
        }
        Remedy::DescribeColumns => {
            "a data manager can import it with a mapping file that says what each column is"
        }
        Remedy::MapOrAcceptCode => {
            "correct the code in the file; a data manager can map or accept it for one import"
        }
        Remedy::GroupByPeriod => "put the period in the rows or the columns",
        Remedy::NamePopulation => "choose the population dataset",
        Remedy::ChooseFrequency => "choose one under “By”",
        Remedy::ActAsPerson => "sign in as a person",
        Remedy::ReplaceContent => {
            "untick “Add to the current observations instead of replacing them”"
        }
    }
}

#[derive(Debug)]
pub enum WebError {
    App(AppError),
    /// Not signed in: go to the sign-in page, then back to this address.
    SignIn(String),
    /// A form that cannot be taken (bad or missing fields, an expired form token).
    Form(String),
    /// Too many failed sign-ins; minutes to wait.
    TooMany(u64),
}

impl From<AppError> for WebError {
    fn from(e: AppError) -> WebError {
        WebError::App(e)
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, title, message) = match self {
            WebError::SignIn(back) => {
                let to = format!(
                    "/sign-in?{}",
                    serde_urlencoded::to_string([("next", back.as_str())]).unwrap_or_default()
                );
                return (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response();
            }
            WebError::Form(m) => (StatusCode::BAD_REQUEST, "This form cannot be taken", m),
            WebError::TooMany(min) => (
                StatusCode::TOO_MANY_REQUESTS,
                "Too many attempts",
                format!(
                    "Too many failed sign-ins. Try again in {min} minute{}.",
                    if min == 1 { "" } else { "s" }
                ),
            ),
            WebError::App(e) if e.retry_after().is_some() => {
                let seconds = e.retry_after().unwrap_or(5);
                let body = html! {
                    h1 { "Busy" }
                    p.error role="alert" { (e.to_string()) ". Try again in " (seconds) " seconds." }
                    p { a href="/" { "Back to the catalogue" } }
                };
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(header::RETRY_AFTER, seconds.to_string())],
                    layout::frame(None, "Busy", Section::None, body),
                )
                    .into_response();
            }
            WebError::App(e) => {
                let status = match &e {
                    AppError::NotFound(_) => StatusCode::NOT_FOUND,
                    AppError::Forbidden(_) => StatusCode::FORBIDDEN,
                    AppError::Unauthorized => StatusCode::UNAUTHORIZED,
                    AppError::Conflict(_) => StatusCode::CONFLICT,
                    AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
                    AppError::Store(_) | AppError::Search(_) => StatusCode::INTERNAL_SERVER_ERROR,
                    _ => StatusCode::UNPROCESSABLE_ENTITY,
                };
                let title = match status {
                    StatusCode::NOT_FOUND => "Not found",
                    StatusCode::FORBIDDEN => "Not allowed",
                    StatusCode::UNAUTHORIZED => "Sign in first",
                    StatusCode::INTERNAL_SERVER_ERROR => "Something went wrong",
                    _ => "This cannot be done",
                };
                // What went wrong inside is for the server's log, not for the page.
                let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
                    tracing::error!(error = %e, "internal error");
                    "Something went wrong on the server; it has been logged.".to_string()
                } else {
                    match e.remedy() {
                        Some(r) => format!("{e}: {}.", remedy(r)),
                        None => e.to_string(),
                    }
                };
                (status, title, message)
            }
        };
        let body = html! {
            h1 { (title) }
            p.error role="alert" { (message) }
            p { a href="/" { "Back to the catalogue" } }
        };
        // Error pages are drawn without the session: they say nothing about who is asking.
        (status, layout::frame(None, title, Section::None, body)).into_response()
    }
}

/// The page for an address that is not there.
pub async fn not_found_page() -> Response {
    WebError::App(AppError::NotFound("this address".into())).into_response()
}

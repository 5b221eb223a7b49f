//! Signing in and out, and one's own account: memberships, API tokens, access requests.

use super::{blocking, see_other, CsrfOnly};
use crate::error::WebError;
use crate::layout::{self, csrf, when, Section};
use crate::session::{
    constant_time_eq, cookie, random_token, set_cookie, NoFields, Posted, Viewer, SESSION_COOKIE,
    SIGN_IN_COOKIE,
};
use crate::WebState;
use axum::extract::{ConnectInfo, Path, Query};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use maud::html;
use nansen_app::AppError;
use serde::Deserialize;
use std::net::SocketAddr;

#[derive(Deserialize, Default)]
pub struct Next {
    #[serde(default)]
    next: String,
}

/// Only addresses on this site: never a redirect elsewhere. Browsers drop tabs and line
/// breaks from a URL and read `\` as `/`, so `/\t/evil.example` would leave the site: only
/// visible ASCII is taken (anything else arrives percent-encoded).
fn safe_next(next: &str) -> &str {
    if next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && next.bytes().all(|b| b.is_ascii_graphic())
    {
        next
    } else {
        "/"
    }
}

fn sign_in_form(
    headers: &HeaderMap,
    viewer: &Viewer,
    next: &str,
    error: Option<&str>,
    email: &str,
) -> Response {
    let token = random_token();
    let body = html! {
        h1 { "Sign in" }
        @if let Some(e) = error { p.error role="alert" #sign-in-error { (e) } }
        form.stack method="post" action="/sign-in" {
            input type="hidden" name="csrf" value=(token);
            input type="hidden" name="next" value=(next);
            label for="email" { "E-mail" }
            input #email type="email" name="email" autocomplete="username" required value=(email);
            label for="password" { "Password" }
            input #password type="password" name="password" autocomplete="current-password" required;
            button type="submit" { "Sign in" }
        }
        p.hint { "Accounts are made by your organisation's administrator." }
    };
    let status = if error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    (
        status,
        [(
            header::SET_COOKIE,
            set_cookie(headers, SIGN_IN_COOKIE, &token, 3600),
        )],
        layout::page(viewer, "Sign in", Section::None, body),
    )
        .into_response()
}

pub async fn sign_in_page(viewer: Viewer, headers: HeaderMap, Query(n): Query<Next>) -> Response {
    if viewer.signed_in() {
        return see_other(safe_next(&n.next));
    }
    sign_in_form(&headers, &viewer, safe_next(&n.next), None, "")
}

#[derive(Deserialize)]
pub struct SignIn {
    email: String,
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
}

pub async fn sign_in(
    web: WebState,
    viewer: Viewer,
    headers: HeaderMap,
    addr: Option<ConnectInfo<SocketAddr>>,
    Form(f): Form<SignIn>,
) -> Result<Response, WebError> {
    let expected = cookie(&headers, SIGN_IN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), f.csrf.as_bytes()) {
        return Err(WebError::Form(
            "this sign-in form has expired; open the sign-in page again".into(),
        ));
    }
    // Failures count per address, and per account from that address: a stranger elsewhere
    // cannot lock a person out of their own account by guessing at it.
    let email = f.email.trim().to_lowercase();
    let keys =
        match crate::session::client_address(&headers, addr.map(|ConnectInfo(a)| a), &web.app) {
            Some(a) => vec![format!("email:{email} ip:{a}"), format!("ip:{a}")],
            None => vec![format!("email:{email}")],
        };
    if let Some(minutes) = web.limiter.wait(&keys) {
        return Err(WebError::TooMany(minutes));
    }
    let (email, password) = (f.email.clone(), f.password.clone());
    match blocking(&web.app, move |app| app.start_session(&email, &password)).await {
        Ok((secret, _, _)) => {
            web.limiter.succeeded(&keys);
            let mut res = see_other(safe_next(&f.next));
            let h = res.headers_mut();
            h.append(
                header::SET_COOKIE,
                set_cookie(
                    &headers,
                    SESSION_COOKIE,
                    &secret,
                    nansen_app::SESSION_SECONDS,
                )
                .parse()
                .expect("cookie"),
            );
            h.append(
                header::SET_COOKIE,
                set_cookie(&headers, SIGN_IN_COOKIE, "", 0)
                    .parse()
                    .expect("cookie"),
            );
            Ok(res)
        }
        Err(WebError::App(AppError::Unauthorized)) => {
            web.limiter.failed(&keys);
            Ok(sign_in_form(
                &headers,
                &viewer,
                safe_next(&f.next),
                Some("The e-mail or the password is wrong."),
                &f.email,
            ))
        }
        Err(e) => Err(e),
    }
}

pub async fn sign_out(
    web: WebState,
    viewer: Viewer,
    headers: HeaderMap,
    Form(f): Form<CsrfOnly>,
) -> Result<Response, WebError> {
    if let Some(secret) = viewer.secret.clone() {
        viewer.check(&f.csrf)?;
        blocking(&web.app, move |app| app.end_session(&secret)).await?;
    }
    let mut res = see_other("/");
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&headers, SESSION_COOKIE, "", 0)
            .parse()
            .expect("cookie"),
    );
    Ok(res)
}

async fn account_page(
    web: &WebState,
    viewer: &Viewer,
    new_token: Option<String>,
) -> Result<Response, WebError> {
    viewer.require("/account")?;
    let who = viewer.who.clone();
    let (tokens, requests) = blocking(&web.app, move |app| {
        Ok((app.tokens(&who)?, app.access_requests(&who)?))
    })
    .await?;
    let memberships = match &viewer.who.principal {
        nansen_model::Principal::User { memberships, .. } => memberships.clone(),
        _ => Vec::new(),
    };
    let mine: Vec<_> = requests
        .iter()
        .filter(|r| r.user_email == viewer.who.label)
        .collect();
    let body = html! {
        h1 { "Your account" }
        p { "Signed in as " strong { (viewer.email()) } @if viewer.operator { " (platform operator)" } "." }
        h2 { "Organisations" }
        ul { @for m in &memberships { li { (m.org) ": " (m.role) } } }
        h2 #tokens { "API tokens" }
        @if let Some(t) = &new_token {
            div.notice role="status" {
                p { "Your new token. Copy it now: it is shown only once." }
                label for="new-token" { "Token" }
                input #new-token type="text" readonly value=(t) size="72";
            }
        }
        @if tokens.is_empty() { p { "No tokens yet." } } @else {
            table {
                caption { "Your API tokens" }
                thead { tr { th scope="col" { "Name" } th scope="col" { "Created" } th scope="col" { "Last used" } th scope="col" { "State" } } }
                tbody {
                    @for t in &tokens {
                        tr {
                            td { (t.name) }
                            td { (when(&t.created_at)) }
                            td { (t.last_used_at.as_ref().map(when).unwrap_or_else(|| "never".into())) }
                            td {
                                @if let Some(r) = &t.revoked_at { "revoked " (when(r)) } @else {
                                    form.inline method="post" action=(format!("/account/tokens/{}/revoke", t.id)) {
                                        (csrf(viewer))
                                        button type="submit" aria-label=(format!("Revoke token {}", t.name)) { "Revoke" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        form.row method="post" action="/account/tokens" {
            (csrf(viewer))
            label for="token-name" { "Name of a new token" }
            input #token-name type="text" name="name" required maxlength="100" placeholder="laptop";
            button type="submit" { "Create token" }
        }
        h2 { "Your access requests" }
        @if mine.is_empty() { p { "None." } } @else {
            table {
                caption { "Access you asked for" }
                thead { tr { th scope="col" { "Dataset or document" } th scope="col" { "Asked" } th scope="col" { "Reason" } th scope="col" { "Status" } } }
                tbody {
                    @for r in &mine {
                        @let href = if r.kind == "document" { format!("/documents/{}", r.subject_id) } else { format!("/datasets/{}", r.subject) };
                        tr { td { a href=(href) { (r.subject) } } td { (when(&r.created_at)) } td { (r.reason) } td { (r.status) } }
                    }
                }
            }
        }
    };
    Ok(layout::page(viewer, "Your account", Section::Account, body).into_response())
}

pub async fn page(web: WebState, viewer: Viewer) -> Result<Response, WebError> {
    account_page(&web, &viewer, None).await
}

#[derive(Deserialize)]
pub struct NewToken {
    name: String,
}

pub async fn create_token(
    web: WebState,
    Posted { viewer, form: f }: Posted<NewToken>,
) -> Result<Response, WebError> {
    let who = viewer.who.clone();
    let token = blocking(&web.app, move |app| {
        app.create_token(&who, &who.label, &f.name)
    })
    .await?;
    // Shown on this response only; never stored in a way that shows it again.
    account_page(&web, &viewer, Some(token)).await
}

pub async fn revoke_token(
    web: WebState,
    Path(id): Path<i64>,
    Posted { viewer, .. }: Posted<NoFields>,
) -> Result<Response, WebError> {
    let who = viewer.who.clone();
    blocking(&web.app, move |app| app.revoke_token(&who, id)).await?;
    Ok(see_other("/account#tokens"))
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn sign_in_returns_only_to_this_site() {
        for evil in [
            "/\t/evil.example",
            "/\n/evil.example",
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "/ /evil.example",
            "\t//evil.example",
        ] {
            assert_eq!(safe_next(evil), "/", "{evil:?}");
        }
        assert_eq!(
            safe_next("/datasets/euaa/asylum?x=%20y"),
            "/datasets/euaa/asylum?x=%20y"
        );
    }
}

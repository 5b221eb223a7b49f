//! Who is looking at a page: the session cookie's user, or nobody. Sessions are stored by
//! the application (so every node knows them); the cookie holds only the secret, and is
//! HttpOnly and SameSite=Strict. Every form carries the session's own token, checked on
//! every POST; the sign-in form, before any session, carries one bound to a cookie.

use crate::error::WebError;
use crate::Web;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use nansen_app::{AppError, Caller};
use rand::RngCore;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const SESSION_COOKIE: &str = "nansen_session";
pub const SIGN_IN_COOKIE: &str = "nansen_sign_in";

#[derive(Clone)]
pub struct Viewer {
    pub who: Caller,
    /// The token every form of this session carries.
    pub csrf: String,
    pub operator: bool,
    /// Whether the person administers any organisation (or the platform).
    pub admin: bool,
    /// The session's secret, to end it.
    pub secret: Option<String>,
}

impl Viewer {
    pub fn anonymous() -> Viewer {
        Viewer {
            who: Caller::anonymous(),
            csrf: String::new(),
            operator: false,
            admin: false,
            secret: None,
        }
    }

    pub fn signed_in(&self) -> bool {
        self.secret.is_some()
    }

    pub fn email(&self) -> &str {
        &self.who.label
    }

    /// Refuses a form that does not carry this session's token.
    pub fn check(&self, token: &str) -> Result<(), WebError> {
        if self.signed_in() && constant_time_eq(token.as_bytes(), self.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(WebError::Form(
                "this form has expired or did not come from Nansen; reload the page and try again"
                    .into(),
            ))
        }
    }

    /// Sends someone who is not signed in to the sign-in page, and back here afterwards.
    pub fn require(&self, back_to: &str) -> Result<(), WebError> {
        if self.signed_in() {
            Ok(())
        } else {
            Err(WebError::SignIn(back_to.to_string()))
        }
    }
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A cookie only this site's pages send and no script reads. `Secure` unless the server is
/// reached directly on a loopback address (a developer's machine, the tests): a proxy in
/// front often calls it by a loopback name, and says so in its forwarding headers.
pub fn set_cookie(headers: &HeaderMap, name: &str, value: &str, max_age: i64) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let host = host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host);
    let proxied = [
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-forwarded-host",
        "forwarded",
    ]
    .iter()
    .any(|h| headers.contains_key(*h));
    let local = matches!(host, "localhost" | "127.0.0.1" | "[::1]") && !proxied;
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        if local { "" } else { "; Secure" }
    )
}

/// The address a request came from: the peer's, or, when the peer is a proxy the operator
/// trusts, the last address its `X-Forwarded-For` names (the one it saw connect).
pub fn client_address(
    headers: &HeaderMap,
    peer: Option<std::net::SocketAddr>,
    app: &nansen_app::App,
) -> Option<std::net::IpAddr> {
    let peer = peer?.ip();
    if !app.trusts_proxy(peer) {
        return Some(peer);
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .last();
    Some(
        forwarded
            .and_then(|a| a.trim().parse().ok())
            .unwrap_or(peer),
    )
}

pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[axum::async_trait]
impl FromRequestParts<Arc<Web>> for Viewer {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, web: &Arc<Web>) -> Result<Viewer, WebError> {
        let Some(secret) = cookie(&parts.headers, SESSION_COOKIE).filter(|s| !s.is_empty()) else {
            return Ok(Viewer::anonymous());
        };
        let app = web.app.clone();
        let found = tokio::task::spawn_blocking(move || {
            let (who, csrf) = app.session(&secret)?;
            let operator = app.is_operator(&who)?;
            let admin = operator || !app.administered_orgs(&who)?.is_empty();
            Ok::<_, AppError>(Viewer {
                who,
                csrf,
                operator,
                admin,
                secret: Some(secret),
            })
        })
        .await
        .map_err(|e| WebError::App(AppError::BadRequest(e.to_string())))?;
        match found {
            Ok(v) => Ok(v),
            // An expired or unknown session is simply nobody: the page says "sign in".
            Err(AppError::Unauthorized) => Ok(Viewer::anonymous()),
            Err(e) => Err(WebError::App(e)),
        }
    }
}

/// A form posted by a signed-in person with their session's own token: the way a handler
/// receives a URL-encoded form, so that none can forget the check. Someone not signed in is
/// sent to sign in, and back to the page the form was on.
pub struct Posted<T> {
    pub viewer: Viewer,
    pub form: T,
}

#[derive(serde::Deserialize)]
struct FormToken {
    #[serde(default)]
    csrf: String,
}

/// A form of no fields but its token.
#[derive(serde::Deserialize)]
pub struct NoFields {}

#[axum::async_trait]
impl<T: serde::de::DeserializeOwned> axum::extract::FromRequest<Arc<Web>> for Posted<T> {
    type Rejection = WebError;

    async fn from_request(req: axum::extract::Request, web: &Arc<Web>) -> Result<Self, WebError> {
        let (mut parts, body) = req.into_parts();
        let viewer = Viewer::from_request_parts(&mut parts, web).await?;
        if !viewer.signed_in() {
            return Err(WebError::SignIn(came_from(&parts.headers)));
        }
        let limit = crate::pages::MAX_FIELDS * crate::pages::MAX_FIELD_BYTES;
        let bytes = axum::body::to_bytes(body, limit)
            .await
            .map_err(|_| WebError::Form(format!("this form is larger than {} KB", limit >> 10)))?;
        let unreadable = |e: serde_urlencoded::de::Error| {
            WebError::Form(format!("this form cannot be read: {e}"))
        };
        let token: FormToken = serde_urlencoded::from_bytes(&bytes).map_err(unreadable)?;
        viewer.check(&token.csrf)?;
        let form = serde_urlencoded::from_bytes(&bytes).map_err(unreadable)?;
        Ok(Posted { viewer, form })
    }
}

/// The path of the page a form was sent from, when it is this site's; the catalogue otherwise.
fn came_from(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    headers
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| r.split_once("://").map(|(_, rest)| rest))
        .and_then(|rest| {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            (Some(authority) == host && path.starts_with('/')).then(|| path.to_string())
        })
        .unwrap_or_else(|| "/".into())
}

/// Failed sign-ins per address and per account: after five within a quarter of an hour,
/// further attempts wait until the oldest has aged out.
#[derive(Default)]
pub struct SignInLimiter {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

const WINDOW: Duration = Duration::from_secs(15 * 60);
const ALLOWED: usize = 5;

impl SignInLimiter {
    /// Minutes to wait, if any of these keys is locked out.
    pub fn wait(&self, keys: &[String]) -> Option<u64> {
        let mut map = self.failures.lock().expect("limiter lock");
        let now = Instant::now();
        keys.iter()
            .filter_map(|k| {
                let v = map.get_mut(k)?;
                v.retain(|t| now.duration_since(*t) < WINDOW);
                (v.len() >= ALLOWED)
                    .then(|| (WINDOW - now.duration_since(v[0])).as_secs().div_ceil(60))
            })
            .max()
    }

    pub fn failed(&self, keys: &[String]) {
        let mut map = self.failures.lock().expect("limiter lock");
        for k in keys {
            map.entry(k.clone()).or_default().push(Instant::now());
        }
    }

    pub fn succeeded(&self, keys: &[String]) {
        let mut map = self.failures.lock().expect("limiter lock");
        for k in keys {
            map.remove(k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_lock_an_account_out_and_success_clears_it() {
        let l = SignInLimiter::default();
        let keys = vec!["email:a@b".to_string(), "ip:1.2.3.4".to_string()];
        for _ in 0..4 {
            l.failed(&keys);
        }
        assert_eq!(l.wait(&keys), None, "four failures are allowed");
        l.failed(&keys);
        assert_eq!(l.wait(&keys), Some(15));
        assert_eq!(
            l.wait(&["ip:1.2.3.4".to_string()]),
            Some(15),
            "the address is locked too"
        );
        l.succeeded(&keys);
        assert_eq!(l.wait(&keys), None);
    }

    #[test]
    fn cookies_are_http_only_strict_and_secure_off_loopback() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "nansen.example.org".parse().unwrap());
        let c = set_cookie(&h, SESSION_COOKIE, "x", 60);
        assert!(
            c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Secure"),
            "{c}"
        );
        h.insert(header::HOST, "127.0.0.1:8080".parse().unwrap());
        assert!(!set_cookie(&h, SESSION_COOKIE, "x", 60).contains("Secure"));
        h.insert(header::COOKIE, "a=1; nansen_session=abc".parse().unwrap());
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("abc"));
    }
}

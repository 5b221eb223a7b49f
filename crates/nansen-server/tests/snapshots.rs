//! Snapshots of what callers read, over real HTTP: every error body, one answer per resource
//! of the API, and the main pages' HTML, with times, hashes, ids and secrets masked. A change
//! to any of them shows as a diff to review (`cargo insta review`, or `INSTA_UPDATE=always`
//! and `git diff`); under CI a difference fails. Both stores must give the very same answers,
//! so each store is compared with the same snapshot.

mod common;

use nansen_app::{App, Caller, ImportRequest, NewDocument};
use nansen_model::{Role, Sharing};
use nansen_store::testing::stores;
use std::sync::Arc;

const APPLICATIONS: &str = "indicator,period,geo,origin,value,flags\n\
asylum_applications,2015-01,DEU,SYR,100,\n\
asylum_applications,2015-02,DEU,SYR,120,\n\
asylum_applications,2015-03,DEU,SYR,150,\n\
asylum_applications,2015-04,DEU,SYR,170,\n\
asylum_applications,2015-05,DEU,SYR,160,\n\
asylum_applications,2015-06,DEU,SYR,180,\n\
asylum_applications,2015-07,DEU,SYR,210,\n\
asylum_applications,2015-08,DEU,SYR,230,p\n\
asylum_applications,2015-01,FRA,SYR,20,\n\
asylum_applications,2015-02,FRA,SYR,25,\n\
asylum_applications,2015-03,FRA,SYR,22,\n\
asylum_applications,2015-04,FRA,SYR,30,\n\
asylum_applications,2015-05,FRA,SYR,28,\n\
asylum_applications,2015-06,FRA,SYR,31,\n\
asylum_applications,2015-07,FRA,SYR,35,\n\
asylum_applications,2015-08,FRA,SYR,33,\n";

struct Served {
    app: Arc<App>,
    base: String,
    admin: String,
    viewer: String,
    cookie: String,
}

/// A server over a store with one dataset, one document, a watch and a plan.
fn serve(t: &nansen_store::testing::TestStore) -> Served {
    let app = App::open(t.dir.path(), t.database_url.as_deref()).unwrap();
    let op = Caller::operator();
    for org in ["euaa", "iom"] {
        app.add_org(&op, org, org).unwrap();
    }
    for (email, org, role) in [
        ("admin@euaa.eu", "euaa", Role::Admin),
        ("v@iom.int", "iom", Role::Viewer),
    ] {
        app.add_user(&op, email, org, role, "a long enough password")
            .unwrap();
    }
    let admin = app.act_as("admin@euaa.eu").unwrap();
    let file = t.dir.path().join("applications.csv");
    std::fs::write(&file, APPLICATIONS).unwrap();
    let req = ImportRequest {
        org: "euaa".into(),
        slug: "applications".into(),
        file_name: "applications.csv".into(),
        title: Some("Asylum applications".into()),
        share: Some(Sharing::Listed),
        ..Default::default()
    };
    app.import(&admin, &req, &file, &|_| {}).unwrap();
    let doc = NewDocument {
        org: "euaa".into(),
        title: Some("Reception committee minutes".into()),
        doc_type: Some("minutes".into()),
        countries: vec!["ITA".into()],
        date: Some("2025-06".into()),
        share: Some(Sharing::Public),
        ..Default::default()
    };
    app.add_document(
        &admin,
        &doc,
        "minutes.md",
        b"# Minutes\n\nThe committee met on reception capacity in Lampedusa.",
    )
    .unwrap();
    let admin_token = app.create_token(&op, "admin@euaa.eu", "snapshots").unwrap();
    let viewer = app.create_token(&op, "v@iom.int", "snapshots").unwrap();
    let (secret, _, _) = app
        .start_session("admin@euaa.eu", "a long enough password")
        .unwrap();
    let app = Arc::new(app);
    Served {
        base: common::serve(app.clone()),
        app,
        admin: admin_token,
        viewer,
        cookie: format!("nansen_session={secret}"),
    }
}

/// What is different on every run, masked.
fn masked() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_prepend_module_to_snapshot(false);
    for (pattern, mask) in [
        (
            r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?",
            "[time]",
        ),
        (r"\b[0-9a-f]{64}\b", "[sha256]"),
        (r"\b[0-9a-f]{32}\b", "[id]"),
        (r#""(token|secret)": "[^"]+""#, r#""$1": "[secret]""#),
        (
            r#"name="csrf" value="[^"]+""#,
            r#"name="csrf" value="[csrf]""#,
        ),
        (r"127\.0\.0\.1:\d+", "[server]"),
    ] {
        s.add_filter(pattern, mask);
    }
    s
}

/// Status, content type and body (JSON pretty-printed), as one text.
fn answer(method: &str, url: &str, token: Option<&str>, body: Option<(&str, &[u8])>) -> String {
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    let mut req = agent.request(method, url);
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    let res = match body {
        Some((kind, b)) => req.set("Content-Type", kind).send_bytes(b),
        None => req.call(),
    };
    let r = match res {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: {e}"),
    };
    let status = r.status();
    let kind = r.header("Content-Type").unwrap_or_default().to_string();
    let text = r.into_string().unwrap_or_default();
    shown(method, url, status, &kind, &text)
}

/// An answer as the snapshots keep it: the request, status and content type, then the body
/// (JSON pretty-printed).
fn shown(method: &str, url: &str, status: u16, kind: &str, text: &str) -> String {
    let body = serde_json::from_str::<serde_json::Value>(text)
        .map(|v| serde_json::to_string_pretty(&v).unwrap())
        .unwrap_or(text.to_string());
    format!("{method} {}\n{status} {kind}\n\n{body}\n", url_path(url))
}

/// The value of header `name` (lower case) in an answer's head.
fn header(head: &str, name: &str) -> Option<String> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
    })
}

/// As [`answer`] for a body the server refuses before reading it: the body is written from a
/// thread of its own while the answer is read, so the early answer is read whole however the
/// socket's buffers fill (a client writing first would meet a broken pipe at random).
fn early_answer(url: &str, token: &str, kind: &str, body: Vec<u8>) -> String {
    use std::io::{Read, Write};
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let sending = std::thread::spawn(move || {
        let _ = writer.write_all(&body);
    });
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    // Read to the end of the answer; a reset after it is the refused body's, not an error.
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = header(head, "content-length").map(|v| v.parse::<usize>().unwrap());
            if length.is_some_and(|n| body.len() >= n) {
                break;
            }
        }
    }
    let _ = stream.shutdown(std::net::Shutdown::Both);
    let _ = sending.join();
    let text = String::from_utf8_lossy(&got).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let kind = header(head, "content-type").unwrap_or_default();
    shown("POST", url, status, &kind, body)
}

fn url_path(url: &str) -> &str {
    url.find("/api/").map_or(url, |i| &url[i..])
}

fn json(s: &str) -> Option<(&'static str, Vec<u8>)> {
    Some(("application/json", s.as_bytes().to_vec()))
}

#[test]
fn every_error_body_reads_as_documented() {
    for t in stores() {
        let s = serve(&t);
        let b = &s.base;
        let held = s
            .app
            .admit(
                &Caller::anonymous(),
                Some("127.0.0.1".parse().unwrap()),
                nansen_app::Work::Forecast,
            )
            .unwrap();
        let limited = answer(
            "GET",
            &format!(
                "{b}/api/v1/datasets/euaa/applications/backtest?series_by=geo&horizon=1&windows=1"
            ),
            None,
            None,
        );
        drop(held);
        let big = vec![b' '; 3 << 20];
        let cases: Vec<(&str, String)> = vec![
            (
                "not_found",
                answer("GET", &format!("{b}/api/v1/datasets/euaa/nothing"), Some(&s.admin), None),
            ),
            (
                "unauthorized",
                answer("GET", &format!("{b}/api/v1/datasets"), Some("not-a-token"), None),
            ),
            (
                "forbidden",
                answer(
                    "POST",
                    &format!("{b}/api/v1/datasets/euaa/applications/sharing"),
                    Some(&s.viewer),
                    json(r#"{"sharing": "public"}"#).as_ref().map(|(k, v)| (*k, &v[..])),
                ),
            ),
            (
                "bad_request",
                answer(
                    "GET",
                    &format!("{b}/api/v1/datasets/euaa/applications/observations?colour=red"),
                    Some(&s.admin),
                    None,
                ),
            ),
            (
                "bad_query",
                answer(
                    "GET",
                    &format!("{b}/api/v1/datasets/euaa/applications/observations?where=sex:F"),
                    Some(&s.admin),
                    None,
                ),
            ),
            (
                "a_remedy",
                answer(
                    "GET",
                    &format!("{b}/api/v1/datasets/euaa/applications/observations?group_by=geo&derived=rate_per_100k"),
                    Some(&s.admin),
                    None,
                ),
            ),
            (
                "import_refused",
                answer(
                    "POST",
                    &format!("{b}/api/v1/datasets/euaa/applications/versions?file_name=bad.csv"),
                    Some(&s.admin),
                    Some((
                        "text/csv",
                        b"indicator,period,geo,origin,value\nasylum_applications,2015-05,Atlantis,SYR,12\nasylum_applications,2015-13,DEU,SYR,x\n",
                    )),
                ),
            ),
            ("conflict", {
                // A second request while the first is pending.
                let ask = || {
                    answer(
                        "POST",
                        &format!("{b}/api/v1/datasets/euaa/applications/access-requests"),
                        Some(&s.viewer),
                        Some(("application/json", br#"{"reason": "planning reception in Bavaria"}"#)),
                    )
                };
                ask();
                ask()
            }),
            (
                "too_large",
                early_answer(
                    &format!("{b}/api/v1/tokens"),
                    &s.admin,
                    "application/json",
                    big,
                ),
            ),
            (
                "not_json",
                answer(
                    "POST",
                    &format!("{b}/api/v1/tokens"),
                    Some(&s.admin),
                    Some(("text/plain", b"name")),
                ),
            ),
            (
                "bad_body",
                answer(
                    "POST",
                    &format!("{b}/api/v1/tokens"),
                    Some(&s.admin),
                    Some(("application/json", b"{\"name\": 7}")),
                ),
            ),
            (
                "method_not_allowed",
                answer("DELETE", &format!("{b}/api/v1/datasets"), Some(&s.admin), None),
            ),
            ("limit", limited),
        ];
        let all: String = cases
            .iter()
            .map(|(what, text)| format!("== {what}\n{text}\n"))
            .collect();
        masked().bind(|| insta::assert_snapshot!("error_bodies", all));
    }
}

#[test]
fn one_answer_per_resource_reads_as_documented() {
    for t in stores() {
        let s = serve(&t);
        let b = &s.base;
        let a = Some(s.admin.as_str());
        let get = |path: &str| answer("GET", &format!("{b}{path}"), a, None);
        let post = |path: &str, body: &str| {
            answer(
                "POST",
                &format!("{b}{path}"),
                a,
                Some(("application/json", body.as_bytes())),
            )
        };
        let csv = |path: &str, body: &[u8]| {
            answer("POST", &format!("{b}{path}"), a, Some(("text/csv", body)))
        };
        let more = b"indicator,period,geo,origin,value\nasylum_applications,2015-09,DEU,SYR,240\n";
        let answers = [
            ("health", get("/api/v1/health")),
            ("datasets", get("/api/v1/datasets")),
            ("dataset", get("/api/v1/datasets/euaa/applications")),
            (
                "import_dry_run",
                csv(
                    "/api/v1/datasets/euaa/applications/versions?file_name=may.csv&append=true&dry_run=true",
                    more,
                ),
            ),
            (
                "upload",
                csv(
                    "/api/v1/datasets/euaa/applications/uploads?file_name=may.csv&append=true",
                    more,
                ),
            ),
            (
                "observations",
                get("/api/v1/datasets/euaa/applications/observations?group_by=geo&period=2015-01..2015-06"),
            ),
            (
                "observations_csv",
                get("/api/v1/datasets/euaa/applications/observations?group_by=geo,period&format=csv"),
            ),
            ("flows", get("/api/v1/datasets/euaa/applications/flows")),
            (
                "export",
                get("/api/v1/datasets/euaa/applications/export?format=csv"),
            ),
            (
                "forecast",
                get("/api/v1/datasets/euaa/applications/forecast?series_by=geo&horizon=2&model=naive"),
            ),
            (
                "backtest",
                get("/api/v1/datasets/euaa/applications/backtest?series_by=geo&horizon=1&windows=3&model=naive"),
            ),
            (
                "watch",
                post(
                    "/api/v1/watches",
                    r#"{"org": "euaa", "name": "Syrian applications", "dataset": "euaa/applications", "series_by": ["geo"], "rules": [{"name": "c2"}], "horizon": 2}"#,
                ),
            ),
            ("alerts", get("/api/v1/alerts")),
            (
                "plan",
                post(
                    "/api/v1/plans",
                    r#"{"org": "euaa", "title": "Syrian arrivals", "triggers": [{"kind": "forecast", "watch": 1, "above": 1000}], "actions": [{"what": "Open the overflow centre", "owner": "admin@euaa.eu"}]}"#,
                ),
            ),
            (
                "webhook",
                post(
                    "/api/v1/webhooks",
                    r#"{"org": "euaa", "dataset": "euaa/applications", "url": "https://93.184.216.34/nansen"}"#,
                ),
            ),
            ("document", get("/api/v1/documents/1")),
            ("document_text", get("/api/v1/documents/1/text")),
            ("search", get("/api/v1/search?q=Lampedusa")),
            (
                "access_request",
                answer(
                    "POST",
                    &format!("{b}/api/v1/datasets/euaa/applications/access-requests"),
                    Some(&s.viewer),
                    Some(("application/json", br#"{"reason": "planning reception in Bavaria"}"#)),
                ),
            ),
            ("access_requests", get("/api/v1/access-requests")),
            ("tokens", get("/api/v1/tokens")),
            ("audit", get("/api/v1/audit?limit=2")),
            ("audit_verify", get("/api/v1/audit/verify")),
        ];
        for (what, text) in answers {
            masked().bind(|| insta::assert_snapshot!(format!("api_{what}"), text));
        }
    }
}

/// A page as a person reads it: one tag per line.
fn page(s: &Served, path: &str) -> String {
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    let r = agent
        .get(&format!("{}{path}", s.base))
        .set("Cookie", &s.cookie)
        .call()
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let status = r.status();
    let html = r.into_string().unwrap();
    format!("GET {path}\n{status}\n\n{}\n", html.replace("><", ">\n<"))
}

#[test]
fn the_main_pages_read_as_before() {
    for t in stores() {
        let s = serve(&t);
        for (what, path) in [
            ("catalogue", "/"),
            ("dataset", "/datasets/euaa/applications"),
            ("explore", "/explore?dataset=euaa/applications&group_by=geo"),
            ("alerts", "/alerts"),
            ("search", "/search?q=Lampedusa"),
            ("document", "/documents/1"),
        ] {
            masked().bind(|| insta::assert_snapshot!(format!("page_{what}"), page(&s, path)));
        }
    }
}

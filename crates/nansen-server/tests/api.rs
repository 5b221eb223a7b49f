//! The HTTP API over real HTTP, on SQLite and on PostgreSQL: imports, queries, exports, and a
//! sweep of every route of the OpenAPI document with another organisation's token and with none.

mod common;

use nansen_app::{App, Caller};
use nansen_model::Role;
use nansen_store::testing::{stores, TestStore};
use std::sync::Arc;

struct Server {
    t: TestStore,
    app: Arc<App>,
    base: String,
    euaa_editor: String,
    euaa_admin: String,
    iom: String,
    bmi: String,
}

fn servers() -> Vec<Server> {
    stores()
        .into_iter()
        .map(|t| {
            let app = App::open(t.dir.path(), t.database_url.as_deref()).unwrap();
            let op = Caller::operator();
            for org in ["euaa", "iom", "bmi"] {
                app.add_org(&op, org, org).unwrap();
            }
            for (email, org, role) in [
                ("ed@euaa.eu", "euaa", Role::Editor),
                ("admin@euaa.eu", "euaa", Role::Admin),
                ("v@iom.int", "iom", Role::Viewer),
                ("a@bmi.de", "bmi", Role::Admin),
            ] {
                app.add_user(&op, email, org, role, "a long enough password")
                    .unwrap();
            }
            let euaa_editor = app.create_token(&op, "ed@euaa.eu", "t").unwrap();
            let euaa_admin = app.create_token(&op, "admin@euaa.eu", "t").unwrap();
            let iom = app.create_token(&op, "v@iom.int", "t").unwrap();
            let bmi = app.create_token(&op, "a@bmi.de", "t").unwrap();
            let app = Arc::new(app);
            Server {
                t,
                base: common::serve(app.clone()),
                app,
                euaa_editor,
                euaa_admin,
                iom,
                bmi,
            }
        })
        .collect()
}

/// Status and body, whatever the status.
fn call(method: &str, url: &str, token: Option<&str>, body: Option<&[u8]>) -> (u16, String) {
    let agent = ureq::AgentBuilder::new().build();
    let mut req = agent.request(method, url);
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    let res = match body {
        Some(b) => req
            .set("Content-Type", "application/octet-stream")
            .send_bytes(b),
        None if method == "POST" || method == "PUT" => req
            .set("Content-Type", "application/json")
            .send_string(sweep_body(url)),
        None => req.call(),
    };
    match res {
        Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap_or_default()),
        Err(e) => panic!("{method} {url}: {e}"),
    }
}

/// A JSON body each route takes as well formed, so that what answers is the route's rule, not
/// its body's shape: the operations' bodies refuse fields they do not know.
fn sweep_body(url: &str) -> &'static str {
    let path = url.split('?').next().unwrap_or(url);
    let ends = |s: &str| path.ends_with(s);
    if ends("/stages") {
        r#"[{"name": "applied"}, {"name": "closed", "exit": true}]"#
    } else if ends("/pledges") {
        r#"{"state": "DEU", "places": 1}"#
    } else if path.contains("/programmes/") && ends("/cases") {
        r#"{"members": []}"#
    } else if ends("/transitions") {
        r#"{"to": "assessed", "note": "x"}"#
    } else if ends("/assignee") {
        r#"{"assignee": null}"#
    } else if ends("/follow-ups") {
        r#"{"on": "2026-01-05", "economic": 0.5, "social": 0.5, "psychosocial": 0.5}"#
    } else if ends("/match") {
        r#"{"state": null}"#
    } else if ends("/consents") {
        r#"{"purpose": "reporting"}"#
    } else if path.contains("/cases/") && ends("/referrals") {
        r#"{"to": "bmi", "sections": ["identity"], "reason": "x", "override_consent": true}"#
    } else if path.contains("/submissions/") && ends("/comments") {
        r#"{"cell": null, "text": "x"}"#
    } else if ends("/reject") {
        r#"{"reason": "x"}"#
    } else if ends("/approval")
        || ends("/approvals")
        || ends("/accept")
        || ends("/decline")
        || ends("/proposals")
        || ends("/matching")
    {
        "{}"
    } else {
        r#"{"reason":"we need it for planning","approve":true,"sharing":"public","name":"x","done":true,"body":"x"}"#
    }
}

const GOOD: &[u8] = b"indicator,period,geo,origin,value,flags\nasylum_applications,2015-01,DEU,SYR,100,\nasylum_applications,2015-02,DEU,SYR,120,\nasylum_applications,2015-01,FRA,SYR,20,\n";

#[test]
fn import_query_and_export_over_http() {
    for s in servers() {
        let url = format!(
            "{}/api/v1/datasets/euaa/apps/versions?file_name=apps.csv",
            s.base
        );
        let (code, body) = call("POST", &url, Some(&s.euaa_editor), Some(b"indicator,period,geo,origin,value,flags\nasylum_applications,2015-01,Atlantis,SYR,100,\n"));
        assert_eq!(code, 422, "{}: {body}", s.t.name);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["error"]["code"], "import_refused");
        assert_eq!(v["error"]["details"][0]["row"], 2);
        assert_eq!(v["error"]["details"][0]["column"], "geo");
        assert_eq!(v["error"]["details"][0]["value"], "Atlantis");
        // What to do, as a code a partner's system can act on, in the API's words, never the CLI's.
        assert_eq!(v["error"]["details"][0]["remedy"], "map_or_accept_code");
        assert_eq!(v["error"]["remedy"]["code"], "map_or_accept_code");
        assert!(!body.contains("--"), "no CLI flags in an API error: {body}");
        assert_eq!(
            call(
                "GET",
                &format!("{}/api/v1/datasets/euaa/apps", s.base),
                Some(&s.euaa_editor),
                None
            )
            .0,
            404,
            "nothing was created"
        );

        let (code, body) = call(
            "POST",
            &format!("{url}&dry_run=true"),
            Some(&s.euaa_editor),
            Some(GOOD),
        );
        assert_eq!(code, 200, "{body}");
        let (code, body) = call("POST", &url, Some(&s.euaa_editor), Some(GOOD));
        assert_eq!(code, 201, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            (v["version"].as_i64(), v["added"].as_i64()),
            (Some(1), Some(3))
        );

        let q = format!("{}/api/v1/datasets/euaa/apps/observations?where=origin:Syria&where=geo:DE,FR&period=2015..2015&group_by=geo&format=csv", s.base);
        let (code, body) = call("GET", &q, Some(&s.euaa_editor), None);
        assert_eq!(
            (code, body.as_str()),
            (200, "geo,value\nDEU,220\nFRA,20\n"),
            "{}",
            s.t.name
        );
        // The CSV keeps its shape; where it comes from travels beside it.
        let r = ureq::get(&q)
            .set("Authorization", &format!("Bearer {}", s.euaa_editor))
            .call()
            .unwrap();
        assert_eq!(r.header("x-nansen-dataset"), Some("euaa/apps"));
        assert_eq!(r.header("x-nansen-version"), Some("1"));
        assert_eq!(r.header("x-nansen-unit"), Some("persons"));
        assert!(
            r.header("x-nansen-query")
                .is_some_and(|h| h.contains("--where geo=DE,FR") && h.contains("--group-by geo")),
            "{:?}",
            r.header("x-nansen-query")
        );
        let (code, body) = call(
            "GET",
            &format!(
                "{}/api/v1/datasets/euaa/apps/observations?group_by=period",
                s.base
            ),
            Some(&s.euaa_editor),
            None,
        );
        assert_eq!(code, 200);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            v["rows"][0],
            serde_json::json!({ "period": "2015-01", "value": 120.0, "flags": "", "incomplete": false })
        );
        let (code, body) = call(
            "GET",
            &format!("{}/api/v1/datasets/euaa/apps/export?format=hxl", s.base),
            Some(&s.euaa_editor),
            None,
        );
        assert_eq!(code, 200);
        assert!(
            body.lines()
                .nth(1)
                .unwrap()
                .starts_with("#indicator+code,#date,"),
            "{body}"
        );
        let (code, _) = call(
            "GET",
            &format!(
                "{}/api/v1/datasets/euaa/apps/observations?where=colour:red",
                s.base
            ),
            Some(&s.euaa_editor),
            None,
        );
        assert_eq!(code, 400);
    }
}

#[test]
fn a_staged_upload_shows_its_difference_and_saves_only_when_confirmed_by_its_owner() {
    for s in servers() {
        let stage = format!(
            "{}/api/v1/datasets/euaa/staged/uploads?file_name=apps.csv",
            s.base
        );
        let (code, body) = call("POST", &stage, Some(&s.euaa_editor), Some(b"indicator,period,geo,origin,value,flags\nasylum_applications,2015-13,DEU,SYR,100,\n"));
        assert_eq!(code, 422, "{}: {body}", s.t.name);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            (
                v["status"].as_str(),
                v["problems"][0]["row"].as_i64(),
                v["problems"][0]["column"].as_str()
            ),
            (Some("refused"), Some(2), Some("period")),
            "{body}"
        );
        assert_eq!(
            call(
                "GET",
                &format!("{}/api/v1/datasets/euaa/staged", s.base),
                Some(&s.euaa_editor),
                None
            )
            .0,
            404,
            "nothing was created"
        );

        let (code, body) = call("POST", &stage, Some(&s.euaa_editor), Some(GOOD));
        assert_eq!(code, 201, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            (
                v["status"].as_str(),
                v["report"]["added"].as_i64(),
                v["report"]["sample"].as_array().map(Vec::len)
            ),
            (Some("ready"), Some(3), Some(3)),
            "{body}"
        );
        let id = v["id"].as_str().unwrap().to_string();
        assert_eq!(
            call(
                "GET",
                &format!("{}/api/v1/datasets/euaa/staged", s.base),
                Some(&s.euaa_editor),
                None
            )
            .0,
            404,
            "nothing is saved before confirming"
        );
        // Another person, even of the same organisation, neither sees nor confirms it.
        for other in [&s.euaa_admin, &s.bmi] {
            assert_eq!(
                call(
                    "GET",
                    &format!("{}/api/v1/uploads/{id}", s.base),
                    Some(other),
                    None
                )
                .0,
                404
            );
            assert_eq!(
                call(
                    "POST",
                    &format!("{}/api/v1/uploads/{id}/confirm", s.base),
                    Some(other),
                    None
                )
                .0,
                404
            );
        }
        let (code, body) = call(
            "POST",
            &format!("{}/api/v1/uploads/{id}/confirm", s.base),
            Some(&s.euaa_editor),
            None,
        );
        assert_eq!(code, 201, "{body}");
        let (code, body) = call(
            "GET",
            &format!("{}/api/v1/datasets/euaa/staged", s.base),
            Some(&s.euaa_editor),
            None,
        );
        assert_eq!(code, 200, "{body}");
        assert!(body.contains("\"observations\":3"), "{body}");
        assert_eq!(
            call(
                "POST",
                &format!("{}/api/v1/uploads/{id}/confirm", s.base),
                Some(&s.euaa_editor),
                None
            )
            .0,
            409,
            "confirmed once only"
        );

        // A second file: the sample shows what changes, and discarding keeps nothing.
        let changed = b"indicator,period,geo,origin,value,flags\nasylum_applications,2015-01,DEU,SYR,150,\nasylum_applications,2015-02,DEU,SYR,120,\n";
        let (code, body) = call("POST", &stage, Some(&s.euaa_editor), Some(changed));
        assert_eq!(code, 201, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let kinds: Vec<(&str, Option<f64>, Option<f64>)> = v["report"]["sample"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["kind"].as_str().unwrap(),
                    c["old"].as_f64(),
                    c["new"].as_f64(),
                )
            })
            .collect();
        assert_eq!(
            kinds,
            [
                ("changed", Some(100.0), Some(150.0)),
                ("removed", Some(20.0), None)
            ],
            "{body}"
        );
        let id = v["id"].as_str().unwrap();
        assert_eq!(
            call(
                "DELETE",
                &format!("{}/api/v1/uploads/{id}", s.base),
                Some(&s.euaa_editor),
                None
            )
            .0,
            204
        );
        assert_eq!(
            call(
                "GET",
                &format!("{}/api/v1/uploads/{id}", s.base),
                Some(&s.euaa_editor),
                None
            )
            .0,
            404
        );
        let left: Vec<_> = std::fs::read_dir(s.t.dir.path().join("uploads"))
            .unwrap()
            .collect();
        assert!(
            left.is_empty(),
            "{}: no staged file is left behind: {left:?}",
            s.t.name
        );
    }
}

#[test]
fn no_route_of_the_openapi_document_shows_a_private_dataset_to_another_organisation_or_to_no_one() {
    for s in servers() {
        // A reporting template of the same name first (it makes the dataset), reported to by
        // fra, with a return.
        let op = Caller::operator();
        s.app.add_org_of(&op, "fra", "fra", Some("FRA")).unwrap();
        s.app
            .add_user(
                &op,
                "stats@fra.fr",
                "fra",
                Role::Editor,
                "a long enough password",
            )
            .unwrap();
        let fra = s
            .app
            .sign_in("stats@fra.fr", "a long enough password")
            .unwrap();
        let template: nansen_model::DatasetName = "euaa/classified".parse().unwrap();
        s.app
            .add_template(
                &op,
                &template,
                "title = \"classified\"\nfrequency = \"month\"\ndeadline_days = 17\nreporters = [\"fra\"]\n[dimensions]\norigin = \"countries\"\n[[indicators]]\nname = \"asylum_applications\"\n",
            )
            .unwrap();
        let submission = s
            .app
            .submit(
                &fra,
                &template,
                "2026-01",
                "origin,asylum_applications\nSYR,7\n",
            )
            .unwrap()
            .id;
        let (code, _) = call(
            "POST",
            &format!("{}/api/v1/datasets/euaa/classified/versions", s.base),
            Some(&s.euaa_editor),
            Some(GOOD),
        );
        assert_eq!(code, 201);
        // A private document too, document 1, whose title and text say "classified".
        let (code, body) = call(
            "POST",
            &format!(
                "{}/api/v1/documents?org=euaa&file_name=memo.txt&title=classified",
                s.base
            ),
            Some(&s.euaa_editor),
            Some(b"A classified memo."),
        );
        assert_eq!(code, 201, "{body}");
        // A programme of the same name with a case and a referral, all EUAA's.
        s.app
            .add_programme(
                &op,
                nansen_app::NewProgramme {
                    name: "euaa/classified".parse().unwrap(),
                    kind: nansen_cases::ProgrammeKind::Relocation,
                    title: "classified".into(),
                    partners: vec![],
                    receiving: vec![],
                    starts_on: None,
                    ends_on: None,
                    retention_days: None,
                },
            )
            .unwrap();
        let case = s
            .app
            .add_case(
                &op,
                &"euaa/classified".parse().unwrap(),
                nansen_cases::CaseFile::from_json(r#"{"members": [{"given_name": "classified", "family_name": "classified", "birth_date": "1990-01-01", "sex": "F", "nationality": "SYR", "relationship": "principal"}]}"#).unwrap(),
            )
            .unwrap()
            .id;
        let referral = s
            .app
            .refer_case(
                &op,
                &case,
                nansen_app::ReferralRequest {
                    to: "iom".into(),
                    sections: vec![nansen_cases::Section::Identity],
                    reason: "classified".into(),
                    override_consent: true,
                },
            )
            .unwrap()
            .id;
        // And a matching proposal of it.
        let classified = "euaa/classified".parse().unwrap();
        s.app
            .set_pledge(
                &op,
                &classified,
                nansen_app::PledgeInput {
                    state: "DEU".into(),
                    places: 5,
                    uam_places: 0,
                    medical_places: 0,
                    starts_on: None,
                    ends_on: None,
                    languages: vec![],
                    prefers: vec![],
                    excludes: vec![],
                    note: String::new(),
                },
            )
            .unwrap();
        for stage in ["assessed", "ready-for-matching"] {
            s.app.move_case(&op, &case, stage, None, None).unwrap();
        }
        let proposal = s
            .app
            .propose(&op, &classified, nansen_app::ProposalRequest::default())
            .unwrap()
            .id
            .unwrap();
        let (code, doc) = call(
            "GET",
            &format!("{}/api/v1/openapi.json", s.base),
            None,
            None,
        );
        assert_eq!(code, 200);
        let doc: serde_json::Value = serde_json::from_str(&doc).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        assert!(paths.len() >= 40, "every route is documented");
        // Opaque ids: the case's and the referral's where their routes take one.
        let id_for = |path: &str| {
            if path.starts_with("/api/v1/cases/") {
                case.clone()
            } else if path.starts_with("/api/v1/referrals/") {
                referral.clone()
            } else if path.starts_with("/api/v1/proposals/") {
                proposal.clone()
            } else if path.starts_with("/api/v1/submissions/") {
                submission.clone()
            } else {
                "1".to_string()
            }
        };
        let mut checked = 0;
        for (path, ops) in paths {
            for method in ops.as_object().unwrap().keys() {
                // The documented required query parameters, with their examples.
                let required: Vec<String> = ops[method]["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|p| p["in"] == "query" && p["required"] == true)
                    .map(|p| {
                        format!(
                            "{}={}",
                            p["name"].as_str().unwrap(),
                            p["example"].to_string().trim_matches('"')
                        )
                    })
                    .collect();
                let query = if required.is_empty() {
                    String::new()
                } else {
                    format!("?{}", required.join("&"))
                };
                let concrete = path
                    .replace("{org}", "euaa")
                    .replace("{slug}", "classified")
                    .replace("{number}", "1")
                    .replace("{id}", &id_for(path))
                    .replace("{case}", &case)
                    .replace("{n}", "1");
                let url = format!("{}{concrete}{query}", s.base);
                let missing = format!(
                    "{}{}{query}",
                    s.base,
                    path.replace("{org}", "euaa")
                        .replace("{slug}", "no-such-dataset")
                        .replace("{number}", "1")
                        .replace("{id}", "999")
                        .replace("{case}", "999")
                        .replace("{n}", "1")
                );
                for token in [Some(s.bmi.as_str()), None] {
                    let body = (method == "post"
                        && (path.ends_with("/versions") || path.ends_with("/uploads")))
                    .then_some(GOOD);
                    let (code, text) = call(&method.to_uppercase(), &url, token, body);
                    let who = if token.is_some() { "bmi" } else { "no token" };
                    // Served, and answered as documented: the router and the document are
                    // built from one list of routes.
                    assert!(
                        ops[method]["responses"].get(code.to_string()).is_some(),
                        "{method} {path} as {who} answered {code}, which its documentation does not list: {text}"
                    );
                    if path.contains("{slug}") {
                        assert_eq!(code, 404, "{} {method} {path} as {who}: {text}", s.t.name);
                        let (code2, text2) = call(&method.to_uppercase(), &missing, token, body);
                        assert_eq!(code2, 404);
                        assert_eq!(
                            text.replace("classified", "X"),
                            text2.replace("no-such-dataset", "X"),
                            "{method} {path}: the same answer as for a dataset that does not exist"
                        );
                    } else {
                        assert!(
                            !text.contains("classified"),
                            "{method} {path} as {who} leaks the private dataset: {text}"
                        );
                        if path.contains("{id}") {
                            assert!(
                                code == 404 || code == 401,
                                "{method} {path} as {who}: {code} {text}"
                            );
                        }
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked >= 56, "{checked}");
        // The owner still sees it, and the sweep changed nothing.
        let (code, body) = call(
            "GET",
            &format!("{}/api/v1/datasets/euaa/classified", s.base),
            Some(&s.euaa_admin),
            None,
        );
        assert_eq!(code, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            (
                v["sharing"].as_str(),
                v["versions"].as_array().map(Vec::len)
            ),
            (Some("private"), Some(1))
        );
        let (code, _) = call(
            "GET",
            &format!("{}/api/v1/audit/verify", s.base),
            None,
            None,
        );
        assert_eq!(
            code, 401,
            "verifying reads the whole chain: signed-in callers only"
        );
        let (_, verify) = call(
            "GET",
            &format!("{}/api/v1/audit/verify", s.base),
            Some(&s.iom),
            None,
        );
        assert!(verify.contains("\"intact\":true"), "{verify}");
    }
}

#[test]
fn a_bad_token_is_refused_not_treated_as_anonymous() {
    for s in servers() {
        let (code, body) = call(
            "GET",
            &format!("{}/api/v1/datasets", s.base),
            Some("nansen_forged"),
            None,
        );
        assert_eq!(code, 401, "{body}");
        let (code, body) = call(
            "POST",
            &format!("{}/api/v1/tokens", s.base),
            Some(&s.bmi),
            None,
        );
        assert_eq!(code, 201, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let fresh = v["token"].as_str().unwrap().to_string();
        let (_, list) = call(
            "GET",
            &format!("{}/api/v1/tokens", s.base),
            Some(&fresh),
            None,
        );
        let id = serde_json::from_str::<serde_json::Value>(&list)
            .unwrap()
            .as_array()
            .unwrap()
            .last()
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        assert!(!list.contains(&fresh), "token values are never listed");
        assert_eq!(
            call(
                "POST",
                &format!("{}/api/v1/tokens/{id}/revoke", s.base),
                Some(&fresh),
                None
            )
            .0,
            200
        );
        assert_eq!(
            call(
                "GET",
                &format!("{}/api/v1/datasets", s.base),
                Some(&fresh),
                None
            )
            .0,
            401
        );
    }
}

#[test]
fn analysis_over_http_changes_flows_and_comparisons() {
    for s in servers() {
        let post = |slug: &str, body: &[u8]| {
            call(
                "POST",
                &format!("{}/api/v1/datasets/euaa/{slug}/versions", s.base),
                Some(&s.euaa_editor),
                Some(body),
            )
        };
        assert_eq!(post("apps", GOOD).0, 201);
        assert_eq!(post("other", b"indicator,period,geo,origin,value,flags\nasylum_applications,2015-01,DEU,SYR,90,\n").0, 201);
        let get = |path: &str| {
            call(
                "GET",
                &format!("{}{path}", s.base),
                Some(&s.euaa_editor),
                None,
            )
        };
        let (code, body) = get("/api/v1/datasets/euaa/apps/observations?where=geo:DEU&group_by=period&change=previous&format=csv");
        assert_eq!(
            (code, body.as_str()),
            (
                200,
                "period,value,previous,change,change_pct\n2015-01,100,,,\n2015-02,120,100,20,20\n"
            ),
            "{}",
            s.t.name
        );
        let (code, body) = get(
            "/api/v1/datasets/euaa/apps/observations?group_by=period&frequency=quarter&format=csv",
        );
        assert_eq!((code, body.as_str()), (200, "period,value\n2015-Q1,240\n"));
        let (code, body) = get("/api/v1/datasets/euaa/apps/observations?group_by=geo&derived=share_of_total&format=csv");
        assert_eq!(
            (code, body.as_str()),
            (200, "geo,value\nDEU,91.666667\nFRA,8.333333\n")
        );
        let (code, body) = get("/api/v1/datasets/euaa/apps/flows");
        assert_eq!(code, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            v["links"][0],
            serde_json::json!({ "source": "origin:SYR", "target": "geo:DEU", "value": 220.0 })
        );
        assert_eq!(v["nodes"][0]["label"], "Syria");
        let (code, body) = get(
            "/api/v1/compare?dataset=euaa/apps&dataset=euaa/other&group_by=geo,period&format=csv",
        );
        assert_eq!(code, 200, "{body}");
        assert!(body.contains("DEU,2015-01,100,90,-10,-10\n"), "{body}");
        let (code, _) = call(
            "GET",
            &format!(
                "{}/api/v1/compare?dataset=euaa/apps&dataset=euaa/other",
                s.base
            ),
            Some(&s.bmi),
            None,
        );
        assert_eq!(code, 404, "another organisation's comparison finds nothing");
    }
}

/// `call` with a JSON body.
fn send_json(method: &str, url: &str, token: &str, body: serde_json::Value) -> (u16, String) {
    let res = ureq::request(method, url)
        .set("Authorization", &format!("Bearer {token}"))
        .set("Content-Type", "application/json")
        .send_string(&body.to_string());
    match res {
        Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap_or_default()),
        Err(e) => panic!("{method} {url}: {e}"),
    }
}

#[test]
fn forecasts_backtests_watches_and_alerts_over_http() {
    for s in servers() {
        // Four years of a monthly series in two countries, then a tripling in Germany.
        let mut csv = String::from("indicator,period,geo,origin,value\n");
        for m in 0..48 {
            for (geo, base) in [("DEU", 1000.0), ("FRA", 400.0)] {
                let v = base
                    * (1.0 + 0.2 * ((m % 12) as f64 / 2.0).sin())
                    * if geo == "DEU" && m == 47 { 3.0 } else { 1.0 };
                csv.push_str(&format!(
                    "asylum_applications,{}-{:02},{geo},SYR,{}\n",
                    2011 + m / 12,
                    m % 12 + 1,
                    v.round()
                ));
            }
        }
        let (code, body) = call(
            "POST",
            &format!("{}/api/v1/datasets/euaa/monthly/versions", s.base),
            Some(&s.euaa_editor),
            Some(csv.as_bytes()),
        );
        assert_eq!(code, 201, "{body}");
        let (code, body) = call("GET", &format!("{}/api/v1/datasets/euaa/monthly/forecast?series_by=geo&horizon=2&format=csv&period=..2014-11", s.base), Some(&s.euaa_editor), None);
        assert_eq!(code, 200, "{}: {body}", s.t.name);
        let lines: Vec<&str> = body.lines().collect();
        assert_eq!(lines[0], "geo,period,model,mean,lo,hi");
        assert_eq!(lines.len(), 5, "two series, two months: {body}");
        assert!(lines[1].starts_with("DEU,2014-12,auto,"), "{}", lines[1]);
        let (code, body) = call("GET", &format!("{}/api/v1/datasets/euaa/monthly/backtest?series_by=geo&horizon=1&windows=6&model=all", s.base), Some(&s.euaa_editor), None);
        assert_eq!(code, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            v["scores"].as_array().unwrap().len(),
            2 * 6,
            "two series, six models"
        );
        let (code, body) = call(
            "GET",
            &format!(
                "{}/api/v1/datasets/euaa/monthly/backtest?series_by=geo&horizon=1",
                s.base
            ),
            Some(&s.euaa_editor),
            None,
        );
        assert_eq!(code, 400, "windows is required: {body}");
        assert_eq!(
            call(
                "GET",
                &format!("{}/api/v1/datasets/euaa/monthly/forecast?horizon=2", s.base),
                Some(&s.bmi),
                None
            )
            .0,
            404,
            "BMI may not see it"
        );

        let watch = serde_json::json!({ "org": "euaa", "name": "Syrians", "dataset": "euaa/monthly", "wheres": ["origin=SYR"], "series_by": ["geo"],
            "rules": [{ "name": "c1" }], "lookback": 1 });
        let (code, body) = send_json(
            "POST",
            &format!("{}/api/v1/watches", s.base),
            &s.bmi,
            watch.clone(),
        );
        assert_eq!(code, 403, "BMI may not watch for EUAA: {body}");
        let (code, body) = send_json(
            "POST",
            &format!("{}/api/v1/watches", s.base),
            &s.euaa_editor,
            watch,
        );
        assert_eq!(code, 201, "{body}");
        let (_, body) = call(
            "GET",
            &format!("{}/api/v1/alerts", s.base),
            Some(&s.euaa_editor),
            None,
        );
        let alerts: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap();
        assert_eq!(alerts.len(), 1, "{body}");
        assert_eq!(
            (
                alerts[0]["series"].as_str(),
                alerts[0]["period"].as_str(),
                alerts[0]["rule"].as_str()
            ),
            (Some("DEU"), Some("2014-12"), Some("c1"))
        );
        let id = alerts[0]["id"].as_i64().unwrap();
        let (code, body) = send_json(
            "POST",
            &format!("{}/api/v1/alerts/{id}", s.base),
            &s.euaa_editor,
            serde_json::json!({ "status": "acknowledged" }),
        );
        assert_eq!(code, 200, "{body}");
        assert_eq!(
            call(
                "GET",
                &format!("{}/api/v1/alerts/{id}", s.base),
                Some(&s.bmi),
                None
            )
            .0,
            404
        );
        assert_eq!(
            call(
                "GET",
                &format!("{}/api/v1/alerts", s.base),
                Some(&s.bmi),
                None
            )
            .1,
            "[]"
        );
        assert_eq!(
            call("GET", &format!("{}/api/v1/alerts", s.base), None, None).0,
            401
        );
    }
}

#[test]
fn a_pdf_posted_over_http_is_found_by_a_partner_with_the_word_highlighted_and_by_no_one_else() {
    let report = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../nansen-extract/tests/fixtures/report.pdf"),
    )
    .unwrap();
    for s in servers() {
        let add = format!("{}/api/v1/documents?org=euaa&file_name=reception.pdf&type=report&countries=ITA&date=2025-06", s.base);
        let (code, body) = call(
            "POST",
            &format!("{add}&share=partners:iom"),
            Some(&s.euaa_editor),
            Some(&report),
        );
        assert_eq!(
            code, 403,
            "{}: editors do not choose sharing: {body}",
            s.t.name
        );
        let (code, body) = call(
            "POST",
            &format!("{add}&share=partners:iom"),
            Some(&s.euaa_admin),
            Some(&report),
        );
        assert_eq!(code, 201, "{body}");
        let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            (
                doc["versions"][0]["pages"].as_i64(),
                doc["language"].as_str()
            ),
            (Some(3), Some("en")),
            "{body}"
        );
        let id = doc["id"].as_i64().unwrap();
        let (code, body) = call(
            "GET",
            &format!("{}/api/v1/search?q=lampedusa", s.base),
            Some(&s.iom),
            None,
        );
        assert_eq!(code, 200, "{body}");
        let r: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(r["total"], 1, "{}: {body}", s.t.name);
        assert_eq!(r["hits"][0]["id"], id.to_string());
        let snippet = r["hits"][0]["snippet"].as_str().unwrap();
        assert!(
            !snippet.contains('<'),
            "plain text for partners' systems: {body}"
        );
        let [start, end] =
            [0, 1].map(|i| r["hits"][0]["highlights"][0][i].as_u64().unwrap() as usize);
        assert_eq!(&snippet[start..end], "Lampedusa", "{body}");
        for who in [Some(s.bmi.as_str()), None] {
            let (code, body) = call(
                "GET",
                &format!("{}/api/v1/search?q=lampedusa", s.base),
                who,
                None,
            );
            assert_eq!(code, 200);
            let r: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(r["total"], 0, "{body}");
            assert!(
                !body.contains("Lampedusa") && !body.contains("Reception"),
                "{body}"
            );
            assert_eq!(
                call(
                    "GET",
                    &format!("{}/api/v1/documents/{id}/file", s.base),
                    who,
                    None
                )
                .0,
                404
            );
        }
        let (code, body) = call(
            "GET",
            &format!("{}/api/v1/documents/{id}/file", s.base),
            Some(&s.iom),
            None,
        );
        assert_eq!((code, body.len() > 1000), (200, true));
        let (code, body) = call(
            "GET",
            &format!("{}/api/v1/documents/{id}/text", s.base),
            Some(&s.iom),
            None,
        );
        assert_eq!(code, 200);
        assert!(
            serde_json::from_str::<serde_json::Value>(&body).unwrap()["pages"][2]
                .as_str()
                .unwrap()
                .contains("Lampedusa")
        );
        let (code, body) = call(
            "POST",
            &format!("{}/api/v1/documents?org=euaa&file_name=report.pdf", s.base),
            Some(&s.euaa_editor),
            Some(b"%PDF-1.4 broken"),
        );
        assert_eq!(code, 400, "{body}");
        assert!(body.contains("the PDF cannot be read"), "{body}");
    }
}

/// Sends a request's head and the first `send` bytes of a body said to be `length` long,
/// then reads whatever the server answers: it must answer without the rest.
fn answer_before_the_body(
    base: &str,
    path: &str,
    token: Option<&str>,
    length: u64,
    send: usize,
) -> String {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://");
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(conn, "POST {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/octet-stream\r\nContent-Length: {length}\r\n\r\n").unwrap();
    let _ = conn.write_all(&vec![b'x'; send]);
    let mut answer = vec![0u8; 4096];
    let n = conn.read(&mut answer).unwrap_or(0);
    String::from_utf8_lossy(&answer[..n]).into_owned()
}

#[test]
fn uploads_are_refused_before_their_body_is_read_when_the_caller_may_not_send_them() {
    for s in servers() {
        // 100 MB announced, 64 KB sent: the answer comes without the rest.
        for (path, token, status) in [
            ("/api/v1/documents?org=euaa&file_name=x.pdf", None, "404"),
            (
                "/api/v1/documents?org=euaa&file_name=x.pdf",
                Some(s.iom.as_str()),
                "404",
            ),
            (
                "/api/v1/datasets/euaa/apps/versions?file_name=x.csv",
                None,
                "404",
            ),
            (
                "/api/v1/datasets/euaa/apps/uploads?file_name=x.csv",
                Some(s.bmi.as_str()),
                "404",
            ),
        ] {
            let answer = answer_before_the_body(&s.base, path, token, 100 << 20, 64 << 10);
            assert!(
                answer.starts_with(&format!("HTTP/1.1 {status}")),
                "{} {path}: {answer}",
                s.t.name
            );
        }
        let uploads = s.t.dir.path().join("uploads");
        let left = std::fs::read_dir(&uploads).map(|d| d.count()).unwrap_or(0);
        assert_eq!(
            left, 0,
            "{}: nothing was written for refused callers",
            s.t.name
        );
        // An editor's document past the limit is refused with 413, and leaves nothing.
        let answer = answer_before_the_body(
            &s.base,
            "/api/v1/documents?org=euaa&file_name=x.txt",
            Some(&s.euaa_editor),
            (nansen_app::MAX_DOCUMENT_BYTES + 1) as u64,
            nansen_app::MAX_DOCUMENT_BYTES + 1,
        );
        assert!(answer.starts_with("HTTP/1.1 413"), "{}: {answer}", s.t.name);
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert_eq!(
            std::fs::read_dir(&uploads).map(|d| d.count()).unwrap_or(0),
            0,
            "the refused body's file is gone"
        );
    }
}

#[test]
fn expensive_work_over_a_limit_answers_429_with_retry_after_and_never_5xx() {
    for s in servers() {
        let (code, _) = call(
            "POST",
            &format!(
                "{}/api/v1/datasets/euaa/apps/versions?file_name=apps.csv&share=public",
                s.base
            ),
            Some(&s.euaa_admin),
            Some(GOOD),
        );
        assert_eq!(code, 201);
        let backtest = format!(
            "{}/api/v1/datasets/euaa/apps/backtest?series_by=geo&horizon=1&windows=1",
            s.base
        );
        // This address already runs a backtest (held here): a second is refused at once.
        let held = s
            .app
            .admit(
                &Caller::anonymous(),
                Some("127.0.0.1".parse().unwrap()),
                nansen_app::Work::Forecast,
            )
            .unwrap();
        let res = ureq::get(&backtest).call();
        let Err(ureq::Error::Status(429, r)) = res else {
            panic!("{}: expected 429, got {res:?}", s.t.name)
        };
        assert_eq!(r.header("Retry-After"), Some("5"));
        let body = r.into_string().unwrap();
        assert!(
            body.contains("at most 1 forecasts and backtests at once per address"),
            "{body}"
        );
        // A signed-in person has an allowance of their own.
        let (code, body) = call("GET", &backtest, Some(&s.iom), None);
        assert_ne!(code, 429, "{body}");
        drop(held);
        // Past its deadline, work stops and says which limit.
        let mut limits = s.app.limits();
        limits.forecast.anonymous_seconds = 0;
        s.app.set_limits(limits);
        let (code, body) = call(
            "GET",
            &format!(
                "{}/api/v1/datasets/euaa/apps/forecast?series_by=geo&horizon=1",
                s.base
            ),
            None,
            None,
        );
        assert_eq!(code, 429, "{body}");
        assert!(body.contains("ran past its limit of 0 s"), "{body}");
        // Searching far past the first hits is refused before the index gathers them.
        let (code, body) = call(
            "GET",
            &format!("{}/api/v1/search?q=asylum&offset=10000000000", s.base),
            None,
            None,
        );
        assert_eq!(code, 400, "{body}");
        let (code, _) = call(
            "GET",
            &format!("{}/search?q=asylum&page=1000000000", s.base),
            None,
            None,
        );
        assert_eq!(code, 422);
        let (code, body) = call(
            "GET",
            &format!(
                "{}/api/v1/datasets/euaa/apps/observations?where=geo:%E9%",
                s.base
            ),
            None,
            None,
        );
        assert_eq!(code, 400, "{body}");
        assert!(body.contains("percent-encoding"), "{body}");
        let (code, _) = call("GET", &format!("{}/api/v1/health", s.base), None, None);
        assert_eq!(code, 200, "{}: the server lives", s.t.name);
    }
}

/// The `x-request-id` of a response to a GET, sending `sent` as the caller's own id.
fn request_id(url: &str, sent: Option<&str>) -> (u16, String) {
    let mut req = ureq::AgentBuilder::new().build().get(url);
    if let Some(id) = sent {
        req = req.set("x-request-id", id);
    }
    let r = match req.call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{url}: {e}"),
    };
    (
        r.status(),
        r.header("x-request-id").unwrap_or("").to_string(),
    )
}

#[test]
fn every_response_carries_a_request_id_the_callers_when_it_is_sane() {
    for s in servers() {
        let api = format!("{}/api/v1/health", s.base);
        let (code, mine) = request_id(&api, Some("partner-7.f00d_1"));
        assert_eq!(
            (code, mine.as_str()),
            (200, "partner-7.f00d_1"),
            "{}",
            s.t.name
        );
        // A new one when none is sent, a different one each time, on pages and refusals too.
        let (_, a) = request_id(&api, None);
        let (_, b) = request_id(&format!("{}/", s.base), None);
        let (code, c) = request_id(&format!("{}/api/v1/datasets/euaa/nothing", s.base), None);
        assert_eq!(code, 404);
        assert!(!a.is_empty() && a != b && b != c, "{a} {b} {c}");
        // What is not a sane token never reaches the logs or the answer.
        let (_, replaced) = request_id(&api, Some("<script>alert(1)</script>"));
        assert!(
            !replaced.is_empty() && !replaced.contains('<'),
            "{replaced}"
        );
        let long = "x".repeat(65);
        assert_ne!(request_id(&api, Some(&long)).1, long);
    }
}

/// The value of one sample line of a metrics text, by its name and labels as written.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn metrics_are_for_operators_and_configured_addresses_only_and_count_what_the_process_did() {
    for s in servers() {
        let url = format!("{}/metrics", s.base);
        // Nobody reads them by default, not even from loopback; a member of an organisation
        // learns nothing, not even that they exist.
        assert_eq!(call("GET", &url, None, None).0, 401, "{}", s.t.name);
        assert_eq!(call("GET", &url, Some(&s.euaa_admin), None).0, 404);
        let op = Caller::operator();
        s.app
            .add_user(
                &op,
                "ops@euaa.eu",
                "euaa",
                Role::Viewer,
                "a long enough password",
            )
            .unwrap();
        s.app.set_operator(&op, "ops@euaa.eu", true).unwrap();
        let ops = s.app.create_token(&op, "ops@euaa.eu", "t").unwrap();

        let import = format!(
            "{}/api/v1/datasets/euaa/apps/versions?file_name=a.csv",
            s.base
        );
        assert_eq!(
            call("POST", &import, Some(&s.euaa_editor), Some(GOOD)).0,
            201
        );
        let dataset = format!("{}/api/v1/datasets/euaa/apps/observations", s.base);
        assert_eq!(call("GET", &dataset, Some(&s.euaa_editor), None).0, 200);
        let (code, text) = call("GET", &url, Some(&ops), None);
        assert_eq!(code, 200, "{text}");
        let requests = "nansen_http_requests_total{method=\"GET\",route=\"/api/v1/datasets/:org/:slug/observations\",status=\"200\"}";
        assert!(sample(&text, requests).unwrap_or(0.0) >= 1.0, "{text}");
        assert!(
            !text.contains("/api/v1/datasets/euaa/apps"),
            "routes are patterns, never the paths callers typed"
        );
        assert!(text.contains("nansen_http_request_duration_seconds_bucket{"));
        assert!(sample(&text, "nansen_imports_total{outcome=\"landed\"}").unwrap() >= 1.0);
        assert!(sample(&text, "nansen_import_rows_total").unwrap() >= 3.0);
        assert!(sample(&text, "nansen_cube_cache_cubes").unwrap() >= 1.0);
        for series in [
            "nansen_search_lag_entries",
            "nansen_job_rounds_total{job=\"search\"}",
            "nansen_webhook_deliveries_total{outcome=\"failed\"}",
        ] {
            assert!(sample(&text, series).is_some(), "{series} in {text}");
        }
        assert!(text.ends_with("# EOF\n"));

        // A Prometheus server at a configured address reads them without a token.
        s.app
            .set_metrics_readers(vec!["127.0.0.1".parse().unwrap()]);
        assert_eq!(call("GET", &url, None, None).0, 200);
        s.app.set_metrics_readers(Vec::new());
        assert_eq!(call("GET", &url, None, None).0, 401);
    }
}

/// The web's POST routes, read from where the router is written, so a new form is swept
/// without anyone remembering to list it.
fn web_post_routes() -> Vec<String> {
    let source = include_str!("../../nansen-web/src/lib.rs");
    let mut routes = Vec::new();
    for call in source.split(".route(").skip(1) {
        let Some(path) = call.split('"').nth(1) else {
            continue;
        };
        let handlers = call.split(".with_state(").next().unwrap_or(call);
        if handlers.contains("post(") {
            routes.push(path.to_string());
        }
    }
    routes
}

/// Every web form refuses a POST without the session's own token, or with another one, and
/// changes nothing: the token check stands in front of every form, whatever its fields.
#[test]
fn every_web_form_refuses_a_post_without_the_sessions_token_and_changes_nothing() {
    let routes = web_post_routes();
    assert!(routes.len() >= 20, "{routes:?}");
    for s in servers() {
        let import = format!(
            "{}/api/v1/datasets/euaa/apps/versions?file_name=a.csv",
            s.base
        );
        assert_eq!(
            call("POST", &import, Some(&s.euaa_editor), Some(GOOD)).0,
            201
        );
        let (secret, token, _) = s
            .app
            .start_session("admin@euaa.eu", "a long enough password")
            .unwrap();
        let audit = || s.app.audit_log(&Caller::operator()).unwrap().len();
        let before = audit();
        let agent = ureq::AgentBuilder::new().redirects(0).build();
        for route in &routes {
            let path = route
                .replace(":org", "euaa")
                .replace(":slug", "apps")
                .replace(":id", "1")
                .replace(":n", "1");
            let url = format!("{}{path}", s.base);
            for csrf in ["", "0123456789abcdef"] {
                let fields = format!(
                    "csrf={csrf}&name=x&reason=we+need+it+for+planning&sharing=public&share=public&decision=approve&email=v%40iom.int&org=euaa&role=admin&slug=x&status=resolved&body=x&title=x&done=on&password=x"
                );
                let multipart = format!(
                    "--b\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--b\r\nContent-Disposition: form-data; name=\"dataset\"\r\n\r\neuaa/apps\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\nContent-Type: text/csv\r\n\r\n{}\r\n--b--\r\n",
                    String::from_utf8_lossy(GOOD)
                );
                for (kind, body) in [
                    ("application/x-www-form-urlencoded", fields),
                    ("multipart/form-data; boundary=b", multipart),
                ] {
                    let r = agent
                        .post(&url)
                        .set("Cookie", &format!("nansen_session={secret}"))
                        .set("Content-Type", kind)
                        .send_string(&body);
                    let code = match r {
                        Ok(r) => r.status(),
                        Err(ureq::Error::Status(code, _)) => code,
                        Err(e) => panic!("POST {path} ({kind}): {e:?}"),
                    };
                    assert!(
                        code >= 400,
                        "{}: POST {path} ({kind}) without the session's token answered {code}",
                        s.t.name
                    );
                }
            }
        }
        assert_eq!(
            audit(),
            before,
            "{}: a refused form changed something",
            s.t.name
        );
        // With the token, the same kind of POST goes through: the sweep could fail.
        let r = agent
            .post(&format!("{}/account/tokens", s.base))
            .set("Cookie", &format!("nansen_session={secret}"))
            .set("Content-Type", "application/x-www-form-urlencoded")
            .send_string(&format!("csrf={token}&name=laptop"));
        let code = match r {
            Ok(r) => r.status(),
            Err(ureq::Error::Status(code, _)) => code,
            Err(e) => panic!("{e}"),
        };
        assert!(
            code < 400,
            "{}: the token's own POST answered {code}",
            s.t.name
        );
        assert!(audit() > before);
    }
}

/// A request refused before its body was read leaves the body on the connection, which the
/// server then closes; the answer says so, so a client that keeps connections alive opens a
/// new one instead of sending its next request down a closed socket. Answers that read the
/// whole body keep the connection.
#[test]
fn an_answer_given_before_the_body_was_read_says_the_connection_closes() {
    let s = &servers()[0];
    let agent = ureq::AgentBuilder::new().build();
    let connection = |r: &ureq::Response| r.header("connection").unwrap_or("").to_string();
    let answer = |r: Result<ureq::Response, ureq::Error>| match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{e:?}"),
    };
    let url = format!("{}/api/v1/tokens", s.base);
    let refused = answer(
        agent
            .post(&url)
            .set("Authorization", &format!("Bearer {}", s.euaa_editor))
            .set("Content-Type", "text/plain")
            // Small enough to be written whole before the server answers and closes: a body
            // larger than the socket's buffers may meet the closed connection while it is
            // still being sent (a broken pipe, as any HTTP client may see on an early answer).
            .send_string(&"x".repeat(4_000)),
    );
    assert_eq!(refused.status(), 415);
    assert_eq!(connection(&refused), "close");
    let read = answer(
        agent
            .post(&url)
            .set("Authorization", &format!("Bearer {}", s.euaa_editor))
            .set("Content-Type", "application/json")
            .send_string("{\"name\":\"laptop\"}"),
    );
    assert_eq!(read.status(), 201);
    assert_ne!(connection(&read), "close");
    let health = answer(agent.get(&format!("{}/api/v1/health", s.base)).call());
    assert_eq!(health.status(), 200);
    assert_ne!(connection(&health), "close");
}

#[test]
fn operations_over_http_show_each_role_its_sections_and_refuse_bad_cases_by_field() {
    for s in servers() {
        let op = Caller::operator();
        let mut tokens = std::collections::HashMap::new();
        for (who, email, org, role, supervisor) in [
            ("cw", "cw@euaa.eu", "euaa", Role::Caseworker, false),
            ("sup", "sup@euaa.eu", "euaa", Role::Caseworker, true),
            ("po", "po@euaa.eu", "euaa", Role::Protection, false),
            ("analyst", "an@euaa.eu", "euaa", Role::Analyst, false),
            ("iom", "cw@iom.int", "iom", Role::Caseworker, false),
        ] {
            s.app
                .add_user_as(
                    &op,
                    email,
                    org,
                    (role, supervisor),
                    "a long enough password",
                )
                .unwrap();
            tokens.insert(who, s.app.create_token(&op, email, "t").unwrap());
        }
        let url = |p: &str| format!("{}/api/v1{p}", s.base);
        let (code, body) = send_json(
            "POST",
            &url("/programmes"),
            &s.euaa_admin,
            serde_json::json!({"name": "euaa/relocation", "type": "relocation", "title": "Relocation from Greece", "partners": ["iom"]}),
        );
        assert_eq!(code, 201, "{body}");
        let programme: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(programme["stages"][2]["name"], "ready-for-matching");
        assert_eq!(programme["stages"][2]["approval"], true);
        let (code, body) = send_json(
            "POST",
            &url("/programmes/euaa/relocation/pledges"),
            &s.euaa_admin,
            serde_json::json!({"state": "DEU", "places": 500, "uam_places": 20, "medical_places": 30}),
        );
        assert_eq!(code, 201, "{body}");
        let case = serde_json::json!({
            "members": [{"given_name": "Amina", "family_name": "Haddad", "birth_date": "1990-04-02", "sex": "F", "nationality": "SYR", "languages": ["ar"], "relationship": "principal"}],
            "needs": ["SM-CI"],
            "consents": [{"purpose": "referral", "partner": "iom"}],
            "links": []
        });
        let (code, body) = send_json(
            "POST",
            &url("/programmes/euaa/relocation/cases"),
            &tokens["cw"],
            case.clone(),
        );
        assert_eq!(code, 201, "{body}");
        let registered: serde_json::Value = serde_json::from_str(&body).unwrap();
        let id = registered["id"].as_str().unwrap().to_string();
        assert_eq!(registered["possible_duplicates"], serde_json::json!([]));
        let (_, again) = send_json(
            "POST",
            &url("/programmes/euaa/relocation/cases"),
            &tokens["cw"],
            case.clone(),
        );
        assert!(
            again.contains(&id),
            "the same person again is a possible duplicate: {again}"
        );

        let read = |token: &str| call("GET", &url(&format!("/cases/{id}")), Some(token), None);
        let (code, body) = read(&tokens["cw"]);
        assert_eq!(code, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            v["sections"],
            serde_json::json!(["identity", "household", "process", "consent"])
        );
        assert!(v.get("needs").is_none() && v["identity"][0]["given_name"] == "Amina");
        let (_, body) = read(&tokens["po"]);
        assert!(body.contains("Chronic illness"), "{body}");
        let (code, unknown) = call(
            "GET",
            &url("/cases/not-a-case"),
            Some(&tokens["analyst"]),
            None,
        );
        assert_eq!(code, 404);
        for outsider in [
            tokens["analyst"].as_str(),
            tokens["iom"].as_str(),
            s.bmi.as_str(),
        ] {
            let (code, body) = read(outsider);
            assert_eq!(
                (code, body.replace(&id, "not-a-case")),
                (404, unknown.clone())
            );
        }

        let mut bad = case.clone();
        bad["members"][0]["birth_date"] = "2999-01-01".into();
        let (code, body) = send_json(
            "POST",
            &url("/programmes/euaa/relocation/cases"),
            &tokens["cw"],
            bad,
        );
        assert_eq!(code, 400);
        assert!(
            body.contains("members[0].birth_date: 2999-01-01 is in the future"),
            "{body}"
        );
        let mut bad = case.clone();
        bad["members"][0]["sex"] = "Q".into();
        let (code, body) = send_json(
            "POST",
            &url("/programmes/euaa/relocation/cases"),
            &tokens["cw"],
            bad,
        );
        assert_eq!(code, 422);
        assert!(body.contains("members[0].sex"), "{body}");

        let (code, body) = send_json(
            "POST",
            &url(&format!("/cases/{id}/transitions")),
            &tokens["cw"],
            serde_json::json!({"to": "assessed", "revision": 1}),
        );
        assert_eq!(code, 200, "{body}");
        let (code, body) = send_json(
            "POST",
            &url(&format!("/cases/{id}/transitions")),
            &tokens["sup"],
            serde_json::json!({"to": "ready-for-matching", "revision": 1}),
        );
        assert_eq!(
            code, 409,
            "a change made on an older revision is refused: {body}"
        );
        let (code, body) = send_json(
            "POST",
            &url(&format!("/cases/{id}/referrals")),
            &tokens["cw"],
            serde_json::json!({"to": "iom", "sections": ["identity"], "reason": "transport"}),
        );
        assert_eq!(code, 201, "{body}");
        let created: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(created["status"], "pending");
        let referral = created["id"].as_str().unwrap();
        let (code, _) = send_json(
            "POST",
            &url(&format!("/referrals/{referral}/accept")),
            &tokens["iom"],
            serde_json::json!({}),
        );
        assert_eq!(code, 200);
        let (code, body) = read(&tokens["iom"]);
        assert_eq!(code, 200);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["sections"], serde_json::json!(["identity"]));

        // A passport scan filed under identity reaches IOM, which was sent that section; a
        // medical report cannot be filed by a caseworker who does not read medical.
        let attach = |section: &str, body: &[u8]| {
            call(
                "POST",
                &url(&format!(
                    "/cases/{id}/documents?section={section}&file_name=scan.pdf"
                )),
                Some(&tokens["cw"]),
                Some(body),
            )
        };
        let (code, body) = attach("identity", b"%PDF-1.4 Amina Haddad passport");
        assert_eq!(code, 201, "{body}");
        let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
        let doc_url = url(&format!(
            "/cases/{id}/documents/{}",
            doc["id"].as_str().unwrap()
        ));
        let (code, file) = call("GET", &doc_url, Some(&tokens["iom"]), None);
        assert_eq!(
            (code, file.as_str()),
            (200, "%PDF-1.4 Amina Haddad passport")
        );
        let (code, _) = call("GET", &doc_url, Some(&tokens["analyst"]), None);
        assert_eq!(code, 404, "an analyst reads no case's documents");
        assert_eq!(attach("medical", b"%PDF-1.4 x").0, 403);
        let (code, body) = send_json(
            "POST",
            &url(&format!("/cases/{id}/follow-ups")),
            &tokens["cw"],
            serde_json::json!({"on": "2026-01-05", "economic": 0.5, "social": 0.5, "psychosocial": 0.5}),
        );
        assert_eq!(code, 400, "{body}");
        assert!(body.contains("for return programmes"), "{body}");
        let (code, body) = attach("identity", b"<html><script>alert(1)</script>");
        assert_eq!(code, 400, "{body}");
        assert!(body.contains("is not a PDF, JPEG, PNG"), "{body}");

        let (code, body) = send_json(
            "POST",
            &url(&format!("/cases/{id}/match")),
            &tokens["cw"],
            serde_json::json!({"state": "Germany"}),
        );
        assert_eq!(code, 200, "{body}");
        let (code, body) = call(
            "GET",
            &url("/programmes/euaa/relocation/pipeline"),
            Some(&tokens["analyst"]),
            None,
        );
        assert_eq!(code, 200, "{body}");
        let pipeline: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(pipeline["states"][0]["state"], "DEU");
        assert_eq!(
            pipeline["states"][0]["pledged"],
            serde_json::json!([500, 20, 30])
        );
        assert_eq!(
            pipeline["states"][0]["now_at"][1], 1,
            "Amina, assessed: {body}"
        );
        assert_eq!(pipeline["longest_waiting"], serde_json::json!([]));
        let (code, body) = call(
            "GET",
            &url("/programmes/euaa/relocation/cases?state=DEU&order=waiting"),
            Some(&tokens["cw"]),
            None,
        );
        assert_eq!(code, 200, "{body}");
        let list: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(list["total"], 1);
        assert_eq!(list["cases"][0]["state"], "DEU");
        let (code, _) = call(
            "GET",
            &url("/programmes/euaa/relocation/cases?order=oldest"),
            Some(&tokens["cw"]),
            None,
        );
        assert_eq!(code, 400);

        let (code, body) = call("GET", &url("/vocabularies/specific-needs"), None, None);
        assert_eq!(code, 200);
        let needs: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert!(needs
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["code"] == "SC-UC" && n["category"] == "Unaccompanied or separated child"));
    }
}

#[test]
fn a_matching_proposal_is_made_read_and_accepted_over_http_by_the_programme_s_admins_alone() {
    for s in servers() {
        let op = Caller::operator();
        s.app.add_org_of(&op, "bamf", "BAMF", Some("DEU")).unwrap();
        let url = |p: &str| format!("{}/api/v1{p}", s.base);
        let (code, body) = send_json(
            "POST",
            &url("/programmes"),
            &s.euaa_admin,
            serde_json::json!({"name": "euaa/relocation", "type": "relocation", "title": "Relocation", "receiving": ["bamf"]}),
        );
        assert_eq!(code, 201, "{body}");
        let (code, body) = send_json(
            "POST",
            &url("/programmes/euaa/relocation/pledges"),
            &s.euaa_admin,
            serde_json::json!({"state": "DEU", "places": 4, "languages": ["de", "ar"], "excludes": ["ERI"]}),
        );
        assert_eq!(code, 201, "{body}");
        let pledge: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(pledge["languages"], serde_json::json!(["de", "ar"]));
        let programme = "euaa/relocation".parse().unwrap();
        let case = s
            .app
            .add_case(
                &op,
                &programme,
                nansen_cases::CaseFile::from_json(r#"{"members": [{"given_name": "Amina", "family_name": "Haddad", "birth_date": "1990-01-01", "sex": "F", "nationality": "SYR", "languages": ["ar"], "relationship": "principal"}], "consents": [{"purpose": "referral", "partner": "bamf"}], "preferred_states": ["Germany"]}"#).unwrap(),
            )
            .unwrap()
            .id;
        for stage in ["assessed", "ready-for-matching"] {
            s.app.move_case(&op, &case, stage, None, None).unwrap();
        }
        let proposals = url("/programmes/euaa/relocation/proposals");
        // Members who are not admins are refused; outsiders find nothing.
        let (code, _) = send_json("POST", &proposals, &s.euaa_editor, serde_json::json!({}));
        assert_eq!(code, 403);
        let (code, _) = send_json("POST", &proposals, &s.bmi, serde_json::json!({}));
        assert_eq!(code, 404);
        let (code, body) = send_json(
            "POST",
            &proposals,
            &s.euaa_admin,
            serde_json::json!({"pins": ["nobody=DEU"]}),
        );
        assert_eq!(code, 400, "{body}");
        assert!(
            body.contains("case nobody is not among the cases taking part"),
            "{body}"
        );
        let (code, body) = send_json("POST", &proposals, &s.euaa_admin, serde_json::json!({}));
        assert_eq!(code, 201, "{body}");
        let p: serde_json::Value = serde_json::from_str(&body).unwrap();
        let id = p["id"].as_str().unwrap().to_string();
        assert_eq!(p["assigned_cases"], 1);
        assert_eq!(p["cases"][0]["state"], "DEU");
        assert_eq!(
            p["cases"][0]["parts"],
            serde_json::json!({"base": 0.25, "language": 0.35, "family": 0.0, "state_preference": 0.0, "household_preference": 0.15})
        );
        assert_eq!(p["states"][0]["persons"], 1);
        assert!(p["bound"].as_f64().unwrap() >= p["objective"].as_f64().unwrap());
        for (token, expected) in [(&s.euaa_admin, 200), (&s.euaa_editor, 403), (&s.iom, 404)] {
            let (code, _) = call("GET", &url(&format!("/proposals/{id}")), Some(token), None);
            assert_eq!(code, expected);
            let (code, _) = call(
                "GET",
                &url(&format!("/proposals/{id}/cases/{case}")),
                Some(token),
                None,
            );
            assert_eq!(code, expected);
        }
        let (code, body) = send_json(
            "PUT",
            &url("/programmes/euaa/relocation/matching"),
            &s.euaa_admin,
            serde_json::json!({"weights": {"base": 0.2, "language": 1.5, "family": 0.2, "state_preference": 0.1, "household_preference": 0.1}}),
        );
        assert_eq!(code, 400, "{body}");
        assert!(
            body.contains("weights.language: 1.5 is not between 0 and 1"),
            "{body}"
        );
        let res = ureq::request("PUT", &url("/programmes/euaa/relocation/matching/scores"))
            .set("Authorization", &format!("Bearer {}", s.euaa_admin))
            .set("Content-Type", "text/csv")
            .send_string(&format!("case,DEU\n{case},2\n"));
        let Err(ureq::Error::Status(400, r)) = res else {
            panic!("a score outside 0 to 1 is refused")
        };
        assert!(r
            .into_string()
            .unwrap()
            .contains("row 2, column DEU: 2 is outside 0 to 1"));
        let accept = url(&format!("/proposals/{id}/accept"));
        let (code, _) = send_json("POST", &accept, &s.euaa_editor, serde_json::json!({}));
        assert_eq!(code, 403);
        let (code, body) = send_json("POST", &accept, &s.euaa_admin, serde_json::json!({}));
        assert_eq!(code, 200, "{body}");
        let a: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(a["accepted"][0]["case"], case.as_str());
        assert_eq!(a["accepted"][0]["state"], "DEU");
        assert!(a["accepted"][0]["referral"].is_string(), "{body}");
        let (_, body) = call(
            "GET",
            &url(&format!("/cases/{case}")),
            Some(&s.euaa_admin),
            None,
        );
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["process"]["stage"], "matched");
        assert_eq!(v["process"]["state"], "DEU");
    }
}

/// Runs a Python script with openpyxl; None (and a note) when python3 or openpyxl is missing.
fn openpyxl(script: &str, args: &[&str]) -> Option<String> {
    let ready = std::process::Command::new("python3")
        .args(["-c", "import openpyxl"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ready {
        eprintln!(
            "skipping the workbook filled by openpyxl: python3 with openpyxl is not installed"
        );
        return None;
    }
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Fills the workbook's first rows as a reporter would in Excel, saving it under a new name;
/// `alter` changes a cell of another sheet first. Prints what the workbook holds.
const FILL: &str = r#"
import sys, openpyxl
src, dst, alter = sys.argv[1], sys.argv[2], sys.argv[3]
wb = openpyxl.load_workbook(src)
ret = wb["Return"]
kinds = sorted({dv.type for dv in ret.data_validations.dataValidation})
print("validations", ",".join(kinds))
print("protected", ret.protection.sheet, wb["About"].protection.sheet, wb["Codes"].protection.sheet)
print("first", ret["A2"].value, ret["B2"].value)
ret["C2"] = 120
ret["D2"] = 100
ret["C3"] = 30
if alter:
    sheet, cell, value = alter.split(":")
    wb[sheet][cell] = value
wb.save(dst)
"#;

#[test]
fn a_reporter_fills_the_period_s_workbook_and_its_return_is_reviewed_and_approved_over_http() {
    for s in servers() {
        let op = Caller::operator();
        s.app.add_org_of(&op, "fra", "fra", Some("FRA")).unwrap();
        s.app
            .add_user(
                &op,
                "stats@fra.fr",
                "fra",
                Role::Editor,
                "a long enough password",
            )
            .unwrap();
        let fra = s.app.create_token(&op, "stats@fra.fr", "t").unwrap();
        let url = |p: &str| format!("{}/api/v1{p}", s.base);
        let eps = "title = \"EPS\"\nfrequency = \"month\"\ndeadline_days = 17\nreporters = [\"fra\"]\n[dimensions]\norigin = \"countries\"\nsex = [\"F\", \"M\"]\n[[indicators]]\nname = \"asylum_applications\"\n[[indicators]]\nname = \"asylum_applications_first_time\"\n[[rules]]\ncheck = \"asylum_applications_first_time <= asylum_applications\"\nmessage = \"first-time applicants cannot outnumber all applicants\"\n";
        for (token, expected) in [(&s.bmi, 404), (&s.euaa_editor, 403), (&s.euaa_admin, 200)] {
            let (code, body) = call(
                "PUT",
                &url("/templates/euaa/eps"),
                Some(token),
                Some(eps.as_bytes()),
            );
            assert_eq!(code, expected, "{body}");
        }
        let (code, body) = call("GET", &url("/templates/euaa/eps"), Some(&fra), None);
        assert_eq!(code, 200, "{body}");
        assert!(body.contains("\"reporters\":[\"fra\"]"), "{body}");

        // The workbook, as the reporter downloads it.
        let res = ureq::get(&url("/templates/euaa/eps/workbook?period=2026-01"))
            .set("Authorization", &format!("Bearer {fra}"))
            .call()
            .unwrap();
        assert!(res
            .header("Content-Disposition")
            .is_some_and(|d| d.contains("euaa-eps-fra-2026-01.xlsx")));
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut res.into_reader(), &mut bytes).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let blank = dir.path().join("blank.xlsx");
        std::fs::write(&blank, &bytes).unwrap();
        let (filled, altered) = (
            dir.path().join("filled.xlsx"),
            dir.path().join("altered.xlsx"),
        );
        let Some(seen) = openpyxl(
            FILL,
            &[blank.to_str().unwrap(), filled.to_str().unwrap(), ""],
        ) else {
            continue;
        };
        assert!(seen.contains("validations custom,list"), "{seen}");
        assert!(seen.contains("protected True True True"), "{seen}");
        // The grid starts with the first country by code, female.
        let origin = seen
            .lines()
            .find_map(|l| l.strip_prefix("first "))
            .and_then(|l| l.strip_suffix(" F"))
            .unwrap()
            .to_string();
        openpyxl(
            FILL,
            &[
                blank.to_str().unwrap(),
                altered.to_str().unwrap(),
                "About:B3:2026-02",
            ],
        );
        let submit = |file: &std::path::Path, token: &str| {
            call(
                "POST",
                &url("/templates/euaa/eps/submissions?period=2026-01"),
                Some(token),
                Some(&std::fs::read(file).unwrap()),
            )
        };
        let (code, body) = submit(&altered, &fra);
        assert_eq!(code, 400, "{body}");
        assert!(body.contains("sheet About, row 3, column B: this workbook is for the period \\\"2026-02\\\", not 2026-01"), "{body}");
        let (code, _) = submit(&filled, &s.bmi);
        assert_eq!(code, 404, "an outsider does not learn of the template");
        let (code, body) = submit(&filled, &fra);
        assert_eq!(code, 201, "{body}");
        let first: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            (first["revision"].as_i64(), first["cells"].as_i64()),
            (Some(1), Some(3))
        );
        let id = first["id"].as_str().unwrap().to_string();

        // Reviewed on a cell, revised in SDMX-CSV, the difference shown, approved in bulk.
        let (code, body) = send_json(
            "POST",
            &url(&format!("/submissions/{id}/comments")),
            &s.euaa_editor,
            serde_json::json!({"cell": format!("{origin}.F.asylum_applications"), "text": "120?"}),
        );
        assert_eq!(code, 200, "{body}");
        assert!(body.contains("\"status\":\"has-issues\""), "{body}");
        let (code, body) = call(
            "GET",
            &url(&format!("/submissions/{id}")),
            Some(&s.bmi),
            None,
        );
        assert_eq!(code, 404, "{body}");
        let sdmx = "DATAFLOW,REF_AREA,TIME_PERIOD,ORIGIN,SEX,INDICATOR,OBS_VALUE\nEUAA:EPS(1.0),FRA,2026-01,SYR,F,asylum_applications,120\nEUAA:EPS(1.0),FRA,2026-01,SYR,F,asylum_applications_first_time,100\n";
        let (code, body) = call(
            "POST",
            &url("/templates/euaa/eps/submissions?period=2026-01"),
            Some(&fra),
            Some(sdmx.as_bytes()),
        );
        assert_eq!(code, 201, "{body}");
        let second: serde_json::Value = serde_json::from_str(&body).unwrap();
        let id2 = second["id"].as_str().unwrap().to_string();
        let (_, body) = call(
            "GET",
            &url(&format!("/submissions/{id2}")),
            Some(&fra),
            None,
        );
        let detail: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(detail["previous_revision"], 1);
        assert_eq!(
            detail["changes"].as_array().map(Vec::len),
            Some(5),
            "{body}"
        );
        let (code, _) = send_json(
            "POST",
            &url("/templates/euaa/eps/approvals"),
            &fra,
            serde_json::json!({}),
        );
        assert_eq!(code, 403, "a reporter does not approve");
        let (code, body) = send_json(
            "POST",
            &url("/templates/euaa/eps/approvals"),
            &s.euaa_editor,
            serde_json::json!({"period": "2026-01"}),
        );
        assert_eq!(code, 200, "{body}");
        let approval: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            (approval["version"].as_i64(), approval["added"].as_i64()),
            (Some(1), Some(2))
        );
        let (code, body) = call(
            "GET",
            &url("/datasets/euaa/eps/observations?group_by=geo,indicator&format=csv"),
            Some(&s.euaa_editor),
            None,
        );
        assert_eq!(code, 200, "{body}");
        assert!(
            body.contains("FRA,"),
            "the approved return is in the dataset: {body}"
        );

        let (code, body) = call(
            "GET",
            &url("/templates/euaa/eps/completeness?from=2026-01&to=2026-01"),
            Some(&fra),
            None,
        );
        assert_eq!(code, 200, "{body}");
        assert!(body.contains("\"status\":\"approved\""), "{body}");
        let audit: Vec<String> = s
            .app
            .audit_log(&op)
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        for action in [
            "template.add",
            "submission.add",
            "submission.comment",
            "submission.approve",
        ] {
            assert!(audit.iter().any(|a| a == action), "{action} is audited");
        }
    }
}

#[test]
fn a_template_s_reminders_are_listed_over_http_and_heard_by_its_owner_s_webhook() {
    for s in servers() {
        let op = Caller::operator();
        s.app.add_org_of(&op, "fra", "fra", Some("FRA")).unwrap();
        s.app
            .add_user(
                &op,
                "stats@fra.fr",
                "fra",
                Role::Editor,
                "a long enough password",
            )
            .unwrap();
        let fra = s.app.create_token(&op, "stats@fra.fr", "t").unwrap();
        let url = |p: &str| format!("{}/api/v1{p}", s.base);
        let eps = "title = \"EPS\"\nfrequency = \"month\"\ndeadline_days = 17\nreporters = [\"fra\"]\n[dimensions]\nsex = [\"F\", \"M\"]\n[[indicators]]\nname = \"asylum_applications\"\n";
        let (code, body) = call(
            "PUT",
            &url("/templates/euaa/eps"),
            Some(&s.euaa_admin),
            Some(eps.as_bytes()),
        );
        assert_eq!(code, 200, "{body}");
        s.app.set_webhook_policy(nansen_app::WebhookPolicy {
            allow_private: true,
            ..Default::default()
        });
        let (code, body) = send_json(
            "POST",
            &url("/webhooks"),
            &s.euaa_admin,
            serde_json::json!({"org": "euaa", "url": "http://127.0.0.1:9/hooks", "template": "euaa/eps"}),
        );
        assert_eq!(code, 201, "{body}");
        let (code, body) = send_json(
            "POST",
            &url("/webhooks"),
            &s.bmi,
            serde_json::json!({"org": "bmi", "url": "http://127.0.0.1:9/hooks", "template": "euaa/eps"}),
        );
        assert_eq!(
            code, 404,
            "a template bmi is not concerned by does not exist: {body}"
        );

        let month = nansen_gathering::Period::containing(
            nansen_gathering::Frequency::Month,
            nansen_model::Timestamp::now().day(),
        );
        let sent = s.app.send_reminders(month.deadline(17)).unwrap();
        assert_eq!(sent.len(), 1);
        for token in [&s.euaa_editor, &fra] {
            let (code, body) = call(
                "GET",
                &url("/templates/euaa/eps/reminders"),
                Some(token),
                None,
            );
            assert_eq!(code, 200, "{body}");
            let list: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(list[0]["event"], "due", "{body}");
            assert_eq!(list[0]["reporter"], "fra");
            assert_eq!(list[0]["email"], "none", "no SMTP server is set: {body}");
            assert_eq!(list[0]["webhooks"], 1, "{body}");
        }
        let (code, _) = call(
            "GET",
            &url("/templates/euaa/eps/reminders"),
            Some(&s.bmi),
            None,
        );
        assert_eq!(code, 404);
        let (code, body) = call("GET", &url("/webhooks"), Some(&s.euaa_admin), None);
        assert_eq!(code, 200);
        assert!(
            body.contains("\"template\":\"euaa/eps\"")
                && body.contains("\"event\":\"reminder.due\""),
            "{body}"
        );
    }
}

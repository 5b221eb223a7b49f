//! The attacks of the security review (issue 12), through the application layer on SQLite
//! and PostgreSQL: each does no harm now. HTTP-only attacks are in nansen-server's tests.

use nansen_app::{
    App, AppError, Budget, Caller, HookTarget, ImportRequest, NewDocument, SearchRequest,
    SeriesRequest, WatchSpec, WebhookPolicy,
};
use nansen_forecast::detect::Rule;
use nansen_model::DatasetName;
use nansen_model::{Query, Role, Sharing};
use nansen_store::testing::{stores, TestStore};

struct World {
    t: TestStore,
    app: App,
    files: tempfile::TempDir,
}

fn worlds() -> Vec<World> {
    stores()
        .into_iter()
        .map(|t| {
            let app = App::open(t.dir.path(), t.database_url.as_deref()).unwrap();
            let op = Caller::operator();
            for (slug, name) in [
                ("euaa", "EU Asylum Agency"),
                ("iom", "IOM"),
                ("bamf", "BAMF"),
            ] {
                app.add_org(&op, slug, name).unwrap();
            }
            for (email, org, role) in [
                ("ed@euaa.eu", "euaa", Role::Editor),
                ("adm@euaa.eu", "euaa", Role::Admin),
                ("adm@iom.int", "iom", Role::Admin),
                ("v@iom.int", "iom", Role::Viewer),
                ("adm@bamf.de", "bamf", Role::Admin),
            ] {
                app.add_user(&op, email, org, role, "a long enough password")
                    .unwrap();
            }
            World {
                t,
                app,
                files: tempfile::tempdir().unwrap(),
            }
        })
        .collect()
}

impl World {
    fn as_(&self, email: &str) -> Caller {
        self.app.act_as(email).unwrap()
    }
    fn import(
        &self,
        who: &str,
        slug: &str,
        text: &str,
        f: impl FnOnce(&mut ImportRequest),
    ) -> Result<nansen_app::ImportReport, AppError> {
        let mut req = ImportRequest {
            org: "euaa".into(),
            slug: slug.into(),
            file_name: "f.csv".into(),
            ..Default::default()
        };
        f(&mut req);
        let path = self.files.path().join("upload.csv");
        std::fs::write(&path, text).unwrap();
        self.app.import(&self.as_(who), &req, &path, &|_| {})
    }
}

/// Monthly counts 2009-01 to 2014-12 in three countries; Hungary's are 1 to 4, under the
/// disclosure threshold.
fn monthly() -> String {
    let mut out = String::from("indicator,period,geo,origin,value\n");
    for (geo, base) in [("DEU", 1000.0), ("SWE", 500.0), ("HUN", 0.0)] {
        for m in 0..72usize {
            let v = if base == 0.0 {
                (m % 4 + 1) as f64
            } else {
                (base * (1.0 + 0.2 * ((m % 12) as f64 / 2.0).sin())).round()
            };
            out.push_str(&format!(
                "asylum_applications,{}-{:02},{geo},SYR,{v}\n",
                2009 + m / 12,
                m % 12 + 1
            ));
        }
    }
    out
}

#[test]
fn a_search_past_its_window_is_refused_before_the_index_gathers_it() {
    for w in worlds() {
        let huge = SearchRequest {
            text: "asylum".into(),
            offset: 10_000_000_000,
            limit: 20,
            ..Default::default()
        };
        let e = w.app.search(&Caller::anonymous(), &huge).unwrap_err();
        assert!(
            matches!(&e, AppError::BadRequest(m) if m.contains("first 10000 hits")),
            "{}: {e}",
            w.t.name
        );
        let edge = SearchRequest {
            text: "asylum".into(),
            offset: usize::MAX,
            limit: usize::MAX,
            ..Default::default()
        };
        assert!(
            matches!(
                w.app.search(&Caller::anonymous(), &edge),
                Err(AppError::BadRequest(_))
            ),
            "no overflow"
        );
        w.app
            .search(
                &Caller::anonymous(),
                &SearchRequest {
                    text: "asylum".into(),
                    offset: 9_980,
                    limit: 20,
                    ..Default::default()
                },
            )
            .expect("the last page of the window");
    }
}

#[test]
fn a_document_file_name_is_never_a_path() {
    for w in worlds() {
        let new = NewDocument {
            org: "euaa".into(),
            ..Default::default()
        };
        for (given, kept) in [
            ("../../etc/cron.d/x.md", "x.md"),
            ("/tmp/x.md", "x.md"),
            ("C:\\Users\\a\\notes.md", "notes.md"),
            ("..\\..\\.bashrc.md", "bashrc.md"),
        ] {
            let d = w
                .app
                .add_document(
                    &w.as_("ed@euaa.eu"),
                    &new,
                    given,
                    b"# Minutes\n\nThe committee met.",
                )
                .unwrap();
            let f = w
                .app
                .document_file(&w.as_("ed@euaa.eu"), d.id, None)
                .unwrap();
            assert_eq!(f.file_name, kept, "{}: {given}", w.t.name);
        }
        for hopeless in ["../..", "/", ".."] {
            assert!(
                matches!(
                    w.app
                        .add_document(&w.as_("ed@euaa.eu"), &new, hopeless, b"text"),
                    Err(AppError::BadRequest(_))
                ),
                "{hopeless}"
            );
        }
    }
}

#[test]
fn an_editor_cannot_switch_disclosure_control_off_by_importing() {
    for w in worlds() {
        w.import("ed@euaa.eu", "apps", &monthly(), |r| {
            r.sensitive = Some(true)
        })
        .expect("an editor may turn it on");
        w.app
            .share(
                &w.as_("adm@euaa.eu"),
                &DatasetName::new("euaa", "apps"),
                Sharing::Partners(vec!["iom".into()]),
                None,
                None,
            )
            .unwrap();
        let e = w
            .import("ed@euaa.eu", "apps", &monthly(), |r| {
                r.sensitive = Some(false)
            })
            .unwrap_err();
        assert!(
            matches!(&e, AppError::Forbidden(m) if m.contains("only admins of euaa may turn disclosure control off")),
            "{}: {e}",
            w.t.name
        );
        let d = w
            .app
            .dataset(&Caller::operator(), &DatasetName::new("euaa", "apps"))
            .unwrap();
        assert!(d.sensitive, "{}: still disclosure-controlled", w.t.name);
        let partner = w
            .app
            .query(
                &w.as_("v@iom.int"),
                &DatasetName::new("euaa", "apps"),
                None,
                &Query::parse(&["geo=HUN".to_string()], None, Some("period")).unwrap(),
            )
            .unwrap();
        assert!(
            partner.rows.iter().all(|r| r.value.is_none()),
            "{}: the partner reads no small count",
            w.t.name
        );
        w.import("adm@euaa.eu", "apps", &monthly(), |r| {
            r.sensitive = Some(false)
        })
        .expect("an admin may");
    }
}

#[test]
fn a_watch_read_by_partners_shows_only_what_they_may_read() {
    for w in worlds() {
        w.import("ed@euaa.eu", "apps", &monthly(), |r| {
            r.sensitive = Some(true)
        })
        .unwrap();
        w.app
            .share(
                &w.as_("adm@euaa.eu"),
                &DatasetName::new("euaa", "apps"),
                Sharing::Partners(vec!["iom".into()]),
                None,
                None,
            )
            .unwrap();
        let spec = WatchSpec {
            dataset: "euaa/apps".into(),
            wheres: vec!["indicator=asylum_applications".into()],
            frequency: None,
            series_by: vec!["geo".into()],
            rules: vec![Rule::parse("c2").unwrap()],
            horizon: 2,
            lookback: 3,
            level: 80.0,
        };
        let watch = w
            .app
            .create_watch(
                &w.as_("ed@euaa.eu"),
                "euaa",
                "Syrians",
                spec,
                &["iom".into()],
            )
            .unwrap();
        for reader in ["v@iom.int", "ed@euaa.eu"] {
            let seen = w.app.watch(&w.as_(reader), watch.id).unwrap();
            let outlook = seen.outlook.expect("a forecast");
            assert!(
                outlook.protected,
                "{}: computed on the protected view, as partners read it",
                w.t.name
            );
            for s in &outlook.series {
                for (period, v) in &s.history {
                    assert!(
                        v.is_none_or(|v| v >= 5.0),
                        "{}: {reader} sees {v:?} for {:?} in {period}",
                        w.t.name,
                        s.key
                    );
                }
            }
            for a in w.app.alerts(&w.as_(reader), None).unwrap() {
                assert!(
                    a.detail
                        .history
                        .iter()
                        .all(|(_, v)| v.is_none_or(|v| v >= 5.0)),
                    "{}: alert {} shows a small count",
                    w.t.name,
                    a.id
                );
            }
        }
    }
}

#[test]
fn work_past_its_budget_stops_and_says_which_limit() {
    for w in worlds() {
        w.import("ed@euaa.eu", "apps", &monthly(), |_| {}).unwrap();
        let request = SeriesRequest {
            query: Query::parse(&["indicator=asylum_applications".to_string()], None, None)
                .unwrap(),
            series_by: vec!["geo".into()],
            horizon: 3,
        };
        let gone = Budget::unlimited();
        gone.cancel();
        let e = w
            .app
            .backtest(
                &w.as_("ed@euaa.eu"),
                &DatasetName::new("euaa", "apps"),
                &request,
                24,
                &nansen_forecast::MODELS,
                &gone,
            )
            .err()
            .expect("stopped");
        assert_eq!(e.retry_after(), Some(60), "{}: {e}", w.t.name);
        assert!(e.to_string().contains("went away"), "{e}");
        let spent = Budget::lasting(std::time::Duration::ZERO);
        let e = w
            .app
            .forecast(
                &w.as_("ed@euaa.eu"),
                &DatasetName::new("euaa", "apps"),
                &request,
                80.0,
                nansen_forecast::Model::Auto,
                &spent,
            )
            .err()
            .expect("stopped");
        assert!(
            e.to_string().contains("ran past its limit of 0 s"),
            "{}: {e}",
            w.t.name
        );
    }
}

#[test]
fn an_approved_request_can_be_revoked_and_ends_when_sharing_moves_on() {
    for w in worlds() {
        w.import("ed@euaa.eu", "apps", &monthly(), |r| r.share = None)
            .unwrap();
        let admin = w.as_("adm@euaa.eu");
        w.app
            .share(
                &admin,
                &DatasetName::new("euaa", "apps"),
                Sharing::Listed,
                None,
                None,
            )
            .unwrap();
        let iom = w.as_("v@iom.int");
        let id = w
            .app
            .request_access(
                &iom,
                &nansen_app::Subject::Dataset(DatasetName::new("euaa", "apps")),
                "planning for 2016 arrivals",
            )
            .unwrap();
        assert!(
            matches!(w.app.revoke_access(&admin, id, ""), Err(AppError::Conflict(m)) if m.contains("only an approved request")),
            "{}",
            w.t.name
        );
        w.app.decide_access(&admin, id, true, "").unwrap();
        assert!(
            w.app
                .query(
                    &iom,
                    &DatasetName::new("euaa", "apps"),
                    None,
                    &Query::default()
                )
                .is_ok(),
            "{}: approved",
            w.t.name
        );
        // A change of sharing ends it: the approval answered a listed dataset.
        w.app
            .share(
                &admin,
                &DatasetName::new("euaa", "apps"),
                Sharing::Partners(vec!["bamf".into()]),
                None,
                None,
            )
            .unwrap();
        assert!(
            matches!(
                w.app.query(
                    &iom,
                    &DatasetName::new("euaa", "apps"),
                    None,
                    &Query::default()
                ),
                Err(AppError::NotFound(_))
            ),
            "{}: ended with partner sharing",
            w.t.name
        );
        w.app
            .share(
                &admin,
                &DatasetName::new("euaa", "apps"),
                Sharing::Listed,
                None,
                None,
            )
            .unwrap();
        assert!(w
            .app
            .query(
                &iom,
                &DatasetName::new("euaa", "apps"),
                None,
                &Query::default()
            )
            .is_ok());
        assert!(
            matches!(
                w.app.revoke_access(&w.as_("adm@iom.int"), id, ""),
                Err(AppError::NotFound(_))
            ),
            "only the owner's admins revoke"
        );
        w.app
            .revoke_access(&admin, id, "the project ended")
            .unwrap();
        assert!(
            matches!(
                w.app.query(
                    &iom,
                    &DatasetName::new("euaa", "apps"),
                    None,
                    &Query::default()
                ),
                Err(AppError::Forbidden(_))
            ),
            "{}: revoked",
            w.t.name
        );
        let log = w.app.audit_log(&admin).unwrap();
        assert!(log.iter().any(|e| e.action == "access.revoke"), "audited");
    }
}

#[test]
fn a_subscribers_webhook_address_stays_out_of_the_owners_audit_log() {
    for w in worlds() {
        w.import("ed@euaa.eu", "apps", &monthly(), |_| {}).unwrap();
        w.app
            .share(
                &w.as_("adm@euaa.eu"),
                &DatasetName::new("euaa", "apps"),
                Sharing::Partners(vec!["iom".into()]),
                None,
                None,
            )
            .unwrap();
        w.app.set_webhook_policy(WebhookPolicy {
            allow_private: true,
            ..Default::default()
        });
        let url = "http://127.0.0.1:9/nansen?token=s3cret";
        w.app
            .subscribe(
                &w.as_("adm@iom.int"),
                "iom",
                &HookTarget::Dataset("euaa/apps".into()),
                url,
            )
            .unwrap();
        let owners = w.app.audit_log(&w.as_("adm@euaa.eu")).unwrap();
        assert!(
            owners
                .iter()
                .all(|e| !e.detail.contains("127.0.0.1") && !e.detail.contains("s3cret")),
            "{}: {owners:?}",
            w.t.name
        );
        let theirs = w.app.audit_log(&w.as_("adm@iom.int")).unwrap();
        let entry = theirs
            .iter()
            .find(|e| e.action == "webhook.subscribe")
            .expect("the subscriber's own log has it");
        assert!(!entry.detail.contains("s3cret"), "{}", entry.detail);
    }
}

#[test]
fn concurrent_writes_all_answer_success_and_the_chain_verifies() {
    for w in worlds() {
        let app = &w.app;
        std::thread::scope(|s| {
            for i in 0..8 {
                s.spawn(move || {
                    for j in 0..5 {
                        app.add_org(
                            &Caller::operator(),
                            &format!("org-{i}-{j}"),
                            "An organisation",
                        )
                        .expect("every committed write answers success");
                    }
                });
            }
        });
        assert!(app.verify_audit().unwrap().is_ok(), "{}", w.t.name);
        assert_eq!(
            w.t.store.read_head_file().map(|h| h.0),
            Some(app.audit_head().unwrap().0),
            "{}: the head file caught up",
            w.t.name
        );
    }
}

#[test]
fn a_copy_of_the_database_alone_can_neither_forge_the_chain_nor_read_webhook_secrets() {
    for w in worlds() {
        w.import("ed@euaa.eu", "apps", &monthly(), |_| {}).unwrap();
        w.app
            .share(
                &w.as_("adm@euaa.eu"),
                &DatasetName::new("euaa", "apps"),
                Sharing::Partners(vec!["iom".into()]),
                None,
                None,
            )
            .unwrap();
        w.app.set_webhook_policy(WebhookPolicy {
            allow_private: true,
            ..Default::default()
        });
        let (_, secret) = w
            .app
            .subscribe(
                &w.as_("adm@iom.int"),
                "iom",
                &HookTarget::Dataset("euaa/apps".into()),
                "http://127.0.0.1:9/hook",
            )
            .unwrap();
        let stored: String = w.t.store.query("SELECT secret FROM webhooks", &[]).unwrap()[0]
            .get("secret")
            .unwrap();
        assert!(
            !stored.contains(&secret),
            "{}: the signing secret is sealed in the database",
            w.t.name
        );
        assert_eq!(
            w.t.store.webhooks().unwrap()[0].secret,
            secret,
            "and opens with the installation's key"
        );

        // Someone who can write the database rewrites entry 3 and recomputes every hash after
        // it as a bare SHA-256 chain, the database's head with it, and removes the head file.
        let s = &w.t.store;
        s.query(
            "UPDATE audit SET detail = '{\"forged\":1}' WHERE seq = 3 RETURNING seq",
            &[],
        )
        .unwrap();
        let mut prev = s.audit_page(1, 1).unwrap()[0].hash.clone();
        for mut e in s.audit_page(2, i64::MAX).unwrap() {
            e.prev_hash = prev.clone();
            e.hash = e.compute_hash();
            s.query(
                "UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = ? RETURNING seq",
                &[(&e.prev_hash).into(), (&e.hash).into(), e.seq.into()],
            )
            .unwrap();
            prev = e.hash.clone();
        }
        let last = s.audit_head().unwrap().0;
        s.query(
            "UPDATE audit_head SET hash = ? WHERE id = 1 RETURNING id",
            &[(&prev).into()],
        )
        .unwrap();
        std::fs::remove_file(w.t.dir.path().join("audit-head")).unwrap();
        let broken = w.app.verify_audit().unwrap().unwrap_err();
        assert_eq!(
            broken.seq, 3,
            "{}: without the key the rewrite shows ({} entries)",
            w.t.name, last
        );

        // A head file not written by this installation is noticed too.
        std::fs::write(
            w.t.dir.path().join("audit-head"),
            format!("{last} {prev} 00\n"),
        )
        .unwrap();
        assert!(!w.t.store.head_file_is_genuine());
    }
}

#[test]
fn a_backup_taken_during_imports_restores_every_committed_version_and_an_intact_chain() {
    for w in worlds() {
        w.import("ed@euaa.eu", "apps", &monthly(), |_| {}).unwrap();
        let backups = tempfile::tempdir().unwrap();
        let folder = backups.path().join("b1");
        let landed_before = std::thread::scope(|s| {
            let importing = s.spawn(|| {
                for i in 0..6 {
                    let origin = if i % 2 == 0 { "AFG" } else { "SYR" };
                    w.import(
                        "ed@euaa.eu",
                        "apps",
                        &monthly().replace(",SYR,", &format!(",{origin},")),
                        |_| {},
                    )
                    .unwrap();
                }
            });
            std::thread::sleep(std::time::Duration::from_millis(50));
            let versions_before = w
                .app
                .dataset(&Caller::operator(), &DatasetName::new("euaa", "apps"))
                .unwrap()
                .versions
                .len();
            let m = w.app.backup(&Caller::operator(), &folder).unwrap();
            importing.join().unwrap();
            (versions_before, m)
        });
        let (versions_before, manifest) = landed_before;
        assert!(
            matches!(
                w.app
                    .backup(&w.as_("adm@euaa.eu"), &backups.path().join("b2")),
                Err(AppError::Forbidden(_))
            ),
            "the operator's alone"
        );

        let target = tempfile::tempdir().unwrap();
        let fresh = nansen_store::testing::fresh_postgres();
        let url = if w.t.database_url.is_some() {
            fresh.as_ref().map(|d| d.url.clone())
        } else {
            None
        };
        if w.t.database_url.is_some() && url.is_none() {
            continue;
        }
        let restored = App::restore(&folder, target.path(), url.as_deref(), &mut |_| {}).unwrap();
        assert!(
            restored.audit.entries >= manifest.audit_entry,
            "{}",
            w.t.name
        );
        let app = App::open(target.path(), url.as_deref()).unwrap();
        let versions = app
            .dataset(&Caller::operator(), &DatasetName::new("euaa", "apps"))
            .unwrap()
            .versions;
        assert!(
            versions.len() >= versions_before,
            "{}: every version committed before the backup began ({versions_before}) is there: {}",
            w.t.name,
            versions.len()
        );
        for v in &versions {
            app.query(
                &Caller::operator(),
                &DatasetName::new("euaa", "apps"),
                Some(v.number),
                &Query::default(),
            )
            .unwrap();
        }
        assert!(app.verify_audit().unwrap().is_ok());
        assert!(
            matches!(
                App::restore(&folder, target.path(), url.as_deref(), &mut |_| {}),
                Err(AppError::Store(_))
            ),
            "{}: never over an existing installation",
            w.t.name
        );
    }
}

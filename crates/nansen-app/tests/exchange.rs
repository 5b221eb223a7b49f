//! The exchange core through the application layer, on SQLite and on PostgreSQL.

use nansen_app::{App, AppError, Caller, ImportRequest, Subject};

fn listed_one() -> Subject {
    Subject::Dataset(DatasetName::new("euaa", "listed-one"))
}
use nansen_model::DatasetName;
use nansen_model::{Query, Role, Sharing};
use nansen_store::testing::{stores, TestStore};
use std::path::PathBuf;

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
                ("bmi", "Ministry of the Interior"),
            ] {
                app.add_org(&op, slug, name).unwrap();
            }
            for (email, org, role) in [
                ("editor@euaa.eu", "euaa", Role::Editor),
                ("admin@euaa.eu", "euaa", Role::Admin),
                ("analyst@euaa.eu", "euaa", Role::Analyst),
                ("viewer@iom.int", "iom", Role::Viewer),
                ("admin@bmi.de", "bmi", Role::Admin),
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
    fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.files.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
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
        let path = self.file("upload.csv", text);
        self.app.import(&self.as_(who), &req, &path, &|_| {})
    }
    fn total(&self, who: &Caller, slug: &str, version: Option<i64>) -> Option<f64> {
        self.app
            .query(
                who,
                &DatasetName::new("euaa", slug),
                version,
                &Query::default(),
            )
            .unwrap()
            .rows[0]
            .value
    }
}

const V1: &str = "indicator,period,geo,origin,value,flags\nasylum_applications,2015,DEU,SYR,100,\nasylum_applications,2015,FRA,SYR,20,\nasylum_applications,2015,ITA,SYR,7,\n";
const V2: &str = "indicator,period,geo,origin,value,flags\nasylum_applications,2015,DEU,SYR,100,\nasylum_applications,2015,FRA,SYR,25,p\nasylum_applications,2016,DEU,SYR,50,\n";

#[test]
fn each_import_is_a_version_that_stores_only_its_difference() {
    for w in worlds() {
        let r1 = w.import("editor@euaa.eu", "apps", V1, |_| {}).unwrap();
        assert_eq!(
            (r1.version, r1.added, r1.changed, r1.removed),
            (Some(1), 3, 0, 0),
            "{}",
            w.t.name
        );
        let dry = w
            .import("editor@euaa.eu", "apps", V2, |r| r.dry_run = true)
            .unwrap();
        assert_eq!(
            (dry.version, dry.added, dry.changed, dry.removed),
            (None, 1, 1, 1)
        );
        assert_eq!(
            w.app
                .dataset(&Caller::operator(), &DatasetName::new("euaa", "apps"))
                .unwrap()
                .versions
                .len(),
            1,
            "a dry run saves nothing"
        );
        let r2 = w.import("editor@euaa.eu", "apps", V2, |_| {}).unwrap();
        assert_eq!(
            (
                r2.version,
                r2.added,
                r2.changed,
                r2.removed,
                r2.observations
            ),
            (Some(2), 1, 1, 1, 3)
        );
        let stored = w.t.store.query("SELECT CAST(SUM(c.observations) AS BIGINT) AS n FROM chunks c JOIN versions v ON v.id = c.version_id WHERE v.number = 2 AND c.kind = 'upsert'", &[]).unwrap();
        assert_eq!(
            stored[0].get::<i64>("n").unwrap(),
            2,
            "{}: the unchanged DEU 2015 observation is not copied",
            w.t.name
        );
        let op = Caller::operator();
        assert_eq!(
            w.total(&op, "apps", Some(1)),
            Some(127.0),
            "earlier versions stay queryable"
        );
        assert_eq!(w.total(&op, "apps", None), Some(175.0));
        let r3 = w
            .import(
                "editor@euaa.eu",
                "apps",
                "indicator,period,geo,origin,value,flags\nasylum_applications,2017,DEU,SYR,5,\n",
                |r| r.append = true,
            )
            .unwrap();
        assert_eq!(
            (r3.added, r3.removed, r3.observations),
            (1, 0, 4),
            "append adds on top"
        );
        let mut csv = Vec::new();
        w.app
            .export(
                &op,
                &DatasetName::new("euaa", "apps"),
                Some(1),
                "csv".parse().unwrap(),
                &mut csv,
            )
            .unwrap();
        assert_eq!(
            String::from_utf8(csv).unwrap().lines().count(),
            4,
            "earlier versions stay exportable"
        );
    }
}

#[test]
fn a_refused_file_changes_nothing() {
    for w in worlds() {
        w.import("editor@euaa.eu", "apps", V1, |_| {}).unwrap();
        let bad = "indicator,period,geo,origin,value,flags\nasylum_applications,2015,DEU,SYR,100,\nasylum_applications,2015,Atlantis,SYR,3,\n";
        let err = w.import("editor@euaa.eu", "apps", bad, |_| {}).unwrap_err();
        let AppError::Import(e) = &err else {
            panic!("{err}")
        };
        assert_eq!(
            (
                e.problems()[0].row,
                e.problems()[0].column.as_str(),
                e.problems()[0].value.as_str()
            ),
            (3, "geo", "Atlantis")
        );
        let d = w
            .app
            .dataset(&Caller::operator(), &DatasetName::new("euaa", "apps"))
            .unwrap();
        assert_eq!(d.versions.len(), 1, "{}", w.t.name);
        assert_eq!(w.total(&Caller::operator(), "apps", None), Some(127.0));
        let err = w
            .import("editor@euaa.eu", "brand-new", bad, |_| {})
            .unwrap_err();
        assert!(matches!(err, AppError::Import(_)));
        assert!(
            matches!(
                w.app
                    .dataset(&Caller::operator(), &DatasetName::new("euaa", "brand-new")),
                Err(AppError::NotFound(_))
            ),
            "no half-created dataset"
        );
    }
}

#[test]
fn each_sharing_level_shows_exactly_what_it_says_and_hides_the_rest_as_not_found() {
    for w in worlds() {
        w.import("editor@euaa.eu", "private-one", V1, |_| {})
            .unwrap();
        w.import("editor@euaa.eu", "listed-one", V1, |r| r.share = None)
            .unwrap();
        let admin = w.as_("admin@euaa.eu");
        w.app
            .share(
                &admin,
                &DatasetName::new("euaa", "listed-one"),
                Sharing::Listed,
                None,
                None,
            )
            .unwrap();
        w.import("editor@euaa.eu", "for-iom", V1, |_| {}).unwrap();
        w.app
            .share(
                &admin,
                &DatasetName::new("euaa", "for-iom"),
                "partners:iom".parse().unwrap(),
                None,
                None,
            )
            .unwrap();
        w.import("editor@euaa.eu", "open", V1, |_| {}).unwrap();
        w.app
            .share(
                &admin,
                &DatasetName::new("euaa", "open"),
                Sharing::Public,
                None,
                None,
            )
            .unwrap();

        let iom = w.as_("viewer@iom.int");
        let bmi = w.as_("admin@bmi.de");
        let names = |c: &Caller| {
            w.app
                .list_datasets(c)
                .unwrap()
                .into_iter()
                .map(|d| d.slug)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(&iom),
            vec!["for-iom", "listed-one", "open"],
            "{}",
            w.t.name
        );
        assert_eq!(names(&bmi), vec!["listed-one", "open"]);
        assert_eq!(names(&Caller::anonymous()), vec!["open"]);
        assert_eq!(names(&w.as_("analyst@euaa.eu")).len(), 4);

        for (who, slug) in [
            (&bmi, "private-one"),
            (&bmi, "for-iom"),
            (&iom, "private-one"),
            (&Caller::anonymous(), "listed-one"),
        ] {
            let err = w
                .app
                .query(
                    who,
                    &DatasetName::new("euaa", slug),
                    None,
                    &Query::default(),
                )
                .unwrap_err();
            assert!(matches!(err, AppError::NotFound(_)), "{slug}: {err}");
            assert_eq!(err.to_string(), format!("dataset euaa/{slug} not found"));
            assert!(matches!(
                w.app.dataset(who, &DatasetName::new("euaa", slug)),
                Err(AppError::NotFound(_))
            ));
        }
        assert_eq!(w.total(&iom, "for-iom", None), Some(127.0));
        assert!(matches!(
            w.app.query(
                &bmi,
                &DatasetName::new("euaa", "listed-one"),
                None,
                &Query::default()
            ),
            Err(AppError::Forbidden(_))
        ));
        assert!(
            matches!(
                w.import("analyst@euaa.eu", "open", V2, |_| {}),
                Err(AppError::Forbidden(_))
            ),
            "analysts do not import"
        );
        assert!(matches!(
            w.app.share(
                &w.as_("editor@euaa.eu"),
                &DatasetName::new("euaa", "open"),
                Sharing::Private,
                None,
                None
            ),
            Err(AppError::Forbidden(_))
        ));
    }
}

#[test]
fn an_access_request_once_approved_grants_the_organisation_the_data() {
    for w in worlds() {
        w.import("admin@euaa.eu", "listed-one", V1, |r| {
            r.share = Some(Sharing::Listed)
        })
        .unwrap();
        let bmi = w.as_("admin@bmi.de");
        assert!(w
            .app
            .request_access(&bmi, &listed_one(), "too short")
            .is_err());
        let id = w
            .app
            .request_access(&bmi, &listed_one(), "We plan reception capacity for 2016.")
            .unwrap();
        assert!(
            matches!(
                w.app
                    .request_access(&bmi, &listed_one(), "Asking again, in case it was missed."),
                Err(AppError::Conflict(_))
            ),
            "an organisation asks once while its request waits"
        );
        assert!(
            matches!(
                w.app.decide_access(&w.as_("viewer@iom.int"), id, true, ""),
                Err(AppError::NotFound(_))
            ),
            "only the owner's admins decide"
        );
        assert!(matches!(
            w.app.decide_access(&w.as_("editor@euaa.eu"), id, true, ""),
            Err(AppError::NotFound(_))
        ));
        let pending = w.app.access_requests(&w.as_("admin@euaa.eu")).unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(
            (
                pending[0].kind.as_str(),
                pending[0].subject.as_str(),
                pending[0].owner.as_str()
            ),
            ("dataset", "euaa/listed-one", "euaa")
        );
        // The asker sees their own; an organisation that neither asked nor owns sees none.
        assert_eq!(w.app.access_requests(&bmi).unwrap().len(), 1);
        assert!(w
            .app
            .access_requests(&w.as_("viewer@iom.int"))
            .unwrap()
            .is_empty());
        assert!(w
            .app
            .access_requests(&Caller::anonymous())
            .unwrap()
            .is_empty());
        w.app
            .decide_access(&w.as_("admin@euaa.eu"), id, true, "ok")
            .unwrap();

        assert_eq!(
            w.total(&w.as_("admin@bmi.de"), "listed-one", None),
            Some(127.0),
            "{}",
            w.t.name
        );
        assert!(
            matches!(
                w.app.query(
                    &w.as_("viewer@iom.int"),
                    &DatasetName::new("euaa", "listed-one"),
                    None,
                    &Query::default()
                ),
                Err(AppError::Forbidden(_))
            ),
            "only the approved organisation"
        );
    }
}

#[test]
fn sensitive_data_is_suppressed_for_readers_outside_the_owner() {
    for w in worlds() {
        let small = V1.replace(",ITA,SYR,7,", ",ITA,SYR,3,");
        assert!(
            matches!(
                w.import("editor@euaa.eu", "cases", &small, |r| r.share =
                    Some(Sharing::Public)),
                Err(AppError::Forbidden(_))
            ),
            "sharing is an admin's choice"
        );
        w.import("admin@euaa.eu", "cases", &small, |r| {
            r.share = Some("partners:iom".parse().unwrap());
            r.sensitive = Some(true);
        })
        .unwrap();
        let q = Query {
            group_by: vec!["geo".into()],
            ..Query::default()
        };
        let inside = w
            .app
            .query(
                &w.as_("analyst@euaa.eu"),
                &DatasetName::new("euaa", "cases"),
                None,
                &q,
            )
            .unwrap();
        let outside = w
            .app
            .query(
                &w.as_("viewer@iom.int"),
                &DatasetName::new("euaa", "cases"),
                None,
                &q,
            )
            .unwrap();
        assert_eq!(inside.rows[2].value, Some(3.0));
        assert_eq!(
            (outside.rows[2].value, outside.rows[2].flags.as_str()),
            (None, "c"),
            "{}",
            w.t.name
        );
        assert_eq!(
            w.total(&w.as_("viewer@iom.int"), "cases", None),
            Some(120.0),
            "totals are what is shown"
        );
    }
}

#[test]
fn a_redacted_version_is_destroyed_and_later_versions_keep_their_content() {
    for w in worlds() {
        w.import("editor@euaa.eu", "apps", V1, |_| {}).unwrap();
        w.import("editor@euaa.eu", "apps", V2, |_| {}).unwrap();
        w.import(
            "editor@euaa.eu",
            "apps",
            "indicator,period,geo,origin,value,flags\nasylum_applications,2017,DEU,SYR,5,\n",
            |r| r.append = true,
        )
        .unwrap();
        let op = Caller::operator();
        let before = w.total(&op, "apps", Some(3));
        assert!(
            matches!(
                w.app.redact(
                    &w.as_("editor@euaa.eu"),
                    &DatasetName::new("euaa", "apps"),
                    2
                ),
                Err(AppError::Forbidden(_))
            ),
            "admins only"
        );
        w.app
            .redact(
                &w.as_("admin@euaa.eu"),
                &DatasetName::new("euaa", "apps"),
                2,
            )
            .unwrap();
        assert!(matches!(
            w.app.query(
                &op,
                &DatasetName::new("euaa", "apps"),
                Some(2),
                &Query::default()
            ),
            Err(AppError::NotFound(_))
        ));
        let app2 = App::open(w.t.dir.path(), w.t.database_url.as_deref()).unwrap();
        assert_eq!(
            app2.query(
                &op,
                &DatasetName::new("euaa", "apps"),
                Some(3),
                &Query::default()
            )
            .unwrap()
            .rows[0]
                .value,
            before,
            "{}",
            w.t.name
        );
        let left = w.t.store.query("SELECT COUNT(*) AS n FROM chunks c JOIN versions v ON v.id = c.version_id WHERE v.number = 2", &[]).unwrap();
        assert_eq!(left[0].get::<i64>("n").unwrap(), 0, "its data is destroyed");
        let d = w
            .app
            .dataset(&op, &DatasetName::new("euaa", "apps"))
            .unwrap();
        assert!(
            d.versions[1].redacted_at.is_some() && d.versions[1].file_sha256.len() == 64,
            "its metadata stays"
        );
    }
}

#[test]
fn audit_verify_names_the_first_bad_entry_after_tampering() {
    for w in worlds() {
        w.import("editor@euaa.eu", "apps", V1, |_| {}).unwrap();
        let report = w.app.verify_audit().unwrap().unwrap();
        assert!(report.entries > 5);
        let s = &w.t.store;
        // Altered
        let conn_exec = |sql: &str| s.query(sql, &[]).map(|_| ()).unwrap();
        conn_exec("UPDATE audit SET detail = '{\"forged\":1}' WHERE seq = 3");
        assert_eq!(
            w.app.verify_audit().unwrap().unwrap_err().seq,
            3,
            "{}",
            w.t.name
        );
        let _ = conn_exec;
    }
    for w in worlds() {
        let s = &w.t.store;
        s.query("DELETE FROM audit WHERE seq = 2", &[]).unwrap();
        assert_eq!(
            w.app.verify_audit().unwrap().unwrap_err().seq,
            2,
            "removed: {}",
            w.t.name
        );
    }
    for w in worlds() {
        let s = &w.t.store;
        let n = s.audit_head().unwrap().0;
        s.query(&format!("DELETE FROM audit WHERE seq >= {}", n - 1), &[])
            .unwrap();
        s.query(
            &format!(
                "UPDATE audit_head SET seq = {}, hash = (SELECT hash FROM audit WHERE seq = {})",
                n - 2,
                n - 2
            ),
            &[],
        )
        .unwrap();
        let err = w.app.verify_audit().unwrap().unwrap_err();
        assert_eq!(
            err.seq,
            n - 1,
            "truncated tail caught by the head file: {}",
            w.t.name
        );
    }
}

#[test]
fn set_aside_keeps_failing_rows_out_records_why_and_gives_them_back_only_to_the_owners_editors() {
    let file = "indicator,period,geo,value,flags\n\
                asylum_applications,2015,DEU,100,\n\
                asylum_applications,2015,Atlantis,7,\n\
                asylum_applications,,FRA,5,\n\
                asylum_applications,2015,ITA,-3,\n\
                asylum_applications,2015,ESP,20,\n";
    for w in worlds() {
        // Without --set-aside the import stays all or nothing.
        let refused = w
            .import("editor@euaa.eu", "apps", file, |_| {})
            .unwrap_err();
        assert!(
            matches!(refused, AppError::Import(_)),
            "{}: {refused}",
            w.t.name
        );
        let report = w
            .import("editor@euaa.eu", "apps", file, |r| {
                r.options.set_aside = true
            })
            .unwrap();
        assert_eq!(
            (report.observations, report.set_aside),
            (2, 3),
            "{}",
            w.t.name
        );
        assert!(
            report
                .warnings
                .iter()
                .any(|x| x.starts_with("3 row(s) set aside")),
            "{:?}",
            report.warnings
        );
        let csv = w
            .app
            .set_aside_rows(
                &w.as_("editor@euaa.eu"),
                &DatasetName::new("euaa", "apps"),
                None,
            )
            .unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "row,reason,indicator,period,geo,value,flags");
        assert_eq!(lines.len(), 4, "{csv}");
        assert!(
            lines[1].starts_with("3,") && lines[1].contains("Atlantis"),
            "{csv}"
        );
        assert!(
            lines[3].starts_with("5,") && lines[3].contains("negative"),
            "{csv}"
        );
        // The rows as sent are for the owner's editors: not an analyst, not another organisation.
        assert!(matches!(
            w.app.set_aside_rows(
                &w.as_("analyst@euaa.eu"),
                &DatasetName::new("euaa", "apps"),
                None
            ),
            Err(AppError::Forbidden(_))
        ));
        assert!(matches!(
            w.app.set_aside_rows(
                &w.as_("admin@bmi.de"),
                &DatasetName::new("euaa", "apps"),
                None
            ),
            Err(AppError::NotFound(_))
        ));
        // Redacting the version destroys them with its data.
        w.app
            .redact(
                &w.as_("admin@euaa.eu"),
                &DatasetName::new("euaa", "apps"),
                1,
            )
            .unwrap();
        assert!(matches!(
            w.app.set_aside_rows(
                &w.as_("admin@euaa.eu"),
                &DatasetName::new("euaa", "apps"),
                Some(1)
            ),
            Err(AppError::NotFound(_))
        ));
    }
}

/// A staged upload is a record in the database with its file: a second node (behind the same
/// load balancer, or this node after a restart) shows it, confirms it or discards it, one
/// confirmation wins, and nobody else ever sees it.
#[test]
fn a_staged_upload_is_shown_confirmed_and_discarded_from_any_node() {
    const GOOD: &str = "indicator,period,geo,origin,value\nasylum_applications,2015,DEU,SYR,100\n";
    for w in worlds() {
        let url = w.t.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}",
                w.t.dir.path().join("nansen.sqlite").display()
            )
        });
        let other_dir = tempfile::tempdir().unwrap();
        let other = App::open(other_dir.path(), Some(&url)).unwrap();
        let editor = w.as_("editor@euaa.eu");
        let stage = |slug: &str| {
            let path = w.app.uploads_dir().unwrap().join(format!("{slug}.tmp"));
            std::fs::write(&path, GOOD).unwrap();
            let request = ImportRequest {
                org: "euaa".into(),
                slug: slug.into(),
                file_name: "apps.csv".into(),
                ..Default::default()
            };
            let staged = w.app.stage_upload(&editor, request, path.clone()).unwrap();
            assert!(!path.exists(), "the received file is the upload's now");
            w.app.validate_upload(&editor, &staged.id).unwrap()
        };
        let u = stage("apps");
        assert!(
            matches!(u.state, nansen_app::UploadState::Ready { .. }),
            "{}: {u:?}",
            w.t.name
        );
        // The other node shows it, to its owner only.
        let seen = other.upload(&editor, &u.id).unwrap();
        assert!(matches!(seen.state, nansen_app::UploadState::Ready { .. }));
        for someone in ["admin@euaa.eu", "viewer@iom.int"] {
            let e = other.upload(&w.as_(someone), &u.id).unwrap_err();
            assert!(matches!(e, AppError::NotFound(_)), "{someone}: {e}");
        }
        // It confirms it, without the file ever having been on its disk.
        let report = other.confirm_upload(&editor, &u.id).unwrap();
        assert_eq!(report.version, Some(1), "{}", w.t.name);
        assert_eq!(w.total(&editor, "apps", None), Some(100.0));
        // A second confirmation, from either node, saves nothing twice.
        let again = w.app.confirm_upload(&editor, &u.id).unwrap_err();
        assert!(matches!(again, AppError::Conflict(_)), "{again}");
        assert!(matches!(
            w.app.upload(&editor, &u.id).unwrap().state,
            nansen_app::UploadState::Landed { .. }
        ));
        // Discarded on one node, gone on both.
        let d = stage("other");
        other.discard_upload(&editor, &d.id).unwrap();
        assert!(matches!(
            w.app.upload(&editor, &d.id).unwrap_err(),
            AppError::NotFound(_)
        ));
        // This node's copy of its file goes the next time it stages one.
        stage("third");
        assert!(!w.app.uploads_dir().unwrap().join(&d.id).exists());
    }
}

//! Documents and search through the application layer, on SQLite and on PostgreSQL.

use nansen_app::{App, AppError, Caller, HitKind, ImportRequest, NewDocument, SearchRequest};
use nansen_model::{Role, Sharing};
use nansen_store::testing::{stores, TestStore};
use std::io::Write;
use std::path::Path;

struct World {
    t: TestStore,
    app: App,
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
                ("editor@euaa.eu", "euaa", Role::Editor),
                ("admin@euaa.eu", "euaa", Role::Admin),
                ("viewer@iom.int", "iom", Role::Viewer),
                ("admin@bamf.de", "bamf", Role::Admin),
            ] {
                app.add_user(&op, email, org, role, "a long enough password")
                    .unwrap();
            }
            World { t, app }
        })
        .collect()
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../nansen-extract/tests/fixtures")
            .join(name),
    )
    .unwrap()
}

impl World {
    fn as_(&self, email: &str) -> Caller {
        self.app.act_as(email).unwrap()
    }
    fn add(
        &self,
        who: &str,
        file: &str,
        bytes: &[u8],
        share: Option<&str>,
    ) -> Result<nansen_app::DocumentView, AppError> {
        let new = NewDocument {
            org: "euaa".into(),
            countries: vec!["ITA".into()],
            share: share.map(|s| s.parse::<Sharing>().unwrap()),
            ..Default::default()
        };
        self.app.add_document(&self.as_(who), &new, file, bytes)
    }
    fn search(&self, who: &Caller, text: &str) -> nansen_app::SearchResults {
        self.app
            .search(
                who,
                &SearchRequest {
                    text: text.into(),
                    limit: 10,
                    ..Default::default()
                },
            )
            .unwrap()
    }
    fn outbox(&self) -> i64 {
        self.t.store.search_outbox_head().unwrap()
    }
}

#[test]
fn a_partner_finds_an_uploaded_pdf_by_a_word_of_its_third_page_and_a_third_organisation_finds_nothing(
) {
    for w in worlds() {
        let doc = w
            .add(
                "admin@euaa.eu",
                "reception.pdf",
                &fixture("report.pdf"),
                Some("partners:iom"),
            )
            .unwrap();
        assert_eq!(
            doc.title, "Reception conditions at Mediterranean arrival points",
            "{}: the title is the PDF's first line or file name",
            w.t.name
        );
        assert_eq!(doc.language, "en");
        assert_eq!(doc.versions[0].pages, 3);
        let iom = w.search(&w.as_("viewer@iom.int"), "Lampedusa");
        assert_eq!(iom.total, 1, "{}", w.t.name);
        let hit = &iom.hits[0];
        assert_eq!(
            (hit.kind, hit.id.as_str()),
            (HitKind::Document, doc.id.to_string().as_str())
        );
        assert!(
            hit.snippet_parts()
                .windows(2)
                .any(|p| p[0] == ("Lampedusa", true) && p[1].0.starts_with(" hotspot")),
            "{}: {:?}",
            w.t.name,
            hit.snippet_parts()
        );
        let bamf = w.search(&w.as_("admin@bamf.de"), "Lampedusa");
        assert_eq!((bamf.total, bamf.hits.len()), (0, 0), "{}", w.t.name);
        assert!(
            bamf.facets.values().all(|v| v.is_empty()),
            "{}: {:?}",
            w.t.name,
            bamf.facets
        );
        assert_eq!(w.search(&Caller::anonymous(), "Lampedusa").total, 0);
        // And outside search: the document does not exist for BAMF.
        let who = w.as_("admin@bamf.de");
        assert!(matches!(
            w.app.document(&who, doc.id),
            Err(AppError::NotFound(_))
        ));
        assert!(matches!(
            w.app.document_text(&who, doc.id, None),
            Err(AppError::NotFound(_))
        ));
        assert!(matches!(
            w.app.document_file(&who, doc.id, Some(1)),
            Err(AppError::NotFound(_))
        ));
        let text = w
            .app
            .document_text(&w.as_("viewer@iom.int"), doc.id, None)
            .unwrap();
        assert!(text.pages[2].contains("Lampedusa"));
        assert_eq!(
            w.app
                .document_file(&w.as_("viewer@iom.int"), doc.id, None)
                .unwrap()
                .bytes,
            fixture("report.pdf")
        );
    }
}

#[test]
fn a_listed_document_is_found_by_its_metadata_and_read_once_access_is_approved() {
    for w in worlds() {
        let doc = w
            .add(
                "admin@euaa.eu",
                "reception.pdf",
                &fixture("report.pdf"),
                Some("listed"),
            )
            .unwrap();
        let iom = w.as_("viewer@iom.int");
        let by_title = w.search(&iom, "reception mediterranean");
        assert_eq!(by_title.total, 1, "{}", w.t.name);
        assert!(
            !by_title.hits[0].snippet.contains("Lampedusa"),
            "{}: no text before approval",
            w.t.name
        );
        assert_eq!(
            w.search(&iom, "Lampedusa").total,
            0,
            "{}: the text is not searchable before approval",
            w.t.name
        );
        assert!(matches!(
            w.app.document_text(&iom, doc.id, None),
            Err(AppError::Forbidden(_))
        ));
        let viewer = w.app.act_as("viewer@iom.int").unwrap();
        let rid = w
            .app
            .request_access(
                &viewer,
                &nansen_app::Subject::Document(doc.id),
                "we run the reception monitoring in Sicily",
            )
            .unwrap();
        assert!(matches!(
            w.app.decide_access(&w.as_("admin@bamf.de"), rid, true, ""),
            Err(AppError::NotFound(_))
        ));
        // The owner's admins find it in the one list of requests, named by its title.
        let listed = w.app.access_requests(&w.as_("admin@euaa.eu")).unwrap();
        let r = listed.iter().find(|r| r.id == rid).unwrap();
        assert_eq!((r.kind.as_str(), r.subject_id), ("document", doc.id));
        assert_eq!(r.subject, doc.title);
        assert!(w
            .app
            .access_requests(&w.as_("admin@bamf.de"))
            .unwrap()
            .is_empty());
        w.app
            .decide_access(&w.as_("admin@euaa.eu"), rid, true, "yes")
            .unwrap();
        assert_eq!(
            w.search(&iom, "Lampedusa").total,
            1,
            "{}: approval reaches the index",
            w.t.name
        );
        assert!(w.app.document_text(&iom, doc.id, None).unwrap().pages[2].contains("Lampedusa"));
        let actions: Vec<String> = w
            .app
            .audit_log(&Caller::operator())
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        for a in [
            "document.add",
            "document.request",
            "document.approve",
            "document.read",
        ] {
            assert!(
                actions.iter().any(|x| x == a),
                "{}: {a} is audited: {actions:?}",
                w.t.name
            );
        }
    }
}

#[test]
fn versions_are_kept_whole_and_each_can_be_downloaded() {
    for w in worlds() {
        let doc = w
            .add(
                "editor@euaa.eu",
                "minutes.md",
                b"# Joint committee\n\nThe committee met in Geneva.",
                None,
            )
            .unwrap();
        let v2 = w
            .app
            .add_document_version(
                &w.as_("editor@euaa.eu"),
                doc.id,
                "minutes.md",
                b"# Joint committee\n\nThe committee met in Brussels.",
            )
            .unwrap();
        assert_eq!(v2.number, 2);
        let ed = w.as_("editor@euaa.eu");
        assert_eq!(
            w.app.document_file(&ed, doc.id, Some(1)).unwrap().bytes,
            b"# Joint committee\n\nThe committee met in Geneva."
        );
        assert!(w.app.document_text(&ed, doc.id, Some(2)).unwrap().pages[0].contains("Brussels"));
        assert_eq!(
            w.search(&ed, "Brussels").total,
            1,
            "{}: the latest version is searched",
            w.t.name
        );
        assert_eq!(w.search(&ed, "Geneva").total, 0, "{}", w.t.name);
        assert!(matches!(
            w.app
                .add_document_version(&w.as_("viewer@iom.int"), doc.id, "x.md", b"x"),
            Err(AppError::NotFound(_))
        ));
    }
}

#[test]
fn a_hostile_file_is_refused_and_changes_nothing_and_a_textless_one_is_kept_and_marked() {
    for w in worlds() {
        let before = w.outbox();
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        zip.start_file(
            "word/document.xml",
            zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated),
        )
        .unwrap();
        for _ in 0..300 {
            zip.write_all(&[b'a'; 1 << 20]).unwrap();
        }
        let bomb = zip.finish().unwrap().into_inner();
        let err = w
            .add("editor@euaa.eu", "bomb.docx", &bomb, None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("zip bomb"), "{}: {err}", w.t.name);
        assert_eq!(w.outbox(), before, "{}: nothing was written", w.t.name);
        assert!(w.app.documents(&Caller::operator()).unwrap().is_empty());
        let err = w
            .add("editor@euaa.eu", "fake.pdf", b"hello", None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a PDF"), "{err}");
        let err = w
            .add("viewer@iom.int", "a.txt", b"hello", None)
            .unwrap_err();
        assert!(
            matches!(err, AppError::NotFound(_)),
            "another organisation cannot add to euaa: {err}"
        );
        let err = w
            .add("editor@euaa.eu", "a.txt", b"hello", Some("public"))
            .unwrap_err();
        assert!(
            matches!(err, AppError::Forbidden(_)),
            "only admins share: {err}"
        );
        let blank = w
            .add(
                "editor@euaa.eu",
                "blank.html",
                b"<html><body><img src=x></body></html>",
                None,
            )
            .unwrap();
        assert_eq!(
            blank.versions[0].no_text.as_deref(),
            Some("the file holds no text")
        );
    }
}

#[test]
fn datasets_come_back_in_the_same_results_as_documents() {
    for w in worlds() {
        w.add(
            "admin@euaa.eu",
            "note.txt",
            b"Asylum applications from Syria rose in the spring.",
            Some("public"),
        )
        .unwrap();
        let csv = "indicator,period,geo,origin,value\nasylum_applications,2024-01,DEU,SYR,10\nasylum_applications,2024-02,DEU,AFG,12\n";
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.csv"), csv).unwrap();
        let req = ImportRequest {
            org: "euaa".into(),
            slug: "monthly".into(),
            file_name: "a.csv".into(),
            title: Some("Monthly applications".into()),
            share: Some(Sharing::Public),
            ..Default::default()
        };
        w.app
            .import(
                &w.as_("admin@euaa.eu"),
                &req,
                &dir.path().join("a.csv"),
                &|_| {},
            )
            .unwrap();
        let r = w.search(&Caller::anonymous(), "applications");
        let kinds: Vec<HitKind> = r.hits.iter().map(|h| h.kind).collect();
        assert!(
            kinds.contains(&HitKind::Dataset) && kinds.contains(&HitKind::Document),
            "{}: {kinds:?}",
            w.t.name
        );
        let ds = r.hits.iter().find(|h| h.kind == HitKind::Dataset).unwrap();
        assert_eq!(ds.id, "euaa/monthly");
        assert_eq!(ds.countries, ["AFG", "DEU", "SYR"]);
        let afghan = w.search(&Caller::anonymous(), "afghanistan");
        assert_eq!(
            afghan
                .hits
                .iter()
                .map(|h| h.id.as_str())
                .collect::<Vec<_>>(),
            ["euaa/monthly"],
            "{}: found by the countries it covers",
            w.t.name
        );
    }
}

#[test]
fn another_node_sees_every_committed_change_and_reindex_rebuilds_from_the_database() {
    for w in worlds() {
        // A second node on the same database, with its own index, as a CLI beside a server.
        let other_dir = tempfile::tempdir().unwrap();
        let url = w.t.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}",
                w.t.dir.path().join("nansen.sqlite").display()
            )
        });
        let other = App::open(other_dir.path(), Some(&url)).unwrap();
        let doc = w
            .add(
                "admin@euaa.eu",
                "coi.txt",
                b"Country of origin information on Eritrea: national service.",
                Some("public"),
            )
            .unwrap();
        let hits = other
            .search(
                &Caller::anonymous(),
                &SearchRequest {
                    text: "eritrea".into(),
                    limit: 5,
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(
            hits.total, 1,
            "{}: the other node caught up before answering",
            w.t.name
        );
        // A crash after the commit and before any index saw it loses nothing either: the
        // outbox is in the database. Simulate it by wiping an index and opening again.
        drop(other);
        std::fs::remove_dir_all(other_dir.path().join("search")).unwrap();
        let reopened = App::open(other_dir.path(), Some(&url)).unwrap();
        assert_eq!(
            reopened
                .search(
                    &Caller::anonymous(),
                    &SearchRequest {
                        text: "eritrea".into(),
                        limit: 5,
                        ..Default::default()
                    }
                )
                .unwrap()
                .total,
            1
        );
        w.app
            .share_document(&w.as_("admin@euaa.eu"), doc.id, Sharing::Private)
            .unwrap();
        assert_eq!(
            reopened
                .search(
                    &Caller::anonymous(),
                    &SearchRequest {
                        text: "eritrea".into(),
                        limit: 5,
                        ..Default::default()
                    }
                )
                .unwrap()
                .total,
            0,
            "{}: unsharing reaches the other node",
            w.t.name
        );
        let mut seen = 0;
        let n = w.app.reindex(&mut |k| seen = k).unwrap();
        assert_eq!((n, seen), (1, 1));
        assert_eq!(w.search(&w.as_("editor@euaa.eu"), "eritrea").total, 1);
    }
}

#[test]
fn an_editor_describes_a_document_again_and_search_follows() {
    for w in worlds() {
        let doc = w
            .add(
                "editor@euaa.eu",
                "note.md",
                b"# Draft\n\nReception in Sicily.",
                None,
            )
            .unwrap();
        let ed = w.as_("editor@euaa.eu");
        let change = nansen_app::DocumentMetadata {
            title: Some("Reception in Sicily, June".into()),
            countries: Some(vec!["Greece, ITA".into()]),
            date: Some("2025-06".into()),
            ..Default::default()
        };
        let d = w.app.describe_document(&ed, doc.id, &change).unwrap();
        assert_eq!(
            (d.title.as_str(), d.countries.clone(), d.date.as_deref()),
            (
                "Reception in Sicily, June",
                vec!["GRC".to_string(), "ITA".into()],
                Some("2025-06")
            ),
            "{}",
            w.t.name
        );
        assert_eq!(
            d.doc_type,
            nansen_model::DocumentType::Report,
            "what is not given stays"
        );
        let r = w.search(&ed, "june");
        assert_eq!(r.total, 1, "{}: the new title is searched", w.t.name);
        assert_eq!(
            w.app
                .search(
                    &ed,
                    &SearchRequest {
                        country: Some("GRC".into()),
                        limit: 5,
                        ..Default::default()
                    }
                )
                .unwrap()
                .total,
            1
        );
        let bad = nansen_app::DocumentMetadata {
            countries: Some(vec!["Atlantis".into()]),
            ..Default::default()
        };
        assert!(w
            .app
            .describe_document(&ed, doc.id, &bad)
            .unwrap_err()
            .to_string()
            .contains("\"Atlantis\""));
        assert!(matches!(
            w.app
                .describe_document(&w.as_("admin@bamf.de"), doc.id, &change),
            Err(AppError::NotFound(_))
        ));
        assert!(w
            .app
            .audit_log(&Caller::operator())
            .unwrap()
            .iter()
            .any(|e| e.action == "document.describe"));
    }
}

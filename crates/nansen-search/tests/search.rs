//! The index on its own: relevance, languages, typos, phrases, facets, dates and, above all,
//! that nothing reaches a searcher who may not see it.

use nansen_search::{Change, Entry, Kind, Request, SearchIndex, Searcher, Sort, Visibility};

fn doc(
    id: &str,
    org: &str,
    title: &str,
    body: &str,
    language: &str,
    date: &str,
    visibility: Visibility,
) -> Entry {
    Entry {
        kind: Kind::Document,
        id: id.into(),
        title: title.into(),
        about: String::new(),
        body: body.into(),
        language: language.into(),
        doc_type: "report".into(),
        org: org.into(),
        countries: vec!["ITA".into()],
        date: Some(date.into()),
        visibility,
    }
}

fn partners(orgs: &[&str]) -> Visibility {
    Visibility {
        readers: orgs.iter().map(|o| o.to_string()).collect(),
        ..Default::default()
    }
}

fn corpus() -> (tempfile::TempDir, SearchIndex) {
    let dir = tempfile::tempdir().unwrap();
    let index = SearchIndex::open(dir.path()).unwrap();
    let entries = vec![
        doc("1", "euaa", "Reception conditions at arrival points", "Capacity of centres.\x0cOccupancy.\x0cThe Lampedusa hotspot needs a second medical team.", "en", "2025-06-01", partners(&["iom"])),
        doc("2", "euaa", "Internal staffing note", "Lampedusa staffing for the summer.", "en", "2025-07-01", Visibility::default()),
        doc("3", "iom", "Retour volontaire assisté", "Les réfugiés accompagnés ont reçu une aide à la réinstallation.", "fr", "2024-02-10", Visibility { public: true, ..Default::default() }),
        doc("4", "iom", "تقرير اللجوء", "ارتفع عدد طلبات اللجوء المقدمة من سوريا وأفغانستان", "ar", "2023-05-05", Visibility { public: true, ..Default::default() }),
        doc("5", "bamf", "Solicitudes de asilo", "Las solicitudes de protección internacional aumentaron.", "es", "2022-01-01", Visibility { listed: true, ..Default::default() }),
        Entry {
            kind: Kind::Dataset,
            id: "euaa/asylum".into(),
            title: "Asylum applications".into(),
            about: "Monthly first-time asylum applicants by citizenship. Countries: Syria, Afghanistan.".into(),
            language: "en".into(),
            doc_type: "dataset".into(),
            org: "euaa".into(),
            countries: vec!["SYR".into(), "AFG".into()],
            date: Some("2025-09-30".into()),
            visibility: Visibility { public: true, ..Default::default() },
            ..Default::default()
        },
    ];
    index
        .apply(
            6,
            entries
                .into_iter()
                .map(|e| Change::Put(Box::new(e)))
                .collect(),
        )
        .unwrap();
    (dir, index)
}

fn member(org: &str) -> Searcher {
    Searcher::Member(vec![org.into()])
}

fn find(index: &SearchIndex, who: &Searcher, text: &str) -> nansen_search::Results {
    index
        .search(
            who,
            &Request {
                text: text.into(),
                limit: 10,
                ..Default::default()
            },
        )
        .unwrap()
}

fn ids(r: &nansen_search::Results) -> Vec<String> {
    r.hits.iter().map(|h| h.id.clone()).collect()
}

#[test]
fn a_partner_finds_a_word_of_the_third_page_highlighted_and_a_third_organisation_finds_nothing() {
    let (_d, index) = corpus();
    let r = find(&index, &member("iom"), "lampedusa");
    assert_eq!(ids(&r), ["1"]);
    assert_eq!(r.total, 1);
    assert!(
        r.hits[0]
            .snippet_parts()
            .windows(3)
            .any(|p| p[0].0.ends_with("The ")
                && p[1] == ("Lampedusa", true)
                && p[2].0.starts_with(" hotspot")),
        "{:?}",
        r.hits[0].snippet_parts()
    );
    let other = find(&index, &member("bamf"), "lampedusa");
    assert_eq!(other.total, 0);
    assert!(other.hits.is_empty());
    assert!(
        other.facets.values().all(|v| v.is_empty()),
        "{:?}",
        other.facets
    );
    let owner = find(&index, &member("euaa"), "lampedusa");
    assert_eq!(owner.total, 2);
    assert_eq!(find(&index, &Searcher::Anonymous, "lampedusa").total, 0);
    assert_eq!(find(&index, &Searcher::Everything, "lampedusa").total, 2);
}

#[test]
fn a_listed_entry_is_found_by_its_title_but_not_by_its_text_and_shows_no_text() {
    let (_d, index) = corpus();
    assert_eq!(ids(&find(&index, &member("iom"), "solicitudes")), ["5"]);
    let by_text = find(&index, &member("iom"), "protección");
    assert_eq!(by_text.total, 0, "{:?}", ids(&by_text));
    let hit = &find(&index, &member("iom"), "asilo").hits[0];
    assert!(!hit.snippet.contains("internacional"), "{}", hit.snippet);
    assert_eq!(find(&index, &Searcher::Anonymous, "solicitudes").total, 0);
    assert_eq!(find(&index, &member("bamf"), "protección").total, 1);
}

#[test]
fn each_language_is_stemmed_by_its_own_rules() {
    let (_d, index) = corpus();
    let who = member("iom");
    assert_eq!(ids(&find(&index, &who, "réfugié")), ["3"]);
    assert_eq!(ids(&find(&index, &who, "refugies")), ["3"]);
    assert_eq!(ids(&find(&index, &who, "افغانستان")), ["4"]);
    assert_eq!(ids(&find(&index, &who, "application")), ["euaa/asylum"]);
}

#[test]
fn typos_phrases_and_exclusions() {
    let (_d, index) = corpus();
    let who = member("euaa");
    let r = find(&index, &who, "lampedsa");
    assert_eq!(r.total, 2, "one typo is forgiven");
    assert!(
        r.hits
            .iter()
            .any(|h| h.snippet_parts().contains(&("Lampedusa", true))),
        "{:?}",
        r.hits
    );
    assert_eq!(find(&index, &who, "\"second medical team\"").total, 1);
    assert_eq!(find(&index, &who, "\"medical second team\"").total, 0);
    assert_eq!(ids(&find(&index, &who, "lampedusa -staffing")), ["1"]);
    assert_eq!(find(&index, &who, "xqzv").total, 0);
}

#[test]
fn datasets_and_documents_come_back_together_with_facets_and_by_date() {
    let (_d, index) = corpus();
    let who = member("iom");
    let r = index
        .search(
            &who,
            &Request {
                limit: 10,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(r.total, 5, "everything iom may see: {:?}", ids(&r));
    let types = &r.facets["type"];
    assert_eq!(
        types
            .iter()
            .map(|f| (f.value.as_str(), f.count))
            .collect::<Vec<_>>(),
        [("report", 4), ("dataset", 1)]
    );
    assert!(r.facets["language"]
        .iter()
        .any(|f| f.value == "ar" && f.count == 1));
    let newest = index
        .search(
            &who,
            &Request {
                sort: Sort::Newest,
                limit: 10,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(ids(&newest), ["euaa/asylum", "1", "3", "4", "5"]);
    let syria = index
        .search(
            &who,
            &Request {
                country: Some("SYR".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(ids(&syria), ["euaa/asylum"]);
    let y2024 = index
        .search(
            &who,
            &Request {
                year: Some("2024".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(ids(&y2024), ["3"]);
}

#[test]
fn the_index_remembers_its_outbox_position_and_changes_replace_entries() {
    let (dir, index) = corpus();
    assert_eq!(index.applied().unwrap(), 6);
    index
        .apply(
            7,
            vec![Change::Remove {
                kind: Kind::Document,
                id: "1".into(),
            }],
        )
        .unwrap();
    assert_eq!(find(&index, &member("iom"), "lampedusa").total, 0);
    drop(index);
    let again = SearchIndex::open(dir.path()).unwrap();
    assert_eq!(again.applied().unwrap(), 7);
    assert!(again.caught_up(7).unwrap());
    assert!(!again.caught_up(8).unwrap());
    assert_eq!(find(&again, &Searcher::Everything, "lampedusa").total, 1);
}

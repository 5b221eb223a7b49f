//! Analysis through the application layer on SQLite and PostgreSQL: a property test against
//! a straightforward reference over the observations as stored, and the derived questions.

use nansen_app::{App, AppError, Caller, ImportRequest, Question};
use nansen_model::DatasetName;
use nansen_model::{Query, Role};
use nansen_store::testing::{stores, TestStore};
use std::collections::{BTreeMap, BTreeSet};

/// A small deterministic generator (xorshift), so failures replay.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn subset<'a>(&mut self, items: &[&'a str], percent: u64) -> Vec<&'a str> {
        items
            .iter()
            .copied()
            .filter(|_| self.chance(percent))
            .collect()
    }
}

#[derive(Clone, Debug)]
struct Obs {
    key: BTreeMap<String, String>,
    value: Option<f64>,
}

const DIMS: [(&str, &[&str]); 6] = [
    ("indicator", &["asylum_applications", "refugees"]),
    (
        "period",
        &[
            "2014-11", "2014-12", "2015-01", "2015-02", "2016-06", "2015", "2016",
        ],
    ),
    ("geo", &["DEU", "FRA", "ITA", "TOTAL"]),
    ("origin", &["SYR", "AFG", "XXX"]),
    ("sex", &["T", "F", "M"]),
    ("route", &["sea", "land", "TOTAL"]),
];

fn random_dataset(rng: &mut Rng) -> Vec<Obs> {
    let dims: Vec<&(&str, &[&str])> = DIMS
        .iter()
        .filter(|(d, _)| matches!(*d, "indicator" | "period") || rng.chance(70))
        .collect();
    // Half the datasets hold one indicator, a flow or a stock.
    let one = rng.chance(50).then(|| rng.below(2));
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for _ in 0..rng.below(60) + 1 {
        let key: BTreeMap<String, String> = dims
            .iter()
            .map(|(d, codes)| {
                let i = match (*d, one) {
                    ("indicator", Some(i)) => i,
                    _ => rng.below(codes.len()),
                };
                (d.to_string(), codes[i].to_string())
            })
            .collect();
        if seen.insert(key.clone()) {
            let value = if rng.chance(10) {
                None
            } else {
                Some(rng.below(100) as f64)
            };
            out.push(Obs { key, value });
        }
    }
    out
}

fn csv_of(obs: &[Obs]) -> String {
    let dims: Vec<&String> = obs[0].key.keys().collect();
    let mut s = dims
        .iter()
        .map(|d| d.as_str())
        .collect::<Vec<_>>()
        .join(",")
        + ",value,flags\n";
    for o in obs {
        let cells: Vec<&str> = o.key.values().map(String::as_str).collect();
        s += &format!(
            "{},{},{}\n",
            cells.join(","),
            o.value.map(|v| v.to_string()).unwrap_or_else(|| ":".into()),
            if o.value.is_none() { "c" } else { "" }
        );
    }
    s
}

/// Group keys and values, as a query answers them.
type Answer = Vec<(Vec<String>, Option<f64>)>;

/// Why the plain computation refuses a query.
#[derive(Debug)]
enum Refusal {
    SeveralIndicators,
    AggregateWithPart,
}

/// The meaning of a number (DESIGN section 4), computed the plain way; `Err` where several
/// indicators would be added together.
fn reference(obs: &[Obs], q: &Query) -> Result<Answer, Refusal> {
    let total = |d: &str| if d == "sex" { "T" } else { "TOTAL" };
    let dims: Vec<String> = obs
        .first()
        .map(|o| o.key.keys().cloned().collect())
        .unwrap_or_default();
    // A total (or an aggregate) named beside its part, not grouped, would count the part twice.
    for (d, vs) in &q.filters {
        if d == "period" || q.group_by.contains(d) {
            continue;
        }
        let present: Vec<&String> = vs
            .iter()
            .filter(|v| obs.iter().any(|o| o.key[d] == **v))
            .collect();
        for a in &present {
            if present.iter().any(|b| {
                nansen_model::aggregates::overlaps(d, a, b, nansen_codes::CodeLists::get())
            }) {
                return Err(Refusal::AggregateWithPart);
            }
        }
    }
    let carries = |d: &str| obs.iter().any(|o| o.key[d] == total(d));
    let kept: Vec<&Obs> = obs
        .iter()
        .filter(|o| q.filters.iter().all(|(d, vs)| vs.contains(&o.key[d])))
        .filter(|o| {
            nansen_codes::Period::parse(&o.key["period"])
                .unwrap()
                .within(q.from.as_ref(), q.to.as_ref())
        })
        .filter(|o| {
            dims.iter().all(|d| {
                d == "indicator"
                    || d == "period"
                    || q.group_by.contains(d)
                    || q.filters.iter().any(|(f, _)| f == d)
                    || !carries(d)
                    || o.key[d] == total(d)
            })
        })
        .collect();
    let indicators: BTreeSet<&String> = kept.iter().map(|o| &o.key["indicator"]).collect();
    let all_indicators: BTreeSet<&String> = obs
        .iter()
        .map(|o| &o.key["indicator"])
        .filter(|i| {
            q.filters
                .iter()
                .all(|(d, vs)| d != "indicator" || vs.contains(i))
        })
        .collect();
    if all_indicators.len() > 1 && !q.group_by.iter().any(|g| g == "indicator") {
        return Err(Refusal::SeveralIndicators);
    }
    let _ = indicators;
    let end = |o: &Obs| nansen_codes::Period::parse(&o.key["period"]).unwrap().end();
    // A stock is read at one date for every group: the latest its indicator has in the answer.
    let mut latest: BTreeMap<&String, i64> = BTreeMap::new();
    for o in &kept {
        let e = latest.entry(&o.key["indicator"]).or_insert(i64::MIN);
        *e = (*e).max(end(o));
    }
    let mut groups: BTreeMap<Vec<String>, Vec<&Obs>> = BTreeMap::new();
    for o in kept {
        groups
            .entry(q.group_by.iter().map(|g| o.key[g].clone()).collect())
            .or_default()
            .push(o);
    }
    let mut out = Vec::new();
    for (k, members) in groups {
        let stock = members[0].key["indicator"] == "refugees";
        let chosen: Vec<&&Obs> = if stock && !q.group_by.iter().any(|g| g == "period") {
            members
                .iter()
                .filter(|o| end(o) == latest[&o.key["indicator"]])
                .collect()
        } else {
            members.iter().collect()
        };
        if chosen.is_empty() {
            // A group that did not report at the stock's date is absent, not carried forward.
            continue;
        }
        let vals: Vec<f64> = chosen.iter().filter_map(|o| o.value).collect();
        out.push((
            k,
            if vals.is_empty() {
                None
            } else {
                Some(vals.iter().sum())
            },
        ));
    }
    if q.group_by.is_empty() && out.is_empty() {
        out.push((vec![], None));
    }
    Ok(out)
}

fn setup(t: &TestStore) -> App {
    let app = App::open(t.dir.path(), t.database_url.as_deref()).unwrap();
    let op = Caller::operator();
    app.add_org(&op, "euaa", "EUAA").unwrap();
    app.add_org(&op, "iom", "IOM").unwrap();
    app.add_user(
        &op,
        "ed@euaa.eu",
        "euaa",
        Role::Admin,
        "a long enough password",
    )
    .unwrap();
    app.add_user(
        &op,
        "v@iom.int",
        "iom",
        Role::Viewer,
        "a long enough password",
    )
    .unwrap();
    app
}

fn import(
    app: &App,
    slug: &str,
    text: &str,
    f: impl FnOnce(&mut ImportRequest),
) -> nansen_app::ImportReport {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.csv");
    std::fs::write(&path, text).unwrap();
    let mut req = ImportRequest {
        org: "euaa".into(),
        slug: slug.into(),
        file_name: "f.csv".into(),
        ..Default::default()
    };
    f(&mut req);
    app.import(&app.act_as("ed@euaa.eu").unwrap(), &req, &path, &|_| {})
        .unwrap()
}

/// The observations as stored, read back through the JSON export.
fn stored(app: &App, slug: &str) -> Vec<Obs> {
    let mut buf = Vec::new();
    app.export(
        &Caller::operator(),
        &DatasetName::new("euaa", slug),
        None,
        "json".parse().unwrap(),
        &mut buf,
    )
    .unwrap();
    let v: Vec<serde_json::Map<String, serde_json::Value>> = serde_json::from_slice(&buf).unwrap();
    v.into_iter()
        .map(|m| Obs {
            key: m
                .iter()
                .filter(|(k, _)| *k != "value" && *k != "flags")
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect(),
            value: m["value"].as_f64(),
        })
        .collect()
}

#[test]
fn random_queries_over_random_datasets_agree_with_the_plain_computation() {
    for t in stores() {
        let app = setup(&t);
        let mut rng = Rng(0x5eed_1234_abcd_0001);
        let (mut answered, mut refused) = (0, 0);
        for case in 0..40 {
            let slug = format!("d{case}");
            let first = random_dataset(&mut rng);
            import(&app, &slug, &csv_of(&first), |_| {});
            // A second version over the same dimensions: some changed, some gone, some new.
            let mut second: Vec<Obs> = first.iter().filter(|_| rng.chance(80)).cloned().collect();
            for o in second.iter_mut() {
                if rng.chance(30) {
                    o.value = Some(rng.below(100) as f64);
                }
            }
            let extra = random_dataset(&mut rng).into_iter().filter(|o| {
                o.key.keys().eq(first[0].key.keys()) && !first.iter().any(|f| f.key == o.key)
            });
            second.extend(extra);
            if !second.is_empty() {
                import(&app, &slug, &csv_of(&second), |_| {});
            }
            let obs = stored(&app, &slug);
            let dims: Vec<&str> = first[0].key.keys().map(String::as_str).collect();
            for _ in 0..12 {
                let mut q = Query::default();
                for d in rng.subset(&dims, 25) {
                    let codes = DIMS.iter().find(|(n, _)| *n == d).unwrap().1;
                    q.filters.push((
                        d.to_string(),
                        rng.subset(codes, 50)
                            .into_iter()
                            .map(String::from)
                            .collect(),
                    ));
                }
                q.filters.retain(|(_, v)| !v.is_empty());
                q.group_by = rng
                    .subset(&dims, 30)
                    .into_iter()
                    .map(String::from)
                    .collect();
                if rng.chance(30) {
                    let (from, to) = nansen_codes::parse_range(
                        ["2015..2015", "2014-12..2015-02", "..2015-01", "2016.."][rng.below(4)],
                    )
                    .unwrap();
                    q.from = from;
                    q.to = to;
                }
                let ours = app.query(
                    &Caller::operator(),
                    &DatasetName::new("euaa", slug.as_str()),
                    None,
                    &q,
                );
                match (reference(&obs, &q), ours) {
                    (Ok(want), Ok(got)) => {
                        let got: Answer = got.rows.into_iter().map(|r| (r.key, r.value)).collect();
                        assert_eq!(got, want, "{}: case {case}, query {q:?}", t.name);
                        answered += usize::from(got.iter().any(|(_, v)| v.is_some()));
                    }
                    (
                        Err(Refusal::SeveralIndicators),
                        Err(AppError::Query(nansen_model::QueryError::SeveralIndicators(_))),
                    )
                    | (
                        Err(Refusal::AggregateWithPart),
                        Err(AppError::Query(nansen_model::QueryError::AggregateWithPart {
                            ..
                        })),
                    ) => refused += 1,
                    (want, got) => panic!(
                        "{}: case {case}, query {q:?}: reference {want:?}, engine {got:?}",
                        t.name
                    ),
                }
            }
        }
        eprintln!(
            "{}: {answered} answers with values and {refused} refusals agree",
            t.name
        );
        assert!(
            answered > 100 && refused > 10,
            "the random cases exercise both: {answered} answered, {refused} refused"
        );
    }
}

const DECISIONS: &str = "indicator,period,geo,origin,value,flags\n\
asylum_decisions_total,2015,DEU,SYR,1000,\nasylum_decisions_positive,2015,DEU,SYR,950,\n\
asylum_decisions_total,2015,FRA,SYR,200,\nasylum_decisions_positive,2015,FRA,SYR,100,\n\
asylum_decisions_total,2016,DEU,SYR,400,\nasylum_decisions_positive,2016,DEU,SYR,300,\n";
const UNHCR_STYLE: &str = "indicator,period,geo,origin,value,flags\n\
asylum_decisions_total,2015,DEU,SYR,1000,\nasylum_decisions_recognized,2015,DEU,SYR,800,\nasylum_decisions_other,2015,DEU,SYR,100,\n";
const POPULATION: &str = "indicator,period,geo,value,flags\npopulation,2015,DEU,80000000,\npopulation,2016,DEU,82000000,\npopulation,2015,FRA,66000000,\n";

#[test]
fn derived_indicators_flows_and_comparisons_answer_within_permissions() {
    for t in stores() {
        let app = setup(&t);
        import(&app, "decisions", DECISIONS, |r| {
            r.share = Some("partners:iom".parse().unwrap())
        });
        import(&app, "unhcr", UNHCR_STYLE, |_| {});
        import(&app, "population", POPULATION, |r| {
            r.share = Some("public".parse().unwrap())
        });
        let op = Caller::operator();
        let ask = |slug: &str, q: Question| {
            app.ask(&op, &DatasetName::new("euaa", slug), None, &q)
                .unwrap()
                .rows
                .into_iter()
                .map(|r| (r.key.join("/"), r.value))
                .collect::<Vec<_>>()
        };
        let by = |g: &str| Query {
            group_by: g.split(',').map(String::from).collect(),
            ..Query::default()
        };
        assert_eq!(
            ask(
                "decisions",
                Question {
                    query: by("geo,period"),
                    derived: Some("recognition_rate".into()),
                    ..Default::default()
                }
            ),
            vec![
                ("DEU/2015".into(), Some(95.0)),
                ("DEU/2016".into(), Some(75.0)),
                ("FRA/2015".into(), Some(50.0))
            ],
            "{}",
            t.name
        );
        // UNHCR has no positive decisions: recognised plus other forms of protection.
        assert_eq!(
            ask(
                "unhcr",
                Question {
                    query: by("geo"),
                    derived: Some("recognition_rate".into()),
                    ..Default::default()
                }
            ),
            vec![("DEU".into(), Some(90.0))]
        );
        let mut q = by("geo,period");
        q.filters
            .push(("indicator".into(), vec!["asylum_decisions_total".into()]));
        let per = ask(
            "decisions",
            Question {
                query: q.clone(),
                derived: Some("rate_per_100k".into()),
                per_capita: Some("euaa/population".into()),
                ..Default::default()
            },
        );
        assert_eq!(per[0], ("DEU/2015".into(), Some(1.25)));
        let share = ask(
            "decisions",
            Question {
                query: {
                    let mut s = by("geo");
                    s.filters = q.filters.clone();
                    s.period_range("2015..2015")
                },
                derived: Some("share_of_total".into()),
                ..Default::default()
            },
        );
        assert_eq!(
            share,
            vec![
                ("DEU".into(), Some(1000.0 / 1200.0 * 100.0)),
                ("FRA".into(), Some(200.0 / 1200.0 * 100.0))
            ]
        );
        let cmp = app
            .compare(&op, &["euaa/decisions".into(), "euaa/unhcr".into()], &q)
            .unwrap();
        assert_eq!(cmp.rows[0].key, vec!["DEU", "2015"]);
        assert_eq!(cmp.rows[0].extra, vec![Some(1000.0), Some(0.0), Some(0.0)]);
        let flows = app
            .flows(&op, &DatasetName::new("euaa", "decisions"), None, &q, None)
            .unwrap();
        assert_eq!(
            flows
                .links
                .iter()
                .map(|l| (l.source.as_str(), l.target.as_str(), l.value))
                .collect::<Vec<_>>(),
            vec![
                ("origin:SYR", "geo:DEU", 1400.0),
                ("origin:SYR", "geo:FRA", 200.0)
            ]
        );
        // A partner sees the shared dataset; the private one stays not found, even inside a comparison.
        let iom = app.act_as("v@iom.int").unwrap();
        assert!(app
            .ask(
                &iom,
                &DatasetName::new("euaa", "decisions"),
                None,
                &Question {
                    query: by("geo"),
                    derived: Some("recognition_rate".into()),
                    ..Default::default()
                }
            )
            .is_ok());
        assert!(
            matches!(
                app.compare(&iom, &["euaa/decisions".into(), "euaa/unhcr".into()], &q),
                Err(AppError::NotFound(_))
            ),
            "{}",
            t.name
        );
        assert!(matches!(
            app.ask(
                &op,
                &DatasetName::new("euaa", "decisions"),
                None,
                &Question {
                    query: by("geo"),
                    derived: Some("happiness".into()),
                    ..Default::default()
                }
            ),
            Err(AppError::BadRequest(_))
        ));
    }
}

trait Range {
    fn period_range(self, r: &str) -> Query;
}
impl Range for Query {
    fn period_range(mut self, r: &str) -> Query {
        let (from, to) = nansen_codes::parse_range(r).unwrap();
        self.from = from;
        self.to = to;
        self
    }
}

#[test]
fn two_nodes_on_one_database_give_the_same_answers() {
    for t in stores() {
        let a = setup(&t);
        let b = App::open(t.dir.path(), t.database_url.as_deref()).unwrap();
        let total = |app: &App, who: &Caller| {
            app.query(
                who,
                &DatasetName::new("euaa", "decisions"),
                None,
                &Query {
                    filters: vec![("indicator".into(), vec!["asylum_decisions_total".into()])],
                    ..Query::default()
                },
            )
            .map(|t| t.rows[0].value)
        };
        import(&a, "decisions", DECISIONS, |r| {
            r.share = Some("partners:iom".parse().unwrap())
        });
        let op = Caller::operator();
        assert_eq!(total(&b, &op).unwrap(), Some(1600.0), "{}", t.name);
        import(
            &a,
            "decisions",
            &DECISIONS.replace(
                "asylum_decisions_total,2015,FRA,SYR,200,",
                "asylum_decisions_total,2015,FRA,SYR,3,",
            ),
            |_| {},
        );
        assert_eq!(
            total(&b, &op).unwrap(),
            Some(1403.0),
            "node b sees the new version"
        );
        let iom = b.act_as("v@iom.int").unwrap();
        assert_eq!(total(&b, &iom).unwrap(), Some(1403.0));
        a.share(
            &a.act_as("ed@euaa.eu").unwrap(),
            &DatasetName::new("euaa", "decisions"),
            "partners:iom".parse().unwrap(),
            Some(true),
            Some(5),
        )
        .unwrap();
        assert_eq!(
            total(&b, &iom).unwrap(),
            Some(1400.0),
            "{}: node b suppresses the small cell",
            t.name
        );
        a.share(
            &a.act_as("ed@euaa.eu").unwrap(),
            &DatasetName::new("euaa", "decisions"),
            "partners:iom".parse().unwrap(),
            Some(true),
            Some(2),
        )
        .unwrap();
        assert_eq!(
            total(&b, &iom).unwrap(),
            Some(1403.0),
            "and follows a new threshold"
        );
        a.share(
            &a.act_as("ed@euaa.eu").unwrap(),
            &DatasetName::new("euaa", "decisions"),
            nansen_model::Sharing::Private,
            None,
            None,
        )
        .unwrap();
        assert!(
            matches!(total(&b, &iom), Err(AppError::NotFound(_))),
            "and stops sharing at once"
        );
    }
}

#[test]
fn a_comparison_answers_and_warns_when_definitions_differ() {
    for t in stores() {
        let app = setup(&t);
        import(
            &app,
            "eurostat",
            "indicator,period,geo,applicant,value,flags\n\
             asylum_applications,2015,DEU,NASY_APP,441875,\n",
            |_| {},
        );
        import(
            &app,
            "unhcr",
            "indicator,period,geo,app_type,app_pc,value,flags\n\
             asylum_applications,2015,DEU,N,P,441900,\n\
             asylum_applications,2015,DEU,R,P,34730,\n\
             asylum_applications,2015,DEU,N,C,12,\n",
            |_| {},
        );
        let q = Query::parse(&["geo=DEU".into()], Some("2015"), None).unwrap();
        let table = app
            .compare(
                &Caller::operator(),
                &["euaa/eurostat".into(), "euaa/unhcr".into()],
                &q,
            )
            .unwrap();
        // Persons only on the UNHCR side (the 12 cases are never added); first-time
        // applicants set against new and repeat applications, said in a warning.
        assert_eq!(table.rows[0].value, Some(441875.0));
        assert_eq!(
            table.rows[0].extra[0],
            Some(441900.0 + 34730.0),
            "{}",
            t.name
        );
        assert_eq!(table.warnings.len(), 1, "{:?}", table.warnings);
        assert!(
            table.warnings[0].contains("first-time applicants only")
                && table.warnings[0].contains("repeat"),
            "{}",
            table.warnings[0]
        );
    }
}

#[test]
fn a_comparison_of_decisions_warns_when_the_decision_levels_differ() {
    for t in stores() {
        let app = setup(&t);
        // Eurostat's first-instance table says its level; UNHCR's rows carry theirs.
        import(
            &app,
            "eurostat",
            "indicator,period,geo,instance,value,flags\n\
             asylum_decisions_total,2016,DEU,FIRST,631085,\n",
            |_| {},
        );
        import(
            &app,
            "unhcr",
            "indicator,period,geo,dec_level,dec_pc,value,flags\n\
             asylum_decisions_total,2016,DEU,FI,P,631000,\n\
             asylum_decisions_total,2016,DEU,JR,P,50000,\n",
            |_| {},
        );
        let ask = |filters: &[&str]| {
            let q = Query::parse(
                &filters.iter().map(|f| f.to_string()).collect::<Vec<_>>(),
                Some("2016"),
                None,
            )
            .unwrap();
            app.compare(
                &Caller::operator(),
                &["euaa/eurostat".into(), "euaa/unhcr".into()],
                &q,
            )
            .unwrap()
        };
        // All levels added on the UNHCR side, first instance on Eurostat's: answered, and said.
        let all = ask(&["geo=DEU"]);
        assert_eq!(all.rows[0].extra[0], Some(681000.0), "{}", t.name);
        assert_eq!(all.warnings.len(), 1, "{:?}", all.warnings);
        assert!(
            all.warnings[0].contains("first-instance decisions (instance=FIRST)")
                && all.warnings[0].contains("judicial review"),
            "{}",
            all.warnings[0]
        );
        // Naming the first instance on both sides compares like with like, without a word.
        let first = ask(&["geo=DEU", "dec_level=FI"]);
        assert_eq!(first.rows[0].extra[0], Some(631000.0), "{}", t.name);
        assert!(first.warnings.is_empty(), "{:?}", first.warnings);
    }
}

#[test]
fn forecasts_read_the_series_an_analyst_would_leaves_and_complete_periods_only() {
    for t in stores() {
        let app = setup(&t);
        // Monthly, January 2014 to May 2015, Germany and France beside EU28 (no TOTAL).
        let mut csv = String::from("indicator,period,geo,value,flags\n");
        for m in 1..=17 {
            let p = if m <= 12 {
                format!("2014-{m:02}")
            } else {
                format!("2015-{:02}", m - 12)
            };
            csv += &format!("asylum_applications,{p},DEU,10,\nasylum_applications,{p},FRA,5,\nasylum_applications,{p},EU28,15,\n");
        }
        import(&app, "monthly", &csv, |_| {});
        let q = Query {
            frequency: Some(nansen_codes::Frequency::Year),
            ..Query::default()
        };
        let panel = app
            .panel(
                &Caller::operator(),
                &DatasetName::new("euaa", "monthly"),
                &q,
                &[],
            )
            .unwrap();
        // One series: EU28 is not added to its members, and 2015 (five months) is left out.
        assert_eq!(panel.series.len(), 1, "{}", t.name);
        assert_eq!(panel.series[0].values, vec![Some(180.0)], "{}", t.name);
    }
}

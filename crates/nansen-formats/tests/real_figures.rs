//! Figures the sources publish, checked through the query engine.

use nansen_codes::CodeLists;
use nansen_formats::{read, ImportOptions};
use nansen_model::{run_query, Query};

mod common;

fn monthly() -> nansen_model::Cube {
    let file = "migr_asyappctzm_2008-2015_monthly_by_destination.csv";
    let path = common::shared_data()
        .expect("checked at the start of the test")
        .join("eurostat")
        .join(file);
    read(
        &path,
        &ImportOptions {
            file_name: file.into(),
            ..Default::default()
        },
    )
    .unwrap()
    .cube
}

fn by_period(
    cube: &nansen_model::Cube,
    geos: &[String],
) -> std::collections::BTreeMap<String, f64> {
    let q = Query {
        filters: vec![("geo".into(), geos.to_vec())],
        group_by: vec!["period".into()],
        ..Query::default()
    };
    run_query(cube, &q, CodeLists::get())
        .unwrap()
        .rows
        .into_iter()
        .filter_map(|r| r.value.map(|v| (r.key[0].clone(), v)))
        .collect()
}

#[test]
fn the_eu28_total_is_the_sum_of_its_member_states_to_eurostat_rounding() {
    if common::shared_data().is_none() {
        return;
    }
    let cube = monthly();
    let members = CodeLists::get().aggregate_members("EU28").unwrap().to_vec();
    assert_eq!(members.len(), 28);
    let eu = by_period(&cube, &["EU28".to_string()]);
    // Months where every member state reported.
    let complete: Vec<String> = eu
        .keys()
        .filter(|p| {
            members
                .iter()
                .all(|m| by_period(&cube, std::slice::from_ref(m)).contains_key(*p))
        })
        .cloned()
        .collect();
    let sums = by_period(&cube, &members);
    assert_eq!(complete.len(), 27, "{complete:?}");
    let mut exact = Vec::new();
    for p in &complete {
        let (total, sum) = (eu[p], sums[p]);
        // Eurostat rounds each figure to 5: 28 roundings move a sum by at most 28 x 2.5.
        assert!(
            (total - sum).abs() <= 70.0,
            "{p}: EU28 {total}, member states {sum}"
        );
        if total == sum {
            exact.push(p.as_str());
        }
    }
    // Where Eurostat's own figures agree to the person, ours do too.
    assert_eq!(
        exact,
        ["2013-02", "2013-10", "2013-11", "2013-12", "2014-01", "2014-06", "2014-07", "2015-02"]
    );
    assert_eq!(
        eu["2015-02"], 70_710.0,
        "the file's EU28 figure for February 2015, \"70,710\""
    );
}

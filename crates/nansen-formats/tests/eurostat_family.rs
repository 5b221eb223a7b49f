//! Eurostat's migration and asylum tables beyond our samples import as their labels say:
//! what the table counts from its name or its INDIC_MG column, the codes of its own lists,
//! and the decision level its rows share.

use nansen_formats::{read, ImportOptions, Imported};

fn import(name: &str, text: &str) -> Imported {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    let opts = ImportOptions {
        file_name: name.into(),
        ..ImportOptions::default()
    };
    read(&path, &opts).unwrap_or_else(|e| panic!("{name}: {e}\n{:?}", e.problems()))
}

/// Each row of the cube as `dim=code` pairs, with its value.
fn rows(i: &Imported) -> Vec<(Vec<String>, Option<f64>)> {
    let c = &i.cube;
    (0..c.len())
        .map(|r| {
            let key = c
                .dims
                .iter()
                .zip(c.key(r))
                .map(|(d, v)| format!("{d}={v}"))
                .collect();
            (key, c.value(r))
        })
        .collect()
}

#[test]
fn refusals_of_entry_take_their_indicator_from_indic_mg_and_borders_from_their_list() {
    let i = import(
        "eurostat_refusals.csv",
        "\"TIME\",\"GEO\",\"CITIZEN\",\"BORDER\",\"INDIC_MG\",\"UNIT\",\"Value\",\"Flag and Footnotes\"\n\
         \"2016\",\"Spain\",\"Morocco\",\"Land border\",\"Persons refused entry\",\"Person\",\"198,335\",\"\"\n\
         \"2016\",\"Spain\",\"Morocco\",\"Sea border\",\"Third country nationals refused entry\",\"Person\",\"1,210\",\"\"\n\
         \"2016\",\"Greece\",\"Turkey\",\"All borders\",\"Third country nationals found to be illegally present\",\"Person\",\"35\",\"\"\n",
    );
    let r = rows(&i);
    let has = |parts: &[&str], v: f64| {
        r.iter()
            .any(|(k, x)| parts.iter().all(|p| k.contains(&p.to_string())) && *x == Some(v))
    };
    assert!(
        has(
            &[
                "indicator=refusals_of_entry",
                "border=LAND",
                "geo=ESP",
                "origin=MAR"
            ],
            198335.0
        ),
        "{r:?}"
    );
    assert!(
        has(&["indicator=refusals_of_entry", "border=SEA"], 1210.0),
        "{r:?}"
    );
    assert!(
        has(
            &["indicator=illegally_present", "border=TOTAL", "origin=TUR"],
            35.0
        ),
        "{r:?}"
    );
    assert!(!i.cube.dims.contains(&"indic_mg".to_string()));
}

#[test]
fn decision_tables_say_their_level_and_dublin_decisions_stay_a_dimension() {
    let first = import(
        "migr_asydcfsta_extract.csv",
        "\"TIME\",\"GEO\",\"CITIZEN\",\"SEX\",\"AGE\",\"DECISION\",\"UNIT\",\"Value\",\"Flag and Footnotes\"\n\
         \"2016\",\"Germany\",\"Syria\",\"Total\",\"Total\",\"Refugee status\",\"Person\",\"166,520\",\"\"\n",
    );
    let r = rows(&first);
    assert!(r[0].0.contains(&"instance=FIRST".to_string()), "{r:?}");
    assert!(r[0]
        .0
        .contains(&"indicator=asylum_decisions_recognized".to_string()));

    let fin = import(
        "migr_asydcfina.csv",
        "\"TIME\",\"GEO\",\"CITIZEN\",\"SEX\",\"AGE\",\"DECISION\",\"UNIT\",\"Value\",\"Flag and Footnotes\"\n\
         \"2016\",\"Germany\",\"Syria\",\"Total\",\"Total\",\"Rejected\",\"Person\",\"1,005\",\"\"\n",
    );
    let r = rows(&fin);
    assert!(r[0].0.contains(&"instance=FINAL".to_string()), "{r:?}");

    let dublin = import(
        "migr_dubdi_2019.csv",
        "\"TIME\",\"GEO\",\"PARTNER\",\"DECISION\",\"LEG_PROV\",\"Value\",\"Flag and Footnotes\"\n\
         \"2019\",\"Germany\",\"Italy\",\"Accepted\",\"Total\",\"2,310\",\"\"\n\
         \"2019\",\"Germany\",\"Italy\",\"Rejected\",\"Total\",\"400\",\"\"\n",
    );
    let r = rows(&dublin);
    assert_eq!(r.len(), 2, "{r:?}");
    assert!(r.iter().all(
        |(k, _)| k.contains(&"indicator=dublin_decisions_incoming".to_string())
            && k.contains(&"leg_prov=TOTAL".to_string())
            && k.contains(&"partner=ITA".to_string())
    ));
    assert!(r
        .iter()
        .any(|(k, _)| k.contains(&"dublin_decision=Rejected".to_string())));
}

#[test]
fn every_table_of_the_family_says_what_it_counts_from_its_name() {
    for (name, indicator) in [
        (
            "migr_asyunaa.csv",
            "asylum_applications_unaccompanied_minors",
        ),
        ("migr_asyresa.csv", "resettlement_arrivals"),
        ("migr_asywitha.csv", "asylum_applications_withdrawn"),
        ("migr_asytpsm.csv", "temporary_protection_beneficiaries"),
        ("migr_resfirst.csv", "first_residence_permits"),
        ("migr_eirt_vol.csv", "returns"),
    ] {
        let i = import(
            name,
            "\"TIME\",\"GEO\",\"CITIZEN\",\"SEX\",\"AGE\",\"UNIT\",\"Value\"\n\
             \"2018\",\"European Union - 27 countries (from 2020)\",\"Afghanistan\",\"Total\",\"From 16 to 17 years\",\"Person\",\"1,000\"\n",
        );
        let r = rows(&i);
        assert!(
            r[0].0.contains(&format!("indicator={indicator}"))
                && r[0].0.contains(&"geo=EU27_2020".to_string())
                && r[0].0.contains(&"age=Y16-17".to_string()),
            "{name}: {r:?}"
        );
    }
}

//! Every dataset file in ../shared/data has its outcome pinned here: it imports (with a
//! mapping where its format needs one) into a stated number of observations, or it is
//! refused for a stated reason.

use nansen_formats::{read, ImportOptions};
use std::path::{Path, PathBuf};

mod common;

/// The folder; each test first checks that it is there.
fn shared() -> PathBuf {
    common::shared_data().expect("checked at the start of the test")
}

enum Outcome {
    /// Imports into this many observations.
    Imports(usize),
    /// Refused; the message or its first problem contains this.
    Refused(&'static str),
}
use Outcome::*;

fn check(rel: &str, options: ImportOptions, expected: Outcome) {
    let path = shared().join(rel);
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let options = ImportOptions {
        file_name: name,
        ..options
    };
    match (read(&path, &options), expected) {
        (Ok(i), Imports(n)) => assert_eq!(i.cube.len(), n, "{rel}"),
        (Err(e), Refused(why)) => {
            let remedy = e.remedy().map(|r| r.code()).unwrap_or("");
            let text = format!(
                "{e} | {remedy} | {}",
                e.problems()
                    .iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join(" | ")
            );
            assert!(
                text.contains(why),
                "{rel}: refused, but not for {why:?}: {text}"
            );
        }
        (Ok(i), Refused(why)) => panic!(
            "{rel}: imported {} observations, expected a refusal for {why:?}",
            i.cube.len()
        ),
        (Err(e), Imports(n)) => panic!(
            "{rel}: expected {n} observations, refused: {e} {:?}",
            e.problems().first()
        ),
    }
}

fn plain() -> ImportOptions {
    ImportOptions::default()
}

#[test]
fn every_eurostat_file() {
    if common::shared_data().is_none() {
        return;
    }
    check(
        "eurostat/migr_asyappctzm_2008-2015_monthly_by_destination.csv",
        plain(),
        Imports(2913),
    );
    check(
        "eurostat/migr_asyappctza_allcitizenships.csv",
        plain(),
        Imports(31923),
    );
    check(
        "eurostat/migr_asydcfsta_2017-04-26.csv",
        plain(),
        Imports(1810),
    );
    check(
        "eurostat/migr_eiord_Data_allcitizens.csv",
        plain(),
        Imports(26235),
    );
    check(
        "eurostat/migr_eirtn_Data_allcitizens.csv",
        plain(),
        Imports(25719),
    );
    check("eurostat/demo_pjan_1_Data.csv", plain(), Imports(536));
}

#[test]
fn every_unhcr_file() {
    if common::shared_data().is_none() {
        return;
    }
    check("unhcr/asylum_applications.csv", plain(), Imports(120597));
    check("unhcr/asylum_decisions.csv", plain(), Imports(569645));
    check("unhcr/demographics.csv", plain(), Imports(311565));
    check("unhcr/population.csv", plain(), Imports(1111299));
    check("unhcr/solutions.csv", plain(), Imports(23477));
    // A code list, not observations: it feeds the country aliases instead.
    check("unhcr/countries.csv", plain(), Refused("describe_columns"));
}

#[test]
fn every_iom_file() {
    if common::shared_data().is_none() {
        return;
    }
    check(
        "iom-dtm/displacement-admin1-afg.json",
        plain(),
        Imports(1395),
    );
    check(
        "iom-dtm/global-iom-dtm-admin0-2.hxl.csv",
        plain(),
        Imports(16335),
    );
    // IOM's Missing Migrants Project: a built-in layout, no mapping needed. A negative number
    // missing beside a total that is not negative is the publisher's correction: kept, and
    // said on the version.
    for (rel, n, corrections) in [
        ("iom-missing-migrants/2014.json", 1077, 0),
        ("iom-missing-migrants/2015.json", 1661, 4),
        ("iom-missing-migrants/2017.json", 2653, 1),
        ("iom-missing-migrants/2018.json", 3402, 3),
    ] {
        check(rel, plain(), Imports(n));
        let opts = ImportOptions {
            file_name: rel.rsplit('/').next().unwrap().into(),
            ..plain()
        };
        let i = read(&shared().join(rel), &opts).unwrap();
        assert_eq!(i.format.to_string(), "missing-migrants");
        let said = i
            .warnings
            .iter()
            .any(|w| w.starts_with(&format!("{corrections} published correction")));
        assert_eq!(said, corrections > 0, "{rel}: {:?}", i.warnings);
    }
    // Real defects the publisher left: a negative number of survivors (2016), an incident
    // without a date (2019). Refused by row; such files need --set-aside.
    check(
        "iom-missing-migrants/2016.json",
        plain(),
        Refused(
            "row 1162, column \"number_of_survivors\", value \"-1\": a count cannot be negative",
        ),
    );
    check(
        "iom-missing-migrants/2019.json",
        plain(),
        Refused("no period"),
    );
}

#[test]
fn the_p_code_list_is_a_code_list() {
    if common::shared_data().is_none() {
        return;
    }
    check(
        "geo/global-pcodes-adm-1-2.csv",
        plain(),
        Refused("no value column"),
    );
}

#[test]
fn every_hxl_library_file() {
    if common::shared_data().is_none() {
        return;
    }
    // The valid examples carry two rows with values but no date: an observation needs a period.
    for f in [
        "input-valid.csv",
        "input-valid.hxl",
        "input-valid.tsv",
        "input-valid.ssv",
        "input-valid-latin1.csv",
        "input-valid.xlsx",
        "input-valid.xls",
    ] {
        check(
            &format!("hxl/{f}"),
            plain(),
            Refused("row 6, column \"#date+reported\": no period"),
        );
    }
    for f in [
        "input-valid.json",
        "input-valid-json.txt",
        "output-valid.json",
    ] {
        check(&format!("hxl/{f}"), plain(), Refused("no period"));
    }
    for f in [
        "input-valid-objects.json",
        "input-valid-nested.json",
        "output-valid-objects.json",
    ] {
        check(
            &format!("hxl/{f}"),
            plain(),
            Refused("row 4, column \"#date+reported\": no period"),
        );
    }
    check(
        "hxl/output-valid.csv",
        plain(),
        Refused("row 4, column \"#date+reported\": no period"),
    );
    check("hxl/input-merged.xlsx", plain(), Refused("no period"));
    // Broken on purpose.
    check(
        "hxl/input-invalid.csv",
        plain(),
        Refused("describe_columns"),
    );
    check("hxl/input-fuzzy.csv", plain(), Refused("describe_columns"));
    check(
        "hxl/input-broken.xlsx",
        plain(),
        // Abyei (UNHCR's and OCHA's AB9) is known; the incident list's repeats are what stop it.
        Refused("duplicate observation"),
    );
    check(
        "hxl/input-valid-json-selector.json",
        plain(),
        Refused("without a \"result\""),
    );
    check(
        "hxl/input-multiline.csv",
        plain(),
        Refused("no value column"),
    );
    check(
        "hxl/input-multiple-headers.csv",
        plain(),
        Refused("no #date column"),
    );
    for f in [
        "input-untagged.csv",
        "input-untagged-objects.json",
        "input-quality.xlsx",
        "input-quality.xls",
    ] {
        check(&format!("hxl/{f}"), plain(), Refused("describe_columns"));
    }
    check(
        "hxl/input-untagged.json",
        plain(),
        Refused("describe_columns"),
    );
}

#[test]
fn every_file_in_the_shared_folder_is_pinned_above() {
    if common::shared_data().is_none() {
        return;
    }
    let source = include_str!("shared_data.rs");
    let mut missing = Vec::new();
    fn walk(p: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(p).unwrap() {
            let e = e.unwrap().path();
            if e.is_dir() {
                walk(&e, out);
            } else {
                out.push(e);
            }
        }
    }
    let mut files = Vec::new();
    walk(&shared(), &mut files);
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        if name != "README.md"
            && !source.contains(&format!("{name}\""))
            && !source.contains(&format!("\"{name}"))
        {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "files with no pinned outcome: {missing:?}"
    );
}

#[test]
fn missing_migrants_files_with_defects_import_with_their_bad_rows_set_aside() {
    if common::shared_data().is_none() {
        return;
    }
    for (rel, row, why) in [
        (
            "iom-missing-migrants/2016.json",
            1162,
            "a count cannot be negative",
        ),
        ("iom-missing-migrants/2019.json", 1833, "no period"),
    ] {
        let path = shared().join(rel);
        if !path.exists() {
            eprintln!("skipped: {rel} is absent");
            continue;
        }
        let opts = ImportOptions {
            file_name: rel.rsplit('/').next().unwrap().into(),
            set_aside: true,
            ..ImportOptions::default()
        };
        let i = read(&path, &opts).unwrap();
        assert!(!i.cube.is_empty());
        assert!(
            i.set_aside
                .iter()
                .any(|r| r.row == row && r.reasons.iter().any(|x| x.contains(why))),
            "{rel}: {:?}",
            i.set_aside
        );
        assert!(i.set_aside_csv().lines().nth(1).is_some());
    }
}

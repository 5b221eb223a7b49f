//! Every export reads back into the same observations, and independent tools (pandas,
//! openpyxl, pyarrow, libhxl) read each export as the same table.

use nansen_formats::{read, write, ExportFormat, ImportOptions};
use nansen_model::Cube;
use std::path::{Path, PathBuf};
use std::process::Command;

const FORMATS: [ExportFormat; 6] = [
    ExportFormat::Csv,
    ExportFormat::Hxl,
    ExportFormat::SdmxCsv,
    ExportFormat::Json,
    ExportFormat::Xlsx,
    ExportFormat::Parquet,
];

mod common;

fn shared(rel: &str) -> PathBuf {
    common::shared_data()
        .expect("checked at the start of the test")
        .join(rel)
}

/// The observations as a sorted list of `dim=code;...|value|flags` lines.
fn observations(c: &Cube) -> Vec<String> {
    let mut v: Vec<String> = (0..c.len())
        .map(|r| {
            let key: Vec<String> = c
                .dims
                .iter()
                .zip(c.key(r))
                .map(|(d, k)| format!("{d}={k}"))
                .collect();
            format!("{}|{:?}|{}", key.join(";"), c.value(r), c.flag(r))
        })
        .collect();
    v.sort();
    v
}

fn roundtrip(cube: &Cube, label: &str) {
    let dir = tempfile::tempdir().unwrap();
    let want = observations(cube);
    for f in FORMATS {
        let path = dir.path().join(format!("export.{}", f.extension()));
        let mut out = std::fs::File::create(&path).unwrap();
        // With a metadata sheet in XLSX: reading the file back takes the observations.
        write(cube, f, &[("dataset", "euaa/apps".to_string())], &mut out).unwrap();
        drop(out);
        let back = read(&path, &ImportOptions::default())
            .unwrap_or_else(|e| panic!("{label} as {f:?}: {e} {:?}", e.problems().first()));
        assert_eq!(back.cube.dims, cube.dims, "{label} as {f:?}");
        let got = observations(&back.cube);
        assert_eq!(got.len(), want.len(), "{label} as {f:?}");
        assert!(
            got == want,
            "{label} as {f:?}: first difference {:?}",
            got.iter().zip(&want).find(|(a, b)| a != b)
        );
        if f == ExportFormat::Xlsx {
            use calamine::Reader;
            let mut book = calamine::open_workbook_auto(&path).unwrap();
            assert_eq!(book.sheet_names(), ["observations", "metadata"]);
            let meta = book.worksheet_range("metadata").unwrap();
            assert_eq!(
                meta.get((1, 0)).map(|c| c.to_string()),
                Some("dataset".into())
            );
            assert_eq!(
                meta.get((1, 1)).map(|c| c.to_string()),
                Some("euaa/apps".into())
            );
        }
    }
}

#[test]
fn importing_an_export_gives_back_the_same_observations_in_every_format() {
    if common::shared_data().is_none() {
        return;
    }
    let plain = ImportOptions::default();
    for rel in [
        "eurostat/migr_asyappctzm_2008-2015_monthly_by_destination.csv",
        "eurostat/migr_asydcfsta_2017-04-26.csv",
        "iom-dtm/displacement-admin1-afg.json",
        "iom-dtm/global-iom-dtm-admin0-2.hxl.csv",
        "unhcr/solutions.csv",
    ] {
        let opts = ImportOptions {
            file_name: rel.rsplit('/').next().unwrap().into(),
            ..plain.clone()
        };
        roundtrip(&read(&shared(rel), &opts).unwrap().cube, rel);
    }
    // 2014 has no published correction; 2017 has kept negative corrections, flagged `r`,
    // which read back from every export as they were.
    for year in ["2014", "2017"] {
        let mmp = read(
            &shared(&format!("iom-missing-migrants/{year}.json")),
            &ImportOptions {
                file_name: format!("{year}.json"),
                ..plain.clone()
            },
        )
        .unwrap();
        let negative = (0..mmp.cube.len()).filter(|&r| mmp.cube.value(r).is_some_and(|v| v < 0.0));
        assert!(
            negative.clone().all(|r| mmp.cube.flag(r).contains('r')),
            "{year}: every kept correction is flagged r"
        );
        assert_eq!(negative.count() > 0, year == "2017", "{year}");
        roundtrip(&mmp.cube, &format!("missing migrants {year}"));
    }
}

fn hostile() -> Cube {
    let mut c = Cube::new(
        ["indicator", "period", "geo", "route"]
            .map(String::from)
            .to_vec(),
    );
    for (route, v, flag) in [
        ("=HYPERLINK(\"http://example.org\",\"x\")", Some(3.0), ""),
        ("+44 sea route", Some(1.5), "p"),
        ("-Central Mediterranean", None, "c"),
        ("@SUM(A1)", Some(7.0), ""),
        ("'quoted", Some(2.0), "e"),
        ("Balkans", Some(0.0), ""),
    ] {
        c.push(&["dead_and_missing", "2017-03", "ITA", route], v, flag);
    }
    c
}

#[test]
fn cells_a_spreadsheet_would_run_are_neutralised_and_restored_on_import() {
    let c = hostile();
    let mut csv = Vec::new();
    write(&c, ExportFormat::Csv, &[], &mut csv).unwrap();
    let text = String::from_utf8(csv).unwrap();
    for line in text.lines().skip(1) {
        let route = line.split(',').nth(3).unwrap().trim_start_matches('"');
        assert!(!route.starts_with(['=', '+', '-', '@']), "{line}");
    }
    roundtrip(&c, "hostile cells");
}

fn python_ready() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import pandas, openpyxl, pyarrow, hxl"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have pandas, openpyxl, pyarrow and libhxl"
        );
        eprintln!("skipping the independent readers: python3 with pandas, openpyxl, pyarrow and libhxl is not installed");
    }
    ok
}

#[test]
fn independent_tools_read_every_export_as_the_same_table() {
    if common::shared_data().is_none() {
        return;
    }
    if !python_ready() {
        return;
    }
    let cube = read(
        &shared("eurostat/migr_asydcfsta_2017-04-26.csv"),
        &ImportOptions {
            file_name: "migr_asydcfsta_2017-04-26.csv".into(),
            ..Default::default()
        },
    )
    .unwrap()
    .cube;
    let mut with_hostile = cube.clone();
    let h = hostile();
    let mut padded = Cube::new(cube.dims.clone());
    for r in 0..h.len() {
        let key: Vec<&str> = cube
            .dims
            .iter()
            .map(|d| match d.as_str() {
                "indicator" => "asylum_decisions_total",
                "period" => "2017",
                "geo" => "ITA",
                "origin" => h.key(r)[3],
                _ => "TOTAL",
            })
            .collect();
        padded.push(&key, h.value(r), h.flag(r));
    }
    with_hostile.extend(&padded);
    let dir = tempfile::tempdir().unwrap();
    let total: f64 = with_hostile.values.iter().filter(|v| !v.is_nan()).sum();
    let mut args = vec![Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/read_exports.py")
        .to_string_lossy()
        .into_owned()];
    for f in FORMATS {
        let path = dir.path().join(format!("export.{}", f.extension()));
        let mut out = std::fs::File::create(&path).unwrap();
        write(&with_hostile, f, &[], &mut out).unwrap();
        args.push(format!("{}={}", f.extension(), path.display()));
    }
    let out = Command::new("python3").args(&args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = String::from_utf8(out.stdout).unwrap();
    for line in report.lines() {
        // format rows sum first-origin-cell-of-the-hostile-rows
        let parts: Vec<&str> = line.split('\t').collect();
        assert_eq!(
            parts[1].parse::<usize>().unwrap(),
            with_hostile.len(),
            "{line}"
        );
        assert!(
            (parts[2].parse::<f64>().unwrap() - total).abs() < 1e-6,
            "{line}: sum {total}"
        );
        // Text and spreadsheet exports carry the mark; JSON and Parquet are never run as formulas.
        let expected = if matches!(parts[0], "json" | "parquet") {
            ""
        } else {
            "'"
        };
        assert_eq!(
            parts[3],
            format!("{expected}=HYPERLINK(\"http://example.org\",\"x\")"),
            "{line}"
        );
    }
    assert_eq!(report.lines().count(), FORMATS.len(), "{report}");
}

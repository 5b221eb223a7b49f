//! A refused file names every kind of problem once, with how many rows have it and which,
//! so a data manager fixes the file in one round.

use nansen_formats::{read, ImportOptions};

#[test]
fn every_distinct_problem_is_listed_once_with_its_count_and_first_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.csv");
    let mut text = String::from("indicator,period,geo,value,flags\n");
    for i in 0..300 {
        text += &format!("asylum_applications,2015,Atlantis,{i},\n");
    }
    text += "asylum_applications,2015,Narnia,1,\nasylum_applications,2015,DEU,-1,\n";
    std::fs::write(&path, text).unwrap();
    let opts = ImportOptions {
        file_name: "bad.csv".into(),
        ..ImportOptions::default()
    };
    let e = read(&path, &opts).unwrap_err();
    let p = e.problems();
    // Past the 50 rows that once stopped the report: all three kinds, the last row included.
    assert_eq!(p.len(), 3, "{p:?}");
    assert_eq!((p[0].value.as_str(), p[0].count), ("Atlantis", 300));
    assert_eq!((p[0].row, &p[0].more_rows[..]), (2, &[3, 4, 5, 6][..]));
    assert_eq!((p[1].value.as_str(), p[1].row), ("Narnia", 302));
    assert_eq!((p[2].column.as_str(), p[2].row), ("value", 303));
    assert!(e.to_string().contains("302 problem(s) of 3 kind(s)"), "{e}");
    assert!(
        p[0].to_string().contains("in 300 rows: 2, 3, 4, 5, 6, ..."),
        "{}",
        p[0]
    );
}

/// A file is read in chunks that go to disk once they outgrow memory; an observation repeated
/// chunks apart is still found, named by both its rows, and a file without repeats reads back
/// whole, in order, from the chunks on disk.
#[test]
fn repeats_are_found_across_chunks_and_large_files_read_back_whole_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.csv");
    let months = 12 * 40;
    let origins: Vec<String> = include_str!("../../nansen-codes/data/countries.tsv")
        .lines()
        .skip(1)
        .filter_map(|l| l.split('\t').next())
        .take(240)
        .map(String::from)
        .collect();
    let write = |repeat: bool| {
        let mut text = String::from("indicator,period,geo,origin,value\n");
        for m in 0..months {
            for (o, origin) in origins.iter().enumerate() {
                for geo in [
                    "DEU", "FRA", "ITA", "ESP", "SWE", "AUT", "BEL", "NLD", "GRC", "POL",
                ] {
                    text += &format!(
                        "asylum_applications,{}-{:02},{geo},{origin},{}\n",
                        2000 + m / 12,
                        m % 12 + 1,
                        (m + o) % 97
                    );
                }
            }
        }
        if repeat {
            // Row 3 again, at the very end.
            let third = text.lines().nth(2).unwrap().to_string();
            text += &format!("{third}\n");
        }
        std::fs::write(&path, text).unwrap();
    };
    let rows = months * origins.len() * 10;
    assert!(rows > 1 << 20, "more than memory keeps: {rows}");
    let spill = tempfile::tempdir().unwrap();
    let opts = ImportOptions::default();

    write(true);
    let e = nansen_formats::read_in_chunks(&path, &opts, &mut |_| {}, spill.path())
        .err()
        .expect("a repeated observation is refused");
    let p = e.problems();
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].row, rows as u64 + 2, "{}", p[0]);
    assert!(
        p[0].reason.contains("the same observation as row 3"),
        "{}",
        p[0]
    );

    write(false);
    let mut read = nansen_formats::read_in_chunks(&path, &opts, &mut |_| {}, spill.path()).unwrap();
    assert!(read.observations.on_disk());
    assert_eq!(read.observations.len(), rows as u64);
    assert_eq!(
        std::fs::read_dir(spill.path()).unwrap().count(),
        1,
        "one temporary file"
    );
    let mut seen = 0;
    for chunk in read.observations.chunks().unwrap() {
        let chunk = chunk.unwrap();
        if seen == 0 {
            assert_eq!(
                chunk.key(0),
                ["asylum_applications", "2000-01", "DEU", origins[0].as_str()]
            );
        }
        seen += chunk.len();
    }
    assert_eq!(seen, rows);
    drop(read);
    assert_eq!(
        std::fs::read_dir(spill.path()).unwrap().count(),
        0,
        "the temporary file goes with it"
    );
}

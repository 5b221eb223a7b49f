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

//! Disclosure control for `sensitive` datasets read from outside the owner organisation.
//!
//! Small counts are suppressed in the finest cells, and every total a reader can obtain is
//! recomputed from the cells that are shown. The published totals of the source (codes
//! `TOTAL`, `T`, country aggregates) are withheld wherever the dataset also carries the
//! parts, so no difference between a total and its shown parts can reveal a suppressed
//! cell, whatever group-by the reader asks for. A group that lost a suppressed part is
//! flagged `c`; a group whose every part was suppressed has no value.

use crate::cube::Cube;
use nansen_codes::CodeLists;

/// The dataset as an outside reader may see it.
pub fn protect(cube: &Cube, threshold: f64, codes: &CodeLists) -> Cube {
    // Per dimension, which codes are totals of other codes the dataset also carries.
    let withheld: Vec<Vec<bool>> = cube
        .dims
        .iter()
        .zip(&cube.columns)
        .map(|(dim, col)| {
            if dim == "indicator" || dim == "period" {
                return vec![false; col.dict.len()];
            }
            let is_total: Vec<bool> = col
                .dict
                .iter()
                .map(|c| c == CodeLists::total_code(dim) || c == "TOTAL" || codes.is_aggregate(c))
                .collect();
            let has_parts = is_total.iter().any(|t| !t);
            is_total.iter().map(|t| *t && has_parts).collect()
        })
        .collect();
    let mut out = Cube::new(cube.dims.clone());
    'rows: for r in 0..cube.len() {
        for (c, w) in cube.columns.iter().zip(&withheld) {
            if w[c.codes[r] as usize] {
                continue 'rows;
            }
        }
        let key = cube.key(r);
        match cube.value(r) {
            Some(v) if v > 0.0 && v < threshold => {
                let mut flags = cube.flag(r).to_string();
                if !flags.contains('c') {
                    flags.push('c');
                }
                out.push(&key, None, &flags);
            }
            v => out.push(&key, v, cube.flag(r)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::{run, Query};

    /// Every subset of the dimensions, as group-bys.
    fn every_group_by(dims: &[String]) -> Vec<Vec<String>> {
        (0u32..(1 << dims.len()))
            .map(|m| {
                dims.iter()
                    .enumerate()
                    .filter(|(i, _)| m & (1 << i) != 0)
                    .map(|(_, d)| d.clone())
                    .collect()
            })
            .collect()
    }

    fn cube(values: &[(&str, &str, &str, f64)]) -> Cube {
        let mut c = Cube::new(
            ["indicator", "period", "geo", "origin", "sex"]
                .map(String::from)
                .to_vec(),
        );
        for (geo, origin, sex, v) in values {
            c.push(
                &["asylum_applications", "2015", geo, origin, sex],
                Some(*v),
                "",
            );
        }
        c
    }

    #[test]
    fn no_group_by_a_reader_can_ask_depends_on_a_suppressed_cell() {
        let codes = CodeLists::get();
        // Parts with a small F cell, and the source's own totals that would give it away.
        let make = |small: f64| {
            cube(&[
                ("DEU", "SYR", "F", small),
                ("DEU", "SYR", "M", 40.0),
                ("DEU", "SYR", "T", 40.0 + small),
                ("DEU", "AFG", "F", 12.0),
                ("DEU", "AFG", "M", 9.0),
                ("DEU", "AFG", "T", 21.0),
                ("FRA", "SYR", "F", 7.0),
                ("FRA", "SYR", "M", 2.0),
                ("FRA", "SYR", "T", 9.0),
                ("EU28", "SYR", "T", 49.0 + small),
            ])
        };
        let dims: Vec<String> = ["period", "geo", "origin", "sex"]
            .map(String::from)
            .to_vec();
        let filters: Vec<Vec<(String, Vec<String>)>> = vec![
            vec![],
            vec![("geo".into(), vec!["DEU".into()])],
            vec![("origin".into(), vec!["SYR".into()])],
            vec![("sex".into(), vec!["T".into()])],
            vec![("geo".into(), vec!["EU28".into()])],
        ];
        for group_by in every_group_by(&dims) {
            for f in &filters {
                let q = Query {
                    filters: f.clone(),
                    group_by: group_by.clone(),
                    ..Query::default()
                };
                let answers: Vec<_> = [1.0, 3.0, 4.0]
                    .iter()
                    .map(|small| {
                        run(&protect(&make(*small), 5.0, codes), &q, codes)
                            .map(|t| t.rows)
                            .ok()
                    })
                    .collect();
                assert!(
                    answers.windows(2).all(|w| w[0] == w[1]),
                    "group by {group_by:?} where {f:?} reveals the suppressed cell: {answers:?}"
                );
            }
        }
        // And what is shown stays consistent: the total by origin is the sum of its shown parts.
        let t = run(
            &protect(&make(3.0), 5.0, codes),
            &Query {
                group_by: vec!["origin".into()],
                ..Query::default()
            },
            codes,
        )
        .unwrap();
        let syr = t.rows.iter().find(|r| r.key == ["SYR"]).unwrap();
        assert_eq!(
            (syr.value, syr.flags.as_str()),
            (Some(47.0), "c"),
            "40 + 7; the F 3 and M 2 cells are suppressed"
        );
    }

    #[test]
    fn datasets_with_totals_only_keep_them() {
        let c = cube(&[("DEU", "SYR", "T", 3.0), ("FRA", "SYR", "T", 30.0)]);
        let p = protect(&c, 5.0, CodeLists::get());
        assert_eq!(p.len(), 2);
        assert_eq!((p.value(0), p.flag(0)), (None, "c"));
        assert_eq!(p.value(1), Some(30.0));
    }
}

//! UNHCR's specific-needs vocabulary, kept as data (`data/specific-needs.tsv`) with its
//! categories.

use std::sync::OnceLock;

/// One specific need: its code, what it says, and the category it belongs to.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Need {
    pub code: String,
    pub label: String,
    pub category: String,
}

const TSV: &str = include_str!("../data/specific-needs.tsv");

/// Every specific need, in the vocabulary's order.
pub static NEEDS: Needs = Needs(OnceLock::new());

pub struct Needs(OnceLock<Vec<Need>>);

impl Needs {
    pub fn all(&self) -> &[Need] {
        self.0.get_or_init(|| {
            TSV.lines()
                .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
                .map(|l| {
                    let mut f = l.split('\t');
                    let mut next = || f.next().expect("three columns").to_string();
                    Need {
                        code: next(),
                        label: next(),
                        category: next(),
                    }
                })
                .collect()
        })
    }

    pub fn get(&self, code: &str) -> Option<&Need> {
        self.all().iter().find(|n| n.code == code)
    }

    /// The categories, each once, in the vocabulary's order.
    pub fn categories(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for n in self.all() {
            if !out.contains(&n.category.as_str()) {
                out.push(&n.category);
            }
        }
        out
    }
}

/// An unaccompanied child: the sub-quota pledges keep places for.
pub const UNACCOMPANIED_CHILD: &str = "SC-UC";

/// A need that counts against a pledge's medical places.
pub fn is_medical(code: &str) -> bool {
    code.starts_with("SM-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vocabulary_reads_whole_with_unique_codes_and_its_categories() {
        let all = NEEDS.all();
        assert!(all.len() > 50);
        let mut codes: Vec<&str> = all.iter().map(|n| n.code.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len(), "no code twice");
        assert_eq!(
            NEEDS.get("SC-UC").unwrap().category,
            "Unaccompanied or separated child"
        );
        assert_eq!(NEEDS.categories().len(), 11);
        assert!(NEEDS.get("XX-YY").is_none());
        assert!(is_medical("SM-CI") && !is_medical("DS-BD"));
    }
}

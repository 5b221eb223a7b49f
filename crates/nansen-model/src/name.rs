//! A dataset's name, `ORG/SLUG`: the organisation that owns it and its slug there. Parsed in
//! one place, so every door refuses a malformed name with the same words.

use std::fmt;
use std::str::FromStr;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DatasetName {
    pub org: String,
    pub slug: String,
}

impl DatasetName {
    pub fn new(org: impl Into<String>, slug: impl Into<String>) -> DatasetName {
        DatasetName {
            org: org.into(),
            slug: slug.into(),
        }
    }
}

impl fmt::Display for DatasetName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.org, self.slug)
    }
}

impl FromStr for DatasetName {
    type Err = String;
    fn from_str(s: &str) -> Result<DatasetName, String> {
        s.trim()
            .split_once('/')
            .filter(|(o, s)| !o.is_empty() && !s.is_empty() && !s.contains('/'))
            .map(|(o, s)| DatasetName::new(o, s))
            .ok_or_else(|| format!("name a dataset as ORG/SLUG, not {s:?}"))
    }
}

crate::serde_as_text!(DatasetName);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_an_organisation_and_a_slug_and_nothing_else_reads_as_one() {
        let n: DatasetName = "euaa/asylum-monthly".parse().unwrap();
        assert_eq!(
            (n.org.as_str(), n.slug.as_str()),
            ("euaa", "asylum-monthly")
        );
        assert_eq!(n.to_string(), "euaa/asylum-monthly");
        for bad in ["euaa", "/x", "euaa/", "a/b/c", ""] {
            assert_eq!(
                bad.parse::<DatasetName>().unwrap_err(),
                format!("name a dataset as ORG/SLUG, not {bad:?}"),
            );
        }
    }
}

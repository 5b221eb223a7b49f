//! Names of the form `ORG/SLUG` (datasets, programmes): the organisation that owns the thing
//! and its slug there. Parsed in one place, so every door refuses a malformed name with the
//! same words.

use std::fmt;
use std::str::FromStr;

/// Defines a name `ORG/SLUG` of one kind of thing, parsed by the one rule below.
macro_rules! org_slug_name {
    ($(#[$meta:meta])* $name:ident, $what:literal) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name {
            pub org: String,
            pub slug: String,
        }

        impl $name {
            pub fn new(org: impl Into<String>, slug: impl Into<String>) -> $name {
                $name {
                    org: org.into(),
                    slug: slug.into(),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}/{}", self.org, self.slug)
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<$name, String> {
                s.trim()
                    .split_once('/')
                    .filter(|(o, s)| !o.is_empty() && !s.is_empty() && !s.contains('/'))
                    .map(|(o, s)| $name::new(o, s))
                    .ok_or_else(|| format!(concat!("name ", $what, " as ORG/SLUG, not {:?}"), s))
            }
        }

        crate::serde_as_text!($name);
    };
}

org_slug_name!(DatasetName, "a dataset");
org_slug_name!(
    /// A programme of operations (resettlement, relocation, ...), named like a dataset.
    ProgrammeName,
    "a programme"
);

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
        assert_eq!(
            "x".parse::<ProgrammeName>().unwrap_err(),
            "name a programme as ORG/SLUG, not \"x\""
        );
    }
}

//! Which codes of a dimension count what other codes count: the dimension's total, a country
//! aggregate and its members (or an overlapping aggregate), an admin area and the areas inside
//! it. The query engine never adds such codes together (DESIGN section 4, rules 1 and 2).

use nansen_codes::{CodeLists, DimensionKind};

/// Whether `a` counts some of what `b` counts (`a` ≠ `b`), in `dimension`.
pub fn overlaps(dimension: &str, a: &str, b: &str, codes: &CodeLists) -> bool {
    a != b && (holds(dimension, a, b, codes) || holds(dimension, b, a, codes))
}

/// `a` holds part of `b`'s count.
fn holds(dimension: &str, a: &str, b: &str, codes: &CodeLists) -> bool {
    if a == CodeLists::total_code(dimension) {
        return true;
    }
    match codes.kind_of(dimension) {
        DimensionKind::Country => match composition(a, codes) {
            Composition::Leaf => false,
            Composition::Unknown => true,
            comp => match composition(b, codes) {
                Composition::Leaf => comp.holds(b),
                Composition::Unknown => true,
                other => comp.intersects(&other),
            },
        },
        DimensionKind::AdminArea => b.len() > a.len() && b.starts_with(a),
        _ => false,
    }
}

/// What a country code stands for.
enum Composition<'a> {
    /// A country.
    Leaf,
    /// An aggregate of these countries.
    Of(&'a [String]),
    /// Every country but these (`EXT_EU28`: outside the EU-28).
    Outside(&'a [String]),
    /// An aggregate its publisher defines alone (a continent): assumed to overlap anything.
    Unknown,
}

fn composition<'a>(code: &str, codes: &'a CodeLists) -> Composition<'a> {
    if !codes.is_aggregate(code) {
        return Composition::Leaf;
    }
    if let Some(m) = codes.aggregate_members(code) {
        return Composition::Of(m);
    }
    match code
        .strip_prefix("EXT_")
        .and_then(|c| codes.aggregate_members(c))
    {
        Some(m) => Composition::Outside(m),
        None => Composition::Unknown,
    }
}

impl Composition<'_> {
    fn holds(&self, country: &str) -> bool {
        match self {
            Composition::Leaf => false,
            Composition::Of(m) => m.iter().any(|c| c == country),
            Composition::Outside(m) => !m.iter().any(|c| c == country),
            Composition::Unknown => true,
        }
    }

    fn intersects(&self, other: &Composition) -> bool {
        match (self, other) {
            (Composition::Of(a), _) => a.iter().any(|c| other.holds(c)),
            (_, Composition::Of(b)) => b.iter().any(|c| self.holds(c)),
            // Two "outside" codes share the rest of the world; anything unknown may overlap.
            _ => true,
        }
    }
}

/// For each code of `dict`, whether it is an aggregate of other codes in `dict`. A code that
/// only overlaps another (two aggregates sharing members) is one too: neither may be added.
pub fn aggregates_in(dimension: &str, dict: &[String], codes: &CodeLists) -> Vec<bool> {
    let total = CodeLists::total_code(dimension);
    let kind = codes.kind_of(dimension);
    match kind {
        DimensionKind::Country => {
            let aggregates: Vec<&str> = dict
                .iter()
                .map(String::as_str)
                .filter(|c| *c == total || codes.is_aggregate(c))
                .collect();
            let leaves: Vec<&str> = dict
                .iter()
                .map(String::as_str)
                .filter(|c| !aggregates.contains(c))
                .collect();
            dict.iter()
                .map(|c| {
                    if !aggregates.contains(&c.as_str()) || dict.len() < 2 {
                        return false;
                    }
                    if c == total {
                        return true;
                    }
                    // Beside the total, an aggregate is one of its parts, not an aggregate of it.
                    let comp = composition(c, codes);
                    leaves.iter().any(|x| comp.holds(x))
                        || aggregates
                            .iter()
                            .any(|o| *o != total && overlaps(dimension, c, o, codes))
                })
                .collect()
        }
        DimensionKind::AdminArea => {
            let mut sorted: Vec<&str> = dict.iter().map(String::as_str).collect();
            sorted.sort_unstable();
            dict.iter()
                .map(|c| {
                    if c == total && dict.len() > 1 {
                        return true;
                    }
                    // The codes that start with `c` follow it in sorted order.
                    let i = sorted.partition_point(|x| *x <= c.as_str());
                    sorted
                        .get(i)
                        .is_some_and(|next| next.starts_with(c.as_str()))
                })
                .collect()
        }
        _ => dict.iter().map(|c| c == total && dict.len() > 1).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flagged(dim: &str, dict: &[&str]) -> Vec<String> {
        let dict: Vec<String> = dict.iter().map(|s| s.to_string()).collect();
        aggregates_in(dim, &dict, CodeLists::get())
            .into_iter()
            .zip(&dict)
            .filter(|(a, _)| *a)
            .map(|(_, c)| c.clone())
            .collect()
    }

    #[test]
    fn totals_country_aggregates_and_wider_admin_areas_are_aggregates_of_what_is_present() {
        assert_eq!(
            flagged("geo", &["DEU", "FRA", "EU28", "TOTAL", "NOR"]),
            ["EU28", "TOTAL"]
        );
        // EU28 without any member present is a leaf like any country.
        assert!(flagged("geo", &["EU28", "NOR", "CHE"]).is_empty());
        // Overlapping aggregates are never added to each other.
        assert_eq!(
            flagged("geo", &["EU28", "EU27_2020"]),
            ["EU28", "EU27_2020"]
        );
        assert_eq!(flagged("origin", &["SYR", "EXT_EU28"]), ["EXT_EU28"]);
        assert_eq!(flagged("adm1", &["AF15", "AF1501", "AF16"]), ["AF15"]);
        assert_eq!(flagged("sex", &["F", "M", "T"]), ["T"]);
        assert!(flagged("sex", &["T"]).is_empty());
    }

    #[test]
    fn an_aggregate_overlaps_its_members_and_aggregates_sharing_them() {
        let c = CodeLists::get();
        assert!(overlaps("geo", "EU28", "DEU", c));
        assert!(overlaps("geo", "DEU", "EU28", c));
        assert!(!overlaps("geo", "EU28", "NOR", c));
        assert!(overlaps("geo", "EU28", "EU27_2020", c));
        assert!(!overlaps("geo", "EU27_2020", "EFTA", c));
        assert!(overlaps("origin", "EXT_EU28", "SYR", c));
        assert!(!overlaps("origin", "EXT_EU28", "DEU", c));
        assert!(!overlaps("geo", "DEU", "FRA", c));
        assert!(overlaps("geo", "TOTAL", "DEU", c));
        assert!(!overlaps("applicant", "NASY_APP", "SASY_APP", c));
    }
}

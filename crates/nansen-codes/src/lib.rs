//! Code lists, aliases, aggregates, periods and the indicator vocabulary.
//!
//! Every label a publisher prints (Eurostat's `EL` and "European Union (28 countries)",
//! UNHCR's `coo_iso`, DTM's P-codes, a source's own indicator name) resolves here to one
//! canonical code, or fails with the closest known codes so a data manager can fix it.

mod period;

pub use period::{civil, parse_range, Frequency, Period};

use std::collections::HashMap;
use std::sync::OnceLock;

/// Whether an indicator counts something over a period or at a date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndicatorKind {
    Flow,
    Stock,
}

#[derive(Clone, Debug)]
pub struct Indicator {
    pub code: String,
    pub kind: IndicatorKind,
    pub unit: String,
    pub label: String,
}

/// How a derived indicator is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DerivedKind {
    Ratio,
    Share,
    PerCapita,
}

/// An indicator computed from others, as the vocabulary file `derived.tsv` defines it.
#[derive(Clone, Debug)]
pub struct Derived {
    pub code: String,
    pub kind: DerivedKind,
    pub unit: String,
    pub label: String,
    pub formula: String,
    pub factor: f64,
    /// Alternatives, each a sum of indicators.
    pub numerator: Vec<Vec<String>>,
    pub denominator: Vec<Vec<String>>,
}

fn parse_derived(r: &[&str]) -> Option<Derived> {
    let kind = match r[1] {
        "ratio" => DerivedKind::Ratio,
        "share" => DerivedKind::Share,
        "per_capita" => DerivedKind::PerCapita,
        _ => return None,
    };
    let formula = r[4].trim();
    let (factor, rest) = formula.split_once('*')?;
    let (num, den) = rest.split_once('/')?;
    let part = |p: &str| -> Vec<Vec<String>> {
        p.trim()
            .trim_start_matches('(')
            .trim_end_matches(')')
            .split('|')
            .map(|alt| {
                alt.split('+')
                    .map(|i| i.trim().to_string())
                    .filter(|i| !i.is_empty())
                    .collect()
            })
            .collect()
    };
    Some(Derived {
        code: r[0].into(),
        kind,
        unit: r[2].into(),
        label: r[3].into(),
        formula: formula.into(),
        factor: factor.trim().parse().ok()?,
        numerator: part(num),
        denominator: part(den),
    })
}

/// What a dimension's values are checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DimensionKind {
    /// Countries and country aggregates (`geo`, `origin`, `transit`, `destination`).
    Country,
    /// Admin-area P-codes (`adm1`, `origin_adm1`, ...).
    AdminArea,
    /// A closed code list (`sex`, `age`, `applicant`, `decision`, ...).
    Closed,
    /// The source's own codes, kept as written.
    Open,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CodeError {
    #[error("unknown code {value:?} for {dimension}{}", suggest(.closest))]
    Unknown {
        dimension: String,
        value: String,
        closest: Vec<String>,
    },
    #[error("{value:?} is not a P-code (two letters of the country, then letters and digits, such as AF01)")]
    BadPcode { value: String },
    #[error("empty value for {dimension}; a total is written TOTAL (T for sex), never left empty")]
    Empty { dimension: String },
}

fn suggest(closest: &[String]) -> String {
    if closest.is_empty() {
        String::new()
    } else {
        format!("; closest known: {}", closest.join(", "))
    }
}

/// The outcome of checking an admin-area code.
#[derive(Debug, PartialEq)]
pub enum AdminArea {
    Known(String),
    /// Well formed but not in the bundled list: kept, with a warning, since boundaries change.
    Unlisted(String),
}

/// Every code list Nansen knows, loaded once from the files bundled in this crate.
pub struct CodeLists {
    country_alias: HashMap<String, String>,
    countries: HashMap<String, CountryEntry>,
    aggregates: HashMap<String, Vec<String>>,
    closed: HashMap<String, ClosedList>,
    pcodes: HashMap<String, String>,
    indicators: Vec<Indicator>,
    indicator_alias: HashMap<String, usize>,
    derived: Vec<Derived>,
    definitions: Vec<Definition>,
}

/// A code of a dimension that changes what is counted (persons or cases, first-time or all
/// applicants): `definitions.tsv`.
#[derive(Clone, Debug, PartialEq)]
pub struct Definition {
    pub dimension: String,
    pub code: String,
    /// In words: "persons", "first-time applicants only".
    pub meaning: String,
    /// Held when a query leaves the dimension unnamed.
    pub default: bool,
    /// A part that adds up to the dimension's total with the others marked so.
    pub adds: bool,
    /// What the dimension defines (`unit`: persons or cases; `applicants`), so that sources
    /// with different dimension names for the same thing can be compared.
    pub concept: String,
}

struct CountryEntry {
    name: String,
    iso2: String,
    /// A country that no longer exists (Czechoslovakia), or a part with a code of its own
    /// (metropolitan France): kept to read old tables, not offered to report against.
    former: bool,
}

#[derive(Default)]
struct ClosedList {
    codes: Vec<String>,
    alias: HashMap<String, String>,
}

/// `Total`, `All`, SDMX's `_T`: how publishers write a dimension's total.
fn is_total_word(value: &str) -> bool {
    matches!(
        normalise(value).as_str(),
        "total" | "all" | "_t" | "totals" | "all categories" | "grand total"
    )
}

/// `adm1`, `origin_adm2`, `adm3_pcode`: dimensions holding P-codes.
fn is_admin_area(dim: &str) -> bool {
    let d = dim.strip_prefix("origin_").unwrap_or(dim);
    let d = d.strip_suffix("_pcode").unwrap_or(d);
    d.len() == 4 && d.starts_with("adm") && d.as_bytes()[3].is_ascii_digit()
}

/// Aliases compare without case, accents or repeated spaces ("São Tomé" is "sao tome").
pub fn normalise(label: &str) -> String {
    // Some publishers' exports carry HTML entities ("Côte d&#039;Ivoire").
    let decoded;
    let label = if label.contains('&') {
        decoded = label
            .replace("&#039;", "'")
            .replace("&#39;", "'")
            .replace("&apos;", "'")
            .replace("&quot;", "\"")
            .replace("&amp;", "&");
        decoded.as_str()
    } else {
        label
    };
    let mut out = String::with_capacity(label.len());
    for word in label.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        for c in word.chars().flat_map(char::to_lowercase) {
            out.push(match c {
                'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
                'ç' => 'c',
                'è' | 'é' | 'ê' | 'ë' => 'e',
                'ì' | 'í' | 'î' | 'ï' => 'i',
                'ñ' => 'n',
                'ò' | 'ó' | 'ô' | 'õ' | 'ö' => 'o',
                'ù' | 'ú' | 'û' | 'ü' => 'u',
                'ý' | 'ÿ' => 'y',
                other => other,
            });
        }
    }
    out
}

fn data_lines(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split('\t').collect())
}

impl CodeLists {
    /// The bundled lists, parsed on first use.
    pub fn get() -> &'static CodeLists {
        static LISTS: OnceLock<CodeLists> = OnceLock::new();
        LISTS.get_or_init(CodeLists::load)
    }

    fn load() -> CodeLists {
        let mut lists = CodeLists {
            country_alias: HashMap::new(),
            countries: HashMap::new(),
            aggregates: HashMap::new(),
            closed: HashMap::new(),
            pcodes: HashMap::new(),
            indicators: Vec::new(),
            indicator_alias: HashMap::new(),
            derived: data_lines(include_str!("../data/derived.tsv"))
                .filter_map(|r| parse_derived(&r))
                .collect(),
            definitions: data_lines(include_str!("../data/definitions.tsv"))
                .map(|r| Definition {
                    dimension: r[0].into(),
                    code: r[1].into(),
                    meaning: r[2].into(),
                    default: r.get(3) == Some(&"default"),
                    adds: r.get(3) == Some(&"adds"),
                    concept: r.get(4).unwrap_or(&r[0]).to_string(),
                })
                .collect(),
        };
        let rows: Vec<Vec<&str>> = data_lines(include_str!("../data/countries.tsv"))
            .skip(1)
            .collect();
        // Codes first, so that a name never shadows a code; UNHCR's own codes only where they
        // do not collide with an ISO code (UNHCR's AUS is Austria, ISO's is Australia).
        for r in &rows {
            let (iso3, iso2, numeric) = (r[0], r[1], r[2]);
            lists.countries.insert(
                iso3.into(),
                CountryEntry {
                    name: r[4].into(),
                    iso2: iso2.into(),
                    former: r[5].contains("(former)") || iso3 == "FXX",
                },
            );
            for code in [iso3, iso2, numeric] {
                if !code.is_empty() {
                    lists.country_alias.insert(normalise(code), iso3.into());
                }
            }
        }
        for r in &rows {
            for alias in r[3].split('|').chain(r[5].split('|')).chain([r[4]]) {
                if !alias.is_empty() {
                    lists
                        .country_alias
                        .entry(normalise(alias))
                        .or_insert_with(|| r[0].into());
                }
            }
        }
        for r in data_lines(include_str!("../data/aggregates.tsv")) {
            let members = r
                .get(3)
                .map(|m| m.split_whitespace().map(String::from).collect())
                .unwrap_or_default();
            lists.aggregates.insert(r[0].into(), members);
            lists.countries.insert(
                r[0].into(),
                CountryEntry {
                    name: r[1].into(),
                    iso2: String::new(),
                    former: false,
                },
            );
            lists.country_alias.insert(normalise(r[0]), r[0].into());
            for alias in r[2].split('|').chain([r[1]]) {
                lists
                    .country_alias
                    .entry(normalise(alias))
                    .or_insert_with(|| r[0].into());
            }
        }
        for r in data_lines(include_str!("../data/codes.tsv")) {
            let list = lists.closed.entry(r[0].into()).or_default();
            list.codes.push(r[1].into());
            list.alias.insert(normalise(r[1]), r[1].into());
            for alias in r[3].split('|').chain([r[2]]) {
                list.alias
                    .entry(normalise(alias))
                    .or_insert_with(|| r[1].into());
            }
        }
        for r in data_lines(include_str!("../data/pcodes.tsv")) {
            lists.pcodes.insert(r[2].into(), r[0].into());
        }
        for r in data_lines(include_str!("../data/indicators.tsv")) {
            let i = lists.indicators.len();
            let kind = if r[1] == "stock" {
                IndicatorKind::Stock
            } else {
                IndicatorKind::Flow
            };
            lists.indicators.push(Indicator {
                code: r[0].into(),
                kind,
                unit: r[2].into(),
                label: r[3].into(),
            });
            lists.indicator_alias.insert(normalise(r[0]), i);
            for alias in r[4].split('|') {
                lists.indicator_alias.entry(normalise(alias)).or_insert(i);
            }
        }
        lists
    }

    /// How values of a dimension are checked, from its name.
    pub fn kind_of(&self, dimension: &str) -> DimensionKind {
        match dimension {
            "geo" | "origin" | "transit" | "destination" | "citizen" | "reporter" | "partner" => {
                DimensionKind::Country
            }
            d if is_admin_area(d) => DimensionKind::AdminArea,
            d if self.closed.contains_key(d) => DimensionKind::Closed,
            _ => DimensionKind::Open,
        }
    }

    /// The canonical code of a value of any dimension (P-codes: see [`CodeLists::admin_area`]).
    pub fn canonical(&self, dimension: &str, value: &str) -> Result<String, CodeError> {
        let value = value.trim();
        if value.is_empty() {
            return Err(CodeError::Empty {
                dimension: dimension.into(),
            });
        }
        match self.kind_of(dimension) {
            DimensionKind::Country => {
                self.country(value)
                    .map(String::from)
                    .ok_or_else(|| CodeError::Unknown {
                        dimension: dimension.into(),
                        value: value.into(),
                        closest: closest(
                            value,
                            self.country_alias
                                .iter()
                                .map(|(k, v)| (k.as_str(), v.as_str())),
                        ),
                    })
            }
            DimensionKind::Closed => {
                let list = &self.closed[dimension];
                list.alias
                    .get(&normalise(value))
                    .cloned()
                    .ok_or_else(|| CodeError::Unknown {
                        dimension: dimension.into(),
                        value: value.into(),
                        closest: closest(
                            value,
                            list.alias.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                        ),
                    })
            }
            DimensionKind::AdminArea => match self.admin_area(value)? {
                AdminArea::Known(c) | AdminArea::Unlisted(c) => Ok(c),
            },
            // A publisher's total in a dimension we do not know is still the total.
            DimensionKind::Open if is_total_word(value) => Ok("TOTAL".into()),
            DimensionKind::Open => Ok(value.to_string()),
        }
    }

    /// A country or aggregate code from any alias.
    pub fn country(&self, alias: &str) -> Option<&str> {
        self.country_alias
            .get(&normalise(alias))
            .map(String::as_str)
    }

    pub fn country_name(&self, code: &str) -> Option<&str> {
        self.countries.get(code).map(|c| c.name.as_str())
    }

    /// Every current country or territory (no aggregate, none former) as `(code, name)`, by
    /// code: what a reporter may report against.
    pub fn countries(&self) -> Vec<(&str, &str)> {
        let mut out: Vec<(&str, &str)> = self
            .countries
            .iter()
            .filter(|(code, c)| !c.former && !self.is_aggregate(code))
            .map(|(code, c)| (code.as_str(), c.name.as_str()))
            .collect();
        out.sort();
        out
    }

    /// Members of an aggregate, when the aggregate is defined by its members.
    pub fn aggregate_members(&self, code: &str) -> Option<&[String]> {
        self.aggregates
            .get(code)
            .map(Vec::as_slice)
            .filter(|m| !m.is_empty())
    }

    pub fn is_aggregate(&self, code: &str) -> bool {
        self.aggregates.contains_key(code)
    }

    /// Checks a P-code's shape and its country prefix against the bundled list.
    pub fn admin_area(&self, value: &str) -> Result<AdminArea, CodeError> {
        let code = value.trim().to_uppercase();
        let bad = || CodeError::BadPcode {
            value: value.into(),
        };
        let b = code.as_bytes();
        if b.len() < 3
            || !b[..2].iter().all(u8::is_ascii_uppercase)
            || !b.iter().all(u8::is_ascii_alphanumeric)
        {
            return Err(bad());
        }
        if self.pcodes.contains_key(&code) {
            return Ok(AdminArea::Known(code));
        }
        // Unlisted, but it must still start with a real country's two-letter code.
        let known_country = self
            .countries
            .values()
            .any(|c| !c.iso2.is_empty() && code.starts_with(&c.iso2));
        if !known_country || !b.iter().any(u8::is_ascii_digit) {
            return Err(bad());
        }
        Ok(AdminArea::Unlisted(code))
    }

    /// The country (alpha-3) a listed P-code belongs to.
    pub fn admin_area_country(&self, pcode: &str) -> Option<&str> {
        self.pcodes.get(pcode).map(String::as_str)
    }

    pub fn indicator(&self, alias: &str) -> Option<&Indicator> {
        self.indicator_alias
            .get(&normalise(alias))
            .map(|&i| &self.indicators[i])
    }

    /// The indicator code for a source's name, or the closest known codes.
    pub fn indicator_code(&self, alias: &str) -> Result<&Indicator, CodeError> {
        self.indicator(alias).ok_or_else(|| CodeError::Unknown {
            dimension: "indicator".into(),
            value: alias.into(),
            closest: closest(
                alias,
                self.indicator_alias
                    .iter()
                    .map(|(k, &i)| (k.as_str(), self.indicators[i].code.as_str())),
            ),
        })
    }

    pub fn indicators(&self) -> &[Indicator] {
        &self.indicators
    }

    /// What a code of a dimension counts, when the dimension changes what is counted.
    /// A code listed as `*` stands for every other code of its dimension.
    pub fn definition(&self, dimension: &str, code: &str) -> Option<&Definition> {
        let of = |c: &str| {
            self.definitions
                .iter()
                .find(|d| d.dimension == dimension && d.code == c)
        };
        of(code).or_else(|| of("*"))
    }

    /// The codes of a dimension that changes what is counted, with their meanings.
    pub fn definitions_of<'a>(
        &'a self,
        dimension: &'a str,
    ) -> impl Iterator<Item = &'a Definition> {
        self.definitions
            .iter()
            .filter(move |d| d.dimension == dimension)
    }

    /// Whether a dimension's codes count different things (persons or cases).
    pub fn is_definitional(&self, dimension: &str) -> bool {
        self.definitions.iter().any(|d| d.dimension == dimension)
    }

    /// A derived indicator by its code.
    pub fn derived(&self, code: &str) -> Option<&Derived> {
        self.derived.iter().find(|d| d.code == code)
    }

    pub fn derived_indicators(&self) -> &[Derived] {
        &self.derived
    }

    /// The code meaning "total" for a dimension. Eurostat's applicant type `ASY_APP` (every
    /// applicant) holds its part `NASY_APP` (first-time applicants), so it is that
    /// dimension's total.
    pub fn total_code(dimension: &str) -> &'static str {
        match dimension {
            "sex" => "T",
            "applicant" => "ASY_APP",
            _ => "TOTAL",
        }
    }
}

/// Up to three canonical codes whose aliases are nearest to `value`.
fn closest<'a>(value: &str, aliases: impl Iterator<Item = (&'a str, &'a str)>) -> Vec<String> {
    let wanted = normalise(value);
    let mut scored: Vec<(f64, &str)> = aliases
        .map(|(alias, code)| (strsim::jaro_winkler(&wanted, alias), code))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut out: Vec<String> = Vec::new();
    for (_, code) in scored {
        if !out.iter().any(|c| c == code) {
            out.push(code.to_string());
        }
        if out.len() == 3 {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_publisher_spelling_of_a_country_resolves_to_alpha3() {
        let c = CodeLists::get();
        for (alias, iso) in [
            ("SY", "SYR"),
            ("Syria", "SYR"),
            ("syrian arab republic", "SYR"),
            ("760", "SYR"),
            ("EL", "GRC"),
            ("UK", "GBR"),
            ("XK", "XKX"),
            (
                "Kosovo (under United Nations Security Council Resolution 1244/99)",
                "XKX",
            ),
            ("ALG", "DZA"),
            ("AUS", "AUS"),
            ("Stateless", "XXA"),
            ("UKN", "XXX"),
            ("Not available", "XXX"),
            ("European Union (28 countries)", "EU28"),
            ("Extra-EU-28", "EXT_EU28"),
            ("Grèce", "GRC"),
            ("Сирийская Арабская Республика", "SYR"),
            ("Côte d'Ivoire", "CIV"),
            // UNHCR's and OCHA's code with no ISO equivalent, and states older series name.
            ("AB9", "AB9"),
            ("Abyei", "AB9"),
            ("Serbia and Montenegro", "SCG"),
            ("USSR", "SUN"),
            ("Yugoslavia (former)", "YUG"),
            ("European Union (15 countries)", "EU15"),
            ("EU27_2020_FOR", "EU27_2020_FOR"),
        ] {
            assert_eq!(c.country(alias), Some(iso), "{alias}");
        }
    }

    #[test]
    fn an_unknown_country_names_the_closest_codes() {
        let err = CodeLists::get().canonical("origin", "Syriaa").unwrap_err();
        let CodeError::Unknown { closest, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(closest.first().map(String::as_str), Some("SYR"), "{err}");
    }

    #[test]
    fn closed_lists_map_labels_to_codes_and_refuse_the_rest() {
        let c = CodeLists::get();
        assert_eq!(c.canonical("sex", "Females").unwrap(), "F");
        assert_eq!(c.canonical("age", "Total").unwrap(), "TOTAL");
        assert_eq!(
            c.canonical("applicant", "First time applicant").unwrap(),
            "NASY_APP"
        );
        assert!(matches!(
            c.canonical("sex", "Yes"),
            Err(CodeError::Unknown { .. })
        ));
        assert_eq!(c.canonical("procedure_type", "G").unwrap(), "G");
    }

    #[test]
    fn p_codes_are_checked_for_shape_and_kept_with_a_warning_when_unlisted() {
        let c = CodeLists::get();
        assert_eq!(
            c.admin_area("AF15").unwrap(),
            AdminArea::Known("AF15".into())
        );
        assert_eq!(c.admin_area_country("AF15"), Some("AFG"));
        assert_eq!(
            c.admin_area("AF99").unwrap(),
            AdminArea::Unlisted("AF99".into())
        );
        assert!(c.admin_area("Not available").is_err());
        assert!(c.admin_area("QQ12").is_err());
    }

    #[test]
    fn derived_indicators_are_read_with_their_formulas() {
        let c = CodeLists::get();
        let r = c.derived("recognition_rate").unwrap();
        assert_eq!((r.kind, r.factor), (DerivedKind::Ratio, 100.0));
        assert_eq!(
            r.numerator,
            vec![
                vec!["asylum_decisions_positive".to_string()],
                vec![
                    "asylum_decisions_recognized".into(),
                    "asylum_decisions_other".into()
                ]
            ]
        );
        // UNHCR's decisions on the merits (otherwise closed left out), else Eurostat's total.
        assert_eq!(
            r.denominator,
            vec![
                vec![
                    "asylum_decisions_recognized".to_string(),
                    "asylum_decisions_other".into(),
                    "asylum_decisions_rejected".into()
                ],
                vec!["asylum_decisions_total".into()]
            ]
        );
        assert_eq!(c.derived("rate_per_100k").unwrap().factor, 100000.0);
        assert_eq!(c.derived_indicators().len(), 4);
    }

    #[test]
    fn a_total_in_a_dimension_nobody_listed_is_the_total() {
        let c = CodeLists::get();
        for t in ["Total", "ALL", "_T", "Grand total"] {
            assert_eq!(c.canonical("reason", t).unwrap(), "TOTAL", "{t}");
        }
        assert_eq!(c.canonical("reason", "Family").unwrap(), "Family");
        for name in [
            "Republic of Korea",
            "Korea (South)",
            "Bahamas, The",
            "Occupied Palestinian Territories",
            "Congo, Dem. Rep.",
            "Lao PDR",
        ] {
            assert!(c.country(name).is_some(), "{name}");
        }
    }

    #[test]
    fn source_indicator_names_are_aliases_of_the_vocabulary() {
        let c = CodeLists::get();
        assert_eq!(c.indicator("applied").unwrap().code, "asylum_applications");
        assert_eq!(c.indicator("numPresentIdpInd").unwrap().code, "idps");
        assert_eq!(c.indicator("refugees").unwrap().kind, IndicatorKind::Stock);
        assert!(c
            .indicator_code("refugeez")
            .unwrap_err()
            .to_string()
            .contains("refugees"));
    }
}

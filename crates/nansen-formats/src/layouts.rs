//! Recognising what a file holds: which column is a dimension, the period, an indicator,
//! a value or a flag, for each layout partners publish.

use crate::harmonise::ImportOptions;
use crate::{Format, ImportError, Problem};
use nansen_codes::{CodeLists, Frequency};
use nansen_model::query::dimension_alias;
use nansen_model::Remedy;

/// What a column is.
#[derive(Clone, Debug, PartialEq)]
pub enum Role {
    Ignore,
    Dim(String),
    Period,
    /// The cell names the indicator (an alias, or a key of the layout's indicator map).
    Indicator,
    /// The cell is a value of `indicator` (or of the row's), with dimension codes the column
    /// itself implies (`f_0_4` is sex F, age Y0-4).
    Value {
        indicator: Option<String>,
        extra: Vec<(String, String)>,
    },
    Flags,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Duplicates {
    Error,
    Sum,
}

#[derive(Clone, Debug)]
pub struct Layout {
    pub format: Format,
    /// Rows above the data: the header and anything before it.
    pub skip: usize,
    /// Column names, as errors report them.
    pub header: Vec<String>,
    pub roles: Vec<Role>,
    pub constants: Vec<(String, String)>,
    pub indicator: Option<String>,
    pub indicator_map: Vec<(String, String)>,
    pub duplicates: Duplicates,
    pub frequency: Option<Frequency>,
    /// Nansen's own export: strip the mark that neutralised spreadsheet formulas.
    pub unneutralise: bool,
    /// Published corrections: a negative count in the first column is kept (with a warning on
    /// the version) when the second column of the same row is not negative.
    pub corrections: Vec<(usize, usize)>,
}

impl Layout {
    fn new(format: Format, skip: usize, header: Vec<String>, roles: Vec<Role>) -> Layout {
        Layout {
            format,
            skip,
            header,
            roles,
            constants: Vec::new(),
            indicator: None,
            indicator_map: Vec::new(),
            duplicates: Duplicates::Error,
            frequency: None,
            unneutralise: false,
            corrections: Vec::new(),
        }
    }
}

fn refuse(reason: String) -> ImportError {
    ImportError::refused(reason.clone(), vec![Problem::new(0, "", "", reason)])
}

/// A refusal of the whole file that something other than correcting it can mend.
fn refuse_until(reason: String, remedy: Remedy) -> ImportError {
    let problem = Problem::new(0, "", "", reason.clone()).with_remedy(remedy);
    ImportError::refused(reason, vec![problem])
}

/// Eurostat's decision codes and labels become indicators, so that decisions line up with
/// UNHCR's `dec_*` columns.
const DECISIONS: [(&str, &str); 15] = [
    ("TOTAL", "asylum_decisions_total"),
    ("Total", "asylum_decisions_total"),
    ("TOTAL_POS", "asylum_decisions_positive"),
    ("Total positive decisions", "asylum_decisions_positive"),
    ("REJECTED", "asylum_decisions_rejected"),
    ("Rejected", "asylum_decisions_rejected"),
    ("GENCONV", "asylum_decisions_recognized"),
    ("Geneva Convention status", "asylum_decisions_recognized"),
    ("Refugee status", "asylum_decisions_recognized"),
    ("HUMSTAT", "asylum_decisions_humanitarian"),
    ("Humanitarian status", "asylum_decisions_humanitarian"),
    ("SUB_PROT", "asylum_decisions_subsidiary"),
    (
        "Subsidiary protection status",
        "asylum_decisions_subsidiary",
    ),
    ("TEMP_PROT", "asylum_decisions_temporary"),
    ("Temporary protection status", "asylum_decisions_temporary"),
];

/// UNHCR's population types become the indicators of the population table.
const POP_TYPES: [(&str, &str); 9] = [
    ("REF", "refugees"),
    ("ASY", "asylum_seekers"),
    ("IDP", "idps"),
    ("OOC", "others_of_concern"),
    ("STA", "stateless"),
    ("OIP", "other_in_need_of_protection"),
    ("HST", "host_community"),
    ("RET", "returned_refugees"),
    ("RDP", "returned_idps"),
];

/// IOM's Missing Migrants Project incidents: a bundled mapping, and one published correction
/// (a negative number missing beside a total of dead and missing that is not negative).
fn missing_migrants(head: &[Vec<String>]) -> Result<Layout, ImportError> {
    let mapping = crate::mapping::Mapping::parse(include_str!("../data/missing-migrants.toml"))?;
    let mut l = mapping.layout(head, Format::MissingMigrants)?;
    l.format = Format::MissingMigrants;
    if let (Some(missing), Some(total)) = (
        find(&head[0], "number_missing"),
        find(&head[0], "total_dead_and_missing"),
    ) {
        l.corrections.push((missing, total));
    }
    Ok(l)
}

/// A table's code, its indicator, and `(dimension, code)` pairs its rows share.
type EurostatTable = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// Eurostat's migration and asylum tables, by the code in their name: what they count (empty
/// where a `DECISION` column says), and codes their rows share without a column for them.
const EUROSTAT_TABLES: [EurostatTable; 25] = [
    ("migr_asyappctz", "asylum_applications", &[]),
    ("migr_asyapp", "asylum_applications", &[]),
    ("migr_asypenctz", "asylum_seekers", &[]),
    ("migr_asywith", "asylum_applications_withdrawn", &[]),
    (
        "migr_asyunaa",
        "asylum_applications_unaccompanied_minors",
        &[],
    ),
    ("migr_asydcfst", "", &[("instance", "FIRST")]),
    ("migr_asydcfina", "", &[("instance", "FINAL")]),
    ("migr_asyresa", "resettlement_arrivals", &[]),
    ("migr_asytpfm", "asylum_decisions_temporary", &[]),
    ("migr_asytpfa", "asylum_decisions_temporary", &[]),
    ("migr_asytpsm", "temporary_protection_beneficiaries", &[]),
    ("migr_dubri", "dublin_requests_incoming", &[]),
    ("migr_dubro", "dublin_requests_outgoing", &[]),
    ("migr_dubdi", "dublin_decisions_incoming", &[]),
    ("migr_dubdo", "dublin_decisions_outgoing", &[]),
    ("migr_dubti", "dublin_transfers_incoming", &[]),
    ("migr_dubto", "dublin_transfers_outgoing", &[]),
    ("migr_eirfs", "refusals_of_entry", &[]),
    ("migr_eipre", "illegally_present", &[]),
    ("migr_eiord", "orders_to_leave", &[]),
    ("migr_eirt", "returns", &[]),
    ("migr_resfirst", "first_residence_permits", &[]),
    ("migr_resvalid", "valid_residence_permits", &[]),
    ("migr_resfam", "family_reunification_permits", &[]),
    ("demo_pjan", "population", &[]),
];

/// The Eurostat table a file's name names.
fn eurostat_table(name: &str) -> Option<(&'static str, &'static [(&'static str, &'static str)])> {
    let n = name.to_lowercase();
    EUROSTAT_TABLES
        .iter()
        .find(|(code, _, _)| n.contains(code))
        .map(|(_, i, c)| (*i, *c))
}

fn find(header: &[String], name: &str) -> Option<usize> {
    header
        .iter()
        .position(|h| h.trim().eq_ignore_ascii_case(name))
}

fn is_hashtag_row(row: &[String]) -> bool {
    let cells: Vec<&str> = row
        .iter()
        .map(|c| c.trim())
        .filter(|c| !c.is_empty())
        .collect();
    !cells.is_empty()
        && cells
            .iter()
            .all(|c| c.starts_with('#') && c.len() > 1 && !c[1..].contains(' '))
}

/// Picks the layout, in the order DESIGN section 5 gives, or follows the one asked for.
pub fn recognise(
    head: &[Vec<String>],
    wanted: Format,
    from_json: bool,
    options: &ImportOptions,
) -> Result<Layout, ImportError> {
    if let Some(mapping) = &options.mapping {
        return mapping.layout(head, wanted);
    }
    let header = &head[0];
    let has = |n: &str| find(header, n).is_some();
    if from_json
        && (has("numPresentIdpInd") || has("admin0Pcode"))
        && matches!(wanted, Format::Auto | Format::DtmJson)
    {
        return dtm_json(header, options);
    }
    if from_json
        && has("total_dead_and_missing")
        && has("reported_date")
        && matches!(wanted, Format::Auto | Format::MissingMigrants)
    {
        return missing_migrants(head);
    }
    let hxl_row = head.iter().position(|r| is_hashtag_row(r));
    let guess = if let Some(h) = hxl_row.filter(|_| {
        matches!(
            wanted,
            Format::Auto
                | Format::Hxl
                | Format::Csv
                | Format::Xlsx
                | Format::Xls
                | Format::Json
                | Format::Parquet
        )
    }) {
        return hxl(head, h, options);
    } else if has("DATAFLOW") && has("OBS_VALUE") {
        Format::SdmxCsv
    } else if has("TIME") && has("GEO") && has("Value") {
        Format::Eurostat
    } else if has("year")
        && header.iter().any(|h| h.starts_with("coo"))
        && header.iter().any(|h| h.starts_with("coa"))
    {
        Format::Unhcr
    } else if has("indicator") && has("period") && has("value") {
        Format::Csv
    } else {
        let what = if from_json { "JSON records" } else { "a table" };
        return Err(refuse_until(format!(
            "cannot tell what this file holds: {what} with columns {}; it is not HXL, SDMX-CSV, Eurostat, UNHCR, DTM or a Nansen export",
            header.iter().take(12).map(|h| format!("{h:?}")).collect::<Vec<_>>().join(", ")
        ), Remedy::DescribeColumns));
    };
    if !matches!(
        wanted,
        Format::Auto | Format::Xlsx | Format::Xls | Format::Json | Format::Parquet
    ) && wanted != guess
    {
        return Err(refuse(format!(
            "the file was named {wanted} but it reads as {guess}"
        )));
    }
    match guess {
        Format::SdmxCsv => sdmx(header, options),
        Format::Eurostat => eurostat(header, options),
        Format::Unhcr => unhcr(head, options),
        _ => own_export(header),
    }
}

fn sdmx(header: &[String], options: &ImportOptions) -> Result<Layout, ImportError> {
    let has_decision = find(header, "decision").is_some() || find(header, "indicator").is_some();
    let roles = header
        .iter()
        .map(|h| match h.trim().to_lowercase().as_str() {
            "dataflow" if options.indicator.is_none() && !has_decision => Role::Indicator,
            "indicator" => Role::Indicator,
            "dataflow" | "last update" | "conf_status" | "freq" | "structure" | "structure_id"
            | "action" => Role::Ignore,
            "time_period" => Role::Period,
            "obs_value" => Role::Value {
                indicator: None,
                extra: vec![],
            },
            "obs_flag" => Role::Flags,
            "decision" => Role::Indicator,
            other => Role::Dim(dimension_alias(other)),
        })
        .collect();
    let mut l = Layout::new(Format::SdmxCsv, 1, header.to_vec(), roles);
    l.unneutralise = true;
    l.indicator = options.indicator.clone();
    l.indicator_map = DECISIONS
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    for (table, ind, _) in EUROSTAT_TABLES.iter().filter(|(_, i, _)| !i.is_empty()) {
        for variant in [format!("ESTAT:{}", table.to_uppercase())] {
            for suffix in ["", "A", "M", "Q", "(1.0)", "A(1.0)", "M(1.0)", "Q(1.0)"] {
                l.indicator_map
                    .push((format!("{variant}{suffix}"), ind.to_string()));
            }
        }
    }
    Ok(l)
}

/// Eurostat's legacy bulk layout: upper-case column names, labels instead of codes.
fn eurostat(header: &[String], options: &ImportOptions) -> Result<Layout, ImportError> {
    let table = eurostat_table(&options.file_name);
    // Dublin decisions accept or reject requests: their DECISION is a dimension, not the
    // asylum decisions that become indicators.
    let dublin = table.is_some_and(|(i, _)| i.starts_with("dublin_"));
    let decision_is_indicator = find(header, "DECISION").is_some() && !dublin;
    let indic_mg = find(header, "INDIC_MG").is_some();
    let indicator = options
        .indicator
        .clone()
        .or_else(|| table.map(|(i, _)| i.to_string()).filter(|i| !i.is_empty()))
        .or_else(|| find(header, "ASYL_APP").map(|_| "asylum_applications".into()));
    if indicator.is_none() && !decision_is_indicator && !indic_mg {
        return Err(refuse_until(
            format!(
                "a Eurostat table, but its name {:?} does not say which",
                options.file_name
            ),
            Remedy::NameIndicator,
        ));
    }
    let roles = header
        .iter()
        .map(|h| match h.trim() {
            "TIME" => Role::Period,
            "Value" => Role::Value {
                indicator: None,
                extra: vec![],
            },
            "Flag and Footnotes" => Role::Flags,
            "DECISION" if decision_is_indicator => Role::Indicator,
            "DECISION" => Role::Dim("dublin_decision".into()),
            // What the enforcement tables count ("Persons refused entry") is their indicator.
            "INDIC_MG" if options.indicator.is_none() => Role::Indicator,
            other => Role::Dim(dimension_alias(other)),
        })
        .collect();
    let mut l = Layout::new(Format::Eurostat, 1, header.to_vec(), roles);
    l.indicator = indicator;
    l.indicator_map = DECISIONS
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    l.constants = table
        .map(|(_, c)| {
            c.iter()
                .map(|(d, v)| (d.to_string(), v.to_string()))
                .collect()
        })
        .unwrap_or_default();
    Ok(l)
}

fn demographic_band(col: &str) -> Option<(&'static str, &'static str)> {
    let (sex, band) = match col.split_once('_') {
        Some(("f", b)) => ("F", b),
        Some(("m", b)) => ("M", b),
        None if col == "total" => return Some(("T", "TOTAL")),
        _ => return None,
    };
    let age = match band {
        "0_4" => "Y0-4",
        "5_11" => "Y5-11",
        "12_17" => "Y12-17",
        "18_59" => "Y18-59",
        "60" => "Y_GE60",
        "other" => "OTHER",
        "total" => "TOTAL",
        _ => return None,
    };
    Some((sex, age))
}

fn numeric_column(head: &[Vec<String>], i: usize) -> bool {
    let cells: Vec<&str> = head
        .iter()
        .skip(1)
        .filter_map(|r| r.get(i))
        .map(|c| c.trim())
        .filter(|c| !c.is_empty())
        .collect();
    !cells.is_empty()
        && cells
            .iter()
            .all(|c| c.replace(',', "").parse::<f64>().is_ok())
}

/// UNHCR's population-statistics tables.
fn unhcr(head: &[Vec<String>], options: &ImportOptions) -> Result<Layout, ImportError> {
    let header = &head[0];
    let codes = CodeLists::get();
    let has = |n: &str| find(header, n).is_some();
    let mut roles = Vec::new();
    for (i, h) in header.iter().enumerate() {
        let col = h.trim();
        let role = match col {
            "year" => Role::Period,
            "coo_iso" => Role::Dim("origin".into()),
            "coa_iso" => Role::Dim("geo".into()),
            "coo" if !has("coo_iso") => Role::Dim("origin".into()),
            "coa" if !has("coa_iso") => Role::Dim("geo".into()),
            "pop_type" => Role::Indicator,
            c if c == "coo" || c == "coa" || c.ends_with("_name") => Role::Ignore,
            c => {
                if let Some((sex, age)) = demographic_band(c) {
                    Role::Value {
                        indicator: None,
                        extra: vec![("sex".into(), sex.into()), ("age".into(), age.into())],
                    }
                } else if let Some(ind) = codes.indicator(c) {
                    Role::Value {
                        indicator: Some(ind.code.clone()),
                        extra: vec![],
                    }
                } else if numeric_column(head, i) && !c.ends_with("_pc") && !c.ends_with("_level") {
                    match &options.indicator {
                        Some(ind) => Role::Value {
                            indicator: Some(ind.clone()),
                            extra: vec![],
                        },
                        None => {
                            let err = codes
                                .indicator_code(c)
                                .err()
                                .map(|e| e.to_string())
                                .unwrap_or_default();
                            return Err(ImportError::refused(
                                format!("column {c:?} holds numbers but names no indicator: {err}"),
                                vec![Problem::new(1, c, c, err)],
                            ));
                        }
                    }
                } else {
                    Role::Dim(dimension_alias(c))
                }
            }
        };
        roles.push(role);
    }
    let mut l = Layout::new(Format::Unhcr, 1, header.to_vec(), roles);
    l.indicator_map = POP_TYPES
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    l.indicator = options.indicator.clone();
    Ok(l)
}

/// IOM DTM's API records.
fn dtm_json(header: &[String], options: &ImportOptions) -> Result<Layout, ImportError> {
    let roles = header
        .iter()
        .map(|h| match h.as_str() {
            "admin0Pcode" => Role::Dim("geo".into()),
            "admin1Pcode" => Role::Dim("adm1".into()),
            "admin2Pcode" => Role::Dim("adm2".into()),
            "adminLevel" => Role::Dim("admin_level".into()),
            "reportingDate" => Role::Period,
            "roundNumber" => Role::Dim("round".into()),
            "displacementReason" => Role::Dim("cause".into()),
            "idpOriginAdmin1Pcode" => Role::Dim("origin_adm1".into()),
            "assessmentType" => Role::Dim("assessment".into()),
            "operation" => Role::Dim("operation".into()),
            "numPresentIdpInd" => Role::Value {
                indicator: Some("idps".into()),
                extra: vec![],
            },
            "numberMales" => Role::Value {
                indicator: Some("idps".into()),
                extra: vec![("sex".into(), "M".into())],
            },
            "numberFemales" => Role::Value {
                indicator: Some("idps".into()),
                extra: vec![("sex".into(), "F".into())],
            },
            _ => Role::Ignore,
        })
        .collect();
    let mut l = Layout::new(Format::DtmJson, 1, header.to_vec(), roles);
    l.indicator = options.indicator.clone();
    Ok(l)
}

/// Nansen's own CSV export: `indicator, period, <dimensions>..., value, flags`.
fn own_export(header: &[String]) -> Result<Layout, ImportError> {
    let roles = header
        .iter()
        .map(|h| match h.trim() {
            "indicator" => Role::Indicator,
            "period" => Role::Period,
            "value" => Role::Value {
                indicator: None,
                extra: vec![],
            },
            "flags" => Role::Flags,
            other => Role::Dim(dimension_alias(other)),
        })
        .collect();
    let mut l = Layout::new(Format::Csv, 1, header.to_vec(), roles);
    l.unneutralise = true;
    Ok(l)
}

const SEX_ATTRS: [(&str, &str); 6] = [
    ("f", "F"),
    ("female", "F"),
    ("women", "F"),
    ("m", "M"),
    ("male", "M"),
    ("men", "M"),
];
const AGE_ATTRS: [(&str, &str); 4] = [
    ("children", "Y_LT18"),
    ("minors", "Y_LT18"),
    ("adults", "Y_GE18"),
    ("elderly", "Y_GE60"),
];
const VALUE_TAGS: [&str; 8] = [
    "affected",
    "inneed",
    "targeted",
    "reached",
    "population",
    "value",
    "indicator",
    "beneficiary",
];
/// Nansen's own HXL export marks flags with this custom hashtag.
pub const FLAGS_TAG: &str = "#x_flags";
/// Attributes that describe how a column is written, not what it is.
const PLAIN_ATTRS: [&str; 12] = [
    "code", "name", "type", "num", "v_pcode", "en", "es", "fr", "ar", "ru", "zh", "id",
];

/// A CSV, spreadsheet or JSON file with an HXL hashtag row.
fn hxl(
    head: &[Vec<String>],
    tag_row: usize,
    options: &ImportOptions,
) -> Result<Layout, ImportError> {
    let codes = CodeLists::get();
    let tags: Vec<(String, Vec<String>)> = head[tag_row]
        .iter()
        .map(|t| {
            let t = t.trim().to_lowercase();
            let mut parts = t.split('+').map(|p| p.trim().to_string());
            let base = parts
                .next()
                .unwrap_or_default()
                .trim_start_matches('#')
                .to_string();
            (base, parts.filter(|p| !p.is_empty()).collect())
        })
        .collect();
    let has_code = |base: &str, origin: bool| {
        tags.iter().any(|(b, a)| {
            b == base && a.iter().any(|x| x == "code") && a.iter().any(|x| x == "origin") == origin
        })
    };
    let mut period_taken = false;
    let mut roles = Vec::new();
    let mut used_names: Vec<String> = Vec::new();
    for (i, (base, attrs)) in tags.iter().enumerate() {
        let a = |x: &str| attrs.iter().any(|y| y == x);
        let origin = a("origin");
        let role = match base.as_str() {
            "" => Role::Ignore,
            "date" if !period_taken && !a("year") && !a("month") && !a("week") => {
                period_taken = true;
                Role::Period
            }
            "date" | "id" | "meta" => Role::Ignore,
            "country" if a("name") && has_code("country", origin) => Role::Ignore,
            "country" => Role::Dim(if origin { "origin" } else { "geo" }.into()),
            b if b.starts_with("adm") && b.len() == 4 && b.as_bytes()[3].is_ascii_digit() => {
                if a("name") && has_code(b, origin) {
                    Role::Ignore
                } else if a("code") {
                    Role::Dim(if origin {
                        format!("origin_{b}")
                    } else {
                        b.to_string()
                    })
                } else {
                    Role::Dim(format!("{}{b}_name", if origin { "origin_" } else { "" }))
                }
            }
            "adm" if a("level") => Role::Dim("admin_level".into()),
            "indicator" if a("code") || a("name") => Role::Indicator,
            "x_flags" => Role::Flags,
            b if VALUE_TAGS.contains(&b) => {
                let mut extra = Vec::new();
                let mut indicator = None;
                for x in attrs {
                    if let Some((_, s)) = SEX_ATTRS.iter().find(|(k, _)| k == x) {
                        extra.push(("sex".to_string(), s.to_string()));
                    } else if let Some((_, g)) = AGE_ATTRS.iter().find(|(k, _)| k == x) {
                        extra.push(("age".to_string(), g.to_string()));
                    } else if indicator.is_none() {
                        indicator = codes.indicator(x).map(|ind| ind.code.clone());
                    }
                }
                let indicator = indicator
                    .or_else(|| options.indicator.clone())
                    .or_else(|| codes.indicator(b).map(|i| i.code.clone()));
                let indicator_column = tags
                    .iter()
                    .any(|(b, a)| b == "indicator" && a.iter().any(|x| x == "code" || x == "name"));
                if indicator.is_none() && !indicator_column {
                    let col = head[tag_row][i].trim().to_string();
                    let reason = format!(
                        "{col}: no indicator of the vocabulary in this hashtag's attributes"
                    );
                    let problem = Problem::new(tag_row as u64 + 1, &col, &col, reason.clone())
                        .with_remedy(Remedy::NameIndicator);
                    return Err(ImportError::refused(reason, vec![problem]));
                }
                Role::Value { indicator, extra }
            }
            b => {
                let mut name = std::iter::once(b.to_string())
                    .chain(
                        attrs
                            .iter()
                            .filter(|x| !PLAIN_ATTRS.contains(&x.as_str()))
                            .cloned(),
                    )
                    .collect::<Vec<_>>()
                    .join("_");
                if name == "operation" && a("status") {
                    name = "operation_status".into();
                }
                while used_names.contains(&name) {
                    name.push('_');
                }
                used_names.push(name.clone());
                Role::Dim(name)
            }
        };
        roles.push(role);
    }
    if !roles.iter().any(|r| matches!(r, Role::Value { .. })) {
        return Err(refuse("the HXL file has no value column (#affected, #inneed, #targeted, #reached, #population, #value)".into()));
    }
    if !period_taken {
        return Err(refuse(
            "the HXL file has no #date column, so its observations have no period".into(),
        ));
    }
    let header = head[tag_row].iter().map(|t| t.trim().to_string()).collect();
    let mut l = Layout::new(Format::Hxl, tag_row + 1, header, roles);
    l.indicator = options.indicator.clone();
    l.unneutralise = true;
    Ok(l)
}

/// A layout a mapping file describes.
pub(crate) fn mapped(wanted: Format, skip: usize, header: Vec<String>, roles: Vec<Role>) -> Layout {
    let format = if wanted == Format::Auto {
        Format::Csv
    } else {
        wanted
    };
    Layout::new(format, skip, header, roles)
}

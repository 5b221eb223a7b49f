//! The template in SDMX's terms: its dataflow's agency and id, as SDMX-CSV returns name it.

/// The agency and id of a template's dataflow: its organisation and name in upper case
/// (SDMX ids take letters, digits and `_`).
pub fn dataflow(org: &str, slug: &str) -> (String, String) {
    let id = |s: &str| s.to_ascii_uppercase().replace('-', "_");
    (id(org), id(slug))
}

/// `AGENCY:ID`, as an SDMX-CSV file's `DATAFLOW` column starts.
pub fn dataflow_ref(org: &str, slug: &str) -> String {
    let (agency, id) = dataflow(org, slug);
    format!("{agency}:{id}")
}

//! `nansen dataset show ORG/SLUG`: what a dataset is before anyone queries it: what it says
//! about itself, its dimensions and their codes, the periods it covers, and its versions.

use nansen_app::{Coverage, DatasetView};
use nansen_codes::{CodeLists, DimensionKind};
use std::io::Write;

/// Codes shown per dimension before "and N more".
const SHOWN: usize = 12;

pub fn json(d: &DatasetView, cov: &Coverage) -> serde_json::Value {
    serde_json::json!({ "dataset": d, "coverage": cov })
}

pub fn text(d: &DatasetView, cov: &Coverage, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "{}\t{}", d.name, d.title)?;
    let field = |out: &mut dyn Write, name: &str, value: &str| {
        writeln!(
            out,
            "{name:<12}{}",
            if value.is_empty() { "-" } else { value }
        )
    };
    field(out, "sharing", &d.sharing)?;
    field(out, "your access", d.access.as_str())?;
    field(out, "source", &d.source)?;
    field(out, "licence", &d.licence)?;
    field(
        out,
        "updated",
        &d.updated_at.map_or("never".into(), |t| t.to_string()),
    )?;
    let periods = match (&cov.first_period, &cov.last_period) {
        (Some(a), Some(b)) => format!(
            "{a} to {b}{}, {} observations",
            cov.frequency
                .as_deref()
                .map(|f| format!(" (by {f})"))
                .unwrap_or_default(),
            cov.observations
        ),
        _ => String::new(),
    };
    field(out, "periods", &periods)?;
    let codes = CodeLists::get();
    writeln!(out, "indicators")?;
    for i in &cov.indicators {
        let label = codes.indicator(i).map(|x| x.label.as_str()).unwrap_or("");
        writeln!(out, "  {i}\t{label}")?;
    }
    writeln!(out, "dimensions")?;
    let mut dims: Vec<(&str, &[String])> = Vec::new();
    if !cov.places.is_empty() {
        dims.push(("geo", &cov.places));
    }
    if !cov.origins.is_empty() {
        dims.push(("origin", &cov.origins));
    }
    for (d, c) in &cov.others {
        dims.push((d, c));
    }
    for (dim, list) in dims {
        let aggregates: Vec<&str> = list
            .iter()
            .filter(|c| codes.kind_of(dim) == DimensionKind::Country && codes.is_aggregate(c))
            .map(String::as_str)
            .collect();
        let mut shown: Vec<&str> = list.iter().take(SHOWN).map(String::as_str).collect();
        if list.len() > SHOWN {
            shown.push("...");
        }
        writeln!(
            out,
            "  {dim}\t{} code{}: {}{}",
            list.len(),
            if list.len() == 1 { "" } else { "s" },
            shown.join(", "),
            if aggregates.is_empty() {
                String::new()
            } else {
                format!(
                    " (aggregates, never added to their members: {})",
                    aggregates.join(", ")
                )
            }
        )?;
    }
    writeln!(out, "versions")?;
    for v in &d.versions {
        writeln!(
            out,
            "  v{}\t{}\t{}\t{}\t{} observations (+{} ~{} -{}){}",
            v.number,
            v.created_at,
            v.created_by,
            v.file_name,
            v.observations,
            v.added,
            v.changed,
            v.removed,
            if v.redacted_at.is_some() {
                "\tredacted"
            } else {
                ""
            }
        )?;
    }
    Ok(())
}

//! Writing observations: CSV, HXL, SDMX-CSV, JSON and XLSX. Every export reads back into
//! the same observations, and no cell of it runs as a formula in a spreadsheet.

use nansen_model::Cube;
use std::io::{self, Write};
use std::str::FromStr;

/// The mark put before a text cell a spreadsheet would run as a formula.
pub const NEUTRALISE_MARK: char = '\'';

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Hxl,
    SdmxCsv,
    Json,
    Xlsx,
    Parquet,
}

impl FromStr for ExportFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ExportFormat::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = ExportFormat::ALL.iter().map(|f| f.name()).collect();
                format!("unknown export format {s:?}: choose {}", names.join(", "))
            })
    }
}

impl ExportFormat {
    /// Every format, in the order the CLI and the docs list them.
    pub const ALL: [ExportFormat; 6] = [
        ExportFormat::Csv,
        ExportFormat::Hxl,
        ExportFormat::SdmxCsv,
        ExportFormat::Json,
        ExportFormat::Xlsx,
        ExportFormat::Parquet,
    ];

    /// The name the CLI and the API use.
    pub fn name(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Hxl => "hxl",
            ExportFormat::SdmxCsv => "sdmx-csv",
            ExportFormat::Json => "json",
            ExportFormat::Xlsx => "xlsx",
            ExportFormat::Parquet => "parquet",
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            ExportFormat::Csv | ExportFormat::Hxl | ExportFormat::SdmxCsv => {
                "text/csv; charset=utf-8"
            }
            ExportFormat::Json => "application/json",
            ExportFormat::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
            ExportFormat::Parquet => "application/vnd.apache.parquet",
        }
    }
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Hxl => "hxl.csv",
            ExportFormat::SdmxCsv => "sdmx.csv",
            ExportFormat::Json => "json",
            ExportFormat::Xlsx => "xlsx",
            ExportFormat::Parquet => "parquet",
        }
    }
}

/// A text cell that a spreadsheet would execute (`=`, `+`, `-`, `@`, tab, carriage return
/// first) gets the mark in front; so does one that already starts with the mark, so that
/// reading back always removes exactly one.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') | Some(NEUTRALISE_MARK) => {
            format!("{NEUTRALISE_MARK}{cell}").into()
        }
        _ => cell.into(),
    }
}

pub fn unneutralise(cell: &str) -> &str {
    cell.strip_prefix(NEUTRALISE_MARK).unwrap_or(cell)
}

/// The dimensions other than indicator and period, in the cube's order.
fn other_dims(cube: &Cube) -> Vec<usize> {
    (0..cube.dims.len())
        .filter(|&i| cube.dims[i] != "indicator" && cube.dims[i] != "period")
        .collect()
}

fn format_value(v: Option<f64>) -> String {
    match v {
        None => String::new(),
        Some(v) if v.fract() == 0.0 && v.abs() < 1e15 => format!("{}", v as i64),
        // Rates and shares: enough digits for any use, none of float noise.
        Some(v) => format!("{}", (v * 1e6).round() / 1e6),
    }
}

fn is_adm(d: &str) -> bool {
    d.len() == 4 && d.starts_with("adm") && d.as_bytes()[3].is_ascii_digit()
}

/// The hashtag Nansen's HXL reader maps back onto the same dimension.
fn hxl_tag(dim: &str) -> String {
    match dim {
        "geo" => "#country+code".into(),
        "origin" => "#country+code+origin".into(),
        d if is_adm(d) => format!("#{d}+code"),
        d if d.strip_prefix("origin_").is_some_and(is_adm) => format!("#{}+code+origin", &d[7..]),
        d => format!(
            "#{}",
            d.chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect::<String>()
        ),
    }
}

pub fn export(
    cube: &Cube,
    format: ExportFormat,
    about: &[(&str, String)],
    out: &mut dyn Write,
) -> io::Result<()> {
    let ind = cube.dim("indicator").unwrap_or(0);
    let per = cube.dim("period").unwrap_or(0);
    let others = other_dims(cube);
    match format {
        ExportFormat::Csv | ExportFormat::Hxl | ExportFormat::SdmxCsv => {
            let mut w = csv::WriterBuilder::new().from_writer(out);
            let names: Vec<String> = others.iter().map(|&i| cube.dims[i].clone()).collect();
            match format {
                ExportFormat::Csv => {
                    let mut h = vec!["indicator".to_string(), "period".to_string()];
                    h.extend(names.iter().cloned());
                    h.extend(["value".to_string(), "flags".to_string()]);
                    w.write_record(&h)?;
                }
                ExportFormat::Hxl => {
                    let mut h = vec!["indicator".to_string(), "period".to_string()];
                    h.extend(names.iter().cloned());
                    h.extend(["value".to_string(), "flags".to_string()]);
                    w.write_record(&h)?;
                    let mut tags = vec!["#indicator+code".to_string(), "#date".to_string()];
                    tags.extend(names.iter().map(|d| hxl_tag(d)));
                    tags.extend([
                        "#value+num".to_string(),
                        super::layouts::FLAGS_TAG.to_string(),
                    ]);
                    w.write_record(&tags)?;
                }
                _ => {
                    let mut h = vec!["DATAFLOW".to_string(), "indicator".to_string()];
                    h.extend(names.iter().cloned());
                    h.extend([
                        "TIME_PERIOD".to_string(),
                        "OBS_VALUE".to_string(),
                        "OBS_FLAG".to_string(),
                    ]);
                    w.write_record(&h)?;
                }
            }
            let mut rec: Vec<String> = Vec::with_capacity(cube.dims.len() + 3);
            for r in 0..cube.len() {
                rec.clear();
                if format == ExportFormat::SdmxCsv {
                    rec.push("NANSEN:OBSERVATIONS(1.0)".into());
                    rec.push(neutralise(cube.columns[ind].get(r)).into_owned());
                    rec.extend(
                        others
                            .iter()
                            .map(|&i| neutralise(cube.columns[i].get(r)).into_owned()),
                    );
                    rec.push(cube.columns[per].get(r).to_string());
                } else {
                    rec.push(neutralise(cube.columns[ind].get(r)).into_owned());
                    rec.push(cube.columns[per].get(r).to_string());
                    rec.extend(
                        others
                            .iter()
                            .map(|&i| neutralise(cube.columns[i].get(r)).into_owned()),
                    );
                }
                rec.push(format_value(cube.value(r)));
                rec.push(cube.flag(r).to_string());
                w.write_record(&rec)?;
            }
            w.flush()
        }
        ExportFormat::Json => {
            let mut w = io::BufWriter::new(out);
            w.write_all(b"[")?;
            for r in 0..cube.len() {
                let mut obj = serde_json::Map::new();
                for (i, d) in cube.dims.iter().enumerate() {
                    obj.insert(d.clone(), cube.columns[i].get(r).into());
                }
                obj.insert(
                    "value".into(),
                    cube.value(r)
                        .map(serde_json::Value::from)
                        .unwrap_or(serde_json::Value::Null),
                );
                obj.insert("flags".into(), cube.flag(r).into());
                if r > 0 {
                    w.write_all(b",\n")?;
                }
                serde_json::to_writer(&mut w, &obj)?;
            }
            w.write_all(b"]\n")?;
            w.flush()
        }
        ExportFormat::Xlsx => {
            let bytes = xlsx(cube, &others, about).map_err(|e| io::Error::other(e.to_string()))?;
            out.write_all(&bytes)
        }
        ExportFormat::Parquet => {
            let mut cols = vec![ind, per];
            cols.extend_from_slice(&others);
            crate::parquet_io::write(cube, &cols, out).map_err(|e| io::Error::other(e.to_string()))
        }
    }
}

fn xlsx(
    cube: &Cube,
    others: &[usize],
    about: &[(&str, String)],
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("observations")?;
    let ind = cube.dim("indicator").unwrap_or(0);
    let per = cube.dim("period").unwrap_or(0);
    let mut cols = vec![ind, per];
    cols.extend_from_slice(others);
    for (c, &i) in cols.iter().enumerate() {
        sheet.write_string(0, c as u16, &cube.dims[i])?;
    }
    let (vcol, fcol) = (cols.len() as u16, cols.len() as u16 + 1);
    sheet.write_string(0, vcol, "value")?;
    sheet.write_string(0, fcol, "flags")?;
    for r in 0..cube.len() {
        let row = r as u32 + 1;
        for (c, &i) in cols.iter().enumerate() {
            // Written as text so that a period such as 2015 or a code such as 001 stays as written.
            sheet.write_string(row, c as u16, neutralise(cube.columns[i].get(r)).as_ref())?;
        }
        if let Some(v) = cube.value(r) {
            sheet.write_number(row, vcol, v)?;
        }
        let f = cube.flag(r);
        if !f.is_empty() {
            sheet.write_string(row, fcol, f)?;
        }
    }
    if !about.is_empty() {
        // After the observations, so that reading the file back takes the first sheet.
        let meta = book.add_worksheet();
        meta.set_name("metadata")?;
        meta.write_string(0, 0, "field")?;
        meta.write_string(0, 1, "value")?;
        for (i, (k, v)) in about.iter().enumerate() {
            meta.write_string(i as u32 + 1, 0, *k)?;
            meta.write_string(i as u32 + 1, 1, neutralise(v).as_ref())?;
        }
    }
    book.save_to_buffer()
}

/// A query's answer as CSV: the group-by dimensions in the order asked, then `value`; one
/// row per group; plain numbers; a suppressed value is empty. With `flags`, a `flags` column
/// follows `value`: the source's flags, and the word `incomplete` where the data covers only
/// part of the row's period.
pub fn table_csv(table: &nansen_model::Table, flags: bool, out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let mut header = table.columns.clone();
    header.push("value".into());
    if flags {
        header.push("flags".into());
    }
    header.extend(table.extra.iter().cloned());
    w.write_record(&header)?;
    for r in &table.rows {
        let mut rec: Vec<String> = r.key.iter().map(|k| neutralise(k).into_owned()).collect();
        rec.push(format_value(r.value));
        if flags {
            rec.push(row_flags(r));
        }
        rec.extend(r.extra.iter().map(|v| format_value(*v)));
        w.write_record(&rec)?;
    }
    w.flush()
}

/// A header and rows of text cells as CSV, each cell written as it is: the tabular answers
/// (forecasts, backtests, detections, alerts) the CLI and the API render alike.
pub fn rows_csv(header: &[String], rows: &[Vec<String>], out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(header)?;
    for r in rows {
        w.write_record(r)?;
    }
    w.flush()
}

/// A row's flags as a `flags` column writes them: `p`, `incomplete`, `p incomplete`.
pub fn row_flags(r: &nansen_model::Row) -> String {
    match (r.flags.is_empty(), r.incomplete) {
        (_, false) => r.flags.clone(),
        (true, true) => "incomplete".into(),
        (false, true) => format!("{} incomplete", r.flags),
    }
}

/// A query's answer as JSON: `{"columns": [...], "rows": [{dim: code, ..., "value": n,
/// "flags": "p", "incomplete": false}], "aggregates": {dim: [code, ...]}}`; `incomplete` marks a
/// period the data only partly covers, `aggregates` the codes that hold others (EU28, TOTAL),
/// `counted` what the answer counts where a dimension changes it (persons or cases), and
/// `warnings` the definitions that differ between compared datasets.
pub fn table_json(table: &nansen_model::Table) -> serde_json::Value {
    let rows: Vec<serde_json::Value> = table
        .rows
        .iter()
        .map(|r| {
            let mut o = serde_json::Map::new();
            for (c, k) in table.columns.iter().zip(&r.key) {
                o.insert(c.clone(), k.clone().into());
            }
            o.insert(
                "value".into(),
                r.value
                    .map(serde_json::Value::from)
                    .unwrap_or(serde_json::Value::Null),
            );
            for (name, v) in table.extra.iter().zip(&r.extra) {
                o.insert(
                    name.clone(),
                    v.map(serde_json::Value::from)
                        .unwrap_or(serde_json::Value::Null),
                );
            }
            o.insert("flags".into(), r.flags.clone().into());
            o.insert("incomplete".into(), r.incomplete.into());
            serde_json::Value::Object(o)
        })
        .collect();
    let aggregates: serde_json::Map<String, serde_json::Value> = table
        .columns
        .iter()
        .zip(&table.aggregates)
        .filter(|(_, a)| !a.is_empty())
        .map(|(c, a)| (c.clone(), a.clone().into()))
        .collect();
    let counted: Vec<serde_json::Value> = table
        .counted
        .iter()
        .map(|c| {
            serde_json::json!({ "dimension": c.dimension, "code": c.code, "meaning": c.meaning,
                "by_default": c.by_default })
        })
        .collect();
    let p = &table.provenance;
    let provenance = serde_json::json!({ "dataset": p.dataset, "title": p.title, "version": p.version,
        "source": p.source, "licence": p.licence, "unit": p.unit, "query": p.query });
    serde_json::json!({ "columns": table.columns, "extra": table.extra, "rows": rows,
        "aggregates": aggregates, "counted": counted, "warnings": table.warnings,
        "provenance": provenance })
}

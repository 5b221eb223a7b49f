//! Every partner format in and out.
//!
//! A file is read as rows of text cells (CSV in any of its encodings and delimiters, XLSX,
//! XLS, JSON records), its layout is recognised (HXL, SDMX-CSV, Eurostat's legacy bulk
//! layout, UNHCR tables, DTM, Nansen's own export, or a mapping file), and each cell is
//! harmonised to the code lists into one [`Cube`] of observations. Nothing is kept unless
//! every row passes: the caller receives either the whole cube or every problem found.

mod export;
mod harmonise;
mod layouts;
mod mapping;
mod parquet_io;
mod rows;
mod spill;
mod text;

pub use export::{row_flags, rows_csv, table_csv, table_json, ExportFormat, NEUTRALISE_MARK};
pub use harmonise::{ImportOptions, Imported, SetAsideRow, Spilled};
pub use mapping::Mapping;
pub use rows::{workbook_sheets, Sheet};
pub use spill::{Spill, CHUNK_ROWS};

use nansen_model::Cube;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

/// A file format Nansen reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Auto,
    Csv,
    Hxl,
    SdmxCsv,
    Eurostat,
    Unhcr,
    DtmJson,
    MissingMigrants,
    Xlsx,
    Xls,
    Json,
    Parquet,
}

impl Format {
    /// Every format, in the order the CLI and the docs list them.
    pub const ALL: [Format; 12] = [
        Format::Auto,
        Format::Csv,
        Format::Hxl,
        Format::SdmxCsv,
        Format::Eurostat,
        Format::Unhcr,
        Format::DtmJson,
        Format::MissingMigrants,
        Format::Xlsx,
        Format::Xls,
        Format::Json,
        Format::Parquet,
    ];

    /// The name the CLI, the API and the reports use.
    pub fn name(self) -> &'static str {
        match self {
            Format::Auto => "auto",
            Format::Csv => "csv",
            Format::Hxl => "hxl",
            Format::SdmxCsv => "sdmx-csv",
            Format::Eurostat => "eurostat",
            Format::Unhcr => "unhcr",
            Format::DtmJson => "dtm-json",
            Format::MissingMigrants => "missing-migrants",
            Format::Xlsx => "xlsx",
            Format::Xls => "xls",
            Format::Json => "json",
            Format::Parquet => "parquet",
        }
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Format::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Format::ALL.iter().map(|f| f.name()).collect();
                format!("unknown format {s:?}: choose {}", names.join(", "))
            })
    }
}

impl serde::Serialize for Format {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for Format {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One thing wrong with one cell: where, what, and why, in a data manager's words.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Problem {
    /// 1-based row of the file (the header is row 1 in a CSV); 0 when about the whole file.
    pub row: u64,
    pub column: String,
    pub value: String,
    pub reason: String,
    /// Rows with this same problem (column, value and reason), `row` included.
    pub count: u64,
    /// The first few of them after `row`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub more_rows: Vec<u64>,
    /// What the person can do about it, when something other than correcting the file helps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remedy: Option<nansen_model::Remedy>,
}

impl Problem {
    /// The same problem, with what the person can do about it.
    pub fn with_remedy(mut self, remedy: nansen_model::Remedy) -> Problem {
        self.remedy = Some(remedy);
        self
    }

    pub fn new(row: u64, column: &str, value: &str, reason: impl Into<String>) -> Problem {
        let mut value = value.to_string();
        if value.len() > 200 {
            let mut cut = 200;
            while !value.is_char_boundary(cut) {
                cut -= 1;
            }
            value.truncate(cut);
            value.push('…');
        }
        Problem {
            row,
            column: column.into(),
            value,
            reason: reason.into(),
            count: 1,
            more_rows: Vec::new(),
            remedy: None,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.row > 0 {
            write!(f, "row {}", self.row)?;
        } else {
            f.write_str("file")?;
        }
        if !self.column.is_empty() {
            write!(f, ", column {:?}", self.column)?;
        }
        if !self.value.is_empty() {
            write!(f, ", value {:?}", self.value)?;
        }
        write!(f, ": {}", self.reason)?;
        if self.count > 1 {
            let rows: Vec<String> = self.more_rows.iter().map(|r| r.to_string()).collect();
            write!(
                f,
                " (in {} rows: {}, {}{})",
                self.count,
                self.row,
                rows.join(", "),
                if self.count > 1 + self.more_rows.len() as u64 {
                    ", ..."
                } else {
                    ""
                }
            )?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{message}")]
    Refused {
        message: String,
        problems: Vec<Problem>,
    },
    #[error("cannot read the file: {0}")]
    Io(#[from] std::io::Error),
}

impl ImportError {
    pub fn refused(message: impl Into<String>, problems: Vec<Problem>) -> ImportError {
        ImportError::Refused {
            message: message.into(),
            problems,
        }
    }

    /// What the person can do about the refusal, beyond correcting the file.
    pub fn remedy(&self) -> Option<nansen_model::Remedy> {
        self.problems().iter().find_map(|p| p.remedy)
    }

    pub fn problems(&self) -> &[Problem] {
        match self {
            ImportError::Refused { problems, .. } => problems,
            ImportError::Io(_) => &[],
        }
    }
}

/// Reads a file into observations, or says why not.
pub fn read(path: &Path, options: &ImportOptions) -> Result<Imported, ImportError> {
    harmonise::read(path, options, &mut |_| {}, None)?.into_imported()
}

/// A table that is not observations (a registration list): its header, and each row after it
/// given to `f` with its row number in the file (the header is row 1). CSV in any encoding and
/// delimiter, XLSX or XLS (the first sheet), with the same guards as an import: a row of
/// another width than the header, an archive that unpacks too far, are refused by row.
pub fn table(
    path: &Path,
    f: &mut dyn FnMut(u64, Vec<String>) -> Result<(), ImportError>,
) -> Result<Vec<String>, ImportError> {
    let rows = match rows::container(path)? {
        rows::Container::Zip | rows::Container::Ole => rows::spreadsheet(path, None)?,
        _ => rows::Rows::csv(path)?,
    };
    let header = rows.head(1)?.into_iter().next().unwrap_or_default();
    let width = header.len();
    rows.each(1, &header, &mut |row, cells| {
        f(row, (0..width).map(|i| cells.get(i).to_string()).collect())
    })?;
    Ok(header)
}

/// As [`read`], keeping the observations in chunks that go to a temporary file in `spill_to`
/// once they outgrow memory, and calling `progress` with the rows read so far every 100,000
/// rows: the memory a file takes does not grow with its observations.
pub fn read_in_chunks(
    path: &Path,
    options: &ImportOptions,
    progress: &mut dyn FnMut(u64),
    spill_to: &Path,
) -> Result<Spilled, ImportError> {
    harmonise::read(path, options, progress, Some(spill_to))
}

/// The cube's observations written in one of the export formats. `about` (dataset, version,
/// source, licence...) goes into the file where the format has room for it: a `metadata`
/// sheet after the observations in XLSX; other formats carry it beside the file.
pub fn write(
    cube: &Cube,
    format: ExportFormat,
    about: &[(&str, String)],
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    export::export(cube, format, about, out)
}

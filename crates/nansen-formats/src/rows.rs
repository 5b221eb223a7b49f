//! Rows of text cells from any container: CSV (any encoding and delimiter), XLSX, XLS, JSON.

use crate::text::{self, Encoding};
use crate::{ImportError, Problem};
use std::io::Read;
use std::path::{Path, PathBuf};

/// What a layout reads cells from.
pub trait Cells {
    fn get(&self, i: usize) -> &str;
}

impl Cells for csv::StringRecord {
    fn get(&self, i: usize) -> &str {
        csv::StringRecord::get(self, i).unwrap_or("")
    }
}

impl Cells for Vec<String> {
    fn get(&self, i: usize) -> &str {
        self.as_slice().get(i).map(String::as_str).unwrap_or("")
    }
}

/// A file opened as rows.
pub enum Rows {
    Csv {
        path: PathBuf,
        encoding: Encoding,
        delimiter: u8,
    },
    /// Spreadsheets and JSON, small enough to hold (their containers are bounded on read).
    Grid(Vec<Vec<String>>),
    /// Read row by row from the file.
    Parquet(PathBuf),
}

/// What the first bytes of a file say it is.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Container {
    Zip,
    Ole,
    Parquet,
    Json,
    Text,
}

pub fn container(path: &Path) -> std::io::Result<Container> {
    let mut head = [0u8; 64];
    let mut f = std::fs::File::open(path)?;
    let n = f.read(&mut head)?;
    let head = &head[..n];
    Ok(
        if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
            Container::Zip
        } else if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
            Container::Ole
        } else if head.starts_with(b"PAR1") {
            Container::Parquet
        } else if head
            .iter()
            .find(|b| !(b.is_ascii_whitespace() || **b == 0xEF || **b == 0xBB || **b == 0xBF))
            .is_some_and(|b| *b == b'[' || *b == b'{')
        {
            Container::Json
        } else {
            Container::Text
        },
    )
}

impl Rows {
    pub fn csv(path: &Path) -> Result<Rows, ImportError> {
        let encoding = text::prescan(path)?;
        let head = text::head(path, encoding, 64 * 1024)?;
        if head.trim().is_empty() {
            return Err(ImportError::refused(
                "the file is empty",
                vec![Problem::new(0, "", "", "the file is empty")],
            ));
        }
        Ok(Rows::Csv {
            path: path.to_path_buf(),
            encoding,
            delimiter: text::sniff_delimiter(&head),
        })
    }

    /// The first `n` rows, for recognising the layout.
    pub fn head(&self, n: usize) -> Result<Vec<Vec<String>>, ImportError> {
        match self {
            Rows::Grid(g) => Ok(g.iter().take(n).cloned().collect()),
            Rows::Parquet(path) => {
                let mut out = Vec::new();
                crate::parquet_io::each_row(path, &mut |r| {
                    out.push(r);
                    Ok(out.len() < n)
                })?;
                Ok(out)
            }
            Rows::Csv {
                path,
                encoding,
                delimiter,
            } => {
                let text = text::head(path, *encoding, 256 * 1024)?;
                let mut rdr = csv::ReaderBuilder::new()
                    .delimiter(*delimiter)
                    .has_headers(false)
                    .flexible(true)
                    .from_reader(text.as_bytes());
                Ok(rdr
                    .records()
                    .take(n)
                    .filter_map(Result::ok)
                    .map(|r| r.iter().map(String::from).collect())
                    .collect())
            }
        }
    }

    /// Calls `f` with each row after the first `skip` (the header and anything above it),
    /// with its 1-based row number in the file, after checking its width against `width`.
    pub fn each(
        &self,
        skip: usize,
        header: &[String],
        f: &mut dyn FnMut(u64, &dyn Cells) -> Result<(), ImportError>,
    ) -> Result<u64, ImportError> {
        let width = header.len();
        let mut count = 0u64;
        let check = |row: u64, len: usize| -> Result<(), ImportError> {
            if len != width {
                let (column, reason) = if len < width {
                    (header[len].clone(), format!("missing: the row has {len} cells where the header has {width}, so it is cut short (a truncated file, or an unbalanced quote)"))
                } else {
                    (format!("cell {}", width + 1), format!("the row has {len} cells where the header has {width}: an unbalanced quote or a stray delimiter"))
                };
                let p = Problem::new(row, &column, "", reason);
                return Err(ImportError::refused(
                    format!("the file is refused: {p}"),
                    vec![p],
                ));
            }
            Ok(())
        };
        match self {
            Rows::Grid(g) => {
                for (i, r) in g.iter().enumerate().skip(skip) {
                    if r.iter().all(|c| c.trim().is_empty()) {
                        continue;
                    }
                    let row = i as u64 + 1;
                    let mut cells = r.clone();
                    cells.resize(width.max(cells.len()), String::new());
                    f(row, &cells)?;
                    count += 1;
                }
            }
            Rows::Parquet(path) => {
                let mut i = 0usize;
                crate::parquet_io::each_row(path, &mut |cells| {
                    i += 1;
                    if i > skip {
                        f(i as u64, &cells)?;
                        count += 1;
                    }
                    Ok(true)
                })?;
            }
            Rows::Csv {
                path,
                encoding,
                delimiter,
            } => {
                let mut rdr = csv::ReaderBuilder::new()
                    .delimiter(*delimiter)
                    .has_headers(false)
                    .flexible(true)
                    .buffer_capacity(1 << 20)
                    .from_reader(text::utf8_reader(path, *encoding)?);
                let mut rec = csv::StringRecord::new();
                let mut seen = 0usize;
                loop {
                    match rdr.read_record(&mut rec) {
                        Ok(false) => break,
                        Ok(true) => {}
                        Err(e) => {
                            let row = e.position().map(|p| p.line()).unwrap_or(0);
                            return Err(ImportError::refused(
                                format!("row {row} cannot be read"),
                                vec![Problem::new(row, "", "", format!("not valid CSV: {e}"))],
                            ));
                        }
                    }
                    seen += 1;
                    if seen <= skip {
                        continue;
                    }
                    let row = rec.position().map(|p| p.line()).unwrap_or(seen as u64);
                    if rec.len() == 1 && rec.get(0).is_some_and(|c| c.trim().is_empty()) {
                        continue;
                    }
                    check(row, rec.len())?;
                    f(row, &rec)?;
                    count += 1;
                }
            }
        }
        Ok(count)
    }
}

/// A spreadsheet's sheet as a grid of text cells.
pub fn spreadsheet(path: &Path, sheet: Option<&str>) -> Result<Rows, ImportError> {
    let want = |names: &[String]| -> Result<Vec<String>, String> {
        match sheet {
            Some(s) => names
                .iter()
                .find(|n| *n == s)
                .map(|n| vec![n.clone()])
                .ok_or_else(|| {
                    format!("no sheet named {s:?}; the sheets are {}", names.join(", "))
                }),
            None => names
                .first()
                .map(|n| vec![n.clone()])
                .ok_or_else(|| "the workbook has no sheets".to_string()),
        }
    };
    let mut sheets = read_sheets(path, &want)?;
    Ok(Rows::Grid(sheets.pop().map(|(_, g)| g).unwrap_or_default()))
}

/// A sheet's name and its cells as text, row by row.
pub type Sheet = (String, Vec<Vec<String>>);

/// Picks sheets by name from a workbook's, or says why none fits.
type SheetChoice<'a> = &'a dyn Fn(&[String]) -> Result<Vec<String>, String>;

/// Every sheet of a workbook as a grid of text cells, by name, opened once.
pub fn workbook_sheets(path: &Path) -> Result<Vec<Sheet>, ImportError> {
    read_sheets(path, &|names| Ok(names.to_vec()))
}

/// The sheets `want` picks from the workbook's sheet names, each as a grid of text.
fn read_sheets(path: &Path, want: SheetChoice<'_>) -> Result<Vec<Sheet>, ImportError> {
    use calamine::{open_workbook_auto, Data, Reader};
    let refuse = |why: String| {
        ImportError::refused(
            format!("the spreadsheet cannot be read: {why}"),
            vec![Problem::new(0, "", "", why)],
        )
    };
    if container(path)? == Container::Zip {
        guard_zip(path)?;
    }
    let mut wb = open_workbook_auto(path)
        .map_err(|e| refuse(format!("corrupt or not a spreadsheet ({e})")))?;
    let names = want(&wb.sheet_names().to_vec()).map_err(refuse)?;
    let mut out = Vec::new();
    for name in names {
        let range = wb
            .worksheet_range(&name)
            .map_err(|e| refuse(format!("sheet {name:?} is corrupt ({e})")))?;
        // Rows and columns as the sheet numbers them, though the range starts at its first
        // cell with content.
        let (first_row, first_col) = range.start().unwrap_or((0, 0));
        let mut grid: Vec<Vec<String>> = vec![Vec::new(); first_row as usize];
        for r in range.rows() {
            grid.push(
                std::iter::repeat_n(String::new(), first_col as usize)
                    .chain(r.iter().map(|c| match c {
                        Data::Empty => String::new(),
                        Data::String(s) => s.clone(),
                        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => {
                            format!("{}", *f as i64)
                        }
                        Data::Float(f) => f.to_string(),
                        Data::Int(i) => i.to_string(),
                        Data::Bool(b) => b.to_string(),
                        Data::DateTime(d) => excel_date(d.as_f64()),
                        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
                        Data::Error(e) => format!("#{e:?}"),
                    }))
                    .collect(),
            );
        }
        out.push((name, grid));
    }
    Ok(out)
}

/// Refuses a zip whose members would inflate past 1 GiB or 200 times their packed size: the
/// shape of a zip bomb. The sizes a zip declares are checked against what each member really
/// inflates to, reading no further than one byte past the declared size, so a file that lies
/// about them costs no more than an honest one.
fn guard_zip(path: &Path) -> Result<(), ImportError> {
    let refuse = |why: String| {
        ImportError::refused(
            format!("the spreadsheet is refused: {why}"),
            vec![Problem::new(0, "", "", why)],
        )
    };
    let file = std::fs::File::open(path)?;
    let mut zip =
        zip::ZipArchive::new(file).map_err(|e| refuse(format!("corrupt zip container ({e})")))?;
    let (mut packed, mut unpacked) = (0u64, 0u64);
    for i in 0..zip.len() {
        let entry = zip
            .by_index_raw(i)
            .map_err(|e| refuse(format!("corrupt zip entry ({e})")))?;
        packed += entry.compressed_size();
        unpacked += entry.size();
    }
    if unpacked > 1 << 30 || unpacked > packed.max(1 << 16) * 200 {
        return Err(refuse(format!(
            "it would inflate from {packed} to {unpacked} bytes, which is the shape of a zip bomb"
        )));
    }
    for i in 0..zip.len() {
        let mut entry = zip
            .by_index(i)
            .map_err(|e| refuse(format!("corrupt zip entry ({e})")))?;
        let (name, declared) = (entry.name().to_string(), entry.size());
        let real = std::io::copy(&mut (&mut entry).take(declared + 1), &mut std::io::sink())
            .map_err(|e| refuse(format!("{name} cannot be unpacked ({e})")))?;
        if real > declared {
            return Err(refuse(format!("{name} unpacks to more than the {declared} bytes the file declares, which is the shape of a zip bomb")));
        }
    }
    Ok(())
}

/// JSON records: an array of objects, or DTM's `{"result": [...]}`. Keys become the header.
pub fn json_records(value: serde_json::Value) -> Result<Rows, ImportError> {
    let refuse = |why: &str| {
        ImportError::refused(
            format!("the JSON cannot be read as records: {why}"),
            vec![Problem::new(0, "", "", why)],
        )
    };
    let records = match value {
        serde_json::Value::Array(a) if a.first().is_some_and(|r| r.is_array()) => {
            let cell = |v: &serde_json::Value| match v {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) => s.clone(),
                v => v.to_string(),
            };
            let grid = a
                .iter()
                .map(|r| {
                    r.as_array()
                        .map(|cells| cells.iter().map(cell).collect())
                        .unwrap_or_default()
                })
                .collect();
            return Ok(Rows::Grid(grid));
        }
        serde_json::Value::Array(a) => a,
        serde_json::Value::Object(mut o) => match o
            .remove("result")
            .or_else(|| o.remove("results"))
            .or_else(|| o.remove("data"))
        {
            Some(serde_json::Value::Array(a)) => a,
            _ => {
                return Err(refuse(
                    "an object without a \"result\", \"results\" or \"data\" array of records",
                ))
            }
        },
        _ => {
            return Err(refuse(
                "neither an array of records nor an object holding one",
            ))
        }
    };
    if records.is_empty() {
        return Err(refuse("no records"));
    }
    let mut header: Vec<String> = Vec::new();
    for r in &records {
        let serde_json::Value::Object(o) = r else {
            return Err(refuse("a record that is not an object"));
        };
        for k in o.keys() {
            if !header.contains(k) {
                header.push(k.clone());
            }
        }
    }
    let mut grid = vec![header.clone()];
    for r in records {
        let serde_json::Value::Object(o) = r else {
            continue;
        };
        grid.push(
            header
                .iter()
                .map(|k| match o.get(k) {
                    None | Some(serde_json::Value::Null) => String::new(),
                    Some(serde_json::Value::String(s)) => s.clone(),
                    Some(v) => v.to_string(),
                })
                .collect(),
        );
    }
    Ok(Rows::Grid(grid))
}

/// An Excel serial date (days since 1899-12-30) as `YYYY-MM-DD`.
fn excel_date(serial: f64) -> String {
    civil_date(serial.floor() as i64 - 25569)
}

/// Days since 1970-01-01 as `YYYY-MM-DD`.
pub fn civil_date(days: i64) -> String {
    let (y, m, d) = nansen_codes::civil(days);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn spreadsheet_serial_dates_and_days_read_as_iso_dates() {
        assert_eq!(super::excel_date(42064.0), "2015-03-01");
        assert_eq!(
            super::excel_date(42064.75),
            "2015-03-01",
            "the time of day is dropped"
        );
        assert_eq!(super::civil_date(0), "1970-01-01");
        assert_eq!(super::civil_date(-1), "1969-12-31");
    }
}

//! What every command shares: the one error path, the output formats and the small parsers of
//! command-line values.

use anyhow::anyhow;
use clap::builder::PossibleValue;
use clap::ValueEnum;
use nansen_app::{AppError, Remedy};
use nansen_formats::{ExportFormat, Format};
use nansen_model::DatasetName;
use std::sync::OnceLock;

/// Why a command failed. Every command returns it; `main` renders it once.
#[derive(Debug)]
pub enum Failure {
    /// Refused by the application: worded for the person, or as the API's JSON error.
    App(AppError),
    /// Anything else (a file that cannot be read, a value that does not parse).
    Other(anyhow::Error),
}

pub type Outcome = Result<(), Failure>;

impl Failure {
    /// The message on stderr: `error: ...` for people, the API's error body with `--format json`.
    pub fn render(&self, json: bool) -> String {
        match (self, json) {
            (Failure::App(e), false) => format!("error: {}", describe(e)),
            (Failure::App(e), true) => {
                let mut body = serde_json::json!({ "error": { "code": e.code(), "message": e.to_string() } });
                if let Some(r) = e.remedy() {
                    body["error"]["remedy"] = serde_json::json!({ "code": r.code(), "message": remedy(r) });
                }
                if let AppError::Import(ie) = e {
                    body["error"]["details"] =
                        serde_json::to_value(ie.problems()).unwrap_or_default();
                }
                body.to_string()
            }
            (Failure::Other(e), false) => format!("error: {e:#}"),
            (Failure::Other(e), true) => {
                serde_json::json!({ "error": { "code": "bad_request", "message": format!("{e:#}") } })
                    .to_string()
            }
        }
    }
}

/// How an error reaches a person: "not found" for anything they may not see; an import's
/// every kind of problem, each once with its count, so one round of fixes is enough; and
/// what to do about it, in flags.
pub fn describe(e: &AppError) -> String {
    match e {
        AppError::Import(ie) => {
            let mut s = e.to_string();
            for p in ie.problems() {
                s.push_str(&format!("\n  {p}"));
                if let Some(r) = p.remedy {
                    s.push_str(&format!(" ({})", remedy(r)));
                }
            }
            s.push_str("\nNothing was saved.");
            s
        }
        _ => match e.remedy() {
            Some(r) => format!("{e}: {}", remedy(r)),
            None => e.to_string(),
        },
    }
}

/// What to do about a refusal, in the CLI's flags.
pub fn remedy(r: Remedy) -> &'static str {
    match r {
        Remedy::NameIndicator => {
            "name what it counts with --indicator CODE, or in a mapping file (--mapping FILE)"
        }
        Remedy::DescribeColumns => {
            "describe its columns in a mapping file: --mapping FILE (see docs/mapping.md)"
        }
        Remedy::MapOrAcceptCode => {
            "map it with --recode DIM:VALUE=CODE, or accept it with --accept DIM:VALUE"
        }
        Remedy::GroupByPeriod => "add period to --group-by",
        Remedy::NamePopulation => "name it with --per-capita ORG/SLUG",
        Remedy::ChooseFrequency => "choose one with --frequency month|quarter|year",
        Remedy::ActAsPerson => "run it as that person with --as EMAIL",
        Remedy::ReplaceContent => "import it without --append to replace the content",
    }
}

macro_rules! via_app {
    ($($t:ty),*) => {$(
        impl From<$t> for Failure {
            fn from(e: $t) -> Self {
                Failure::App(e.into())
            }
        }
    )*};
}
via_app!(
    AppError,
    nansen_model::QueryError,
    nansen_formats::ImportError,
    nansen_forecast::ForecastError
);

macro_rules! other {
    ($($t:ty),*) => {$(
        impl From<$t> for Failure {
            fn from(e: $t) -> Self {
                Failure::Other(e.into())
            }
        }
    )*};
}
other!(anyhow::Error, std::io::Error, serde_json::Error, csv::Error);

/// A failure worded for the person.
pub fn said(message: impl std::fmt::Display) -> Failure {
    Failure::Other(anyhow!("{message}"))
}

/// `--format` of a command that answers with a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TableFormat {
    Csv,
    Json,
}

/// `--format` of a command that answers with a listing or a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TextFormat {
    Text,
    Json,
}

/// A `ValueEnum` over a format type's own list and names, so the CLI offers exactly the
/// formats the crate knows.
macro_rules! file_formats {
    ($(#[$doc:meta])* $name:ident($format:ty)) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name(pub $format);

        impl ValueEnum for $name {
            fn value_variants<'a>() -> &'a [Self] {
                static ALL: OnceLock<Vec<$name>> = OnceLock::new();
                ALL.get_or_init(|| <$format>::ALL.into_iter().map($name).collect())
            }
            fn to_possible_value(&self) -> Option<PossibleValue> {
                Some(PossibleValue::new(self.0.name()))
            }
        }
    };
}

file_formats!(
    /// `--file-format` of `dataset import`: the file's layout.
    InputFormat(Format)
);
file_formats!(
    /// `--file-format` of `dataset export`: the file to write.
    OutputFile(ExportFormat)
);

/// The file format of `--file-format`, or of the old `--format` with a warning.
pub fn file_format<T>(file_format: Option<T>, old: Option<T>, default: T) -> T {
    if old.is_some() {
        eprintln!("warning: --format is now --file-format");
    }
    file_format.or(old).unwrap_or(default)
}

/// A dataset named as `ORG/SLUG`.
pub fn dataset_name(name: &str) -> Result<DatasetName, Failure> {
    name.parse().map_err(said)
}

/// `DIM,DIM` as a list, blanks dropped.
pub fn dims(list: Option<&str>) -> Vec<String> {
    list.map(|l| {
        l.split(',')
            .map(|d| d.trim().to_string())
            .filter(|d| !d.is_empty())
            .collect()
    })
    .unwrap_or_default()
}

/// `A<sep>B` items as pairs.
pub fn parse_pairs(items: &[String], sep: char) -> Result<Vec<(String, String)>, Failure> {
    items
        .iter()
        .map(|s| {
            s.split_once(sep)
                .map(|(a, b)| (a.trim().to_string(), b.trim().to_string()))
                .ok_or_else(|| said(format!("{s:?}: expected DIM{sep}VALUE")))
        })
        .collect()
}

/// Writes a progress line over the last one on a terminal; elsewhere, only the lines `keep`
/// lets through, one per line.
pub struct Progress {
    tty: bool,
}

impl Progress {
    pub fn new() -> Self {
        use std::io::IsTerminal;
        Progress {
            tty: std::io::stderr().is_terminal(),
        }
    }

    pub fn show(&self, line: &str, keep: bool) {
        if self.tty {
            eprint!("\r\x1b[2K{line}");
        } else if keep {
            eprintln!("{line}");
        }
    }

    /// Clears the progress line before the command's last words.
    pub fn done(&self) {
        if self.tty {
            eprint!("\r\x1b[2K");
        }
    }
}

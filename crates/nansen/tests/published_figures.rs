//! Figures Eurostat, UNHCR and IOM printed, answered by `nansen query` on the publishers' own
//! files, on SQLite and on PostgreSQL. The table is `published-figures.tsv`: each row names its
//! source, its date, its tolerance and why the two may differ. Skipped, with a note, when
//! `../shared/data` is absent.

use nansen_store::testing::{fresh_postgres, PgDatabase};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

struct Figure {
    file: String,
    args: Vec<String>,
    published: f64,
    tolerance_pct: f64,
    source: String,
}

fn figures() -> Vec<Figure> {
    include_str!("published-figures.tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            assert!(c.len() >= 5, "a figure needs five columns: {l}");
            Figure {
                file: c[0].into(),
                args: c[1].split_whitespace().map(String::from).collect(),
                published: c[2].parse().unwrap(),
                tolerance_pct: c[3].parse().unwrap(),
                source: c[4].into(),
            }
        })
        .collect()
}

fn shared_data() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    p.is_dir().then_some(p)
}

fn nansen(dir: &Path, url: Option<&str>, args: &[&str]) -> String {
    let mut c = Command::new(env!("CARGO_BIN_EXE_nansen"));
    c.arg("--data-dir").arg(dir);
    if let Some(u) = url {
        c.arg("--database-url").arg(u);
    }
    let o = c.args(args).stdin(Stdio::null()).output().unwrap();
    assert!(
        o.status.success(),
        "nansen {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn published_figures_come_out_of_the_default_path() {
    let Some(data) = shared_data() else {
        eprintln!("skipped: ../shared/data is absent, so the publishers' files are not here");
        return;
    };
    let figures = figures();
    assert!(figures.len() >= 46, "the table lost figures");
    let pg: Option<PgDatabase> = fresh_postgres();
    let mut envs: Vec<(&str, Option<String>)> = vec![("sqlite", None)];
    match &pg {
        Some(db) => envs.push(("postgres", Some(db.url.clone()))),
        None => eprintln!("PostgreSQL: no server answers, so only SQLite was checked"),
    }
    for (name, url) in envs {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("data");
        let run = |args: &[&str]| nansen(&data_dir, url.as_deref(), args);
        run(&["org", "add", "euaa", "--name", "EU Asylum Agency"]);
        let mut slugs: HashMap<&str, String> = HashMap::new();
        let mut wrong = Vec::new();
        for f in &figures {
            let n = slugs.len();
            let slug = slugs.entry(&f.file).or_insert_with(|| {
                let slug = format!("d{n}");
                let path = data.join(&f.file);
                run(&[
                    "dataset",
                    "import",
                    path.to_str().unwrap(),
                    "--org",
                    "euaa",
                    "--dataset",
                    &slug,
                ]);
                slug
            });
            let mut args = vec!["query".to_string(), format!("euaa/{slug}")];
            args.extend(f.args.iter().cloned());
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = run(&args);
            let got: f64 = out
                .lines()
                .nth(1)
                .and_then(|l| l.split(',').next_back())
                .and_then(|v| v.parse().ok())
                .unwrap_or(f64::NAN);
            let off = (got - f.published).abs() / f.published * 100.0;
            // The table the closing notes quote: file, question, published, answered, off.
            eprintln!(
                "figure\t{}\t{}\t{}\t{got}\t{off:.3}\t{name}",
                f.file,
                f.args.join(" "),
                f.published
            );
            if off.is_nan() || off > f.tolerance_pct + 1e-9 {
                wrong.push(format!(
                    "{} {}: got {got}, published {} (±{}%): {}",
                    f.file,
                    f.args.join(" "),
                    f.published,
                    f.tolerance_pct,
                    f.source
                ));
            }
        }
        assert!(
            wrong.is_empty(),
            "{name}: figures off:\n{}",
            wrong.join("\n")
        );
    }
}

//! The invariants ARCHITECTURE.md states, checked on the source itself: which crate may
//! write SQL, HTML or HTTP, which crate may depend on which, and that the app's public API
//! never hands out its store. A change that breaks one fails here, with the file and line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The written allow-list: every dependency each crate may have. Adding one is a decision,
/// made here, beside the others, and said in ARCHITECTURE.md.
const ALLOWED: &[(&str, &[&str])] = &[
    ("nansen-codes", &["strsim", "thiserror"]),
    (
        "nansen-model",
        &[
            "lz4_flex",
            "nansen-codes",
            "rustc-hash",
            "serde",
            "thiserror",
            "time",
        ],
    ),
    (
        "nansen-cases",
        &[
            "nansen-codes",
            "nansen-model",
            "serde",
            "serde_json",
            "serde_path_to_error",
            "thiserror",
            "time",
            "toml",
        ],
    ),
    (
        "nansen-formats",
        &[
            "calamine",
            "csv",
            "encoding_rs",
            "memchr",
            "nansen-codes",
            "nansen-model",
            "parquet",
            "rust_xlsxwriter",
            "rustc-hash",
            "serde",
            "serde_json",
            "tempfile",
            "thiserror",
            "toml",
            "zip",
        ],
    ),
    ("nansen-forecast", &["serde", "statrs", "thiserror"]),
    (
        "nansen-match",
        &["clarabel", "serde", "serde_json", "thiserror"],
    ),
    (
        "nansen-gathering",
        &[
            "csv",
            "quick-xml",
            "rust_xlsxwriter",
            "serde",
            "thiserror",
            "time",
            "toml",
            "toml_edit",
        ],
    ),
    (
        "nansen-extract",
        &[
            "encoding_rs",
            "html5gum",
            "pulldown-cmark",
            "quick-xml",
            "tempfile",
            "thiserror",
            "whatlang",
            "zip",
        ],
    ),
    ("nansen-search", &["serde", "tantivy", "thiserror"]),
    (
        "nansen-webhooks",
        &["hex", "hmac", "sha2", "thiserror", "ureq"],
    ),
    ("nansen-mail", &["lettre", "thiserror"]),
    (
        "nansen-store",
        &[
            "chacha20poly1305",
            "hex",
            "hmac",
            "nansen-cases",
            "nansen-model",
            "postgres",
            "rand",
            "rusqlite",
            "serde",
            "serde_json",
            "sha2",
            "tempfile",
            "thiserror",
        ],
    ),
    (
        "nansen-app",
        &[
            "argon2",
            "csv",
            "hex",
            "nansen-cases",
            "nansen-codes",
            "nansen-extract",
            "nansen-forecast",
            "nansen-formats",
            "nansen-gathering",
            "nansen-mail",
            "nansen-match",
            "nansen-model",
            "nansen-search",
            "nansen-store",
            "nansen-webhooks",
            "rand",
            "serde",
            "serde_json",
            "sha2",
            "thiserror",
            "time",
        ],
    ),
    (
        "nansen-web",
        &[
            "axum",
            "futures-util",
            "maud",
            "nansen-app",
            "nansen-cases",
            "nansen-codes",
            "nansen-forecast",
            "nansen-formats",
            "nansen-model",
            "rand",
            "serde",
            "serde_json",
            "serde_urlencoded",
            "tempfile",
            "tokio",
            "tower-http",
            "tracing",
        ],
    ),
    (
        "nansen-server",
        &[
            "axum",
            "csv",
            "futures-util",
            "http-body",
            "nansen-app",
            "nansen-cases",
            "nansen-codes",
            "nansen-forecast",
            "nansen-formats",
            "nansen-model",
            "nansen-web",
            "prometheus-client",
            "serde",
            "serde_json",
            "tempfile",
            "thiserror",
            "tokio",
            "tower-http",
            "tracing",
            "utoipa",
            "utoipa-axum",
        ],
    ),
    (
        "nansen",
        &[
            "anyhow",
            "clap",
            "csv",
            "nansen-app",
            "nansen-cases",
            "nansen-codes",
            "nansen-forecast",
            "nansen-formats",
            "nansen-match",
            "nansen-model",
            "nansen-server",
            "serde_json",
            "tokio",
            "tracing-subscriber",
        ],
    ),
];

/// Each workspace crate's normal (not dev or build) dependencies, as cargo reads them.
fn dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(workspace())
        .output()
        .expect("cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    m["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null())
                .map(|d| d["name"].as_str().unwrap().to_string())
                .collect();
            (p["name"].as_str().unwrap().to_string(), deps)
        })
        .collect()
}

/// A crate's production source, file by file: `src/`, without `#[cfg(test)]` items (tests
/// may play someone who holds the database, and write SQL to do it).
fn sources(krate: &str) -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &workspace().join("crates").join(krate).join("src"),
        &mut files,
    );
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(&f).unwrap();
            (f, without_tests(&text))
        })
        .collect()
}

/// The text with each item marked `#[cfg(test)]` blanked out (lines kept, so that line
/// numbers still point at the file).
fn without_tests(text: &str) -> String {
    let mut out = text.to_string();
    let mut from = 0;
    while let Some(at) = out[from..].find("#[cfg(test)]").map(|i| i + from) {
        let Some(open) = out[at..].find('{').map(|i| i + at) else {
            break;
        };
        let mut depth = 0;
        let mut end = out.len();
        for (i, c) in out[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        let blank: String = out[at..end]
            .chars()
            .map(|c| if c == '\n' { '\n' } else { ' ' })
            .collect();
        out.replace_range(at..end, &blank);
        from = at + blank.len();
    }
    out
}

/// Every line of the crates' production source holding one of `needles`, as `file:line`.
fn find(krates: &[&str], needles: &[&str]) -> Vec<String> {
    let root = workspace();
    let mut found = Vec::new();
    for k in krates {
        for (file, text) in sources(k) {
            for (n, line) in text.lines().enumerate() {
                if let Some(needle) = needles.iter().find(|x| line.contains(*x)) {
                    found.push(format!(
                        "{}:{}: {needle:?}",
                        file.strip_prefix(&root).unwrap_or(&file).display(),
                        n + 1
                    ));
                }
            }
        }
    }
    found
}

fn crates_but(keep: &[&str]) -> Vec<&'static str> {
    ALLOWED
        .iter()
        .map(|(k, _)| *k)
        .filter(|k| !keep.contains(k))
        .collect()
}

#[test]
fn every_crate_depends_only_on_what_the_allow_list_names() {
    let actual = dependencies();
    let written: BTreeMap<&str, BTreeSet<&str>> = ALLOWED
        .iter()
        .map(|(k, d)| (*k, d.iter().copied().collect()))
        .collect();
    let mut wrong = Vec::new();
    for (krate, deps) in &actual {
        let Some(allowed) = written.get(krate.as_str()) else {
            wrong.push(format!("{krate}: a crate the allow-list does not name"));
            continue;
        };
        for d in deps {
            if !allowed.contains(d.as_str()) {
                wrong.push(format!(
                    "{krate} depends on {d}, which its allow-list does not name"
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn sql_is_written_only_in_the_store() {
    let found = find(
        &crates_but(&["nansen-store"]),
        &[
            "SELECT ",
            "INSERT INTO",
            "DELETE FROM",
            "\"UPDATE ",
            "CREATE TABLE",
            "ALTER TABLE",
            "DROP TABLE",
            ".conn()",
        ],
    );
    assert!(
        found.is_empty(),
        "SQL outside nansen-store:\n{}",
        found.join("\n")
    );
}

#[test]
fn html_is_written_only_by_the_web() {
    let found = find(
        &crates_but(&["nansen-web"]),
        &["maud", "PreEscaped", "html!", "<mark>", "&lt;"],
    );
    assert!(
        found.is_empty(),
        "HTML outside nansen-web:\n{}",
        found.join("\n")
    );
}

#[test]
fn http_is_known_only_to_the_server_and_the_web() {
    let deps = dependencies();
    let mut found = find(
        &crates_but(&["nansen-server", "nansen-web"]),
        &["axum::", "http::", "hyper::", "tower"],
    );
    for (krate, d) in &deps {
        if krate != "nansen-server" && krate != "nansen-web" {
            for http in ["axum", "http", "hyper", "tower", "tower-http"] {
                if d.contains(http) {
                    found.push(format!("{krate} depends on {http}"));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "HTTP outside the server and the web:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_apps_public_api_never_hands_out_its_store() {
    let found = find(
        &["nansen-app"],
        &[
            "pub fn store",
            "pub store:",
            "-> &Store",
            "-> Store",
            "-> &mut Tx",
            "pub use nansen_store::Store",
            "pub use nansen_store::*",
        ],
    );
    assert!(
        found.is_empty(),
        "the store reachable through nansen-app:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_checks_see_what_they_look_for() {
    // A check that cannot fail checks nothing: each finds its pattern where it is allowed.
    assert!(!find(&["nansen-store"], &["SELECT "]).is_empty());
    assert!(!find(&["nansen-web"], &["html!"]).is_empty());
    assert!(!find(&["nansen-server"], &["axum::"]).is_empty());
    // And the test modules are left out: this one's own test module names SQL.
    let text =
        "fn a() {}\n#[cfg(test)]\nmod tests {\n    const Q: &str = \"SELECT 1\";\n}\nfn b() {}\n";
    let kept = without_tests(text);
    assert!(
        !kept.contains("SELECT") && kept.contains("fn b()"),
        "{kept}"
    );
    assert_eq!(kept.lines().count(), text.lines().count());
}

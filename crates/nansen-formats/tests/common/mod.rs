//! Where the publishers' files are: `../shared/data` beside the repository, or
//! `NANSEN_SHARED_DATA`. A clone elsewhere has none, and the tests that read them skip, saying so.

use std::path::{Path, PathBuf};

pub fn shared_data() -> Option<PathBuf> {
    let p = std::env::var("NANSEN_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    if p.join("README.md").exists() {
        Some(p)
    } else {
        eprintln!(
            "skipped: the publishers' files are not at {} (set NANSEN_SHARED_DATA)",
            p.display()
        );
        None
    }
}

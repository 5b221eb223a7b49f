use nansen_formats::*;
use std::path::Path;
#[test]
#[ignore]
fn explore() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    let mut files: Vec<_> = walk(&root);
    files.sort();
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let opts = ImportOptions { file_name: name.clone(), ..Default::default() };
        let t = std::time::Instant::now();
        match read(&f, &opts) {
            Ok(i) => println!("OK  {name}: {:?} rows={} obs={} dims={:?} warn={:?} {:?}", i.format, i.rows, i.cube.len(), i.cube.dims, i.warnings, t.elapsed()),
            Err(e) => println!("ERR {name}: {e} | {:?}", e.problems().iter().take(3).map(|p| p.to_string()).collect::<Vec<_>>()),
        }
    }
}
fn walk(p: &Path) -> Vec<std::path::PathBuf> {
    let mut v = vec![];
    for e in std::fs::read_dir(p).unwrap() {
        let e = e.unwrap().path();
        if e.is_dir() { v.extend(walk(&e)); } else if !e.ends_with("README.md") { v.push(e); }
    }
    v
}

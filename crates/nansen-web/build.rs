//! Embeds the bundled assets of `web/dist` (made by `npm run build` in `web/`, which the
//! README's first command runs before cargo). Nothing is fetched here: when the bundle has
//! not been built, pages still work and say that charts are missing.

use std::path::Path;

const ASSETS: [&str; 2] = ["app.js", "world.json"];

fn main() {
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web/dist");
    let out = Path::new(&std::env::var("OUT_DIR").unwrap()).to_path_buf();
    println!("cargo:rerun-if-changed={}", dist.display());
    for name in ASSETS {
        let src = dist.join(name);
        println!("cargo:rerun-if-changed={}", src.display());
        let bytes = std::fs::read(&src).unwrap_or_else(|_| {
            println!("cargo:warning=web/dist/{name} is missing: run `npm ci && npm run build` in web/ for charts and maps");
            Vec::new()
        });
        std::fs::write(out.join(name), bytes).unwrap();
    }
}

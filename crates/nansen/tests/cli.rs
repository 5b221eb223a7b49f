//! The `nansen` binary as a person runs it, on SQLite and on PostgreSQL.

use nansen_store::testing::{fresh_postgres, PgDatabase};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

struct Env {
    name: &'static str,
    dir: tempfile::TempDir,
    url: Option<String>,
    _db: Option<PgDatabase>,
}

fn envs() -> Vec<Env> {
    let mut v = vec![Env {
        name: "sqlite",
        dir: tempfile::tempdir().unwrap(),
        url: None,
        _db: None,
    }];
    if let Some(db) = fresh_postgres() {
        v.push(Env {
            name: "postgres",
            dir: tempfile::tempdir().unwrap(),
            url: Some(db.url.clone()),
            _db: Some(db),
        });
    }
    v
}

impl Env {
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_nansen"));
        c.arg("--data-dir").arg(self.dir.path().join("data"));
        if let Some(u) = &self.url {
            c.arg("--database-url").arg(u);
        }
        c.args(args).stdin(Stdio::null());
        c
    }
    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }
    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "{}: nansen {args:?} failed: {}",
            self.name,
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }
    fn with_stdin(&self, args: &[&str], input: &str) -> Output {
        let mut child = self
            .cmd(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }
    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
    fn setup(&self) {
        self.ok(&["org", "add", "euaa", "--name", "EU Asylum Agency"]);
        self.ok(&["org", "add", "iom", "--name", "IOM"]);
        self.ok(&["org", "add", "bmi", "--name", "Ministry"]);
        for (email, org, role) in [
            ("ed@euaa.eu", "euaa", "editor"),
            ("v@iom.int", "iom", "viewer"),
            ("a@bmi.de", "bmi", "admin"),
        ] {
            self.add_user(email, org, role);
        }
    }
    /// A member with the password given on stdin, which is not printed.
    fn add_user(&self, email: &str, org: &str, role: &str) {
        let o = self.with_stdin(
            &["user", "add", email, "--org", org, "--role", role],
            "a long enough password\n",
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(o.stdout.is_empty(), "a password from stdin is not printed");
    }
}

const GOOD: &str = "indicator,period,geo,origin,value,flags\nasylum_applications,2015,DEU,SYR,100,\nasylum_applications,2015,FRA,SYR,20,\n";

#[test]
fn tokens_print_only_the_token_and_results_go_to_stdout() {
    for e in envs() {
        e.setup();
        let out = e.ok(&["token", "create", "ed@euaa.eu", "--name", "laptop"]);
        assert!(
            out.trim().starts_with("nansen_") && out.lines().count() == 1,
            "{out}"
        );
        let good = e.file("good.csv", GOOD.as_bytes());
        let o = e.run(&[
            "--as",
            "ed@euaa.eu",
            "dataset",
            "import",
            good.to_str().unwrap(),
            "--org",
            "euaa",
            "--dataset",
            "apps",
            "--share",
            "partners:iom",
        ]);
        assert!(
            !o.status.success(),
            "an editor may not choose sharing on creation? {}",
            e.name
        );
        e.ok(&[
            "--as",
            "ed@euaa.eu",
            "dataset",
            "import",
            good.to_str().unwrap(),
            "--org",
            "euaa",
            "--dataset",
            "apps",
        ]);
        e.ok(&["dataset", "share", "euaa/apps", "--share", "partners:iom"]);
        let csv = e.ok(&[
            "--as",
            "v@iom.int",
            "query",
            "euaa/apps",
            "--where",
            "origin=Syria",
            "--group-by",
            "geo",
        ]);
        assert_eq!(csv, "geo,value\nDEU,100\nFRA,20\n", "{}", e.name);
        let o = e.run(&["--as", "a@bmi.de", "query", "euaa/apps"]);
        assert!(!o.status.success());
        assert_eq!(
            String::from_utf8_lossy(&o.stderr).trim(),
            "error: dataset euaa/apps not found"
        );
        assert!(o.stdout.is_empty());
        let o = e.run(&["--as", "a@bmi.de", "query", "euaa/nothing-here"]);
        assert_eq!(
            String::from_utf8_lossy(&o.stderr).trim(),
            "error: dataset euaa/nothing-here not found",
            "same words as a dataset that does not exist"
        );
        let exported = e.dir.path().join("apps.xlsx");
        e.ok(&[
            "--as",
            "v@iom.int",
            "dataset",
            "export",
            "euaa/apps",
            "--file-format",
            "xlsx",
            "-o",
            exported.to_str().unwrap(),
        ]);
        let manifest: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(format!("{}.manifest.json", exported.display())).unwrap(),
        )
        .unwrap();
        assert_eq!(manifest["sha256"].as_str().map(str::len), Some(64));
        assert!(
            manifest["audit_head"]["entry"].as_i64().unwrap() > 5,
            "the manifest carries the audit head: {manifest}"
        );
        // What the dataset is, before anyone queries it; nothing for who may not know it.
        let shown = e.ok(&["--as", "v@iom.int", "dataset", "show", "euaa/apps"]);
        assert!(shown.starts_with("euaa/apps\t"), "{shown}");
        for part in [
            "periods",
            "indicators\n  asylum_applications",
            "dimensions\n  geo\t",
            "versions\n  v1\t",
        ] {
            assert!(shown.contains(part), "{part:?} in {shown}");
        }
        let json: serde_json::Value = serde_json::from_str(&e.ok(&[
            "--as",
            "v@iom.int",
            "dataset",
            "show",
            "euaa/apps",
            "--format",
            "json",
        ]))
        .unwrap();
        assert_eq!(json["dataset"]["name"], "euaa/apps");
        assert!(
            json["coverage"]["observations"].as_u64().unwrap() > 0,
            "{json}"
        );
        let o = e.run(&["--as", "a@bmi.de", "dataset", "show", "euaa/apps"]);
        assert_eq!(
            String::from_utf8_lossy(&o.stderr).trim(),
            "error: dataset euaa/apps not found"
        );
        let list = e.ok(&["--as", "a@bmi.de", "dataset", "list"]);
        assert!(!list.contains("apps"), "{list}");
        assert!(e.ok(&["audit", "verify"]).starts_with("audit chain intact"));
    }
}

/// `--format` only renders output now; the file format is `--file-format`, and the old flag
/// still works on import and export with a warning. Values outside a flag's list are refused
/// before anything runs.
#[test]
fn the_file_format_is_file_format_and_the_old_flag_still_works_with_a_warning() {
    let e = &envs()[0];
    e.setup();
    let good = e.file("good.csv", GOOD.as_bytes());
    let import = |flag: &str, slug: &str| {
        e.run(&[
            "dataset",
            "import",
            good.to_str().unwrap(),
            "--org",
            "euaa",
            "--dataset",
            slug,
            flag,
            "csv",
        ])
    };
    let o = import("--file-format", "new");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!String::from_utf8_lossy(&o.stderr).contains("warning"));
    let o = import("--format", "old");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("warning: --format is now --file-format"));
    let o = e.run(&["dataset", "export", "euaa/old", "--format", "hxl"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("warning: --format is now --file-format"));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("#indicator"),
        "HXL tags"
    );
    for bad in [
        vec!["dataset", "export", "euaa/new", "--file-format", "docx"],
        vec!["dataset", "list", "--format", "csv"],
        vec!["search", "x", "--format", "yaml"],
        vec!["search", "x", "--sort", "oldest"],
        vec!["query", "euaa/new", "--format", "text"],
    ] {
        let o = e.run(&bad);
        assert_eq!(o.status.code(), Some(2), "{bad:?} is refused by the parser");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("possible values"),
            "{bad:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    // With --format json, a refusal is JSON too, whatever refused it.
    let o = e.run(&["query", "nothing", "--format", "json"]);
    let body: serde_json::Value = serde_json::from_slice(&o.stderr).unwrap();
    assert_eq!(body["error"]["code"], "bad_request", "{body}");
}

fn versions(e: &Env) -> usize {
    let out = e.ok(&["dataset", "list", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "euaa/apps")
        .map(|d| d["versions"].as_array().unwrap().len())
        .unwrap_or(0)
}

fn zip_with(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in entries {
            z.start_file(*name, opts).unwrap();
            z.write_all(data).unwrap();
        }
        z.finish().unwrap();
    }
    buf.into_inner()
}

#[test]
fn every_bad_file_is_refused_with_row_column_and_reason_and_changes_nothing() {
    for e in envs() {
        e.setup();
        let good = e.file("good.csv", GOOD.as_bytes());
        e.ok(&[
            "dataset",
            "import",
            good.to_str().unwrap(),
            "--org",
            "euaa",
            "--dataset",
            "apps",
        ]);
        let before = e.ok(&["query", "euaa/apps", "--group-by", "geo"]);
        let big = e.dir.path().join("one-gigabyte-line.csv");
        std::fs::File::create(&big)
            .unwrap()
            .set_len(1 << 30)
            .unwrap();
        let bomb = zip_with(&[
            ("[Content_Types].xml", b"<Types/>".to_vec()),
            ("xl/worksheets/sheet1.xml", vec![b' '; 64 << 20]),
        ]);
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("empty.csv", b"".to_vec(), "the file is empty"),
            ("header-only.csv", b"indicator,period,geo,origin,value,flags\n".to_vec(), "header but no rows"),
            ("carets.csv", b"indicator^period^geo^value\nasylum_applications^2015^DEU^5\n".to_vec(), "row 1, column \"indicator^period^geo^value\": every row is a single column"),
            ("cut.csv", b"indicator,period,geo,origin,value,flags\nasylum_applications,2015,DEU,SYR,100,\nasylum_applications,2015,FR".to_vec(), "row 3, column \"origin\": missing"),
            ("quote.csv", b"indicator,period,geo,origin,value,flags\nasylum_applications,2015,\"DEU,SYR,100,\nasylum_applications,2015,FRA,SYR,20,\n".to_vec(), "row 2, column"),
            ("text-count.csv", b"indicator,period,geo,origin,value,flags\nasylum_applications,2015,DEU,SYR,many,\n".to_vec(), "row 2, column \"value\", value \"many\": not a number"),
            ("negative.csv", b"indicator,period,geo,origin,value,flags\nasylum_applications,2015,DEU,SYR,-4,\n".to_vec(), "row 2, column \"value\", value \"-4\": a count cannot be negative"),
            ("twice.csv", b"indicator,period,geo,origin,value,flags\nasylum_applications,2015,DEU,SYR,1,\nasylum_applications,2015,Germany,SY,2,\n".to_vec(), "row 3: the same observation as row 2"),
            ("country.csv", b"indicator,period,geo,origin,value,flags\nasylum_applications,2015,DEU,Syrie arabe,1,\n".to_vec(), "row 2, column \"origin\", value \"Syrie arabe\": unknown code"),
            ("period.csv", b"indicator,period,geo,origin,value,flags\nasylum_applications,2015-13,DEU,SYR,1,\n".to_vec(), "row 2, column \"period\", value \"2015-13\": not a period"),
            ("corrupt.xlsx", b"PK\x03\x04this is not really a spreadsheet".to_vec(), "corrupt"),
            ("bomb.xlsx", bomb, "zip bomb"),
        ];
        for (name, bytes, expected) in cases {
            let path = e.file(name, &bytes);
            let o = e.run(&[
                "dataset",
                "import",
                path.to_str().unwrap(),
                "--org",
                "euaa",
                "--dataset",
                "apps",
            ]);
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(!o.status.success(), "{}: {name} was accepted", e.name);
            assert!(
                err.contains(expected),
                "{}: {name}: expected {expected:?} in: {err}",
                e.name
            );
            assert!(err.contains("Nothing was saved"), "{name}: {err}");
        }
        let o = e.run(&[
            "dataset",
            "import",
            big.to_str().unwrap(),
            "--org",
            "euaa",
            "--dataset",
            "apps",
        ]);
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("row 1: line longer than 16 MiB"),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(versions(&e), 1, "{}: no new version", e.name);
        assert_eq!(
            e.ok(&["query", "euaa/apps", "--group-by", "geo"]),
            before,
            "no changed observation"
        );
        // The same refusal as JSON.
        let path = e.file("country.csv", b"indicator,period,geo,origin,value,flags\nasylum_applications,2015,DEU,Syrie arabe,1,\n");
        let o = e.run(&[
            "dataset",
            "import",
            path.to_str().unwrap(),
            "--org",
            "euaa",
            "--dataset",
            "apps",
            "--report",
            "json",
        ]);
        let v: serde_json::Value = serde_json::from_slice(&o.stderr).unwrap();
        assert_eq!(
            v["error"]["details"][0],
            serde_json::json!({ "row": 2, "column": "origin", "value": "Syrie arabe", "count": 1, "reason": v["error"]["details"][0]["reason"], "remedy": "map_or_accept_code" })
        );
    }
}

#[test]
fn dry_run_shows_the_difference_and_saves_nothing() {
    for e in envs() {
        e.setup();
        let good = e.file("good.csv", GOOD.as_bytes());
        e.ok(&[
            "dataset",
            "import",
            good.to_str().unwrap(),
            "--org",
            "euaa",
            "--dataset",
            "apps",
        ]);
        let next = e.file("next.csv", b"indicator,period,geo,origin,value,flags\nasylum_applications,2015,DEU,SYR,100,\nasylum_applications,2016,FRA,SYR,20,\n");
        let out = e.ok(&[
            "dataset",
            "import",
            next.to_str().unwrap(),
            "--org",
            "euaa",
            "--dataset",
            "apps",
            "--dry-run",
        ]);
        assert!(out.contains("would add 1, changed 0, removed 1"), "{out}");
        assert_eq!(versions(&e), 1);
    }
}

#[test]
fn the_demo_builds_with_every_sharing_level() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let o = Command::new(env!("CARGO_BIN_EXE_nansen"))
        .arg("--data-dir")
        .arg(&data)
        .args(["demo", "--no-serve"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("admin@euaa.demo") && err.contains("password"),
        "{err}"
    );
    let list = |who: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_nansen"));
        c.arg("--data-dir").arg(&data);
        if let Some(w) = who {
            c.args(["--as", w]);
        }
        String::from_utf8(c.args(["dataset", "list"]).output().unwrap().stdout).unwrap()
    };
    let all = list(None);
    for level in ["\tpublic\t", "\tlisted\t", "\tpartners:", "\tprivate\t"] {
        assert!(all.contains(level), "{level} missing from {all}");
    }
    assert!(
        !list(Some("admin@iom.demo")).contains("bamf/refugee-population"),
        "private stays private"
    );
    // The operations: generated households at every stage, seen by caseworkers, not analysts.
    let as_ = |who: &str, args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_nansen"))
            .arg("--data-dir")
            .arg(&data)
            .args(["--as", who])
            .args(args)
            .output()
            .unwrap()
    };
    let o = as_(
        "caseworker@euaa.demo",
        &["case", "list", "euaa/relocation-demo", "--stage", "arrived"],
    );
    assert!(
        o.status.success() && !o.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!as_(
        "analyst@euaa.demo",
        &["case", "list", "euaa/relocation-demo"]
    )
    .status
    .success());
    let referrals =
        String::from_utf8(as_("caseworker@iom.demo", &["case", "referrals"]).stdout).unwrap();
    assert!(referrals.contains("\teuaa\tiom\tpending\t"), "{referrals}");
    let o = as_(
        "analyst@euaa.demo",
        &[
            "query",
            "euaa/relocation-demo-pipeline",
            "--where",
            "indicator=persons_entered_stage",
            "--group-by",
            "stage",
        ],
    );
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("arrived,"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Running the demo again replaces the earlier demo; it refuses a directory it did not make.
    assert!(Command::new(env!("CARGO_BIN_EXE_nansen"))
        .arg("--data-dir")
        .arg(&data)
        .args(["demo", "--no-serve"])
        .output()
        .unwrap()
        .status
        .success());
    let other = dir.path().join("mine");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("precious.txt"), "x").unwrap();
    assert!(!Command::new(env!("CARGO_BIN_EXE_nansen"))
        .arg("--data-dir")
        .arg(&other)
        .args(["demo", "--no-serve"])
        .output()
        .unwrap()
        .status
        .success());
    assert!(Path::new(&other.join("precious.txt")).exists());
}

/// A large file of valid observations: every month of 2000-2019 for 32 destinations and 120 origins.
fn big_file(path: &Path, value: u32) {
    let geos = "AUT BEL BGR CYP CZE DEU DNK EST GRC ESP FIN FRA HRV HUN IRL ITA LTU LUX LVA MLT NLD POL PRT ROU SWE SVN SVK GBR NOR CHE ISL LIE";
    let origins = "AFG SYR IRQ IRN PAK NGA ERI SOM VEN COL GEO ALB TUR BGD MAR DZA TUN EGY LBY SDN SSD ETH GMB GIN MLI SEN CIV CMR COD UKR RUS BLR ARM AZE KAZ UZB TJK KGZ IND LKA NPL CHN VNM PSE LBN JOR YEM HTI CUB NIC HND SLV GTM PER BRA ECU BOL AGO COG CAF TCD NER BFA GHA TGO BEN LBR SLE MRT ZWE MOZ MWI ZMB KEN UGA TZA RWA BDI SRB BIH MKD MNE MDA ARG AUS BHR BRB BLZ BTN BWA BRN KHM CPV COM CRI DJI DMA DOM GNQ SWZ FJI GAB GRD GUY IDN JAM JPN KIR PRK KOR KWT LAO LSO MDG MYS MDV MHL MNG MMR NAM";
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(out, "indicator,period,geo,origin,value,flags").unwrap();
    for year in 2000..2020 {
        for month in 1..=12 {
            for g in geos.split(' ') {
                for o in origins.split(' ').take(120) {
                    writeln!(
                        out,
                        "asylum_applications,{year}-{month:02},{g},{o},{value},"
                    )
                    .unwrap();
                }
            }
        }
    }
}

#[test]
fn kill_9_during_an_import_loses_nothing_committed_and_leaves_no_half_version() {
    use std::io::BufRead;
    for e in envs() {
        e.setup();
        let good = e.file("good.csv", GOOD.as_bytes());
        e.ok(&[
            "dataset",
            "import",
            good.to_str().unwrap(),
            "--org",
            "euaa",
            "--dataset",
            "apps",
        ]);
        let before = e.ok(&["query", "euaa/apps", "--group-by", "geo"]);
        let big = e.dir.path().join("big.csv");
        big_file(&big, 7);
        let mut child = e
            .cmd(&[
                "dataset",
                "import",
                big.to_str().unwrap(),
                "--org",
                "euaa",
                "--dataset",
                "apps",
            ])
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
        let mut saw = String::new();
        for line in stderr.lines() {
            let line = line.unwrap();
            if line.starts_with("saving: ") {
                saw = line;
                break;
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        assert!(
            !saw.is_empty(),
            "{}: the import was killed while saving",
            e.name
        );
        assert_eq!(
            versions(&e),
            1,
            "{}: no half version after kill -9 at {saw:?}",
            e.name
        );
        assert_eq!(
            e.ok(&["query", "euaa/apps", "--group-by", "geo"]),
            before,
            "{}: what was committed is intact",
            e.name
        );
        assert!(e.ok(&["audit", "verify"]).starts_with("audit chain intact"));
        // And the next import goes through.
        let out = e.ok(&[
            "dataset",
            "import",
            big.to_str().unwrap(),
            "--org",
            "euaa",
            "--dataset",
            "apps",
        ]);
        assert!(out.contains("version 2"), "{out}");
        let total = e.ok(&[
            "query",
            "euaa/apps",
            "--where",
            "origin=AFG",
            "--where",
            "geo=DEU",
        ]);
        assert_eq!(total, "value\n1680\n", "{}", e.name);
    }
}

#[test]
fn a_data_manager_maps_or_accepts_an_unknown_code_for_one_import_and_describes_the_dataset() {
    for e in envs() {
        e.setup();
        let f = e.file("odd.csv", b"indicator,period,geo,origin,route,value,flags\nasylum_applications,2015,DEU,Syrie arabe,,4,\n");
        let path = f.to_str().unwrap();
        let refused = e.run(&[
            "dataset",
            "import",
            path,
            "--org",
            "euaa",
            "--dataset",
            "apps",
        ]);
        assert!(!refused.status.success());
        // The refusal says what to do in the CLI's own flags.
        let said = String::from_utf8_lossy(&refused.stderr);
        assert!(
            said.contains(
                "(map it with --recode DIM:VALUE=CODE, or accept it with --accept DIM:VALUE)"
            ),
            "{said}"
        );
        let refused = e.run(&[
            "dataset",
            "import",
            path,
            "--org",
            "euaa",
            "--dataset",
            "apps",
            "--report",
            "json",
        ]);
        let body: serde_json::Value = serde_json::from_slice(&refused.stderr).unwrap();
        assert_eq!(
            body["error"]["remedy"]["code"], "map_or_accept_code",
            "{body}"
        );
        assert_eq!(
            body["error"]["details"][0]["remedy"], "map_or_accept_code",
            "{body}"
        );
        let out = e.ok(&[
            "dataset",
            "import",
            path,
            "--org",
            "euaa",
            "--dataset",
            "apps",
            "--recode",
            "origin:Syrie arabe=SYR",
        ]);
        assert!(out.contains("added 1"), "{out}");
        assert_eq!(
            e.ok(&["query", "euaa/apps", "--group-by", "origin,route"]),
            "origin,route,value\nSYR,UNK,4\n",
            "{}",
            e.name
        );
        e.ok(&[
            "dataset",
            "describe",
            "euaa/apps",
            "--description",
            "Monthly applicants",
            "--frequency",
            "monthly",
            "--tags",
            "asylum,monthly",
            "--licence",
            "CC BY 4.0",
        ]);
        assert!(!e
            .run(&[
                "dataset",
                "describe",
                "euaa/apps",
                "--frequency",
                "sometimes"
            ])
            .status
            .success());
        assert!(!e
            .run(&[
                "--as",
                "v@iom.int",
                "dataset",
                "describe",
                "euaa/apps",
                "--title",
                "mine"
            ])
            .status
            .success());
        let list: serde_json::Value =
            serde_json::from_str(&e.ok(&["dataset", "list", "--format", "json"])).unwrap();
        assert_eq!(list[0]["update_frequency"], "monthly");
        assert_eq!(list[0]["tags"], serde_json::json!(["asylum", "monthly"]));
    }
}

#[test]
fn audit_verify_exits_non_zero_naming_the_first_bad_entry() {
    for e in envs() {
        e.setup();
        assert!(e.run(&["audit", "verify"]).status.success());
        let store =
            nansen_store::Store::open(&e.dir.path().join("data"), e.url.as_deref()).unwrap();
        store
            .query("UPDATE audit SET actor = 'someone else' WHERE seq = 4", &[])
            .unwrap();
        let o = e.run(&["audit", "verify"]);
        assert!(!o.status.success(), "{}", e.name);
        assert_eq!(
            String::from_utf8_lossy(&o.stderr).trim(),
            "error: audit chain broken at entry 4: its content was changed after it was written"
        );
    }
}

#[test]
fn forecast_and_backtest_write_the_documented_columns_and_respect_permissions() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../demo/migr_asyappctzm_2008-2015_monthly_by_destination.csv");
    for e in envs() {
        e.setup();
        e.ok(&[
            "--as",
            "ed@euaa.eu",
            "dataset",
            "import",
            demo.to_str().unwrap(),
            "--org",
            "euaa",
            "--dataset",
            "monthly",
        ]);
        let csv = e.ok(&[
            "forecast",
            "euaa/monthly",
            "--where",
            "geo=DEU,SWE",
            "--period",
            "..2015-04",
            "--series-by",
            "geo",
            "--horizon",
            "3",
            "--level",
            "90",
        ]);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "geo,period,model,mean,lo,hi", "{}", e.name);
        assert_eq!(lines.len(), 7, "two series by three months: {csv}");
        assert!(lines[1].starts_with("DEU,2015-05,auto,"), "{csv}");
        for l in &lines[1..] {
            let v: Vec<f64> = l.split(',').skip(3).map(|x| x.parse().unwrap()).collect();
            assert!(v[1] <= v[0] && v[0] <= v[2], "lo <= mean <= hi: {l}");
        }
        let details = e.dir.path().join("details.csv");
        let scores = e.ok(&[
            "backtest",
            "euaa/monthly",
            "--where",
            "geo=DEU,SWE,FRA",
            "--period",
            "..2015-04",
            "--series-by",
            "geo",
            "--horizon",
            "3",
            "--windows",
            "6",
            "--model",
            "all",
            "--details",
            details.to_str().unwrap(),
        ]);
        let rows: Vec<&str> = scores.lines().collect();
        assert_eq!(rows[0], "geo,model,mase,smape,coverage80,msis,forecasts");
        assert_eq!(
            rows.len(),
            1 + 3 * 6,
            "one row per series and model, no summary row: {scores}"
        );
        assert!(
            rows.iter()
                .any(|r| r.starts_with("DEU,auto,") && r.ends_with(",18")),
            "6 origins by 3 horizons: {scores}"
        );
        let d = std::fs::read_to_string(&details).unwrap();
        assert_eq!(
            d.lines().next().unwrap(),
            "geo,model,origin,horizon,period,actual,mean,lo80,hi80"
        );
        let counted: usize = rows[1..]
            .iter()
            .map(|r| r.rsplit(',').next().unwrap().parse::<usize>().unwrap())
            .sum();
        assert_eq!(
            d.lines().count(),
            1 + counted,
            "one detail row per forecast scored (a month Eurostat left out has no actual)"
        );
        assert!(
            d.lines()
                .any(|l| l.starts_with("DEU,naive,2015-01,3,2015-04,")),
            "the last origin forecasts the last month"
        );
        // Another organisation sees nothing to forecast; a bad model is named.
        let o = e.run(&[
            "--as",
            "a@bmi.de",
            "forecast",
            "euaa/monthly",
            "--horizon",
            "3",
        ]);
        assert!(
            !o.status.success() && String::from_utf8_lossy(&o.stderr).contains("not found"),
            "{}",
            e.name
        );
        let o = e.run(&[
            "forecast",
            "euaa/monthly",
            "--horizon",
            "3",
            "--model",
            "crystal-ball",
        ]);
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("unknown model \"crystal-ball\""),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn detect_flags_the_2015_rise_and_watches_alerts_and_plans_work_from_the_command_line() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../demo/migr_asyappctzm_2008-2015_monthly_by_destination.csv");
    for e in envs() {
        e.setup();
        e.ok(&[
            "--as",
            "ed@euaa.eu",
            "dataset",
            "import",
            demo.to_str().unwrap(),
            "--org",
            "euaa",
            "--dataset",
            "monthly",
        ]);
        let csv = e.ok(&[
            "detect",
            "euaa/monthly",
            "--where",
            "geo=HUN",
            "--period",
            "..2015-04",
            "--series-by",
            "geo",
            "--from",
            "2014-01",
            "--rule",
            "farrington",
            "--alarms",
        ]);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0], "geo,period,rule,observed,expected,upper,statistic,alarm",
            "{}",
            e.name
        );
        let months: Vec<&str> = lines[1..]
            .iter()
            .map(|l| l.split(',').nth(1).unwrap())
            .collect();
        // As R's surveillance::farringtonFlexible finds on the same file (tests/fixtures of nansen-forecast).
        assert_eq!(
            months,
            [
                "2014-09", "2014-10", "2014-11", "2014-12", "2015-01", "2015-02", "2015-03",
                "2015-04"
            ],
            "{}: {csv}",
            e.name
        );
        let o = e.run(&["detect", "euaa/monthly", "--rule", "farrington:alpha=7"]);
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("alpha = 7 is out of range"),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );

        let id = e.ok(&[
            "--as",
            "ed@euaa.eu",
            "watch",
            "add",
            "euaa/monthly",
            "--org",
            "euaa",
            "--name",
            "Hungary",
            "--where",
            "geo=HUN",
            "--rule",
            "c2",
            "--lookback",
            "12",
        ]);
        let id = id.trim();
        let alerts = e.ok(&["--as", "ed@euaa.eu", "alert", "list"]);
        assert!(
            alerts.lines().count() > 1,
            "{}: the watch found the rise at once: {alerts}",
            e.name
        );
        let first = alerts
            .lines()
            .nth(1)
            .unwrap()
            .split(',')
            .next()
            .unwrap()
            .to_string();
        e.ok(&[
            "--as",
            "ed@euaa.eu",
            "alert",
            "update",
            &first,
            "--status",
            "acknowledged",
            "--comment",
            "Seen",
        ]);
        assert!(e
            .ok(&[
                "--as",
                "ed@euaa.eu",
                "alert",
                "list",
                "--status",
                "acknowledged"
            ])
            .lines()
            .any(|l| l.starts_with(&format!("{first},acknowledged,"))));
        assert_eq!(
            e.ok(&["--as", "a@bmi.de", "alert", "list"]).lines().count(),
            1,
            "{}: BMI sees only the header",
            e.name
        );
        let plan = e.file("plan.json", format!(r#"{{"triggers": [{{"kind": "alerts", "watch": {id}, "series": 1}}], "actions": [{{"what": "Call the cell", "owner": "ed@euaa.eu"}}]}}"#).as_bytes());
        let o = e.with_stdin(
            &[
                "--as",
                "ed@euaa.eu",
                "plan",
                "add",
                "--org",
                "euaa",
                "--title",
                "Hungary",
                "--file",
                plan.to_str().unwrap(),
            ],
            "",
        );
        assert!(
            o.status.success() && String::from_utf8_lossy(&o.stderr).contains("TRIGGERED"),
            "{}: {}",
            e.name,
            String::from_utf8_lossy(&o.stderr)
        );
        let o = e.run(&[
            "--as",
            "a@bmi.de",
            "webhook",
            "add",
            "https://8.8.8.8/hook",
            "--org",
            "bmi",
            "--watch",
            id,
        ]);
        assert!(
            !o.status.success() && String::from_utf8_lossy(&o.stderr).contains("not found"),
            "{}: {}",
            e.name,
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn a_pdf_added_from_the_command_line_is_found_by_a_partner_and_by_nobody_else() {
    let report =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../nansen-extract/tests/fixtures/report.pdf");
    for e in envs() {
        e.setup();
        let report = report.to_str().unwrap();
        let o = e.run(&[
            "--as",
            "ed@euaa.eu",
            "doc",
            "add",
            report,
            "--org",
            "euaa",
            "--share",
            "partners:iom",
        ]);
        assert!(
            !o.status.success()
                && String::from_utf8_lossy(&o.stderr).contains("only admins of euaa"),
            "{}: {}",
            e.name,
            String::from_utf8_lossy(&o.stderr)
        );
        let added = e.ok(&[
            "doc",
            "add",
            report,
            "--org",
            "euaa",
            "--type",
            "report",
            "--country",
            "ITA",
            "--date",
            "2025-06",
            "--share",
            "partners:iom",
        ]);
        assert_eq!(added.trim(), "document 1: Reception conditions at Mediterranean arrival points (pdf, 3 pages, language en)", "{}", e.name);
        let json: serde_json::Value = serde_json::from_str(&e.ok(&[
            "--as",
            "v@iom.int",
            "search",
            "Lampedusa",
            "--format",
            "json",
        ]))
        .unwrap();
        assert_eq!(json["total"], 1, "{}: {json}", e.name);
        assert_eq!(
            (
                json["hits"][0]["kind"].as_str(),
                json["hits"][0]["id"].as_str()
            ),
            (Some("document"), Some("1"))
        );
        // Plain text, never HTML, with the words found as byte ranges.
        let snippet = json["hits"][0]["snippet"].as_str().unwrap();
        assert!(snippet.contains("The Lampedusa hotspot"), "{json}");
        let [start, end] =
            [0, 1].map(|i| json["hits"][0]["highlights"][0][i].as_u64().unwrap() as usize);
        assert_eq!(&snippet[start..end], "Lampedusa", "{json}");
        assert_eq!(json["facets"]["country"][0]["value"], "ITA");
        let none: serde_json::Value = serde_json::from_str(&e.ok(&[
            "--as",
            "a@bmi.de",
            "search",
            "Lampedusa",
            "--format",
            "json",
        ]))
        .unwrap();
        assert_eq!(none["total"], 0, "{}: {none}", e.name);
        assert!(
            none["facets"]
                .as_object()
                .unwrap()
                .values()
                .all(|v| v.as_array().unwrap().is_empty()),
            "{none}"
        );
        let o = e.run(&["--as", "a@bmi.de", "doc", "text", "1"]);
        assert_eq!(
            String::from_utf8_lossy(&o.stderr).trim(),
            "error: document 1 not found"
        );
        let text = e.ok(&["--as", "v@iom.int", "doc", "text", "1"]);
        assert!(text.contains("--- page 3 ---\nRecommendations"), "{text}");
        assert!(e
            .ok(&[
                "--as",
                "v@iom.int",
                "search",
                "hotspot",
                "--country",
                "ita",
                "--type",
                "report"
            ])
            .starts_with("1 result\n"));
        assert!(e
            .ok(&[
                "--as",
                "v@iom.int",
                "search",
                "hotspot",
                "--type",
                "minutes"
            ])
            .starts_with("0 results\n"));
        // The index is this node's copy: rebuilt from the database, it answers the same.
        std::fs::remove_dir_all(e.dir.path().join("data/search")).unwrap();
        let o = e.run(&["reindex"]);
        assert!(
            o.status.success()
                && String::from_utf8_lossy(&o.stderr)
                    .contains("search index rebuilt: 1 documents and datasets"),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(e
            .ok(&["--as", "v@iom.int", "search", "lampedusa"])
            .starts_with("1 result\n"));
        let o = e.run(&[
            "--as",
            "v@iom.int",
            "doc",
            "describe",
            "1",
            "--title",
            "Renamed",
        ]);
        assert!(
            !o.status.success(),
            "{}: a partner reads but does not describe",
            e.name
        );
        e.ok(&[
            "doc",
            "describe",
            "1",
            "--title",
            "Reception at arrival points, summer review",
            "--country",
            "ITA",
            "--country",
            "GRC",
        ]);
        assert!(
            e.ok(&[
                "--as",
                "v@iom.int",
                "search",
                "summer review",
                "--country",
                "GRC"
            ])
            .starts_with("1 result\n"),
            "{}",
            e.name
        );
        let o = e.run(&[
            "doc",
            "add",
            e.file("bomb.pdf", b"not a pdf").to_str().unwrap(),
            "--org",
            "euaa",
        ]);
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("bomb.pdf is named .pdf but is not a PDF"),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn kill_9_while_the_index_catches_up_loses_nothing_and_the_next_search_finds_every_committed_document(
) {
    let filler =
        "Resettlement pledges, departures and exit permits were reviewed by the committee. "
            .repeat(4000);
    for e in envs() {
        e.setup();
        let mut added = 0;
        for (round, wait_ms) in [20u64, 80, 200].into_iter().enumerate() {
            // Committed documents whose outbox entries no index has applied yet.
            for i in 0..12 {
                let f = e.file(
                    &format!("note-{round}-{i}.txt"),
                    format!("Note {round}.{i} on the Kakuma camp.\n{filler}").as_bytes(),
                );
                e.ok(&[
                    "doc",
                    "add",
                    f.to_str().unwrap(),
                    "--org",
                    "euaa",
                    "--share",
                    "public",
                ]);
                added += 1;
            }
            // A search applies them before it answers; kill it while it may be doing so.
            let mut child = e
                .cmd(&["search", "kakuma"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(std::time::Duration::from_millis(wait_ms));
            child.kill().unwrap(); // SIGKILL
            let _ = child.wait();
        }
        let json: serde_json::Value = serde_json::from_str(&e.ok(&[
            "--as",
            "v@iom.int",
            "search",
            "kakuma",
            "--format",
            "json",
            "--limit",
            "50",
        ]))
        .unwrap();
        assert_eq!(
            json["total"], added,
            "{}: every committed document is found after the kills",
            e.name
        );
        assert_eq!(json["facets"]["org"][0]["count"], added);
    }
}

#[test]
fn set_aside_imports_the_good_rows_and_gives_the_bad_ones_back_as_they_came() {
    for e in envs() {
        e.setup();
        let f = e.file(
            "mixed.csv",
            b"indicator,period,geo,origin,value,flags\nasylum_applications,2015,DEU,SYR,100,\nasylum_applications,2015,Atlantis,SYR,7,\n",
        );
        let path = f.to_str().unwrap();
        let import = |extra: &[&str]| {
            let mut args = vec![
                "dataset",
                "import",
                path,
                "--org",
                "euaa",
                "--dataset",
                "apps",
            ];
            args.extend(extra);
            e.run(&args)
        };
        assert!(
            !import(&[]).status.success(),
            "{}: all or nothing by default",
            e.name
        );
        let o = import(&["--set-aside"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("1 row(s) set aside"),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let rows = e.ok(&["dataset", "set-aside", "euaa/apps"]);
        assert_eq!(
            rows.lines().next(),
            Some("row,reason,indicator,period,geo,origin,value,flags")
        );
        assert!(
            rows.lines()
                .nth(1)
                .is_some_and(|l| l.starts_with("3,") && l.contains("Atlantis")),
            "{rows}"
        );
        // Another organisation learns nothing of them.
        let o = e.run(&["--as", "a@bmi.de", "dataset", "set-aside", "euaa/apps"]);
        assert!(!o.status.success() && o.stdout.is_empty());
    }
}

#[test]
fn a_saved_answer_carries_where_it_comes_from_beside_it() {
    for e in envs() {
        e.setup();
        let f = e.file("good.csv", GOOD.as_bytes());
        e.ok(&[
            "dataset",
            "import",
            f.to_str().unwrap(),
            "--org",
            "euaa",
            "--dataset",
            "apps",
        ]);
        let out = e.dir.path().join("answer.csv");
        let printed = e.ok(&[
            "query",
            "euaa/apps",
            "--where",
            "geo=DEU",
            "--period",
            "2015..2015",
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(printed.is_empty(), "the answer goes to the file");
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "value\n100\n");
        let meta: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(format!("{}.meta.json", out.display())).unwrap(),
        )
        .unwrap();
        assert_eq!(meta["dataset"], "euaa/apps", "{}: {meta}", e.name);
        assert_eq!(meta["version"], 1);
        assert_eq!(meta["unit"], "persons");
        assert_eq!(
            meta["query"],
            "nansen query euaa/apps --where geo=DEU --period 2015..2015"
        );
    }
}

/// A registration table of `n` households of two people each.
fn households_csv(path: &Path, n: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(
        f,
        "household,given_name,family_name,birth_date,sex,nationality,relationship,needs"
    )
    .unwrap();
    for i in 0..n {
        writeln!(
            f,
            "h{i},Given{i},Family{i},1980-01-{:02},F,SYR,principal,SM-CI",
            1 + i % 28
        )
        .unwrap();
        writeln!(
            f,
            "h{i},Child{i},Family{i},2015-02-{:02},M,SYR,child,",
            1 + i % 28
        )
        .unwrap();
    }
}

fn cases_listed(e: &Env) -> String {
    let o = e.run(&["case", "list", "euaa/relocation", "--limit", "1"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stderr).trim().to_string()
}

#[test]
fn a_bulk_registration_is_all_or_nothing_even_under_kill_9() {
    use std::io::BufRead;
    for e in envs() {
        e.setup();
        e.ok(&[
            "programme",
            "add",
            "euaa/relocation",
            "--type",
            "relocation",
            "--title",
            "Relocation",
        ]);
        let bad = e.file(
            "bad.csv",
            b"household,given_name,family_name,birth_date,sex,nationality,relationship\n\
              h1,Amina,Haddad,1990-04-02,F,SYR,principal\n\
              h2,Yonas,Tesfay,2999-01-01,M,ERI,principal\n\
              h3,Sara,Ali,1985-05-05,Q,SOM,principal\n",
        );
        let o = e.run(&["case", "import", "euaa/relocation", bad.to_str().unwrap()]);
        let said = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success());
        assert!(
            said.contains("row 3") && said.contains("birth_date") && said.contains("in the future"),
            "{said}"
        );
        assert!(said.contains("row 4") && said.contains("sex"), "{said}");
        assert_eq!(
            cases_listed(&e),
            "0 of 0 cases",
            "{}: a refused file stores nothing",
            e.name
        );
        let o = e.run(&[
            "case",
            "import",
            "euaa/relocation",
            bad.to_str().unwrap(),
            "--set-aside",
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 1);
        assert!(String::from_utf8_lossy(&o.stderr).contains("set aside household h2"));

        let big = e.dir.path().join("households.csv");
        households_csv(&big, 10_000);
        let mut child = e
            .cmd(&["case", "import", "euaa/relocation", big.to_str().unwrap()])
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
        let mut saw = String::new();
        for line in stderr.lines() {
            let line = line.unwrap();
            if line.starts_with("saving ") {
                saw = line;
                break;
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        assert_eq!(saw, "saving 10000 cases", "{}: killed while saving", e.name);
        assert_eq!(
            cases_listed(&e),
            "1 of 1 cases",
            "{}: no case of the killed import",
            e.name
        );
        e.ok(&["audit", "verify"]);

        // Let through, the same file makes 10,001 cases: more than a list counts.
        e.ok(&["case", "import", "euaa/relocation", big.to_str().unwrap()]);
        assert_eq!(
            cases_listed(&e),
            "1 of more than 10000 cases",
            "{}: the count stops at 10,000",
            e.name
        );
        e.ok(&["audit", "verify"]);
    }
}

#[test]
fn a_programme_admin_proposes_explains_and_accepts_a_match_from_the_command_line() {
    for e in envs() {
        e.ok(&["org", "add", "euaa", "--name", "EUAA"]);
        e.ok(&[
            "org",
            "add",
            "bamf",
            "--name",
            "BAMF",
            "--country",
            "Germany",
        ]);
        e.ok(&["org", "add", "ofii", "--name", "OFII", "--country", "FRA"]);
        e.ok(&[
            "programme",
            "add",
            "euaa/relocation",
            "--type",
            "relocation",
            "--title",
            "Relocation",
            "--receiving",
            "bamf",
            "--receiving",
            "ofii",
        ]);
        e.ok(&[
            "pledge",
            "add",
            "euaa/relocation",
            "--state",
            "DEU",
            "--places",
            "3",
            "--languages",
            "de,ar",
        ]);
        e.ok(&[
            "pledge",
            "add",
            "euaa/relocation",
            "--state",
            "FRA",
            "--places",
            "3",
            "--languages",
            "fr",
            "--excludes",
            "SYR",
        ]);
        let table = e.file(
            "households.csv",
            b"household,given_name,family_name,birth_date,sex,nationality,relationship,languages,consents\n\
              h1,Amina,Haddad,1990-04-02,F,SYR,principal,ar,referral:bamf\n\
              h1,Omar,Haddad,2015-01-01,M,SYR,child,ar,\n\
              h2,Luc,Mbala,1985-05-05,M,COD,principal,fr,referral:ofii\n",
        );
        let ids = e.ok(&["case", "import", "euaa/relocation", table.to_str().unwrap()]);
        let ids: Vec<&str> = ids.lines().collect();
        assert_eq!(ids.len(), 2, "{ids:?}");
        for id in &ids {
            for stage in ["assessed", "ready-for-matching"] {
                e.ok(&["case", "move", id, "--to", stage]);
            }
        }
        let shown = e.ok(&["match", "propose", "euaa/relocation"]);
        let proposal = shown
            .lines()
            .last()
            .and_then(|l| l.strip_prefix("proposal "))
            .unwrap_or_else(|| panic!("{}: {shown}", e.name))
            .to_string();
        assert!(shown.contains("assigned_cases 2 of 2"), "{shown}");
        assert!(shown.contains(&format!("{}\t2\tDEU\t", ids[0])), "{shown}");
        assert!(shown.contains(&format!("{}\t1\tFRA\t", ids[1])), "{shown}");
        let why = e.ok(&["match", "explain", &proposal, ids[1]]);
        assert!(why.contains("proposed FRA, score 0.600"), "{why}");
        assert!(
            why.contains("score parts: base 0.250, language 0.350"),
            "{why}"
        );
        // A pin that breaks a quota is refused, naming it; nothing is kept.
        let pin = format!("{}=FRA", ids[0]);
        let o = e.run(&["match", "propose", "euaa/relocation", "--pin", &pin]);
        assert!(!o.status.success());
        let said = String::from_utf8_lossy(&o.stderr);
        assert!(
            said.contains(&format!("pin {pin}: it may not go to FRA")),
            "{said}"
        );
        let accepted = e.ok(&["match", "accept", &proposal, "--case", ids[0]]);
        assert!(
            accepted.starts_with(&format!("accepted\t{}\tDEU\t", ids[0])),
            "{accepted}"
        );
        let case = e.ok(&["case", "show", ids[0]]);
        assert!(case.contains("process: at matched since"), "{case}");
        assert!(case.contains("matched to DEU"), "{case}");
        let listed = e.ok(&["match", "list", "euaa/relocation"]);
        assert!(
            listed.contains(&format!("{proposal}\t")) && listed.trim_end().ends_with("\t2\t2\t1"),
            "{listed}"
        );
    }
}

#[test]
fn a_reporting_template_is_defined_from_toml_and_a_bad_one_is_refused_naming_its_field() {
    for e in envs() {
        e.ok(&["org", "add", "euaa", "--name", "EUAA"]);
        e.ok(&[
            "org",
            "add",
            "deu",
            "--name",
            "BAMF statistics",
            "--country",
            "DEU",
        ]);
        let good = "title = \"Monthly asylum applications (EPS)\"\nfrequency = \"month\"\ndeadline_days = 17\nreporters = [\"deu\"]\n[dimensions]\norigin = \"countries\"\nsex = [\"F\", \"M\", \"UNK\"]\n[[indicators]]\nname = \"asylum_applications\"\n";
        let file = e.file("eps.toml", good.as_bytes());
        e.ok(&[
            "template",
            "add",
            "euaa/eps",
            "--file",
            file.to_str().unwrap(),
        ]);
        let shown = e.ok(&["template", "show", "euaa/eps"]);
        assert!(
            shown.starts_with("euaa/eps version 1: Monthly asylum applications (EPS)"),
            "{shown}"
        );
        assert!(
            shown.contains("every month, due 17 days after its end, from deu"),
            "{shown}"
        );
        assert!(shown.contains("dimension sex: F, M, UNK"), "{shown}");
        let bad = e.file(
            "bad.toml",
            good.replace("deadline_days = 17", "deadline_days = 400")
                .as_bytes(),
        );
        let o = e.run(&[
            "template",
            "add",
            "euaa/eps",
            "--file",
            bad.to_str().unwrap(),
        ]);
        assert!(!o.status.success());
        let said = String::from_utf8_lossy(&o.stderr);
        assert!(
            said.contains("deadline_days: 400 is not a number of days from 0 to 366"),
            "{said}"
        );
        assert!(e
            .ok(&["template", "list"])
            .starts_with("euaa/eps\t1\tmonth\t"));
    }
}

#[test]
fn a_return_is_submitted_reviewed_on_its_cells_approved_into_the_dataset_and_counted_as_on_time_or_late(
) {
    for e in envs() {
        e.ok(&["org", "add", "euaa", "--name", "EUAA"]);
        e.ok(&["org", "add", "deu", "--name", "BAMF", "--country", "DEU"]);
        e.add_user("ed@euaa.eu", "euaa", "editor");
        e.add_user("stats@bamf.de", "deu", "editor");
        let eps = "title = \"EPS\"\nfrequency = \"month\"\ndeadline_days = 17\nreporters = [\"deu\"]\n[dimensions]\norigin = \"countries\"\nsex = [\"F\", \"M\"]\n[[indicators]]\nname = \"asylum_applications\"\n";
        let file = e.file("eps.toml", eps.as_bytes());
        e.ok(&[
            "template",
            "add",
            "euaa/eps",
            "--file",
            file.to_str().unwrap(),
        ]);
        let bad = e.file(
            "bad.csv",
            b"origin,sex,asylum_applications\nSYR,F,12\nATL,M,-1\n",
        );
        let o = e.run(&[
            "--as",
            "stats@bamf.de",
            "submit",
            "euaa/eps",
            "--period",
            "2025-10",
            "--file",
            bad.to_str().unwrap(),
        ]);
        let said = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success());
        assert!(
            said.contains("row 3, column origin: \"ATL\" is not in the code list countries"),
            "{said}"
        );
        assert!(
            said.contains("row 3, column asylum_applications: \"-1\" is not a count"),
            "{said}"
        );
        let good = e.file(
            "oct.csv",
            b"origin,sex,asylum_applications\nSYR,F,12\nAFG,M,3\n",
        );
        let id = e.ok(&[
            "--as",
            "stats@bamf.de",
            "submit",
            "euaa/eps",
            "--period",
            "2025-10",
            "--file",
            good.to_str().unwrap(),
        ]);
        let id = id.lines().last().unwrap().trim().to_string();
        // 2025-10 was due on 2025-11-17: the submission today is that many days late.
        let due = time::Date::from_calendar_date(2025, time::Month::November, 17).unwrap();
        let today = time::OffsetDateTime::now_utc().date();
        let late = (today - due).whole_days();
        let matrix = e.ok(&[
            "--as",
            "ed@euaa.eu",
            "completeness",
            "euaa/eps",
            "--period",
            "2025-10..2025-11",
            "--format",
            "csv",
        ]);
        let rows: Vec<&str> = matrix.lines().collect();
        assert_eq!(rows[0], "reporter,period,status,submitted_at,days_late");
        assert!(
            rows[1].starts_with("deu,2025-10,submitted,") && rows[1].ends_with(&format!(",{late}")),
            "{matrix}"
        );
        assert_eq!(rows[2], format!("deu,2025-11,overdue,,"), "{matrix}");

        e.ok(&[
            "--as",
            "ed@euaa.eu",
            "submission",
            "comment",
            &id,
            "--cell",
            "SYR.F.asylum_applications",
            "--text",
            "twelve?",
        ]);
        let shown = e.ok(&["--as", "stats@bamf.de", "submission", "show", &id]);
        assert!(shown.contains("revision 1: has-issues"), "{shown}");
        assert!(
            shown.contains("comment on SYR.F.asylum_applications by operator as ed@euaa.eu"),
            "{shown}"
        );
        let matrix = e.ok(&[
            "--as",
            "stats@bamf.de",
            "completeness",
            "euaa/eps",
            "--period",
            "2025-10..2025-10",
            "--format",
            "csv",
        ]);
        assert!(matrix.contains("deu,2025-10,has-issues,"), "{matrix}");
        let o = e.run(&["--as", "stats@bamf.de", "submission", "approve", &id]);
        assert!(
            !o.status.success(),
            "a reporter does not approve its own return"
        );
        let approved = e.ok(&["--as", "ed@euaa.eu", "submission", "approve", &id]);
        assert_eq!(
            approved.trim(),
            "approved 1 into euaa/eps version 1: 2 added, 0 changed, 0 removed"
        );
        let matrix = e.ok(&["completeness", "euaa/eps", "--period", "2025-10..2025-10"]);
        assert!(matrix.contains("deu\t2025-10\tapproved\t"), "{matrix}");
        let versions = e.ok(&["dataset", "show", "euaa/eps"]);
        assert!(versions.contains("deu 2025-10 revision 1"), "{versions}");
    }
}

#[test]
fn kill_9_during_an_approval_leaves_every_return_undecided_and_no_version_or_all_of_it() {
    use std::io::BufRead;
    for e in envs() {
        e.ok(&["org", "add", "euaa", "--name", "EUAA"]);
        let reporters = [("deu", "DEU"), ("fra", "FRA"), ("ita", "ITA")];
        for (slug, country) in reporters {
            e.ok(&["org", "add", slug, "--name", slug, "--country", country]);
            e.add_user(&format!("stats@{slug}.eu"), slug, "editor");
        }
        let eps = "title = \"EPS\"\nfrequency = \"month\"\ndeadline_days = 17\nreporters = [\"deu\", \"fra\", \"ita\"]\n[dimensions]\norigin = \"countries\"\nsex = [\"F\", \"M\", \"UNK\"]\nage = [\"Y_LT14\", \"Y14-17\", \"Y18-34\", \"Y35-64\", \"Y_GE65\", \"UNK\"]\n[[indicators]]\nname = \"asylum_applications\"\n[[indicators]]\nname = \"asylum_applications_first_time\"\n";
        let file = e.file("eps.toml", eps.as_bytes());
        e.ok(&[
            "template",
            "add",
            "euaa/eps",
            "--file",
            file.to_str().unwrap(),
        ]);
        // Every origin by sex by age: thousands of cells a return.
        let origins = [
            "AFG", "SYR", "IRQ", "ERI", "SOM", "NGA", "PAK", "BGD", "TUR", "VEN", "COL", "GEO",
            "UKR", "IRN", "MAR", "TUN", "EGY", "SDN", "MLI", "GIN",
        ];
        let mut csv =
            String::from("origin,sex,age,asylum_applications,asylum_applications_first_time\n");
        for (i, o) in origins.iter().enumerate() {
            for s in ["F", "M", "UNK"] {
                for (j, a) in ["Y_LT14", "Y14-17", "Y18-34", "Y35-64", "Y_GE65", "UNK"]
                    .iter()
                    .enumerate()
                {
                    csv.push_str(&format!("{o},{s},{a},{},{}\n", 10 + i + j, 5 + i));
                }
            }
        }
        let file = e.file("return.csv", csv.as_bytes());
        for (slug, _) in reporters {
            e.ok(&[
                "--as",
                &format!("stats@{slug}.eu"),
                "submit",
                "euaa/eps",
                "--period",
                "2025-10",
                "--file",
                file.to_str().unwrap(),
            ]);
        }
        let statuses = || -> Vec<String> {
            e.ok(&["submission", "list", "euaa/eps"])
                .lines()
                .skip(1)
                .map(|l| l.split('\t').nth(4).unwrap().to_string())
                .collect()
        };
        let versions = || {
            e.ok(&["dataset", "list"])
                .lines()
                .find(|l| l.starts_with("euaa/eps\t"))
                .unwrap()
                .split('\t')
                .nth(2)
                .unwrap()
                .to_string()
        };
        let mut child = e
            .cmd(&[
                "submission",
                "approve",
                "--all",
                "euaa/eps",
                "--period",
                "2025-10",
            ])
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
        for line in stderr.lines() {
            if line.unwrap().starts_with("approving ") {
                break;
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let (after, version) = (statuses(), versions());
        assert!(
            (after.iter().all(|s| s == "submitted") && version == "-")
                || (after.iter().all(|s| s == "approved") && version == "v1"),
            "{}: half an approval after kill -9: {after:?}, {version}",
            e.name
        );
        e.ok(&["audit", "verify"]);
        if version == "-" {
            e.ok(&[
                "submission",
                "approve",
                "--all",
                "euaa/eps",
                "--period",
                "2025-10",
            ]);
        }
        assert_eq!(statuses(), ["approved"; 3]);
        assert_eq!(versions(), "v1");
    }
}

/// Reads a file with an independent Python library; None (and a note) when it is missing.
fn python_reads(module: &str, script: &str, file: &Path) -> Option<String> {
    let ready = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ready {
        eprintln!("skipping the independent reader: python3 with {module} is not installed");
        return None;
    }
    let o = Command::new("python3")
        .args(["-c", script])
        .arg(file)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    Some(String::from_utf8_lossy(&o.stdout).into_owned())
}

#[test]
fn a_template_exports_as_sdmx_structure_and_xlsform_that_independent_tools_read_and_an_xlsform_imports_back(
) {
    for e in envs() {
        e.ok(&["org", "add", "euaa", "--name", "EUAA"]);
        e.ok(&["org", "add", "deu", "--name", "BAMF", "--country", "DEU"]);
        let eps = "title = \"Monthly asylum applications (EPS)\"\nfrequency = \"month\"\ndeadline_days = 17\nreporters = [\"deu\"]\n[dimensions]\norigin = \"countries\"\nsex = [\"F\", \"M\", \"T\"]\n[[indicators]]\nname = \"asylum_applications\"\n[[indicators]]\nname = \"asylum_applications_first_time\"\n[[rules]]\ncheck = \"asylum_applications_first_time <= asylum_applications\"\nmessage = \"first-time applicants cannot outnumber all applicants\"\n[[rules]]\ncheck = \"sum(sex) == sex:T\"\nmessage = \"women and men add up to the total\"\n";
        let file = e.file("eps.toml", eps.as_bytes());
        e.ok(&[
            "template",
            "add",
            "euaa/eps",
            "--file",
            file.to_str().unwrap(),
        ]);
        let xml = e.dir.path().join("eps.xml");
        e.ok(&[
            "template",
            "export",
            "euaa/eps",
            "--file-format",
            "sdmx",
            "-o",
            xml.to_str().unwrap(),
        ]);
        let seen = python_reads(
            "sdmx",
            "import sdmx, sys\nm = sdmx.read_sdmx(sys.argv[1])\nd = m.structure['DSD_EPS']\nprint('dimensions', ','.join(c.id for c in d.dimensions.components))\nprint('sex', ','.join(c.id for c in m.codelist['CL_SEX']))\nprint('areas', ','.join(c.id for c in m.codelist['CL_REF_AREA']))\nprint('origins', len(m.codelist['CL_ORIGIN']))\nprint('flow', m.dataflow['EPS'].structure.id, m.dataflow['EPS'].maintainer.id)\nprint('measure', d.measures.components[0].id)\n",
            &xml,
        );
        if let Some(seen) = seen {
            assert!(
                seen.contains("dimensions REF_AREA,ORIGIN,SEX,INDICATOR,TIME_PERIOD"),
                "{seen}"
            );
            assert!(seen.contains("sex F,M,T"), "{seen}");
            assert!(seen.contains("areas DEU"), "{seen}");
            assert!(seen.contains("flow DSD_EPS EUAA"), "{seen}");
            assert!(seen.contains("measure OBS_VALUE"), "{seen}");
            let origins: usize = seen
                .lines()
                .find_map(|l| l.strip_prefix("origins "))
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            assert!(origins > 190, "every country: {seen}");
        }
        let form = e.dir.path().join("eps-form.xlsx");
        e.ok(&[
            "template",
            "export",
            "euaa/eps",
            "--file-format",
            "xlsform",
            "-o",
            form.to_str().unwrap(),
        ]);
        if let Some(seen) = python_reads(
            "pyxform",
            "import sys\nfrom pyxform.xls2xform import convert\nr = convert(sys.argv[1])\nx = r.xform\nprint('title', 'Monthly asylum applications (EPS)' in x)\nprint('constraint', '. &gt;= 0 and (string-length(' in x)\nprint('select', 'select1 ref=\"/data/sex\"' in x)\n",
            &form,
        ) {
            assert!(seen.contains("title True"), "{seen}");
            assert!(seen.contains("constraint True"), "{seen}");
            assert!(seen.contains("select True"), "{seen}");
        }
        // The form back as another template: the same dimensions and indicators.
        e.ok(&[
            "template",
            "import",
            "euaa/eps-field",
            "--xlsform",
            form.to_str().unwrap(),
            "--frequency",
            "week",
            "--deadline-days",
            "3",
            "--reporters",
            "deu",
        ]);
        let shown = e.ok(&["template", "show", "euaa/eps-field"]);
        assert!(
            shown.starts_with("euaa/eps-field version 1: Monthly asylum applications (EPS)"),
            "{shown}"
        );
        assert!(
            shown.contains("every week, due 3 days after its end, from deu"),
            "{shown}"
        );
        assert!(shown.contains("dimension sex: F, M, T"), "{shown}");
        assert!(
            shown.contains("indicators: asylum_applications, asylum_applications_first_time"),
            "{shown}"
        );
    }
}

#[test]
fn remind_e_mails_each_reporter_that_sent_nothing_once_per_event_and_prints_what_it_sent() {
    let smtp = nansen_mail::testing::SmtpServer::start();
    for e in envs() {
        e.ok(&["org", "add", "euaa", "--name", "EUAA"]);
        e.ok(&["org", "add", "deu", "--name", "BAMF", "--country", "DEU"]);
        e.add_user("ed@euaa.eu", "euaa", "editor");
        e.add_user("stats@bamf.de", "deu", "editor");
        // Daily, due the next day, reminded a day before.
        let daily = "title = \"Arrivals at the border\"\nfrequency = \"day\"\ndeadline_days = 1\nremind_days_before = 1\nreporters = [\"deu\"]\n[dimensions]\nsex = [\"F\", \"M\"]\n[[indicators]]\nname = \"arrivals_land\"\n";
        let file = e.file("daily.toml", daily.as_bytes());
        e.ok(&[
            "template",
            "add",
            "euaa/arrivals",
            "--file",
            file.to_str().unwrap(),
        ]);
        let before = smtp.received().len();
        let out = e.ok(&[
            "remind",
            "--smtp-url",
            &smtp.url,
            "--public-url",
            "https://nansen.example.org",
        ]);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "template\treporter\tperiod\tevent\tdeadline\temail\twebhooks\trecipients"
        );
        let today = time::OffsetDateTime::now_utc().date();
        // The template was made today: only today's period is owed (before its deadline).
        assert_eq!(
            lines[1..],
            [format!(
                "euaa/arrivals\tdeu\t{today}\tbefore\t{}\tsent\t0\tstats@bamf.de",
                today + time::Duration::days(1)
            )],
            "{}: {out}",
            e.name
        );
        let mails = &smtp.received()[before..];
        assert_eq!(mails.len(), 1, "{}", e.name);
        assert!(mails[0].text().contains(&format!(
            "https://nansen.example.org/templates/euaa/arrivals/form?period={today}&reporter=deu"
        )));
        let again = e.ok(&["remind", "--smtp-url", &smtp.url]);
        assert_eq!(again.lines().count(), 1, "{}: never twice: {again}", e.name);
        assert_eq!(smtp.received().len(), before + 1);
        let listed = e.ok(&[
            "--as",
            "stats@bamf.de",
            "template",
            "reminders",
            "euaa/arrivals",
        ]);
        assert!(
            listed.lines().nth(1).unwrap().contains("\tbefore\t"),
            "{listed}"
        );
        let o = e.run(&["--as", "ed@euaa.eu", "remind"]);
        assert!(
            !o.status.success(),
            "only the operator runs the reminder round"
        );
        let o = e.run(&["remind", "--smtp-url", "ftp://mail.example.org"]);
        assert!(String::from_utf8_lossy(&o.stderr).contains("--smtp-url"));
    }
}

//! The data-gathering benchmark (issue 17), run by `bench/gathering.sh`: a template of 200
//! origins by 3 sexes by 6 ages by 5 indicators (18,000 cells a return) for 30 reporters,
//! with 60 months of history. Times the period's workbook, reading a filled one back
//! (filled by openpyxl, as a reporter's Excel would), approving it into a version of a dataset
//! that already holds the other 29 reporters' returns, and the completeness matrix of 30
//! reporters by 60 periods. Usage: `gathering WORK_DIR [DATABASE_URL]`.

use nansen_app::{App, Caller, Selection};
use nansen_model::{DatasetName, Role};
use std::time::Instant;

const COUNTRIES: [&str; 30] = [
    "AUT", "BEL", "BGR", "HRV", "CYP", "CZE", "DNK", "EST", "FIN", "FRA", "DEU", "GRC", "HUN",
    "IRL", "ITA", "LVA", "LTU", "LUX", "MLT", "NLD", "POL", "PRT", "ROU", "SVK", "SVN", "ESP",
    "SWE", "NOR", "CHE", "ISL",
];
const SEXES: [&str; 3] = ["F", "M", "UNK"];
const AGES: [&str; 6] = ["Y_LT14", "Y14-17", "Y18-34", "Y35-64", "Y_GE65", "UNK"];
const INDICATORS: [&str; 5] = [
    "asylum_applications",
    "asylum_applications_first_time",
    "asylum_decisions_total",
    "asylum_decisions_positive",
    "asylum_applications_withdrawn",
];

/// Fills every indicator cell of the workbook's grid, as a reporter would.
const FILL: &str = r#"
import sys, time, openpyxl
src, dst = sys.argv[1], sys.argv[2]
wb = openpyxl.load_workbook(src)
ws = wb["Return"]
row = 2
while ws.cell(row=row, column=1).value:
    a = 10 + row % 90
    for col, v in zip(range(4, 9), [a, a // 2, a // 3, a // 4, row % 3]):
        ws.cell(row=row, column=col, value=v)
    row += 1
wb.save(dst)
print(row - 2)
"#;

/// pandas reading the same sheet, for scale: reading only, without checking anything.
const PANDAS: &str = r#"
import sys, time, pandas
t = time.perf_counter()
df = pandas.read_excel(sys.argv[1], sheet_name="Return")
print(f"{time.perf_counter() - t:.4f} {len(df)}")
"#;

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let work = std::path::PathBuf::from(
        args.get(1)
            .expect("usage: gathering WORK_DIR [DATABASE_URL]"),
    );
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let app = App::open(&work.join("data"), args.get(2).map(String::as_str)).unwrap();
    let op = Caller::operator();
    app.add_org(&op, "euaa", "EUAA").unwrap();
    app.add_user(
        &op,
        "reviewer@euaa.eu",
        "euaa",
        Role::Editor,
        "a long enough password",
    )
    .unwrap();
    let reviewer = app
        .sign_in("reviewer@euaa.eu", "a long enough password")
        .unwrap();
    let mut reporters = Vec::new();
    for (i, country) in COUNTRIES.iter().enumerate() {
        let slug = format!("r{:02}", i + 1);
        app.add_org_of(&op, &slug, &slug, Some(country)).unwrap();
        let email = format!("stats@{slug}.eu");
        app.add_user(&op, &email, &slug, Role::Editor, "a long enough password")
            .unwrap();
        reporters.push((slug, app.sign_in(&email, "a long enough password").unwrap()));
    }
    let codes = nansen_codes::CodeLists::get();
    let origins: Vec<&str> = codes
        .countries()
        .into_iter()
        .map(|(c, _)| c)
        .take(200)
        .collect();
    let quoted = |v: &[&str]| {
        v.iter()
            .map(|c| format!("{c:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let template = format!(
        "title = \"Monthly asylum applications and decisions\"\nfrequency = \"month\"\ndeadline_days = 17\nreporters = [{}]\n[dimensions]\norigin = [{}]\nsex = [{}]\nage = [{}]\n{}\n[[rules]]\ncheck = \"asylum_applications_first_time <= asylum_applications\"\nmessage = \"first-time applicants cannot outnumber all applicants\"\n[[rules]]\ncheck = \"asylum_decisions_positive <= asylum_decisions_total\"\nmessage = \"positive decisions cannot outnumber all decisions\"\n",
        quoted(&reporters.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>()),
        quoted(&origins),
        quoted(&SEXES),
        quoted(&AGES),
        INDICATORS.iter().map(|i| format!("[[indicators]]\nname = \"{i}\"")).collect::<Vec<_>>().join("\n"),
    );
    let name: DatasetName = "euaa/eps".parse().unwrap();
    app.add_template(&op, &name, &template).unwrap();

    // 60 months of small returns, approved month by month.
    let months: Vec<String> = (0..60)
        .map(|i| {
            let m = 2021 * 12 + 11 + i; // 2021-12 onwards
            format!("{}-{:02}", m / 12, m % 12 + 1)
        })
        .collect();
    let t = Instant::now();
    let small = format!(
        "origin,sex,age,{}\n{},F,Y18-34,12,,,,\n",
        INDICATORS.join(","),
        origins[0]
    );
    for (p, month) in months.iter().enumerate() {
        for (i, (_, who)) in reporters.iter().enumerate() {
            // Some never report some months, so the matrix has every status.
            if (p + i) % 7 != 3 {
                app.submit(who, &name, month, &small).unwrap();
            }
        }
        if p % 5 != 0 {
            app.approve_submissions(
                &reviewer,
                &name,
                &Selection {
                    period: Some(month.clone()),
                    reporter: None,
                },
            )
            .unwrap();
        }
    }
    let history_s = t.elapsed().as_secs_f64();

    // The full return, from 29 reporters as CSV, approved together.
    let period = "2026-10";
    let mut csv = format!("origin,sex,age,{}\n", INDICATORS.join(","));
    for (i, o) in origins.iter().enumerate() {
        for s in SEXES {
            for a in AGES {
                let v = 10 + i % 90;
                csv.push_str(&format!(
                    "{o},{s},{a},{v},{},{},{},{}\n",
                    v / 2,
                    v / 3,
                    v / 4,
                    i % 3
                ));
            }
        }
    }
    let t = Instant::now();
    for (_, who) in &reporters[..29] {
        app.submit(who, &name, period, &csv).unwrap();
    }
    let csv_ms = ms(t) / 29.0;
    let t = Instant::now();
    let bulk = app
        .approve_submissions(
            &reviewer,
            &name,
            &Selection {
                period: Some(period.into()),
                reporter: None,
            },
        )
        .unwrap();
    let bulk_ms = ms(t);

    // The 30th reporter's workbook, filled, read back and approved.
    let (last, who) = &reporters[29];
    let t = Instant::now();
    let (_, bytes) = app.workbook(who, &name, period, None).unwrap();
    let workbook_ms = ms(t);
    let blank = work.join("blank.xlsx");
    let filled = work.join("filled.xlsx");
    std::fs::write(&blank, &bytes).unwrap();
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            FILL,
            blank.to_str().unwrap(),
            filled.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let upload = std::fs::read(&filled).unwrap();
    let t = Instant::now();
    let s = app.submit(who, &name, period, &upload).unwrap();
    let validate_ms = ms(t);
    let t = Instant::now();
    let approval = app.approve_submission(&reviewer, &s.id).unwrap();
    let approve_ms = ms(t);
    let t = Instant::now();
    let matrix = app
        .completeness(&reviewer, &name, Some((&months[0], &months[59])))
        .unwrap();
    let completeness_ms = ms(t);
    let pandas = std::process::Command::new("python3")
        .args(["-c", PANDAS, filled.to_str().unwrap()])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| {
            s.split_whitespace()
                .next()
                .and_then(|t| t.parse::<f64>().ok())
        })
        .map(|s| s * 1000.0);

    let dataset_obs = bulk.added + approval.added;
    println!(
        "database: {}",
        if args.len() > 2 {
            "postgresql"
        } else {
            "sqlite"
        }
    );
    println!("history: 60 months x 30 reporters of small returns submitted and approved in {history_s:.1} s");
    println!(
        "a return: {} cells ({} origins x 3 sexes x 6 ages x 5 indicators), {} bytes as a workbook",
        s.cells,
        origins.len(),
        upload.len()
    );
    println!("{:52}{:>10}", "step", "ms");
    println!(
        "{:52}{:>10.1}",
        "period's workbook made (XLSX, prefilled grid)", workbook_ms
    );
    println!(
        "{:52}{:>10.1}",
        "CSV return validated and kept (each of 29)", csv_ms
    );
    println!(
        "{:52}{:>10.1}",
        format!("29 returns approved as one version ({} cells)", bulk.added),
        bulk_ms
    );
    println!(
        "{:52}{:>10.1}",
        format!("workbook validated and kept ({last})"),
        validate_ms
    );
    println!(
        "{:52}{:>10.1}",
        format!(
            "approved into version {} ({} cells added)",
            approval.version.unwrap_or(0),
            approval.added
        ),
        approve_ms
    );
    println!(
        "{:52}{:>10.1}",
        format!(
            "completeness, 30 reporters x 60 periods ({} rows)",
            matrix.len()
        ),
        completeness_ms
    );
    let total = validate_ms + approve_ms;
    println!(
        "validate + approve one workbook: {total:.0} ms ({}: the bar is under 1,000 ms); the dataset then holds {dataset_obs} observations of period {period}",
        if total < 1000.0 { "met" } else { "NOT MET" }
    );
    match pandas {
        Some(p) => println!(
            "pandas.read_excel of the same sheet (reading only, nothing checked): {p:.0} ms; nansen validates and keeps it in {:.2}x that time",
            validate_ms / p
        ),
        None => println!("pandas.read_excel: left out (python3 with pandas and openpyxl is not installed)"),
    }
}

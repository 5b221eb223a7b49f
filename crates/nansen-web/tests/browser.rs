//! The web interface in a real browser: Debian's Chromium, headless, driven through
//! chromedriver, against the real server on SQLite and on PostgreSQL. Screenshots of the main
//! pages go to `target/screenshots/`; axe-core checks every page for accessibility.

use fantoccini::{Client, ClientBuilder, Locator};
use nansen_app::{App, Caller, ImportRequest, Metadata};
use nansen_model::DatasetName;
use nansen_model::{Role, Sharing};
use nansen_store::testing::{stores, TestStore};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

const PASSWORD: &str = "a long enough password";
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whether the browser and the bundle are here; under CI they must be.
fn ready() -> bool {
    let missing: Vec<String> = [CHROMIUM, CHROMEDRIVER]
        .iter()
        .map(PathBuf::from)
        .chain([
            repo().join("web/dist/app.js"),
            repo().join("web/node_modules/axe-core/axe.min.js"),
        ])
        .filter(|p| !p.exists())
        .map(|p| p.display().to_string())
        .collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("browser tests need {} (install chromium and chromium-driver; run npm ci && npm run build in web/)", missing.join(", "));
    }
    eprintln!("skipping browser test: missing {}", missing.join(", "));
    false
}

struct Site {
    t: TestStore,
    base: String,
    app: Arc<App>,
}

/// `(slug, demo file, sharing, title, update frequency)`, all of euaa.
type Demo<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str);

fn import(app: &App, who: &Caller, (slug, file, share, title, frequency): Demo) {
    let org = "euaa";
    let req = ImportRequest {
        org: org.into(),
        slug: slug.into(),
        file_name: file.into(),
        share: Some(share.parse::<Sharing>().unwrap()),
        title: Some(title.into()),
        ..Default::default()
    };
    app.import(who, &req, &repo().join("demo").join(file), &|_| {})
        .unwrap();
    let meta = Metadata {
        update_frequency: Some(frequency.into()),
        description: Some(format!("{title}, from the demo files.")),
        ..Default::default()
    };
    app.set_metadata(who, &DatasetName::new(org, slug), &meta)
        .unwrap();
}

/// Three organisations, their people, and datasets at three sharing levels; served over HTTP.
fn sites() -> Vec<Site> {
    stores()
        .into_iter()
        .map(|t| {
            let app = App::open(t.dir.path(), t.database_url.as_deref()).unwrap();
            let op = Caller::operator();
            for (org, name) in [
                ("euaa", "European Union Agency for Asylum"),
                ("iom", "International Organization for Migration"),
                ("bamf", "Federal Office for Migration and Refugees"),
            ] {
                app.add_org(&op, org, name).unwrap();
            }
            for (email, org, role) in [
                ("admin@euaa.test", "euaa", Role::Admin),
                ("analyst@euaa.test", "euaa", Role::Analyst),
                ("admin@iom.test", "iom", Role::Admin),
                ("officer@bamf.test", "bamf", Role::Admin),
                ("guest@bamf.test", "bamf", Role::Viewer),
            ] {
                app.add_user(&op, email, org, role, PASSWORD).unwrap();
            }
            app.set_operator(&op, "admin@euaa.test", true).unwrap();
            let euaa = app.act_as("admin@euaa.test").unwrap();
            for demo in [
                (
                    "asylum-applicants-monthly",
                    "migr_asyappctzm_2008-2015_monthly_by_destination.csv",
                    "public",
                    "Asylum applicants by destination, monthly (Eurostat)",
                    "monthly",
                ),
                (
                    "unhcr-asylum-applications",
                    "unhcr-asylum-applications-2008-2016.csv",
                    "listed",
                    "Asylum applications in Europe, annual (UNHCR)",
                    "annual",
                ),
                (
                    "first-instance-decisions",
                    "migr_asydcfsta_2017-04-26.csv",
                    "private",
                    "First-instance asylum decisions (Eurostat)",
                    "annual",
                ),
                (
                    "missing-migrants-2017",
                    "missing-migrants-2017.json",
                    "public",
                    "Dead and missing migrants, 2017 (IOM Missing Migrants Project)",
                    "annual",
                ),
            ] {
                import(&app, &euaa, demo);
            }
            let app = Arc::new(app);
            let served = app.clone();
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(nansen_server::serve(served, "127.0.0.1:0", |addr| {
                    tx.send(addr).unwrap()
                }))
                .unwrap();
            });
            let addr = rx.recv().unwrap();
            Site {
                t,
                base: format!("http://{addr}"),
                app,
            }
        })
        .collect()
}

struct Browser {
    c: Client,
    driver: Child,
    /// This browser's own profile directory, which names its processes.
    profile: PathBuf,
    base: String,
    db: &'static str,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Chromium outlives chromedriver (Debian's wrapper detaches it): find its main process
        // by this browser's profile directory and stop it with everything below it.
        let profile = self.profile.display().to_string();
        let mains = processes()
            .into_iter()
            .filter(|(pid, _)| cmdline(*pid).contains(&profile))
            .map(|(pid, _)| pid)
            .collect::<Vec<_>>();
        for main in mains {
            for pid in descendants(main).into_iter().chain([main]) {
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn cmdline(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

/// Every process with its parent, from /proc.
fn processes() -> Vec<(u32, u32)> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let child: u32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            // The parent is the second field after the command, which is in parentheses.
            let parent = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            Some((child, parent))
        })
        .collect()
}

/// Every process below `pid`, deepest first.
fn descendants(pid: u32) -> Vec<u32> {
    let parents = processes();
    let mut out = Vec::new();
    let mut stack = vec![pid];
    while let Some(p) = stack.pop() {
        for &(c, parent) in &parents {
            if parent == p {
                out.push(c);
                stack.push(c);
            }
        }
    }
    out.reverse();
    out
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn browser(site: &Site) -> Browser {
    browser_with(site, &[]).await
}

async fn browser_with(site: &Site, extra: &[&str]) -> Browser {
    let port = free_port();
    let profile =
        std::env::temp_dir().join(format!("nansen-browser-test-{}-{port}", std::process::id()));
    let driver = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let caps = json!({
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--no-first-run", "--window-size=1280,1000", "--disable-dev-shm-usage", "--disable-breakpad",
                     format!("--user-data-dir={}", profile.display())],
        }
    });
    let mut caps = caps.as_object().unwrap().clone();
    caps["goog:chromeOptions"]["args"]
        .as_array_mut()
        .unwrap()
        .extend(extra.iter().map(|a| json!(a)));
    let mut last = None;
    for _ in 0..50 {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => {
                return Browser {
                    c,
                    driver,
                    profile,
                    base: site.base.clone(),
                    db: site.t.name,
                }
            }
            Err(e) => {
                last = Some(e);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    panic!("chromedriver did not answer: {last:?}");
}

impl Browser {
    async fn go(&self, path: &str) {
        self.c.goto(&format!("{}{path}", self.base)).await.unwrap();
    }

    async fn find(&self, css: &str) -> fantoccini::elements::Element {
        match self
            .c
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::Css(css))
            .await
        {
            Ok(e) => e,
            Err(e) => {
                let body = self.c.source().await.unwrap_or_default();
                panic!(
                    "{}: no {css} on {}: {e}\n{}",
                    self.db,
                    self.url().await,
                    body.chars().take(3000).collect::<String>()
                )
            }
        }
    }

    async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap()
    }

    async fn url(&self) -> String {
        self.c
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default()
    }

    async fn body(&self) -> String {
        self.text("body").await
    }

    async fn fill(&self, css: &str, value: &str) {
        let e = self.find(css).await;
        e.clear().await.unwrap();
        e.send_keys(value).await.unwrap();
    }

    async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap();
    }

    /// Clicks what leads to another page, and waits until that page has loaded.
    async fn submit(&self, css: &str) {
        self.c
            .execute("window.__before = true", vec![])
            .await
            .unwrap();
        self.click(css).await;
        for _ in 0..300 {
            let done = self
                .c
                .execute(
                    "return window.__before === undefined && document.readyState === 'complete'",
                    vec![],
                )
                .await;
            if matches!(done, Ok(Value::Bool(true))) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "{}: clicking {css} on {} led nowhere",
            self.db,
            self.url().await
        );
    }

    async fn sign_in(&self, email: &str) {
        self.go("/sign-in").await;
        self.fill("#email", email).await;
        self.fill("#password", PASSWORD).await;
        self.submit("form[action='/sign-in'] button[type=submit]")
            .await;
        let who = self.text("header .who").await;
        assert!(
            who.contains(email),
            "{}: signed in as {email}, header says {who:?}",
            self.db
        );
    }

    async fn sign_out(&self) {
        self.submit("form[action='/sign-out'] button").await;
        self.find("header .who a[href='/sign-in']").await;
    }

    /// A full-page screenshot for CI artifacts (SQLite run only: the pages are the same).
    async fn shot(&self, name: &str) {
        if self.db != "sqlite" {
            return;
        }
        let dir = repo().join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        // The whole page: the window as tall as the document, then back.
        let height = self
            .c
            .execute("return document.documentElement.scrollHeight", vec![])
            .await
            .unwrap()
            .as_u64()
            .unwrap_or(1000);
        self.c
            .set_window_size(1280, (height as u32 + 120).clamp(1000, 8000))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let png = self.c.screenshot().await.unwrap();
        self.c.set_window_size(1280, 1000).await.unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// Runs axe-core on the page and fails on any serious or critical violation.
    async fn accessible(&self, page: &str) {
        let axe =
            std::fs::read_to_string(repo().join("web/node_modules/axe-core/axe.min.js")).unwrap();
        self.c.execute(&axe, vec![]).await.unwrap();
        let result = self
            .c
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] }).then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ')) })))).catch(e => done([{ id: 'axe-error', impact: 'critical', help: String(e), nodes: [] }]));",
                vec![],
            )
            .await
            .unwrap();
        let bad: Vec<&Value> = result
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .collect();
        assert!(
            bad.is_empty(),
            "{}: {page} has serious or critical accessibility violations: {bad:#?}",
            self.db
        );
    }

    /// What a same-origin request from the page gets (with the page's cookies).
    async fn fetch(&self, path: &str) -> (u16, String) {
        let r = self
            .c
            .execute_async("const done = arguments[arguments.length - 1]; fetch(arguments[0]).then(async r => done([r.status, await r.text()]));", vec![json!(path)])
            .await
            .unwrap();
        (
            r[0].as_u64().unwrap() as u16,
            r[1].as_str().unwrap().to_string(),
        )
    }

    /// Waits until the figure's chart is drawn; returns its series names.
    async fn drawn(&self, figure: &str) -> Vec<String> {
        let css = format!("{figure}[data-drawn='true']");
        let f = self.find(&css).await;
        let svg = self
            .c
            .find(Locator::Css(&format!("{figure} svg path")))
            .await;
        assert!(svg.is_ok(), "{}: {figure} has no drawn SVG", self.db);
        f.attr("data-series")
            .await
            .unwrap()
            .unwrap_or_default()
            .split('|')
            .map(String::from)
            .collect()
    }

    /// The cells of the data table on the page (numbers without separators).
    async fn table_rows(&self, css: &str) -> Vec<Vec<String>> {
        let v = self
            .c
            .execute(
                "return [...document.querySelectorAll(arguments[0] + ' tbody tr')].map(tr => [...tr.cells].map(td => td.textContent.trim().replace(/,/g, '').replace('–', '')));",
                vec![json!(css)],
            )
            .await
            .unwrap();
        serde_json::from_value(v).unwrap()
    }
}

/// Runs application calls on a thread of their own: the PostgreSQL client blocks, which an
/// async test must not do on its own thread.
fn off<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().unwrap())
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn signing_in_is_checked_rate_limited_and_the_session_cookie_is_out_of_scripts_reach() {
    if !ready() {
        return;
    }
    for site in sites() {
        rt().block_on(async {
            let b = browser(&site).await;
            b.go("/sign-in").await;
            b.shot("sign-in").await;
            b.accessible("the sign-in page").await;
            // By keyboard alone: type, Tab to the next field, Enter to send.
            b.find("#email").await.send_keys("analyst@euaa.test\u{E004}").await.unwrap();
            b.c.active_element().await.unwrap().send_keys(&format!("{PASSWORD}\u{E007}")).await.unwrap();
            b.find("header .who a[href='/account']").await;
            assert!(b.text("header .who").await.contains("analyst@euaa.test"), "{}: signed in by keyboard", b.db);
            b.sign_out().await;
            b.go("/sign-in").await;
            b.fill("#email", "admin@euaa.test").await;
            b.fill("#password", "not the password").await;
            b.submit("form[action='/sign-in'] button[type=submit]").await;
            assert!(b.text("#sign-in-error").await.contains("wrong"), "{}", b.db);
            b.sign_in("admin@euaa.test").await;
            let cookies: String = b.c.execute("return document.cookie", vec![]).await.unwrap().as_str().unwrap_or("").into();
            assert!(!cookies.contains("nansen_session"), "{}: the session cookie is HttpOnly, yet a script reads {cookies:?}", b.db);
            // A form posted without the session's token changes nothing.
            let r = b
                .c
                .execute_async(
                    "const done = arguments[arguments.length - 1]; fetch('/account/tokens', { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'name=forged' }).then(r => done(r.status));",
                    vec![],
                )
                .await
                .unwrap();
            assert_eq!(r.as_u64(), Some(400), "{}: a form without its token is refused", b.db);
            let who = off(|| site.app.act_as("admin@euaa.test").unwrap());
            assert!(off(|| site.app.tokens(&who).unwrap().is_empty()), "{}: nothing was made", b.db);
            // Tokens: made on the account page, shown once, revocable.
            b.go("/account").await;
            b.fill("#token-name", "laptop").await;
            b.submit("form[action='/account/tokens'] button").await;
            let token = b.find("#new-token").await.prop("value").await.unwrap().unwrap();
            assert!(off(|| site.app.authenticate_token(&token).is_ok()), "{}", b.db);
            b.shot("account").await;
            b.accessible("the account page").await;
            b.submit("button[aria-label='Revoke token laptop']").await;
            b.find("#tokens").await;
            assert!(off(|| site.app.authenticate_token(&token).is_err()), "{}: the revoked token no longer works", b.db);
            b.sign_out().await;
            assert_eq!(b.fetch("/account").await.0, 200, "{}: signed out, the account page sends to sign-in", b.db);
            assert!(b.fetch("/account").await.1.contains("Sign in"));
            // Five wrong passwords lock the account for a while, even with the right one.
            for _ in 0..5 {
                b.go("/sign-in").await;
                b.fill("#email", "guest@bamf.test").await;
                b.fill("#password", "wrong").await;
                b.submit("form[action='/sign-in'] button[type=submit]").await;
                b.find("#sign-in-error").await;
            }
            b.go("/sign-in").await;
            b.fill("#email", "guest@bamf.test").await;
            b.fill("#password", PASSWORD).await;
            b.submit("form[action='/sign-in'] button[type=submit]").await;
            assert!(b.body().await.contains("Too many failed sign-ins"), "{}", b.db);
        });
    }
}

#[test]
fn a_refused_upload_shows_its_problems_and_saves_nothing_then_the_fixed_file_lands() {
    if !ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("arrivals.csv");
    std::fs::write(&bad, "indicator,geo,period,value\nasylum_applications,DEU,2015-01,100\nasylum_applications,FRA,2015-13,120\nasylum_applications,ITA,2015-02,many\nasylum_applications,Atlantis,2015-03,5\n").unwrap();
    let good = dir.path().join("arrivals-fixed.csv");
    std::fs::write(&good, "indicator,geo,period,value\nasylum_applications,DEU,2015-01,100\nasylum_applications,FRA,2015-12,120\nasylum_applications,ITA,2015-02,90\n").unwrap();
    for site in sites() {
        rt().block_on(async {
            let b = browser(&site).await;
            b.sign_in("admin@euaa.test").await;
            b.go("/upload").await;
            b.accessible("the upload page").await;
            b.find("#dataset")
                .await
                .select_by_value("new")
                .await
                .unwrap();
            b.find("#new-org")
                .await
                .select_by_value("euaa")
                .await
                .unwrap();
            b.fill("#new-slug", "arrivals").await;
            b.fill("#title", "Arrivals, test upload").await;
            b.find("#file")
                .await
                .send_keys(bad.to_str().unwrap())
                .await
                .unwrap();
            b.shot("upload").await;
            b.submit("#upload-form button[type=submit]").await;
            let refused = b.text("#refused").await;
            assert!(refused.contains("nothing was saved"), "{}: {refused}", b.db);
            let problems = b.table_rows("#problems").await;
            assert!(
                problems
                    .iter()
                    .any(|r| r[0] == "3" && r[1] == "1" && r[2] == "period" && r[3] == "2015-13"),
                "{}: {problems:?}",
                b.db
            );
            assert!(
                problems
                    .iter()
                    .any(|r| r[0] == "4" && r[1] == "1" && r[2] == "value" && r[3] == "many"),
                "{}: {problems:?}",
                b.db
            );
            // An unknown code says what a web user can do, not which CLI flag mends it.
            let unknown = problems.iter().find(|r| r[3] == "Atlantis").unwrap();
            assert!(
                unknown[4].contains("correct the code in the file") && !unknown[4].contains("--"),
                "{}: {unknown:?}",
                b.db
            );
            b.shot("upload-refused").await;
            b.accessible("a refused upload").await;
            let op = Caller::operator();
            assert!(
                off(|| site
                    .app
                    .dataset(&op, &DatasetName::new("euaa", "arrivals"))
                    .is_err()),
                "{}: a refused upload creates nothing",
                b.db
            );
            // The page offers the form again: the corrected file.
            b.find("#dataset")
                .await
                .select_by_value("new")
                .await
                .unwrap();
            b.fill("#new-slug", "arrivals").await;
            b.find("#file")
                .await
                .send_keys(good.to_str().unwrap())
                .await
                .unwrap();
            b.submit("#upload-form button[type=submit]").await;
            b.find("#ready").await;
            assert_eq!(b.text("#added").await, "3", "{}", b.db);
            assert_eq!(
                b.table_rows("#changes").await.len(),
                3,
                "{}: each observation to add is shown",
                b.db
            );
            assert!(
                off(|| site
                    .app
                    .dataset(&op, &DatasetName::new("euaa", "arrivals"))
                    .is_err()),
                "{}: nothing is saved before confirming",
                b.db
            );
            b.shot("upload-ready").await;
            b.accessible("an upload ready to confirm").await;
            b.submit("#confirm").await;
            assert!(b.text("#landed").await.contains("version 1"), "{}", b.db);
            let d = off(|| {
                site.app
                    .dataset(&op, &DatasetName::new("euaa", "arrivals"))
                    .unwrap()
            });
            assert_eq!(d.versions.len(), 1);
            assert_eq!(d.versions[0].observations, 3, "{}", b.db);
        });
    }
}

#[test]
fn a_dataset_shared_with_a_partner_is_seen_by_it_and_by_no_third_organisation() {
    if !ready() {
        return;
    }
    for site in sites() {
        rt().block_on(async {
            let b = browser(&site).await;
            b.sign_in("admin@euaa.test").await;
            b.go("/datasets/euaa/first-instance-decisions").await;
            b.drawn("#quick-chart").await;
            b.click("#level-partners").await;
            b.click("#partner-iom").await;
            b.submit("form[action$='/sharing'] button[type=submit]")
                .await;
            b.find("#sharing").await;
            assert!(
                b.find("#level-partners").await.is_selected().await.unwrap(),
                "{}",
                b.db
            );
            b.shot("dataset-owner").await;
            b.accessible("a dataset page with its sharing controls")
                .await;
            b.sign_out().await;

            b.sign_in("admin@iom.test").await;
            b.go("/").await;
            assert!(
                b.body().await.contains("First-instance asylum decisions"),
                "{}: the partner sees it in the catalogue",
                b.db
            );
            b.go("/datasets/euaa/first-instance-decisions").await;
            assert!(
                b.text("h1")
                    .await
                    .contains("First-instance asylum decisions"),
                "{}",
                b.db
            );
            assert_eq!(
                b.fetch("/datasets/euaa/first-instance-decisions/download?format=csv")
                    .await
                    .0,
                200,
                "{}",
                b.db
            );
            b.sign_out().await;

            b.sign_in("officer@bamf.test").await;
            b.go("/").await;
            assert!(
                !b.body().await.contains("First-instance asylum decisions"),
                "{}: a third organisation does not see it listed",
                b.db
            );
            b.go("/datasets/euaa/first-instance-decisions").await;
            assert_eq!(
                b.text("h1").await,
                "Not found",
                "{}: nor by its address",
                b.db
            );
            let (status, body) = b
                .fetch("/datasets/euaa/first-instance-decisions/download?format=csv")
                .await;
            assert_eq!(status, 404, "{}: nor its download: {body}", b.db);
            let (status, _) = b
                .fetch("/explore?dataset=euaa/first-instance-decisions")
                .await;
            assert_eq!(status, 404, "{}: nor through Explore", b.db);
            let (_, missing) = b.fetch("/datasets/euaa/no-such-dataset").await;
            let hidden = b
                .fetch("/datasets/euaa/first-instance-decisions")
                .await
                .1
                .replace("first-instance-decisions", "no-such-dataset");
            assert_eq!(hidden, missing, "{}: hidden reads exactly as missing", b.db);
        });
    }
}

#[test]
fn a_listed_dataset_is_requested_approved_and_then_readable() {
    if !ready() {
        return;
    }
    for site in sites() {
        rt().block_on(async {
            let b = browser(&site).await;
            b.sign_in("officer@bamf.test").await;
            b.go("/").await;
            assert!(
                b.body().await.contains("listed: data on request"),
                "{}",
                b.db
            );
            b.go("/datasets/euaa/unhcr-asylum-applications").await;
            assert!(
                b.c.find(Locator::Css("#quick-chart")).await.is_err(),
                "{}: no numbers before approval",
                b.db
            );
            b.accessible("a listed dataset's page").await;
            b.fill("#reason", "Planning reception capacity for 2017")
                .await;
            b.submit("form[action$='/access-request'] button").await;
            assert!(
                b.body().await.contains("was sent to its administrators"),
                "{}",
                b.db
            );
            b.accessible("the access-requested page").await;
            b.sign_out().await;

            b.sign_in("admin@euaa.test").await;
            b.go("/admin").await;
            assert!(
                b.body()
                    .await
                    .contains("Planning reception capacity for 2017"),
                "{}",
                b.db
            );
            b.shot("admin").await;
            b.accessible("the administration page").await;
            b.submit("article.request button[value=approve]").await;
            b.find("#requests").await;
            assert!(b.body().await.contains("None waiting."), "{}", b.db);
            b.go("/admin/audit?action=access").await;
            assert!(b.text("#verify").await.contains("intact"), "{}", b.db);
            assert!(b.body().await.contains("access.approve"), "{}", b.db);
            b.shot("audit").await;
            b.accessible("the audit log").await;
            b.sign_out().await;

            b.sign_in("officer@bamf.test").await;
            b.go("/datasets/euaa/unhcr-asylum-applications").await;
            b.drawn("#quick-chart").await;
            assert_eq!(
                b.fetch("/datasets/euaa/unhcr-asylum-applications/download?format=csv")
                    .await
                    .0,
                200,
                "{}",
                b.db
            );
        });
    }
}

#[test]
fn explore_draws_the_chosen_series_and_the_download_is_the_table_on_screen() {
    if !ready() {
        return;
    }
    for site in sites() {
        rt().block_on(async {
            let b = browser(&site).await;
            b.go("/explore?dataset=euaa/asylum-applicants-monthly&indicator=asylum_applications&geo=DEU,FRA&from=2015-01&to=2015-03").await;
            let series = b.drawn("#line-chart").await;
            assert_eq!(series, ["Germany (DEU)", "France (FRA)"], "{}", b.db);
            b.drawn("#bar-chart").await;
            b.drawn("#map-chart").await;
            let table = b.table_rows("table.data").await;
            assert_eq!(table.len(), 6, "{}: two places by three months: {table:?}", b.db);
            assert!(table.contains(&vec!["DEU".to_string(), "2015-01".into(), "25020".into()]), "{}: {table:?}", b.db);
            let href = b.find("#download-csv").await.attr("href").await.unwrap().unwrap();
            let (status, csv) = b.fetch(&href).await;
            assert_eq!(status, 200);
            let lines: Vec<Vec<String>> = csv.lines().skip(1).map(|l| l.split(',').map(String::from).collect()).collect();
            assert_eq!(lines, table, "{}: the download is exactly the table", b.db);
            // The link reproduces the view.
            let link = b.find("#view-link").await.prop("value").await.unwrap().unwrap();
            b.go(&link).await;
            assert_eq!(b.drawn("#line-chart").await, ["Germany (DEU)", "France (FRA)"], "{}", b.db);
            assert_eq!(b.table_rows("table.data").await, table);
        });
    }
}

/// Explore asks what the CLI can: a filter on any dimension and a derived indicator, each
/// answered with one figure, and a change of dataset starting from that dataset's defaults.
#[test]
fn explore_answers_the_mediterranean_question_and_a_recognition_rate() {
    if !ready() {
        return;
    }
    for site in sites() {
        rt().block_on(async {
            let b = browser(&site).await;
            // "Dead and missing in the Mediterranean in 2017", by choosing on the form.
            b.go("/explore?dataset=euaa/missing-migrants-2017&indicator=dead_and_missing").await;
            b.find("#x-f-region").await.select_by_value("Mediterranean").await.unwrap();
            b.submit("form.explore button[type=submit]").await;
            let total = b.text("#total").await;
            assert!(total.contains("3,139"), "{}: {total}", b.db);
            assert!(b.text("#summary").await.contains("region Mediterranean"), "{}", b.db);
            b.drawn("#line-chart").await;
            // A pivot of any two dimensions: cause by route.
            assert!(!b.table_rows("#pivot").await.is_empty(), "{}", b.db);
            b.find("#x-rows").await.select_by_value("cause").await.unwrap();
            b.find("#x-cols").await.select_by_value("route").await.unwrap();
            b.submit("form.pivot button[type=submit]").await;
            assert!(b.text("#pivot caption").await.contains("cause by route"), "{}", b.db);
            assert_eq!(b.text("#total").await, total, "{}: the same question", b.db);
            b.accessible("Explore with a filter on a dimension of the dataset").await;
            // Another dataset starts from its own defaults, not from the region chosen before.
            b.sign_in("analyst@euaa.test").await;
            b.go("/explore?dataset=euaa/missing-migrants-2017&f.region=Mediterranean").await;
            b.find("#x-dataset").await.select_by_value("euaa/first-instance-decisions").await.unwrap();
            b.submit("form.explore button[type=submit]").await;
            assert!(!b.text("#summary").await.contains("Mediterranean"), "{}", b.db);
            // Eurostat's recognition rate for the EU-28 in 2016: positive over all first-instance
            // decisions, 60.8% (Eurostat printed 61%).
            b.go("/explore?dataset=euaa/first-instance-decisions&indicator=asylum_decisions_total&geo=EU28&from=2016&to=2016").await;
            b.find("#x-derived").await.select_by_value("recognition_rate").await.unwrap();
            b.submit("form.explore button[type=submit]").await;
            let total = b.text("#total").await;
            assert!(total.contains("60.79") && total.contains("recognition_rate"), "{}: {total}", b.db);
            // Every chart shows the rate, not the decisions it was made from.
            for figure in ["#line-chart", "#bar-chart", "#map-chart"] {
                let caption = b.text(&format!("{figure} figcaption")).await;
                assert!(caption.starts_with("Recognition rate of"), "{}: {figure}: {caption}", b.db);
            }
        });
    }
}

/// The issue's "done means": a new user signs in, finds Eurostat's monthly applications for
/// Germany, charts them against UNHCR's annual figures, maps them and downloads them.
#[test]
fn a_new_analyst_finds_charts_compares_maps_and_downloads_germanys_applications() {
    if !ready() {
        return;
    }
    for site in sites() {
        rt().block_on(async {
            let b = browser(&site).await;
            b.go("/").await;
            b.shot("catalogue-anonymous").await;
            b.sign_in("analyst@euaa.test").await;
            b.go("/").await;
            b.fill("#q", "asylum monthly Germany").await;
            b.submit("form.filters button[type=submit]").await;
            b.shot("catalogue").await;
            b.accessible("the catalogue").await;
            b.submit("ol.catalogue li:first-child h2 a").await;
            assert!(
                b.text("h1").await.contains("monthly (Eurostat)"),
                "{}",
                b.db
            );
            b.drawn("#quick-chart").await;
            b.shot("dataset").await;
            b.accessible("a dataset page full of data").await;
            b.submit("a.button[href^='/explore']").await;
            b.drawn("#line-chart").await;
            // Germany only, against UNHCR's annual figures.
            // A plain click on one place, as a person makes it, leaves only that place chosen.
            b.c.execute(
                "document.querySelectorAll('#x-geo option').forEach(o => o.selected = false)",
                vec![],
            )
            .await
            .unwrap();
            b.find("#x-geo").await.select_by_value("DEU").await.unwrap();
            b.find("#x-compare")
                .await
                .select_by_value("euaa/unhcr-asylum-applications")
                .await
                .unwrap();
            b.submit("form.explore button[type=submit]").await;
            let series = b.drawn("#line-chart").await;
            assert_eq!(
                series,
                [
                    "Germany (DEU) · euaa/asylum-applicants-monthly",
                    "Germany (DEU) · euaa/unhcr-asylum-applications"
                ],
                "{}",
                b.db
            );
            assert!(
                b.text("#summary").await.contains("by year"),
                "{}: compared at the coarser frequency",
                b.db
            );
            assert!(
                b.drawn("#map-chart").await.contains(&"map".to_string())
                    || !b.drawn("#map-chart").await.is_empty()
            );
            let table = b.table_rows("table.data").await;
            let y2014 = table
                .iter()
                .find(|r| r[0] == "DEU" && r[1] == "2014")
                .unwrap_or_else(|| panic!("{}: {table:?}", b.db));
            let months = off(|| {
                let q = nansen_model::Query::parse(
                    &[
                        "geo=DEU".to_string(),
                        "indicator=asylum_applications".to_string(),
                    ],
                    Some("2014-01..2014-12"),
                    Some("period"),
                )
                .unwrap();
                site.app
                    .query(
                        &Caller::operator(),
                        &DatasetName::new("euaa", "asylum-applicants-monthly"),
                        None,
                        &q,
                    )
                    .unwrap()
            });
            assert_eq!(months.rows.len(), 12);
            let total: f64 = months.rows.iter().filter_map(|r| r.value).sum();
            assert_eq!(
                y2014[2],
                total.to_string(),
                "{}: 2014 is the sum of its months",
                b.db
            );
            // After the value: the flags column (the Eurostat file stops in May 2015, so 2015
            // is marked incomplete), then UNHCR's figure.
            assert_eq!(y2014[3], "", "{}: 2014 is complete: {y2014:?}", b.db);
            assert!(!y2014[4].is_empty(), "{}: UNHCR's figure beside it", b.db);
            let y2015 = table
                .iter()
                .find(|r| r[0] == "DEU" && r[1] == "2015")
                .unwrap_or_else(|| panic!("{}: {table:?}", b.db));
            assert_eq!(y2015[3], "incomplete", "{}: {y2015:?}", b.db);
            // The chart marks it too: starred on the axis, hollow, and said in the caption.
            let chart = b.find("#line-chart").await;
            assert_eq!(
                chart.attr("data-incomplete").await.unwrap().as_deref(),
                Some("2015"),
                "{}",
                b.db
            );
            assert!(
                b.text("#line-chart figcaption")
                    .await
                    .contains("incomplete: the data covers only part of 2015"),
                "{}",
                b.db
            );
            // The bars add only the years both sources cover completely: not Eurostat's five
            // months of 2015 against UNHCR's twelve, nor UNHCR's 2016 against nothing.
            assert!(
                b.text("#bar-chart figcaption")
                    .await
                    .contains("2008 to 2014, the periods both cover completely"),
                "{}: {}",
                b.db,
                b.text("#bar-chart figcaption").await
            );
            b.shot("explore-compare").await;
            b.accessible("Explore with two sources, charts and a map")
                .await;
            let href = b
                .find("#download-csv")
                .await
                .attr("href")
                .await
                .unwrap()
                .unwrap();
            let (status, csv) = b.fetch(&href).await;
            assert_eq!(status, 200);
            assert!(
                csv.lines()
                    .any(|l| l.starts_with(&format!("DEU,2014,{total},"))),
                "{}: {csv}",
                b.db
            );
            // EU28 beside Germany is drawn apart: a dashed line, a hatched bar, both named.
            b.go("/explore?dataset=euaa/asylum-applicants-monthly&indicator=asylum_applications&geo=DEU&geo=EU28&frequency=year")
                .await;
            b.drawn("#line-chart").await;
            b.drawn("#bar-chart").await;
            for figure in ["#line-chart", "#bar-chart"] {
                let marked = b
                    .find(figure)
                    .await
                    .attr("data-aggregates")
                    .await
                    .unwrap()
                    .unwrap_or_default();
                assert!(marked.contains("EU28"), "{}: {figure}: {marked:?}", b.db);
                assert!(!marked.contains("DEU"), "{}: {figure}: {marked:?}", b.db);
            }
            assert!(
                b.text("#line-chart figcaption").await.contains("dashed"),
                "{}",
                b.db
            );
            // The map follows the data: Eurostat's destinations put its centre in Europe.
            b.drawn("#map-chart").await;
            let view = b
                .find("#map-chart")
                .await
                .attr("data-view")
                .await
                .unwrap()
                .unwrap_or_default();
            let centre: Vec<f64> = view
                .split(' ')
                .next()
                .unwrap_or("")
                .split(',')
                .filter_map(|x| x.parse().ok())
                .collect();
            assert!(
                centre.len() == 2
                    && (-15.0..45.0).contains(&centre[0])
                    && (35.0..70.0).contains(&centre[1])
                    && view.contains(" x"),
                "{}: {view:?}",
                b.db
            );
            // The map of Europe, and the flows of a dataset with origins.
            b.go("/explore?dataset=euaa/unhcr-asylum-applications&from=2015&to=2015&map=europe")
                .await;
            b.drawn("#map-chart").await;
            b.drawn("#flow-chart").await;
            b.shot("explore-map-flows").await;
            b.accessible("Explore with a map and a flow diagram").await;
        });
    }
}

#[test]
fn pages_without_data_pass_the_accessibility_check_too() {
    if !ready() {
        return;
    }
    let site = sites().into_iter().next().unwrap();
    rt().block_on(async {
        let b = browser(&site).await;
        b.go("/no-such-page").await;
        assert_eq!(b.text("h1").await, "Not found");
        b.accessible("the not-found page").await;
        b.go("/").await;
        b.accessible("the catalogue, signed out").await;
        b.go("/explore").await;
        b.drawn("#line-chart").await;
        b.accessible("Explore, signed out").await;
        // Every control is reachable by keyboard: tabbing from the top reaches the main links.
        b.go("/").await;
        let mut reached = Vec::new();
        for _ in 0..6 {
            b.c.active_element()
                .await
                .unwrap()
                .send_keys("\u{E004}")
                .await
                .unwrap();
            reached.push(
                b.c.execute(
                    "return document.activeElement.textContent.trim() || document.activeElement.id",
                    vec![],
                )
                .await
                .unwrap()
                .as_str()
                .unwrap_or("")
                .to_string(),
            );
        }
        assert!(
            reached.iter().any(|r| r == "Skip to content"),
            "{reached:?}"
        );
        assert!(reached.iter().any(|r| r == "Explore"), "{reached:?}");
    });
}

#[test]
fn pages_read_without_javascript() {
    if !ready() {
        return;
    }
    let site = sites().into_iter().next().unwrap();
    rt().block_on(async {
        let b = browser_with(&site, &["--blink-settings=scriptEnabled=false"]).await;
        b.sign_in("analyst@euaa.test").await;
        b.go("/explore?dataset=euaa/asylum-applicants-monthly&geo=DEU&from=2015-01&to=2015-02")
            .await;
        assert!(
            b.c.find(Locator::Css("figure[data-drawn]")).await.is_err(),
            "no script ran"
        );
        let alt = b
            .find("#line-chart .canvas")
            .await
            .attr("aria-label")
            .await
            .unwrap()
            .unwrap_or_default();
        assert!(
            alt.contains("Germany (DEU)") && alt.contains("2015-01 to 2015-02"),
            "the chart's text alternative: {alt}"
        );
        assert_eq!(
            b.table_rows("table.data").await,
            [["DEU", "2015-01", "25020"], ["DEU", "2015-02", "26075"]]
        );
        b.go("/datasets/euaa/asylum-applicants-monthly").await;
        assert!(b
            .body()
            .await
            .contains("The first 20 of 2,913 observations"));
        b.shot("dataset-without-javascript").await;
        // An upload works without the script too: the form posts, the page says where it is.
        b.sign_out().await;
        b.sign_in("admin@euaa.test").await;
        b.go("/upload?dataset=euaa/asylum-applicants-monthly").await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("one.csv");
        std::fs::write(
            &file,
            "indicator,geo,period,value\nasylum_applications,DEU,2015-13,1\n",
        )
        .unwrap();
        b.find("#file")
            .await
            .send_keys(file.to_str().unwrap())
            .await
            .unwrap();
        b.submit("#upload-form button[type=submit]").await;
        for _ in 0..50 {
            if b.c.find(Locator::Css("#refused")).await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            b.go(&b.url().await.replace(&b.base, "")).await;
        }
        assert!(b.text("#refused").await.contains("nothing was saved"));
    });
}

#[test]
fn a_new_user_sees_on_the_web_why_an_alert_fired_and_the_team_handles_it() {
    if !ready() {
        return;
    }
    for site in sites() {
        // EUAA watches monthly applications in three destinations over the rise of 2014-15,
        // with a plan that fires on Farrington alerts in all three.
        let (watch, plan, alert) = off(|| {
            let admin = site.app.act_as("admin@euaa.test").unwrap();
            let spec = nansen_app::WatchSpec {
                dataset: "euaa/asylum-applicants-monthly".into(),
                wheres: vec!["geo=DEU,HUN,SWE".into()],
                frequency: None,
                series_by: vec!["geo".into()],
                rules: vec![nansen_forecast::detect::Rule::parse("farrington").unwrap()],
                horizon: 3,
                lookback: 12,
                level: 80.0,
            };
            let w = site
                .app
                .create_watch(
                    &admin,
                    "euaa",
                    "Applications in three destinations",
                    spec,
                    &[],
                )
                .unwrap();
            let trigger = nansen_app::Trigger::Alerts {
                watch: w.id,
                rule: Some("farrington".into()),
                series: 3,
            };
            let actions = vec![nansen_app::Action {
                what: "Convene the contingency cell".into(),
                owner: "admin@euaa.test".into(),
                done: false,
            }];
            let p = site
                .app
                .create_plan(
                    &admin,
                    "euaa",
                    "Rise across destinations",
                    "",
                    nansen_app::PlanSpec {
                        triggers: vec![trigger],
                        actions,
                    },
                )
                .unwrap();
            let alerts = site.app.alerts(&admin, None).unwrap();
            let a = alerts
                .iter()
                .find(|a| a.series == "HUN" && a.period == "2015-02")
                .cloned()
                .unwrap_or_else(|| {
                    panic!(
                        "{:?}",
                        alerts
                            .iter()
                            .map(|a| (&a.series, &a.period))
                            .collect::<Vec<_>>()
                    )
                });
            (w, p, a)
        });
        rt().block_on(async {
            let b = browser(&site).await;
            // An analyst, new here, follows the navigation to the inbox and opens the alert.
            b.sign_in("analyst@euaa.test").await;
            b.submit("header nav a[href='/alerts']").await;
            assert_eq!(b.text("h1").await, "Alerts");
            b.shot("alerts-inbox").await;
            b.accessible("the alert inbox").await;
            b.submit(&format!("a[href='/alerts/{}']", alert.id)).await;
            let why = b.text("section.why").await;
            assert!(why.contains("Hungary") || why.contains("HUN"), "{}: {why}", b.db);
            assert!(why.contains(&format!("had {} in 2015-02", layout_number(alert.detail.observed))), "{}: {why}", b.db);
            assert!(why.contains(&format!("expected {}", layout_number(alert.detail.expected))), "{}: {why}", b.db);
            assert!(why.contains(&format!("alarms above {}", layout_number(alert.detail.upper))), "{}: {why}", b.db);
            assert!(why.contains("Farrington flexible method (Noufaily et al. 2013)"), "{}: the rule in words: {why}", b.db);
            let series = b.drawn("#alert-chart").await;
            assert!(series.contains(&"Expected".to_string()) && series.contains(&"Alarm threshold".to_string()), "{}: {series:?}", b.db);
            assert!(b.c.find(Locator::Css("#alert-status")).await.is_err(), "{}: an analyst reads but does not handle", b.db);
            b.shot("alert").await;
            b.accessible("an alert and why it fired").await;
            // The analyst comments; the admin acknowledges and assigns.
            b.fill("#comment-body", "The rise matches the Western Balkans route reports.").await;
            b.submit("form[action$='/comments'] button").await;
            assert!(b.body().await.contains("The rise matches the Western Balkans route reports."));
            b.sign_out().await;
            b.sign_in("admin@euaa.test").await;
            b.go(&format!("/alerts/{}", alert.id)).await;
            b.find("#alert-status").await.select_by_value("acknowledged").await.unwrap();
            b.find("#alert-assignee").await.select_by_value("analyst@euaa.test").await.unwrap();
            b.submit(&format!("form[action='/alerts/{}'] button", alert.id)).await;
            let handling = b.text("section[aria-labelledby=handling]").await;
            assert!(handling.contains("Assigned to: analyst@euaa.test"), "{}: {handling}", b.db);
            assert_eq!(b.text(".status").await, "Acknowledged");
            // The watched series: history, forecast fan and its alerts.
            b.go(&format!("/watches/{}?series=HUN", watch.id)).await;
            let series = b.drawn("#watch-chart").await;
            assert!(series.contains(&"Forecast".to_string()) && series.contains(&"80% interval".to_string()), "{}: {series:?}", b.db);
            assert_eq!(b.table_rows("div[aria-label=Forecast] table").await.len(), 3, "{}: three months ahead", b.db);
            b.shot("watch").await;
            b.accessible("a watched series with its forecast").await;
            // The plan says it is triggered, why, and since when; the checklist ticks.
            b.go(&format!("/plans/{}", plan.id)).await;
            assert!(b.text(".status").await.starts_with("Triggered since"), "{}", b.db);
            assert!(b.text("section[aria-labelledby=triggers]").await.contains("open farrington alerts of Applications in three destinations on 3 series"), "{}", b.db);
            b.submit("form[action$='/actions/1'] button").await;
            assert!(b.text("ul.checklist").await.contains("Done: Convene the contingency cell"), "{}", b.db);
            b.shot("plan").await;
            b.accessible("a contingency plan").await;
            // The backtest table of the dataset.
            b.go("/datasets/euaa/asylum-applicants-monthly/backtest?wheres=geo%3DDEU%2CSWE&series_by=geo&horizon=3&windows=6&model=all").await;
            let rows = b.table_rows("div[aria-label='Scores over all series'] table").await;
            assert_eq!(rows.iter().map(|r| r[0].as_str()).collect::<Vec<_>>(), ["naive", "snaive", "ets", "theta", "pooled", "auto"], "{}", b.db);
            b.shot("backtest").await;
            b.accessible("the backtest table").await;
            b.sign_out().await;
            // A third organisation finds nothing of it, not even that it exists.
            b.sign_in("officer@bamf.test").await;
            b.go("/alerts").await;
            assert!(b.body().await.contains("No alerts here"), "{}", b.db);
            for path in [format!("/alerts/{}", alert.id), format!("/watches/{}", watch.id), format!("/plans/{}", plan.id)] {
                let (status, _) = b.fetch(&path).await;
                assert_eq!(status, 404, "{}: {path}", b.db);
            }
        });
    }
}

/// A number as the pages write it.
fn layout_number(v: f64) -> String {
    let whole = v.round() as i64;
    let digits = whole.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[test]
fn a_pdf_uploaded_on_the_web_is_found_by_a_partner_by_a_word_of_its_third_page_and_by_no_third_organisation(
) {
    if !ready() {
        return;
    }
    let report = repo()
        .join("crates/nansen-extract/tests/fixtures/report.pdf")
        .canonicalize()
        .unwrap();
    for site in sites() {
        rt().block_on(async {
            let b = browser(&site).await;
            b.sign_in("admin@euaa.test").await;
            b.go("/documents/new").await;
            b.accessible("the page to add a document").await;
            b.find("#org").await.select_by_value("euaa").await.unwrap();
            b.find("#type")
                .await
                .select_by_value("report")
                .await
                .unwrap();
            b.fill("#countries", "Italy").await;
            b.fill("#date", "2025-06").await;
            b.click("#level-partners").await;
            b.click("#partner-iom").await;
            b.find("#file")
                .await
                .send_keys(report.to_str().unwrap())
                .await
                .unwrap();
            b.submit("form[action='/documents/new'] button[type=submit]")
                .await;
            assert_eq!(
                b.text("h1").await,
                "Reception conditions at Mediterranean arrival points",
                "{}: the title is read from the PDF",
                b.db
            );
            assert!(
                b.text("#text").await.contains("Text of version 1"),
                "{}",
                b.db
            );
            assert!(
                b.body()
                    .await
                    .contains("The Lampedusa hotspot needs a second medical team"),
                "{}: the text of page 3 reads on the page",
                b.db
            );
            b.shot("document").await;
            b.accessible("a document page").await;
            let path = b
                .url()
                .await
                .split_once(&b.base)
                .map(|(_, p)| p.to_string())
                .unwrap();
            b.sign_out().await;

            b.sign_in("admin@iom.test").await;
            b.go("/search").await;
            b.fill("#q", "lampedusa").await;
            b.submit("form.search button[type=submit]").await;
            assert_eq!(b.text("#found").await, "1 result", "{}", b.db);
            assert_eq!(
                b.text(".hit .snippet mark").await,
                "Lampedusa",
                "{}: the word is highlighted",
                b.db
            );
            assert!(b.text(".facet").await.contains("Report (1)"), "{}", b.db);
            b.shot("search").await;
            b.accessible("search results with facets").await;
            b.submit(".hit h3 a").await;
            assert!(b.url().await.ends_with(&path), "{}", b.db);
            assert_eq!(
                b.fetch(&format!("{path}/file")).await.0,
                200,
                "{}: the partner downloads the file",
                b.db
            );
            b.sign_out().await;

            b.sign_in("officer@bamf.test").await;
            b.go("/search?q=lampedusa").await;
            assert_eq!(
                b.text("#found").await,
                "0 results",
                "{}: a third organisation finds nothing",
                b.db
            );
            assert!(!b.body().await.contains("Reception conditions"), "{}", b.db);
            b.go(&path).await;
            assert_eq!(
                b.text("h1").await,
                "Not found",
                "{}: nor by its address",
                b.db
            );
            assert_eq!(
                b.fetch(&format!("{path}/file")).await.0,
                404,
                "{}: nor its file",
                b.db
            );
        });
    }
}

#[test]
fn a_case_moves_on_the_web_as_its_workflow_allows_and_each_role_sees_only_what_it_may() {
    if !ready() {
        return;
    }
    for site in sites() {
        let (name, id) = off(|| {
            let op = Caller::operator();
            for (email, org, role, supervisor) in [
                ("caseworker@euaa.test", "euaa", Role::Caseworker, false),
                ("supervisor@euaa.test", "euaa", Role::Caseworker, true),
                ("protection@euaa.test", "euaa", Role::Protection, false),
                ("caseworker@iom.test", "iom", Role::Caseworker, false),
            ] {
                site.app
                    .add_user_as(&op, email, org, (role, supervisor), PASSWORD)
                    .unwrap();
            }
            let admin = site.app.act_as("admin@euaa.test").unwrap();
            let name: nansen_model::ProgrammeName = "euaa/relocation".parse().unwrap();
            site.app
                .add_programme(
                    &admin,
                    nansen_app::NewProgramme {
                        name: name.clone(),
                        kind: nansen_cases::ProgrammeKind::Relocation,
                        title: "Relocation from Greece".into(),
                        partners: vec!["iom".into()],
                        receiving: vec!["bamf".into()],
                        starts_on: None,
                        ends_on: None,
                        retention_days: None,
                    },
                )
                .unwrap();
            site.app
                .set_pledge(
                    &admin,
                    &name,
                    nansen_app::PledgeInput {
                        languages: Vec::new(),
                        prefers: Vec::new(),
                        excludes: Vec::new(),
                        state: "DEU".into(),
                        places: 100,
                        uam_places: 10,
                        medical_places: 5,
                        starts_on: None,
                        ends_on: None,
                        note: String::new(),
                    },
                )
                .unwrap();
            let case = nansen_cases::CaseFile::from_json(
                r#"{"members": [{"given_name": "Zarifa", "family_name": "Ahmadi", "birth_date": "1990-04-02", "sex": "F", "nationality": "AFG", "languages": ["fa"], "relationship": "principal"}],
                    "needs": ["SM-CI"], "consents": [{"purpose": "referral", "partner": "iom"}], "medical": "insulin twice a day"}"#,
            )
            .unwrap();
            let worker = site.app.act_as("caseworker@euaa.test").unwrap();
            let id = site.app.add_case(&worker, &name, case).unwrap().id;
            (name, id)
        });
        let case_page = format!("/cases/{id}");
        rt().block_on(async {
            let b = browser(&site).await;
            b.sign_in("caseworker@euaa.test").await;
            b.go("/programmes").await;
            b.submit("a[href='/programmes/euaa/relocation']").await;
            let rows = b
                .table_rows("section[aria-labelledby='by-state'] table")
                .await;
            assert_eq!(rows[0][0], "Germany (DEU)", "{}: {rows:?}", b.db);
            assert_eq!(rows[0][1], "100", "{}: the pledge beside its state", b.db);
            b.accessible("a programme's dashboard").await;
            b.shot("operations-dashboard").await;
            b.go(&format!("/programmes/{}/{}/cases", name.org, name.slug))
                .await;
            assert!(b.body().await.contains("Zarifa Ahmadi"), "{}", b.db);
            b.accessible("a caseworker's list").await;
            b.submit(&format!("a[href='{case_page}']")).await;
            let body = b.body().await;
            assert!(
                body.contains("Zarifa") && body.contains("1990-04-02"),
                "{}",
                b.db
            );
            assert!(
                !body.contains("insulin"),
                "{}: a caseworker not assigned sees no medical section",
                b.db
            );
            b.submit("form[action$='/assignee'] button.secondary").await;
            assert!(
                b.body().await.contains("insulin twice a day"),
                "{}: the assigned caseworker does",
                b.db
            );
            b.click("#match-state option[value=DEU]").await;
            b.submit("form[action$='/match'] button").await;
            b.submit("form[action$='/move'] button[type=submit]").await;
            assert!(
                b.text("#process + dl").await.contains("assessed"),
                "{}",
                b.db
            );
            b.submit("form[action$='/move'] button[type=submit]").await;
            assert!(
                b.body().await.contains("Waiting for approval"),
                "{}: ready for matching needs a supervisor",
                b.db
            );
            b.fill("#refer-to", "iom").await;
            b.click("input[name=sections][value=identity]").await;
            b.fill("#refer-reason", "transport to the airport").await;
            b.submit("form[action$='/referrals'] button[type=submit]")
                .await;
            assert!(
                b.body().await.contains("transport to the airport"),
                "{}",
                b.db
            );
            let dir = tempfile::tempdir().unwrap();
            let scan = dir.path().join("medical-report.pdf");
            std::fs::write(&scan, "%PDF-1.4 insulin prescription").unwrap();
            b.click("#doc-section option[value=medical]").await;
            b.find("#doc-file")
                .await
                .send_keys(scan.to_str().unwrap())
                .await
                .unwrap();
            b.submit("form[action$='/documents'] button[type=submit]")
                .await;
            let link = b
                .find("#documents + ul a")
                .await
                .attr("href")
                .await
                .unwrap()
                .unwrap();
            let (status, file) = b.fetch(&link).await;
            assert_eq!(
                (status, file.as_str()),
                (200, "%PDF-1.4 insulin prescription"),
                "{}",
                b.db
            );
            b.accessible("a case page with its forms").await;
            b.shot("operations-case").await;
            b.sign_out().await;

            b.sign_in("supervisor@euaa.test").await;
            b.go(&case_page).await;
            b.submit("form[action$='/approval'] button[value=false]")
                .await;
            assert!(
                b.text("#process + dl").await.contains("ready for matching"),
                "{}: approved",
                b.db
            );
            b.sign_out().await;

            b.sign_in("caseworker@iom.test").await;
            b.go(&case_page).await;
            assert_eq!(
                b.text("h1").await,
                "Not found",
                "{}: not before accepting",
                b.db
            );
            b.go("/referrals").await;
            b.accessible("the referral inbox").await;
            b.submit("form[action$='/accept'] button").await;
            b.go(&case_page).await;
            let body = b.body().await;
            assert!(
                body.contains("Zarifa"),
                "{}: the identity section sent",
                b.db
            );
            assert!(
                !body.contains("Process") && !body.contains("insulin"),
                "{}: and nothing else",
                b.db
            );
            assert!(
                !body.contains("medical-report.pdf"),
                "{}: nor the medical section's document",
                b.db
            );
            assert_eq!(b.fetch(&link).await.0, 404, "{}", b.db);
            b.sign_out().await;

            b.sign_in("protection@euaa.test").await;
            b.go(&case_page).await;
            assert!(b.body().await.contains("Chronic illness"), "{}", b.db);
            b.sign_out().await;

            b.sign_in("analyst@euaa.test").await;
            b.go("/programmes/euaa/relocation").await;
            let rows = b
                .table_rows("section[aria-labelledby='by-state'] table")
                .await;
            assert_eq!(
                rows[0][2..4],
                ["1".to_string(), "1".to_string()],
                "{}: Zarifa reached identified and assessed, in Germany: {rows:?}",
                b.db
            );
            b.go(&case_page).await;
            assert_eq!(
                b.text("h1").await,
                "Not found",
                "{}: analysts see no case",
                b.db
            );
            b.go("/programmes").await;
            b.sign_out().await;

            b.sign_in("officer@bamf.test").await;
            b.go("/programmes/euaa/relocation").await;
            assert!(
                b.body().await.contains("disclosure-controlled"),
                "{}: a receiving partner reads the pipeline dataset instead",
                b.db
            );
            b.go(&case_page).await;
            assert_eq!(b.text("h1").await, "Not found", "{}", b.db);
        });
    }
}

#[test]
fn a_returnee_s_follow_up_is_recorded_on_the_web_and_a_wrong_one_is_refused_with_its_reason() {
    if !ready() {
        return;
    }
    for site in sites() {
        let id = off(|| {
            let op = Caller::operator();
            site.app
                .add_user_as(
                    &op,
                    "caseworker@iom.test",
                    "iom",
                    (Role::Caseworker, false),
                    PASSWORD,
                )
                .unwrap();
            let worker = site.app.act_as("caseworker@iom.test").unwrap();
            let name: nansen_model::ProgrammeName = "iom/avrr".parse().unwrap();
            site.app
                .add_programme(
                    &site.app.act_as("admin@iom.test").unwrap(),
                    nansen_app::NewProgramme {
                        name: name.clone(),
                        kind: nansen_cases::ProgrammeKind::Return,
                        title: "Assisted voluntary return".into(),
                        partners: vec![],
                        receiving: vec![],
                        starts_on: None,
                        ends_on: None,
                        retention_days: None,
                    },
                )
                .unwrap();
            let case = nansen_cases::CaseFile::from_json(
                r#"{"members": [{"given_name": "Bashir", "family_name": "Noori", "birth_date": "1988-07-01", "sex": "M", "nationality": "AFG", "relationship": "principal"}]}"#,
            )
            .unwrap();
            site.app.add_case(&worker, &name, case).unwrap().id
        });
        rt().block_on(async {
            let b = browser(&site).await;
            b.sign_in("caseworker@iom.test").await;
            b.go(&format!("/cases/{id}")).await;
            b.fill("#fu-on", "2999-01-01").await;
            b.fill("#fu-economic", "0.6").await;
            b.fill("#fu-social", "0.7").await;
            b.fill("#fu-psychosocial", "0.5").await;
            b.submit("form[action$='/follow-ups'] button[type=submit]")
                .await;
            assert!(
                b.body().await.contains("2999-01-01 is in the future"),
                "{}: a survey from the future is refused with its reason",
                b.db
            );
            b.go(&format!("/cases/{id}")).await;
            assert!(
                !b.body().await.contains("Follow-up surveys:"),
                "{}: and nothing was recorded",
                b.db
            );
            b.fill("#fu-on", "2026-03-01").await;
            b.fill("#fu-economic", "0.6").await;
            b.fill("#fu-social", "0.7").await;
            b.fill("#fu-psychosocial", "0.5").await;
            b.fill("#fu-note", "runs a small shop").await;
            b.submit("form[action$='/follow-ups'] button[type=submit]")
                .await;
            let rows = b.table_rows("#follow-ups + div table").await;
            assert_eq!(
                rows,
                vec![vec![
                    "2026-03-01".to_string(),
                    "0.6".into(),
                    "0.7".into(),
                    "0.5".into(),
                    "runs a small shop".into(),
                    "caseworker@iom.test".into(),
                ]],
                "{}",
                b.db
            );
            b.accessible("a return case with its follow-ups").await;
        });
    }
}

#[test]
fn a_matching_proposal_goes_from_creation_through_a_what_if_to_acceptance_and_a_decline_returns_the_case(
) {
    if !ready() {
        return;
    }
    for site in sites() {
        let amal = off(|| {
            let op = Caller::operator();
            site.app
                .add_org_of(&op, "migrationsverket", "Migrationsverket", Some("SWE"))
                .unwrap();
            site.app
                .add_user_as(
                    &op,
                    "officer@migrationsverket.test",
                    "migrationsverket",
                    (Role::Caseworker, false),
                    PASSWORD,
                )
                .unwrap();
            let admin = site.app.act_as("admin@euaa.test").unwrap();
            let name: nansen_model::ProgrammeName = "euaa/relocation".parse().unwrap();
            site.app
                .add_programme(
                    &admin,
                    nansen_app::NewProgramme {
                        name: name.clone(),
                        kind: nansen_cases::ProgrammeKind::Relocation,
                        title: "Relocation from Malta".into(),
                        partners: vec![],
                        receiving: vec!["migrationsverket".into()],
                        starts_on: None,
                        ends_on: None,
                        retention_days: None,
                    },
                )
                .unwrap();
            site.app
                .set_pledge(
                    &admin,
                    &name,
                    nansen_app::PledgeInput {
                        languages: vec!["sv".into(), "ar".into()],
                        prefers: Vec::new(),
                        excludes: Vec::new(),
                        state: "SWE".into(),
                        places: 4,
                        uam_places: 0,
                        medical_places: 0,
                        starts_on: None,
                        ends_on: None,
                        note: String::new(),
                    },
                )
                .unwrap();
            let mut ids = Vec::new();
            for (given, persons) in [("Amal", 2), ("Bruno", 5)] {
                let members: Vec<String> = (0..persons)
                    .map(|i| format!(r#"{{"given_name": "{given}{i}", "family_name": "{given}", "birth_date": "199{i}-02-03", "sex": "F", "nationality": "SYR", "languages": ["ar"], "relationship": "{}"}}"#, if i == 0 { "principal" } else { "sibling" }))
                    .collect();
                let file = nansen_cases::CaseFile::from_json(&format!(
                    r#"{{"members": [{}], "consents": [{{"purpose": "referral", "partner": "migrationsverket"}}]}}"#,
                    members.join(", ")
                ))
                .unwrap();
                let id = site.app.add_case(&op, &name, file).unwrap().id;
                for stage in ["assessed", "ready-for-matching"] {
                    site.app.move_case(&op, &id, stage, None, None).unwrap();
                }
                ids.push(id);
            }
            ids.swap_remove(0)
        });
        rt().block_on(async {
            let b = browser(&site).await;
            b.sign_in("admin@euaa.test").await;
            b.go("/programmes/euaa/relocation").await;
            b.submit("a[href='/programmes/euaa/relocation/matching']")
                .await;
            b.submit("form[action$='/matching/proposals'] button[type=submit]")
                .await;
            let first = b.url().await;
            assert!(first.contains("/proposals/"), "{}: {first}", b.db);
            let body = b.body().await;
            assert!(body.contains("Proven bound"), "{}: {body}", b.db);
            assert!(body.contains("1 of 2 cases"), "{}", b.db);
            assert!(
                body.contains(
                    "it needs 5 persons places, more than any state that may receive it has"
                ),
                "{}: Bruno is too large for Sweden's four places",
                b.db
            );
            let row = b.text(&format!("tr:has(a[href='/cases/{amal}'])")).await;
            assert!(row.contains("Sweden"), "{}: {row}", b.db);
            assert!(row.contains("language 0.35"), "{}: {row}", b.db);
            b.accessible("a matching proposal").await;

            // What if Amal may not go to Sweden?
            b.fill("#forbids", &format!("{amal}=SWE")).await;
            b.submit("form[action$='/matching/proposals'] button[type=submit]")
                .await;
            let moved = b.text("#moved + ul").await;
            assert!(
                moved.contains(&amal) && moved.contains("Sweden (SWE) → unassigned"),
                "{}: {moved}",
                b.db
            );

            // Back to the first proposal: accept Amal.
            let path = first
                .split_once("/proposals/")
                .map(|(_, id)| format!("/proposals/{id}"))
                .unwrap();
            b.go(&path).await;
            b.submit(&format!("button[aria-label='Accept case {amal}']"))
                .await;
            let said = b.text("[role=status]").await;
            assert!(
                said.contains("1 cases matched and moved on"),
                "{}: {said}",
                b.db
            );
            b.go(&path).await;
            let row = b.text(&format!("tr:has(a[href='/cases/{amal}'])")).await;
            assert!(row.contains("accepted, referral"), "{}: {row}", b.db);
            b.sign_out().await;

            // Sweden declines, saying why: Amal is back at ready for matching.
            b.sign_in("officer@migrationsverket.test").await;
            b.go("/referrals").await;
            assert!(
                b.text("#incoming ~ [role=status]")
                    .await
                    .contains("1 waiting"),
                "{}",
                b.db
            );
            b.fill("input[name=note]", "no family housing until June")
                .await;
            b.submit(&format!(
                "button[aria-label='Decline the referral of case {amal}']"
            ))
            .await;
            b.accessible("the receiving state's referrals").await;
        });
        let case = off(|| site.app.case(&Caller::operator(), &amal).unwrap());
        let process = case.process.unwrap();
        assert_eq!(
            (process.stage.as_str(), process.state),
            ("ready-for-matching", None),
            "{}: a declined match returns the case to matching",
            site.t.name
        );
        assert_eq!(
            process.history.last().unwrap().note.as_deref(),
            Some("migrationsverket declined: no family housing until June")
        );
    }
}

#[test]
fn a_reporter_uploads_a_return_on_the_web_a_reviewer_comments_and_approves_it_and_the_heat_map_says_approved(
) {
    if !ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("january-bad.csv");
    std::fs::write(&bad, "origin,sex,asylum_applications\nSYR,X,120\n").unwrap();
    let good = dir.path().join("january.csv");
    std::fs::write(
        &good,
        "origin,sex,asylum_applications\nSYR,F,120\nAFG,M,40\n",
    )
    .unwrap();
    for site in sites() {
        off(|| {
            let op = Caller::operator();
            site.app
                .add_org_of(&op, "destatis", "Federal Statistical Office", Some("DEU"))
                .unwrap();
            site.app
                .add_user(
                    &op,
                    "stats@destatis.test",
                    "destatis",
                    Role::Editor,
                    PASSWORD,
                )
                .unwrap();
            let admin = site.app.act_as("admin@euaa.test").unwrap();
            site.app
                .add_template(
                    &admin,
                    &"euaa/eps".parse().unwrap(),
                    "title = \"Monthly asylum applications (EPS)\"\nfrequency = \"month\"\ndeadline_days = 17\nreporters = [\"destatis\"]\n[dimensions]\norigin = \"countries\"\nsex = [\"F\", \"M\"]\n[[indicators]]\nname = \"asylum_applications\"\n",
                )
                .unwrap();
        });
        rt().block_on(async {
            let b = browser(&site).await;
            b.sign_in("stats@destatis.test").await;
            b.go("/reporting").await;
            b.submit("a[href='/templates/euaa/eps']").await;
            b.accessible("a template's page").await;
            b.fill("#period", "2026-01").await;
            b.find("#return-file")
                .await
                .send_keys(bad.to_str().unwrap())
                .await
                .unwrap();
            b.submit("form[action$='/submissions'] button[type=submit]")
                .await;
            let said = b.body().await;
            assert!(
                said.contains("row 2, column sex: \"X\" is not one of F, M"),
                "{}: {said}",
                b.db
            );
            b.go("/templates/euaa/eps").await;
            b.fill("#period", "2026-01").await;
            b.find("#return-file")
                .await
                .send_keys(good.to_str().unwrap())
                .await
                .unwrap();
            b.submit("form[action$='/submissions'] button[type=submit]")
                .await;
            let submission = b.url().await;
            assert!(
                submission.contains("/submissions/"),
                "{}: {submission}",
                b.db
            );
            let body = b.body().await;
            assert!(body.contains("Status: submitted"), "{}: {body}", b.db);
            assert!(
                !body.contains("Approve into the dataset"),
                "{}: a reporter does not decide",
                b.db
            );
            b.sign_out().await;

            b.sign_in("admin@euaa.test").await;
            let path = submission
                .split_once("/submissions/")
                .map(|(_, id)| format!("/submissions/{id}"))
                .unwrap();
            b.go(&path).await;
            b.fill("#cell", "SYR.F.asylum_applications").await;
            b.fill("#text", "Twice December's figure?").await;
            b.submit("form[action$='/comments'] button[type=submit]")
                .await;
            let body = b.body().await;
            assert!(body.contains("Status: has-issues"), "{}: {body}", b.db);
            assert!(
                body.contains("On SYR.F.asylum_applications"),
                "{}: {body}",
                b.db
            );
            b.accessible("a submission's page").await;
            b.submit("form[action$='/approve'] button[type=submit]")
                .await;
            let body = b.body().await;
            assert!(
                body.contains("landed as version 1 of the dataset"),
                "{}: {body}",
                b.db
            );
            b.go("/templates/euaa/eps?from=2026-01&to=2026-02").await;
            let row = b.text("table.heat-map tbody tr").await;
            assert!(
                row.starts_with("destatis approved") && row.contains("days late overdue"),
                "{}: {row}",
                b.db
            );
            assert!(row.contains("0 of 2 on time"), "{}: {row}", b.db);
        });
    }
}

#[test]
fn a_reporter_follows_the_reminder_e_mail_to_the_grid_form_and_the_approved_figure_is_in_explore() {
    if !ready() {
        return;
    }
    let smtp = nansen_mail::testing::SmtpServer::start();
    for site in sites() {
        let period = off(|| {
            let op = Caller::operator();
            site.app
                .add_org_of(&op, "destatis", "Federal Statistical Office", Some("DEU"))
                .unwrap();
            site.app
                .add_user(
                    &op,
                    "stats@destatis.test",
                    "destatis",
                    Role::Editor,
                    PASSWORD,
                )
                .unwrap();
            let admin = site.app.act_as("admin@euaa.test").unwrap();
            site.app
                .add_template(
                    &admin,
                    &"euaa/eps".parse().unwrap(),
                    "title = \"Monthly asylum applications (EPS)\"\nfrequency = \"month\"\ndeadline_days = 17\nreporters = [\"destatis\"]\n[dimensions]\norigin = \"countries\"\nsex = [\"F\", \"M\"]\n[[indicators]]\nname = \"asylum_applications\"\n[[indicators]]\nname = \"asylum_applications_first_time\"\n[[rules]]\ncheck = \"asylum_applications_first_time <= asylum_applications\"\nmessage = \"first-time applicants cannot outnumber all applicants\"\n",
                )
                .unwrap();
            site.app.set_reminders(nansen_app::ReminderSettings {
                mailer: Some(
                    nansen_app::Mailer::new(
                        &smtp.url,
                        "Nansen <nansen@euaa.test>",
                        Duration::from_secs(5),
                    )
                    .unwrap(),
                ),
                public_url: site.base.clone(),
            });
            // The reminder round on the day before this month's deadline.
            let today = nansen_model::Timestamp::now().day();
            let month =
                nansen_gathering::Period::containing(nansen_gathering::Frequency::Month, today);
            let sent = site
                .app
                .send_reminders(month.deadline(17) - time::Duration::days(1))
                .unwrap();
            assert_eq!(sent.len(), 1, "{}", site.t.name);
            month.to_string()
        });
        let mail = smtp
            .received()
            .into_iter()
            .rev()
            .find(|m| m.text().contains(&site.base))
            .expect("the reminder e-mail");
        assert_eq!(mail.to, vec!["stats@destatis.test"]);
        let link = mail
            .text()
            .lines()
            .find(|l| l.starts_with(&site.base))
            .expect("a link in the e-mail")
            .trim()
            .to_string();
        assert!(
            link.ends_with(&format!(
                "/templates/euaa/eps/form?period={period}&reporter=destatis"
            )),
            "{link}"
        );
        rt().block_on(async {
            let b = browser(&site).await;
            // Not signed in: the link goes through signing in and back to the form.
            b.c.goto(&link).await.unwrap();
            b.fill("#email", "stats@destatis.test").await;
            b.fill("#password", PASSWORD).await;
            b.submit("form[action='/sign-in'] button[type=submit]").await;
            let at = b.url().await;
            assert!(at.ends_with(&link[site.base.len()..]), "{}: {at}", b.db);
            b.accessible("the grid form of a return").await;
            let cell = |key: &str, col: &str| format!("tr[data-key='{key}'] input[data-col='{col}']");
            b.fill(&cell("SYR.F", "asylum_applications"), "120").await;
            b.fill(&cell("SYR.F", "asylum_applications_first_time"), "130").await;
            b.fill(&cell("AFG.M", "asylum_applications"), "-4").await;
            b.submit("button[value=save]").await;
            let body = b.body().await;
            assert!(body.contains("Draft saved by stats@destatis.test"), "{}: {body}", b.db);
            let bad = b.text("tr[data-key='AFG.M'] td.invalid .cell-problem").await;
            assert_eq!(bad, "\"-4\" is not a count (a whole number from 0)", "{}", b.db);
            let rule = b.text("tr[data-key='SYR.F'] td.row-problem").await;
            assert!(rule.contains("first-time applicants cannot outnumber all applicants"), "{}: {rule}", b.db);
            b.shot("return-form").await;

            // The draft is kept as typed, problems and all, until it is submitted.
            b.go("/templates/euaa/eps").await;
            let body = b.body().await;
            assert!(
                body.contains(&format!("Drafts kept until submitted: {period} for destatis")),
                "{}: {body}",
                b.db
            );
            b.c.goto(&link).await.unwrap();
            let kept = b
                .find(&cell("AFG.M", "asylum_applications"))
                .await
                .prop("value")
                .await
                .unwrap();
            assert_eq!(kept.as_deref(), Some("-4"), "{}", b.db);
            b.fill(&cell("SYR.F", "asylum_applications_first_time"), "100").await;
            b.fill(&cell("AFG.M", "asylum_applications"), "40").await;
            b.submit("button[value=submit]").await;
            let submission = b.url().await;
            assert!(submission.contains("/submissions/"), "{}: {submission}", b.db);
            let body = b.body().await;
            assert!(body.contains("Status: submitted"), "{}: {body}", b.db);
            b.sign_out().await;

            b.sign_in("admin@euaa.test").await;
            let path = submission
                .split_once("/submissions/")
                .map(|(_, id)| format!("/submissions/{id}"))
                .unwrap();
            b.go(&path).await;
            b.submit("form[action$='/approve'] button[type=submit]").await;
            let body = b.body().await;
            assert!(body.contains("landed as version 1 of the dataset"), "{}: {body}", b.db);
            b.go("/templates/euaa/eps").await;
            let reminders = b.text("table.reminders tbody tr").await;
            assert!(
                reminders.contains("destatis") && reminders.contains("before") && reminders.contains("sent to stats@destatis.test"),
                "{}: {reminders}",
                b.db
            );
            b.go(&format!(
                "/explore?dataset=euaa/eps&indicator=asylum_applications&f.origin=SYR&f.sex=F&from={period}&to={period}"
            ))
            .await;
            let body = b.body().await;
            assert!(body.contains("120"), "{}: the approved figure is in Explore: {body}", b.db);
        });
    }
}

//! `nansen demo`: a fresh data directory with a small, attributed subset of real published
//! data (see demo/README.md), three organisations and datasets at every sharing level.

use anyhow::{bail, Context, Result};
use nansen_app::{App, Caller, ImportRequest};
use nansen_formats::{ImportOptions, Mapping};
use nansen_model::DatasetName;
use nansen_model::{Role, Sharing};
use std::path::Path;
use std::sync::Arc;

const MARKER: &str = ".nansen-demo";

struct DemoDataset {
    org: &'static str,
    slug: &'static str,
    file: &'static str,
    bytes: &'static [u8],
    sharing: &'static str,
    sensitive: bool,
    title: &'static str,
    source: &'static str,
    licence: &'static str,
    frequency: &'static str,
    tags: &'static [&'static str],
    description: &'static str,
    mapping: Option<&'static str>,
}

const EUROSTAT: &str = "Eurostat, reuse with attribution (extract published by journalists, MIT)";

const DATASETS: &[DemoDataset] = &[
    DemoDataset {
        org: "euaa",
        slug: "asylum-applicants-monthly",
        file: "migr_asyappctzm_2008-2015_monthly_by_destination.csv",
        bytes: include_bytes!("../../../demo/migr_asyappctzm_2008-2015_monthly_by_destination.csv"),
        sharing: "public",
        sensitive: false,
        title: "Asylum applicants by destination, monthly, 2008-2015 (Eurostat)",
        source: "Eurostat migr_asyappctzm, legacy bulk download",
        licence: EUROSTAT,
        frequency: "monthly",
        tags: &["asylum", "applications", "eurostat"],
        description: "Monthly asylum applicants (all and first-time) in the EU-28 and 33 destination countries. Counts are rounded to the nearest 5; the last month (2015-05) is incomplete.",
        mapping: None,
    },
    DemoDataset {
        org: "euaa",
        slug: "first-instance-decisions",
        file: "migr_asydcfsta_2017-04-26.csv",
        bytes: include_bytes!("../../../demo/migr_asydcfsta_2017-04-26.csv"),
        sharing: "partners:iom",
        sensitive: false,
        title: "First-instance asylum decisions, annual (Eurostat)",
        source: "Eurostat migr_asydcfsta, extracted 2017-04-26",
        licence: EUROSTAT,
        frequency: "annual",
        tags: &["asylum", "decisions", "recognition", "eurostat"],
        description: "Total, positive and rejected first-instance decisions by destination and citizenship group.",
        mapping: None,
    },
    DemoDataset {
        org: "euaa",
        slug: "population",
        file: "demo_pjan_1_Data.csv",
        bytes: include_bytes!("../../../demo/demo_pjan_1_Data.csv"),
        sharing: "public",
        sensitive: false,
        title: "Population on 1 January (Eurostat)",
        source: "Eurostat demo_pjan",
        licence: EUROSTAT,
        frequency: "annual",
        tags: &["population", "eurostat"],
        description: "Resident population on 1 January, for rates per 100,000 inhabitants.",
        mapping: None,
    },
    DemoDataset {
        org: "euaa",
        slug: "unhcr-asylum-applications",
        file: "unhcr-asylum-applications-2008-2016.csv",
        bytes: include_bytes!("../../../demo/unhcr-asylum-applications-2008-2016.csv"),
        sharing: "listed",
        sensitive: false,
        title: "Asylum applications in Europe, annual, 2008-2016 (UNHCR)",
        source: "UNHCR Refugee Population Statistics, asylum applications (refugees R package)",
        licence: "CC BY 4.0, UNHCR",
        frequency: "annual",
        tags: &["asylum", "applications", "unhcr"],
        description: "Applications by country of origin and of asylum, procedure type, application type and decision level, for EU+ countries of asylum.",
        mapping: None,
    },
    DemoDataset {
        org: "bamf",
        slug: "refugee-population",
        file: "unhcr-population-2010-2024.csv",
        bytes: include_bytes!("../../../demo/unhcr-population-2010-2024.csv"),
        sharing: "private",
        sensitive: false,
        title: "Refugees, asylum seekers and others of concern in Europe, 2010-2024 (UNHCR)",
        source: "UNHCR Refugee Population Statistics, population (refugees R package)",
        licence: "CC BY 4.0, UNHCR",
        frequency: "annual",
        tags: &["refugees", "stocks", "unhcr"],
        description: "End-year stocks by country of origin and of asylum. Kept private by the Member State in this demo.",
        mapping: None,
    },
    DemoDataset {
        org: "iom",
        slug: "dtm-afghanistan-idps",
        file: "dtm-afghanistan-admin1.json",
        bytes: include_bytes!("../../../demo/dtm-afghanistan-admin1.json"),
        sharing: "partners:euaa",
        sensitive: true,
        title: "Internally displaced persons in Afghanistan by province (IOM DTM)",
        source: "IOM Displacement Tracking Matrix API v3, admin 1 (via HDX, MIT fixtures)",
        licence: "IOM DTM terms of use, via HDX",
        frequency: "quarterly",
        tags: &["idps", "afghanistan", "dtm"],
        description: "IDPs present by province, reporting round and reason for displacement. Sensitive: small counts are suppressed for readers outside IOM.",
        mapping: None,
    },
    DemoDataset {
        org: "iom",
        slug: "missing-migrants-2017",
        file: "missing-migrants-2017.json",
        bytes: include_bytes!("../../../demo/missing-migrants-2017.json"),
        sharing: "public",
        sensitive: false,
        title: "Dead and missing migrants, 2017 (IOM Missing Migrants Project)",
        source: "IOM Missing Migrants Project incidents (via HDX, MIT fixtures)",
        licence: "IOM Missing Migrants Project, via HDX",
        frequency: "monthly",
        tags: &["dead and missing", "routes", "mmp"],
        description: "Incidents summed by month, country of incident, route and cause.",
        mapping: Some(include_str!("../../../demo/missing-migrants.toml")),
    },
];

/// The demo's platform operator (EUAA hosts the platform in the demo).
const OPERATOR: &str = "admin@euaa.demo";

const USERS: &[(&str, &str, Role)] = &[
    ("admin@euaa.demo", "euaa", Role::Admin),
    ("analyst@euaa.demo", "euaa", Role::Analyst),
    ("admin@iom.demo", "iom", Role::Admin),
    ("officer@bamf.demo", "bamf", Role::Admin),
];

/// Who works on the demo's cases: `(email, organisation, role, supervisor)`.
const CASE_USERS: &[(&str, &str, Role, bool)] = &[
    ("caseworker@euaa.demo", "euaa", Role::Caseworker, true),
    ("protection@euaa.demo", "euaa", Role::Protection, false),
    ("caseworker@iom.demo", "iom", Role::Caseworker, false),
];

/// Builds the demo data directory, replacing an earlier demo but nothing else.
pub fn build(data_dir: &Path, database_url: Option<&str>) -> Result<(Arc<App>, String)> {
    if database_url.is_some() {
        bail!(
            "nansen demo builds an embedded SQLite data directory; run it without --database-url"
        );
    }
    if data_dir.exists() && std::fs::read_dir(data_dir)?.next().is_some() {
        if !data_dir.join(MARKER).exists() {
            bail!(
                "{} is not empty and was not made by nansen demo; choose another --data-dir",
                data_dir.display()
            );
        }
        std::fs::remove_dir_all(data_dir)
            .with_context(|| format!("cannot clear {}", data_dir.display()))?;
    }
    std::fs::create_dir_all(data_dir)?;
    std::fs::write(
        data_dir.join(MARKER),
        "made by nansen demo; `nansen demo` may replace this directory\n",
    )?;
    let app = App::open(data_dir, None)?;
    let op = Caller::operator();
    for (slug, name, country) in [
        ("euaa", "European Union Agency for Asylum", None),
        ("iom", "International Organization for Migration", None),
        (
            "bamf",
            "Federal Office for Migration and Refugees (Germany)",
            Some("DEU"),
        ),
    ] {
        app.add_org_of(&op, slug, name, country)?;
    }
    let password = nansen_app::generate_password();
    for (email, org, role) in USERS {
        app.add_user(&op, email, org, *role, &password)?;
        if *email == OPERATOR {
            app.set_operator(&op, email, true)?;
        }
    }
    let files = data_dir.join("demo-files");
    std::fs::create_dir_all(&files)?;
    for d in DATASETS {
        let path = files.join(d.file);
        std::fs::write(&path, d.bytes)?;
        let options = ImportOptions {
            mapping: d.mapping.map(Mapping::parse).transpose()?,
            ..Default::default()
        };
        let req = ImportRequest {
            org: d.org.into(),
            slug: d.slug.into(),
            file_name: d.file.into(),
            options,
            share: Some(d.sharing.parse::<Sharing>().map_err(anyhow::Error::msg)?),
            title: Some(d.title.into()),
            sensitive: Some(d.sensitive),
            ..Default::default()
        };
        let admin = app.act_as(
            USERS
                .iter()
                .find(|u| u.1 == d.org)
                .map(|u| u.0)
                .unwrap_or("admin@euaa.demo"),
        )?;
        let r = app
            .import(&admin, &req, &path, &|_| {})
            .with_context(|| format!("importing the demo file {}", d.file))?;
        let meta = nansen_app::Metadata {
            source: Some(d.source.into()),
            licence: Some(d.licence.into()),
            update_frequency: Some(d.frequency.into()),
            tags: Some(d.tags.iter().map(|t| t.to_string()).collect()),
            description: Some(d.description.into()),
            ..Default::default()
        };
        app.set_metadata(&admin, &DatasetName::new(d.org, d.slug), &meta)?;
        eprintln!(
            "  {}/{}: {} observations, {}",
            d.org, d.slug, r.observations, d.sharing
        );
    }
    documents(&app)?;
    early_warning(&app)?;
    for (email, org, role, supervisor) in CASE_USERS {
        app.add_user_as(&op, email, org, (*role, *supervisor), &password)?;
    }
    operations(&app, &files)?;
    gathering(&app)?;
    std::fs::remove_dir_all(&files)?;
    let sign_ins: String = USERS
        .iter()
        .map(|(e, o, r)| (*e, *o, r.to_string()))
        .chain(CASE_USERS.iter().map(|(e, o, r, s)| {
            (
                *e,
                *o,
                if *s {
                    format!("{r}, supervisor")
                } else {
                    r.to_string()
                },
            )
        }))
        .map(|(e, o, r)| format!("  {e:<24} password {password}   ({r} of {o})\n"))
        .collect();
    std::fs::write(data_dir.join("demo-sign-ins.txt"), &sign_ins)?;
    Ok((Arc::new(app), sign_ins))
}

/// A document written for the demo (see demo/README.md): its file, owner, type, countries,
/// date and sharing.
type DemoDocument<'a> = (
    &'a str,
    &'a [u8],
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
);

const DOCUMENTS: &[DemoDocument] = &[
    (
        "reception-conditions.pdf",
        include_bytes!("../../../demo/documents/reception-conditions.pdf"),
        "euaa",
        "report",
        "ITA",
        "2025-06",
        "partners:iom",
    ),
    (
        "joint-consultation-minutes.md",
        include_bytes!("../../../demo/documents/joint-consultation-minutes.md"),
        "euaa",
        "minutes",
        "",
        "2025-11-20",
        "public",
    ),
    (
        "coi-note-afghanistan.html",
        include_bytes!("../../../demo/documents/coi-note-afghanistan.html"),
        "euaa",
        "coi",
        "AFG",
        "2025-09",
        "listed",
    ),
    (
        "retour-volontaire-aide.md",
        include_bytes!("../../../demo/documents/retour-volontaire-aide.md"),
        "iom",
        "guidance",
        "",
        "2024-03",
        "public",
    ),
    (
        "asylum-applications-ar.pdf",
        include_bytes!("../../../demo/documents/asylum-applications-ar.pdf"),
        "iom",
        "report",
        "SYR,AFG",
        "2024",
        "public",
    ),
];

/// A reporting template bamf reports to monthly: the last three months that have ended, the
/// first two approved into the dataset `euaa/eps-demo`, the last waiting for review. The
/// figures are made up for the demonstration, and the template's title says so.
fn gathering(app: &App) -> Result<()> {
    let admin = app.act_as("admin@euaa.demo")?;
    let bamf = app.act_as("officer@bamf.demo")?;
    let name = DatasetName::new("euaa", "eps-demo");
    app.add_template(
        &admin,
        &name,
        "title = \"Monthly asylum applications (EPS), demonstration returns\"\nfrequency = \"month\"\ndeadline_days = 17\nreporters = [\"bamf\"]\n[dimensions]\norigin = \"countries\"\nsex = [\"F\", \"M\", \"UNK\"]\n[[indicators]]\nname = \"asylum_applications\"\n[[indicators]]\nname = \"asylum_applications_first_time\"\n[[rules]]\ncheck = \"asylum_applications_first_time <= asylum_applications\"\nmessage = \"first-time applicants cannot outnumber all applicants\"\n",
    )?;
    let today = nansen_model::Timestamp::now().day();
    let month = today.year() * 12 + today.month() as i32 - 1;
    for back in (1..=3).rev() {
        let m = month - back;
        let period = format!("{}-{:02}", m / 12, m % 12 + 1);
        let mut csv =
            String::from("origin,sex,asylum_applications,asylum_applications_first_time\n");
        for (i, origin) in ["SYR", "AFG", "TUR", "IRQ"].iter().enumerate() {
            for (j, sex) in ["F", "M"].iter().enumerate() {
                let n = 400 / (i + 1) + 50 * j + 10 * back as usize;
                csv.push_str(&format!("{origin},{sex},{n},{}\n", n * 9 / 10));
            }
        }
        let s = app.submit(&bamf, &name, &period, &csv)?;
        if back > 1 {
            app.approve_submission(&admin, &s.id)?;
        }
    }
    eprintln!("  euaa/eps-demo: a reporting template, three months of bamf's returns");
    Ok(())
}

fn documents(app: &App) -> Result<()> {
    for (file, bytes, org, doc_type, countries, date, share) in DOCUMENTS {
        let admin = app.act_as(
            USERS
                .iter()
                .find(|u| u.1 == *org && u.2 == Role::Admin)
                .map(|u| u.0)
                .unwrap_or("admin@euaa.demo"),
        )?;
        let new = nansen_app::NewDocument {
            org: org.to_string(),
            doc_type: Some(doc_type.to_string()),
            countries: vec![countries.to_string()],
            date: Some(date.to_string()),
            share: Some(share.parse::<Sharing>().map_err(anyhow::Error::msg)?),
            ..Default::default()
        };
        let d = app
            .add_document(&admin, &new, file, bytes)
            .with_context(|| format!("adding the demo document {file}"))?;
        eprintln!("  document {}: {} ({}, {share})", d.id, d.title, d.language);
    }
    Ok(())
}

/// A watch on monthly applications in five destinations, judged over its last six months
/// so the inbox has alerts from the rise of late 2014 and 2015, and a contingency plan tied to it.
fn early_warning(app: &App) -> Result<()> {
    use nansen_app::{Action, Capacity, PlanSpec, Trigger, WatchSpec};
    use nansen_forecast::detect::Rule;
    let admin = app.act_as(OPERATOR)?;
    let spec = WatchSpec {
        dataset: "euaa/asylum-applicants-monthly".into(),
        wheres: vec!["geo=DEU,HUN,SWE,AUT,ITA".into()],
        frequency: None,
        series_by: vec!["geo".into()],
        rules: ["farrington", "c2", "cusum"]
            .iter()
            .map(|r| Rule::parse(r))
            .collect::<Result<_, _>>()?,
        horizon: 3,
        lookback: 6,
        level: 80.0,
    };
    let w = app.create_watch(
        &admin,
        "euaa",
        "Asylum applications in five destinations",
        spec,
        &["iom".into()],
    )?;
    let plan = PlanSpec {
        triggers: vec![
            Trigger::Alerts {
                watch: w.id,
                rule: Some("farrington".into()),
                series: 3,
            },
            Trigger::Forecast {
                watch: w.id,
                series: vec!["DEU".into()],
                periods: 2,
                bound: "hi".into(),
                above: Capacity::Number(35_000.0),
            },
        ],
        actions: vec![
            Action {
                what: "Convene the contingency cell with IOM and the national authorities".into(),
                owner: "admin@euaa.demo".into(),
                done: false,
            },
            Action {
                what: "Request reception places from the asylum reserve pool".into(),
                owner: "analyst@euaa.demo".into(),
                done: false,
            },
            Action {
                what: "Deploy registration support teams to the most affected Member States".into(),
                owner: "admin@iom.demo".into(),
                done: false,
            },
        ],
    };
    let p = app.create_plan(
        &admin,
        "euaa",
        "Rise in applications across main destinations",
        "Applications rise beyond seasonal levels in several destinations at once; German reception (illustrative capacity 35,000 a month) is the first to be stretched.",
        plan,
    )?;
    let alerts = app.alerts(&admin, None)?.len();
    eprintln!(
        "  early warning: watch {} with {alerts} alerts; plan {} {}",
        w.id,
        p.id,
        if p.triggered_since.is_some() {
            "triggered"
        } else {
            "not triggered"
        }
    );
    Ok(())
}

/// A small deterministic generator: the demo is the same every time it is built.
struct Draw(u64);

impl Draw {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.next(from.len())]
    }
}

/// Generated households, no real person: names are drawn from lists of common given and family
/// names, dates of birth at random.
fn households_csv(draw: &mut Draw, n: usize, nationalities: &[&str], needs: &[&str]) -> String {
    const GIVEN_F: &[&str] = &[
        "Amina", "Zarifa", "Huda", "Maryam", "Selam", "Fatima", "Nour", "Rahel", "Samira", "Layla",
    ];
    const GIVEN_M: &[&str] = &[
        "Ahmad", "Yonas", "Omar", "Dawit", "Hassan", "Karim", "Bilal", "Tesfay", "Yusuf", "Rahim",
    ];
    const FAMILY: &[&str] = &[
        "Haddad",
        "Ahmadi",
        "Tesfay",
        "Mohammadi",
        "Hussaini",
        "Abdi",
        "Rahimi",
        "Gebremariam",
        "Karimi",
        "Osman",
        "Nouri",
        "Hashemi",
    ];
    let mut out = String::from("household,given_name,family_name,birth_date,sex,nationality,languages,relationship,needs,consents\n");
    for h in 0..n {
        let family = draw.pick(FAMILY);
        let nationality = draw.pick(nationalities);
        let language = match nationality {
            "AFG" => "fa;ps",
            "ERI" => "ti",
            "SOM" => "so",
            "COD" => "fr;ln",
            _ => "ar",
        };
        let size = 1 + draw.next(5);
        let need = if draw.next(4) == 0 {
            draw.pick(needs)
        } else {
            ""
        };
        let consents = if draw.next(5) == 0 {
            "reporting"
        } else {
            "referral:iom;referral:bamf;reporting"
        };
        for m in 0..size {
            let (relationship, born) = match m {
                0 => ("principal", 1960 + draw.next(40)),
                1 => ("spouse", 1962 + draw.next(38)),
                _ => ("child", 2008 + draw.next(17)),
            };
            let female = draw.next(2) == 0;
            let given = if female {
                draw.pick(GIVEN_F)
            } else {
                draw.pick(GIVEN_M)
            };
            out.push_str(&format!(
                "d{h},{given},{family},{born}-{:02}-{:02},{},{nationality},{language},{relationship},{},{}\n",
                1 + draw.next(12),
                1 + draw.next(28),
                if female { "F" } else { "M" },
                if m == 0 { need } else { "" },
                if m == 0 { consents } else { "" },
            ));
        }
    }
    out
}

/// Moves each case a drawn number of stages along its workflow, some out to an exit.
fn spread(
    app: &App,
    who: &Caller,
    ids: &[String],
    stages: &[String],
    matching: Option<(&str, &[&str])>,
    draw: &mut Draw,
) -> Result<()> {
    for id in ids {
        let steps = draw.next(stages.len());
        for stage in &stages[1..=steps] {
            // A household is matched to a pledging state before it moves to `matched`.
            if let Some((_, states)) = matching.filter(|(at, _)| at == stage) {
                let state = states[draw.next(states.len())];
                app.match_case(who, id, Some(state), None)?;
            }
            app.move_case(who, id, stage, None, None)?;
        }
        if draw.next(12) == 0 {
            let exit = if draw.next(2) == 0 {
                "withdrawn"
            } else {
                "closed"
            };
            app.move_case(who, id, exit, Some("generated for the demo"), None)?;
        }
    }
    Ok(())
}

/// A relocation programme with pledges and a few hundred generated households at every stage,
/// a return programme, and a referral from EUAA to IOM.
fn operations(app: &App, files: &Path) -> Result<()> {
    use nansen_app::{NewProgramme, PledgeInput, ReferralRequest};
    use nansen_cases::{ProgrammeKind, Section};
    let admin = app.act_as(OPERATOR)?;
    let worker = app.act_as("caseworker@euaa.demo")?;
    let iom_admin = app.act_as("admin@iom.demo")?;
    let iom_worker = app.act_as("caseworker@iom.demo")?;
    let mut draw = Draw(2020);
    let relocation: nansen_model::ProgrammeName =
        "euaa/relocation-demo".parse().map_err(anyhow::Error::msg)?;
    app.add_programme(
        &admin,
        NewProgramme {
            name: relocation.clone(),
            kind: ProgrammeKind::Relocation,
            title: "Voluntary relocation (demo, generated households)".into(),
            partners: vec!["iom".into()],
            receiving: vec!["bamf".into()],
            starts_on: Some("2025-04-01".into()),
            ends_on: None,
            retention_days: Some(730),
        },
    )?;
    // Places, of which for unaccompanied children and medical cases, and the languages the
    // state's reception works in (for matching).
    let pledges = [
        ("DEU", 500, 40, 50, "de,en,ar"),
        ("FRA", 350, 20, 30, "fr"),
        ("PRT", 200, 30, 10, "pt,en"),
        ("IRL", 150, 10, 10, "en"),
        ("BEL", 120, 10, 10, "fr,nl"),
        ("FIN", 130, 20, 15, "fi,en"),
        ("LUX", 40, 5, 5, "fr,de"),
        ("NLD", 100, 10, 10, "nl,en"),
    ];
    for (state, places, uam, medical, languages) in pledges {
        app.set_pledge(
            &admin,
            &relocation,
            PledgeInput {
                languages: languages.split(',').map(str::to_string).collect(),
                prefers: Vec::new(),
                excludes: Vec::new(),
                state: state.into(),
                places,
                uam_places: uam,
                medical_places: medical,
                starts_on: None,
                ends_on: None,
                note: "demo pledge".into(),
            },
        )?;
    }
    let table = files.join("relocation-households.csv");
    std::fs::write(
        &table,
        households_csv(
            &mut draw,
            240,
            &["AFG", "SYR", "IRQ", "COD", "SOM", "ERI"],
            &[
                "SC-UC", "SM-CI", "SM-MI", "DS-PM", "SP-PT", "WR-WR", "SV-VA",
            ],
        ),
    )?;
    let registered = app
        .import_cases(&worker, &relocation, &table, None, false, &mut |_| {})?
        .registered;
    let stages: Vec<String> = app
        .programme(&admin, &relocation)?
        .stages
        .ordinary()
        .map(|s| s.name.clone())
        .collect();
    let states: Vec<&str> = pledges.iter().map(|p| p.0).collect();
    spread(
        app,
        &worker,
        &registered,
        &stages,
        Some(("matched", &states)),
        &mut draw,
    )?;
    app.assign_case(&worker, &registered[0], Some("caseworker@euaa.demo"))?;
    // One referral to IOM accepted, one waiting.
    for (id, accept) in [(&registered[1], true), (&registered[2], false)] {
        app.add_consent(
            &worker,
            id,
            nansen_cases::Consent {
                purpose: nansen_cases::ConsentPurpose::Referral,
                partner: Some("iom".into()),
            },
        )?;
        let r = app.refer_case(
            &worker,
            id,
            ReferralRequest {
                to: "iom".into(),
                sections: vec![Section::Identity, Section::Household],
                reason: "pre-departure orientation and transport".into(),
                override_consent: false,
            },
        )?;
        if accept {
            app.decide_referral(&iom_worker, &r.id, true, None)?;
        }
    }

    let avrr: nansen_model::ProgrammeName =
        "iom/return-demo".parse().map_err(anyhow::Error::msg)?;
    app.add_programme(
        &iom_admin,
        NewProgramme {
            name: avrr.clone(),
            kind: ProgrammeKind::Return,
            title: "Assisted voluntary return and reintegration (demo, generated households)"
                .into(),
            partners: vec![],
            receiving: vec![],
            starts_on: Some("2025-01-01".into()),
            ends_on: None,
            retention_days: Some(1825),
        },
    )?;
    let table = files.join("return-households.csv");
    std::fs::write(
        &table,
        households_csv(
            &mut draw,
            60,
            &["IRQ", "NGA", "SEN", "GEO", "PAK"],
            &["SM-CI", "LP-ND"],
        ),
    )?;
    let registered = app
        .import_cases(&iom_worker, &avrr, &table, None, false, &mut |_| {})?
        .registered;
    let stages: Vec<String> = app
        .programme(&iom_admin, &avrr)?
        .stages
        .ordinary()
        .map(|s| s.name.clone())
        .collect();
    spread(
        app,
        &Caller::operator(),
        &registered,
        &stages,
        None,
        &mut draw,
    )?;
    // Households at the follow-up stage had their reintegration surveyed, some twice.
    let mut surveyed = 0;
    let at_follow_up = app.cases(
        &iom_worker,
        &avrr,
        &nansen_app::CaseQuery {
            stage: Some("follow-up".into()),
            limit: Some(nansen_app::MAX_CASE_PAGE),
            ..Default::default()
        },
    )?;
    for id in at_follow_up.cases.iter().map(|c| &c.id) {
        for (month, base) in [("2026-03-10", 0.35), ("2026-09-14", 0.55)]
            .iter()
            .take(1 + draw.next(2))
        {
            let score = |draw: &mut Draw| base + draw.next(30) as f64 / 100.0;
            app.add_follow_up(
                &iom_worker,
                id,
                nansen_app::FollowUp {
                    on: month.to_string(),
                    economic: score(&mut draw),
                    social: score(&mut draw),
                    psychosocial: score(&mut draw),
                    note: "generated for the demo".into(),
                    by: String::new(),
                },
            )?;
            surveyed += 1;
        }
    }
    app.refresh_pipelines()?;
    eprintln!("  operations: {relocation} (240 households, 8 pledges), {avrr} (60 households, {surveyed} follow-up surveys)");
    Ok(())
}

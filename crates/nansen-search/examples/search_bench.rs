//! The search benchmark of bench/search.sh: one generated corpus, indexed by Nansen's index
//! and by SQLite FTS5 in the same process; the same 1,000 permission-filtered queries
//! against both (ranked hits with snippets, the total and facet counts); and a judged set
//! scored by nDCG@10.
//!
//! Usage: search_bench [DOCS] [WORKDIR]

use nansen_search::{Entry, Kind, Request, SearchIndex, Searcher, Visibility};
use rusqlite::{params, Connection};
use std::collections::HashMap;
use std::time::Instant;

/// xorshift: the same corpus and queries on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    /// Zipf-like: low indices far more often, as words are in text.
    fn zipf(&mut self, n: usize) -> usize {
        let u = (self.next() % 1_000_000) as f64 / 1_000_000.0;
        ((n as f64).powf(u) - 1.0) as usize % n
    }
}

const DOMAIN_EN: &str = "asylum application applicant refugee refugees migrant migrants migration displacement displaced internally person persons protection international subsidiary status \
    recognition decision decisions appeal appeals procedure procedures reception centre centres capacity occupancy accommodation shelter resettlement relocation humanitarian admission \
    return voluntary assisted reintegration family reunification unaccompanied children minors child vulnerable trafficking victims health medical screening registration interview \
    border crossing crossings arrivals arrival sea land route routes mediterranean central eastern western balkan smuggling detention alternatives integration labour employment education \
    language course training module pilot consultation committee partners cooperation agreement memorandum data exchange sharing monitoring evaluation indicator indicators trend trends \
    forecast contingency plan planning early warning surge capacity pledges departures quota quotas exit permits documentation identity statelessness nationality citizenship origin \
    transit destination host community communities livelihoods cash assistance legal aid counselling guardianship age assessment gender women girls boys elderly disability trauma \
    psychosocial support camp camps settlement settlements drought conflict violence persecution flood climate season summer winter backlog caseload processing quality country report";
const COMMON_EN: &str = "the of and to in a for on with by from as at is are was were be been has have that this these which their its it or not also more than over under between \
    during after before within across per each all most some other new first second third year years month months week weeks total number numbers share rate level levels \
    increase decrease rise fall higher lower remained stayed reached reported recorded compared previous same period quarter annual monthly national regional local main \
    key further need needs needed should could would will may can must include including such made make taking take given provide provided ensure improve improved continue \
    continued remain remaining especially particularly however while although because therefore overall average significant significantly limited access available services";
const EN_FR: &str = "demande demandes asile réfugié réfugiés migrant migrants protection internationale statut décision décisions recours accueil centre centres capacité hébergement \
    réinstallation relocalisation admission humanitaire retour volontaire aide réintégration regroupement familial mineurs non accompagnés enfants vulnérables traite victimes santé \
    frontière arrivées mer route méditerranée passeurs rétention intégration emploi formation consultation partenaires coopération accord données échange suivi indicateur tendance \
    prévision plan alerte précoce les des de la le et en du pour dans sur par avec au aux une un est sont été plus mois année pays";
const EN_ES: &str = "solicitud solicitudes asilo refugiado refugiados migrante migrantes protección internacional estatuto decisión decisiones recurso acogida centro centros capacidad \
    alojamiento reasentamiento reubicación admisión humanitaria retorno voluntario asistido reintegración reunificación familiar menores no acompañados niños vulnerables trata \
    víctimas salud frontera llegadas mar ruta mediterráneo integración empleo formación consulta socios cooperación acuerdo datos intercambio seguimiento indicador tendencia \
    previsión plan alerta temprana los las de la el y en del para por con una un es son fue más mes año país";
const EN_AR: &str = "اللجوء طلب طلبات لاجئ اللاجئين مهاجر المهاجرين الحماية الدولية قرار قرارات الاستقبال مركز مراكز السكن إعادة التوطين العودة الطوعية المساعدة الإدماج لم شمل الأسرة \
    الأطفال القاصرين غير المصحوبين الضحايا الاتجار الصحة الحدود الوصول البحر الطريق المتوسط التعاون الشركاء البيانات تبادل المؤشر الاتجاه التوقع الخطة الإنذار المبكر في من على إلى \
    عن مع هذا هذه التي الذي كان العام الشهر البلد";
const COUNTRIES: [(&str, &str); 24] = [
    ("SYR", "Syria"),
    ("AFG", "Afghanistan"),
    ("IRQ", "Iraq"),
    ("ERI", "Eritrea"),
    ("SOM", "Somalia"),
    ("NGA", "Nigeria"),
    ("PAK", "Pakistan"),
    ("UKR", "Ukraine"),
    ("VEN", "Venezuela"),
    ("COL", "Colombia"),
    ("BGD", "Bangladesh"),
    ("TUR", "Türkiye"),
    ("DEU", "Germany"),
    ("FRA", "France"),
    ("ITA", "Italy"),
    ("ESP", "Spain"),
    ("GRC", "Greece"),
    ("SWE", "Sweden"),
    ("AUT", "Austria"),
    ("NLD", "Netherlands"),
    ("BEL", "Belgium"),
    ("POL", "Poland"),
    ("LBY", "Libya"),
    ("TUN", "Tunisia"),
];
const TYPES: [&str; 7] = [
    "report",
    "methodology",
    "coi",
    "minutes",
    "training",
    "agreement",
    "guidance",
];
const ORGS: usize = 20;

struct Doc {
    id: i64,
    title: String,
    body: String,
    lang: &'static str,
    doc_type: &'static str,
    org: String,
    countries: Vec<&'static str>,
    date: String,
    visibility: Visibility,
}

fn words(s: &'static str) -> Vec<&'static str> {
    s.split_whitespace().collect()
}

struct Vocab {
    en: Vec<&'static str>,
    fr: Vec<&'static str>,
    es: Vec<&'static str>,
    ar: Vec<&'static str>,
}

impl Vocab {
    fn new() -> Vocab {
        // Function words first (most frequent), then the domain's words.
        let mut en = words(COMMON_EN);
        en.extend(words(DOMAIN_EN));
        en.extend(COUNTRIES.iter().map(|c| c.1));
        Vocab {
            en,
            fr: words(EN_FR),
            es: words(EN_ES),
            ar: words(EN_AR),
        }
    }
    fn of(&self, lang: &str) -> &[&'static str] {
        match lang {
            "fr" => &self.fr,
            "es" => &self.es,
            "ar" => &self.ar,
            _ => &self.en,
        }
    }
}

fn sentence(rng: &mut Rng, v: &[&str], n: usize) -> String {
    let s: Vec<&str> = (0..n).map(|_| v[rng.zipf(v.len())]).collect();
    let mut out = s.join(" ");
    out.push('.');
    out
}

fn text(rng: &mut Rng, v: &[&str], words: usize) -> String {
    let mut out = String::new();
    let mut left = words;
    while left > 0 {
        let n = (8 + rng.below(16)).min(left);
        out.push_str(&sentence(rng, v, n));
        out.push(' ');
        left -= n;
        if rng.chance(8) {
            out.push('\n');
        }
    }
    out
}

fn visibility(rng: &mut Rng, owner: usize) -> Visibility {
    let others = |rng: &mut Rng, k: usize| -> Vec<String> {
        (0..k)
            .map(|_| rng.below(ORGS))
            .filter(|o| *o != owner)
            .map(|o| format!("org{o}"))
            .collect()
    };
    match rng.below(10) {
        0..=2 => Visibility {
            public: true,
            ..Default::default()
        },
        3..=4 => {
            let k = rng.below(3);
            Visibility {
                listed: true,
                readers: others(rng, k),
                ..Default::default()
            }
        }
        5..=7 => {
            let k = 1 + rng.below(3);
            Visibility {
                readers: others(rng, k),
                ..Default::default()
            }
        }
        _ => Visibility::default(),
    }
}

fn corpus(n: usize, v: &Vocab) -> Vec<Doc> {
    let mut rng = Rng(0x9e3779b97f4a7c15);
    (0..n)
        .map(|i| {
            let lang = match rng.below(100) {
                0..=84 => "en",
                85..=90 => "fr",
                91..=95 => "es",
                _ => "ar",
            };
            let vocab = v.of(lang);
            // Lengths from a short note to a long report.
            let len = 60 + (rng.zipf(40) + 1) * (20 + rng.below(60));
            let owner = rng.below(ORGS);
            let countries: Vec<&'static str> = (0..1 + rng.below(3))
                .map(|_| COUNTRIES[rng.zipf(COUNTRIES.len())].0)
                .collect();
            let title_words = 4 + rng.below(6);
            Doc {
                id: i as i64 + 1,
                title: sentence(&mut rng, vocab, title_words)
                    .trim_end_matches('.')
                    .to_string(),
                body: text(&mut rng, vocab, len),
                lang,
                doc_type: TYPES[rng.zipf(TYPES.len())],
                org: format!("org{owner}"),
                countries,
                date: format!(
                    "{}-{:02}-{:02}",
                    2010 + rng.below(16),
                    1 + rng.below(12),
                    1 + rng.below(28)
                ),
                visibility: visibility(&mut rng, owner),
            }
        })
        .collect()
}

/// A judged query: what was typed, and the grade (3 best) of each planted document.
struct Judged {
    text: String,
    grades: HashMap<i64, u32>,
    typo: bool,
}

/// Plants, for each judged topic, documents that should come first: two with the words in
/// the title and often in the text (3), three with them often in the text (2), five with
/// them once in a long text (1), and twenty that have only some of them (0). All public.
fn plant(docs: &mut Vec<Doc>, v: &Vocab) -> Vec<Judged> {
    let mut rng = Rng(0x2545f4914f6cdd1d);
    let mut judged = Vec::new();
    let domain_en = words(DOMAIN_EN);
    for q in 0..70 {
        let (lang, pool): (&'static str, Vec<&'static str>) = match q {
            0..=49 => ("en", domain_en.clone()),
            50..=59 => (
                "fr",
                words(EN_FR)
                    .into_iter()
                    .filter(|w| w.chars().count() > 4)
                    .collect(),
            ),
            _ => (
                "es",
                words(EN_ES)
                    .into_iter()
                    .filter(|w| w.chars().count() > 4)
                    .collect(),
            ),
        };
        let k = 2 + rng.below(2);
        let mut topic: Vec<&'static str> = Vec::new();
        while topic.len() < k {
            let w = pool[rng.below(pool.len())];
            if !topic.contains(&w) {
                topic.push(w);
            }
        }
        let filler = v.of(lang);
        let mut grades = HashMap::new();
        let mut add = |docs: &mut Vec<Doc>, title: String, body: String, grade: u32| {
            let id = docs.len() as i64 + 1;
            docs.push(Doc {
                id,
                title,
                body,
                lang,
                doc_type: "report",
                org: "org0".into(),
                countries: vec!["ITA"],
                date: "2024-01-01".into(),
                visibility: Visibility {
                    public: true,
                    ..Default::default()
                },
            });
            if grade > 0 {
                grades.insert(id, grade);
            }
        };
        let phrase = topic.join(" ");
        for _ in 0..2 {
            let body = format!(
                "{} {phrase}. {} {phrase} {}",
                text(&mut rng, filler, 40),
                text(&mut rng, filler, 80),
                text(&mut rng, filler, 40)
            );
            add(
                docs,
                format!(
                    "{} {}",
                    capitalise(&phrase),
                    sentence(&mut rng, filler, 3).trim_end_matches('.')
                ),
                body,
                3,
            );
        }
        for _ in 0..3 {
            let body = format!(
                "{} {phrase}. {} {phrase}. {}",
                text(&mut rng, filler, 60),
                text(&mut rng, filler, 120),
                text(&mut rng, filler, 60)
            );
            add(
                docs,
                sentence(&mut rng, filler, 6)
                    .trim_end_matches('.')
                    .to_string(),
                body,
                2,
            );
        }
        for _ in 0..5 {
            let spread: Vec<String> = topic
                .iter()
                .map(|w| format!("{} {w}.", text(&mut rng, filler, 150)))
                .collect();
            add(
                docs,
                sentence(&mut rng, filler, 6)
                    .trim_end_matches('.')
                    .to_string(),
                spread.join(" "),
                1,
            );
        }
        for i in 0..20 {
            let some = topic[i % topic.len()];
            let body = format!(
                "{} {some} {some}. {}",
                text(&mut rng, filler, 80),
                text(&mut rng, filler, 80)
            );
            add(
                docs,
                format!(
                    "{} {some}",
                    sentence(&mut rng, filler, 4).trim_end_matches('.')
                ),
                body,
                0,
            );
        }
        // Queries as people type them: the French and Spanish ones in another number or gender
        // than the text, where the language has one (the stemmer's work).
        let typed: Vec<String> = topic.iter().map(|w| inflect(w, lang)).collect();
        judged.push(Judged {
            text: typed.join(" "),
            grades: grades.clone(),
            typo: false,
        });
        if q < 20 {
            let mut t = typed.clone();
            t[0] = typo(&t[0]);
            judged.push(Judged {
                text: t.join(" "),
                grades,
                typo: true,
            });
        }
    }
    judged
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// The other number of a French or Spanish noun or adjective, as the language forms it.
fn inflect(w: &str, lang: &str) -> String {
    let vowel = |c: char| "aeiouáéíóú".contains(c);
    match lang {
        "fr" if w.ends_with('s') || w.ends_with('x') => w[..w.len() - 1].to_string(),
        "fr" => format!("{w}s"),
        "es" if w.ends_with("iones") => format!("{}ión", &w[..w.len() - 5]),
        "es" if w.ends_with("es") && !w[..w.len() - 2].ends_with(vowel) => {
            w[..w.len() - 2].to_string()
        }
        "es" if w.ends_with('s') => w[..w.len() - 1].to_string(),
        "es" if w.ends_with("ión") => format!("{}iones", &w[..w.len() - "ión".len()]),
        "es" if w.ends_with(vowel) => format!("{w}s"),
        "es" => format!("{w}es"),
        _ => w.to_string(),
    }
}

/// One letter swapped with the next, in the middle of the word.
fn typo(w: &str) -> String {
    let mut c: Vec<char> = w.chars().collect();
    let i = c.len() / 2;
    if i + 1 < c.len() {
        c.swap(i, i + 1);
    }
    c.into_iter().collect()
}

fn ndcg(ranked: &[i64], grades: &HashMap<i64, u32>) -> f64 {
    let gain = |g: u32| 2f64.powi(g as i32) - 1.0;
    let dcg: f64 = ranked
        .iter()
        .take(10)
        .enumerate()
        .map(|(i, id)| gain(*grades.get(id).unwrap_or(&0)) / ((i + 2) as f64).log2())
        .sum();
    let mut ideal: Vec<u32> = grades.values().copied().collect();
    ideal.sort_by(|a, b| b.cmp(a));
    let idcg: f64 = ideal
        .iter()
        .take(10)
        .enumerate()
        .map(|(i, g)| gain(*g) / ((i + 2) as f64).log2())
        .sum();
    if idcg == 0.0 {
        0.0
    } else {
        dcg / idcg
    }
}

struct Query {
    text: String,
    who: Searcher,
    doc_type: Option<&'static str>,
    country: Option<&'static str>,
}

fn queries(v: &Vocab) -> Vec<Query> {
    let mut rng = Rng(0xdeadbeefcafe);
    let domain = words(DOMAIN_EN);
    (0..1000)
        .map(|_| {
            let pick = |rng: &mut Rng| -> String {
                match rng.below(10) {
                    0..=6 => domain[rng.zipf(domain.len())].to_string(),
                    7 => COUNTRIES[rng.zipf(COUNTRIES.len())].1.to_string(),
                    8 => v.fr[rng.zipf(v.fr.len())].to_string(),
                    _ => v.es[rng.zipf(v.es.len())].to_string(),
                }
            };
            let text = match rng.below(100) {
                0..=39 => pick(&mut rng),
                40..=74 => format!("{} {}", pick(&mut rng), pick(&mut rng)),
                75..=89 => format!("{} {} {}", pick(&mut rng), pick(&mut rng), pick(&mut rng)),
                _ => format!("\"{} {}\"", pick(&mut rng), pick(&mut rng)),
            };
            let who = if rng.chance(5) {
                Searcher::Anonymous
            } else {
                Searcher::Member(vec![format!("org{}", rng.below(ORGS))])
            };
            let doc_type = rng.chance(10).then(|| TYPES[rng.below(TYPES.len())]);
            let country = rng
                .chance(10)
                .then(|| COUNTRIES[rng.below(COUNTRIES.len())].0);
            Query {
                text,
                who,
                doc_type,
                country,
            }
        })
        .collect()
}

fn entry(d: &Doc) -> Entry {
    Entry {
        kind: Kind::Document,
        id: d.id.to_string(),
        title: d.title.clone(),
        about: String::new(),
        body: d.body.clone(),
        language: d.lang.into(),
        doc_type: d.doc_type.into(),
        org: d.org.clone(),
        countries: d.countries.iter().map(|c| c.to_string()).collect(),
        date: Some(d.date.clone()),
        visibility: d.visibility.clone(),
    }
}

/// The same corpus in SQLite FTS5: a content table, the organisations that may read each
/// document's text, its countries, and the full-text table with Porter stemming.
fn fts_load(path: &std::path::Path, docs: &[Doc]) -> rusqlite::Result<Connection> {
    let _ = std::fs::remove_file(path);
    let c = Connection::open(path)?;
    c.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
         CREATE TABLE docs (id INTEGER PRIMARY KEY, title TEXT, body TEXT, lang TEXT, type TEXT, org TEXT, year TEXT, date TEXT, public INT, listed INT);
         CREATE TABLE readers (doc INT, org TEXT);
         CREATE TABLE doc_countries (doc INT, country TEXT);
         CREATE VIRTUAL TABLE fts USING fts5 (title, body, content='docs', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2');",
    )?;
    c.execute_batch("BEGIN")?;
    {
        let mut ins = c.prepare("INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")?;
        let mut fts = c.prepare("INSERT INTO fts (rowid, title, body) VALUES (?, ?, ?)")?;
        let mut rd = c.prepare("INSERT INTO readers VALUES (?, ?)")?;
        let mut dc = c.prepare("INSERT INTO doc_countries VALUES (?, ?)")?;
        for d in docs {
            ins.execute(params![
                d.id,
                d.title,
                d.body,
                d.lang,
                d.doc_type,
                d.org,
                &d.date[..4],
                d.date,
                d.visibility.public as i64,
                d.visibility.listed as i64
            ])?;
            fts.execute(params![d.id, d.title, d.body])?;
            rd.execute(params![d.id, d.org])?;
            for r in &d.visibility.readers {
                rd.execute(params![d.id, r])?;
            }
            for country in &d.countries {
                dc.execute(params![d.id, country])?;
            }
        }
    }
    c.execute_batch("CREATE INDEX readers_org ON readers (org, doc); CREATE INDEX doc_countries_doc ON doc_countries (doc); COMMIT; INSERT INTO fts(fts) VALUES ('optimize');")?;
    Ok(c)
}

/// FTS5's query language for what was typed: words as quoted strings (so that "and" or a
/// hyphen is a word, not an operator), phrases as phrases; all must match.
fn fts_match(text: &str) -> String {
    nansen_search::parse(text)
        .into_iter()
        .filter(|c| !c.exclude)
        .map(|c| format!("\"{}\"", c.words.join(" ").replace('"', "")))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// One search in FTS5 doing the same work: the permitted matches (text readable, or listed
/// and matched in the title), their total and facet counts, and the top ten by bm25 with a snippet.
fn fts_search(c: &Connection, q: &Query) -> rusqlite::Result<(usize, Vec<i64>)> {
    let m = fts_match(&q.text);
    let (orgs, signed_in) = match &q.who {
        Searcher::Member(o) => (o.clone(), 1),
        _ => (Vec::new(), 0),
    };
    let org = orgs.first().cloned().unwrap_or_default();
    let title_m = format!("title : ({m})");
    let filters = " AND (?5 = '' OR d.type = ?5) AND (?6 = '' OR EXISTS (SELECT 1 FROM doc_countries x WHERE x.doc = d.id AND x.country = ?6))";
    let permitted = format!(
        "fts MATCH ?1 AND (d.public = 1 OR EXISTS (SELECT 1 FROM readers r WHERE r.doc = d.id AND r.org = ?2) \
         OR (d.listed = 1 AND ?3 = 1 AND d.id IN (SELECT rowid FROM fts WHERE fts MATCH ?4))){filters}"
    );
    c.execute_batch("DROP TABLE IF EXISTS temp.hits")?;
    c.execute(&format!("CREATE TEMP TABLE hits AS SELECT d.id AS id, d.type, d.org, d.year, d.lang FROM fts JOIN docs d ON d.id = fts.rowid WHERE {permitted}"), params![m, org, signed_in, title_m, q.doc_type.unwrap_or(""), q.country.unwrap_or("")])?;
    let total: i64 = c.query_row("SELECT count(*) FROM hits", [], |r| r.get(0))?;
    for facet in ["type", "org", "year", "lang"] {
        let mut s = c.prepare_cached(&format!(
            "SELECT {facet}, count(*) FROM hits GROUP BY {facet}"
        ))?;
        let _: Vec<(String, i64)> = s
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
    }
    let mut s = c.prepare_cached("SELECT x.country, count(*) FROM hits h JOIN doc_countries x ON x.doc = h.id GROUP BY x.country")?;
    let _: Vec<(String, i64)> = s
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut s = c.prepare_cached(
        // `+rowid`: a rowid constraint FTS5 could use would run the match once per permitted
        // row (seconds); the snippet is made for the ten chosen only.
        "SELECT rowid, snippet(fts, 1, '<mark>', '</mark>', '…', 24) FROM fts WHERE fts MATCH ?1 AND +rowid IN \
         (SELECT rowid FROM fts WHERE fts MATCH ?1 AND +rowid IN (SELECT id FROM hits) ORDER BY bm25(fts, 3.0, 1.0) LIMIT 10) ORDER BY bm25(fts, 3.0, 1.0)",
    )?;
    let top: Vec<(i64, String)> = s
        .query_map(params![m], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok((total as usize, top.into_iter().map(|(id, _)| id).collect()))
}

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let work = std::path::PathBuf::from(
        args.get(2)
            .cloned()
            .unwrap_or_else(|| "target/bench/search".into()),
    );
    std::fs::create_dir_all(&work).unwrap();
    let vocab = Vocab::new();
    let started = Instant::now();
    let mut docs = corpus(n.saturating_sub(70 * 30), &vocab);
    let judged = plant(&mut docs, &vocab);
    let bytes: usize = docs.iter().map(|d| d.title.len() + d.body.len()).sum();
    let words: usize = docs.iter().map(|d| d.body.split_whitespace().count()).sum();
    eprintln!(
        "corpus: {} documents, {} words, {:.0} MB of text, generated in {:.1} s",
        docs.len(),
        words,
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );

    // Indexing.
    let dir = work.join("nansen-index");
    let _ = std::fs::remove_dir_all(&dir);
    let index = SearchIndex::open(&dir).unwrap();
    let t = Instant::now();
    index
        .rebuild(1, docs.iter().map(|d| Ok::<_, ()>(entry(d))), &mut |_| {})
        .unwrap()
        .unwrap();
    let nansen_index_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let fts = fts_load(&work.join("fts5.sqlite"), &docs).unwrap();
    let fts_index_s = t.elapsed().as_secs_f64();
    eprintln!("indexed: nansen {nansen_index_s:.1} s, FTS5 {fts_index_s:.1} s");
    // Both engines answer one query before the clock starts: the first loads what it maps.
    let _ = index.search(
        &Searcher::Anonymous,
        &Request {
            text: "asylum".into(),
            limit: 10,
            ..Default::default()
        },
    );
    let _ = fts_search(
        &fts,
        &Query {
            text: "asylum".into(),
            who: Searcher::Anonymous,
            doc_type: None,
            country: None,
        },
    );

    // Latency.
    let qs = queries(&vocab);
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    let (mut hits_ours, mut hits_theirs) = (0usize, 0usize);
    let clock = Instant::now();
    for (i, q) in qs.iter().enumerate() {
        if i % 100 == 0 && i > 0 {
            eprintln!(
                "queries: {i} of {} in {:.0} s",
                qs.len(),
                clock.elapsed().as_secs_f64()
            );
        }
        let req = Request {
            text: q.text.clone(),
            doc_type: q.doc_type.map(String::from),
            country: q.country.map(String::from),
            limit: 10,
            ..Default::default()
        };
        let t = Instant::now();
        let r = index.search(&q.who, &req).unwrap();
        ours.push(t.elapsed().as_secs_f64() * 1000.0);
        hits_ours += r.total;
        let t = Instant::now();
        let (total, _) = fts_search(&fts, q).unwrap();
        theirs.push(t.elapsed().as_secs_f64() * 1000.0);
        hits_theirs += total;
    }

    // Relevance.
    let score = |typo: bool, f: &dyn Fn(&str) -> Vec<i64>| -> (f64, usize) {
        let set: Vec<&Judged> = judged.iter().filter(|j| j.typo == typo).collect();
        (
            set.iter()
                .map(|j| ndcg(&f(&j.text), &j.grades))
                .sum::<f64>()
                / set.len() as f64,
            set.len(),
        )
    };
    let member = Searcher::Member(vec!["org1".into()]);
    let ours_ranked = |text: &str| -> Vec<i64> {
        index
            .search(
                &member,
                &Request {
                    text: text.into(),
                    limit: 10,
                    ..Default::default()
                },
            )
            .unwrap()
            .hits
            .iter()
            .map(|h| h.id.parse().unwrap())
            .collect()
    };
    let fts_ranked = |text: &str| -> Vec<i64> {
        fts_search(
            &fts,
            &Query {
                text: text.into(),
                who: member.clone(),
                doc_type: None,
                country: None,
            },
        )
        .unwrap()
        .1
    };
    if std::env::var_os("SEARCH_BENCH_DEBUG").is_some() {
        for j in judged.iter().filter(|j| !j.typo).take(8) {
            let g = |ids: Vec<i64>| {
                ids.iter()
                    .map(|id| j.grades.get(id).copied().unwrap_or(0).to_string())
                    .collect::<Vec<_>>()
                    .join("")
            };
            eprintln!(
                "{:<40} nansen {:<10} fts5 {:<10}",
                j.text,
                g(ours_ranked(&j.text)),
                g(fts_ranked(&j.text))
            );
        }
    }
    let (ndcg_ours, judged_n) = score(false, &ours_ranked);
    let (ndcg_fts, _) = score(false, &fts_ranked);
    let (typo_ours, typo_n) = score(true, &ours_ranked);
    let (typo_fts, _) = score(true, &fts_ranked);
    let by_lang = |lang: &str, f: &dyn Fn(&str) -> Vec<i64>| -> f64 {
        let (from, to) = match lang {
            "en" => (0, 50),
            "fr" => (50, 60),
            _ => (60, 70),
        };
        let set: Vec<&Judged> = judged
            .iter()
            .filter(|j| !j.typo)
            .skip(from)
            .take(to - from)
            .collect();
        set.iter()
            .map(|j| ndcg(&f(&j.text), &j.grades))
            .sum::<f64>()
            / set.len() as f64
    };

    let (p50, p95, p99) = (
        percentile(ours.clone(), 0.5),
        percentile(ours.clone(), 0.95),
        percentile(ours.clone(), 0.99),
    );
    let (f50, f95, f99) = (
        percentile(theirs.clone(), 0.5),
        percentile(theirs.clone(), 0.95),
        percentile(theirs.clone(), 0.99),
    );
    println!("search benchmark: {} documents ({:.0} MB of text), 1000 queries with permissions, facets and snippets", docs.len(), bytes as f64 / 1e6);
    println!(
        "indexing   nansen {:>7.0} docs/s ({:.1} s)   FTS5 {:>7.0} docs/s ({:.1} s)   ratio {:.2}x",
        docs.len() as f64 / nansen_index_s,
        nansen_index_s,
        docs.len() as f64 / fts_index_s,
        fts_index_s,
        fts_index_s / nansen_index_s
    );
    println!("latency ms nansen p50 {p50:.2} p95 {p95:.2} p99 {p99:.2}   FTS5 p50 {f50:.2} p95 {f95:.2} p99 {f99:.2}   p95 ratio FTS5/nansen {:.1}x (bar: p95 < 20 ms and no worse than FTS5)", f95 / p95);
    println!("matches    nansen {hits_ours} in all   FTS5 {hits_theirs} in all (the stemmers differ: Porter for every language in FTS5, each language's own in nansen)");
    println!("nDCG@10    nansen {ndcg_ours:.3}   FTS5 {ndcg_fts:.3}   on {judged_n} judged queries (English {:.3} vs {:.3}, French {:.3} vs {:.3}, Spanish {:.3} vs {:.3})",
        by_lang("en", &ours_ranked), by_lang("en", &fts_ranked), by_lang("fr", &ours_ranked), by_lang("fr", &fts_ranked), by_lang("es", &ours_ranked), by_lang("es", &fts_ranked));
    println!("nDCG@10    with one typo: nansen {typo_ours:.3}   FTS5 {typo_fts:.3}   on {typo_n} queries");
}

//! One search over documents and datasets.
//!
//! The index lives in a directory of its own and remembers, in each commit, the outbox
//! position it has reached, so a process that opens it knows what it still has to apply.
//! Every text is indexed in the fields of its language, each with its own stemmer; a query
//! is analysed once per language and matches in whichever fits.
//!
//! Who may see what is part of every query: an entry carries the organisations that may read
//! its metadata and those that may read its text, and a search adds the asker's to the
//! query, so hits, counts, facets and snippets all come from the same permitted set.

mod analysis;
mod query;

pub use analysis::{analyser_for, normalise_arabic, LANGUAGES};
pub use query::{parse, Clause};

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tantivy::directory::MmapDirectory;
use tantivy::schema::{
    Facet, FacetOptions, Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST,
    INDEXED, STORED, STRING,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search index directory {path}: {source}")]
    Directory {
        path: String,
        source: std::io::Error,
    },
    #[error("search index: {0}")]
    Io(#[from] std::io::Error),
}

pub type Result<T, E = SearchError> = std::result::Result<T, E>;

/// What an entry is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    #[default]
    Document,
    Dataset,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Document => "document",
            Kind::Dataset => "dataset",
        }
    }
}

/// Who may find an entry. The owner organisation always may.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Visibility {
    /// Everyone, signed in or not, reads it whole.
    pub public: bool,
    /// Every signed-in user may find it by its metadata (a `listed` entry).
    pub listed: bool,
    /// Organisations besides the owner that may read its text (partners, approved requests).
    pub readers: Vec<String>,
}

/// One thing to find, as the index holds it.
#[derive(Clone, Debug, Default)]
pub struct Entry {
    pub kind: Kind,
    /// The document's number, or a dataset's `ORG/SLUG`.
    pub id: String,
    pub title: String,
    /// What describes it: description, methodology, indicators, countries, themes.
    pub about: String,
    /// Its full text (documents), readable only by those who may read the document.
    pub body: String,
    /// ISO 639-1; chooses the stemmer.
    pub language: String,
    /// report, methodology, coi, minutes, training, agreement, … or dataset.
    pub doc_type: String,
    /// The owner organisation's slug.
    pub org: String,
    /// ISO 3166 alpha-3 codes.
    pub countries: Vec<String>,
    /// `YYYY-MM-DD`: the document's date, or when a dataset last changed.
    pub date: Option<String>,
    pub visibility: Visibility,
}

impl Entry {
    /// The key an entry is replaced and removed by.
    pub fn key(kind: Kind, id: &str) -> String {
        format!("{}:{id}", kind.as_str())
    }
}

/// A change the outbox brings: the entry as it now is, or gone.
#[derive(Clone, Debug)]
pub enum Change {
    Put(Box<Entry>),
    Remove { kind: Kind, id: String },
}

/// Who is searching.
#[derive(Clone, Debug, PartialEq)]
pub enum Searcher {
    /// The operator at the machine: sees everything.
    Everything,
    Anonymous,
    /// A signed-in member of these organisations.
    Member(Vec<String>),
}

impl Searcher {
    /// The access tokens that admit this searcher to an entry's text.
    fn text_tokens(&self) -> Option<Vec<String>> {
        match self {
            Searcher::Everything => None,
            Searcher::Anonymous => Some(vec![PUBLIC.into()]),
            Searcher::Member(orgs) => Some(
                std::iter::once(PUBLIC.to_string())
                    .chain(orgs.iter().map(|o| format!("org:{o}")))
                    .collect(),
            ),
        }
    }

    /// The tokens that admit it to an entry's metadata.
    fn metadata_tokens(&self) -> Option<Vec<String>> {
        let mut t = self.text_tokens()?;
        if matches!(self, Searcher::Member(_)) {
            t.push(SIGNED_IN.into());
        }
        Some(t)
    }
}

const PUBLIC: &str = "public";
const SIGNED_IN: &str = "signed-in";

/// How results are ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sort {
    #[default]
    Relevance,
    Newest,
}

/// A search: words (with `"phrases"` and `-excluded` words), facet filters and a page.
#[derive(Clone, Debug, Default)]
pub struct Request {
    pub text: String,
    pub doc_type: Option<String>,
    pub org: Option<String>,
    pub country: Option<String>,
    pub year: Option<String>,
    pub language: Option<String>,
    pub kind: Option<Kind>,
    pub sort: Sort,
    pub offset: usize,
    pub limit: usize,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Results {
    pub total: usize,
    pub hits: Vec<Hit>,
    /// For each facet (type, org, country, year, language), each value with its count.
    pub facets: BTreeMap<String, Vec<FacetCount>>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct FacetCount {
    pub value: String,
    pub count: u64,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Hit {
    pub kind: Kind,
    pub id: String,
    pub title: String,
    /// A passage, plain text on one line.
    pub snippet: String,
    /// The words found in the snippet: `[start, end)` byte offsets into its UTF-8 text, in
    /// order (as Meilisearch gives match positions). Each edge marks them its own way.
    pub highlights: Vec<[usize; 2]>,
    #[serde(rename = "type")]
    pub doc_type: String,
    pub org: String,
    pub countries: Vec<String>,
    pub language: String,
    pub date: Option<String>,
    pub score: f32,
}

impl Hit {
    /// The snippet in pieces, each with whether it is a word found, for an edge to render.
    pub fn snippet_parts(&self) -> Vec<(&str, bool)> {
        let mut parts = Vec::new();
        let mut at = 0;
        for &[start, end] in &self.highlights {
            let (Some(before), Some(found)) =
                (self.snippet.get(at..start), self.snippet.get(start..end))
            else {
                continue;
            };
            if !before.is_empty() {
                parts.push((before, false));
            }
            parts.push((found, true));
            at = end;
        }
        if let Some(rest) = self.snippet.get(at..).filter(|r| !r.is_empty()) {
            parts.push((rest, false));
        }
        parts
    }
}

/// The facets every search counts, in the order pages show them.
pub const FACETS: [&str; 5] = ["type", "org", "country", "year", "language"];

#[derive(Clone)]
struct Fields {
    key: Field,
    kind: Field,
    id: Field,
    title: Field,
    about: Field,
    body: Field,
    language: Field,
    doc_type: Field,
    org: Field,
    countries: Field,
    date: Field,
    date_text: Field,
    facets: Field,
    /// Tokens of those who may find the entry by its metadata, and of those who may read its text.
    see_metadata: Field,
    see_text: Field,
    /// Per analyser: (title, about, body).
    text: BTreeMap<&'static str, (Field, Field, Field)>,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let stored = STORED;
    let key = b.add_text_field("key", STRING | STORED);
    let kind = b.add_text_field("kind", STRING | STORED);
    let id = b.add_text_field("id", stored.clone());
    let title = b.add_text_field("title", stored.clone());
    let about = b.add_text_field("about", stored.clone());
    let body = b.add_text_field("body", stored.clone());
    let language = b.add_text_field("language", STRING | STORED);
    let doc_type = b.add_text_field("type", STRING | STORED);
    let org = b.add_text_field("org", STRING | STORED);
    let countries = b.add_text_field("countries", STRING | STORED);
    let date = b.add_i64_field("date", INDEXED | FAST);
    let date_text = b.add_text_field("date_text", stored);
    let facets = b.add_facet_field("facets", FacetOptions::default());
    let see_metadata = b.add_text_field("see_metadata", STRING);
    let see_text = b.add_text_field("see_text", STRING);
    let mut text = BTreeMap::new();
    for lang in LANGUAGES {
        let opts = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(lang)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        let t = b.add_text_field(&format!("title_{lang}"), opts.clone());
        let a = b.add_text_field(&format!("about_{lang}"), opts.clone());
        let d = b.add_text_field(&format!("body_{lang}"), opts);
        text.insert(lang, (t, a, d));
    }
    (
        b.build(),
        Fields {
            key,
            kind,
            id,
            title,
            about,
            body,
            language,
            doc_type,
            org,
            countries,
            date,
            date_text,
            facets,
            see_metadata,
            see_text,
            text,
        },
    )
}

/// The index in its directory, with the outbox position its last commit reached.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    /// One writer per process at a time; other processes are kept out by tantivy's lock file.
    writing: Mutex<()>,
    /// The outbox position of the commit the reader last loaded.
    loaded: AtomicI64,
}

impl SearchIndex {
    /// Opens the index in `dir`, creating it if there is none. An index of an older layout is
    /// thrown away and rebuilt from the outbox, which holds every change from the start.
    pub fn open(dir: &Path) -> Result<SearchIndex> {
        let io = |e| SearchError::Directory {
            path: dir.display().to_string(),
            source: e,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let (schema, fields) = schema();
        let open = || -> Result<Index> {
            let directory = MmapDirectory::open(dir).map_err(|e| SearchError::Index(e.into()))?;
            Ok(Index::open_or_create(directory, schema.clone())?)
        };
        let index = match open() {
            Ok(i) => i,
            Err(SearchError::Index(tantivy::TantivyError::SchemaError(_))) => {
                std::fs::remove_dir_all(dir).map_err(io)?;
                std::fs::create_dir_all(dir).map_err(io)?;
                open()?
            }
            Err(e) => return Err(e),
        };
        analysis::register(index.tokenizers());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let me = SearchIndex {
            index,
            reader,
            fields,
            writing: Mutex::new(()),
            loaded: AtomicI64::new(-1),
        };
        me.refresh()?;
        Ok(me)
    }

    /// The outbox position the index on disk has reached (by any process).
    pub fn applied(&self) -> Result<i64> {
        Ok(self
            .index
            .load_metas()?
            .payload
            .and_then(|p| p.parse().ok())
            .unwrap_or(0))
    }

    /// Makes searches see the index as it is on disk.
    fn refresh(&self) -> Result<i64> {
        let on_disk = self.applied()?;
        if self.loaded.load(Ordering::SeqCst) < on_disk || self.loaded.load(Ordering::SeqCst) < 0 {
            self.reader.reload()?;
            self.loaded.store(on_disk, Ordering::SeqCst);
        }
        Ok(on_disk)
    }

    /// Makes sure searches see at least outbox position `upto`; false if the index on disk
    /// has not reached it, and the caller must apply what is missing.
    pub fn caught_up(&self, upto: i64) -> Result<bool> {
        if self.loaded.load(Ordering::SeqCst) >= upto {
            return Ok(true);
        }
        Ok(self.refresh()? >= upto)
    }

    /// Holds the writer for `f`, waiting for another process that holds it, up to a minute.
    fn with_writer<T>(
        &self,
        threads: usize,
        memory: usize,
        f: impl FnOnce(&mut IndexWriter) -> Result<T>,
    ) -> Result<T> {
        let _one = self.writing.lock().unwrap_or_else(|p| p.into_inner());
        let started = Instant::now();
        let mut writer: IndexWriter = loop {
            match self.index.writer_with_num_threads(threads, memory) {
                Ok(w) => break w,
                Err(tantivy::TantivyError::LockFailure(..))
                    if started.elapsed() < Duration::from_secs(60) =>
                {
                    std::thread::sleep(Duration::from_millis(50))
                }
                Err(e) => return Err(e.into()),
            }
        };
        let out = f(&mut writer)?;
        writer.wait_merging_threads()?;
        self.refresh()?;
        Ok(out)
    }

    /// Applies changes and records that the index has reached outbox position `upto`.
    /// Changes at or below what the index already holds are applied again harmlessly: each
    /// is the entry as it is now.
    pub fn apply(&self, upto: i64, changes: Vec<Change>) -> Result<()> {
        self.with_writer(1, 30_000_000, |w| {
            if self.applied()? >= upto {
                return Ok(());
            }
            for c in changes {
                match c {
                    Change::Put(e) => {
                        w.delete_term(Term::from_field_text(
                            self.fields.key,
                            &Entry::key(e.kind, &e.id),
                        ));
                        w.add_document(self.document(&e))?;
                    }
                    Change::Remove { kind, id } => {
                        w.delete_term(Term::from_field_text(
                            self.fields.key,
                            &Entry::key(kind, &id),
                        ));
                    }
                }
            }
            commit(w, upto)
        })
    }

    /// Replaces everything with `entries`, recording outbox position `upto`; `progress` is
    /// told how many entries are in. If an entry cannot be made, nothing is committed and its
    /// error comes back.
    pub fn rebuild<E>(
        &self,
        upto: i64,
        entries: impl Iterator<Item = std::result::Result<Entry, E>>,
        progress: &mut dyn FnMut(usize),
    ) -> Result<std::result::Result<usize, E>> {
        // Every core for a rebuild: nothing else waits on this node's index meanwhile.
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(4);
        self.with_writer(threads, 100_000_000 * threads, |w| {
            w.delete_all_documents()?;
            let mut n = 0;
            for e in entries {
                let e = match e {
                    Ok(e) => e,
                    Err(failed) => {
                        w.rollback()?;
                        return Ok(Err(failed));
                    }
                };
                w.add_document(self.document(&e))?;
                n += 1;
                if n % 1000 == 0 {
                    progress(n);
                }
            }
            commit(w, upto)?;
            progress(n);
            Ok(Ok(n))
        })
    }

    fn document(&self, e: &Entry) -> TantivyDocument {
        let f = &self.fields;
        let mut d = TantivyDocument::default();
        d.add_text(f.key, Entry::key(e.kind, &e.id));
        d.add_text(f.kind, e.kind.as_str());
        d.add_text(f.id, &e.id);
        d.add_text(f.title, &e.title);
        d.add_text(f.about, &e.about);
        d.add_text(f.body, &e.body);
        d.add_text(f.language, &e.language);
        d.add_text(f.doc_type, &e.doc_type);
        d.add_text(f.org, &e.org);
        let (title, about, body) = f.text[analyser_for(&e.language)];
        d.add_text(title, &e.title);
        d.add_text(about, &e.about);
        d.add_text(body, &e.body);
        d.add_facet(f.facets, Facet::from_path(["type", e.doc_type.as_str()]));
        d.add_facet(f.facets, Facet::from_path(["org", e.org.as_str()]));
        if !e.language.is_empty() {
            d.add_facet(
                f.facets,
                Facet::from_path(["language", e.language.as_str()]),
            );
        }
        for c in &e.countries {
            d.add_text(f.countries, c);
            d.add_facet(f.facets, Facet::from_path(["country", c.as_str()]));
        }
        if let Some(date) = &e.date {
            d.add_text(f.date_text, date);
            d.add_i64(
                f.date,
                date.replace('-', "")
                    .get(..8)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0),
            );
            if let Some(year) = date.get(..4) {
                d.add_facet(f.facets, Facet::from_path(["year", year]));
            }
        }
        let v = &e.visibility;
        let mut text = vec![format!("org:{}", e.org)];
        if v.public {
            text.push(PUBLIC.into());
        }
        text.extend(v.readers.iter().map(|o| format!("org:{o}")));
        for t in &text {
            d.add_text(f.see_text, t);
            d.add_text(f.see_metadata, t);
        }
        if v.listed {
            d.add_text(f.see_metadata, SIGNED_IN);
        }
        d
    }

    /// How many entries the index holds.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn commit(w: &mut IndexWriter, upto: i64) -> Result<()> {
    let mut prepared = w.prepare_commit()?;
    prepared.set_payload(&upto.to_string());
    prepared.commit()?;
    Ok(())
}

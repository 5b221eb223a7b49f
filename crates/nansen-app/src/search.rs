//! One search over documents and datasets, kept up to date from the outbox.
//!
//! A search first reads the last committed outbox position and brings this node's index up
//! to it, so it sees every change committed before it began; the server also does so in the
//! background, so that wait is usually nothing.

use crate::catalogue::coverage_of;
use crate::{App, Caller, Result};
use nansen_codes::CodeLists;
use nansen_model::{Access, Principal, Role, Sharing};
use nansen_search::{Change, Entry, Kind, Request, Results, SearchIndex, Searcher, Visibility};
use nansen_store::{DatasetRecord, DocumentRecord, SEARCH_DATASET, SEARCH_DOCUMENT};
use std::collections::BTreeSet;

/// How many outbox entries are applied in one commit while catching up.
const BATCH: usize = 2000;

fn visibility(sharing: &Sharing, approved: &[String]) -> Visibility {
    match sharing {
        Sharing::Public => Visibility {
            public: true,
            ..Default::default()
        },
        Sharing::Listed => Visibility {
            listed: true,
            readers: approved.to_vec(),
            ..Default::default()
        },
        Sharing::Partners(orgs) => Visibility {
            readers: orgs.iter().chain(approved).cloned().collect(),
            ..Default::default()
        },
        Sharing::Private => Visibility::default(),
    }
}

fn country_names(codes: &[String]) -> String {
    let lists = CodeLists::get();
    codes
        .iter()
        .map(|c| lists.country_name(c).unwrap_or(c))
        .collect::<Vec<_>>()
        .join(", ")
}

impl App {
    pub(crate) fn search_index(&self) -> Result<&SearchIndex> {
        if let Some(i) = self.search.get() {
            return Ok(i);
        }
        let index = SearchIndex::open(&self.store.data_dir().join("search"))?;
        Ok(self.search.get_or_init(|| index))
    }

    /// Brings this node's index up to the last committed outbox position; how many changes
    /// that took.
    pub fn catch_up_search(&self) -> Result<usize> {
        let index = self.search_index()?;
        let head = self.store.search_outbox_head()?;
        if index.caught_up(head)? {
            return Ok(0);
        }
        let entries = self.store.search_outbox_between(index.applied()?, head)?;
        let mut applied = 0;
        for batch in entries.chunks(BATCH) {
            let upto = batch.last().map(|e| e.seq).unwrap_or(head);
            let mut seen = BTreeSet::new();
            let mut changes = Vec::new();
            for e in batch {
                if seen.insert((e.kind.clone(), e.id)) {
                    changes.push(self.search_change(&e.kind, e.id)?);
                }
            }
            applied += changes.len();
            index.apply(upto, changes)?;
        }
        Ok(applied)
    }

    /// What the index should now hold for one outbox entry.
    fn search_change(&self, kind: &str, id: i64) -> Result<Change> {
        Ok(match kind {
            SEARCH_DOCUMENT => match self.store.document(id)? {
                Some(d) => Change::Put(Box::new(self.document_entry(&d)?)),
                None => Change::Remove {
                    kind: Kind::Document,
                    id: id.to_string(),
                },
            },
            // Datasets are never deleted (versions are redacted instead).
            SEARCH_DATASET => match self.store.dataset_by_id(id)? {
                Some(d) => Change::Put(Box::new(self.dataset_entry(&d)?)),
                None => {
                    return Err(crate::AppError::Store(nansen_store::StoreError::Corrupt(
                        format!("the search outbox names dataset {id}, which is not there"),
                    )))
                }
            },
            other => {
                return Err(crate::AppError::Store(nansen_store::StoreError::Corrupt(
                    format!("search outbox entry of unknown kind {other:?}"),
                )))
            }
        })
    }

    fn document_entry(&self, d: &DocumentRecord) -> Result<Entry> {
        let body = self
            .store
            .document_version(d.id, None)?
            .map(|v| v.text)
            .unwrap_or_default();
        let about = sentences(&[
            &d.summary,
            d.doc_type.label(),
            &country_names(&d.countries),
            &d.themes.join(", "),
        ]);
        Ok(Entry {
            kind: Kind::Document,
            id: d.id.to_string(),
            title: d.title.clone(),
            about,
            body,
            language: d.language.clone(),
            doc_type: d.doc_type.to_string(),
            org: d.org.clone(),
            countries: d.countries.clone(),
            date: d.date.clone().map(|x| full_date(&x)),
            visibility: visibility(&d.sharing, &d.approved),
        })
    }

    fn dataset_entry(&self, d: &DatasetRecord) -> Result<Entry> {
        // The whole cube's codes: what it covers is metadata, which every reader may see.
        let cube = self.cube_of(d, Access::Owner(Role::Admin), None)?;
        let cov = coverage_of(&cube);
        let lists = CodeLists::get();
        let indicators: Vec<String> = cov
            .indicators
            .iter()
            .map(|i| {
                lists
                    .indicator(i)
                    .map(|x| x.label.clone())
                    .unwrap_or_else(|| i.clone())
            })
            .collect();
        let countries: Vec<String> = cov
            .places
            .iter()
            .chain(&cov.origins)
            .filter(|c| lists.country_name(c).is_some())
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let about = sentences(&[
            &d.description,
            &d.methodology,
            &d.source,
            &d.tags.join(", "),
            &indicators.join(", "),
            &country_names(&countries),
        ]);
        let updated = self
            .store
            .versions(d.id)?
            .iter()
            .rev()
            .find(|v| v.redacted_at.is_none())
            .map(|v| v.created_at.date());
        Ok(Entry {
            kind: Kind::Dataset,
            id: format!("{}/{}", d.org, d.slug),
            title: d.title.clone(),
            about,
            body: String::new(),
            language: "en".into(),
            doc_type: "dataset".into(),
            org: d.org.clone(),
            countries,
            date: updated.or_else(|| Some(d.created_at.date())),
            visibility: visibility(&d.sharing, &d.approved),
        })
    }

    /// Searches documents and datasets as the caller may see them.
    pub fn search(&self, who: &Caller, request: &Request) -> Result<Results> {
        // The index gathers offset + limit hits before it skips any: bound that first.
        if request
            .offset
            .saturating_add(request.limit.min(MAX_SEARCH_PAGE))
            > MAX_SEARCH_WINDOW
        {
            return Err(crate::AppError::BadRequest(format!(
                "a search pages through its first {MAX_SEARCH_WINDOW} hits only (offset {} asked); narrow it with more words or a facet",
                request.offset
            )));
        }
        self.catch_up_search()?;
        let searcher = match &who.principal {
            Principal::Operator => Searcher::Everything,
            Principal::Anonymous => Searcher::Anonymous,
            Principal::User { memberships, .. } => {
                Searcher::Member(memberships.iter().map(|m| m.org.clone()).collect())
            }
        };
        Ok(self.search_index()?.search(&searcher, request)?)
    }

    /// Rebuilds the index from the database; `progress` is told how many entries are in.
    pub fn reindex(&self, progress: &mut dyn FnMut(usize)) -> Result<usize> {
        let index = self.search_index()?;
        // Changes committed after this point are applied by the next catch-up.
        let head = self.store.search_outbox_head()?;
        let documents = self.store.documents()?;
        let datasets = self.store.datasets()?;
        let entries = documents
            .iter()
            .map(|d| self.document_entry(d))
            .chain(datasets.iter().map(|d| self.dataset_entry(d)));
        index.rebuild(head, entries, progress)?
    }
}

/// How deep a search may page: the first this many hits (as Elasticsearch's result window).
pub const MAX_SEARCH_WINDOW: usize = 10_000;
/// The most hits one page holds.
pub const MAX_SEARCH_PAGE: usize = 200;

/// Pieces of metadata as one text, each ending in one full stop.
fn sentences(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|p| p.trim().trim_end_matches('.'))
        .filter(|p| !p.is_empty())
        .map(|p| format!("{p}."))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A date of a year or a month as its first day, so everything sorts by one key.
fn full_date(d: &str) -> String {
    match d.len() {
        4 => format!("{d}-01-01"),
        7 => format!("{d}-01"),
        _ => d.to_string(),
    }
}

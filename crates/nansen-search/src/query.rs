//! From what someone typed to ranked, permitted hits with snippets and facet counts.

use crate::{
    FacetCount, Hit, Kind, Request, Result, Results, SearchIndex, Searcher, Sort, FACETS, LANGUAGES,
};
use std::collections::{BTreeMap, HashMap};
use tantivy::collector::{Count, FacetCollector, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, EmptyQuery, FuzzyTermQuery, Occur,
    PhraseQuery, Query, TermQuery,
};
use tantivy::schema::{Facet, Field, IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{DocAddress, Order, TantivyDocument, Term};

/// One part of a query: a word, or a quoted phrase; excluded when written with a leading `-`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clause {
    pub words: Vec<String>,
    pub exclude: bool,
}

/// Splits what was typed into words and `"quoted phrases"`; an unclosed quote runs to the end.
pub fn parse(text: &str) -> Vec<Clause> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let exclude = rest.starts_with('-') && rest.len() > 1;
        let r = if exclude { &rest[1..] } else { rest };
        let (part, next, phrase) = if let Some(inner) = r.strip_prefix('"') {
            match inner.find('"') {
                Some(end) => (&inner[..end], &inner[end + 1..], true),
                None => (inner, "", true),
            }
        } else {
            match r.find(char::is_whitespace) {
                Some(end) => (&r[..end], &r[end..], false),
                None => (r, "", false),
            }
        };
        let words: Vec<String> = if phrase {
            part.split_whitespace().map(str::to_string).collect()
        } else {
            vec![part.to_string()]
        };
        if !words.is_empty() {
            out.push(Clause { words, exclude });
        }
        rest = next.trim_start();
    }
    out
}

/// The terms each word of a clause stands for in a field, analysed in a language.
type TermsOf<'a> = dyn Fn(&Clause, &str, Field) -> Vec<Vec<Term>> + 'a;

/// Words shorter than this must be spelt right; longer ones may have one typo, and from
/// `TWO_TYPOS` on, two.
const ONE_TYPO: usize = 4;
const TWO_TYPOS: usize = 8;
/// How many spellings a mistyped word may stand for.
const SPELLINGS: usize = 8;

const TITLE_BOOST: f32 = 2.0;
const ABOUT_BOOST: f32 = 1.5;
/// Words of a query found within this many positions of each other count as together.
const PROXIMITY_SLOP: u32 = 3;
const PROXIMITY_BOOST: f32 = 2.0;

impl SearchIndex {
    pub fn search(&self, who: &Searcher, req: &Request) -> Result<Results> {
        let searcher = self.reader.searcher();
        let f = &self.fields;
        let clauses = parse(&req.text);
        let analysers: HashMap<&str, TextAnalyzer> = LANGUAGES
            .iter()
            .map(|l| (*l, self.index.tokenizers().get(l).expect("registered")))
            .collect();
        // Each clause, in each language: the terms it stands for, checked against the index.
        let terms_of = |clause: &Clause, lang: &str, field: Field| -> Vec<Vec<Term>> {
            let mut a = analysers[lang].clone();
            clause
                .words
                .iter()
                .map(|w| {
                    let mut out = Vec::new();
                    let mut s = a.token_stream(w);
                    while s.advance() {
                        out.push(Term::from_field_text(field, &s.token().text));
                    }
                    out
                })
                .collect()
        };
        let mut musts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let text_filter = who.text_tokens().map(|t| any_of(f.see_text, &t));
        for clause in &clauses {
            let mut metadata: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            let mut text: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            let misspelt = !clause.exclude
                && clause.words.len() == 1
                && clause.words[0].chars().count() >= ONE_TYPO
                && !self.known(&searcher, clause, &terms_of)?;
            for lang in LANGUAGES {
                let (title, about, body) = f.text[lang];
                for (field, boost, is_text) in [
                    (title, TITLE_BOOST, false),
                    (about, ABOUT_BOOST, false),
                    (body, 1.0, true),
                ] {
                    let terms: Vec<Term> = terms_of(clause, lang, field)
                        .into_iter()
                        .flatten()
                        .collect();
                    let q: Box<dyn Query> = match terms.len() {
                        0 => continue,
                        1 if misspelt => {
                            self.spellings(&searcher, &terms[0], clause.words[0].chars().count())?
                        }
                        1 => Box::new(TermQuery::new(
                            terms[0].clone(),
                            IndexRecordOption::WithFreqs,
                        )),
                        _ => Box::new(PhraseQuery::new(terms)),
                    };
                    let into = if is_text { &mut text } else { &mut metadata };
                    into.push((Occur::Should, Box::new(BoostQuery::new(q, boost))));
                }
            }
            if metadata.is_empty() && text.is_empty() {
                continue;
            }
            let in_text: Box<dyn Query> = match &text_filter {
                Some(filter) => Box::new(BooleanQuery::new(vec![
                    (Occur::Must, Box::new(BooleanQuery::new(text))),
                    (Occur::Must, filter.box_clone()),
                ])),
                None => Box::new(BooleanQuery::new(text)),
            };
            metadata.push((Occur::Should, in_text));
            let occur = if clause.exclude {
                Occur::MustNot
            } else {
                Occur::Must
            };
            musts.push((occur, Box::new(BooleanQuery::new(metadata))));
        }
        // Proximity: of the entries with every word, those where the words stand together
        // come first, in the title or in a text the searcher may read.
        let loose: Vec<&Clause> = clauses
            .iter()
            .filter(|c| !c.exclude && c.words.len() == 1)
            .collect();
        if loose.len() >= 2 {
            let together = Clause {
                words: loose.iter().map(|c| c.words[0].clone()).collect(),
                exclude: false,
            };
            let mut near: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            for lang in LANGUAGES {
                let (title, _, body) = f.text[lang];
                for (field, is_text) in [(title, false), (body, true)] {
                    // A word the index lacks (a typo) keeps its place, so the others stay apart by as much.
                    let mut terms: Vec<(usize, Term)> = Vec::new();
                    for (at, word) in terms_of(&together, lang, field).into_iter().enumerate() {
                        if let [t] = word.as_slice() {
                            if searcher.doc_freq(t)? > 0 {
                                terms.push((at, t.clone()));
                            }
                        }
                    }
                    if terms.len() < 2 {
                        continue;
                    }
                    let phrase = PhraseQuery::new_with_offset_and_slop(terms, PROXIMITY_SLOP);
                    let q: Box<dyn Query> =
                        Box::new(BoostQuery::new(Box::new(phrase), PROXIMITY_BOOST));
                    near.push((
                        Occur::Should,
                        match (&text_filter, is_text) {
                            (Some(filter), true) => Box::new(BooleanQuery::new(vec![
                                (Occur::Must, q),
                                (Occur::Must, filter.box_clone()),
                            ])),
                            _ => q,
                        },
                    ));
                }
            }
            if !near.is_empty() {
                musts.push((Occur::Should, Box::new(BooleanQuery::new(near))));
            }
        }
        if !musts.iter().any(|(o, _)| *o == Occur::Must) {
            musts.push((Occur::Must, Box::new(AllQuery)));
        }
        if let Some(tokens) = who.metadata_tokens() {
            musts.push((Occur::Must, any_of(f.see_metadata, &tokens)));
        }
        let mut facet_filters: Vec<(&str, &Option<String>)> = vec![
            ("type", &req.doc_type),
            ("org", &req.org),
            ("country", &req.country),
            ("year", &req.year),
            ("language", &req.language),
        ];
        let kind = req.kind.map(|k| k.as_str().to_string());
        for (facet, value) in facet_filters.drain(..) {
            if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                let t = Term::from_facet(f.facets, &Facet::from_path([facet, v]));
                musts.push((
                    Occur::Must,
                    Box::new(ConstScoreQuery::new(
                        Box::new(TermQuery::new(t, IndexRecordOption::Basic)),
                        0.0,
                    )),
                ));
            }
        }
        if let Some(k) = kind {
            musts.push((
                Occur::Must,
                Box::new(ConstScoreQuery::new(
                    Box::new(TermQuery::new(
                        Term::from_field_text(f.kind, &k),
                        IndexRecordOption::Basic,
                    )),
                    0.0,
                )),
            ));
        }
        let query = BooleanQuery::new(musts);

        let mut facets = FacetCollector::for_field("facets");
        for name in FACETS {
            facets.add_facet(Facet::from_path([name]));
        }
        let limit = req.limit.clamp(1, 200);
        let (addresses, total, counts): (Vec<(f32, DocAddress)>, usize, _) = match req.sort {
            Sort::Relevance => searcher.search(
                &query,
                &(
                    TopDocs::with_limit(limit)
                        .and_offset(req.offset)
                        .order_by_score(),
                    Count,
                    facets,
                ),
            )?,
            Sort::Newest => {
                let (top, total, counts) = searcher.search(
                    &query,
                    &(
                        TopDocs::with_limit(limit)
                            .and_offset(req.offset)
                            .order_by_fast_field::<i64>("date", Order::Desc),
                        Count,
                        facets,
                    ),
                )?;
                (
                    top.into_iter().map(|(_, a)| (0.0, a)).collect(),
                    total,
                    counts,
                )
            }
        };
        let mut out = Results {
            total,
            ..Default::default()
        };
        for name in FACETS {
            let mut values: Vec<FacetCount> = counts
                .get(Facet::from_path([name]))
                .map(|(facet, count)| FacetCount {
                    value: facet
                        .to_path()
                        .last()
                        .map(|s| s.to_string())
                        .unwrap_or_default(),
                    count,
                })
                .collect();
            values.sort_by(|a, b| b.count.cmp(&a.count).then(a.value.cmp(&b.value)));
            out.facets.insert(name.to_string(), values);
        }
        let mut generators: HashMap<Field, SnippetGenerator> = HashMap::new();
        let mut snippet = |field: Field, text: &str| -> Result<Option<Passage>> {
            let g = match generators.entry(field) {
                std::collections::hash_map::Entry::Occupied(g) => g.into_mut(),
                std::collections::hash_map::Entry::Vacant(slot) => {
                    let mut g = SnippetGenerator::create(&searcher, &query, field)?;
                    g.set_max_num_chars(240);
                    slot.insert(g)
                }
            };
            let s = g.snippet(text);
            if s.highlighted().is_empty() {
                return Ok(None);
            }
            Ok(Some(one_line(s.fragment(), s.highlighted())))
        };
        let text_tokens = who.text_tokens();
        for (score, address) in addresses {
            let doc: TantivyDocument = searcher.doc(address)?;
            let get = |field: Field| {
                doc.get_first(field)
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            };
            let language = get(f.language);
            let (_, about_field, body_field) = f.text[crate::analyser_for(&language)];
            let about = get(f.about);
            // Whether this searcher may read the text is decided again from the entry itself,
            // so a snippet never shows what the query's filter would not admit.
            let reads_text = match &text_tokens {
                None => true,
                Some(tokens) => self.reads_text(&searcher, address, tokens)?,
            };
            let mut passage = None;
            if reads_text && !clauses.is_empty() {
                passage = snippet(body_field, &get(f.body))?;
            }
            if passage.is_none() && !clauses.is_empty() {
                passage = snippet(about_field, &about)?;
            }
            let passage = passage.unwrap_or_else(|| {
                let lead = if about.trim().is_empty() && reads_text {
                    get(f.body)
                } else {
                    about.clone()
                };
                one_line(&lead.chars().take(240).collect::<String>(), &[])
            });
            out.hits.push(Hit {
                kind: if get(f.kind) == "dataset" {
                    Kind::Dataset
                } else {
                    Kind::Document
                },
                id: get(f.id),
                title: get(f.title),
                snippet: passage.0,
                highlights: passage.1,
                doc_type: get(f.doc_type),
                org: get(f.org),
                countries: doc
                    .get_all(f.countries)
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
                language,
                date: Some(get(f.date_text)).filter(|d| !d.is_empty()),
                score,
            });
        }
        Ok(out)
    }

    /// Whether any word of the clause is in the index as written (stemmed), in any field.
    fn known(
        &self,
        searcher: &tantivy::Searcher,
        clause: &Clause,
        terms_of: &TermsOf,
    ) -> Result<bool> {
        for lang in LANGUAGES {
            let (title, about, body) = self.fields.text[lang];
            for field in [title, about, body] {
                for t in terms_of(clause, lang, field).into_iter().flatten() {
                    if searcher.doc_freq(&t)? > 0 {
                        return Ok(true);
                    }
                }
            }
        }
        Ok(false)
    }

    /// The spellings in the index within one or two typos of a mistyped term, most common
    /// first, as one query; so snippets can mark the words that were actually found.
    fn spellings(
        &self,
        searcher: &tantivy::Searcher,
        term: &Term,
        chars: usize,
    ) -> Result<Box<dyn Query>> {
        let distance = if chars >= TWO_TYPOS { 2 } else { 1 };
        let mut found: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        for segment in searcher.segment_readers() {
            let inverted = segment.inverted_index(term.field())?;
            let automaton = FuzzyTermQuery::new(term.clone(), distance, true).automaton()?;
            let mut stream = inverted.terms().search(automaton).into_stream()?;
            while stream.advance() {
                *found.entry(stream.key().to_vec()).or_default() += stream.value().doc_freq as u64;
            }
        }
        let mut found: Vec<(Vec<u8>, u64)> = found.into_iter().collect();
        found.sort_by_key(|f| std::cmp::Reverse(f.1));
        let queries: Vec<(Occur, Box<dyn Query>)> = found
            .into_iter()
            .take(SPELLINGS)
            .filter_map(|(bytes, _)| String::from_utf8(bytes).ok())
            .map(|text| {
                (
                    Occur::Should,
                    Box::new(TermQuery::new(
                        Term::from_field_text(term.field(), &text),
                        IndexRecordOption::WithFreqs,
                    )) as Box<dyn Query>,
                )
            })
            .collect();
        if queries.is_empty() {
            return Ok(Box::new(EmptyQuery));
        }
        Ok(Box::new(BooleanQuery::new(queries)))
    }

    fn reads_text(
        &self,
        searcher: &tantivy::Searcher,
        address: DocAddress,
        tokens: &[String],
    ) -> Result<bool> {
        let segment = searcher.segment_reader(address.segment_ord);
        let inverted = segment.inverted_index(self.fields.see_text)?;
        for t in tokens {
            let term = Term::from_field_text(self.fields.see_text, t);
            if let Some(mut postings) = inverted.read_postings(&term, IndexRecordOption::Basic)? {
                use tantivy::DocSet;
                if postings.doc() <= address.doc_id
                    && postings.seek(address.doc_id) == address.doc_id
                {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }
}

/// Entries whose `field` holds any of `tokens`, without touching the score.
fn any_of(field: Field, tokens: &[String]) -> Box<dyn Query> {
    let terms = tokens
        .iter()
        .map(|t| {
            (
                Occur::Should,
                Box::new(TermQuery::new(
                    Term::from_field_text(field, t),
                    IndexRecordOption::Basic,
                )) as Box<dyn Query>,
            )
        })
        .collect();
    Box::new(ConstScoreQuery::new(
        Box::new(BooleanQuery::new(terms)),
        0.0,
    ))
}

/// A snippet and the byte ranges of the words found in it.
type Passage = (String, Vec<[usize; 2]>);

/// Plain text on one line (line and page breaks and runs of spaces become one space), with
/// the ranges of the words found moved to where they now are. Each edge escapes and marks
/// them its own way.
fn one_line(fragment: &str, highlighted: &[std::ops::Range<usize>]) -> Passage {
    let mut out = String::with_capacity(fragment.len());
    // Where each byte offset of the fragment lands in the line.
    let mut at = vec![0; fragment.len() + 1];
    for (i, c) in fragment.char_indices() {
        at[i] = out.len();
        if c.is_whitespace() {
            if !out.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
    at[fragment.len()] = out.len();
    let ranges = highlighted
        .iter()
        .filter(|r| r.end <= fragment.len() && r.start < r.end)
        .map(|r| [at[r.start], at[r.end]])
        .collect();
    (out, ranges)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_phrases_and_exclusions_are_told_apart() {
        let c = parse(r#"asylum "unaccompanied children" -greece "open"#);
        assert_eq!(c.len(), 4);
        assert_eq!(
            c[0],
            Clause {
                words: vec!["asylum".into()],
                exclude: false
            }
        );
        assert_eq!(c[1].words, ["unaccompanied", "children"]);
        assert!(c[2].exclude && c[2].words == ["greece"]);
        assert_eq!(c[3].words, ["open"]);
        assert!(parse("   ").is_empty());
    }

    #[test]
    #[allow(clippy::single_range_in_vec_init)]
    fn snippets_are_plain_text_on_one_line_with_the_ranges_of_the_words_found() {
        let (text, ranges) = one_line("a <b>\n\n Lampedusa & c", &[8..17]);
        assert_eq!(text, "a <b> Lampedusa & c");
        assert_eq!(ranges, vec![[6, 15]]);
        assert_eq!(&text[6..15], "Lampedusa");
        let (text, ranges) = one_line("Ré\tunion\u{a0}à Moria", &[14..19]);
        assert_eq!(&text[ranges[0][0]..ranges[0][1]], "Moria", "{text}");
    }
}
